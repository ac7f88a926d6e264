"""The FlacArray class: a compressed N-D array held in memory."""

from __future__ import annotations

import math
from typing import Any, Literal, SupportsIndex, overload

import numpy as np
import numpy.typing as npt

from . import _core
from ._inputs import (
    SUPPORTED_DTYPES,
    _frozen,
    _frozen_f64,
    _native,
    check_dtype,
    per_stream,
    thread_count,
)
from ._types import DTypeLike, KeepMask, KeptIndices, Samples, Steps
from .array_io import ArrayIO
from .selection import index_tuples, keep_flat_indices, leading_selection, sample_range

#: The numpy dtype of each element type (`dtype` is read often).
_NUMPY_DTYPES = {name: np.dtype(name) for name in SUPPORTED_DTYPES}


def _unpickle(*fields: Any) -> FlacArray:
    """A FlacArray from its pickled parts (`_core.ArrayParts.fields()`,
    sharing their buffers)."""
    fa = FlacArray.__new__(FlacArray)
    fa._init(*fields, copy=False)
    return fa


class FlacArray(ArrayIO):
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
            self._init(*other._parts.fields(), copy=True)
        else:
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
        *,
        copy: bool,
    ) -> None:
        if dtype is None or shape is None or compressed is None:
            raise ValueError("FlacArray needs dtype, shape and compressed bytes")
        shape = [int(s) for s in shape]
        if len(shape) == 0:
            raise ValueError("a FlacArray has at least one dimension")
        if isinstance(level, bool) or not isinstance(level, int | np.integer):
            raise TypeError(f"level must be an integer, got {level!r}")
        # The one record of the parts; its buffers are read-only: what was
        # validated is what decodes.
        self._parts = _core.ArrayParts(
            check_dtype(dtype).name,
            shape,
            _frozen(compressed, np.uint8, copy),
            _frozen(starts, np.int64, copy),
            _frozen(nbytes, np.int64, copy),
            _frozen_f64(offsets, copy),
            _frozen_f64(gains, copy),
            int(level),
        )
        # Not distributed until `_distribute` says otherwise.
        self._mpi_comm = None
        self._mpi_dist = None
        self._global_shape = tuple(shape)
        self._global_nbytes = self.nbytes
        # Check everything now (bounds, counts, each stream's header against
        # the shape, scales) rather than at the first decompression.
        _core.validate(self._parts)

    # ---- construction -------------------------------------------------------

    @classmethod
    def _from_core(cls, parts: _core.ArrayParts) -> FlacArray:
        """From parts the core made (fresh arrays: no copies)."""
        fa = cls.__new__(cls)
        fa._init(*parts.fields(), copy=False)
        return fa

    def _core_parts(self) -> _core.ArrayParts:
        """The parts the core takes (sharing this array's buffers)."""
        return self._parts

    def _current_layout(self) -> FlacArray:
        """This array with every stream whole (frame rows rebuilt) and 64-bit
        data in 2-channel streams (as format 1 requires; arrays read from
        format 0 files have 1-channel streams)."""
        parts = _core.to_current_layout(self._parts)
        return self if parts is None else FlacArray._from_core(parts)

    def _column_layout(self) -> FlacArray:
        """Like `_current_layout`, but frame rows (read from an Arrow column)
        stay frame rows: the streams as a column holds them."""
        parts = _core.to_column_layout(self._parts)
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

    def _with_shape(self, shape: tuple[int, ...]) -> FlacArray:
        """The same parts (buffers shared) under another shape holding as
        many streams, keeping its place in a distributed array."""
        fa = FlacArray._from_core(self._parts.with_shape(list(shape)))
        fa._mpi_comm, fa._mpi_dist = self._mpi_comm, self._mpi_dist
        fa._global_shape, fa._global_nbytes = self._global_shape, self._global_nbytes
        return fa

    def _distribute(
        self, mpi_comm: Any, mpi_dist: list[tuple[int, int]], global_shape: tuple[int, ...]
    ) -> None:
        """Marks this array as this rank's part of a distributed one."""
        from . import mpi

        self._mpi_comm = mpi_comm
        self._mpi_dist = [(int(a), int(b)) for a, b in mpi_dist]
        self._global_shape = tuple(int(d) for d in global_shape)
        self._global_nbytes = mpi.global_bytes(self.nbytes, self._parts.stream_starts, mpi_comm)[0]

    # ---- properties ---------------------------------------------------------

    @property
    def mpi_comm(self) -> Any:
        """The MPI communicator the array is distributed over (None if not)."""
        return self._mpi_comm

    @property
    def mpi_dist(self) -> list[tuple[int, int]]:
        """Each rank's (first, last) range of the global leading axis."""
        if self._mpi_dist is None:
            return [(0, self._global_shape[0] if len(self.shape) > 1 else 1)]
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
        return self._parts.shape

    @property
    def dtype(self) -> np.dtype:
        """Element type of the uncompressed array."""
        return _NUMPY_DTYPES[self._parts.dtype]

    @property
    def typestr(self) -> str:
        """The dtype's name ("float64", ...)."""
        return self._parts.dtype

    @property
    def leading_shape(self) -> tuple:
        """Shape of the array of streams (every axis but the last)."""
        return self.shape[:-1]

    @property
    def stream_size(self) -> int:
        """Samples per stream."""
        return self.shape[-1]

    @property
    def nstreams(self) -> int:
        """Number of streams."""
        return int(self._parts.stream_starts.size)

    @property
    def nbytes(self) -> int:
        """Total compressed size in bytes."""
        return int(self._parts.compressed.nbytes)

    @property
    def level(self) -> int:
        """FLAC compression level the streams were written with (5 when the
        file that held them did not record it)."""
        return self._parts.level

    @property
    def compressed(self) -> np.ndarray:
        """All streams' FLAC bytes, concatenated (uint8, read-only): each a
        whole FLAC stream, or for an array read from an Arrow column or
        Parquet, a frame row where the stream fits one frame (its frame
        without `fLaC` and STREAMINFO; writing an HDF5 or zarr group
        rebuilds the whole stream; docs/format.md)."""
        return self._parts.compressed

    def _leading_view(self, flat: np.ndarray | None, dtype: DTypeLike | None = None) -> Any:
        """A read-only view (or copy, for another dtype) of the leading shape."""
        if flat is None:
            return None
        shape = self.shape[:-1] or (1,)
        out = flat.reshape(shape)
        if dtype is not None and out.dtype != dtype:
            out = out.astype(dtype)
            out.flags.writeable = False
        return out

    @property
    def stream_starts(self) -> np.ndarray:
        """Byte offset of each stream in `compressed` (leading shape)."""
        return self._leading_view(self._parts.stream_starts)

    @property
    def stream_nbytes(self) -> np.ndarray:
        """Byte length of each stream (leading shape)."""
        return self._leading_view(self._parts.stream_nbytes)

    @property
    def stream_offsets(self) -> np.ndarray | None:
        """Per-stream offsets of float data (in the data's dtype), else None."""
        return self._leading_view(self._parts.stream_offsets, self.dtype)

    @property
    def stream_gains(self) -> np.ndarray | None:
        """Per-stream gains of float data (in the data's dtype), else None."""
        return self._leading_view(self._parts.stream_gains, self.dtype)

    # ---- decompression ------------------------------------------------------

    def _decode(
        self, streams: np.ndarray, first: int, last: int, threads: int | None
    ) -> np.ndarray:
        streams = np.ascontiguousarray(streams, dtype=np.int64)
        # numpy allocates (a failure is a MemoryError); the core fills it.
        out = np.empty((streams.size, max(0, last - first)), dtype=self.dtype)
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
            selection = leading_selection(self.shape, key)
        except (IndexError, ValueError, TypeError) as ours:
            # numpy's own error for a key numpy refuses (its checks run in
            # its order); ours for what only a FlacArray refuses
            probe = np.broadcast_to(np.False_, self.shape)
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
        return self.shape[0]

    @property
    def ndim(self) -> int:
        """Number of dimensions of the uncompressed array."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of elements of the uncompressed array."""
        return math.prod(self.shape)

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
        return (_unpickle, self._parts.fields())

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
        start, count = int(self._parts.stream_starts[index]), int(self._parts.stream_nbytes[index])
        return bool(
            _core.verify_stream(self._parts.compressed[start : start + count], self.stream_size)
        )

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
            [a._parts.stream_starts + int(s) for a, s in zip(arrays, shifts, strict=True)]
        ).astype(np.int64)

        def joined(values: list[np.ndarray | None]) -> np.ndarray | None:
            if values[0] is None:
                return None
            return np.concatenate([v for v in values if v is not None])

        fa = cls.__new__(cls)
        fa._init(
            first.dtype,
            (*leading, first.stream_size) if leading else (first.stream_size,),
            np.concatenate([a._parts.compressed for a in arrays]),
            starts,
            np.concatenate([a._parts.stream_nbytes for a in arrays]),
            joined([a._parts.stream_offsets for a in arrays]),
            joined([a._parts.stream_gains for a in arrays]),
            first.level,
            copy=False,
        )
        return fa

    # ---- comparison and display ---------------------------------------------

    def __eq__(self, other: object) -> bool:
        """Same dtype, shape, scales and streams (stream by stream: a frame
        row, read from an Arrow column, and the whole stream it stands for
        are the same stream); the level is not compared."""
        if not isinstance(other, FlacArray):
            return NotImplemented
        return _core.same_streams(self._parts, other._parts)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking: like numpy arrays

    def __repr__(self) -> str:
        where = ""
        if self._mpi_comm is not None and self._mpi_dist is not None:
            rank = self._mpi_comm.rank
            first, last = self._mpi_dist[rank]
            where = f" | Rank {rank:04d} {first}-{last - 1} |"
        return f"<FlacArray{where} {self.typestr} shape={self.shape} bytes={self.nbytes}>"
