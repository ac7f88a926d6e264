//! A 100-sample window of 10 rows from a ~100 MB Parquet object: how many
//! bytes the read fetches. Run: `cargo run --release --features
//! object_store --example object_store_window` (the test command runs it).

use std::sync::Arc;

use flacarray::parquet::{read_array_async, write_array_object, ObjectReader};
use flacarray::{CompressOptions, FlacArray, IfExists};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::ObjectStore;

/// `rows` float64 timestreams of `n` samples: a sine and white noise.
fn timestreams(rows: usize, n: usize) -> Vec<f64> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..rows * n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            ((i % n) as f64 / 300.0).sin() + noise
        })
        .collect()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (rows, n) = (4000, 20_000);
    let values = timestreams(rows, n);
    let options = CompressOptions::default().with_quanta(1e-3);
    let array = FlacArray::compress(&values, &[rows, n], &options)?;
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new_with_prefix(dir.path())?);
    let path = Path::from("archive/run-0001.parquet");
    write_array_object(&store, &path, &array, "signal", IfExists::Fail).await?;

    let picks = [12, 333, 334, 1024, 1999, 2000, 2718, 3141, 3500, 3999];
    let mut keep = vec![false; rows];
    for r in picks {
        keep[r] = true;
    }
    let reader = ObjectReader::open(store, path).await?;
    let size = reader.size();
    let kept = read_array_async(reader.clone(), size, "signal", Some((&keep, &[rows]))).await?;
    let window = kept.decompress::<f64>(&(0..picks.len()).collect::<Vec<_>>(), 1000..1100)?;
    for (i, r) in picks.into_iter().enumerate() {
        for (got, want) in window[i * 100..(i + 1) * 100]
            .iter()
            .zip(&values[r * n + 1000..])
        {
            assert!((got - want).abs() <= 0.5e-3 + 1e-12);
        }
    }
    let fetched = reader.bytes_fetched();
    println!(
        "object: {size} bytes, {rows} rows of {n} samples; samples 1000..1100 of 10 rows \
         fetched {fetched} bytes ({:.3}% of the object)",
        100.0 * fetched as f64 / size as f64
    );
    assert!(
        fetched * 100 < size,
        "more than 1% of the object was fetched"
    );
    Ok(())
}
