"""A small typed user script: mypy checks it against the package's
annotations and stubs (`mypy` in the test command), and
tests/python/test_typing.py runs it."""

import sys
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

import flacarray.hdf5
import flacarray.parquet
from flacarray import CorruptDataError, FlacArray


def compress_and_check(data: npt.NDArray[np.float64], folder: Path) -> float:
    fa: FlacArray = FlacArray.from_array(data, level=6, quanta=1e-3)
    restored: np.ndarray = fa.to_array()
    window: np.ndarray = fa[:, 100:200]
    kept, indices = fa.to_array(keep=np.array([True, False, True]), keep_indices=True)
    assert indices == [(0,), (2,)] and kept.shape == (2, data.shape[1])
    assert np.array_equal(window, restored[:, 100:200])
    path = folder / "signal.parquet"
    fa.write_parquet(path)
    back: FlacArray = FlacArray.read_parquet(path, keep=np.array([True, True, False]))
    assert back.shape == (2, data.shape[1])
    first_two: np.ndarray = flacarray.parquet.read_array(path, stream_slice=slice(0, 50))
    assert first_two.shape == (3, 50)
    try:
        FlacArray.read_parquet(folder / "missing.parquet")
    except (FileNotFoundError, CorruptDataError):
        pass
    return float(np.abs(restored - data).max())


def main() -> int:
    rng = np.random.default_rng(1)
    data = np.cumsum(rng.normal(0, 0.01, (3, 1000)), axis=1)
    with tempfile.TemporaryDirectory() as folder:
        error = compress_and_check(data, Path(folder))
    print(f"max error {error:.2e}")
    return 0 if error <= 0.5e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
