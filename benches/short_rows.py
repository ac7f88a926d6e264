"""Short rows: `FlacArray.from_array` and `pl.col(c).flac.compress()` on
int32 rows of 4, 64, 1,024 and 100,000 samples (noise + sine), their
per-sample throughput, and the bytes of the Arrow column and of the
Parquet file against pcodec (one chunk per row). "stream bytes" are the
FlacArray's whole streams (each with `fLaC` + STREAMINFO, 42 bytes);
"frame rows" counts the column's rows stored as one frame without them.
Run once per version (PYTHONPATH=...) to compare.

    python benches/short_rows.py
"""

import json
import os
import tempfile
import time

import numpy as np
import polars as pl

import flacarray  # noqa: F401  (the Polars namespace)
from flacarray import FlacArray

SHAPES = [(200_000, 4), (20_000, 64), (2_000, 1_024), (200, 100_000)]


def rows(n_rows, length):
    rng = np.random.default_rng(5)
    t = np.arange(n_rows * length).reshape(n_rows, length)
    return (3000 * np.sin(t * 0.01) + rng.normal(0, 100, t.shape)).astype(np.int32)


def best(call, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = call()
        times.append(time.perf_counter() - start)
    return min(times), out


def main():
    results = {}
    for n_rows, length in SHAPES:
        data = rows(n_rows, length)
        key = f"{n_rows}x{length}"
        took, fa = best(lambda d=data: FlacArray.from_array(d))
        column = fa.to_arrow()
        streams = column.storage.field(0)
        offsets = np.frombuffer(streams.buffers()[1], np.int64)[: len(streams)]
        first_bytes = np.frombuffer(streams.buffers()[2], np.uint8)[offsets]
        entry = {
            "from_array s": round(took, 4),
            "from_array Msamples/s": round(data.size / took / 1e6, 2),
            "arrow column bytes": int(column.nbytes),
            "stream bytes": int(fa.nbytes),
            "frame rows": int(np.count_nonzero(first_bytes != ord("f"))),
        }
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "rows.parquet")
            fa.write_parquet(path)
            entry["parquet file bytes"] = os.path.getsize(path)
        frame = pl.DataFrame({"x": pl.Series(list(data), dtype=pl.List(pl.Int32))})
        took, _ = best(lambda f=frame: f.select(pl.col("x").flac.compress()))
        entry["polars compress s"] = round(took, 4)
        entry["polars Msamples/s"] = round(data.size / took / 1e6, 2)
        if length <= 1_024:
            try:
                from pcodec import ChunkConfig, standalone

                config = ChunkConfig()
                entry["pcodec bytes"] = sum(
                    len(standalone.simple_compress(row, config)) for row in data
                )
            except Exception as err:  # pcodec not installed, or refuses tiny rows
                entry["pcodec bytes"] = repr(err)[:80]
        results[key] = entry
    print(json.dumps({"package": flacarray.__file__, **results}, indent=1))


if __name__ == "__main__":
    main()
