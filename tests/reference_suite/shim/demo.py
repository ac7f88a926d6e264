"""The reference 0.4.1 returns `(data, mpi_dist)` from `create_fake_data`;
ours returns the data, as the seed tutorial (0.2.4) uses it. The
distribution is the one `flacarray.mpi.global_array_properties` gives."""

import numpy as np

from flacarray.demo import create_fake_data as _create_fake_data
from flacarray.mpi import global_array_properties


def create_fake_data(shape, sigma=1.0, dtype=np.float64, seed=123456789, comm=None, dc_sigma=5):
    data = _create_fake_data(
        shape, sigma=sigma, dtype=dtype, seed=seed, comm=comm, dc_sigma=dc_sigma
    )
    dist = global_array_properties(data.shape, data.dtype, comm)["dist"]
    return data, dist
