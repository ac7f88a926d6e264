"""The Zarr v3 codec `flacarray.flac`: zarr-python, zarrs, xarray and Dask."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

zarr = pytest.importorskip("zarr")

from flacarray import _core  # noqa: E402
from flacarray.zarr_codec import FlacCodec  # noqa: E402

DTYPES = ["int16", "int32", "int64", "float32", "float64"]


def signal(dtype, shape, seed=0):
    """Slowly varying signal plus noise, of any supported dtype."""
    rng = np.random.default_rng(seed)
    t = np.arange(shape[-1])
    values = 1000 * np.sin(t / 200) + rng.normal(0, 20, shape)
    return values.astype(dtype) if dtype.startswith("float") else np.round(values).astype(dtype)


def within_half_a_step(restored, original, step):
    """Float error is at most half a step, plus the float type's rounding
    of each stream's values (as in test_array.py)."""
    err = np.abs(restored.astype(np.float64) - original.astype(np.float64))
    peak = np.abs(original).max(axis=-1, keepdims=True).astype(np.float64)
    return bool(np.all(err <= 0.5 * step * (1 + 1e-9) + 2 * np.finfo(original.dtype).eps * peak))


def create(path, data, chunks, **codec):
    return zarr.create_array(
        str(path),
        shape=data.shape,
        chunks=chunks,
        dtype=data.dtype,
        serializer=FlacCodec(**codec),
        compressors=None,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("shape", "chunks"),
    [((5, 1234), (2, 500)), ((3, 4, 999), (2, 3, 400)), ((2000,), (700,))],
)
def test_round_trip_with_edge_chunks(tmp_path, dtype, shape, chunks):
    data = signal(dtype, shape)
    quanta = 1e-2 if dtype.startswith("float") else None
    z = create(tmp_path / "a.zarr", data, chunks, quanta=quanta)
    z[...] = data
    back = zarr.open_array(str(tmp_path / "a.zarr"))[...]
    assert back.dtype == data.dtype and back.shape == data.shape
    if dtype.startswith("int"):
        np.testing.assert_array_equal(back, data)
    else:
        assert within_half_a_step(back, data, 1e-2)


def test_default_float_steps_and_precision(tmp_path):
    data = signal("float64", (3, 3000))
    for name, codec in [("default", {}), ("precision", {"precision": 6})]:
        z = create(tmp_path / f"{name}.zarr", data, (3, 1000), **codec)
        z[...] = data
        back = z[...]
        # as FlacArray does it, chunk by chunk
        from flacarray import FlacArray

        expected = np.concatenate(
            [
                FlacArray.from_array(
                    np.ascontiguousarray(data[:, a : a + 1000]), **codec
                ).to_array()
                for a in range(0, 3000, 1000)
            ],
            axis=1,
        )
        np.testing.assert_array_equal(back, expected)


def test_metadata_round_trips_and_a_fresh_process_reads_without_importing(tmp_path):
    data = signal("int64", (4, 800))
    path = tmp_path / "a.zarr"
    create(path, data, (2, 300), level=8)[...] = data
    meta = json.loads((path / "zarr.json").read_text())
    assert meta["codecs"] == [
        {"name": "flacarray.flac", "configuration": {"level": 8, "quanta": None, "precision": None}}
    ]
    assert zarr.open_array(str(path)).metadata.codecs[0] == FlacCodec(level=8)
    script = (
        "import sys, zarr, numpy as np\n"
        f"a = zarr.open_array({str(path)!r})\n"
        "print(int(a[...].sum()))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert int(out.stdout) == int(data.sum())


@pytest.mark.parametrize(
    ("dtype", "codec", "message"),
    [
        ("int8", {}, "int32, int64, float32 and float64, not int8"),
        ("int8", {}, "not int8"),
        ("uint16", {}, "not uint16"),
        ("uint32", {}, "not uint32"),
        ("uint64", {}, "not uint64"),
        ("float16", {}, "not float16"),
        ("complex64", {}, "not complex64"),
        ("bool", {}, "not bool"),
        ("int32", {"quanta": 0.1}, "int32"),
    ],
)
def test_unsupported_dtypes_fail_at_creation(tmp_path, dtype, codec, message):
    with pytest.raises((TypeError, ValueError), match=message):
        zarr.create_array(
            str(tmp_path / "a.zarr"),
            shape=(4, 100),
            chunks=(2, 50),
            dtype=dtype,
            serializer=FlacCodec(**codec),
            compressors=None,
        )
    assert not (tmp_path / "a.zarr" / "c").exists()


def test_strings_fail_at_creation(tmp_path):
    with pytest.raises((TypeError, ValueError)):
        zarr.create_array(str(tmp_path / "s.zarr"), shape=(4,), dtype=str, serializer=FlacCodec())


@pytest.mark.parametrize(
    ("codec", "message"),
    [
        ({"level": 9}, "level"),
        ({"level": -1}, "level"),
        ({"quanta": 0.1, "precision": 3}, "quanta|precision"),
        ({"quanta": -1.0}, "quanta|step"),
        ({"quanta": float("nan")}, "quanta|step|NaN|finite"),
    ],
)
def test_bad_configuration_is_a_clear_error(codec, message):
    with pytest.raises(ValueError, match=message):
        FlacCodec(**codec)


def test_bad_stored_configuration_is_a_clear_error(tmp_path):
    data = signal("int32", (2, 100))
    path = tmp_path / "a.zarr"
    create(path, data, (2, 100))[...] = data
    meta = json.loads((path / "zarr.json").read_text())
    meta["codecs"][0]["configuration"]["level"] = 42
    (path / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="level"):
        zarr.open_array(str(path))
    meta["codecs"][0]["configuration"] = {"level": 5, "speed": 1}
    (path / "zarr.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="speed"):
        zarr.open_array(str(path))


def test_nan_fill_value_and_nan_chunks_are_refused(tmp_path):
    with pytest.raises(ValueError, match="fill value"):
        zarr.create_array(
            str(tmp_path / "f.zarr"),
            shape=(4, 100),
            chunks=(2, 50),
            dtype="float32",
            fill_value=np.nan,
            serializer=FlacCodec(),
            compressors=None,
        )
    data = signal("float32", (4, 100))
    z = create(tmp_path / "a.zarr", data, (2, 50))
    data[3, 70] = np.inf
    with pytest.raises(ValueError, match=r"chunk of shape \(2, 50\).*(inf|finite)"):
        z[...] = data
    data[3, 70] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        z[2:4, 50:100] = data[2:4, 50:100]


def test_damaged_chunk_is_an_error_not_garbage(tmp_path):
    data = signal("int32", (2, 1000))
    path = tmp_path / "a.zarr"
    create(path, data, (2, 1000))[...] = data
    chunk = path / "c" / "0" / "0"
    raw = bytearray(chunk.read_bytes())
    raw[200] ^= 0xFF
    chunk.write_bytes(bytes(raw))
    with pytest.raises(_core.CorruptDataError):
        zarr.open_array(str(path))[...]
    chunk.write_bytes(bytes(raw[:30]))
    with pytest.raises(_core.CorruptDataError, match="chunk"):
        zarr.open_array(str(path))[...]


SELECTIONS = [
    (slice(None), slice(100, 110)),
    (1, slice(250, 260)),
    (slice(0, 3), slice(None, None, 7)),
    (slice(None), 333),
    (2, -1),
    (slice(1, 4), slice(-50, None)),
    (Ellipsis, slice(10, 600, 3)),
]


@pytest.mark.parametrize("selection", SELECTIONS, ids=str)
def test_partial_reads_match_numpy(tmp_path, selection):
    data = signal("float64", (4, 1000))
    z = create(tmp_path / "a.zarr", data, (2, 1000), quanta=1e-3)
    z[...] = data
    whole = z[...]
    np.testing.assert_array_equal(z[selection], whole[selection])
    np.testing.assert_array_equal(
        z.oindex[[0, 3], [5, 900, 17]], whole[np.ix_([0, 3], [5, 900, 17])]
    )


def test_a_window_decodes_only_its_frames(tmp_path, monkeypatch):
    """zarr-python hands the codec the selection within each chunk; the
    codec decodes only the samples it needs (the FLAC frames holding them)."""
    data = signal("int32", (4, 100_000))
    z = create(tmp_path / "a.zarr", data, (4, 100_000))
    z[...] = data
    windows = []
    real = _core.decode_chunk

    def recording(chunk, dtype, shape, first=None, last=None, threads=None):
        windows.append((first, last))
        return real(chunk, dtype, shape, first, last, threads)

    monkeypatch.setattr(_core, "decode_chunk", recording)
    np.testing.assert_array_equal(z[:, 50_000:50_100], data[:, 50_000:50_100])
    assert windows == [(50_000, 50_100)]
    # damage the last frame of the last stream: an early window still
    # reads, the whole chunk does not
    chunk = tmp_path / "a.zarr" / "c" / "0" / "0"
    raw = bytearray(chunk.read_bytes())
    raw[-40] ^= 0x5A
    chunk.write_bytes(bytes(raw))
    np.testing.assert_array_equal(z[:, :100], data[:, :100])
    with pytest.raises(_core.CorruptDataError):
        z[...]


@pytest.mark.parametrize("dtype", DTYPES)
def test_zarrs_reads_what_zarr_python_writes_and_the_reverse(tmp_path, dtype):
    data = signal(dtype, (3, 2, 1500))
    quanta = 1e-2 if dtype.startswith("float") else None
    by_python = tmp_path / "python.zarr"
    create(by_python, data, (2, 2, 600), quanta=quanta)[...] = data
    name, shape, raw = _core.zarrs_read_array(str(by_python))
    from_zarrs = raw.view(name).reshape(shape)
    from_python = zarr.open_array(str(by_python))[...]
    assert name == dtype and tuple(shape) == data.shape
    np.testing.assert_array_equal(from_zarrs, from_python)
    by_zarrs = tmp_path / "zarrs.zarr"
    _core.zarrs_write_array(str(by_zarrs), data, [2, 2, 600], 5, quanta)
    np.testing.assert_array_equal(zarr.open_array(str(by_zarrs))[...], from_python)
    # the same encoder behind both: the chunks are the same bytes
    chunks = sorted(p.relative_to(by_python) for p in (by_python / "c").rglob("*") if p.is_file())
    assert len(chunks) == 2 * 1 * 3
    for chunk in chunks:
        assert (by_python / chunk).read_bytes() == (by_zarrs / chunk).read_bytes()


def test_xarray_round_trip_is_lazy(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("dask")
    data = signal("float32", (6, 5000))
    ds = xr.Dataset(
        {"waveform": (("station", "time"), data)},
        coords={"station": [f"S{i}" for i in range(6)], "time": np.arange(5000)},
    ).chunk({"station": 2, "time": 2500})
    store = str(tmp_path / "waves.zarr")
    ds.to_zarr(
        store,
        encoding={
            "waveform": {
                "serializer": FlacCodec(quanta=1e-2),
                "compressors": None,
                "fill_value": 0.0,  # xarray's default NaN cannot be stored
            }
        },
        zarr_format=3,
        consolidated=False,
    )
    back = xr.open_zarr(store, consolidated=False)
    assert back["waveform"].chunks is not None  # a dask array: nothing read yet
    window = back["waveform"].isel(time=slice(1000, 1100)).values
    assert within_half_a_step(window, data[:, 1000:1100], 1e-2)
    meta = json.loads((Path(store) / "waveform" / "zarr.json").read_text())
    assert meta["codecs"][0]["name"] == "flacarray.flac"


WORKER_CHECK = """
def open_and_sum(path):
    import sys
    before = "flacarray" in sys.modules
    import zarr
    values = zarr.open_array(path)[...]
    return before, int(values.sum()), "flacarray.zarr_codec" in sys.modules
"""


def test_dask_cluster_writes_and_reads_chunks_in_parallel(tmp_path):
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    data = signal("int32", (8, 40_000))
    path = str(tmp_path / "dask.zarr")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            host="127.0.0.1",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        x = da.from_array(data, chunks=(2, 10_000))
        z = zarr.create_array(
            path,
            shape=data.shape,
            chunks=(2, 10_000),
            dtype=data.dtype,
            serializer=FlacCodec(),
            compressors=None,
        )
        da.store(x, z, lock=False)
        back = da.from_zarr(path)
        np.testing.assert_array_equal(back.compute(), data)
        # fresh worker processes open the array by path: the codec is
        # found through the package's entry point, with no set-up
        client.restart()
        namespace: dict = {"__name__": "flacarray_worker_check"}
        exec(WORKER_CHECK, namespace)
        results = client.run(namespace["open_and_sum"], path)
        assert len(results) == 2
        for before, total, loaded in results.values():
            assert not before and total == int(data.sum()) and loaded
        assert os.path.exists(os.path.join(path, "c", "3", "3"))
