from pathlib import Path

import numpy as np
import pytest

from flacarray import demo


@pytest.fixture(scope="session")
def fake3d():
    return demo.create_fake_data((4, 3, 10000))


def make_data(dtype, shape, seed=0):
    """Timestream-like data of any supported dtype."""
    rng = np.random.default_rng(seed)
    n = shape[-1]
    t = np.arange(n)
    lead = shape[:-1] + (1,)
    base = rng.uniform(-50, 50, size=lead) + 20 * np.sin(2 * np.pi * t / max(n, 1) * 3)
    values = base + rng.normal(0, 3, size=shape)
    dtype = np.dtype(dtype)
    if dtype.kind == "i":
        return np.round(values * 1000).astype(dtype)
    return values.astype(dtype)


INTEROP = Path(__file__).resolve().parents[3] / "shared" / "interop"


@pytest.fixture
def interop_dir():
    """The reference package's files (shared/interop beside the clone)."""
    if not INTEROP.is_dir():
        pytest.skip("shared/interop is not beside this clone")
    return INTEROP
