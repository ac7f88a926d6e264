//! Arrow columns and Parquet files, sharing numpy memory with Arrow.

use numpy::{PyArray1, PyReadonlyArrayDyn};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use flacarray::container;
use flacarray::{DType, FlacArrayPartsRef, FlacArrayRef, IfExists};

use crate::errors::{to_py, CorruptDataError};
use crate::parts::{keep_mask, keep_ref, parts_object, ArrayParts};

/// Writes an array (given as its parts) as a one-column Parquet file;
/// an existing file is replaced only with `overwrite`.
#[pyfunction]
#[pyo3(signature = (path, column, parts, overwrite=false))]
pub(crate) fn write_parquet(
    py: Python<'_>,
    path: std::path::PathBuf,
    column: &str,
    parts: &Bound<'_, ArrayParts>,
    overwrite: bool,
) -> PyResult<()> {
    let flac = arrow_column(py, parts.get())?;
    let mode = IfExists::from_flag(overwrite);
    py.detach(|| flacarray::parquet::write_column_file(&path, &flac, column, mode))
        .map_err(to_py)
}

/// The parts as a `flacarray.flac` column sharing the numpy array of the
/// compressed bytes (no copy of them).
pub(crate) fn arrow_column(
    py: Python<'_>,
    parts: &ArrayParts,
) -> PyResult<flacarray::arrow::FlacColumn> {
    let borrow = parts.borrow(py)?;
    let borrowed = borrow.parts()?;
    let bytes = shared_buffer(py, &parts.compressed, borrowed.compressed);
    let view = FlacArrayRef::new(FlacArrayPartsRef {
        compressed: bytes.as_slice(),
        ..borrowed
    })
    .map_err(to_py)?;
    view.to_arrow_shared(&bytes).map_err(to_py)
}

/// A binary column's values and offsets as numpy arrays.
type BinaryValues<'py> = (Bound<'py, PyArray1<u8>>, Bound<'py, PyArray1<i64>>);

/// The binary values of the array's Arrow column when some row is a frame
/// row (a stream that fits one frame): `(bytes, offsets)`, or None when
/// every row is its whole stream (then the compressed bytes are shared).
#[pyfunction]
pub(crate) fn frame_row_values<'py>(
    py: Python<'py>,
    parts: &ArrayParts,
) -> PyResult<Option<BinaryValues<'py>>> {
    let borrow = parts.borrow(py)?;
    let view = borrow.view()?;
    let values = py.detach(|| view.frame_row_values()).map_err(to_py)?;
    Ok(values.map(|(bytes, offsets)| {
        (
            PyArray1::from_vec(py, bytes),
            PyArray1::from_vec(py, offsets),
        )
    }))
}

/// The Arrow field metadata of the whole array `parts` holds (leading
/// shape, level, stream length, digest), by key.
#[pyfunction]
pub(crate) fn column_metadata(
    py: Python<'_>,
    parts: &Bound<'_, ArrayParts>,
) -> PyResult<std::collections::HashMap<String, String>> {
    let borrow = parts.get().borrow(py)?;
    let view = borrow.view()?;
    let facts = flacarray::arrow::ArrayFacts::whole_array(view.parts());
    Ok(facts.to_metadata())
}

/// Checks an array rebuilt from a column: every stream has `channels` FLAC
/// channels (when given: layout 2), and `digest` (the field metadata's,
/// when recorded) matches its type, level, offsets and gains with the
/// recorded shape `shape` (its own without one).
#[pyfunction]
#[pyo3(signature = (parts, channels=None, digest=None, shape=None))]
pub(crate) fn check_column(
    py: Python<'_>,
    parts: &Bound<'_, ArrayParts>,
    channels: Option<u32>,
    digest: Option<&str>,
    shape: Option<Vec<usize>>,
) -> PyResult<()> {
    let borrow = parts.get().borrow(py)?;
    let view = borrow.view()?;
    container::check_stream_channels(&view, channels).map_err(to_py)?;
    let Some(expected) = digest else {
        return Ok(());
    };
    let shape = shape.unwrap_or_else(|| view.shape().to_vec());
    let actual = flacarray::arrow::array_digest(
        view.dtype(),
        &shape,
        view.level(),
        view.stream_offsets(),
        view.stream_gains(),
    );
    if flacarray::digest::parse(expected).as_deref() != Some(actual.as_str()) {
        return Err(CorruptDataError::new_err(format!(
            "the column's shape, type, level, offsets or gains do not match its digest \
             ({expected} recorded, {actual} found)"
        )));
    }
    Ok(())
}

/// Writes one array that arrives in parts as a one-column Parquet file:
/// `next_part()` returns each part (an `ArrayParts`, consecutive streams in
/// order) and then None; `whole` is the whole array's record for its
/// digest: type, shape, level and every stream's offsets and gains (float
/// data; its bytes and byte tables are not read). Only one part is held at a time. An exception raised by
/// `next_part` aborts the write (no file is left) and is raised again here.
#[pyfunction]
#[pyo3(signature = (path, column, whole, next_part, overwrite=false))]
pub(crate) fn write_parquet_parts(
    py: Python<'_>,
    path: std::path::PathBuf,
    column: &str,
    whole: &Bound<'_, ArrayParts>,
    next_part: Py<PyAny>,
    overwrite: bool,
) -> PyResult<()> {
    let mode = IfExists::from_flag(overwrite);
    let borrow = whole.get().borrow(py)?;
    let record = borrow.parts()?;
    if record.shape.is_empty() {
        return Err(PyValueError::new_err("the whole array's shape is empty"));
    }
    let whole = flacarray::arrow::ArrayFacts::whole_array(record);
    drop(borrow);
    let mut raised: Option<PyErr> = None;
    let result = py.detach(|| {
        let parts = std::iter::from_fn(|| {
            Python::attach(|py| {
                let part = next_part.call0(py).and_then(|obj| {
                    if obj.is_none(py) {
                        return Ok(None);
                    }
                    let parts = obj.bind(py).cast::<ArrayParts>()?.clone();
                    arrow_column(py, parts.get()).map(Some)
                });
                match part {
                    Ok(Some(column)) => Some(Ok(column)),
                    Ok(None) => None,
                    Err(err) => {
                        let message = err.to_string();
                        raised = Some(err);
                        Some(Err(flacarray::Error::invalid(message)))
                    }
                }
            })
        });
        flacarray::parquet::write_parts_file(&path, column, whole, parts, mode)
    });
    match raised {
        Some(err) => Err(err),
        None => result.map_err(to_py),
    }
}

/// The dtype name and leading shape of the array in a Parquet file's
/// column, from the file's footer.
#[pyfunction]
pub(crate) fn parquet_leading_shape(
    py: Python<'_>,
    path: std::path::PathBuf,
    column: &str,
) -> PyResult<(&'static str, Vec<usize>)> {
    let (dtype, leading) = py
        .detach(|| flacarray::parquet::leading_shape_file(&path, column))
        .map_err(to_py)?;
    Ok((dtype.name(), leading))
}

/// Keeps a numpy array alive for as long as an Arrow buffer shares its
/// memory.
pub(crate) struct NumpyOwner {
    _array: std::panic::AssertUnwindSafe<Py<PyArray1<u8>>>,
}

/// An Arrow buffer over the memory of `array` (whose data is `data`),
/// without a copy.
pub(crate) fn shared_buffer(
    py: Python<'_>,
    array: &Py<PyArray1<u8>>,
    data: &[u8],
) -> arrow_buffer::Buffer {
    let Some(ptr) = std::ptr::NonNull::new(data.as_ptr() as *mut u8) else {
        return arrow_buffer::Buffer::from(data);
    };
    let owner = std::sync::Arc::new(NumpyOwner {
        _array: std::panic::AssertUnwindSafe(array.clone_ref(py)),
    });
    // SAFETY: `data` is the contiguous memory of the numpy array `owner`
    // holds a reference to, valid for `data.len()` bytes for as long as the
    // buffer (which keeps `owner`) lives. The array is never written while
    // the buffer exists: the parts hold read-only arrays that only they
    // reference (FlacArray freezes them), and a read borrow is held.
    unsafe { arrow_buffer::Buffer::from_custom_allocation(ptr, data.len(), owner) }
}

/// Reads an array from a Parquet file; with `keep` (a boolean mask of the
/// leading shape), only those streams.
#[pyfunction]
#[pyo3(signature = (path, column, keep=None))]
pub(crate) fn read_parquet<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    column: &str,
    keep: Option<PyReadonlyArrayDyn<'py, bool>>,
) -> PyResult<ArrayParts> {
    let keep = keep_mask(keep)?;
    let array = py
        .detach(|| flacarray::parquet::read_array_file(&path, column, keep_ref(&keep)))
        .map_err(to_py)?;
    parts_object(py, array)
}

/// Parses `flacarray.flac` type metadata (layout 1 or 2; unknown fields
/// ignored): returns `(dtype, legacy)` where `legacy` is None for layout 2
/// or a dict of what layout 1 said about the array (stream_size,
/// leading_shape, level). Raises ValueError for damaged metadata and an
/// unknown layout version.
#[pyfunction]
pub(crate) fn parse_flac_metadata<'py>(
    py: Python<'py>,
    text: &str,
) -> PyResult<Bound<'py, PyTuple>> {
    let meta = flacarray::arrow::FlacMetadata::from_json(text)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let legacy = match meta.legacy() {
        None => py.None().into_bound(py),
        Some(l) => {
            let dict = pyo3::types::PyDict::new(py);
            dict.set_item("stream_size", l.stream_size)?;
            dict.set_item("leading_shape", l.leading_shape.clone())?;
            dict.set_item("level", l.level)?;
            dict.into_any()
        }
    };
    PyTuple::new(
        py,
        [meta.dtype().name().into_pyobject(py)?.into_any(), legacy],
    )
}

/// The type metadata this version writes for `dtype` (JSON).
#[pyfunction]
pub(crate) fn flac_metadata_json(dtype: &str) -> PyResult<String> {
    let dtype = DType::from_name(dtype).map_err(to_py)?;
    Ok(flacarray::arrow::FlacMetadata::new(dtype).to_json())
}
