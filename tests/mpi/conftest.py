"""Each rank of an MPI test job gets its own pytest temporary folder.

Every rank runs its own pytest; with the default folder they all clean up
/tmp/pytest-of-<user> at once and trip over each other's deletions. The
rank comes from the launcher's environment (mpich's PMI_RANK, Open MPI's
OMPI_COMM_WORLD_RANK), so this does not start MPI.
"""

import os
import tempfile


def pytest_configure(config):
    rank = os.environ.get("PMI_RANK") or os.environ.get("OMPI_COMM_WORLD_RANK")
    if rank is not None and not config.option.basetemp:
        job = "mpich" if "PMI_RANK" in os.environ else "openmpi"
        parent = os.path.join(tempfile.gettempdir(), "flacarray-mpi-tests")
        os.makedirs(parent, exist_ok=True)  # pytest makes (and empties) the rank's own
        config.option.basetemp = os.path.join(parent, f"{job}-rank{rank}")
