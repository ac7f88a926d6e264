"""Zarr storage of compressed arrays, and direct numpy <-> zarr I/O (the
functions of the reference package's `flacarray.zarr`).

A target is a zarr-python 3 group (`zarr.open_group(...)`) or a filesystem
path, which the Rust core (zarrs) reads and writes without zarr-python.

>>> import numpy as np, tempfile, os
>>> import flacarray.zarr
>>> arr = np.linspace(0, 1, 60).reshape(3, 20)
>>> path = os.path.join(tempfile.mkdtemp(), "data.zarr")
>>> flacarray.zarr.write_array(arr, path, quanta=1e-6)
>>> out = flacarray.zarr.read_array(path, stream_slice=slice(5, 8))
>>> out.shape, bool(abs(out - arr[:, 5:8]).max() <= 0.5e-6)
((3, 3), True)
"""

from __future__ import annotations

import importlib.util
from typing import Any, Literal, overload

import numpy.typing as npt

from . import _zarr_group, io_common
from ._core import BYTES_CHUNK as BYTES_CHUNK
from ._types import KeepMask, KeptIndices, Samples, Steps, ZarrTarget
from .array import FlacArray
from .containers import ZARR

#: Whether zarr-python is installed (checked without importing it).
have_zarr = importlib.util.find_spec("zarr") is not None


class ZarrGroup:
    """A zarr group opened for an MPI job (the reference's
    `flacarray.zarr.ZarrGroup`): opened with zarr-python on rank 0 (or
    without a communicator); other ranks hold None. As a context manager
    it gives that group (or None)."""

    def __init__(self, name: str, mode: str, comm: Any = None) -> None:
        self.handle: Any = None
        if comm is None or comm.rank == 0:
            import zarr

            self.handle = zarr.open_group(name, mode=mode)  # type: ignore[arg-type]
        if comm is not None:
            comm.barrier()

    def close(self) -> None:
        """Drops the group (zarr-python writes as it goes)."""
        self.handle = None

    def __enter__(self) -> Any:
        return self.handle

    def __exit__(self, *args: object) -> None:
        self.close()


def write_compressed(zgrp: ZarrTarget, fa: FlacArray, overwrite: bool = False) -> None:
    """Writes a FlacArray into a zarr group (format 1). `zgrp` is a
    zarr-python group, or a filesystem path where the Rust core (zarrs)
    writes the group atomically (beside the path, then renamed into place).

    An existing non-empty target is refused (FileExistsError) unless
    `overwrite`; then only a flacarray group is replaced: at a path, one
    holding nothing but its own arrays; in a zarr-python group, only its
    flacarray arrays and attributes."""
    ZARR.write(fa, zgrp, overwrite=overwrite)


def read_compressed(zgrp: ZarrTarget, keep: KeepMask | None = None) -> FlacArray:
    """Reads a FlacArray from a zarr group (or a path, read by the Rust
    core) written in format 0 or 1; with `keep` only the chunks holding the
    kept streams are read."""
    return FlacArray.read_zarr(zgrp, keep=keep)


def write_array(
    arr: npt.ArrayLike,
    zgrp: ZarrTarget,
    level: int = 5,
    quanta: Steps | None = None,
    precision: Steps | None = None,
    use_threads: bool | None = None,
    overwrite: bool = False,
    mpi_comm: Any = None,
) -> None:
    """Compresses a numpy array and writes it into a zarr group or path.
    With `mpi_comm`, `arr` is this rank's part (see `FlacArray.from_array`,
    also for the `use_threads` default) and only rank 0's `zgrp` is used
    (others may pass None)."""
    if mpi_comm is None and not _zarr_group.is_path(zgrp):
        _zarr_group.check_group(zgrp)
    fa = FlacArray.from_array(
        arr,
        level=level,
        quanta=quanta,
        precision=precision,
        use_threads=use_threads,
        mpi_comm=mpi_comm,
    )
    write_compressed(zgrp, fa, overwrite=overwrite)


@overload
def read_array(
    zgrp: ZarrTarget,
    keep: KeepMask | None = None,
    stream_slice: slice | None = None,
    keep_indices: Literal[False] = False,
    use_threads: bool = True,
    mpi_comm: Any = None,
    mpi_dist: list[tuple[int, int]] | None = None,
    no_flatten: bool = False,
) -> Samples: ...


@overload
def read_array(
    zgrp: ZarrTarget,
    keep: KeepMask | None = None,
    stream_slice: slice | None = None,
    *,
    keep_indices: Literal[True],
    use_threads: bool = True,
    mpi_comm: Any = None,
    mpi_dist: list[tuple[int, int]] | None = None,
    no_flatten: bool = False,
) -> tuple[Samples, KeptIndices]: ...


def read_array(
    zgrp: ZarrTarget,
    keep: KeepMask | None = None,
    stream_slice: slice | None = None,
    keep_indices: bool = False,
    use_threads: bool = True,
    mpi_comm: Any = None,
    mpi_dist: list[tuple[int, int]] | None = None,
    no_flatten: bool = False,
) -> Samples | tuple[Samples, KeptIndices]:
    """Reads and decompresses an array from a zarr group or path (see
    `flacarray.hdf5.read_array` for the arguments)."""
    read = ZARR.read(zgrp, keep=keep, mpi_comm=mpi_comm, mpi_dist=mpi_dist)
    fa, mask = FlacArray.from_read(read, no_flatten), read.mask
    return io_common.decoded(fa, mask, stream_slice, keep_indices, use_threads)
