//! Python bindings (`flacarray._core`), built by maturin from this crate;
//! the core crate at the repository root knows nothing of Python. They
//! move numpy buffers in and out without copying the samples or the
//! compressed bytes, and release the GIL while (de)compressing.
//! The user-facing Python API lives in `python/flacarray/`.

use numpy::{
    IntoPyArray, PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArray1, PyReadonlyArrayDyn,
    PyReadwriteArray2, PyUntypedArrayMethods,
};
use pyo3::create_exception;
use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyMemoryError, PyOSError, PyPermissionError,
    PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

mod polars_plugin;

use flacarray::codec::Level;
use flacarray::container::{self, GroupDescription};
use flacarray::{
    with_element_type, with_thread_count, CompressOptions, DType, Element, Error, ErrorKind,
    FlacArray, FlacArrayRef, IfExists, StepSpec,
};

create_exception!(
    _core,
    CorruptDataError,
    PyValueError,
    "Compressed bytes or container metadata are damaged or inconsistent."
);

fn to_py(err: Error) -> PyErr {
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

fn compress_typed<'py, T: Element + numpy::Element>(
    py: Python<'py>,
    arr: &Bound<'py, PyAny>,
    options: &CompressOptions,
    threads: Option<usize>,
) -> PyResult<ArrayParts> {
    let arr: PyReadonlyArrayDyn<T> = arr.extract()?;
    let shape = arr.shape().to_vec();
    let data = arr
        .as_slice()
        .map_err(|_| PyValueError::new_err("input array must be C-contiguous and aligned"))?;
    let fa = py
        .detach(|| with_thread_count(threads, || FlacArray::compress(data, &shape, options)))
        .map_err(to_py)?;
    parts_object(py, fa)
}

/// Compresses a C-contiguous int32/int64/float32/float64 array whose last
/// axis holds the streams into the parts of a compressed array.
#[pyfunction]
#[pyo3(signature = (arr, level=5, quanta=None, precision=None, threads=None))]
fn compress<'py>(
    py: Python<'py>,
    arr: &Bound<'py, PyAny>,
    level: i64,
    quanta: Option<Vec<f64>>,
    precision: Option<Vec<f64>>,
    threads: Option<usize>,
) -> PyResult<ArrayParts> {
    let level = checked_level(level)?;
    let step = StepSpec::from_options(quanta, precision).map_err(to_py)?;
    let options = CompressOptions::default().with_level(level).with_step(step);
    let dtype: String = arr.getattr("dtype")?.getattr("name")?.extract()?;
    let dtype = DType::from_name(&dtype).map_err(to_py)?;
    with_element_type!(dtype, T => compress_typed::<T>(py, arr, &options, threads))
}

fn non_negative(values: &[i64], what: &str) -> PyResult<Vec<u64>> {
    values
        .iter()
        .map(|&v| {
            u64::try_from(v).map_err(|_| {
                CorruptDataError::new_err(format!("{what} holds a negative value ({v})"))
            })
        })
        .collect()
}

fn decompress_typed<T: Element + numpy::Element>(
    py: Python<'_>,
    view: FlacArrayRef<'_>,
    streams: &[usize],
    first: usize,
    last: usize,
    out: &Bound<'_, PyAny>,
    threads: Option<usize>,
) -> PyResult<()> {
    let out: PyReadwriteArray2<T> = out.extract().map_err(|_| {
        PyValueError::new_err(format!("out must be a writable 2-D {} array", T::DTYPE))
    })?;
    let mut out = out;
    let slice = out
        .as_slice_mut()
        .map_err(|_| PyValueError::new_err("out must be C-contiguous"))?;
    py.detach(|| {
        with_thread_count(threads, || {
            view.decompress_into(streams, first..last, slice)
        })
    })
    .map_err(to_py)
}

fn parse_streams(streams: &PyReadonlyArray1<'_, i64>) -> PyResult<Vec<usize>> {
    streams
        .as_slice()
        .map_err(|_| PyValueError::new_err("stream indices must be a contiguous 1-D array"))?
        .iter()
        .map(|&s| {
            usize::try_from(s)
                .map_err(|_| PyValueError::new_err(format!("negative stream index {s}")))
        })
        .collect()
}

/// Decompresses samples `first..last` of the listed streams (flat indices)
/// into `out`, a C-contiguous `(len(streams), last - first)` array of the
/// original dtype allocated by the caller (so a failed allocation is a
/// MemoryError in Python, never a panic here). Everything is checked
/// before any sample is written.
#[pyfunction]
#[pyo3(signature = (parts, streams, first, last, out, threads=None))]
fn decompress_into(
    py: Python<'_>,
    parts: &Bound<'_, ArrayParts>,
    streams: PyReadonlyArray1<'_, i64>,
    first: usize,
    last: usize,
    out: &Bound<'_, PyAny>,
    threads: Option<usize>,
) -> PyResult<()> {
    let arrays = parts.get().borrow_arrays(py)?;
    let borrowed = arrays.borrow()?;
    let view = borrowed.view()?;
    let streams = parse_streams(&streams)?;
    with_element_type!(view.dtype(), T => {
        decompress_typed::<T>(py, view, &streams, first, last, out, threads)
    })
}

/// Checks an array's parts completely: structure, every stream's
/// STREAMINFO against the shape, and float scales. Raises
/// CorruptDataError naming the first problem.
#[pyfunction]
fn validate(py: Python<'_>, parts: &Bound<'_, ArrayParts>) -> PyResult<()> {
    let arrays = parts.get().borrow_arrays(py)?;
    let borrowed = arrays.borrow()?;
    let view = borrowed.view()?;
    py.detach(|| view.validate_streams()).map_err(to_py)
}

/// A compressed array's parts as they cross between Python and the core:
/// the dtype, the shape, every stream's FLAC bytes concatenated
/// (`compressed`, uint8), each stream's start and length in them (int64),
/// per-stream offsets and gains (float64, float data only) and the
/// compression level. The numpy arrays are shared, never copied; the
/// constructor checks their types, the core checks their contents.
#[pyclass(frozen, module = "flacarray._core")]
struct ArrayParts {
    dtype: DType,
    shape: Vec<usize>,
    compressed: Py<PyArray1<u8>>,
    starts: Py<PyArray1<i64>>,
    nbytes: Py<PyArray1<i64>>,
    offsets: Option<Py<PyArray1<f64>>>,
    gains: Option<Py<PyArray1<f64>>>,
    level: u32,
}

fn checked_level(level: i64) -> PyResult<u32> {
    Ok(Level::new(level).map_err(to_py)?.get())
}

#[pymethods]
impl ArrayParts {
    #[new]
    #[pyo3(signature = (dtype, shape, compressed, starts, nbytes, offsets=None, gains=None, level=5))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        dtype: &str,
        shape: Vec<usize>,
        compressed: Bound<'_, PyArray1<u8>>,
        starts: Bound<'_, PyArray1<i64>>,
        nbytes: Bound<'_, PyArray1<i64>>,
        offsets: Option<Bound<'_, PyArray1<f64>>>,
        gains: Option<Bound<'_, PyArray1<f64>>>,
        level: i64,
    ) -> PyResult<Self> {
        Ok(ArrayParts {
            dtype: DType::from_name(dtype).map_err(to_py)?,
            shape,
            compressed: compressed.unbind(),
            starts: starts.unbind(),
            nbytes: nbytes.unbind(),
            offsets: offsets.map(Bound::unbind),
            gains: gains.map(Bound::unbind),
            level: checked_level(level)?,
        })
    }

    /// The element type's numpy name.
    #[getter]
    fn dtype(&self) -> &'static str {
        self.dtype.name()
    }

    /// The uncompressed array's shape.
    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.shape)
    }

    /// Every stream's FLAC bytes, concatenated.
    #[getter]
    fn compressed<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u8>> {
        self.compressed.bind(py).clone()
    }

    /// Where each stream starts in `compressed`.
    #[getter]
    fn starts<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        self.starts.bind(py).clone()
    }

    /// Each stream's length in bytes.
    #[getter]
    fn nbytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        self.nbytes.bind(py).clone()
    }

    /// Per-stream offsets (None for integer data).
    #[getter]
    fn offsets<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        self.offsets.as_ref().map(|a| a.bind(py).clone())
    }

    /// Per-stream gains (None for integer data).
    #[getter]
    fn gains<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        self.gains.as_ref().map(|a| a.bind(py).clone())
    }

    /// The compression level.
    #[getter]
    fn level(&self) -> u32 {
        self.level
    }

    /// The same parts with other compressed bytes (the per-stream arrays
    /// are shared).
    fn with_compressed(&self, py: Python<'_>, compressed: Bound<'_, PyArray1<u8>>) -> Self {
        ArrayParts {
            dtype: self.dtype,
            shape: self.shape.clone(),
            compressed: compressed.unbind(),
            starts: self.starts.clone_ref(py),
            nbytes: self.nbytes.clone_ref(py),
            offsets: self.offsets.as_ref().map(|a| a.clone_ref(py)),
            gains: self.gains.as_ref().map(|a| a.clone_ref(py)),
            level: self.level,
        }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "ArrayParts(dtype={}, shape={:?}, compressed={} bytes, level={})",
            self.dtype.name(),
            self.shape,
            self.compressed.bind(py).len(),
            self.level
        )
    }
}

/// Read borrows of the numpy arrays of an [`ArrayParts`], held while the
/// core reads them.
struct PartsArg<'py> {
    dtype: DType,
    shape: &'py [usize],
    compressed: PyReadonlyArray1<'py, u8>,
    starts: PyReadonlyArray1<'py, i64>,
    nbytes: PyReadonlyArray1<'py, i64>,
    offsets: Option<PyReadonlyArray1<'py, f64>>,
    gains: Option<PyReadonlyArray1<'py, f64>>,
    level: u32,
}

fn read_borrow<'py, T: numpy::Element>(
    array: &Py<PyArray1<T>>,
    py: Python<'py>,
    name: &str,
) -> PyResult<PyReadonlyArray1<'py, T>> {
    array
        .bind(py)
        .clone()
        .try_readonly()
        .map_err(|e| PyValueError::new_err(format!("{name} cannot be read: {e}")))
}

impl ArrayParts {
    fn borrow_arrays<'py>(&'py self, py: Python<'py>) -> PyResult<PartsArg<'py>> {
        Ok(PartsArg {
            dtype: self.dtype,
            shape: &self.shape,
            compressed: read_borrow(&self.compressed, py, "compressed")?,
            starts: read_borrow(&self.starts, py, "stream_starts")?,
            nbytes: read_borrow(&self.nbytes, py, "stream_nbytes")?,
            offsets: self
                .offsets
                .as_ref()
                .map(|a| read_borrow(a, py, "stream_offsets"))
                .transpose()?,
            gains: self
                .gains
                .as_ref()
                .map(|a| read_borrow(a, py, "stream_gains"))
                .transpose()?,
            level: self.level,
        })
    }
}

/// The parts as slices borrowed from the numpy arrays.
struct BorrowedParts<'a> {
    dtype: DType,
    shape: &'a [usize],
    compressed: &'a [u8],
    starts: Vec<u64>,
    nbytes: Vec<u64>,
    offsets: Option<&'a [f64]>,
    gains: Option<&'a [f64]>,
    level: u32,
}

fn contiguous(name: &str) -> PyErr {
    PyValueError::new_err(format!("{name} must be a contiguous 1-D array"))
}

fn float_slice<'a>(
    array: &'a Option<PyReadonlyArray1<'_, f64>>,
    name: &str,
) -> PyResult<Option<&'a [f64]>> {
    array
        .as_ref()
        .map(|a| a.as_slice().map_err(|_| contiguous(name)))
        .transpose()
}

impl PartsArg<'_> {
    fn borrow(&self) -> PyResult<BorrowedParts<'_>> {
        Ok(BorrowedParts {
            dtype: self.dtype,
            shape: self.shape,
            compressed: self
                .compressed
                .as_slice()
                .map_err(|_| contiguous("compressed"))?,
            starts: non_negative(
                self.starts
                    .as_slice()
                    .map_err(|_| contiguous("stream_starts"))?,
                "stream_starts",
            )?,
            nbytes: non_negative(
                self.nbytes
                    .as_slice()
                    .map_err(|_| contiguous("stream_nbytes"))?,
                "stream_nbytes",
            )?,
            offsets: float_slice(&self.offsets, "stream_offsets")?,
            gains: float_slice(&self.gains, "stream_gains")?,
            level: self.level,
        })
    }
}

impl BorrowedParts<'_> {
    fn view(&self) -> PyResult<FlacArrayRef<'_>> {
        FlacArrayRef::new(
            self.dtype,
            self.shape,
            self.compressed,
            &self.starts,
            &self.nbytes,
            self.offsets,
            self.gains,
        )
        .map_err(to_py)
    }
}

fn as_i64(values: Vec<u64>) -> Vec<i64> {
    values.into_iter().map(|x| x as i64).collect()
}

/// Hands an array's parts to Python without copying the bytes.
fn parts_object(py: Python<'_>, array: FlacArray) -> PyResult<ArrayParts> {
    let parts = array.into_parts();
    Ok(ArrayParts {
        dtype: parts.dtype,
        shape: parts.shape,
        compressed: PyArray1::from_vec(py, parts.compressed).unbind(),
        starts: PyArray1::from_vec(py, as_i64(parts.starts)).unbind(),
        nbytes: PyArray1::from_vec(py, as_i64(parts.nbytes)).unbind(),
        offsets: parts.offsets.map(|v| PyArray1::from_vec(py, v).unbind()),
        gains: parts.gains.map(|v| PyArray1::from_vec(py, v).unbind()),
        level: parts.level,
    })
}

/// A keep mask as (flat C-order flags, shape).
type KeepMask = (Vec<bool>, Vec<usize>);

fn keep_mask(keep: Option<PyReadonlyArrayDyn<'_, bool>>) -> PyResult<Option<KeepMask>> {
    keep.map(|k| {
        let shape = k.shape().to_vec();
        let flags = k
            .as_slice()
            .map(<[bool]>::to_vec)
            .map_err(|_| PyValueError::new_err("keep must be a contiguous boolean array"))?;
        Ok((flags, shape))
    })
    .transpose()
}

fn keep_ref(keep: &Option<KeepMask>) -> Option<(&[bool], &[usize])> {
    keep.as_ref().map(|(f, s)| (f.as_slice(), s.as_slice()))
}

/// Writes an array (given as its parts) as a one-column Parquet file;
/// an existing file is replaced only with `overwrite`.
#[pyfunction]
#[pyo3(signature = (path, column, parts, overwrite=false))]
fn write_parquet(
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
fn arrow_column(py: Python<'_>, parts: &ArrayParts) -> PyResult<flacarray::arrow::FlacColumn> {
    let arrays = parts.borrow_arrays(py)?;
    let borrowed = arrays.borrow()?;
    let bytes = shared_buffer(py, &parts.compressed, borrowed.compressed);
    let view = FlacArrayRef::new(
        borrowed.dtype,
        borrowed.shape,
        bytes.as_slice(),
        &borrowed.starts,
        &borrowed.nbytes,
        borrowed.offsets,
        borrowed.gains,
    )
    .map_err(to_py)?;
    view.to_arrow_shared(borrowed.level, &bytes).map_err(to_py)
}

/// Quantizes a C-contiguous float32/float64 array whose last axis holds
/// the streams: `(integers of the same shape, offsets, gains)`.
#[pyfunction]
#[pyo3(signature = (arr, quanta=None, precision=None, threads=None))]
fn quantize<'py>(
    py: Python<'py>,
    arr: &Bound<'py, PyAny>,
    quanta: Option<Vec<f64>>,
    precision: Option<Vec<f64>>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyTuple>> {
    let step = StepSpec::from_options(quanta, precision).map_err(to_py)?;
    let dtype: String = arr.getattr("dtype")?.getattr("name")?.extract()?;
    let contiguous = |_| PyValueError::new_err("the array must be C-contiguous and aligned");
    let shape: Vec<usize> = arr.getattr("shape")?.extract()?;
    let size = shape.last().copied().unwrap_or(1).max(1);
    let (ints, offsets, gains) = match dtype.as_str() {
        "float32" => {
            let data: PyReadonlyArrayDyn<f32> = arr.extract()?;
            let values = data.as_slice().map_err(contiguous)?;
            let q = py
                .detach(|| {
                    with_thread_count(threads, || {
                        flacarray::quantize_streams_f32(values, size, &step)
                    })
                })
                .map_err(to_py)?;
            let ints = q.ints.into_pyarray(py).reshape(shape)?.into_any();
            (ints, q.offsets, q.gains)
        }
        "float64" => {
            let data: PyReadonlyArrayDyn<f64> = arr.extract()?;
            let values = data.as_slice().map_err(contiguous)?;
            let q = py
                .detach(|| {
                    with_thread_count(threads, || {
                        flacarray::quantize_streams_f64(values, size, &step)
                    })
                })
                .map_err(to_py)?;
            let ints = q.ints.into_pyarray(py).reshape(shape)?.into_any();
            (ints, q.offsets, q.gains)
        }
        other => {
            return Err(PyTypeError::new_err(format!(
                "only float32 and float64 data are quantized, got {other}"
            )))
        }
    };
    PyTuple::new(
        py,
        [
            ints,
            PyArray1::from_vec(py, offsets).into_any(),
            PyArray1::from_vec(py, gains).into_any(),
        ],
    )
}

/// Restores floats from a C-contiguous int32 (to float32) or int64 (to
/// float64) array whose last axis holds the streams, with one offset and
/// gain per stream.
#[pyfunction]
#[pyo3(signature = (ints, offsets, gains, threads=None))]
fn restore<'py>(
    py: Python<'py>,
    ints: &Bound<'py, PyAny>,
    offsets: Vec<f64>,
    gains: Vec<f64>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let dtype: String = ints.getattr("dtype")?.getattr("name")?.extract()?;
    let shape: Vec<usize> = ints.getattr("shape")?.extract()?;
    let size = shape.last().copied().unwrap_or(1).max(1);
    let contiguous = |_| PyValueError::new_err("the array must be C-contiguous and aligned");
    Ok(match dtype.as_str() {
        "int32" => {
            let data: PyReadonlyArrayDyn<i32> = ints.extract()?;
            let q = flacarray::Quantized {
                ints: data.as_slice().map_err(contiguous)?.to_vec(),
                offsets,
                gains,
            };
            let out = py
                .detach(|| with_thread_count(threads, || flacarray::restore_streams_f32(&q, size)))
                .map_err(to_py)?;
            out.into_pyarray(py).reshape(shape)?.into_any()
        }
        "int64" => {
            let data: PyReadonlyArrayDyn<i64> = ints.extract()?;
            let q = flacarray::Quantized {
                ints: data.as_slice().map_err(contiguous)?.to_vec(),
                offsets,
                gains,
            };
            let out = py
                .detach(|| with_thread_count(threads, || flacarray::restore_streams_f64(&q, size)))
                .map_err(to_py)?;
            out.into_pyarray(py).reshape(shape)?.into_any()
        }
        other => {
            return Err(PyTypeError::new_err(format!(
                "only int32 and int64 data are restored to floats, got {other}"
            )))
        }
    })
}

/// The Arrow field metadata of the whole array `parts` holds (leading
/// shape, level, stream length, digest), by key.
#[pyfunction]
fn column_metadata(
    py: Python<'_>,
    parts: &Bound<'_, ArrayParts>,
) -> PyResult<std::collections::HashMap<String, String>> {
    let arrays = parts.get().borrow_arrays(py)?;
    let borrowed = arrays.borrow()?;
    let view = borrowed.view()?;
    let facts = flacarray::arrow::ArrayFacts::whole_array(
        view.dtype(),
        view.shape(),
        borrowed.level,
        view.stream_offsets(),
        view.stream_gains(),
    );
    Ok(facts.to_metadata())
}

/// Checks an array rebuilt from a column: every stream has `channels` FLAC
/// channels (when given: layout 2), and `digest` (the field metadata's,
/// when recorded) matches its type, level, offsets and gains with the
/// recorded shape `shape` (its own without one).
#[pyfunction]
#[pyo3(signature = (parts, channels=None, digest=None, shape=None))]
fn check_column(
    py: Python<'_>,
    parts: &Bound<'_, ArrayParts>,
    channels: Option<u32>,
    digest: Option<&str>,
    shape: Option<Vec<usize>>,
) -> PyResult<()> {
    let arrays = parts.get().borrow_arrays(py)?;
    let borrowed = arrays.borrow()?;
    let view = borrowed.view()?;
    container::check_stream_channels(&view, channels).map_err(to_py)?;
    let Some(expected) = digest else {
        return Ok(());
    };
    let shape = shape.unwrap_or_else(|| view.shape().to_vec());
    let actual = flacarray::arrow::array_digest(
        view.dtype(),
        &shape,
        borrowed.level,
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
/// order) and then None; `dtype`, `shape` and `level` are the whole
/// array's, `offsets` and `gains` every stream's (float data; for the
/// digest). Only one part is held at a time. An exception raised by
/// `next_part` aborts the write (no file is left) and is raised again here.
#[pyfunction]
#[pyo3(signature = (path, column, dtype, shape, level, offsets, gains, next_part, overwrite=false))]
#[allow(clippy::too_many_arguments)]
fn write_parquet_parts(
    py: Python<'_>,
    path: std::path::PathBuf,
    column: &str,
    dtype: &str,
    shape: Vec<usize>,
    level: u32,
    offsets: Option<PyReadonlyArray1<'_, f64>>,
    gains: Option<PyReadonlyArray1<'_, f64>>,
    next_part: Py<PyAny>,
    overwrite: bool,
) -> PyResult<()> {
    let mode = IfExists::from_flag(overwrite);
    let dtype = DType::from_name(dtype).map_err(to_py)?;
    if shape.is_empty() {
        return Err(PyValueError::new_err("the whole array's shape is empty"));
    }
    let whole = flacarray::arrow::ArrayFacts::whole_array(
        dtype,
        &shape,
        level,
        float_slice(&offsets, "offsets")?,
        float_slice(&gains, "gains")?,
    );
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
fn parquet_leading_shape(
    py: Python<'_>,
    path: std::path::PathBuf,
    column: &str,
) -> PyResult<(&'static str, Vec<usize>)> {
    let (dtype, leading) = py
        .detach(|| flacarray::parquet::leading_shape_file(&path, column))
        .map_err(to_py)?;
    Ok((dtype.name(), leading))
}

/// The codec a `flacarray.flac` Zarr configuration describes, checked
/// (and, with `dtype`, checked against the array's element type).
fn chunk_codec(
    level: i64,
    quanta: Option<f64>,
    precision: Option<f64>,
    dtype: Option<&str>,
) -> PyResult<flacarray::zarr_codec::FlacCodec> {
    let codec = flacarray::zarr_codec::FlacCodec::new(level, quanta, precision).map_err(to_py)?;
    if let Some(dtype) = dtype {
        let dtype = DType::from_name(dtype).map_err(|_| {
            PyTypeError::new_err(format!(
                "the flacarray.flac codec stores int32, int64, float32 and float64, not {dtype}"
            ))
        })?;
        codec.check_dtype(dtype).map_err(to_py)?;
    }
    Ok(codec)
}

/// Checks a `flacarray.flac` Zarr codec configuration (level, at most one
/// of quanta and precision, and with `dtype` the element type).
#[pyfunction]
#[pyo3(signature = (level=5, quanta=None, precision=None, dtype=None))]
fn check_chunk_codec(
    level: i64,
    quanta: Option<f64>,
    precision: Option<f64>,
    dtype: Option<&str>,
) -> PyResult<()> {
    chunk_codec(level, quanta, precision, dtype).map(|_| ())
}

fn encode_chunk_typed<'py, T: Element + numpy::Element>(
    py: Python<'py>,
    arr: &Bound<'py, PyAny>,
    options: &CompressOptions,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    let arr: PyReadonlyArrayDyn<T> = arr.extract()?;
    let shape = arr.shape().to_vec();
    let data = arr
        .as_slice()
        .map_err(|_| PyValueError::new_err("the chunk must be C-contiguous and aligned"))?;
    let bytes = py
        .detach(|| {
            with_thread_count(threads, || {
                flacarray::chunk::encode_chunk(data, &shape, options)
            })
        })
        .map_err(to_py)?;
    Ok(bytes.into_pyarray(py))
}

/// Encodes one chunk (a C-contiguous int32/int64/float32/float64 array,
/// last axis: the streams) in the `flacarray.flac` Zarr codec's layout.
#[pyfunction]
#[pyo3(signature = (arr, level=5, quanta=None, precision=None, threads=None))]
fn encode_chunk<'py>(
    py: Python<'py>,
    arr: &Bound<'py, PyAny>,
    level: i64,
    quanta: Option<f64>,
    precision: Option<f64>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    let dtype: String = arr.getattr("dtype")?.getattr("name")?.extract()?;
    let codec = chunk_codec(level, quanta, precision, Some(&dtype))?;
    let dtype = DType::from_name(&dtype).map_err(to_py)?;
    with_element_type!(dtype, T => encode_chunk_typed::<T>(py, arr, codec.options(), threads))
}

fn decode_chunk_typed<'py, T: Element + numpy::Element>(
    py: Python<'py>,
    bytes: &[u8],
    shape: &[usize],
    samples: std::ops::Range<usize>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    // The chunk's claims are checked against the shape before the output
    // (sized by the shape, from the array's metadata) is allocated.
    let window = samples.clone();
    let out = py
        .detach(|| {
            with_thread_count(threads, || {
                flacarray::chunk::decode_chunk::<T>(bytes, shape, window)
            })
        })
        .map_err(to_py)?;
    let mut out_shape = shape.to_vec();
    *out_shape.last_mut().expect("checked above") = samples.len();
    out.into_pyarray(py).reshape(out_shape)
}

/// Decodes samples `first..last` (default: all) of every stream of one
/// `flacarray.flac` chunk of `shape` and element type `dtype`; only the FLAC
/// frames holding them are decoded.
#[pyfunction]
#[pyo3(signature = (chunk, dtype, shape, first=None, last=None, threads=None))]
fn decode_chunk<'py>(
    py: Python<'py>,
    chunk: PyReadonlyArray1<'py, u8>,
    dtype: &str,
    shape: Vec<usize>,
    first: Option<usize>,
    last: Option<usize>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let dtype = DType::from_name(dtype).map_err(to_py)?;
    let bytes = chunk
        .as_slice()
        .map_err(|_| PyValueError::new_err("chunk bytes must be contiguous"))?;
    let size = *shape
        .last()
        .ok_or_else(|| PyValueError::new_err("a chunk shape needs at least one axis"))?;
    let (first, last) = (first.unwrap_or(0), last.unwrap_or(size));
    if first > last || last > size {
        return Err(PyValueError::new_err(format!(
            "samples {first}..{last} are outside a chunk of {size} samples"
        )));
    }
    with_element_type!(dtype, T => decode_chunk_typed::<T>(py, bytes, &shape, first..last, threads)
        .map(Bound::into_any))
}

fn zarrs_write_typed<T>(
    py: Python<'_>,
    path: &std::path::Path,
    arr: &Bound<'_, PyAny>,
    chunks: &[u64],
    codec: flacarray::zarr_codec::FlacCodec,
) -> PyResult<()>
where
    T: Element
        + numpy::Element
        + zarrs::array::Element
        + Default
        + Into<zarrs::array::builder::ArrayBuilderFillValue>,
{
    let arr: PyReadonlyArrayDyn<T> = arr.extract()?;
    let shape: Vec<u64> = arr.shape().iter().map(|&d| d as u64).collect();
    let data = arr
        .as_slice()
        .map_err(|_| PyValueError::new_err("the array must be C-contiguous and aligned"))?;
    py.detach(|| flacarray::zarr_codec::write_array_file(path, data, &shape, chunks, codec))
        .map_err(to_py)
}

/// Writes a numpy array as a Zarr v3 array (a new directory) with zarrs and
/// the `flacarray.flac` codec: what a Rust pipeline writes.
#[pyfunction]
#[pyo3(signature = (path, arr, chunks, level=5, quanta=None, precision=None))]
fn zarrs_write_array(
    py: Python<'_>,
    path: std::path::PathBuf,
    arr: &Bound<'_, PyAny>,
    chunks: Vec<u64>,
    level: i64,
    quanta: Option<f64>,
    precision: Option<f64>,
) -> PyResult<()> {
    let dtype: String = arr.getattr("dtype")?.getattr("name")?.extract()?;
    let codec = chunk_codec(level, quanta, precision, Some(&dtype))?;
    match DType::from_name(&dtype).map_err(to_py)? {
        DType::Int32 => zarrs_write_typed::<i32>(py, &path, arr, &chunks, codec),
        DType::Int64 => zarrs_write_typed::<i64>(py, &path, arr, &chunks, codec),
        DType::Float32 => zarrs_write_typed::<f32>(py, &path, arr, &chunks, codec),
        DType::Float64 => zarrs_write_typed::<f64>(py, &path, arr, &chunks, codec),
    }
}

/// A Zarr array as zarrs read it: element type name, shape, and the values
/// as native-endian bytes.
type ZarrsValues<'py> = (&'static str, Vec<u64>, Bound<'py, PyArray1<u8>>);

/// Reads a whole Zarr v3 array with zarrs (which knows the
/// `flacarray.flac` codec): the element type name, the shape and the
/// values as native-endian bytes.
#[pyfunction]
fn zarrs_read_array(py: Python<'_>, path: std::path::PathBuf) -> PyResult<ZarrsValues<'_>> {
    let (dtype, shape, bytes) = py
        .detach(|| flacarray::zarr_codec::read_array_file(&path))
        .map_err(to_py)?;
    Ok((dtype.name(), shape, bytes.into_pyarray(py)))
}

/// Decodes one whole FLAC stream of `stream_len` samples with the chosen
/// decoder, `"native"` (ours, the default everywhere) or `"libflac"`: the
/// integers it holds (int64 with `wide`, the 2-channel streams of 64-bit
/// data, else int32). For checking the decoders against each other.
#[pyfunction]
#[pyo3(signature = (stream, stream_len, wide, decoder="native"))]
fn decode_stream<'py>(
    py: Python<'py>,
    stream: PyReadonlyArray1<'py, u8>,
    stream_len: usize,
    wide: bool,
    decoder: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let decoder = match decoder {
        "native" => flacarray::codec::Decoder::Native,
        #[cfg(feature = "libflac")]
        "libflac" => flacarray::codec::Decoder::Libflac,
        #[cfg(not(feature = "libflac"))]
        "libflac" => {
            return Err(PyValueError::new_err(
                "this build has no libFLAC (build with the cargo feature `libflac`)",
            ))
        }
        other => {
            return Err(PyValueError::new_err(format!(
                "decoder must be 'native' or 'libflac', not {other:?}"
            )))
        }
    };
    let bytes = stream
        .as_slice()
        .map_err(|_| PyValueError::new_err("stream bytes must be contiguous"))?;
    if stream_len as u64 > flacarray::codec::max_samples_in(bytes.len()) {
        return Err(CorruptDataError::new_err(format!(
            "{stream_len} samples cannot fit in {} bytes",
            bytes.len()
        )));
    }
    let n = stream_len as u64;
    if wide {
        let mut out = vec![0i64; stream_len];
        py.detach(|| flacarray::codec::decode_window_i64_with(decoder, bytes, n, 0, &mut out))
            .map_err(to_py)?;
        Ok(out.into_pyarray(py).into_any())
    } else {
        let mut out = vec![0i32; stream_len];
        py.detach(|| flacarray::codec::decode_window_i32_with(decoder, bytes, n, 0, &mut out))
            .map_err(to_py)?;
        Ok(out.into_pyarray(py).into_any())
    }
}

/// Decodes one whole stream with our decoder, checking its frames' CRCs and,
/// where STREAMINFO records one, its MD5; returns whether an MD5 was
/// checked (damage raises CorruptDataError).
#[pyfunction]
fn verify_stream(
    py: Python<'_>,
    stream: PyReadonlyArray1<'_, u8>,
    stream_len: u64,
) -> PyResult<bool> {
    let bytes = stream
        .as_slice()
        .map_err(|_| PyValueError::new_err("stream bytes must be contiguous"))?;
    py.detach(|| flacarray::codec::verify_stream(bytes, stream_len))
        .map_err(to_py)
}

/// Keeps a numpy array alive for as long as an Arrow buffer shares its
/// memory.
struct NumpyOwner {
    _array: std::panic::AssertUnwindSafe<Py<PyArray1<u8>>>,
}

/// An Arrow buffer over the memory of `array` (whose data is `data`),
/// without a copy.
fn shared_buffer(py: Python<'_>, array: &Py<PyArray1<u8>>, data: &[u8]) -> arrow_buffer::Buffer {
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
fn read_parquet<'py>(
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

/// Writes an array (given as its parts) as a zarr v3 group at `path`; an
/// existing group is replaced only with `overwrite`.
#[pyfunction]
#[pyo3(signature = (path, parts, overwrite=false))]
fn write_zarr(
    py: Python<'_>,
    path: std::path::PathBuf,
    parts: &Bound<'_, ArrayParts>,
    overwrite: bool,
) -> PyResult<()> {
    let arrays = parts.get().borrow_arrays(py)?;
    let borrowed = arrays.borrow()?;
    let view = borrowed.view()?;
    let mode = IfExists::from_flag(overwrite);
    py.detach(|| flacarray::zarr::write_view(&path, &view, borrowed.level, mode))
        .map_err(to_py)
}

/// Reads an array from a zarr group at `path`; with `keep` (a boolean mask
/// of the leading shape), only those streams.
#[pyfunction]
#[pyo3(signature = (path, keep=None))]
fn read_zarr<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    keep: Option<PyReadonlyArrayDyn<'py, bool>>,
) -> PyResult<ArrayParts> {
    let keep = keep_mask(keep)?;
    let array = py
        .detach(|| flacarray::zarr::read_array(&path, keep_ref(&keep)))
        .map_err(to_py)?;
    parts_object(py, array)
}

/// The parts with every stream as this version writes them, or None when
/// they already are (see `FlacArrayRef::to_format1`); the bytes are only
/// read, never copied, when nothing changes.
#[pyfunction]
fn to_format1(py: Python<'_>, parts: &Bound<'_, ArrayParts>) -> PyResult<Option<ArrayParts>> {
    let arrays = parts.get().borrow_arrays(py)?;
    let borrowed = arrays.borrow()?;
    let view = borrowed.view()?;
    let changed = py
        .detach(|| view.to_format1(borrowed.level))
        .map_err(to_py)?;
    changed.map(|a| parts_object(py, a)).transpose()
}

fn parse_description(description: &str) -> PyResult<GroupDescription> {
    serde_json::from_str(description)
        .map_err(|e| PyValueError::new_err(format!("bad group description: {e}")))
}

/// Validates a group description (JSON: attributes, starts_attributes,
/// arrays) against the format rules. Returns a dict with the layout:
/// dtype, shape, stored_leading, version, level.
#[pyfunction]
fn describe_group<'py>(py: Python<'py>, description: &str) -> PyResult<Bound<'py, PyAny>> {
    let layout = container::describe(&parse_description(description)?).map_err(to_py)?;
    let dict = pyo3::types::PyDict::new(py);
    dict.set_item("dtype", layout.dtype.name())?;
    dict.set_item("shape", PyTuple::new(py, &layout.shape)?)?;
    dict.set_item("stored_leading", PyTuple::new(py, &layout.stored_leading)?)?;
    dict.set_item("version", layout.version)?;
    dict.set_item("level", layout.level)?;
    Ok(dict.into_any())
}

/// Plans a read of a described group from its per-stream arrays: returns
/// `(runs, parts)` where `runs` is an (n, 2) int64 array of byte ranges of
/// `compressed` to read and concatenate, and `parts` the result's parts
/// with empty compressed bytes (fill them in with `parts.with_compressed`).
#[pyfunction]
#[pyo3(signature = (description, starts, nbytes, offsets=None, gains=None, keep=None))]
fn plan_group_read<'py>(
    py: Python<'py>,
    description: &str,
    starts: PyReadonlyArray1<'py, i64>,
    nbytes: PyReadonlyArray1<'py, i64>,
    offsets: Option<PyReadonlyArray1<'py, f64>>,
    gains: Option<PyReadonlyArray1<'py, f64>>,
    keep: Option<PyReadonlyArrayDyn<'py, bool>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let layout = container::describe(&parse_description(description)?).map_err(to_py)?;
    let keep = keep_mask(keep)?;
    let plan = container::plan_read(
        &layout,
        starts.as_slice().map_err(|_| contiguous("stream_starts"))?,
        nbytes.as_slice().map_err(|_| contiguous("stream_bytes"))?,
        float_slice(&offsets, "stream_offsets")?,
        float_slice(&gains, "stream_gains")?,
        keep_ref(&keep),
    )
    .map_err(to_py)?;
    let flat: Vec<i64> = plan
        .runs
        .iter()
        .flat_map(|&(a, b)| [a as i64, b as i64])
        .collect();
    let runs = PyArray1::from_vec(py, flat).reshape([plan.runs.len(), 2])?;
    let parts = ArrayParts {
        dtype: layout.dtype,
        shape: plan.shape,
        compressed: PyArray1::<u8>::zeros(py, 0, false).unbind(),
        starts: PyArray1::from_vec(py, as_i64(plan.starts)).unbind(),
        nbytes: PyArray1::from_vec(py, as_i64(plan.nbytes)).unbind(),
        offsets: plan.offsets.map(|v| PyArray1::from_vec(py, v).unbind()),
        gains: plan.gains.map(|v| PyArray1::from_vec(py, v).unbind()),
        level: layout.level,
    };
    let parts = Bound::new(py, parts)?;
    let channels = plan.channels.into_pyobject(py)?.into_any();
    PyTuple::new(py, [runs.into_any(), parts.into_any(), channels])
}

/// Checks that every stream of `parts` (read from a group) has the FLAC
/// channel count the group's layout requires (`channels`, from
/// `plan_group_read`; None: any).
#[pyfunction]
#[pyo3(signature = (parts, channels=None))]
fn check_stream_channels(
    py: Python<'_>,
    parts: &Bound<'_, ArrayParts>,
    channels: Option<u32>,
) -> PyResult<()> {
    let arrays = parts.get().borrow_arrays(py)?;
    let borrowed = arrays.borrow()?;
    container::check_stream_channels(&borrowed.view()?, channels).map_err(to_py)
}

/// What to write for an array's parts (already in format 1's layout):
/// `(group attributes JSON, stream_starts attributes JSON, stored leading
/// shape)`. With `shape`, the parts are one MPI rank's piece of an array of
/// that global shape (same dtype and stream length), and the layout is the
/// whole array's; `tables` (global starts, byte counts, offsets, gains)
/// then gives every rank's per-stream tables as the group stores them (for
/// the digest; without it, the parts' own tables are the group's).
#[pyfunction]
#[pyo3(signature = (parts, shape=None, tables=None))]
fn group_layout<'py>(
    py: Python<'py>,
    parts: &Bound<'py, ArrayParts>,
    shape: Option<Vec<usize>>,
    tables: Option<GlobalTables<'py>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let arrays = parts.get().borrow_arrays(py)?;
    let borrowed = arrays.borrow()?;
    let view = borrowed.view()?;
    let shape = match shape {
        None => view.shape().to_vec(),
        Some(global) => {
            if global.last() != view.shape().last() {
                return Err(PyValueError::new_err(format!(
                    "global shape {global:?} does not end with the streams' length {}",
                    view.stream_size()
                )));
            }
            global
        }
    };
    let attrs = match &tables {
        None => container::group_attributes(&view, borrowed.level),
        Some((starts, nbytes, offsets, gains)) => {
            let tables = container::GroupTables {
                starts: starts.as_slice().map_err(|_| contiguous("stream_starts"))?,
                nbytes: nbytes.as_slice().map_err(|_| contiguous("stream_bytes"))?,
                offsets: float_slice(offsets, "stream_offsets")?,
                gains: float_slice(gains, "stream_gains")?,
            };
            container::group_attributes_for(view.dtype(), &shape, borrowed.level, &tables)
        }
    };
    let attrs = serde_json::Value::Object(attrs).to_string();
    let starts =
        serde_json::Value::Object(container::starts_attributes_for(view.stream_size())).to_string();
    let lead = container::stored_leading_shape_for(&shape);
    PyTuple::new(
        py,
        [
            attrs.into_pyobject(py)?.into_any(),
            starts.into_pyobject(py)?.into_any(),
            PyTuple::new(py, lead)?.into_any(),
        ],
    )
}

/// Resolves a group from its attributes (JSON) and the names of the arrays
/// present (format and staged names): returns `(attributes JSON, {format
/// name: stored name}, pending)`; see `flacarray::container::resolve_group`.
#[pyfunction]
fn resolve_group<'py>(
    py: Python<'py>,
    attributes: &str,
    present: Vec<String>,
) -> PyResult<Bound<'py, PyTuple>> {
    let attributes: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(attributes)
            .map_err(|e| PyValueError::new_err(format!("bad attributes: {e}")))?;
    let resolution = container::resolve_group(&attributes, &present).map_err(to_py)?;
    let attrs = serde_json::Value::Object(resolution.attributes).to_string();
    let arrays = pyo3::types::PyDict::new(py);
    for (name, stored) in &resolution.arrays {
        arrays.set_item(name, stored)?;
    }
    PyTuple::new(
        py,
        [
            attrs.into_pyobject(py)?.into_any(),
            arrays.into_any(),
            pyo3::types::PyBool::new(py, resolution.pending)
                .to_owned()
                .into_any(),
        ],
    )
}

/// The commit record of a write whose new group holds `arrays` and the
/// format attributes `attributes` (JSON).
#[pyfunction]
fn commit_record(arrays: Vec<String>, attributes: &str) -> PyResult<String> {
    let attributes: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(attributes)
            .map_err(|e| PyValueError::new_err(format!("bad attributes: {e}")))?;
    let names: Vec<&str> = arrays.iter().map(String::as_str).collect();
    Ok(container::commit_record(&names, &attributes))
}

/// A whole group's per-stream tables: starts, byte counts, offsets, gains.
type GlobalTables<'py> = (
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, i64>,
    Option<PyReadonlyArray1<'py, f64>>,
    Option<PyReadonlyArray1<'py, f64>>,
);

/// Parses `flacarray.flac` type metadata (layout 1 or 2; unknown fields
/// ignored): returns `(dtype, legacy)` where `legacy` is None for layout 2
/// or a dict of what layout 1 said about the array (stream_size,
/// leading_shape, level). Raises ValueError for damaged metadata and an
/// unknown layout version.
#[pyfunction]
fn parse_flac_metadata<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyTuple>> {
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
fn flac_metadata_json(dtype: &str) -> PyResult<String> {
    let dtype = DType::from_name(dtype).map_err(to_py)?;
    Ok(flacarray::arrow::FlacMetadata::new(dtype).to_json())
}

/// A FLAC stream's STREAMINFO: `(channels, bits_per_sample, total_samples)`.
#[pyfunction]
fn stream_info(bytes: &[u8]) -> PyResult<(u32, u32, u64)> {
    let info = flacarray::codec::stream_info(bytes).map_err(to_py)?;
    Ok((info.channels, info.bits_per_sample, info.total_samples))
}

/// Each stream's sample count from its STREAMINFO (0 when not recorded),
/// for streams `compressed[starts[i]..starts[i] + nbytes[i]]`.
#[pyfunction]
fn stream_lengths<'py>(
    py: Python<'py>,
    compressed: PyReadonlyArray1<'py, u8>,
    starts: PyReadonlyArray1<'py, i64>,
    nbytes: PyReadonlyArray1<'py, i64>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let data = compressed
        .as_slice()
        .map_err(|_| contiguous("compressed"))?;
    let starts = non_negative(
        starts.as_slice().map_err(|_| contiguous("starts"))?,
        "starts",
    )?;
    let nbytes = non_negative(
        nbytes.as_slice().map_err(|_| contiguous("nbytes"))?,
        "nbytes",
    )?;
    let lengths = starts
        .iter()
        .zip(&nbytes)
        .enumerate()
        .map(|(i, (&a, &n))| {
            let bytes = a
                .checked_add(n)
                .and_then(|end| data.get(a as usize..end as usize))
                .ok_or_else(|| Error::corrupt(format!("row {i} points past the data")))?;
            let info = flacarray::codec::stream_info(bytes)
                .map_err(|e| Error::corrupt(format!("row {i}: {}", e.message())))?;
            Ok(info.total_samples as i64)
        })
        .collect::<flacarray::Result<Vec<i64>>>()
        .map_err(to_py)?;
    Ok(PyArray1::from_vec(py, lengths))
}

/// The native core of the `flacarray` Python package.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ArrayParts>()?;
    m.add_function(wrap_pyfunction!(compress, m)?)?;
    m.add_function(wrap_pyfunction!(decompress_into, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(to_format1, m)?)?;
    m.add_function(wrap_pyfunction!(describe_group, m)?)?;
    m.add_function(wrap_pyfunction!(plan_group_read, m)?)?;
    m.add_function(wrap_pyfunction!(group_layout, m)?)?;
    m.add_function(wrap_pyfunction!(check_stream_channels, m)?)?;
    m.add_function(wrap_pyfunction!(resolve_group, m)?)?;
    m.add_function(wrap_pyfunction!(column_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(quantize, m)?)?;
    m.add_function(wrap_pyfunction!(restore, m)?)?;
    m.add_function(wrap_pyfunction!(check_column, m)?)?;
    m.add_function(wrap_pyfunction!(commit_record, m)?)?;
    m.add_function(wrap_pyfunction!(parse_flac_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(flac_metadata_json, m)?)?;
    m.add_function(wrap_pyfunction!(stream_info, m)?)?;
    m.add_function(wrap_pyfunction!(stream_lengths, m)?)?;
    m.add_function(wrap_pyfunction!(write_parquet, m)?)?;
    m.add_function(wrap_pyfunction!(write_parquet_parts, m)?)?;
    m.add_function(wrap_pyfunction!(check_chunk_codec, m)?)?;
    m.add_function(wrap_pyfunction!(encode_chunk, m)?)?;
    m.add_function(wrap_pyfunction!(decode_chunk, m)?)?;
    m.add_function(wrap_pyfunction!(zarrs_write_array, m)?)?;
    m.add_function(wrap_pyfunction!(zarrs_read_array, m)?)?;
    m.add_function(wrap_pyfunction!(decode_stream, m)?)?;
    m.add_function(wrap_pyfunction!(verify_stream, m)?)?;
    m.add_function(wrap_pyfunction!(parquet_leading_shape, m)?)?;
    m.add_function(wrap_pyfunction!(read_parquet, m)?)?;
    m.add_function(wrap_pyfunction!(write_zarr, m)?)?;
    m.add_function(wrap_pyfunction!(read_zarr, m)?)?;
    m.add("CorruptDataError", m.py().get_type::<CorruptDataError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("GROUP_ARRAYS", container::ARRAYS.to_vec())?;
    m.add("GROUP_ATTRIBUTES", container::GROUP_ATTRIBUTES.to_vec())?;
    m.add("BYTES_CHUNK", container::BYTES_CHUNK)?;
    m.add("VERSION_ATTRIBUTE", container::ATTR_VERSION)?;
    m.add("COMMIT_ATTRIBUTE", container::ATTR_COMMIT)?;
    m.add("STAGED_PREFIX", container::STAGED_PREFIX)?;
    Ok(())
}
