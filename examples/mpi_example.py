"""Each MPI rank compresses its own detectors, the file is written and read
collectively, and every rank gets its detectors back.

    mpiexec -n 2 python examples/mpi_example.py [folder]
"""

import os
import sys
import tempfile

import h5py
import numpy as np
from mpi4py import MPI

from flacarray import FlacArray
from flacarray.mpi import distribute_and_verify

comm = MPI.COMM_WORLD
folder = sys.argv[1] if len(sys.argv) > 1 else None
if comm.rank == 0 and folder is None:
    folder = tempfile.mkdtemp()
folder = comm.bcast(folder, root=0)
path = os.path.join(folder, "timestreams.h5")

# 10 detectors x 100,000 samples in all; this rank simulates its own range
n_det, n_samp = 10, 100_000
first, last = distribute_and_verify(comm, n_det)[comm.rank]
rng = np.random.default_rng(first)
local = np.cumsum(rng.normal(0, 1e-3, (last - first, n_samp)), axis=1)

fa = FlacArray.from_array(local, quanta=1e-5, mpi_comm=comm)  # one thread per rank
print(fa, "of", fa.global_shape)

# written through rank 0 (other ranks pass None): the same file one process writes
if comm.rank == 0:
    with h5py.File(path, "w") as hf:
        fa.write_hdf5(hf)
else:
    fa.write_hdf5(None)

# read back: every rank gets its range of detectors
if comm.rank == 0:
    with h5py.File(path, "r") as hf:
        back = FlacArray.read_hdf5(hf, mpi_comm=comm)
else:
    back = FlacArray.read_hdf5(None, mpi_comm=comm)
error = np.abs(back.to_array() - local).max()
assert back.mpi_dist == fa.mpi_dist and error <= 0.5e-5, error
print(f"rank {comm.rank}: detectors {first}..{last - 1} back, max error {error:.1e}")
