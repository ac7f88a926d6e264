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
from .selection import index_tuples, keep_flat_indices

DEFAULT_COLUMN = "flac"


def write_compressed(path, fa: FlacArray, column: str = DEFAULT_COLUMN) -> None:
    """Writes a FlacArray to a Parquet file."""
    _core.write_parquet(os.fspath(path), column, fa._core_parts())


def _keep_arg(keep, leading_shape):
    if keep is None:
        return None, None
    flat = keep_flat_indices(keep, leading_shape)
    mask = np.zeros(int(np.prod(leading_shape or (1,), dtype=np.int64)), dtype=bool)
    mask[flat] = True
    return mask, flat


def _leading_shape(path, column):
    import pyarrow.parquet as pq

    from .arrow import FlacExtensionType

    schema = pq.read_schema(path)
    field = schema.field(column)
    if not isinstance(field.type, FlacExtensionType):
        raise ValueError(f"column '{column}' is not a flacarray.flac column")
    meta = field.type.flac_metadata
    rows = pq.read_metadata(path).num_rows
    return tuple(meta["leading_shape"]) if meta["leading_shape"] is not None else (rows,)


def read_compressed(path, keep=None, column: str = DEFAULT_COLUMN) -> FlacArray:
    """Reads a FlacArray from a Parquet file; with `keep` (a boolean mask over
    the leading shape) only the row groups and pages of the kept streams are
    read, giving a (kept, samples) array."""
    mask = None
    if keep is not None:
        mask, _ = _keep_arg(keep, _leading_shape(path, column))
    return FlacArray._from_core(_core.read_parquet(os.fspath(path), column, mask))


def write_array(arr, path, level=5, quanta=None, precision=None, column=DEFAULT_COLUMN) -> None:
    """Compresses a numpy array and writes it to a Parquet file."""
    fa = FlacArray.from_array(arr, level=level, quanta=quanta, precision=precision)
    write_compressed(path, fa, column=column)


def read_array(path, keep=None, stream_slice=None, keep_indices=False, column=DEFAULT_COLUMN):
    """Reads and decompresses an array from a Parquet file (arguments as in
    `flacarray.hdf5.read_array`)."""
    indices = None
    if keep is not None:
        lead = _leading_shape(path, column)
        mask, flat = _keep_arg(keep, lead)
        indices = index_tuples(flat, lead)
        fa = FlacArray._from_core(_core.read_parquet(os.fspath(path), column, mask))
    else:
        fa = read_compressed(path, column=column)
    out = fa.to_array(stream_slice=stream_slice)
    return (out, indices) if keep_indices else out
