"""The containers a FlacArray is stored in, one object per kind, all with
the same three operations: `write`, `read` (with a keep mask, under MPI
each rank's part) and `describe` (type and shape from the metadata alone).

- `HDF5`: an h5py group, in the reference package's group format;
- `ZARR`: a zarr group (zarr-python) or a directory path (the Rust core),
  in the same format;
- `PARQUET`: a Parquet file, one row per stream.

`FlacArray`'s read/write methods, the module functions
(`flacarray.hdf5`, `.zarr`, `.parquet`) and the `flacarray` command all go
through `CONTAINERS`; `for_path` picks one by a path's suffix.

>>> import os, tempfile
>>> import numpy as np
>>> from flacarray import FlacArray, containers
>>> path = os.path.join(tempfile.mkdtemp(), "x.parquet")
>>> fa = FlacArray.from_array(np.arange(30, dtype=np.int32).reshape(3, 10))
>>> box = containers.for_path(path)
>>> box.kind
'parquet'
>>> box.write(fa, path)
>>> box.describe(path)
Description(dtype=dtype('int32'), shape=(3, 10))
>>> read = box.read(path, keep=np.array([False, True, False]))
>>> read.parts.shape, read.mask.tolist()
((1, 10), [False, True, False])
"""

from __future__ import annotations

import importlib
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from . import _core
from ._types import KeepMask, PathLike

if TYPE_CHECKING:
    from .array import FlacArray

DEFAULT_COLUMN = "flac"
"""The column a Parquet file's array is in unless named otherwise."""


@dataclass(frozen=True)
class Read:
    """What a read found: the array's parts (`FlacArray.from_read` makes
    the array), the keep mask as checked (None without one) and, for a
    distributed read, the communicator, each rank's range of the leading
    axis and the whole array's shape."""

    parts: _core.ArrayParts
    mask: np.ndarray | None
    mpi_comm: Any = None
    mpi_dist: list[tuple[int, int]] | None = None
    global_shape: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Description:
    """What a container's metadata says of the array it holds."""

    dtype: np.dtype
    shape: tuple[int, ...]


class Container(Protocol):
    """One kind of container: how arrays are written to, read from and
    described in it."""

    kind: str
    suffixes: tuple[str, ...]

    def write(self, fa: FlacArray, target: Any, *, overwrite: bool = False) -> None:
        """Writes `fa` into `target`; an existing target is refused
        (FileExistsError) unless `overwrite`, which replaces only what a
        flacarray writer wrote."""
        ...

    def read(
        self,
        target: Any,
        *,
        keep: KeepMask | None = None,
        mpi_comm: Any = None,
        mpi_dist: list[tuple[int, int]] | None = None,
    ) -> Read:
        """The array in `target` (only the kept streams' bytes are read);
        with `mpi_comm`, this rank's part."""
        ...

    def describe(self, target: Any) -> Description:
        """The type and shape of the array in `target`, from its metadata
        (damaged metadata is `CorruptDataError`)."""
        ...


def is_flacarray_group(attributes: Any) -> bool:
    """Whether a group's attributes mark it as written by flacarray (a
    finished write, or one a reader completes)."""
    return _core.VERSION_ATTRIBUTE in attributes or _core.COMMIT_ATTRIBUTE in attributes


class _Group:
    """An HDF5 or zarr group: the reference's format, its bytes moved by a
    backend module (`_hdf5_group`, `_zarr_group`)."""

    def __init__(self, kind: str, suffixes: tuple[str, ...], backend: str) -> None:
        self.kind = kind
        self.suffixes = suffixes
        self._backend_name = backend

    def __repr__(self) -> str:
        return f"<flacarray container {self.kind}>"

    @property
    def _module(self) -> Any:
        return importlib.import_module(f".{self._backend_name}", __package__)

    def write(self, fa: FlacArray, target: Any, *, overwrite: bool = False) -> None:
        self._module.write(target, fa, overwrite=overwrite)

    def read(
        self,
        target: Any,
        *,
        keep: KeepMask | None = None,
        mpi_comm: Any = None,
        mpi_dist: list[tuple[int, int]] | None = None,
    ) -> Read:
        module = self._module
        if mpi_comm is None:
            return Read(*module.read(target, keep=keep))
        from . import io_mpi

        source = module.distributed_source(target, mpi_comm)
        parallel = module.is_parallel(target, mpi_comm)
        parts, dist, shape, mask = io_mpi.read_distributed(
            module.BACKEND, source, mpi_comm, mpi_dist, keep, parallel=parallel
        )
        return Read(parts, mask, mpi_comm, dist, shape)

    def describe(self, target: Any) -> Description:
        from . import io_common

        module = self._module
        if isinstance(target, str | os.PathLike):
            with module.opened(os.fspath(target)) as group:
                return self.describe(group)
        module.check_group(target)
        description, _ = io_common.gather_claims(module.BACKEND, target)
        layout = _core.describe_group(description)
        return Description(np.dtype(layout["dtype"]), tuple(int(d) for d in layout["shape"]))


class _Parquet:
    """A Parquet file with one `flacarray.flac` column (`column`)."""

    kind: str = "parquet"
    suffixes: tuple[str, ...] = (".parquet",)

    def __init__(self, column: str = DEFAULT_COLUMN) -> None:
        self.column = column

    def __repr__(self) -> str:
        return f"<flacarray container parquet column={self.column!r}>"

    def with_column(self, column: str) -> _Parquet:
        """The same container for another column name."""
        return _Parquet(column)

    def write(self, fa: FlacArray, target: PathLike | None, *, overwrite: bool = False) -> None:
        if fa.mpi_comm is not None:
            from . import io_mpi

            io_mpi.write_parquet_gathered(target, fa, self.column, overwrite)
            return
        if target is None:
            raise TypeError("write_parquet needs a path")
        _core.write_parquet(os.fspath(target), self.column, fa._core_parts(), overwrite)

    def read(
        self,
        target: PathLike | None,
        *,
        keep: KeepMask | None = None,
        mpi_comm: Any = None,
        mpi_dist: list[tuple[int, int]] | None = None,
    ) -> Read:
        if mpi_comm is None:
            from .selection import keep_mask

            if target is None:
                raise TypeError("read_parquet needs a path")
            mask = None if keep is None else keep_mask(keep)
            return Read(_core.read_parquet(os.fspath(target), self.column, mask), mask)
        from . import io_mpi

        parts, dist, shape, mask = io_mpi.read_parquet_gathered(
            target, self.column, mpi_comm, mpi_dist, keep
        )
        return Read(parts, mask, mpi_comm, dist, shape)

    def describe(self, target: PathLike) -> Description:
        # The footer records the leading shape; the streams' length is read
        # from the first stream.
        _, leading = _core.parquet_leading_shape(os.fspath(target), self.column)
        lead = tuple(int(d) for d in leading)
        first = np.zeros(math.prod(lead), dtype=bool)
        first[:1] = True
        probe = self.read(target, keep=first.reshape(lead) if lead else first).parts
        return Description(np.dtype(probe.dtype), lead + (int(probe.shape[-1]),))


HDF5: Container = _Group("hdf5", (".h5", ".hdf5"), "_hdf5_group")
ZARR: Container = _Group("zarr", (".zarr",), "_zarr_group")
PARQUET: _Parquet = _Parquet()
CONTAINERS: dict[str, Container] = {c.kind: c for c in (HDF5, ZARR, PARQUET)}
"""Every container kind, by name."""


def for_path(path: PathLike) -> Container:
    """The container kind a path's suffix names (ValueError if none)."""
    suffix = os.path.splitext(os.fspath(path).rstrip("/\\"))[1].lower()
    for container in CONTAINERS.values():
        if suffix in container.suffixes:
            return container
    known = ", ".join(s for c in CONTAINERS.values() for s in c.suffixes)
    raise ValueError(f"{os.fspath(path)}: no container kind has the suffix {suffix!r} ({known})")
