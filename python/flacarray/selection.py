"""Turning numpy-style keys into (streams, sample range, output shape)."""

from __future__ import annotations

import operator

import numpy as np


def sample_range(stream_slice, stream_size: int) -> tuple[int, int]:
    """Resolves a step-1 slice over the samples to a [first, last) range,
    with Python's rules for negative and out-of-range bounds."""
    if stream_slice is None:
        return 0, stream_size
    if not isinstance(stream_slice, slice):
        raise TypeError(f"stream_slice must be a slice, got {type(stream_slice).__name__}")
    if stream_slice.step not in (None, 1):
        raise ValueError(f"stream_slice must have step 1, got step {stream_slice.step}")
    first, last, _ = stream_slice.indices(stream_size)
    return first, max(first, last)


_SEQUENCES = (np.ndarray, list, tuple)
_INTEGERS = (int, np.integer)


def _as_index(value, size: int, axis: int) -> int:
    index = operator.index(value)
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for axis {axis} with size {size}")
    return index % size


def _axes_used(item) -> int:
    if item is None:
        raise IndexError("np.newaxis is not supported when indexing a FlacArray")
    if isinstance(item, np.ndarray) and item.dtype == np.bool_:
        return max(item.ndim, 1)
    if isinstance(item, _SEQUENCES[1:]) and np.asarray(item).dtype == np.bool_:
        return max(np.asarray(item).ndim, 1)
    return 1


def _expand(shape: tuple, key) -> tuple:
    """Expands Ellipsis and pads the key to cover every axis."""
    if not isinstance(key, tuple):
        key = (key,)
    ellipses = sum(1 for k in key if k is Ellipsis)
    if ellipses > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(_axes_used(k) for k in key if k is not Ellipsis)
    if used > len(shape):
        raise IndexError(
            f"too many indices for array: array is {len(shape)}-dimensional, "
            f"but {used} were indexed"
        )
    fill = (slice(None),) * (len(shape) - used)
    if ellipses:
        at = next(i for i, k in enumerate(key) if k is Ellipsis)
        return key[:at] + fill + key[at + 1 :]
    return key + fill


def leading_selection(shape: tuple, key):
    """Maps a numpy key on the full array to the flat stream indices to
    decode, the sample range, and the shape of the result."""
    key = _expand(shape, key)
    last_key = key[-1]
    if _axes_used(last_key) != 1 or (
        isinstance(last_key, _SEQUENCES[:2]) and np.asarray(last_key).ndim > 0
    ):
        raise IndexError("the sample (last) axis takes an integer or a slice with step 1")
    stream_size = shape[-1]
    if isinstance(last_key, slice):
        first, last = sample_range(last_key, stream_size)
        tail = slice(None)
    else:
        first = _as_index(last_key, stream_size, len(shape) - 1)
        last = first + 1
        # An integer on the last axis takes part in numpy's advanced-index
        # placement rules; index a length-1 axis with 0 to reproduce them.
        tail = 0
    lead_keys = key[:-1]
    if all(isinstance(k, _INTEGERS) and not isinstance(k, bool) for k in lead_keys):
        # Plain integers on every leading axis: one stream, no fancy indexing.
        index = [
            _as_index(k, size, axis)
            for axis, (k, size) in enumerate(zip(lead_keys, shape[:-1], strict=True))
        ]
        flat = int(np.ravel_multi_index(index, shape[:-1])) if index else 0
        streams = np.array([flat], dtype=np.int64)
        return streams, first, last, (last - first,) if isinstance(last_key, slice) else ()
    streams = np.arange(int(np.prod(shape[:-1], dtype=np.int64)), dtype=np.int64)
    streams = streams.reshape(shape[:-1] + (1,))[key[:-1] + (tail,)]
    if isinstance(last_key, slice):
        return streams[..., 0], first, last, streams.shape[:-1] + (last - first,)
    return streams, first, last, streams.shape


def keep_flat_indices(keep, leading_shape: tuple) -> np.ndarray:
    """Flat indices of the streams selected by a boolean mask over the
    leading shape (a 1-element mask for a single-stream array)."""
    keep = np.asarray(keep)
    expected = leading_shape if leading_shape else (1,)
    if keep.dtype != np.bool_:
        raise ValueError(f"keep must be a boolean array, got dtype {keep.dtype}")
    if keep.shape != expected and not (keep.shape == () and expected == (1,)):
        raise ValueError(f"keep has shape {keep.shape}; expected the leading shape {expected}")
    return np.flatnonzero(keep.ravel())


def index_tuples(flat: np.ndarray, leading_shape: tuple) -> list[tuple]:
    """Converts flat stream indices to index tuples over the leading shape."""
    shape = leading_shape if leading_shape else (1,)
    return [tuple(int(i) for i in idx) for idx in zip(*np.unravel_index(flat, shape), strict=True)]
