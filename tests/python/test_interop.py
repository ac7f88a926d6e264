"""Files written by the reference package (0.2.4: format 0, 0.4.1: format 1)
decode bit-exactly to what the reference itself decoded."""

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import zarr

import flacarray.hdf5
import flacarray.zarr
from flacarray import FlacArray

INTEROP = Path(__file__).resolve().parents[3] / "shared" / "interop"


def cases():
    if not INTEROP.is_dir():
        return []
    found = []
    for folder in sorted(INTEROP.iterdir()):
        manifest = json.loads((folder / "manifest.json").read_text())
        for name, case in manifest["cases"].items():
            if "error" not in case:
                for container in ("h5", "zarr"):
                    found.append(
                        pytest.param(
                            folder, name, case, container, id=f"{folder.name}-{name}-{container}"
                        )
                    )
    return found


def open_group(path, container):
    if container == "h5":
        return h5py.File(path, "r"), flacarray.hdf5
    return zarr.open_group(str(path), mode="r"), flacarray.zarr


@pytest.mark.skipif(not INTEROP.is_dir(), reason="shared/interop is not beside this clone")
@pytest.mark.parametrize("folder,name,case,container", cases())
def test_reference_files(folder, name, case, container):
    expected = np.load(folder / f"{name}.upstream_decoded.npy")
    original = np.load(folder / f"{name}.input.npy")
    grp, module = open_group(folder / f"{name}.{container}", container)
    try:
        got = module.read_array(grp)
        assert got.dtype == expected.dtype
        assert got.shape == expected.shape == tuple(case["shape"])
        np.testing.assert_array_equal(got, expected)
        if original.dtype.kind == "i":
            np.testing.assert_array_equal(got, original)
        fa = FlacArray.read_hdf5(grp) if container == "h5" else FlacArray.read_zarr(grp)
        assert fa.nbytes == case["compressed_bytes"]
        # our FLAC decoder and libFLAC's agree on every stream of the file
        from flacarray import _core

        n = fa.shape[-1]
        for s in range(fa.nstreams):
            start, size = int(fa._parts.stream_starts[s]), int(fa._parts.stream_nbytes[s])
            stream = fa.compressed[start : start + size]
            wide = _core.stream_info(stream.tobytes())[0] == 2
            ours = _core.decode_stream(stream, n, wide, "native")
            theirs = _core.decode_stream(stream, n, wide, "libflac")
            np.testing.assert_array_equal(ours, theirs)
        lead = expected.shape[:-1] or (1,)
        keep = np.zeros(lead, dtype=bool)
        keep.ravel()[-1] = True
        sub = module.read_array(grp, keep=keep, stream_slice=slice(1000, 1100))
        last_stream = expected.reshape(-1, expected.shape[-1])[-1]
        np.testing.assert_array_equal(sub[0], last_stream[1000:1100])
        if container == "zarr":
            # the Rust core (zarrs) reads the reference's zstd-compressed groups
            path = str(folder / f"{name}.zarr")
            np.testing.assert_array_equal(flacarray.zarr.read_array(path), expected)
            assert FlacArray.read_zarr(path) == fa
            sub = flacarray.zarr.read_array(path, keep=keep, stream_slice=slice(1000, 1100))
            np.testing.assert_array_equal(sub[0], last_stream[1000:1100])
    finally:
        if container == "h5":
            grp.close()


def test_interop_cases_found():
    if INTEROP.is_dir():
        assert len(cases()) >= 18
