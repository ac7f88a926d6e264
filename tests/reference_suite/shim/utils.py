from flacarray.utils import float_to_int, int_to_float  # noqa: F401
