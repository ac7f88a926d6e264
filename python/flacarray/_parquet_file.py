"""Moving a compressed array's parts in and out of a Parquet file (the
Rust core reads and writes; the byte-moving half of `flacarray.parquet`)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from . import _core
from ._types import PathLike
from .selection import keep_mask

if TYPE_CHECKING:
    from .array import FlacArray

DEFAULT_COLUMN = "flac"


def write(
    path: PathLike | None, fa: FlacArray, column: str = DEFAULT_COLUMN, overwrite: bool = False
) -> None:
    """Writes `fa` to a Parquet file; see `FlacArray.write_parquet`. A
    distributed array is written through rank 0 (`path` may be None on the
    other ranks)."""
    if fa.mpi_comm is not None:
        from . import io_mpi

        io_mpi.write_parquet_gathered(path, fa, column, overwrite)
        return
    if path is None:
        raise TypeError("write_parquet needs a path")
    _core.write_parquet(os.fspath(path), column, fa._core_parts(), overwrite)


def read(
    path: PathLike, keep: npt.ArrayLike | None = None, column: str = DEFAULT_COLUMN
) -> tuple[_core.ArrayParts, np.ndarray | None]:
    """The parts of the array in a Parquet file, reading only the row groups
    and pages of the kept streams, and the keep mask as checked."""
    mask = None if keep is None else keep_mask(keep)
    return _core.read_parquet(os.fspath(path), column, mask), mask
