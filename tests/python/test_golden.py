"""Files written by earlier versions (tests/golden/<version>/) read back
exactly, and are never rewritten (tests/golden/SHA256SUMS)."""

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import zarr

from flacarray import FlacArray

ROOT = Path(__file__).resolve().parents[1] / "golden"
GOLDEN = ROOT / "0.1.0"  # HDF5/zarr format 1, Parquet layout 1, expected values
LAYOUT2 = ROOT / "0.2.0"  # Parquet layout 2
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
    from_layout2 = FlacArray.read_parquet(LAYOUT2 / f"{name}.parquet")
    for fa in (from_h5, from_zarr, from_zarrs, from_parquet, from_layout2):
        assert fa.nbytes == case["compressed_bytes"]
        out = fa.to_array()
        assert out.dtype == expected.dtype and out.shape == expected.shape
        np.testing.assert_array_equal(out, expected)
    assert from_h5 == from_zarr == from_zarrs == from_parquet == from_layout2
    stream0 = (GOLDEN / f"{name}.stream0.flac").read_bytes()
    start, n = int(from_h5._parts.stream_starts[0]), int(from_h5._parts.stream_nbytes[0])
    assert bytes(from_h5.compressed[start : start + n]) == stream0


def test_golden_files_are_never_rewritten():
    """Every file under a version folder is listed in SHA256SUMS with its
    checksum: a version adds folders, it never rewrites old files."""
    import hashlib

    listed = {}
    for line in (ROOT / "SHA256SUMS").read_text().splitlines():
        digest, path = line.split(maxsplit=1)
        listed[path] = digest
    present = {
        str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest()
        for version in ROOT.iterdir()
        if version.is_dir()
        for p in version.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert sorted(present) == sorted(listed), "files added or removed without SHA256SUMS"
    changed = [path for path, digest in present.items() if listed[path] != digest]
    assert not changed, f"golden files rewritten: {changed}"


@pytest.mark.parametrize("name", sorted(MANIFEST["cases"]))
def test_golden_codec_chunks(name):
    """Zarr codec chunks as 0.2.0 wrote them (chunk layout 1) read with
    zarr-python, whole and by windows, and through the codec's decoder."""
    from flacarray import _core

    folder = LAYOUT2 / "chunks"
    expected = np.load(folder / f"{name}.expected.npy")
    z = zarr.open_array(str(folder / f"{name}.zarr"), mode="r")
    np.testing.assert_array_equal(z[...], expected)
    np.testing.assert_array_equal(z[..., 10:20], expected[..., 10:20])
    chunk = np.frombuffer((folder / f"{name}.chunk").read_bytes(), dtype=np.uint8)
    out = _core.decode_chunk(chunk, expected.dtype.name, list(expected.shape))
    np.testing.assert_array_equal(out, expected)


LAYOUT3 = ROOT / "0.3.0"  # digests, field metadata, chunk layout 2


@pytest.mark.parametrize("name", sorted(MANIFEST["cases"]))
def test_golden_files_of_0_3_0(name):
    """0.3.0's files (with digests, and chunk layout 2) read back exactly,
    through every reader, and their digests check out."""
    from flacarray import _core

    expected = np.load(GOLDEN / f"{name}.expected.npy")
    with h5py.File(LAYOUT3 / f"{name}.h5", "r") as hf:
        assert hf.attrs["flacarray_digest"].startswith("md5:")
        from_h5 = FlacArray.read_hdf5(hf)
    read = [
        from_h5,
        FlacArray.read_zarr(zarr.open_group(str(LAYOUT3 / f"{name}.zarr"), mode="r")),
        FlacArray.read_zarr(LAYOUT3 / f"{name}.zarr"),
        FlacArray.read_parquet(LAYOUT3 / f"{name}.parquet"),
    ]
    for fa in read:
        np.testing.assert_array_equal(fa.to_array(), expected)
        assert fa == read[0]
    chunk = np.frombuffer((LAYOUT3 / "chunks" / f"{name}.chunk").read_bytes(), dtype=np.uint8)
    assert chunk[4] == 2
    values = np.load(LAYOUT3 / "chunks" / f"{name}.expected.npy")
    out = _core.decode_chunk(chunk, values.dtype.name, list(values.shape))
    np.testing.assert_array_equal(out, values)


LAYOUT4 = ROOT / "0.4.0"  # Arrow layout 3: frame rows


@pytest.mark.parametrize("dtype", ["int16", "int32", "int64", "float32", "float64"])
def test_golden_frame_rows_of_0_4_0(dtype):
    """0.4.0's Parquet files, whose short rows are frame rows, read back
    exactly through our reader and through pyarrow, as whole streams."""
    import pyarrow.parquet as pq

    expected = np.load(LAYOUT4 / f"{dtype}.expected.npy")
    read = [
        FlacArray.read_parquet(LAYOUT4 / f"{dtype}.parquet"),
        FlacArray.from_arrow(pq.read_table(LAYOUT4 / f"{dtype}.parquet")),
    ]
    for fa in read:
        out = fa.to_array()
        assert out.dtype == expected.dtype
        np.testing.assert_array_equal(out, expected)
        assert fa == read[0]
        # the rows are read as frame rows; a group write rebuilds whole streams
        whole = fa._current_layout()
        assert all(
            bytes(whole.compressed[s : s + 4]) == b"fLaC"
            for s in whole._parts.stream_starts.tolist()
        )
        assert whole == fa and whole.nbytes > fa.nbytes
        np.testing.assert_array_equal(whole.to_array(), expected)


def test_golden_list_column_of_0_4_0():
    import polars as pl

    lengths = json.loads((LAYOUT4 / "lists.json").read_text())["lengths"]
    expected = np.load(LAYOUT4 / "lists.expected.npy")
    rows = pl.read_parquet(LAYOUT4 / "lists.parquet").select(pl.col("signal").flac.decompress())
    at = 0
    for row, n in zip(rows["signal"].to_list(), lengths, strict=True):
        if n is None:
            assert row is None
            continue
        np.testing.assert_array_equal(np.array(row, dtype=np.int32), expected[at : at + n])
        at += n
    assert at == expected.size


@pytest.mark.parametrize("dtype", ["int16", "int32", "int64", "float32", "float64"])
def test_golden_codec_chunks_of_0_4_0(dtype):
    """0.4.0's Zarr codec chunks (layout 3, frame rows) read back exactly,
    alone and, written by zarr-python, through zarr-python."""
    from flacarray import _core

    folder = LAYOUT4 / "chunks"
    chunk = np.frombuffer((folder / f"{dtype}.chunk").read_bytes(), dtype=np.uint8)
    assert chunk[4] == 3
    expected = np.load(folder / f"{dtype}.expected.npy")
    out = _core.decode_chunk(chunk, dtype, list(expected.shape))
    np.testing.assert_array_equal(out, expected)
    z = zarr.open_array(str(folder / f"{dtype}.zarr"), mode="r")
    values = np.load(folder / f"{dtype}.zarr.expected.npy")
    np.testing.assert_array_equal(z[...], values)
    np.testing.assert_array_equal(z[:, 40:60], values[:, 40:60])
