"""Helpers for tutorials and tests: fake detector data and quick plots."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt

#: When this environment variable names a folder, `plot_data` calls without
#: `file=` save numbered PNG files there instead of opening a window.
PLOT_DIR_ENV = "FLACARRAY_PLOT_DIR"


def create_fake_data(
    shape: tuple[int, ...],
    sigma: float | None = 1.0,
    dtype: npt.DTypeLike = np.float64,
    seed: int = 123456789,
    comm: Any = None,
    dc_sigma: float | None = 5,
) -> np.ndarray:
    """Makes reproducible fake timestreams, the same numbers as the reference
    package's generator for the same arguments.

    Each stream is a random DC level (uniform within +-dc_sigma*sigma/2), plus
    a randomly scaled slow two-sine waveform, plus Gaussian noise of width
    `sigma`. With `sigma=None` the values are instead uniform over the
    dtype's whole range, with its minimum and maximum in the first two samples.

    Returns the array (shape `shape`, dtype `dtype`). With an mpi4py
    `comm`, `shape` is this rank's local shape and each rank gets its part
    of the same global array (the ranks' parts stacked along the leading
    axis); every rank computes the global array from the seed, so nothing
    is communicated but the shapes. (The reference 0.4.1 returns
    `(data, mpi_dist)` here; this returns the array, as the seed tutorial
    uses it — the distribution is `FlacArray.mpi_dist` after compressing.)

    >>> from flacarray import demo
    >>> data = demo.create_fake_data((4, 1000), sigma=1.0)
    >>> data.shape, data.dtype.name
    ((4, 1000), 'float64')
    """
    shape = tuple(int(s) for s in np.atleast_1d(shape))
    dtype = np.dtype(dtype)
    if comm is not None:
        from . import mpi

        props = mpi.global_array_properties(shape, dtype, comm)
        whole = create_fake_data(props["shape"], sigma, dtype, seed, None, dc_sigma)
        first, last = props["dist"][comm.rank]
        if first == last:  # no streams here: (0,) + the global trailing shape
            return whole[first:last]
        return whole[first:last].reshape(shape)
    n_total = int(np.prod(shape, dtype=np.int64))
    length = shape[-1]
    per_stream = shape[:-1] + (1,)
    rng = np.random.default_rng(seed=seed)

    if sigma is None:
        if dtype.kind in "iu":
            low, high = np.iinfo(dtype).min, np.iinfo(dtype).max
            flat = rng.integers(low=low, high=high, size=n_total, dtype=np.int64).astype(dtype)
        else:
            low, high = np.finfo(dtype).min, np.finfo(dtype).max
            flat = rng.uniform(low=low, high=high, size=n_total).astype(dtype)
        flat[0], flat[1] = low, high
        return flat.reshape(shape)

    # (without a DC spread, the reference draws nothing for it)
    dc = 0.0 if dc_sigma is None else dc_sigma * sigma * (rng.random(size=per_stream) - 0.5)
    t = np.arange(length)
    base = 5 / length
    wave = np.zeros(length, dtype=dtype)
    for freq, amp in ((3 * base, 2 * sigma), (base, 6 * sigma)):
        wave[:] += amp * np.sin(2 * np.pi * freq * t)
    scale = rng.random(size=per_stream)
    data = np.empty(shape, dtype=dtype)
    data[...] = dc
    data[...] += scale * wave
    data[...] += rng.normal(0.0, sigma, n_total).reshape(shape)
    return data


_plot_counter = 0


def _next_plot_file() -> str | None:
    global _plot_counter
    folder = os.environ.get(PLOT_DIR_ENV)
    if not folder:
        return None
    os.makedirs(folder, exist_ok=True)
    _plot_counter += 1
    return os.path.join(folder, f"plot_{_plot_counter:02d}.png")


def plot_data(
    data: np.ndarray,
    keep: npt.ArrayLike | None = None,
    stream_slc: slice = slice(None),
    file: str | None = None,
) -> None:
    """Plots 1-D (one stream), 2-D (stacked streams) or 3-D (a grid of
    streams) data with matplotlib.

    Args:
        data: the array to plot.
        keep: optional boolean mask over the leading shape; only those streams
            are drawn.
        stream_slc: slice of samples to draw.
        file: save to this PNG file instead of showing a window. Without it,
            and with FLACARRAY_PLOT_DIR set, numbered files go to that folder.

    >>> import os, tempfile
    >>> from flacarray import demo
    >>> path = os.path.join(tempfile.mkdtemp(), "streams.png")
    >>> demo.plot_data(demo.create_fake_data((2, 500)), file=path)
    >>> os.path.getsize(path) > 0
    True
    """
    import matplotlib.pyplot as plt

    if file is None:
        file = _next_plot_file()

    data = np.asarray(data)
    if data.ndim > 3 or data.ndim == 0:
        raise ValueError(f"can plot 1-D, 2-D or 3-D data, got {data.ndim}-D")
    if keep is not None:
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != data.shape[:-1]:
            raise ValueError(f"keep has shape {keep.shape}; expected {data.shape[:-1]}")

    if data.ndim == 1:
        rows, cols = 1, 1
    elif data.ndim == 2:
        rows, cols = data.shape[0], 1
    else:
        rows, cols = data.shape[1], data.shape[0]
    fig = plt.figure(figsize=(6 * cols, 4 * rows), dpi=100)
    for row in range(rows):
        for col in range(cols):
            index: tuple[int, ...]
            if data.ndim == 1:
                index = ()
            elif data.ndim == 2:
                index = (row,)
            else:
                index = (col, row)
            if keep is not None and not keep[index]:
                continue
            ax = fig.add_subplot(rows, cols, row * cols + col + 1)
            ax.plot(data[index][stream_slc], color="black", linewidth=0.6)
            if index:
                ax.set_title(f"stream {index}", fontsize=9)
    fig.tight_layout()
    if file is None:
        plt.show()
    else:
        fig.savefig(file)
    plt.close(fig)
