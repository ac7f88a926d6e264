"""FLAC compression of N-dimensional numeric arrays, with a Rust core.

The last axis of an array holds *streams*; each stream is compressed into one
independent FLAC bytestream. int32/int64 are lossless; float32/float64 are
quantized per stream (offset and gain) first.

>>> import numpy as np
>>> from flacarray import FlacArray
>>> fa = FlacArray.from_array(np.arange(20, dtype=np.int32).reshape(2, 10))
>>> bool((fa.to_array() == np.arange(20).reshape(2, 10)).all())
True
"""

from . import demo
from ._core import CorruptDataError
from ._core import __version__ as __version__
from .array import FlacArray

try:  # the Arrow extension type, when pyarrow is installed
    from .arrow import register as _register_arrow_type
except ImportError:  # pragma: no cover - pyarrow is optional
    pass
else:
    _register_arrow_type()

try:  # the pl.col(...).flac expression namespace, when polars is installed
    from . import polars as _polars_namespace  # noqa: F401
except ImportError:  # pragma: no cover - polars is optional
    pass

__all__ = ["CorruptDataError", "FlacArray", "demo"]
