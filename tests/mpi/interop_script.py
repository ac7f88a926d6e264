"""Writes or reads an HDF5 file collectively with whichever `flacarray` is
importable (ours or the reference 0.4.1), for the MPI interop test:

    mpiexec -n 2 python tests/mpi/interop_script.py write|read PATH

Rank 0 opens the file (serial h5py) and the other ranks pass None, as both
packages' gather paths expect. Every rank checks its values; "ok" lines on
stdout say so.
"""

import sys

import h5py
import numpy as np
from mpi4py import MPI

from flacarray import FlacArray

comm = MPI.COMM_WORLD
mode, path = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(7)
cases = {
    "ints": np.round(rng.normal(0, 500, (5, 3000)) + 1000 * np.sin(np.arange(3000) / 200)).astype(
        np.int32
    ),
    "floats": np.cumsum(rng.normal(0, 1e-2, (5, 3000)), axis=1),
}
n = 5
bounds = np.linspace(0, n, comm.size + 1).astype(int)
first, last = int(bounds[comm.rank]), int(bounds[comm.rank + 1])

for name, data in cases.items():
    quanta = 1e-3 if name == "floats" else None
    if mode == "write":
        fa = FlacArray.from_array(data[first:last], quanta=quanta, mpi_comm=comm)
        if comm.rank == 0:
            with h5py.File(path, "a") as hf:
                fa.write_hdf5(hf.create_group(name))
        else:
            fa.write_hdf5(None)
        comm.barrier()
    else:
        if comm.rank == 0:
            with h5py.File(path, "r") as hf:
                fa = FlacArray.read_hdf5(hf[name], mpi_comm=comm)
        else:
            fa = FlacArray.read_hdf5(None, mpi_comm=comm)
        out = fa.to_array()
        lo, hi = fa.mpi_dist[comm.rank]
        expected = data[lo:hi]
        assert out.shape == expected.shape, (out.shape, expected.shape)
        if quanta is None:
            assert np.array_equal(out, expected)
        else:
            assert np.abs(out - expected).max() <= quanta / 2 * (1 + 1e-9)
    print(f"ok {mode} {name} rank {comm.rank}", flush=True)
