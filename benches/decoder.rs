//! Our FLAC decoder against libFLAC's, one thread, side by side in one run:
//! whole-stream decode throughput (decoded integer bytes per second) and a
//! 100-sample window from the middle of a 100k-sample stream, on D1-D5.
//!
//! `decode/<set>/native-groups` decodes the same streams whole, eight at a
//! time (`decode_streams_*_with`: in lockstep where the CPU allows).
//!
//! `cargo bench --features libflac --bench decoder` (names: `decode/<set>/native`,
//! `decode/<set>/native-groups`, `decode/<set>/libflac`, `window/<set>/native`,
//! `window/<set>/libflac`).

mod datasets;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use flacarray::codec::{
    decode_streams_i32_with, decode_streams_i64_with, decode_window_i32_with,
    decode_window_i64_with, Decoder,
};
use flacarray::FlacArray;

/// Decodes samples `first..first + n` of every stream (or of stream 0 only).
fn decode(fa: &FlacArray, decoder: Decoder, first: u64, n: usize, streams: usize) -> i64 {
    let len = fa.stream_size() as u64;
    let mut check = 0i64;
    if fa.view().stream_channels(0).unwrap() == 1 {
        let mut out = vec![0i32; n];
        for s in 0..streams {
            let bytes = fa.stream_bytes(s).unwrap();
            decode_window_i32_with(decoder, bytes, len, first, &mut out).unwrap();
            check = check.wrapping_add(i64::from(out[n - 1]));
        }
    } else {
        let mut out = vec![0i64; n];
        for s in 0..streams {
            let bytes = fa.stream_bytes(s).unwrap();
            decode_window_i64_with(decoder, bytes, len, first, &mut out).unwrap();
            check = check.wrapping_add(out[n - 1]);
        }
    }
    check
}

/// Decodes every stream whole, eight at a time (into one buffer, as
/// [`decode`] reuses its own).
fn decode_groups(fa: &FlacArray) -> i64 {
    let n = fa.stream_size();
    let len = n as u64;
    let mut check = 0i64;
    let all: Vec<&[u8]> = (0..fa.nstreams())
        .map(|s| fa.stream_bytes(s).unwrap())
        .collect();
    if fa.view().stream_channels(0).unwrap() == 1 {
        let mut out = vec![0i32; n * 8];
        for group in all.chunks(8) {
            let out = &mut out[..n * group.len()];
            decode_streams_i32_with(Decoder::Native, group, len, out).unwrap();
            check = out
                .chunks(n)
                .fold(check, |c, s| c.wrapping_add(i64::from(s[n - 1])));
        }
    } else {
        let mut out = vec![0i64; n * 8];
        for group in all.chunks(8) {
            let out = &mut out[..n * group.len()];
            decode_streams_i64_with(Decoder::Native, group, len, out).unwrap();
            check = out.chunks(n).fold(check, |c, s| c.wrapping_add(s[n - 1]));
        }
    }
    check
}

fn decoders(c: &mut Criterion) {
    let sets = datasets::all();
    for ds in &sets {
        let fa = ds.compress();
        let n = fa.stream_size();
        let word = if fa.view().stream_channels(0).unwrap() == 1 {
            4
        } else {
            8
        };
        // both decoders agree before anything is timed
        for decoder in [Decoder::Native, Decoder::Libflac] {
            assert_eq!(
                decode(&fa, decoder, 0, n, fa.nstreams()),
                decode(&fa, Decoder::Libflac, 0, n, fa.nstreams())
            );
        }
        assert_eq!(
            decode_groups(&fa),
            decode(&fa, Decoder::Libflac, 0, n, fa.nstreams())
        );
        let mut group = c.benchmark_group(format!("decode/{}", ds.id));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        group.throughput(Throughput::Bytes((fa.nstreams() * n * word) as u64));
        for (name, decoder) in [("native", Decoder::Native), ("libflac", Decoder::Libflac)] {
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| decode(&fa, decoder, 0, n, fa.nstreams()))
            });
        }
        group.bench_function(BenchmarkId::from_parameter("native-groups"), |b| {
            b.iter(|| decode_groups(&fa))
        });
        group.finish();
        let mut group = c.benchmark_group(format!("window/{}", ds.id));
        group
            .sample_size(50)
            .measurement_time(Duration::from_secs(2));
        let middle = (n / 2) as u64;
        for (name, decoder) in [("native", Decoder::Native), ("libflac", Decoder::Libflac)] {
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| decode(&fa, decoder, middle, 100, 1))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, decoders);
criterion_main!(benches);
