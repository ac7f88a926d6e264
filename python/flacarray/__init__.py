"""FLAC compression of N-dimensional numeric arrays, with a Rust core.

The last axis of an array holds *streams*; each stream is compressed into one
independent FLAC bytestream. Integers are lossless; float32/float64 are
quantized per stream (offset and gain) first. `SUPPORTED_DTYPES` lists the
element types.

>>> import numpy as np
>>> from flacarray import FlacArray
>>> fa = FlacArray.from_array(np.arange(20, dtype=np.int32).reshape(2, 10))
>>> bool((fa.to_array() == np.arange(20).reshape(2, 10)).all())
True
"""

import importlib

from . import _deferred, demo
from ._core import CorruptDataError
from ._core import __version__ as __version__
from ._inputs import SUPPORTED_DTYPES
from .array import FlacArray


def _register_arrow_type() -> None:
    # flacarray.arrow registers the type when it finishes executing (it may
    # be the module whose `import pyarrow` triggered this).
    importlib.import_module(".arrow", __name__)


def _register_polars_namespace() -> None:
    from . import polars  # noqa: F401  (defines the `flac` namespace)


# The Arrow extension type and the pl.col(...).flac namespace are registered
# when pyarrow / polars get imported (now if they already are): a numpy-only
# user imports neither.
_deferred.when_imported("pyarrow", _register_arrow_type)
_deferred.when_imported("polars", _register_polars_namespace)

__all__ = ["SUPPORTED_DTYPES", "CorruptDataError", "FlacArray", "demo"]
