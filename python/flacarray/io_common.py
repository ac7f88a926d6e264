"""Moving a FlacArray in and out of an HDF5 or zarr group (format 0 or 1).

The format's rules (attribute and dataset names, versions, type and shape
inference, every check on what a file claims, which byte ranges to read)
live in the Rust core (`flacarray::container`), shared with the zarrs
reader; this module describes what a group holds, asks the core, and moves
the bytes. A backend adapts one container library (h5py, zarr-python).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from . import _core
from .selection import keep_mask, kept_index_tuples

if TYPE_CHECKING:
    from .array import FlacArray

#: Every array and group attribute the format defines (from the core).
GROUP_ARRAYS = tuple(_core.GROUP_ARRAYS)
GROUP_ATTRIBUTES = tuple(_core.GROUP_ATTRIBUTES)
VERSION_ATTRIBUTE = str(_core.VERSION_ATTRIBUTE)


class Backend:
    """What a container library provides for a group."""

    name = "container"
    #: Whether `move` renames an array within a group.
    can_move = False

    def create(self, grp: Any, name: str, data: np.ndarray, *, bulk: bool = False) -> Any:
        raise NotImplementedError

    def create_empty(self, grp: Any, name: str, shape: tuple[int, ...], dtype: Any) -> Any:
        """An array of `shape` to be filled piece by piece (MPI writes)."""
        raise NotImplementedError

    def members(self, grp: Any) -> list[str]:
        return list(grp.keys())

    def arrays(self, grp: Any) -> dict[str, Any]:
        """The format's arrays present in `grp`, by name."""
        raise NotImplementedError

    def delete(self, grp: Any, name: str) -> None:
        del grp[name]

    def move(self, grp: Any, source: str, dest: str) -> None:
        raise NotImplementedError

    def info(self, name: str, dataset: Any) -> dict[str, Any]:
        """Shape, element type and what is really stored, for the core."""
        raise NotImplementedError

    def read(self, dataset: Any, selection: slice = slice(None)) -> np.ndarray:
        return np.asarray(dataset[selection])


def dtype_name(dtype: Any) -> str:
    """A stored array's numpy type name ("unsupported" if it has none)."""
    try:
        return np.dtype(dtype).name
    except TypeError:
        return "unsupported"


def _jsonable(value: Any) -> Any:
    """An attribute value as JSON, the way the core reads attributes."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _attrs(attrs: Any) -> dict[str, Any]:
    return {str(k): _jsonable(attrs[k]) for k in attrs.keys()}


def _corrupt(backend: Backend, what: str, err: Exception) -> Exception:
    return _core.CorruptDataError(f"{backend.name} {what} could not be read: {err}")


def describe(backend: Backend, grp: Any) -> tuple[str, dict[str, Any]]:
    """The core's description of a group (JSON) and its arrays by name."""
    try:
        arrays = backend.arrays(grp)
        desc = {
            "attributes": _attrs(grp.attrs),
            "starts_attributes": {},
            "arrays": {name: backend.info(name, ds) for name, ds in arrays.items()},
        }
        if "stream_starts" in arrays:
            desc["starts_attributes"] = _attrs(arrays["stream_starts"].attrs)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as err:
        raise _corrupt(backend, "group", err) from err
    return json.dumps(desc), arrays


def _read_values(
    backend: Backend, arrays: dict[str, Any], name: str, dtype: npt.DTypeLike
) -> np.ndarray | None:
    if name not in arrays:
        return None
    try:
        values = backend.read(arrays[name])
    except (OSError, ValueError, TypeError, RuntimeError) as err:
        raise _corrupt(backend, f"array '{name}'", err) from err
    return np.ascontiguousarray(values, dtype=dtype).reshape(-1)


def read_group(
    backend: Backend, grp: Any, keep: npt.ArrayLike | None = None
) -> tuple[_core.ArrayParts, np.ndarray | None]:
    """Reads the parts of a format 0 or 1 group's array; with `keep` (a boolean mask over the
    leading shape) only the kept streams' bytes are read, and the parts are
    those of a (kept, samples) array. Also returns the keep mask as checked
    (None without `keep`)."""
    description, arrays = describe(backend, grp)
    _core.describe_group(description)  # checks the metadata before any read
    mask = None if keep is None else keep_mask(keep)
    runs, parts = _core.plan_group_read(
        description,
        _read_values(backend, arrays, "stream_starts", np.int64),
        _read_values(backend, arrays, "stream_bytes", np.int64),
        _read_values(backend, arrays, "stream_offsets", np.float64),
        _read_values(backend, arrays, "stream_gains", np.float64),
        mask,
    )
    dataset = arrays["compressed"]
    try:
        pieces = [backend.read(dataset, slice(int(a), int(b))) for a, b in runs]
    except (OSError, ValueError, TypeError, RuntimeError) as err:
        raise _corrupt(backend, "array 'compressed'", err) from err
    compressed = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.uint8)
    compressed = np.ascontiguousarray(compressed, dtype=np.uint8)
    return parts.with_compressed(compressed), mask


def decoded(
    fa: FlacArray,
    mask: np.ndarray | None,
    stream_slice: slice | None,
    keep_indices: bool,
    use_threads: bool,
) -> Any:
    """What the `read_array` helpers return for an array read with the keep
    mask `mask` (None: every stream): the decoded samples in
    `stream_slice`, and with `keep_indices` the kept streams' index tuples."""
    out = fa.to_array(stream_slice=stream_slice, use_threads=use_threads)
    if not keep_indices:
        return out
    return out, None if mask is None else kept_index_tuples(mask)


def _check_target(backend: Backend, grp: Any, overwrite: bool) -> list[str]:
    """The names an overwrite replaces; raises FileExistsError when the
    group holds anything and replacing it was not asked for or is not ours
    to do."""
    members = backend.members(grp)
    ours_attrs = [a for a in GROUP_ATTRIBUTES if a in grp.attrs]
    if not members and not ours_attrs:
        return []
    where = f"{backend.name} group '{getattr(grp, 'name', grp)}'"
    if not overwrite:
        held = ", ".join(members + ours_attrs)
        raise FileExistsError(
            f"{where} already holds {held}; write into a new or empty group, "
            "or pass overwrite=True to replace a flacarray array"
        )
    if VERSION_ATTRIBUTE not in grp.attrs:
        raise FileExistsError(
            f"{where} is not a flacarray group; refusing to replace what it holds"
        )
    return [name for name in GROUP_ARRAYS if name in members]


def write_group(backend: Backend, grp: Any, fa: FlacArray, overwrite: bool = False) -> None:
    """Writes `fa` into `grp` in format 1. A group that holds anything is
    refused unless `overwrite`, and then only a flacarray group's own arrays
    and attributes are replaced; other members stay. A failed write removes
    what it created."""
    old = _check_target(backend, grp, overwrite)
    fa = fa._format1()
    attrs_json, starts_json, lead = _core.group_layout(fa._core_parts())
    arrays = [
        ("compressed", fa.compressed, True),
        ("stream_starts", fa._starts.reshape(lead), False),
        ("stream_bytes", fa._nbytes.reshape(lead), False),
    ]
    if fa._offsets is not None and fa._gains is not None:
        arrays.append(("stream_offsets", fa._offsets.astype(fa.dtype).reshape(lead), False))
        arrays.append(("stream_gains", fa._gains.astype(fa.dtype).reshape(lead), False))
    # With a backend that can rename, new arrays go under temporary names and
    # replace the old ones only once all are written.
    staged = bool(old) and backend.can_move
    if old and not staged:
        for name in old:
            backend.delete(grp, name)
    prefix = "__flacarray_new_" if staged else ""
    created = []
    try:
        for name, data, bulk in arrays:
            ds = backend.create(grp, prefix + name, data, bulk=bulk)
            created.append(prefix + name)
            if name == "stream_starts":
                ds.attrs.update(json.loads(starts_json))
        if staged:
            for name in old:
                backend.delete(grp, name)
            for name, _, _ in arrays:
                backend.move(grp, prefix + name, name)
        for name in GROUP_ATTRIBUTES:
            if name in grp.attrs:
                del grp.attrs[name]
        grp.attrs.update(json.loads(attrs_json))
    except BaseException:
        for name in created:
            if name in backend.members(grp):
                backend.delete(grp, name)
        raise


def send_piece(comm: Any, piece: Any, dest: int) -> None:
    """Sends a tuple whose first numpy uint8 array (the compressed bytes) goes
    as a raw buffer (no pickling copy), the rest pickled; or an exception."""
    if isinstance(piece, BaseException):
        comm.send(("error", piece), dest=dest, tag=77)
        return
    index = next(i for i, item in enumerate(piece) if isinstance(item, np.ndarray))
    buffer = np.ascontiguousarray(piece[index], dtype=np.uint8)
    rest = tuple(None if i == index else item for i, item in enumerate(piece))
    comm.send(("piece", index, buffer.size, rest), dest=dest, tag=77)
    comm.Send(buffer, dest=dest, tag=78)


def receive_piece(comm: Any, source: int) -> Any:
    """What `send_piece` sent from `source` (an exception is returned)."""
    message = comm.recv(source=source, tag=77)
    if message[0] == "error":
        return message[1]
    _, index, size, rest = message
    buffer = np.empty(size, dtype=np.uint8)
    comm.Recv(buffer, source=source, tag=78)
    return tuple(buffer if i == index else item for i, item in enumerate(rest))


def write_group_distributed(backend: Backend, grp: Any, fa: FlacArray) -> None:
    """Writes an array distributed over MPI ranks into one group, through
    rank 0 (`grp` matters there only; other ranks may pass None): rank 0
    creates the arrays at their global sizes and writes its own piece, then
    each other rank's in turn, so rank 0 never holds more than its own bytes
    plus one other rank's. The group holds exactly what a single process
    writing the whole array writes. Collective: every rank must call it;
    every error is raised on every rank."""
    from . import mpi

    comm, dist, global_shape = fa.mpi_comm, fa.mpi_dist, fa.global_shape
    root = comm.rank == 0
    fa = fa._format1()  # (a new, local-only array when streams were re-encoded)
    error: BaseException | None = None
    if root:
        try:
            if grp is None:
                raise ValueError(f"rank 0 must pass the {backend.name} group to write into")
            _check_target(backend, grp, overwrite=False)
        except (FileExistsError, ValueError, TypeError, AttributeError) as err:
            error = err
    mpi.raise_everywhere(comm, error)
    total, _, global_starts = mpi.global_bytes(fa.nbytes, fa._starts, comm)
    attrs_json, starts_json, lead = _core.group_layout(fa._core_parts(), global_shape)
    floats = fa._offsets is not None
    local = (fa.compressed, global_starts, fa._nbytes, fa._offsets, fa._gains)
    if not root:
        send_piece(comm, local, 0)
        mpi.raise_everywhere(comm, None)
        return
    created: list[str] = []
    try:
        names = ["compressed", "stream_starts", "stream_bytes"]
        names += ["stream_offsets", "stream_gains"] if floats else []
        datasets = {}
        for name in names:
            if name == "compressed":
                datasets[name] = backend.create_empty(grp, name, (total,), np.uint8)
            else:
                dtype = np.int64 if name in ("stream_starts", "stream_bytes") else fa.dtype
                datasets[name] = backend.create_empty(grp, name, tuple(lead), dtype)
            created.append(name)
        datasets["stream_starts"].attrs.update(json.loads(starts_json))
    except BaseException as err:  # still take every rank's message below
        error = err
    offset = 0
    for rank in range(comm.size):
        piece = local if rank == 0 else receive_piece(comm, rank)
        if error is not None:
            continue
        try:
            first, last = dist[rank]
            compressed, starts, nbytes, offsets, gains = piece
            datasets["compressed"][offset : offset + len(compressed)] = compressed
            offset += len(compressed)
            shape = (last - first,) + tuple(lead[1:])
            values = [("stream_starts", starts), ("stream_bytes", nbytes)]
            if floats:
                values += [("stream_offsets", offsets), ("stream_gains", gains)]
            for name, array in values:
                data = np.asarray(array).reshape(shape)
                if name in ("stream_offsets", "stream_gains"):
                    data = data.astype(fa.dtype)
                datasets[name][first:last] = data
        except BaseException as err:
            error = err
    if error is None:
        try:
            grp.attrs.update(json.loads(attrs_json))
        except BaseException as err:
            error = err
    if error is not None:
        for name in created:
            if name in backend.members(grp):
                backend.delete(grp, name)
    mpi.raise_everywhere(comm, error)


def read_group_distributed(
    backend: Backend,
    grp: Any,
    comm: Any,
    mpi_dist: list[tuple[int, int]] | None,
    keep: npt.ArrayLike | None = None,
) -> tuple[_core.ArrayParts, list[tuple[int, int]], tuple[int, ...], np.ndarray | None]:
    """Reads a group's array split along its leading axis over the ranks of
    `comm`, through rank 0 (`grp`, or a function opening it, matters there
    only): rank 0 checks the group, every rank learns the layout and its
    range (`mpi_dist` or an even split), then rank 0 reads each rank's
    streams in turn and sends them. Returns this rank's parts, the
    distribution, the global shape and this rank's keep mask.

    With `keep` (a mask over the global leading shape), each rank gets the
    kept streams of its range as a (kept, samples) array, possibly empty;
    the distribution and global shape returned are then those of the kept
    rows. Collective; every error is raised on every rank."""
    from . import mpi

    root = comm.rank == 0
    error: BaseException | None = None
    layout = None
    if root:
        try:
            if callable(grp):  # opens the group (a path given on rank 0)
                grp = grp()
            if grp is None:
                raise ValueError(f"rank 0 must pass the {backend.name} group to read from")
            description, arrays = describe(backend, grp)
            layout = _core.describe_group(description)
        except (OSError, ValueError, TypeError, AttributeError) as err:
            error = err
    mpi.raise_everywhere(comm, error)
    layout = comm.bcast(layout, root=0)
    shape = tuple(int(d) for d in layout["shape"])
    if len(shape) < 2:
        raise ValueError("a single 1-D stream cannot be split over MPI processes")
    dist = mpi.distribute_and_verify(comm, shape[0], mpi_dist)
    masks: list[np.ndarray | None] = [None] * comm.size
    if keep is not None:
        mask = keep_mask(keep)
        if mask.shape != tuple(layout["stored_leading"]):
            raise ValueError(
                f"keep has shape {mask.shape}, the array's leading shape is "
                f"{tuple(layout['stored_leading'])}"
            )
        for rank, (first, last) in enumerate(dist):
            rank_mask = np.zeros(mask.shape, dtype=bool)
            rank_mask[first:last] = mask[first:last]
            masks[rank] = rank_mask
    result_dist, result_shape = dist, shape
    if keep is not None:
        kept = [int(m.sum()) for m in masks if m is not None]
        bounds = np.concatenate([[0], np.cumsum(kept)]).tolist()
        result_dist = [(int(bounds[r]), int(bounds[r + 1])) for r in range(comm.size)]
        result_shape = (int(bounds[-1]), shape[-1])
    if not root:
        mine = receive_piece(comm, 0)
        mpi.raise_everywhere(comm, None)  # raises here if rank 0 failed
        return _core.ArrayParts(*mine), result_dist, result_shape, masks[comm.rank]
    local: Any = None
    try:
        per_stream = {
            name: _read_values(backend, arrays, name, dtype)
            for name, dtype in (
                ("stream_starts", np.int64),
                ("stream_bytes", np.int64),
                ("stream_offsets", np.float64),
                ("stream_gains", np.float64),
            )
        }
    except BaseException as err:
        error = err
    for rank, (first, last) in enumerate(dist):
        piece: Any = error
        if error is None:
            try:
                rank_keep = masks[rank]
                if rank_keep is None:
                    rank_keep = np.zeros(layout["stored_leading"], dtype=bool)
                    rank_keep[first:last] = True
                runs, parts = _core.plan_group_read(
                    description,
                    per_stream["stream_starts"],
                    per_stream["stream_bytes"],
                    per_stream["stream_offsets"],
                    per_stream["stream_gains"],
                    rank_keep,
                )
                dataset = arrays["compressed"]
                pieces = [backend.read(dataset, slice(int(a), int(b))) for a, b in runs]
                joined = np.concatenate(pieces) if pieces else np.zeros(0, np.uint8)
                compressed = np.ascontiguousarray(joined, dtype=np.uint8)
                rows = (last - first,) + shape[1:]
                piece = (
                    parts.dtype,
                    rows if masks[rank] is None else tuple(parts.shape),
                    compressed,
                    parts.starts,
                    parts.nbytes,
                    parts.offsets,
                    parts.gains,
                    parts.level,
                )
            except BaseException as err:
                error = err
                piece = err
        if rank == 0:
            local = piece
        else:
            send_piece(comm, piece, rank)
    mpi.raise_everywhere(comm, error)
    return _core.ArrayParts(*local), result_dist, result_shape, masks[0]
