//! Our FLAC encoder against independent decoders: every stream it writes,
//! for every kind of signal, bit depth (4..=32 bits, and the two-channel
//! 64-bit layout), length and level, decodes bit-exactly in our decoder,
//! in the pure-Rust `flac-codec`, and (with the `libflac` feature) in
//! libFLAC; its STREAMINFO MD5 matches the samples.

mod common;

use common::flac_codec_words;
use flacarray::codec::{
    decode_window_i32_with, decode_window_i64_with, encode_i32, encode_i64, stream_info,
    verify_stream, Decoder, EncodeOptions,
};
use proptest::prelude::*;

fn decoders() -> Vec<Decoder> {
    vec![
        Decoder::Native,
        #[cfg(feature = "libflac")]
        Decoder::Libflac,
    ]
}

/// A signal of `len` samples within `bits` signed bits.
fn signal(kind: u8, bits: u32, len: usize, seed: u64) -> Vec<i64> {
    let (lo, hi) = (i64::MIN >> (64 - bits), i64::MAX >> (64 - bits));
    // values in lo..=hi (a span of 2^64 wraps to 0: every value)
    let span = (hi as u64).wrapping_sub(lo as u64).wrapping_add(1);
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let clamp = |v: f64| (v.round() as i64).clamp(lo, hi);
    (0..len)
        .map(|t| match kind {
            // constant
            0 => hi / 3,
            // full range noise
            1 if span == 0 => next() as i64,
            1 => lo.wrapping_add((next() % span) as i64),
            // smooth: a slow sine over most of the range
            2 => clamp(0.9 * hi as f64 * (t as f64 * 0.003).sin()),
            // small noise around a large offset
            3 => clamp(0.7 * hi as f64 + (next() % 64) as f64 - 32.0),
            // extremes alternating with zeros
            4 => [lo, hi, 0][t % 3],
            // a smooth signal with low bits always zero (wasted bits)
            _ => clamp(0.5 * hi as f64 * (t as f64 * 0.01).cos()) & !7,
        })
        .collect()
}

fn check_i32(samples: &[i32], options: &EncodeOptions) {
    let bytes = encode_i32(samples, options).unwrap();
    let n = samples.len() as u64;
    assert_eq!(stream_info(&bytes).unwrap().total_samples, n);
    for decoder in decoders() {
        let mut out = vec![0i32; samples.len()];
        decode_window_i32_with(decoder, &bytes, n, 0, &mut out).unwrap();
        assert_eq!(out, samples, "{decoder:?}");
    }
    if !samples.is_empty() {
        // (a stream of no samples records no count: nothing to verify)
        assert_eq!(flac_codec_words(&bytes), samples, "flac-codec");
        assert!(verify_stream(&bytes, n).unwrap(), "MD5");
    }
}

fn check_i64(samples: &[i64], options: &EncodeOptions) {
    let bytes = encode_i64(samples, options).unwrap();
    let n = samples.len() as u64;
    for decoder in decoders() {
        let mut out = vec![0i64; samples.len()];
        decode_window_i64_with(decoder, &bytes, n, 0, &mut out).unwrap();
        assert_eq!(out, samples, "{decoder:?}");
    }
    if !samples.is_empty() {
        let words: Vec<i32> = samples
            .iter()
            .flat_map(|&v| [v as i32, (v >> 32) as i32])
            .collect();
        assert_eq!(flac_codec_words(&bytes), words, "flac-codec");
        assert!(verify_stream(&bytes, n).unwrap(), "MD5");
    }
}

/// Lengths around the block size, and random ones.
fn length(block: usize) -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(1usize),
        Just(block - 1),
        Just(block),
        Just(block + 1),
        Just(3 * block - 1),
        1usize..3 * block,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn i32_streams_decode_everywhere(
        kind in 0u8..6,
        bits in 4u32..=32,
        level in 0u32..=8,
        block in prop_oneof![Just(16u32), Just(192), Just(1000), Just(4096)],
        len_seed in any::<u64>(),
        seed in any::<u64>(),
    ) {
        let len = 1 + (len_seed % (3 * u64::from(block))) as usize;
        let samples: Vec<i32> = signal(kind, bits, len, seed).iter().map(|&v| v as i32).collect();
        let options = EncodeOptions { level, block_size: block, threads: 1, ..Default::default() };
        check_i32(&samples, &options);
    }

    #[test]
    fn i64_streams_decode_everywhere(
        kind in 0u8..6,
        bits in prop_oneof![4u32..=31, Just(32u32), 33u32..=64],
        level in 0u32..=8,
        len in length(1000),
        seed in any::<u64>(),
    ) {
        let samples = signal(kind, bits, len, seed);
        let options = EncodeOptions { level, block_size: 1000, threads: 1, ..Default::default() };
        check_i64(&samples, &options);
    }
}

#[test]
fn empty_and_tiny_streams() {
    for level in 0..=8 {
        let options = EncodeOptions {
            level,
            ..EncodeOptions::default()
        };
        check_i32(&[], &options);
        check_i32(&[i32::MIN], &options);
        check_i32(&[i32::MAX, i32::MIN], &options);
        check_i64(&[], &options);
        check_i64(&[i64::MIN, i64::MAX, 0, -1], &options);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// A stream whose frames are encoded on several threads (and its MD5
    /// beside them) is byte for byte the stream of one thread.
    #[test]
    fn frames_on_any_number_of_threads_give_the_same_bytes(
        two_channels in any::<bool>(),
        kind in 0u8..6,
        bits in 4u32..=32,
        level in 0u32..=8,
        block in prop_oneof![Just(16u32), Just(192), Just(1000), Just(4096)],
        blocks in 1u64..12,
        pool in 1usize..=4,
        seed in any::<u64>(),
    ) {
        let len = 1 + (seed % (blocks * u64::from(block))) as usize;
        let one = EncodeOptions { level, block_size: block, threads: 1, ..Default::default() };
        let many = EncodeOptions { threads: pool as u32 + 1, ..one };
        let threads = rayon::ThreadPoolBuilder::new().num_threads(pool).build().unwrap();
        let samples = signal(kind, if two_channels { bits + 32 } else { bits }, len, seed);
        if two_channels {
            let sequential = encode_i64(&samples, &one).unwrap();
            let parallel = threads.install(|| encode_i64(&samples, &many)).unwrap();
            prop_assert_eq!(sequential, parallel);
        } else {
            let samples: Vec<i32> = samples.iter().map(|&v| v as i32).collect();
            let sequential = encode_i32(&samples, &one).unwrap();
            let parallel = threads.install(|| encode_i32(&samples, &many)).unwrap();
            prop_assert_eq!(sequential, parallel);
        }
    }
}

#[test]
fn frames_encoded_on_threads_are_the_same_stream() {
    let samples: Vec<i32> = signal(2, 20, 50_000, 3).iter().map(|&v| v as i32).collect();
    let one = encode_i32(&samples, &EncodeOptions::default()).unwrap();
    let threaded = encode_i32(
        &samples,
        &EncodeOptions {
            threads: 2,
            ..EncodeOptions::default()
        },
    )
    .unwrap();
    assert_eq!(one, threaded);
}
