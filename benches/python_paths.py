"""Times the Python-level paths of whichever `flacarray` is importable:
compress, full decompress, the slice and keep paths, a fancy key, an
HDF5 read, and callers that limit themselves to one thread each
(`use_threads=False`) running side by side. Prints one JSON object
(median seconds per call).

To compare two builds side by side, install the other one into a folder
(`pip install --no-deps --target OLD wheel.whl`) and alternate runs:

    PYTHONPATH=OLD python benches/python_paths.py; python benches/python_paths.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import h5py
import numpy as np

from flacarray import FlacArray


def d2_like(nstreams: int, nsamples: int) -> np.ndarray:
    """int32 DC + sine + noise, the D2 set of the core benchmark."""
    rng = np.random.default_rng(2)
    t = np.arange(nsamples)
    dc = rng.integers(-(2**20), 2**20, size=(nstreams, 1))
    return (dc + 5000 * np.sin(t / 700) + rng.normal(0, 100, (nstreams, nsamples))).astype(np.int32)


def median_time(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    data = d2_like(200, 100_000)
    fa = FlacArray.from_array(data)
    one = np.zeros(200, dtype=bool)
    one[77] = True
    folder = Path(tempfile.mkdtemp())
    with h5py.File(folder / "d2.h5", "w") as hf:
        fa.write_hdf5(hf)

    def read_h5():
        with h5py.File(folder / "d2.h5", "r") as hf:
            return FlacArray.read_hdf5(hf).to_array()

    # eight arrays decoded by callers that do their own parallelism: one
    # thread each, first one after the other, then two at a time
    pieces = [FlacArray.from_array(data[25 * i : 25 * (i + 1)]) for i in range(8)]
    pool = ThreadPoolExecutor(2)

    def one_after_the_other():
        return [p.to_array(use_threads=False) for p in pieces]

    def two_at_a_time():
        return list(pool.map(lambda p: p.to_array(use_threads=False), pieces))

    results = {
        "compress 200x100k int32": median_time(lambda: FlacArray.from_array(data), 5),
        "to_array 200x100k int32": median_time(fa.to_array, 5),
        "fa[77, 50000:50100]": median_time(lambda: fa[77, 50000:50100], 2000),
        "to_array(keep one, 100 samples)": median_time(
            lambda: fa.to_array(keep=one, stream_slice=slice(50000, 50100)), 2000
        ),
        "fa[[1, 5, 9], 1000:2000]": median_time(lambda: fa[[1, 5, 9], 1000:2000], 500),
        "fa[77, 12345]": median_time(lambda: fa[77, 12345], 2000),
        "read_hdf5 + to_array": median_time(read_h5, 5),
        "8 x to_array(use_threads=False), one after the other": median_time(one_after_the_other, 7),
        "8 x to_array(use_threads=False), from 2 threads": median_time(two_at_a_time, 7),
    }
    print(json.dumps({"python": sys.version.split()[0], "results": results}))


if __name__ == "__main__":
    main()
