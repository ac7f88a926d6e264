//! Parquet export and import of `flacarray.flac` columns.
//!
//! A file holds the Arrow layout (one row per stream: FLAC bytes, offset,
//! gain) with the Arrow schema embedded, so the extension metadata survives
//! and any Parquet reader sees plain binary and float columns. Row groups
//! are sized by bytes, and reading with a keep mask selects only the row
//! groups and pages holding the kept rows.

#[cfg(feature = "object_store")]
mod object_store;
mod read;
mod write;

#[cfg(feature = "object_store")]
pub use object_store::{
    read_array_async, read_object, write_array_object, write_object, ObjectReader,
};
pub use read::{leading_shape_file, read_array, read_array_file};
pub use write::{
    write_array, write_array_file, write_batch, write_batches, write_column, write_column_file,
    write_parts, write_parts_file, writer_properties, STREAM_PAGE_BYTES,
};

use crate::error::{Error, ErrorKind};

/// Default name of the column holding the streams.
pub const DEFAULT_COLUMN: &str = "flac";

/// Target compressed bytes per row group.
const GROUP_BYTES: usize = 16 << 20;

/// Errors while reading: damage in the file, unless the source failed
/// (an I/O error; anything else the reader reports, a bad UTF-8 string in
/// the footer say, is damage).
fn pq_err(err: parquet::errors::ParquetError) -> Error {
    let (kind, message) = match &err {
        parquet::errors::ParquetError::External(e) if e.is::<std::io::Error>() => {
            (ErrorKind::Io, e.to_string())
        }
        other => (
            ErrorKind::Corrupt,
            format!("parquet: {}", plain_message(other)),
        ),
    };
    Error::new(kind, message).with_source(err)
}

/// A parquet error's own words, without the crate's "Parquet error: " or
/// Arrow's "Invalid argument error: " style prefixes.
fn plain_message(err: &parquet::errors::ParquetError) -> String {
    use parquet::errors::ParquetError as P;
    match err {
        P::General(m) | P::NYI(m) | P::EOF(m) | P::ArrowError(m) => strip_arrow_prefixes(m),
        other => other.to_string(),
    }
}

/// `message` without the category prefixes Arrow and Parquet put in front
/// of their errors' text (our messages name the problem themselves).
fn strip_arrow_prefixes(message: &str) -> String {
    const PREFIXES: [&str; 12] = [
        "Parquet error: ",
        "Arrow: ",
        "Invalid argument error: ",
        "Schema error: ",
        "Cast error: ",
        "Compute error: ",
        "Parser error: ",
        "Not yet implemented: ",
        "External error: ",
        "Io error: ",
        "Memory error: ",
        "Parquet argument error: ",
    ];
    let mut rest = message;
    while let Some(stripped) = PREFIXES.iter().find_map(|p| rest.strip_prefix(p)) {
        rest = stripped;
    }
    rest.to_string()
}

/// Errors while writing: the data given or the destination, never damage.
fn pq_write_err(err: parquet::errors::ParquetError) -> Error {
    let (kind, message) = match &err {
        parquet::errors::ParquetError::External(e) => (ErrorKind::Io, e.to_string()),
        parquet::errors::ParquetError::ArrowError(e) => (
            ErrorKind::InvalidInput,
            format!("parquet: {}", strip_arrow_prefixes(e)),
        ),
        other => (ErrorKind::Io, format!("parquet: {}", plain_message(other))),
    };
    Error::new(kind, message).with_source(err)
}
