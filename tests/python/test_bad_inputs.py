"""Every class of bad input, with the exact exception type and message."""

import h5py
import numpy as np
import pytest

from conftest import make_data
from flacarray import CorruptDataError, FlacArray

FLOATS = make_data("float64", (3, 4, 200))
INTS = make_data("int32", (3, 4, 200))
GOOD = FlacArray.from_array(INTS)


def with_nan():
    data = FLOATS.copy()
    data[2, 1, 7] = np.nan
    return data


def with_inf():
    data = FLOATS.astype(np.float32)
    data[0, 0, 0] = -np.inf
    return data


def corrupt_bytes():
    broken = GOOD.compressed.copy()
    broken[GOOD.stream_starts[1, 1] + 30 : GOOD.stream_starts[1, 1] + 90] ^= 0xA5
    return FlacArray(
        dtype="int32",
        shape=GOOD.shape,
        compressed=broken,
        stream_starts=GOOD.stream_starts,
        stream_nbytes=GOOD.stream_nbytes,
    )


def truncated_stream():
    nbytes = GOOD.stream_nbytes.copy()
    nbytes[0, 0] = 20
    return FlacArray(
        dtype="int32",
        shape=GOOD.shape,
        compressed=GOOD.compressed,
        stream_starts=GOOD.stream_starts,
        stream_nbytes=nbytes,
    )


def outside(starts_shift=0, nbytes_extra=0):
    return lambda: FlacArray(
        dtype="int32",
        shape=GOOD.shape,
        compressed=GOOD.compressed,
        stream_starts=GOOD.stream_starts + starts_shift,
        stream_nbytes=GOOD.stream_nbytes + nbytes_extra,
    )


def hostile_length():
    return FlacArray(
        dtype="int32",
        shape=(3, 4, 2**40),
        compressed=GOOD.compressed,
        stream_starts=GOOD.stream_starts,
        stream_nbytes=GOOD.stream_nbytes,
    )


MATRIX = [
    # (name, call, exception, message substring)
    (
        "dtype int8",
        lambda: FlacArray.from_array(INTS.astype(np.int8)),
        TypeError,
        "unsupported dtype 'int8'",
    ),
    (
        "dtype complex",
        lambda: FlacArray.from_array(FLOATS.astype(complex)),
        TypeError,
        "unsupported dtype 'complex128'",
    ),
    (
        "dtype object",
        lambda: FlacArray.from_array(np.array([[1, "a"]], dtype=object)),
        TypeError,
        "unsupported dtype 'object'",
    ),
    (
        "NaN",
        lambda: FlacArray.from_array(with_nan()),
        ValueError,
        "stream 9: cannot quantize non-finite value NaN at sample 7",
    ),
    (
        "Inf",
        lambda: FlacArray.from_array(with_inf()),
        ValueError,
        "stream 0: cannot quantize non-finite value -inf at sample 0",
    ),
    (
        "empty array",
        lambda: FlacArray.from_array(np.zeros((0, 10), np.int32)),
        ValueError,
        "cannot compress an empty array",
    ),
    (
        "0-length streams",
        lambda: FlacArray.from_array(np.zeros((3, 0), np.float32)),
        ValueError,
        "cannot compress an empty array (shape (3, 0))",
    ),
    ("0-d array", lambda: FlacArray.from_array(np.int32(5)), ValueError, "0-dimensional"),
    (
        "keep shape",
        lambda: GOOD.to_array(keep=np.ones((4, 3), bool)),
        ValueError,
        "keep has shape (4, 3); expected the leading shape (3, 4)",
    ),
    (
        "keep dtype",
        lambda: GOOD.to_array(keep=np.ones((3, 4), np.int8)),
        ValueError,
        "keep must be a boolean array, got dtype int8",
    ),
    (
        "stream_slice step",
        lambda: GOOD.to_array(stream_slice=slice(0, 10, 2)),
        ValueError,
        "stream_slice must have step 1, got step 2",
    ),
    (
        "stream_slice type",
        lambda: GOOD.to_array(stream_slice=[0, 10]),
        TypeError,
        "stream_slice must be a slice",
    ),
    (
        "sample index out of range",
        lambda: GOOD[0, 0, 200],
        IndexError,
        "index 200 is out of bounds for axis 2 with size 200",
    ),
    (
        "quanta shape",
        lambda: FlacArray.from_array(FLOATS, quanta=np.ones((4, 3))),
        ValueError,
        "quanta must be a scalar or have the leading shape (3, 4), got shape (4, 3)",
    ),
    (
        "quanta zero",
        lambda: FlacArray.from_array(FLOATS, quanta=0),
        ValueError,
        "quanta must be a positive finite number, got 0",
    ),
    (
        "quanta and precision",
        lambda: FlacArray.from_array(FLOATS, quanta=1, precision=1),
        ValueError,
        "give quanta or precision, not both",
    ),
    (
        "negative level",
        lambda: FlacArray.from_array(INTS, level=-1),
        ValueError,
        "compression level must be between 0 and 8, got -1",
    ),
    (
        "level 9",
        lambda: FlacArray.from_array(INTS, level=9),
        ValueError,
        "compression level must be between 0 and 8, got 9",
    ),
    ("corrupt bytes", lambda: corrupt_bytes().to_array(), CorruptDataError, "stream 5"),
    ("truncated stream", lambda: truncated_stream().to_array(), CorruptDataError, "stream 0"),
    ("starts outside", outside(starts_shift=10**6), CorruptDataError, "claims bytes"),
    ("nbytes outside", outside(nbytes_extra=10**9), CorruptDataError, "claims bytes"),
    (
        "negative starts",
        outside(starts_shift=-(10**6)),
        CorruptDataError,
        "stream_starts holds a negative value",
    ),
    (
        "hostile stream length",
        hostile_length,
        CorruptDataError,
        "claims 1099511627776 samples in only",
    ),
]


@pytest.mark.parametrize("name,call,exc,message", MATRIX, ids=[m[0] for m in MATRIX])
def test_bad_input(name, call, exc, message):
    with pytest.raises(exc) as info:
        call()
    assert message in str(info.value), f"{name}: {info.value}"


@pytest.fixture
def h5_path(tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as hf:
        FlacArray.from_array(FLOATS).write_hdf5(hf)
    return path


@pytest.mark.parametrize(
    "edit,exc,message",
    [
        (
            lambda hf: hf.__delitem__("compressed"),
            CorruptDataError,
            "group has no 'compressed' array: not a flacarray group",
        ),
        (
            lambda hf: hf.__delitem__("stream_gains"),
            CorruptDataError,
            "only one of 'stream_offsets' and 'stream_gains'",
        ),
        (
            lambda hf: hf.attrs.__delitem__("flacarray_format_version"),
            CorruptDataError,
            "has no 'flacarray_format_version' attribute",
        ),
        (
            lambda hf: hf["stream_starts"].attrs.__delitem__("stream_size"),
            CorruptDataError,
            "'stream_starts' has no 'stream_size' attribute",
        ),
        (
            lambda hf: hf.attrs.__setitem__("flacarray_format_version", "2"),
            ValueError,
            "flacarray format version 2 is not supported",
        ),
        (
            lambda hf: hf.attrs.__setitem__("flacarray_format_version", "x"),
            CorruptDataError,
            """attribute 'flacarray_format_version' holds "x", not a version number""",
        ),
    ],
)
def test_bad_files(h5_path, edit, exc, message):
    with h5py.File(h5_path, "a") as hf:
        edit(hf)
    with h5py.File(h5_path, "r") as hf, pytest.raises(exc) as info:
        FlacArray.read_hdf5(hf)
    assert message in str(info.value)
