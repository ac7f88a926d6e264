"""Type stubs for the Rust extension module `flacarray._core` (python/src/).

Everything here is internal to the package: the public API is `FlacArray`
and the `flacarray.hdf5` / `zarr` / `parquet` / `arrow` modules.
"""

from collections.abc import Callable
from os import PathLike
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__version__: Final[str]
DTYPES: Final[list[str]]
GROUP_ARRAYS: Final[list[str]]
GROUP_ATTRIBUTES: Final[list[str]]
BYTES_CHUNK: Final[int]
VERSION_ATTRIBUTE: Final[str]
COMMIT_ATTRIBUTE: Final[str]
STAGED_PREFIX: Final[str]

class CorruptDataError(ValueError):
    """Compressed bytes or container metadata are damaged or inconsistent."""

class ArrayParts:
    """A compressed array's parts as they cross between Python and the core
    (the numpy arrays are shared, never copied)."""

    def __init__(
        self,
        dtype: str,
        shape: list[int] | tuple[int, ...],
        compressed: npt.NDArray[np.uint8],
        stream_starts: npt.NDArray[np.int64],
        stream_nbytes: npt.NDArray[np.int64],
        stream_offsets: npt.NDArray[np.float64] | None = None,
        stream_gains: npt.NDArray[np.float64] | None = None,
        level: int = 5,
    ) -> None: ...
    @property
    def dtype(self) -> str: ...
    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def compressed(self) -> npt.NDArray[np.uint8]: ...
    @property
    def stream_starts(self) -> npt.NDArray[np.int64]: ...
    @property
    def stream_nbytes(self) -> npt.NDArray[np.int64]: ...
    @property
    def stream_offsets(self) -> npt.NDArray[np.float64] | None: ...
    @property
    def stream_gains(self) -> npt.NDArray[np.float64] | None: ...
    @property
    def level(self) -> int: ...
    def with_compressed(self, compressed: npt.NDArray[np.uint8]) -> ArrayParts: ...
    def with_shape(self, shape: list[int] | tuple[int, ...]) -> ArrayParts: ...
    def fields(
        self,
    ) -> tuple[
        str,
        tuple[int, ...],
        npt.NDArray[np.uint8],
        npt.NDArray[np.int64],
        npt.NDArray[np.int64],
        npt.NDArray[np.float64] | None,
        npt.NDArray[np.float64] | None,
        int,
    ]: ...

class PlannedArray:
    """One array a group writer creates (the core's write plan)."""

    @property
    def name(self) -> str: ...
    @property
    def field(self) -> str: ...
    @property
    def dtype(self) -> str: ...
    @property
    def shape(self) -> list[int]: ...
    @property
    def chunks(self) -> list[int]: ...
    @property
    def attributes(self) -> str: ...

def compress(
    arr: npt.NDArray[Any],
    level: int = 5,
    quanta: list[float] | None = None,
    precision: list[float] | None = None,
    threads: int | None = None,
) -> ArrayParts: ...
def decompress_into(
    parts: ArrayParts,
    streams: npt.NDArray[np.int64],
    first: int,
    last: int,
    out: npt.NDArray[Any],
    threads: int | None = None,
) -> None: ...
def validate(parts: ArrayParts) -> None: ...
def to_current_layout(parts: ArrayParts) -> ArrayParts | None: ...
def to_column_layout(parts: ArrayParts) -> ArrayParts | None: ...
def same_streams(a: ArrayParts, b: ArrayParts) -> bool: ...
def frame_row_values(
    parts: ArrayParts,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]] | None: ...
def describe_group(description: str) -> dict[str, Any]: ...
def plan_group_read(
    description: str,
    starts: npt.NDArray[np.int64] | None,
    nbytes: npt.NDArray[np.int64] | None,
    offsets: npt.NDArray[np.float64] | None = None,
    gains: npt.NDArray[np.float64] | None = None,
    keep: npt.NDArray[np.bool_] | None = None,
) -> tuple[npt.NDArray[np.int64], ArrayParts, int | None]: ...
def check_stream_channels(parts: ArrayParts, channels: int | None = None) -> None: ...
def resolve_group(attributes: str, present: list[str]) -> tuple[str, dict[str, str], bool]: ...
def commit_record(arrays: list[str], attributes: str) -> str: ...
def column_metadata(parts: ArrayParts) -> dict[str, str]: ...
def quantize(
    arr: npt.NDArray[Any],
    quanta: list[float] | None = None,
    precision: list[float] | None = None,
    threads: int | None = None,
) -> tuple[npt.NDArray[Any], npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...
def restore(
    ints: npt.NDArray[Any], offsets: list[float], gains: list[float], threads: int | None = None
) -> npt.NDArray[Any]: ...
def check_column(
    parts: ArrayParts,
    channels: int | None = None,
    digest: str | None = None,
    shape: list[int] | tuple[int, ...] | None = None,
) -> None: ...
def plan_group_arrays(dtype: str, shape: list[int], compressed_len: int) -> list[PlannedArray]: ...
def group_attributes(parts: ArrayParts) -> str: ...
def parse_flac_metadata(text: str) -> tuple[str, dict[str, Any] | None]: ...
def flac_metadata_json(dtype: str) -> str: ...
def stream_info(bytes: bytes) -> tuple[int, int, int]: ...
def dtype_from_channels(channels: int, has_scales: bool) -> str | None: ...
def stream_lengths(
    compressed: npt.NDArray[np.uint8],
    starts: npt.NDArray[np.int64],
    nbytes: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]: ...
def write_parquet(
    path: str | PathLike[str], column: str, parts: ArrayParts, overwrite: bool = False
) -> None: ...
def write_parquet_parts(
    path: str | PathLike[str],
    column: str,
    whole: ArrayParts,
    next_part: Callable[[], ArrayParts | None],
    overwrite: bool = False,
) -> None: ...
def check_chunk_codec(
    level: int = 5,
    quanta: float | None = None,
    precision: float | None = None,
    dtype: str | None = None,
) -> None: ...
def encode_chunk(
    arr: npt.NDArray[Any],
    level: int = 5,
    quanta: float | None = None,
    precision: float | None = None,
    threads: int | None = None,
) -> npt.NDArray[np.uint8]: ...
def decode_chunk(
    chunk: npt.NDArray[np.uint8],
    dtype: str,
    shape: list[int],
    first: int | None = None,
    last: int | None = None,
    threads: int | None = None,
) -> npt.NDArray[Any]: ...

# zarrs_write_array, decode_stream and zarrs_read_array exist only in builds
# with the `test-hooks` cargo feature (the test build); the package never
# calls them.
def zarrs_write_array(
    path: str | PathLike[str],
    arr: npt.NDArray[Any],
    chunks: list[int] | tuple[int, ...],
    level: int = 5,
    quanta: float | None = None,
    precision: float | None = None,
) -> None: ...
def decode_stream(
    stream: npt.NDArray[np.uint8], stream_len: int, wide: bool, decoder: str = "native"
) -> npt.NDArray[Any]: ...
def verify_stream(stream: npt.NDArray[np.uint8], stream_len: int) -> bool: ...
def zarrs_read_array(path: str | PathLike[str]) -> tuple[str, list[int], npt.NDArray[np.uint8]]: ...
def parquet_leading_shape(path: str | PathLike[str], column: str) -> tuple[str, list[int]]: ...
def read_parquet(
    path: str | PathLike[str], column: str, keep: npt.NDArray[np.bool_] | None = None
) -> ArrayParts: ...
def write_zarr(path: str | PathLike[str], parts: ArrayParts, overwrite: bool = False) -> None: ...
def read_zarr(
    path: str | PathLike[str], keep: npt.NDArray[np.bool_] | None = None
) -> ArrayParts: ...
