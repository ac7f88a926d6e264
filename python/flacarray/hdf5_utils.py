"""HDF5 helpers with the reference package's names (`flacarray.hdf5_utils`):
opening a file for an MPI job.

Our readers and writers of distributed arrays go through rank 0 (parallel
HDF5, h5py's `mpio` driver, is not used yet), so `H5File` opens the file on
rank 0 only and its `handle` is None on the other ranks, which is what
`FlacArray.write_hdf5` / `read_hdf5` expect there.

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
    """Whether h5py was built with parallel HDF5 (the `mpio` driver). The
    flacarray readers and writers do not use it yet (they go through rank
    0), so this only reports what h5py offers."""
    if not have_hdf5:
        return False
    import h5py

    return bool(h5py.get_config().mpi)


class H5File:
    """An HDF5 file opened for an MPI job: on rank 0 (or without a
    communicator) `handle` is the open `h5py.File`; on other ranks it is
    None. `force_serial` is accepted for compatibility (the file is always
    opened serially). Use as a context manager, or call `close()`."""

    def __init__(self, name: str, mode: str, comm: Any = None, force_serial: bool = False):
        self.handle: Any = None
        if comm is None or comm.rank == 0:
            import h5py

            self.handle = h5py.File(name, mode)

    def close(self) -> None:
        """Flushes and closes the file (on the rank that holds it)."""
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
