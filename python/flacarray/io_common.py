"""The on-disk layout shared by the HDF5 and zarr containers (format 1).

A group holds:
  compressed       uint8, all streams' FLAC bytes concatenated
  stream_starts    int64, leading shape; attribute stream_size
  stream_bytes     int64, leading shape
  stream_offsets   float (the data's dtype), leading shape; float data only
  stream_gains     float (the data's dtype), leading shape; float data only
and attributes flacarray_format_version ("1"), flacarray_software_version,
flac_channels ("1" or "2"), plus ours: flacarray_dtype and flacarray_shape.
A single-stream (1-D) array stores 1-element auxiliary datasets.
Format 0 (the reference package's 0.2.x) has the same datasets, no
flac_channels, and float64 streams stored as 32-bit FLAC.
"""

from __future__ import annotations

import numpy as np

from . import _core
from .array import FlacArray, check_dtype
from .selection import index_tuples, keep_flat_indices

FORMAT_VERSION = "1"
READABLE_VERSIONS = (0, 1)
SOFTWARE = f"flacarray-rs {_core.__version__}"

NAMES = (
    "compressed",
    "stream_starts",
    "stream_bytes",
    "stream_offsets",
    "stream_gains",
)


class Backend:
    """What a container library must provide: create a dataset, read a slice."""

    name = "container"

    def create(self, grp, name: str, data: np.ndarray, *, bulk: bool = False):
        raise NotImplementedError

    def has(self, grp, name: str) -> bool:
        return name in grp

    def read(self, dataset, selection=slice(None)) -> np.ndarray:
        return np.asarray(dataset[selection])


def write_group(backend: Backend, grp, fa: FlacArray) -> None:
    """Writes `fa` into `grp` in format 1."""
    lead = fa.leading_shape if fa.leading_shape else (1,)
    wide = fa.dtype.name in ("int64", "float64")
    backend.create(grp, "compressed", fa.compressed, bulk=True)
    starts = backend.create(grp, "stream_starts", fa.stream_starts.reshape(lead))
    starts.attrs["stream_size"] = int(fa.stream_size)
    backend.create(grp, "stream_bytes", fa.stream_nbytes.reshape(lead))
    if fa.stream_offsets is not None:
        backend.create(grp, "stream_offsets", fa.stream_offsets.reshape(lead))
        backend.create(grp, "stream_gains", fa.stream_gains.reshape(lead))
    grp.attrs["flacarray_format_version"] = FORMAT_VERSION
    grp.attrs["flacarray_software_version"] = SOFTWARE
    grp.attrs["flac_channels"] = "2" if wide else "1"
    grp.attrs["flacarray_dtype"] = fa.dtype.name
    grp.attrs["flacarray_shape"] = [int(s) for s in fa.shape]


def _dataset(backend: Backend, grp, name: str):
    if not backend.has(grp, name):
        raise _core.CorruptDataError(
            f"{backend.name} group has no '{name}' dataset: not a flacarray group"
        )
    return grp[name]


def _attr(attrs, name: str, where: str):
    if name not in attrs:
        raise _core.CorruptDataError(f"{where} has no '{name}' attribute: not a flacarray group")
    return attrs[name]


def _infer_dtype(grp, gains, channels: int) -> np.dtype:
    if "flacarray_dtype" in grp.attrs:
        return check_dtype(str(grp.attrs["flacarray_dtype"]))
    if gains is not None:
        return check_dtype(gains.dtype)
    return np.dtype(np.int64 if channels == 2 else np.int32)


def _read_bytes(backend, dataset, starts, nbytes, flat):
    """Reads only the selected streams' bytes, one read per run of adjacent
    streams. Returns the bytes and each selected stream's new start."""
    pieces, new_starts, pos = [], np.empty(len(flat), dtype=np.int64), 0
    run_begin = run_end = None
    for i, s in enumerate(flat):
        begin, end = int(starts[s]), int(starts[s] + nbytes[s])
        if run_end is not None and begin == run_end:
            run_end = end
        else:
            if run_begin is not None:
                pieces.append(backend.read(dataset, slice(run_begin, run_end)))
            run_begin, run_end = begin, end
        new_starts[i] = pos
        pos += end - begin
    if run_begin is not None:
        pieces.append(backend.read(dataset, slice(run_begin, run_end)))
    data = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.uint8)
    return data.astype(np.uint8, copy=False), new_starts


def read_group(backend: Backend, grp, keep=None) -> tuple[FlacArray, list | None]:
    """Reads a FlacArray from a format 0 or 1 group; with `keep` (a boolean
    mask over the leading shape) only the kept streams' bytes are read, and
    the result is a (kept, samples) array. Also returns the kept streams'
    index tuples (None without `keep`)."""
    version_raw = _attr(grp.attrs, "flacarray_format_version", f"{backend.name} group")
    try:
        version = int(version_raw)
    except (TypeError, ValueError):
        version = None
    if version not in READABLE_VERSIONS:
        raise ValueError(
            f"unsupported flacarray format version {version_raw!r}; this version reads "
            + ", ".join(str(v) for v in READABLE_VERSIONS)
        )
    starts_ds = _dataset(backend, grp, "stream_starts")
    stream_size = int(_attr(starts_ds.attrs, "stream_size", "dataset 'stream_starts'"))
    nbytes_ds = _dataset(backend, grp, "stream_bytes")
    compressed_ds = _dataset(backend, grp, "compressed")
    has_offsets = backend.has(grp, "stream_offsets")
    has_gains = backend.has(grp, "stream_gains")
    if has_offsets != has_gains:
        raise _core.CorruptDataError("group has only one of 'stream_offsets' and 'stream_gains'")
    offsets_ds = grp["stream_offsets"] if has_offsets else None
    gains_ds = grp["stream_gains"] if has_gains else None
    channels = int(grp.attrs.get("flac_channels", 1))
    dtype = _infer_dtype(grp, gains_ds, channels)
    if dtype.kind == "f" and gains_ds is None:
        raise _core.CorruptDataError(f"{dtype} data needs 'stream_offsets' and 'stream_gains'")

    starts = backend.read(starts_ds).astype(np.int64).reshape(-1)
    nbytes = backend.read(nbytes_ds).astype(np.int64).reshape(-1)
    if starts.shape != nbytes.shape:
        raise _core.CorruptDataError(
            f"stream_starts has {starts.size} entries but stream_bytes has {nbytes.size}"
        )
    lead = tuple(int(d) for d in starts_ds.shape)
    shape = lead + (stream_size,)
    if "flacarray_shape" in grp.attrs:
        stored = tuple(int(d) for d in grp.attrs["flacarray_shape"])
        if int(np.prod(stored[:-1], dtype=np.int64)) == starts.size and stored[-1] == stream_size:
            shape = stored
    elif lead == (1,):
        shape = (stream_size,)
    if np.any(starts < 0) or np.any(nbytes < 0):
        raise _core.CorruptDataError("stream_starts or stream_bytes holds a negative value")
    if np.any(starts + nbytes > compressed_ds.shape[0]):
        raise _core.CorruptDataError(
            f"stream byte ranges point past the {compressed_ds.shape[0]} compressed bytes"
        )

    offsets = None if offsets_ds is None else backend.read(offsets_ds).reshape(-1)
    gains = None if gains_ds is None else backend.read(gains_ds).reshape(-1)
    indices = None
    if keep is None:
        compressed = backend.read(compressed_ds)
    else:
        flat = keep_flat_indices(keep, shape[:-1])
        compressed, new_starts = _read_bytes(backend, compressed_ds, starts, nbytes, flat)
        starts, nbytes = new_starts, nbytes[flat]
        offsets = None if offsets is None else offsets[flat]
        gains = None if gains is None else gains[flat]
        indices = index_tuples(flat, shape[:-1])
        shape = (len(flat), stream_size)
    fa = FlacArray._from_core((dtype, shape, compressed, starts, nbytes, offsets, gains))
    return fa, indices


def read_array(backend: Backend, grp, keep, stream_slice, keep_indices, use_threads):
    """Reads and decompresses (see `read_group`), decoding only the samples
    in `stream_slice`."""
    fa, indices = read_group(backend, grp, keep=keep)
    out = fa.to_array(stream_slice=stream_slice, use_threads=use_threads)
    return (out, indices) if keep_indices else out
