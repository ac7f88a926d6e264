"""The Polars expression path against the direct numpy path, same data,
same run: compressing and decompressing a 1,000-row x 100,000-sample
float64 column (an Array column, one stream per row).

    python benches/polars_expr.py [--rows 1000] [--samples 100000] [--repeats 3]

Target: the expression costs at most 1.10x the direct FlacArray path.

Then the cost of a 100-sample window from the middle of one row, as
`flac.decompress(a, a + 100)` and as `FlacArray[:, a:a + 100]`, on rows of
1e4 and 5e6 samples in frames of one and two rows (median of 200 calls;
target: within 2x). Two reference points show what Polars itself costs: the
same expression on an empty frame (the fixed cost of a plugin call), and
`select(pl.lit(1))` on the frame (Polars copies the value of a one-row
frame's column on every select, so one 5e6-sample row costs milliseconds
before the plugin runs).
"""

import argparse
import statistics
import time

import numpy as np
import polars as pl

import flacarray  # noqa: F401  (registers the flac namespace)
from flacarray import FlacArray


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(3)
    t = np.arange(args.samples)
    data = 3 * np.sin(t / 5000) + rng.normal(0, 1, (args.rows, args.samples))
    frame = pl.DataFrame({"x": pl.Series("x", data)})
    results = {
        "direct compress": [],
        "expr compress": [],
        "direct decompress": [],
        "expr decompress": [],
    }
    for _ in range(args.repeats):
        dt, fa = timed(lambda: FlacArray.from_array(data, quanta=1e-3))
        results["direct compress"].append(dt)
        dt, packed = timed(lambda: frame.select(pl.col("x").flac.compress(quanta=1e-3)))
        results["expr compress"].append(dt)
        dt, out = timed(fa.to_array)
        results["direct decompress"].append(dt)
        dt, unpacked = timed(lambda p=packed: p.select(pl.col("x").flac.decompress()))
        results["expr decompress"].append(dt)
    direct_bytes = fa.nbytes
    expr_bytes = int(packed["x"].ext.storage().struct.field("stream").bin.size().sum())
    print(
        f"{args.rows} rows x {args.samples} float64 samples ({data.nbytes / 1e6:.0f} MB), "
        f"median of {args.repeats}"
    )
    for op in ("compress", "decompress"):
        direct = statistics.median(results[f"direct {op}"])
        expr = statistics.median(results[f"expr {op}"])
        print(
            f"{op:10s} direct {direct:.3f} s   expression {expr:.3f} s   ratio {expr / direct:.3f}"
        )
    print(f"bytes: direct {direct_bytes:,}  expression {expr_bytes:,}")
    assert np.array_equal(np.stack(unpacked["x"].to_numpy()), out)
    for length in (10_000, 5_000_000):
        window_cost(rng, length)


def median_time(fn, calls):
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def window_cost(rng, length, calls=200):
    """A 100-sample window from the middle of each row, both ways, on a
    one-row and on a two-row frame, beside the fixed cost of any plugin
    call (the same expression on an empty frame)."""
    for rows in (1, 2):
        window_cost_rows(rng, rows, length, calls)


def window_cost_rows(rng, rows, length, calls):
    data = np.cumsum(rng.normal(0, 1e-3, (rows, length)), axis=1)
    fa = FlacArray.from_array(data, quanta=1e-4)
    packed = pl.DataFrame({"x": fa.to_polars()})
    a = length // 2
    expr = pl.col("x").flac.decompress(a, a + 100)
    direct = median_time(lambda: fa[:, a : a + 100], calls)
    plugin = median_time(lambda: packed.select(expr), calls)
    floor = median_time(lambda: packed.head(0).select(expr), calls)
    baseline = median_time(lambda: packed.select(pl.lit(1)), calls)
    print(
        f"window of 100 from {rows} x {length:,}-sample rows: "
        f"FlacArray {direct * 1e3:.3f} ms   "
        f"flac.decompress {plugin * 1e3:.3f} ms   ratio {plugin / direct:.2f}   "
        f"(plugin call on an empty frame {floor * 1e3:.3f} ms; "
        f"select(pl.lit(1)) on this frame {baseline * 1e3:.3f} ms)"
    )


if __name__ == "__main__":
    main()
