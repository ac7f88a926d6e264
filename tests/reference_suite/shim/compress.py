from flacarray.compress import array_compress  # noqa: F401
