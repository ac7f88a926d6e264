"""The `flacarray` command, run as users run it: the installed script in a
subprocess."""

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from flacarray import FlacArray

EXE = shutil.which("flacarray") or ""
pytestmark = pytest.mark.skipif(not EXE, reason="the flacarray command is not installed")
INTEROP = Path(__file__).resolve().parents[3] / "shared" / "interop"
DTYPES = ["int32", "int64", "float32", "float64"]


def run(*args, cwd, check=True):
    proc = subprocess.run([EXE, *map(str, args)], cwd=cwd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr}")
    return proc


def data(dtype, shape=(3, 2, 4000)):
    rng = np.random.default_rng(3)
    values = 1000 * np.sin(np.arange(shape[-1]) / 150) + rng.normal(0, 10, shape)
    return values.astype(dtype) if dtype.startswith("float") else np.round(values).astype(dtype)


def load(path):
    """What a container holds, decoded by the Python API."""
    text = str(path)
    if ".h5:" in text:
        file, group = text.split(".h5:")
        with h5py.File(file + ".h5", "r") as hf:
            return FlacArray.read_hdf5(hf[group or "/"])
    if text.endswith(".zarr"):
        return FlacArray.read_zarr(text)
    return FlacArray.read_parquet(text)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_container_and_dtype(tmp_path, dtype):
    values = data(dtype)
    np.save(tmp_path / "raw.npy", values)
    quanta = ["--quanta", "0.01"] if dtype.startswith("float") else []
    run("convert", "raw.npy", "a.h5:/deep/group", *quanta, cwd=tmp_path)
    run("convert", "a.h5:/deep/group", "b.zarr", cwd=tmp_path)
    run("convert", "b.zarr", "c.parquet", cwd=tmp_path)
    run("convert", "c.parquet", "back.npy", cwd=tmp_path)
    stored = load(tmp_path / "a.h5:/deep/group")
    # streams are copied, not re-encoded, from container to container
    assert load(tmp_path / "b.zarr") == stored
    assert load(tmp_path / "c.parquet") == stored
    back = np.load(tmp_path / "back.npy")
    if dtype.startswith("int"):
        np.testing.assert_array_equal(back, values)
    else:
        np.testing.assert_array_equal(back, stored.to_array())
    for target in ("a.h5:/deep/group", "b.zarr", "c.parquet"):
        info = json.loads(run("info", target, "--json", cwd=tmp_path).stdout)
        assert info["dtype"] == dtype and info["shape"] == list(values.shape)
        assert info["streams"] == 6 and info["stream_length"] == 4000
        held = load(tmp_path / target).nbytes
        assert info["compressed_bytes"] == held
        assert info["ratio"] == pytest.approx(values.nbytes / held)
        if target.endswith(".parquet"):  # one-frame streams are frame rows there
            assert held <= stored.nbytes - 37 * 6
        else:
            assert held == stored.nbytes
        if dtype.startswith("float"):
            assert info["quantization"]["step_max"] == pytest.approx(0.01)
        if target.endswith(".parquet"):
            assert info["flacarray_arrow_layout"] == 3
        else:
            assert info["flacarray_format_version"] == "1"
        text = run("info", target, cwd=tmp_path).stdout
        assert "bits_per_sample" in text
    out = run("verify", "a.h5:/deep/group", "b.zarr", "c.parquet", cwd=tmp_path).stdout
    assert out.count("6 streams ok") == 3


def test_keep_and_slice(tmp_path):
    values = data("int32")
    np.save(tmp_path / "raw.npy", values)
    run("convert", "raw.npy", "a.parquet", cwd=tmp_path)
    run("convert", "a.parquet", "kept.zarr", "--keep", "0,3-4", cwd=tmp_path)
    flat = values.reshape(6, -1)
    np.testing.assert_array_equal(load(tmp_path / "kept.zarr").to_array(), flat[[0, 3, 4]])
    run("convert", "a.parquet", "w.npy", "--keep", "5", "--slice", "100:250", cwd=tmp_path)
    np.testing.assert_array_equal(np.load(tmp_path / "w.npy"), flat[[5], 100:250])
    run("convert", "a.parquet", "w.h5", "--slice", ":50", cwd=tmp_path)
    np.testing.assert_array_equal(load(tmp_path / "w.h5:/").to_array(), values[..., :50])
    bad = run("convert", "a.parquet", "x.zarr", "--keep", "0,99", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "99" in bad.stderr


def test_overwrite_is_refused_unless_asked(tmp_path):
    np.save(tmp_path / "raw.npy", data("int64"))
    run("convert", "raw.npy", "a.zarr", cwd=tmp_path)
    np.save(tmp_path / "other.npy", data("int64"))
    for dest in ("a.zarr", "other.npy"):
        again = run("convert", "raw.npy", dest, cwd=tmp_path, check=False)
        assert again.returncode == 1 and "--overwrite" in again.stderr
        assert len(again.stderr.strip().splitlines()) == 1  # one line, no traceback
    run("convert", "raw.npy", "a.zarr", "--level", "8", "--overwrite", cwd=tmp_path)
    run("convert", "raw.npy", "a.h5:/g", cwd=tmp_path)
    taken = run("convert", "raw.npy", "a.h5:/g", cwd=tmp_path, check=False)
    assert taken.returncode == 1 and "overwrite" in taken.stderr


def test_usage_and_data_errors_exit_codes(tmp_path):
    np.save(tmp_path / "raw.npy", data("int32"))
    cases = [
        (("info", "missing.h5"), 2, "no such file"),
        (("info", "notes.txt"), 2, "unknown container"),
        (("convert", "raw.npy", "out.csv"), 2, "unknown container"),
        (("convert", "raw.npy", "nodir/out.zarr"), 1, "does not exist"),
        (("convert", "missing.npy", "out.zarr"), 2, "no such file"),
        (("convert", "raw.npy", "o.zarr", "--slice", "x"), 2, "--slice"),
    ]
    with h5py.File(tmp_path / "other.h5", "w") as hf:
        hf.create_dataset("x", data=np.arange(3))
    cases.append((("info", "other.h5"), 1, "other.h5"))
    cases.append((("verify", "other.h5"), 1, "cannot be read"))
    for args, code, message in cases:
        proc = run(*args, cwd=tmp_path, check=False)
        assert proc.returncode == code, (args, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    debug = run("--debug", "info", "other.h5", cwd=tmp_path, check=False)
    assert debug.returncode == 1 or "Traceback" in debug.stderr


def test_verify_names_the_damaged_stream(tmp_path):
    values = data("int32", (5, 20_000))
    fa = FlacArray.from_array(values)
    with h5py.File(tmp_path / "a.h5", "w") as hf:
        fa.write_hdf5(hf)
        starts = hf["stream_starts"][...]
        compressed = hf["compressed"]
        at = int(starts[3]) + 2000  # inside stream 3's frames
        compressed[at] = compressed[at] ^ 0x40
    proc = run("verify", "a.h5", "--jobs", "2", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert "stream 3 [3] damaged" in proc.stdout
    assert "stream 2" not in proc.stdout


def on_a_terminal(args, cwd):
    """Runs the command with stderr on a pseudo-terminal; returns what it
    drew there."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([EXE, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=follower)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=120)
    os.close(leader)
    assert proc.returncode == 0, seen
    return seen


def test_progress_bar_on_a_terminal_only(tmp_path):
    np.save(tmp_path / "raw.npy", data("int32", (40, 600_000)))  # 96 MB: two batches
    piped = run("convert", "raw.npy", "a.parquet", cwd=tmp_path)
    assert piped.stderr == ""  # piped: no progress
    assert "ETA" not in run("verify", "a.parquet", cwd=tmp_path).stderr
    # on a terminal: a bar with rate and ETA, for convert and verify
    for args in (["convert", "raw.npy", "b.zarr"], ["verify", "a.parquet", "--jobs", "1"]):
        seen = on_a_terminal(args, tmp_path)
        assert b"ETA" in seen and b"MiB/s" in seen and b"100.0%" in seen, args
    assert seen.count(b"%") >= 2  # drawn more than once
    quiet = subprocess.run(
        [EXE, "verify", "a.parquet", "--quiet"], cwd=tmp_path, capture_output=True, check=True
    )
    assert quiet.stdout == b"" and quiet.stderr == b""


@pytest.mark.skipif(not INTEROP.is_dir(), reason="shared/interop is not beside this clone")
def test_reference_files_info_convert_verify(tmp_path):
    """The reference package's format 0 and 1 files: info, conversion to
    Parquet and zarr keeping every value, verify."""
    converted = 0
    for folder in sorted(INTEROP.iterdir()):
        manifest = json.loads((folder / "manifest.json").read_text())
        for name, case in manifest["cases"].items():
            if "error" in case:
                continue
            expected = np.load(folder / f"{name}.upstream_decoded.npy")
            source = folder / f"{name}.h5"
            info = json.loads(run("info", source, "--json", cwd=tmp_path).stdout)
            assert info["shape"] == list(expected.shape)
            assert info["compressed_bytes"] == case["compressed_bytes"]
            run("verify", source, cwd=tmp_path)
            for suffix in ("parquet", "zarr"):
                dest = tmp_path / f"{folder.name}-{name}.{suffix}"
                run("convert", source, dest, cwd=tmp_path)
                np.testing.assert_array_equal(load(dest).to_array(), expected)
                converted += 1
    assert converted >= 18


def test_help_has_examples():
    out = subprocess.run([EXE, "convert", "--help"], capture_output=True, text=True).stdout
    assert "examples:" in out and "--keep" in out and "--overwrite" in out
    module = subprocess.run(
        [sys.executable, "-m", "flacarray.cli", "--help"], capture_output=True, text=True
    )
    assert module.returncode == 0 and "verify" in module.stdout


def test_a_1_gib_convert_shows_its_progress(tmp_path):
    """1 GiB of samples: converted in batches, the bar redrawn as they go."""
    streams, samples = 256, 1 << 20
    ramp = (np.arange(samples, dtype=np.int32) % 4096) - 2048
    values = np.add.outer(np.arange(streams, dtype=np.int32) * 7, ramp)
    assert values.nbytes == 1 << 30
    np.save(tmp_path / "big.npy", values)
    del values
    seen = on_a_terminal(["convert", "big.npy", "big.parquet"], tmp_path)
    frames = seen.split(b"\r")
    assert len([f for f in frames if b"ETA" in f]) >= 8  # 16 batches of 64 MiB
    assert b"100.0%" in seen
    stored = FlacArray.read_parquet(tmp_path / "big.parquet")
    assert stored.shape == (streams, samples)
    np.testing.assert_array_equal(stored[255, 4090:4100], 255 * 7 + ramp[4090:4100])
