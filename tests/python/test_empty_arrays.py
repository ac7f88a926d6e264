"""An array without streams (what an all-False keep gives) goes through
every container and face and comes back the same (issue 22, item 13)."""

import h5py
import numpy as np
import pytest
import zarr

from flacarray import FlacArray


@pytest.fixture(
    params=[
        ("int32", {}),
        ("int64", {}),
        ("float32", {"quanta": 1e-3}),
        ("float64", {"quanta": 1e-3}),
    ]
)
def empty(request, tmp_path):
    dtype, kwargs = request.param
    fa = FlacArray.from_array(np.ones((3, 50), dtype), **kwargs)
    fa.write_parquet(tmp_path / "src.parquet")
    out = FlacArray.read_parquet(tmp_path / "src.parquet", keep=np.zeros(3, dtype=bool))
    assert out.shape == (0, 50) and out.nstreams == 0
    return out


def test_empty_arrays_round_trip_everywhere(empty, tmp_path):
    empty.write_parquet(tmp_path / "e.parquet")
    empty.write_zarr(str(tmp_path / "zarrs.zarr"))
    empty.write_zarr(zarr.open_group(str(tmp_path / "zp.zarr"), mode="w"))
    with h5py.File(tmp_path / "e.h5", "w") as hf:
        empty.write_hdf5(hf)
    with h5py.File(tmp_path / "e.h5", "r") as hf:
        from_h5 = FlacArray.read_hdf5(hf)
    read = [
        FlacArray.read_parquet(tmp_path / "e.parquet"),
        FlacArray.read_zarr(str(tmp_path / "zarrs.zarr")),
        FlacArray.read_zarr(zarr.open_group(str(tmp_path / "zp.zarr"), mode="r")),
        FlacArray.read_zarr(zarr.open_group(str(tmp_path / "zarrs.zarr"), mode="r")),
        from_h5,
        FlacArray.from_arrow(empty.to_arrow_table()),
        FlacArray.from_arrow(empty.to_arrow(), dtype=empty.dtype, shape=empty.shape),
        FlacArray.from_polars(empty.to_polars(), shape=empty.shape),
    ]
    for back in read:
        assert back == empty and back.shape == (0, 50)
        out = back.to_array()
        assert out.shape == (0, 50) and out.dtype == empty.dtype
