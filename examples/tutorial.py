"""The seed tutorial, end to end, as the user wrote it.

Run: python examples/tutorial.py [OUTPUT_DIR]   (default: out/tutorial)

Every call is the tutorial's own. The only changes are the two the seed's
notes ask for: zarr 3 groups are opened without `with`, and plots are saved
as numbered PNG files in OUTPUT_DIR (through FLACARRAY_PLOT_DIR) instead of
opening windows. The HDF5 and zarr files are written there too.
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "out/tutorial").resolve()
out_dir.mkdir(parents=True, exist_ok=True)
os.environ["FLACARRAY_PLOT_DIR"] = str(out_dir)
os.chdir(out_dir)

# ---- the tutorial ----------------------------------------------------------

import h5py  # noqa: E402  (For optional I/O operations)
import numpy as np  # noqa: E402
import zarr  # noqa: E402  (For optional I/O operations)

from flacarray import FlacArray, demo  # noqa: E402

# Create a 3D array where the last dimension is the "streams" we are compressing.
arr = demo.create_fake_data((4, 3, 10000))
# How large is this in memory?
print(f"Input array is {arr.nbytes} bytes")

# Plot these streams
demo.plot_data(arr)

# Create a compressed array
flcarr = FlacArray.from_array(arr)
# Properties of the compressed array
print(flcarr)

# Restore back to an array
restored = flcarr.to_array()
demo.plot_data(restored)
# Plot the residual
residual = restored - arr
demo.plot_data(residual)

subarr = flcarr[1:2, :, 200:300]
demo.plot_data(subarr)

with h5py.File("flcarr.h5", "w") as hf:
    flcarr.write_hdf5(hf)

# We can load this back into a new FlacArray using a class method
with h5py.File("flcarr.h5", "r") as hf:
    new_flcarr = FlacArray.read_hdf5(hf)

# The compressed representations should be equal...
print(new_flcarr == flcarr)

leading_shape = arr.shape[:-1]
keep = np.zeros(leading_shape, dtype=bool)
# Select the first and last stream on the second row
keep[1, 0] = True
keep[1, -1] = True

# Load just these streams
with h5py.File("flcarr.h5", "r") as hf:
    sub_flcarr = FlacArray.read_hdf5(hf, keep=keep)

# Decompress and plot
demo.plot_data(sub_flcarr.to_array())

import flacarray.hdf5  # noqa: E402

with h5py.File("test.h5", "w") as hf:
    flacarray.hdf5.write_array(arr, hf)

with h5py.File("test.h5", "r") as hf:
    restored = flacarray.hdf5.read_array(hf)

demo.plot_data(restored)

with h5py.File("test.h5", "r") as hf:
    sub_restored = flacarray.hdf5.read_array(hf, keep=keep, stream_slice=slice(200, 300, 1))

demo.plot_data(sub_restored)

import flacarray.zarr  # noqa: E402

zf = zarr.open_group("test.zarr", mode="w")
flacarray.zarr.write_array(arr, zf)

zf = zarr.open_group("test.zarr", mode="r")
restored = flacarray.zarr.read_array(zf)

demo.plot_data(restored)

# Specifying a keep mask and sample slice also works.
zf = zarr.open_group("test.zarr", mode="r")
sub_restored = flacarray.zarr.read_array(zf, keep=keep, stream_slice=slice(200, 300, 1))

demo.plot_data(sub_restored)

# ---- end of the tutorial ---------------------------------------------------

print(f"Plots written to {out_dir}:")
for png in sorted(out_dir.glob("plot_*.png")):
    print(f"  {png.name}")
