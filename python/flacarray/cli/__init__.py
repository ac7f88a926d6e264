"""The `flacarray` command (`main`): look at, convert and verify archives;
see `flacarray --help`. It uses only the package's public API: `FlacArray`
and `flacarray.containers`."""

from .main import main

__all__ = ["main"]
