"""Zarr storage of compressed arrays, and direct numpy <-> zarr I/O.

A target is a zarr-python 3 group (`zarr.open_group(...)`) or a filesystem
path, which the Rust core (zarrs) reads and writes without zarr-python.
"""

from __future__ import annotations

import os

import numpy as np

from . import _core, io_common
from .array import FlacArray
from .selection import keep_mask

#: Chunk length of the `compressed` byte array, so that reading a few
#: streams touches only the chunks holding them.
BYTES_CHUNK = _core.BYTES_CHUNK


class _ZarrBackend(io_common.Backend):
    name = "zarr"

    def create(self, grp, name, data, *, bulk=False):
        data = np.asarray(data)
        # FLAC bytes do not compress further, and the small per-stream arrays
        # gain nothing either: store everything raw (readable by any zarr v3
        # implementation, with no codec plugins).
        chunks = (max(1, min(BYTES_CHUNK, data.shape[0])),) if bulk else data.shape
        return grp.create_array(name, data=data, chunks=chunks, compressors=None)

    def arrays(self, grp):
        present = set(grp.array_keys())
        return {name: grp[name] for name in io_common.GROUP_ARRAYS if name in present}

    def info(self, name, dataset):
        info = {
            "shape": [int(d) for d in dataset.shape],
            "dtype": io_common.dtype_name(dataset.dtype),
            "stored_bytes": int(dataset.nbytes_stored()),
            "chunk_elements": int(np.prod(dataset.chunks, dtype=np.int64)),
            "chunk_count": int(dataset.nchunks),
        }
        # Listing the chunks is only worth it when their count is plausible
        # (each stored chunk takes a byte); the core decides either way.
        if name == "compressed" and info["chunk_count"] <= info["stored_bytes"]:
            info["missing_chunks"] = info["chunk_count"] - int(dataset.nchunks_initialized)
        return info


BACKEND = _ZarrBackend()


def _is_path(target) -> bool:
    return isinstance(target, str | os.PathLike)


def _check_group(zgrp) -> None:
    import zarr

    if not isinstance(zgrp, zarr.Group):
        raise TypeError(f"expected a zarr Group or a path, got {type(zgrp).__name__}")


def write_compressed(zgrp, fa: FlacArray, overwrite: bool = False) -> None:
    """Writes a FlacArray into a zarr group (format 1). `zgrp` is a
    zarr-python group, or a filesystem path where the Rust core (zarrs)
    writes the group atomically (beside the path, then renamed into place).

    An existing non-empty target is refused (FileExistsError) unless
    `overwrite`; then only a flacarray group is replaced: at a path, one
    holding nothing but its own arrays; in a zarr-python group, only its
    flacarray arrays and attributes."""
    if _is_path(zgrp):
        _core.write_zarr(os.fspath(zgrp), fa._core_parts(), overwrite)
        return
    _check_group(zgrp)
    io_common.write_group(BACKEND, zgrp, fa, overwrite=overwrite)


def _read_path(path, keep) -> tuple[FlacArray, np.ndarray | None]:
    mask = None if keep is None else keep_mask(keep)
    return FlacArray._from_core(_core.read_zarr(os.fspath(path), mask)), mask


def read_compressed(zgrp, keep=None) -> FlacArray:
    """Reads a FlacArray from a zarr group (or a path, read by the Rust
    core) written in format 0 or 1; with `keep` only the chunks holding the
    kept streams are read."""
    if _is_path(zgrp):
        return _read_path(zgrp, keep)[0]
    _check_group(zgrp)
    return io_common.read_group(BACKEND, zgrp, keep=keep)[0]


def write_array(
    arr, zgrp, level=5, quanta=None, precision=None, use_threads=True, overwrite=False
) -> None:
    """Compresses a numpy array and writes it into a zarr group or path."""
    if not _is_path(zgrp):
        _check_group(zgrp)
    fa = FlacArray.from_array(
        arr, level=level, quanta=quanta, precision=precision, use_threads=use_threads
    )
    write_compressed(zgrp, fa, overwrite=overwrite)


def read_array(zgrp, keep=None, stream_slice=None, keep_indices=False, use_threads=True):
    """Reads and decompresses an array from a zarr group or path (see
    `flacarray.hdf5.read_array` for the arguments)."""
    if _is_path(zgrp):
        fa, mask = _read_path(zgrp, keep)
        return io_common.decoded(fa, mask, stream_slice, keep_indices, use_threads)
    _check_group(zgrp)
    return io_common.read_array(BACKEND, zgrp, keep, stream_slice, keep_indices, use_threads)
