//! Differential: arbitrary samples and options through our encoder; our
//! decoder and libFLAC's must both give the samples back exactly, and the
//! stream's MD5 must verify.
//!
//! Input: a 4-byte header (level, block size, width of the 64-bit case,
//! which layout), then the samples as little-endian words.
#![no_main]

use flacarray::codec::{
    decode_window_i32_with, decode_window_i64_with, encode_i32, encode_i64, verify_stream,
    Decoder, EncodeOptions,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let options = EncodeOptions {
        level: u32::from(data[0] % 9),
        block_size: 16 + u32::from(data[1]) * 17,
        threads: 1,
    };
    let body = &data[4..];
    if data[3] & 1 == 0 {
        let samples: Vec<i32> = body
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) >> (data[2] % 29))
            .collect();
        let bytes = encode_i32(&samples, &options).expect("our encoder takes any i32 samples");
        let n = samples.len() as u64;
        for decoder in [Decoder::Native, Decoder::Libflac] {
            let mut out = vec![0i32; samples.len()];
            decode_window_i32_with(decoder, &bytes, n, 0, &mut out).expect("decodes");
            assert_eq!(out, samples, "{decoder:?}");
        }
        if n > 0 {
            assert!(verify_stream(&bytes, n).expect("verifies"));
        }
    } else {
        let samples: Vec<i64> = body
            .chunks_exact(8)
            .map(|c| {
                i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
                    >> (data[2] % 61)
            })
            .collect();
        let bytes = encode_i64(&samples, &options).expect("our encoder takes any i64 samples");
        let n = samples.len() as u64;
        for decoder in [Decoder::Native, Decoder::Libflac] {
            let mut out = vec![0i64; samples.len()];
            decode_window_i64_with(decoder, &bytes, n, 0, &mut out).expect("decodes");
            assert_eq!(out, samples, "{decoder:?}");
        }
        if n > 0 {
            assert!(verify_stream(&bytes, n).expect("verifies"));
        }
    }
});
