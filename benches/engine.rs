//! Engine throughput: compress and decompress MB/s (one thread and all
//! threads), bits per sample, and a 100-sample slice from a 100k stream.
//!
//! `cargo bench --bench engine` prints a size table first, then criterion's
//! timings (throughput in input bytes per second).

mod datasets;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use datasets::{Data, Dataset};
use flacarray::{with_thread_count, FlacArray};

fn compress(ds: &Dataset) -> FlacArray {
    ds.compress()
}

fn decompress(ds: &Dataset, fa: &FlacArray) -> usize {
    match ds.data {
        Data::I32(_) => fa.to_vec::<i32>().map(|v| v.len()),
        Data::I64(_) => fa.to_vec::<i64>().map(|v| v.len()),
        Data::F64(_) => fa.to_vec::<f64>().map(|v| v.len()),
    }
    .expect("benchmark data decompresses")
}

fn slice(ds: &Dataset, fa: &FlacArray) -> usize {
    let range = 50_000..50_100;
    match ds.data {
        Data::I32(_) => fa.decompress::<i32>(&[0], range).map(|v| v.len()),
        Data::I64(_) => fa.decompress::<i64>(&[0], range).map(|v| v.len()),
        Data::F64(_) => fa.decompress::<f64>(&[0], range).map(|v| v.len()),
    }
    .expect("benchmark slice decodes")
}

fn engine(c: &mut Criterion) {
    let sets = datasets::all();
    println!(
        "\n{:<4} {:>12} {:>12} {:>10} {:>8}  data",
        "id", "input B", "output B", "bits/smp", "bound"
    );
    let arrays: Vec<FlacArray> = sets.iter().map(compress).collect();
    for (ds, fa) in sets.iter().zip(&arrays) {
        let bits = fa.nbytes() as f64 * 8.0 / ds.samples() as f64;
        let bound = ds.bound.map_or("-".to_string(), |b| format!("{b:.2}"));
        println!(
            "{:<4} {:>12} {:>12} {:>10.2} {:>8}  {}",
            ds.id,
            ds.input_bytes(),
            fa.nbytes(),
            bits,
            bound,
            ds.about
        );
    }
    let cores = rayon::current_num_threads();
    for (ds, fa) in sets.iter().zip(&arrays) {
        let mut group = c.benchmark_group(ds.id);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4));
        group.throughput(Throughput::Bytes(ds.input_bytes() as u64));
        for threads in [1, cores] {
            group.bench_function(BenchmarkId::new("compress", format!("{threads}t")), |b| {
                b.iter(|| with_thread_count(Some(threads), || Ok(compress(ds))).unwrap())
            });
            group.bench_function(BenchmarkId::new("decompress", format!("{threads}t")), |b| {
                b.iter(|| with_thread_count(Some(threads), || Ok(decompress(ds, fa))).unwrap())
            });
        }
        group.throughput(Throughput::Elements(100));
        group.bench_function("slice_100_of_100k", |b| b.iter(|| slice(ds, fa)));
        group.finish();
    }
}

criterion_group!(benches, engine);
criterion_main!(benches);
