//! The element types a [`super::FlacArray`] can hold (one table,
//! [`element_types!`](crate::element_types)), and how one stream of each
//! is encoded and decoded.

use std::cell::RefCell;
use std::fmt;

use crate::codec::{encode_group, Channels, Decoder, EncodeOptions, Samples};
use crate::error::{Error, Result};
use crate::quantize::{
    dequantizer_f32, dequantizer_f64, quantize_f32, quantize_f64, validate_scale, Float, Scale,
    Step,
};

/// The element-type table: one row per type this crate stores, and the one
/// place a new type is added. Each row is `(Variant, rust type, "numpy
/// name", chunk code, Arrow primitive type, stored by the group format,
/// "doc")`:
///
/// - the chunk code is the type's byte in the Zarr codec chunk header
///   ([`crate::chunk`]); codes are never reused;
/// - the Arrow type is the `arrow_array::types` type of decoded list values;
/// - the group flag says whether the HDF5/zarr group format (the reference
///   package's) can hold the type;
/// - channels and the scale rule follow from the Rust type: 64-bit types are
///   2-channel streams, floats carry offsets and gains ([`Element`]).
///
/// `element_types!(callback; args)` calls `callback! { [args] rows }`, so
/// every per-type `match` and impl is generated from these rows.
#[doc(hidden)]
#[macro_export]
macro_rules! element_types {
    ($($callback:ident)::+ ; $($args:tt)*) => {
        $($callback)::+ ! {
            [$($args)*]
            (Int16, i16, "int16", 5, Int16Type, false,
                "16-bit signed integers, stored losslessly as 1-channel FLAC of at most 16 bits.")
            (Int32, i32, "int32", 1, Int32Type, true,
                "32-bit signed integers, stored losslessly as 1-channel FLAC.")
            (Int64, i64, "int64", 2, Int64Type, true,
                "64-bit signed integers, stored losslessly as 2-channel FLAC.")
            (Float32, f32, "float32", 3, Float32Type, true,
                "32-bit floats, quantized to 32-bit integers.")
            (Float64, f64, "float64", 4, Float64Type, true,
                "64-bit floats, quantized to 64-bit integers.")
        }
    };
}

/// The `match` behind [`with_element_type!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __match_element_type {
    ([$dtype:expr, $T:ident, $body:expr]
     $(($variant:ident, $rust:ty, $name:literal, $code:literal, $arrow:ident, $groups:literal, $doc:literal))*) => {
        match $dtype {
            $($crate::DType::$variant => {
                type $T = $rust;
                $body
            })*
        }
    };
}

/// Runs an expression once per element type: `with_element_type!(dtype, T
/// => body)` evaluates `body` with `T` standing for the Rust type of
/// `dtype` (`i16`, `i32`, `i64`, `f32` or `f64`), so code generic over
/// [`Element`] needs no `match` of its own.
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
        $crate::element_types!($crate::__match_element_type; $dtype, $T, $body)
    };
}

macro_rules! define_dtype {
    ([] $(($variant:ident, $rust:ty, $name:literal, $code:literal, $arrow:ident, $groups:literal, $doc:literal))*) => {
        /// Element type of the uncompressed array.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum DType {
            $(#[doc = $doc] $variant,)*
        }

        impl DType {
            /// Every element type, in the table's order.
            pub const ALL: &'static [DType] = &[$(DType::$variant),*];

            /// The numpy name of the type ("int32", "float64", ...).
            pub fn name(self) -> &'static str {
                match self {
                    $(DType::$variant => $name,)*
                }
            }

            /// The type's byte in the Zarr codec chunk header.
            pub fn code(self) -> u8 {
                match self {
                    $(DType::$variant => $code,)*
                }
            }

            /// Whether the HDF5/zarr group format (the reference package's)
            /// holds this type.
            pub fn in_group_format(self) -> bool {
                match self {
                    $(DType::$variant => $groups,)*
                }
            }
        }
    };
}

element_types!(define_dtype;);

impl DType {
    /// Parses a numpy type name.
    pub fn from_name(name: &str) -> Result<Self> {
        DType::ALL
            .iter()
            .copied()
            .find(|d| d.name() == name)
            .ok_or_else(|| {
                Error::unsupported(format!(
                    "unsupported dtype '{name}': expected {}",
                    DType::names("or")
                ))
            })
    }

    /// The type whose chunk-header byte is `code`.
    pub fn from_code(code: u8) -> Option<Self> {
        DType::ALL.iter().copied().find(|d| d.code() == code)
    }

    /// Every type's name, as an error message lists them: `names("or")`
    /// is "int16, int32, …, float32 or float64".
    pub fn names(conjunction: &str) -> String {
        DType::names_by(|d| d.name().to_string(), conjunction)
    }

    /// Every type as `name` calls it (an Arrow or Polars type, say), joined
    /// as an error message lists them: "a, b or c".
    ///
    /// ```
    /// use flacarray::DType;
    ///
    /// let names = DType::names_by(|d| d.name().to_uppercase(), "or");
    /// assert!(names.contains("INT32, ") && names.ends_with(" or FLOAT64"));
    /// ```
    pub fn names_by(name: impl Fn(DType) -> String, conjunction: &str) -> String {
        join(DType::ALL.iter().map(|&d| name(d)), conjunction)
    }

    /// The names of the types the group format holds, joined by
    /// `conjunction` as in [`DType::names`].
    pub fn group_format_names(conjunction: &str) -> String {
        let types = DType::ALL.iter().filter(|d| d.in_group_format());
        join(types.map(|d| d.name().to_string()), conjunction)
    }

    /// True for the types that are quantized (and so carry offsets and gains).
    pub fn is_float(self) -> bool {
        self.float().is_some()
    }

    /// The float type whose rules a float's steps and scales follow
    /// (`None` for integers).
    pub fn float(self) -> Option<Float> {
        with_element_type!(self, T => T::FLOAT)
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        with_element_type!(self, T => std::mem::size_of::<T>())
    }

    /// FLAC channels per stream as format 1 (and the Arrow layout) store
    /// the type: 1 for types up to 32 bits, 2 (low and high word) for 64-bit
    /// ones.
    pub fn channels(self) -> u32 {
        if self.size() == 8 {
            2
        } else {
            1
        }
    }

    /// The group-format type whose streams have `channels` channels (as
    /// format 1 stores them) and, for floats, offsets and gains: the one
    /// rule that tells a stored type from its streams where nothing else
    /// names it.
    pub fn from_channels(channels: u32, float: bool) -> Option<DType> {
        DType::ALL
            .iter()
            .copied()
            .find(|d| d.in_group_format() && d.channels() == channels && d.is_float() == float)
    }
}

/// `names` joined as a reader would say them: "a, b or c".
fn join(names: impl IntoIterator<Item = String>, conjunction: &str) -> String {
    let names: Vec<String> = names.into_iter().collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            format!("{} {conjunction} {last}", rest.join(", "))
        }
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for i16 {}
    impl Sealed for i32 {}
    impl Sealed for i64 {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A Rust type that can be an array element: `i16`, `i32`, `i64`, `f32` or
/// `f64`.
pub trait Element: sealed::Sealed + Copy + Default + Send + Sync + 'static {
    /// The matching [`DType`].
    const DTYPE: DType;
    /// For floats, the float rules their steps and scales follow.
    #[doc(hidden)]
    const FLOAT: Option<Float> = None;

    /// The integer samples one stream is encoded from: `values` themselves,
    /// or written into `ints`; floats also return their scale.
    #[doc(hidden)]
    fn stream_samples<'a>(
        values: &'a [Self],
        step: Step,
        ints: &'a mut StreamInts,
    ) -> Result<(Samples<'a>, Option<Scale>)>;

    /// Decodes samples `first .. first + out.len()` of one stream.
    #[doc(hidden)]
    fn decode_stream(
        bytes: &[u8],
        stream_len: u64,
        first: u64,
        out: &mut [Self],
        scale: Option<Scale>,
    ) -> Result<()>;

    /// Decodes whole streams of `len` (> 0) samples each, stream `i` with
    /// `scales[i]` into `out[i * len..][..len]`; an error names the
    /// stream's place in `streams`.
    #[doc(hidden)]
    fn decode_streams(
        streams: &[&[u8]],
        len: u64,
        out: &mut [Self],
        scales: &[Option<Scale>],
    ) -> std::result::Result<(), (usize, Error)> {
        let per_stream = usize::try_from(len).unwrap_or(usize::MAX);
        for (i, (bytes, part)) in streams.iter().zip(out.chunks_mut(per_stream)).enumerate() {
            Self::decode_stream(bytes, len, 0, part, scales[i]).map_err(|e| (i, e))?;
        }
        Ok(())
    }
}

/// Integer buffers for the samples of one stream (reused from stream to
/// stream by a thread).
#[doc(hidden)]
#[derive(Default)]
pub struct StreamInts {
    i32: Vec<i32>,
    i64: Vec<i64>,
}

impl StreamInts {
    /// The 32-bit buffer, `n` long.
    fn i32(&mut self, n: usize) -> &mut [i32] {
        self.i32.resize(n, 0);
        &mut self.i32
    }

    /// The 64-bit buffer, `n` long.
    fn i64(&mut self, n: usize) -> &mut [i64] {
        self.i64.resize(n, 0);
        &mut self.i64
    }
}

/// Streams encoded together by [`encode_streams`], their MD5s computed
/// side by side.
const STREAMS_PER_GROUP: usize = 8;

/// How many of `streams` streams (or rows) to encode together on
/// `threads` threads: up to [`STREAMS_PER_GROUP`], as long as every thread
/// still gets four or more groups.
pub(crate) fn group_size(streams: usize, threads: usize) -> usize {
    (streams / (4 * threads.max(1))).clamp(1, STREAMS_PER_GROUP)
}

thread_local! {
    static STREAM_INTS: RefCell<Vec<StreamInts>> = const { RefCell::new(Vec::new()) };
}

/// Streams compressed together by [`encode_streams`]: their bytes one
/// after another, and for floats each one's scale.
pub(crate) struct EncodedGroup {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    scales: Vec<Option<Scale>>,
}

impl EncodedGroup {
    /// Stream `i`'s bytes and scale.
    pub(crate) fn stream(&self, i: usize) -> (&[u8], Option<Scale>) {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        (&self.bytes[start..self.ends[i]], self.scales[i])
    }

    /// The bytes of all the streams.
    pub(crate) fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Every stream's bytes and scale, in order.
    pub(crate) fn streams(&self) -> impl Iterator<Item = (&[u8], Option<Scale>)> {
        (0..self.ends.len()).map(|i| self.stream(i))
    }
}

/// Compresses `streams` (at most [`STREAMS_PER_GROUP`] of them, with
/// `steps(i)` for stream `i`). An error says which of the streams it is
/// about.
pub(crate) fn encode_streams<T: Element>(
    streams: &[&[T]],
    steps: impl Fn(usize) -> Step,
    options: &EncodeOptions,
) -> std::result::Result<EncodedGroup, (usize, Error)> {
    STREAM_INTS.with(|cell| {
        let mut owned = Vec::new();
        let mut borrowed = cell.try_borrow_mut();
        let buffers = match borrowed.as_deref_mut() {
            Ok(buffers) => buffers,
            Err(_) => &mut owned,
        };
        if buffers.len() < streams.len() {
            buffers.resize_with(streams.len(), StreamInts::default);
        }
        let mut samples = Vec::with_capacity(streams.len());
        let mut scales = Vec::with_capacity(streams.len());
        for (i, (stream, ints)) in streams.iter().zip(buffers.iter_mut()).enumerate() {
            let (s, scale) = T::stream_samples(stream, steps(i), ints).map_err(|e| (i, e))?;
            samples.push(s);
            scales.push(scale);
        }
        let mut group = EncodedGroup {
            bytes: Vec::new(),
            ends: Vec::with_capacity(streams.len()),
            scales,
        };
        encode_group(&samples, options, &mut group.bytes, &mut group.ends).map_err(|e| (0, e))?;
        Ok(group)
    })
}

fn needs_scale(scale: Option<Scale>, float: Float) -> Result<Scale> {
    let scale = scale.ok_or_else(|| Error::corrupt("float stream has no offset/gain"))?;
    validate_scale(scale, float)?;
    Ok(scale)
}

impl Element for i16 {
    const DTYPE: DType = DType::Int16;

    fn stream_samples<'a>(
        values: &'a [Self],
        _: Step,
        ints: &'a mut StreamInts,
    ) -> Result<(Samples<'a>, Option<Scale>)> {
        let ints = ints.i32(values.len());
        for (int, &v) in ints.iter_mut().zip(values) {
            *int = i32::from(v);
        }
        Ok((Samples::One(ints), None))
    }

    fn decode_stream(
        bytes: &[u8],
        len: u64,
        first: u64,
        out: &mut [Self],
        _: Option<Scale>,
    ) -> Result<()> {
        // A stream we wrote holds at most 16 bits; a wider sample is damage.
        let outside = std::cell::Cell::new(None);
        Decoder::DEFAULT.decode_into(bytes, len, first, out, Channels::One, |v| {
            i16::try_from(v).unwrap_or_else(|_| {
                outside.set(Some(v));
                0
            })
        })?;
        match outside.get() {
            None => Ok(()),
            Some(v) => Err(Error::corrupt(format!(
                "stream holds the sample {v}, outside the int16 range"
            ))),
        }
    }
}

/// The 32- and 64-bit integer types: stored as they are, 64-bit in the
/// two-channel layout (or the reference's one-channel format 0 streams).
macro_rules! int_element {
    ($int:ty, $dtype:ident, $samples:ident, $channels:expr, $from_decoded:expr) => {
        impl Element for $int {
            const DTYPE: DType = DType::$dtype;

            fn stream_samples<'a>(
                values: &'a [Self],
                _: Step,
                _: &'a mut StreamInts,
            ) -> Result<(Samples<'a>, Option<Scale>)> {
                Ok((Samples::$samples(values), None))
            }

            fn decode_stream(
                bytes: &[u8],
                len: u64,
                first: u64,
                out: &mut [Self],
                _: Option<Scale>,
            ) -> Result<()> {
                Decoder::DEFAULT.decode_into(bytes, len, first, out, $channels, $from_decoded)
            }

            fn decode_streams(
                streams: &[&[u8]],
                len: u64,
                out: &mut [Self],
                _: &[Option<Scale>],
            ) -> std::result::Result<(), (usize, Error)> {
                let converts = vec![$from_decoded; streams.len()];
                Decoder::DEFAULT.decode_whole_into(streams, len, out, $channels, &converts)
            }
        }
    };
}

int_element!(i32, Int32, One, Channels::One, |v| v as i32);
int_element!(i64, Int64, Two, Channels::OneOrTwo, |v| v);

/// The float types: quantized to integers of their width (offset and gain
/// per stream) in a per-thread buffer, restored on decode.
macro_rules! float_element {
    ($float:ty, $dtype:ident, $kind:ident, $ints:ident, $quantize:ident, $samples:ident,
     $channels:expr, $dequantizer:ident) => {
        impl Element for $float {
            const DTYPE: DType = DType::$dtype;
            const FLOAT: Option<Float> = Some(Float::$kind);

            fn stream_samples<'a>(
                values: &'a [Self],
                step: Step,
                ints: &'a mut StreamInts,
            ) -> Result<(Samples<'a>, Option<Scale>)> {
                let ints = ints.$ints(values.len());
                let scale = $quantize(values, step, ints)?;
                Ok((Samples::$samples(ints), Some(scale)))
            }

            fn decode_stream(
                bytes: &[u8],
                len: u64,
                first: u64,
                out: &mut [Self],
                scale: Option<Scale>,
            ) -> Result<()> {
                let restore = $dequantizer(needs_scale(scale, Float::$kind)?);
                Decoder::DEFAULT.decode_into(bytes, len, first, out, $channels, restore)
            }

            fn decode_streams(
                streams: &[&[u8]],
                len: u64,
                out: &mut [Self],
                scales: &[Option<Scale>],
            ) -> std::result::Result<(), (usize, Error)> {
                let converts = scales
                    .iter()
                    .enumerate()
                    .map(|(i, &scale)| {
                        needs_scale(scale, Float::$kind)
                            .map($dequantizer)
                            .map_err(|e| (i, e))
                    })
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                Decoder::DEFAULT.decode_whole_into(streams, len, out, $channels, &converts)
            }
        }
    };
}

float_element!(
    f32,
    Float32,
    F32,
    i32,
    quantize_f32,
    One,
    Channels::One,
    dequantizer_f32
);
// 1-channel float64 streams come from the reference's format 0.
float_element!(
    f64,
    Float64,
    F64,
    i64,
    quantize_f64,
    Two,
    Channels::OneOrTwo,
    dequantizer_f64
);
