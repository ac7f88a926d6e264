"""Every read path against the raw decoder, on the same data and threads.

    python benches/read_paths.py [--datasets D1,D2,D5] [--repeats 7]

For each dataset (benches/compare_reference.py's D1-D5) the array is
compressed once and stored in every container; each path then reads it back
into one numpy array (or Polars/Arrow column), files in the page cache:

- raw decoder: the core decoding every stream into a preallocated array
  (no allocation, no container): the ceiling for every other path;
- FlacArray.to_array: the same plus the output's allocation;
- Polars `flac.decompress` on a column of one row per stream;
- Parquet, HDF5 (h5py), zarr (zarrs): `FlacArray.read_*` then `to_array`;
- Zarr v3 codec: zarr-python reading an array stored with `flacarray.flac`
  (chunks of 10 whole streams), and the same array with pcodec beside it.

Prints MiB/s (of decoded data; median of --repeats, the paths taking
turns) and each path's share of the raw decoder's throughput.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import polars as pl
import zarr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_reference import make_dataset  # noqa: E402
from zarr_codec import codecs  # noqa: E402

import flacarray  # noqa: E402, F401  (registers the Polars namespace)
from flacarray import FlacArray, _core  # noqa: E402


def seconds(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def paths(data: np.ndarray, kwargs: dict, folder: Path) -> dict:
    fa = FlacArray.from_array(data, **kwargs)
    streams = np.arange(data.shape[0], dtype=np.int64)
    out = np.empty(data.shape, dtype=data.dtype)

    def raw() -> None:
        _core.decompress_into(fa._parts, streams, 0, data.shape[1], out, None)

    frame = pl.DataFrame({"s": list(data)}).with_columns(pl.col("s").flac.compress(**kwargs))
    fa.write_parquet(str(folder / "a.parquet"))
    with h5py.File(folder / "a.h5", "w") as hf:
        fa.write_hdf5(hf.create_group("a"))
    fa.write_zarr(str(folder / "a.zarr"))
    chunks = (min(10, data.shape[0]), data.shape[1])
    stores = {}
    for name in ("flacarray.flac", "pcodec"):
        store = str(folder / f"codec-{name}.zarr")
        z = zarr.create_array(
            store, shape=data.shape, chunks=chunks, dtype=data.dtype, **codecs(kwargs)[name]
        )
        z[...] = data
        stores[name] = store

    def hdf5() -> None:
        with h5py.File(folder / "a.h5", "r") as hf:
            FlacArray.read_hdf5(hf["a"]).to_array()

    return {
        "raw decoder": raw,
        "FlacArray.to_array": fa.to_array,
        "Polars flac.decompress": lambda: frame.select(pl.col("s").flac.decompress()),
        "Parquet (read_parquet)": lambda: FlacArray.read_parquet(
            str(folder / "a.parquet")
        ).to_array(),
        "HDF5 (h5py)": hdf5,
        "zarr group (zarrs)": lambda: FlacArray.read_zarr(str(folder / "a.zarr")).to_array(),
        "Zarr codec (zarr-python)": lambda: zarr.open_array(stores["flacarray.flac"])[...],
        "pcodec (zarr-python)": lambda: zarr.open_array(stores["pcodec"])[...],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", default="D1,D2,D5")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rows = []
    for name in args.datasets.split(","):
        data, kwargs = make_dataset(name)
        data = np.ascontiguousarray(data)
        mib = data.nbytes / 2**20
        with tempfile.TemporaryDirectory() as tmp:
            calls = paths(data, kwargs, Path(tmp))
            for call in calls.values():  # warm the page cache and the pools
                call()
            # the paths take turns, so a slow spell falls on all of them
            times: dict[str, list[float]] = {path: [] for path in calls}
            for _ in range(args.repeats):
                for path, call in calls.items():
                    times[path].append(seconds(call))
            speeds = {path: mib / statistics.median(t) for path, t in times.items()}
        raw = speeds["raw decoder"]
        print(f"{name}: {data.dtype} {data.shape} ({mib:.0f} MiB)", flush=True)
        for path, speed in speeds.items():
            print(f"  {path:26s} {speed:8.0f} MiB/s  {speed / raw:5.0%}", flush=True)
            rows.append((name, path, speed, speed / raw))
    print()
    print("| data | path | MiB/s | of the raw decoder |")
    print("|---|---|---|---|")
    for name, path, speed, share in rows:
        print(f"| {name} | {path} | {speed:.0f} | {share:.0%} |")


if __name__ == "__main__":
    main()
