//! Every bad input gets a specific error; corrupt bytes never panic.

mod common;

use flacarray::codec::{decode_i32, decode_i64, decode_window_i32, decode_window_i64};
use flacarray::{CompressOptions, DType, ErrorKind, FlacArray, FlacArrayParts, StepSpec};

fn sample_array() -> (Vec<i32>, FlacArray) {
    let data = common::int32_signal(3, 2, 20_000);
    let fa = FlacArray::compress(&data, &[2, 20_000], &CompressOptions::default()).unwrap();
    (data, fa)
}

#[test]
fn nan_and_inf_name_the_stream() {
    let mut data = vec![1.0f64; 300];
    data[250] = f64::NAN;
    let err = FlacArray::compress(&data, &[3, 100], &CompressOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("stream 2"), "{err}");
    assert!(err.message().contains("sample 50"), "{err}");
    let mut data32 = vec![1.0f32; 10];
    data32[0] = f32::NEG_INFINITY;
    let err = FlacArray::compress(&data32, &[10], &CompressOptions::default()).unwrap_err();
    assert!(
        err.message().contains("stream 0") && err.message().contains("non-finite"),
        "{err}"
    );
}

#[test]
fn zero_size_and_bad_shapes() {
    let err = FlacArray::compress::<i32>(&[], &[0], &CompressOptions::default()).unwrap_err();
    assert!(
        err.message().contains("cannot compress an empty array"),
        "{err}"
    );
    let err = FlacArray::compress::<i32>(&[], &[3, 0], &CompressOptions::default()).unwrap_err();
    assert!(err.message().contains("empty array"), "{err}");
    let err = FlacArray::compress(&[1i32, 2, 3], &[2, 2], &CompressOptions::default()).unwrap_err();
    assert!(
        err.message().contains("needs 4 values but 3 were given"),
        "{err}"
    );
    let err = FlacArray::compress(&[1i32], &[], &CompressOptions::default()).unwrap_err();
    assert!(err.message().contains("at least one dimension"), "{err}");
}

#[test]
fn step_options_are_checked() {
    let data = vec![0.5f64; 400];
    let opts = CompressOptions::default().with_step(StepSpec::Quanta(vec![0.1, 0.2, 0.3]));
    let err = FlacArray::compress(&data, &[4, 100], &opts).unwrap_err();
    assert!(
        err.message()
            .contains("quanta has 3 values; expected one value or one per stream (4)"),
        "{err}"
    );
    let opts = CompressOptions::default().with_step(StepSpec::Precision(vec![1.0, 2.0]));
    let err = FlacArray::compress(&data, &[4, 100], &opts).unwrap_err();
    assert!(err.message().contains("precision has 2 values"), "{err}");
    let opts = CompressOptions::default().with_step(StepSpec::Quanta(vec![1.0]));
    let err = FlacArray::compress(&[1i64, 2], &[2], &opts).unwrap_err();
    assert!(err.message().contains("apply to float data only"), "{err}");
    let opts = CompressOptions::default().with_level(9);
    let err = FlacArray::compress(&[1i64, 2], &[2], &opts).unwrap_err();
    assert!(
        err.message()
            .contains("compression level must be between 0 and 8"),
        "{err}"
    );
    let opts = CompressOptions::default().with_step(StepSpec::Quanta(vec![1e-30]));
    let err = FlacArray::compress(&[0.0, 1e3], &[2], &opts).unwrap_err();
    assert!(err.message().contains("more than 64 bits"), "{err}");
}

#[test]
fn truncated_streams_are_corrupt_not_panics() {
    let (_, fa) = sample_array();
    let bytes = fa.stream_bytes(0).unwrap();
    for cut in [
        0,
        3,
        4,
        10,
        41,
        42,
        43,
        100,
        bytes.len() / 2,
        bytes.len() - 1,
    ] {
        let err = decode_i32(&bytes[..cut]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "cut at {cut}: {err}");
        let mut out = vec![0i32; 20_000];
        let err = decode_window_i32(&bytes[..cut], 20_000, 0, &mut out).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "cut at {cut}: {err}");
    }
}

#[test]
fn bit_flips_are_detected_or_harmless() {
    let (data, fa) = sample_array();
    let original = fa.stream_bytes(1).unwrap().to_vec();
    let mut rng = common::Rng::new(99);
    let mut detected = 0;
    for _ in 0..300 {
        let mut bytes = original.clone();
        let pos = (rng.next_u64() as usize) % bytes.len();
        bytes[pos] ^= 1 << (rng.next_u64() % 8);
        let mut out = vec![0i32; 20_000];
        let first = rng.next_u64() % 15_000;
        match decode_window_i32(&bytes, 20_000, first, &mut out[..5000]) {
            Ok(()) => {
                // a flip outside the decoded frames, or in STREAMINFO fields we ignore
                let f = first as usize;
                assert_eq!(
                    &out[..5000],
                    &data[20_000 + f..20_000 + f + 5000],
                    "flip at {pos} gave wrong data silently"
                );
            }
            Err(err) => {
                assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
                detected += 1;
            }
        }
    }
    assert!(detected > 100, "only {detected} of 300 flips detected");
}

#[test]
fn garbage_never_panics() {
    let mut rng = common::Rng::new(1234);
    for len in [0usize, 1, 4, 8, 42, 100, 5000] {
        for _ in 0..20 {
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            if len >= 4 {
                bytes[..4].copy_from_slice(b"fLaC");
            }
            assert!(decode_i64(&bytes).is_err());
            let mut out = vec![0i64; 1000];
            assert!(decode_window_i64(&bytes, 1000, 10, &mut out).is_err());
        }
    }
}

#[test]
fn wrong_channel_count_for_dtype() {
    let wide = FlacArray::compress(&[1i64, 2, 3], &[3], &CompressOptions::default()).unwrap();
    let mut parts = wide.into_parts();
    parts.dtype = DType::Int32;
    // caught when the array is assembled, before any decoding
    let err = FlacArray::from_parts(parts).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(
        err.message()
            .contains("2 FLAC channels, impossible for int32"),
        "{err}"
    );
}

#[test]
fn inconsistent_parts_are_rejected() {
    let (_, fa) = sample_array();
    let good = fa.into_parts();
    let check = |parts: FlacArrayParts, needle: &str| {
        let err = FlacArray::from_parts(parts).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt);
        assert!(err.message().contains(needle), "{err} lacks {needle}");
    };
    let mut p = good.clone();
    p.stream_starts[1] = p.compressed.len() as u64;
    check(p, "stream 1 claims bytes");
    let mut p = good.clone();
    p.stream_nbytes[0] = u64::MAX;
    check(p, "stream 0 claims bytes");
    let mut p = good.clone();
    p.stream_starts.pop();
    check(p, "stream_starts has 1 entries");
    let mut p = good.clone();
    p.shape = vec![2, 1 << 40];
    check(p, "claims 1099511627776 samples");
    let mut p = good.clone();
    p.stream_offsets = Some(vec![0.0, 0.0]);
    check(p, "must not have stream offsets");
    let mut p = good.clone();
    p.dtype = DType::Float64;
    check(p, "needs both stream offsets and gains");
    let mut p = good.clone();
    p.dtype = DType::Float64;
    p.stream_offsets = Some(vec![0.0]);
    p.stream_gains = Some(vec![1.0, 1.0]);
    check(p, "stream_offsets has 1 entries");
}

#[test]
fn bad_gain_is_corrupt() {
    let fa = FlacArray::compress(&[1.0f64, 2.0], &[2], &CompressOptions::default()).unwrap();
    let mut parts = fa.into_parts();
    parts.stream_gains = Some(vec![0.0]);
    let err = FlacArray::from_parts(parts).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.message().contains("unusable offset/gain"), "{err}");
}

#[test]
fn io_errors_keep_what_the_system_said() {
    let err =
        flacarray::parquet::read_array_file("/nonexistent/x.parquet", "flac", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert_eq!(err.io_kind(), Some(std::io::ErrorKind::NotFound));
    let err = flacarray::with_thread_count(Some(0), || Ok(())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}
