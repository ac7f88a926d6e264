"""Every Python block of the README runs as written (issue 22, item 15):
each in a fresh process and an empty folder, the MPI one under
`mpiexec -n 2`. (The Rust blocks are compiled and run by `cargo test
--doc`.)"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 7


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs_as_written(index, tmp_path):
    code = BLOCKS[index]
    (tmp_path / "example.py").write_text(code)
    command = [sys.executable, "example.py"]
    if "from mpi4py" in code:
        mpiexec = shutil.which("mpiexec")
        if mpiexec is None:
            pytest.skip("mpiexec is not installed")
        command = [mpiexec, "-n", "2", sys.executable, "-m", "mpi4py", "example.py"]
    proc = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"block {index}:\n{code}\n{proc.stderr[-4000:]}"
