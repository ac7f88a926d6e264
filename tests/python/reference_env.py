"""A virtualenv with the reference package (flacarray 0.4.1 from PyPI),
used through subprocesses because both packages import as `flacarray`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REFERENCE = ["flacarray==0.4.1", "h5py==3.16.0", "zarr==3.1.6", "mpich==5.0.2", "mpi4py==4.1.2"]
CACHE = Path(os.environ.get("FLACARRAY_CACHE", Path.home() / ".cache" / "flacarray"))
VENV = CACHE / "ref-venv"


def reference_python() -> str:
    """The reference virtualenv's interpreter, created on first use."""
    python = VENV / "bin" / "python"
    stamp = VENV / ".reference"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if not stamp.exists() or stamp.read_text() != " ".join(REFERENCE):
        subprocess.run([str(python), "-m", "pip", "install", "-q", *REFERENCE], check=True)
        stamp.write_text(" ".join(REFERENCE))
    return str(python)


READER = r"""
import json, sys
import numpy as np
import h5py, zarr
import flacarray.hdf5, flacarray.zarr

results = {}
for case in json.loads(sys.argv[1]):
    try:
        if case["container"] == "h5":
            with h5py.File(case["path"], "r") as hf:
                out = flacarray.hdf5.read_array(hf)
        else:
            out = flacarray.zarr.read_array(zarr.open_group(case["path"], mode="r"))
        np.save(case["out"], out)
        results[case["out"]] = "ok"
    except Exception as err:  # reported, not raised: the caller asserts
        results[case["out"]] = f"{type(err).__name__}: {err}"
print(json.dumps(results))
"""


def reference_read(cases: list[dict]) -> dict:
    """Has the reference read each {"container", "path", "out"}; returns
    "ok" or the reference's error per output file."""
    proc = subprocess.run(
        [reference_python(), "-c", READER, json.dumps(cases)],
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        cwd="/",
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])
