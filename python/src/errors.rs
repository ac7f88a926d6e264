//! The Python exceptions the core's errors become.

use pyo3::create_exception;
use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyMemoryError, PyOSError, PyPermissionError,
    PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;

use flacarray::{Error, ErrorKind};

create_exception!(
    _core,
    CorruptDataError,
    PyValueError,
    "Compressed bytes or container metadata are damaged or inconsistent."
);

/// The Python exception for an error of the core, chosen by its kind.
pub(crate) fn to_py(err: Error) -> PyErr {
    match err.kind() {
        ErrorKind::InvalidInput | ErrorKind::Unsupported => {
            PyValueError::new_err(err.message().to_string())
        }
        ErrorKind::Corrupt => CorruptDataError::new_err(err.message().to_string()),
        ErrorKind::Io => match err.io_kind() {
            Some(std::io::ErrorKind::NotFound) => {
                PyFileNotFoundError::new_err(err.message().to_string())
            }
            Some(std::io::ErrorKind::PermissionDenied) => {
                PyPermissionError::new_err(err.message().to_string())
            }
            _ => PyOSError::new_err(err.message().to_string()),
        },
        ErrorKind::AlreadyExists => PyFileExistsError::new_err(err.message().to_string()),
        ErrorKind::Resource => PyMemoryError::new_err(err.message().to_string()),
        _ => PyRuntimeError::new_err(err.message().to_string()),
    }
}
