"""int16 end to end in Python: FlacArray, pyarrow/Parquet, Polars; the
group format (HDF5, zarr) refuses it without writing anything. The Zarr v3
codec's int16 tests are in test_zarr_codec.py (its DTYPES)."""

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import flacarray
from flacarray import FlacArray


def signal(shape, seed=0):
    """Slow wave plus noise, with both ends of the int16 range."""
    rng = np.random.default_rng(seed)
    t = np.arange(shape[-1])
    values = np.round(3000 * np.sin(t / 80) + rng.normal(0, 40, shape)).astype(np.int16)
    values.flat[0], values.flat[1] = -32768, 32767
    return values


def test_int16_is_a_supported_type():
    assert "int16" in flacarray.SUPPORTED_DTYPES


def test_an_int16_array_round_trips_with_windows():
    data = signal((2, 3, 1200))
    fa = FlacArray.from_array(data)
    assert fa.dtype == np.int16 and fa.shape == data.shape
    # the streams are FLAC's of the same values: what int32 of them gives
    assert (
        fa.compressed.tobytes() == FlacArray.from_array(data.astype(np.int32)).compressed.tobytes()
    )
    back = fa.to_array()
    assert back.dtype == np.int16
    np.testing.assert_array_equal(back, data)
    np.testing.assert_array_equal(fa[1, :, 100:140], data[1, :, 100:140])
    assert fa == FlacArray.from_array(data.copy())


def test_int16_parquet_is_read_by_pyarrow_and_back(tmp_path):
    data = signal((4, 900))
    path = tmp_path / "x.parquet"
    FlacArray.from_array(data).write_parquet(path)
    table = pq.read_table(path)
    assert table.num_rows == 4
    assert table.schema.field(0).type.flac_metadata == {"format": 3, "dtype": "int16"}
    back = FlacArray.read_parquet(path)
    np.testing.assert_array_equal(back.to_array(), data)
    # through a pyarrow table and back into a FlacArray
    column = FlacArray.from_array(data).to_arrow()
    assert isinstance(column, pa.ExtensionArray)
    np.testing.assert_array_equal(FlacArray.from_arrow(column).to_array(), data)


def test_int16_lists_through_polars():
    pl = pytest.importorskip("polars")
    data = signal((5, 300))
    frame = pl.DataFrame({"x": list(data)}, schema={"x": pl.List(pl.Int16)})
    packed = frame.select(pl.col("x").flac.compress())
    assert '"dtype":"int16"' in str(packed.schema["x"])
    unpacked = packed.select(pl.col("x").flac.decompress())
    assert unpacked.schema["x"] == pl.List(pl.Int16)
    assert unpacked["x"].to_list() == frame["x"].to_list()
    window = packed.select(pl.col("x").flac.decompress(10, 14))["x"].to_list()
    assert window == data[:, 10:14].tolist()


def test_hdf5_groups_refuse_int16_and_keep_what_was_there(tmp_path):
    fa = FlacArray.from_array(signal((2, 100)))
    old = FlacArray.from_array(np.arange(20, dtype=np.int32).reshape(2, 10))
    with h5py.File(tmp_path / "f.h5", "w") as hf:
        with pytest.raises(ValueError, match="not int16; write int16 arrays to Parquet"):
            fa.write_hdf5(hf.create_group("new"))
        assert len(hf["new"]) == 0 and dict(hf["new"].attrs) == {}
        old.write_hdf5(hf.create_group("old"))
        with pytest.raises(ValueError, match="int32, int64, float32 and float64"):
            fa.write_hdf5(hf["old"], overwrite=True)
        assert FlacArray.read_hdf5(hf["old"]) == old


def test_zarr_groups_refuse_int16(tmp_path):
    fa = FlacArray.from_array(signal((2, 100)))
    with pytest.raises(ValueError, match="Zarr v3 array with the flacarray.flac codec"):
        fa.write_zarr(tmp_path / "g.zarr")
    assert not (tmp_path / "g.zarr").exists()
    zarr = pytest.importorskip("zarr")
    group = zarr.open_group(str(tmp_path / "py.zarr"), mode="w")
    with pytest.raises(ValueError, match="not int16"):
        fa.write_zarr(group)
    assert list(group.keys()) == []
