"""Polars expressions: pl.col(c).flac.compress() / .flac.decompress()."""

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest

import flacarray  # noqa: F401  (registers the namespace)
from flacarray import FlacArray
from flacarray.arrow import FlacExtensionType

DTYPES = {"int32": pl.Int32, "int64": pl.Int64, "float32": pl.Float32, "float64": pl.Float64}


def ragged_frame(dtype):
    rng = np.random.default_rng(4)
    rows = []
    for n in (5000, 0, 17, 12000, 1):
        values = 1000 * np.sin(np.arange(n) / 200) + rng.normal(0, 10, n)
        rows.append(values.astype(dtype).tolist())
    rows.insert(2, None)
    return pl.DataFrame({"x": pl.Series("x", rows, dtype=pl.List(DTYPES[dtype]))})


@pytest.mark.parametrize("dtype", list(DTYPES))
def test_list_round_trip_ragged_nulls_empty(dtype):
    frame = ragged_frame(dtype)
    packed = frame.select(pl.col("x").flac.compress())
    assert packed.schema["x"] != frame.schema["x"]
    assert str(packed.schema["x"]).startswith("Extension") or "flacarray" in str(packed.schema)
    back = packed.select(pl.col("x").flac.decompress())
    assert back.schema["x"] == pl.List(DTYPES[dtype])
    for got, want in zip(back["x"].to_list(), frame["x"].to_list(), strict=True):
        if want is None:
            assert got is None
        elif dtype.startswith("int"):
            assert got == want
        else:
            assert len(got) == len(want)
            if want:
                tol = (max(want) - min(want)) / 2**20 + 1e-6 * max(abs(v) for v in want)
                assert np.max(np.abs(np.array(got) - np.array(want))) <= tol


def test_array_input_and_windows():
    rng = np.random.default_rng(1)
    data = rng.normal(0, 1, (6, 20000))
    frame = pl.DataFrame({"x": pl.Series("x", data)})
    assert frame.schema["x"] == pl.Array(pl.Float64, 20000)
    packed = frame.select(pl.col("x").flac.compress(quanta=1e-3))
    full = np.stack(packed.select(pl.col("x").flac.decompress())["x"].to_numpy())
    assert np.abs(full - data).max() <= 0.5e-3 * (1 + 1e-9)
    for start, stop in ((100, 200), (-50, None), (None, -19990), (15000, 12000)):
        part = packed.select(pl.col("x").flac.decompress(start, stop))["x"].to_list()
        expected = full[:, slice(start, stop)]
        assert np.array_equal(np.array(part, dtype=float).reshape(expected.shape), expected)
    part = packed.select(pl.col("x").flac.decompress(slice(5, 10)))["x"].to_list()
    assert np.array_equal(np.array(part), full[:, 5:10])


def test_per_row_quanta_column():
    rng = np.random.default_rng(2)
    data = rng.normal(0, 1, (3, 4000))
    frame = pl.DataFrame({"x": pl.Series("x", data), "q": [1e-2, 1e-3, 1e-4]})
    packed = frame.select(pl.col("x").flac.compress(quanta="q"))
    gains = packed["x"].ext.storage().struct.field("gain").to_numpy()
    np.testing.assert_allclose(1 / gains, [1e-2, 1e-3, 1e-4])
    packed = frame.select(pl.col("x").flac.compress(quanta=pl.col("q") * 10))
    gains = packed["x"].ext.storage().struct.field("gain").to_numpy()
    np.testing.assert_allclose(1 / gains, [1e-1, 1e-2, 1e-3])


def test_lazy_schema_without_running():
    lazy = pl.LazyFrame({"x": [[1, 2, 3], [4, 5]]}, schema={"x": pl.List(pl.Int64)})
    plan = lazy.select(pl.col("x").flac.compress(level=8))
    schema = plan.collect_schema()
    assert "flacarray.flac" in str(schema["x"])
    back = plan.select(pl.col("x").flac.decompress(-1))
    assert back.collect_schema()["x"] == pl.List(pl.Int64)
    assert back.collect()["x"].to_list() == [[3], [5]]
    streaming = back.collect(engine="streaming")
    assert streaming["x"].to_list() == [[3], [5]]


def test_group_by_and_over():
    frame = pl.DataFrame(
        {
            "g": ["a", "a", "b"],
            "x": [[1.0, 2.0, 3.0], [4.0, 5.0], [6.0]],
        }
    )
    agg = frame.group_by("g", maintain_order=True).agg(
        pl.col("x").flac.compress().flac.decompress().alias("y")
    )
    assert agg["y"].to_list() == [[[1.0, 2.0, 3.0], [4.0, 5.0]], [[6.0]]]
    over = frame.with_columns(
        pl.col("x").flac.compress().flac.decompress(0, 1).over("g").alias("first")
    )
    assert over["first"].to_list() == [[1.0], [4.0], [6.0]]


def test_parquet_from_polars_read_by_rust_and_pyarrow(tmp_path):
    rng = np.random.default_rng(5)
    data = np.round(rng.normal(0, 1000, (5, 3000))).astype(np.int32)
    frame = pl.DataFrame({"flac": pl.Series("flac", data)})
    packed = frame.select(pl.col("flac").flac.compress())
    path = tmp_path / "polars.parquet"
    packed.write_parquet(path)
    table = pq.read_table(path)
    assert isinstance(table.schema.field("flac").type, FlacExtensionType)
    fa = FlacArray.read_parquet(path)
    assert fa.shape == (5, 3000)
    np.testing.assert_array_equal(fa.to_array(), data)
    again = pl.read_parquet(path).select(pl.col("flac").flac.decompress())
    np.testing.assert_array_equal(np.stack(again["flac"].to_numpy()), data)


def test_type_errors_are_polars_errors():
    frame = pl.DataFrame(
        {"s": ["a", "b"], "i": [[1], [2]]}, schema={"s": pl.String, "i": pl.List(pl.Int8)}
    )
    with pytest.raises(
        pl.exceptions.PolarsError, match="List or Array of Int16, Int32, Int64, Float32 or Float64"
    ):
        frame.select(pl.col("s").flac.compress())
    with pytest.raises(pl.exceptions.PolarsError, match="List or Array of Int16"):
        frame.select(pl.col("i").flac.compress())
    with pytest.raises(pl.exceptions.PolarsError, match="expects a flacarray.flac column"):
        frame.select(pl.col("i").flac.decompress())
    with pytest.raises(pl.exceptions.PolarsError, match="NaN"):
        pl.DataFrame({"x": [[1.0, float("nan")]]}).select(pl.col("x").flac.compress())
    with pytest.raises(pl.exceptions.PolarsError, match="compression level"):
        pl.DataFrame({"x": [[1.0]]}).select(pl.col("x").flac.compress(level=11))
    with pytest.raises(ValueError, match="not both"):
        pl.col("x").flac.compress(quanta=1.0, precision=2)
    with pytest.raises(ValueError, match="step 1"):
        pl.col("x").flac.decompress(slice(0, 10, 2))


def test_conversions_to_and_from_polars():
    data = np.random.default_rng(0).normal(size=(2, 3, 500))
    fa = FlacArray.from_array(data, quanta=1e-4)
    series = fa.to_polars()
    assert series.len() == 6
    assert FlacArray.from_polars(series, shape=(2, 3, 500)) == fa
    assert FlacArray.from_polars(series).shape == (6, 500)
    unpacked = pl.DataFrame({"s": series}).select(pl.col("s").flac.decompress())
    np.testing.assert_array_equal(np.stack(unpacked["s"].to_numpy()), fa.to_array().reshape(6, 500))


@pytest.mark.parametrize(
    "dtype",
    [
        pl.List(pl.Float16),
        pl.List(pl.Decimal(10, 2)),
        pl.List(pl.Int128),
        pl.List(pl.UInt128),
        pl.List(pl.Categorical),
        pl.List(pl.Int8),
        pl.List(pl.Date),
        pl.Array(pl.Float64, 0),
    ],
    ids=str,
)
def test_unsupported_inputs_are_clear_errors_not_panics(dtype):
    values = [[], []] if dtype == pl.Array(pl.Float64, 0) else [None, None]
    frame = pl.DataFrame({"sig": pl.Series("sig", values, dtype=dtype)})
    query = frame.lazy().select(pl.col("sig").flac.compress())
    for run in (query.collect_schema, query.collect):
        with pytest.raises(pl.exceptions.PolarsError) as info:
            run()
        message = str(info.value)
        assert "panicked" not in message, message
        assert "sig" in message, message
        assert "Int32, Int64, Float32 or Float64" in message or "width 0" in message, message


def test_per_row_steps_only_where_needed():
    frame = pl.DataFrame(
        {
            "s": [None, [], [2.5], [1.0, 1.0, 1.0], [0.0, 0.5, 1.0]],
            "q": [None, None, None, None, 1e-3],
        }
    )
    packed = frame.select(pl.col("s").flac.compress(quanta="q"))
    out = packed.select(pl.col("s").flac.decompress())["s"].to_list()
    assert out[:4] == [None, [], [2.5], [1.0, 1.0, 1.0]]
    np.testing.assert_allclose(out[4], [0.0, 0.5, 1.0], atol=5e-4)
    # the step formula users write, with constant rows where std is 0
    std_based = frame.select(pl.col("s").flac.compress(quanta=pl.col("s").list.std() / 100))
    assert std_based.height == 5
    # a varying row without a usable step
    bad = frame.with_columns(pl.lit(None, pl.Float64).alias("q"))
    with pytest.raises(pl.exceptions.ComputeError, match="row 4: quanta must be"):
        bad.select(pl.col("s").flac.compress(quanta="q"))


@pytest.mark.parametrize(
    "column",
    [
        pl.Series("q", [True, False]),
        pl.Series("q", ["a", "b"]),
        pl.Series("q", [[1.0], [2.0]]),
    ],
    ids=["bool", "str", "list"],
)
def test_per_row_step_columns_must_be_numeric(column):
    frame = pl.DataFrame({"s": [[1.0, 2.0], [3.0, 4.0]], "q": column})
    with pytest.raises(pl.exceptions.PolarsError, match="numeric column"):
        frame.select(pl.col("s").flac.compress(quanta="q"))


@pytest.mark.parametrize("value", [[1e-3, 1e-3], np.array([1e-3, 1e-3]), pl.Series([1e-3])])
def test_per_row_step_python_objects_are_a_type_error(value):
    with pytest.raises(TypeError, match="quanta must be a number, a column name or an expr"):
        pl.col("s").flac.compress(quanta=value)


def test_streaming_errors_do_not_misstate_rows():
    rows = 300_000
    values = np.zeros((rows, 2))
    values[:, 1] = 1.0
    values[250_123, 1] = np.nan
    frame = pl.DataFrame({"s": pl.Series("s", values)})
    with pytest.raises(pl.exceptions.ComputeError) as info:
        frame.select(pl.col("s").flac.compress())
    assert "row 250123" in str(info.value)
    with pytest.raises(pl.exceptions.ComputeError) as info:
        frame.lazy().select(pl.col("s").flac.compress()).collect(engine="streaming")
    message = str(info.value)
    assert "row 250123" in message or "numbered within the" in message, message


def _peak_rss_kb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def test_window_does_not_copy_the_stream_bytes():
    """A 100-sample window from a frame holding 100 MB of streams must not
    convert (copy) the binary column on its way into the plugin; the peak
    RSS during the call grows by far less than the stored bytes."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # resets the peak RSS counter (Linux >= 4.0)
    except OSError:
        pytest.skip("cannot reset the peak RSS counter here")
    rng = np.random.default_rng(0)
    data = rng.integers(-(2**31), 2**31 - 1, size=(2, 12_500_000), dtype=np.int32)
    frame = pl.DataFrame({"x": FlacArray.from_array(data).to_polars()})
    stored = frame["x"].ext.storage().struct.field("stream").bin.size().sum()
    assert stored > 90e6
    expected = data[:, 6_000_000:6_000_100]
    del data
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    before = _peak_rss_kb()
    out = frame.select(pl.col("x").flac.decompress(6_000_000, 6_000_100))
    grown = (_peak_rss_kb() - before) * 1024
    assert np.array_equal(np.stack(out["x"].to_numpy()), expected)
    assert grown < stored / 5, f"peak RSS grew by {grown:,} bytes for {stored:,} stored bytes"


def test_step_options_are_checked_when_planning():
    """Steps on integer columns, or a per-row quanta with a fixed precision,
    fail at plan time (collect_schema), before any data is read."""
    ints = pl.LazyFrame({"x": [[1, 2, 3]]}, schema={"x": pl.List(pl.Int32)})
    with pytest.raises(pl.exceptions.PolarsError, match="float data only"):
        ints.select(pl.col("x").flac.compress(quanta=0.5)).collect_schema()
    floats = pl.LazyFrame({"x": [[1.0, 2.0]], "q": [0.1]})
    with pytest.raises(ValueError, match="not both"):
        floats.select(pl.col("x").flac.compress(quanta="q", precision=3.0))
