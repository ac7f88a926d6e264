//! Damage that used to read as other values (issue 22's silent cases): a
//! stream's stated length and its frames, the byte runs of a group's
//! streams, the digest of a group's tables. Each case must be `Corrupt`.

use flacarray::codec::{
    decode_window_i32_with, decode_window_i64_with, encode_i32, encode_i64, with_total_samples,
    Decoder, EncodeOptions,
};
use flacarray::ErrorKind;

/// Our decoder, and libFLAC's when the `libflac` feature gives it.
fn decoders() -> Vec<Decoder> {
    vec![
        Decoder::Native,
        #[cfg(feature = "libflac")]
        Decoder::Libflac,
    ]
}

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
    for decoder in decoders() {
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
    for decoder in decoders() {
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
    for decoder in decoders() {
        let mut out = vec![0i64; 6000];
        let err = decode_window_i64_with(decoder, &bytes, 6000, 0, &mut out).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt);
    }
}

/// Item 9: the default step of values too close together for 2^30 (2^24)
/// steps is refused with a message saying what to do; tiny values keep
/// their precision through precision= (the standard deviation of subnormal
/// values no longer squares to zero).
#[test]
fn steps_that_cannot_hold_the_data_are_refused() {
    use flacarray::{CompressOptions, Element, Error, FlacArray};
    /// The error compressing one stream of `data` with `options`.
    fn refused<T: Element>(data: &[T], options: CompressOptions) -> Error {
        FlacArray::compress(data, &[data.len()], &options).unwrap_err()
    }
    let tiny: Vec<f64> = (0..1000)
        .map(|i| 1e-310 * (1.0 + i as f64 / 1000.0))
        .collect();
    let err = refused(&tiny, CompressOptions::default());
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("pass quanta"), "{err}");
    let tiny32: Vec<f32> = (0..1000)
        .map(|i| 1e-37 * (1.0 + i as f32 / 1000.0))
        .collect();
    let err = refused(&tiny32, CompressOptions::default());
    assert!(
        err.message().contains("smallest usable float32 step"),
        "{err}"
    );
    // precision on the same data: the step is std / 10^3, and the message
    // gives the real standard deviation (not 0)
    let err = refused(&tiny, CompressOptions::default().with_precision(3.0));
    assert!(err.message().contains("standard deviation 2.8"), "{err}");
    // huge quanta: a short message, the right word
    let ones = vec![1.0f32; 10];
    let mut data32 = ones.clone();
    data32[3] = 2.0;
    let err = refused(&data32, CompressOptions::default().with_quanta(1e300));
    assert!(err.message().contains("quanta 1e300 is too large"), "{err}");
    assert!(err.message().len() < 200, "{err}");
    let full = [f64::MIN, f64::MAX, 0.0];
    let err = refused(&full, CompressOptions::default().with_quanta(1e300));
    assert!(
        err.message().contains("span more than the largest float64"),
        "{err}"
    );
    assert!(err.message().len() < 200, "{err}");
}

/// Item 9: a constant stream is stored exactly, the sign of zero included;
/// a stream far from zero comes back within half a step plus one unit in
/// the last place of its values (the float arithmetic of the restore).
#[test]
fn constant_streams_keep_negative_zero_and_the_error_bound_holds() {
    use flacarray::{CompressOptions, FlacArray};
    for data in [vec![-0.0f64; 50], vec![0.0f64; 50]] {
        let fa = FlacArray::compress(&data, &[50], &CompressOptions::default()).unwrap();
        let back = fa.to_vec::<f64>().unwrap();
        assert!(back
            .iter()
            .zip(&data)
            .all(|(a, b)| a.to_bits() == b.to_bits()));
    }
    let data32 = vec![-0.0f32; 50];
    let fa = FlacArray::compress(&data32, &[50], &CompressOptions::default()).unwrap();
    assert!(fa
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .all(|v| v.to_bits() == (-0.0f32).to_bits()));
    let mut x = 987654321u64;
    let mut noise = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 6.0
    };
    for (centre, quanta) in [(1e7, 1e-7), (1e7, 1e-8), (-3e9, 1e-6), (123.456, 1e-12)] {
        let data: Vec<f64> = (0..20_000).map(|_| centre + noise()).collect();
        let options = CompressOptions::default().with_quanta(quanta);
        let fa = FlacArray::compress(&data, &[20_000], &options).unwrap();
        let back = fa.to_vec::<f64>().unwrap();
        for (a, b) in data.iter().zip(&back) {
            let ulp = f64::from_bits(a.abs().to_bits() + 1) - a.abs();
            assert!(
                (a - b).abs() <= 0.5 * quanta + ulp,
                "{centre} {quanta}: {a} came back {b}"
            );
        }
    }
}
