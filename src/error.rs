//! The crate's single error type.

use std::fmt;

/// What went wrong, in broad strokes; match on this instead of the message.
/// New kinds may be added: match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller passed something unusable: a bad shape, NaN, an out-of-range selection.
    InvalidInput,
    /// Compressed bytes or container metadata are damaged or inconsistent.
    Corrupt,
    /// Well-formed input that this version does not handle.
    Unsupported,
    /// Reading or writing a file failed.
    Io,
    /// The destination of a write already holds data, and replacing it was
    /// not asked for (or is refused: it is not ours to replace).
    AlreadyExists,
    /// libFLAC reported a failure that is not attributable to the input.
    Codec,
    /// The system refused a resource (threads, memory).
    Resource,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Corrupt => "corrupt data",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Io => "I/O error",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::Codec => "codec error",
            ErrorKind::Resource => "out of resources",
        };
        f.write_str(name)
    }
}

/// An error with a [`ErrorKind`] and a message naming the problem.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct Error {
    kind: ErrorKind,
    /// The whole description: the context prefixes ("row 3: ", "stream
    /// 7: ", "column 'x': ") and then the problem.
    message: String,
    /// Where in `message` the "row N: " prefix lies (empty without one).
    row_span: std::ops::Range<usize>,
    row: Option<usize>,
    stream: Option<usize>,
    io_kind: Option<std::io::ErrorKind>,
    /// The library error behind this one (Arrow, Parquet, I/O), for
    /// `std::error::Error::source`.
    #[source]
    source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

/// Errors are equal when they say the same thing (kind, message, OS error
/// kind), whatever library error lies behind them.
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        (self.kind, &self.message, self.io_kind) == (other.kind, &other.message, other.io_kind)
    }
}

impl Eq for Error {}

impl Error {
    /// Builds an error of the given kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            row_span: 0..0,
            row: None,
            stream: None,
            io_kind: None,
            source: None,
        }
    }

    /// This error with `source` as the library error behind it.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(std::sync::Arc::new(source));
        self
    }

    /// Shorthand for [`ErrorKind::InvalidInput`].
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// Shorthand for [`ErrorKind::Corrupt`].
    pub fn corrupt(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corrupt, message)
    }

    /// Shorthand for [`ErrorKind::Unsupported`].
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }

    /// The broad category of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// For [`ErrorKind::Io`] errors from the operating system, what it said
    /// (not found, permission denied, ...).
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        self.io_kind
    }

    /// The human-readable description, without the kind prefix.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The row (of an Arrow or Polars column) this error concerns, if it
    /// concerns one row.
    pub fn row(&self) -> Option<usize> {
        self.row
    }

    /// The stream (of an array) this error concerns, if it concerns one.
    pub fn stream(&self) -> Option<usize> {
        self.stream
    }

    /// This error as concerning row `row` of a column: [`row`](Self::row)
    /// gives it, and the message starts with "row N: ".
    pub fn in_row(self, row: usize) -> Self {
        let prefix = format!("row {row}: ");
        Error {
            row_span: 0..prefix.len(),
            message: prefix + &self.message,
            row: Some(row),
            ..self
        }
    }

    /// The same error with its row counted `offset` rows further (for
    /// errors from one chunk of a longer column).
    pub fn shift_rows(self, offset: usize) -> Self {
        let Some(row) = self.row.filter(|_| offset > 0) else {
            return self;
        };
        let prefix = format!("row {}: ", row + offset);
        let span = self.row_span.clone();
        let message = format!(
            "{}{prefix}{}",
            &self.message[..span.start],
            &self.message[span.end..]
        );
        Error {
            message,
            row_span: span.start..span.start + prefix.len(),
            row: Some(row + offset),
            ..self
        }
    }

    /// Puts `prefix` in front of the message, keeping track of the row's.
    fn prefixed(self, prefix: String) -> Self {
        let shift = if self.row.is_some() { prefix.len() } else { 0 };
        Error {
            row_span: self.row_span.start + shift..self.row_span.end + shift,
            message: prefix + &self.message,
            ..self
        }
    }

    /// Prefixes the message with the name of the column it concerns.
    pub fn in_column(self, name: &str) -> Self {
        self.prefixed(format!("column '{name}': "))
    }

    /// This error as concerning stream `stream` of an array:
    /// [`stream`](Self::stream) gives it, and the message starts with
    /// "stream N: ".
    pub fn in_stream(self, stream: usize) -> Self {
        Error {
            stream: Some(stream),
            ..self.prefixed(format!("stream {stream}: "))
        }
    }
}

impl Error {
    /// An I/O error on `path`, naming it (the I/O kind is kept, so a
    /// missing file stays a missing file).
    pub fn at_path(path: &std::path::Path, err: std::io::Error) -> Self {
        let kind = err.kind();
        let message = format!("'{}': {err}", path.display());
        Error {
            io_kind: Some(kind),
            source: Some(std::sync::Arc::new(err)),
            ..Error::new(ErrorKind::Io, message)
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error {
            io_kind: Some(err.kind()),
            ..Error::new(ErrorKind::Io, err.to_string())
        }
        .with_source(err)
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_streams_are_fields_and_a_shift_keeps_every_prefix() {
        let err = Error::corrupt("bad frame")
            .in_stream(4)
            .in_row(2)
            .in_column("x");
        assert_eq!(err.message(), "column 'x': row 2: stream 4: bad frame");
        assert_eq!((err.row(), err.stream()), (Some(2), Some(4)));
        let shifted = err.shift_rows(1000);
        assert_eq!(
            shifted.message(),
            "column 'x': row 1002: stream 4: bad frame"
        );
        assert_eq!(shifted.row(), Some(1002));
        assert_eq!(shifted.clone().shift_rows(1).row(), Some(1003));
        assert_eq!(
            shifted.shift_rows(1).message(),
            "column 'x': row 1003: stream 4: bad frame"
        );
        // no row, nothing to shift, even if the text says "row"
        let plain = Error::invalid("row 5 is out of range");
        assert_eq!(plain.clone().shift_rows(10), plain);
        assert_eq!(plain.row(), None);
    }
}
