"""The `flacarray.flac` Arrow extension type for pyarrow, and zero-copy
conversion between FlacArray and Arrow.

Storage: struct<stream: large_binary, offset: double, gain: double>, one
row per stream. The type metadata holds only what decoding needs,
`{"format":3,"dtype":...}`, so every column of one dtype has one type and
tables from many files concatenate; types compare equal exactly when their
rows decode the same way. A whole array's leading shape and level travel as
field metadata (`flacarray.leading_shape`, `flacarray.level`). The rules
for the metadata (layouts 1 to 3, unknown fields) and for the rows (a whole
FLAC stream, or a frame row for a stream that fits one frame) live in the
Rust core.
"""

from __future__ import annotations

import json
import operator
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from . import _core

if TYPE_CHECKING:
    from .array import FlacArray

EXTENSION_NAME = "flacarray.flac"
LEADING_SHAPE_KEY = b"flacarray.leading_shape"
LEVEL_KEY = b"flacarray.level"
STREAM_SIZE_KEY = b"flacarray.stream_size"
DIGEST_KEY = b"flacarray.digest"
STORAGE_NAMES = ("stream", "offset", "gain")


def storage_type() -> pa.DataType:
    """The storage struct of a `flacarray.flac` column.

    >>> from flacarray.arrow import storage_type
    >>> [f.name for f in storage_type()]
    ['stream', 'offset', 'gain']
    """
    return pa.struct(
        [
            pa.field("stream", pa.large_binary()),
            pa.field("offset", pa.float64()),
            pa.field("gain", pa.float64()),
        ]
    )


def _is_storage(arrow_type: pa.DataType) -> bool:
    return (
        pa.types.is_struct(arrow_type)
        and tuple(arrow_type.field(i).name for i in range(arrow_type.num_fields)) == STORAGE_NAMES
    )


class FlacExtensionType(pa.ExtensionType):
    """pyarrow extension type `flacarray.flac` (FLAC-compressed streams).

    `FlacExtensionType("float64")` is the type of float64 rows; two types
    are equal when their dtypes are. `legacy` holds what a layout-1 column
    said about its array (stream_size, leading_shape, level), if anything.
    """

    def __init__(
        self, dtype: str, storage: pa.DataType | None = None, legacy: dict | None = None
    ) -> None:
        if isinstance(dtype, dict):  # metadata as a dict, any layout version
            dtype, legacy = _core.parse_flac_metadata(json.dumps(dtype))
        self.dtype = str(dtype)
        self.metadata_json = _core.flac_metadata_json(self.dtype)
        self.legacy = legacy
        storage = storage_type() if storage is None else storage
        if not _is_storage(storage):
            raise TypeError(f"flacarray.flac storage must be {storage_type()}, got {storage}")
        pa.ExtensionType.__init__(self, storage, EXTENSION_NAME)

    @property
    def flac_metadata(self) -> dict:
        """The type metadata, as written: `{"format": 3, "dtype": ...}`."""
        return json.loads(self.metadata_json)

    def __arrow_ext_serialize__(self) -> bytes:
        return self.metadata_json.encode()

    @classmethod
    def __arrow_ext_deserialize__(
        cls, storage_type: pa.DataType, serialized: bytes
    ) -> FlacExtensionType:
        dtype, legacy = _core.parse_flac_metadata(serialized.decode("utf-8", "replace"))
        return _shared_type(dtype, storage_type, legacy)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FlacExtensionType):
            return self.dtype == other.dtype and self.storage_type == other.storage_type
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash((EXTENSION_NAME, self.dtype, str(self.storage_type)))

    def __reduce__(self) -> tuple:
        return FlacExtensionType, (self.dtype, self.storage_type, self.legacy)


def register() -> None:
    """Registers the type with pyarrow (done when this module is imported,
    which `import flacarray` arranges as soon as pyarrow is imported)."""
    try:
        pa.register_extension_type(FlacExtensionType("int32"))
    except pa.ArrowKeyError:
        pass  # already registered


#: Types pyarrow deserialized, kept alive for the whole session.
_TYPES: dict = {}


def _shared_type(dtype: str, storage: pa.DataType, legacy: dict | None) -> FlacExtensionType:
    """One long-lived instance per distinct type. pyarrow's C++ side holds
    these through its worker threads; if one of those threads dropped the
    last reference while the interpreter was exiting, the process aborted
    ("terminate called without an active exception", compare
    apache/arrow#34314: about 1 run in 5 of `import flacarray;
    pq.read_table(...)`). With the instances kept here, the last reference
    always goes away in the main thread."""
    key = (dtype, str(storage), json.dumps(legacy, sort_keys=True))
    found = _TYPES.get(key)
    if found is None:
        found = _TYPES.setdefault(key, FlacExtensionType(dtype, storage, legacy))
    return found


def _float_column(values: np.ndarray | None, rows: int) -> pa.Array:
    if values is None:
        return pa.nulls(rows, pa.float64())
    return pa.array(np.asarray(values, dtype=np.float64))


def to_arrow(fa: FlacArray) -> pa.ExtensionArray:
    """A `flacarray.flac` extension array over the FlacArray's bytes. When
    the streams lie back to back (always, after compression or reading) and
    are longer than one frame the bytes are shared with the FlacArray, not
    copied; streams that fit one frame are stored as frame rows (a copy)
    and 64-bit data read from a format 0 file is first re-encoded to
    2-channel streams.

    >>> import numpy as np
    >>> from flacarray import FlacArray
    >>> from flacarray.arrow import to_arrow
    >>> to_arrow(FlacArray.from_array(np.zeros((3, 8), np.float32))).type.flac_metadata
    {'format': 3, 'dtype': 'float32'}
    """
    fa = fa._column_layout()
    parts = fa._parts
    starts, nbytes = parts.stream_starts, parts.stream_nbytes
    ends = starts + nbytes
    contiguous = fa.nstreams > 0 and starts[0] == 0 and np.array_equal(starts[1:], ends[:-1])
    frame_rows = _core.frame_row_values(parts)
    if frame_rows is not None:
        data, offsets = frame_rows
    elif fa.nstreams == 0:
        data, offsets = fa.compressed, np.zeros(1, dtype=np.int64)
    elif contiguous and ends[-1] == fa.compressed.size:
        data = fa.compressed
        offsets = np.concatenate([starts, ends[-1:]]).astype(np.int64)
    else:
        data = np.concatenate([fa.compressed[s:e] for s, e in zip(starts, ends, strict=True)])
        offsets = np.concatenate([[0], np.cumsum(nbytes)]).astype(np.int64)
    streams = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), fa.nstreams, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    storage = pa.StructArray.from_arrays(
        [
            streams,
            _float_column(parts.stream_offsets, fa.nstreams),
            _float_column(parts.stream_gains, fa.nstreams),
        ],
        fields=list(storage_type()),
    )
    return pa.ExtensionArray.from_storage(_shared_type(fa.dtype.name, storage.type, None), storage)


def array_field(fa: FlacArray, name: str = "flac") -> pa.Field:
    """A field for `to_arrow(fa)` carrying what the column alone does not
    say as field metadata: the array's leading shape, level and stream
    length, and the digest of its type, shape, level, offsets and gains.

    >>> import numpy as np
    >>> from flacarray import FlacArray
    >>> from flacarray.arrow import array_field
    >>> meta = array_field(FlacArray.from_array(np.zeros((2, 3, 8), np.int32)), "x").metadata
    >>> meta[b"flacarray.leading_shape"], meta[b"flacarray.stream_size"]
    (b'[2,3]', b'8')
    """
    metadata = {k.encode(): v.encode() for k, v in _core.column_metadata(fa._parts).items()}
    return pa.field(name, _shared_type(fa.dtype.name, storage_type(), None), metadata=metadata)


def _field_facts(field: pa.Field) -> dict[str, Any]:
    """The field metadata's facts about the whole array (absent: None); a
    value that does not parse means damage."""
    meta = field.metadata or {}
    try:
        leading = json.loads(meta[LEADING_SHAPE_KEY]) if LEADING_SHAPE_KEY in meta else None
        if leading is not None and not (
            isinstance(leading, list)
            and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in leading)
        ):
            raise ValueError(leading)
        level = int(meta[LEVEL_KEY]) if LEVEL_KEY in meta else None
        size = int(meta[STREAM_SIZE_KEY]) if STREAM_SIZE_KEY in meta else None
        if size is not None and size < 0:
            raise ValueError(size)
    except (ValueError, TypeError) as err:
        raise _core.CorruptDataError(
            f"column '{field.name}': damaged field metadata ({err})"
        ) from None
    digest = meta[DIGEST_KEY].decode("utf-8", "replace") if DIGEST_KEY in meta else None
    # what our writers record: a field carrying any of it is ours
    ours = meta.get(b"ARROW:extension:name") == b"flacarray.flac" or any(
        key.startswith(b"flacarray.") for key in meta
    )
    return {"leading": leading, "level": level, "stream_size": size, "digest": digest, "ours": ours}


def _checked_shape(shape: Any) -> tuple[int, ...]:
    """`shape=` as a tuple of non-negative integers, or a ValueError."""
    try:
        dims = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise ValueError(f"shape must be a sequence of integers, got {shape!r}") from None
    if not dims or any(d < 0 for d in dims):
        raise ValueError(f"shape must be non-negative integers, at least one, got {dims}")
    return dims


def _streams_as_binary(streams: pa.Array) -> pa.Array:
    if pa.types.is_binary_view(streams.type):
        return streams.cast(pa.large_binary())
    return streams


class ColumnRead(NamedTuple):
    """What `from_arrow` found in a column: the array's parts and what to
    check them against."""

    #: The array's parts (sharing the column's bytes where it can).
    parts: _core.ArrayParts
    #: The FLAC channels every stream must have (None: a layout-1 column).
    channels: int | None
    #: The field metadata's digest, if recorded.
    digest: str | None
    #: The shape the field metadata records, if any.
    recorded_shape: tuple[int, ...] | None


def from_arrow(
    obj: pa.Array | pa.ChunkedArray | pa.Table,
    shape: tuple[int, ...] | None = None,
    dtype: npt.DTypeLike | None = None,
) -> ColumnRead:
    """The parts of a FlacArray held by a `flacarray.flac` array, chunked
    array, or one-column table (or a bare storage struct, as DuckDB or a
    reader without the extension type returns it: its dtype is `dtype`, or
    recovered from the streams). The bytes are shared, not copied, when the
    column is a single Binary/LargeBinary chunk. The leading shape is
    `shape[:-1]` when given, else the field's metadata, else one axis.
    `FlacArray.from_arrow` builds the array from these parts.

    >>> import numpy as np
    >>> from flacarray import FlacArray
    >>> from flacarray.arrow import from_arrow
    >>> parts = from_arrow(FlacArray.from_array(np.zeros((2, 8), np.int64)).to_arrow()).parts
    >>> parts.dtype, parts.shape
    ('int64', (2, 8))
    """
    if shape is not None:
        shape = _checked_shape(shape)
    facts: dict[str, Any] = {"leading": None, "level": None, "stream_size": None, "digest": None}
    if isinstance(obj, pa.Table):
        if obj.num_columns != 1:
            raise ValueError("from_arrow takes a column, not a table of several columns")
        facts = _field_facts(obj.schema.field(0))
        obj = obj.column(0)
    if isinstance(obj, pa.ChunkedArray):
        if obj.num_chunks == 0:  # (combining no chunks loses the extension type)
            column_type = obj.type
            storage_kind = getattr(column_type, "storage_type", column_type)
            obj = pa.array([], type=storage_kind)
            if isinstance(column_type, pa.ExtensionType):
                obj = pa.ExtensionArray.from_storage(column_type, obj)
        else:
            obj = obj.combine_chunks() if obj.num_chunks != 1 else obj.chunk(0)
    if not isinstance(obj, pa.Array):
        raise TypeError(
            "expected a flacarray.flac pyarrow array, chunked array or one-column table, "
            f"got {type(obj).__name__}"
        )
    legacy = None
    if isinstance(obj, pa.ExtensionArray) and isinstance(obj.type, FlacExtensionType):
        if dtype is not None and str(np.dtype(dtype)) != obj.type.dtype:
            raise ValueError(f"the column holds {obj.type.dtype}, not {np.dtype(dtype)}")
        dtype, legacy, storage = obj.type.dtype, obj.type.legacy, obj.storage
    elif isinstance(obj, pa.StructArray) and _is_storage(obj.type):
        storage = obj
    elif facts.get("ours"):
        raise _core.CorruptDataError(
            f"the column's field metadata marks it flacarray.flac, but its type is {obj.type}"
        )
    else:
        raise TypeError(f"expected a flacarray.flac extension array, got type {obj.type}")
    if storage.null_count:
        raise ValueError("a FlacArray has every stream: the column has null rows")
    streams = _streams_as_binary(storage.field(0))
    if streams.null_count:
        raise ValueError("a FlacArray has every stream: the column has null streams")
    rows = len(streams)
    offset_type = np.int64 if pa.types.is_large_binary(streams.type) else np.int32
    bufs = streams.buffers()
    offsets = np.frombuffer(bufs[1], dtype=offset_type)[streams.offset : streams.offset + rows + 1]
    offsets = offsets.astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    data = data[offsets[0] : offsets[-1]]
    starts, nbytes = offsets[:-1] - offsets[0], np.diff(offsets)
    if rows == 0:
        # an array without streams keeps its length in the field metadata
        size = shape[-1] if shape else facts["stream_size"]
        if size is None or dtype is None:
            raise ValueError(
                "the column has no rows: give dtype= and shape= to rebuild an empty array"
            )
        samples, channels, has_scales = int(size), None, False
    else:
        channels, _, _ = _core.stream_info(bytes(data[: min(int(nbytes[0]), 1 << 16)]))
        lengths = _core.stream_lengths(data, starts, nbytes)
        samples = int(lengths[0])
        recorded_size = facts["stream_size"] if shape is None else shape[-1]
        if recorded_size is not None and np.any(lengths != recorded_size):
            row = int(np.flatnonzero(lengths != recorded_size)[0])
            raise _core.CorruptDataError(
                f"row {row} holds {int(lengths[row])} samples, the array's streams {recorded_size}"
            )
        if np.any(lengths != samples):
            other = int(lengths[np.flatnonzero(lengths != samples)[0]])
            raise ValueError(
                f"rows have different lengths ({samples} and {other}): a FlacArray needs one "
                "length; decompress the column as lists instead"
            )
        has_scales = storage.field(1).null_count < rows or storage.field(2).null_count < rows
    if dtype is None:
        dtype = _core.dtype_from_channels(channels or 0, has_scales) or "float64"
    dtype = str(np.dtype(dtype))
    float_data = dtype.startswith("float")
    if not float_data and has_scales:
        raise _core.CorruptDataError(
            f"{dtype} rows have offsets or gains: the column does not hold {dtype} data"
        )
    if legacy is not None and legacy.get("stream_size") is not None:
        samples = legacy["stream_size"]
    leading = facts["leading"]
    if leading is None and legacy is not None:
        leading = legacy.get("leading_shape")
    recorded = None
    if leading is not None and int(np.prod(leading, dtype=np.int64)) == rows:
        recorded = tuple(int(d) for d in leading) + (samples,)
    if shape is None:
        shape = recorded if recorded is not None else (rows, samples)
    level = facts["level"]
    if legacy is not None and level is None:
        level = legacy.get("level")
    scales = None, None
    if float_data:
        scales = tuple(
            storage.field(i).to_numpy(zero_copy_only=False).astype(np.float64) for i in (1, 2)
        )
    parts = _core.ArrayParts(
        dtype,
        list(shape),
        np.ascontiguousarray(data),
        np.ascontiguousarray(starts, dtype=np.int64),
        np.ascontiguousarray(nbytes, dtype=np.int64),
        scales[0],
        scales[1],
        5 if level is None else level,
    )
    return ColumnRead(
        parts,
        # layout 2 holds every type in format 1's channel layout
        None if legacy is not None else (2 if np.dtype(dtype).itemsize == 8 else 1),
        facts["digest"],
        recorded,
    )


register()
