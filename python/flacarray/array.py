"""The FlacArray class: a compressed N-D array held in memory."""

from __future__ import annotations

import math
from typing import Any, Literal, SupportsIndex, overload

import numpy as np
import numpy.typing as npt

from . import _core
from ._types import DTypeLike, H5Group, KeepMask, KeptIndices, PathLike, Samples, Steps, ZarrTarget
from .selection import index_tuples, keep_flat_indices, leading_selection, sample_range

SUPPORTED_DTYPES: tuple[str, ...] = tuple(_core.DTYPES)
"""The element types a FlacArray holds (the core's table of types)."""


def check_dtype(dtype: DTypeLike) -> np.dtype:
    """Returns `dtype` as a numpy dtype, or raises TypeError if unsupported."""
    dt = np.dtype(dtype)
    if dt.name not in SUPPORTED_DTYPES:
        *rest, last = SUPPORTED_DTYPES
        raise TypeError(f"unsupported dtype '{dt}': flacarray handles {', '.join(rest)} and {last}")
    return dt


def thread_count(use_threads: bool) -> int | None:
    """Maps the `use_threads` flag to the core's thread count (None = all cores)."""
    return None if use_threads else 1


def per_stream(
    name: str, value: Steps | None, leading_shape: tuple[int, ...]
) -> list[float] | None:
    """Normalizes a scalar or per-stream `quanta`/`precision` to a flat list."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return [float(arr)]
    expected = leading_shape if leading_shape else (1,)
    if arr.shape != expected:
        raise ValueError(
            f"{name} must be a scalar or have the leading shape {expected}, got shape {arr.shape}"
        )
    return arr.ravel().tolist()


def _frozen(values: npt.ArrayLike, dtype: DTypeLike, copy: bool) -> np.ndarray:
    """A read-only, contiguous, native-order 1-D array of `values`."""
    if copy:
        arr = np.array(values, dtype=dtype, order="C", copy=True).reshape(-1)
    else:
        arr = np.ascontiguousarray(values, dtype=dtype).reshape(-1).view()
    arr.flags.writeable = False
    return arr


def _frozen_f64(values: npt.ArrayLike | None, copy: bool) -> np.ndarray | None:
    return None if values is None else _frozen(values, np.float64, copy)


def _native(arr: np.ndarray) -> np.ndarray:
    """`arr` in the machine's byte order (FITS data is big-endian)."""
    if arr.dtype.byteorder not in ("=", "|") and not arr.dtype.isnative:
        return arr.astype(arr.dtype.newbyteorder("="))
    return arr


def _unpickle(
    dtype: str,
    shape: tuple[int, ...],
    compressed: Any,
    starts: Any,
    nbytes: Any,
    offsets: Any,
    gains: Any,
    level: int,
) -> FlacArray:
    """A FlacArray from its pickled parts (sharing their buffers)."""
    fa = FlacArray.__new__(FlacArray)
    fa._init(dtype, shape, compressed, starts, nbytes, offsets, gains, level, copy=False)
    return fa


class FlacArray:
    """A FLAC-compressed N-dimensional array.

    The last axis of the original array holds the streams; the leading axes
    index them. All streams' FLAC bytes are concatenated in `compressed`;
    `stream_starts` and `stream_nbytes` locate each one. Float arrays carry
    one offset and gain per stream: value = offset + int / gain.

    Build one with `FlacArray.from_array`, `read_hdf5` or `read_zarr`; passing
    another FlacArray makes an independent copy. Indexing decodes only what
    the key selects, with numpy's rules.

    >>> import numpy as np
    >>> from flacarray import FlacArray
    >>> arr = np.arange(2 * 3 * 100, dtype=np.int32).reshape(2, 3, 100)
    >>> fa = FlacArray.from_array(arr)
    >>> fa
    <FlacArray int32 shape=(2, 3, 100) bytes=...>
    >>> fa.leading_shape, fa.stream_size, fa.nstreams
    ((2, 3), 100, 6)
    >>> bool((fa[1, :, 10:13] == arr[1, :, 10:13]).all())
    True
    >>> FlacArray(fa) == fa
    True
    """

    # Distribution over MPI ranks (see `from_array(..., mpi_comm=)`).
    _mpi_comm: Any
    _mpi_dist: list[tuple[int, int]] | None
    _global_shape: tuple[int, ...]
    _global_nbytes: int

    def __init__(
        self,
        other: FlacArray | None = None,
        *,
        dtype: DTypeLike | None = None,
        shape: tuple[int, ...] | list[int] | None = None,
        compressed: npt.ArrayLike | None = None,
        stream_starts: npt.ArrayLike | None = None,
        stream_nbytes: npt.ArrayLike | None = None,
        stream_offsets: npt.ArrayLike | None = None,
        stream_gains: npt.ArrayLike | None = None,
        level: int = 5,
    ) -> None:
        if other is not None:
            if not isinstance(other, FlacArray):
                raise TypeError("FlacArray(other) copies another FlacArray")
            dtype, shape, level = other._dtype, other._shape, other._level
            compressed, stream_starts, stream_nbytes = (
                other._compressed,
                other._starts,
                other._nbytes,
            )
            stream_offsets, stream_gains = other._offsets, other._gains
        self._init(
            dtype,
            shape,
            compressed,
            stream_starts,
            stream_nbytes,
            stream_offsets,
            stream_gains,
            level,
            copy=True,
        )
        if other is not None and other._mpi_comm is not None:
            self._mpi_comm = other._mpi_comm
            self._mpi_dist = list(other._mpi_dist or [])
            self._global_shape = other._global_shape
            self._global_nbytes = other._global_nbytes

    def _init(
        self,
        dtype: Any,
        shape: Any,
        compressed: Any,
        starts: Any,
        nbytes: Any,
        offsets: Any,
        gains: Any,
        level: Any,
        copy: bool,
    ) -> None:
        if dtype is None or shape is None or compressed is None:
            raise ValueError("FlacArray needs dtype, shape and compressed bytes")
        self._dtype = check_dtype(dtype)
        self._shape = tuple(int(s) for s in shape)
        if len(self._shape) == 0:
            raise ValueError("a FlacArray has at least one dimension")
        if isinstance(level, bool) or not isinstance(level, int | np.integer):
            raise TypeError(f"level must be an integer, got {level!r}")
        self._level = int(level)
        # Read-only buffers: what was validated is what decodes.
        self._compressed = _frozen(compressed, np.uint8, copy)
        self._starts = _frozen(starts, np.int64, copy)
        self._nbytes = _frozen(nbytes, np.int64, copy)
        self._offsets = _frozen_f64(offsets, copy)
        self._gains = _frozen_f64(gains, copy)
        self._parts = _core.ArrayParts(
            self._dtype.name,
            list(self._shape),
            self._compressed,
            self._starts,
            self._nbytes,
            self._offsets,
            self._gains,
            self._level,
        )
        # Not distributed until `_distribute` says otherwise.
        self._mpi_comm = None
        self._mpi_dist = None
        self._global_shape = self._shape
        self._global_nbytes = int(self._compressed.nbytes)
        # Check everything now (bounds, counts, each stream's header against
        # the shape, scales) rather than at the first decompression.
        _core.validate(self._parts)

    # ---- construction -------------------------------------------------------

    @classmethod
    def _from_core(cls, parts: _core.ArrayParts) -> FlacArray:
        """From parts the core made (fresh arrays: no copies)."""
        fa = cls.__new__(cls)
        fa._init(
            parts.dtype,
            parts.shape,
            parts.compressed,
            parts.starts,
            parts.nbytes,
            parts.offsets,
            parts.gains,
            parts.level,
            copy=False,
        )
        return fa

    def _core_parts(self) -> _core.ArrayParts:
        """The parts the core takes (sharing this array's buffers)."""
        return self._parts

    def _format1(self) -> FlacArray:
        """This array with 64-bit data in 2-channel streams (as format 1
        requires; arrays read from format 0 files have 1-channel streams)."""
        parts = _core.to_format1(self._parts)
        return self if parts is None else FlacArray._from_core(parts)

    @classmethod
    def from_array(
        cls,
        arr: npt.ArrayLike,
        level: int = 5,
        quanta: Steps | None = None,
        precision: Steps | None = None,
        mpi_comm: Any = None,
        use_threads: bool | None = None,
    ) -> FlacArray:
        """Compresses a numpy array whose last axis holds the streams.

        Args:
            arr: array of any dimension >= 1 of a type in `SUPPORTED_DTYPES`
                (int32, int64, float32, float64, ...).
            level: FLAC compression level, 0 (fastest) to 8 (smallest).
            quanta: float data only: the value of one integer step, a scalar
                or one per stream (an array of the leading shape).
            precision: float data only, instead of quanta: decimal digits kept
                relative to each stream's standard deviation.
            mpi_comm: an mpi4py communicator: `arr` is this rank's part of a
                global array split along its leading axis (a 1-D part is one
                stream); every rank must call this. The result knows the
                global shape and each rank's range (`mpi_dist`).
            use_threads: compress streams in parallel on all cores (default:
                yes, except under MPI, where each rank uses one thread).

        Without quanta or precision, each float stream's peak-to-peak range
        spans 2^30 integer steps (2^24 for float32).

        >>> import numpy as np
        >>> from flacarray import FlacArray
        >>> data = np.cumsum(np.random.default_rng(0).normal(0, 0.1, (4, 1000)), axis=1)
        >>> fa = FlacArray.from_array(data, quanta=1e-3)
        >>> fa.shape, fa.dtype.name
        ((4, 1000), 'float64')
        >>> bool(np.abs(fa.to_array() - data).max() <= 0.5e-3)
        True
        """
        if mpi_comm is None:
            return cls._compress(arr, level, quanta, precision, use_threads is not False)
        from . import mpi

        local = np.asarray(arr) if arr is not None else None
        props = mpi.global_array_properties(
            None if local is None else local.shape,
            None if local is None else local.dtype,
            mpi_comm,
        )
        error: BaseException | None = None
        fa = None
        try:
            if local is None or local.size == 0:  # this rank holds no streams
                dtype = np.dtype(props["dtype"])
                fa = cls._empty(dtype, (0, *props["shape"][1:]), level)
            else:
                fa = cls._compress(arr, level, quanta, precision, bool(use_threads))
        except (ValueError, TypeError, MemoryError) as err:
            error = err
        mpi.raise_everywhere(mpi_comm, error)
        assert fa is not None
        fa._distribute(mpi_comm, props["dist"], tuple(props["shape"]))
        return fa

    @classmethod
    def _compress(
        cls,
        arr: npt.ArrayLike,
        level: int,
        quanta: Steps | None,
        precision: Steps | None,
        use_threads: bool,
    ) -> FlacArray:
        if isinstance(arr, np.ma.MaskedArray):
            raise TypeError(
                "masked arrays are not supported: FLAC streams cannot hold a mask; "
                "compress arr.filled(value) or arr.data, and store the mask separately"
            )
        arr = _native(np.asarray(arr))
        check_dtype(arr.dtype)
        if arr.ndim == 0:
            raise ValueError("cannot compress a 0-dimensional array; streams lie on the last axis")
        if arr.size == 0:
            raise ValueError(f"cannot compress an empty array (shape {arr.shape})")
        leading = arr.shape[:-1]
        q = per_stream("quanta", quanta, leading)
        p = per_stream("precision", precision, leading)
        # (the core refuses quanta with precision, and steps for integers)
        if isinstance(level, bool) or not isinstance(level, int | np.integer):
            raise TypeError(f"level must be an integer, got {level!r}")
        # C order and aligned (arrays unpickled from Dask or made by
        # np.frombuffer may be neither): the core reads the memory directly.
        data = np.require(arr, requirements=["C_CONTIGUOUS", "ALIGNED"])
        parts = _core.compress(data, int(level), q, p, thread_count(use_threads))
        return cls._from_core(parts)

    @classmethod
    def _empty(cls, dtype: Any, shape: tuple[int, ...], level: int) -> FlacArray:
        """An array of `shape` without streams (a leading axis of 0)."""
        dtype = check_dtype(dtype)
        scales = np.zeros(0) if dtype.kind == "f" else None
        none = np.zeros(0, dtype=np.int64)
        return _unpickle(
            dtype.name, tuple(shape), np.zeros(0, np.uint8), none, none, scales, scales, level
        )

    def _distribute(
        self, mpi_comm: Any, mpi_dist: list[tuple[int, int]], global_shape: tuple[int, ...]
    ) -> None:
        """Marks this array as this rank's part of a distributed one."""
        from . import mpi

        self._mpi_comm = mpi_comm
        self._mpi_dist = [(int(a), int(b)) for a, b in mpi_dist]
        self._global_shape = tuple(int(d) for d in global_shape)
        self._global_nbytes = mpi.global_bytes(self.nbytes, self._starts, mpi_comm)[0]

    # ---- properties ---------------------------------------------------------

    @property
    def mpi_comm(self) -> Any:
        """The MPI communicator the array is distributed over (None if not)."""
        return self._mpi_comm

    @property
    def mpi_dist(self) -> list[tuple[int, int]]:
        """Each rank's (first, last) range of the global leading axis."""
        if self._mpi_dist is None:
            return [(0, self._global_shape[0] if len(self._shape) > 1 else 1)]
        return list(self._mpi_dist)

    @property
    def global_shape(self) -> tuple[int, ...]:
        """The shape of the whole array across all ranks (`shape` without MPI)."""
        return self._global_shape

    @property
    def global_leading_shape(self) -> tuple[int, ...]:
        """The global shape without the stream axis."""
        return self._global_shape[:-1]

    @property
    def global_nstreams(self) -> int:
        """The number of streams across all ranks."""
        return int(np.prod(self.global_leading_shape, dtype=np.int64))

    @property
    def global_nbytes(self) -> int:
        """The compressed bytes across all ranks."""
        return self._global_nbytes

    @property
    def shape(self) -> tuple:
        """Shape of the uncompressed array."""
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        """Element type of the uncompressed array."""
        return self._dtype

    @property
    def typestr(self) -> str:
        """The dtype's name ("float64", ...)."""
        return self._dtype.name

    @property
    def leading_shape(self) -> tuple:
        """Shape of the array of streams (every axis but the last)."""
        return self._shape[:-1]

    @property
    def stream_size(self) -> int:
        """Samples per stream."""
        return self._shape[-1]

    @property
    def nstreams(self) -> int:
        """Number of streams."""
        return int(self._starts.size)

    @property
    def nbytes(self) -> int:
        """Total compressed size in bytes."""
        return int(self._compressed.nbytes)

    @property
    def level(self) -> int:
        """FLAC compression level the streams were written with (5 when the
        file that held them did not record it)."""
        return self._level

    @property
    def compressed(self) -> np.ndarray:
        """All streams' FLAC bytes, concatenated (uint8, read-only)."""
        return self._compressed

    def _leading_view(self, flat: np.ndarray | None, dtype: DTypeLike | None = None) -> Any:
        """A read-only view (or copy, for another dtype) of the leading shape."""
        if flat is None:
            return None
        shape = self.leading_shape if self.leading_shape else (1,)
        out = flat.reshape(shape)
        if dtype is not None and out.dtype != dtype:
            out = out.astype(dtype)
            out.flags.writeable = False
        return out

    @property
    def stream_starts(self) -> np.ndarray:
        """Byte offset of each stream in `compressed` (leading shape)."""
        return self._leading_view(self._starts)

    @property
    def stream_nbytes(self) -> np.ndarray:
        """Byte length of each stream (leading shape)."""
        return self._leading_view(self._nbytes)

    @property
    def stream_offsets(self) -> np.ndarray | None:
        """Per-stream offsets of float data (in the data's dtype), else None."""
        return self._leading_view(self._offsets, self._dtype)

    @property
    def stream_gains(self) -> np.ndarray | None:
        """Per-stream gains of float data (in the data's dtype), else None."""
        return self._leading_view(self._gains, self._dtype)

    # ---- decompression ------------------------------------------------------

    def _decode(
        self, streams: np.ndarray, first: int, last: int, threads: int | None
    ) -> np.ndarray:
        streams = np.ascontiguousarray(streams, dtype=np.int64)
        # numpy allocates (a failure is a MemoryError); the core fills it.
        out = np.empty((streams.size, max(0, last - first)), dtype=self._dtype)
        _core.decompress_into(self._parts, streams, first, last, out, threads)
        return out

    @overload
    def to_array(
        self,
        keep: KeepMask | None = None,
        stream_slice: slice | None = None,
        keep_indices: Literal[False] = False,
        use_threads: bool = True,
    ) -> Samples: ...

    @overload
    def to_array(
        self,
        keep: KeepMask | None,
        stream_slice: slice | None,
        keep_indices: Literal[True],
        use_threads: bool = True,
    ) -> tuple[Samples, KeptIndices]: ...

    @overload
    def to_array(
        self,
        keep: KeepMask | None = None,
        stream_slice: slice | None = None,
        *,
        keep_indices: Literal[True],
        use_threads: bool = True,
    ) -> tuple[Samples, KeptIndices]: ...

    def to_array(
        self,
        keep: KeepMask | None = None,
        stream_slice: slice | None = None,
        keep_indices: bool = False,
        use_threads: bool = True,
    ) -> Samples | tuple[Samples, KeptIndices]:
        """Decompresses into a numpy array of the original dtype.

        Args:
            keep: optional boolean mask of the leading shape; only the True
                streams are decoded and returned as a 2-D (kept, samples) array.
            stream_slice: optional slice (step 1) of samples to decode.
            keep_indices: also return the kept streams' index tuples
                (None when `keep` is None).
            use_threads: decode streams in parallel on all cores.

        >>> import numpy as np
        >>> from flacarray import FlacArray
        >>> fa = FlacArray.from_array(np.arange(60, dtype=np.int32).reshape(3, 20))
        >>> fa.to_array(stream_slice=slice(0, 3)).tolist()
        [[0, 1, 2], [20, 21, 22], [40, 41, 42]]
        >>> values, kept = fa.to_array(keep=np.array([False, True, True]), keep_indices=True)
        >>> values.shape, kept
        ((2, 20), [(1,), (2,)])
        """
        first, last = sample_range(stream_slice, self.stream_size)
        threads = thread_count(use_threads)
        if keep is None:
            streams = np.arange(self.nstreams, dtype=np.int64)
            out = self._decode(streams, first, last, threads)
            out = out.reshape(self.leading_shape + (last - first,))
            return (out, None) if keep_indices else out
        flat = keep_flat_indices(keep, self.leading_shape)
        out = self._decode(flat, first, last, threads)
        if keep_indices:
            return out, index_tuples(flat, self.leading_shape)
        return out

    def __getitem__(self, key: Any) -> Any:
        """Decompresses a selection, with numpy's indexing rules.

        Leading axes take any numpy index (ints, slices with steps, arrays,
        boolean masks, Ellipsis, None, boolean scalars); the last axis takes
        an int or a slice (any step). Only the selected streams and the
        frames holding the selected sample range are decoded.
        """
        try:
            selection = leading_selection(self._shape, key)
        except (IndexError, ValueError, TypeError) as ours:
            # numpy's own error for a key numpy refuses (its checks run in
            # its order); ours for what only a FlacArray refuses
            probe = np.broadcast_to(np.False_, self._shape)
            try:
                probe[key]
            except (IndexError, ValueError, TypeError) as theirs:
                raise type(theirs)(*theirs.args) from None
            raise ours
        streams, first, last, pick, out_shape, sample_axis = selection
        out = self._decode(streams, first, last, None)
        if pick is not None:
            out = out[:, pick]
        out = out.reshape(out_shape)
        if sample_axis is not None and sample_axis != out.ndim - 1:
            out = np.moveaxis(out, -1, sample_axis)  # rare: None after the samples
        if out.ndim == 0 and not any(
            k is Ellipsis for k in (key if isinstance(key, tuple) else (key,))
        ):
            return out[()]  # a numpy scalar, as numpy gives for integers only
        return out

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError("FlacArray is read-only: compress a new array instead")

    def __len__(self) -> int:
        return self._shape[0]

    @property
    def ndim(self) -> int:
        """Number of dimensions of the uncompressed array."""
        return len(self._shape)

    @property
    def size(self) -> int:
        """Number of elements of the uncompressed array."""
        return math.prod(self._shape)

    def __array__(self, dtype: DTypeLike | None = None, copy: bool | None = None) -> np.ndarray:
        """`np.asarray(fa)`: the whole array, decompressed at once (as
        `to_array()`; a FlacArray has no uncompressed memory to share, so
        `copy=False` is refused)."""
        if copy is False:
            raise ValueError("a FlacArray must be decompressed: np.asarray cannot avoid a copy")
        out = self.to_array()
        return out if dtype is None else out.astype(dtype, copy=False)

    # ---- pickling and copies --------------------------------------------------

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        """Pickles the compressed parts (with protocol 5 the compressed
        bytes go out of band, never copied into the pickle). A distributed
        array arrives as the local array of the rank that pickled it."""
        parts = (
            self._dtype.name,
            self._shape,
            self._compressed,
            self._starts,
            self._nbytes,
            self._offsets,
            self._gains,
            self._level,
        )
        return (_unpickle, parts)

    def __copy__(self) -> FlacArray:
        # the buffers are read-only: a copy may share them
        return _unpickle(*self.__reduce_ex__(5)[1])

    def __deepcopy__(self, memo: dict[int, Any]) -> FlacArray:
        return FlacArray(self)

    # ---- checking and joining -----------------------------------------------

    def verify_stream(self, index: int) -> bool:
        """Decodes stream `index` (flat, C order of the leading shape) whole,
        checking every FLAC frame's CRCs, that its frames end where its
        STREAMINFO says and, where STREAMINFO records one, the MD5 of its
        samples. Returns whether an MD5 was checked; damage raises
        CorruptDataError naming it.

        >>> import numpy as np
        >>> from flacarray import FlacArray
        >>> FlacArray.from_array(np.arange(30, dtype=np.int32).reshape(3, 10)).verify_stream(2)
        True
        """
        if not 0 <= index < self.nstreams:
            raise IndexError(f"stream {index} is out of range for {self.nstreams} streams")
        start, count = int(self._starts[index]), int(self._nbytes[index])
        return bool(_core.verify_stream(self._compressed[start : start + count], self.stream_size))

    @classmethod
    def concatenate(
        cls, arrays: list[FlacArray], leading_shape: tuple[int, ...] | None = None
    ) -> FlacArray:
        """One array holding the streams of `arrays` one after another (their
        compressed bytes joined, nothing re-encoded). They must share dtype
        and stream length. The result's leading shape is `leading_shape`
        (which must hold all their streams), else (total streams,).

        >>> import numpy as np
        >>> from flacarray import FlacArray
        >>> a = FlacArray.from_array(np.arange(20, dtype=np.int32).reshape(2, 10))
        >>> b = FlacArray.from_array(np.arange(40, dtype=np.int32).reshape(4, 10))
        >>> FlacArray.concatenate([a, b], leading_shape=(3, 2)).shape
        (3, 2, 10)
        """
        if not arrays:
            raise ValueError("concatenate needs at least one array")
        first = arrays[0]
        for other in arrays[1:]:
            if (other.dtype, other.stream_size) != (first.dtype, first.stream_size):
                raise ValueError(
                    f"cannot join {other.dtype} streams of {other.stream_size} samples to "
                    f"{first.dtype} streams of {first.stream_size}"
                )
        total = sum(a.nstreams for a in arrays)
        leading = (total,) if leading_shape is None else tuple(int(d) for d in leading_shape)
        if math.prod(leading) != total:
            raise ValueError(f"leading shape {leading} does not hold the {total} streams")
        shifts = np.cumsum([0] + [a.nbytes for a in arrays[:-1]])
        starts = np.concatenate(
            [a._starts + int(s) for a, s in zip(arrays, shifts, strict=True)]
        ).astype(np.int64)

        def joined(values: list[np.ndarray | None]) -> np.ndarray | None:
            if values[0] is None:
                return None
            return np.concatenate([v for v in values if v is not None])

        fa = cls.__new__(cls)
        fa._init(
            first.dtype,
            (*leading, first.stream_size) if leading else (first.stream_size,),
            np.concatenate([a._compressed for a in arrays]),
            starts,
            np.concatenate([a._nbytes for a in arrays]),
            joined([a._offsets for a in arrays]),
            joined([a._gains for a in arrays]),
            first.level,
            copy=False,
        )
        return fa

    # ---- comparison and display ---------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FlacArray):
            return NotImplemented
        same_optional = all(
            (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
            for a, b in ((self._offsets, other._offsets), (self._gains, other._gains))
        )
        return (
            self._dtype == other._dtype
            and self._shape == other._shape
            and np.array_equal(self._starts, other._starts)
            and np.array_equal(self._nbytes, other._nbytes)
            and same_optional
            and np.array_equal(self._compressed, other._compressed)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-looking: like numpy arrays

    def __repr__(self) -> str:
        where = ""
        if self._mpi_comm is not None and self._mpi_dist is not None:
            rank = self._mpi_comm.rank
            first, last = self._mpi_dist[rank]
            where = f" | Rank {rank:04d} {first}-{last - 1} |"
        return f"<FlacArray{where} {self.typestr} shape={self._shape} bytes={self.nbytes}>"

    # ---- containers ---------------------------------------------------------

    def write_hdf5(self, hgrp: H5Group, overwrite: bool = False) -> None:
        """Writes this array into an h5py group (flacarray format 1).

        A group that already holds members is refused (FileExistsError)
        unless `overwrite` is true, and even then only a flacarray group is
        replaced, and only its flacarray datasets and attributes.

        A distributed array (`mpi_comm`) is written by every rank: each
        writes its slab collectively when the file is open with the `mpio`
        driver on every rank, else rank 0 writes every rank's part in turn
        (others may pass None). The file is the same either way, and the
        same as one process writing the whole array.

        >>> import h5py, numpy as np, os, tempfile
        >>> from flacarray import FlacArray
        >>> fa = FlacArray.from_array(np.arange(30, dtype=np.int64).reshape(3, 10))
        >>> path = os.path.join(tempfile.mkdtemp(), "a.h5")
        >>> with h5py.File(path, "w") as hf:
        ...     fa.write_hdf5(hf)
        >>> with h5py.File(path, "r") as hf:
        ...     FlacArray.read_hdf5(hf) == fa
        True
        """
        from . import _hdf5_group

        _hdf5_group.write(hgrp, self, overwrite=overwrite)

    @classmethod
    def read_hdf5(
        cls,
        hgrp: H5Group,
        keep: KeepMask | None = None,
        mpi_comm: Any = None,
        mpi_dist: list[tuple[int, int]] | None = None,
        no_flatten: bool = False,
    ) -> FlacArray:
        """Reads an array from an h5py group; with `keep`, only the kept
        streams' bytes are read, giving a (kept, samples) array. With
        `mpi_comm`, every rank calls this and gets its range of the leading
        axis (`mpi_dist`, else an even split): from a file open with the
        `mpio` driver on every rank (`hdf5_utils.H5File` does that when h5py
        has parallel HDF5) each rank reads its own streams; otherwise rank 0
        reads from its `hgrp` (others may pass None) and sends each rank its
        streams.

        >>> import h5py, numpy as np, os, tempfile
        >>> from flacarray import FlacArray
        >>> path = os.path.join(tempfile.mkdtemp(), "a.h5")
        >>> with h5py.File(path, "w") as hf:
        ...     FlacArray.from_array(np.arange(30, dtype=np.int32).reshape(3, 10)).write_hdf5(hf)
        >>> with h5py.File(path, "r") as hf:
        ...     FlacArray.read_hdf5(hf, keep=np.array([False, True, False])).to_array().tolist()
        [[10, 11, 12, 13, 14, 15, 16, 17, 18, 19]]
        """
        from . import _hdf5_group

        return cls._read_group(_hdf5_group, hgrp, keep, mpi_comm, mpi_dist, no_flatten)[0]

    @classmethod
    def _read_group(
        cls,
        group: Any,
        target: Any,
        keep: KeepMask | None,
        mpi_comm: Any,
        mpi_dist: list[tuple[int, int]] | None,
        no_flatten: bool = False,
    ) -> tuple[FlacArray, np.ndarray | None]:
        """The array in an HDF5 or zarr group (`group` is the private module
        moving its bytes: `_hdf5_group` or `_zarr_group`) and the keep mask
        as checked: read by this process, or with `mpi_comm` this rank's
        part, read through rank 0 (see `read_hdf5`)."""
        if mpi_comm is None:
            parts, mask = group.read(target, keep=keep)
            return cls._from_core(parts)._single_stream_shape(no_flatten), mask
        from . import io_mpi

        source = group.distributed_source(target, mpi_comm)
        read = io_mpi.read_parallel if group.is_parallel(target, mpi_comm) else io_mpi.read_gathered
        parts, dist, shape, mask = read(group.BACKEND, source, mpi_comm, mpi_dist, keep)
        fa = cls._from_core(parts)
        fa._distribute(mpi_comm, dist, shape)
        return fa._single_stream_shape(no_flatten), mask

    def _single_stream_shape(self, no_flatten: bool) -> FlacArray:
        """The reference's rule for one stream read: a rank's part of a
        distributed array holding one stream is 1-D, (samples,), unless
        `no_flatten`; with `no_flatten` a 1-D array read is (1, samples).
        (Without MPI the shape is otherwise the one the file records.)"""
        if self._mpi_comm is not None and len(self._shape) == 2 and self._shape[0] == 1:
            shape: tuple[int, ...] = self._shape if no_flatten else self._shape[1:]
        elif no_flatten and len(self._shape) == 1:
            shape = (1, self._shape[0])
        else:
            return self
        fa = _unpickle(
            self._dtype.name,
            shape,
            self._compressed,
            self._starts,
            self._nbytes,
            self._offsets,
            self._gains,
            self._level,
        )
        fa._mpi_comm, fa._mpi_dist = self._mpi_comm, self._mpi_dist
        fa._global_shape, fa._global_nbytes = self._global_shape, self._global_nbytes
        return fa

    def write_zarr(self, zgrp: ZarrTarget, overwrite: bool = False) -> None:
        """Writes this array into a zarr group (flacarray format 1): a
        zarr-python group, or a filesystem path (written by the Rust core).

        An existing non-empty target is refused (FileExistsError) unless
        `overwrite` is true, and even then only a flacarray group is
        replaced (see `write_hdf5`).

        >>> import numpy as np, os, tempfile
        >>> from flacarray import FlacArray
        >>> fa = FlacArray.from_array(np.linspace(0, 1, 40).reshape(2, 20), quanta=1e-6)
        >>> path = os.path.join(tempfile.mkdtemp(), "a.zarr")
        >>> fa.write_zarr(path)
        >>> FlacArray.read_zarr(path) == fa
        True
        """
        from . import _zarr_group

        _zarr_group.write(zgrp, self, overwrite=overwrite)

    @classmethod
    def read_zarr(
        cls,
        zgrp: ZarrTarget,
        keep: KeepMask | None = None,
        mpi_comm: Any = None,
        mpi_dist: list[tuple[int, int]] | None = None,
        no_flatten: bool = False,
    ) -> FlacArray:
        """Reads an array from a zarr group or path; `keep`, `mpi_comm` and
        `mpi_dist` as in `read_hdf5` (under MPI rank 0 reads with
        zarr-python).

        >>> import numpy as np, os, tempfile
        >>> from flacarray import FlacArray
        >>> path = os.path.join(tempfile.mkdtemp(), "a.zarr")
        >>> FlacArray.from_array(np.arange(20, dtype=np.int32).reshape(2, 10)).write_zarr(path)
        >>> FlacArray.read_zarr(path, keep=np.array([False, True])).to_array().tolist()
        [[10, 11, 12, 13, 14, 15, 16, 17, 18, 19]]
        """
        from . import _zarr_group

        return cls._read_group(_zarr_group, zgrp, keep, mpi_comm, mpi_dist, no_flatten)[0]

    def write_parquet(
        self, path: PathLike | None, column: str = "flac", overwrite: bool = False
    ) -> None:
        """Writes this array to a Parquet file, one row per stream. An
        existing file is refused (FileExistsError) unless `overwrite` is
        true, and even then only a Parquet file with a flacarray column is
        replaced. A distributed array (`mpi_comm`) is written by rank 0,
        which takes each rank's streams in turn (other ranks may pass None
        as `path`); the file is the one a single process writes.

        >>> import numpy as np, os, tempfile
        >>> from flacarray import FlacArray
        >>> fa = FlacArray.from_array(np.arange(30, dtype=np.int32).reshape(3, 10))
        >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
        >>> fa.write_parquet(path)
        >>> FlacArray.read_parquet(path) == fa
        True
        >>> fa.write_parquet(path)
        Traceback (most recent call last):
        ...
        FileExistsError: ...
        """
        from . import _parquet_file

        _parquet_file.write(path, self, column=column, overwrite=overwrite)

    @classmethod
    def read_parquet(
        cls,
        path: PathLike | None,
        keep: KeepMask | None = None,
        column: str = "flac",
        mpi_comm: Any = None,
        mpi_dist: list[tuple[int, int]] | None = None,
        no_flatten: bool = False,
    ) -> FlacArray:
        """Reads an array from a Parquet file; `keep`, `mpi_comm` and
        `mpi_dist` as in `read_hdf5` (under MPI rank 0 reads each rank's
        streams and sends them; other ranks may pass None as `path`).

        >>> import numpy as np, os, tempfile
        >>> from flacarray import FlacArray
        >>> path = os.path.join(tempfile.mkdtemp(), "a.parquet")
        >>> FlacArray.from_array(np.arange(20, dtype=np.int64).reshape(2, 10)).write_parquet(path)
        >>> FlacArray.read_parquet(path, keep=np.array([True, False])).to_array().tolist()
        [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]
        """
        return cls._read_parquet(path, keep, column, mpi_comm, mpi_dist, no_flatten)[0]

    @classmethod
    def _read_parquet(
        cls,
        path: PathLike | None,
        keep: KeepMask | None,
        column: str,
        mpi_comm: Any,
        mpi_dist: list[tuple[int, int]] | None,
        no_flatten: bool = False,
    ) -> tuple[FlacArray, np.ndarray | None]:
        """The array in a Parquet file and the keep mask as checked (see
        `read_parquet`)."""
        if mpi_comm is None:
            from . import _parquet_file

            if path is None:
                raise TypeError("read_parquet needs a path")
            parts, mask = _parquet_file.read(path, keep=keep, column=column)
            return cls._from_core(parts)._single_stream_shape(no_flatten), mask
        from . import io_mpi

        parts, dist, shape, mask = io_mpi.read_parquet_gathered(
            path, column, mpi_comm, mpi_dist, keep
        )
        fa = cls._from_core(parts)
        fa._distribute(mpi_comm, dist, shape)
        return fa._single_stream_shape(no_flatten), mask

    def to_arrow(self) -> Any:
        """A pyarrow `flacarray.flac` extension array sharing this array's
        compressed bytes (no copy). Its type is the same for every array of
        this dtype; see `to_arrow_table` to keep the shape too.

        >>> import numpy as np
        >>> from flacarray import FlacArray
        >>> column = FlacArray.from_array(np.arange(20, dtype=np.int32).reshape(2, 10)).to_arrow()
        >>> len(column), column.type.extension_name
        (2, 'flacarray.flac')
        """
        from .arrow import to_arrow

        return to_arrow(self)

    def to_arrow_table(self, name: str = "flac") -> Any:
        """A one-column pyarrow table whose field also records this array's
        leading shape and level, so `FlacArray.from_arrow(table) == self`.

        >>> import numpy as np
        >>> from flacarray import FlacArray
        >>> fa = FlacArray.from_array(np.arange(24, dtype=np.int32).reshape(2, 3, 4))
        >>> FlacArray.from_arrow(fa.to_arrow_table()).shape
        (2, 3, 4)
        """
        import pyarrow as pa

        from .arrow import array_field, to_arrow

        return pa.Table.from_arrays([to_arrow(self)], schema=pa.schema([array_field(self, name)]))

    def to_polars(self, name: str = "flac") -> Any:
        """A Polars Series (one row per stream) of Extension dtype
        `flacarray.flac`, ready for `pl.col(...).flac.decompress()`.

        >>> import numpy as np, polars as pl
        >>> from flacarray import FlacArray
        >>> fa = FlacArray.from_array(np.arange(20, dtype=np.int32).reshape(2, 10))
        >>> frame = pl.DataFrame({"x": fa.to_polars()})
        >>> frame.select(pl.col("x").flac.decompress(0, 2))["x"].to_list()
        [[0, 1], [10, 11]]
        """
        import polars as pl

        return pl.Series(name, self.to_arrow())

    @classmethod
    def from_polars(
        cls,
        series: Any,
        shape: tuple[int, ...] | None = None,
        dtype: DTypeLike | None = None,
    ) -> FlacArray:
        """Builds a FlacArray from a `flacarray.flac` Polars Series (or its
        plain storage struct, with `dtype` or a dtype read from the streams)
        whose rows all have the same length. `shape` (leading shape + stream
        size) gives the array's shape; by default it is (rows, samples).

        >>> import numpy as np
        >>> from flacarray import FlacArray
        >>> fa = FlacArray.from_array(np.arange(24, dtype=np.int32).reshape(6, 4))
        >>> FlacArray.from_polars(fa.to_polars(), shape=(2, 3, 4)).shape
        (2, 3, 4)
        """
        from .arrow import from_arrow

        return cls._from_arrow_parts(from_arrow(series.to_arrow(), shape=shape, dtype=dtype))

    @classmethod
    def from_arrow(
        cls,
        obj: Any,
        shape: tuple[int, ...] | None = None,
        dtype: DTypeLike | None = None,
    ) -> FlacArray:
        """Builds a FlacArray from a `flacarray.flac` pyarrow array, chunked
        array or one-column table (sharing its bytes when possible), or from
        its plain storage struct (`dtype` given or read from the streams).
        The shape is `shape`, else the leading shape in the table's field
        metadata, else (rows, samples).

        >>> import numpy as np
        >>> from flacarray import FlacArray
        >>> fa = FlacArray.from_array(np.arange(20, dtype=np.int64).reshape(2, 10))
        >>> FlacArray.from_arrow(fa.to_arrow()) == fa
        True
        """
        from .arrow import from_arrow

        return cls._from_arrow_parts(from_arrow(obj, shape=shape, dtype=dtype))

    @classmethod
    def _from_arrow_parts(cls, parts: dict) -> FlacArray:
        """From `arrow.from_arrow`'s dict, sharing its buffers; checks each
        stream's channel count and the field metadata's digest."""
        fa = cls.__new__(cls)
        fa._init(
            parts["dtype"],
            parts["shape"],
            parts["compressed"],
            parts["stream_starts"],
            parts["stream_nbytes"],
            parts["stream_offsets"],
            parts["stream_gains"],
            parts.get("level", 5),
            copy=False,
        )
        recorded = parts.get("recorded_shape")
        _core.check_column(
            fa._parts,
            parts.get("channels"),
            parts.get("digest"),
            None if recorded is None else list(recorded),
        )
        return fa
