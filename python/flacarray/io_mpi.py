"""Writing and reading an array that is split along its leading axis over
MPI ranks: a group (HDF5 or zarr) or a Parquet file.

For groups, two ways, chosen by the container module:

- *gathered* (any container, the only way for zarr and for serial h5py):
  rank 0 holds the group; it writes its own piece and then each other
  rank's in turn, or reads each rank's streams and sends them, so it never
  holds more than its own bytes plus one other rank's;
- *parallel* (h5py opened with the `mpio` driver on every rank): every
  rank creates the same datasets and attributes and writes its own slab
  collectively, or reads its own streams.

Parquet files are always written and read through rank 0. Either way the
container holds what one process writing the whole array writes, every
rank must call, and every error is raised on every rank. The format's
rules stay in `io_common` and the Rust core.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from . import _core, io_common, mpi
from .selection import keep_mask

if TYPE_CHECKING:
    from .array import FlacArray

Dist = list[tuple[int, int]]


def send_piece(comm: Any, piece: Any, dest: int) -> None:
    """Sends a tuple whose first numpy array (the compressed bytes) goes as a
    raw uint8 buffer (no pickling copy; in pieces of at most
    `io_common.PIECE_BYTES`), the rest pickled; or an exception."""
    if isinstance(piece, BaseException):
        comm.send(("error", piece), dest=dest, tag=77)
        return
    index = next(i for i, item in enumerate(piece) if isinstance(item, np.ndarray))
    buffer = np.ascontiguousarray(piece[index], dtype=np.uint8)
    rest = tuple(None if i == index else item for i, item in enumerate(piece))
    comm.send(("piece", index, buffer.size, rest), dest=dest, tag=77)
    for piece in io_common.pieces(0, buffer.size):
        comm.Send(buffer[piece], dest=dest, tag=78)


def receive_piece(comm: Any, source: int) -> Any:
    """What `send_piece` sent from `source` (an exception is returned)."""
    message = comm.recv(source=source, tag=77)
    if message[0] == "error":
        return message[1]
    _, index, size, rest = message
    buffer = np.empty(size, dtype=np.uint8)
    for piece in io_common.pieces(0, size):
        comm.Recv(buffer[piece], source=source, tag=78)
    return tuple(buffer if i == index else item for i, item in enumerate(rest))


def _check_target(backend: io_common.Backend, grp: Any, overwrite: bool) -> None:
    """Rank 0's checks of the target group."""
    if grp is None:
        raise ValueError(f"rank 0 must pass the {backend.name} group to write into")
    backend.check_group(grp)
    io_common.check_target(backend, grp, overwrite)


def _local_values(
    fa: FlacArray, starts: np.ndarray, rows: tuple[int, ...]
) -> list[tuple[str, Any]]:
    """This rank's per-stream arrays, by dataset name, shaped as its `rows`
    of the global leading shape."""
    values: list[tuple[str, Any]] = [
        (io_common.STARTS, np.asarray(starts).reshape(rows)),
        (io_common.NBYTES, np.asarray(fa._nbytes).reshape(rows)),
    ]
    if fa._offsets is not None and fa._gains is not None:
        values.append((io_common.OFFSETS, fa._offsets.astype(fa.dtype).reshape(rows)))
        values.append((io_common.GAINS, fa._gains.astype(fa.dtype).reshape(rows)))
    return values


def _dataset_specs(
    fa: FlacArray, total: int, lead: tuple[int, ...]
) -> list[tuple[str, tuple[int, ...], Any]]:
    """Every dataset of the group at its global size: name, shape, type."""
    specs: list[tuple[str, tuple[int, ...], Any]] = [
        (io_common.COMPRESSED, (total,), np.uint8),
        (io_common.STARTS, lead, np.int64),
        (io_common.NBYTES, lead, np.int64),
    ]
    if fa._offsets is not None:
        specs += [(io_common.OFFSETS, lead, fa.dtype), (io_common.GAINS, lead, fa.dtype)]
    return specs


def _tables(values: list[list[tuple[str, Any]]]) -> tuple[Any, ...]:
    """The whole group's per-stream tables (starts, byte counts, offsets,
    gains; flat, in rank order) from each rank's `_local_values`."""
    joined = {}
    for name in (io_common.STARTS, io_common.NBYTES, io_common.OFFSETS, io_common.GAINS):
        found = [dict(v)[name] for v in values if name in dict(v)]
        dtype = np.int64 if name in (io_common.STARTS, io_common.NBYTES) else np.float64
        joined[name] = (
            np.ascontiguousarray(np.concatenate([np.ravel(f) for f in found]), dtype=dtype)
            if found
            else None
        )
    if joined[io_common.STARTS] is None:
        joined[io_common.STARTS] = joined[io_common.NBYTES] = np.zeros(0, dtype=np.int64)
    return (
        joined[io_common.STARTS],
        joined[io_common.NBYTES],
        joined[io_common.OFFSETS],
        joined[io_common.GAINS],
    )


def write_gathered(
    backend: io_common.Backend, grp: Any, fa: FlacArray, overwrite: bool = False
) -> None:
    """Writes a distributed array into one group through rank 0 (`grp`
    matters there only; other ranks may pass None). With `overwrite`, a
    flacarray group's own arrays and attributes are replaced as in the
    single-process writer (staged, then committed)."""
    comm, dist, global_shape = fa.mpi_comm, fa.mpi_dist, fa.global_shape
    root = comm.rank == 0
    fa = fa._current_layout()  # (a new, local-only array when streams were re-encoded)
    error: BaseException | None = None
    if root:
        try:
            _check_target(backend, grp, overwrite)
        except (FileExistsError, ValueError, TypeError, AttributeError) as err:
            error = err
    mpi.raise_everywhere(comm, error)
    total, _, global_starts = mpi.global_bytes(fa.nbytes, fa._starts, comm)
    _, starts_json, lead = _core.group_layout(fa._core_parts(), global_shape)
    first, last = dist[comm.rank]
    rows = (last - first,) + tuple(lead[1:])
    local = (fa.compressed, _local_values(fa, global_starts, rows))
    if not root:
        send_piece(comm, local, 0)
        mpi.raise_everywhere(comm, None)
        return
    staged = io_common.STAGED_PREFIX
    created: list[str] = []
    datasets: dict[str, Any] = {}
    names = [name for name, _, _ in _dataset_specs(fa, total, tuple(lead))]
    try:
        io_common.finish_pending(backend, grp)
        for name, shape, dtype in _dataset_specs(fa, total, tuple(lead)):
            datasets[name] = backend.create_empty(grp, staged + name, shape, dtype)
            created.append(staged + name)
        datasets[io_common.STARTS].attrs.update(json.loads(starts_json))
    except BaseException as err:  # still take every rank's message below
        error = err
    offset = 0
    values = []
    for rank in range(comm.size):
        piece = local if rank == 0 else receive_piece(comm, rank)
        if error is not None:
            continue
        try:
            compressed, rank_values = piece
            backend.write_bytes(datasets[io_common.COMPRESSED], offset, compressed)
            offset += len(compressed)
            first, last = dist[rank]
            for name, data in rank_values:
                datasets[name][first:last] = data
            values.append(rank_values)
        except BaseException as err:
            error = err
    if error is None:
        try:
            attrs_json, _, _ = _core.group_layout(fa._core_parts(), global_shape, _tables(values))
            io_common.commit(backend, grp, names, attrs_json)
        except BaseException as err:
            error = err
            if io_common.COMMIT_ATTRIBUTE in grp.attrs:
                created = []  # committed: the new array is the group's now
    if error is not None:
        io_common.discard(backend, grp, created)
    mpi.raise_everywhere(comm, error)


def write_parallel(
    backend: io_common.Backend, grp: Any, fa: FlacArray, overwrite: bool = False
) -> None:
    """Writes a distributed array into a group open on every rank with
    parallel HDF5: the same datasets and attributes are created on every
    rank (HDF5 requires it), then each rank writes its slab collectively."""
    comm, dist, global_shape = fa.mpi_comm, fa.mpi_dist, fa.global_shape
    fa = fa._current_layout()
    error: BaseException | None = None
    if comm.rank == 0:
        try:
            _check_target(backend, grp, overwrite)
        except (FileExistsError, ValueError, TypeError, AttributeError) as err:
            error = err
    mpi.raise_everywhere(comm, error)
    total, per_rank, global_starts = mpi.global_bytes(fa.nbytes, fa._starts, comm)
    _, starts_json, lead = _core.group_layout(fa._core_parts(), global_shape)
    specs = _dataset_specs(fa, total, tuple(lead))
    staged = io_common.STAGED_PREFIX
    created: list[str] = []
    datasets: dict[str, Any] = {}
    # Creating, renaming and deleting are collective in parallel HDF5: every
    # rank does the same, so they fail (or not) together.
    try:
        io_common.finish_pending(backend, grp)
        for name, shape, dtype in specs:
            datasets[name] = backend.create_empty(grp, staged + name, shape, dtype)
            created.append(staged + name)
        datasets[io_common.STARTS].attrs.update(json.loads(starts_json))
    except BaseException as err:
        error = err
    mpi.raise_everywhere(comm, error)
    first, last = dist[comm.rank]
    rows = (last - first,) + tuple(lead[1:])
    offset = sum(per_rank[: comm.rank])
    local = _local_values(fa, global_starts, rows)
    try:
        for name, data in local:
            backend.write_slab(datasets[name], slice(first, last), data)
        backend.write_bytes(datasets[io_common.COMPRESSED], offset, fa.compressed)
    except BaseException as err:
        error = err
    if comm.allreduce(error is not None):  # a collective clean-up, then the error
        io_common.discard(backend, grp, created)
    mpi.raise_everywhere(comm, error)
    # Every rank writes the same attributes: every rank needs the digest.
    tables = _tables(comm.allgather(local))
    try:
        attrs_json, _, _ = _core.group_layout(fa._core_parts(), global_shape, tables)
        io_common.commit(backend, grp, [name for name, _, _ in specs], attrs_json)
    except BaseException as err:
        error = err
    mpi.raise_everywhere(comm, error)


def _layout_and_dist(
    backend: io_common.Backend,
    grp: Any,
    comm: Any,
    mpi_dist: Dist | None,
    on_every_rank: bool,
) -> tuple[str, dict[str, Any], dict[str, Any], Dist]:
    """The group's description and arrays (where it is read), its layout
    (on every rank) and the checked distribution of its leading axis."""
    error: BaseException | None = None
    description: str = ""
    arrays: dict[str, Any] = {}
    layout: dict[str, Any] | None = None
    if on_every_rank or comm.rank == 0:
        try:
            if callable(grp):  # opens the group (a path given on rank 0)
                grp = grp()
            if grp is None:
                raise ValueError(f"rank 0 must pass the {backend.name} group to read from")
            description, arrays = io_common.gather_claims(backend, grp)
            layout = _core.describe_group(description)
        except (OSError, ValueError, TypeError, AttributeError) as err:
            error = err
    mpi.raise_everywhere(comm, error)
    if not on_every_rank:
        layout = comm.bcast(layout, root=0)
    assert layout is not None
    if len(layout["shape"]) < 2:
        raise ValueError("a single 1-D stream cannot be split over MPI processes")
    dist = mpi.distribute_and_verify(comm, int(layout["shape"][0]), mpi_dist)
    return description, arrays, layout, dist


def _rank_masks(
    stored: tuple[int, ...], dist: Dist, keep: npt.ArrayLike | None
) -> tuple[list[np.ndarray], Dist, int, list[np.ndarray | None]]:
    """For each rank: the streams it reads (a mask over the stored leading
    shape `stored`) and, with `keep`, the distribution of the kept rows,
    their number and each rank's keep mask (without `keep`: `dist`, the
    leading length and Nones)."""
    reads = []
    if keep is None:
        for first, last in dist:
            mask = np.zeros(stored, dtype=bool)
            mask[first:last] = True
            reads.append(mask)
        return reads, dist, stored[0], [None] * len(dist)
    mask = keep_mask(keep)
    if mask.shape != stored:
        raise ValueError(f"keep has shape {mask.shape}, the array's leading shape is {stored}")
    for first, last in dist:
        rank_mask = np.zeros(stored, dtype=bool)
        rank_mask[first:last] = mask[first:last]
        reads.append(rank_mask)
    bounds = np.concatenate([[0], np.cumsum([int(m.sum()) for m in reads])]).tolist()
    kept_dist = [(int(bounds[r]), int(bounds[r + 1])) for r in range(len(dist))]
    return reads, kept_dist, int(bounds[-1]), list(reads)


def _result_shape(shape: tuple[int, ...], keep: npt.ArrayLike | None, kept: int) -> tuple[int, ...]:
    """The global shape of what a distributed read returns."""
    return shape if keep is None else (kept, shape[-1])


def _rank_parts(
    backend: io_common.Backend,
    description: str,
    arrays: dict[str, Any],
    per_stream: dict[str, Any] | None,
    read_mask: np.ndarray,
    rows: tuple[int, ...] | None,
) -> _core.ArrayParts:
    """One rank's streams; `rows` is the shape of its part of the array
    (None with `keep`: a (kept, samples) array)."""
    parts = io_common.plan_read(backend, description, arrays, read_mask, per_stream)
    if rows is None:
        return parts
    return _core.ArrayParts(*_parts_tuple(parts, rows))


def _parts_tuple(parts: _core.ArrayParts, shape: tuple[int, ...]) -> tuple[Any, ...]:
    return (
        parts.dtype,
        shape,
        parts.compressed,
        parts.stream_starts,
        parts.stream_nbytes,
        parts.stream_offsets,
        parts.stream_gains,
        parts.level,
    )


def read_gathered(
    backend: io_common.Backend,
    grp: Any,
    comm: Any,
    mpi_dist: Dist | None,
    keep: npt.ArrayLike | None = None,
) -> tuple[_core.ArrayParts, Dist, tuple[int, ...], np.ndarray | None]:
    """Reads a group's array split along its leading axis over the ranks of
    `comm`, through rank 0 (`grp`, or a function opening it, matters there
    only): rank 0 checks the group, every rank learns the layout and its
    range (`mpi_dist` or an even split), then rank 0 reads each rank's
    streams in turn and sends them. Returns this rank's parts, the
    distribution, the global shape and this rank's keep mask.

    With `keep` (a mask over the global leading shape), each rank gets the
    kept streams of its range as a (kept, samples) array, possibly empty;
    the distribution and global shape returned are then those of the kept
    rows."""
    description, arrays, layout, dist = _layout_and_dist(backend, grp, comm, mpi_dist, False)
    stored = tuple(int(d) for d in layout["stored_leading"])
    reads, result_dist, kept, masks = _rank_masks(stored, dist, keep)
    shape = tuple(int(d) for d in layout["shape"])
    result_shape = _result_shape(shape, keep, kept)
    if comm.rank != 0:
        mine = receive_piece(comm, 0)
        mpi.raise_everywhere(comm, None)  # raises here if rank 0 failed
        return _core.ArrayParts(*mine), result_dist, result_shape, masks[comm.rank]
    error: BaseException | None = None
    local: Any = None
    per_stream = None
    try:
        per_stream = {
            name: io_common.read_values(backend, arrays, name, t)
            for name, t in io_common.PER_STREAM
        }
    except BaseException as err:
        error = err
    for rank, (first, last) in enumerate(dist):
        piece: Any = error
        if error is None:
            try:
                rows = None if keep is not None else (last - first,) + shape[1:]
                parts = _rank_parts(backend, description, arrays, per_stream, reads[rank], rows)
                piece = _parts_tuple(parts, tuple(parts.shape))
            except BaseException as err:
                error = piece = err
        if rank == 0:
            local = piece
        else:
            send_piece(comm, piece, rank)
    mpi.raise_everywhere(comm, error)
    return _core.ArrayParts(*local), result_dist, result_shape, masks[0]


def read_parallel(
    backend: io_common.Backend,
    grp: Any,
    comm: Any,
    mpi_dist: Dist | None,
    keep: npt.ArrayLike | None = None,
) -> tuple[_core.ArrayParts, Dist, tuple[int, ...], np.ndarray | None]:
    """As `read_gathered`, for a group open on every rank with parallel
    HDF5: each rank reads the metadata and its own streams."""
    description, arrays, layout, dist = _layout_and_dist(backend, grp, comm, mpi_dist, True)
    stored = tuple(int(d) for d in layout["stored_leading"])
    reads, result_dist, kept, masks = _rank_masks(stored, dist, keep)
    result_shape = _result_shape(tuple(int(d) for d in layout["shape"]), keep, kept)
    first, last = dist[comm.rank]
    rows = None if keep is not None else (last - first,) + tuple(layout["shape"][1:])
    error: BaseException | None = None
    parts = None
    try:
        parts = _rank_parts(backend, description, arrays, None, reads[comm.rank], rows)
    except BaseException as err:
        error = err
    mpi.raise_everywhere(comm, error)
    assert parts is not None
    return parts, result_dist, result_shape, masks[comm.rank]


def write_parquet_gathered(path: Any, fa: FlacArray, column: str, overwrite: bool) -> None:
    """Writes a distributed array to one Parquet file through rank 0 (`path`
    matters there only): rank 0 writes its own streams, then each other
    rank's as it arrives, so it never holds more than its own bytes plus
    one other rank's. The file holds the rows and metadata one process
    writing the whole array writes; it appears only once complete."""

    comm, global_shape = fa.mpi_comm, fa.global_shape
    error: BaseException | None = None
    if comm.rank == 0:
        try:
            if path is None:
                raise ValueError("rank 0 must pass the Parquet path to write to")
            if os.path.lexists(path) and not overwrite:
                raise FileExistsError(
                    f"'{os.fspath(path)}' already exists; pass overwrite=True to replace it"
                )
        except (ValueError, TypeError, FileExistsError) as err:
            error = err
    mpi.raise_everywhere(comm, error)
    # Every stream's offset and gain (small) for the file's digest, first.
    scales = comm.gather((fa._offsets, fa._gains), root=0)
    if comm.rank != 0:
        send_piece(comm, _parts_tuple(fa._core_parts(), tuple(fa.shape)), 0)
        mpi.raise_everywhere(comm, None)
        return
    waiting = list(range(1, comm.size))
    given_own = False

    def next_part() -> _core.ArrayParts | None:
        nonlocal given_own
        if not given_own:
            given_own = True
            return fa._core_parts()
        if not waiting:
            return None
        rank = waiting.pop(0)
        piece = receive_piece(comm, rank)
        if isinstance(piece, BaseException):
            raise piece
        return _core.ArrayParts(*piece)

    offsets = gains = None
    if fa._offsets is not None:
        offsets = np.concatenate([o for o, _ in scales if o is not None]).astype(np.float64)
        gains = np.concatenate([g for _, g in scales if g is not None]).astype(np.float64)
    try:
        _core.write_parquet_parts(
            os.fspath(path),
            column,
            fa.dtype.name,
            list(global_shape),
            fa.level,
            offsets,
            gains,
            next_part,
            overwrite,
        )
    except BaseException as err:
        error = err
    for rank in waiting:  # what a failed write did not take
        receive_piece(comm, rank)
    mpi.raise_everywhere(comm, error)


def read_parquet_gathered(
    path: Any,
    column: str,
    comm: Any,
    mpi_dist: Dist | None,
    keep: npt.ArrayLike | None = None,
) -> tuple[_core.ArrayParts, Dist, tuple[int, ...], np.ndarray | None]:
    """Reads a Parquet file's array split along its leading axis over the
    ranks of `comm`, through rank 0 (`path` matters there only), which
    reads each rank's streams (only their row groups and pages) in turn and
    sends them. Returns as `read_gathered`."""

    error: BaseException | None = None
    layout = None
    if comm.rank == 0:
        try:
            if path is None:
                raise ValueError("rank 0 must pass the Parquet path to read from")
            layout = _core.parquet_leading_shape(os.fspath(path), column)
        except (OSError, ValueError, TypeError) as err:
            error = err
    mpi.raise_everywhere(comm, error)
    _, leading = comm.bcast(layout, root=0)
    if not leading:
        raise ValueError("a single 1-D stream cannot be split over MPI processes")
    dist = mpi.distribute_and_verify(comm, int(leading[0]), mpi_dist)
    reads, result_dist, kept, masks = _rank_masks(tuple(leading), dist, keep)
    if comm.rank != 0:
        mine = receive_piece(comm, 0)
        mpi.raise_everywhere(comm, None)  # raises here if rank 0 failed
        parts = _core.ArrayParts(*mine)
        shape = tuple(leading) + (int(parts.shape[-1]),)
        return parts, result_dist, _result_shape(shape, keep, kept), masks[comm.rank]
    local: Any = None
    for rank, (first, last) in enumerate(dist):
        piece: Any = error
        if error is None:
            try:
                parts = _core.read_parquet(os.fspath(path), column, reads[rank])
                rows = tuple(parts.shape)
                if keep is None:
                    rows = (last - first,) + tuple(leading[1:]) + (int(parts.shape[-1]),)
                piece = _parts_tuple(parts, rows)
            except BaseException as err:
                error = piece = err
        if rank == 0:
            local = piece
        else:
            send_piece(comm, piece, rank)
    mpi.raise_everywhere(comm, error)
    parts = _core.ArrayParts(*local)
    shape = tuple(leading) + (int(parts.shape[-1]),)
    return parts, result_dist, _result_shape(shape, keep, kept), masks[0]
