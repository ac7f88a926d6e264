from flacarray.decompress import array_decompress, array_decompress_slice  # noqa: F401
