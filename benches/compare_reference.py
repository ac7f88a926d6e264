"""Side-by-side benchmark of this package against the reference `flacarray`
(0.4.1 from PyPI), on the datasets of the project's facts (D1-D5).

    python benches/compare_reference.py [--repeats 3] [--out out/compare]

Both packages import as `flacarray`, so each measurement runs in its own
subprocess: ours with this interpreter, the reference with the virtualenv
the interop tests use (created on first use under ~/.cache/flacarray/ref-venv). Runs are
interleaved (round after round, ours then reference for each dataset) and
the median of the rounds is reported. Both sides compress the very same
arrays: each worker reports a checksum of its input, and they must agree.

Outputs: a table on stdout, compare.csv and compare.png in --out.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

DATASETS = ["D1", "D2", "D3", "D4", "D5"]
TARGETS = {"bytes": 0.99, "compress": 0.5, "decompress": 0.67, "slice": 0.4}
N = 100_000


# ---- datasets (identical code runs in both workers) ---------------------------


def make_dataset(name: str):
    import numpy as np

    rng = np.random.default_rng(20261125)
    t = np.arange(N)

    def d2_like(streams):
        dc = 1e6 + rng.uniform(-1e5, 1e5, size=(streams, 1))
        slow = 1e5 * np.sin(2 * np.pi * t / N * 3 + rng.uniform(0, 6, size=(streams, 1)))
        return np.round(dc + slow + rng.normal(0, 100, size=(streams, N)))

    if name == "D1":
        from flacarray import demo

        data = demo.create_fake_data((100, N))
        if isinstance(data, tuple):  # the reference returns (data, mpi_dist)
            data = data[0]
        return data, {"quanta": 1e-3}
    if name == "D2":
        return d2_like(200).astype(np.int32), {}
    if name == "D3":
        info = np.iinfo(np.int32)
        return rng.integers(info.min, info.max, size=(20, N), dtype=np.int64).astype(np.int32), {}
    if name == "D4":
        base = d2_like(50).astype(np.int64) * (1 << 20)
        return base + rng.integers(-1000, 1000, size=(50, N)), {}
    if name == "D5":
        return np.round(rng.normal(0, 1000, size=(200, N))).astype(np.int32), {}
    raise ValueError(name)


def worker(impl: str, name: str) -> dict:
    import numpy as np

    import flacarray

    data, kwargs = make_dataset(name)
    result = {"impl": impl, "dataset": name, "checksum": hashlib.sha256(data.tobytes()).hexdigest()}
    result["input_bytes"] = int(data.nbytes)

    t0 = time.perf_counter()
    fa = flacarray.FlacArray.from_array(data, **kwargs)
    result["compress"] = time.perf_counter() - t0
    result["bytes"] = int(fa.nbytes)

    t0 = time.perf_counter()
    out = fa.to_array()
    result["decompress"] = time.perf_counter() - t0
    if data.dtype.kind == "i":
        assert np.array_equal(out, data), f"{impl} {name}: lossless round trip failed"

    keep = np.zeros(fa.stream_starts.shape, dtype=bool)
    keep.ravel()[0] = True
    window = slice(N // 2, N // 2 + 100)
    times = []
    for _ in range(200):
        t0 = time.perf_counter()
        part = fa.to_array(keep=keep, stream_slice=window)
        times.append(time.perf_counter() - t0)
    assert part.shape == (1, 100)
    assert np.array_equal(part[0], out.reshape(-1, N)[0, window])
    result["slice"] = statistics.median(times)

    if impl == "ours":
        t0 = time.perf_counter()
        fa1 = flacarray.FlacArray.from_array(data, use_threads=False, **kwargs)
        result["compress_1t"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        fa1.to_array(use_threads=False)
        result["decompress_1t"] = time.perf_counter() - t0
    return result


# ---- orchestration ---------------------------------------------------------------


def reference_python() -> str:
    """The reference virtualenv shared with the interop tests."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
    from reference_env import reference_python as make

    return make()


def run_worker(python: str, impl: str, name: str) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(
        [python, str(Path(__file__).resolve()), "--worker", impl, name],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parent,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{impl} worker failed on {name}:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def summarize(runs: list[dict]) -> list[dict]:
    rows = []
    for name in DATASETS:
        ours = [r for r in runs if r["dataset"] == name and r["impl"] == "ours"]
        ref = [r for r in runs if r["dataset"] == name and r["impl"] == "reference"]
        if not ours or not ref:
            continue
        if {r["checksum"] for r in ours} != {r["checksum"] for r in ref}:
            raise RuntimeError(f"{name}: the two workers compressed different data")

        def med(rs, key):
            return statistics.median(r[key] for r in rs)

        row = {"dataset": name, "input_MB": ours[0]["input_bytes"] / 1e6}
        row["bytes_ours"], row["bytes_ref"] = ours[0]["bytes"], ref[0]["bytes"]
        row["bytes_ratio"] = row["bytes_ours"] / row["bytes_ref"]
        for key in ("compress", "decompress", "slice"):
            row[f"{key}_ours"], row[f"{key}_ref"] = med(ours, key), med(ref, key)
            row[f"{key}_ratio"] = row[f"{key}_ours"] / row[f"{key}_ref"]
        row["compress_ours_1t"] = med(ours, "compress_1t")
        row["decompress_ours_1t"] = med(ours, "decompress_1t")
        rows.append(row)
    return rows


def print_table(rows: list[dict]) -> None:
    print(
        "data | bytes ours / ref (ratio) | compress s ours [1 thread] / ref (ratio)"
        " | decompress s ours [1 thread] / ref (ratio) | slice us ours / ref (ratio)"
    )
    for r in rows:
        cells = [
            r["dataset"],
            f"{r['bytes_ours']:,} / {r['bytes_ref']:,} ({r['bytes_ratio']:.3f})",
            f"{r['compress_ours']:.3f} [{r['compress_ours_1t']:.3f}] / {r['compress_ref']:.3f}"
            f" ({r['compress_ratio']:.2f})",
            f"{r['decompress_ours']:.3f} [{r['decompress_ours_1t']:.3f}]"
            f" / {r['decompress_ref']:.3f} ({r['decompress_ratio']:.2f})",
            f"{r['slice_ours'] * 1e6:.0f} / {r['slice_ref'] * 1e6:.0f} ({r['slice_ratio']:.2f})",
        ]
        print(" | ".join(cells))
    print("targets (ours/ref): " + ", ".join(f"{k} <= {v}" for k, v in TARGETS.items()))


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    metrics = list(TARGETS)
    x = np.arange(len(rows))
    width = 0.2
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    for i, metric in enumerate(metrics):
        values = [r[f"{metric}_ratio"] for r in rows]
        bars = ax.bar(
            x + (i - 1.5) * width, values, width, label=f"{metric} (target {TARGETS[metric]})"
        )
        ax.hlines(
            TARGETS[metric],
            x[0] - 0.5,
            x[-1] + 0.5,
            colors=bars.patches[0].get_facecolor(),
            linestyles="dotted",
            linewidth=1,
        )
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(x, [r["dataset"] for r in rows])
    ax.set_ylabel("ours / reference (lower is better)")
    ax.set_title("flacarray (Rust core) vs reference flacarray 0.4.1, same data, same machine")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--worker", nargs=2, metavar=("IMPL", "DATASET"), help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--out", default="out/compare")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return

    ref_python = reference_python()
    runs = []
    for round_ in range(args.repeats):
        for name in args.datasets.split(","):
            for impl, python in (("ours", sys.executable), ("reference", ref_python)):
                runs.append(run_worker(python, impl, name))
                print(f"round {round_ + 1}: {impl:9s} {name} done", file=sys.stderr)
    rows = summarize(runs)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "compare.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, out / "compare.png")
    print_table(rows)
    print(f"\nwrote {out / 'compare.csv'} and {out / 'compare.png'}")


if __name__ == "__main__":
    main()
