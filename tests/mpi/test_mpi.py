"""FlacArray split across MPI ranks. Run under MPI, for any number of ranks:

    mpiexec -n 3 python -m mpi4py -m pytest -q tests/mpi

(`-m mpi4py` aborts the whole job if one rank dies, so nothing hangs.)
Every test is collective: all ranks run it, and every error must be raised
on every rank.
"""

import numpy as np
import pytest

mpi = pytest.importorskip("flacarray.mpi")
if not mpi.use_mpi:
    pytest.skip("mpi4py is not available", allow_module_level=True)

from flacarray import FlacArray  # noqa: E402
from flacarray.mpi import distribute_and_verify, global_array_properties  # noqa: E402

COMM = mpi.MPI.COMM_WORLD
RANK, SIZE = COMM.rank, COMM.size
DTYPES = ["int32", "int64", "float32", "float64"]


def global_data(dtype, shape, seed=5):
    """The same global array on every rank."""
    rng = np.random.default_rng(seed)
    t = np.arange(shape[-1])
    values = 1000 * np.sin(t / 300) + rng.normal(0, 30, shape)
    return values.astype(dtype) if dtype.startswith("float") else np.round(values).astype(dtype)


def my_part(data, dist=None):
    first, last = (dist or distribute_and_verify(COMM, data.shape[0]))[RANK]
    return data[first:last]


def write_one_process(fa, path, kind):
    """Writes `fa` the single-process way (rank 0 calls this)."""
    import h5py

    if kind == "hdf5":
        with h5py.File(path, "w") as hf:
            fa.write_hdf5(hf)
    else:
        fa.write_zarr(path)


def gathered_bytes(fa):
    """Every rank's compressed bytes, in rank order (on every rank)."""
    return b"".join(COMM.allgather(fa.compressed.tobytes()))


@pytest.mark.parametrize("dtype", DTYPES)
def test_uneven_split_round_trips_and_matches_one_process(dtype):
    data = global_data(dtype, (7, 3000))
    local = my_part(data)
    fa = FlacArray.from_array(local, mpi_comm=COMM)
    assert fa.global_shape == (7, 3000)
    assert fa.shape == local.shape
    assert fa.mpi_dist == distribute_and_verify(COMM, 7)
    out = fa.to_array()
    single = FlacArray.from_array(data)
    if dtype.startswith("int"):
        np.testing.assert_array_equal(out, local)
    else:
        first, last = fa.mpi_dist[RANK]
        np.testing.assert_array_equal(out, single.to_array()[first:last])
    # the split changes nothing: the bytes are the single process's
    assert gathered_bytes(fa) == single.compressed.tobytes()
    assert fa.global_nbytes == single.nbytes
    assert f"Rank {RANK:04d}" in repr(fa)


def test_three_d_leading_shape_and_per_stream_quanta():
    data = global_data("float64", (2 * SIZE + 1, 3, 2000))
    quanta = np.linspace(1e-3, 1e-2, data.shape[0] * 3).reshape(data.shape[0], 3)
    dist = distribute_and_verify(COMM, data.shape[0])
    first, last = dist[RANK]
    fa = FlacArray.from_array(data[first:last], quanta=quanta[first:last], mpi_comm=COMM)
    assert fa.global_shape == data.shape
    err = np.abs(fa.to_array() - data[first:last])
    assert np.all(err <= quanta[first:last, :, None] / 2 + 1e-12)
    # keep and stream_slice apply to the local part
    keep = np.zeros(fa.leading_shape, dtype=bool)
    keep[0, 1] = True
    part = fa.to_array(keep=keep, stream_slice=slice(100, 200))
    np.testing.assert_allclose(part[0], data[first, 1, 100:200], atol=quanta[first, 1] / 2)


def test_one_d_parts_are_one_stream_each():
    data = global_data("int32", (SIZE, 1500))
    fa = FlacArray.from_array(data[RANK], mpi_comm=COMM)
    assert fa.global_shape == (SIZE, 1500)
    assert fa.mpi_dist == [(r, r + 1) for r in range(SIZE)]
    np.testing.assert_array_equal(fa.to_array(), data[RANK])


def test_user_distribution_is_checked():
    n = SIZE + 3
    dist = [(0, 4)] + [(3 + r, 4 + r) for r in range(1, SIZE)] if SIZE > 1 else [(0, n)]
    assert distribute_and_verify(COMM, n, dist) == dist
    with pytest.raises(ValueError, match="contiguous|covers|ranges"):
        distribute_and_verify(COMM, n, [(0, n)] * SIZE if SIZE > 1 else [(0, n - 1)])
    with pytest.raises(ValueError, match="cannot distribute"):
        distribute_and_verify(COMM, SIZE - 1)


def test_errors_are_raised_on_every_rank():
    data = global_data("float64", (SIZE, 1000))
    # one rank's trailing dimension differs
    local = data[RANK : RANK + 1, : 1000 - (RANK == SIZE - 1) * (SIZE > 1)]
    if SIZE > 1:
        with pytest.raises(ValueError, match="trailing dimensions"):
            FlacArray.from_array(local, mpi_comm=COMM)
    # one rank's data holds a NaN: every rank learns which
    bad = data[RANK : RANK + 1].copy()
    if RANK == SIZE - 1:
        bad[0, 10] = np.nan
    with pytest.raises(ValueError, match=f"process {SIZE - 1}|NaN"):
        FlacArray.from_array(bad, mpi_comm=COMM)
    # one rank holds no streams
    empty = data[RANK : RANK + (0 if RANK == 0 else 1)]
    with pytest.raises(ValueError, match="process 0 holds no streams"):
        FlacArray.from_array(empty, mpi_comm=COMM)
    # mixed dtypes
    mixed = data[RANK : RANK + 1].astype("float32" if RANK == 0 else "float64")
    if SIZE > 1:
        with pytest.raises(ValueError, match="different dtypes"):
            FlacArray.from_array(mixed, mpi_comm=COMM)


def test_global_properties_without_a_communicator():
    props = global_array_properties((4, 10), "int32", None)
    assert props == {"shape": (4, 10), "dtype": np.dtype("int32"), "dist": [(0, 4)]}
    assert global_array_properties((10,), "int32", None)["shape"] == (1, 10)


def read_group_contents(path, kind):
    """Every dataset and attribute of a written group, for comparison."""
    import h5py
    import zarr

    contents = {}
    if kind == "hdf5":
        with h5py.File(path, "r") as hf:
            for name, ds in hf.items():
                contents[name] = (ds[...].dtype.str, ds[...].tolist(), dict(ds.attrs))
            contents["/"] = {k: np.asarray(v).tolist() for k, v in hf.attrs.items()}
    else:
        grp = zarr.open_group(str(path), mode="r")
        for name in grp.array_keys():
            arr = grp[name]
            contents[name] = (arr[...].dtype.str, arr[...].tolist(), dict(arr.attrs))
        contents["/"] = dict(grp.attrs)
    return contents


@pytest.mark.parametrize("kind", ["hdf5", "zarr"])
@pytest.mark.parametrize("dtype", ["int32", "float64"])
def test_gathered_write_equals_the_single_process_file(tmp_path_factory, kind, dtype):
    import h5py

    folder = COMM.bcast(str(tmp_path_factory.mktemp("mpi")) if RANK == 0 else None, root=0)
    data = global_data(dtype, (2 * SIZE + 1, 3, 1200))
    first, last = distribute_and_verify(COMM, data.shape[0])[RANK]
    fa = FlacArray.from_array(data[first:last], mpi_comm=COMM)
    distributed = f"{folder}/many.{kind}"
    single = f"{folder}/one.{kind}"
    if kind == "hdf5":
        if RANK == 0:
            with h5py.File(distributed, "w") as hf:
                fa.write_hdf5(hf)
        else:
            fa.write_hdf5(None)
    else:
        fa.write_zarr(distributed if RANK == 0 else None)
    if RANK == 0:
        write_one_process(FlacArray.from_array(data), single, kind)
        assert read_group_contents(distributed, kind) == read_group_contents(single, kind)
    COMM.barrier()


def test_gathered_write_errors_reach_every_rank(tmp_path_factory):
    folder = COMM.bcast(str(tmp_path_factory.mktemp("mpi")) if RANK == 0 else None, root=0)
    fa = FlacArray.from_array(global_data("int32", (SIZE, 500))[RANK : RANK + 1], mpi_comm=COMM)
    target = f"{folder}/taken.zarr"
    if RANK == 0:
        FlacArray.from_array(np.zeros((1, 10), np.int32)).write_zarr(target)
    COMM.barrier()
    with pytest.raises(FileExistsError, match="exists"):
        fa.write_zarr(target if RANK == 0 else None)
    with pytest.raises(ValueError, match="rank 0 must pass"):
        fa.write_hdf5(None)


@pytest.mark.parametrize("kind", ["hdf5", "zarr"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_distributed_read_gives_each_rank_its_range(tmp_path_factory, kind, dtype):
    import h5py

    folder = COMM.bcast(str(tmp_path_factory.mktemp("mpi")) if RANK == 0 else None, root=0)
    data = global_data(dtype, (SIZE + 2, 2, 900))
    path = f"{folder}/whole.{kind}"
    if RANK == 0:
        quanta = 1e-3 if dtype.startswith("float") else None
        write_one_process(FlacArray.from_array(data, quanta=quanta), path, kind)
    COMM.barrier()
    # an uneven user distribution: rank 0 takes three leading rows
    dist = distribute_and_verify(
        COMM, SIZE + 2, [(0, 3)] + [(r + 2, r + 3) for r in range(1, SIZE)]
    )
    if kind == "hdf5":
        if RANK == 0:
            with h5py.File(path, "r") as hf:
                fa = FlacArray.read_hdf5(hf, mpi_comm=COMM, mpi_dist=dist)
        else:
            fa = FlacArray.read_hdf5(None, mpi_comm=COMM, mpi_dist=dist)
    else:
        fa = FlacArray.read_zarr(path if RANK == 0 else None, mpi_comm=COMM, mpi_dist=dist)
    first, last = dist[RANK]
    assert fa.global_shape == data.shape and fa.mpi_dist == dist
    # exactly what one process reads from the same file
    quanta = 1e-3 if dtype.startswith("float") else None
    expected = FlacArray.from_array(data, quanta=quanta).to_array()[first:last]
    np.testing.assert_array_equal(fa.to_array(), expected)
    if dtype.startswith("int"):
        np.testing.assert_array_equal(fa.to_array(), data[first:last])


def test_distributed_read_errors_reach_every_rank(tmp_path_factory):
    folder = COMM.bcast(str(tmp_path_factory.mktemp("mpi")) if RANK == 0 else None, root=0)
    with pytest.raises((FileNotFoundError, ValueError)):
        FlacArray.read_zarr(f"{folder}/missing.zarr" if RANK == 0 else None, mpi_comm=COMM)
    with pytest.raises(ValueError, match="rank 0 must pass"):
        FlacArray.read_hdf5(None, mpi_comm=COMM)


def test_readme_example_runs_on_two_ranks(tmp_path):
    """The README's MPI example, as a user runs it (rank 0 of this job
    launches it; the other ranks just wait)."""
    import os
    import subprocess
    import sys

    if RANK == 0:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "MPI", "HYDRA"))}
        proc = subprocess.run(
            ["mpiexec", "-n", "2", sys.executable, "examples/mpi_example.py", str(tmp_path)],
            capture_output=True,
            text=True,
            cwd=root,
            env=env,
            timeout=300,
            check=False,
        )
        result = (proc.returncode, proc.stdout + proc.stderr)
    else:
        result = None
    code, output = COMM.bcast(result, root=0)
    assert code == 0, output
    assert "rank 1: detectors 5..9 back" in output


def test_fake_data_parts_stack_to_the_global_array():
    from flacarray import demo

    local = demo.create_fake_data((2, 3, 500), comm=COMM)
    whole = demo.create_fake_data((2 * SIZE, 3, 500))
    np.testing.assert_array_equal(local, whole[2 * RANK : 2 * RANK + 2])
    one_d = demo.create_fake_data((500,), dtype=np.int32, sigma=None, comm=COMM)
    assert one_d.shape == (500,)
    whole_1d = demo.create_fake_data((SIZE, 500), sigma=None, dtype=np.int32)
    np.testing.assert_array_equal(one_d, whole_1d[RANK])


def test_reference_style_file_helpers(tmp_path_factory):
    """Code written for the reference's MPI API: H5File / ZarrGroup give
    rank 0 the open group and None elsewhere."""
    from flacarray.hdf5_utils import H5File, have_hdf5
    from flacarray.zarr import ZarrGroup, have_zarr

    assert have_hdf5 and have_zarr
    folder = COMM.bcast(str(tmp_path_factory.mktemp("mpi")) if RANK == 0 else None, root=0)
    data = global_data("int64", (SIZE + 1, 700))
    first, last = distribute_and_verify(COMM, SIZE + 1)[RANK]
    fa = FlacArray.from_array(data[first:last], mpi_comm=COMM)
    with H5File(f"{folder}/a.h5", "w", comm=COMM) as f:
        assert (f.handle is None) == (RANK != 0)
        fa.write_hdf5(f.handle)
    with H5File(f"{folder}/a.h5", "r", comm=COMM) as f:
        back = FlacArray.read_hdf5(f.handle, mpi_comm=COMM)
    np.testing.assert_array_equal(back.to_array(), data[first:last])
    with ZarrGroup(f"{folder}/a.zarr", "w", comm=COMM) as grp:
        fa.write_zarr(grp)
    with ZarrGroup(f"{folder}/a.zarr", "r", comm=COMM) as grp:
        back = FlacArray.read_zarr(grp, mpi_comm=COMM)
    np.testing.assert_array_equal(back.to_array(), data[first:last])


@pytest.mark.parametrize("kind", ["hdf5", "zarr"])
def test_distributed_read_with_keep(tmp_path_factory, kind):
    """keep under MPI: each rank gets the kept streams of its range, as a
    (kept, samples) array (maybe empty), and keep_indices names them."""
    import h5py

    import flacarray.hdf5
    import flacarray.zarr

    folder = COMM.bcast(str(tmp_path_factory.mktemp("mpi")) if RANK == 0 else None, root=0)
    data = global_data("int32", (SIZE + 1, 2, 400))
    path = f"{folder}/whole.{kind}"
    if RANK == 0:
        write_one_process(FlacArray.from_array(data), path, kind)
    COMM.barrier()
    keep = np.zeros((SIZE + 1, 2), dtype=bool)
    keep[0, 1] = keep[-1, 0] = keep[-1, 1] = True  # rank 0 and the last rank keep some
    first, last = distribute_and_verify(COMM, SIZE + 1)[RANK]
    mine = [(i, j) for i in range(first, last) for j in range(2) if keep[i, j]]
    if kind == "hdf5":
        if RANK == 0:
            with h5py.File(path, "r") as hf:
                out, indices = flacarray.hdf5.read_array(
                    hf, keep=keep, keep_indices=True, mpi_comm=COMM
                )
        else:
            out, indices = flacarray.hdf5.read_array(
                None, keep=keep, keep_indices=True, mpi_comm=COMM
            )
    else:
        out, indices = flacarray.zarr.read_array(
            path if RANK == 0 else None, keep=keep, keep_indices=True, mpi_comm=COMM
        )
    assert indices == mine
    assert out.shape == (len(mine), 400)
    for row, (i, j) in enumerate(mine):
        np.testing.assert_array_equal(out[row], data[i, j])
