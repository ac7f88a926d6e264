//! An Arrow-native pipeline with no numpy: compress a list column of
//! timestreams next to an id column, write Parquet with our own writer
//! properties, read it back with the parquet crate's reader and decode a
//! window of samples. Run: `cargo run --release --example arrow_parquet`
//! (the test command runs it; the asserts are its checks).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{ArrayRef, Int64Array, LargeListArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use flacarray::arrow::{compress_lists, decompress_lists, FlacColumn, SampleWindow};
use flacarray::{CompressOptions, FlacArray, IfExists};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

/// Detector `d`'s timestream: a slow sine plus an offset, 50,000+ samples.
fn timestream(d: i64) -> Vec<Option<f64>> {
    let n = 50_000 + 1000 * d;
    (0..n)
        .map(|i| Some((i as f64 * 1e-3).sin() * 10.0 + d as f64))
        .collect()
}

/// One record batch: detector ids and their compressed timestreams.
fn batch(ids: std::ops::Range<i64>, options: &CompressOptions) -> flacarray::Result<RecordBatch> {
    let lists = LargeListArray::from_iter_primitive::<Float64Type, _, _>(
        ids.clone().map(|d| Some(timestream(d))),
    );
    let (signal_field, signal) = compress_lists(&lists, options)?.to_field_and_array("signal");
    let schema = Schema::new(vec![Field::new("id", DataType::Int64, false), signal_field]);
    let ids = Arc::new(Int64Array::from_iter_values(ids)) as ArrayRef;
    RecordBatch::try_new(Arc::new(schema), vec![ids, signal])
        .map_err(|e| flacarray::Error::invalid(e.to_string()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A 1e-4 step: one FLAC stream per row.
    let options = CompressOptions::default().with_level(6).with_quanta(1e-4);
    let batches = [batch(0..3, &options)?, batch(3..5, &options)?];

    // Our own properties (zstd for our columns); the FLAC bytes stay
    // uncompressed and without statistics whatever we ask for.
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_created_by("arrow_parquet example".into())
        .build();
    let path =
        std::env::temp_dir().join(format!("flacarray_example_{}.parquet", std::process::id()));
    flacarray::parquet::write_batches(std::fs::File::create(&path)?, &batches, Some(properties))?;

    // Read with the parquet crate's own reader.
    let builder = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path)?)?;
    let chunk = builder.metadata().row_group(0);
    let codec_of = |name: &str| {
        (0..chunk.num_columns())
            .map(|i| chunk.column(i))
            .find(|c| c.column_path().string() == name)
            .map(|c| (c.compression(), c.statistics().is_some()))
            .expect("the column is in the file")
    };
    // (the footer records the codec, not its level)
    assert!(matches!(codec_of("id"), (Compression::ZSTD(_), true)));
    assert_eq!(
        codec_of("signal.stream"),
        (Compression::UNCOMPRESSED, false)
    );

    let mut rows = 0;
    for batch in builder.build()? {
        let batch = batch?;
        let ids = batch.column(0).as_primitive::<Int64Type>().clone();
        let signal = FlacColumn::from_record_batch(&batch, "signal")?;
        // Samples 1000..1003 of every row, decoding only their frames.
        let window = decompress_lists(&signal, SampleWindow::from(1000..1003))?;
        for row in 0..batch.num_rows() {
            let values = window.as_list::<i64>().value(row);
            let values = values.as_primitive::<Float64Type>().values();
            let expected = &timestream(ids.value(row))[1000..1003];
            for (got, want) in values.iter().zip(expected) {
                assert!((got - want.unwrap()).abs() <= 0.5e-4);
            }
            println!("detector {}: {values:?}", ids.value(row));
            rows += 1;
        }
    }
    assert_eq!(rows, 5);

    // Equal-length data is a FlacArray, and converts to a column and back.
    let data: Vec<i32> = (0..3 * 1000).map(|i| (i % 300) - 150).collect();
    let array = FlacArray::compress(&data, &[3, 1000], &CompressOptions::default())?;
    let back = FlacArray::from_arrow(&array.clone().into_arrow()?)?;
    assert_eq!(back, array);
    println!("{array} survives the Arrow round trip");
    std::fs::remove_file(path)?;

    // Whole arrays to a Parquet file and a zarr group; reading with a keep
    // mask of the leading shape reads only what holds the kept streams.
    let dir = std::env::temp_dir().join(format!("flacarray_example_{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let keep = [true, false, true];
    let parquet_path = dir.join("data.parquet");
    flacarray::parquet::write_array_file(&parquet_path, &array, "flac", IfExists::Fail)?;
    let part = flacarray::parquet::read_array_file(&parquet_path, "flac", Some((&keep, &[3])))?;
    let zarr_path = dir.join("data.zarr");
    flacarray::zarr::write_array(&zarr_path, &array, IfExists::Fail)?; // refuses to replace data
    let part2 = flacarray::zarr::read_array(&zarr_path, Some((&keep, &[3])))?;
    assert_eq!(part, part2);
    assert_eq!(part.shape(), &[2, 1000]);
    std::fs::remove_dir_all(dir)?;
    Ok(())
}
