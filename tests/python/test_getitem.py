"""FlacArray[key] equals to_array()[key] for numpy-style keys."""

import numpy as np
import pytest

from conftest import make_data
from flacarray import FlacArray


@pytest.fixture(scope="module")
def arrays():
    data = make_data("int32", (4, 3, 5, 300), seed=7)
    return data, FlacArray.from_array(data)


def random_leading_item(rng, size):
    kind = rng.integers(0, 8)
    if kind == 0:
        return int(rng.integers(-size, size))
    if kind == 1:
        a, b = sorted(rng.integers(-size - 2, size + 2, size=2))
        step = int(rng.choice([1, 1, 2, -1, 3]))
        return slice(int(a), int(b), step) if step > 0 else slice(int(b), int(a), step)
    if kind == 2:
        return slice(None)
    if kind == 3:
        return rng.integers(-size, size, size=int(rng.integers(1, 4)))
    if kind == 4:
        return rng.random(size) < 0.5
    if kind == 5:
        return [int(x) for x in rng.integers(0, size, size=2)]
    if kind == 6:
        return np.int64(rng.integers(0, size))
    return slice(int(rng.integers(0, size)), None)


def random_sample_item(rng, n):
    kind = rng.integers(0, 7)
    if kind == 5:
        a, b = rng.integers(-n - 5, n + 5, size=2)
        return slice(int(a), int(b), int(rng.choice([2, 3, 7, -1, -2, -5])))
    if kind == 6:
        return np.int32(rng.integers(-n, n))
    if kind == 0:
        return int(rng.integers(-n, n))
    if kind == 1:
        a, b = rng.integers(-n - 5, n + 5, size=2)
        return slice(int(a), int(b))
    if kind == 2:
        return slice(None)
    if kind == 3:
        return slice(int(rng.integers(0, n)), None, 1)
    return slice(None, int(rng.integers(-n, n)))


def random_key(rng, shape):
    lead = [random_leading_item(rng, s) for s in shape[:-1]]
    form = rng.integers(0, 5)
    if form == 0:
        return tuple(lead) + (random_sample_item(rng, shape[-1]),)
    if form == 1:
        return tuple(lead[: int(rng.integers(1, len(lead) + 1))])
    if form == 2:
        return (Ellipsis, random_sample_item(rng, shape[-1]))
    if form == 3:
        return lead[0]
    k = int(rng.integers(0, len(lead)))
    return tuple(lead[:k]) + (Ellipsis,) + (random_sample_item(rng, shape[-1]),)


EXTRAS = (None, True, False, np.True_, np.bool_(False), np.newaxis)


def with_extras(rng, key):
    """Inserts None and boolean scalars (which index no axis) at random."""
    key = list(key) if isinstance(key, tuple) else [key]
    for _ in range(int(rng.integers(1, 3))):
        key.insert(int(rng.integers(0, len(key) + 1)), EXTRAS[int(rng.integers(0, len(EXTRAS)))])
    return tuple(key)


def check_like_numpy(data, fa, key) -> bool:
    """`fa[key]` equals `data[key]`, or raises IndexError where numpy does
    (or where numpy would apply an array to the sample axis, which we
    refuse). Returns whether values were compared."""
    try:
        expected = data[key]
    except IndexError:
        with pytest.raises(IndexError):
            fa[key]
        return False
    if _last_axis_is_array(data.ndim, key if isinstance(key, tuple) else (key,)):
        with pytest.raises(IndexError, match="sample"):
            fa[key]
        return False
    got = fa[key]
    assert got.shape == expected.shape, key
    np.testing.assert_array_equal(got, expected, err_msg=repr(key))
    return True


def test_keys_with_newaxis_and_bool_scalars_match_numpy(arrays):
    data, fa = arrays
    rng = np.random.default_rng(99)
    keys = (with_extras(rng, random_key(rng, data.shape)) for _ in range(4000))
    compared = sum(check_like_numpy(data, fa, key) for key in keys)
    assert compared > 2000


def _last_axis_is_array(ndim, key):
    """True when numpy would apply an array to the sample axis (which we
    refuse with IndexError; numpy accepts it)."""
    from flacarray.selection import _axes_used

    used = [_axes_used(k) for k in key]
    if sum(used) < ndim:
        return False
    at = max(i for i, n in enumerate(used) if n > 0)
    return np.ndim(key[at]) > 0


def test_bool_scalar_and_newaxis_examples():
    a = np.arange(45, dtype=np.int32).reshape(5, 9)
    fa = FlacArray.from_array(a)
    for key in [
        (1, True),
        (True, 2),
        (1, False),
        (None,),
        (None, 2),
        (1, None),
        (Ellipsis, None),
        (slice(1, 3), None, slice(2, 8, 3)),
        (None, [1, 3], None, 4),
        ([1, 3], True, slice(None, None, -2)),
    ]:
        np.testing.assert_array_equal(fa[key], a[key], err_msg=repr(key))
        assert fa[key].shape == a[key].shape, key
    b = FlacArray.from_array(np.arange(10, dtype=np.int64))
    assert b[True].shape == (1, 10)
    np.testing.assert_array_equal(b[True], np.arange(10)[True])
    assert b[False].shape == (0, 10)


def test_many_random_keys_match_numpy(arrays):
    data, fa = arrays
    rng = np.random.default_rng(2024)
    keys = (random_key(rng, data.shape) for _ in range(1500))
    checked = sum(check_like_numpy(data, fa, key) for key in keys)
    assert checked >= 500


@pytest.mark.parametrize(
    "key",
    [
        (1, slice(None), slice(200, 300)),
        (slice(1, 2), slice(None), slice(200, 300)),
        ([0, 2], slice(None), 1, 5),
        (slice(0, 2), [0, 1], slice(None), 7),
        ([0, 1], slice(None), [1, 2], -1),
        (Ellipsis, 0),
        (Ellipsis, slice(-5, None)),
        (np.array([[0, 1], [2, 3]]),),
        (np.ones((4, 3), dtype=bool),),
        (slice(None, None, -1), 2, slice(None, None, 2), slice(10, 20)),
        (Ellipsis, slice(None, None, 7)),
        (0, 1, 2, slice(290, 3, -13)),
        (Ellipsis, slice(None, None, -1)),
    ],
)
def test_specific_keys(arrays, key):
    data, fa = arrays
    np.testing.assert_array_equal(fa[key], data[key])
    assert fa[key].shape == data[key].shape


def test_tutorial_slice_shape():
    data = make_data("float64", (4, 3, 1000))
    fa = FlacArray.from_array(data)
    assert fa[1:2, :, 200:300].shape == (1, 3, 100)


def test_single_stream_indexing():
    data = np.arange(1000, dtype=np.int64) * 3
    fa = FlacArray.from_array(data)
    np.testing.assert_array_equal(fa[10:20], data[10:20])
    assert fa[-1] == data[-1]
    np.testing.assert_array_equal(fa[...], data)


def test_unsupported_keys(arrays):
    _, fa = arrays
    with pytest.raises(IndexError, match="sample"):
        fa[0, 0, 0, [1, 2]]
    with pytest.raises(IndexError, match="out of bounds"):
        fa[0, 0, 0, 300]
    with pytest.raises(IndexError):
        fa[4]
    with pytest.raises(IndexError, match="too many indices"):
        fa[0, 0, 0, 0, 0]
    with pytest.raises(IndexError):
        fa[0, 0, 0, 1.5]
    with pytest.raises(IndexError):
        fa[0.0]
    with pytest.raises(IndexError, match="single ellipsis"):
        fa[..., 0, ...]
