"""The reference package (flacarray 0.4.1) reads what we write, HDF5 and
zarr, for every dtype and option, and gets our values bit for bit."""

import json

import h5py
import numpy as np
import pytest
import zarr
from reference_env import reference_read

from conftest import make_data
from flacarray import FlacArray, demo

pytestmark = pytest.mark.network

CASES = [
    ("int32", (3, 2, 5000), {}),
    ("int32_full_range", (2, 3000), {}),
    ("int64", (3, 2, 5000), {}),
    ("int64_full_range", (2, 3000), {}),
    ("float32", (3, 2, 5000), {}),
    ("float32_quanta", (3, 2, 5000), {"quanta": 1e-4}),
    ("float32_precision", (4, 5000), {"precision": 3}),
    ("float64", (3, 2, 5000), {}),
    ("float64_quanta", (3, 2, 5000), {"quanta": 1e-4}),
    ("float64_precision", (4, 5000), {"precision": 5}),
    ("float64_single_stream", (5000,), {"quanta": 1e-4}),
    ("int32_single_stream", (4097,), {}),
    # read back from Parquet, whose one-frame rows are frame rows: the
    # group write rebuilds the whole streams
    ("int32_frame_rows", (3, 2, 64), {}),
    ("float64_frame_rows", (4, 100), {"quanta": 1e-4}),
]


def case_data(name, shape):
    dtype = name.split("_")[0]
    if name.endswith("full_range"):
        return demo.create_fake_data(shape, sigma=None, dtype=dtype)
    return make_data(dtype, shape, seed=len(name))


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ours")
    cases, expected = [], {}
    for name, shape, kwargs in CASES:
        data = case_data(name, shape)
        fa = FlacArray.from_array(data, **kwargs)
        if name.endswith("frame_rows"):
            fa.write_parquet(folder / f"{name}.parquet")
            whole, fa = fa, FlacArray.read_parquet(folder / f"{name}.parquet")
            assert fa == whole and fa.nbytes < whole.nbytes
        ours = fa.to_array()
        with h5py.File(folder / f"{name}.h5", "w") as hf:
            fa.write_hdf5(hf)
        fa.write_zarr(zarr.open_group(str(folder / f"{name}.zarr"), mode="w"))
        for container in ("h5", "zarr"):
            out = str(folder / f"{name}.{container}.npy")
            path = str(folder / f"{name}.{container}")
            cases.append({"container": container, "path": path, "out": out})
            expected[out] = (name, data, ours)
    return reference_read(cases), expected


def test_reference_reads_every_case(written):
    results, expected = written
    failures = {out: msg for out, msg in results.items() if msg != "ok"}
    assert not failures, failures
    for out, (name, data, ours) in expected.items():
        theirs = np.load(out)
        assert theirs.dtype == ours.dtype, name
        assert theirs.shape == ours.shape, f"{name}: {theirs.shape} vs {ours.shape}"
        np.testing.assert_array_equal(theirs, ours, err_msg=name)
        if data.dtype.kind == "i":
            np.testing.assert_array_equal(theirs, data, err_msg=name)


def test_reference_reads_arrays_rewritten_from_format0(tmp_path, interop_dir):
    """Arrays read from the reference 0.2.4's format 0 files (float64 in
    1-channel streams) and written again (HDF5, zarr-python, zarrs, and via
    Parquet) are read by the reference 0.4.1 to the very same values."""
    folder = interop_dir / "flacarray-0.2.4"
    manifest = json.loads((folder / "manifest.json").read_text())
    cases, expected = [], {}
    for name, case in manifest["cases"].items():
        if "error" in case:
            continue
        decoded = np.load(folder / f"{name}.upstream_decoded.npy")
        for source in ("h5", "zarr"):
            if source == "h5":
                with h5py.File(folder / f"{name}.h5", "r") as hf:
                    fa = FlacArray.read_hdf5(hf)
            else:
                fa = FlacArray.read_zarr(str(folder / f"{name}.zarr"))
            np.testing.assert_array_equal(fa.to_array(), decoded)
            stem = tmp_path / f"{name}-{source}"
            fa.write_parquet(f"{stem}.parquet")
            via_parquet = FlacArray.read_parquet(f"{stem}.parquet")
            np.testing.assert_array_equal(via_parquet.to_array(), decoded)
            with h5py.File(f"{stem}.h5", "w") as hf:
                fa.write_hdf5(hf)
            with h5py.File(f"{stem}.parquet.h5", "w") as hf:
                via_parquet.write_hdf5(hf)
            fa.write_zarr(zarr.open_group(f"{stem}.zarr", mode="w"))
            fa.write_zarr(f"{stem}.zarrs")
            for path, container in (
                (f"{stem}.h5", "h5"),
                (f"{stem}.parquet.h5", "h5"),
                (f"{stem}.zarr", "zarr"),
                (f"{stem}.zarrs", "zarr"),
            ):
                out = f"{path}.npy"
                cases.append({"container": container, "path": path, "out": out})
                expected[out] = decoded
    assert len(cases) >= 4 * 2 * 4
    results = reference_read(cases)
    failures = {out: msg for out, msg in results.items() if msg != "ok"}
    assert not failures, failures
    for out, decoded in expected.items():
        np.testing.assert_array_equal(np.load(out), decoded, err_msg=out)
