"""Type aliases of the public Python API (for annotations only)."""

from __future__ import annotations

import os
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

#: A file or directory path.
PathLike: TypeAlias = str | os.PathLike[str]
#: An h5py Group or File (h5py ships no type information).
H5Group: TypeAlias = Any
#: A zarr-python Group, or a path where the Rust core reads/writes the group.
ZarrTarget: TypeAlias = Any
#: A boolean mask over the leading shape (which streams to keep).
KeepMask: TypeAlias = npt.ArrayLike
#: A quantization step (or precision): one number, or one per stream.
Steps: TypeAlias = float | npt.ArrayLike
#: A numpy dtype, or anything naming one.
DTypeLike: TypeAlias = npt.DTypeLike
#: What `read_array(..., keep_indices=True)` returns beside the values.
KeptIndices: TypeAlias = list[tuple[int, ...]] | None
#: Decoded samples.
Samples: TypeAlias = np.ndarray
