//! Compress N-dimensional numeric arrays with FLAC, one stream per last-axis vector.
//!
//! Layers, each depending only on the ones before it:
//! - [`codec`]: one integer stream ⇄ one FLAC bytestream (our encoder and
//!   decoder; libFLAC's only behind the `libflac` feature, as a test oracle);
//! - [`quantize`]: float ⇄ integer with a per-stream offset and gain;
//! - [`array`](mod@array): [`FlacArray`], the compressed N-D array with selection and
//!   parallel (rayon) compression and decompression.
//!
//! ```
//! use flacarray::{CompressOptions, FlacArray};
//!
//! let data: Vec<i32> = (0..3 * 1000).map(|i| (i % 97) * 3 - 100).collect();
//! let fa = FlacArray::compress(&data, &[3, 1000], &CompressOptions::default())?;
//! assert_eq!(fa.to_vec::<i32>()?, data);
//! // samples 10..20 of streams 2 and 0
//! let part = fa.decompress::<i32>(&[2, 0], 10..20)?;
//! assert_eq!(&part[..10], &data[2010..2020]);
//! # Ok::<(), flacarray::Error>(())
//! ```

pub mod array;
pub mod chunk;
pub mod codec;
pub mod container;
pub mod digest;
mod error;
mod fsio;
pub mod quantize;
#[cfg(test)]
mod test_rng;

pub use array::{
    quantize_streams_f32, quantize_streams_f64, restore_streams_f32, restore_streams_f64,
    with_thread_count, Borrowed, CompressOptions, DType, Element, FlacArray, FlacArrayParts,
    FlacArrayPartsRef, FlacArrayRef, Item, Owned, Parts, Quantized, SampleWindow, StepSpec,
    Storage, WindowBound,
};
pub use error::{Error, ErrorKind, Result};
pub use fsio::IfExists;

#[cfg(feature = "arrow")]
pub mod arrow;

// The Arrow and Parquet crates of our public API, so that a user's code
// names exactly the versions this crate was built with (an arrow major
// version bump is a breaking release of this crate).
/// The `parquet` crate (our own Parquet functions are in [`mod@parquet`]).
#[cfg(feature = "parquet")]
pub use ::parquet as parquet_crate;
#[cfg(feature = "arrow")]
pub use arrow_array;
#[cfg(feature = "arrow")]
pub use arrow_buffer;
#[cfg(feature = "arrow")]
pub use arrow_schema;

#[cfg(feature = "parquet")]
pub mod parquet;

#[cfg(feature = "zarr")]
pub mod zarr;

#[cfg(feature = "zarr")]
pub mod zarr_codec;

/// The README's Rust examples, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
