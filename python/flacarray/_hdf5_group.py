"""Moving a compressed array's parts in and out of an h5py group (the
byte-moving half of `flacarray.hdf5`; it never builds a FlacArray)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from . import _core, io_common

if TYPE_CHECKING:
    from .array import FlacArray


class _H5Backend(io_common.Backend):
    name = "HDF5"
    can_move = True

    def check_group(self, grp: Any) -> None:
        check_group(grp)

    def create(self, grp: Any, name: str, data: np.ndarray, *, chunks: tuple[int, ...]) -> Any:
        # contiguous, as the reference writes its datasets
        return grp.create_dataset(name, data=np.asarray(data))

    def array_names(self, grp: Any) -> list[str]:
        import h5py

        names = []
        for name in grp.keys():
            try:
                kind = grp.get(name, getclass=True)
            except (KeyError, OSError):  # a dangling link is no array
                continue
            if kind is h5py.Dataset:
                names.append(name)
        return names

    def flush(self, grp: Any) -> None:
        grp.file.flush()

    def create_empty(
        self, grp: Any, name: str, shape: tuple[int, ...], dtype: Any, *, chunks: tuple[int, ...]
    ) -> Any:
        return grp.create_dataset(name, shape=shape, dtype=dtype)

    def move(self, grp: Any, source: str, dest: str) -> None:
        grp.move(source, dest)

    def write_slab(self, dataset: Any, selection: slice, data: np.ndarray) -> None:
        # A collective write: every rank of the file's communicator takes
        # part, a rank without streams too (h5py skips an empty selection,
        # so it writes nothing through the low-level call itself).
        if data.size:
            with dataset.collective:
                dataset[selection] = data
            return
        import h5py

        transfer = h5py.h5p.create(h5py.h5p.DATASET_XFER)
        transfer.set_dxpl_mpio(h5py.h5fd.MPIO_COLLECTIVE)
        file_space = dataset.id.get_space()
        file_space.select_none()
        memory_space = h5py.h5s.create_simple((1,))
        memory_space.select_none()
        nothing = np.zeros(1, dtype=dataset.dtype)
        dataset.id.write(memory_space, file_space, nothing, dxpl=transfer)

    def info(self, name: str, dataset: Any) -> dict[str, Any]:
        shape = [int(d) for d in dataset.shape]
        info: dict[str, Any] = {"shape": shape, "dtype": io_common.dtype_name(dataset.dtype)}
        info["stored_bytes"] = int(dataset.id.get_storage_size())
        if dataset.chunks is not None:
            info["chunk_elements"] = int(np.prod(dataset.chunks, dtype=np.int64))
            grid = [-(-d // c) for d, c in zip(shape, dataset.chunks, strict=True)]
            info["chunk_count"] = int(np.prod(grid, dtype=np.int64))
            if info["chunk_count"] <= info["stored_bytes"]:
                stored = int(dataset.id.get_num_chunks())
                info["missing_chunks"] = max(0, info["chunk_count"] - stored)
        return info


BACKEND = _H5Backend()


def check_group(hgrp: object) -> None:
    import h5py

    if not isinstance(hgrp, h5py.Group):
        raise TypeError(f"expected an h5py Group or File, got {type(hgrp).__name__}")


def write(hgrp: Any, fa: FlacArray, overwrite: bool = False) -> None:
    """Writes `fa` into an h5py group (format 1); see `FlacArray.write_hdf5`.
    A distributed array is written by every rank with parallel HDF5 when
    the group is open with the `mpio` driver on every rank, else through
    rank 0 (`hgrp` may then be None on the other ranks)."""
    if fa.mpi_comm is not None:
        from . import io_mpi

        if is_parallel(hgrp, fa.mpi_comm):
            io_mpi.write_parallel(BACKEND, hgrp, fa, overwrite=overwrite)
        else:
            io_mpi.write_gathered(BACKEND, hgrp, fa, overwrite=overwrite)
        return
    check_group(hgrp)
    io_common.write_group(BACKEND, hgrp, fa, overwrite=overwrite)


@contextmanager
def opened(path: str) -> Iterator[Any]:
    """The root group of the HDF5 file at `path`, open for reading."""
    import h5py

    with h5py.File(path, "r") as hf:
        yield hf


def is_parallel(hgrp: Any, comm: Any) -> bool:
    """Whether every rank of `comm` holds the group in a file open with the
    `mpio` driver (collective: every rank must call it). A group that is
    not an h5py group is left to the checks of the gathered path."""
    try:
        mine = hgrp is not None and hgrp.file.driver == "mpio"
    except AttributeError:
        mine = False
    return bool(comm.allreduce(int(mine)) == comm.size)


def distributed_source(hgrp: Any, comm: Any) -> Any:
    """What a rank reads a distributed array from: a function checking and
    returning the group (called inside the collective error handling, so a
    wrong argument is an error on every rank)."""

    def checked() -> Any:
        if hgrp is not None:
            check_group(hgrp)
        return hgrp

    return checked


def read(
    hgrp: Any, keep: npt.ArrayLike | None = None
) -> tuple[_core.ArrayParts, np.ndarray | None]:
    """The parts of the array in an h5py group (format 0 or 1), reading only
    the kept streams' bytes, and the keep mask as checked."""
    check_group(hgrp)
    return io_common.read_group(BACKEND, hgrp, keep=keep)
