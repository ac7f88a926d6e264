"""Writers killed with SIGKILL at random moments (issue 22): after each
kill the target holds the old array, intact, or the new one, complete;
never a half that reads (and never an unreadable target). Each writer is
killed 20 times while overwriting an existing array: h5py and zarr-python
groups (staged arrays, a commit record), and the zarr and Parquet paths
written by the Rust core (a sibling renamed into place)."""

import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest
import zarr
from targets import write_kind

from flacarray import FlacArray

CHILD = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from flacarray import FlacArray

    kind, path = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(2)
    new = FlacArray.from_array(rng.integers(-2**20, 2**20, (64, 200_000), dtype=np.int32))
    if kind == "hdf5":
        import h5py
        handle = h5py.File(path, "a")
        target = handle["data"]
    elif kind == "zarr-python":
        import zarr
        target = zarr.open_group(path, mode="r+")
    else:
        target = path
    print("go", flush=True)
    start = time.perf_counter()
    if kind == "hdf5":
        new.write_hdf5(target, overwrite=True)
        handle.close()
    elif kind == "parquet":
        new.write_parquet(target, overwrite=True)
    else:
        new.write_zarr(target, overwrite=True)
    print(time.perf_counter() - start, flush=True)
    """
)

OLD = np.arange(8 * 3000, dtype=np.int32).reshape(8, 3000) % 977


def new_values():
    rng = np.random.default_rng(2)
    return rng.integers(-(2**20), 2**20, (64, 200_000), dtype=np.int32)


def write_old(kind, path):
    fa = FlacArray.from_array(OLD)
    if kind == "hdf5":
        with h5py.File(path, "w") as hf:
            fa.write_hdf5(hf.create_group("data"))
            hf["keep_me"] = np.arange(5)  # a foreign member that must survive
    elif kind == "zarr-python":
        group = zarr.open_group(path, mode="w")
        fa.write_zarr(group)
        group.create_array("keep_me", data=np.arange(5))
    else:
        write_kind(kind, path, fa, overwrite=True)


def read_back(kind, path):
    if kind == "hdf5":
        with h5py.File(path, "r") as hf:
            np.testing.assert_array_equal(hf["keep_me"][...], np.arange(5))
            return FlacArray.read_hdf5(hf["data"])
    if kind == "zarr-python":
        group = zarr.open_group(path, mode="r")
        np.testing.assert_array_equal(group["keep_me"][...], np.arange(5))
        return FlacArray.read_zarr(group)
    if kind == "parquet":
        return FlacArray.read_parquet(path)
    return FlacArray.read_zarr(path)


def run_child(kind, path, delay=None):
    """Starts the writer; kills it `delay` seconds after it starts writing
    (None: lets it finish and returns how long the write took)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, kind, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "go", proc.stderr.read()
    if delay is None:
        took = float(proc.stdout.readline())
        assert proc.wait() == 0, proc.stderr.read()
        return took
    time.sleep(delay)
    proc.kill()
    proc.wait()
    return None


@pytest.mark.parametrize("kind", ["hdf5", "zarr-python", "zarr", "parquet"])
def test_killed_overwrites_leave_old_or_new(tmp_path, kind):
    suffix = {"hdf5": "h5", "parquet": "parquet"}.get(kind, "zarr")
    path = tmp_path / f"target.{suffix}"
    write_old(kind, path)
    # the slower of two timed writes: kills land before and after the end
    # even when the machine is busy
    took = max(run_child(kind, path), run_child(kind, path))
    new = read_back(kind, path)
    np.testing.assert_array_equal(new[:, :100], new_values()[:, :100])
    old_fa = FlacArray.from_array(OLD)
    rng = np.random.default_rng(7)
    outcomes = {"old": 0, "new": 0}
    for _ in range(20):
        write_old(kind, path)
        run_child(kind, path, delay=float(rng.uniform(0, 3 * took)))
        back = read_back(kind, path)
        if back == old_fa:
            np.testing.assert_array_equal(back.to_array(), OLD)
            outcomes["old"] += 1
        else:
            assert back == new, "neither the old array nor the new one"
            outcomes["new"] += 1
    assert outcomes["old"] > 0 and outcomes["new"] > 0, outcomes
