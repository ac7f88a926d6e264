"""Writes this folder's files as version 0.3.0 writes them, from the 0.1.0
golden arrays (their streams copied unchanged): HDF5 and zarr groups with
the `flacarray_digest` attribute, Parquet with the field metadata
`flacarray.stream_size` and `flacarray.digest`, and Zarr codec chunks in
chunk layout 2 (`chunks/`, with the values they decode to). Run once, by
hand (`python tests/golden/0.3.0/make.py`); later versions add folders,
they never rewrite these."""

import json
from pathlib import Path

import h5py
import numpy as np

from flacarray import FlacArray, _core

HERE = Path(__file__).resolve().parent
GOLDEN = HERE.parent / "0.1.0"


def main():
    manifest = json.loads((GOLDEN / "manifest.json").read_text())
    for name, case in manifest["cases"].items():
        fa = FlacArray.read_parquet(GOLDEN / f"{name}.parquet")
        with h5py.File(HERE / f"{name}.h5", "w") as hf:
            fa.write_hdf5(hf)
        fa.write_zarr(str(HERE / f"{name}.zarr"))
        fa.write_parquet(HERE / f"{name}.parquet")
        data = np.load(GOLDEN / f"{name}.expected.npy")
        kwargs = case["kwargs"]
        chunk = _core.encode_chunk(data, 5, kwargs.get("quanta"), kwargs.get("precision"))
        (HERE / "chunks" / f"{name}.chunk").write_bytes(chunk.tobytes())
        decoded = _core.decode_chunk(chunk, data.dtype.name, list(data.shape))
        np.save(HERE / "chunks" / f"{name}.expected.npy", decoded)


if __name__ == "__main__":
    main()
