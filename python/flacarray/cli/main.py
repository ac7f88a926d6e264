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
import json
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .. import CorruptDataError, FlacArray
from .npy import npy_writer, same_file
from .targets import (
    SourceError,
    SourceShape,
    Target,
    UsageError,
    codec_configuration,
    container_of,
    expand_inputs,
    group_attributes,
    open_reader,
    open_zarr_array,
    opened,
    parse_target,
    read_compressed,
    shape_of,
    source_errors,
    zarr_blocks,
)

EXAMPLES = """examples:
  flacarray info data.h5:/signal               what one group holds
  flacarray info archive/ --json               one JSON document per file
  flacarray convert old.h5 new.parquet         copy the streams into Parquet
  flacarray convert raw.npy out.zarr --quanta 1e-3
  flacarray convert a.parquet b.npy --keep 0-3,7 --slice 1000:2000
  flacarray verify archive/ --jobs 4           decode every stream, check CRCs and MD5
"""


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


def info_of(target: Target) -> dict[str, Any]:
    if target.kind == "zarr-array":
        return info_of_zarr_array(target)
    with source_errors():
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


def info_of_zarr_array(target: Target) -> dict[str, Any]:
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
    codec = codec_configuration(array)
    if codec:
        info["codec"] = {"name": "flacarray.flac", **codec}
    return info


def run_info(args: argparse.Namespace) -> int:
    targets = expand_inputs(args.paths)
    progress = Progress("info", len(targets), "files", show_progress(args) and len(targets) > 1)
    status = 0
    for target in targets:
        try:
            info = info_of(target)
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
        except (CorruptDataError, ValueError, RuntimeError) as err:
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


#: Raw bytes per batch of streams: the unit of work and of progress.
BATCH_BYTES = 64 << 20


def batches(rows: np.ndarray, row_bytes: int) -> list[np.ndarray]:
    per_batch = max(1, BATCH_BYTES // max(1, row_bytes))
    return [rows[i : i + per_batch] for i in range(0, len(rows), per_batch)]


def mask_of(rows: np.ndarray, lead: tuple[int, ...]) -> np.ndarray:
    mask = np.zeros(int(np.prod(lead)), dtype=bool)
    mask[rows] = True
    return mask.reshape(lead)


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
    with source_errors(f"cannot read {source}: "):
        shape = shape_of(source)
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
        config = codec_configuration(array)
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
        with source_errors(f"cannot read {source}: "):
            block = read(batch)
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
            with source_errors(f"cannot read {source}: "):
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
                raise CorruptDataError(f"stream {s}: {outcome}")


def _checked(fa: FlacArray, s: int) -> str | None:
    try:
        fa.verify_stream(s)
    except (CorruptDataError, ValueError) as err:
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
    with opened(dest, "a") as where:
        container_of(dest).write(fa, where, overwrite=overwrite)


# ---- entry point -------------------------------------------------------------


def report(message: str) -> None:
    sys.stderr.write(f"flacarray: {message}\n")


def _argument(convert: Any, what: str, ok: Any, refusal: str) -> Any:
    """An argparse type: `convert(text)` when `ok` accepts it; otherwise an
    error saying the text is not `what`, or `refusal` (formatted with the
    text and the value)."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(refusal.format(text=text, value=value))
        return value

    return parse


_level = _argument(int, "a level 0..8", lambda v: 0 <= v <= 8, "{value} is not a level 0..8")
_step = _argument(
    float,
    "a number",
    lambda v: math.isfinite(v) and v > 0,
    "{text} is not a positive finite number",
)
_digits = _argument(float, "a number", math.isfinite, "{text} is not a finite number")
_jobs = _argument(int, "a number of threads", lambda v: v >= 1, "{value}: give at least one thread")


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

    def command(name: str, run: Any, summary: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            parents=[common],
            help=summary,
            epilog=EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(run=run)
        return sub

    info = command("info", run_info, "what files hold")
    info.add_argument("paths", nargs="+", help="files, file.h5:/group, directories, globs")
    info.add_argument("--json", action="store_true", help="one JSON document per input")

    convert = command("convert", run_convert, "between .npy, HDF5, zarr and Parquet")
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

    verify = command("verify", run_verify, "decode every stream, name the damaged ones")
    verify.add_argument("paths", nargs="+")
    verify.add_argument("--jobs", type=_jobs, default=os.cpu_count() or 1, help="threads")
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
