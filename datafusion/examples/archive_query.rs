//! SQL over an archive of flacarray Parquet files written over the years
//! (different levels, different stream lengths): one event's window,
//! decoded from the frames that hold it. Run: `cargo run --release -p
//! flacarray-datafusion --example archive_query` (the test command runs it).

use std::sync::Arc;

use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::SessionContext;
use flacarray::arrow::compress_column;
use flacarray::arrow_array::types::Int32Type;
use flacarray::arrow_array::{ArrayRef, Int64Array, ListArray, RecordBatch};
use flacarray::CompressOptions;

/// A year's file: `events` rows of `samples` ADC counts, at `level`.
fn write_year(dir: &std::path::Path, year: i64, samples: i32, level: u32) -> flacarray::Result<()> {
    let ids = year * 1000..year * 1000 + 50;
    let waveform = |id: i64| (0..samples).map(move |i| Some((i * 37 + id as i32) % 2001 - 1000));
    let batch = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(Int64Array::from_iter_values(ids.clone())) as ArrayRef,
        ),
        (
            "signal",
            Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(
                ids.map(|id| Some(waveform(id))),
            )) as ArrayRef,
        ),
    ])
    .map_err(|e| flacarray::Error::invalid(e.to_string()))?;
    let packed = compress_column(
        &batch,
        "signal",
        &CompressOptions::default().with_level(level),
    )?;
    let file = std::fs::File::create(dir.join(format!("{year}.parquet")))?;
    flacarray::parquet::write_batches(file, [&packed], None)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let archive = tempfile::tempdir()?;
    for (year, samples, level) in [(2019, 8_000, 0), (2022, 20_000, 5), (2025, 50_000, 8)] {
        write_year(archive.path(), year, samples, level)?;
    }

    let ctx = SessionContext::new().enable_url_table();
    flacarray_datafusion::register(&ctx);
    let sql = format!(
        "SELECT id, flac_len(signal) AS samples, flac_decompress(signal, 1000, 1005) AS window \
         FROM '{}/*.parquet' WHERE id IN (2019007, 2025042) ORDER BY id",
        archive.path().display()
    );
    let batches = ctx.sql(&sql).await?.collect().await?;
    let table = pretty_format_batches(&batches)?.to_string();
    println!("{table}");
    // samples 1000..1005 of event 2025042: (i * 37 + id) % 2001 - 1000
    let expected: Vec<String> = (1000..1005)
        .map(|i: i32| format!("{}", (i * 37 + 2025042) % 2001 - 1000))
        .collect();
    assert!(table.contains(&expected.join(".0, ")), "{table}");
    Ok(())
}
