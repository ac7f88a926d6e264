//! Python bindings (`flacarray._core`), built by maturin with the `python`
//! feature. They move numpy buffers in and out without copying the samples
//! or the compressed bytes, and release the GIL while (de)compressing.
//! The user-facing Python API lives in `python/flacarray/`.

use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArrayDyn, PyUntypedArrayMethods,
};
use pyo3::create_exception;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::{
    with_thread_count, CompressOptions, DType, Element, Error, ErrorKind, FlacArray,
    FlacArrayParts, FlacArrayRef, StepSpec,
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
        ErrorKind::Io => PyOSError::new_err(err.message().to_string()),
        ErrorKind::Codec => PyRuntimeError::new_err(err.message().to_string()),
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
        .and_then(|r| r)
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

fn decompress_typed<'py, T: Element + numpy::Element>(
    py: Python<'py>,
    view: FlacArrayRef<'_>,
    streams: &[usize],
    first: usize,
    last: usize,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let len = last.saturating_sub(first);
    // SAFETY: every element is written by decompress_into before the array
    // is returned; on error the array is dropped unread.
    let out = unsafe { PyArray2::<T>::new(py, [streams.len(), len], false) };
    {
        let mut rw = out.readwrite();
        let slice = rw
            .as_slice_mut()
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        py.detach(|| {
            with_thread_count(threads, || {
                view.decompress_into(streams, first..last, slice)
            })
        })
        .and_then(|r| r)
        .map_err(to_py)?;
    }
    Ok(out.into_any())
}

/// Decompresses samples `first..last` of the listed streams (flat indices)
/// into a new `(len(streams), last - first)` array of the original dtype.
#[pyfunction]
#[pyo3(signature = (dtype, shape, compressed, starts, nbytes, offsets, gains, streams, first, last, threads=None))]
#[allow(clippy::too_many_arguments)]
fn decompress<'py>(
    py: Python<'py>,
    dtype: &str,
    shape: Vec<usize>,
    compressed: PyReadonlyArray1<'py, u8>,
    starts: PyReadonlyArray1<'py, i64>,
    nbytes: PyReadonlyArray1<'py, i64>,
    offsets: Option<PyReadonlyArray1<'py, f64>>,
    gains: Option<PyReadonlyArray1<'py, f64>>,
    streams: PyReadonlyArray1<'py, i64>,
    first: usize,
    last: usize,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let dtype = DType::from_name(dtype).map_err(to_py)?;
    let contiguous =
        |name: &str| PyValueError::new_err(format!("{name} must be a contiguous 1-D array"));
    let starts = non_negative(
        starts.as_slice().map_err(|_| contiguous("stream_starts"))?,
        "stream_starts",
    )?;
    let nbytes = non_negative(
        nbytes.as_slice().map_err(|_| contiguous("stream_nbytes"))?,
        "stream_nbytes",
    )?;
    let offsets_slice = offsets
        .as_ref()
        .map(|o| o.as_slice())
        .transpose()
        .map_err(|_| contiguous("stream_offsets"))?;
    let gains_slice = gains
        .as_ref()
        .map(|g| g.as_slice())
        .transpose()
        .map_err(|_| contiguous("stream_gains"))?;
    let view = FlacArrayRef::new(
        dtype,
        &shape,
        compressed
            .as_slice()
            .map_err(|_| contiguous("compressed"))?,
        &starts,
        &nbytes,
        offsets_slice,
        gains_slice,
    )
    .map_err(to_py)?;
    let streams: Vec<usize> = streams
        .as_slice()
        .map_err(|_| contiguous("stream indices"))?
        .iter()
        .map(|&s| {
            usize::try_from(s)
                .map_err(|_| PyValueError::new_err(format!("negative stream index {s}")))
        })
        .collect::<PyResult<_>>()?;
    match dtype {
        DType::Int32 => decompress_typed::<i32>(py, view, &streams, first, last, threads),
        DType::Int64 => decompress_typed::<i64>(py, view, &streams, first, last, threads),
        DType::Float32 => decompress_typed::<f32>(py, view, &streams, first, last, threads),
        DType::Float64 => decompress_typed::<f64>(py, view, &streams, first, last, threads),
    }
}

/// An array's parts as Python passes them to the writers:
/// `(dtype, shape, compressed, starts, nbytes, offsets, gains)`.
#[derive(FromPyObject)]
struct PartsArg<'py>(
    String,
    Vec<usize>,
    PyReadonlyArray1<'py, u8>,
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, i64>,
    Option<PyReadonlyArray1<'py, f64>>,
    Option<PyReadonlyArray1<'py, f64>>,
);

impl PartsArg<'_> {
    /// Copies the parts into an owned, validated FlacArray.
    fn to_array(&self) -> PyResult<FlacArray> {
        let contiguous =
            |name: &str| PyValueError::new_err(format!("{name} must be a contiguous 1-D array"));
        let copy_f64 = |a: &Option<PyReadonlyArray1<'_, f64>>, name: &str| {
            a.as_ref()
                .map(|a| {
                    a.as_slice()
                        .map(<[f64]>::to_vec)
                        .map_err(|_| contiguous(name))
                })
                .transpose()
        };
        let Self(dtype, shape, compressed, starts, nbytes, offsets, gains) = self;
        let parts = FlacArrayParts {
            dtype: DType::from_name(dtype).map_err(to_py)?,
            shape: shape.clone(),
            compressed: compressed
                .as_slice()
                .map_err(|_| contiguous("compressed"))?
                .to_vec(),
            starts: non_negative(
                starts.as_slice().map_err(|_| contiguous("stream_starts"))?,
                "stream_starts",
            )?,
            nbytes: non_negative(
                nbytes.as_slice().map_err(|_| contiguous("stream_nbytes"))?,
                "stream_nbytes",
            )?,
            offsets: copy_f64(offsets, "stream_offsets")?,
            gains: copy_f64(gains, "stream_gains")?,
            level: 5,
        };
        FlacArray::from_parts(parts).map_err(to_py)
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
        ],
    )
}

fn keep_vec(keep: Option<PyReadonlyArray1<'_, bool>>) -> PyResult<Option<Vec<bool>>> {
    keep.map(|k| {
        k.as_slice()
            .map(<[bool]>::to_vec)
            .map_err(|_| PyValueError::new_err("keep must be a contiguous boolean array"))
    })
    .transpose()
}

/// Writes an array (given as its parts) as a one-column Parquet file.
#[pyfunction]
fn write_parquet(
    py: Python<'_>,
    path: std::path::PathBuf,
    column: &str,
    parts: PartsArg<'_>,
) -> PyResult<()> {
    let array = parts.to_array()?;
    py.detach(|| crate::parquet::write_array_file(&path, &array, column))
        .map_err(to_py)
}

/// Reads an array from a Parquet file; with `keep`, only those streams.
#[pyfunction]
#[pyo3(signature = (path, column, keep=None))]
fn read_parquet<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    column: &str,
    keep: Option<PyReadonlyArray1<'py, bool>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let keep = keep_vec(keep)?;
    let array = py
        .detach(|| crate::parquet::read_array_file(&path, column, keep.as_deref()))
        .map_err(to_py)?;
    parts_tuple(py, array)
}

/// Writes an array (given as its parts) as a zarr v3 group at `path`.
#[pyfunction]
fn write_zarr(py: Python<'_>, path: std::path::PathBuf, parts: PartsArg<'_>) -> PyResult<()> {
    let array = parts.to_array()?;
    py.detach(|| crate::zarr::write_array(&path, &array))
        .map_err(to_py)
}

/// Reads an array from a zarr group at `path`; with `keep`, only those streams.
#[pyfunction]
#[pyo3(signature = (path, keep=None))]
fn read_zarr<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    keep: Option<PyReadonlyArray1<'py, bool>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let keep = keep_vec(keep)?;
    let array = py
        .detach(|| crate::zarr::read_array(&path, keep.as_deref()))
        .map_err(to_py)?;
    parts_tuple(py, array)
}

/// The native core of the `flacarray` Python package.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(compress, m)?)?;
    m.add_function(wrap_pyfunction!(decompress, m)?)?;
    m.add_function(wrap_pyfunction!(write_parquet, m)?)?;
    m.add_function(wrap_pyfunction!(read_parquet, m)?)?;
    m.add_function(wrap_pyfunction!(write_zarr, m)?)?;
    m.add_function(wrap_pyfunction!(read_zarr, m)?)?;
    m.add("CorruptDataError", m.py().get_type::<CorruptDataError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
