"""The Arrow face: pyarrow extension type, zero-copy conversion, Parquet
read by pyarrow / polars / DuckDB, and zarr paths written by the Rust core."""

import json

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zarr

import flacarray.parquet
import flacarray.zarr
from conftest import make_data
from flacarray import CorruptDataError, FlacArray
from flacarray.arrow import FlacExtensionType

DTYPES = ["int32", "int64", "float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5000,), (3, 4500), (2, 3, 4200)])
def test_arrow_round_trip_shares_bytes(dtype, shape):
    fa = FlacArray.from_array(make_data(dtype, shape))
    arr = fa.to_arrow()
    assert isinstance(arr.type, FlacExtensionType)
    assert arr.type.extension_name == "flacarray.flac"
    assert len(arr) == fa.nstreams
    assert arr.storage.field(0).buffers()[2].address == fa.compressed.ctypes.data
    # the type says only what decoding needs: one type per dtype
    assert arr.type.flac_metadata == {"format": 3, "dtype": dtype}
    assert arr.type == FlacExtensionType(dtype)
    back = FlacArray.from_arrow(arr, shape=shape)
    assert back == fa and back.shape == shape
    flat = FlacArray.from_arrow(arr)  # without a shape: (rows, samples)
    assert flat.shape == (fa.nstreams, shape[-1])
    np.testing.assert_array_equal(flat.to_array(), fa.to_array().reshape(flat.shape))
    # a table's field keeps the leading shape and level
    table = fa.to_arrow_table("col")
    assert FlacArray.from_arrow(table) == fa
    assert FlacArray.from_arrow(table["col"], shape=shape) == fa
    assert FlacArray.from_arrow(pa.chunked_array([arr[:1], arr[1:]]), shape=shape) == fa


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (3, 64), (2, 3, 4096)])
def test_rows_of_one_frame_are_frame_rows(tmp_path, dtype, shape):
    # streams that fit one FLAC frame lose fLaC and STREAMINFO in the column
    # (a 3-5-byte prefix instead of 42 bytes) and come back as the same
    # whole streams
    fa = FlacArray.from_array(make_data(dtype, shape))
    arr = fa.to_arrow()
    rows = arr.storage.field(0).to_pylist()
    assert all(row[:1] != b"f" and row[0] & 0xC0 == 0x80 for row in rows)
    assert sum(map(len, rows)) <= fa.nbytes - 37 * fa.nstreams
    assert FlacArray.from_arrow(arr, shape=shape) == fa
    np.testing.assert_array_equal(FlacArray.from_arrow(arr, shape=shape).to_array(), fa.to_array())
    # the Parquet file holds the same rows, as pyarrow reads them
    path = tmp_path / "rows.parquet"
    fa.write_parquet(path)
    table = pq.read_table(path)
    assert table.column("flac").combine_chunks().storage.field(0).to_pylist() == rows
    assert FlacArray.from_arrow(table) == fa
    assert FlacArray.read_parquet(path) == fa


def test_ipc_keeps_the_type(tmp_path):
    fa = FlacArray.from_array(make_data("float64", (4, 500)))
    table = pa.table({"flac": fa.to_arrow()})
    with (
        pa.OSFile(str(tmp_path / "x.arrow"), "wb") as sink,
        pa.ipc.new_file(sink, table.schema) as w,
    ):
        w.write_table(table)
    read = pa.ipc.open_file(str(tmp_path / "x.arrow")).read_all()
    assert isinstance(read.schema.field("flac").type, FlacExtensionType)
    assert FlacArray.from_arrow(read["flac"]) == fa
    with (
        pa.OSFile(str(tmp_path / "y.arrow"), "wb") as sink,
        pa.ipc.new_file(sink, fa.to_arrow_table().schema) as w,
    ):
        w.write_table(fa.to_arrow_table())
    assert FlacArray.from_arrow(pa.ipc.open_file(str(tmp_path / "y.arrow")).read_all()) == fa


@pytest.mark.bigmem
def test_to_arrow_of_a_gigabyte_does_not_copy():
    """Measured: RSS grows by well under 1% of the compressed size."""
    rng = np.random.default_rng(0)
    one = FlacArray.from_array(rng.integers(-(2**30), 2**30, 2**18, dtype=np.int32))
    n, size = 1024, one.nbytes  # 1024 copies of a ~1 MiB stream: ~1 GiB
    tiled = np.tile(one.compressed, n)
    fa = FlacArray(
        dtype="int32",
        shape=(n, 2**18),
        compressed=tiled,
        stream_starts=np.arange(n) * size,
        stream_nbytes=np.full(n, size),
    )
    del tiled

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096

    before = rss()
    arr = fa.to_arrow()
    grown = rss() - before
    assert arr.storage.field(0).buffers()[2].address == fa.compressed.ctypes.data
    assert grown < 32 << 20, f"to_arrow grew RSS by {grown} bytes"


def test_from_arrow_rejects_other_arrays():
    with pytest.raises(TypeError, match="flacarray.flac extension array"):
        FlacArray.from_arrow(pa.array([1, 2, 3]))
    with pytest.raises(ValueError, match="metadata"):
        FlacExtensionType({"format": 1, "dtype": "int8"})
    with pytest.raises(ValueError, match="cannot have 2 FLAC channels"):
        FlacExtensionType(
            {
                "format": 1,
                "dtype": "int32",
                "stream_size": None,
                "leading_shape": None,
                "channels": 2,
                "level": 5,
            }
        )


@pytest.mark.parametrize("dtype", DTYPES)
def test_parquet_round_trip_and_readers(tmp_path, dtype):
    data = make_data(dtype, (3, 4, 5000))  # longer than a frame: whole streams
    fa = FlacArray.from_array(data)
    path = tmp_path / "x.parquet"
    fa.write_parquet(path)
    assert FlacArray.read_parquet(path) == fa
    # pyarrow sees the extension type (registered on import of flacarray)
    table = pq.read_table(path)
    assert isinstance(table.schema.field("flac").type, FlacExtensionType)
    meta = json.loads(table.schema.field("flac").type.__arrow_ext_serialize__())
    assert meta == {"format": 3, "dtype": dtype}
    assert json.loads(table.schema.field("flac").metadata[b"flacarray.leading_shape"]) == [3, 4]
    assert FlacArray.from_arrow(table) == fa
    # polars keeps the extension name over a plain struct; DuckDB sees the struct
    frame = pl.read_parquet(path)
    assert frame.height == 12
    storage = frame["flac"].ext.storage()
    assert storage.dtype == pl.Struct(
        {"stream": pl.Binary, "offset": pl.Float64, "gain": pl.Float64}
    )
    streams = storage.struct.field("stream").to_list()
    assert streams[5] == bytes(
        fa.compressed[
            fa._parts.stream_starts[5] : fa._parts.stream_starts[5] + fa._parts.stream_nbytes[5]
        ]
    )
    rows = duckdb.sql(f"select flac.stream, flac.gain from read_parquet('{path}')").fetchall()
    assert len(rows) == 12 and bytes(rows[0][0])[:4] == b"fLaC"
    if dtype.startswith("float"):
        np.testing.assert_allclose([r[1] for r in rows], fa._parts.stream_gains)
    else:
        assert all(r[1] is None for r in rows)


def test_parquet_keep_and_slices(tmp_path):
    data = make_data("float64", (3, 4, 3000))
    fa = FlacArray.from_array(data, quanta=1e-3)
    path = tmp_path / "x.parquet"
    flacarray.parquet.write_array(data, path, quanta=1e-3)
    keep = np.zeros((3, 4), dtype=bool)
    keep[0, 1] = keep[2, 3] = True
    sub = FlacArray.read_parquet(path, keep=keep)
    assert sub.shape == (2, 3000)
    np.testing.assert_array_equal(sub.to_array(), fa.to_array()[keep])
    out, idx = flacarray.parquet.read_array(
        path, keep=keep, stream_slice=slice(-100, None), keep_indices=True
    )
    np.testing.assert_array_equal(out, fa.to_array()[keep][:, -100:])
    assert idx == [(0, 1), (2, 3)]
    np.testing.assert_array_equal(flacarray.parquet.read_array(path), fa.to_array())
    with pytest.raises(ValueError, match="keep has shape"):
        FlacArray.read_parquet(path, keep=np.ones(12, dtype=bool))
    with pytest.raises(ValueError, match="no column 'other'"):
        FlacArray.read_parquet(path, column="other")


def test_parquet_errors(tmp_path):
    with pytest.raises(OSError):
        FlacArray.read_parquet(tmp_path / "missing.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really parquet PAR1")
    with pytest.raises(CorruptDataError):
        FlacArray.read_parquet(bad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_zarr_path_written_by_rust_read_by_zarr_python(tmp_path, dtype):
    data = make_data(dtype, (3, 2, 2500))
    fa = FlacArray.from_array(data)
    path = tmp_path / "rust.zarr"
    fa.write_zarr(str(path))
    grp = zarr.open_group(str(path), mode="r")
    assert str(grp.attrs["flacarray_format_version"]) == "1"
    np.testing.assert_array_equal(flacarray.zarr.read_array(grp), fa.to_array())
    assert FlacArray.read_zarr(path) == fa
    keep = np.zeros((3, 2), dtype=bool)
    keep[2, 0] = True
    np.testing.assert_array_equal(
        FlacArray.read_zarr(path, keep=keep).to_array(), fa.to_array()[keep]
    )


def test_zarr_group_written_by_python_read_by_rust(tmp_path):
    data = make_data("float32", (4, 1000))
    fa = FlacArray.from_array(data)
    path = tmp_path / "py.zarr"
    fa.write_zarr(zarr.open_group(str(path), mode="w"))
    assert FlacArray.read_zarr(str(path)) == fa
    single = FlacArray.from_array(make_data("int64", (777,)))
    single.write_zarr(zarr.open_group(str(tmp_path / "one.zarr"), mode="w"))
    assert FlacArray.read_zarr(tmp_path / "one.zarr").shape == (777,)
    with pytest.raises(OSError, match="no zarr group"):
        FlacArray.read_zarr(tmp_path / "missing.zarr")
