//! The record of what a compressed array is made of, written once and used
//! owned ([`FlacArrayParts`]) or borrowed ([`FlacArrayPartsRef`]).
//!
//! Every face builds on this one record: [`crate::FlacArray`] keeps its
//! parts in a [`FlacArrayParts`] after checking them, a
//! [`crate::FlacArrayRef`] keeps a checked [`FlacArrayPartsRef`], a
//! container's read plan carries the parts of what it will read, and the
//! Python bindings borrow their numpy arrays as a [`FlacArrayPartsRef`].

use std::fmt::Debug;

use super::DType;

/// How a [`Parts`] record holds its sequences: [`Owned`] (vectors) or
/// [`Borrowed`] (slices).
pub trait Storage {
    /// A sequence of `T`.
    type Seq<T: Item>: AsRef<[T]> + Clone + Debug + PartialEq;
}

/// What a [`Parts`] record holds sequences of (bytes, indices, floats).
pub trait Item: Copy + Debug + PartialEq + 'static {}

impl<T: Copy + Debug + PartialEq + 'static> Item for T {}

/// Sequences held in vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owned;

/// Sequences borrowed as slices for `'a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Borrowed<'a>(std::marker::PhantomData<&'a ()>);

impl Storage for Owned {
    type Seq<T: Item> = Vec<T>;
}

impl<'a> Storage for Borrowed<'a> {
    type Seq<T: Item> = &'a [T];
}

/// Everything a compressed array is made of. Stream `i` is
/// `compressed[stream_starts[i] .. stream_starts[i] + stream_nbytes[i]]`,
/// a complete FLAC stream; streams are in the C order of the leading shape
/// (every axis but the last). Nothing is checked here: a
/// [`crate::FlacArray`] or [`crate::FlacArrayRef`] is a record that passed
/// the checks.
///
/// ```
/// use flacarray::{CompressOptions, FlacArray};
///
/// let fa = FlacArray::compress(&[1i32, 2, 3, 4, 5, 6], &[2, 3], &CompressOptions::default())?;
/// let parts = fa.parts();
/// assert_eq!(parts.shape, &[2, 3]);
/// assert_eq!(parts.stream_starts.len(), 2);
/// let again = FlacArray::from_parts(parts.to_owned_parts())?;
/// assert_eq!(again, fa);
/// # Ok::<(), flacarray::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Parts<S: Storage> {
    /// Element type of the uncompressed array.
    pub dtype: DType,
    /// Full shape; the last entry is the stream length.
    pub shape: S::Seq<usize>,
    /// All streams' FLAC bytes, concatenated.
    pub compressed: S::Seq<u8>,
    /// Byte offset of each stream in `compressed`.
    pub stream_starts: S::Seq<u64>,
    /// Byte length of each stream (stored as `stream_bytes` in a group, as
    /// the reference names it).
    pub stream_nbytes: S::Seq<u64>,
    /// Per-stream offsets (float types only).
    pub stream_offsets: Option<S::Seq<f64>>,
    /// Per-stream gains (float types only).
    pub stream_gains: Option<S::Seq<f64>>,
    /// Compression level used (informational).
    pub level: u32,
}

/// The parts of an array, owned.
pub type FlacArrayParts = Parts<Owned>;

/// The parts of an array, borrowed (from a [`FlacArrayParts`], or from
/// buffers another library owns: numpy, Arrow).
pub type FlacArrayPartsRef<'a> = Parts<Borrowed<'a>>;

impl Copy for FlacArrayPartsRef<'_> {}

impl FlacArrayParts {
    /// The same parts, borrowed.
    pub fn borrowed(&self) -> FlacArrayPartsRef<'_> {
        Parts {
            dtype: self.dtype,
            shape: &self.shape,
            compressed: &self.compressed,
            stream_starts: &self.stream_starts,
            stream_nbytes: &self.stream_nbytes,
            stream_offsets: self.stream_offsets.as_deref(),
            stream_gains: self.stream_gains.as_deref(),
            level: self.level,
        }
    }
}

impl<'a> FlacArrayPartsRef<'a> {
    /// The same borrows for a shorter lifetime. (A record is invariant in
    /// its lifetime, so a longer-lived one is not shortened implicitly.)
    pub fn shorten<'b>(self) -> FlacArrayPartsRef<'b>
    where
        'a: 'b,
    {
        Parts {
            dtype: self.dtype,
            shape: self.shape,
            compressed: self.compressed,
            stream_starts: self.stream_starts,
            stream_nbytes: self.stream_nbytes,
            stream_offsets: self.stream_offsets,
            stream_gains: self.stream_gains,
            level: self.level,
        }
    }

    /// A copy that owns its sequences.
    pub fn to_owned_parts(&self) -> FlacArrayParts {
        Parts {
            dtype: self.dtype,
            shape: self.shape.to_vec(),
            compressed: self.compressed.to_vec(),
            stream_starts: self.stream_starts.to_vec(),
            stream_nbytes: self.stream_nbytes.to_vec(),
            stream_offsets: self.stream_offsets.map(<[f64]>::to_vec),
            stream_gains: self.stream_gains.map(<[f64]>::to_vec),
            level: self.level,
        }
    }
}
