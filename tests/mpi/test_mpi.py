"""FlacArray split across MPI ranks. Run under MPI, for any number of ranks:

    mpiexec -n 3 python -m mpi4py -m pytest -q tests/mpi

(`-m mpi4py` aborts the whole job if one rank dies, so nothing hangs.)
Every test is collective: all ranks run it, and every error must be raised
on every rank.
"""

import contextlib
import os

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


#: Where distributed arrays are written and read: HDF5 through rank 0
#: (`hdf5`), HDF5 open with the mpio driver on every rank (`hdf5-mpio`,
#: parallel HDF5), and zarr (through rank 0).
KINDS = ["hdf5", "hdf5-mpio", "zarr"]


def need(kind):
    """Skips a kind this environment cannot run (the same on every rank).
    With FLACARRAY_REQUIRE_MPIO set (the parallel HDF5 CI stage), a
    missing mpio driver fails instead."""
    if kind == "zarr":
        pytest.importorskip("zarr")
    pytest.importorskip("h5py")
    if kind == "hdf5-mpio":
        from flacarray.hdf5_utils import have_hdf5_parallel

        if not have_hdf5_parallel():
            if os.environ.get("FLACARRAY_REQUIRE_MPIO"):
                pytest.fail("parallel HDF5 was expected, but h5py has no mpio driver")
            pytest.skip("h5py is not built with parallel HDF5")


@contextlib.contextmanager
def opened(path, kind, mode):
    """What each rank passes to the writers and readers for `path`: rank 0's
    h5py file (None elsewhere), the file open with mpio on every rank, or
    the zarr path on rank 0."""
    import h5py

    if kind == "hdf5-mpio":
        with h5py.File(path, mode, driver="mpio", comm=COMM) as hf:
            yield hf
    elif kind == "hdf5" and RANK == 0:
        with h5py.File(path, mode) as hf:
            yield hf
    elif kind == "zarr" and RANK == 0:
        yield path
    else:
        yield None


def write_one_process(fa, path, kind):
    """Writes `fa` the single-process way (rank 0 calls this)."""
    import h5py

    if kind.startswith("hdf5"):
        with h5py.File(path, "w") as hf:
            fa.write_hdf5(hf)
    else:
        fa.write_zarr(path)


def shared_folder(tmp_path_factory):
    """A temporary folder made by rank 0, known to every rank."""
    return COMM.bcast(str(tmp_path_factory.mktemp("mpi")) if RANK == 0 else None, root=0)


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
    # no rank holds a stream
    with pytest.raises(ValueError, match="no process holds any stream"):
        FlacArray.from_array(data[:0], mpi_comm=COMM)
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
    contents = {}
    if kind.startswith("hdf5"):
        import h5py

        with h5py.File(path, "r") as hf:
            for name, ds in hf.items():
                contents[name] = (ds[...].dtype.str, ds[...].tolist(), dict(ds.attrs))
            contents["/"] = {k: np.asarray(v).tolist() for k, v in hf.attrs.items()}
    else:
        import zarr

        grp = zarr.open_group(str(path), mode="r")
        for name in grp.array_keys():
            arr = grp[name]
            contents[name] = (arr[...].dtype.str, arr[...].tolist(), dict(arr.attrs))
        contents["/"] = dict(grp.attrs)
    return contents


def write(fa, target, kind, overwrite=False):
    if kind.startswith("hdf5"):
        fa.write_hdf5(target, overwrite=overwrite)
    else:
        fa.write_zarr(target, overwrite=overwrite)


def read(target, kind, **options):
    if kind.startswith("hdf5"):
        return FlacArray.read_hdf5(target, mpi_comm=COMM, **options)
    return FlacArray.read_zarr(target, mpi_comm=COMM, **options)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_distributed_write_equals_the_single_process_file(tmp_path_factory, kind, dtype):
    need(kind)
    folder = shared_folder(tmp_path_factory)
    data = global_data(dtype, (2 * SIZE + 1, 3, 1200))
    first, last = distribute_and_verify(COMM, data.shape[0])[RANK]
    quanta = np.linspace(1e-3, 1e-2, data.shape[0] * 3).reshape(data.shape[0], 3)
    quanta = quanta if dtype.startswith("float") else None
    local_quanta = None if quanta is None else quanta[first:last]
    fa = FlacArray.from_array(data[first:last], quanta=local_quanta, mpi_comm=COMM)
    distributed = f"{folder}/many.{kind}"
    single = f"{folder}/one.{kind}"
    with opened(distributed, kind, "w") as target:
        if kind.startswith("hdf5"):  # the path the kind names is the one taken
            from flacarray import _hdf5_group

            assert _hdf5_group.is_parallel(target, COMM) == (kind == "hdf5-mpio")
        write(fa, target, kind)
    if RANK == 0:
        write_one_process(FlacArray.from_array(data, quanta=quanta), single, kind)
        assert read_group_contents(distributed, kind) == read_group_contents(single, kind)
    COMM.barrier()


@pytest.mark.parametrize("kind", KINDS)
def test_bytes_move_in_pieces(tmp_path_factory, monkeypatch, kind):
    """Large transfers are cut into pieces (2 GiB and more cannot go in one
    MPI message or parallel HDF5 call): with tiny pieces, writes and reads
    still give the single process's file and values."""
    need(kind)
    from flacarray import io_common

    monkeypatch.setattr(io_common, "PIECE_BYTES", 777)
    folder = shared_folder(tmp_path_factory)
    data = global_data("int64", (SIZE + 2, 2, 3000))
    fa = FlacArray.from_array(my_part(data), mpi_comm=COMM)
    path = f"{folder}/pieces.{kind}"
    with opened(path, kind, "w") as target:
        write(fa, target, kind)
    with opened(path, kind, "r") as target:
        back = read(target, kind)
    np.testing.assert_array_equal(back.to_array(), my_part(data))
    if RANK == 0:
        write_one_process(FlacArray.from_array(data), f"{path}.1", kind)
        assert read_group_contents(path, kind) == read_group_contents(f"{path}.1", kind)
    COMM.barrier()


@pytest.mark.skipif(SIZE != 2, reason="one 2 GiB transfer, between two ranks")
def test_a_piece_over_2_gib_reaches_rank_0():
    from flacarray import io_mpi

    size = 2**31 + 4099
    marks = [0, 2**30 - 1, 2**30, 2**31 - 1, 2**31, size - 1]
    if RANK == 1:
        buffer = np.zeros(size, dtype=np.uint8)
        buffer[marks] = np.arange(1, len(marks) + 1, dtype=np.uint8)
        io_mpi.send_piece(COMM, (buffer, "tail"), 0)
        del buffer
    else:
        buffer, tail = io_mpi.receive_piece(COMM, 1)
        assert buffer.size == size and tail == "tail"
        assert buffer[marks].tolist() == list(range(1, len(marks) + 1))
        assert int(np.count_nonzero(buffer)) == len(marks)
        del buffer
    COMM.barrier()


@pytest.mark.parametrize("kind", KINDS)
def test_distributed_overwrite_replaces_only_a_flacarray_group(tmp_path_factory, kind):
    need(kind)
    folder = shared_folder(tmp_path_factory)
    path = f"{folder}/again.{kind}"
    first_data = global_data("int32", (SIZE + 1, 800), seed=1)
    second_data = global_data("float32", (SIZE + 2, 2, 500), seed=2)
    fa1 = FlacArray.from_array(my_part(first_data), mpi_comm=COMM)
    fa2 = FlacArray.from_array(my_part(second_data), quanta=1e-3, mpi_comm=COMM)
    with opened(path, kind, "w") as target:
        write(fa1, target, kind)
    mode = "r+" if kind.startswith("hdf5") else "r"
    with opened(path, kind, mode) as target:
        with pytest.raises(FileExistsError, match="overwrite=True"):
            write(fa2, target, kind)
        write(fa2, target, kind, overwrite=True)
    with opened(path, kind, "r") as target:
        back = read(target, kind)
    assert back.global_shape == second_data.shape and back.dtype == np.float32
    np.testing.assert_array_equal(back.to_array(), fa2.to_array())
    if RANK == 0:  # the same file as one process writing the second array
        write_one_process(FlacArray.from_array(second_data, quanta=1e-3), f"{path}.1", kind)
        assert read_group_contents(path, kind) == read_group_contents(f"{path}.1", kind)
    COMM.barrier()
    # a group that is not a flacarray group is never replaced
    if kind.startswith("hdf5"):
        if RANK == 0:
            import h5py

            with h5py.File(f"{folder}/other.h5", "w") as hf:
                hf.create_dataset("mine", data=np.arange(3))
        COMM.barrier()
        with opened(f"{folder}/other.h5", kind, "r+") as target:
            with pytest.raises(FileExistsError, match="not a flacarray group"):
                write(fa1, target, kind, overwrite=True)
        if RANK == 0:
            import h5py

            with h5py.File(f"{folder}/other.h5", "r") as hf:
                assert list(hf.keys()) == ["mine"]


def test_gathered_write_errors_reach_every_rank(tmp_path_factory):
    need("zarr")
    folder = shared_folder(tmp_path_factory)
    fa = FlacArray.from_array(global_data("int32", (SIZE, 500))[RANK : RANK + 1], mpi_comm=COMM)
    target = f"{folder}/taken.zarr"
    if RANK == 0:
        FlacArray.from_array(np.zeros((1, 10), np.int32)).write_zarr(target)
    COMM.barrier()
    with pytest.raises(FileExistsError, match="exists"):
        fa.write_zarr(target if RANK == 0 else None)
    with pytest.raises(ValueError, match="rank 0 must pass"):
        fa.write_hdf5(None)
    with pytest.raises(TypeError, match="h5py Group"):
        fa.write_hdf5(folder if RANK == 0 else None)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_distributed_read_gives_each_rank_its_range(tmp_path_factory, kind, dtype):
    need(kind)
    folder = shared_folder(tmp_path_factory)
    data = global_data(dtype, (SIZE + 2, 2, 900))
    path = f"{folder}/whole.{kind}"
    quanta = 1e-3 if dtype.startswith("float") else None
    if RANK == 0:
        write_one_process(FlacArray.from_array(data, quanta=quanta), path, kind)
    COMM.barrier()
    # an uneven user distribution: rank 0 takes three leading rows
    dist = distribute_and_verify(
        COMM, SIZE + 2, [(0, 3)] + [(r + 2, r + 3) for r in range(1, SIZE)]
    )
    with opened(path, kind, "r") as target:
        fa = read(target, kind, mpi_dist=dist)
    first, last = dist[RANK]
    assert fa.global_shape == data.shape and fa.mpi_dist == dist
    # exactly what one process reads from the same file
    expected = FlacArray.from_array(data, quanta=quanta).to_array()[first:last]
    np.testing.assert_array_equal(fa.to_array(), expected)
    if dtype.startswith("int"):
        np.testing.assert_array_equal(fa.to_array(), data[first:last])
    # stream_slice under MPI: each rank decodes a window of its streams
    window = fa.to_array(stream_slice=slice(100, 350))
    np.testing.assert_array_equal(window, expected[..., 100:350])


def test_distributed_read_errors_reach_every_rank(tmp_path_factory):
    need("zarr")
    folder = shared_folder(tmp_path_factory)
    with pytest.raises((FileNotFoundError, ValueError)):
        FlacArray.read_zarr(f"{folder}/missing.zarr" if RANK == 0 else None, mpi_comm=COMM)
    with pytest.raises(ValueError, match="rank 0 must pass"):
        FlacArray.read_hdf5(None, mpi_comm=COMM)
    with pytest.raises(TypeError, match="h5py Group"):
        FlacArray.read_hdf5(folder if RANK == 0 else None, mpi_comm=COMM)


def test_parallel_read_of_a_damaged_file_fails_on_every_rank(tmp_path_factory):
    need("hdf5-mpio")
    import h5py

    folder = shared_folder(tmp_path_factory)
    path = f"{folder}/damaged.h5"
    if RANK == 0:
        write_one_process(FlacArray.from_array(global_data("int32", (SIZE, 300))), path, "hdf5")
        with h5py.File(path, "r+") as hf:
            del hf["stream_bytes"]
    COMM.barrier()
    with opened(path, "hdf5-mpio", "r") as hf:
        with pytest.raises(Exception, match="stream_bytes"):
            FlacArray.read_hdf5(hf, mpi_comm=COMM)


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
    need("zarr")
    from flacarray.hdf5_utils import H5File, have_hdf5, have_hdf5_parallel
    from flacarray.zarr import ZarrGroup, have_zarr

    assert have_hdf5 and have_zarr
    folder = shared_folder(tmp_path_factory)
    data = global_data("int64", (SIZE + 1, 700))
    first, last = distribute_and_verify(COMM, SIZE + 1)[RANK]
    fa = FlacArray.from_array(data[first:last], mpi_comm=COMM)
    with H5File(f"{folder}/a.h5", "w", comm=COMM) as f:
        # every rank holds the file with parallel HDF5, else rank 0 only
        assert f.parallel == have_hdf5_parallel()
        assert (f.handle is None) == (RANK != 0 and not f.parallel)
        fa.write_hdf5(f.handle)
    with H5File(f"{folder}/b.h5", "w", comm=COMM, force_serial=True) as f:
        assert (f.handle is None) == (RANK != 0) and not f.parallel
        fa.write_hdf5(f.handle)
    if RANK == 0:
        assert read_group_contents(f"{folder}/a.h5", "hdf5") == read_group_contents(
            f"{folder}/b.h5", "hdf5"
        )
    # the reference's rule: a rank's part holding one stream is 1-D unless
    # no_flatten
    mine = data[first:last] if last - first != 1 else data[first]
    with H5File(f"{folder}/a.h5", "r", comm=COMM) as f:
        back = FlacArray.read_hdf5(f.handle, mpi_comm=COMM)
    np.testing.assert_array_equal(back.to_array(), mine)
    with H5File(f"{folder}/a.h5", "r", comm=COMM) as f:
        back = FlacArray.read_hdf5(f.handle, mpi_comm=COMM, no_flatten=True)
    np.testing.assert_array_equal(back.to_array(), data[first:last])
    with ZarrGroup(f"{folder}/a.zarr", "w", comm=COMM) as grp:
        fa.write_zarr(grp)
    with ZarrGroup(f"{folder}/a.zarr", "r", comm=COMM) as grp:
        back = FlacArray.read_zarr(grp, mpi_comm=COMM)
    np.testing.assert_array_equal(back.to_array(), mine)


@pytest.mark.parametrize("kind", KINDS)
def test_distributed_read_with_keep(tmp_path_factory, kind):
    """keep under MPI: each rank gets the kept streams of its range, as a
    (kept, samples) array (maybe empty), and keep_indices names them."""
    need(kind)
    import flacarray.hdf5
    import flacarray.zarr

    folder = shared_folder(tmp_path_factory)
    data = global_data("int32", (SIZE + 1, 2, 400))
    path = f"{folder}/whole.{kind}"
    if RANK == 0:
        write_one_process(FlacArray.from_array(data), path, kind)
    COMM.barrier()
    keep = np.zeros((SIZE + 1, 2), dtype=bool)
    keep[0, 1] = keep[-1, 0] = keep[-1, 1] = True  # rank 0 and the last rank keep some
    first, last = distribute_and_verify(COMM, SIZE + 1)[RANK]
    mine = [(i, j) for i in range(first, last) for j in range(2) if keep[i, j]]
    module = flacarray.hdf5 if kind.startswith("hdf5") else flacarray.zarr
    with opened(path, kind, "r") as target:
        out, indices = module.read_array(
            target, keep=keep, keep_indices=True, mpi_comm=COMM, no_flatten=True
        )
    assert indices == mine
    assert out.shape == (len(mine), 400)
    for row, (i, j) in enumerate(mine):
        np.testing.assert_array_equal(out[row], data[i, j])
    # without no_flatten, one kept stream comes back 1-D (the reference's rule)
    with opened(path, kind, "r") as target:
        out = module.read_array(target, keep=keep, mpi_comm=COMM)
    assert out.shape == ((400,) if len(mine) == 1 else (len(mine), 400))


def read_parquet_contents(path):
    """A Parquet file's rows and schema metadata, read by pyarrow."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    fields = [(f.name, str(f.type), f.metadata) for f in table.schema]
    return fields, table.to_pydict()


@pytest.mark.parametrize("dtype", DTYPES)
def test_parquet_write_through_rank_0_equals_the_single_process_file(tmp_path_factory, dtype):
    pytest.importorskip("pyarrow")
    folder = shared_folder(tmp_path_factory)
    data = global_data(dtype, (2 * SIZE + 1, 2, 1500))
    quanta = 1e-3 if dtype.startswith("float") else None
    fa = FlacArray.from_array(my_part(data), quanta=quanta, mpi_comm=COMM)
    path = f"{folder}/many.parquet"
    fa.write_parquet(path if RANK == 0 else None)
    if RANK == 0:
        FlacArray.from_array(data, quanta=quanta).write_parquet(f"{folder}/one.parquet")
        assert read_parquet_contents(path) == read_parquet_contents(f"{folder}/one.parquet")
    COMM.barrier()
    back = FlacArray.read_parquet(path if RANK == 0 else None, mpi_comm=COMM)
    assert back.global_shape == data.shape and back.mpi_dist == fa.mpi_dist
    np.testing.assert_array_equal(back.to_array(), fa.to_array())
    # an existing file: refused on every rank unless overwrite
    with pytest.raises(FileExistsError, match="overwrite=True"):
        fa.write_parquet(path if RANK == 0 else None)
    half = FlacArray.from_array(my_part(data)[..., :700], quanta=quanta, mpi_comm=COMM)
    half.write_parquet(path if RANK == 0 else None, overwrite=True)
    again = FlacArray.read_parquet(path if RANK == 0 else None, mpi_comm=COMM)
    assert again.global_shape == data.shape[:-1] + (700,)


def test_parquet_rank_0_never_holds_more_than_one_other_rank(tmp_path_factory, monkeypatch):
    """Rank 0 asks for the next rank's part only once it wrote the last."""
    from flacarray import _core, io_mpi

    folder = shared_folder(tmp_path_factory)
    data = global_data("int32", (SIZE, 2, 2000))
    fa = FlacArray.from_array(my_part(data), mpi_comm=COMM)
    received = []
    taken = []
    real_receive = io_mpi.receive_piece

    def receive(comm, source):
        received.append(source)
        assert len(received) - len(taken) <= 1
        return real_receive(comm, source)

    real_write = _core.write_parquet_parts

    def write(path, column, whole, next_part, overwrite=False):
        def counted():
            part = next_part()
            taken.append(part)
            return part

        return real_write(path, column, whole, counted, overwrite)

    monkeypatch.setattr(io_mpi, "receive_piece", receive)
    monkeypatch.setattr(_core, "write_parquet_parts", write)
    fa.write_parquet(f"{folder}/a.parquet" if RANK == 0 else None)
    if RANK == 0:
        assert received == list(range(1, SIZE))


def test_parquet_read_with_keep_and_errors(tmp_path_factory):
    import flacarray.parquet

    folder = shared_folder(tmp_path_factory)
    data = global_data("int64", (SIZE + 1, 2, 400))
    path = f"{folder}/whole.parquet"
    if RANK == 0:
        FlacArray.from_array(data).write_parquet(path)
    COMM.barrier()
    keep = np.zeros((SIZE + 1, 2), dtype=bool)
    keep[0, 1] = keep[-1, 0] = True
    first, last = distribute_and_verify(COMM, SIZE + 1)[RANK]
    mine = [(i, j) for i in range(first, last) for j in range(2) if keep[i, j]]
    out, indices = flacarray.parquet.read_array(
        path if RANK == 0 else None,
        keep=keep,
        keep_indices=True,
        mpi_comm=COMM,
        stream_slice=slice(10, 20),
        no_flatten=True,
    )
    assert indices == mine
    assert out.shape == (len(mine), 10)
    for row, (i, j) in enumerate(mine):
        np.testing.assert_array_equal(out[row], data[i, j, 10:20])
    # errors reach every rank
    with pytest.raises(ValueError, match="rank 0 must pass"):
        FlacArray.read_parquet(None, mpi_comm=COMM)
    with pytest.raises((FileNotFoundError, OSError, ValueError)):
        FlacArray.read_parquet(f"{folder}/missing.parquet" if RANK == 0 else None, mpi_comm=COMM)
    with pytest.raises(ValueError, match="keep has shape"):
        FlacArray.read_parquet(path if RANK == 0 else None, keep=keep[:1], mpi_comm=COMM)
    # a failed write leaves nothing behind
    fa = FlacArray.from_array(my_part(data), mpi_comm=COMM)
    with pytest.raises(ValueError, match="rank 0 must pass"):
        fa.write_parquet(None)
    COMM.barrier()
    if RANK == 0:
        import os

        assert sorted(os.listdir(folder)) == ["whole.parquet"]


@pytest.mark.parametrize("kind", KINDS + ["parquet"])
def test_ranks_without_streams(tmp_path_factory, kind):
    """The last rank holds no streams (as the reference allows): it gets an
    empty part, the file is the one a single process writes, and a read
    may give a rank nothing."""
    if kind != "parquet":
        need(kind)
    folder = shared_folder(tmp_path_factory)
    data = global_data("float64", (2 * SIZE, 3, 300))
    dist = [(2 * r, 2 * r + 2) for r in range(SIZE)]
    if SIZE > 1:
        dist = dist[:-2] + [(dist[-2][0], dist[-1][1]), (2 * SIZE, 2 * SIZE)]
    part = data[dist[RANK][0] : dist[RANK][1]]
    fa = FlacArray.from_array(part, quanta=1e-2, mpi_comm=COMM)
    assert fa.shape == part.shape and fa.global_shape == data.shape
    whole = FlacArray.from_array(data, quanta=1e-2)
    suffix = {"parquet": "parquet", "zarr": "zarr"}.get(kind, "h5")
    path = f"{folder}/empty-rank.{suffix}"
    if kind == "parquet":
        fa.write_parquet(path if RANK == 0 else None)
        back = FlacArray.read_parquet(path if RANK == 0 else None, mpi_comm=COMM, mpi_dist=dist)
    else:
        with opened(path, kind, "w") as target:
            fa.write_hdf5(target) if "hdf5" in kind else fa.write_zarr(target)
        with opened(path, kind, "r") as source:
            if "hdf5" in kind:
                back = FlacArray.read_hdf5(source, mpi_comm=COMM, mpi_dist=dist)
            else:
                back = FlacArray.read_zarr(source, mpi_comm=COMM, mpi_dist=dist)
    np.testing.assert_array_equal(back.to_array(), whole.to_array()[dist[RANK][0] : dist[RANK][1]])
    if RANK == 0:
        if kind == "parquet":
            single = FlacArray.read_parquet(path)
        elif "hdf5" in kind:
            import h5py

            with h5py.File(path, "r") as hf:
                single = FlacArray.read_hdf5(hf)
        else:
            single = FlacArray.read_zarr(path)
        assert single == whole
