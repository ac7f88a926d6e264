//! The `flacarray.flac` Zarr v3 codec's chunks, for zarr-python.

use numpy::{
    IntoPyArray, PyArray1, PyArrayDyn, PyArrayMethods, PyReadonlyArray1, PyReadonlyArrayDyn,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use flacarray::{with_element_type, with_thread_count, CompressOptions, DType, Element};

use crate::errors::to_py;
use crate::parts::nd_slice;

/// The codec a `flacarray.flac` Zarr configuration describes, checked
/// (and, with `dtype`, checked against the array's element type).
pub(crate) fn chunk_codec(
    level: i64,
    quanta: Option<f64>,
    precision: Option<f64>,
    dtype: Option<&str>,
) -> PyResult<flacarray::zarr_codec::FlacCodec> {
    let codec = flacarray::zarr_codec::FlacCodec::new(level, quanta, precision).map_err(to_py)?;
    if let Some(dtype) = dtype {
        let dtype = DType::from_name(dtype).map_err(|_| {
            PyTypeError::new_err(format!(
                "the flacarray.flac codec stores {}, not {dtype}",
                DType::names("and")
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
pub(crate) fn check_chunk_codec(
    level: i64,
    quanta: Option<f64>,
    precision: Option<f64>,
    dtype: Option<&str>,
) -> PyResult<()> {
    chunk_codec(level, quanta, precision, dtype).map(|_| ())
}

pub(crate) fn encode_chunk_typed<'py, T: Element + numpy::Element>(
    py: Python<'py>,
    arr: &Bound<'py, PyAny>,
    options: &CompressOptions,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray1<u8>>> {
    let arr: PyReadonlyArrayDyn<T> = arr.extract()?;
    let (data, shape) = nd_slice(&arr, "the chunk")?;
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
pub(crate) fn encode_chunk<'py>(
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

pub(crate) fn decode_chunk_typed<'py, T: Element + numpy::Element>(
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
pub(crate) fn decode_chunk<'py>(
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
