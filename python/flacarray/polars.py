"""Polars expressions: `pl.col(c).flac.compress(...)` and
`pl.col(c).flac.decompress(...)`, run by the Rust core as a Polars plugin.

The `flac` namespace is registered when both `flacarray` and `polars` are
imported, in either order.

    df.with_columns(pl.col("signal").flac.compress(quanta=1e-3))
    df.select(pl.col("signal").flac.decompress(-100, None))   # last 100 samples
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from polars.plugins import register_plugin_function

_LIB = Path(__file__).parent


def _per_row(name: str, value: object) -> pl.Expr | None:
    """A per-row step column (None for a single number)."""
    if isinstance(value, pl.Expr):
        return value
    if isinstance(value, str):
        return pl.col(value)
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(
            f"{name} must be a number, a column name or an expression, got {type(value).__name__}"
        )
    return None


@pl.api.register_expr_namespace("flac")
class FlacNamespace:
    """FLAC compression of List/Array columns, one stream per row."""

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    def compress(
        self,
        level: int = 5,
        quanta: float | str | pl.Expr | None = None,
        precision: float | str | pl.Expr | None = None,
    ) -> pl.Expr:
        """Compresses each row (a List or Array of a type in
        `flacarray.SUPPORTED_DTYPES`) into one FLAC stream. The result's dtype is the Extension
        dtype `flacarray.flac` over Struct{stream, offset, gain}.

        `quanta`/`precision` (floats only) may be a number, or a column name
        or expression giving one value per row.

        >>> import polars as pl
        >>> import flacarray
        >>> df = pl.DataFrame({"x": [[1.0, 2.5, 4.0], [0.5, 0.25]], "q": [0.5, 0.25]})
        >>> packed = df.select(pl.col("x").flac.compress(quanta="q"))
        >>> packed.select(pl.col("x").flac.decompress())["x"].to_list()
        [[1.0, 2.5, 4.0], [0.5, 0.25]]
        """
        if quanta is not None and precision is not None:
            # (checked here too: two per-row columns cannot reach the plugin)
            raise ValueError("give quanta or precision, not both")
        if isinstance(level, bool) or not isinstance(level, int | np.integer):
            raise TypeError(f"level must be an integer, got {level!r}")
        args = [self._expr]
        kwargs: dict[str, object] = {
            "level": int(level),
            "quanta": None,
            "precision": None,
            "per_row": None,
        }
        for name, value in (("quanta", quanta), ("precision", precision)):
            if value is None:
                continue
            column = _per_row(name, value)
            if column is not None:
                args.append(column)
                kwargs["per_row"] = name
            else:
                kwargs[name] = float(value)  # type: ignore[arg-type]  # a number here
        return register_plugin_function(
            plugin_path=_LIB,
            function_name="flac_compress",
            args=args,
            kwargs=kwargs,
            is_elementwise=True,
        )

    def decompress(
        self,
        start: int | slice | None = None,
        stop: int | None = None,
        dtype: str | None = None,
    ) -> pl.Expr:
        """Decompresses a `flacarray.flac` column into a List of the original
        dtype, keeping samples `start:stop` of each row (Python slice rules;
        a `slice` is accepted as `start`). Only the frames holding the window
        are decoded. A plain Struct{stream, offset, gain} column (read by a
        tool that drops the extension type, such as DuckDB) needs `dtype`
        ("int32", "int64", "float32" or "float64").

        >>> import polars as pl
        >>> import flacarray
        >>> df = pl.DataFrame({"x": [list(range(10)), list(range(100, 105))]})
        >>> packed = df.select(pl.col("x").flac.compress())
        >>> packed.select(pl.col("x").flac.decompress(-2, None))["x"].to_list()
        [[8, 9], [103, 104]]
        """
        if isinstance(start, slice):
            if stop is not None:
                raise TypeError("pass a slice or start/stop, not both")
            if start.step not in (None, 1):
                raise ValueError(f"the sample window must have step 1, got {start.step}")
            window_slice = start
            start, stop = window_slice.start, window_slice.stop
        window: dict[str, int | None] = {}
        for name, value in (("start", start), ("stop", stop)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | np.integer)
            ):
                raise TypeError(f"{name} must be an integer or None, got {value!r}")
            window[name] = None if value is None else int(value)
        return register_plugin_function(
            plugin_path=_LIB,
            function_name="flac_decompress",
            args=[self._expr],
            kwargs={
                "start": window["start"],
                "stop": window["stop"],
                "dtype": None if dtype is None else str(np.dtype(dtype)),
            },
            is_elementwise=True,
        )
