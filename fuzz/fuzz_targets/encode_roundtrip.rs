//! Differential: arbitrary samples and options through our encoder; our
//! decoder and libFLAC's must both give the samples back exactly, and the
//! stream's MD5 must verify.
//!
//! A short stream may be asked for as a frame row (the Arrow column's
//! short rows): both decoders read it too, and the whole stream rebuilt
//! from it is the one written whole, MD5 included.
//!
//! Input: a 4-byte header (level, block size, width of the 64-bit case,
//! which layout and whether short streams are frame rows), then the
//! samples as little-endian words.
#![no_main]

use flacarray::codec::{
    decode_window_i32_with, decode_window_i64_with, encode_with, verify_stream, whole_stream,
    Decoder, EncodeOptions, Encoder, Samples, ShortStream,
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
        short: if data[3] & 2 == 0 {
            ShortStream::Whole
        } else {
            ShortStream::FrameRow
        },
    };
    let whole_options = EncodeOptions {
        short: ShortStream::Whole,
        ..options
    };
    let encode = |samples: Samples<'_>| {
        let mut bytes = Vec::new();
        encode_with(Encoder::Native, samples, &options, &mut bytes).expect("encodes any samples");
        let mut whole = Vec::new();
        encode_with(Encoder::Native, samples, &whole_options, &mut whole).expect("encodes");
        assert_eq!(whole_stream(&bytes).expect("a row rebuilds"), whole);
        bytes
    };
    let body = &data[4..];
    if data[3] & 1 == 0 {
        let samples: Vec<i32> = body
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) >> (data[2] % 29))
            .collect();
        let bytes = encode(Samples::One(&samples));
        both_decoders_give_back(&bytes, &samples, decode_window_i32_with);
    } else {
        let samples: Vec<i64> = body
            .chunks_exact(8)
            .map(|c| {
                i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
                    >> (data[2] % 61)
            })
            .collect();
        let bytes = encode(Samples::Two(&samples));
        both_decoders_give_back(&bytes, &samples, decode_window_i64_with);
    }
});

/// Both decoders read `bytes` (the stream or frame row of `samples`) back
/// to `samples`, and the whole stream's MD5 verifies.
fn both_decoders_give_back<T: Copy + Default + PartialEq + std::fmt::Debug>(
    bytes: &[u8],
    samples: &[T],
    decode: fn(Decoder, &[u8], u64, u64, &mut [T]) -> flacarray::Result<()>,
) {
    let n = samples.len() as u64;
    for decoder in [Decoder::Native, Decoder::Libflac] {
        let mut out = vec![T::default(); samples.len()];
        decode(decoder, bytes, n, 0, &mut out).expect("decodes");
        assert_eq!(out, samples, "{decoder:?}");
    }
    if n > 0 {
        // (a frame row records no MD5: the stream it stands for does)
        let whole = whole_stream(bytes).expect("a row rebuilds");
        assert!(verify_stream(&whole, n).expect("verifies"));
    }
}
