"""FlacArray's methods that move it into and out of containers (HDF5,
zarr, Parquet: through `containers`) and Arrow/Polars objects. `FlacArray`
inherits them; `array.py` keeps what the array is and does in memory."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from . import _core
from ._types import DTypeLike, H5Group, KeepMask, PathLike, ZarrTarget
from .containers import HDF5, PARQUET, ZARR, Read

if TYPE_CHECKING:
    from .array import FlacArray
    from .arrow import ColumnRead


class ArrayIO:
    """Reads and writes of a `FlacArray` (a mixin of that class only)."""

    __slots__ = ()

    def _array(self) -> FlacArray:
        return cast("FlacArray", self)

    @classmethod
    def from_read(cls, read: Read, no_flatten: bool = False) -> FlacArray:
        """The array a container read found (`flacarray.containers`; for a
        distributed read, this rank's part of it). `no_flatten` as in
        `read_hdf5`.

        >>> import os, tempfile
        >>> import numpy as np
        >>> from flacarray import FlacArray, containers
        >>> path = os.path.join(tempfile.mkdtemp(), "x.zarr")
        >>> FlacArray.from_array(np.arange(30, dtype=np.int32).reshape(3, 10)).write_zarr(path)
        >>> read = containers.ZARR.read(path, keep=np.array([False, False, True]))
        >>> FlacArray.from_read(read).to_array()[0, :3].tolist()
        [20, 21, 22]
        """
        fa = cast("type[FlacArray]", cls)._from_core(read.parts)
        if read.mpi_comm is not None:
            if read.mpi_dist is None or read.global_shape is None:
                raise ValueError("a distributed read needs its ranks' ranges and global shape")
            fa._distribute(read.mpi_comm, read.mpi_dist, read.global_shape)
        return fa._single_stream_shape(no_flatten)

    def _single_stream_shape(self, no_flatten: bool) -> FlacArray:
        """The reference's rule for one stream read: a rank's part of a
        distributed array holding one stream is 1-D, (samples,), unless
        `no_flatten`; with `no_flatten` a 1-D array read is (1, samples).
        (Without MPI the shape is otherwise the one the file records.)"""
        fa = self._array()
        if fa.mpi_comm is not None and len(fa.shape) == 2 and fa.shape[0] == 1:
            shape: tuple[int, ...] = fa.shape if no_flatten else fa.shape[1:]
        elif no_flatten and len(fa.shape) == 1:
            shape = (1, fa.shape[0])
        else:
            return fa
        return fa._with_shape(shape)

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
        HDF5.write(self._array(), hgrp, overwrite=overwrite)

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
        read = HDF5.read(hgrp, keep=keep, mpi_comm=mpi_comm, mpi_dist=mpi_dist)
        return cls.from_read(read, no_flatten)

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
        ZARR.write(self._array(), zgrp, overwrite=overwrite)

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
        read = ZARR.read(zgrp, keep=keep, mpi_comm=mpi_comm, mpi_dist=mpi_dist)
        return cls.from_read(read, no_flatten)

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
        PARQUET.with_column(column).write(self._array(), path, overwrite=overwrite)

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
        read = PARQUET.with_column(column).read(
            path, keep=keep, mpi_comm=mpi_comm, mpi_dist=mpi_dist
        )
        return cls.from_read(read, no_flatten)

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

        return to_arrow(self._array())

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

        fa = self._array()
        return pa.Table.from_arrays([to_arrow(fa)], schema=pa.schema([array_field(fa, name)]))

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
    def _from_arrow_parts(cls, read: ColumnRead) -> FlacArray:
        """From what `arrow.from_arrow` read, sharing its buffers (frame
        rows, the column's short rows, stay frame rows); checks each
        stream's channel count and the field metadata's digest."""
        array_type = cast("type[FlacArray]", cls)
        fa = array_type._from_core(read.parts)
        recorded = read.recorded_shape
        _core.check_column(
            fa._parts,
            read.channels,
            read.digest,
            None if recorded is None else list(recorded),
        )
        return fa
