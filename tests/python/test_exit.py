"""Reading a flacarray Parquet file with pyarrow and exiting never aborts
the process (pyarrow's worker threads and the Python extension type at
interpreter teardown)."""

import subprocess
import sys
import textwrap

import numpy as np

from flacarray import FlacArray

SCRIPT = textwrap.dedent(
    """
    import sys
    import flacarray
    import pyarrow.parquet as pq
    table = pq.read_table(sys.argv[1])
    """
)


def test_no_abort_at_exit(tmp_path):
    path = tmp_path / "x.parquet"
    FlacArray.from_array(np.arange(120_000, dtype=np.float64).reshape(12, 10_000)).write_parquet(
        path
    )
    codes = []
    for _ in range(100):
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(path)], capture_output=True, timeout=120
        )
        codes.append(proc.returncode)
    aborted = [c for c in codes if c != 0]
    assert not aborted, f"{len(aborted)} of 100 runs failed: {sorted(set(aborted))}"
