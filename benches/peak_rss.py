"""Peak memory of compressing a 1 GB float64 array (1000 x 125,000).

    /usr/bin/time -v python benches/peak_rss.py

Prints the RSS before compressing (input + interpreter), the peak during
compression, and the growth relative to the compressed size (target: the
growth stays within 1.2x the compressed bytes).
"""

import resource

import numpy as np

from flacarray import FlacArray

rng = np.random.default_rng(1)
n = 125_000
t = np.arange(n)
data = np.empty((1000, n))
for i in range(1000):
    data[i] = 3 * np.sin(t / 5000 + i) + rng.normal(0, 1, n)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(f"input bytes {data.nbytes:,}; RSS with the input {base:,}")
fa = FlacArray.from_array(data, quanta=1e-3)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(f"compressed bytes {fa.nbytes:,}; peak RSS {peak:,}")
print(f"growth while compressing {peak - base:,} = {(peak - base) / fa.nbytes:.3f} x compressed")
