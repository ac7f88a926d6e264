"""Every failure is the documented exception, naming the problem (issue 22,
item 11): damage anywhere in a Parquet file we wrote (footer included) is
CorruptDataError or the original values, never OSError, a plain
ValueError or a panic; missing files name their path; bad arguments are
ValueError/TypeError with a short message."""

import json

import numpy as np
import pytest
import zarr

from flacarray import CorruptDataError, FlacArray


@pytest.fixture(scope="module")
def floats():
    data = np.random.default_rng(1).normal(size=(12, 3000))
    return FlacArray.from_array(data, quanta=1e-3)


def test_damaged_parquet_is_corrupt_or_equal(floats, tmp_path):
    path = tmp_path / "p.parquet"
    floats.write_parquet(path)
    raw = path.read_bytes()
    expected = floats.to_array()
    keep = np.arange(12) % 3 == 1
    rng = np.random.default_rng(0)
    outcomes = {"equal": 0, "corrupt": 0}
    for trial in range(400):
        damaged = bytearray(raw)
        # half the flips in the footer's last 3000 bytes, half anywhere
        at = (
            len(raw) - 1 - int(rng.integers(0, 3000))
            if trial % 2
            else int(rng.integers(0, len(raw)))
        )
        damaged[at] ^= 1 << int(rng.integers(0, 8))
        (tmp_path / "d.parquet").write_bytes(bytes(damaged))
        for mask in (None, keep):
            try:
                out = FlacArray.read_parquet(tmp_path / "d.parquet", keep=mask).to_array()
            except CorruptDataError:
                outcomes["corrupt"] += 1
                continue
            want = expected if mask is None else expected[mask]
            assert np.array_equal(out, want), f"byte {at}: other values, no error"
            outcomes["equal"] += 1
    assert outcomes["corrupt"] > 100 and outcomes["equal"] > 100, outcomes


def test_missing_files_name_their_path(tmp_path):
    for read in (FlacArray.read_parquet, FlacArray.read_zarr):
        target = tmp_path / "nowhere" / "missing.data"
        with pytest.raises(FileNotFoundError, match="missing.data"):
            read(str(target))


def test_bad_arguments_are_value_and_type_errors(floats):
    with pytest.raises(ValueError, match="non-negative"):
        FlacArray.from_arrow(floats.to_arrow(), shape=(-1, 3000))
    with pytest.raises(ValueError, match="sequence of integers"):
        FlacArray.from_arrow(floats.to_arrow(), shape=("a", 3000))
    with pytest.raises(TypeError, match="got list"):
        FlacArray.from_arrow([1, 2, 3])
    ones = np.ones((2, 10), np.float32)
    ones[0, 3] = 2
    with pytest.raises(ValueError, match="quanta 1e300 is too large") as caught:
        FlacArray.from_array(ones, quanta=1e300)
    assert len(str(caught.value)) < 200
    huge = np.array([np.finfo(np.float64).min, np.finfo(np.float64).max, 0.0])
    with pytest.raises(ValueError, match="span more than the largest float64") as caught:
        FlacArray.from_array(huge, quanta=1e300)
    assert len(str(caught.value)) < 200


def test_damaged_field_metadata_is_corrupt(floats):
    table = floats.to_arrow_table()
    field = table.schema.field(0)
    for key, value in [
        (b"flacarray.leading_shape", b"[3, -4]"),
        (b"flacarray.leading_shape", b"garbage"),
        (b"flacarray.stream_size", b"many"),
        (b"flacarray.digest", b"md5:00"),
    ]:
        meta = dict(field.metadata)
        meta[key] = value
        damaged = table.cast(table.schema.set(0, field.with_metadata(meta)))
        with pytest.raises(CorruptDataError):
            FlacArray.from_arrow(damaged)


def test_huge_zarr_shapes_are_corrupt(floats, tmp_path):
    path = str(tmp_path / "z.zarr")
    floats.write_zarr(zarr.open_group(path, mode="w"))
    meta_path = tmp_path / "z.zarr" / "stream_starts" / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["shape"] = [2**62]
    meta["chunk_grid"]["configuration"]["chunk_shape"] = [2**62]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(CorruptDataError):
        FlacArray.read_zarr(zarr.open_group(path, mode="r"))
    with pytest.raises(CorruptDataError):
        FlacArray.read_zarr(path)
