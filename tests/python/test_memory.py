"""Compressing a 1 GB array grows memory by at most 1.2x the compressed
size (benches/peak_rss.py, run in a child process so its peak RSS is its own)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benches" / "peak_rss.py"


@pytest.mark.bigmem
def test_peak_rss_of_a_gigabyte():
    proc = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr
    ratio = float(re.search(r"= ([0-9.]+) x compressed", proc.stdout).group(1))
    assert "input bytes 1,000,000,000" in proc.stdout
    assert ratio <= 1.2, proc.stdout


def _peak_rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


@pytest.mark.parametrize("container", ["parquet", "zarr"])
def test_path_writers_do_not_copy_the_compressed_bytes(tmp_path, container):
    """Writing 100 MB of streams to a Parquet file or a zarr path hands the
    core the array's own buffers (the Parquet column shares them): the peak
    RSS grows by a fraction of the stored bytes (it grew by 2.2x and 1.0x of
    them when the writers copied)."""
    import numpy as np

    from flacarray import FlacArray

    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pytest.skip("cannot reset the peak RSS counter here")
    rng = np.random.default_rng(0)
    data = rng.integers(-(2**31), 2**31 - 1, size=(8, 3_200_000), dtype=np.int32)
    fa = FlacArray.from_array(data)
    del data
    target = tmp_path / f"a.{container}"
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    before = _peak_rss()
    getattr(fa, f"write_{container}")(target)
    grown = _peak_rss() - before
    assert grown < fa.nbytes / 4, f"peak RSS grew by {grown:,} bytes writing {fa.nbytes:,}"
    read = FlacArray.read_parquet if container == "parquet" else FlacArray.read_zarr
    assert read(target) == fa
