"""Writes the golden files in this folder (run once per format change, by
hand: `python tests/golden/make_golden.py`). Every later version must read
them to exactly the stored expected arrays (tests/python/test_golden.py and
tests/golden.rs)."""

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import zarr

import flacarray
from flacarray import FlacArray

HERE = Path(__file__).resolve().parent


def cases():
    rng = np.random.default_rng(2026)
    t = np.arange(3000)
    slow = np.sin(2 * np.pi * t / 3000)
    yield "int32", (1000 * slow[:1000] + rng.normal(0, 20, (3, 2, 1000))).astype(np.int32), {}
    yield "int64", ((2**40) * slow[:1000] + rng.integers(-99, 99, (2, 1000))).astype(np.int64), {}
    yield (
        "float32",
        (slow[:1500] + rng.normal(0, 0.01, (2, 1500))).astype(np.float32),
        {"quanta": 1e-4},
    )
    yield "float64", 5 + slow[:1000] + rng.normal(0, 0.001, (4, 1000)), {}
    yield "float64_single", slow + rng.normal(0, 0.1, 3000), {"precision": 3}


def main():
    manifest = {"software": f"flacarray-rs {flacarray.__version__}", "cases": {}}
    for name, data, kwargs in cases():
        fa = FlacArray.from_array(data, **kwargs)
        expected = fa.to_array()
        np.save(HERE / f"{name}.expected.npy", expected)
        with h5py.File(HERE / f"{name}.h5", "w") as hf:
            fa.write_hdf5(hf)
        shutil.rmtree(HERE / f"{name}.zarr", ignore_errors=True)
        fa.write_zarr(zarr.open_group(str(HERE / f"{name}.zarr"), mode="w"))
        fa.write_parquet(HERE / f"{name}.parquet")
        first = fa.compressed[fa._starts[0] : fa._starts[0] + fa._nbytes[0]]
        (HERE / f"{name}.stream0.flac").write_bytes(first.tobytes())
        manifest["cases"][name] = {
            "dtype": data.dtype.name,
            "shape": list(data.shape),
            "kwargs": kwargs,
            "compressed_bytes": fa.nbytes,
        }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
