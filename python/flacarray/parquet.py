"""Parquet storage of compressed arrays (written and read by the Rust core).

A file holds one row per stream (FLAC bytes, offset, gain) with the Arrow
schema embedded: pyarrow sees the `flacarray.flac` extension type, and
polars, DuckDB or any Parquet reader see plain binary and float columns.
"""

from __future__ import annotations

import os

import numpy as np

from . import _core
from .array import FlacArray
from .io_common import decoded
from .selection import keep_mask

DEFAULT_COLUMN = "flac"


def write_compressed(path, fa: FlacArray, column: str = DEFAULT_COLUMN, overwrite=False) -> None:
    """Writes a FlacArray to a Parquet file, atomically (beside the path,
    then renamed into place). An existing file is refused (FileExistsError)
    unless `overwrite`, and then only a file with a flacarray column is
    replaced."""
    _core.write_parquet(os.fspath(path), column, fa._core_parts(), overwrite)


def _read(path, keep, column) -> tuple[FlacArray, np.ndarray | None]:
    mask = None if keep is None else keep_mask(keep)
    return FlacArray._from_core(_core.read_parquet(os.fspath(path), column, mask)), mask


def read_compressed(path, keep=None, column: str = DEFAULT_COLUMN) -> FlacArray:
    """Reads a FlacArray from a Parquet file; with `keep` (a boolean mask over
    the leading shape) only the row groups and pages of the kept streams are
    read, giving a (kept, samples) array."""
    return _read(path, keep, column)[0]


def write_array(
    arr,
    path,
    level=5,
    quanta=None,
    precision=None,
    use_threads=True,
    overwrite=False,
    column=DEFAULT_COLUMN,
) -> None:
    """Compresses a numpy array and writes it to a Parquet file."""
    fa = FlacArray.from_array(
        arr, level=level, quanta=quanta, precision=precision, use_threads=use_threads
    )
    write_compressed(path, fa, column=column, overwrite=overwrite)


def read_array(
    path, keep=None, stream_slice=None, keep_indices=False, use_threads=True, column=DEFAULT_COLUMN
):
    """Reads and decompresses an array from a Parquet file (arguments as in
    `flacarray.hdf5.read_array`)."""
    fa, mask = _read(path, keep, column)
    return decoded(fa, mask, stream_slice, keep_indices, use_threads)
