"""The reference package's own test modules (`tests/array.py`, `hdf5.py`
and `zarr.py` of flacarray 0.4.1, taken from its installed wheel at test
time) run against our package under `mpiexec -n 1, 2, 3` (issue 22, item
16): they import our modules through `tests/reference_suite/shim`, which
only re-exports our API under the reference's module names."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from reference_env import reference_python

SHIM = Path(__file__).resolve().parents[1] / "reference_suite" / "shim"
MODULES = ("array", "hdf5", "zarr")


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    """A package `refsuite`: our shim modules and, in `refsuite.tests`, the
    reference's test modules as its wheel installed them."""
    where = subprocess.run(
        [
            reference_python(),
            "-c",
            "import flacarray.tests as t, os; print(os.path.dirname(t.__file__))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        cwd="/",
    ).stdout.strip()
    root = tmp_path_factory.mktemp("reference_suite")
    package = root / "refsuite"
    shutil.copytree(SHIM, package)
    (package / "tests").mkdir()
    (package / "tests" / "__init__.py").write_text("")
    for name in MODULES:
        shutil.copy(Path(where) / f"{name}.py", package / "tests" / f"{name}.py")
    return root


@pytest.mark.parametrize("ranks", [1, 2, 3])
def test_reference_tests_pass_against_our_package(suite, ranks, tmp_path):
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        pytest.skip("mpiexec is not installed")
    env = dict(os.environ, PYTHONPATH=str(suite), TMPDIR=str(tmp_path))
    proc = subprocess.run(
        [mpiexec, "-n", str(ranks), sys.executable, "-m", "mpi4py", "-m", "unittest"]
        + [f"refsuite.tests.{name}" for name in MODULES],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    # every rank ran every test of the three modules, and they passed
    assert proc.stderr.count("Ran 13 tests") == ranks, proc.stderr[-3000:]
    assert "FAILED" not in proc.stderr
