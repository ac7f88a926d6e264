"""Compressing a numpy array into its parts without a FlacArray (the
reference package's `flacarray.compress.array_compress`).

>>> import numpy as np
>>> from flacarray.compress import array_compress
>>> compressed, starts, nbytes, offsets, gains = array_compress(np.zeros((2, 100), np.int32))
>>> starts.shape, offsets is None
((2,), True)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ._types import Steps
from .array import FlacArray


def array_compress(
    arr: npt.ArrayLike,
    level: int = 5,
    quanta: Steps | None = None,
    precision: Steps | None = None,
    use_threads: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Compresses `arr` (its last axis holds the streams) and returns its
    parts: `(compressed bytes, stream_starts, stream_nbytes, stream_offsets,
    stream_gains)`, the per-stream arrays of the leading shape (`(1,)` for
    one stream), offsets and gains in the data's float type (None for
    integers). See `FlacArray.from_array` for the arguments."""
    fa = FlacArray.from_array(
        arr, level=level, quanta=quanta, precision=precision, use_threads=use_threads
    )

    lead = fa.leading_shape or (1,)

    def scales(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else np.array(values).reshape(lead)

    return (
        np.array(fa.compressed),
        np.array(fa.stream_starts).reshape(lead),
        np.array(fa.stream_nbytes).reshape(lead),
        scales(fa.stream_offsets),
        scales(fa.stream_gains),
    )
