"""Random damage to every dataset and attribute of HDF5 groups, zarr groups
(read by zarr-python and by the Rust core) and Parquet files, for every
dtype: each read gives the original values or CorruptDataError/ValueError,
never a crash, a PanicException, or memory far beyond a clean read's.

Offsets and gains are only damaged into unusable values here (NaN,
infinities, zero, negative, denormal gains, wrong shapes or types), and
stream positions into random values; plausible changes to them (another
stream's start, a slightly different offset) are caught by the digest, and
tested in test_integrity.py and by tests/damage/campaign.py.
"""

import json
import textwrap

from child import run_child

SCRIPT = textwrap.dedent(
    r"""
    import json, os, shutil, sys, tempfile
    import numpy as np, h5py, zarr, pyarrow as pa, pyarrow.parquet as pq
    from flacarray import FlacArray, CorruptDataError

    mode, seed = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(seed)
    tmp = tempfile.mkdtemp()
    JUNK = [-1, 0, 2**62, "abc", [5000], 5000.5, "", 1e300, True, [1, 2], "2", 7]
    outcome = {"equal": 0, "error": 0, "runs": 0, "messages": set()}
    damage = []  # what the current file suffered, for failure messages

    def junk():
        return JUNK[int(rng.integers(0, len(JUNK)))]

    def bad_ints(shape):
        choice = int(rng.integers(0, 4))
        values = np.zeros(shape, np.int64)
        if choice == 0:
            return rng.integers(-(2**62), 2**62, size=shape)
        if choice == 1:
            return values - int(rng.integers(1, 10**6))
        if choice == 2:
            return values + np.iinfo(np.int64).max - int(rng.integers(0, 100))
        return rng.integers(0, 5000, size=shape)

    def bad_floats(shape, name):
        # offsets are unusable only when not finite; gains also when not a
        # positive normal number
        pick = [np.nan, np.inf, -np.inf]
        if "gain" in name:
            pick += [0.0, -1.0, 1e-320, -3e38]
        return np.full(shape, pick[int(rng.integers(0, len(pick)))])

    def damage_arrays(name, old, dtype_kind):
        # returns the new content of array `name`, or None to delete it
        kind = int(rng.integers(0, 5))
        if kind == 0:
            return None
        if kind == 1:  # wrong length
            flat = old.reshape(-1)
            return flat[: max(0, flat.size // 2)] if rng.random() < 0.5 else np.concatenate(
                [flat, flat[:1]]
            )
        if kind == 2:  # wrong type
            return old.astype(np.float64) + 0.5 if old.dtype.kind in "iu" else old.astype(np.int8)
        if name == "compressed":
            new = old.copy()
            for pos in rng.integers(0, new.size, size=int(rng.integers(1, 5))):
                new[pos] ^= np.uint8(1 << int(rng.integers(0, 8)))
            return new
        new = old.copy()
        index = tuple(int(rng.integers(0, d)) for d in new.shape)
        if old.dtype.kind == "f":
            new[index] = bad_floats((), name)
        else:
            new[index] = bad_ints(())
        return new

    def read_h5(path, keep):
        with h5py.File(path, "r") as hf:
            return FlacArray.read_hdf5(hf, keep=keep).to_array()

    def read_zarr_python(path, keep):
        return FlacArray.read_zarr(zarr.open_group(path, mode="r"), keep=keep).to_array()

    def read_zarrs(path, keep):
        return FlacArray.read_zarr(path, keep=keep).to_array()

    def read_parquet(path, keep):
        return FlacArray.read_parquet(path, keep=keep).to_array()

    def check(read, path, expected, keep):
        outcome["runs"] += 1
        try:
            got = read(path, keep)
        except (CorruptDataError, ValueError) as err:
            outcome["error"] += 1
            outcome["messages"].add(type(err).__name__)
            return
        want = expected if keep is None else expected.reshape(-1, expected.shape[-1])[keep.ravel()]
        assert got.dtype == want.dtype and got.shape == want.shape, (read.__name__, damage)
        assert np.array_equal(got, want), f"{read.__name__}: wrong values, no error: {damage}"
        outcome["equal"] += 1

    def group_damage(grp, names, attrs_of, setter, deleter, creator):
        target = int(rng.integers(0, 2))
        if target == 0:  # an array
            name = names[int(rng.integers(0, len(names)))]
            old = np.asarray(grp[name][...])
            new = damage_arrays(name, old, old.dtype.kind)
            damage[:] = [name, None if new is None else (new.dtype, new.shape)]
            starts_attrs = dict(grp["stream_starts"].attrs) if name == "stream_starts" else None
            deleter(grp, name)
            if new is not None:
                created = creator(grp, name, new)
                if starts_attrs:
                    created.attrs.update(starts_attrs)
        else:  # an attribute of the group or of stream_starts
            on_starts = rng.random() < 0.3 and "stream_starts" in names
            attrs = grp["stream_starts"].attrs if on_starts else grp.attrs
            keys = list(attrs.keys())
            key = keys[int(rng.integers(0, len(keys)))]
            if rng.random() < 0.3:
                del attrs[key]
                damage[:] = ["delete attribute", key]
            else:
                value = junk()
                setter(attrs, key, value)
                damage[:] = ["attribute", key, value]

    def h5_set(attrs, key, value):
        attrs[key] = np.asarray(value) if isinstance(value, list) else value

    rounds = 6 if mode == "damage" else 1
    for dtype in ("int32", "int64", "float32", "float64"):
        t = np.arange(3000)
        base = 1000 * np.sin(t / 200) + rng.normal(0, 20, (3, 4, 3000))
        data = base.astype(dtype) if dtype.startswith("float") else np.round(base).astype(dtype)
        fa = FlacArray.from_array(data)
        expected = fa.to_array()
        for round_ in range(rounds):
            keep = None if rng.random() < 0.5 else rng.random((3, 4)) < 0.5
            # HDF5
            damage[:] = []
            path = os.path.join(tmp, f"{dtype}-{round_}.h5")
            with h5py.File(path, "w") as hf:
                fa.write_hdf5(hf)
                if mode == "damage":
                    group_damage(
                        hf, list(hf.keys()), None, h5_set,
                        lambda g, n: g.__delitem__(n),
                        lambda g, n, v: g.create_dataset(n, data=v),
                    )
            check(read_h5, path, expected, keep)
            # zarr, read by zarr-python and by the Rust core
            path = os.path.join(tmp, f"{dtype}-{round_}.zarr")
            grp = zarr.open_group(path, mode="w")
            fa.write_zarr(grp)
            if mode == "damage":
                group_damage(
                    grp, sorted(grp.array_keys()), None,
                    lambda a, k, v: a.__setitem__(k, v),
                    lambda g, n: g.__delitem__(n),
                    lambda g, n, v: g.create_array(n, data=v),
                )
            check(read_zarr_python, path, expected, keep)
            check(read_zarrs, path, expected, keep)
            # Parquet: damaged columns or extension metadata
            damage[:] = []
            path = os.path.join(tmp, f"{dtype}-{round_}.parquet")
            fa.write_parquet(path)
            if mode == "damage":
                table = pq.read_table(path)
                meta = dict(table.schema.field("flac").type.flac_metadata)
                storage = table.column("flac").combine_chunks().storage
                columns = {f.name: storage.field(i) for i, f in enumerate(storage.type)}
                if rng.random() < 0.5:
                    key = list(meta)[int(rng.integers(0, len(meta)))]
                    # (a null leading shape is legitimate: rows without a shape)
                    null = rng.random() < 0.2 and key != "leading_shape"
                    meta[key] = None if null else junk()
                    damage[:] = ["parquet metadata", key, meta[key]]
                else:
                    name = ["stream", "offset", "gain"][int(rng.integers(0, 3))]
                    damage[:] = ["parquet column", name]
                    if name == "stream":
                        raw = [bytearray(b) for b in columns["stream"].to_pylist()]
                        row = raw[int(rng.integers(0, len(raw)))]
                        cut = int(rng.integers(0, 3))
                        if cut == 0:
                            del row[int(rng.integers(0, len(row))) :]
                        else:
                            for pos in rng.integers(0, len(row), size=3):
                                row[pos] ^= 1 << int(rng.integers(0, 8))
                        columns["stream"] = pa.array([bytes(b) for b in raw], pa.large_binary())
                    else:
                        values = columns[name].to_numpy(zero_copy_only=False).copy()
                        values[int(rng.integers(0, len(values)))] = bad_floats((), name)
                        columns[name] = pa.array(values, pa.float64())
                struct = pa.StructArray.from_arrays(
                    [columns["stream"], columns["offset"], columns["gain"]],
                    fields=list(storage.type),
                )
                new_field = pa.field("flac", struct.type).with_metadata(
                    {
                        b"ARROW:extension:name": b"flacarray.flac",
                        b"ARROW:extension:metadata": json.dumps(meta).encode(),
                    }
                )
                os.remove(path)
                pq.write_table(pa.Table.from_arrays([struct], schema=pa.schema([new_field])), path)
            check(read_parquet, path, expected, keep)
    shutil.rmtree(tmp)
    outcome["messages"] = sorted(outcome["messages"])
    # VmHWM, not ru_maxrss: the latter keeps the parent's peak across exec
    status = open("/proc/self/status").read().split("VmHWM:")[1]
    outcome["maxrss"] = int(status.split()[0]) * 1024
    print(json.dumps(outcome))
    """
)


def run(mode, seed):
    proc = run_child(SCRIPT, mode, seed, timeout=900)
    assert "PanicException" not in proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_random_damage_to_every_container_and_dtype():
    clean = run("clean", 1)
    assert clean["error"] == 0 and clean["equal"] == clean["runs"] == 16
    total_runs, total_errors = 0, 0
    for seed in (11, 12, 13):
        damaged = run("damage", seed)
        total_runs += damaged["runs"]
        total_errors += damaged["error"]
        assert damaged["maxrss"] <= 2 * clean["maxrss"], (damaged["maxrss"], clean["maxrss"])
    assert total_runs == 3 * 4 * 6 * 4
    assert total_errors > total_runs // 3, "most damage is detected"
