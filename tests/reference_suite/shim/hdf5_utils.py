from flacarray.hdf5_utils import H5File, have_hdf5  # noqa: F401
