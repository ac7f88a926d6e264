"""The package's annotations and `_core` stubs are what a typed user sees:
mypy accepts a correct user script and rejects wrong calls."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "typed" / "user_script.py"


def mypy(*args: str) -> subprocess.CompletedProcess:
    if shutil.which("mypy") is None:
        pytest.skip("mypy is not installed")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )


def test_typed_user_script_runs():
    proc = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_rejects_wrong_calls(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import numpy as np\n"
        "from flacarray import FlacArray\n"
        "fa = FlacArray.from_array(np.zeros((2, 10)), level='high')\n"
        "fa.write_parquet(42)\n"
        "n: int = fa.to_array()\n"
    )
    proc = mypy(str(bad))
    assert proc.returncode == 1, proc.stdout
    for line in ("bad.py:3", "bad.py:4", "bad.py:5"):
        assert line in proc.stdout, proc.stdout
