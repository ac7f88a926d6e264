"""Moving a compressed array's parts in and out of a zarr group: a
zarr-python group, or a filesystem path read and written by the Rust core
(zarrs). The byte-moving half of `flacarray.zarr`; it never builds a
FlacArray."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from . import _core, io_common
from .selection import keep_mask

if TYPE_CHECKING:
    from .array import FlacArray

#: Every chunk is stored, even one holding only the fill value, so that a
#: missing chunk always means damage.
_ARRAY_CONFIG = {"write_empty_chunks": True}


class _ZarrBackend(io_common.Backend):
    name = "zarr"

    def check_group(self, grp: Any) -> None:
        check_group(grp)

    def create(self, grp: Any, name: str, data: np.ndarray, *, chunks: tuple[int, ...]) -> Any:
        data = np.asarray(data)
        # FLAC bytes do not compress further, and the small per-stream arrays
        # gain nothing either: store everything raw (readable by any zarr v3
        # implementation, with no codec plugins).
        return grp.create_array(
            name,
            data=data,
            chunks=chunks,
            compressors=None,
            config=_ARRAY_CONFIG,
        )

    def create_empty(
        self, grp: Any, name: str, shape: tuple[int, ...], dtype: Any, *, chunks: tuple[int, ...]
    ) -> Any:
        return grp.create_array(
            name,
            shape=shape,
            dtype=dtype,
            chunks=chunks,
            compressors=None,
            config=_ARRAY_CONFIG,
        )

    def array_names(self, grp: Any) -> list[str]:
        return list(grp.array_keys())

    def move(self, grp: Any, source: str, dest: str) -> None:
        _move_array(grp, source, dest)

    def delete(self, grp: Any, name: str) -> None:
        # by prefix in the store: a staged array killed before its metadata
        # was written is no zarr node, but its chunks are still ours
        from zarr.core.sync import sync

        prefix = f"{grp.path}/" if grp.path else ""
        sync(grp.store.delete_dir(prefix + name))

    def staged_leftovers(self, grp: Any) -> list[str]:
        from zarr.core.sync import sync

        prefix = f"{grp.path}/" if grp.path else ""

        async def listed() -> list[str]:
            return [name async for name in grp.store.list_dir(prefix)]

        return [n for n in sync(listed()) if n.startswith(io_common.STAGED_PREFIX)]

    def info(self, name: str, dataset: Any) -> dict[str, Any]:
        info: dict[str, Any] = {
            "shape": [int(d) for d in dataset.shape],
            "dtype": io_common.dtype_name(dataset.dtype),
            "stored_bytes": int(dataset.nbytes_stored()),
            "chunk_elements": int(np.prod(dataset.chunks, dtype=np.int64)),
            "chunk_count": int(dataset.nchunks),
        }
        # Listing the chunks is only worth it when their count is plausible
        # (each stored chunk takes a byte); the core decides either way.
        if info["chunk_count"] <= info["stored_bytes"]:
            info["missing_chunks"] = info["chunk_count"] - int(dataset.nchunks_initialized)
        return info


def _move_array(grp: Any, source: str, dest: str) -> None:
    """Renames array `source` of a zarr-python group to `dest` (absent):
    one directory rename in a local store; elsewhere every key is copied,
    then the source removed (a copy cut short leaves the source, which a
    commit record still points at)."""
    import zarr
    from zarr.core.sync import sync

    store = grp.store
    prefix = f"{grp.path}/" if grp.path else ""
    if isinstance(store, zarr.storage.LocalStore):
        root = os.fspath(store.root)
        os.rename(os.path.join(root, prefix + source), os.path.join(root, prefix + dest))
        return

    async def copy() -> None:
        from zarr.core.buffer import default_buffer_prototype

        await store.delete_dir(prefix + dest)
        async for key in store.list_prefix(prefix + source + "/"):
            value = await store.get(key, prototype=default_buffer_prototype())
            if value is not None:
                await store.set(prefix + dest + key[len(prefix + source) :], value)
        await store.delete_dir(prefix + source)

    sync(copy())


BACKEND = _ZarrBackend()


def is_path(target: object) -> bool:
    return isinstance(target, str | os.PathLike)


def check_group(zgrp: object) -> None:
    import zarr

    if not isinstance(zgrp, zarr.Group):
        raise TypeError(f"expected a zarr Group or a path, got {type(zgrp).__name__}")


def write(zgrp: Any, fa: FlacArray, overwrite: bool = False) -> None:
    """Writes `fa` into a zarr group or path (format 1); see
    `FlacArray.write_zarr`. A distributed array is written through rank 0
    with zarr-python (`zgrp` may be None on the other ranks)."""
    if fa.mpi_comm is not None:
        _write_distributed(zgrp, fa, overwrite)
        return
    if is_path(zgrp):
        _core.write_zarr(os.fspath(zgrp), fa._core_parts(), overwrite)
        return
    check_group(zgrp)
    io_common.write_group(BACKEND, zgrp, fa, overwrite=overwrite)


def distributed_source(zgrp: Any, comm: Any) -> Any:
    """What rank 0 reads a distributed array from: the group, or for a path
    a function opening it with zarr-python (called inside the collective
    error handling, so a missing path is an error on every rank)."""
    if comm.rank != 0 or not is_path(zgrp):
        return zgrp

    def open_group() -> Any:
        import zarr

        return zarr.open_group(os.fspath(zgrp), mode="r")

    return open_group


def _write_distributed(zgrp: Any, fa: FlacArray, overwrite: bool) -> None:
    """Rank 0 opens (a path) the target; every rank learns of a failure;
    then the collective write through rank 0."""
    from . import io_mpi, mpi

    group = zgrp
    error: BaseException | None = None
    if fa.mpi_comm.rank == 0 and is_path(zgrp):
        try:
            import zarr

            path = os.fspath(zgrp)
            if not os.path.exists(path):
                group = zarr.open_group(path, mode="w-")
            elif overwrite:
                group = zarr.open_group(path, mode="r+")  # checked as a group below
            else:
                raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it")
        except (OSError, TypeError, ValueError) as err:
            error = err
    mpi.raise_everywhere(fa.mpi_comm, error)
    io_mpi.write_gathered(BACKEND, group, fa, overwrite=overwrite)


def read(
    zgrp: Any, keep: npt.ArrayLike | None = None
) -> tuple[_core.ArrayParts, np.ndarray | None]:
    """The parts of the array in a zarr group or path (format 0 or 1),
    reading only the chunks of the kept streams, and the keep mask as
    checked."""
    if is_path(zgrp):
        mask = None if keep is None else keep_mask(keep)
        return _core.read_zarr(os.fspath(zgrp), mask), mask
    check_group(zgrp)
    return io_common.read_group(BACKEND, zgrp, keep=keep)


@contextmanager
def opened(path: str) -> Iterator[Any]:
    """The zarr group at `path`, open for reading with zarr-python."""
    import zarr

    yield zarr.open_group(path, mode="r")


def is_parallel(zgrp: Any, comm: Any) -> bool:
    """Distributed zarr I/O always goes through rank 0."""
    return False
