//! Random access: any streams, any sample range, equal to slicing the full decode.

mod common;

use flacarray::{with_thread_count, CompressOptions, ErrorKind, FlacArray, StepSpec};

#[test]
fn ranges_match_full_decode() {
    let n = 50_000;
    let data = common::int32_signal(11, 3, n);
    let fa = FlacArray::compress(&data, &[3, n], &CompressOptions::default()).unwrap();
    let ranges = [
        (0, 1),
        (0, n),
        (4095, 4097),
        (4096, 8192),
        (25_000, 25_100),
        (n - 1, n),
        (n - 5000, n),
        (12_345, 12_345),
    ];
    for (a, b) in ranges {
        let got = fa.decompress::<i32>(&[2, 0, 2], a..b).unwrap();
        let len = b - a;
        for (row, s) in [2usize, 0, 2].iter().enumerate() {
            assert_eq!(
                &got[row * len..(row + 1) * len],
                &data[s * n + a..s * n + b],
                "stream {s} range {a}..{b}"
            );
        }
    }
}

#[test]
fn every_block_boundary_of_small_blocks() {
    let n = 3000;
    let data: Vec<i64> = (0..n as i64).map(|i| i * i - 7 * i).collect();
    let opts = CompressOptions::default().with_block_size(16);
    let fa = FlacArray::compress(&data, &[n], &opts).unwrap();
    for a in (0..n).step_by(7) {
        let b = (a + 33).min(n);
        assert_eq!(fa.decompress::<i64>(&[0], a..b).unwrap(), &data[a..b]);
    }
}

#[test]
fn float_ranges_match_full_decode() {
    let mut rng = common::Rng::new(2);
    let n = 40_000;
    let data: Vec<f32> = common::timestream(&mut rng, 2 * n, 3.0, 1.0, 0.01)
        .iter()
        .map(|&v| v as f32)
        .collect();
    let opts = CompressOptions::default().with_step(StepSpec::Precision(vec![3.0]));
    let fa = FlacArray::compress(&data, &[2, n], &opts).unwrap();
    let full = fa.to_vec::<f32>().unwrap();
    let got = fa.decompress::<f32>(&[1], 30_000..30_100).unwrap();
    assert_eq!(got, &full[n + 30_000..n + 30_100]);
}

#[test]
fn long_single_stream_split_across_threads_matches() {
    let n = 1_000_000;
    let data = common::int32_signal(4, 1, n);
    let fa = FlacArray::compress(&data, &[n], &CompressOptions::default()).unwrap();
    let parallel = with_thread_count(Some(4), || fa.to_vec::<i32>()).unwrap();
    assert_eq!(parallel, data);
    let part = with_thread_count(Some(3), || fa.decompress::<i32>(&[0], 123_457..876_543)).unwrap();
    assert_eq!(part, &data[123_457..876_543]);
}

#[test]
fn keep_mask_selects_streams() {
    let data = common::int32_signal(8, 6, 100);
    let fa = FlacArray::compress(&data, &[2, 3, 100], &CompressOptions::default()).unwrap();
    let keep = [false, true, false, false, false, true];
    let idx = fa.keep_indices(&keep).unwrap();
    assert_eq!(idx, vec![1, 5]);
    let got = fa.decompress::<i32>(&idx, 0..100).unwrap();
    assert_eq!(&got[..100], &data[100..200]);
    assert_eq!(&got[100..], &data[500..600]);
    let err = fa.keep_indices(&[true; 5]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("keep mask has 5 entries"), "{err}");
}

#[test]
fn out_of_range_streams_are_errors_and_windows_clamp() {
    let data = common::int32_signal(8, 2, 100);
    let fa = FlacArray::compress(&data, &[2, 100], &CompressOptions::default()).unwrap();
    let err = fa.decompress::<i32>(&[2], 0..10).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message()
            .contains("stream index 2 is out of range for 2 streams"),
        "{err}"
    );
    // windows follow Python's slice rule (SampleWindow): clamped, never
    // an error; stream indices are never clamped
    let all = fa.to_vec::<i32>().unwrap();
    assert_eq!(fa.decompress::<i32>(&[0], 50..101).unwrap(), &all[50..100]);
    assert!(fa.decompress::<i32>(&[0], 150..200).unwrap().is_empty());
    #[allow(clippy::reversed_empty_ranges)]
    let reversed = fa.decompress::<i32>(&[0], 60..50).unwrap();
    assert!(reversed.is_empty());
    assert_eq!(fa.decompress::<i32>(&[1], -3..).unwrap(), &all[197..200]);
    let mut short = vec![0i32; 10];
    let err = fa.decompress_into(&[0], 95..105, &mut short).unwrap_err();
    assert!(
        err.message()
            .contains("output holds 10 values but 1 streams x 5 samples"),
        "{err}"
    );
    let err = fa.decompress::<f64>(&[0], 0..1).unwrap_err();
    assert!(
        err.message()
            .contains("array holds int32 values, not float64"),
        "{err}"
    );
    // empty selections are fine and empty
    assert!(fa.decompress::<i32>(&[], 0..100).unwrap().is_empty());
    assert!(fa.decompress::<i32>(&[0, 1], 7..7).unwrap().is_empty());
    let mut wrong = vec![0i32; 3];
    let err = fa.decompress_into(&[0], 0..10, &mut wrong).unwrap_err();
    assert!(err.message().contains("output holds 3 values"), "{err}");
}
