"""Parquet storage of compressed arrays (written and read by the Rust core).

A file holds one row per stream (FLAC bytes, offset, gain) with the Arrow
schema embedded: pyarrow sees the `flacarray.flac` extension type, and
polars, DuckDB or any Parquet reader see plain binary and float columns.

>>> import numpy as np, tempfile, os
>>> import flacarray.parquet
>>> path = os.path.join(tempfile.mkdtemp(), "data.parquet")
>>> flacarray.parquet.write_array(np.arange(30, dtype=np.int64).reshape(3, 10), path)
>>> flacarray.parquet.read_array(path, keep=np.array([False, True, False])).tolist()
[[10, 11, 12, 13, 14, 15, 16, 17, 18, 19]]
"""

from __future__ import annotations

from typing import Any, Literal, overload

import numpy.typing as npt

from ._types import KeepMask, KeptIndices, PathLike, Samples, Steps
from .array import FlacArray
from .containers import DEFAULT_COLUMN as DEFAULT_COLUMN
from .containers import PARQUET
from .io_common import decoded


def write_compressed(
    path: PathLike | None, fa: FlacArray, column: str = DEFAULT_COLUMN, overwrite: bool = False
) -> None:
    """Writes a FlacArray to a Parquet file, atomically (beside the path,
    then renamed into place). An existing file is refused (FileExistsError)
    unless `overwrite`, and then only a file with a flacarray column is
    replaced."""
    PARQUET.with_column(column).write(fa, path, overwrite=overwrite)


def read_compressed(
    path: PathLike | None,
    keep: KeepMask | None = None,
    column: str = DEFAULT_COLUMN,
    mpi_comm: Any = None,
    mpi_dist: list[tuple[int, int]] | None = None,
) -> FlacArray:
    """Reads a FlacArray from a Parquet file; with `keep` (a boolean mask over
    the leading shape) only the row groups and pages of the kept streams are
    read, giving a (kept, samples) array. `mpi_comm` / `mpi_dist` as in
    `FlacArray.read_parquet`."""
    return FlacArray.read_parquet(path, keep, column, mpi_comm, mpi_dist)


def write_array(
    arr: npt.ArrayLike,
    path: PathLike | None,
    level: int = 5,
    quanta: Steps | None = None,
    precision: Steps | None = None,
    use_threads: bool | None = None,
    overwrite: bool = False,
    column: str = DEFAULT_COLUMN,
    mpi_comm: Any = None,
) -> None:
    """Compresses a numpy array and writes it to a Parquet file. With
    `mpi_comm`, `arr` is this rank's part and rank 0 writes the file (see
    `FlacArray.write_parquet`)."""
    fa = FlacArray.from_array(
        arr,
        level=level,
        quanta=quanta,
        precision=precision,
        use_threads=use_threads,
        mpi_comm=mpi_comm,
    )
    write_compressed(path, fa, column=column, overwrite=overwrite)


@overload
def read_array(
    path: PathLike | None,
    keep: KeepMask | None = None,
    stream_slice: slice | None = None,
    keep_indices: Literal[False] = False,
    use_threads: bool = True,
    column: str = DEFAULT_COLUMN,
    mpi_comm: Any = None,
    mpi_dist: list[tuple[int, int]] | None = None,
    no_flatten: bool = False,
) -> Samples: ...


@overload
def read_array(
    path: PathLike | None,
    keep: KeepMask | None = None,
    stream_slice: slice | None = None,
    *,
    keep_indices: Literal[True],
    use_threads: bool = True,
    column: str = DEFAULT_COLUMN,
    mpi_comm: Any = None,
    mpi_dist: list[tuple[int, int]] | None = None,
    no_flatten: bool = False,
) -> tuple[Samples, KeptIndices]: ...


def read_array(
    path: PathLike | None,
    keep: KeepMask | None = None,
    stream_slice: slice | None = None,
    keep_indices: bool = False,
    use_threads: bool = True,
    column: str = DEFAULT_COLUMN,
    mpi_comm: Any = None,
    mpi_dist: list[tuple[int, int]] | None = None,
    no_flatten: bool = False,
) -> Samples | tuple[Samples, KeptIndices]:
    """Reads and decompresses an array from a Parquet file (arguments as in
    `flacarray.hdf5.read_array`)."""
    read = PARQUET.with_column(column).read(path, keep=keep, mpi_comm=mpi_comm, mpi_dist=mpi_dist)
    fa, mask = FlacArray.from_read(read, no_flatten), read.mask
    return decoded(fa, mask, stream_slice, keep_indices, use_threads)
