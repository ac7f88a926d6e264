//! `flac_decompress` in DataFusion against the core's own Parquet reads of
//! the same archive, in one run.
//!
//! `cargo bench -p flacarray-datafusion --bench archive [-- GIB [REPEATS]]`:
//! writes an archive of about GIB GiB (default 1) of float64 timestreams
//! (8 files, levels 0 to 8, rows of 50,000 to 200,000 samples) into
//! `$FLACARRAY_BENCH_DIR` (default: a folder under the system's temporary
//! directory, kept and reused while its size matches), then times, best of
//! REPEATS (default 3), interleaved:
//! - whole rows: `SELECT flac_decompress(signal) FROM archive` against
//!   `flacarray::parquet::read_array_file` + `FlacArray::decompress` and
//!   against the parquet crate's reader + `flacarray::arrow::decompress_lists`;
//! - a window: the same with samples 1000..1100 of every row.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::prelude::{ParquetReadOptions, SessionContext};
use flacarray::arrow::{compress_column, decompress_lists, FlacColumn, SampleWindow};
use flacarray::arrow_array::types::Float64Type;
use flacarray::arrow_array::{Array, ArrayRef, Int64Array, ListArray, RecordBatch};
use flacarray::parquet_crate::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use flacarray::CompressOptions;
use futures::StreamExt;

const FILES: usize = 8;

/// A timestream: a slow drift, a sine, white noise (a simple LCG), in
/// units whose step 1e-3 keeps about 10 bits of noise.
fn timestream(row: u64, n: usize) -> Vec<f64> {
    let mut state = row
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.8;
            let t = i as f64;
            1.5e-6 * t + 0.3 * (t / 700.0 + row as f64).sin() + noise
        })
        .collect()
}

/// Writes file `f` of the archive: about `bytes` of compressed streams.
fn write_file(path: &Path, f: usize, bytes: u64) -> flacarray::Result<()> {
    let samples = [50_000, 100_000, 200_000, 80_000][f % 4];
    let level = [0, 3, 5, 8][f % 4];
    // about 1.3 bytes a sample at this noise and step
    let rows = (bytes as f64 / (1.3 * samples as f64)).ceil() as usize;
    let mut writer = None;
    for chunk in (0..rows).collect::<Vec<_>>().chunks(64) {
        let ids = chunk.iter().map(|&r| (f * 1_000_000 + r) as i64);
        let lists = ListArray::from_iter_primitive::<Float64Type, _, _>(
            ids.clone()
                .map(|id| Some(timestream(id as u64, samples).into_iter().map(Some))),
        );
        let batch = RecordBatch::try_from_iter([
            (
                "id",
                Arc::new(Int64Array::from_iter_values(ids)) as ArrayRef,
            ),
            ("signal", Arc::new(lists) as ArrayRef),
        ])
        .map_err(|e| flacarray::Error::invalid(e.to_string()))?;
        let options = CompressOptions::default()
            .with_level(level)
            .with_quanta(1e-3);
        let packed = compress_column(&batch, "signal", &options)?;
        if writer.is_none() {
            let props = flacarray::parquet::writer_properties(packed.schema().as_ref(), None);
            writer = Some(
                flacarray::parquet_crate::arrow::ArrowWriter::try_new(
                    File::create(path)?,
                    packed.schema(),
                    Some(props),
                )
                .map_err(|e| flacarray::Error::invalid(e.to_string()))?,
            );
        }
        let w = writer.as_mut().expect("created above");
        w.write(&packed)
            .map_err(|e| flacarray::Error::invalid(e.to_string()))?;
        // about 16 MiB row groups
        if w.in_progress_size() > 16 << 20 {
            w.flush()
                .map_err(|e| flacarray::Error::invalid(e.to_string()))?;
        }
    }
    writer
        .expect("at least one row")
        .close()
        .map_err(|e| flacarray::Error::invalid(e.to_string()))?;
    Ok(())
}

fn archive(gib: f64) -> flacarray::Result<(PathBuf, u64)> {
    let dir = std::env::var_os("FLACARRAY_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join(format!("flacarray-df-archive-{gib}")));
    std::fs::create_dir_all(&dir)?;
    let per_file = (gib * (1u64 << 30) as f64 / FILES as f64) as u64;
    let mut total = 0;
    for f in 0..FILES {
        let path = dir.join(format!("part-{f}.parquet"));
        let ready = std::fs::metadata(&path).is_ok_and(|m| m.len() > per_file * 8 / 10);
        if !ready {
            eprintln!("writing {}", path.display());
            let partial = path.with_extension("partial");
            write_file(&partial, f, per_file)?;
            std::fs::rename(&partial, &path)?;
        }
        total += std::fs::metadata(&path)?.len();
    }
    Ok((dir, total))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    files
}

/// The core's whole-array read: the column as a FlacArray, then every
/// stream decoded. Returns the samples decoded.
fn core_array(dir: &Path, window: SampleWindow) -> usize {
    let mut samples = 0;
    for path in files(dir) {
        let array = flacarray::parquet::read_array_file(&path, "signal", None).unwrap();
        let streams: Vec<usize> = (0..array.nstreams()).collect();
        samples += array.decompress::<f64>(&streams, window).unwrap().len();
    }
    samples
}

/// The parquet crate's batches, each decoded by the core's Arrow layer.
fn core_batches(dir: &Path, window: SampleWindow) -> usize {
    let mut samples = 0;
    for path in files(dir) {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
            .unwrap()
            .with_batch_size(64)
            .build()
            .unwrap();
        for batch in reader {
            let column = FlacColumn::from_record_batch(&batch.unwrap(), "signal").unwrap();
            samples += decompress_lists(&column, window)
                .unwrap()
                .as_any()
                .downcast_ref::<flacarray::arrow_array::LargeListArray>()
                .unwrap()
                .values()
                .len();
        }
    }
    samples
}

async fn datafusion_query(ctx: &SessionContext, sql: &str) -> usize {
    let mut stream = ctx.sql(sql).await.unwrap().execute_stream().await.unwrap();
    let mut samples = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch.unwrap();
        let lists = batch
            .column(0)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::LargeListArray>()
            .unwrap();
        samples += lists.values().len();
    }
    samples
}

fn best(times: &[Duration]) -> f64 {
    times.iter().min().unwrap().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let gib: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1.0);
    let repeats: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let (dir, bytes) = archive(gib).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ctx = SessionContext::new();
    flacarray_datafusion::register(&ctx);
    runtime
        .block_on(ctx.register_parquet(
            "archive",
            dir.to_str().unwrap(),
            ParquetReadOptions::default(),
        ))
        .unwrap();
    println!(
        "archive: {} files, {:.3} GB, {} threads",
        files(&dir).len(),
        bytes as f64 / 1e9,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("| read | DataFusion flac_decompress | core read_array_file + decompress | parquet reader + decompress_lists | DataFusion / best core |");
    println!("|---|---|---|---|---|");
    for (label, window, sql) in [
        (
            "whole rows",
            SampleWindow::all(),
            "SELECT flac_decompress(signal) FROM archive",
        ),
        (
            "samples 1000..1100",
            SampleWindow::from(1000..1100),
            "SELECT flac_decompress(signal, 1000, 1100) FROM archive",
        ),
    ] {
        let (mut df, mut array, mut batches) = (Vec::new(), Vec::new(), Vec::new());
        let mut counts = [0; 3];
        for _ in 0..repeats {
            let t = Instant::now();
            counts[0] = runtime.block_on(datafusion_query(&ctx, sql));
            df.push(t.elapsed());
            let t = Instant::now();
            counts[1] = core_array(&dir, window);
            array.push(t.elapsed());
            let t = Instant::now();
            counts[2] = core_batches(&dir, window);
            batches.push(t.elapsed());
        }
        assert!(counts.iter().all(|&c| c == counts[0]), "{counts:?}");
        let core_best = best(&array).min(best(&batches));
        println!(
            "| {label} ({} samples) | {:.3} s | {:.3} s | {:.3} s | {:.2}x |",
            counts[0],
            best(&df),
            best(&array),
            best(&batches),
            best(&df) / core_best
        );
    }
}
