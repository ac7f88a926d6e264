"""HDF5 helpers with the reference package's names (`flacarray.hdf5_utils`):
opening a file for an MPI job.

With a communicator and an h5py built with parallel HDF5 (the `mpio`
driver), `H5File` opens the file on every rank and the flacarray writers and
readers of distributed arrays then let every rank write or read its own
part. Otherwise (serial h5py, `force_serial=True`, or no communicator) the
file is open on rank 0 only, `handle` is None on the other ranks, and rank 0
writes and reads for all.

>>> import numpy as np, os, tempfile
>>> from flacarray import FlacArray
>>> from flacarray.hdf5_utils import H5File
>>> path = os.path.join(tempfile.mkdtemp(), "a.h5")
>>> with H5File(path, "w") as f:
...     FlacArray.from_array(np.arange(10, dtype=np.int32).reshape(2, 5)).write_hdf5(f.handle)
>>> with H5File(path, "r") as f:
...     FlacArray.read_hdf5(f.handle).shape
(2, 5)
"""

from __future__ import annotations

import importlib.util
from typing import Any

#: Whether h5py is installed (checked without importing it).
have_hdf5 = importlib.util.find_spec("h5py") is not None


def have_hdf5_parallel() -> bool:
    """Whether files can be opened with parallel HDF5: h5py built with MPI,
    and MPI in use (mpi4py importable and `MPI_DISABLE` not set)."""
    if not have_hdf5:
        return False
    from . import mpi

    if not mpi.use_mpi:
        return False
    import h5py

    return bool(h5py.get_config().mpi)


class H5File:
    """An HDF5 file opened for an MPI job. With a communicator and parallel
    HDF5 (see `have_hdf5_parallel`; `force_serial` turns it off), every
    rank opens the file with the `mpio` driver and holds it in `handle`
    (opening and closing are then collective). Otherwise `handle` is the
    open `h5py.File` on rank 0 (or without a communicator) and None on the
    other ranks. Use as a context manager, or call `close()`."""

    def __init__(self, name: str, mode: str, comm: Any = None, force_serial: bool = False):
        self.handle: Any = None
        parallel = comm is not None and not force_serial and have_hdf5_parallel()
        if parallel:
            import h5py

            self.handle = h5py.File(name, mode, driver="mpio", comm=comm)
        elif comm is None or comm.rank == 0:
            import h5py

            self.handle = h5py.File(name, mode)

    @property
    def parallel(self) -> bool:
        """Whether the file is open with the `mpio` driver."""
        return self.handle is not None and self.handle.driver == "mpio"

    def close(self) -> None:
        """Flushes and closes the file (on the ranks that hold it)."""
        if self.handle is not None:
            self.handle.flush()
            self.handle.close()
            self.handle = None

    def __enter__(self) -> H5File:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()
