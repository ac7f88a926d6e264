//! Functions only the tests call, built with the `test-hooks` feature:
//! our decoder against libFLAC's on one stream, and zarrs writing and
//! reading Zarr arrays with the `flacarray.flac` codec, to check that
//! zarr-python and zarrs agree.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArrayDyn};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use flacarray::{DType, Element};

use crate::errors::{to_py, CorruptDataError};
use crate::zarr_codec::chunk_codec;

/// Decodes one whole FLAC stream of `stream_len` samples with the chosen
/// decoder, `"native"` (ours, the default everywhere) or `"libflac"`: the
/// integers it holds (int64 with `wide`, the 2-channel streams of 64-bit
/// data, else int32). For checking the decoders against each other.
#[pyfunction]
#[pyo3(signature = (stream, stream_len, wide, decoder="native"))]
pub(crate) fn decode_stream<'py>(
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

pub(crate) fn zarrs_write_typed<T>(
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
    let (data, shape) = crate::parts::nd_slice(&arr, "the array")?;
    let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    py.detach(|| flacarray::zarr_codec::write_array_file(path, data, &shape, chunks, codec))
        .map_err(to_py)
}

/// Writes a numpy array as a Zarr v3 array (a new directory) with zarrs and
/// the `flacarray.flac` codec: what a Rust pipeline writes.
#[pyfunction]
#[pyo3(signature = (path, arr, chunks, level=5, quanta=None, precision=None))]
pub(crate) fn zarrs_write_array(
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
    let dtype = DType::from_name(&dtype).map_err(to_py)?;
    flacarray::with_element_type!(dtype, T => zarrs_write_typed::<T>(py, &path, arr, &chunks, codec))
}

/// A Zarr array as zarrs read it: element type name, shape, and the values
/// as native-endian bytes.
pub(crate) type ZarrsValues<'py> = (&'static str, Vec<u64>, Bound<'py, PyArray1<u8>>);

/// Reads a whole Zarr v3 array with zarrs (which knows the
/// `flacarray.flac` codec): the element type name, the shape and the
/// values as native-endian bytes.
#[pyfunction]
pub(crate) fn zarrs_read_array(
    py: Python<'_>,
    path: std::path::PathBuf,
) -> PyResult<ZarrsValues<'_>> {
    let (dtype, shape, bytes) = py
        .detach(|| flacarray::zarr_codec::read_array_file(&path))
        .map_err(to_py)?;
    Ok((dtype.name(), shape, bytes.into_pyarray(py)))
}
