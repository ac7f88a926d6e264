"""The demo helpers: reproducible fake data and plots saved as PNG."""

import numpy as np
import pytest

from flacarray import demo


def test_fake_data_reproducible_and_shaped():
    a = demo.create_fake_data((4, 3, 1000))
    b = demo.create_fake_data((4, 3, 1000))
    assert a.shape == (4, 3, 1000) and a.dtype == np.float64
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, demo.create_fake_data((4, 3, 1000), seed=1))
    f32 = demo.create_fake_data((2, 500), dtype=np.float32, sigma=2.0)
    assert f32.dtype == np.float32
    one = demo.create_fake_data((700,))
    assert one.shape == (700,)


def test_fake_data_matches_documented_recipe():
    shape, sigma, seed = (2, 3, 400), 1.5, 77
    rng = np.random.default_rng(seed)
    dc = 5 * sigma * (rng.random((2, 3, 1)) - 0.5)
    t = np.arange(400)
    wave = 2 * sigma * np.sin(2 * np.pi * (15 / 400) * t)
    wave = wave + 6 * sigma * np.sin(2 * np.pi * (5 / 400) * t)
    scale = rng.random((2, 3, 1))
    expected = dc + scale * wave + rng.normal(0, sigma, 2400).reshape(shape)
    got = demo.create_fake_data(shape, sigma=sigma, seed=seed)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32])
def test_uniform_full_range(dtype):
    data = demo.create_fake_data((3, 100), sigma=None, dtype=dtype)
    info = np.iinfo(dtype) if np.dtype(dtype).kind == "i" else np.finfo(dtype)
    assert data.ravel()[0] == info.min and data.ravel()[1] == info.max
    assert data.dtype == dtype


@pytest.mark.parametrize("shape", [(500,), (3, 500), (2, 3, 500)])
def test_plot_files(tmp_path, shape):
    data = demo.create_fake_data(shape)
    out = tmp_path / "plot.png"
    demo.plot_data(data, file=out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv(demo.PLOT_DIR_ENV, str(tmp_path))
    demo.plot_data(np.arange(10.0))
    demo.plot_data(np.ones((2, 10)), keep=np.array([True, False]), stream_slc=slice(2, 8))
    assert len(list(tmp_path.glob("plot_*.png"))) == 2


def test_plot_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="4-D"):
        demo.plot_data(np.zeros((2, 2, 2, 2)), file=tmp_path / "x.png")
    with pytest.raises(ValueError, match="keep has shape"):
        demo.plot_data(np.zeros((2, 5)), keep=np.ones(3, dtype=bool), file=tmp_path / "x.png")
