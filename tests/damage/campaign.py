"""A damage campaign on files we wrote: each trial copies a container, does
one kind of damage to it, reads it back with our readers and sorts the
outcome. The rule it checks: every read gives the original values or a
documented error (`CorruptDataError`), never other values, never a crash.

    python tests/damage/campaign.py --trials 5000 --seed 1

Containers: HDF5 groups (h5py), zarr groups (read by zarr-python and by
the Rust core), Parquet files, pyarrow tables (from_arrow) and Zarr arrays
written with the `flacarray.flac` codec. Damage: bit flips anywhere in a
file, one changed entry of a per-stream table (a neighbour's value, off by
one, a slightly different float), a changed or relabelled attribute or
field metadata entry (type, shape, stream length, level, channels, digest),
a deleted chunk, a changed STREAMINFO sample count, bytes appended to a
stream (its length updated to match), a truncated file.

Trials run in a worker process; one that dies is a crash (and the worker
is restarted). Prints a JSON summary; exits 1 on any silent or crashed
trial.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

import numpy as np

KINDS = ("hdf5", "zarr-python", "zarrs", "parquet", "arrow", "codec")
DTYPES = ("int32", "int64", "float32", "float64")
GROUP_TABLES = ("stream_starts", "stream_bytes", "stream_offsets", "stream_gains")
#: A trial taking longer than this is a hang.
HANG_SECONDS = 120


def source_data(dtype: str) -> np.ndarray:
    rng = np.random.default_rng(11)
    t = np.arange(3000)
    values = 300 * np.sin(t / 97.0) + rng.normal(0, 20, (3, 4, 3000))
    if dtype.startswith("int"):
        return np.round(values).astype(dtype)
    return values.astype(dtype)


def write_originals(root: Path) -> dict[str, dict]:
    """Writes every (kind, dtype) container once; returns, per key, its
    path and the values our readers decode from the intact container."""
    import h5py
    import zarr

    from flacarray import FlacArray
    from flacarray.zarr_codec import FlacCodec

    originals = {}
    for dtype in DTYPES:
        data = source_data(dtype)
        steps = {"quanta": 1e-2} if dtype.startswith("float") else {}
        fa = FlacArray.from_array(data, **steps)
        decoded = fa.to_array()
        for kind in KINDS:
            key = f"{kind}-{dtype}"
            path = root / key
            if kind == "hdf5":
                path = path.with_suffix(".h5")
                with h5py.File(path, "w") as hf:
                    fa.write_hdf5(hf)
            elif kind == "zarr-python":
                path = path.with_suffix(".zarr")
                fa.write_zarr(zarr.open_group(str(path), mode="w"))
            elif kind == "zarrs":
                path = path.with_suffix(".zarr")
                fa.write_zarr(str(path))
            elif kind in ("parquet", "arrow"):
                path = path.with_suffix(".parquet")
                fa.write_parquet(path)
            else:
                path = path.with_suffix(".zarr")
                z = zarr.create_array(
                    str(path),
                    shape=data.shape,
                    chunks=(1, 4, 3000),
                    dtype=dtype,
                    serializer=FlacCodec(**steps),
                    compressors=None,
                    fill_value=0,
                )
                z[...] = data
                decoded = np.asarray(z[...])
            originals[key] = {"path": str(path), "values": decoded}
        # (the codec's values are its own decode, the others the array's)
    return originals


class Damage:
    """What a damage did, and, when the damaged container still holds a
    valid array of other values, how to derive them from the original's:
    a reorder of rows is an edit any Arrow operation may make, and a
    missing chunk of a Zarr array reads as its fill value by the Zarr
    specification (a codec is never called for it)."""

    def __init__(self, what: str, still_valid=None) -> None:
        self.what = what
        self.still_valid = still_valid


def swap_rows(values: np.ndarray, row: int, other: int) -> np.ndarray:
    flat = values.reshape(-1, values.shape[-1]).copy()
    flat[[row, other]] = flat[[other, row]]
    return flat.reshape(values.shape)


def fill_first_axis(values: np.ndarray, index: int) -> np.ndarray:
    out = values.copy()
    out[index] = 0  # the arrays' fill_value
    return out


def files_of(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file())
    return [path]


def flip(rng: np.random.Generator, path: Path) -> str:
    target = rng.choice(files_of(path))
    data = bytearray(target.read_bytes())
    if not data:
        return "flip (empty file)"
    for _ in range(int(rng.integers(1, 4))):
        at = int(rng.integers(0, len(data)))
        data[at] ^= 1 << int(rng.integers(0, 8))
    target.write_bytes(bytes(data))
    return f"flip {target.name}"


def truncate(rng: np.random.Generator, path: Path) -> str:
    target = rng.choice(files_of(path))
    data = target.read_bytes()
    cut = int(rng.integers(0, max(1, len(data))))
    target.write_bytes(data[:cut])
    return f"truncate {target.name} to {cut}"


def other_value(rng: np.random.Generator, table: np.ndarray, index: tuple) -> object:
    """A plausible wrong value for `table[index]`."""
    flat = table.reshape(-1)
    here = table[index]
    choice = int(rng.integers(0, 4))
    if choice == 0 and flat.size > 1:
        others = flat[flat != here]
        if others.size:
            return others[int(rng.integers(0, others.size))]
    if table.dtype.kind == "f":
        return here * (1 + [1e-6, -1e-3, 0.5][choice % 3]) + (0 if choice else 1e-2)
    return here + [1, -1, 7, -42][choice]


def group_table_edit(rng, path: Path, kind: str) -> str:
    import h5py
    import zarr

    def edit(group) -> str:
        names = [n for n in GROUP_TABLES if n in group]
        name = names[int(rng.integers(0, len(names)))]
        table = group[name][...]
        index = tuple(int(rng.integers(0, d)) for d in table.shape)
        table[index] = other_value(rng, table, index)
        group[name][...] = table
        return f"table {name}{list(index)}"

    if kind == "hdf5":
        with h5py.File(path, "a") as hf:
            return edit(hf)
    return edit(zarr.open_group(str(path), mode="r+"))


def group_attribute_edit(rng, path: Path, kind: str) -> str:
    import h5py
    import zarr

    changes = [
        (
            "flacarray_dtype",
            lambda v: {
                "int32": "int64",
                "int64": "int32",
                "float32": "float64",
                "float64": "float32",
            }[v],
        ),
        ("flacarray_shape", lambda v: list(reversed(list(v)))),
        ("flacarray_shape", lambda v: [int(v[0]) * int(v[1]), int(v[2])]),
        ("flacarray_level", lambda v: (int(v) + 1) % 9),
        ("flac_channels", lambda v: "2" if str(v) == "1" else "1"),
        ("flacarray_format_version", lambda v: "0"),
        ("flacarray_digest", lambda v: v[:-1] + ("0" if v[-1] != "0" else "1")),
        ("stream_size", lambda v: int(v) - 1),
    ]
    name, change = changes[int(rng.integers(0, len(changes)))]
    if kind == "hdf5":
        with h5py.File(path, "a") as hf:
            attrs = hf["stream_starts"].attrs if name == "stream_size" else hf.attrs
            value = attrs[name]
            value = value.decode() if isinstance(value, bytes) else value
            attrs[name] = change(value)
    else:
        group = zarr.open_group(str(path), mode="r+")
        attrs = group["stream_starts"].attrs if name == "stream_size" else group.attrs
        attrs[name] = change(attrs[name])
    return f"attribute {name}"


def delete_chunk(rng, path: Path) -> str:
    chunks = [p for p in files_of(path) if "/c/" in str(p) or p.parent.name == "c"]
    if not chunks:
        return flip(rng, path)
    target = chunks[int(rng.integers(0, len(chunks)))]
    target.unlink()
    what = f"delete {target.relative_to(path)}"
    parts = target.relative_to(path).parts
    if parts[0] == "c":  # a codec array's chunk (i, 0, 0): values[i]
        first = int(parts[1])
        return Damage(what, lambda values: fill_first_axis(values, first))
    return Damage(what)


def streaminfo_edit(rng, path: Path, kind: str) -> str:
    """Lowers or raises one stream's STREAMINFO sample count."""
    import h5py

    from flacarray import _core  # noqa: F401  (the layout is FLAC's)

    def edit(stream: bytearray) -> None:
        total = (
            ((stream[21] & 0x0F) << 32)
            | (stream[22] << 24)
            | (stream[23] << 16)
            | (stream[24] << 8)
            | stream[25]
        )
        new = max(1, total + int(rng.choice([-904, -1, 1, 4096])))
        stream[21] = (stream[21] & 0xF0) | ((new >> 32) & 0x0F)
        stream[22:26] = (new & 0xFFFFFFFF).to_bytes(4, "big")

    if kind == "hdf5":
        with h5py.File(path, "a") as hf:
            starts = hf["stream_starts"][...].reshape(-1)
            s = int(rng.integers(0, starts.size))
            compressed = bytearray(hf["compressed"][...].tobytes())
            view = bytearray(compressed[int(starts[s]) :])
            edit(view)
            compressed[int(starts[s]) : int(starts[s]) + 26] = view[:26]
            hf["compressed"][...] = np.frombuffer(bytes(compressed), dtype=np.uint8)
        return f"streaminfo of stream {s}"
    return flip(rng, path)


def append_to_stream(rng, path: Path) -> str:
    """Bytes appended to one stream of an HDF5 group, its length and the
    later starts updated so the tables still tile `compressed`."""
    import h5py

    with h5py.File(path, "a") as hf:
        starts = hf["stream_starts"][...]
        nbytes = hf["stream_bytes"][...]
        flat_s, flat_n = starts.reshape(-1), nbytes.reshape(-1)
        s = int(rng.integers(0, flat_s.size))
        extra = rng.integers(0, 256, int(rng.integers(1, 40)), dtype=np.uint8)
        compressed = hf["compressed"][...]
        end = int(flat_s[s] + flat_n[s])
        new = np.concatenate([compressed[:end], extra, compressed[end:]])
        flat_n[s] += extra.size
        flat_s[flat_s > flat_s[s]] += extra.size
        for name in ("compressed", "stream_starts", "stream_bytes"):
            attrs = dict(hf[name].attrs)
            del hf[name]
            value = {"compressed": new, "stream_starts": starts, "stream_bytes": nbytes}[name]
            hf.create_dataset(name, data=value)
            hf[name].attrs.update(attrs)
    return f"append {extra.size} bytes to stream {s}"


def parquet_metadata_edit(rng, path: Path) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    field = table.schema.field(0)
    meta = dict(field.metadata or {})
    key = [
        b"flacarray.leading_shape",
        b"flacarray.stream_size",
        b"flacarray.level",
        b"flacarray.digest",
        b"ARROW:extension:metadata",
    ][int(rng.integers(0, 5))]
    value = meta.get(key, b"")
    if key == b"flacarray.leading_shape":
        value = b"[4,3]" if value != b"[4,3]" else b"[12]"
    elif key == b"flacarray.stream_size":
        value = b"2999"
    elif key == b"flacarray.level":
        value = b"8"
    elif key == b"flacarray.digest":
        value = value[:-1] + (b"0" if value[-1:] != b"0" else b"1")
    else:
        text = value.decode()
        for a, b in (
            ("int32", "int64"),
            ("int64", "int32"),
            ("float32", "float64"),
            ("float64", "float32"),
        ):
            if f'"{a}"' in text:
                text = text.replace(f'"{a}"', f'"{b}"')
                break
        value = text.encode()
    meta[key] = value
    schema = pa.schema([field.with_metadata(meta)])
    pq.write_table(pa.Table.from_arrays(table.columns, schema=schema), path)
    return f"field metadata {key.decode()}"


def arrow_row_edit(rng, path: Path) -> str:
    """One row's offset, gain or stream swapped or changed, rewritten by
    pyarrow (the field metadata kept)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    column = table.column(0).combine_chunks()
    storage = column.storage if hasattr(column, "storage") else column
    streams = storage.field(0).to_pylist()
    offsets = storage.field(1).to_pylist()
    gains = storage.field(2).to_pylist()
    row = int(rng.integers(0, len(streams)))
    what = int(rng.integers(0, 3))
    if what == 0 and offsets[row] is not None:
        offsets[row] = offsets[row] + 0.01
        label = "offset"
    elif what == 1 and gains[row] is not None:
        gains[row] = gains[row] * (1 + 1e-6)
        label = "gain"
    else:
        # a reorder, as any Arrow operation may do: the whole rows move
        other = (row + 1) % len(streams)
        for field in (streams, offsets, gains):
            field[row], field[other] = field[other], field[row]
        label = f"swapped with row {other}"
    new = pa.StructArray.from_arrays(
        [
            pa.array(streams, pa.large_binary()),
            pa.array(offsets, pa.float64()),
            pa.array(gains, pa.float64()),
        ],
        fields=list(storage.type),
    )
    if hasattr(column, "storage"):
        new = pa.ExtensionArray.from_storage(column.type, new)
    pq.write_table(pa.Table.from_arrays([new], schema=table.schema), path)
    if label.startswith("swapped"):
        return Damage(f"row {row} {label}", lambda values: swap_rows(values, row, other))
    return Damage(f"row {row} {label}")


def damage(rng: np.random.Generator, kind: str, path: Path) -> str:
    """Does one random kind of damage to the container at `path`."""
    choices = ["flip", "flip", "truncate"]
    if kind in ("hdf5", "zarr-python", "zarrs"):
        choices += ["table", "table", "attribute", "attribute"]
    if kind in ("zarr-python", "zarrs", "codec"):
        choices += ["chunk"]
    if kind == "hdf5":
        choices += ["streaminfo", "append"]
    if kind in ("parquet", "arrow"):
        choices += ["metadata", "row", "row"]
    pick = choices[int(rng.integers(0, len(choices)))]
    group_kind = "hdf5" if kind == "hdf5" else "zarr"
    if pick == "flip":
        return flip(rng, path)
    if pick == "truncate":
        return truncate(rng, path)
    if pick == "table":
        return group_table_edit(rng, path, group_kind)
    if pick == "attribute":
        return group_attribute_edit(rng, path, group_kind)
    if pick == "chunk":
        return delete_chunk(rng, path)
    if pick == "streaminfo":
        return streaminfo_edit(rng, path, kind)
    if pick == "append":
        return append_to_stream(rng, path)
    if pick == "metadata":
        return parquet_metadata_edit(rng, path)
    return arrow_row_edit(rng, path)


def read(kind: str, path: Path, keep: np.ndarray | None) -> np.ndarray:
    """What our readers give for the (damaged) container; raises what they
    raise. Opening by the container library is the user's step: a failure
    there is reported as such."""
    import h5py
    import zarr

    from flacarray import FlacArray

    if kind == "hdf5":
        try:
            hf = h5py.File(path, "r")
        except Exception as err:
            raise ContainerRefused(err) from err
        with hf:
            return FlacArray.read_hdf5(hf, keep=keep).to_array()
    if kind == "zarr-python":
        try:
            group = zarr.open_group(str(path), mode="r")
        except Exception as err:
            raise ContainerRefused(err) from err
        return FlacArray.read_zarr(group, keep=keep).to_array()
    if kind == "zarrs":
        return FlacArray.read_zarr(str(path), keep=keep).to_array()
    if kind == "parquet":
        return FlacArray.read_parquet(path, keep=keep).to_array()
    if kind == "arrow":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as err:
            raise ContainerRefused(err) from err
        out = FlacArray.from_arrow(table).to_array()
        return out if keep is None else out[keep]
    try:
        array = zarr.open_array(str(path), mode="r")
    except Exception as err:
        raise ContainerRefused(err) from err
    out = np.asarray(array[...])
    return out if keep is None else out[keep]


class ContainerRefused(Exception):
    """The container library (h5py, zarr-python, pyarrow) refused to open
    the damaged file before our code was called."""


def trial(args: tuple) -> dict:
    """One damaged container and its verdicts (a keep read and a whole one)."""
    from flacarray import CorruptDataError

    index, seed, originals, work = args
    rng = np.random.default_rng([seed, index])
    key = list(originals)[int(rng.integers(0, len(originals)))]
    kind = key.split("-", 1)[0] if not key.startswith("zarr-python") else "zarr-python"
    source = Path(originals[key]["path"])
    expected = originals[key]["values"]
    target = Path(work) / f"t{index}{source.suffix}"
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy(source, target)
    try:
        done = damage(rng, kind, target)
    except Exception as err:  # the damage itself could not be done
        return {"index": index, "key": key, "outcome": "skipped", "what": repr(err)}
    done = done if isinstance(done, Damage) else Damage(done)
    what = done.what
    other = None if done.still_valid is None else done.still_valid(expected)
    keep = rng.random(expected.shape[:-1]) < 0.5
    verdicts = []
    for mask in (keep, None):
        try:
            out = read(kind, target, mask)
        except ContainerRefused as err:
            verdicts.append(f"refused by the container library ({type(err.__cause__).__name__})")
            continue
        except CorruptDataError:
            verdicts.append("CorruptDataError")
            continue
        except Exception as err:
            verdicts.append(f"undocumented {type(err).__name__}: {err}"[:300])
            continue
        want = expected if mask is None else expected[mask]
        same = out.shape == want.shape and np.array_equal(out, want)
        if not same and other is not None:
            valid = other if mask is None else other[mask]
            if out.shape == valid.shape and np.array_equal(out, valid):
                verdicts.append("the edited array")
                continue
        verdicts.append("equal" if same else "SILENT")
    if target.is_dir():
        shutil.rmtree(target, ignore_errors=True)
    else:
        target.unlink(missing_ok=True)
    outcome = "SILENT" if "SILENT" in verdicts else verdicts[-1]
    if any(v.startswith("undocumented") for v in verdicts):
        outcome = next(v for v in verdicts if v.startswith("undocumented"))
    return {"index": index, "key": key, "what": what, "outcome": outcome, "verdicts": verdicts}


def worker(jobs: mp.Queue, results: mp.Queue, originals: dict, seed: int, work: str) -> None:
    while True:
        index = jobs.get()
        if index is None:
            return
        results.put(("start", index))
        try:
            results.put(("done", trial((index, seed, originals, work))))
        except Exception:
            results.put(
                (
                    "done",
                    {
                        "index": index,
                        "outcome": "harness error",
                        "what": traceback.format_exc()[-500:],
                    },
                )
            )


def run(trials: int, seed: int) -> dict:
    work = tempfile.mkdtemp(prefix="flacarray-campaign-")
    (Path(work) / "originals").mkdir()
    originals = write_originals(Path(work) / "originals")
    ctx = mp.get_context("spawn")
    outcomes: Counter = Counter()
    by_kind: dict[str, Counter] = {}
    examples: dict[str, list] = {}
    crashes: list[dict] = []
    hangs: list[int] = []
    next_index = 0
    while next_index < trials:
        jobs, results = ctx.Queue(), ctx.Queue()
        proc = ctx.Process(target=worker, args=(jobs, results, originals, seed, work))
        proc.start()
        for i in range(next_index, trials):
            jobs.put(i)
        jobs.put(None)
        current, started = None, time.monotonic()
        while True:
            try:
                tag, payload = results.get(timeout=5)
            except Exception:  # queue.Empty
                if current is not None and time.monotonic() - started > HANG_SECONDS:
                    proc.kill()  # a trial that never ends is a hang
                    hangs.append(current)
                    outcomes["hang"] += 1
                    next_index, current = current + 1, None
                    break
                if not proc.is_alive():
                    break
                continue
            if tag == "start":
                current, started = payload, time.monotonic()
                continue
            result = payload
            current = None
            next_index = result["index"] + 1
            kind = result.get("key", "?").rsplit("-", 1)[0]
            outcome = result["outcome"]
            label = outcome.split(":")[0]
            outcomes[label] += 1
            by_kind.setdefault(kind, Counter())[label] += 1
            cap = 200 if label == "SILENT" else 8
            fine = ("equal", "the edited array", "CorruptDataError")
            if label not in fine and len(examples.get(label, [])) < cap:
                examples.setdefault(label, []).append(result)
            if next_index >= trials:
                break
        proc.join(timeout=30)
        if current is not None:  # the worker died in this trial
            crashes.append({"index": current, "exitcode": proc.exitcode})
            outcomes["crash"] += 1
            next_index = current + 1
    shutil.rmtree(work, ignore_errors=True)
    return {
        "trials": trials,
        "seed": seed,
        "outcomes": dict(outcomes),
        "by_container": {k: dict(v) for k, v in sorted(by_kind.items())},
        "examples": examples,
        "crashes": crashes,
        "hangs": hangs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    summary = run(args.trials, args.seed)
    print(json.dumps(summary, indent=1, default=str))
    bad = [
        k
        for k in summary["outcomes"]
        if k not in ("equal", "the edited array", "CorruptDataError", "skipped")
        and not k.startswith("refused by the container library")
    ]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
