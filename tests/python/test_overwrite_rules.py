"""What an overwrite may replace, and how a group overwrite is committed
(issue 22, items 2-4): the new arrays are staged, a commit record makes
them the group's, and a swap cut short is completed by every reader and by
the next write; members that only share a format array's name and columns
of other writers are never deleted."""

import h5py
import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest
import zarr
from targets import write_kind

import flacarray
from flacarray import FlacArray, _hdf5_group, _zarr_group

OLD = FlacArray.from_array(np.arange(4 * 500, dtype=np.int32).reshape(4, 500))
NEW = FlacArray.from_array(np.linspace(0, 1, 3 * 700).reshape(3, 700), quanta=1e-5)


def open_group(kind, path, mode):
    if kind == "hdf5":
        handle = h5py.File(path, mode)
        return handle, handle
    group = zarr.open_group(str(path), mode=mode)
    return group, None


def read(kind, path):
    if kind == "hdf5":
        with h5py.File(path, "r") as hf:
            return FlacArray.read_hdf5(hf)
    return FlacArray.read_zarr(zarr.open_group(str(path), mode="r"))


def group_holding_old(tmp_path, kind):
    """A new group holding OLD: its path, the open group, the file handle
    to close (HDF5) and the backend that writes it."""
    path = tmp_path / ("g.h5" if kind == "hdf5" else "g.zarr")
    group, handle = open_group(kind, path, "w")
    write_kind(kind, group, OLD)
    backend = _hdf5_group.BACKEND if kind == "hdf5" else _zarr_group.BACKEND
    return path, group, handle, backend


@pytest.mark.parametrize("kind", ["hdf5", "zarr"])
def test_a_swap_cut_short_is_completed_by_readers_and_the_next_write(tmp_path, kind, monkeypatch):
    path, group, handle, backend = group_holding_old(tmp_path, kind)
    original = type(backend).move
    moves = []

    def failing_move(self, grp, source, dest):
        if moves:  # the second rename fails: half the arrays swapped
            raise OSError("disk gone")
        moves.append(dest)
        original(self, grp, source, dest)

    monkeypatch.setattr(type(backend), "move", failing_move)
    with pytest.raises(OSError, match="disk gone"):
        write_kind(kind, group, NEW, overwrite=True)
    monkeypatch.setattr(type(backend), "move", original)
    if handle is not None:
        handle.close()
    # committed: every reader sees the new array (zarr-python, and zarrs)
    assert read(kind, path) == NEW
    if kind == "zarr":
        assert FlacArray.read_zarr(str(path)) == NEW
    # the next write finishes the swap first, then writes
    group, handle = open_group(kind, path, "a" if kind == "hdf5" else "r+")
    write_kind(kind, group, OLD, overwrite=True)
    names = sorted(group.keys())
    assert names == ["compressed", "stream_bytes", "stream_starts"], names
    assert flacarray.io_common.COMMIT_ATTRIBUTE not in group.attrs
    if handle is not None:
        handle.close()
    assert read(kind, path) == OLD


@pytest.mark.parametrize("kind", ["hdf5", "zarr"])
def test_a_write_failing_before_its_commit_leaves_the_old_array(tmp_path, kind, monkeypatch):
    path, group, handle, backend = group_holding_old(tmp_path, kind)
    original = type(backend).create
    made = []

    def failing_create(self, grp, name, data, *, chunks):
        if len(made) == 2:
            raise OSError("no space left on device")
        made.append(name)
        return original(self, grp, name, data, chunks=chunks)

    monkeypatch.setattr(type(backend), "create", failing_create)
    with pytest.raises(OSError, match="no space"):
        write_kind(kind, group, NEW, overwrite=True)
    assert sorted(group.keys()) == ["compressed", "stream_bytes", "stream_starts"]
    if handle is not None:
        handle.close()
    assert read(kind, path) == OLD


@pytest.mark.parametrize("kind", ["hdf5", "zarr"])
def test_foreign_members_with_format_names_are_never_replaced(tmp_path, kind):
    path = tmp_path / ("g.h5" if kind == "hdf5" else "g.zarr")
    group, handle = open_group(kind, path, "w")
    write_kind(kind, group, NEW)
    # a user's subgroup that happens to be called stream_offsets... after
    # an integer array replaced the float one, say
    write_kind(kind, group, OLD, overwrite=True)
    sub = group.create_group("stream_offsets")
    sub.attrs["mine"] = 1
    with pytest.raises(FileExistsError, match="'stream_offsets'.*not an array of ours"):
        write_kind(kind, group, NEW, overwrite=True)
    assert group["stream_offsets"].attrs["mine"] == 1
    if handle is not None:
        handle.close()
    assert read(kind, path) == OLD
    if kind == "zarr":
        with pytest.raises(FileExistsError, match="stream_offsets"):
            NEW.write_zarr(str(path), overwrite=True)  # the Rust core's rule too


def test_parquet_overwrite_refuses_other_columns(tmp_path):
    path = tmp_path / "p.parquet"
    frame = pl.DataFrame({"det": ["a", "b"], "signal": [[1.0, 2.0], [3.0, 4.5]], "q": [1e-3, 1e-3]})
    frame.with_columns(pl.col("signal").flac.compress(quanta="q")).write_parquet(path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="'det', 'q'"):
        OLD.write_parquet(path, overwrite=True)
    assert path.read_bytes() == before
    assert pq.read_table(path).column_names == ["det", "signal", "q"]
    OLD.write_parquet(tmp_path / "ours.parquet")
    NEW.write_parquet(tmp_path / "ours.parquet", overwrite=True)  # one flac column: ours
    assert FlacArray.read_parquet(tmp_path / "ours.parquet") == NEW
