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


def _plan(fa: FlacArray, total: int, global_shape: tuple[int, ...]) -> list[Any]:
    """The arrays of the group holding the whole distributed array (the
    core's write plan; raises ValueError for a type groups do not hold)."""
    return _core.plan_group_arrays(fa.dtype.name, list(global_shape), total)


def _local_values(
    plan: list[Any], fa: FlacArray, starts: np.ndarray, rows: tuple[int, ...]
) -> dict[str, np.ndarray]:
    """This rank's per-stream arrays, by record field, as the plan stores
    them, shaped as its `rows` of the global leading shape (`starts`: its
    streams' starts in the whole group)."""
    parts = fa._core_parts()
    values = {}
    for planned in plan:
        if planned.field == "compressed":
            continue
        data = starts if planned.field == "stream_starts" else getattr(parts, planned.field)
        values[planned.field] = np.asarray(data).astype(planned.dtype, copy=False).reshape(rows)
    return values


def _whole_parts(
    fa: FlacArray, global_shape: tuple[int, ...], values: list[dict[str, np.ndarray]]
) -> _core.ArrayParts:
    """The whole array's record without its bytes (for a group's
    attributes or a Parquet file's digest): every rank's tables by record
    field (`_local_values`, or only the scales) joined in rank order; a
    table no rank gave is empty (byte tables) or None (scales)."""

    def joined(field: str, dtype: Any) -> np.ndarray | None:
        found = [np.ravel(v[field]) for v in values if field in v]
        if not found:
            return None
        return np.ascontiguousarray(np.concatenate(found), dtype=dtype)

    no_streams = np.zeros(0, dtype=np.int64)
    starts = joined("stream_starts", np.int64)
    nbytes = joined("stream_nbytes", np.int64)
    return _core.ArrayParts(
        fa.dtype.name,
        list(global_shape),
        np.zeros(0, dtype=np.uint8),
        no_streams if starts is None else starts,
        no_streams if nbytes is None else nbytes,
        joined("stream_offsets", np.float64),
        joined("stream_gains", np.float64),
        fa.level,
    )


def _create_staged(
    backend: io_common.Backend, grp: Any, plan: list[Any], created: list[str]
) -> dict[str, Any]:
    """Creates the plan's arrays empty under their staged names, listing
    each in `created` as it comes; returns them by record field."""
    datasets = {}
    for planned in plan:
        ds = backend.create_empty(
            grp,
            io_common.STAGED_PREFIX + planned.name,
            tuple(planned.shape),
            planned.dtype,
            chunks=tuple(planned.chunks),
        )
        created.append(io_common.STAGED_PREFIX + planned.name)
        ds.attrs.update(json.loads(planned.attributes))
        datasets[planned.field] = ds
    return datasets


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
    total, _, global_starts = mpi.global_bytes(fa.nbytes, fa._core_parts().stream_starts, comm)
    plan = _plan(fa, total, global_shape)
    first, last = dist[comm.rank]
    rows = (last - first,) + io_common.stored_leading(plan)[1:]
    local = (fa.compressed, _local_values(plan, fa, global_starts, rows))
    if not root:
        send_piece(comm, local, 0)
        mpi.raise_everywhere(comm, None)
        return
    created: list[str] = []
    datasets: dict[str, Any] = {}
    try:
        io_common.finish_pending(backend, grp)
        datasets = _create_staged(backend, grp, plan, created)
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
            backend.write_bytes(datasets["compressed"], offset, compressed)
            offset += len(compressed)
            first, last = dist[rank]
            for field, data in rank_values.items():
                datasets[field][first:last] = data
            values.append(rank_values)
        except BaseException as err:
            error = err
    if error is None:
        try:
            attrs_json = _core.group_attributes(_whole_parts(fa, global_shape, values))
            io_common.commit(backend, grp, [p.name for p in plan], attrs_json)
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
    total, per_rank, global_starts = mpi.global_bytes(
        fa.nbytes, fa._core_parts().stream_starts, comm
    )
    plan = _plan(fa, total, global_shape)
    created: list[str] = []
    datasets: dict[str, Any] = {}
    # Creating, renaming and deleting are collective in parallel HDF5: every
    # rank does the same, so they fail (or not) together.
    try:
        io_common.finish_pending(backend, grp)
        datasets = _create_staged(backend, grp, plan, created)
    except BaseException as err:
        error = err
    mpi.raise_everywhere(comm, error)
    first, last = dist[comm.rank]
    rows = (last - first,) + io_common.stored_leading(plan)[1:]
    offset = sum(per_rank[: comm.rank])
    local = _local_values(plan, fa, global_starts, rows)
    try:
        for field, data in local.items():
            backend.write_slab(datasets[field], slice(first, last), data)
        backend.write_bytes(datasets["compressed"], offset, fa.compressed)
    except BaseException as err:
        error = err
    if comm.allreduce(error is not None):  # a collective clean-up, then the error
        io_common.discard(backend, grp, created)
    mpi.raise_everywhere(comm, error)
    # Every rank writes the same attributes: every rank needs the digest.
    whole = _whole_parts(fa, global_shape, comm.allgather(local))
    try:
        attrs_json = _core.group_attributes(whole)
        io_common.commit(backend, grp, [p.name for p in plan], attrs_json)
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
    return parts.with_shape(list(rows))


def read_distributed(
    backend: io_common.Backend,
    grp: Any,
    comm: Any,
    mpi_dist: Dist | None,
    keep: npt.ArrayLike | None = None,
    *,
    parallel: bool = False,
) -> tuple[_core.ArrayParts, Dist, tuple[int, ...], np.ndarray | None]:
    """Reads a group's array split along its leading axis over the ranks of
    `comm`: every rank learns the layout and its range (`mpi_dist` or an
    even split). With `parallel` (a group open on every rank with parallel
    HDF5) each rank reads the metadata and its own streams; otherwise rank
    0 (`grp`, or a function opening it, matters there only) checks the
    group, reads each rank's streams in turn and sends them. Returns this
    rank's parts, the distribution, the global shape and this rank's keep
    mask.

    With `keep` (a mask over the global leading shape), each rank gets the
    kept streams of its range as a (kept, samples) array, possibly empty;
    the distribution and global shape returned are then those of the kept
    rows."""
    description, arrays, layout, dist = _layout_and_dist(backend, grp, comm, mpi_dist, parallel)
    stored = tuple(int(d) for d in layout["stored_leading"])
    reads, result_dist, kept, masks = _rank_masks(stored, dist, keep)
    shape = tuple(int(d) for d in layout["shape"])
    result_shape = _result_shape(shape, keep, kept)

    def rows_of(first: int, last: int) -> tuple[int, ...] | None:
        return None if keep is not None else (last - first,) + shape[1:]

    error: BaseException | None = None
    if parallel:
        # each rank its own streams; an error on any rank raised on all
        local = None
        try:
            local = _rank_parts(
                backend, description, arrays, None, reads[comm.rank], rows_of(*dist[comm.rank])
            )
        except BaseException as err:
            error = err
        mpi.raise_everywhere(comm, error)
        assert local is not None
        return local, result_dist, result_shape, masks[comm.rank]
    per_stream = None
    if comm.rank == 0:
        try:
            per_stream = {
                name: io_common.read_values(backend, arrays, name, t)
                for name, t in io_common.PER_STREAM
            }
        except BaseException as err:
            error = err

    def read_rank(rank: int, first: int, last: int) -> _core.ArrayParts:
        rows = rows_of(first, last)
        return _rank_parts(backend, description, arrays, per_stream, reads[rank], rows)

    parts = _gathered_parts(comm, dist, error, read_rank)
    return parts, result_dist, result_shape, masks[comm.rank]


def _gathered_parts(
    comm: Any, dist: Dist, error: BaseException | None, read_rank: Any
) -> _core.ArrayParts:
    """This rank's parts of an array that rank 0 reads: rank 0 reads each
    rank's with `read_rank(rank, first, last)` in turn and sends them (once
    one fails, or with rank 0's earlier `error`, the error), so it never
    holds more than its own and one other rank's; every rank raises the
    error."""
    if comm.rank != 0:
        mine = receive_piece(comm, 0)
        mpi.raise_everywhere(comm, None)  # raises here if rank 0 failed
        return _core.ArrayParts(*mine)
    local: Any = None
    for rank, (first, last) in enumerate(dist):
        piece: Any = error
        if error is None:
            try:
                piece = read_rank(rank, first, last).fields()
            except BaseException as err:
                error = piece = err
        if rank == 0:
            local = piece
        else:
            send_piece(comm, piece, rank)
    mpi.raise_everywhere(comm, error)
    return _core.ArrayParts(*local)


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
    parts = fa._core_parts()
    scales = comm.gather((parts.stream_offsets, parts.stream_gains), root=0)
    if comm.rank != 0:
        send_piece(comm, fa._core_parts().fields(), 0)
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

    # the whole array's record without its bytes and byte tables
    rank_scales = [{"stream_offsets": o, "stream_gains": g} for o, g in scales if o is not None]
    whole = _whole_parts(fa, global_shape, rank_scales)
    try:
        _core.write_parquet_parts(
            os.fspath(path),
            column,
            whole,
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
    sends them. Returns as `read_distributed`."""

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

    def read_rank(rank: int, first: int, last: int) -> _core.ArrayParts:
        parts = _core.read_parquet(os.fspath(path), column, reads[rank])
        if keep is not None:
            return parts
        rows = (last - first,) + tuple(leading[1:]) + (int(parts.shape[-1]),)
        return parts.with_shape(list(rows))

    parts = _gathered_parts(comm, dist, None, read_rank)
    shape = tuple(leading) + (int(parts.shape[-1]),)
    return parts, result_dist, _result_shape(shape, keep, kept), masks[comm.rank]
