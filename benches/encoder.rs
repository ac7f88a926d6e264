//! Our FLAC encoder against libFLAC's, on the same integer streams.
//!
//! `cargo bench --features libflac --bench encoder` prints a table of
//! compressed bytes per dataset and level (both encoders, and the entropy
//! bound where it is known), then criterion's timings: whole streams of
//! D1–D5 (one thread, levels 0, 5, 8) and short rows (4, 64 and 1,024
//! samples per stream, level 5). Ours encodes eight streams at a time with
//! `encode_group` (their MD5s side by side), as `FlacArray::compress`
//! does; `ours_single` (level 5) one stream at a time with `encode_with`.

mod datasets;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use datasets::{encode_in_groups, encode_one_by_one, Streams};
use flacarray::codec::{EncodeOptions, Encoder, Samples};

/// How a benchmark hands streams to an encoder.
#[derive(Clone, Copy)]
enum Way {
    /// One stream at a time.
    Single(Encoder),
    /// Eight streams at a time, through our `encode_group`.
    Grouped,
}

fn encode_all(samples: &[Samples<'_>], way: Way, level: u32) -> usize {
    let options = EncodeOptions {
        level,
        ..EncodeOptions::default()
    };
    match way {
        Way::Single(encoder) => encode_one_by_one(samples, encoder, &options),
        Way::Grouped => encode_in_groups(samples, &options),
    }
}

/// int32 noise + sine rows of `len` samples, `rows` of them.
fn short_rows(rows: usize, len: usize) -> Streams {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % 2001) as i32 - 1000
    };
    Streams::One(
        (0..rows)
            .map(|r| {
                (0..len)
                    .map(|t| (3000.0 * ((r * len + t) as f64 * 0.01).sin()) as i32 + next() / 10)
                    .collect()
            })
            .collect(),
    )
}

fn encoder(c: &mut Criterion) {
    let sets = datasets::all();
    let streams: Vec<Streams> = sets.iter().map(Streams::of).collect();
    let streams: Vec<Vec<Samples<'_>>> = streams.iter().map(Streams::samples).collect();
    println!(
        "\n{:<4} {:>5} {:>12} {:>12} {:>7} {:>9} {:>9}",
        "id", "level", "ours B", "libFLAC B", "ratio", "ours b/s", "bound"
    );
    for (ds, s) in sets.iter().zip(&streams) {
        for level in [0, 5, 8] {
            let ours = encode_all(s, Way::Grouped, level);
            let theirs = encode_all(s, Way::Single(Encoder::Libflac), level);
            let bound = ds.bound.map_or("-".to_string(), |b| format!("{b:.3}"));
            println!(
                "{:<4} {:>5} {:>12} {:>12} {:>7.4} {:>9.3} {:>9}",
                ds.id,
                level,
                ours,
                theirs,
                ours as f64 / theirs as f64,
                ours as f64 * 8.0 / ds.samples() as f64,
                bound
            );
        }
    }
    for (ds, s) in sets.iter().zip(&streams) {
        let mut group = c.benchmark_group(format!("{}/encode", ds.id));
        group.throughput(Throughput::Bytes(ds.input_bytes() as u64));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(5));
        for level in [0, 5, 8] {
            let ways = [
                ("ours", Way::Grouped),
                ("ours_single", Way::Single(Encoder::Native)),
                ("libflac", Way::Single(Encoder::Libflac)),
            ];
            for (name, way) in ways {
                if name == "ours_single" && level != 5 {
                    continue;
                }
                group.bench_with_input(BenchmarkId::new(name, level), &level, |b, &level| {
                    b.iter(|| encode_all(s, way, level))
                });
            }
        }
        group.finish();
    }
    for (rows, len) in [(20_000, 4), (20_000, 64), (2_000, 1024)] {
        let s = short_rows(rows, len);
        let s = s.samples();
        let mut group = c.benchmark_group(format!("rows_{rows}x{len}"));
        group.throughput(Throughput::Elements((rows * len) as u64));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(3));
        for (name, way) in [
            ("ours", Way::Single(Encoder::Native)),
            ("libflac", Way::Single(Encoder::Libflac)),
        ] {
            group.bench_function(name, |b| b.iter(|| encode_all(&s, way, 5)));
        }
        group.finish();
    }
}

criterion_group!(benches, encoder);
criterion_main!(benches);
