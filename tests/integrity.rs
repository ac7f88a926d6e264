//! Damage that used to read as other values (issue 22's silent cases): a
//! stream's stated length and its frames, the byte runs of a group's
//! streams, the digest of a group's tables. Each case must be `Corrupt`.

use flacarray::codec::{
    decode_window_i32_with, decode_window_i64_with, encode_i32, encode_i64, with_total_samples,
    Decoder, EncodeOptions,
};
use flacarray::ErrorKind;

fn noise(n: usize) -> Vec<i32> {
    let mut x = 12345u32;
    (0..n)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            ((x >> 16) % 2000) as i32 - 1000
        })
        .collect()
}

fn both_decoders_refuse(bytes: &[u8], stream_len: u64, what: &str) {
    for decoder in [Decoder::Native, Decoder::Libflac] {
        let mut out = vec![0i32; stream_len as usize];
        let err = decode_window_i32_with(decoder, bytes, stream_len, 0, &mut out)
            .expect_err(&format!("{decoder:?} read {what}"));
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{decoder:?} {what}: {err}");
    }
}

/// Item 5: a lowered STREAMINFO sample count (6000 -> 4096, a whole frame's
/// worth, and 6000 -> 5000) and bytes after the last frame are damage.
#[test]
fn a_stream_ends_where_its_streaminfo_says() {
    let samples = noise(6000);
    let bytes = encode_i32(&samples, &EncodeOptions::default()).unwrap();
    for lowered in [4096u64, 5000] {
        let damaged = with_total_samples(&bytes, lowered).unwrap();
        both_decoders_refuse(&damaged, lowered, &format!("a count lowered to {lowered}"));
    }
    for tail in [&[0u8][..], &[0xFF, 0xF8], &[1, 2, 3, 4, 5, 6, 7, 8, 9]] {
        let mut damaged = bytes.clone();
        damaged.extend_from_slice(tail);
        both_decoders_refuse(&damaged, 6000, &format!("{} bytes appended", tail.len()));
    }
    // a window that stops before the end reads only its frames: still fine
    let mut damaged = bytes.clone();
    damaged.extend_from_slice(&[7; 5]);
    for decoder in [Decoder::Native, Decoder::Libflac] {
        let mut out = vec![0i32; 100];
        decode_window_i32_with(decoder, &damaged, 6000, 100, &mut out).unwrap();
        assert_eq!(out, samples[100..200]);
        // ...and the undamaged stream reads whole with both decoders
        let mut whole = vec![0i32; 6000];
        decode_window_i32_with(decoder, &bytes, 6000, 0, &mut whole).unwrap();
        assert_eq!(whole, samples);
    }
    let wide: Vec<i64> = samples.iter().map(|&v| i64::from(v) << 20).collect();
    let mut bytes = encode_i64(&wide, &EncodeOptions::default()).unwrap();
    bytes.push(0);
    for decoder in [Decoder::Native, Decoder::Libflac] {
        let mut out = vec![0i64; 6000];
        let err = decode_window_i64_with(decoder, &bytes, 6000, 0, &mut out).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt);
    }
}
