"""Files written by earlier versions (tests/golden/) read back exactly."""

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import zarr

from flacarray import FlacArray

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text())


@pytest.mark.parametrize("name", sorted(MANIFEST["cases"]))
def test_golden_files(name):
    case = MANIFEST["cases"][name]
    expected = np.load(GOLDEN / f"{name}.expected.npy")
    assert expected.dtype == case["dtype"] and list(expected.shape) == case["shape"]
    with h5py.File(GOLDEN / f"{name}.h5", "r") as hf:
        from_h5 = FlacArray.read_hdf5(hf)
    from_zarr = FlacArray.read_zarr(zarr.open_group(str(GOLDEN / f"{name}.zarr"), mode="r"))
    from_zarrs = FlacArray.read_zarr(GOLDEN / f"{name}.zarr")
    from_parquet = FlacArray.read_parquet(GOLDEN / f"{name}.parquet")
    from_layout2 = FlacArray.read_parquet(GOLDEN / "parquet-layout2" / f"{name}.parquet")
    for fa in (from_h5, from_zarr, from_zarrs, from_parquet, from_layout2):
        assert fa.nbytes == case["compressed_bytes"]
        out = fa.to_array()
        assert out.dtype == expected.dtype and out.shape == expected.shape
        np.testing.assert_array_equal(out, expected)
    assert from_h5 == from_zarr == from_zarrs == from_parquet == from_layout2
    stream0 = (GOLDEN / f"{name}.stream0.flac").read_bytes()
    start, n = int(from_h5._starts[0]), int(from_h5._nbytes[0])
    assert bytes(from_h5.compressed[start : start + n]) == stream0
