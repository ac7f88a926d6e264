"""What the `flacarray` command reads: container names parsed into
targets, directories searched for flacarray groups and Zarr arrays, and
each target's element type and shape read from its metadata."""

from __future__ import annotations

import contextlib
import glob
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import FlacArray
from ..containers import CONTAINERS, Container, is_flacarray_group

#: Containers holding compressed streams (the others hold raw values).
COMPRESSED = tuple(CONTAINERS)
SUFFIXES = {s: c.kind for c in CONTAINERS.values() for s in c.suffixes} | {".npy": "npy"}


class UsageError(Exception):
    """Bad arguments: exit code 2."""


class SourceError(Exception):
    """The source could not be read: exit code 1, the message names it."""


@contextlib.contextmanager
def source_errors(prefix: str = "") -> Iterator[None]:
    """Turns a failure while reading a source into a `SourceError` whose
    message is `prefix`, the error's type and its text; usage errors and
    interrupts pass as they are."""
    try:
        yield
    except (UsageError, KeyboardInterrupt):
        raise
    except Exception as err:
        raise SourceError(f"{prefix}{type(err).__name__}: {err}") from err


@dataclass(frozen=True)
class Target:
    """A container named on the command line: `kind` is hdf5, zarr (a
    flacarray group), zarr-array (a Zarr array, values decoded by zarr),
    parquet or npy."""

    kind: str
    path: str
    group: str = "/"

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.group}" if self.kind == "hdf5" and self.group != "/" else self.path
        )


def _zarr_node_type(path: str) -> str | None:
    """ "group" or "array" for a zarr v3 directory, else None."""
    try:
        with open(os.path.join(path, "zarr.json"), encoding="utf-8") as f:
            node = json.load(f).get("node_type")
    except (OSError, ValueError, AttributeError):
        return None
    return node if node in ("group", "array") else None


def parse_target(spec: str) -> Target:
    """`file.h5[:/group]`, `dir.zarr`, `file.parquet` or `file.npy`."""
    path, group = spec, "/"
    for suffix in (".h5:", ".hdf5:"):
        at = spec.find(suffix)
        if at >= 0:
            path, group = spec[: at + len(suffix) - 1], spec[at + len(suffix) :] or "/"
    _, suffix = os.path.splitext(path.rstrip("/"))
    kind = SUFFIXES.get(suffix.lower())
    node = _zarr_node_type(path)
    if kind is None and node is not None:
        kind = "zarr"
    if kind is None:
        raise UsageError(
            f"{spec}: unknown container; name a .h5/.hdf5[:/group], .zarr, .parquet or .npy"
        )
    if kind == "zarr" and node == "array":
        kind = "zarr-array"
    return Target(kind, path, group if group.startswith("/") else "/" + group)


def hdf5_groups(path: str) -> list[str]:
    """The flacarray groups in an HDF5 file (the root first, if it is one)."""
    import h5py

    found: list[str] = []
    with h5py.File(path, "r") as hf:
        if is_flacarray_group(hf.attrs):
            found.append("/")

        def visit(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Group) and is_flacarray_group(obj.attrs):
                found.append("/" + name)

        hf.visititems(visit)
    return found


def zarr_nodes(path: str) -> list[Target]:
    """The flacarray groups and Zarr arrays in a zarr directory: itself when
    it is one, else those nested in it."""
    node = _zarr_node_type(path)
    if node == "array":
        return [Target("zarr-array", path)]
    if node == "group":
        attrs = _zarr_attributes(path)
        if is_flacarray_group(attrs):
            return [Target("zarr", path)]
    found: list[Target] = []
    for name in sorted(os.listdir(path)) if os.path.isdir(path) else []:
        child = os.path.join(path, name)
        if os.path.isdir(child) and _zarr_node_type(child) is not None:
            found.extend(zarr_nodes(child))
    return found


def _zarr_attributes(path: str) -> dict[str, Any]:
    try:
        with open(os.path.join(path, "zarr.json"), encoding="utf-8") as f:
            return dict(json.load(f).get("attributes") or {})
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def expand_inputs(specs: Sequence[str]) -> list[Target]:
    """Targets for paths, globs and directories (the containers inside; an
    HDF5 file or zarr directory named without a group gives every flacarray
    group in it)."""
    targets: list[Target] = []
    for spec in specs:
        matches = glob.glob(spec) if any(c in spec for c in "*?[") else [spec]
        if not matches:
            raise UsageError(f"{spec}: no such file")
        for match in sorted(matches):
            if os.path.isdir(match) and _zarr_node_type(match) is None:
                found = [
                    os.path.join(match, name)
                    for name in sorted(os.listdir(match))
                    if SUFFIXES.get(os.path.splitext(name)[1].lower()) in COMPRESSED
                ]
                for path in found:
                    targets.extend(_containers_in(parse_target(path), explicit=False))
                continue
            target = parse_target(match)
            if not os.path.exists(target.path):
                raise UsageError(f"{target.path}: no such file or directory")
            explicit = ".h5:" in match or ".hdf5:" in match
            targets.extend(_containers_in(target, explicit=explicit))
    return targets


def _containers_in(target: Target, explicit: bool) -> list[Target]:
    """`target` itself, or for an HDF5 file or zarr directory named without
    a group, every flacarray group (or codec array) in it (the target
    itself when there are none, so that reading it says why)."""
    try:
        if target.kind == "hdf5" and not explicit:
            groups = hdf5_groups(target.path)
            return [Target("hdf5", target.path, g) for g in groups] or [target]
        if target.kind in ("zarr", "zarr-array"):
            return zarr_nodes(target.path) or [target]
    except OSError:
        pass  # unreadable: reading it says why
    return [target]


def read_compressed(target: Target, keep: np.ndarray | None = None) -> FlacArray:
    """The FlacArray a container holds (only the kept streams' bytes)."""
    with open_reader(target) as read:
        return read(keep)


def container_of(target: Target) -> Container:
    """The container kind holding a target's compressed streams."""
    if target.kind not in CONTAINERS:
        raise UsageError(f"{target}: holds raw values, not compressed streams")
    return CONTAINERS[target.kind]


@contextlib.contextmanager
def opened(target: Target, mode: str = "r") -> Iterator[Any]:
    """What the container's operations take for `target`: an h5py group
    (its file open meanwhile; with mode "a" created if missing) or the
    path itself."""
    if target.kind != "hdf5":
        yield target.path
        return
    import h5py

    with h5py.File(target.path, mode) as hf:
        if target.group == "/":
            yield hf
        elif mode != "r":
            yield hf.require_group(target.group)
        elif target.group not in hf:
            raise KeyError(f"{target}: no group {target.group}")
        else:
            yield hf[target.group]


@contextlib.contextmanager
def open_reader(target: Target) -> Iterator[Callable[[np.ndarray | None], FlacArray]]:
    """A function reading the container's array (or the streams a keep mask
    selects), the file kept open between calls."""
    container = container_of(target)
    with opened(target) as where:
        yield lambda keep: FlacArray.from_read(container.read(where, keep=keep))


def group_attributes(target: Target) -> dict[str, Any]:
    """The container's own description of its writer and format."""
    if target.kind == "hdf5":
        import h5py

        with h5py.File(target.path, "r") as hf:
            attrs = hf[target.group].attrs
            return {k: _plain(attrs[k]) for k in attrs if str(k).startswith("flacarray")}
    if target.kind == "zarr":
        attrs = _zarr_attributes(target.path)
        return {k: _plain(v) for k, v in attrs.items() if str(k).startswith("flacarray")}
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return {}
    pf = pq.ParquetFile(target.path)
    found: dict[str, Any] = {
        "parquet_created_by": pf.metadata.created_by,
        "row_groups": pf.metadata.num_row_groups,
    }
    field = pf.schema_arrow.field("flac") if "flac" in pf.schema_arrow.names else None
    extension = None
    if field is not None:
        if getattr(field.type, "extension_name", None) == "flacarray.flac":
            extension = field.type.__arrow_ext_serialize__()  # the type is registered
        else:
            extension = (field.metadata or {}).get(b"ARROW:extension:metadata")
    if extension:
        layout = json.loads(extension)
        found["flacarray_arrow_layout"] = layout.get("format", 1)
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def open_zarr_array(target: Target) -> Any:
    import zarr

    try:
        return zarr.open_array(target.path, mode="r")
    except Exception as err:  # zarr raises many kinds
        raise SourceError(f"cannot open the zarr array {target}: {err}") from err


def zarr_blocks(array: Any) -> Iterator[tuple[int, int]]:
    """Runs [a, b) of the first axis, one row of chunks at a time."""
    if array.ndim == 0:
        raise SourceError("a 0-dimensional zarr array holds no streams")
    step = int(array.chunks[0]) if array.ndim > 1 else array.shape[0]
    for a in range(0, array.shape[0], max(1, step)):
        yield a, min(array.shape[0], a + max(1, step))


def codec_configuration(array: Any) -> dict[str, Any]:
    serializer = getattr(array, "serializer", None)
    if serializer is not None and getattr(serializer, "to_dict", None):
        named = serializer.to_dict()
        if named.get("name") == "flacarray.flac":
            return dict(named.get("configuration") or {})
    return {}


# ---- info --------------------------------------------------------------------
@dataclass(frozen=True)
class SourceShape:
    """What a conversion needs to know of its source before reading it."""

    dtype: np.dtype
    leading: tuple[int, ...]
    stream_size: int
    ndim: int


def shape_of(target: Target) -> SourceShape:
    """A source's type and shape from its metadata (for Parquet, whose
    metadata does not say how long its streams are, the first stream is
    read too)."""
    if target.kind == "npy":
        data = np.load(target.path, mmap_mode="r")
        return SourceShape(data.dtype, tuple(data.shape[:-1]), int(data.shape[-1]), data.ndim)
    if target.kind == "zarr-array":
        array = open_zarr_array(target)
        shape = tuple(int(d) for d in array.shape)
        return SourceShape(np.dtype(array.dtype), shape[:-1], shape[-1], len(shape))
    with opened(target) as where:
        described = container_of(target).describe(where)
    full = described.shape
    return SourceShape(described.dtype, full[:-1], full[-1], len(full))
