from flacarray.mpi import MPI, use_mpi  # noqa: F401
