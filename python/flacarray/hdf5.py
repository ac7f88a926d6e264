"""HDF5 (h5py) storage of compressed arrays, and direct numpy <-> HDF5 I/O
(the functions of the reference package's `flacarray.hdf5`).

>>> import h5py, numpy as np, tempfile, os
>>> import flacarray.hdf5
>>> arr = np.arange(40, dtype=np.int32).reshape(4, 10)
>>> path = os.path.join(tempfile.mkdtemp(), "data.h5")
>>> with h5py.File(path, "w") as hf:
...     flacarray.hdf5.write_array(arr, hf)
>>> with h5py.File(path, "r") as hf:
...     part = flacarray.hdf5.read_array(hf, keep=np.array([True, False, True, False]))
>>> part.tolist()[1][:3]
[20, 21, 22]
"""

from __future__ import annotations

from typing import Any, Literal, overload

import numpy.typing as npt

from . import _hdf5_group, io_common
from ._types import H5Group, KeepMask, KeptIndices, Samples, Steps
from .array import FlacArray
from .containers import HDF5


def write_compressed(hgrp: H5Group, fa: FlacArray, overwrite: bool = False) -> None:
    """Writes a FlacArray into an h5py group (format 1). A group that
    already holds members is refused (FileExistsError) unless `overwrite`;
    then only a flacarray group's own datasets and attributes are replaced."""
    HDF5.write(fa, hgrp, overwrite=overwrite)


def read_compressed(hgrp: H5Group, keep: KeepMask | None = None) -> FlacArray:
    """Reads a FlacArray from an h5py group written in format 0 or 1; with
    `keep` only the kept streams' bytes are read from the file."""
    return FlacArray.read_hdf5(hgrp, keep=keep)


def write_array(
    arr: npt.ArrayLike,
    hgrp: H5Group,
    level: int = 5,
    quanta: Steps | None = None,
    precision: Steps | None = None,
    use_threads: bool | None = None,
    overwrite: bool = False,
    mpi_comm: Any = None,
) -> None:
    """Compresses a numpy array and writes it into an h5py group. With
    `mpi_comm`, `arr` is this rank's part (see `FlacArray.from_array`, also
    for the `use_threads` default) and only rank 0's `hgrp` is used (others
    may pass None)."""
    if mpi_comm is None:
        _hdf5_group.check_group(hgrp)
    fa = FlacArray.from_array(
        arr,
        level=level,
        quanta=quanta,
        precision=precision,
        use_threads=use_threads,
        mpi_comm=mpi_comm,
    )
    write_compressed(hgrp, fa, overwrite=overwrite)


@overload
def read_array(
    hgrp: H5Group,
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
    hgrp: H5Group,
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
    hgrp: H5Group,
    keep: KeepMask | None = None,
    stream_slice: slice | None = None,
    keep_indices: bool = False,
    use_threads: bool = True,
    mpi_comm: Any = None,
    mpi_dist: list[tuple[int, int]] | None = None,
    no_flatten: bool = False,
) -> Samples | tuple[Samples, KeptIndices]:
    """Reads and decompresses an array from an h5py group.

    With `keep` (boolean mask over the leading shape) only those streams are
    read from disk and a (kept, samples) array is returned; `stream_slice`
    (step 1) limits the samples decoded; `keep_indices` also returns the kept
    streams' index tuples. Under MPI, a rank's part holding one stream is
    1-D unless `no_flatten` (the reference's rule); with `no_flatten` a
    single-stream array comes back (1, samples).
    """
    read = HDF5.read(hgrp, keep=keep, mpi_comm=mpi_comm, mpi_dist=mpi_dist)
    fa = FlacArray.from_read(read, no_flatten)
    return io_common.decoded(fa, read.mask, stream_slice, keep_indices, use_threads)
