"""Zarr v3 serializers side by side: our `flacarray.flac` codec against
zarr-python's default (bytes + zstd), Blosc (zstd, byte shuffle) and pcodec
(numcodecs' PCodec), on the datasets of benches/compare_reference.py
(D1-D5) and a seismogram-like signal. For each: stored bytes, write time
and read time (median of --repeats runs, the codecs taking turns), all in
this one process.

    python benches/zarr_codec.py [--repeats 3] [--chunk-streams 10] [--codec-alone]

Chunks hold --chunk-streams whole streams (the last axis is not split, as
a station-by-time layout does). Floats (D1) are stored as they are by the
lossless codecs and quantized by ours with the dataset's quanta: the usual
choice of each tool, stated so the bytes are read with that in mind.

--codec-alone adds, for ours and pcodec, the best time (of --repeats) to
decode every stored chunk once on one thread, calling each codec's chunk
decoder directly: what a core costs per chunk, without zarr-python.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import zarr
from zarr.codecs import BloscCodec, BytesCodec, ZstdCodec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_reference import make_dataset  # noqa: E402

from flacarray.zarr_codec import FlacCodec  # noqa: E402


def seismogram() -> tuple[np.ndarray, dict]:
    """30 stations x 360k samples (one hour at 100 Hz) of int32 counts:
    red microseismic noise, a small local event and a teleseism."""
    rng = np.random.default_rng(7)
    stations, n = 30, 360_000
    white = rng.normal(0, 1, (stations, n))
    noise = np.cumsum(white, axis=1)
    noise -= np.linspace(0, 1, n) * noise[:, -1:]  # no drift
    t = np.arange(n) / 100.0
    event = np.zeros(n)
    for onset, period, size in ((900.0, 0.4, 4000.0), (2100.0, 8.0, 20000.0)):
        after = np.clip(t - onset, 0, None)
        # zero before the onset (sin(0)), then a decaying wave train
        event += size * np.exp(-after / (20 * period)) * np.sin(2 * np.pi * after / period)
    delays = rng.uniform(0, 30, stations)
    signal = np.stack([np.interp(t - d, t, event) for d in delays])
    return np.round(200 * noise + signal).astype(np.int32), {}


def codecs(kwargs: dict) -> dict[str, dict]:
    from zarr.codecs.numcodecs import PCodec

    return {
        "flacarray.flac": {"serializer": FlacCodec(**kwargs), "compressors": None},
        "zstd (default)": {"serializer": BytesCodec(), "compressors": ZstdCodec(level=0)},
        "blosc zstd+shuffle": {
            "serializer": BytesCodec(),
            "compressors": BloscCodec(cname="zstd", clevel=5, shuffle="shuffle"),
        },
        "pcodec": {"serializer": PCodec(level=8), "compressors": None},
    }


def chunk_files(store: Path) -> list[Path]:
    """The files of a store's chunks, in key order."""
    return sorted(p for p in (store / "c").rglob("*") if p.is_file())


def stored_bytes(store: Path) -> int:
    return sum(p.stat().st_size for p in chunk_files(store))


def write_array(store: Path, data: np.ndarray, chunks: tuple[int, ...], options: dict) -> None:
    """`data` written as a new Zarr array at `store`, encoded by `options`."""
    z = zarr.create_array(str(store), shape=data.shape, chunks=chunks, dtype=data.dtype, **options)
    z[...] = data


def measure_once(data: np.ndarray, chunks: tuple[int, ...], options: dict) -> dict:
    folder = Path(tempfile.mkdtemp())
    try:
        store = folder / "a.zarr"
        start = time.perf_counter()
        write_array(store, data, chunks, options)
        write = time.perf_counter() - start
        size = stored_bytes(store)
        start = time.perf_counter()
        back = zarr.open_array(str(store))[...]
        read = time.perf_counter() - start
        assert back.shape == data.shape
    finally:
        shutil.rmtree(folder)
    return {"bytes": size, "write": write, "read": read}


def measure(data: np.ndarray, chunks: tuple[int, ...], options: dict, repeats: int) -> dict:
    """Median write and read times of `repeats` runs of each codec, the
    codecs taking turns (one run of each, then again), so that a slow spell
    of the machine falls on all of them alike."""
    runs: dict[str, list[dict]] = {name: [] for name in options}
    for _ in range(repeats):
        for name, codec_options in options.items():
            runs[name].append(measure_once(data, chunks, codec_options))
    return {
        name: {
            "bytes": results[-1]["bytes"],
            "write": statistics.median(r["write"] for r in results),
            "read": statistics.median(r["read"] for r in results),
        }
        for name, results in runs.items()
    }


def stored_chunks(data: np.ndarray, chunks: tuple[int, ...], options: dict) -> list[bytes]:
    """The bytes of every chunk of `data` written with `options`."""
    folder = Path(tempfile.mkdtemp())
    try:
        store = folder / "a.zarr"
        write_array(store, data, chunks, options)
        return [p.read_bytes() for p in chunk_files(store)]
    finally:
        shutil.rmtree(folder)


def codec_alone(data: np.ndarray, chunks: tuple[int, ...], kwargs: dict, repeats: int) -> dict:
    """Best time of `repeats` to decode every chunk once, on one thread, by
    our chunk decoder and by numcodecs' pcodec, taking turns."""
    from numcodecs.pcodec import PCodec as NumcodecsPCodec

    from flacarray import _core

    options = codecs(kwargs)
    shape = list(chunks)
    decoders = {
        "flacarray.flac": lambda b: _core.decode_chunk(b, data.dtype.name, shape, threads=1),
        "pcodec": NumcodecsPCodec(level=8).decode,
    }
    stored = {
        name: [np.frombuffer(b, np.uint8) for b in stored_chunks(data, chunks, options[name])]
        for name in decoders
    }
    best = {name: float("inf") for name in decoders}
    for _ in range(repeats):
        for name, decode in decoders.items():
            start = time.perf_counter()
            for chunk in stored[name]:
                decode(chunk)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-streams", type=int, default=10)
    parser.add_argument("--datasets", default="D1,D2,D3,D4,D5,seismogram")
    parser.add_argument("--codec-alone", action="store_true")
    args = parser.parse_args()
    rows = []
    alone = []
    for name in args.datasets.split(","):
        data, kwargs = seismogram() if name == "seismogram" else make_dataset(name)
        data = np.ascontiguousarray(data)
        chunks = (min(args.chunk_streams, data.shape[0]), data.shape[1])
        mib = data.nbytes / 2**20
        print(f"{name}: {data.dtype} {data.shape} ({mib:.0f} MiB), chunks {chunks}", flush=True)
        for codec, result in measure(data, chunks, codecs(kwargs), args.repeats).items():
            ratio = data.nbytes / result["bytes"]
            print(
                f"  {codec:20s} {result['bytes']:>12,d} B  ratio {ratio:5.2f}  "
                f"write {mib / result['write']:7.1f} MiB/s  read {mib / result['read']:7.1f} MiB/s",
                flush=True,
            )
            rows.append((name, codec, result, ratio, mib))
        if args.codec_alone:
            best = codec_alone(data, chunks, kwargs, args.repeats)
            alone.append((name, best["flacarray.flac"], best["pcodec"]))
    print()
    print("| data | codec | bytes | ratio | write MiB/s | read MiB/s |")
    print("|---|---|---|---|---|---|")
    for name, codec, result, ratio, mib in rows:
        print(
            f"| {name} | {codec} | {result['bytes']:,} | {ratio:.2f} | "
            f"{mib / result['write']:.0f} | {mib / result['read']:.0f} |"
        )
    if alone:
        print()
        print("| data | ours, ms | pcodec, ms | pcodec's time / ours |")
        print("|---|---|---|---|")
        for name, ours, pcodec in alone:
            print(f"| {name} | {ours * 1e3:.1f} | {pcodec * 1e3:.1f} | {pcodec / ours:.2f} |")


if __name__ == "__main__":
    main()
