"""The tutorial example runs end to end and prints what the seed printed."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_tutorial_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "tutorial.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Input array is 960000 bytes"
    assert lines[1].startswith("<FlacArray float64 shape=(4, 3, 10000) bytes=")
    assert int(lines[1].split("bytes=")[1].rstrip(">")) <= 447080
    assert lines[2] == "True"
    pngs = sorted(tmp_path.glob("plot_*.png"))
    assert len(pngs) == 9
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)
    assert (tmp_path / "flcarr.h5").exists() and (tmp_path / "test.zarr").is_dir()
