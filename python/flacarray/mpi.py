"""Arrays split along their leading axis across the ranks of an MPI
communicator (mpi4py), with the names and meanings of the reference
package's `flacarray.mpi`.

mpi4py is imported when this module is, never by `import flacarray`
itself; set `MPI_DISABLE` in the environment to turn MPI off. Every check
here reaches the same verdict on every rank (the inputs are all-gathered
first), so a bad input raises on all ranks instead of leaving some waiting
in a collective call.

>>> from flacarray.mpi import distribute_and_verify
>>> distribute_and_verify(None, 7)
[(0, 7)]
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

MPI: Any
if "MPI_DISABLE" in os.environ:
    use_mpi = False
    MPI = None
else:
    try:
        import mpi4py

        # Our compression threads never call MPI; "serialized" is enough and
        # avoids thread-multiple trouble with some MPI builds.
        mpi4py.rc.thread_level = "serialized"
        from mpi4py import MPI

        use_mpi = True
    except ImportError:
        use_mpi = False
        MPI = None

#: The (first, last) range of the leading axis each rank holds.
Dist = list[tuple[int, int]]


def distribute_and_verify(mpi_comm: Any, n_elem: int, mpi_dist: Dist | None = None) -> Dist:
    """Checks a user-given distribution of `n_elem` leading elements over
    the ranks of `mpi_comm` (one `(first, last)` range per rank, contiguous,
    covering everything; a rank may get none), or makes an even one
    (`np.array_split` sizes).
    Raises ValueError when it is impossible or wrong (the same on every
    rank: the arguments are the same everywhere)."""
    if mpi_dist is not None:
        dist = [(int(a), int(b)) for a, b in mpi_dist]
        size = 1 if mpi_comm is None else mpi_comm.size
        if len(dist) != size:
            raise ValueError(f"mpi_dist has {len(dist)} ranges for {size} processes")
        if dist[0][0] != 0 or dist[-1][1] != n_elem:
            raise ValueError(
                f"mpi_dist covers {dist[0][0]}..{dist[-1][1]}, not all {n_elem} elements"
            )
        for proc in range(1, size):
            if dist[proc][0] != dist[proc - 1][1]:
                raise ValueError("mpi_dist must be contiguous (first, last) ranges")
        if any(b < a for a, b in dist):  # (an empty range is a process without data)
            raise ValueError(f"mpi_dist has a range that ends before it starts: {dist}")
        return dist
    if mpi_comm is None:
        return [(0, n_elem)]
    if n_elem < mpi_comm.size:
        raise ValueError(f"cannot distribute {n_elem} streams among {mpi_comm.size} processes")
    sizes = [len(chunk) for chunk in np.array_split(np.arange(n_elem), mpi_comm.size)]
    bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    return [(int(bounds[i]), int(bounds[i + 1])) for i in range(mpi_comm.size)]


def global_array_properties(
    local_shape: tuple[int, ...] | None, local_dtype: Any, mpi_comm: Any
) -> dict[str, Any]:
    """The global `shape`, `dtype` and `dist` (each rank's leading range) of
    an array whose ranks hold `local_shape` pieces split along the leading
    axis. A 1-D local array is one stream; a rank whose piece is empty
    (None, `(0,)` or a leading 0) holds no streams, as in the reference.
    Trailing dimensions and dtypes must agree and some rank must hold data.
    Raises ValueError on every rank otherwise."""
    if mpi_comm is None:
        if local_shape is None:
            raise ValueError("no local data and no communicator")
        shape = tuple(int(d) for d in local_shape)
        if len(shape) == 1:
            shape = (1,) + shape
        return {"shape": shape, "dtype": np.dtype(local_dtype), "dist": [(0, shape[0])]}
    local = None if local_shape is None else tuple(int(d) for d in local_shape)
    name = None if local_dtype is None else np.dtype(local_dtype).name
    everyone = mpi_comm.allgather((local, name))
    problems = []
    dtypes = {n for _, n in everyone if n is not None}
    if len(dtypes) > 1:
        problems.append(f"processes hold different dtypes: {sorted(dtypes)}")
    leading = []
    trailing = set()
    for shape, _ in everyone:
        if shape is None or len(shape) == 0 or shape[0] == 0:
            leading.append(0)  # no streams here
            if shape is not None and len(shape) > 1:
                trailing.add(shape[1:])
            continue
        if len(shape) == 1:
            leading.append(1)
            trailing.add(shape)
        else:
            leading.append(shape[0])
            trailing.add(shape[1:])
    if len(trailing) > 1:
        problems.append(f"processes disagree on the trailing dimensions: {sorted(trailing)}")
    if not trailing or sum(leading) == 0:
        problems.append("no process holds any stream")
    if problems:
        raise ValueError("; ".join(problems))
    bounds = np.concatenate([[0], np.cumsum(leading)]).tolist()
    dist = [(int(bounds[i]), int(bounds[i + 1])) for i in range(len(leading))]
    (rest,) = trailing
    return {"shape": (int(bounds[-1]),) + rest, "dtype": np.dtype(dtypes.pop()), "dist": dist}


def global_bytes(
    local_nbytes: int, stream_starts: np.ndarray, mpi_comm: Any
) -> tuple[int, list[int], np.ndarray]:
    """The total compressed bytes over all ranks, each rank's bytes, and this
    rank's stream starts shifted to where its bytes lie in the global byte
    array (ranks in order)."""
    if mpi_comm is None or mpi_comm.size == 1:
        return int(local_nbytes), [int(local_nbytes)], stream_starts
    per_rank = [int(n) for n in mpi_comm.allgather(int(local_nbytes))]
    offset = sum(per_rank[: mpi_comm.rank])
    return sum(per_rank), per_rank, stream_starts + offset


def raise_everywhere(mpi_comm: Any, error: BaseException | None) -> None:
    """Raises on every rank if `error` is set on any: the first failing
    rank's error type and message (prefixed with its rank) everywhere."""
    if mpi_comm is None:
        if error is not None:
            raise error
        return
    report = None if error is None else (type(error).__name__, str(error))
    reports = mpi_comm.allgather(report)
    for rank, found in enumerate(reports):
        if found is None:
            continue
        if error is not None and rank == mpi_comm.rank:
            raise error
        kinds: dict[str, type[Exception]] = {
            "TypeError": TypeError,
            "MemoryError": MemoryError,
            "FileExistsError": FileExistsError,
            "FileNotFoundError": FileNotFoundError,
            "PermissionError": PermissionError,
        }
        kind = kinds.get(found[0], ValueError)
        raise kind(f"process {rank}: {found[1]}")
