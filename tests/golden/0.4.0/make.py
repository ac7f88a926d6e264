"""Writes this folder's files as version 0.4.0 writes them: Parquet in
Arrow layout 3, whose rows that fit one FLAC frame are frame rows.

- `{dtype}.parquet` (int16, int32, int64, float32, float64): a (3, 2, 100)
  array written by `FlacArray.write_parquet` (every row a frame row), with
  the values it decodes to in `{dtype}.expected.npy`.
- `lists.parquet`: an int32 Polars List column of rows of 0, 1, 64, 4096,
  4097 and 10,000 samples and a null row, compressed by
  `pl.col(c).flac.compress()` (frame rows and whole streams side by side);
  `lists.expected.npy` holds the rows' values back to back and
  `lists.json` their lengths (null: a null row).

Run once, by hand (`python tests/golden/0.4.0/make.py`); later versions
add folders, they never rewrite these."""

import json
from pathlib import Path

import numpy as np
import polars as pl

import flacarray  # noqa: F401  (the Polars namespace)
from flacarray import FlacArray

HERE = Path(__file__).resolve().parent
LENGTHS = [0, 1, 64, None, 4096, 4097, 10_000]


def signal(n, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 2000 * np.sin(t * 0.03) + rng.normal(0, 40, n)


def main():
    for seed, dtype in enumerate(["int16", "int32", "int64", "float32", "float64"]):
        values = signal(600, seed).reshape(3, 2, 100)
        if dtype.startswith("int"):
            values = np.round(values)
        values = values.astype(dtype)
        fa = FlacArray.from_array(values, quanta=0.01 if dtype.startswith("float") else None)
        fa.write_parquet(HERE / f"{dtype}.parquet")
        np.save(HERE / f"{dtype}.expected.npy", fa.to_array())
    rows = [
        None if n is None else np.round(signal(n, 10 + i)).astype(np.int32).tolist()
        for i, n in enumerate(LENGTHS)
    ]
    frame = pl.DataFrame({"signal": pl.Series(rows, dtype=pl.List(pl.Int32))})
    frame.select(pl.col("signal").flac.compress()).write_parquet(HERE / "lists.parquet")
    np.save(
        HERE / "lists.expected.npy",
        np.array([v for r in rows if r is not None for v in r], np.int32),
    )
    (HERE / "lists.json").write_text(json.dumps({"lengths": LENGTHS}) + "\n")


if __name__ == "__main__":
    main()
