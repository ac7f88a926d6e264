//! The Arrow face of the array layer: the `flacarray.flac` extension type,
//! compression of list columns (one stream per row), and lossless
//! conversion between [`FlacArray`](crate::FlacArray) and an extension-typed
//! column or record batch.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Array, Int32Array, LargeListArray};
//! use arrow_array::types::Int32Type;
//! use flacarray::arrow::{compress_lists, decompress_lists, SampleWindow};
//! use flacarray::CompressOptions;
//!
//! let rows = LargeListArray::from_iter_primitive::<Int32Type, _, _>(vec![
//!     Some(vec![Some(1), Some(2), Some(3)]),
//!     None,
//!     Some(vec![Some(-7); 5000]),
//! ]);
//! let column = compress_lists(&rows, &CompressOptions::default())?;
//! let back = decompress_lists(&column, SampleWindow::new(Some(1), Some(-1)))?;
//! let back = back.as_any().downcast_ref::<LargeListArray>().unwrap();
//! assert!(back.is_null(1));
//! assert_eq!(back.value(0).as_any().downcast_ref::<Int32Array>().unwrap().values(), &[2]);
//! # Ok::<(), flacarray::Error>(())
//! ```

mod column;
mod convert;
mod extension;
mod lists;

pub use column::{ArrayFacts, FlacColumn};
pub use extension::{
    storage_fields, storage_type, FlacExtension, FlacMetadata, LegacyFacts, ARROW_FORMAT_VERSION,
    GAIN_FIELD, LEADING_SHAPE_KEY, LEVEL_KEY, OFFSET_FIELD, READABLE_ARROW_FORMATS, STREAM_FIELD,
};
pub use lists::{compress_lists, decompress_lists, decompress_lists_as, ListKind, SampleWindow};

use crate::error::Error;

/// Arrow errors become [`ErrorKind::InvalidInput`](crate::ErrorKind) errors.
pub(crate) fn arrow_err(err: arrow_schema::ArrowError) -> Error {
    Error::invalid(err.to_string())
}
