"""Damaged bytes and files give a clean exception or the right values:
never a crash, never a silently wrong array. Runs in a child process so a
crash would show as a failed exit code. The same script run against a
deliberately broken decoder must fail, so the check itself can fail."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import numpy as np, h5py, io, sys
    from flacarray import FlacArray, CorruptDataError

    ORIGINALS = set()
    if sys.argv[1:] == ["sabotage"]:
        # A decoder that is silently wrong on every array but the originals.
        real = FlacArray.to_array

        def broken(self, *args, **kwargs):
            out = real(self, *args, **kwargs)
            if id(self) not in ORIGINALS:
                out.flat[0] += 1
            return out

        FlacArray.to_array = broken

    rng = np.random.default_rng(7)
    t = np.arange(20000)
    ints = (1000 * np.sin(t / 300) + rng.normal(0, 50, (4, 20000))).astype(np.int32)
    floats = np.sin(t / 300) + rng.normal(0, 0.01, (2, 2, 20000))
    clean, errors, runs = 0, 0, 0
    for data in (ints, floats):
        fa = FlacArray.from_array(data)
        ORIGINALS.add(id(fa))
        expected = fa.to_array()
        for trial in range(400):
            comp = fa.compressed.copy()
            starts, nbytes = fa._parts.stream_starts.copy(), fa._parts.stream_nbytes.copy()
            kind = trial % 4
            if kind == 0:  # flip bits
                for pos in rng.integers(0, comp.size, size=rng.integers(1, 4)):
                    comp[pos] ^= 1 << int(rng.integers(0, 8))
            elif kind == 1:  # truncate one stream
                s = rng.integers(0, nbytes.size)
                nbytes[s] = rng.integers(0, nbytes[s])
            elif kind == 2:  # overwrite a run with garbage
                pos = rng.integers(0, comp.size - 64)
                comp[pos : pos + 64] = rng.integers(0, 256, 64)
            else:  # point a stream somewhere else
                s = rng.integers(0, starts.size)
                starts[s] = rng.integers(0, comp.size - nbytes[s])
            runs += 1
            try:
                bad = FlacArray(dtype=fa.dtype, shape=fa.shape, compressed=comp,
                                stream_starts=starts, stream_nbytes=nbytes,
                                stream_offsets=fa._parts.stream_offsets,
                                stream_gains=fa._parts.stream_gains)
                out = bad.to_array()
                window = bad[..., 5000:5100]
            except CorruptDataError:
                errors += 1
                continue
            # outside the try: a wrong answer must fail the test
            assert np.array_equal(out, expected), f"trial {trial}: wrong values, no error"
            assert np.array_equal(window, expected[..., 5000:5100])
            clean += 1
    # damaged HDF5 files
    buf = io.BytesIO()
    with h5py.File(buf, "w") as hf:
        FlacArray.from_array(ints).write_hdf5(hf)
    raw = bytearray(buf.getvalue())
    for trial in range(100):
        data = bytearray(raw)
        pos = int(rng.integers(0, len(data)))
        data[pos] ^= 0xFF
        runs += 1
        try:
            hf = h5py.File(io.BytesIO(bytes(data)), "r")
        except OSError:  # h5py itself cannot open the damaged file
            errors += 1
            continue
        try:
            out = FlacArray.read_hdf5(hf).to_array()
        except (CorruptDataError, ValueError):
            errors += 1
            continue
        finally:
            hf.close()
        assert np.array_equal(out, ints), f"hdf5 trial {trial}: wrong values, no error"
        clean += 1
    print(runs, errors, clean)
    """
)


def run(*args):
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_damaged_input_never_crashes():
    proc = run()
    assert proc.returncode == 0, f"child died ({proc.returncode}): {proc.stderr[-2000:]}"
    runs, errors, clean = map(int, proc.stdout.split())
    assert runs == 900
    assert errors > 300, "most damage must be detected"
    assert errors + clean == runs
    assert clean > 0, "some damage (unused bytes of the HDF5 file) changes nothing"


def test_the_check_catches_a_silently_wrong_decoder():
    proc = run("sabotage")
    assert proc.returncode != 0
    assert "wrong values, no error" in proc.stderr
