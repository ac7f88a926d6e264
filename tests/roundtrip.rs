//! Property tests: every dtype and shape round-trips, floats within half a step.

mod common;

use flacarray::{CompressOptions, Element, FlacArray, StepSpec};
use proptest::prelude::*;

fn shapes() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        (1usize..5000).prop_map(|n| vec![n]),
        (1usize..5, 1usize..3000).prop_map(|(a, n)| vec![a, n]),
        (1usize..3, 1usize..4, 1usize..600).prop_map(|(a, b, n)| vec![a, b, n]),
    ]
}

fn ints_for(shape: &[usize], kind: u8, seed: u64) -> Vec<i64> {
    let n: usize = shape.iter().product();
    let mut rng = common::Rng::new(seed);
    (0..n)
        .map(|i| match kind {
            0 => rng.next_u64() as i64,              // full 64-bit range
            1 => 42,                                 // constant
            2 => (rng.normal() * 1000.0) as i64 + 7, // small noise
            _ => (i as i64 % 11) * (1 << 40) + (rng.next_u64() % 5) as i64, // wide steps
        })
        .collect()
}

/// `data` of `shape` compresses and comes back the same, with no scales.
fn lossless<T: Element + PartialEq + std::fmt::Debug>(
    data: &[T],
    shape: &[usize],
) -> Result<(), TestCaseError> {
    let fa = FlacArray::compress(data, shape, &CompressOptions::default()).unwrap();
    prop_assert_eq!(fa.to_vec::<T>().unwrap(), data);
    prop_assert!(fa.stream_offsets().is_none());
    Ok(())
}

/// `data` of `shape` compressed with `step` and read back: the values, and
/// each stream's gain.
fn quantized_round_trip<T: Element>(
    data: &[T],
    shape: &[usize],
    step: StepSpec,
) -> (Vec<T>, Vec<f64>) {
    let opts = CompressOptions::default().with_step(step);
    let fa = FlacArray::compress(data, shape, &opts).unwrap();
    (
        fa.to_vec::<T>().unwrap(),
        fa.stream_gains().unwrap().to_vec(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn int32_is_lossless(shape in shapes(), kind in 0u8..4, seed: u64) {
        let data: Vec<i32> = ints_for(&shape, kind, seed).into_iter().map(|v| v as i32).collect();
        lossless(&data, &shape)?;
    }

    #[test]
    fn int16_is_lossless(shape in shapes(), kind in 0u8..4, seed: u64) {
        let data: Vec<i16> = ints_for(&shape, kind, seed).into_iter().map(|v| v as i16).collect();
        lossless(&data, &shape)?;
    }

    #[test]
    fn int64_is_lossless(shape in shapes(), kind in 0u8..4, seed: u64) {
        lossless(&ints_for(&shape, kind, seed), &shape)?;
    }

    #[test]
    fn float64_error_within_half_quanta(shape in shapes(), scale in -20i32..20, seed: u64, quanta in prop::option::of(1e-6f64..10.0)) {
        let n: usize = shape.iter().product();
        let mut rng = common::Rng::new(seed);
        let mag = 10f64.powi(scale);
        let data: Vec<f64> = (0..n).map(|_| mag * (rng.normal() + 3.0)).collect();
        let step = quanta.map_or(StepSpec::Range, |q| StepSpec::Quanta(vec![q * mag]));
        let (back, gains) = quantized_round_trip(&data, &shape, step);
        let stream = *shape.last().unwrap();
        for (i, (&a, &b)) in data.iter().zip(&back).enumerate() {
            let half = 0.5 / gains[i / stream];
            let slack = 4.0 * f64::EPSILON * a.abs().max(b.abs());
            prop_assert!((a - b).abs() <= half + slack, "sample {}: {} vs {} (half step {})", i, a, b, half);
        }
    }

    #[test]
    fn float32_error_within_half_quanta(shape in shapes(), scale in -10i32..10, seed: u64, precision in prop::option::of(0.0f64..5.0)) {
        let n: usize = shape.iter().product();
        let mut rng = common::Rng::new(seed);
        let mag = 10f64.powi(scale);
        let data: Vec<f32> = (0..n).map(|_| (mag * (rng.normal() - 1.0)) as f32).collect();
        let step = precision.map_or(StepSpec::Range, |p| StepSpec::Precision(vec![p]));
        let (back, gains) = quantized_round_trip(&data, &shape, step);
        let stream = *shape.last().unwrap();
        let peaks: Vec<f32> = data.chunks(stream).map(|c| c.iter().fold(0f32, |m, v| m.max(v.abs()))).collect();
        for (i, (&a, &b)) in data.iter().zip(&back).enumerate() {
            let half = 0.5 / gains[i / stream];
            // the float32 restore arithmetic adds about one ulp of the stream's peak
            let slack = 2.0 * f64::from(f32::EPSILON) * f64::from(peaks[i / stream]);
            prop_assert!((f64::from(a) - f64::from(b)).abs() <= half + slack, "sample {}: {} vs {}", i, a, b);
        }
    }
}

#[test]
fn extremes_round_trip() {
    let i32s = vec![i32::MIN, i32::MAX, 0, -1, 1, i32::MIN, i32::MAX];
    let fa = FlacArray::compress(&i32s, &[7], &CompressOptions::default()).unwrap();
    assert_eq!(fa.to_vec::<i32>().unwrap(), i32s);
    let i64s = vec![i64::MIN, i64::MAX, 0, -1, 1 << 32, -(1 << 32), i64::MAX];
    let fa = FlacArray::compress(&i64s, &[7], &CompressOptions::default()).unwrap();
    assert_eq!(fa.to_vec::<i64>().unwrap(), i64s);
}

#[test]
fn length_one_streams_and_single_values() {
    for shape in [vec![1], vec![5, 1], vec![1, 1, 1]] {
        let n: usize = shape.iter().product();
        let data: Vec<i64> = (0..n as i64).map(|i| i * 1_000_000_007 - 3).collect();
        let fa = FlacArray::compress(&data, &shape, &CompressOptions::default()).unwrap();
        assert_eq!(fa.to_vec::<i64>().unwrap(), data);
        let floats: Vec<f64> = data.iter().map(|&v| v as f64 * 0.25).collect();
        let fa = FlacArray::compress(&floats, &shape, &CompressOptions::default()).unwrap();
        assert_eq!(
            fa.to_vec::<f64>().unwrap(),
            floats,
            "single-sample float streams are exact"
        );
    }
}

#[test]
fn constant_and_zero_float_streams_are_exact() {
    let mut data = vec![0.0f64; 300];
    data[100..200].fill(-7.125);
    data[200..].fill(1e300);
    for step in [StepSpec::Range, StepSpec::Precision(vec![4.0])] {
        let opts = CompressOptions::default().with_step(step);
        let fa = FlacArray::compress(&data, &[3, 100], &opts).unwrap();
        assert_eq!(fa.to_vec::<f64>().unwrap(), data);
        assert!(fa
            .stream_gains()
            .unwrap()
            .iter()
            .all(|g| g.is_finite() && *g > 0.0));
    }
    let zeros = vec![0.0f32; 50];
    let fa = FlacArray::compress(&zeros, &[50], &CompressOptions::default()).unwrap();
    assert_eq!(fa.to_vec::<f32>().unwrap(), zeros);
}

#[test]
fn display_matches_python_repr() {
    let data = vec![0.5f64; 24];
    let fa = FlacArray::compress(&data, &[4, 3, 2], &CompressOptions::default()).unwrap();
    assert_eq!(
        fa.to_string(),
        format!("<FlacArray float64 shape=(4, 3, 2) bytes={}>", fa.nbytes())
    );
    let fa = FlacArray::compress(&[1i32, 2, 3], &[3], &CompressOptions::default()).unwrap();
    assert_eq!(
        fa.to_string(),
        format!("<FlacArray int32 shape=(3,) bytes={}>", fa.nbytes())
    );
}

#[test]
fn equality_compares_content() {
    let data = common::int32_signal(1, 3, 5000);
    let a = FlacArray::compress(&data, &[3, 5000], &CompressOptions::default()).unwrap();
    let b = FlacArray::compress(&data, &[3, 5000], &CompressOptions::default()).unwrap();
    assert_eq!(a, b);
    let c = FlacArray::compress(&data, &[1, 3, 5000], &CompressOptions::default()).unwrap();
    assert_ne!(a, c);
    let parts = a.clone().into_parts();
    assert_eq!(FlacArray::from_parts(parts).unwrap(), a);
}

#[test]
fn per_stream_quanta() {
    let mut rng = common::Rng::new(9);
    let data: Vec<f64> = (0..4000).map(|_| rng.normal()).collect();
    let quanta = vec![1e-1, 1e-2, 1e-3, 1e-4];
    let opts = CompressOptions::default().with_step(StepSpec::Quanta(quanta.clone()));
    let fa = FlacArray::compress(&data, &[4, 1000], &opts).unwrap();
    for (g, q) in fa.stream_gains().unwrap().iter().zip(&quanta) {
        assert!((1.0 / g - q).abs() < 1e-15);
    }
    let back = fa.to_vec::<f64>().unwrap();
    for (i, (a, b)) in data.iter().zip(&back).enumerate() {
        assert!((a - b).abs() <= 0.5 * quanta[i / 1000] * (1.0 + 1e-9));
    }
}
