"""FlacArray: construction, round trips, properties, errors, to_array."""

import numpy as np
import pytest

import flacarray
from conftest import make_data
from flacarray import CorruptDataError, FlacArray, demo

DTYPES = ["int32", "int64", "float32", "float64"]
SHAPES = [(1,), (7,), (5000,), (3, 1), (2, 4096), (3, 2, 5000), (2, 2, 2, 300)]


def max_error_ok(fa, original, restored):
    """Float error is at most half a step (+ float32 restore rounding)."""
    gains = fa.stream_gains.astype(np.float64).reshape(original.shape[:-1] + (1,))
    err = np.abs(restored.astype(np.float64) - original.astype(np.float64))
    allowed = 0.5 / gains
    if original.dtype == np.float32:
        peak = np.abs(original).max(axis=-1, keepdims=True).astype(np.float64)
        allowed = allowed + 2 * np.finfo(np.float32).eps * peak
    else:
        allowed = allowed * (1 + 1e-9) + 4 * np.finfo(np.float64).eps * np.abs(original)
    return bool(np.all(err <= allowed))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_round_trip(dtype, shape):
    data = make_data(dtype, shape, seed=len(shape))
    fa = FlacArray.from_array(data)
    out = fa.to_array()
    assert out.dtype == data.dtype
    assert out.shape == data.shape
    if data.dtype.kind == "i":
        np.testing.assert_array_equal(out, data)
        assert fa.stream_offsets is None and fa.stream_gains is None
    else:
        assert max_error_ok(fa, data, out)
        assert fa.stream_offsets.dtype == data.dtype
        assert fa.stream_gains.shape == (shape[:-1] or (1,))


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_full_range_integers(dtype):
    data = demo.create_fake_data((3, 2000), sigma=None, dtype=dtype)
    assert data.ravel()[0] == np.iinfo(dtype).min and data.ravel()[1] == np.iinfo(dtype).max
    np.testing.assert_array_equal(FlacArray.from_array(data).to_array(), data)


def test_non_contiguous_input():
    base = make_data("float64", (6, 4000))
    for view in (base[::2], base[:, ::3], base.T.copy().T, np.asfortranarray(base)):
        fa = FlacArray.from_array(view)
        assert fa.shape == view.shape
        assert max_error_ok(fa, view, fa.to_array())
    ints = make_data("int32", (4, 3, 100))
    view = ints.transpose(1, 0, 2)
    np.testing.assert_array_equal(FlacArray.from_array(view).to_array(), view)


def test_quanta_and_precision():
    data = make_data("float64", (3, 4, 2000))
    fa = FlacArray.from_array(data, quanta=1e-3)
    np.testing.assert_allclose(1 / fa.stream_gains, 1e-3)
    assert np.abs(fa.to_array() - data).max() <= 0.5e-3 * (1 + 1e-9)
    per = np.full((3, 4), 1e-2)
    per[1, 2] = 1e-5
    fa = FlacArray.from_array(data, quanta=per)
    np.testing.assert_allclose(1 / fa.stream_gains, per)
    fa = FlacArray.from_array(data, precision=3)
    expected = np.std(data, axis=-1) / 1e3
    np.testing.assert_allclose(1 / fa.stream_gains, expected, rtol=1e-9)
    fa = FlacArray.from_array(data, precision=np.full((3, 4), 2))
    np.testing.assert_allclose(1 / fa.stream_gains, np.std(data, axis=-1) / 1e2, rtol=1e-9)


def test_levels_trade_size():
    data = make_data("int32", (4, 20000))
    sizes = [FlacArray.from_array(data, level=lv).nbytes for lv in (0, 5, 8)]
    assert sizes[0] > sizes[1] >= sizes[2]
    for lv in (0, 8):
        np.testing.assert_array_equal(FlacArray.from_array(data, level=lv).to_array(), data)


def test_single_thread_identical():
    data = make_data("float32", (6, 30000))
    assert FlacArray.from_array(data, use_threads=False) == FlacArray.from_array(data)
    fa = FlacArray.from_array(data)
    np.testing.assert_array_equal(fa.to_array(use_threads=False), fa.to_array())


def test_repr_and_properties(fake3d):
    fa = FlacArray.from_array(fake3d)
    assert repr(fa) == f"<FlacArray float64 shape=(4, 3, 10000) bytes={fa.nbytes}>"
    assert fa.nbytes <= 447080, "the seed tutorial printed 447080 bytes"
    assert fa.shape == (4, 3, 10000)
    assert fa.dtype == np.float64 and fa.typestr == "float64"
    assert fa.leading_shape == (4, 3)
    assert fa.stream_size == 10000
    assert fa.nstreams == 12
    assert fa.compressed.dtype == np.uint8 and fa.compressed.size == fa.nbytes
    assert fa.stream_starts.shape == (4, 3) and fa.stream_nbytes.shape == (4, 3)
    assert fa.stream_starts[0, 0] == 0
    assert int(fa.stream_nbytes.sum()) == fa.nbytes
    np.testing.assert_array_equal(
        fa.stream_starts.ravel()[1:], np.cumsum(fa.stream_nbytes.ravel())[:-1]
    )
    assert len(fa) == 4
    one = FlacArray.from_array(np.arange(10, dtype=np.int64))
    assert repr(one) == f"<FlacArray int64 shape=(10,) bytes={one.nbytes}>"
    assert one.stream_starts.shape == (1,) and one.leading_shape == ()


def test_streams_are_standard_flac(fake3d):
    fa = FlacArray.from_array(fake3d)
    for start in fa.stream_starts.ravel():
        assert bytes(fa.compressed[start : start + 4]) == b"fLaC"


def test_equality_and_copy():
    data = make_data("float32", (2, 3, 500))
    a = FlacArray.from_array(data)
    b = FlacArray.from_array(data)
    assert a == b and not (a != b)
    c = FlacArray(a)
    assert c == a and c.compressed is not a.compressed
    assert a != FlacArray.from_array(data[:, :, :400])
    assert a != FlacArray.from_array(data.astype(np.float64))
    assert (a == "text") is False
    with pytest.raises(TypeError, match="read-only"):
        a[0] = 1


def test_to_array_keep_and_slices():
    data = make_data("int32", (3, 4, 1000))
    fa = FlacArray.from_array(data)
    keep = np.zeros((3, 4), dtype=bool)
    keep[0, 1] = keep[2, 3] = keep[1, 0] = True
    out = fa.to_array(keep=keep)
    np.testing.assert_array_equal(out, data[keep])
    out, idx = fa.to_array(keep=keep, keep_indices=True)
    assert idx == [(0, 1), (1, 0), (2, 3)]
    out = fa.to_array(keep=keep, stream_slice=slice(100, 250))
    np.testing.assert_array_equal(out, data[keep][:, 100:250])
    slices = (slice(-10, None), slice(None, -990), slice(990, 5000), slice(500, 100), slice(0, 0))
    for slc in slices:
        np.testing.assert_array_equal(fa.to_array(stream_slice=slc), data[..., slc])
    arr, none = fa.to_array(keep_indices=True)
    assert none is None
    np.testing.assert_array_equal(arr, data)
    assert fa.to_array(keep=np.zeros((3, 4), dtype=bool)).shape == (0, 1000)


def test_to_array_bad_arguments():
    fa = FlacArray.from_array(make_data("int32", (3, 4, 100)))
    with pytest.raises(ValueError, match="keep has shape"):
        fa.to_array(keep=np.ones((4, 3), dtype=bool))
    with pytest.raises(ValueError, match="keep must be a boolean array"):
        fa.to_array(keep=np.ones((3, 4), dtype=int))
    with pytest.raises(ValueError, match="step 1"):
        fa.to_array(stream_slice=slice(0, 10, 2))
    with pytest.raises(TypeError, match="stream_slice must be a slice"):
        fa.to_array(stream_slice=(0, 10))


@pytest.mark.parametrize(
    "dtype",
    ["int8", "uint16", "uint8", "uint32", "uint64", "float16", "complex64", "bool", "object", "U3"],
)
def test_unsupported_dtypes(dtype):
    data = np.zeros((2, 10), dtype=dtype)
    with pytest.raises(TypeError, match=f"unsupported dtype '{np.dtype(dtype)}'"):
        FlacArray.from_array(data)


def test_bad_inputs():
    nan_message = "stream 1: cannot quantize non-finite value NaN at sample 3"
    with pytest.raises(ValueError, match=nan_message):
        data = np.zeros((2, 5))
        data[1, 3] = np.nan
        FlacArray.from_array(data)
    with pytest.raises(ValueError, match="non-finite value inf"):
        FlacArray.from_array(np.array([1.0, np.inf], dtype=np.float32))
    with pytest.raises(ValueError, match="empty array"):
        FlacArray.from_array(np.zeros((3, 0), dtype=np.int32))
    with pytest.raises(ValueError, match="empty array"):
        FlacArray.from_array(np.zeros((0, 5), dtype=np.float64))
    with pytest.raises(ValueError, match="0-dimensional"):
        FlacArray.from_array(np.float64(3.0))
    data = make_data("float64", (3, 4, 50))
    with pytest.raises(ValueError, match="not both"):
        FlacArray.from_array(data, quanta=0.1, precision=2)
    shape_message = r"quanta must be a scalar or have the leading shape \(3, 4\)"
    with pytest.raises(ValueError, match=shape_message):
        FlacArray.from_array(data, quanta=np.ones(4))
    with pytest.raises(ValueError, match="precision must be a scalar"):
        FlacArray.from_array(data, precision=np.ones((4, 3)))
    with pytest.raises(ValueError, match="quanta must be a positive finite number"):
        FlacArray.from_array(data, quanta=0.0)
    with pytest.raises(ValueError, match="quanta must be a positive finite number, got -1"):
        FlacArray.from_array(data, quanta=-1.0)
    with pytest.raises(ValueError, match="apply to float data only"):
        FlacArray.from_array(make_data("int32", (2, 10)), quanta=1.0)
    for level in (-1, 9):
        with pytest.raises(ValueError, match="compression level must be between 0 and 8"):
            FlacArray.from_array(data, level=level)
    with pytest.raises(TypeError, match="level must be an integer"):
        FlacArray.from_array(data, level=2.5)
    with pytest.raises(ValueError, match="more than 32 bits"):
        FlacArray.from_array(np.array([0, 1e6], dtype=np.float32), quanta=1e-6)


def test_inconsistent_parts_raise_corrupt():
    fa = FlacArray.from_array(make_data("int32", (2, 100)))
    with pytest.raises(CorruptDataError, match="claims bytes"):
        FlacArray(
            dtype="int32",
            shape=(2, 100),
            compressed=fa.compressed[:10],
            stream_starts=fa.stream_starts,
            stream_nbytes=fa.stream_nbytes,
        )
    with pytest.raises(CorruptDataError, match="negative"):
        FlacArray(
            dtype="int32",
            shape=(2, 100),
            compressed=fa.compressed,
            stream_starts=[-1, 0],
            stream_nbytes=fa.stream_nbytes,
        )
    with pytest.raises(CorruptDataError, match="claims 1099511627776 samples"):
        FlacArray(
            dtype="int32",
            shape=(2, 2**40),
            compressed=fa.compressed,
            stream_starts=fa.stream_starts,
            stream_nbytes=fa.stream_nbytes,
        )
    broken = fa.compressed.copy()
    broken[60:200] ^= 0x5A
    bad = FlacArray(
        dtype="int32",
        shape=(2, 100),
        compressed=broken,
        stream_starts=fa.stream_starts,
        stream_nbytes=fa.stream_nbytes,
    )
    with pytest.raises(CorruptDataError, match="stream 0"):
        bad.to_array()


def test_version_and_exports():
    assert isinstance(flacarray.__version__, str)
    assert issubclass(CorruptDataError, ValueError)


def test_gil_released_during_work():
    """Another Python thread keeps running while the core (de)compresses."""
    import threading

    data = make_data("float64", (16, 400_000), seed=5)
    progress = {"ticks": 0}
    result = {}

    def work():
        fa = FlacArray.from_array(data, quanta=1e-3)
        result["out"] = fa.to_array()

    worker = threading.Thread(target=work)
    worker.start()
    while worker.is_alive():
        progress["ticks"] += 1
    worker.join()
    assert result["out"].shape == data.shape
    # With the GIL held for the whole call this loop would barely run.
    assert progress["ticks"] > 10_000


@pytest.mark.parametrize("dtype", DTYPES)
def test_unaligned_and_fortran_input_is_compressed(dtype):
    """Arrays over unaligned memory (np.frombuffer at an odd offset, buffers
    unpickled by Dask) or in Fortran order compress like any other."""
    data = make_data(dtype, (3, 700))
    raw = bytearray(data.nbytes + 1)
    unaligned = np.frombuffer(raw, dtype=dtype, offset=1, count=data.size).reshape(data.shape)
    unaligned[...] = data
    assert not unaligned.flags["ALIGNED"]
    expected = FlacArray.from_array(data)
    assert FlacArray.from_array(unaligned) == expected
    assert FlacArray.from_array(np.asfortranarray(data)) == expected
