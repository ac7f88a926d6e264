"""Damaged bytes and files give a clean exception or the right values:
never a crash, never a silently wrong array. Runs in a child process so a
crash would show as a failed exit code."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import numpy as np, h5py, io
    from flacarray import FlacArray, CorruptDataError

    rng = np.random.default_rng(7)
    t = np.arange(20000)
    ints = (1000 * np.sin(t / 300) + rng.normal(0, 50, (4, 20000))).astype(np.int32)
    floats = np.sin(t / 300) + rng.normal(0, 0.01, (2, 2, 20000))
    clean, errors, runs = 0, 0, 0
    for data in (ints, floats):
        fa = FlacArray.from_array(data)
        expected = fa.to_array()
        for trial in range(400):
            comp = fa.compressed.copy()
            starts, nbytes = fa._starts.copy(), fa._nbytes.copy()
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
                                stream_offsets=fa._offsets, stream_gains=fa._gains)
                out = bad.to_array()
                window = bad[..., 5000:5100]
            except (CorruptDataError, ValueError):
                errors += 1
                continue
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
        try:
            with h5py.File(io.BytesIO(bytes(data)), "r") as hf:
                out = FlacArray.read_hdf5(hf).to_array()
            assert np.array_equal(out, ints), f"hdf5 trial {trial}: wrong values, no error"
        except Exception:
            errors += 1
        runs += 1
    print(runs, errors, clean)
    """
)


def test_damaged_input_never_crashes():
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, f"child died ({proc.returncode}): {proc.stderr[-2000:]}"
    runs, errors, clean = map(int, proc.stdout.split())
    assert runs == 900
    assert errors > 300, "most damage must be detected"
