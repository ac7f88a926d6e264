"""Zarr (zarr-python 3) storage of compressed arrays, and direct numpy <->
zarr I/O. Groups come from `zarr.open_group(...)`."""

from __future__ import annotations

import os

import numpy as np

from . import _core, io_common
from .array import FlacArray

#: Chunk length of the `compressed` byte array, so that reading a few
#: streams touches only the chunks holding them.
BYTES_CHUNK = 1 << 20


class _ZarrBackend(io_common.Backend):
    name = "zarr"

    def create(self, grp, name, data, *, bulk=False):
        data = np.asarray(data)
        # FLAC bytes do not compress further, and the small per-stream arrays
        # gain nothing either: store everything raw (readable by any zarr v3
        # implementation, with no codec plugins).
        chunks = (max(1, min(BYTES_CHUNK, data.shape[0])),) if bulk else data.shape
        return grp.create_array(name, data=data, chunks=chunks, compressors=None)

    def has(self, grp, name):
        return name in grp.array_keys()


BACKEND = _ZarrBackend()


def _check_group(zgrp) -> None:
    import zarr

    if not isinstance(zgrp, zarr.Group):
        raise TypeError(f"expected a zarr Group or a path, got {type(zgrp).__name__}")


def _is_path(target) -> bool:
    return isinstance(target, str | os.PathLike)


def _leading_shape(path: str) -> tuple:
    """The stored array's leading shape, from the group's metadata only."""
    import zarr

    grp = zarr.open_group(path, mode="r")
    if "flacarray_shape" in grp.attrs:
        return tuple(int(d) for d in grp.attrs["flacarray_shape"])[:-1]
    lead = tuple(grp["stream_starts"].shape)
    return () if lead == (1,) else lead


def write_compressed(zgrp, fa: FlacArray) -> None:
    """Writes a FlacArray into a zarr group (format 1). `zgrp` is a
    zarr-python group, or a filesystem path where the Rust core (zarrs)
    writes the group."""
    if _is_path(zgrp):
        _core.write_zarr(os.fspath(zgrp), fa._core_parts())
        return
    _check_group(zgrp)
    io_common.write_group(BACKEND, zgrp, fa)


def read_compressed(zgrp, keep=None) -> FlacArray:
    """Reads a FlacArray from a zarr group (or a path, read by the Rust
    core) written in format 0 or 1; with `keep` only the chunks holding the
    kept streams are read."""
    if _is_path(zgrp):
        mask = None
        if keep is not None:
            from .selection import keep_flat_indices

            lead = _leading_shape(os.fspath(zgrp))
            mask = np.zeros(int(np.prod(lead or (1,), dtype=np.int64)), dtype=bool)
            mask[keep_flat_indices(keep, lead)] = True
        return FlacArray._from_core(_core.read_zarr(os.fspath(zgrp), mask))
    _check_group(zgrp)
    return io_common.read_group(BACKEND, zgrp, keep=keep)[0]


def write_array(arr, zgrp, level=5, quanta=None, precision=None, use_threads=True) -> None:
    """Compresses a numpy array and writes it into a zarr group."""
    fa = FlacArray.from_array(
        arr, level=level, quanta=quanta, precision=precision, use_threads=use_threads
    )
    write_compressed(zgrp, fa)


def read_array(zgrp, keep=None, stream_slice=None, keep_indices=False, use_threads=True):
    """Reads and decompresses an array from a zarr group (see
    `flacarray.hdf5.read_array` for the arguments)."""
    _check_group(zgrp)
    return io_common.read_array(BACKEND, zgrp, keep, stream_slice, keep_indices, use_threads)
