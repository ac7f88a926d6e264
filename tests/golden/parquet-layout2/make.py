"""Writes this folder's Parquet files (Arrow layout 2: the type metadata is
`{"format":2,"dtype":...}`, the shape and level are field metadata) from the
layout-1 golden files beside it, streams copied unchanged. Run once, by hand
(`python tests/golden/parquet-layout2/make.py`); later versions add folders,
they never rewrite these. The expected arrays are the parent folder's."""

import json
from pathlib import Path

from flacarray import FlacArray

HERE = Path(__file__).resolve().parent
GOLDEN = HERE.parent


def main():
    manifest = json.loads((GOLDEN / "manifest.json").read_text())
    for name in manifest["cases"]:
        fa = FlacArray.read_parquet(GOLDEN / f"{name}.parquet")
        fa.write_parquet(HERE / f"{name}.parquet", overwrite=True)


if __name__ == "__main__":
    main()
