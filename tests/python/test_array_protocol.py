"""A FlacArray behaves like the array-likes numpy, Dask and multiprocessing
expect (issue 22, item 12): pickling with the compressed bytes out of band,
copies, `ndim`/`size`/`__array__`, a lazy `dask.array.from_array` that
decodes only each chunk's window, numpy scalars for full integer keys, and
numpy's own exception types for keys numpy refuses."""

import copy
import itertools
import pickle
import time

import numpy as np
import pytest

from flacarray import FlacArray


def _floats():
    data = np.cumsum(np.random.default_rng(5).normal(0, 0.1, (3, 4, 6000)), axis=-1)
    return data, FlacArray.from_array(data, quanta=1e-4)


def test_pickle_protocol_5_ships_the_bytes_out_of_band():
    _, fa = _floats()
    buffers = []
    payload = pickle.dumps(fa, protocol=5, buffer_callback=buffers.append)
    assert len(payload) < 2000, "the compressed bytes travel outside the pickle"
    assert max(b.raw().nbytes for b in buffers) == fa.nbytes
    back = pickle.loads(payload, buffers=buffers)
    assert back == fa and back.level == fa.level
    np.testing.assert_array_equal(back.to_array(), fa.to_array())
    # in band, every protocol
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(fa, protocol=protocol)) == fa


def test_copies():
    _, fa = _floats()
    deep = copy.deepcopy(fa)
    assert deep == fa and deep.compressed is not fa.compressed
    assert not np.shares_memory(deep.compressed, fa.compressed)
    shallow = copy.copy(fa)
    assert shallow == fa


def test_array_attributes_and_np_asarray():
    data, fa = _floats()
    assert (fa.ndim, fa.size) == (data.ndim, data.size)
    out = np.asarray(fa)
    np.testing.assert_array_equal(out, fa.to_array())
    assert np.asarray(fa, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="cannot avoid a copy"):
        np.asarray(fa, copy=False)
    # as fast as to_array (not element by element): 100k samples
    ints = FlacArray.from_array(np.arange(100_000, dtype=np.int32).reshape(1, -1))
    start = time.perf_counter()
    np.asarray(ints)
    assert time.perf_counter() - start < 0.5


def test_dask_from_array_reads_only_each_chunks_window(monkeypatch):
    da = pytest.importorskip("dask.array")
    data, fa = _floats()
    whole, part_expected = fa.to_array(), fa[1:3, :, 1600:1700]
    lazy = da.from_array(fa, chunks=(1, 4, 1500))
    windows = []
    original = FlacArray._decode

    def recording(self, streams, first, last, threads):
        windows.append((first, last))
        return original(self, streams, first, last, threads)

    monkeypatch.setattr(FlacArray, "_decode", recording)
    np.testing.assert_array_equal(lazy.compute(scheduler="sync"), whole)
    assert sorted(set(windows)) == [(a, a + 1500) for a in range(0, 6000, 1500)]
    windows.clear()
    part = lazy[1:3, :, 1600:1700].compute(scheduler="sync")
    np.testing.assert_array_equal(part, part_expected)
    assert set(windows) == {(1600, 1700)}
    # the graph pickles (what distributed and multiprocessing need)
    assert pickle.loads(pickle.dumps(lazy)).compute(scheduler="sync").shape == data.shape


def test_full_integer_keys_give_numpy_scalars():
    values = np.arange(60, dtype=np.int32).reshape(2, 3, 10)
    fa = FlacArray.from_array(values)
    for key in [(0, 0, 0), (1, -1, 9), (np.int64(1), 2, np.array(3))]:
        assert type(fa[key]) is type(values[key]) and fa[key] == values[key]
    assert isinstance(fa[0, 0, 0, ...], np.ndarray)  # numpy: a 0-d array
    one = FlacArray.from_array(np.arange(10, dtype=np.int64))
    assert type(one[3]) is np.int64 and one[3] == 3


def test_keys_numpy_refuses_raise_numpys_exception():
    values = np.arange(60, dtype=np.int32).reshape(2, 3, 10)
    fa = FlacArray.from_array(values)
    options = [slice(None, None, 0), 0, np.array([True, False]), Ellipsis, None, -7, [0, 1]]
    for n in range(1, 5):
        for key in itertools.product(options, repeat=n):
            try:
                values[key]
            except (IndexError, ValueError, TypeError) as err:
                with pytest.raises(type(err)):
                    fa[key]
    with pytest.raises(ValueError, match="step cannot be zero"):
        fa[0, 0, ::0]
