"""Turning numpy-style keys into (streams, sample range, output shape)."""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np
import numpy.typing as npt


def sample_range(stream_slice: slice | None, stream_size: int) -> tuple[int, int]:
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


_INTEGERS = (int, np.integer)


def _as_index(value: Any, size: int, axis: int) -> int:
    try:
        index = operator.index(value)
    except TypeError:
        raise IndexError(
            "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and "
            "integer or boolean arrays are valid indices"
        ) from None
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for axis {axis} with size {size}")
    return index % size


def _is_bool_scalar(item: Any) -> bool:
    return isinstance(item, bool | np.bool_) or (
        isinstance(item, np.ndarray) and item.dtype == np.bool_ and item.ndim == 0
    )


def _axes_used(item: Any) -> int:
    """How many array axes one entry of a key consumes (numpy's rules)."""
    if item is None or item is Ellipsis or _is_bool_scalar(item):
        return 0
    if isinstance(item, np.ndarray | list | tuple):
        arr = np.asarray(item)
        if arr.dtype == np.bool_:
            return arr.ndim
    return 1


def _split_sample_key(ndim: int, key: tuple) -> tuple[tuple, int, object]:
    """Finds the entry of `key` that indexes the last (sample) axis. Returns
    the key with an explicit entry for that axis, its position, and it."""
    ellipses = [i for i, k in enumerate(key) if k is Ellipsis]
    if len(ellipses) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = [_axes_used(k) for k in key]
    total = sum(used)
    if total > ndim:
        raise IndexError(
            f"too many indices for array: array is {ndim}-dimensional, but {total} were indexed"
        )
    consuming = [i for i, n in enumerate(used) if n > 0]
    if ellipses and not [i for i in consuming if i > ellipses[0]] and total < ndim:
        # The Ellipsis covers the last axis: name it right after the Ellipsis.
        at = ellipses[0] + 1
        key = key[:at] + (slice(None),) + key[at:]
    elif not ellipses and total < ndim:
        # The last axis is not named: numpy treats it as a full slice.
        at = len(key)
        key = key + (slice(None),)
    else:
        at = consuming[-1]
        if used[at] != 1 or isinstance(key[at], list | tuple) or np.ndim(key[at]) > 0:
            raise IndexError(
                "the sample (last) axis takes an integer or a slice; "
                "index the samples after decompressing for anything else"
            )
    return key, at, key[at]


def _stream_grids(leading: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of the leading shape plus a last axis of width 1 and 2, holding
    each position's flat stream index. Indexing both with the same key tells
    which output axis comes from the sample axis: the one whose length
    differs."""
    one = np.arange(math.prod(leading), dtype=np.int64).reshape(leading + (1,))
    return one, np.concatenate((one, one), axis=-1)


def _to_end(arr: np.ndarray, axis: int) -> np.ndarray:
    """`arr` with `axis` moved last (a view)."""
    order = [i for i in range(arr.ndim) if i != axis] + [axis]
    return arr.transpose(order)


def _sample_slice(key: slice, stream_size: int) -> tuple[int, int, slice | None, int]:
    """A slice over the samples as the range to decode, what to take of the
    decoded range (None: all of it) and how many samples that gives."""
    start, stop, step = key.indices(stream_size)
    count = len(range(start, stop, step))
    if count == 0:
        return 0, 0, None, 0
    if step == 1:
        return start, stop, None, count
    if step > 0:
        return start, start + (count - 1) * step + 1, slice(None, None, step), count
    first = start + (count - 1) * step
    return first, start + 1, slice(start - first, None, step), count


def leading_selection(shape: tuple[int, ...], key: Any) -> Any:
    """Maps a numpy key on the full array to what to decode and how to lay it
    out: `(streams, first, last, pick, out_shape, sample_axis)`. The flat
    stream indices `streams` are decoded over samples [first, last), giving
    a (streams, samples) array; taking `pick` of its samples (None: all),
    reshaping to `out_shape` (samples last) and moving the samples to
    `sample_axis` (None when an integer picked one sample) gives exactly
    numpy's `array[key]`."""
    if not isinstance(key, tuple):
        key = (key,)
    # a 0-d integer array is an integer to numpy
    key = tuple(
        int(k) if isinstance(k, np.ndarray) and k.ndim == 0 and k.dtype.kind in "iu" else k
        for k in key
    )
    leading, stream_size = tuple(shape[:-1]), shape[-1]
    if len(key) == len(shape) and all(
        isinstance(k, _INTEGERS) and not isinstance(k, bool | np.bool_) for k in key[:-1]
    ):
        # Integers on every leading axis (the common case): one stream.
        index = [_as_index(k, n, i) for i, (k, n) in enumerate(zip(key[:-1], leading, strict=True))]
        flat = np.array([np.ravel_multi_index(index, leading) if leading else 0], dtype=np.int64)
        last_key = key[-1]
        if isinstance(last_key, slice):
            first, last, pick, count = _sample_slice(last_key, stream_size)
            return flat, first, last, pick, (count,), None
        if isinstance(last_key, _INTEGERS) and not isinstance(last_key, bool | np.bool_):
            sample = _as_index(last_key, stream_size, len(leading))
            return flat, sample, sample + 1, None, (), None
    key, at, sample_key = _split_sample_key(len(shape), key)
    if isinstance(sample_key, slice):
        first, last, pick, count = _sample_slice(sample_key, stream_size)
        narrow = key[:at] + (slice(None),) + key[at + 1 :]
        grid_one, grid_two = _stream_grids(leading)
        one, two = grid_one[narrow], grid_two[narrow]
        sample_axis = next(
            i for i, (a, b) in enumerate(zip(one.shape, two.shape, strict=True)) if a != b
        )
        streams = _to_end(one, sample_axis)
        out_shape = streams.shape[:-1] + (count,)
        return streams.reshape(-1), first, last, pick, out_shape, sample_axis
    if _is_bool_scalar(sample_key):
        raise IndexError("the sample (last) axis takes an integer or a slice")
    sample = _as_index(sample_key, stream_size, len(leading))
    streams = _stream_grids(leading)[0][key[:at] + (0,) + key[at + 1 :]]
    return streams.reshape(-1), sample, sample + 1, None, streams.shape, None


def keep_flat_indices(keep: npt.ArrayLike, leading_shape: tuple[int, ...]) -> np.ndarray:
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


def keep_mask(keep: npt.ArrayLike) -> np.ndarray:
    """A keep mask as a contiguous boolean array (the core checks its shape
    against the leading shape)."""
    mask = np.ascontiguousarray(keep)
    if mask.dtype != np.bool_:
        raise ValueError(f"keep must be a boolean array, got dtype {mask.dtype}")
    return mask


def kept_index_tuples(mask: np.ndarray) -> list[tuple]:
    """The index tuples of a keep mask's kept streams."""
    lead = tuple(mask.shape) if mask.ndim else ()
    return index_tuples(np.flatnonzero(mask.ravel()), lead)
