from flacarray.zarr import (  # noqa: F401
    ZarrGroup,
    have_zarr,
    read_array,
    read_compressed,
    write_array,
    write_compressed,
)
