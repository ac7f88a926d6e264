"""Damage that used to read as other values (issue 22, items 5-7): every
case below is now CorruptDataError, in every reader."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zarr

import flacarray  # noqa: F401  (the Polars namespace)
from flacarray import CorruptDataError, FlacArray


def floats(dtype="float64", shape=(3, 4, 6000)):
    rng = np.random.default_rng(9)
    data = np.cumsum(rng.normal(0, 0.1, shape), axis=-1).astype(dtype)
    return FlacArray.from_array(data, quanta=1e-3)


def set_total_samples(stream: bytes, total: int) -> bytes:
    out = bytearray(stream)
    out[21] = (out[21] & 0xF0) | ((total >> 32) & 0x0F)
    out[22:26] = (total & 0xFFFFFFFF).to_bytes(4, "big")
    return bytes(out)


def test_a_lowered_sample_count_is_corrupt_in_arrow_parquet_and_polars(tmp_path):
    """Item 5: a row whose STREAMINFO says 4096 samples instead of 6000
    used to read as a shorter row."""
    fa = FlacArray.from_array(np.arange(2 * 6000, dtype=np.int32).reshape(2, 6000) % 777)
    column = fa.to_arrow().storage
    streams = column.field(0).to_pylist()
    streams[1] = set_total_samples(streams[1], 4096)
    damaged = pa.StructArray.from_arrays(
        [pa.array(streams, pa.large_binary()), column.field(1), column.field(2)],
        fields=list(column.type),
    )
    with pytest.raises(CorruptDataError):
        FlacArray.from_arrow(damaged, dtype="int32", shape=fa.shape).to_array()
    frame = pl.DataFrame(
        {"signal": pl.Series(pa.ExtensionArray.from_storage(fa.to_arrow().type, damaged))}
    )
    with pytest.raises(pl.exceptions.ComputeError, match="row 1"):
        frame.select(pl.col("signal").flac.decompress())
    # the file as our writer lays it out (the field keeps the whole array's
    # facts), one stream's count lowered
    schema = fa.to_arrow_table().schema
    column = pa.ExtensionArray.from_storage(fa.to_arrow().type, damaged)
    pq.write_table(pa.Table.from_arrays([column], schema=schema), tmp_path / "d.parquet")
    with pytest.raises(CorruptDataError):
        FlacArray.read_parquet(tmp_path / "d.parquet").to_array()


def test_two_rows_pointing_at_one_stream_are_corrupt(tmp_path):
    """Item 5: `stream_starts` pointing stream 4 at stream 0's bytes used to
    return stream 0's samples as stream 4."""
    fa = floats()
    with h5py.File(tmp_path / "a.h5", "w") as hf:
        fa.write_hdf5(hf)
    for digest in (True, False):
        with h5py.File(tmp_path / "a.h5", "a") as hf:
            starts = hf["stream_starts"][...]
            starts[1, 0] = starts[0, 0]
            hf["stream_starts"][...] = starts
            if not digest and "flacarray_digest" in hf.attrs:
                del hf.attrs["flacarray_digest"]
        with h5py.File(tmp_path / "a.h5", "r") as hf, pytest.raises(CorruptDataError):
            FlacArray.read_hdf5(hf)


@pytest.mark.parametrize("name", ["stream_offsets", "stream_starts", "stream_gains"])
def test_a_missing_table_chunk_is_corrupt_in_both_zarr_readers(tmp_path, name):
    """Item 6: a missing chunk of a per-stream table read as its fill value."""
    path = tmp_path / "g.zarr"
    floats().write_zarr(zarr.open_group(str(path), mode="w"))
    for chunk in (path / name / "c").rglob("*"):
        if chunk.is_file():
            chunk.unlink()
    with pytest.raises(CorruptDataError, match="missing chunks"):
        FlacArray.read_zarr(zarr.open_group(str(path), mode="r"))
    with pytest.raises(CorruptDataError, match="missing chunks"):
        FlacArray.read_zarr(str(path))


def changed_group(kind, path, edit):
    if kind == "hdf5":
        with h5py.File(path, "a") as hf:
            edit(hf)
    else:
        edit(zarr.open_group(str(path), mode="r+"))


def read_group(kind, path):
    if kind == "hdf5":
        with h5py.File(path, "r") as hf:
            return FlacArray.read_hdf5(hf).to_array()
    return FlacArray.read_zarr(zarr.open_group(str(path), mode="r")).to_array()


def set_offset(group):
    values = group["stream_offsets"][...]
    values[2, 1] += 0.001
    group["stream_offsets"][...] = values


def set_attribute(name, value):
    def edit(group):
        group.attrs[name] = value

    return edit


@pytest.mark.parametrize("kind", ["hdf5", "zarr"])
@pytest.mark.parametrize(
    "edit",
    [
        set_offset,
        set_attribute("flacarray_shape", [4, 3, 6000]),
        set_attribute("flacarray_shape", [12, 6000]),
        set_attribute("flacarray_level", 8),
        set_attribute("flacarray_dtype", "float32"),
    ],
)
def test_tables_and_attributes_are_guarded_by_the_digest(tmp_path, kind, edit):
    """Item 7: a changed offset, shape, level or dtype read silently."""
    path = tmp_path / ("g.h5" if kind == "hdf5" else "g.zarr")
    fa = floats()
    if kind == "hdf5":
        with h5py.File(path, "w") as hf:
            fa.write_hdf5(hf)
    else:
        fa.write_zarr(zarr.open_group(str(path), mode="w"))
    np.testing.assert_array_equal(read_group(kind, path), fa.to_array())
    changed_group(kind, path, edit)
    with pytest.raises(CorruptDataError):
        read_group(kind, path)
    if kind == "zarr":
        with pytest.raises(CorruptDataError):
            FlacArray.read_zarr(str(path))


@pytest.mark.parametrize("kind", ["hdf5", "zarr"])
def test_float32_relabelled_float64_is_refused_without_a_digest(tmp_path, kind):
    """Item 7: float32 data relabelled float64 (the reference writes no
    digest) decoded to other values; its channel count betrays it."""
    path = tmp_path / ("g.h5" if kind == "hdf5" else "g.zarr")
    fa = floats("float32")
    if kind == "hdf5":
        with h5py.File(path, "w") as hf:
            fa.write_hdf5(hf)
    else:
        fa.write_zarr(zarr.open_group(str(path), mode="w"))

    def relabel(group):
        del group.attrs["flacarray_digest"]
        group.attrs["flacarray_dtype"] = "float64"

    changed_group(kind, path, relabel)
    with pytest.raises(CorruptDataError, match="float64"):
        read_group(kind, path)
    changed_group(kind, path, set_attribute("flac_channels", "2"))
    with pytest.raises(CorruptDataError):
        read_group(kind, path)


def test_a_wrong_dtype_for_an_arrow_column_is_refused():
    """Item 7: `dtype=` that is not the data's decoded 37% other values."""
    fa = floats("float32")
    storage = fa.to_arrow().storage
    with pytest.raises(CorruptDataError, match="channels"):
        FlacArray.from_arrow(storage, dtype="float64", shape=fa.shape)
    table = fa.to_arrow_table()
    meta = dict(table.schema.field(0).metadata)
    meta[b"flacarray.leading_shape"] = b"[4,3]"
    damaged = table.cast(table.schema.set(0, table.schema.field(0).with_metadata(meta)))
    with pytest.raises(CorruptDataError, match="digest"):
        FlacArray.from_arrow(damaged)


def test_verify_reports_metadata_damage(tmp_path):
    """Item 7: `flacarray verify` exited 0 on a changed offset."""
    exe = shutil.which("flacarray")
    if exe is None:
        pytest.skip("the flacarray command is not installed")
    with h5py.File(tmp_path / "a.h5", "w") as hf:
        floats().write_hdf5(hf)
        set_offset(hf)
    proc = subprocess.run([exe, "verify", "a.h5"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 1 and "digest" in proc.stderr, proc.stderr


def test_huge_codec_chunk_shapes_are_corrupt(tmp_path):
    """Item 11: an array claiming more bytes than memory can address is
    CorruptDataError (numpy's ValueError before)."""
    from flacarray.zarr_codec import FlacCodec

    path = tmp_path / "c.zarr"
    z = zarr.create_array(
        str(path),
        shape=(2, 100),
        chunks=(2, 100),
        dtype="int32",
        serializer=FlacCodec(),
        compressors=None,
    )
    z[...] = np.arange(200, dtype=np.int32).reshape(2, 100)
    meta = json.loads((path / "zarr.json").read_text())
    meta["shape"] = meta["chunk_grid"]["configuration"]["chunk_shape"] = [2, 2**62]
    (path / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(CorruptDataError, match="damaged"):
        zarr.open_array(str(path), mode="r")[...]


def test_a_keep_mask_for_a_damaged_leading_shape_is_corrupt(tmp_path):
    """A keep mask shaped as written, read from a file whose leading shape
    was relabelled: the damage is reported, not the caller's mask."""
    fa = floats(shape=(3, 4, 500))
    fa.write_parquet(tmp_path / "a.parquet")
    table = pq.read_table(tmp_path / "a.parquet")
    field = table.schema.field(0)
    meta = dict(field.metadata)
    meta[b"flacarray.leading_shape"] = b"[4,3]"
    schema = pa.schema([field.with_metadata(meta)])
    pq.write_table(pa.Table.from_arrays(table.columns, schema=schema), tmp_path / "a.parquet")
    keep = np.ones((3, 4), bool)
    with pytest.raises(CorruptDataError, match="digest"):
        FlacArray.read_parquet(tmp_path / "a.parquet", keep=keep)
    # an undamaged file still tells a wrong mask apart from damage
    fa.write_parquet(tmp_path / "b.parquet")
    with pytest.raises(ValueError, match="keep has shape") as caught:
        FlacArray.read_parquet(tmp_path / "b.parquet", keep=np.ones((4, 3), bool))
    assert not isinstance(caught.value, CorruptDataError)


def test_a_column_marked_ours_with_another_storage_type_is_corrupt(tmp_path):
    """A flipped bit in a struct field's name leaves pyarrow a plain
    struct; the field metadata still says the column is ours."""
    table = floats(shape=(2, 300)).to_arrow_table()
    storage = table.column(0).chunk(0).storage
    renamed = pa.StructArray.from_arrays(
        [storage.field(i) for i in range(3)], names=["strEam", "offset", "gain"]
    )
    field = pa.field(
        table.schema.field(0).name, renamed.type, metadata=table.schema.field(0).metadata
    )
    damaged = pa.Table.from_arrays([renamed], schema=pa.schema([field]))
    with pytest.raises(CorruptDataError, match="marks it flacarray.flac"):
        FlacArray.from_arrow(damaged)
    # the same struct without our field metadata is the caller's mistake
    with pytest.raises(TypeError):
        FlacArray.from_arrow(renamed)


def test_a_damage_campaign_finds_no_silent_read_and_no_crash():
    """A short run of tests/damage/campaign.py (the note of issue 22 gives
    a 5,000-trial run): every read is the original values, the edited
    array, CorruptDataError or a refusal by the container library."""
    script = Path(__file__).parents[1] / "damage" / "campaign.py"
    run = subprocess.run(
        [sys.executable, str(script), "--trials", "300", "--seed", "7"],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    summary = json.loads(run.stdout)
    assert run.returncode == 0, json.dumps(summary["outcomes"])
    assert summary["crashes"] == [] and summary["hangs"] == []
    assert summary["outcomes"].get("CorruptDataError", 0) > 100
