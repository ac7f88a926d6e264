"""The `flacarray` command: look at, convert and verify archives.

    flacarray info data.h5:/signal run/*.parquet --json
    flacarray convert old.h5 new.parquet --keep 0-9,12
    flacarray verify archive/ --jobs 4

Containers are named by suffix: `.h5` / `.hdf5` (optionally `:/group`
inside the file), `.zarr` (a directory: a flacarray group, or an array
written with the `flacarray.flac` Zarr codec), `.parquet`, and raw `.npy`
(convert only). Exit codes: 0 fine, 1 a data problem (damaged or unreadable
data, a group that is not a flacarray group, a destination that exists or
cannot be written), 2 a usage problem (bad arguments, an unknown suffix, a
missing input). Errors are one line on stderr; `--debug` shows the
traceback.

Nothing is lost on the way: every destination is written beside its place
and moved there only when complete (a `.npy` too), a source and destination
that are the same file are refused, and streams copied between compressed
containers are decoded and checked first (damage stops the conversion).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import glob
import io
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core
from .array import FlacArray

EXAMPLES = """examples:
  flacarray info data.h5:/signal               what one group holds
  flacarray info archive/ --json               one JSON document per file
  flacarray convert old.h5 new.parquet         copy the streams into Parquet
  flacarray convert raw.npy out.zarr --quanta 1e-3
  flacarray convert a.parquet b.npy --keep 0-3,7 --slice 1000:2000
  flacarray verify archive/ --jobs 4           decode every stream, check CRCs and MD5
"""

SUFFIXES = {".h5": "hdf5", ".hdf5": "hdf5", ".zarr": "zarr", ".parquet": "parquet", ".npy": "npy"}
#: Containers holding compressed streams (the others hold raw values).
COMPRESSED = ("hdf5", "zarr", "parquet")


class UsageError(Exception):
    """Bad arguments: exit code 2."""


class SourceError(Exception):
    """The source could not be read: exit code 1, the message names it."""


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

    marks = (_core.VERSION_ATTRIBUTE, _core.COMMIT_ATTRIBUTE)
    found: list[str] = []
    with h5py.File(path, "r") as hf:
        if any(m in hf.attrs for m in marks):
            found.append("/")

        def visit(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Group) and any(m in obj.attrs for m in marks):
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
        if _core.VERSION_ATTRIBUTE in attrs or _core.COMMIT_ATTRIBUTE in attrs:
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
                    if os.path.splitext(name)[1].lower() in (".h5", ".hdf5", ".zarr", ".parquet")
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


@contextlib.contextmanager
def open_reader(target: Target) -> Iterator[Callable[[np.ndarray | None], FlacArray]]:
    """A function reading the container's array (or the streams a keep mask
    selects), the file kept open between calls."""
    if target.kind == "hdf5":
        import h5py

        with h5py.File(target.path, "r") as hf:
            if target.group not in hf:
                raise KeyError(f"{target}: no group {target.group}")
            group = hf[target.group]
            yield lambda keep: FlacArray.read_hdf5(group, keep=keep)
    elif target.kind == "zarr":
        yield lambda keep: FlacArray.read_zarr(target.path, keep=keep)
    elif target.kind == "parquet":
        yield lambda keep: FlacArray.read_parquet(target.path, keep=keep)
    else:
        raise UsageError(f"{target}: holds raw values, not compressed streams")


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


class Progress:
    """A progress bar with rate and ETA on a terminal's stderr; silent when
    stderr is not a terminal or with --quiet."""

    def __init__(self, label: str, total: float, unit: str, enabled: bool) -> None:
        self.label, self.total, self.unit = label, max(total, 1e-12), unit
        self.enabled = enabled
        self.done = 0.0
        self.start = time.monotonic()
        self.last = 0.0

    def advance(self, amount: float) -> None:
        self.done += amount
        now = time.monotonic()
        if self.enabled and (now - self.last > 0.1 or self.done >= self.total):
            self.last = now
            self.draw(now)

    def draw(self, now: float) -> None:
        frac = min(1.0, self.done / self.total)
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        bar = "#" * int(frac * 30)
        scale, unit = (2**20, f"Mi{self.unit}") if self.unit == "B" else (1, self.unit)
        sys.stderr.write(
            f"\r{self.label} [{bar:<30}] {100 * frac:5.1f}% "
            f"{rate / scale:8.1f} {unit}/s ETA {eta:5.1f} s"
        )
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            self.draw(time.monotonic())
            sys.stderr.write("\n")
            sys.stderr.flush()


def show_progress(args: argparse.Namespace) -> bool:
    return not args.quiet and sys.stderr.isatty()


# ---- Zarr arrays (values decoded by zarr, e.g. written with the codec) -------


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


def _codec_configuration(array: Any) -> dict[str, Any]:
    serializer = getattr(array, "serializer", None)
    if serializer is not None and getattr(serializer, "to_dict", None):
        named = serializer.to_dict()
        if named.get("name") == "flacarray.flac":
            return dict(named.get("configuration") or {})
    return {}


# ---- info --------------------------------------------------------------------


def describe(target: Target) -> dict[str, Any]:
    if target.kind == "zarr-array":
        return describe_zarr_array(target)
    try:
        fa = read_compressed(target)
    except (UsageError, KeyboardInterrupt):
        raise
    except Exception as err:
        raise SourceError(f"{type(err).__name__}: {err}") from err
    raw = fa.nstreams * fa.stream_size * fa.dtype.itemsize
    info: dict[str, Any] = {
        "path": str(target),
        "container": target.kind,
        "dtype": str(fa.dtype),
        "shape": list(fa.shape),
        "streams": fa.nstreams,
        "stream_length": fa.stream_size,
        "compressed_bytes": fa.nbytes,
        "raw_bytes": raw,
        "ratio": raw / fa.nbytes if fa.nbytes else None,
        "bits_per_sample": 8 * fa.nbytes / max(1, fa.nstreams * fa.stream_size),
        "level": fa.level,
    }
    gains = fa.stream_gains
    if gains is not None and gains.size:
        steps = 1.0 / np.asarray(gains, dtype=np.float64)
        info["quantization"] = {"step_min": float(steps.min()), "step_max": float(steps.max())}
    info.update(group_attributes(target))
    return info


def describe_zarr_array(target: Target) -> dict[str, Any]:
    array = open_zarr_array(target)
    shape = tuple(int(d) for d in array.shape)
    raw = math.prod(shape) * array.dtype.itemsize
    stored = int(array.nbytes_stored())
    info: dict[str, Any] = {
        "path": str(target),
        "container": "zarr-array",
        "dtype": str(array.dtype),
        "shape": list(shape),
        "chunks": [int(c) for c in array.chunks],
        "streams": math.prod(shape[:-1]) if shape else 0,
        "stream_length": shape[-1] if shape else 0,
        "stored_bytes": stored,
        "raw_bytes": raw,
        "ratio": raw / stored if stored else None,
        "bits_per_sample": 8 * stored / max(1, math.prod(shape)),
    }
    codec = _codec_configuration(array)
    if codec:
        info["codec"] = {"name": "flacarray.flac", **codec}
    return info


def run_info(args: argparse.Namespace) -> int:
    targets = expand_inputs(args.paths)
    progress = Progress("info", len(targets), "files", show_progress(args) and len(targets) > 1)
    status = 0
    for target in targets:
        try:
            info = describe(target)
        except (UsageError, KeyboardInterrupt):
            raise
        except Exception as err:  # one bad file does not stop the others
            if args.debug:
                raise
            report(f"{target}: {err}")
            status = 1
            continue
        finally:
            progress.advance(1)
        if args.json:
            print(json.dumps(info))
        else:
            print(format_info(info))
    progress.finish()
    return status


def format_info(info: dict[str, Any]) -> str:
    lines = [f"{info['path']} ({info['container']})"]
    size_key = "stored_bytes" if "stored_bytes" in info else "compressed_bytes"
    for key in ("dtype", "shape", "streams", "stream_length", size_key, "raw_bytes"):
        lines.append(f"  {key:18s} {info[key]}")
    lines.append(f"  {'ratio':18s} {info['ratio']:.3f}" if info["ratio"] else "  ratio -")
    lines.append(f"  {'bits_per_sample':18s} {info['bits_per_sample']:.2f}")
    if "level" in info:
        lines.append(f"  {'level':18s} {info['level']}")
    if "chunks" in info:
        lines.append(f"  {'chunks':18s} {info['chunks']}")
    if "codec" in info:
        lines.append(f"  {'codec':18s} {json.dumps(info['codec'])}")
    if "quantization" in info:
        q = info["quantization"]
        lines.append(f"  {'quantization step':18s} {q['step_min']:.6g} .. {q['step_max']:.6g}")
    for key, value in info.items():
        if key.startswith(("flacarray", "parquet", "row_groups")):
            lines.append(f"  {key:18s} {value}")
    return "\n".join(lines)


# ---- verify ------------------------------------------------------------------


def stream_verdicts(
    fa: FlacArray, jobs: int, progress: Progress
) -> Iterator[tuple[int, str | None, bool]]:
    """For every stream: its number, why it is damaged (None if it is
    not), and whether its MD5 was checked."""
    lengths = fa.stream_nbytes.ravel()

    def check(s: int) -> tuple[int, str | None, bool]:
        try:
            md5 = fa.verify_stream(s)
        except (_core.CorruptDataError, ValueError, RuntimeError) as err:
            return s, str(err), False
        return s, None, md5

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for s, why, md5 in pool.map(check, range(fa.nstreams)):
            progress.advance(int(lengths[s]))
            yield s, why, md5


def run_verify(args: argparse.Namespace) -> int:
    targets = expand_inputs(args.paths)
    damaged_total = 0
    for target in targets:
        if target.kind == "zarr-array":
            damaged_total += verify_zarr_array(target, args)
            continue
        try:
            fa = read_compressed(target)
        except UsageError:
            raise
        except Exception as err:
            if args.debug:
                raise
            report(f"{target}: cannot be read: {err}")
            damaged_total += 1
            continue
        progress = Progress(f"verify {target}", fa.nbytes, "B", show_progress(args))
        verdicts = list(stream_verdicts(fa, args.jobs, progress))
        progress.finish()
        damaged = [(s, why) for s, why, _ in verdicts if why is not None]
        with_md5 = sum(md5 for _, _, md5 in verdicts)
        lead = fa.leading_shape or (1,)
        for s, why in damaged:
            index = tuple(int(i) for i in np.unravel_index(s, lead))
            print(f"{target}: stream {s} {list(index)} damaged: {why}")
        if not damaged and not args.quiet:
            print(f"{target}: {fa.nstreams} streams ok (CRCs; MD5 for {with_md5})")
        damaged_total += len(damaged)
    return 1 if damaged_total else 0


def verify_zarr_array(target: Target, args: argparse.Namespace) -> int:
    """Decodes every chunk of a Zarr array; returns the number of damaged
    runs of rows."""
    try:
        array = open_zarr_array(target)
        blocks = list(zarr_blocks(array))
    except SourceError as err:
        report(f"{target}: cannot be read: {err}")
        return 1
    progress = Progress(f"verify {target}", len(blocks), "blocks", show_progress(args))
    damaged = 0
    for a, b in blocks:
        try:
            array[a:b]
        except Exception as err:  # zarr reports codec errors as many kinds
            print(f"{target}: rows {a}..{b} damaged: {type(err).__name__}: {err}")
            damaged += 1
        progress.advance(1)
    progress.finish()
    if not damaged and not args.quiet:
        print(f"{target}: {len(blocks)} runs of chunks ok")
    return damaged


# ---- convert -----------------------------------------------------------------


def parse_keep(text: str) -> list[int]:
    """`0,3,5-9` into stream numbers."""
    numbers: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                a, b = part.split("-", 1)
                numbers.extend(range(int(a), int(b) + 1))
            elif part:
                numbers.append(int(part))
    except ValueError:
        raise UsageError(f"--keep {text!r}: give stream numbers and ranges, like 0,3,5-9") from None
    return numbers


def parse_slice(text: str) -> slice:
    try:
        a, b = text.split(":")
        return slice(int(a) if a else None, int(b) if b else None)
    except ValueError:
        raise UsageError(f"--slice {text!r}: give a:b") from None


def keep_mask_for(numbers: list[int], leading: tuple[int, ...]) -> np.ndarray:
    lead = leading or (1,)
    count = int(np.prod(lead))
    bad = [n for n in numbers if not 0 <= n < count]
    if bad:
        raise UsageError(f"--keep: streams {bad} do not exist (the array has {count})")
    mask = np.zeros(count, dtype=bool)
    mask[numbers] = True
    return mask.reshape(lead)


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
    if target.kind == "parquet":
        _, leading = _core.parquet_leading_shape(target.path, "flac")
        lead = tuple(int(d) for d in leading)
        first = np.zeros(math.prod(lead), dtype=bool)
        first[:1] = True
        probe = read_compressed(target, keep=first.reshape(lead) if lead else first)
        return SourceShape(probe.dtype, lead, probe.stream_size, len(lead) + 1)
    from . import _hdf5_group, _zarr_group, io_common

    if target.kind == "hdf5":
        import h5py

        with h5py.File(target.path, "r") as hf:
            if target.group not in hf:
                raise KeyError(f"{target}: no group {target.group}")
            description, _ = io_common.describe(_hdf5_group.BACKEND, hf[target.group])
    else:
        import zarr

        group = zarr.open_group(target.path, mode="r")
        description, _ = io_common.describe(_zarr_group.BACKEND, group)
    layout = _core.describe_group(description)
    full = tuple(int(d) for d in layout["shape"])
    return SourceShape(np.dtype(layout["dtype"]), full[:-1], full[-1], len(full))


#: Raw bytes per batch of streams: the unit of work and of progress.
BATCH_BYTES = 64 << 20


def batches(rows: np.ndarray, row_bytes: int) -> list[np.ndarray]:
    per_batch = max(1, BATCH_BYTES // max(1, row_bytes))
    return [rows[i : i + per_batch] for i in range(0, len(rows), per_batch)]


def mask_of(rows: np.ndarray, lead: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(int(np.prod(lead)), dtype=bool)
    mask[rows] = True
    return mask.reshape(lead)


def same_file(a: str, b: str) -> bool:
    """Whether two paths name the same file or directory (links followed)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


class NpyWriter:
    """A `.npy` file written beside its place and moved there once
    complete: the header (which makes it readable) is written last, so a
    file left by a killed process is no `.npy` at all, and the destination
    is never touched before the move."""

    def __init__(self, path: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.path = os.path.realpath(path)  # through a link: its target
        folder, name = os.path.split(self.path)
        self.temp = os.path.join(folder, f".{name}.flacarray-new-{os.getpid()}")
        header = io.BytesIO()
        meta: dict[str, Any] = {
            "descr": np.lib.format.dtype_to_descr(dtype),
            "fortran_order": False,
            "shape": shape,
        }
        try:
            np.lib.format.write_array_header_1_0(header, meta)
        except ValueError:
            np.lib.format.write_array_header_2_0(header, meta)
        self.header = header.getvalue()
        self.file = open(self.temp, "wb")  # noqa: SIM115 (closed in commit/abort)
        self.file.write(b"\0" * len(self.header))

    def write(self, block: np.ndarray) -> None:
        self.file.write(np.ascontiguousarray(block).tobytes())

    def commit(self) -> None:
        self.file.seek(0)
        self.file.write(self.header)
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.temp, self.path)

    def abort(self) -> None:
        self.file.close()
        with contextlib.suppress(OSError):
            os.unlink(self.temp)


@contextlib.contextmanager
def npy_writer(path: str, shape: tuple[int, ...], dtype: np.dtype) -> Iterator[NpyWriter]:
    writer = NpyWriter(path, shape, dtype)
    try:
        yield writer
    except BaseException:
        writer.abort()
        raise
    writer.commit()


def run_convert(args: argparse.Namespace) -> int:
    source, dest = parse_target(args.source), parse_target(args.dest)
    if not os.path.exists(source.path):
        raise UsageError(f"{source.path}: no such file or directory")
    if os.path.exists(dest.path) and same_file(source.path, dest.path):
        raise UsageError(f"{source} and {dest} are the same file: write to another one")
    if dest.kind == "zarr-array":
        raise UsageError(f"{dest}: a zarr array is a source only; write a .zarr group")
    raw_source = source.kind in ("npy", "zarr-array")
    if not raw_source and (args.quanta is not None or args.precision is not None):
        raise UsageError("--quanta/--precision apply when compressing raw values")
    check_destination(dest, args.overwrite)
    try:
        shape = shape_of(source)
    except (UsageError, KeyboardInterrupt):
        raise
    except Exception as err:
        raise SourceError(f"cannot read {source}: {type(err).__name__}: {err}") from err
    count = math.prod(shape.leading) if shape.leading else 1
    if args.keep:
        rows = np.flatnonzero(keep_mask_for(parse_keep(args.keep), shape.leading).ravel())
        out_leading: tuple[int, ...] = (len(rows),)
    else:
        rows = np.arange(count)
        out_leading = shape.leading
    window = parse_slice(args.slice) if args.slice else None
    samples = range(shape.stream_size)[window] if window else range(shape.stream_size)
    one_stream = shape.ndim == 1 and not args.keep
    out_shape = (len(samples),) if one_stream else (*(out_leading or (1,)), len(samples))
    row_bytes = shape.stream_size * shape.dtype.itemsize
    progress = Progress(f"convert {source}", len(rows) * row_bytes, "B", show_progress(args))
    pieces = (
        raw_pieces(args, source, rows, window, row_bytes, dest.kind != "npy")
        if raw_source
        else compressed_pieces(args, source, shape, rows, window, dest.kind != "npy")
    )
    if dest.kind == "npy":
        with npy_writer(dest.path, out_shape, shape.dtype) as out:
            for piece, n in pieces:
                out.write(piece)
                progress.advance(n * row_bytes)
    else:
        parts = []
        for piece, n in pieces:
            parts.append(piece)
            progress.advance(n * row_bytes)
        leading = () if one_stream else (out_leading or (1,))
        write_compressed(dest, FlacArray.concatenate(parts, leading), args.overwrite)
    progress.finish()
    return 0


def raw_pieces(
    args: argparse.Namespace,
    source: Target,
    rows: np.ndarray,
    window: slice | None,
    row_bytes: int,
    compress: bool,
) -> Iterator[tuple[Any, int]]:
    """Batches of a raw source's rows: their values (for a .npy
    destination) or compressed, with how many rows each holds."""
    steps: dict[str, Any] = {"quanta": args.quanta, "precision": args.precision}
    if source.kind == "npy":
        data = np.load(source.path, mmap_mode="r")
        flat = data.reshape((-1, data.shape[-1])) if data.ndim > 1 else data.reshape(1, -1)

        def read(batch: np.ndarray) -> np.ndarray:
            return np.asarray(flat[batch])

    else:
        array = open_zarr_array(source)
        config = _codec_configuration(array)
        if steps["quanta"] is None and steps["precision"] is None:
            steps = {"quanta": config.get("quanta"), "precision": config.get("precision")}
        per_first = math.prod(array.shape[1:-1]) if array.ndim > 1 else 1

        def read(batch: np.ndarray) -> np.ndarray:
            if array.ndim == 1:
                return np.asarray(array[...]).reshape(1, -1)
            # the first-axis slabs holding the batch, each chunk decoded once
            firsts = np.unique(batch // per_first)
            slabs = np.asarray(array.oindex[firsts]).reshape(len(firsts), per_first, -1)
            where = np.searchsorted(firsts, batch // per_first)
            return slabs[where, batch % per_first]

    for batch in batches(rows, row_bytes):
        try:
            block = read(batch)
        except (UsageError, KeyboardInterrupt):
            raise
        except Exception as err:
            raise SourceError(f"cannot read {source}: {type(err).__name__}: {err}") from err
        block = np.ascontiguousarray(block[:, window] if window else block)
        if compress:
            kwargs = steps if block.dtype.kind == "f" else {}
            yield FlacArray.from_array(block, level=args.level, **kwargs), len(batch)
        else:
            yield block, len(batch)


def compressed_pieces(
    args: argparse.Namespace,
    source: Target,
    shape: SourceShape,
    rows: np.ndarray,
    window: slice | None,
    compress: bool,
) -> Iterator[tuple[Any, int]]:
    """Batches of a compressed source's streams: copied as they are (after
    every one is decoded and checked), re-encoded for a window (floats
    keep their stored steps), or decoded for a .npy destination."""
    lead = shape.leading or (1,)
    count = math.prod(lead)
    row_bytes = shape.stream_size * shape.dtype.itemsize
    with open_reader(source) as read:
        for batch in batches(rows, row_bytes):
            keep = None if len(rows) == count == len(batch) else mask_of(batch, lead)
            try:
                part = read(keep)
                if not compress:
                    values = part.to_array(stream_slice=window).reshape(len(batch), -1)
                    yield values, len(batch)
                    continue
                if window is None:
                    check_streams(part, args.jobs)
                    yield part, len(batch)
                    continue
                gains = part.stream_gains
                values = part.to_array(stream_slice=window).reshape(len(batch), -1)
            except (UsageError, KeyboardInterrupt):
                raise
            except Exception as err:
                raise SourceError(f"cannot read {source}: {type(err).__name__}: {err}") from err
            steps = None if gains is None else 1.0 / np.asarray(gains, np.float64).ravel()
            yield FlacArray.from_array(values, level=args.level, quanta=steps), len(batch)


def check_streams(fa: FlacArray, jobs: int) -> None:
    """Decodes and checks every stream of `fa`; the first damaged one is a
    CorruptDataError naming it."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for s, outcome in zip(
            range(fa.nstreams),
            pool.map(_checked, [fa] * fa.nstreams, range(fa.nstreams)),
            strict=True,
        ):
            if outcome is not None:
                raise _core.CorruptDataError(f"stream {s}: {outcome}")


def _checked(fa: FlacArray, s: int) -> str | None:
    try:
        fa.verify_stream(s)
    except (_core.CorruptDataError, ValueError) as err:
        return str(err)
    return None


def check_destination(dest: Target, overwrite: bool) -> None:
    """Refuse an existing destination early (unless --overwrite) and one
    whose folder does not exist."""
    folder = os.path.dirname(os.path.abspath(dest.path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{dest.path}: folder {folder} does not exist")
    if dest.kind == "hdf5":
        return  # the file may hold other groups: checked when writing
    if os.path.lexists(dest.path) and not overwrite:
        raise FileExistsError(f"{dest.path} exists; pass --overwrite to replace it")


def write_compressed(dest: Target, fa: FlacArray, overwrite: bool) -> None:
    if dest.kind == "hdf5":
        import h5py

        with h5py.File(dest.path, "a") as hf:
            group = hf.require_group(dest.group) if dest.group != "/" else hf
            fa.write_hdf5(group, overwrite=overwrite)
    elif dest.kind == "zarr":
        fa.write_zarr(dest.path, overwrite=overwrite)
    else:
        fa.write_parquet(dest.path, overwrite=overwrite)


# ---- entry point -------------------------------------------------------------


def report(message: str) -> None:
    sys.stderr.write(f"flacarray: {message}\n")


def _level(text: str) -> int:
    try:
        level = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a level 0..8") from None
    if not 0 <= level <= 8:
        raise argparse.ArgumentTypeError(f"{level} is not a level 0..8")
    return level


def _step(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} is not a positive finite number")
    return value


def _digits(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number")
    return value


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of threads") from None
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"{jobs}: give at least one thread")
    return jobs


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="flacarray",
        description="Look at, convert and verify FLAC-compressed array archives.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = top.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="no progress, less output")
    # (SUPPRESS: a --debug before the command is not reset by the command's)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
    )

    info = commands.add_parser(
        "info",
        parents=[common],
        help="what files hold",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    info.add_argument("paths", nargs="+", help="files, file.h5:/group, directories, globs")
    info.add_argument("--json", action="store_true", help="one JSON document per input")
    info.set_defaults(run=run_info)

    convert = commands.add_parser(
        "convert",
        parents=[common],
        help="between .npy, HDF5, zarr and Parquet",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    convert.add_argument("source")
    convert.add_argument("dest")
    convert.add_argument("--keep", help="stream numbers and ranges, e.g. 0,3,5-9")
    convert.add_argument("--slice", help="samples a:b of every stream")
    convert.add_argument("--level", type=_level, default=5, help="FLAC level 0..8 when compressing")
    convert.add_argument("--quanta", type=_step, help="float step when compressing raw data")
    convert.add_argument("--precision", type=_digits, help="float digits when compressing raw data")
    convert.add_argument("--overwrite", action="store_true", help="replace the destination")
    convert.add_argument(
        "--jobs", type=_jobs, default=os.cpu_count() or 1, help="threads checking streams"
    )
    convert.set_defaults(run=run_convert)

    verify = commands.add_parser(
        "verify",
        parents=[common],
        help="decode every stream, name the damaged ones",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("paths", nargs="+")
    verify.add_argument("--jobs", type=_jobs, default=os.cpu_count() or 1, help="threads")
    verify.set_defaults(run=run_verify)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except UsageError as err:
        if args.debug:
            raise
        report(str(err))
        return 2
    except KeyboardInterrupt:
        report("interrupted")
        return 130
    except SourceError as err:
        if args.debug:
            raise
        report(str(err))
        return 1
    except Exception as err:
        if args.debug:
            raise
        report(f"{type(err).__name__}: {err}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
