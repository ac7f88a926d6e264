"""Writes `chunks/`: Zarr v3 codec chunks (`flacarray.flac`, chunk layout 1)
as version 0.2.0 writes them, from the 0.1.0 golden arrays: for each case
one chunk of the whole array (`<case>.chunk`, read with the array's shape)
and a zarr-python array written with the codec (two chunks of whole
streams, one for a 1-D array)
(`<case>.zarr`), with the values both decode to (`<case>.expected.npy`).
Run once, by hand (`python tests/golden/0.2.0/make_chunks.py`); later
versions add folders, they never rewrite these."""

import json
from pathlib import Path

import numpy as np
import zarr

from flacarray import _core
from flacarray.zarr_codec import FlacCodec

HERE = Path(__file__).resolve().parent / "chunks"
GOLDEN = HERE.parent.parent / "0.1.0"


def main():
    manifest = json.loads((GOLDEN / "manifest.json").read_text())
    for name, case in manifest["cases"].items():
        data = np.load(GOLDEN / f"{name}.expected.npy")
        quanta = case["kwargs"].get("quanta")
        precision = case["kwargs"].get("precision")
        chunk = _core.encode_chunk(data, 5, quanta, precision)
        (HERE / f"{name}.chunk").write_bytes(chunk.tobytes())
        decoded = _core.decode_chunk(chunk, data.dtype.name, list(data.shape))
        np.save(HERE / f"{name}.expected.npy", decoded)
        chunks = list(data.shape)
        if data.ndim > 1:  # two chunks of whole streams
            chunks[0] = max(1, chunks[0] // 2)
        z = zarr.create_array(
            str(HERE / f"{name}.zarr"),
            shape=data.shape,
            chunks=tuple(chunks),
            dtype=data.dtype,
            serializer=FlacCodec(level=5, quanta=quanta, precision=precision),
            compressors=None,
            fill_value=0,
        )
        z[...] = data
        assert np.array_equal(z[...], decoded)


if __name__ == "__main__":
    main()
