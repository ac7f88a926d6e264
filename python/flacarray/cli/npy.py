"""Writing a `.npy` file for the `flacarray` command: beside its place,
header last, renamed into place only when complete."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from typing import Any

import numpy as np


def same_file(a: str, b: str) -> bool:
    """Whether two paths name the same file or directory (links followed)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


class NpyWriter:
    """A `.npy` file written beside its place and moved there once
    complete: the header (which makes it readable) is written last, so a
    file left by a killed process is no `.npy` at all, and the destination
    is never touched before the move."""

    def __init__(self, path: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.path = os.path.realpath(path)  # through a link: its target
        folder, name = os.path.split(self.path)
        self.temp = os.path.join(folder, f".{name}.flacarray-new-{os.getpid()}")
        header = io.BytesIO()
        meta: dict[str, Any] = {
            "descr": np.lib.format.dtype_to_descr(dtype),
            "fortran_order": False,
            "shape": shape,
        }
        try:
            np.lib.format.write_array_header_1_0(header, meta)
        except ValueError:
            np.lib.format.write_array_header_2_0(header, meta)
        self.header = header.getvalue()
        self.file = open(self.temp, "wb")  # noqa: SIM115 (closed in commit/abort)
        self.file.write(b"\0" * len(self.header))

    def write(self, block: np.ndarray) -> None:
        self.file.write(np.ascontiguousarray(block).tobytes())

    def commit(self) -> None:
        self.file.seek(0)
        self.file.write(self.header)
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.temp, self.path)

    def abort(self) -> None:
        self.file.close()
        with contextlib.suppress(OSError):
            os.unlink(self.temp)


@contextlib.contextmanager
def npy_writer(path: str, shape: tuple[int, ...], dtype: np.dtype) -> Iterator[NpyWriter]:
    writer = NpyWriter(path, shape, dtype)
    try:
        yield writer
    except BaseException:
        writer.abort()
        raise
    writer.commit()
