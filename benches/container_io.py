"""Times writing and reading each container (HDF5, zarr through the Rust
core, Parquet) and `from_arrow`, with whichever `flacarray` comes first on
sys.path: run it once per version (PYTHONPATH=...) to compare two. Prints
one JSON line of best-of-7 times in ms.

    python benches/container_io.py
"""

import json
import os
import shutil
import tempfile
import time

import h5py
import numpy as np

import flacarray
from flacarray import FlacArray


def best_ms(call, repeats=7):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def main():
    rng = np.random.default_rng(3)
    t = np.arange(100_000)
    data = np.sin(t / 500.0) + rng.normal(0, 1, (100, 100_000))
    fa = FlacArray.from_array(data, quanta=1e-3)
    keep = np.zeros(100, bool)
    keep[::10] = True
    times = {}
    with tempfile.TemporaryDirectory() as work:
        h5 = os.path.join(work, "a.h5")
        zarr_dir = os.path.join(work, "a.zarr")
        parquet = os.path.join(work, "a.parquet")

        def write_hdf5():
            with h5py.File(h5, "w") as hf:
                fa.write_hdf5(hf)

        def read_hdf5(mask=None):
            with h5py.File(h5, "r") as hf:
                return FlacArray.read_hdf5(hf, keep=mask)

        def write_zarr():
            shutil.rmtree(zarr_dir, ignore_errors=True)
            fa.write_zarr(zarr_dir)

        def write_parquet():
            if os.path.exists(parquet):
                os.remove(parquet)
            fa.write_parquet(parquet)

        times["write hdf5"] = best_ms(write_hdf5)
        times["read hdf5 (whole)"] = best_ms(read_hdf5)
        times["read hdf5 (keep 10 of 100)"] = best_ms(lambda: read_hdf5(keep))
        times["write zarr"] = best_ms(write_zarr)
        times["read zarr (whole)"] = best_ms(lambda: FlacArray.read_zarr(zarr_dir))
        times["read zarr (keep 10 of 100)"] = best_ms(
            lambda: FlacArray.read_zarr(zarr_dir, keep=keep)
        )
        times["write parquet"] = best_ms(write_parquet)
        times["read parquet (whole)"] = best_ms(lambda: FlacArray.read_parquet(parquet))
        times["read parquet (keep 10 of 100)"] = best_ms(
            lambda: FlacArray.read_parquet(parquet, keep=keep)
        )
        table = fa.to_arrow_table()
        times["from_arrow"] = best_ms(lambda: FlacArray.from_arrow(table))
        times["to_array"] = best_ms(fa.to_array)
    print(json.dumps({"package": flacarray.__file__, **{k: round(v, 2) for k, v in times.items()}}))


if __name__ == "__main__":
    main()
