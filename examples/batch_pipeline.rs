//! A batch pipeline in Arrow terms: compress the signal column of a
//! multi-column record batch in place, write Parquet with our own writer
//! properties, read back only some rows, and decode a window of each: the
//! schema that comes back is the one that went in. Run: `cargo run
//! --release --example batch_pipeline` (the test command runs it).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Int64Array, ListArray, RecordBatch, TimestampMillisecondArray};
use flacarray::arrow::{compress_column, decompress_column, ListKind};
use flacarray::CompressOptions;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReaderBuilder, RowSelection, RowSelector};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

/// Event `e`'s waveform: 20,000 ADC counts of a decaying oscillation.
fn waveform(e: i64) -> Vec<Option<i32>> {
    (0..20_000)
        .map(|i| {
            Some(
                (3000.0 * (-(i as f64) / 4000.0).exp() * (i as f64 / (9.0 + e as f64)).sin())
                    as i32,
            )
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let events = 0..200i64;
    let original = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(Int64Array::from_iter_values(events.clone())) as _,
        ),
        (
            "time",
            Arc::new(TimestampMillisecondArray::from_iter_values(
                events.clone().map(|e| e * 1000),
            )) as _,
        ),
        (
            "signal",
            Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(
                events.map(|e| Some(waveform(e))),
            )) as _,
        ),
    ])?;

    // flacarray: the signal column becomes one FLAC stream per row
    let packed = compress_column(
        &original,
        "signal",
        &CompressOptions::default().with_level(5),
    )?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_max_row_group_row_count(Some(50))
        .build();
    let mut file = Vec::new();
    flacarray::parquet::write_batches(&mut file, [&packed], Some(props))?;

    // read rows 120..130 only, and decode samples 1000..1100 of each
    let selection = RowSelection::from(vec![RowSelector::skip(120), RowSelector::select(10)]);
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(file.clone()))?
        .with_row_selection(selection)
        .build()?;
    for batch in reader {
        let window = decompress_column(&batch?, "signal", 1000..1100, ListKind::SameAsInput)?;
        assert_eq!(window.schema(), original.schema());
        let signal = window.column(2).as_list::<i32>();
        for row in 0..window.num_rows() {
            let id = window
                .column(0)
                .as_primitive::<arrow_array::types::Int64Type>()
                .value(row);
            let expected: Vec<i32> = waveform(id)[1000..1100].iter().flatten().copied().collect();
            assert_eq!(
                signal.value(row).as_primitive::<Int32Type>().values(),
                &expected[..]
            );
        }
    }
    let raw: usize = original.column(2).get_array_memory_size();
    println!(
        "200 waveforms: {raw} bytes in memory, {} bytes of Parquet",
        file.len()
    );
    Ok(())
}
