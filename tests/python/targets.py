"""Writing an array by container kind, for the tests that run over kinds."""


def write_kind(kind, target, fa, overwrite=False):
    """Writes `fa` into `target` with the writer of container `kind`:
    "hdf5", "parquet", or a zarr group or path ("zarr", "zarr-python")."""
    if kind == "hdf5":
        fa.write_hdf5(target, overwrite=overwrite)
    elif kind == "parquet":
        fa.write_parquet(target, overwrite=overwrite)
    else:
        fa.write_zarr(target, overwrite=overwrite)
