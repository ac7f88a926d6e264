from flacarray.hdf5 import read_array, read_compressed, write_array, write_compressed  # noqa: F401
