//! The four element types a [`super::FlacArray`] can hold, and how one
//! stream of each is encoded and decoded.

use std::cell::RefCell;
use std::fmt;

use crate::codec::{decode_into, encode_i32, encode_i64, Channels, EncodeOptions};
use crate::error::{Error, Result};
use crate::quantize::{
    dequantizer_f32, dequantizer_f64, quantize_f32, quantize_f64, validate_scale, Float, Scale,
    Step,
};

/// Runs an expression once per element type: `with_element_type!(dtype, T
/// => body)` evaluates `body` with `T` standing for the Rust type of
/// `dtype` (`i32`, `i64`, `f32` or `f64`), so code generic over
/// [`Element`] needs no four-arm `match` of its own.
///
/// ```
/// use flacarray::{with_element_type, CompressOptions, DType, FlacArray};
///
/// let fa = FlacArray::compress(&[1.5f32, 2.5, 3.5], &[3], &CompressOptions::default())?;
/// let total: f64 = with_element_type!(fa.dtype(), T => {
///     fa.to_vec::<T>()?.iter().map(|&v| v as f64).sum()
/// });
/// assert_eq!(total, 7.5);
/// # Ok::<(), flacarray::Error>(())
/// ```
#[macro_export]
macro_rules! with_element_type {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::DType::Int32 => {
                type $T = i32;
                $body
            }
            $crate::DType::Int64 => {
                type $T = i64;
                $body
            }
            $crate::DType::Float32 => {
                type $T = f32;
                $body
            }
            $crate::DType::Float64 => {
                type $T = f64;
                $body
            }
        }
    };
}

/// Element type of the uncompressed array.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// 32-bit signed integers, stored losslessly as 1-channel FLAC.
    Int32,
    /// 64-bit signed integers, stored losslessly as 2-channel FLAC.
    Int64,
    /// 32-bit floats, quantized to 32-bit integers.
    Float32,
    /// 64-bit floats, quantized to 64-bit integers.
    Float64,
}

impl DType {
    /// The numpy name of the type ("int32", "float64", ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::Int32 => "int32",
            DType::Int64 => "int64",
            DType::Float32 => "float32",
            DType::Float64 => "float64",
        }
    }

    /// Parses a numpy type name.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "int32" => Ok(DType::Int32),
            "int64" => Ok(DType::Int64),
            "float32" => Ok(DType::Float32),
            "float64" => Ok(DType::Float64),
            other => Err(Error::unsupported(format!(
                "unsupported dtype '{other}': expected int32, int64, float32 or float64"
            ))),
        }
    }

    /// True for the types that are quantized (and so carry offsets and gains).
    pub fn is_float(self) -> bool {
        matches!(self, DType::Float32 | DType::Float64)
    }

    /// The float type whose rules a float's steps and scales follow
    /// (`None` for integers).
    pub fn float(self) -> Option<Float> {
        match self {
            DType::Float32 => Some(Float::F32),
            DType::Float64 => Some(Float::F64),
            DType::Int32 | DType::Int64 => None,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::Int32 | DType::Float32 => 4,
            DType::Int64 | DType::Float64 => 8,
        }
    }

    /// FLAC channels per stream as format 1 (and the Arrow layout) store
    /// the type: 1 for 32-bit types, 2 (low and high word) for 64-bit ones.
    pub fn channels(self) -> u32 {
        if self.size() == 8 {
            2
        } else {
            1
        }
    }

    /// The type whose streams have `channels` channels (as format 1 stores
    /// them) and, for floats, offsets and gains: the one rule that tells a
    /// stored type from its streams.
    pub fn from_channels(channels: u32, float: bool) -> Option<DType> {
        match (channels, float) {
            (1, false) => Some(DType::Int32),
            (2, false) => Some(DType::Int64),
            (1, true) => Some(DType::Float32),
            (2, true) => Some(DType::Float64),
            _ => None,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for i32 {}
    impl Sealed for i64 {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A Rust type that can be an array element: `i32`, `i64`, `f32` or `f64`.
pub trait Element: sealed::Sealed + Copy + Default + Send + Sync + 'static {
    /// The matching [`DType`].
    const DTYPE: DType;

    /// Compresses one stream; floats also return their scale.
    #[doc(hidden)]
    fn encode_stream(
        values: &[Self],
        step: Step,
        options: &EncodeOptions,
    ) -> Result<(Vec<u8>, Option<Scale>)>;

    /// Decodes samples `first .. first + out.len()` of one stream.
    #[doc(hidden)]
    fn decode_stream(
        bytes: &[u8],
        stream_len: u64,
        first: u64,
        out: &mut [Self],
        scale: Option<Scale>,
    ) -> Result<()>;
}

thread_local! {
    static SCRATCH_I32: RefCell<Vec<i32>> = const { RefCell::new(Vec::new()) };
    static SCRATCH_I64: RefCell<Vec<i64>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on a per-thread integer buffer of length `n`.
fn with_scratch<T: Copy + Default, R>(
    key: &'static std::thread::LocalKey<RefCell<Vec<T>>>,
    n: usize,
    f: impl FnOnce(&mut [T]) -> R,
) -> R {
    key.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.resize(n, T::default());
            f(&mut buf[..n])
        }
        Err(_) => f(&mut vec![T::default(); n]),
    })
}

fn needs_scale(scale: Option<Scale>, float: Float) -> Result<Scale> {
    let scale = scale.ok_or_else(|| Error::corrupt("float stream has no offset/gain"))?;
    validate_scale(scale, float)?;
    Ok(scale)
}

impl Element for i32 {
    const DTYPE: DType = DType::Int32;

    fn encode_stream(
        values: &[Self],
        _: Step,
        options: &EncodeOptions,
    ) -> Result<(Vec<u8>, Option<Scale>)> {
        Ok((encode_i32(values, options)?, None))
    }

    fn decode_stream(
        bytes: &[u8],
        len: u64,
        first: u64,
        out: &mut [Self],
        _: Option<Scale>,
    ) -> Result<()> {
        decode_into(bytes, len, first, out, Channels::One, |v| v as i32)
    }
}

impl Element for i64 {
    const DTYPE: DType = DType::Int64;

    fn encode_stream(
        values: &[Self],
        _: Step,
        options: &EncodeOptions,
    ) -> Result<(Vec<u8>, Option<Scale>)> {
        Ok((encode_i64(values, options)?, None))
    }

    fn decode_stream(
        bytes: &[u8],
        len: u64,
        first: u64,
        out: &mut [Self],
        _: Option<Scale>,
    ) -> Result<()> {
        decode_into(bytes, len, first, out, Channels::OneOrTwo, |v| v)
    }
}

impl Element for f32 {
    const DTYPE: DType = DType::Float32;

    fn encode_stream(
        values: &[Self],
        step: Step,
        options: &EncodeOptions,
    ) -> Result<(Vec<u8>, Option<Scale>)> {
        with_scratch(&SCRATCH_I32, values.len(), |ints| {
            let scale = quantize_f32(values, step, ints)?;
            Ok((encode_i32(ints, options)?, Some(scale)))
        })
    }

    fn decode_stream(
        bytes: &[u8],
        len: u64,
        first: u64,
        out: &mut [Self],
        scale: Option<Scale>,
    ) -> Result<()> {
        decode_into(
            bytes,
            len,
            first,
            out,
            Channels::One,
            dequantizer_f32(needs_scale(scale, Float::F32)?),
        )
    }
}

impl Element for f64 {
    const DTYPE: DType = DType::Float64;

    fn encode_stream(
        values: &[Self],
        step: Step,
        options: &EncodeOptions,
    ) -> Result<(Vec<u8>, Option<Scale>)> {
        with_scratch(&SCRATCH_I64, values.len(), |ints| {
            let scale = quantize_f64(values, step, ints)?;
            Ok((encode_i64(ints, options)?, Some(scale)))
        })
    }

    fn decode_stream(
        bytes: &[u8],
        len: u64,
        first: u64,
        out: &mut [Self],
        scale: Option<Scale>,
    ) -> Result<()> {
        // 1-channel float64 streams come from the reference's format 0.
        decode_into(
            bytes,
            len,
            first,
            out,
            Channels::OneOrTwo,
            dequantizer_f64(needs_scale(scale, Float::F64)?),
        )
    }
}
