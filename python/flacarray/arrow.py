"""The `flacarray.flac` Arrow extension type for pyarrow, and zero-copy
conversion between FlacArray and Arrow.

Storage: struct<stream: large_binary, offset: double, gain: double>, one
row per stream (C order of the leading shape). The metadata is JSON, the
same the Rust core writes: format, dtype, stream_size, leading_shape,
channels, level.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

EXTENSION_NAME = "flacarray.flac"
FORMAT = 1
DTYPES = ("int32", "int64", "float32", "float64")
_FIELDS = ("format", "dtype", "stream_size", "leading_shape", "channels", "level")


def storage_type() -> pa.DataType:
    """The storage struct of a `flacarray.flac` column."""
    return pa.struct(
        [
            pa.field("stream", pa.large_binary()),
            pa.field("offset", pa.float64()),
            pa.field("gain", pa.float64()),
        ]
    )


def check_metadata(meta: dict) -> dict:
    """Validates extension metadata; raises ValueError naming the problem."""
    if not isinstance(meta, dict) or set(meta) != set(_FIELDS):
        raise ValueError(f"flacarray.flac metadata needs exactly the keys {_FIELDS}, got {meta!r}")
    if meta["format"] != FORMAT:
        raise ValueError(f"flacarray.flac metadata format {meta['format']} is not supported")
    if meta["dtype"] not in DTYPES:
        raise ValueError(f"flacarray.flac metadata has unsupported dtype {meta['dtype']!r}")
    wide = meta["dtype"] in ("int64", "float64")
    allowed = {1, 2} if meta["dtype"] == "float64" else ({2} if wide else {1})
    if meta["channels"] not in allowed:
        raise ValueError(f"{meta['dtype']} data cannot have {meta['channels']} FLAC channels")
    return meta


class FlacExtensionType(pa.ExtensionType):
    """pyarrow extension type `flacarray.flac` (FLAC-compressed streams)."""

    def __init__(self, metadata: dict, storage: pa.DataType | None = None):
        self.flac_metadata = check_metadata(dict(metadata))
        storage = storage_type() if storage is None else storage
        pa.ExtensionType.__init__(self, storage, EXTENSION_NAME)

    def __arrow_ext_serialize__(self) -> bytes:
        ordered = {key: self.flac_metadata[key] for key in _FIELDS}
        return json.dumps(ordered, separators=(",", ":")).encode()

    @classmethod
    def __arrow_ext_deserialize__(cls, storage_type, serialized):
        try:
            meta = json.loads(serialized.decode())
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"invalid flacarray.flac metadata: {err}") from err
        return cls(meta, storage_type)

    def __reduce__(self):
        return FlacExtensionType, (self.flac_metadata, self.storage_type)


def register() -> None:
    """Registers the type with pyarrow (done on import of flacarray)."""
    try:
        pa.register_extension_type(FlacExtensionType(_example_metadata()))
    except pa.ArrowKeyError:
        pass  # already registered


def _example_metadata() -> dict:
    return {
        "format": FORMAT,
        "dtype": "int32",
        "stream_size": None,
        "leading_shape": None,
        "channels": 1,
        "level": 5,
    }


def _float_column(values, rows: int) -> pa.Array:
    if values is None:
        return pa.nulls(rows, pa.float64())
    return pa.array(np.asarray(values, dtype=np.float64))


def to_arrow(fa) -> pa.ExtensionArray:
    """A `flacarray.flac` extension array over the FlacArray's bytes. When
    the streams lie back to back (always, after compression or reading) the
    bytes are shared with the FlacArray, not copied (64-bit data read from
    a format 0 file is first re-encoded to 2-channel streams)."""
    fa = fa._format1()
    starts, nbytes = fa._starts, fa._nbytes
    ends = starts + nbytes
    contiguous = fa.nstreams > 0 and starts[0] == 0 and np.array_equal(starts[1:], ends[:-1])
    if contiguous and ends[-1] == fa.compressed.size:
        data = fa.compressed
        offsets = np.concatenate([starts, ends[-1:]]).astype(np.int64)
    else:
        data = np.concatenate([fa.compressed[s:e] for s, e in zip(starts, ends, strict=True)])
        offsets = np.concatenate([[0], np.cumsum(nbytes)]).astype(np.int64)
    streams = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), fa.nstreams, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    storage = pa.StructArray.from_arrays(
        [streams, _float_column(fa._offsets, fa.nstreams), _float_column(fa._gains, fa.nstreams)],
        fields=list(storage_type()),
    )
    wide = fa.dtype.name in ("int64", "float64")
    meta = {
        "format": FORMAT,
        "dtype": fa.dtype.name,
        "stream_size": int(fa.stream_size),
        "leading_shape": [int(d) for d in fa.leading_shape],
        "channels": 2 if wide else 1,
        "level": fa.level,
    }
    return pa.ExtensionArray.from_storage(FlacExtensionType(meta), storage)


def from_arrow(obj):
    """The parts of a FlacArray held by a `flacarray.flac` array, chunked
    array, or one-column table. The bytes are shared, not copied, when the
    column is a single chunk."""
    if isinstance(obj, pa.Table):
        if obj.num_columns != 1:
            raise ValueError("from_arrow takes a column, not a table of several columns")
        obj = obj.column(0)
    if isinstance(obj, pa.ChunkedArray):
        obj = obj.combine_chunks() if obj.num_chunks != 1 else obj.chunk(0)
    if not isinstance(obj, pa.ExtensionArray) or not isinstance(obj.type, FlacExtensionType):
        raise TypeError(f"expected a flacarray.flac extension array, got type {obj.type}")
    meta = obj.type.flac_metadata
    if meta["stream_size"] is None:
        raise ValueError("rows have different lengths (no stream_size): not a whole FlacArray")
    storage = obj.storage
    if storage.null_count:
        raise ValueError("a FlacArray has every stream: the column has null rows")
    streams = storage.field(0)
    if streams.null_count:
        raise ValueError("a FlacArray has every stream: the column has null streams")
    rows = len(streams)
    offset_type = np.int64 if pa.types.is_large_binary(streams.type) else np.int32
    bufs = streams.buffers()
    offsets = np.frombuffer(bufs[1], dtype=offset_type)[streams.offset : streams.offset + rows + 1]
    offsets = offsets.astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    data = data[offsets[0] : offsets[-1]]
    lead = meta["leading_shape"] if meta["leading_shape"] is not None else [rows]
    scales = None, None
    if meta["dtype"].startswith("float"):
        scales = tuple(
            storage.field(i).to_numpy(zero_copy_only=False).astype(np.float64) for i in (1, 2)
        )
    return {
        "dtype": meta["dtype"],
        "shape": tuple(lead) + (meta["stream_size"],),
        "compressed": data,
        "stream_starts": offsets[:-1] - offsets[0],
        "stream_nbytes": np.diff(offsets),
        "stream_offsets": scales[0],
        "stream_gains": scales[1],
        "level": meta["level"],
    }
