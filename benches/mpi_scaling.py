"""MPI scaling: 1 GiB of int32 (64 streams x 4M samples) split over 1 and
2 ranks, one thread per rank; for ours and the reference 0.4.1, the time of
the slowest rank (after a barrier) for compress + write_hdf5 and for
read_hdf5 + decompress, and rank 0's peak memory growth while writing
(the gather path: rank 0 writes every rank's bytes). When the parallel
HDF5 virtualenv of the test command exists (`setup_parallel_hdf5` in
.ci/env.sh: Debian's h5py-mpi with Open MPI), ours is also measured with the
file open with the mpio driver on every rank (`H5File(..., comm=comm)`).

    python benches/mpi_scaling.py [--streams 64] [--samples 4194304]

The reference runs in the cached reference venv (tests/python/reference_env.py
makes it; it also needs `pip install mpich mpi4py`). Each configuration is
its own `mpiexec -n N` job; this script launches them and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
REFERENCE_PYTHON = Path.home() / ".cache" / "flacarray" / "ref-venv" / "bin" / "python"
MPIO_PYTHON = Path.home() / ".cache" / "flacarray" / "mpio-venv" / "bin" / "python"
OPEN_MPI = ["/usr/bin/mpirun.openmpi", "--allow-run-as-root", "--oversubscribe"]


def peak_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def inner(streams: int, samples: int, folder: str, parallel: bool) -> None:
    """One measurement, run under mpiexec: prints rank 0's JSON. With
    `parallel`, every rank opens the file with the mpio driver."""
    import h5py
    import numpy as np
    from mpi4py import MPI

    from flacarray import FlacArray

    comm = MPI.COMM_WORLD
    rank, size = comm.rank, comm.size
    per_rank = [len(a) for a in np.array_split(np.arange(streams), size)]
    first = sum(per_rank[:rank])
    rng = np.random.default_rng(first)
    t = np.arange(samples)
    local = (
        (2**20 * np.sin(t / 5000))[None, :] + rng.normal(0, 300, (per_rank[rank], samples))
    ).astype(np.int32)
    path = os.path.join(folder, "scaling.h5")

    comm.barrier()
    reset_peak()
    before = peak_bytes()
    start = time.perf_counter()
    fa = FlacArray.from_array(local, mpi_comm=comm, use_threads=False)
    if parallel:
        with h5py.File(path, "w", driver="mpio", comm=comm) as hf:
            fa.write_hdf5(hf)
    elif rank == 0:
        with h5py.File(path, "w") as hf:
            fa.write_hdf5(hf)
    else:
        fa.write_hdf5(None)
    write_time = comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
    grown = peak_bytes() - before
    own = local.nbytes
    compressed = comm.allgather(int(fa.nbytes))

    comm.barrier()
    start = time.perf_counter()
    if parallel:
        with h5py.File(path, "r", driver="mpio", comm=comm) as hf:
            back = FlacArray.read_hdf5(hf, mpi_comm=comm)
    elif rank == 0:
        with h5py.File(path, "r") as hf:
            back = FlacArray.read_hdf5(hf, mpi_comm=comm)
    else:
        back = FlacArray.read_hdf5(None, mpi_comm=comm)
    out = back.to_array(use_threads=False)
    read_time = comm.allreduce(time.perf_counter() - start, op=MPI.MAX)
    assert np.array_equal(out, local)
    if rank == 0:
        print(
            json.dumps(
                {
                    "ranks": size,
                    "write": write_time,
                    "read": read_time,
                    "rank0_peak_growth": grown,
                    "rank0_data": own,
                    "largest_other_compressed": max(compressed[1:], default=0),
                    "compressed_total": sum(compressed),
                }
            )
        )


def run(python: str, ranks: int, args: argparse.Namespace, parallel: bool = False) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "HYDRA"))}
        launcher = OPEN_MPI if parallel else [str(Path(python).parent / "mpiexec")]
        proc = subprocess.run(
            [
                *launcher,
                "-n",
                str(ranks),
                python,
                "-m",
                "mpi4py",
                str(HERE),
                "--inner",
                "--streams",
                str(args.streams),
                "--samples",
                str(args.samples),
                "--folder",
                folder,
                *(["--parallel"] if parallel else []),
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=1800,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout + proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=64)
    parser.add_argument("--samples", type=int, default=4 * 1024 * 1024)
    parser.add_argument("--inner", action="store_true")
    parser.add_argument("--folder")
    parser.add_argument("--parallel", action="store_true")
    args = parser.parse_args()
    if args.inner:
        inner(args.streams, args.samples, args.folder, args.parallel)
        return
    gib = args.streams * args.samples * 4 / 2**30
    print(f"{args.streams} streams x {args.samples:,} int32 samples ({gib:.2f} GiB)")
    implementations = [("ours", sys.executable, False)]
    if MPIO_PYTHON.exists():
        implementations.append(("ours, mpio", str(MPIO_PYTHON), True))
    if REFERENCE_PYTHON.exists():
        implementations.append(("reference 0.4.1", str(REFERENCE_PYTHON), False))
    results = {}
    for name, python, parallel in implementations:
        for ranks in (1, 2):
            results[name, ranks] = run(python, ranks, args, parallel)
    for name, _, _ in implementations:
        one, two = results[name, 1], results[name, 2]
        print(
            f"{name:16s} compress+write {one['write']:.2f} s -> {two['write']:.2f} s "
            f"({one['write'] / two['write']:.2f}x)   read+decompress {one['read']:.2f} s -> "
            f"{two['read']:.2f} s ({one['read'] / two['read']:.2f}x)   rank 0 peak growth at 2 "
            f"ranks {two['rank0_peak_growth'] / 2**20:.0f} MiB (own data "
            f"{two['rank0_data'] / 2**20:.0f} MiB + largest other rank's bytes "
            f"{two['largest_other_compressed'] / 2**20:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
