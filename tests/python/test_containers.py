"""HDF5 and zarr groups: round trips, keep masks, partial reads, bad files."""

import h5py
import numpy as np
import pytest
import zarr

import flacarray._hdf5_group
import flacarray._zarr_group
import flacarray.hdf5
import flacarray.zarr
from conftest import make_data
from flacarray import CorruptDataError, FlacArray

DTYPES = ["int32", "int64", "float32", "float64"]
SHAPES = [(3000,), (1, 50), (5, 2000), (2, 3, 1500)]


class H5:
    module = flacarray.hdf5

    def __init__(self, tmp_path):
        self.path = tmp_path / "data.h5"

    def writer(self):
        return h5py.File(self.path, "w")

    def reader(self):
        return h5py.File(self.path, "r")


class Zarr:
    module = flacarray.zarr

    def __init__(self, tmp_path):
        self.path = tmp_path / "data.zarr"

    def writer(self):
        return _NoClose(zarr.open_group(self.path, mode="w"))

    def reader(self):
        return _NoClose(zarr.open_group(self.path, mode="r"))


class _NoClose:
    """zarr 3 groups are not context managers; give tests one shape of code."""

    def __init__(self, grp):
        self.grp = grp

    def __enter__(self):
        return self.grp

    def __exit__(self, *exc):
        return False


@pytest.fixture(params=[H5, Zarr], ids=["hdf5", "zarr"])
def store(request, tmp_path):
    return request.param(tmp_path)


def write(store, fa):
    with store.writer() as grp:
        if store.module is flacarray.hdf5:
            fa.write_hdf5(grp)
        else:
            fa.write_zarr(grp)


def read(store, keep=None):
    with store.reader() as grp:
        if store.module is flacarray.hdf5:
            return FlacArray.read_hdf5(grp, keep=keep)
        return FlacArray.read_zarr(grp, keep=keep)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_round_trip(store, dtype, shape):
    data = make_data(dtype, shape)
    fa = FlacArray.from_array(data)
    write(store, fa)
    back = read(store)
    assert back == fa
    assert back.shape == shape and back.dtype == data.dtype
    np.testing.assert_array_equal(back.to_array(), fa.to_array())


@pytest.mark.parametrize("dtype", DTYPES)
def test_keep_and_stream_slice(store, dtype):
    data = make_data(dtype, (3, 4, 2500), seed=3)
    fa = FlacArray.from_array(data)
    write(store, fa)
    keep = np.zeros((3, 4), dtype=bool)
    keep[1, 0] = keep[1, -1] = keep[2, 2] = True
    sub = read(store, keep=keep)
    assert sub.shape == (3, 2500)
    np.testing.assert_array_equal(sub.to_array(), fa.to_array()[keep])
    with store.reader() as grp:
        out = store.module.read_array(grp, keep=keep, stream_slice=slice(200, 300, 1))
        np.testing.assert_array_equal(out, fa.to_array()[keep][:, 200:300])
        out, idx = store.module.read_array(grp, keep=keep, keep_indices=True)
        assert idx == [(1, 0), (1, 3), (2, 2)]
        full = store.module.read_array(grp)
        np.testing.assert_array_equal(full, fa.to_array())
        assert store.module.read_array(grp, keep_indices=True)[1] is None


def test_write_array_read_array(store):
    data = make_data("float64", (4, 3, 1000))
    with store.writer() as grp:
        store.module.write_array(data, grp, quanta=1e-4)
    with store.reader() as grp:
        out = store.module.read_array(grp)
        sub = store.module.read_array(grp, stream_slice=slice(-50, None))
    assert np.abs(out - data).max() <= 0.5e-4 * (1 + 1e-9)
    np.testing.assert_array_equal(sub, out[..., -50:])


def test_single_stream_keep(store):
    data = make_data("int64", (4000,))
    write(store, FlacArray.from_array(data))
    np.testing.assert_array_equal(read(store).to_array(), data)
    sub = read(store, keep=np.array([True]))
    np.testing.assert_array_equal(sub.to_array(), data[np.newaxis])


def test_keep_reads_only_kept_bytes(store, monkeypatch):
    data = make_data("int32", (8, 20000))
    fa = FlacArray.from_array(data)
    write(store, fa)
    reads = []
    groups = {flacarray.hdf5: flacarray._hdf5_group, flacarray.zarr: flacarray._zarr_group}
    backend = groups[store.module].BACKEND
    original = type(backend).read

    def counting_read(self, dataset, selection=slice(None)):
        out = original(self, dataset, selection)
        if str(getattr(dataset, "name", "")).endswith("compressed"):
            reads.append(out.size)
        return out

    monkeypatch.setattr(type(backend), "read", counting_read)
    keep = np.zeros(8, dtype=bool)
    keep[[1, 2, 6]] = True
    sub = read(store, keep=keep)
    nbytes = fa.stream_nbytes
    assert sum(reads) == int(nbytes[1] + nbytes[2] + nbytes[6])
    assert len(reads) == 2, "adjacent streams 1 and 2 are read in one piece"
    np.testing.assert_array_equal(sub.to_array(), data[keep])


def test_format_attributes(store):
    write(store, FlacArray.from_array(make_data("float64", (2, 100))))
    with store.reader() as grp:
        assert str(grp.attrs["flacarray_format_version"]) == "1"
        assert str(grp.attrs["flac_channels"]) == "2"
        assert str(grp.attrs["flacarray_dtype"]) == "float64"
        assert int(grp["stream_starts"].attrs["stream_size"]) == 100
        assert grp["stream_gains"].dtype == np.float64
        assert grp["compressed"].dtype == np.uint8


@pytest.mark.parametrize("missing", ["compressed", "stream_starts", "stream_bytes", "stream_gains"])
def test_missing_dataset(tmp_path, missing):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as hf:
        FlacArray.from_array(make_data("float32", (2, 100))).write_hdf5(hf)
        del hf[missing]
    with h5py.File(path, "r") as hf, pytest.raises(CorruptDataError, match=missing):
        FlacArray.read_hdf5(hf)


def test_missing_attributes_and_bad_version(tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as hf:
        FlacArray.from_array(make_data("int32", (2, 100))).write_hdf5(hf)
        del hf.attrs["flacarray_format_version"]
    with h5py.File(path, "r") as hf:
        with pytest.raises(CorruptDataError, match="flacarray_format_version"):
            FlacArray.read_hdf5(hf)
    with h5py.File(path, "a") as hf:
        hf.attrs["flacarray_format_version"] = "7"
    with h5py.File(path, "r") as hf:
        with pytest.raises(ValueError, match="flacarray format version 7 is not supported"):
            FlacArray.read_hdf5(hf)
    with h5py.File(path, "a") as hf:
        hf.attrs["flacarray_format_version"] = "1"
        del hf["stream_starts"].attrs["stream_size"]
    with h5py.File(path, "r") as hf:
        with pytest.raises(CorruptDataError, match="stream_size"):
            FlacArray.read_hdf5(hf)


def test_corrupt_file_contents(tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as hf:
        FlacArray.from_array(make_data("int32", (2, 5000))).write_hdf5(hf)
    with h5py.File(path, "a") as hf:
        original = int(hf["stream_bytes"][1])
        hf["stream_bytes"][1] = 10**9
    with h5py.File(path, "r") as hf:
        with pytest.raises(CorruptDataError, match="claims bytes .* but 'compressed' holds"):
            FlacArray.read_hdf5(hf)
    with h5py.File(path, "a") as hf:
        hf["stream_bytes"][1] = original
        data = hf["compressed"][...]
        data[100:400] = 0
        hf["compressed"][...] = data
    with h5py.File(path, "r") as hf:
        fa = FlacArray.read_hdf5(hf)
        with pytest.raises(CorruptDataError, match="stream 0"):
            fa.to_array()


def test_wrong_group_types(tmp_path):
    fa = FlacArray.from_array(make_data("int32", (2, 10)))
    with pytest.raises(TypeError, match="h5py Group"):
        fa.write_hdf5({})
    with pytest.raises(TypeError, match="zarr Group"):
        fa.write_zarr({})
    with pytest.raises(TypeError, match="h5py Group"):
        flacarray.hdf5.read_array("file.h5")
