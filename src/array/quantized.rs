//! Whole arrays of floats to the integers their streams are stored as, and
//! back: the quantization layer applied stream by stream (what the
//! reference package calls `float_to_int` / `int_to_float`), without FLAC.

use rayon::prelude::*;

use super::compress::StepSpec;
use crate::error::{Error, Result};
use crate::quantize::{
    dequantizer_f32, dequantizer_f64, quantize_f32, quantize_f64, validate_scale, Float, Scale,
};

/// The integers of every stream of a float array and each stream's offset
/// and gain (value = offset + integer / gain).
#[derive(Debug, Clone, PartialEq)]
pub struct Quantized<I> {
    /// The integers, in the array's order.
    pub ints: Vec<I>,
    /// One offset per stream.
    pub offsets: Vec<f64>,
    /// One gain per stream.
    pub gains: Vec<f64>,
}

fn check_layout(len: usize, stream_size: usize) -> Result<usize> {
    if stream_size == 0 || !len.is_multiple_of(stream_size) {
        return Err(Error::invalid(format!(
            "{len} values are not whole streams of {stream_size} samples"
        )));
    }
    Ok(len / stream_size)
}

fn quantize_all<F: Copy + Send + Sync, I: Copy + Default + Send>(
    data: &[F],
    stream_size: usize,
    step: &StepSpec,
    quantize: impl Fn(&[F], crate::quantize::Step, &mut [I]) -> Result<Scale> + Sync,
) -> Result<Quantized<I>> {
    let streams = check_layout(data.len(), stream_size)?;
    let mut ints = vec![I::default(); data.len()];
    let scales: Vec<Scale> = ints
        .par_chunks_mut(stream_size)
        .zip(data.par_chunks(stream_size))
        .enumerate()
        .map(|(i, (out, values))| {
            quantize(values, step.for_stream(i), out).map_err(|e| e.in_stream(i))
        })
        .collect::<Result<_>>()?;
    debug_assert_eq!(scales.len(), streams);
    Ok(Quantized {
        ints,
        offsets: scales.iter().map(|s| s.offset).collect(),
        gains: scales.iter().map(|s| s.gain).collect(),
    })
}

/// Quantizes every stream (`stream_size` samples each) of float32 data to
/// 32-bit integers, each stream's step chosen by `step`.
pub fn quantize_streams_f32(
    data: &[f32],
    stream_size: usize,
    step: &StepSpec,
) -> Result<Quantized<i32>> {
    quantize_all(data, stream_size, step, quantize_f32)
}

/// Quantizes every stream of float64 data to 64-bit integers.
pub fn quantize_streams_f64(
    data: &[f64],
    stream_size: usize,
    step: &StepSpec,
) -> Result<Quantized<i64>> {
    quantize_all(data, stream_size, step, quantize_f64)
}

fn restore_all<I: Copy + Send + Sync, F: Copy + Default + Send>(
    q: &Quantized<I>,
    stream_size: usize,
    float: Float,
    restore: impl Fn(Scale, &[I], &mut [F]) + Sync,
) -> Result<Vec<F>> {
    let streams = check_layout(q.ints.len(), stream_size)?;
    if q.offsets.len() != streams || q.gains.len() != streams {
        return Err(Error::invalid(format!(
            "{streams} streams need {streams} offsets and gains, got {} and {}",
            q.offsets.len(),
            q.gains.len()
        )));
    }
    let mut out = vec![F::default(); q.ints.len()];
    out.par_chunks_mut(stream_size)
        .zip(q.ints.par_chunks(stream_size))
        .enumerate()
        .try_for_each(|(i, (out, ints))| {
            let scale = Scale {
                offset: q.offsets[i],
                gain: q.gains[i],
            };
            validate_scale(scale, float).map_err(|e| e.in_stream(i))?;
            restore(scale, ints, out);
            Ok::<(), Error>(())
        })?;
    Ok(out)
}

/// Restores float32 values from their integers, offsets and gains (in
/// float32 arithmetic, as decoding does).
pub fn restore_streams_f32(q: &Quantized<i32>, stream_size: usize) -> Result<Vec<f32>> {
    restore_all(q, stream_size, Float::F32, |scale, ints, out| {
        let restore = dequantizer_f32(scale);
        for (o, &v) in out.iter_mut().zip(ints) {
            *o = restore(i64::from(v));
        }
    })
}

/// Restores float64 values from their integers, offsets and gains.
pub fn restore_streams_f64(q: &Quantized<i64>, stream_size: usize) -> Result<Vec<f64>> {
    restore_all(q, stream_size, Float::F64, |scale, ints, out| {
        let restore = dequantizer_f64(scale);
        for (o, &v) in out.iter_mut().zip(ints) {
            *o = restore(v);
        }
    })
}
