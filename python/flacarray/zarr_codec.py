"""The Zarr v3 codec `flacarray.flac` for zarr-python: chunked arrays whose
chunks are compressed with FLAC where they are written (by Dask workers,
xarray, or any zarr-python code), read lazily by any Zarr reader that has
the codec (zarr-python with this package installed, or zarrs with the Rust
crate).

The codec is an array-to-bytes codec (a "serializer"): each chunk's
last-axis vectors become FLAC streams behind a small header (the layout is
in docs/format.md). Integers are lossless; floats are quantized per stream,
with a fixed `quanta` (step) or `precision` (significant digits), or by
default per stream and chunk as `FlacArray.from_array` does.

It is registered with zarr-python through the package's entry point, so a
fresh process reads such arrays without importing anything first.

>>> import numpy as np, tempfile, zarr
>>> from flacarray.zarr_codec import FlacCodec
>>> store = tempfile.mkdtemp()
>>> z = zarr.create_array(store, shape=(4, 1000), chunks=(2, 500), dtype="int32",
...                       serializer=FlacCodec(level=5), compressors=None)
>>> z[:] = np.arange(4000, dtype=np.int32).reshape(4, 1000) % 97
>>> zarr.open_array(store)[1, 10:13].tolist()
[40, 41, 42]
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from zarr.abc.codec import ArrayBytesCodec, ArrayBytesCodecPartialDecodeMixin
from zarr.core.common import parse_named_configuration

from . import _core

if TYPE_CHECKING:
    from typing_extensions import Self
    from zarr.abc.store import ByteGetter
    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import Buffer, NDBuffer
    from zarr.core.chunk_grids import ChunkGrid
    from zarr.core.common import JSON
    from zarr.core.indexing import SelectorTuple

#: The codec's name in Zarr array metadata (and its entry point).
CODEC_NAME = "flacarray.flac"


def _native_dtype(dtype: Any) -> np.dtype[Any]:
    return np.dtype(dtype.to_native_dtype() if hasattr(dtype, "to_native_dtype") else dtype)


@dataclass(frozen=True)
class FlacCodec(ArrayBytesCodecPartialDecodeMixin, ArrayBytesCodec):
    """FLAC compression of each chunk's last-axis vectors.

    Args:
        level: FLAC compression level, 0..8.
        quanta: for float arrays, the quantization step of every stream.
        precision: for float arrays, the significant digits kept (not with
            `quanta`).

    Arrays must be of a type in `flacarray.SUPPORTED_DTYPES`; the configuration and
    the element type are checked when the array is created. Float chunks
    holding NaN or infinities are refused when written (a ValueError).
    """

    is_fixed_size = False

    level: int
    quanta: float | None
    precision: float | None

    def __init__(
        self, *, level: int = 5, quanta: float | None = None, precision: float | None = None
    ) -> None:
        _core.check_chunk_codec(level, quanta, precision)
        object.__setattr__(self, "level", int(level))
        object.__setattr__(self, "quanta", None if quanta is None else float(quanta))
        object.__setattr__(self, "precision", None if precision is None else float(precision))

    @classmethod
    def from_dict(cls, data: dict[str, JSON]) -> Self:
        _, configuration = parse_named_configuration(data, CODEC_NAME, require_configuration=False)
        configuration = dict(configuration or {})
        unknown = set(configuration) - {"level", "quanta", "precision"}
        if unknown:
            raise ValueError(f"{CODEC_NAME}: unknown configuration keys {sorted(unknown)}")
        return cls(**configuration)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, JSON]:
        return {
            "name": CODEC_NAME,
            "configuration": {
                "level": self.level,
                "quanta": self.quanta,
                "precision": self.precision,
            },
        }

    def evolve_from_array_spec(self, array_spec: ArraySpec) -> Self:
        fill = array_spec.fill_value
        if isinstance(fill, float | np.floating) and not math.isfinite(float(fill)):
            raise ValueError(
                f"{CODEC_NAME}: the fill value {fill} cannot be stored (chunks at the array's "
                "edge are padded with it): give a finite one, e.g. zarr.create_array(..., "
                "fill_value=0.0), or with xarray encoding={'var': {..., 'fill_value': 0.0}}"
            )
        return self

    def validate(self, *, shape: tuple[int, ...], dtype: Any, chunk_grid: ChunkGrid) -> None:
        native = _native_dtype(dtype)
        try:
            name = native.name
        except TypeError:
            name = str(native)
        if native.byteorder not in ("=", "|", "<"):
            name = f"{name} ({native.byteorder} byte order)"
        _core.check_chunk_codec(self.level, self.quanta, self.precision, name)
        if len(shape) == 0:
            raise ValueError(f"{CODEC_NAME}: a 0-dimensional array has no streams to compress")
        # an array or chunk larger than any memory can address is damaged
        # metadata (or an impossible request): refused before numpy is
        # asked for it
        chunk_shape = getattr(chunk_grid, "chunk_shape", shape)
        for what, dims in (("array", shape), ("chunks", chunk_shape)):
            if math.prod(int(d) for d in dims) * native.itemsize >= 2**63:
                raise _core.CorruptDataError(
                    f"{CODEC_NAME}: {what} of shape {tuple(dims)} would hold more bytes than "
                    "any memory can address: the array's metadata is damaged"
                )

    def compute_encoded_size(self, input_byte_length: int, chunk_spec: ArraySpec) -> int:
        raise NotImplementedError(f"{CODEC_NAME} chunks have no fixed size")

    async def _encode_single(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> Buffer | None:
        # C order and aligned (chunks unpickled by Dask may not be aligned)
        values = np.require(chunk_array.as_numpy_array(), requirements=["C_CONTIGUOUS", "ALIGNED"])
        try:
            encoded = await asyncio.to_thread(
                _core.encode_chunk, values, self.level, self.quanta, self.precision
            )
        except ValueError as err:
            raise ValueError(
                f"{CODEC_NAME}: a chunk of shape {values.shape} cannot be written: {err}"
            ) from err
        return chunk_spec.prototype.buffer.from_array_like(encoded)

    async def _decode_single(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> NDBuffer:
        decoded = await asyncio.to_thread(
            _core.decode_chunk,
            chunk_bytes.as_numpy_array(),
            _native_dtype(chunk_spec.dtype).name,
            list(chunk_spec.shape),
        )
        return chunk_spec.prototype.nd_buffer.from_numpy_array(decoded)

    async def _decode_partial_single(
        self, byte_getter: ByteGetter, selection: SelectorTuple, chunk_spec: ArraySpec
    ) -> NDBuffer | None:
        """Decodes only the FLAC frames holding the selected range of the
        last axis (the chunk's bytes are read whole)."""
        chunk_bytes = await byte_getter.get(prototype=chunk_spec.prototype)
        if chunk_bytes is None:
            return None
        if not isinstance(selection, tuple):
            selection = (selection,)
        ndim = len(chunk_spec.shape)
        selection = tuple(selection) + (slice(None),) * (ndim - len(selection))
        first, last, local = _window(selection[ndim - 1], chunk_spec.shape[-1])
        decoded = await asyncio.to_thread(
            _core.decode_chunk,
            chunk_bytes.as_numpy_array(),
            _native_dtype(chunk_spec.dtype).name,
            list(chunk_spec.shape),
            first,
            last,
        )
        picked = decoded[selection[: ndim - 1] + (local,)]
        return chunk_spec.prototype.nd_buffer.from_numpy_array(np.asarray(picked))


def _window(selector: Any, size: int) -> tuple[int, int, Any]:
    """The samples [first, last) a last-axis selector needs, and the same
    selector relative to `first`."""
    if isinstance(selector, slice):
        start, stop, step = selector.indices(size)
        if step < 0 or stop <= start:
            return 0, size, selector
        return start, stop, slice(0, stop - start, step)
    if isinstance(selector, int | np.integer):
        index = int(selector) % size if size else 0
        return index, index + 1, 0
    indices = np.asarray(selector)
    if indices.dtype == bool or indices.size == 0:
        return 0, size, selector
    indices = np.where(indices < 0, indices + size, indices)
    first, last = int(indices.min()), int(indices.max()) + 1
    return first, last, indices - first
