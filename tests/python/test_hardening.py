"""Regression tests for a user's probe of data loss, silent wrong answers,
panics and unbounded allocations (one section per problem found)."""

import json
import os
import textwrap

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zarr
from child import run_child

import flacarray._hdf5_group
import flacarray._zarr_group
import flacarray.hdf5
import flacarray.io_common
import flacarray.parquet
import flacarray.zarr
from conftest import make_data
from flacarray import CorruptDataError, FlacArray

INTS = make_data("int32", (3, 4, 500), seed=1)
FLOATS = make_data("float64", (3, 4, 500), seed=2)


# ---- 1, 2: writers never delete what they did not write ----------------------


def test_write_zarr_path_refuses_a_directory_with_other_files(tmp_path):
    target = tmp_path / "data"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    fa = FlacArray.from_array(INTS)
    with pytest.raises(FileExistsError, match="already exists"):
        fa.write_zarr(str(target))
    with pytest.raises(FileExistsError, match="not a flacarray zarr group"):
        fa.write_zarr(str(target), overwrite=True)
    with pytest.raises(FileExistsError):
        flacarray.zarr.write_array(INTS, str(target), overwrite=True)
    assert (target / "notes.txt").read_text() == "keep me"
    assert sorted(os.listdir(target)) == ["notes.txt"]


def test_write_zarr_dot_never_empties_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "mine.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    fa = FlacArray.from_array(INTS)
    for overwrite in (False, True):
        with pytest.raises(FileExistsError):
            fa.write_zarr(".", overwrite=overwrite)
    assert (tmp_path / "mine.txt").exists()
    with pytest.raises(ValueError, match="no path given"):
        fa.write_zarr("")
    assert sorted(os.listdir(tmp_path)) == ["mine.txt"]


def test_write_zarr_path_overwrites_only_a_pure_flacarray_group(tmp_path):
    path = str(tmp_path / "g.zarr")
    first = FlacArray.from_array(INTS)
    first.write_zarr(path)
    second = FlacArray.from_array(FLOATS)
    with pytest.raises(FileExistsError):
        second.write_zarr(path)
    assert FlacArray.read_zarr(path) == first
    second.write_zarr(path, overwrite=True)
    assert FlacArray.read_zarr(path) == second
    # a flacarray group that also holds the user's own array is not replaced
    grp = zarr.open_group(path, mode="a")
    grp.create_array("mine", data=np.arange(3))
    with pytest.raises(FileExistsError, match="also holds mine"):
        first.write_zarr(path, overwrite=True)
    np.testing.assert_array_equal(zarr.open_group(path, mode="r")["mine"][:], np.arange(3))
    # no temporary siblings are left behind
    assert sorted(os.listdir(tmp_path)) == ["g.zarr"]


@pytest.mark.parametrize("codec", ["zstd", "gzip", "blosc"])
def test_rust_core_reads_zarr_python_codecs(tmp_path, codec):
    """Groups zarr-python writes with its usual compressors read by path."""
    from zarr.codecs import BloscCodec, GzipCodec, ZstdCodec

    compressor = {"zstd": ZstdCodec(), "gzip": GzipCodec(), "blosc": BloscCodec()}[codec]
    fa = FlacArray.from_array(FLOATS)

    class Compressing(flacarray._zarr_group._ZarrBackend):
        def create(self, grp, name, data, *, chunks):
            return grp.create_array(name, data=np.asarray(data), compressors=[compressor])

    path = tmp_path / "g.zarr"
    flacarray.io_common.write_group(Compressing(), zarr.open_group(str(path), mode="w"), fa)
    meta = json.loads((path / "compressed" / "zarr.json").read_text())
    assert codec in json.dumps(meta["codecs"])
    assert FlacArray.read_zarr(str(path)) == fa


def test_empty_directory_counts_as_absent(tmp_path):
    path = tmp_path / "empty.zarr"
    path.mkdir()
    fa = FlacArray.from_array(INTS)
    fa.write_zarr(path)
    assert FlacArray.read_zarr(path) == fa


@pytest.mark.parametrize("kind", ["hdf5", "zarr"])
def test_group_writers_refuse_groups_with_members(tmp_path, kind):
    fa = FlacArray.from_array(FLOATS)
    if kind == "hdf5":
        handle = h5py.File(tmp_path / "x.h5", "w")
        grp = handle
        grp.create_dataset("mine", data=np.arange(4))
        write = fa.write_hdf5
    else:
        handle = None
        grp = zarr.open_group(str(tmp_path / "x.zarr"), mode="w")
        grp.create_array("mine", data=np.arange(4))
        write = fa.write_zarr
    try:
        with pytest.raises(FileExistsError, match="already holds mine"):
            write(grp)
        with pytest.raises(FileExistsError, match="not a flacarray group"):
            write(grp, overwrite=True)
        assert sorted(grp.keys()) == ["mine"]
        # a name clash on one dataset creates nothing at all
        if kind == "hdf5":
            del grp["mine"]
            grp.create_dataset("stream_offsets", data=np.zeros(3))
        else:
            grp = zarr.open_group(str(tmp_path / "y.zarr"), mode="w")
            grp.create_array("stream_offsets", data=np.zeros(3))
        with pytest.raises(FileExistsError):
            write(grp)
        assert sorted(grp.keys()) == ["stream_offsets"]
    finally:
        if handle is not None:
            handle.close()


@pytest.mark.parametrize("kind", ["hdf5", "zarr"])
def test_group_overwrite_replaces_only_flacarray_members(tmp_path, kind):
    first, second = FlacArray.from_array(FLOATS), FlacArray.from_array(INTS, level=7)
    if kind == "hdf5":
        handle = h5py.File(tmp_path / "x.h5", "w")
        grp, write, read = handle, "write_hdf5", FlacArray.read_hdf5
    else:
        handle = None
        grp = zarr.open_group(str(tmp_path / "x.zarr"), mode="w")
        write, read = "write_zarr", FlacArray.read_zarr
    try:
        getattr(first, write)(grp)
        if kind == "hdf5":
            grp.create_dataset("mine", data=np.arange(4))
        else:
            grp.create_array("mine", data=np.arange(4))
        grp.attrs["owner"] = "me"
        getattr(second, write)(grp, overwrite=True)
        assert read(grp) == second
        assert read(grp).level == 7
        np.testing.assert_array_equal(grp["mine"][:], np.arange(4))
        assert grp.attrs["owner"] == "me"
        assert "stream_offsets" not in grp, "the float arrays of the old data are gone"
    finally:
        if handle is not None:
            handle.close()


@pytest.mark.parametrize("kind", ["hdf5", "zarr"])
def test_failed_group_write_leaves_nothing(tmp_path, kind, monkeypatch):
    module = flacarray._hdf5_group if kind == "hdf5" else flacarray._zarr_group
    original = module.BACKEND.create

    def failing(grp, name, data, *, chunks):
        if name.endswith("stream_gains"):
            raise OSError("disk full (simulated)")
        return original(grp, name, data, chunks=chunks)

    monkeypatch.setattr(module.BACKEND, "create", failing)
    fa = FlacArray.from_array(FLOATS)
    if kind == "hdf5":
        with h5py.File(tmp_path / "x.h5", "w") as hf:
            with pytest.raises(OSError, match="simulated"):
                fa.write_hdf5(hf)
            assert list(hf.keys()) == [] and len(hf.attrs) == 0
    else:
        grp = zarr.open_group(str(tmp_path / "x.zarr"), mode="w")
        with pytest.raises(OSError, match="simulated"):
            fa.write_zarr(grp)
        assert list(grp.keys()) == [] and len(grp.attrs) == 0


def test_write_parquet_overwrite_rules(tmp_path):
    path = tmp_path / "a.parquet"
    first, second = FlacArray.from_array(INTS), FlacArray.from_array(FLOATS)
    first.write_parquet(path)
    with pytest.raises(FileExistsError, match="already exists"):
        second.write_parquet(path)
    assert FlacArray.read_parquet(path) == first
    second.write_parquet(path, overwrite=True)
    assert FlacArray.read_parquet(path) == second
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), other)
    with pytest.raises(FileExistsError, match="no flacarray.flac column"):
        first.write_parquet(other, overwrite=True)
    assert pq.read_table(other)["x"].to_pylist() == [1, 2]
    text = tmp_path / "notes.txt"
    text.write_text("keep")
    with pytest.raises(FileExistsError, match="not a Parquet file"):
        flacarray.parquet.write_array(INTS, text, overwrite=True)
    assert text.read_text() == "keep"
    assert sorted(os.listdir(tmp_path)) == ["a.parquet", "notes.txt", "other.parquet"]


# ---- 3: files re-written from format 0 are format 1 for real ------------------


def test_format0_float64_rewritten_with_two_channel_streams(tmp_path, interop_dir):
    folder = interop_dir / "flacarray-0.2.4"
    with h5py.File(folder / "float64.h5", "r") as hf:
        fa = FlacArray.read_hdf5(hf)
    expected = np.load(folder / "float64.upstream_decoded.npy")
    np.testing.assert_array_equal(fa.to_array(), expected)
    column = fa.to_arrow()
    streams = column.storage.field(0)
    for i in range(len(streams)):
        assert _streaminfo_channels(streams[i].as_py()) == 2
    path = tmp_path / "x.parquet"
    fa.write_parquet(path)
    back = FlacArray.read_parquet(path)
    np.testing.assert_array_equal(back.to_array(), expected)
    for i in range(back.nstreams):
        start = back.stream_starts.ravel()[i]
        assert _streaminfo_channels(bytes(back.compressed[start : start + 42])) == 2


def _streaminfo_channels(stream: bytes) -> int:
    """Channel count from a FLAC stream's STREAMINFO, read independently."""
    assert stream[:4] == b"fLaC" and stream[4] & 0x7F == 0
    packed = int.from_bytes(stream[8 + 10 : 8 + 18], "big")
    return ((packed >> 41) & 0x7) + 1


# ---- 6: stream_size 0 is corrupt everywhere -----------------------------------


def _set_stream_size(kind, path, value):
    if kind == "h5":
        with h5py.File(path, "a") as hf:
            hf["stream_starts"].attrs["stream_size"] = value
    else:
        grp = zarr.open_group(str(path), mode="a")
        grp["stream_starts"].attrs["stream_size"] = value


def _read_all_ways(kind, path, keep=None):
    """Reads a damaged group with every reader that can read it."""
    if kind == "h5":
        with h5py.File(path, "r") as hf:
            yield lambda: FlacArray.read_hdf5(hf, keep=keep).to_array()
    else:
        group = zarr.open_group(str(path), mode="r")
        yield lambda: FlacArray.read_zarr(group, keep=keep).to_array()
        yield lambda: FlacArray.read_zarr(str(path), keep=keep).to_array()


@pytest.mark.parametrize("kind", ["h5", "zarr"])
@pytest.mark.parametrize(
    "value,message",
    [
        (0, "is 0: streams cannot be empty"),
        (-1, "holds -1, not a positive integer"),
        ("abc", 'holds "abc", not a positive integer'),
        ([5000], "holds [5000], not a positive integer"),
        (499, "499 samples"),
        ("500", 'holds "500", not a positive integer'),
    ],
)
def test_damaged_stream_size_is_corrupt_in_every_reader(tmp_path, kind, value, message):
    path = tmp_path / ("x.h5" if kind == "h5" else "x.zarr")
    fa = FlacArray.from_array(INTS)
    if kind == "h5":
        with h5py.File(path, "w") as hf:
            fa.write_hdf5(hf)
    else:
        fa.write_zarr(str(path))
    _set_stream_size(kind, path, value)
    for keep in (None, np.ones((3, 4), bool)):
        for read in _read_all_ways(kind, path, keep):
            with pytest.raises(CorruptDataError) as info:
                read()
            assert message in str(info.value)


def test_integral_float_stream_size_accepted_by_every_reader(tmp_path):
    fa = FlacArray.from_array(INTS)
    for kind, path in (("h5", tmp_path / "x.h5"), ("zarr", tmp_path / "x.zarr")):
        if kind == "h5":
            with h5py.File(path, "w") as hf:
                fa.write_hdf5(hf)
        else:
            fa.write_zarr(str(path))
        _set_stream_size(kind, path, 500.0)
        for read in _read_all_ways(kind, path):
            np.testing.assert_array_equal(read(), INTS)


def _layout1_metadata(dtype, stream_size, leading_shape):
    """Type metadata as this package wrote it before layout 2."""
    wide = dtype in ("int64", "float64")
    return {
        "format": 1,
        "dtype": dtype,
        "stream_size": stream_size,
        "leading_shape": leading_shape,
        "channels": 2 if wide else 1,
        "level": 5,
    }


def test_parquet_stream_size_zero_is_corrupt(tmp_path):
    fa = FlacArray.from_array(INTS)
    table = pa.table({"flac": fa.to_arrow()})
    meta = _layout1_metadata("int32", 500, [3, 4])
    for size in (0, 135_460_845):
        meta["stream_size"] = size
        path = tmp_path / f"s{size}.parquet"
        _write_with_metadata(table, meta, path)
        for keep in (None, np.ones((3, 4), bool)):
            with pytest.raises(CorruptDataError):
                FlacArray.read_parquet(path, keep=keep).to_array()


def _write_with_metadata(table, meta, path):
    """Writes `table` with its flacarray.flac metadata replaced (as a damaged
    or hostile writer would), bypassing our own validation."""
    field = table.schema.field("flac")
    storage_field = pa.field("flac", field.type.storage_type).with_metadata(
        {
            b"ARROW:extension:name": b"flacarray.flac",
            b"ARROW:extension:metadata": json.dumps(meta).encode(),
        }
    )
    storage = table.column("flac").combine_chunks().storage
    pq.write_table(pa.Table.from_arrays([storage], schema=pa.schema([storage_field])), path)


# ---- 7, 8: steps and gains that cannot decode ----------------------------------


@pytest.mark.parametrize("quanta", [3.5e38, 1e40, 1e45, 1e46, 1e-46, float("inf")])
def test_float32_quanta_out_of_range_is_an_error(quanta):
    data = FLOATS.astype(np.float32)
    with pytest.raises(ValueError, match="float32 steps lie between"):
        FlacArray.from_array(data, quanta=quanta)


def test_float32_large_valid_quanta_decodes_finite():
    data = (FLOATS * 1e30).astype(np.float32)
    out = FlacArray.from_array(data, quanta=1e30).to_array()
    assert np.all(np.isfinite(out))
    assert np.max(np.abs(out - data)) <= 0.5e30 * (1 + 1e-6) + np.max(np.abs(data)) * 2e-7


UNUSABLE_GAINS = [
    (dtype, gain)
    for dtype in ("float32", "float64")
    for gain in (-3.0, 0.0, 1e-320, np.nan, np.inf)
] + [("float32", 1e-39)]  # normal in float64, denormal once stored as float32


@pytest.mark.parametrize("dtype,gain", UNUSABLE_GAINS)
def test_unusable_gain_in_a_file_is_corrupt(tmp_path, gain, dtype):
    fa = FlacArray.from_array(FLOATS.astype(dtype))
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as hf:
        fa.write_hdf5(hf)
        gains = hf["stream_gains"][...]
        gains[1, 2] = gain
        hf["stream_gains"][...] = gains
    with h5py.File(path, "r") as hf, pytest.raises(CorruptDataError, match="digest"):
        FlacArray.read_hdf5(hf)
    # without the digest (as the reference writes groups) the value itself
    # is refused
    with h5py.File(path, "a") as hf:
        del hf.attrs["flacarray_digest"]
    with h5py.File(path, "r") as hf, pytest.raises(CorruptDataError, match="offset/gain"):
        FlacArray.read_hdf5(hf)


@pytest.mark.parametrize("precision", [309, 400, -309, -400])
def test_extreme_precision_is_an_error(precision):
    with pytest.raises(ValueError, match="precision"):
        FlacArray.from_array(FLOATS, precision=precision)


def test_denormal_streams_are_refused_by_the_default_step():
    """Issue 22, item 9: values too close together for the default 2^30
    (2^24) steps are refused with the remedy named, not collapsed onto a
    few levels; a constant -0.0 stream comes back -0.0."""
    rng = np.random.default_rng(3)
    data = rng.uniform(1e-310, 3e-310, size=(2, 1000))
    with pytest.raises(ValueError, match="stream 0: values span only .* pass quanta"):
        FlacArray.from_array(data)
    tiny32 = rng.uniform(1e-37, 2e-37, size=(2, 1000)).astype(np.float32)
    with pytest.raises(ValueError, match="smallest usable float32 step"):
        FlacArray.from_array(tiny32)
    with pytest.raises(ValueError, match=r"standard deviation 5\.\d+e-311"):
        FlacArray.from_array(data, precision=3)
    for dtype in (np.float32, np.float64):
        back = FlacArray.from_array(np.full((2, 30), -0.0, dtype)).to_array()
        assert np.all(np.signbit(back))


# ---- 9, 10, 13: inputs and views -------------------------------------------------


def test_masked_arrays_are_refused():
    masked = np.ma.masked_array(FLOATS, mask=FLOATS > 10)
    with pytest.raises(TypeError, match="masked arrays are not supported"):
        FlacArray.from_array(masked)


def test_properties_are_read_only():
    fa = FlacArray.from_array(FLOATS)
    before = fa.to_array()
    for name in ("compressed", "stream_starts", "stream_nbytes", "stream_offsets", "stream_gains"):
        view = getattr(fa, name)
        with pytest.raises(ValueError, match="read-only"):
            view[...] = 0
    np.testing.assert_array_equal(fa.to_array(), before)


def test_constructor_copies_caller_buffers():
    fa = FlacArray.from_array(INTS)
    compressed = fa.compressed.copy()
    copy = FlacArray(
        dtype="int32",
        shape=fa.shape,
        compressed=compressed,
        stream_starts=fa.stream_starts,
        stream_nbytes=fa.stream_nbytes,
    )
    compressed[:] = 0
    np.testing.assert_array_equal(copy.to_array(), INTS)


@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "float64"])
@pytest.mark.parametrize("order", ["<", ">"])
def test_either_byte_order_is_accepted(dtype, order):
    data = make_data(dtype, (3, 700), seed=4)
    swapped = data.astype(np.dtype(dtype).newbyteorder(order))
    fa = FlacArray.from_array(swapped, quanta=1e-3 if dtype.startswith("float") else None)
    ref = FlacArray.from_array(data, quanta=1e-3 if dtype.startswith("float") else None)
    assert fa == ref
    assert fa.to_array().dtype == np.dtype(dtype)


# ---- 11, 12, 14, 16: allocations sized by claims ----------------------------------


def test_impossible_output_is_a_memory_error():
    # one real stream, repeated 2^16 times by its starts: an honest array of
    # 2^16 x 2^24 int64 samples (8 PiB) that numpy cannot allocate
    fa = FlacArray.from_array(np.zeros(2**24, dtype=np.int64))
    n = 2**16
    big = FlacArray(
        dtype="int64",
        shape=(n, 2**24),
        compressed=fa.compressed,
        stream_starts=np.zeros(n, np.int64),
        stream_nbytes=np.full(n, fa.nbytes, np.int64),
    )
    with pytest.raises(MemoryError):
        big.to_array()
    assert big[5, 100:110].tolist() == [0] * 10


def test_short_gains_in_a_zarr_path_are_corrupt(tmp_path):
    path = tmp_path / "x.zarr"
    FlacArray.from_array(FLOATS).write_zarr(str(path))
    grp = zarr.open_group(str(path), mode="a")
    gains = grp["stream_gains"][...]
    del grp["stream_gains"]
    grp.create_array("stream_gains", data=gains[:2])
    for read in _read_all_ways("zarr", path, None):
        with pytest.raises(CorruptDataError, match="stream_gains"):
            read()
    for read in _read_all_ways("zarr", path, np.ones((3, 4), bool)):
        with pytest.raises(CorruptDataError, match="stream_gains"):
            read()


def _claim_bytes(path, size):
    meta_path = path / "compressed" / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["shape"] = [size]
    meta_path.write_text(json.dumps(meta))


CLAIM_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import zarr, h5py
    from flacarray import FlacArray, CorruptDataError
    kind, path = sys.argv[1], sys.argv[2]
    try:
        if kind == "zarr-path":
            FlacArray.read_zarr(path)
        elif kind == "zarr":
            FlacArray.read_zarr(zarr.open_group(path, mode="r"))
        else:
            with h5py.File(path, "r") as hf:
                FlacArray.read_hdf5(hf)
        print("no error")
    except CorruptDataError as err:
        print("corrupt:", err)
    # VmHWM, not ru_maxrss: the latter keeps the parent's peak across exec
    print(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])
    """
)


def _run_claim(kind, path):
    lines = run_child(CLAIM_SCRIPT, kind, path, timeout=300).stdout.strip().splitlines()
    return lines[0], int(lines[-1]) * 1024


def _assert_refused_small(kind, path):
    """Reading `path` (as `kind`, in a child process) is refused as corrupt,
    naming `compressed`, without the child growing past 400 MiB."""
    outcome, rss = _run_claim(kind, path)
    assert outcome.startswith("corrupt:") and "compressed" in outcome, outcome
    assert rss < 400 * 2**20, f"{kind}: {rss / 2**20:.0f} MiB"


@pytest.mark.parametrize("claim", [2**40, 2**32])
def test_zarr_size_claims_are_checked_before_allocating(tmp_path, claim):
    path = tmp_path / "x.zarr"
    FlacArray.from_array(INTS).write_zarr(str(path))
    _claim_bytes(path, claim)
    for kind in ("zarr-path", "zarr"):
        _assert_refused_small(kind, path)


def test_hdf5_size_claims_are_checked_before_allocating(tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as hf:
        FlacArray.from_array(INTS).write_hdf5(hf)
        del hf["compressed"]
        hf.create_dataset("compressed", shape=(4 * 2**30,), dtype=np.uint8, chunks=(2**20,))
    assert path.stat().st_size < 100_000
    _assert_refused_small("h5", path)


def test_overflowing_starts_are_corrupt(tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as hf:
        FlacArray.from_array(INTS).write_hdf5(hf)
        starts = hf["stream_starts"][...]
        starts[0, 0] = np.iinfo(np.int64).max - 10
        hf["stream_starts"][...] = starts
    with h5py.File(path, "r") as hf, pytest.raises(CorruptDataError, match="claims bytes"):
        FlacArray.read_hdf5(hf)


def test_arrow_metadata_claims_are_checked_against_the_streams():
    fa = FlacArray.from_array(INTS)
    column = fa.to_arrow()
    meta = _layout1_metadata("int32", 135_460_845, [3, 4])
    forged = pa.ExtensionArray.from_storage(type(column.type)(meta), column.storage)
    with pytest.raises(CorruptDataError, match="135460845 samples"):
        FlacArray.from_arrow(forged)


# ---- 17, 18, 19: consistent errors, helpers, level --------------------------------


def test_truncated_parquet_with_keep_is_corrupt(tmp_path):
    path = tmp_path / "x.parquet"
    FlacArray.from_array(INTS).write_parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    for keep in (None, np.ones((3, 4), bool)):
        with pytest.raises(CorruptDataError, match="parquet"):
            FlacArray.read_parquet(path, keep=keep)


def test_helpers_take_the_same_arguments_everywhere(tmp_path):
    keep = np.zeros((3, 4), bool)
    keep[1, 2] = True
    for module, target in (
        (flacarray.zarr, str(tmp_path / "a.zarr")),
        (flacarray.parquet, tmp_path / "a.parquet"),
    ):
        module.write_array(INTS, target, level=3, use_threads=False)
        out, idx = module.read_array(
            target, keep=keep, stream_slice=slice(10, 20), keep_indices=True, use_threads=False
        )
        np.testing.assert_array_equal(out, INTS[1:2, 2, 10:20])
        assert idx == [(1, 2)]
        with pytest.raises(FileExistsError):
            module.write_array(INTS, target)
        module.write_array(FLOATS, target, overwrite=True)
    with h5py.File(tmp_path / "a.h5", "w") as hf:
        flacarray.hdf5.write_array(INTS, hf, level=3, use_threads=False)
        out = flacarray.hdf5.read_array(hf, keep=keep, use_threads=False)
        np.testing.assert_array_equal(out, INTS[1:2, 2])


def test_level_is_carried_into_every_container(tmp_path):
    fa = FlacArray.from_array(INTS, level=8)
    assert fa.level == 8
    assert fa.to_arrow_table().schema.field(0).metadata[b"flacarray.level"] == b"8"
    fa.write_parquet(tmp_path / "a.parquet")
    assert pq.read_schema(tmp_path / "a.parquet").field("flac").metadata[b"flacarray.level"] == b"8"
    assert FlacArray.read_parquet(tmp_path / "a.parquet").level == 8
    fa.write_zarr(str(tmp_path / "a.zarr"))
    assert zarr.open_group(str(tmp_path / "a.zarr"), mode="r").attrs["flacarray_level"] == 8
    assert FlacArray.read_zarr(str(tmp_path / "a.zarr")).level == 8
    with h5py.File(tmp_path / "a.h5", "w") as hf:
        fa.write_hdf5(hf)
    with h5py.File(tmp_path / "a.h5", "r") as hf:
        assert FlacArray.read_hdf5(hf).level == 8


def test_missing_files_are_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        FlacArray.read_parquet(tmp_path / "missing.parquet")
    with pytest.raises(FileNotFoundError):
        FlacArray.from_array(INTS).write_parquet(tmp_path / "no" / "dir" / "x.parquet")
