"""One long stream: `FlacArray.from_array` of a single 10^7-sample int32
stream (a random walk plus noise, like an ADC trace) on one thread and on
every core. The frames of the stream are encoded in parallel and stitched;
the script checks that both give the same bytes.

    python benches/long_stream.py
"""

import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from short_rows import best  # noqa: E402

from flacarray import FlacArray  # noqa: E402


def main():
    rng = np.random.default_rng(26)
    walk = np.cumsum(rng.integers(-20, 21, 10_000_000))
    data = (walk + rng.normal(0, 30, walk.size)).astype(np.int32)
    one, sequential = best(lambda: FlacArray.from_array(data, use_threads=False), repeats=5)
    every, parallel = best(lambda: FlacArray.from_array(data), repeats=5)
    same = bytes(sequential.compressed) == bytes(parallel.compressed)
    print(
        json.dumps(
            {
                "cores": os.cpu_count(),
                "samples": int(data.size),
                "one thread s": round(one, 4),
                "all cores s": round(every, 4),
                "speed-up": round(one / every, 2),
                "bytes": int(parallel.nbytes),
                "identical bytes": same,
            },
            indent=1,
        )
    )
    assert same


if __name__ == "__main__":
    main()
