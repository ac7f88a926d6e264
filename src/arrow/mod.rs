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

mod batch;
mod column;
mod convert;
mod extension;
mod lists;

/// The window type of every read, re-exported here for Arrow code.
pub use crate::array::SampleWindow;
pub use batch::{compress_column, decompress_column};
pub use column::{array_digest, ArrayFacts, FlacColumn, SourceList};
pub use extension::{
    storage_fields, storage_type, FlacExtension, FlacMetadata, LegacyFacts, ARROW_FORMAT_VERSION,
    DIGEST_KEY, GAIN_FIELD, LEADING_SHAPE_KEY, LEVEL_KEY, LIST_TYPE_KEY, OFFSET_FIELD,
    READABLE_ARROW_FORMATS, STREAM_FIELD, STREAM_SIZE_KEY,
};
pub use lists::{
    arrow_type, compress_lists, decompress_lists, decompress_lists_as, decompress_lists_per_row,
    ListKind,
};

use crate::error::Error;

/// Arrow errors become [`ErrorKind::InvalidInput`](crate::ErrorKind) errors.
/// An Arrow error in our terms: the kind that fits, Arrow's message
/// without its own prefix, and the Arrow error as the source.
pub(crate) fn arrow_err(err: arrow_schema::ArrowError) -> Error {
    use arrow_schema::ArrowError as A;
    let (kind, message) = match &err {
        A::InvalidArgumentError(m)
        | A::SchemaError(m)
        | A::CastError(m)
        | A::ComputeError(m)
        | A::ParseError(m) => (crate::ErrorKind::InvalidInput, m.clone()),
        A::IoError(m, io) => (crate::ErrorKind::Io, format!("{m}: {io}")),
        A::MemoryError(m) => (crate::ErrorKind::Resource, m.clone()),
        A::NotYetImplemented(m) => (crate::ErrorKind::Unsupported, m.clone()),
        A::ParquetError(m) | A::IpcError(m) => (crate::ErrorKind::Corrupt, m.clone()),
        other => (crate::ErrorKind::InvalidInput, other.to_string()),
    };
    Error::new(kind, message).with_source(err)
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use arrow_schema::ArrowError;

    use super::arrow_err;
    use crate::ErrorKind;

    #[test]
    fn arrow_errors_keep_their_kind_message_and_source() {
        let err = arrow_err(ArrowError::InvalidArgumentError("bad offsets".into()));
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.to_string(), "invalid input: bad offsets");
        assert!(err.source().unwrap().to_string().contains("bad offsets"));
        let err = arrow_err(ArrowError::MemoryError("no room".into()));
        assert_eq!(err.kind(), ErrorKind::Resource);
        let err = arrow_err(ArrowError::NotYetImplemented("decimal".into()));
        assert_eq!(err.kind(), ErrorKind::Unsupported);
    }
}
