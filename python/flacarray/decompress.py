"""Decompressing arrays from their parts without a FlacArray (the reference
package's `flacarray.decompress`).

>>> import numpy as np
>>> from flacarray.compress import array_compress
>>> from flacarray.decompress import array_decompress
>>> parts = array_compress(np.arange(20, dtype=np.int64).reshape(2, 10))
>>> array_decompress(parts[0], 10, parts[1], parts[2], first_stream_sample=2,
...                  last_stream_sample=4, is_int64=True).tolist()
[[2, 3], [12, 13]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from . import _core
from .array import FlacArray
from .selection import index_tuples, keep_flat_indices


def _as_array(
    compressed: npt.ArrayLike,
    stream_size: int,
    stream_starts: npt.ArrayLike,
    stream_nbytes: npt.ArrayLike,
    stream_offsets: npt.ArrayLike | None,
    stream_gains: npt.ArrayLike | None,
    is_int64: bool,
) -> FlacArray:
    """The FlacArray the parts describe (its type from `is_int64` and from
    whether scales are given; its leading shape that of `stream_starts`)."""
    starts = np.asarray(stream_starts)
    floats = stream_offsets is not None and stream_gains is not None
    dtype = _core.dtype_from_channels(2 if is_int64 else 1, floats)
    return FlacArray(
        dtype=dtype,
        shape=(*starts.shape, int(stream_size)),
        compressed=compressed,
        stream_starts=starts,
        stream_nbytes=stream_nbytes,
        stream_offsets=stream_offsets,
        stream_gains=stream_gains,
    )


def array_decompress_slice(
    compressed: npt.ArrayLike,
    stream_size: int,
    stream_starts: npt.ArrayLike,
    stream_nbytes: npt.ArrayLike,
    stream_offsets: npt.ArrayLike | None = None,
    stream_gains: npt.ArrayLike | None = None,
    keep: npt.ArrayLike | None = None,
    first_stream_sample: int | None = None,
    last_stream_sample: int | None = None,
    is_int64: bool = False,
    use_threads: bool = False,
    no_flatten: bool = False,
) -> tuple[np.ndarray, list[tuple[int, ...]] | None]:
    """Decompresses samples [first, last) of the streams `keep` selects
    (all without it) from an array's parts: returns the values (the leading
    shape, or (kept, samples) with `keep`) and the kept streams' index
    tuples (None without `keep`). A single stream comes back 1-D unless
    `no_flatten`."""
    fa = _as_array(
        compressed,
        stream_size,
        stream_starts,
        stream_nbytes,
        stream_offsets,
        stream_gains,
        is_int64,
    )
    window = slice(first_stream_sample, last_stream_sample)
    if keep is None:
        out = fa.to_array(stream_slice=window, use_threads=use_threads)
        indices = None
    else:
        flat = keep_flat_indices(keep, fa.leading_shape)
        out = fa.to_array(keep=keep, stream_slice=window, use_threads=use_threads)
        indices = index_tuples(flat, fa.leading_shape)
    if out.ndim == 2 and out.shape[0] == 1 and not no_flatten:
        out = out[0]
    return out, indices


def array_decompress(
    compressed: npt.ArrayLike,
    stream_size: int,
    stream_starts: npt.ArrayLike,
    stream_nbytes: npt.ArrayLike,
    stream_offsets: npt.ArrayLike | None = None,
    stream_gains: npt.ArrayLike | None = None,
    first_stream_sample: int | None = None,
    last_stream_sample: int | None = None,
    is_int64: bool = False,
    use_threads: bool = False,
    no_flatten: bool = False,
) -> Any:
    """Decompresses every stream (samples [first, last)) from an array's
    parts: the values, of the leading shape of `stream_starts` plus the
    samples; see `array_decompress_slice`."""
    return array_decompress_slice(
        compressed,
        stream_size,
        stream_starts,
        stream_nbytes,
        stream_offsets,
        stream_gains,
        None,
        first_stream_sample,
        last_stream_sample,
        is_int64,
        use_threads,
        no_flatten,
    )[0]
