//! The quantization layer: floating-point streams ⇄ integer streams.
//!
//! A float stream `x` becomes integers `round((x - offset) * gain)` (rounding
//! half away from zero) and comes back as `offset + (1 / gain) * int`, the
//! reference package's formula, so files are interchangeable. The step
//! `1 / gain` (the *quanta*) is chosen per stream by a [`Step`] rule.

use crate::error::{Error, Result};

/// Integer levels spanned by a float64 stream's peak-to-peak range by default
/// (the seed's behaviour).
pub const DEFAULT_LEVELS_F64: f64 = (1u64 << 30) as f64;

/// Integer levels spanned by a float32 stream's peak-to-peak range by
/// default. float32 carries 24 significant bits and is restored in float32
/// arithmetic, so finer steps would only store rounding noise.
pub const DEFAULT_LEVELS_F32: f64 = (1u64 << 24) as f64;

/// How the quantization step of one stream is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Step {
    /// The stream's peak-to-peak range spans [`DEFAULT_LEVELS_F64`] steps
    /// ([`DEFAULT_LEVELS_F32`] for float32).
    Range,
    /// A fixed step: the value of one integer unit.
    Quanta(f64),
    /// Keep this many decimal digits relative to the stream's standard
    /// deviation: step = std / 10^digits.
    Precision(f64),
}

/// The per-stream parameters needed to restore floats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// Value subtracted before scaling.
    pub offset: f64,
    /// Integer units per unit of the data (1 / quanta).
    pub gain: f64,
}

/// Summary statistics of one stream, with the finiteness check.
struct Stats {
    min: f64,
    max: f64,
}

fn stats(values: impl Iterator<Item = f64>) -> Result<Stats> {
    let mut s = Stats {
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
    };
    for (i, v) in values.enumerate() {
        if !v.is_finite() {
            return Err(Error::invalid(format!(
                "cannot quantize non-finite value {v} at sample {i}"
            )));
        }
        s.min = s.min.min(v);
        s.max = s.max.max(v);
    }
    Ok(s)
}

/// The standard deviation, computed on deviations scaled by the largest
/// one so that tiny values (subnormal, say) do not square to zero and
/// huge ones do not overflow.
fn std_dev(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let (n, sum) = values
        .clone()
        .fold((0usize, 0.0), |(n, s), v| (n + 1, s + v / 1024.0));
    if n == 0 {
        return 0.0;
    }
    let mean = sum / n as f64 * 1024.0;
    let scale = values.clone().fold(0.0f64, |m, v| m.max((v - mean).abs()));
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    let var = values
        .map(|v| ((v - mean) / scale) * ((v - mean) / scale))
        .sum::<f64>()
        / n as f64;
    scale * var.sqrt()
}

/// The smallest and largest steps a float64 stream can use: the step and
/// its gain (1 / step) must both be normal, finite numbers.
pub const STEP_RANGE_F64: (f64, f64) = (f64::MIN_POSITIVE * 2.0, 1.0 / (f64::MIN_POSITIVE * 2.0));

/// The smallest and largest steps a float32 stream can use: offset, gain
/// and step are stored and applied in float32, so each must be a normal
/// float32 number.
pub const STEP_RANGE_F32: (f64, f64) = (
    f32::MIN_POSITIVE as f64 * 2.0,
    1.0 / (f32::MIN_POSITIVE as f64 * 2.0),
);

/// Which float type a stream holds: its steps, offsets and gains are
/// checked (and float32 ones applied) in that type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Float {
    /// float32 data.
    F32,
    /// float64 data.
    F64,
}

impl Float {
    fn step_range(self) -> (f64, f64) {
        match self {
            Float::F32 => STEP_RANGE_F32,
            Float::F64 => STEP_RANGE_F64,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Float::F32 => "float32",
            Float::F64 => "float64",
        }
    }
}

/// Checks a fixed step (quanta) for float32 or float64 data: a positive
/// number inside the type's usable range.
pub fn check_quanta(q: f64, float: Float) -> Result<()> {
    let (lo, hi) = float.step_range();
    if (lo..=hi).contains(&q) {
        return Ok(());
    }
    let kind = float.name();
    let what = if q > hi && q.is_finite() {
        format!("quanta {} is too large", short(q))
    } else if q > 0.0 && q < lo {
        format!("quanta {} is too small", short(q))
    } else {
        format!("quanta must be a positive finite number, got {}", short(q))
    };
    Err(Error::invalid(format!(
        "{what}; {kind} steps lie between {lo:e} and {hi:e}"
    )))
}

/// Checks a precision (significant digits relative to a stream's standard
/// deviation): any finite number.
pub fn check_precision(p: f64) -> Result<()> {
    if p.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "precision must be finite, got {}",
            short(p)
        )))
    }
}

/// A number for a message: plain when short, else in exponent form (a
/// precision of 3, not 3e0; 1e300, not 301 digits).
fn short(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e6 {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// Resolves the step rule to a quanta value; `None` means the stream is
/// constant and needs no step at all.
fn quanta_for(
    step: Step,
    float: Float,
    stats: &Stats,
    values: impl Iterator<Item = f64> + Clone,
) -> Result<Option<f64>> {
    let (lo, hi) = float.step_range();
    let kind = float.name();
    if let Step::Quanta(q) = step {
        check_quanta(q, float)?;
    }
    let range = stats.max - stats.min;
    if range == 0.0 {
        return Ok(None);
    }
    if !range.is_finite() {
        return Err(Error::invalid(format!(
            "values from {:e} to {:e} span more than the largest {kind}: no step can \
             quantize them; split or scale the data",
            stats.min, stats.max
        )));
    }
    let (levels, exponent) = match float {
        Float::F32 => (DEFAULT_LEVELS_F32, 24),
        Float::F64 => (DEFAULT_LEVELS_F64, 30),
    };
    match step {
        // Values so close together (near the smallest floats) that 2^30
        // (2^24) steps would need a step without a finite gain: refused,
        // rather than quantized to a few levels with no word said.
        Step::Range if range / levels < lo => Err(Error::invalid(format!(
            "values span only {range:e}: the default step (their range / 2^{exponent} = \
             {:e}) is below the smallest usable {kind} step, {lo:e}; pass quanta (at least \
             {lo:e}) or scale the data",
            range / levels
        ))),
        Step::Range => Ok(Some((range / levels).min(hi))),
        Step::Quanta(q) => Ok(Some(q)),
        Step::Precision(p) if p.is_finite() => {
            let sd = std_dev(values);
            let q = sd / 10f64.powf(p);
            if (lo..=hi).contains(&q) {
                Ok(Some(q))
            } else {
                Err(Error::invalid(format!(
                    "precision {} gives a step of {q:e} for a stream with standard deviation \
                     {sd:e}; {kind} steps must lie between {lo:e} and {hi:e}",
                    short(p)
                )))
            }
        }
        Step::Precision(p) => check_precision(p).map(|()| None),
    }
}

/// Quantizes a float64 stream into 64-bit integers. When they span fewer
/// than 2^32 steps the offset sits at the stream minimum (rounded down to a
/// whole number of steps), so integers are non-negative and the high
/// 32-bit word stays constant: cheap to store. Wider streams are centred on
/// their midpoint.
pub fn quantize_f64(values: &[f64], step: Step, out: &mut [i64]) -> Result<Scale> {
    let st = stats(values.iter().copied())?;
    let Some(q) = quanta_for(step, Float::F64, &st, values.iter().copied())? else {
        out.fill(0);
        return Ok(Scale {
            offset: st.min,
            gain: 1.0,
        });
    };
    // Integers spanning fewer than 2^32 steps start at the minimum, so the
    // high 32-bit word stays 0 (a constant FLAC channel); wider ones are
    // centred on the midpoint, which halves the largest integer and with
    // it the rounding of its conversion to a double.
    // (+ 0.0: an offset of -0.0 would restore +0.0 samples as -0.0)
    let offset = if (st.max - st.min) / q < 4_294_967_296.0 {
        q * (st.min / q).floor() + 0.0
    } else {
        q * ((0.5 * st.min + 0.5 * st.max) / q).round() + 0.0
    };
    let gain = 1.0 / q;
    let scale = Scale { offset, gain };
    let span = ((st.max - offset) * gain)
        .abs()
        .max(((st.min - offset) * gain).abs());
    if !span.is_finite() || span >= 9.2e18 || validate_scale(scale, Float::F64).is_err() {
        return Err(Error::invalid(format!(
            "quanta {q:e} is too small for values from {:e} to {:e}: they would need more \
             than 64 bits",
            st.min, st.max
        )));
    }
    for (o, &v) in out.iter_mut().zip(values) {
        *o = ((v - offset) * gain).round() as i64;
    }
    Ok(scale)
}

/// Quantizes a float32 stream into 32-bit integers. Offset and gain are
/// float32 values (as the reference stores them) centred on the stream's
/// midpoint. A step too small for 32 bits is an error, never a silent clip.
pub fn quantize_f32(values: &[f32], step: Step, out: &mut [i32]) -> Result<Scale> {
    let wide = values.iter().map(|&v| f64::from(v));
    let st = stats(wide.clone())?;
    let Some(q) = quanta_for(step, Float::F32, &st, wide)? else {
        out.fill(0);
        return Ok(Scale {
            offset: st.min,
            gain: 1.0,
        });
    };
    let mid = 0.5 * (st.min + st.max);
    let offset = f64::from((q * (mid / q).round()) as f32) + 0.0;
    let gain = f64::from((1.0 / q) as f32);
    let scale = Scale { offset, gain };
    let limit = f64::from(i32::MAX);
    let extreme = ((st.max - offset) * gain)
        .abs()
        .max(((st.min - offset) * gain).abs());
    if validate_scale(scale, Float::F32).is_err() || !extreme.is_finite() || extreme.round() > limit
    {
        return Err(Error::invalid(format!(
            "quanta {q:e} is too small for float32 values from {:e} to {:e}: they would need \
             more than 32 bits",
            st.min, st.max
        )));
    }
    for (o, &v) in out.iter_mut().zip(values) {
        *o = ((f64::from(v) - offset) * gain).round() as i32;
    }
    Ok(scale)
}

/// Restores float64 values: `offset + (1 / gain) * int`, computed as
/// `offset - (1 / gain) * (0 - int)`, which is the same number for every
/// nonzero integer and gives the offset itself, sign of zero included, for
/// zero (so a constant `-0.0` stream comes back `-0.0`).
pub fn dequantizer_f64(scale: Scale) -> impl Fn(i64) -> f64 + Copy {
    let coeff = 1.0 / scale.gain;
    let offset = scale.offset;
    move |v| offset - coeff * (0.0 - v as f64)
}

/// Restores float32 values in float32 arithmetic, exactly as the reference
/// package does (so its files decode to the same bits; zero as in
/// [`dequantizer_f64`]). The two float32 roundings add up to about one
/// float32 ulp of the stream's largest magnitude on top of the half-step
/// quantization error.
pub fn dequantizer_f32(scale: Scale) -> impl Fn(i64) -> f32 + Copy {
    let coeff = (1.0 / scale.gain) as f32;
    let offset = scale.offset as f32;
    move |v| offset - coeff * (0.0 - v as f32)
}

/// Checks a scale before it is used to decode (or stored): the offset must
/// be finite and the gain and step (1 / gain) positive, normal numbers, in
/// float32 for float32 data (which is restored in float32 arithmetic).
/// Anything else would decode to infinities, NaN or wrong values.
pub fn validate_scale(scale: Scale, float: Float) -> Result<()> {
    let Scale { offset, gain } = scale;
    let step = 1.0 / gain;
    let ok = if float == Float::F32 {
        let (offset, gain, step) = (offset as f32, gain as f32, step as f32);
        offset.is_finite() && gain > 0.0 && gain.is_normal() && step.is_normal()
    } else {
        offset.is_finite() && gain > 0.0 && gain.is_normal() && step.is_normal()
    };
    if ok {
        Ok(())
    } else {
        Err(Error::corrupt(format!(
            "unusable offset/gain pair ({offset:e}, {gain:e}): the gain must be a positive normal number"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_range_spans_two_to_the_thirty() {
        let x = [-1.0, 0.0, 3.0];
        let mut out = [0i64; 3];
        let s = quantize_f64(&x, Step::Range, &mut out).unwrap();
        assert_eq!(out[0], 0);
        assert_eq!(out[2], 1 << 30);
        let back = dequantizer_f64(s);
        for (&v, &i) in x.iter().zip(&out) {
            assert!((back(i) - v).abs() <= 0.5 / s.gain);
        }
    }

    #[test]
    fn constant_stream_is_exact() {
        let x = [2.5f64; 7];
        let mut out = [9i64; 7];
        let s = quantize_f64(&x, Step::Range, &mut out).unwrap();
        assert_eq!(out, [0; 7]);
        assert_eq!(dequantizer_f64(s)(0), 2.5);
        let mut out32 = [9i32; 7];
        let x32 = [0f32; 7];
        let s = quantize_f32(&x32, Step::Precision(3.0), &mut out32).unwrap();
        assert_eq!(dequantizer_f32(s)(0), 0.0);
    }

    #[test]
    fn nan_is_rejected_with_position() {
        let mut out = [0i64; 3];
        let err = quantize_f64(&[0.0, f64::NAN, 1.0], Step::Range, &mut out).unwrap_err();
        assert!(err.message().contains("sample 1"), "{err}");
        let err = quantize_f64(&[0.0, f64::INFINITY], Step::Range, &mut out[..2]).unwrap_err();
        assert!(err.message().contains("non-finite"), "{err}");
    }

    #[test]
    fn float32_quanta_too_small_is_an_error() {
        let mut out = [0i32; 2];
        let err = quantize_f32(&[0.0, 1000.0], Step::Quanta(1e-9), &mut out).unwrap_err();
        assert!(err.message().contains("more than 32 bits"), "{err}");
    }

    #[test]
    fn bad_quanta_rejected() {
        let mut out = [0i64; 2];
        for q in [0.0, -1.0, f64::NAN] {
            let err = quantize_f64(&[0.0, 1.0], Step::Quanta(q), &mut out).unwrap_err();
            assert!(err.message().contains("quanta must be"), "{err}");
        }
    }

    #[test]
    fn precision_uses_std() {
        let x: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin()).collect();
        let mut out = vec![0i64; x.len()];
        let s = quantize_f64(&x, Step::Precision(2.0), &mut out).unwrap();
        let q = 1.0 / s.gain;
        let sd = std_dev(x.iter().copied());
        assert!((q - sd / 100.0).abs() < 1e-12);
    }
}
