from flacarray.array import FlacArray  # noqa: F401
