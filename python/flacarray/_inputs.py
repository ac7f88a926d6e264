"""What a FlacArray is built from, checked and normalised: the element
types, steps given per stream, the thread flag, read-only buffers."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from . import _core
from ._types import DTypeLike, Steps

SUPPORTED_DTYPES: tuple[str, ...] = tuple(_core.DTYPES)
"""The element types a FlacArray holds (the core's table of types)."""


def check_dtype(dtype: DTypeLike) -> np.dtype:
    """Returns `dtype` as a numpy dtype, or raises TypeError if unsupported."""
    dt = np.dtype(dtype)
    if dt.name not in SUPPORTED_DTYPES:
        *rest, last = SUPPORTED_DTYPES
        raise TypeError(f"unsupported dtype '{dt}': flacarray handles {', '.join(rest)} and {last}")
    return dt


def thread_count(use_threads: bool) -> int | None:
    """Maps the `use_threads` flag to the core's thread count (None = all cores)."""
    return None if use_threads else 1


def per_stream(
    name: str, value: Steps | None, leading_shape: tuple[int, ...]
) -> list[float] | None:
    """Normalizes a scalar or per-stream `quanta`/`precision` to a flat list."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return [float(arr)]
    expected = leading_shape if leading_shape else (1,)
    if arr.shape != expected:
        raise ValueError(
            f"{name} must be a scalar or have the leading shape {expected}, got shape {arr.shape}"
        )
    return arr.ravel().tolist()


def _frozen(values: npt.ArrayLike, dtype: DTypeLike, copy: bool) -> np.ndarray:
    """A read-only, contiguous, native-order 1-D array of `values`."""
    if copy:
        arr = np.array(values, dtype=dtype, order="C", copy=True).reshape(-1)
    else:
        arr = np.ascontiguousarray(values, dtype=dtype).reshape(-1).view()
    arr.flags.writeable = False
    return arr


def _frozen_f64(values: npt.ArrayLike | None, copy: bool) -> np.ndarray | None:
    return None if values is None else _frozen(values, np.float64, copy)


def _native(arr: np.ndarray) -> np.ndarray:
    """`arr` in the machine's byte order (FITS data is big-endian)."""
    if arr.dtype.byteorder not in ("=", "|") and not arr.dtype.isnative:
        return arr.astype(arr.dtype.newbyteorder("="))
    return arr
