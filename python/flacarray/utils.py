"""Float <-> integer conversion of whole arrays, as their streams are
stored (the reference package's `flacarray.utils.float_to_int` and
`int_to_float`): value = offset + integer / gain, one offset and gain per
stream.

>>> import numpy as np
>>> from flacarray.utils import float_to_int, int_to_float
>>> data = np.linspace(-1, 1, 30).reshape(3, 10)
>>> ints, offsets, gains = float_to_int(data, quanta=1e-3)
>>> ints.dtype, offsets.shape
(dtype('int64'), (3,))
>>> bool(np.abs(int_to_float(ints, offsets, gains) - data).max() <= 0.5e-3)
True
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from . import _core
from ._types import Steps
from .array import per_stream


def float_to_int(
    data: npt.ArrayLike, quanta: Steps | None = None, precision: Steps | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The integers float32 (to int32) or float64 (to int64) data is stored
    as, and each stream's offset and gain (arrays of the leading shape, in
    the data's type; `(1,)` for one stream). `quanta` or `precision` choose
    the step as in `FlacArray.from_array`."""
    arr = np.asarray(data)
    if arr.dtype not in (np.float32, np.float64):
        raise ValueError(f"only float32 and float64 data are converted, got {arr.dtype}")
    leading = arr.shape[:-1]
    ints, offsets, gains = _core.quantize(
        np.ascontiguousarray(arr),
        per_stream("quanta", quanta, leading),
        per_stream("precision", precision, leading),
    )
    table = leading or (1,)
    return ints, offsets.astype(arr.dtype).reshape(table), gains.astype(arr.dtype).reshape(table)


def int_to_float(idata: npt.ArrayLike, offset: npt.ArrayLike, gain: npt.ArrayLike) -> np.ndarray:
    """Restores floats from `float_to_int`'s integers, offsets and gains
    (int32 to float32, int64 to float64)."""
    ints = np.ascontiguousarray(idata)
    if ints.dtype not in (np.int32, np.int64):
        raise ValueError(f"only int32 and int64 data are restored, got {ints.dtype}")
    offsets = np.asarray(offset, dtype=np.float64).ravel().tolist()
    gains = np.asarray(gain, dtype=np.float64).ravel().tolist()
    return _core.restore(ints, offsets, gains)
