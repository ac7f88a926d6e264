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

#: The most bytes moved in one call to MPI or to parallel HDF5: both count
#: elements in a C int (at most 2 GiB of bytes), so anything larger goes in
#: pieces of 1 GiB.
PIECE_BYTES = 1 << 30


def pieces(start: int, stop: int) -> list[slice]:
    """[start, stop) cut into slices of at most `PIECE_BYTES`."""
    return [slice(a, min(a + PIECE_BYTES, stop)) for a in range(start, stop, PIECE_BYTES)]


#: Every array and group attribute the format defines (from the core).
GROUP_ARRAYS = tuple(_core.GROUP_ARRAYS)
#: The arrays one by one, in the core's order.
COMPRESSED, STARTS, NBYTES, OFFSETS, GAINS = GROUP_ARRAYS
GROUP_ATTRIBUTES = tuple(_core.GROUP_ATTRIBUTES)
VERSION_ATTRIBUTE = str(_core.VERSION_ATTRIBUTE)
#: A write's commit record, and the prefix of the arrays it stages.
COMMIT_ATTRIBUTE = str(_core.COMMIT_ATTRIBUTE)
STAGED_PREFIX = str(_core.STAGED_PREFIX)
#: Every member name a write may create: the format's arrays and their
#: staged twins.
OUR_NAMES = GROUP_ARRAYS + tuple(STAGED_PREFIX + name for name in GROUP_ARRAYS)


class Backend:
    """What a container library provides for a group."""

    name = "container"
    #: Whether `move` renames an array within a group.
    can_move = False

    def check_group(self, grp: Any) -> None:
        """Raises TypeError unless `grp` is a group of this container."""
        raise NotImplementedError

    def create(self, grp: Any, name: str, data: np.ndarray, *, chunks: tuple[int, ...]) -> Any:
        """An array holding `data` (`chunks`: the chunk shape of the write
        plan, for containers that chunk)."""
        raise NotImplementedError

    def create_empty(
        self, grp: Any, name: str, shape: tuple[int, ...], dtype: Any, *, chunks: tuple[int, ...]
    ) -> Any:
        """An array of `shape` to be filled piece by piece (MPI writes)."""
        raise NotImplementedError

    def members(self, grp: Any) -> list[str]:
        return list(grp.keys())

    def array_names(self, grp: Any) -> list[str]:
        """The members of `grp` that are arrays (not groups)."""
        raise NotImplementedError

    def get(self, grp: Any, name: str) -> Any:
        return grp[name]

    def delete(self, grp: Any, name: str) -> None:
        del grp[name]

    def move(self, grp: Any, source: str, dest: str) -> None:
        """Renames array `source` to `dest` (which does not exist)."""
        raise NotImplementedError

    def staged_leftovers(self, grp: Any) -> list[str]:
        """Members under a staged name (ours by that name): what a write
        cut short before its commit record left."""
        return [n for n in self.array_names(grp) if n.startswith(STAGED_PREFIX)]

    def flush(self, grp: Any) -> None:
        """Makes what was written so far durable before the next step."""

    def info(self, name: str, dataset: Any) -> dict[str, Any]:
        """Shape, element type and what is really stored, for the core."""
        raise NotImplementedError

    def read(self, dataset: Any, selection: slice = slice(None)) -> np.ndarray:
        return np.asarray(dataset[selection])

    def write_slab(self, dataset: Any, selection: slice, data: np.ndarray) -> None:
        """Writes one rank's rows of a per-stream dataset shared by every
        rank (collectively where the container needs it)."""
        dataset[selection] = data

    def write_bytes(self, dataset: Any, start: int, data: np.ndarray) -> None:
        """Writes one rank's bytes into the shared byte array at `start`
        (independently, in pieces)."""
        for piece in pieces(0, len(data)):
            dataset[start + piece.start : start + piece.stop] = data[piece]


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


def resolve(backend: Backend, grp: Any) -> tuple[dict[str, Any], dict[str, str], bool]:
    """What the group holds as its writer meant it (the core's rule, which
    completes a committed write whose swap was cut short): its attributes,
    the stored name of each format array, and whether a swap is pending."""
    present = [name for name in backend.array_names(grp) if name in OUR_NAMES]
    attrs, names, pending = _core.resolve_group(json.dumps(_attrs(grp.attrs)), present)
    return json.loads(attrs), dict(names), bool(pending)


def gather_claims(backend: Backend, grp: Any) -> tuple[str, dict[str, Any]]:
    """What a group claims, as the core's `GroupDescription` JSON (its
    attributes and each array's shape and dtype), and its arrays by name;
    the core's `container::describe` then checks the claims."""
    try:
        attrs, names, _ = resolve(backend, grp)
        arrays = {name: backend.get(grp, stored) for name, stored in names.items()}
        desc = {
            "attributes": attrs,
            "starts_attributes": {},
            "arrays": {name: backend.info(name, ds) for name, ds in arrays.items()},
        }
        if STARTS in arrays:
            desc["starts_attributes"] = _attrs(arrays[STARTS].attrs)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError) as err:
        raise _corrupt(backend, "group", err) from err
    return json.dumps(desc), arrays


def read_values(
    backend: Backend, arrays: dict[str, Any], name: str, dtype: npt.DTypeLike
) -> np.ndarray | None:
    """A per-stream array of the group, flat, as `dtype` (None if absent)."""
    if name not in arrays:
        return None
    try:
        values = backend.read(arrays[name])
    except (OSError, ValueError, TypeError, RuntimeError) as err:
        raise _corrupt(backend, f"array '{name}'", err) from err
    return np.ascontiguousarray(values, dtype=dtype).reshape(-1)


#: The per-stream arrays the core plans a read from, with their types.
PER_STREAM = (
    (STARTS, np.int64),
    (NBYTES, np.int64),
    (OFFSETS, np.float64),
    (GAINS, np.float64),
)


def plan_read(
    backend: Backend,
    description: str,
    arrays: dict[str, Any],
    mask: np.ndarray | None,
    per_stream: dict[str, np.ndarray | None] | None = None,
) -> _core.ArrayParts:
    """Reads the bytes of the streams kept by `mask` (all without one) and
    returns the parts of the (kept, samples) array they make (the whole
    array without a mask). `per_stream` gives the per-stream arrays when
    they were read already."""
    if per_stream is None:
        per_stream = {name: read_values(backend, arrays, name, t) for name, t in PER_STREAM}
    runs, parts, channels = _core.plan_group_read(
        description,
        per_stream[STARTS],
        per_stream[NBYTES],
        per_stream[OFFSETS],
        per_stream[GAINS],
        mask,
    )
    dataset = arrays[COMPRESSED]
    try:
        read = [backend.read(dataset, p) for a, b in runs for p in pieces(int(a), int(b))]
    except (OSError, ValueError, TypeError, RuntimeError) as err:
        raise _corrupt(backend, f"array '{COMPRESSED}'", err) from err
    if len(read) == 1:  # one run in one piece (a whole array): no second copy
        compressed = read[0]
    else:
        compressed = np.concatenate(read) if read else np.zeros(0, dtype=np.uint8)
    parts = parts.with_compressed(np.ascontiguousarray(compressed, dtype=np.uint8))
    _core.check_stream_channels(parts, channels)
    return parts


def read_group(
    backend: Backend, grp: Any, keep: npt.ArrayLike | None = None
) -> tuple[_core.ArrayParts, np.ndarray | None]:
    """Reads the parts of a format 0 or 1 group's array; with `keep` (a boolean mask over the
    leading shape) only the kept streams' bytes are read, and the parts are
    those of a (kept, samples) array. Also returns the keep mask as checked
    (None without `keep`)."""
    description, arrays = gather_claims(backend, grp)
    _core.describe_group(description)  # checks the metadata before any read
    mask = None if keep is None else keep_mask(keep)
    return plan_read(backend, description, arrays, mask), mask


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


def check_target(backend: Backend, grp: Any, overwrite: bool) -> None:
    """Raises FileExistsError when the group holds anything and replacing
    it was not asked for or is not ours to do: an overwrite replaces only a
    flacarray group's own arrays and attributes, and never a member that
    merely has one of their names (a subgroup, say)."""
    members = backend.members(grp)
    ours_attrs = [a for a in (*GROUP_ATTRIBUTES, COMMIT_ATTRIBUTE) if a in grp.attrs]
    if not members and not ours_attrs:
        return
    where = f"{backend.name} group '{getattr(grp, 'name', grp)}'"
    if not overwrite:
        held = ", ".join(members + ours_attrs)
        raise FileExistsError(
            f"{where} already holds {held}; write into a new or empty group, "
            "or pass overwrite=True to replace a flacarray array"
        )
    if VERSION_ATTRIBUTE not in grp.attrs and COMMIT_ATTRIBUTE not in grp.attrs:
        raise FileExistsError(
            f"{where} is not a flacarray group; refusing to replace what it holds"
        )
    arrays = set(backend.array_names(grp))
    foreign = [name for name in members if name in OUR_NAMES and name not in arrays]
    if foreign:
        raise FileExistsError(
            f"{where} holds {', '.join(repr(n) for n in foreign)}, which "
            f"{'is not an array' if len(foreign) == 1 else 'are not arrays'} of ours; "
            "refusing to replace it: move it away first"
        )


def write_group(backend: Backend, grp: Any, fa: FlacArray, overwrite: bool = False) -> None:
    """Writes `fa` into `grp` in format 1. A group that holds anything is
    refused unless `overwrite`, and then only a flacarray group's own arrays
    and attributes are replaced; other members stay.

    The new arrays are written under staged names beside the old ones; a
    commit record then makes them the group's, and only after that are the
    old ones removed and the new ones renamed (`commit`). A write that
    fails or is killed before the record leaves the old array as it was; one
    killed after it leaves the new array, which every reader (and the next
    write) completes."""
    fa = fa._current_layout()
    parts = fa._core_parts()
    # the core's plan: which arrays, types, shapes, chunks and attributes
    # (raises ValueError for a type groups do not hold)
    plan = _core.plan_group_arrays(parts.dtype, list(parts.shape), parts.compressed.size)
    attrs_json = _core.group_attributes(parts)
    check_target(backend, grp, overwrite)
    finish_pending(backend, grp)
    created: list[str] = []
    try:
        for planned in plan:
            data = getattr(parts, planned.field)
            data = data.astype(planned.dtype, copy=False).reshape(tuple(planned.shape))
            name = STAGED_PREFIX + planned.name
            ds = backend.create(grp, name, data, chunks=tuple(planned.chunks))
            created.append(name)
            ds.attrs.update(json.loads(planned.attributes))
    except BaseException:
        discard(backend, grp, created)
        raise
    commit(backend, grp, [planned.name for planned in plan], attrs_json)


def stored_leading(plan: list[Any]) -> tuple[int, ...]:
    """The leading shape a group's per-stream arrays have under `plan`."""
    return next(tuple(p.shape) for p in plan if p.field == "stream_starts")


def commit(backend: Backend, grp: Any, names: list[str], attrs_json: str) -> None:
    """Makes the staged arrays `names` the group's, with the format
    attributes `attrs_json`: records the commit (from then on the new
    array is what the group holds), then swaps them in."""
    backend.flush(grp)
    grp.attrs[COMMIT_ATTRIBUTE] = _core.commit_record(names, attrs_json)
    backend.flush(grp)
    finish_pending(backend, grp)


def finish_pending(backend: Backend, grp: Any) -> None:
    """Brings the group to a settled state: a committed write's swap is
    completed (old arrays removed, staged ones renamed, attributes
    replaced, the record removed); without a record, staged arrays are the
    debris of a write that never committed and are removed. Each step is
    made durable before the next, so a kill leaves a state this resolves."""
    attrs, names, pending = resolve(backend, grp)
    present = set(backend.array_names(grp))
    if not pending:
        for name in backend.staged_leftovers(grp):
            backend.delete(grp, name)
        return
    for name in GROUP_ARRAYS:
        stored = names.get(name)
        if stored is None:
            if name in present:  # an old array the new group does not have
                backend.delete(grp, name)
                backend.flush(grp)
        elif stored != name:
            if name in present:
                backend.delete(grp, name)
                backend.flush(grp)
            backend.move(grp, stored, name)
            backend.flush(grp)
    for key in GROUP_ATTRIBUTES:
        if key in grp.attrs and key not in attrs:
            del grp.attrs[key]
    grp.attrs.update({k: v for k, v in attrs.items() if k in GROUP_ATTRIBUTES})
    backend.flush(grp)
    del grp.attrs[COMMIT_ATTRIBUTE]
    backend.flush(grp)


def discard(backend: Backend, grp: Any, created: list[str]) -> None:
    """Removes what a failed write created."""
    members = backend.members(grp)
    for name in created:
        if name in members:
            backend.delete(grp, name)
