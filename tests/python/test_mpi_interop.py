"""Files written under MPI (2 ranks) by us are read under MPI by the
reference 0.4.1, and the reverse; each rank checks its values
(tests/mpi/interop_script.py). Each package runs under its own venv's
mpiexec (mpich from PyPI)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from reference_env import reference_python

pytestmark = pytest.mark.network
SCRIPT = Path(__file__).resolve().parents[1] / "mpi" / "interop_script.py"


def run_mpi(python: str, mode: str, path: Path) -> str:
    mpiexec = Path(python).parent / "mpiexec"
    if not mpiexec.exists():
        found = shutil.which("mpiexec")
        if found is None:
            pytest.skip("no mpiexec")
        mpiexec = Path(found)
    proc = subprocess.run(
        [str(mpiexec), "-n", "2", python, str(SCRIPT), mode, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.parametrize("writer", ["ours", "reference"])
def test_mpi_files_cross_between_packages(tmp_path, writer):
    ours, reference = sys.executable, reference_python()
    write_with, read_with = (ours, reference) if writer == "ours" else (reference, ours)
    path = tmp_path / f"{writer}.h5"
    run_mpi(write_with, "write", path)
    out = run_mpi(read_with, "read", path)
    for name in ("ints", "floats"):
        for rank in (0, 1):
            assert f"ok read {name} rank {rank}" in out, out
