//! Our encoder against libFLAC's, the two taking turns: on a machine whose
//! speed drifts, criterion's benchmarks (one after the other, seconds each)
//! let the drift into the ratio; here every round times ours and then
//! libFLAC on the same dataset, and the table gives both minima and
//! medians over the rounds.
//!
//! `cargo bench --features libflac --bench encoder_pairs [-- ROUNDS [LEVEL...]]`
//! (default: 15 rounds at levels 0 and 5). A level written `OURS:THEIRS`
//! (e.g. `8:5`) times our level OURS against libFLAC's level THEIRS. Ours encodes eight streams at a
//! time (`encode_group`, as `FlacArray::compress` does), libFLAC one stream
//! at a time; one thread.
//!
//! `FLACARRAY_BENCH_FILE=PATH:ROWS` adds the int32 values of a raw
//! little-endian file as ROWS streams, e.g. the seismogram of
//! `benches/zarr_codec.py`:
//! `python -c "import sys; sys.path.insert(0, 'benches'); import zarr_codec;
//! zarr_codec.seismogram()[0].tofile('/tmp/seismogram.i32')"`, then
//! `FLACARRAY_BENCH_FILE=/tmp/seismogram.i32:30`.

mod datasets;

use std::time::Instant;

use datasets::{encode_in_groups, encode_one_by_one, Data, Dataset, Streams};
use flacarray::codec::{EncodeOptions, Encoder, Samples};

/// Seconds to encode every stream, and the bytes written.
fn time(samples: &[Samples<'_>], ours: bool, options: &EncodeOptions) -> (f64, usize) {
    let start = Instant::now();
    let bytes = if ours {
        encode_in_groups(samples, options)
    } else {
        encode_one_by_one(samples, Encoder::Libflac, options)
    };
    (start.elapsed().as_secs_f64(), bytes)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The dataset named by `FLACARRAY_BENCH_FILE` (see the top), if any.
fn file_dataset() -> Option<Dataset> {
    let spec = std::env::var("FLACARRAY_BENCH_FILE").ok()?;
    let (path, rows) = spec
        .rsplit_once(':')
        .expect("FLACARRAY_BENCH_FILE is PATH:ROWS");
    let rows: usize = rows.parse().expect("ROWS is a number");
    let bytes = std::fs::read(path).expect("FLACARRAY_BENCH_FILE is readable");
    assert!(
        bytes.len().is_multiple_of(4),
        "{path}: {} bytes are not whole int32 values",
        bytes.len()
    );
    let values: Vec<i32> = bytes
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert!(
        rows > 0 && values.len().is_multiple_of(rows),
        "{} values do not make {rows} rows",
        values.len()
    );
    Some(Dataset {
        id: "file",
        about: "FLACARRAY_BENCH_FILE",
        shape: vec![rows, values.len() / rows],
        data: Data::I32(values),
        quanta: None,
        bound: None,
    })
}

fn main() {
    // cargo bench passes `--bench`; numbers (and `a:b` pairs) are ours
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let rounds = args
        .first()
        .and_then(|a| a.parse::<usize>().ok())
        .unwrap_or(15)
        .max(1);
    let level_pair = |a: &String| -> (u32, u32) {
        let mut parts = a
            .split(':')
            .map(|p| p.parse().expect("a level is a number"));
        let ours = parts.next().expect("a level");
        (ours, parts.next().unwrap_or(ours))
    };
    let levels: Vec<(u32, u32)> = if args.len() > 1 {
        args[1..].iter().map(level_pair).collect()
    } else {
        vec![(0, 0), (5, 5)]
    };
    println!("| data | level | ours ms min / median | libFLAC ms min / median | libFLAC / ours min / median | bytes ours / libFLAC |");
    println!("|---|---|---|---|---|---|");
    for ds in datasets::all().into_iter().chain(file_dataset()) {
        let streams = Streams::of(&ds);
        let samples = streams.samples();
        for &(level, their_level) in &levels {
            let options = EncodeOptions {
                level,
                ..EncodeOptions::default()
            };
            let their_options = EncodeOptions {
                level: their_level,
                ..EncodeOptions::default()
            };
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            let (mut ours_bytes, mut their_bytes) = (0, 0);
            for _ in 0..rounds {
                let (t, b) = time(&samples, true, &options);
                ours.push(t);
                ours_bytes = b;
                let (t, b) = time(&samples, false, &their_options);
                theirs.push(t);
                their_bytes = b;
            }
            let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
            let (ours_min, theirs_min) = (min(&ours), min(&theirs));
            let (ours_med, theirs_med) = (median(ours), median(theirs));
            println!(
                "| {} | {level}:{their_level} | {:.1} / {:.1} | {:.1} / {:.1} | {:.2} / {:.2} | {ours_bytes} / {their_bytes} |",
                ds.id,
                ours_min * 1e3,
                ours_med * 1e3,
                theirs_min * 1e3,
                theirs_med * 1e3,
                theirs_min / ours_min,
                theirs_med / ours_med,
            );
        }
    }
}
