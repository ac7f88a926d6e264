"""The README's Polars example runs as written."""

import polars as pl

import flacarray  # noqa: F401


def test_readme_polars_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    df = pl.DataFrame(
        {"det": ["a", "b"], "signal": [[1.0, 2.0, 3.0], [4.0, 5.0]], "q": [1e-3, 1e-4]}
    )
    packed = df.with_columns(pl.col("signal").flac.compress(quanta="q"))
    assert "flacarray.flac" in str(packed.schema["signal"])
    packed.write_parquet("signals.parquet")
    out = pl.scan_parquet("signals.parquet").select(pl.col("signal").flac.decompress(-2, None))
    assert out.collect()["signal"].to_list() == [[2.0, 3.0], [4.0, 5.0]]
