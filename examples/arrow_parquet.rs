//! An Arrow-native pipeline with no numpy: compress a list column of
//! timestreams, store it in Parquet, read two streams back and decode a
//! window of samples. Run: `cargo run --release --example arrow_parquet`.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{ArrayRef, LargeListArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use flacarray::arrow::{compress_lists, decompress_lists, FlacColumn, SampleWindow};
use flacarray::{CompressOptions, FlacArray, StepSpec};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Four detector timestreams of different lengths, one per row.
    let rows: Vec<Option<Vec<Option<f64>>>> = (0..4)
        .map(|d| {
            let n = 50_000 + 1000 * d;
            Some(
                (0..n)
                    .map(|i| Some((i as f64 * 1e-3).sin() * 10.0 + d as f64))
                    .collect(),
            )
        })
        .collect();
    let timestreams = LargeListArray::from_iter_primitive::<Float64Type, _, _>(rows);

    // Compress with a 1e-4 step: one FLAC stream per row.
    let options = CompressOptions {
        step: StepSpec::Quanta(vec![1e-4]),
        ..Default::default()
    };
    let column = compress_lists(&timestreams, &options)?;

    // A record batch with the compressed column next to ordinary columns.
    let names = Arc::new(StringArray::from(vec!["det0", "det1", "det2", "det3"])) as ArrayRef;
    let schema = Arc::new(Schema::new(vec![
        Field::new("detector", DataType::Utf8, false),
        column.field("signal"),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![names, Arc::new(column.storage().clone()) as ArrayRef],
    )?;

    // Parquet archival; the extension metadata travels in the Arrow schema.
    let path = std::env::temp_dir().join("flacarray_example.parquet");
    flacarray::parquet::write_batch(std::fs::File::create(&path)?, &batch, 2)?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&path)?,
    )?
    .build()?;
    for batch in reader {
        let column = FlacColumn::from_record_batch(&batch?, "signal")?;
        // The last 5 samples of every row, decoding only their frames.
        let tail = decompress_lists(&column, SampleWindow::new(Some(-5), None))?;
        for row in 0..tail.len() {
            let values = tail.as_list::<i64>().value(row);
            println!(
                "row {row}: {:?}",
                values.as_primitive::<Float64Type>().values()
            );
        }
    }

    // Equal-length data is a FlacArray, and converts to a column and back.
    let data: Vec<i32> = (0..3 * 1000).map(|i| (i % 300) - 150).collect();
    let array = FlacArray::compress(&data, &[3, 1000], &CompressOptions::default())?;
    let back = FlacArray::from_arrow(&array.clone().into_arrow()?)?;
    assert_eq!(back, array);
    println!("{array} survives the Arrow round trip");
    std::fs::remove_file(path)?;
    Ok(())
}
