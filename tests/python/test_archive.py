"""An archive of many Parquet files, written over time by different tools
with different stream counts, levels and quanta, read back as one dataset
by Polars (lazy glob + filter + window), pyarrow datasets and DuckDB."""

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from flacarray import CorruptDataError, FlacArray
from flacarray.arrow import FlacExtensionType

A, B = 100, 160  # the sample window read back


def timestreams(seed, rows, length):
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    base = rng.uniform(-5, 5, (rows, 1)) + np.sin(t / (50 + 10 * seed))
    return base + rng.normal(0, 0.01, (rows, length))


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """Five files; returns the folder and, per file, the original rows and
    the largest step used (the error bound is half of it)."""
    folder = tmp_path_factory.mktemp("archive")
    expected = {}
    # 1, 2: FlacArray.write_parquet, different shapes, levels and quanta
    data = timestreams(1, 12, 2000).reshape(3, 4, 2000)
    fa = FlacArray.from_array(data, level=5)
    fa.write_parquet(folder / "day1.parquet", column="signal")
    expected["day1"] = (data.reshape(12, 2000), float(np.max(1 / fa.stream_gains)))
    data = timestreams(2, 2, 3000)
    FlacArray.from_array(data, level=8, quanta=1e-3).write_parquet(
        folder / "day2.parquet", column="signal"
    )
    expected["day2"] = (data, 1e-3)
    # 3, 4: Polars, equal and ragged rows, per-file level and quanta
    data = timestreams(3, 5, 1000)
    frame = pl.DataFrame({"signal": [row.tolist() for row in data]})
    frame.select(pl.col("signal").flac.compress(level=2, quanta=1e-4)).write_parquet(
        folder / "day3.parquet"
    )
    expected["day3"] = (data, 1e-4)
    ragged = [timestreams(4, 1, n)[0] for n in (400, 900, 650)]
    frame = pl.DataFrame({"signal": [row.tolist() for row in ragged]})
    frame.select(pl.col("signal").flac.compress(quanta=2e-4)).write_parquet(folder / "day4.parquet")
    expected["day4"] = (ragged, 2e-4)
    # 5: pyarrow writes a FlacArray's table
    data = timestreams(5, 7, 1500)
    table = FlacArray.from_array(data, quanta=5e-4).to_arrow_table("signal")
    pq.write_table(table, folder / "day5.parquet")
    expected["day5"] = (data, 5e-4)
    return folder, expected


def check_windows(rows_by_file, expected):
    for name, got_rows in rows_by_file.items():
        originals, step = expected[name]
        assert len(got_rows) == len(originals), name
        for got, original in zip(got_rows, originals, strict=True):
            want = np.asarray(original)[A:B]
            got = np.asarray(got, dtype=np.float64)
            assert got.shape == want.shape, name
            assert np.max(np.abs(got - want)) <= 0.5 * step * (1 + 1e-6), name


def test_every_file_has_the_same_column_type(archive):
    folder, _ = archive
    types = {pq.read_schema(path).field("signal").type for path in folder.glob("*.parquet")}
    assert types == {FlacExtensionType("float64")}


def test_polars_scans_the_archive_lazily(archive):
    folder, expected = archive
    frame = (
        pl.scan_parquet(str(folder / "*.parquet"), include_file_paths="path")
        .filter(pl.col("path").str.contains("day[1345]"))
        .select(
            pl.col("path").str.extract(r"(day\d)"),
            pl.col("signal").flac.decompress(A, B),
        )
        .collect()
    )
    rows = {}
    for name, values in frame.iter_rows():
        rows.setdefault(name, []).append(values)
    assert set(rows) == {"day1", "day3", "day4", "day5"}
    check_windows(rows, expected)


def test_pyarrow_dataset_reads_the_archive(archive):
    folder, expected = archive
    dataset = pads.dataset(folder, format="parquet")
    rows = {}
    for fragment in dataset.get_fragments():
        table = fragment.to_table(columns=["signal"])
        assert table.schema.field("signal").type == FlacExtensionType("float64")
        windows = pl.from_arrow(table).select(pl.col("signal").flac.decompress(A, B))
        rows[fragment.path.split("/")[-1][:4]] = windows["signal"].to_list()
    check_windows(rows, expected)
    whole = dataset.to_table()
    assert whole.num_rows == 12 + 2 + 5 + 3 + 7


def test_duckdb_struct_rewrapped(archive):
    folder, expected = archive
    frame = duckdb.sql(
        f"select regexp_extract(filename, 'day[0-9]') as name, signal "
        f"from read_parquet('{folder}/*.parquet', filename = true)"
    ).pl()
    assert isinstance(frame.schema["signal"], pl.Struct)
    out = frame.select("name", pl.col("signal").flac.decompress(A, B, dtype="float64"))
    rows = {}
    for name, values in out.iter_rows():
        rows.setdefault(name, []).append(values)
    check_windows(rows, expected)
    # the storage struct alone is enough to rebuild a FlacArray
    struct = pa.table({"s": frame.filter(pl.col("name") == "day2")["signal"].to_arrow()})
    fa = FlacArray.from_arrow(struct["s"])
    assert fa.dtype == np.float64 and fa.shape == (2, 3000)


def test_mixing_dtypes_is_an_error_never_wrong_values(tmp_path):
    FlacArray.from_array(timestreams(1, 2, 500)).write_parquet(tmp_path / "f.parquet")
    ints = np.round(timestreams(2, 2, 500) * 1000).astype(np.int64)
    FlacArray.from_array(ints).write_parquet(tmp_path / "i.parquet")
    with pytest.raises(Exception, match="(?i)schema|type|supertype"):
        pl.scan_parquet(str(tmp_path / "*.parquet")).collect()
    with pytest.raises(pa.ArrowException):
        pads.dataset(tmp_path, format="parquet").to_table()
    frame = duckdb.sql(f"select flac from read_parquet('{tmp_path}/*.parquet')").pl()
    for dtype in ("float64", "int64"):
        with pytest.raises(pl.exceptions.ComputeError, match="offset|gain"):
            frame.select(pl.col("flac").flac.decompress(dtype=dtype))
    pyarrow_tables = [pq.read_table(tmp_path / name) for name in ("f.parquet", "i.parquet")]
    with pytest.raises(pa.ArrowInvalid):
        pa.concat_tables(pyarrow_tables)


def test_equal_length_list_columns_convert(tmp_path):
    rows = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [1.0, 2.0, 3.5]]
    frame = pl.DataFrame({"s": rows})
    packed = frame.select(pl.col("s").flac.compress(quanta=1e-3))
    fa = FlacArray.from_polars(packed["s"], shape=(2, 2, 3))
    np.testing.assert_allclose(fa.to_array().reshape(4, 3), frame["s"].to_list(), atol=5e-4)
    packed.write_parquet(tmp_path / "p.parquet")
    assert FlacArray.read_parquet(tmp_path / "p.parquet", column="s").shape == (4, 3)
    sliced = FlacArray.from_polars(packed["s"].head(3))
    assert sliced.shape == (3, 3)
    table = packed.to_arrow(compat_level=pl.CompatLevel.oldest())
    filtered = FlacArray.from_arrow(table.filter(pa.array([True, False, True, True])))
    assert filtered.shape == (3, 3)


def test_binary_view_storage_reads_correctly():
    fa = FlacArray.from_array(timestreams(6, 3, 700), quanta=1e-3)
    series = fa.to_polars()
    newest = series.to_arrow(compat_level=pl.CompatLevel.newest())
    assert "view" in str(newest.type.storage_type.field(0).type)
    assert FlacArray.from_arrow(newest, shape=fa.shape) == fa


def test_int_rows_with_scales_are_corrupt():
    fa = FlacArray.from_array(np.arange(300, dtype=np.int32).reshape(3, 100))
    storage = fa.to_arrow().storage
    forged = pa.StructArray.from_arrays(
        [storage.field(0), pa.array([1.0, 2.0, 3.0]), pa.array([1.0, 1.0, 1.0])],
        fields=list(storage.type),
    )
    with pytest.raises(CorruptDataError, match="offsets or gains"):
        FlacArray.from_arrow(pa.ExtensionArray.from_storage(FlacExtensionType("int32"), forged))


def test_type_equality_follows_decoding_and_readers_are_forward_compatible(tmp_path):
    assert FlacExtensionType("int64") != FlacExtensionType("float64")
    assert FlacExtensionType("float64") == FlacExtensionType("float64")
    future = FlacExtensionType({"format": 2, "dtype": "int32", "added_later": [1, 2]})
    assert future == FlacExtensionType("int32")
    with pytest.raises(ValueError, match="layout version 4 is not supported"):
        FlacExtensionType({"format": 4, "dtype": "int32"})
    # a file whose type metadata carries a field from a future writer
    fa = FlacArray.from_array(np.arange(3000, dtype=np.int32).reshape(3, 1000))
    storage = fa.to_arrow().storage
    field = pa.field("flac", storage.type).with_metadata(
        {
            b"ARROW:extension:name": b"flacarray.flac",
            b"ARROW:extension:metadata": b'{"format":2,"dtype":"int32","crc":"abc"}',
        }
    )
    pq.write_table(
        pa.Table.from_arrays([storage], schema=pa.schema([field])), tmp_path / "f.parquet"
    )
    assert FlacArray.read_parquet(tmp_path / "f.parquet").shape == (3, 1000)
    np.testing.assert_array_equal(
        FlacArray.from_arrow(pq.read_table(tmp_path / "f.parquet")).to_array(), fa.to_array()
    )
