"""The `flacarray` command: look at, convert and verify archives.

    flacarray info data.h5:/signal run/*.parquet --json
    flacarray convert old.h5 new.parquet --keep 0-9,12
    flacarray verify archive/ --jobs 4

Containers are named by suffix: `.h5` / `.hdf5` (optionally `:/group`
inside the file), `.zarr` (a directory), `.parquet`, and raw `.npy` (convert
only). Exit codes: 0 fine, 1 a data problem (damaged or unreadable data, a
group that is not a flacarray group, a destination that exists or cannot be
written), 2 a usage problem (bad arguments, an unknown suffix, a missing
input). Errors are one line on stderr; `--debug` shows the traceback.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import glob
import json
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


class UsageError(Exception):
    """Bad arguments: exit code 2."""


@dataclass(frozen=True)
class Target:
    """A container named on the command line."""

    kind: str  # hdf5, zarr, parquet, npy
    path: str
    group: str = "/"

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.group}" if self.kind == "hdf5" and self.group != "/" else self.path
        )


def parse_target(spec: str) -> Target:
    """`file.h5[:/group]`, `dir.zarr`, `file.parquet` or `file.npy`."""
    path, group = spec, "/"
    for suffix in (".h5:", ".hdf5:"):
        at = spec.find(suffix)
        if at >= 0:
            path, group = spec[: at + len(suffix) - 1], spec[at + len(suffix) :] or "/"
    stem, suffix = os.path.splitext(path.rstrip("/"))
    kind = SUFFIXES.get(suffix.lower())
    if kind is None and os.path.isfile(os.path.join(path, "zarr.json")):
        kind = "zarr"
    if kind is None:
        raise UsageError(
            f"{spec}: unknown container; name a .h5/.hdf5[:/group], .zarr, .parquet or .npy"
        )
    return Target(kind, path, group if group.startswith("/") else "/" + group)


def expand_inputs(specs: Sequence[str]) -> list[Target]:
    """Targets for paths, globs and directories (the containers inside)."""
    targets: list[Target] = []
    for spec in specs:
        matches = glob.glob(spec) if any(c in spec for c in "*?[") else [spec]
        if not matches:
            raise UsageError(f"{spec}: no such file")
        for match in sorted(matches):
            if os.path.isdir(match) and not match.rstrip("/").endswith(".zarr"):
                if os.path.isfile(os.path.join(match, "zarr.json")):
                    targets.append(Target("zarr", match))
                    continue
                found = [
                    os.path.join(match, name)
                    for name in sorted(os.listdir(match))
                    if os.path.splitext(name)[1].lower() in (".h5", ".hdf5", ".zarr", ".parquet")
                ]
                targets.extend(parse_target(f) for f in found)
            else:
                target = parse_target(match)
                if not os.path.exists(target.path):
                    raise UsageError(f"{target.path}: no such file or directory")
                targets.append(target)
    return targets


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
        raise UsageError(f"{target}: a raw .npy file holds no compressed streams")


def group_attributes(target: Target) -> dict[str, Any]:
    """The container's own description of its writer and format."""
    if target.kind == "hdf5":
        import h5py

        with h5py.File(target.path, "r") as hf:
            attrs = hf[target.group].attrs
            return {k: _plain(attrs[k]) for k in attrs if str(k).startswith("flacarray")}
    if target.kind == "zarr":
        import zarr

        attrs = zarr.open_group(target.path, mode="r").attrs
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


# ---- info --------------------------------------------------------------------


def describe(target: Target) -> dict[str, Any]:
    fa = read_compressed(target)
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
    for key in ("dtype", "shape", "streams", "stream_length", "compressed_bytes", "raw_bytes"):
        lines.append(f"  {key:18s} {info[key]}")
    lines.append(f"  {'ratio':18s} {info['ratio']:.3f}" if info["ratio"] else "  ratio -")
    lines.append(f"  {'bits_per_sample':18s} {info['bits_per_sample']:.2f}")
    lines.append(f"  {'level':18s} {info['level']}")
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
    starts, lengths = fa.stream_starts.ravel(), fa.stream_nbytes.ravel()
    compressed = fa.compressed

    def check(s: int) -> tuple[int, str | None, bool]:
        stream = compressed[int(starts[s]) : int(starts[s]) + int(lengths[s])]
        try:
            md5 = _core.verify_stream(stream, fa.stream_size)
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
        try:
            fa = read_compressed(target)
        except UsageError:
            raise
        except Exception as err:
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


def leading_shape_of(target: Target) -> tuple[int, ...]:
    """A container's leading shape, from its metadata alone."""
    if target.kind == "npy":
        return tuple(np.load(target.path, mmap_mode="r").shape[:-1])
    if target.kind == "parquet":
        return tuple(_core.parquet_leading_shape(target.path, "flac")[1])
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
    return tuple(int(d) for d in _core.describe_group(description)["shape"][:-1])


#: Raw bytes per batch of streams: the unit of work and of progress.
BATCH_BYTES = 64 << 20


def batches(rows: np.ndarray, row_bytes: int) -> list[np.ndarray]:
    per_batch = max(1, BATCH_BYTES // max(1, row_bytes))
    return [rows[i : i + per_batch] for i in range(0, len(rows), per_batch)]


def concatenate(parts: list[FlacArray], leading: tuple[int, ...]) -> FlacArray:
    """One FlacArray of `leading` streams from arrays holding consecutive
    runs of them (their bytes joined, not re-encoded)."""
    first = parts[0]
    sizes = np.array([p.nbytes for p in parts], dtype=np.int64)
    shifts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    starts = np.concatenate(
        [p.stream_starts.ravel() + s for p, s in zip(parts, shifts, strict=True)]
    )
    nbytes = np.concatenate([p.stream_nbytes.ravel() for p in parts])

    def joined(name: str) -> np.ndarray | None:
        values = [getattr(p, name) for p in parts]
        if values[0] is None:
            return None
        return np.concatenate([np.asarray(v, np.float64).ravel() for v in values])

    compressed = np.concatenate([p.compressed for p in parts])
    core = _core.ArrayParts(
        str(first.dtype),
        (*leading, first.stream_size),
        np.ascontiguousarray(compressed, dtype=np.uint8),
        np.ascontiguousarray(starts, dtype=np.int64),
        np.ascontiguousarray(nbytes, dtype=np.int64),
        joined("stream_offsets"),
        joined("stream_gains"),
        first.level,
    )
    return FlacArray._from_core(core)


def run_convert(args: argparse.Namespace) -> int:
    source, dest = parse_target(args.source), parse_target(args.dest)
    if not os.path.exists(source.path):
        raise UsageError(f"{source.path}: no such file or directory")
    if source.kind != "npy" and (args.quanta is not None or args.precision is not None):
        raise UsageError("--quanta/--precision apply when compressing a raw .npy source")
    check_destination(dest, args.overwrite)
    leading = leading_shape_of(source)
    count = int(np.prod(leading)) if leading else 1
    if args.keep:
        mask = keep_mask_for(parse_keep(args.keep), leading).ravel()
        rows = np.flatnonzero(mask)
        out_leading: tuple[int, ...] = (len(rows),)
    else:
        rows = np.arange(count)
        out_leading = leading or (1,)
    window = parse_slice(args.slice) if args.slice else None
    if source.kind == "npy":
        convert_raw(args, source, dest, rows, out_leading, window)
    else:
        convert_compressed(args, source, dest, leading, rows, out_leading, window)
    return 0


def convert_raw(
    args: argparse.Namespace,
    source: Target,
    dest: Target,
    rows: np.ndarray,
    out_leading: tuple[int, ...],
    window: slice | None,
) -> None:
    """A raw .npy source, compressed (or copied) batch by batch."""
    data = np.load(source.path, mmap_mode="r")
    flat = data.reshape((-1, data.shape[-1])) if data.ndim > 1 else data.reshape(1, -1)
    samples = range(flat.shape[1])[window] if window is not None else range(flat.shape[1])
    row_bytes = flat.shape[1] * flat.dtype.itemsize
    progress = Progress(f"convert {source}", len(rows) * row_bytes, "B", show_progress(args))
    shape = (*out_leading, len(samples)) if data.ndim > 1 else (len(samples),)
    out = None
    if dest.kind == "npy":
        out = open_npy(dest, shape, flat.dtype, args.overwrite).reshape(-1, len(samples))
    parts, done = [], 0
    steps = {"quanta": args.quanta, "precision": args.precision}
    for batch in batches(rows, row_bytes):
        block = np.ascontiguousarray(flat[batch][:, window] if window else flat[batch])
        if out is not None:
            out[done : done + len(batch)] = block
        else:
            parts.append(FlacArray.from_array(block, level=args.level, **steps))
        done += len(batch)
        progress.advance(len(batch) * row_bytes)
    if out is not None:
        del out  # the memory map writes itself out
    else:
        fa = concatenate(parts, out_leading if data.ndim > 1 else ())
        write_compressed(dest, fa, args.overwrite)
    progress.finish()


def convert_compressed(
    args: argparse.Namespace,
    source: Target,
    dest: Target,
    leading: tuple[int, ...],
    rows: np.ndarray,
    out_leading: tuple[int, ...],
    window: slice | None,
) -> None:
    """A compressed source read batch by batch: streams copied as they are
    into another container, or decoded into .npy (or re-encoded for a
    window)."""
    lead = leading or (1,)
    count = int(np.prod(lead))
    probe = read_compressed(source, keep=mask_of(rows[:1], lead))
    row_bytes = probe.stream_size * probe.dtype.itemsize
    samples = range(probe.stream_size)[window] if window is not None else range(probe.stream_size)
    progress = Progress(f"convert {source}", len(rows) * row_bytes, "B", show_progress(args))
    out = None
    if dest.kind == "npy":
        shape = (*out_leading, len(samples)) if leading else (len(samples),)
        out = open_npy(dest, shape, probe.dtype, args.overwrite).reshape(-1, len(samples))
    parts, done = [], 0
    with open_reader(source) as read:
        for batch in batches(rows, row_bytes):
            keep = None if len(rows) == count == len(batch) else mask_of(batch, lead)
            part = read(keep)
            if out is not None:
                values = part.to_array(stream_slice=window)
                out[done : done + len(batch)] = values.reshape(len(batch), -1)
            elif window is not None:
                # a window re-encodes: floats keep their stored steps
                gains = part.stream_gains
                values = part.to_array(stream_slice=window).reshape(len(batch), -1)
                steps = None if gains is None else 1.0 / np.asarray(gains, np.float64).ravel()
                parts.append(FlacArray.from_array(values, level=args.level, quanta=steps))
            else:
                parts.append(part)
            done += len(batch)
            progress.advance(len(batch) * row_bytes)
    if out is not None:
        del out  # the memory map writes itself out
    else:
        fa = concatenate(parts, out_leading if leading else ())
        write_compressed(dest, fa, args.overwrite)
    progress.finish()


def mask_of(rows: np.ndarray, lead: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(int(np.prod(lead)), dtype=bool)
    mask[rows] = True
    return mask.reshape(lead)


def open_npy(dest: Target, shape: tuple[int, ...], dtype: Any, overwrite: bool) -> np.ndarray:
    """A .npy file of `shape` to fill (memory-mapped)."""
    if os.path.exists(dest.path) and not overwrite:
        raise FileExistsError(f"{dest.path} exists; pass --overwrite to replace it")
    return np.lib.format.open_memmap(dest.path, mode="w+", dtype=dtype, shape=shape)


def check_destination(dest: Target, overwrite: bool) -> None:
    """Refuse an existing destination early (unless --overwrite) and one
    whose folder does not exist."""
    folder = os.path.dirname(os.path.abspath(dest.path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{dest.path}: folder {folder} does not exist")
    if dest.kind == "hdf5":
        return  # the file may hold other groups: checked when writing
    if os.path.exists(dest.path) and not overwrite:
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
    common.add_argument("--debug", action="store_true", help="show tracebacks")

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
    convert.add_argument("--level", type=int, default=5, help="FLAC level when compressing")
    convert.add_argument("--quanta", type=float, help="float step when compressing raw data")
    convert.add_argument("--precision", type=float, help="float digits when compressing raw data")
    convert.add_argument("--overwrite", action="store_true", help="replace the destination")
    convert.set_defaults(run=run_convert)

    verify = commands.add_parser(
        "verify",
        parents=[common],
        help="decode every stream, name the damaged ones",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("paths", nargs="+")
    verify.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="threads")
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
    except Exception as err:
        if args.debug:
            raise
        report(f"{type(err).__name__}: {err}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
