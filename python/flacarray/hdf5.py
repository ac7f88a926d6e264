"""HDF5 (h5py) storage of compressed arrays, and direct numpy <-> HDF5 I/O."""

from __future__ import annotations

import numpy as np

from . import io_common
from .array import FlacArray


class _H5Backend(io_common.Backend):
    name = "HDF5"
    can_move = True

    def create(self, grp, name, data, *, bulk=False):
        return grp.create_dataset(name, data=np.asarray(data))

    def arrays(self, grp):
        import h5py

        found = {name: grp.get(name) for name in io_common.GROUP_ARRAYS if name in grp}
        return {name: ds for name, ds in found.items() if isinstance(ds, h5py.Dataset)}

    def move(self, grp, source, dest):
        grp.move(source, dest)

    def info(self, name, dataset):
        shape = [int(d) for d in dataset.shape]
        info = {"shape": shape, "dtype": io_common.dtype_name(dataset.dtype)}
        info["stored_bytes"] = int(dataset.id.get_storage_size())
        if dataset.chunks is not None:
            info["chunk_elements"] = int(np.prod(dataset.chunks, dtype=np.int64))
            if name == "compressed" and len(shape) == 1:
                info["chunk_count"] = -(-shape[0] // dataset.chunks[0])
                if info["chunk_count"] <= info["stored_bytes"]:
                    stored = int(dataset.id.get_num_chunks())
                    info["missing_chunks"] = max(0, info["chunk_count"] - stored)
        return info


BACKEND = _H5Backend()


def _check_group(hgrp) -> None:
    import h5py

    if not isinstance(hgrp, h5py.Group):
        raise TypeError(f"expected an h5py Group or File, got {type(hgrp).__name__}")


def write_compressed(hgrp, fa: FlacArray, overwrite: bool = False) -> None:
    """Writes a FlacArray into an h5py group (format 1). A group that
    already holds members is refused (FileExistsError) unless `overwrite`;
    then only a flacarray group's own datasets and attributes are replaced."""
    _check_group(hgrp)
    io_common.write_group(BACKEND, hgrp, fa, overwrite=overwrite)


def read_compressed(hgrp, keep=None) -> FlacArray:
    """Reads a FlacArray from an h5py group written in format 0 or 1; with
    `keep` only the kept streams' bytes are read from the file."""
    _check_group(hgrp)
    return io_common.read_group(BACKEND, hgrp, keep=keep)[0]


def write_array(
    arr, hgrp, level=5, quanta=None, precision=None, use_threads=True, overwrite=False
) -> None:
    """Compresses a numpy array and writes it into an h5py group."""
    _check_group(hgrp)
    fa = FlacArray.from_array(
        arr, level=level, quanta=quanta, precision=precision, use_threads=use_threads
    )
    write_compressed(hgrp, fa, overwrite=overwrite)


def read_array(hgrp, keep=None, stream_slice=None, keep_indices=False, use_threads=True):
    """Reads and decompresses an array from an h5py group.

    With `keep` (boolean mask over the leading shape) only those streams are
    read from disk and a (kept, samples) array is returned; `stream_slice`
    (step 1) limits the samples decoded; `keep_indices` also returns the kept
    streams' index tuples.
    """
    _check_group(hgrp)
    return io_common.read_array(BACKEND, hgrp, keep, stream_slice, keep_indices, use_threads)
