"""The `flacarray` command never loses data and says what went wrong
(issue 22, items 1, 8 and 14): `.npy` output written beside its place,
source and destination that are one file refused, damaged sources stop a
conversion, links overwritten through, groups found inside files, Zarr
codec arrays as sources, argument errors as usage errors."""

import json
import os
import shutil
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest
import zarr

from flacarray import FlacArray
from flacarray.zarr_codec import FlacCodec

EXE = shutil.which("flacarray") or ""
pytestmark = pytest.mark.skipif(not EXE, reason="the flacarray command is not installed")


def run(*args, cwd, check=True):
    proc = subprocess.run([EXE, *map(str, args)], cwd=cwd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr}")
    return proc


def ints(shape=(6, 5000), seed=3):
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.integers(-50, 50, shape), axis=-1).astype(np.int32)


def test_the_same_file_is_refused(tmp_path):
    values = ints()
    np.save(tmp_path / "a.npy", values)
    os.symlink("a.npy", tmp_path / "link.npy")
    for args in (
        ("a.npy", "a.npy", "--overwrite"),
        ("a.npy", "a.npy", "--overwrite", "--slice", "10:20"),
        ("a.npy", "link.npy", "--overwrite"),
        ("link.npy", "./a.npy", "--overwrite"),
    ):
        proc = run("convert", *args, cwd=tmp_path, check=False)
        assert proc.returncode == 2 and "same file" in proc.stderr, (args, proc.stderr)
        np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), values)
    FlacArray.from_array(values).write_parquet(tmp_path / "a.parquet")
    with h5py.File(tmp_path / "a.h5", "w") as hf:
        FlacArray.from_array(values).write_hdf5(hf.create_group("x"))
    for args in (("a.parquet", "a.parquet"), ("a.h5:/x", "a.h5:/y")):
        proc = run("convert", *args, "--overwrite", cwd=tmp_path, check=False)
        assert proc.returncode == 2 and "same file" in proc.stderr, (args, proc.stderr)
    assert FlacArray.read_parquet(tmp_path / "a.parquet") == FlacArray.from_array(values)


def damaged_h5(path, values):
    fa = FlacArray.from_array(values)
    with h5py.File(path, "w") as hf:
        fa.write_hdf5(hf)
        at = int(hf["stream_starts"][4]) + 300  # inside stream 4's frames
        hf["compressed"][at] ^= 0x20


def test_a_damaged_source_leaves_the_destination_alone(tmp_path):
    values = ints()
    damaged_h5(tmp_path / "bad.h5", values)
    proc = run("convert", "bad.h5", "out.npy", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "stream 4" in proc.stderr, proc.stderr
    assert not (tmp_path / "out.npy").exists()
    assert os.listdir(tmp_path) == ["bad.h5"], "no temporary file left behind"
    np.save(tmp_path / "out.npy", values)
    proc = run("convert", "bad.h5", "out.npy", "--overwrite", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), values)


def test_damaged_streams_are_not_copied_between_containers(tmp_path):
    values = ints()
    damaged_h5(tmp_path / "bad.h5", values)
    for dest in ("out.parquet", "out.zarr", "out.h5:/g"):
        proc = run("convert", "bad.h5", dest, cwd=tmp_path, check=False)
        assert proc.returncode == 1 and "stream 4" in proc.stderr, (dest, proc.stderr)
    assert not (tmp_path / "out.parquet").exists() and not (tmp_path / "out.zarr").exists()
    if (tmp_path / "out.h5").exists():
        with h5py.File(tmp_path / "out.h5", "r") as hf:
            assert "g" not in hf or len(hf["g"]) == 0


def test_a_killed_npy_convert_is_never_a_readable_half(tmp_path):
    """kill -9 at 25 random moments of a 3-batch convert to .npy: the
    destination is the old file or the complete new one, never a partial
    file numpy would read."""
    big = np.arange(48 * 1_000_000, dtype=np.int32).reshape(48, -1) % 1000
    FlacArray.from_array(big).write_parquet(tmp_path / "src.parquet")
    old = np.full((2, 3), 7, np.int16)
    rng = np.random.default_rng(22)
    seen = {"old": 0, "new": 0}
    for _ in range(25):
        np.save(tmp_path / "out.npy", old)
        proc = subprocess.Popen(
            [EXE, "convert", "src.parquet", "out.npy", "--overwrite", "--jobs", "1"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(float(rng.uniform(0.3, 2.5)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        out = np.load(tmp_path / "out.npy")
        if out.shape == old.shape:
            np.testing.assert_array_equal(out, old)
            seen["old"] += 1
        else:
            np.testing.assert_array_equal(out, big)
            seen["new"] += 1
        for leftover in tmp_path.glob(".out.npy.flacarray-new-*"):
            # a temporary killed before its header was written is no .npy
            # (empty: EOFError, zeros where the header goes: ValueError); one
            # killed after it (just before the move) is complete
            try:
                np.testing.assert_array_equal(np.load(leftover), big)
            except (ValueError, EOFError):
                pass
            leftover.unlink()
    assert seen["old"] and seen["new"], seen


def test_overwrite_through_a_link_replaces_its_target(tmp_path):
    values = ints()
    np.save(tmp_path / "raw.npy", values)
    (tmp_path / "store").mkdir()
    for name in ("x.parquet", "x.zarr", "x.npy"):
        run("convert", "raw.npy", f"store/{name}", cwd=tmp_path)
        os.symlink(f"store/{name}", tmp_path / name)
        run("convert", "raw.npy", name, "--overwrite", "--slice", ":100", cwd=tmp_path)
        assert (tmp_path / name).is_symlink(), name
        if name.endswith(".npy"):
            back = np.load(tmp_path / "store" / name)
        elif name.endswith(".zarr"):
            back = FlacArray.read_zarr(str(tmp_path / "store" / name)).to_array()
        else:
            back = FlacArray.read_parquet(tmp_path / "store" / name).to_array()
        np.testing.assert_array_equal(back, values[:, :100])


def test_groups_below_the_root_and_debug(tmp_path):
    values = ints()
    np.save(tmp_path / "tod.npy", values)
    run("convert", "tod.npy", "tod.h5:/detectors", cwd=tmp_path)
    run("convert", "tod.npy", "tod.h5:/more/deep", cwd=tmp_path)
    docs = [
        json.loads(line)
        for line in run("info", ".", "--json", cwd=tmp_path).stdout.split("\n")
        if line
    ]
    assert sorted(d["path"] for d in docs) == ["./tod.h5:/detectors", "./tod.h5:/more/deep"]
    assert json.loads(run("info", "tod.h5:/detectors", "--json", cwd=tmp_path).stdout)["shape"] == [
        6,
        5000,
    ]
    assert "2 x" not in run("verify", "tod.h5", cwd=tmp_path).stdout
    with h5py.File(tmp_path / "plain.h5", "w") as hf:
        hf["x"] = np.arange(3)
    debug = run("--debug", "info", "plain.h5", cwd=tmp_path, check=False)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    debug = run("info", "--debug", "plain.h5", cwd=tmp_path, check=False)
    assert "Traceback" in debug.stderr
    quiet = run("info", "plain.h5", cwd=tmp_path, check=False)
    assert quiet.returncode == 1 and "Traceback" not in quiet.stderr


def test_zarr_codec_arrays_are_sources(tmp_path):
    values = ints((4, 3, 2000)).astype(np.int64)
    z = zarr.create_array(
        str(tmp_path / "waves.zarr"),
        shape=values.shape,
        chunks=(2, 3, 2000),
        dtype="int64",
        serializer=FlacCodec(level=5),
        compressors=None,
    )
    z[...] = values
    info = json.loads(run("info", "waves.zarr", "--json", cwd=tmp_path).stdout)
    assert info["container"] == "zarr-array" and info["shape"] == [4, 3, 2000]
    assert info["codec"]["name"] == "flacarray.flac" and info["codec"]["level"] == 5
    run("convert", "waves.zarr", "w.parquet", "--keep", "1,5-7", cwd=tmp_path)
    flat = values.reshape(12, -1)
    np.testing.assert_array_equal(
        FlacArray.read_parquet(tmp_path / "w.parquet").to_array(), flat[[1, 5, 6, 7]]
    )
    run("convert", "waves.zarr", "w.npy", "--slice", "10:20", cwd=tmp_path)
    np.testing.assert_array_equal(np.load(tmp_path / "w.npy"), values[..., 10:20])
    assert "ok" in run("verify", "waves.zarr", cwd=tmp_path).stdout
    floats = zarr.create_array(
        str(tmp_path / "f.zarr"),
        shape=(2, 500),
        chunks=(1, 500),
        dtype="float64",
        serializer=FlacCodec(quanta=1e-3),
        compressors=None,
        fill_value=0.0,
    )
    floats[...] = np.linspace(0, 1, 1000).reshape(2, 500)
    run("convert", "f.zarr", "f.h5", cwd=tmp_path)  # the codec's quanta, by default
    with h5py.File(tmp_path / "f.h5", "r") as hf:
        back = FlacArray.read_hdf5(hf)
    assert np.allclose(1 / back.stream_gains, 1e-3)
    np.testing.assert_allclose(back.to_array(), floats[...], atol=5e-4 + 1e-12)
    bad = run("convert", "w.parquet", "waves.zarr", "--overwrite", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "source only" in bad.stderr


def test_bad_arguments_are_usage_errors(tmp_path):
    np.save(tmp_path / "raw.npy", ints())
    cases = [
        ("convert", "raw.npy", "a.zarr", "--level", "12"),
        ("convert", "raw.npy", "a.zarr", "--level", "x"),
        ("convert", "raw.npy", "a.zarr", "--quanta", "-1"),
        ("convert", "raw.npy", "a.zarr", "--quanta", "nan"),
        ("convert", "raw.npy", "a.zarr", "--precision", "inf"),
        ("verify", "raw.npy", "--jobs", "0"),
        ("convert", "raw.npy", "a.zarr", "--jobs", "-2"),
    ]
    for args in cases:
        proc = run(*args, cwd=tmp_path, check=False)
        assert proc.returncode == 2, (args, proc.stderr)
    assert not (tmp_path / "a.zarr").exists()
