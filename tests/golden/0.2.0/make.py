"""Writes this folder's Parquet files, as version 0.2.0 writes them (Arrow
layout 2: the type metadata is `{"format":2,"dtype":...}`, the shape and
level are field metadata), from the 0.1.0 golden files, streams copied
unchanged. Run once, by hand (`python tests/golden/0.2.0/make.py`); later
versions add folders, they never rewrite these. The expected arrays are
0.1.0's."""

import json
from pathlib import Path

from flacarray import FlacArray

HERE = Path(__file__).resolve().parent
GOLDEN = HERE.parent / "0.1.0"


def main():
    manifest = json.loads((GOLDEN / "manifest.json").read_text())
    for name in manifest["cases"]:
        fa = FlacArray.read_parquet(GOLDEN / f"{name}.parquet")
        fa.write_parquet(HERE / f"{name}.parquet", overwrite=True)


if __name__ == "__main__":
    main()
