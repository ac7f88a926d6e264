//! Building a [`FlacArray`] from uncompressed data, in parallel over streams.

use rayon::prelude::*;

use super::element::{encode_streams, group_size, EncodedGroup};
use super::{stream_count, Element, FlacArray, FlacArrayParts};
use crate::codec::EncodeOptions;
use crate::error::{Error, Result};
use crate::quantize::Step;

/// How float streams are turned into integers.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum StepSpec {
    /// Each stream's peak-to-peak range spans 2^30 integer levels.
    #[default]
    Range,
    /// The integer step: one value for all streams, or one per stream.
    Quanta(Vec<f64>),
    /// Decimal digits kept relative to each stream's standard deviation:
    /// one value for all streams, or one per stream.
    Precision(Vec<f64>),
}

impl StepSpec {
    /// One fixed step for every stream.
    ///
    /// ```
    /// use flacarray::{CompressOptions, FlacArray, StepSpec};
    ///
    /// let opts = CompressOptions::default().with_step(StepSpec::quanta(1e-3));
    /// let fa = FlacArray::compress(&[0.25f64, 0.5, 0.75], &[3], &opts)?;
    /// assert!((fa.to_vec::<f64>()?[1] - 0.5).abs() <= 0.5e-3);
    /// # Ok::<(), flacarray::Error>(())
    /// ```
    pub fn quanta(step: f64) -> Self {
        StepSpec::Quanta(vec![step])
    }

    /// The same precision (digits relative to each stream's std) for every stream.
    pub fn precision(digits: f64) -> Self {
        StepSpec::Precision(vec![digits])
    }

    /// The rule from optional quanta and precision values (one, or one per
    /// stream or row): the two are exclusive; neither means
    /// [`StepSpec::Range`].
    ///
    /// ```
    /// use flacarray::StepSpec;
    ///
    /// assert_eq!(StepSpec::from_options(Some(vec![0.1]), None)?, StepSpec::quanta(0.1));
    /// assert_eq!(StepSpec::from_options(None, None)?, StepSpec::Range);
    /// assert!(StepSpec::from_options(Some(vec![0.1]), Some(vec![3.0])).is_err());
    /// # Ok::<(), flacarray::Error>(())
    /// ```
    pub fn from_options(quanta: Option<Vec<f64>>, precision: Option<Vec<f64>>) -> Result<Self> {
        match (quanta, precision) {
            (Some(_), Some(_)) => Err(Error::invalid("give quanta or precision, not both")),
            (Some(q), None) => Ok(StepSpec::Quanta(q)),
            (None, Some(p)) => Ok(StepSpec::Precision(p)),
            (None, None) => Ok(StepSpec::Range),
        }
    }

    /// Checks that this rule suits `dtype`: steps are for float data only.
    pub fn check_dtype(&self, dtype: crate::DType) -> Result<()> {
        if !dtype.is_float() && *self != StepSpec::Range {
            return Err(Error::invalid(format!(
                "quanta and precision apply to float data only, not {dtype}"
            )));
        }
        Ok(())
    }

    /// Checks every value now, as compression would for a stream that
    /// needs a step (compression itself checks a stream's value only when
    /// the stream varies, so per-stream steps may hold NaN for constant
    /// streams). For settings given once, such as a codec configuration.
    pub fn check_values(&self, dtype: crate::DType) -> Result<()> {
        self.check_dtype(dtype)?;
        // integers take no steps (refused just above)
        let float = dtype.float().unwrap_or(crate::quantize::Float::F64);
        match self {
            StepSpec::Range => Ok(()),
            StepSpec::Quanta(values) => values
                .iter()
                .try_for_each(|&q| crate::quantize::check_quanta(q, float)),
            StepSpec::Precision(values) => values
                .iter()
                .try_for_each(|&p| crate::quantize::check_precision(p)),
        }
    }

    fn check(&self, nstreams: usize) -> Result<()> {
        let (name, values) = match self {
            StepSpec::Range => return Ok(()),
            StepSpec::Quanta(v) => ("quanta", v),
            StepSpec::Precision(v) => ("precision", v),
        };
        if values.len() == 1 || values.len() == nstreams {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "{name} has {} values; expected one value or one per stream ({nstreams})",
                values.len()
            )))
        }
    }

    pub(crate) fn for_stream(&self, i: usize) -> Step {
        let pick = |v: &Vec<f64>| if v.len() == 1 { v[0] } else { v[i] };
        match self {
            StepSpec::Range => Step::Range,
            StepSpec::Quanta(v) => Step::Quanta(pick(v)),
            StepSpec::Precision(v) => Step::Precision(pick(v)),
        }
    }
}

/// Settings for [`FlacArray::compress`], built from the defaults (level 5,
/// 4096-sample frames, floats scaled by their range):
///
/// ```
/// use flacarray::{CompressOptions, StepSpec};
///
/// let options = CompressOptions::default().with_level(8).with_quanta(1e-3);
/// assert_eq!(options.level, 8);
/// assert_eq!(options.step, StepSpec::Quanta(vec![1e-3]));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CompressOptions {
    /// libFLAC compression level, 0..=8.
    pub level: u32,
    /// Samples per FLAC frame (the unit of random access).
    pub block_size: u32,
    /// Float quantization rule (must be [`StepSpec::Range`] for integers).
    pub step: StepSpec,
}

impl Default for CompressOptions {
    fn default() -> Self {
        CompressOptions {
            level: 5,
            block_size: 4096,
            step: StepSpec::Range,
        }
    }
}

impl CompressOptions {
    /// The defaults (same as `CompressOptions::default()`).
    pub fn new() -> Self {
        Self::default()
    }

    /// The libFLAC compression level, 0 (fastest) to 8 (smallest);
    /// checked when compressing.
    pub fn with_level(mut self, level: u32) -> Self {
        self.level = level;
        self
    }

    /// Samples per FLAC frame (the unit of random access).
    pub fn with_block_size(mut self, block_size: u32) -> Self {
        self.block_size = block_size;
        self
    }

    /// The float quantization rule.
    pub fn with_step(mut self, step: StepSpec) -> Self {
        self.step = step;
        self
    }

    /// One quantization step (the value of one integer unit) for every
    /// stream of float data.
    pub fn with_quanta(self, quanta: f64) -> Self {
        self.with_step(StepSpec::Quanta(vec![quanta]))
    }

    /// Decimal digits kept relative to each float stream's standard
    /// deviation, the same for every stream.
    pub fn with_precision(self, precision: f64) -> Self {
        self.with_step(StepSpec::Precision(vec![precision]))
    }
}

/// Streams at least this many blocks long get libFLAC's own threads when
/// there are fewer streams than cores.
const MIN_BLOCKS_FOR_INNER_THREADS: usize = 16;

impl FlacArray {
    /// Compresses `data`, a C-ordered array of the given `shape`, whose last
    /// axis holds the streams. Work is spread over the current rayon pool;
    /// the output does not depend on the number of threads.
    pub fn compress<T: Element>(
        data: &[T],
        shape: &[usize],
        options: &CompressOptions,
    ) -> Result<Self> {
        let nstreams = stream_count(shape)?;
        let stream_size = shape[shape.len() - 1];
        let total = nstreams.checked_mul(stream_size);
        if total != Some(data.len()) {
            return Err(Error::invalid(format!(
                "shape {shape:?} needs {} values but {} were given",
                total.map_or_else(|| "too many".to_string(), |t| t.to_string()),
                data.len()
            )));
        }
        if data.is_empty() {
            return Err(Error::invalid(format!(
                "cannot compress an empty array (shape {shape:?})"
            )));
        }
        options.step.check_dtype(T::DTYPE)?;
        options.step.check(nstreams)?;
        let cores = rayon::current_num_threads();
        let inner_threads =
            if stream_size >= MIN_BLOCKS_FOR_INNER_THREADS * options.block_size as usize {
                (cores / nstreams).max(1) as u32
            } else {
                1
            };
        let encode = EncodeOptions {
            level: options.level,
            block_size: options.block_size,
            threads: inner_threads,
            ..EncodeOptions::default()
        };
        encode.validate()?;

        let float = T::DTYPE.is_float();
        let mut out = FlacArrayParts {
            dtype: T::DTYPE,
            shape: shape.to_vec(),
            compressed: Vec::new(),
            stream_starts: Vec::with_capacity(nstreams),
            stream_nbytes: Vec::with_capacity(nstreams),
            stream_offsets: float.then(|| Vec::with_capacity(nstreams)),
            stream_gains: float.then(|| Vec::with_capacity(nstreams)),
            level: options.level,
        };
        // Streams are encoded in groups whose MD5s are computed side by side.
        let group = group_size(nstreams, cores);
        // Encode a batch of streams at a time and append it, so that at most
        // one batch of per-stream buffers exists besides the output; a batch
        // holds at least ~1M samples, so short rows do not pay the threads'
        // hand-over for every few streams, and whole groups for every
        // thread alike.
        let batch = (cores * 4)
            .max((1 << 20) / stream_size.max(1))
            .next_multiple_of(group * cores);
        for first in (0..nstreams).step_by(batch) {
            let last = (first + batch).min(nstreams);
            let encoded: Vec<_> = (first..last)
                .step_by(group)
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(|g| {
                    let values = &data[g * stream_size..(g + group).min(last) * stream_size];
                    let streams: Vec<&[T]> = values.chunks(stream_size).collect();
                    encode_streams(&streams, |i| options.step.for_stream(g + i), &encode)
                        .map_err(|(i, e)| e.in_stream(g + i))
                })
                .collect();
            let encoded = encoded.into_iter().collect::<Result<Vec<_>>>()?;
            out.compressed
                .reserve(encoded.iter().map(EncodedGroup::byte_len).sum());
            for (bytes, scale) in encoded.iter().flat_map(|group| group.streams()) {
                out.stream_starts.push(out.compressed.len() as u64);
                out.stream_nbytes.push(bytes.len() as u64);
                out.compressed.extend_from_slice(bytes);
                if let (Some(scale), Some(offsets), Some(gains)) =
                    (scale, &mut out.stream_offsets, &mut out.stream_gains)
                {
                    offsets.push(scale.offset);
                    gains.push(scale.gain);
                }
            }
        }
        // built here from checked input: the checks of `from_parts` would
        // only read every stream's header again
        Ok(FlacArray { parts: out })
    }
}
