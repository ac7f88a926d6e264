//! Our FLAC decoder against libFLAC's, sample for sample: every stream shape
//! the encoder produces (property tests), the golden files, and damaged
//! streams.

#![cfg(feature = "libflac")]

mod common;

use common::agreement::{
    assert_agree_i32, assert_agree_i64, assert_agree_on_input, assert_group_agrees,
};
use flacarray::codec::{
    decode_streams_i32_with, decode_streams_i64_with, decode_window_i32_with,
    decode_window_i64_with, encode_i32, encode_i64, verify_stream, Decoder, EncodeOptions,
};
use proptest::prelude::*;

fn options(level: u32) -> EncodeOptions {
    EncodeOptions {
        level,
        ..EncodeOptions::default()
    }
}

/// The crate's folder, read when the test runs (a shared target folder may
/// hold a binary built from another clone).
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Data of a given kind: smooth signal plus noise at `bits` of amplitude,
/// constant, or spanning the whole range.
fn make_i32(kind: u8, bits: u32, n: usize, seed: u64) -> Vec<i32> {
    let mut rng = common::Rng::new(seed);
    let amp = 1i64 << (bits - 1);
    (0..n)
        .map(|i| match kind {
            0 => 5,
            1 => rng.next_u64() as i32,
            _ => {
                let smooth = ((i as f64 * 0.01).sin() * (amp as f64 * 0.6)) as i64;
                let noise = (rng.next_u64() % (amp as u64 / 4 + 1)) as i64 - amp / 8;
                (smooth + noise).clamp(-amp, amp - 1) as i32
            }
        })
        .collect()
}

fn windows(len: usize, seed: u64) -> Vec<(u64, usize)> {
    let mut rng = common::Rng::new(seed);
    let mut out = vec![(0, len)];
    for _ in 0..6 {
        let a = (rng.next_u64() % len as u64) as usize;
        let b = a + 1 + (rng.next_u64() % (len - a) as u64) as usize;
        out.push((a as u64, b - a));
    }
    out.push(((len - 1) as u64, 1));
    out
}

/// A decoder's window read: decoder, stream, its length, first sample, out.
type DecodeWindow<T> = fn(Decoder, &[u8], u64, u64, &mut [T]) -> flacarray::Result<()>;

/// `bytes`, the stream of `data`: ours decodes it whole to `data`, its MD5
/// matches (libFLAC records the samples' MD5; ours reproduces it), and
/// `agree` finds both decoders giving the same samples in random windows.
fn decodes_and_agrees<T: Copy + Default + PartialEq + std::fmt::Debug>(
    bytes: &[u8],
    data: &[T],
    decode: DecodeWindow<T>,
    agree: fn(&[u8], u64, u64, usize),
    seed: u64,
) -> Result<(), TestCaseError> {
    let len = data.len();
    let mut ours = vec![T::default(); len];
    decode(Decoder::Native, bytes, len as u64, 0, &mut ours).unwrap();
    prop_assert_eq!(&ours, &data);
    prop_assert!(verify_stream(bytes, len as u64).unwrap());
    for (first, count) in windows(len, seed) {
        agree(bytes, len as u64, first, count);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn i32_streams_decode_as_libflac_does(
        kind in 0u8..3,
        bits in 4u32..=32,
        level in 0u32..=8,
        len in prop_oneof![Just(1usize), Just(4095), Just(4096), Just(4097), 2usize..20_000],
        seed in any::<u64>(),
    ) {
        let data = make_i32(kind, bits, len, seed);
        let bytes = encode_i32(&data, &options(level)).unwrap();
        decodes_and_agrees(&bytes, &data, decode_window_i32_with, assert_agree_i32, seed ^ 1)?;
    }

    #[test]
    fn i64_streams_decode_as_libflac_does(
        kind in 0u8..3,
        bits in 4u32..=32,
        shift in 0u32..=31,
        level in 0u32..=8,
        len in prop_oneof![Just(1usize), Just(4096), Just(4097), 2usize..12_000],
        seed in any::<u64>(),
    ) {
        let data: Vec<i64> = make_i32(kind, bits, len, seed)
            .into_iter()
            .map(|v| (i64::from(v) << shift) ^ i64::from(v & 0x55))
            .collect();
        let bytes = encode_i64(&data, &options(level)).unwrap();
        decodes_and_agrees(&bytes, &data, decode_window_i64_with, assert_agree_i64, seed ^ 2)?;
    }

    #[test]
    fn damaged_streams_fail_or_agree(
        len in 100usize..9000,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        seed in any::<u64>(),
    ) {
        let data = make_i32(2, 20, len, seed);
        let mut bytes = encode_i32(&data, &options(5)).unwrap();
        for (at, mask) in flips {
            let at = 42 + at % (bytes.len() - 42); // the audio, past STREAMINFO
            bytes[at] ^= mask.max(1);
        }
        // where ours returns samples, libFLAC returns the same ones (a
        // damaged frame fails its CRC in both, whole or windowed)
        for (first, count) in windows(len, seed ^ 3) {
            let mut ours = vec![0i32; count];
            let got = decode_window_i32_with(Decoder::Native, &bytes, len as u64, first, &mut ours);
            if got.is_ok() {
                assert_agree_i32(&bytes, len as u64, first, count);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Up to eight streams of one length, each of its own kind, width,
    /// level and so predictors and partitions, some of them damaged,
    /// decoded together (`decode_streams`: in lockstep where the CPU
    /// allows) and each alone: the same samples, or the same first failing
    /// stream; undamaged, the samples written.
    #[test]
    fn streams_decoded_together_match_each_decoded_alone(
        wide in any::<bool>(),
        len in prop_oneof![Just(1usize), Just(4096), Just(4097), 2usize..12_000],
        block in prop_oneof![Just(192u32), Just(1152), Just(4096), Just(4608)],
        specs in proptest::collection::vec((0u8..3, 4u32..=32, 0u32..=8), 1..=8),
        flips in proptest::collection::vec((any::<usize>(), any::<usize>(), any::<u8>()), 0..3),
        seed in any::<u64>(),
    ) {
        let options = |level| EncodeOptions { level, block_size: block, ..EncodeOptions::default() };
        let mut datas = Vec::new();
        let mut streams = Vec::new();
        for (i, &(kind, bits, level)) in specs.iter().enumerate() {
            let data = make_i32(kind, bits, len, seed ^ i as u64);
            if wide {
                let data: Vec<i64> = data.iter().map(|&v| (i64::from(v) << 17) ^ i64::from(v & 3)).collect();
                streams.push(encode_i64(&data, &options(level)).unwrap());
                datas.push(data);
            } else {
                streams.push(encode_i32(&data, &options(level)).unwrap());
                datas.push(data.into_iter().map(i64::from).collect());
            }
        }
        for &(which, at, mask) in &flips {
            let bytes = &mut streams[which % specs.len()];
            let at = 42 + at % (bytes.len() - 42); // the audio, past STREAMINFO
            bytes[at] ^= mask.max(1);
        }
        let group: Vec<&[u8]> = streams.iter().map(|s| &s[..]).collect();
        let n = len as u64;
        let together: Vec<i64> = if wide {
            assert_group_agrees(
                |b: &[u8], out: &mut [i64]| decode_window_i64_with(Decoder::Native, b, n, 0, out),
                |g: &[&[u8]], out: &mut [i64]| decode_streams_i64_with(Decoder::Native, g, n, out),
                &group,
                len,
            );
            let mut out = vec![0i64; len * group.len()];
            match decode_streams_i64_with(Decoder::Native, &group, n, &mut out) {
                Ok(()) => out,
                Err(_) => return Ok(()),
            }
        } else {
            assert_group_agrees(
                |b: &[u8], out: &mut [i32]| decode_window_i32_with(Decoder::Native, b, n, 0, out),
                |g: &[&[u8]], out: &mut [i32]| decode_streams_i32_with(Decoder::Native, g, n, out),
                &group,
                len,
            );
            let mut out = vec![0i32; len * group.len()];
            match decode_streams_i32_with(Decoder::Native, &group, n, &mut out) {
                Ok(()) => out.into_iter().map(i64::from).collect(),
                Err(_) => return Ok(()),
            }
        };
        if flips.is_empty() {
            prop_assert_eq!(together, datas.concat());
        }
    }
}

/// Stereo decorrelation modes and escape codes, which our encoder does not
/// write: streams from libFLAC's own encoder settings.
#[test]
fn every_stored_golden_stream_decodes_as_libflac_does() {
    let root = manifest_dir().join("tests/golden");
    let mut streams = 0;
    for version in std::fs::read_dir(&root).unwrap() {
        let dir = version.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            // (every file holds a whole array in column `flac` but 0.4.0's
            // lists.parquet, a ragged list column: tests/golden.rs reads it)
            let whole_array = path.file_stem().is_some_and(|s| s != "lists");
            if path.extension().is_some_and(|e| e == "parquet") && whole_array {
                let fa = flacarray::parquet::read_array_file(&path, "flac", None).unwrap();
                for s in 0..fa.nstreams() {
                    let bytes = fa.stream_bytes(s).unwrap();
                    let len = fa.stream_size() as u64;
                    if fa.dtype().size() == 4 {
                        assert_agree_i32(bytes, len, 0, len as usize);
                        assert_agree_i32(bytes, len, len / 2, (len - len / 2) as usize);
                    } else {
                        assert_agree_i64(bytes, len, 0, len as usize);
                        assert_agree_i64(bytes, len, len / 3, (len - len / 3) as usize);
                    }
                    streams += 1;
                }
            }
        }
    }
    assert!(
        streams > 0,
        "no golden streams found under {}",
        root.display()
    );
}

/// Inputs the differential fuzzer found (crashes, disagreements, hangs),
/// and its minimised corpus (the inputs that together reach everything the
/// campaigns reached), kept as regression tests: the decoders agree on each.
#[test]
fn fuzz_findings_decode_alike() {
    let mut inputs = Vec::new();
    for folder in [
        "fuzz/regressions/decoders_agree",
        "fuzz/seeds/decoders_agree",
    ] {
        let dir = manifest_dir().join(folder);
        let before = inputs.len();
        for entry in std::fs::read_dir(&dir).unwrap() {
            inputs.push(entry.unwrap().path());
        }
        assert!(inputs.len() > before, "no inputs in {}", dir.display());
    }
    for path in inputs {
        assert_agree_on_input(&std::fs::read(&path).unwrap());
    }
}
