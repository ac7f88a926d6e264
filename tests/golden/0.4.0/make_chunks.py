"""Writes `chunks/`: Zarr v3 codec chunks (`flacarray.flac`, chunk layout 3,
whose streams that fit one FLAC frame are frame rows) as version 0.4.0
writes them. For each dtype (int16 to float64), one chunk of a (3, 2, 100)
array (`<dtype>.chunk`, read with that shape) and a zarr-python array of
shape (6, 300) written with the codec in (3, 300) chunks (`<dtype>.zarr`),
with the values they decode to (`<dtype>.expected.npy`,
`<dtype>.zarr.expected.npy`). Run once, by hand
(`python tests/golden/0.4.0/make_chunks.py`); later versions add folders,
they never rewrite these."""

from pathlib import Path

import numpy as np
import zarr

from flacarray import _core
from flacarray.zarr_codec import FlacCodec

HERE = Path(__file__).resolve().parent / "chunks"


def signal(shape, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(shape[-1])
    return 2000 * np.sin(t * 0.03) + rng.normal(0, 40, shape)


def main():
    for seed, dtype in enumerate(["int16", "int32", "int64", "float32", "float64"]):
        quanta = 0.01 if dtype.startswith("float") else None
        data = signal((3, 2, 100), seed)
        data = (data if quanta else np.round(data)).astype(dtype)
        chunk = _core.encode_chunk(data, 5, quanta, None)
        (HERE / f"{dtype}.chunk").write_bytes(chunk.tobytes())
        np.save(HERE / f"{dtype}.expected.npy", _core.decode_chunk(chunk, dtype, [3, 2, 100]))
        values = signal((6, 300), 10 + seed)
        values = (values if quanta else np.round(values)).astype(dtype)
        z = zarr.create_array(
            str(HERE / f"{dtype}.zarr"),
            shape=values.shape,
            chunks=(3, 300),
            dtype=values.dtype,
            serializer=FlacCodec(level=5, quanta=quanta),
            compressors=None,
            fill_value=0,
        )
        z[...] = values
        np.save(HERE / f"{dtype}.zarr.expected.npy", z[...])


if __name__ == "__main__":
    main()
