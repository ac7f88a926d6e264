"""One list of damaged groups, each written to HDF5 (read with h5py) and to
zarr (read with zarr-python and, from the path, by the Rust core through
zarrs): the three readers accept and reject exactly the same groups, since
all of them ask the core's container rules."""

import h5py
import numpy as np
import pytest
import zarr

from flacarray import CorruptDataError, FlacArray

RNG = np.random.default_rng(11)
FLOATS = FlacArray.from_array(RNG.normal(0, 5, (2, 3, 700)), quanta=1e-3)
INTS = FlacArray.from_array(np.round(RNG.normal(0, 300, (3, 700))).astype(np.int32))


def replace(name, values):
    return ("replace", name, values)


# (label, array, damage): attribute changes and array replacements.
CASES = [
    ("clean float64", FLOATS, []),
    ("clean int32", INTS, []),
    ("no version", FLOATS, [("del_attr", "flacarray_format_version")]),
    ("version 7", FLOATS, [("attr", "flacarray_format_version", "7")]),
    ("version text", FLOATS, [("attr", "flacarray_format_version", "abc")]),
    ("no dtype", FLOATS, [("del_attr", "flacarray_dtype")]),
    ("dtype int16", INTS, [("attr", "flacarray_dtype", "int16")]),
    ("dtype int64 over int32", INTS, [("attr", "flacarray_dtype", "int64")]),
    ("dtype float32 over float64", FLOATS, [("attr", "flacarray_dtype", "float32")]),
    ("no shape", FLOATS, [("del_attr", "flacarray_shape")]),
    ("shape too long", FLOATS, [("attr", "flacarray_shape", [2, 3, 900])]),
    ("shape too short", FLOATS, [("attr", "flacarray_shape", [2, 3, 600])]),
    ("shape other streams", FLOATS, [("attr", "flacarray_shape", [3, 2, 700])]),
    ("negative shape", INTS, [("attr", "flacarray_shape", [3, -700])]),
    ("channels 3", FLOATS, [("attr", "flac_channels", "3")]),
    ("channels 1 on 64-bit", FLOATS, [("attr", "flac_channels", "1")]),
    ("no channels", FLOATS, [("del_attr", "flac_channels")]),
    ("level junk", INTS, [("attr", "flacarray_level", "high")]),
    ("no stream_size", FLOATS, [("del_starts_attr", "stream_size")]),
    ("stream_size wrong", FLOATS, [("starts_attr", "stream_size", 701)]),
    ("no compressed", INTS, [("delete", "compressed")]),
    ("no stream_starts", INTS, [("delete", "stream_starts")]),
    ("no stream_bytes", INTS, [("delete", "stream_bytes")]),
    ("no offsets", FLOATS, [("delete", "stream_offsets")]),
    ("no gains", FLOATS, [("delete", "stream_gains")]),
    ("offsets on ints", INTS, [replace("stream_offsets", np.zeros(3))]),
    ("compressed cut", INTS, [("cut", "compressed", 200)]),
    ("compressed as int32", INTS, [("retype", "compressed", np.int32)]),
    ("starts negative", INTS, [replace("stream_starts", np.array([0, -5, 10]))]),
    ("starts beyond", INTS, [replace("stream_starts", np.array([0, 10, 10**9]))]),
    ("starts float", INTS, [("retype", "stream_starts", np.float64)]),
    ("starts shape", FLOATS, [("reshape", "stream_starts", (6,))]),
    ("bytes zero", INTS, [replace("stream_bytes", np.zeros(3, np.int64))]),
    ("bytes huge", INTS, [replace("stream_bytes", np.array([2**40, 1, 1]))]),
    ("gains nan", FLOATS, [("fill", "stream_gains", np.nan)]),
    ("gains zero", FLOATS, [("fill", "stream_gains", 0.0)]),
    ("offsets inf", FLOATS, [("fill", "stream_offsets", np.inf)]),
    ("gains shape", FLOATS, [("reshape", "stream_gains", (3, 2))]),
    ("flipped bytes", INTS, [("flip", "compressed", 300)]),
]


def damaged_values(group, op, name, arg):
    if op == "replace":
        return np.asarray(arg)
    old = np.asarray(group[name][...])
    if op == "cut":
        return old[:arg]
    if op == "retype":
        return old.astype(arg)
    if op == "reshape":
        return old.reshape(arg)
    if op == "fill":
        return np.full_like(old, arg)
    if op == "flip":
        new = old.copy()
        new[arg] ^= 0x5A
        return new
    raise AssertionError(op)


def apply(group, damage, create):
    for op, name, *rest in damage:
        arg = rest[0] if rest else None
        if op == "attr":
            group.attrs[name] = arg
        elif op == "del_attr":
            del group.attrs[name]
        elif op == "starts_attr":
            group["stream_starts"].attrs[name] = arg
        elif op == "del_starts_attr":
            del group["stream_starts"].attrs[name]
        elif op == "delete":
            del group[name]
        else:
            starts_attrs = dict(group["stream_starts"].attrs) if name == "stream_starts" else {}
            values = damaged_values(group, op, name, arg)
            if name in group:
                del group[name]
            created = create(group, name, values)
            created.attrs.update(starts_attrs)


def verdict(read):
    try:
        values = read()
    except (CorruptDataError, ValueError, TypeError) as err:
        return type(err).__name__
    return ("read", values.dtype.name, values.shape, values.tobytes())


@pytest.mark.parametrize("label,fa,damage", CASES, ids=[c[0] for c in CASES])
def test_three_readers_same_verdict(tmp_path, label, fa, damage):
    h5_path = tmp_path / "g.h5"
    with h5py.File(h5_path, "w") as hf:
        fa.write_hdf5(hf)
        apply(hf, damage, lambda g, n, v: g.create_dataset(n, data=v))
    zarr_path = tmp_path / "g.zarr"
    grp = zarr.open_group(str(zarr_path), mode="w")
    fa.write_zarr(grp)
    apply(grp, damage, lambda g, n, v: g.create_array(n, data=v))

    def read_h5():
        with h5py.File(h5_path, "r") as hf:
            return FlacArray.read_hdf5(hf).to_array()

    verdicts = {
        "h5py": verdict(read_h5),
        "zarr-python": verdict(
            lambda: FlacArray.read_zarr(zarr.open_group(str(zarr_path), mode="r")).to_array()
        ),
        "zarrs": verdict(lambda: FlacArray.read_zarr(zarr_path).to_array()),
    }
    assert len(set(verdicts.values())) == 1, {
        k: v if isinstance(v, str) else v[:3] for k, v in verdicts.items()
    }
    if not damage:
        assert verdicts["h5py"][3] == fa.to_array().tobytes()
