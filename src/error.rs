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
    message: String,
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

    /// Prefixes the message with the index of the row (of an Arrow or
    /// Polars column) it concerns.
    pub fn in_row(self, row: usize) -> Self {
        Error {
            message: format!("row {row}: {}", self.message),
            ..self
        }
    }

    /// Adds `offset` to a leading "row N: " of the message (for errors from
    /// one chunk of a longer column).
    pub fn shift_rows(self, offset: usize) -> Self {
        let shifted = self.message.strip_prefix("row ").and_then(|rest| {
            let (number, tail) = rest.split_once(':')?;
            let row: usize = number.parse().ok()?;
            Some(format!("row {}:{tail}", row + offset))
        });
        match shifted {
            Some(message) if offset > 0 => Error { message, ..self },
            _ => self,
        }
    }

    /// Prefixes the message with the name of the column it concerns.
    pub fn in_column(self, name: &str) -> Self {
        Error {
            message: format!("column '{name}': {}", self.message),
            ..self
        }
    }

    /// Prefixes the message with the index of the stream it concerns.
    pub fn in_stream(self, stream: usize) -> Self {
        Error {
            message: format!("stream {stream}: {}", self.message),
            ..self
        }
    }
}

impl Error {
    /// An I/O error on `path`, naming it (the I/O kind is kept, so a
    /// missing file stays a missing file).
    pub fn at_path(path: &std::path::Path, err: std::io::Error) -> Self {
        let kind = err.kind();
        Error {
            kind: ErrorKind::Io,
            message: format!("'{}': {err}", path.display()),
            io_kind: Some(kind),
            source: Some(std::sync::Arc::new(err)),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error {
            kind: ErrorKind::Io,
            message: err.to_string(),
            io_kind: Some(err.kind()),
            source: None,
        }
        .with_source(err)
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
