//! Python bindings (`flacarray._core`), built by maturin from this crate;
//! the core crate at the repository root knows nothing of Python. They
//! move numpy buffers in and out without copying the samples or the
//! compressed bytes, and release the GIL while (de)compressing.
//! The user-facing Python API lives in `python/flacarray/`.

use numpy::{
    PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArrayDyn, PyReadwriteArray2,
    PyUntypedArrayMethods,
};
use pyo3::create_exception;
use pyo3::exceptions::{
    PyFileExistsError, PyFileNotFoundError, PyMemoryError, PyOSError, PyPermissionError,
    PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

mod polars_plugin;

use flacarray::container::{self, GroupDescription};
use flacarray::{
    with_thread_count, CompressOptions, DType, Element, Error, ErrorKind, FlacArray,
    FlacArrayParts, FlacArrayRef, IfExists, StepSpec,
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
) -> PyResult<Bound<'py, PyTuple>> {
    let arr: PyReadonlyArrayDyn<T> = arr.extract()?;
    let shape = arr.shape().to_vec();
    let data = arr
        .as_slice()
        .map_err(|_| PyValueError::new_err("input array must be C-contiguous"))?;
    let fa = py
        .detach(|| with_thread_count(threads, || FlacArray::compress(data, &shape, options)))
        .map_err(to_py)?;
    let parts = fa.into_parts();
    let as_i64 = |v: Vec<u64>| v.into_iter().map(|x| x as i64).collect::<Vec<i64>>();
    let offsets = parts.offsets.map(|v| PyArray1::from_vec(py, v).into_any());
    let gains = parts.gains.map(|v| PyArray1::from_vec(py, v).into_any());
    PyTuple::new(
        py,
        [
            Some(PyArray1::from_vec(py, parts.compressed).into_any()),
            Some(PyArray1::from_vec(py, as_i64(parts.starts)).into_any()),
            Some(PyArray1::from_vec(py, as_i64(parts.nbytes)).into_any()),
            offsets,
            gains,
        ],
    )
}

/// Compresses a C-contiguous int32/int64/float32/float64 array whose last
/// axis holds the streams. Returns `(compressed, starts, nbytes, offsets,
/// gains)` as flat numpy arrays (offsets and gains are None for integers).
#[pyfunction]
#[pyo3(signature = (arr, level=5, quanta=None, precision=None, threads=None))]
fn compress<'py>(
    py: Python<'py>,
    arr: &Bound<'py, PyAny>,
    level: i64,
    quanta: Option<Vec<f64>>,
    precision: Option<Vec<f64>>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyTuple>> {
    let level = u32::try_from(level)
        .ok()
        .filter(|l| *l <= 8)
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "compression level must be between 0 and 8, got {level}"
            ))
        })?;
    let step = match (quanta, precision) {
        (Some(_), Some(_)) => {
            return Err(PyValueError::new_err("give quanta or precision, not both"))
        }
        (Some(q), None) => StepSpec::Quanta(q),
        (None, Some(p)) => StepSpec::Precision(p),
        (None, None) => StepSpec::Range,
    };
    let options = CompressOptions {
        level,
        step,
        ..Default::default()
    };
    let dtype: String = arr.getattr("dtype")?.getattr("name")?.extract()?;
    match DType::from_name(&dtype).map_err(to_py)? {
        DType::Int32 => compress_typed::<i32>(py, arr, &options, threads),
        DType::Int64 => compress_typed::<i64>(py, arr, &options, threads),
        DType::Float32 => compress_typed::<f32>(py, arr, &options, threads),
        DType::Float64 => compress_typed::<f64>(py, arr, &options, threads),
    }
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
    parts: PartsArg<'_>,
    streams: PyReadonlyArray1<'_, i64>,
    first: usize,
    last: usize,
    out: &Bound<'_, PyAny>,
    threads: Option<usize>,
) -> PyResult<()> {
    let borrowed = parts.borrow()?;
    let view = borrowed.view()?;
    let streams = parse_streams(&streams)?;
    match view.dtype() {
        DType::Int32 => decompress_typed::<i32>(py, view, &streams, first, last, out, threads),
        DType::Int64 => decompress_typed::<i64>(py, view, &streams, first, last, out, threads),
        DType::Float32 => decompress_typed::<f32>(py, view, &streams, first, last, out, threads),
        DType::Float64 => decompress_typed::<f64>(py, view, &streams, first, last, out, threads),
    }
}

/// Checks an array's parts completely: structure, every stream's
/// STREAMINFO against the shape, and float scales. Raises
/// CorruptDataError naming the first problem.
#[pyfunction]
fn validate(py: Python<'_>, parts: PartsArg<'_>) -> PyResult<()> {
    let borrowed = parts.borrow()?;
    let view = borrowed.view()?;
    py.detach(|| view.validate_streams()).map_err(to_py)
}

/// An array's parts as Python passes them to the core:
/// `(dtype, shape, compressed, starts, nbytes, offsets, gains, level)`.
#[derive(FromPyObject)]
struct PartsArg<'py>(
    String,
    Vec<usize>,
    PyReadonlyArray1<'py, u8>,
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, i64>,
    Option<PyReadonlyArray1<'py, f64>>,
    Option<PyReadonlyArray1<'py, f64>>,
    u32,
);

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
        let Self(dtype, shape, compressed, starts, nbytes, offsets, gains, level) = self;
        Ok(BorrowedParts {
            dtype: DType::from_name(dtype).map_err(to_py)?,
            shape,
            compressed: compressed
                .as_slice()
                .map_err(|_| contiguous("compressed"))?,
            starts: non_negative(
                starts.as_slice().map_err(|_| contiguous("stream_starts"))?,
                "stream_starts",
            )?,
            nbytes: non_negative(
                nbytes.as_slice().map_err(|_| contiguous("stream_nbytes"))?,
                "stream_nbytes",
            )?,
            offsets: float_slice(offsets, "stream_offsets")?,
            gains: float_slice(gains, "stream_gains")?,
            level: *level,
        })
    }

    /// Copies the parts into an owned, validated FlacArray.
    fn to_array(&self) -> PyResult<FlacArray> {
        let b = self.borrow()?;
        FlacArray::from_parts(FlacArrayParts {
            dtype: b.dtype,
            shape: b.shape.to_vec(),
            compressed: b.compressed.to_vec(),
            starts: b.starts,
            nbytes: b.nbytes,
            offsets: b.offsets.map(<[f64]>::to_vec),
            gains: b.gains.map(<[f64]>::to_vec),
            level: b.level,
        })
        .map_err(to_py)
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

/// Hands an array's parts to Python without copying the bytes:
/// `(dtype, shape, compressed, starts, nbytes, offsets, gains)`.
fn parts_tuple<'py>(py: Python<'py>, array: FlacArray) -> PyResult<Bound<'py, PyTuple>> {
    let parts = array.into_parts();
    let as_i64 = |v: Vec<u64>| v.into_iter().map(|x| x as i64).collect::<Vec<i64>>();
    let optional = |v: Option<Vec<f64>>| v.map(|v| PyArray1::from_vec(py, v).into_any());
    PyTuple::new(
        py,
        [
            Some(parts.dtype.name().into_pyobject(py)?.into_any()),
            Some(PyTuple::new(py, parts.shape)?.into_any()),
            Some(PyArray1::from_vec(py, parts.compressed).into_any()),
            Some(PyArray1::from_vec(py, as_i64(parts.starts)).into_any()),
            Some(PyArray1::from_vec(py, as_i64(parts.nbytes)).into_any()),
            optional(parts.offsets),
            optional(parts.gains),
            Some(parts.level.into_pyobject(py)?.into_any()),
        ],
    )
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
    parts: PartsArg<'_>,
    overwrite: bool,
) -> PyResult<()> {
    let array = parts.to_array()?;
    let mode = IfExists::from_flag(overwrite);
    py.detach(|| flacarray::parquet::write_array_file(&path, &array, column, mode))
        .map_err(to_py)
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
) -> PyResult<Bound<'py, PyTuple>> {
    let keep = keep_mask(keep)?;
    let array = py
        .detach(|| flacarray::parquet::read_array_file(&path, column, keep_ref(&keep)))
        .map_err(to_py)?;
    parts_tuple(py, array)
}

/// Writes an array (given as its parts) as a zarr v3 group at `path`; an
/// existing group is replaced only with `overwrite`.
#[pyfunction]
#[pyo3(signature = (path, parts, overwrite=false))]
fn write_zarr(
    py: Python<'_>,
    path: std::path::PathBuf,
    parts: PartsArg<'_>,
    overwrite: bool,
) -> PyResult<()> {
    let array = parts.to_array()?;
    let mode = IfExists::from_flag(overwrite);
    py.detach(|| flacarray::zarr::write_array(&path, &array, mode))
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
) -> PyResult<Bound<'py, PyTuple>> {
    let keep = keep_mask(keep)?;
    let array = py
        .detach(|| flacarray::zarr::read_array(&path, keep_ref(&keep)))
        .map_err(to_py)?;
    parts_tuple(py, array)
}

/// The parts with every stream as this version writes them, or None when
/// they already are (see `FlacArrayRef::to_format1`); the bytes are only
/// read, never copied, when nothing changes.
#[pyfunction]
fn to_format1<'py>(py: Python<'py>, parts: PartsArg<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
    let borrowed = parts.borrow()?;
    let view = borrowed.view()?;
    let changed = py
        .detach(|| view.to_format1(borrowed.level))
        .map_err(to_py)?;
    changed.map(|a| parts_tuple(py, a)).transpose()
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
/// tuple with `compressed` left as None.
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
    let as_i64 = |v: Vec<u64>| v.into_iter().map(|x| x as i64).collect::<Vec<i64>>();
    let optional = |v: Option<Vec<f64>>| v.map(|v| PyArray1::from_vec(py, v).into_any());
    let parts = PyTuple::new(
        py,
        [
            Some(layout.dtype.name().into_pyobject(py)?.into_any()),
            Some(PyTuple::new(py, plan.shape)?.into_any()),
            None,
            Some(PyArray1::from_vec(py, as_i64(plan.starts)).into_any()),
            Some(PyArray1::from_vec(py, as_i64(plan.nbytes)).into_any()),
            optional(plan.offsets),
            optional(plan.gains),
            Some(layout.level.into_pyobject(py)?.into_any()),
        ],
    )?;
    PyTuple::new(py, [runs.into_any(), parts.into_any()])
}

/// What to write for an array's parts (already in format 1's layout):
/// `(group attributes JSON, stream_starts attributes JSON, stored leading
/// shape)`.
#[pyfunction]
fn group_layout<'py>(py: Python<'py>, parts: PartsArg<'py>) -> PyResult<Bound<'py, PyTuple>> {
    let borrowed = parts.borrow()?;
    let view = borrowed.view()?;
    let attrs = container::group_attributes(&view, borrowed.level);
    let attrs = serde_json::Value::Object(attrs).to_string();
    let starts = serde_json::Value::Object(container::starts_attributes(&view)).to_string();
    let lead = container::stored_leading_shape(&view);
    PyTuple::new(
        py,
        [
            attrs.into_pyobject(py)?.into_any(),
            starts.into_pyobject(py)?.into_any(),
            PyTuple::new(py, lead)?.into_any(),
        ],
    )
}

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
    m.add_function(wrap_pyfunction!(compress, m)?)?;
    m.add_function(wrap_pyfunction!(decompress_into, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(to_format1, m)?)?;
    m.add_function(wrap_pyfunction!(describe_group, m)?)?;
    m.add_function(wrap_pyfunction!(plan_group_read, m)?)?;
    m.add_function(wrap_pyfunction!(group_layout, m)?)?;
    m.add_function(wrap_pyfunction!(parse_flac_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(flac_metadata_json, m)?)?;
    m.add_function(wrap_pyfunction!(stream_info, m)?)?;
    m.add_function(wrap_pyfunction!(stream_lengths, m)?)?;
    m.add_function(wrap_pyfunction!(write_parquet, m)?)?;
    m.add_function(wrap_pyfunction!(read_parquet, m)?)?;
    m.add_function(wrap_pyfunction!(write_zarr, m)?)?;
    m.add_function(wrap_pyfunction!(read_zarr, m)?)?;
    m.add("CorruptDataError", m.py().get_type::<CorruptDataError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("GROUP_ARRAYS", container::ARRAYS.to_vec())?;
    m.add("GROUP_ATTRIBUTES", container::GROUP_ATTRIBUTES.to_vec())?;
    m.add("BYTES_CHUNK", container::BYTES_CHUNK)?;
    Ok(())
}
