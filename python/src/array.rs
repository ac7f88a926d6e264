//! Array operations: compress, decompress, quantize, single streams.

use numpy::{
    IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArrayDyn, PyReadwriteArray2,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use flacarray::{
    with_element_type, with_thread_count, CompressOptions, DType, Element, Error, FlacArray,
    FlacArrayRef, Quantized, StepSpec,
};

use crate::errors::to_py;
use crate::parts::{
    checked_level, contiguous, counts_slice, nd_slice, parse_streams, parts_object, stream_size,
    ArrayParts,
};

pub(crate) fn compress_typed<'py, T: Element + numpy::Element>(
    py: Python<'py>,
    arr: &Bound<'py, PyAny>,
    options: &CompressOptions,
    threads: Option<usize>,
) -> PyResult<ArrayParts> {
    let arr: PyReadonlyArrayDyn<T> = arr.extract()?;
    let (data, shape) = nd_slice(&arr, "the input array")?;
    let fa = py
        .detach(|| with_thread_count(threads, || FlacArray::compress(data, &shape, options)))
        .map_err(to_py)?;
    parts_object(py, fa)
}

/// Compresses a C-contiguous int32/int64/float32/float64 array whose last
/// axis holds the streams into the parts of a compressed array.
#[pyfunction]
#[pyo3(signature = (arr, level=5, quanta=None, precision=None, threads=None))]
pub(crate) fn compress<'py>(
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

pub(crate) fn decompress_typed<T: Element + numpy::Element>(
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

/// Decompresses samples `first..last` of the listed streams (flat indices)
/// into `out`, a C-contiguous `(len(streams), last - first)` array of the
/// original dtype allocated by the caller (so a failed allocation is a
/// MemoryError in Python, never a panic here). Everything is checked
/// before any sample is written.
#[pyfunction]
#[pyo3(signature = (parts, streams, first, last, out, threads=None))]
pub(crate) fn decompress_into(
    py: Python<'_>,
    parts: &Bound<'_, ArrayParts>,
    streams: PyReadonlyArray1<'_, i64>,
    first: usize,
    last: usize,
    out: &Bound<'_, PyAny>,
    threads: Option<usize>,
) -> PyResult<()> {
    let borrow = parts.get().borrow(py)?;
    let view = borrow.view()?;
    let streams = parse_streams(&streams)?;
    with_element_type!(view.dtype(), T => {
        decompress_typed::<T>(py, view, &streams, first, last, out, threads)
    })
}

/// Checks an array's parts completely: structure, every stream's
/// STREAMINFO against the shape, and float scales. Raises
/// CorruptDataError naming the first problem.
#[pyfunction]
pub(crate) fn validate(py: Python<'_>, parts: &Bound<'_, ArrayParts>) -> PyResult<()> {
    let borrow = parts.get().borrow(py)?;
    let view = borrow.view()?;
    py.detach(|| view.validate_streams()).map_err(to_py)
}

/// Quantizes a C-contiguous float32/float64 array whose last axis holds
/// the streams: `(integers of the same shape, offsets, gains)`.
#[pyfunction]
#[pyo3(signature = (arr, quanta=None, precision=None, threads=None))]
pub(crate) fn quantize<'py>(
    py: Python<'py>,
    arr: &Bound<'py, PyAny>,
    quanta: Option<Vec<f64>>,
    precision: Option<Vec<f64>>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyTuple>> {
    let step = StepSpec::from_options(quanta, precision).map_err(to_py)?;
    let dtype: String = arr.getattr("dtype")?.getattr("name")?.extract()?;
    let (ints, offsets, gains) = match dtype.as_str() {
        "float32" => quantize_typed(py, arr, threads, |v, n| {
            flacarray::quantize_streams_f32(v, n, &step)
        })?,
        "float64" => quantize_typed(py, arr, threads, |v, n| {
            flacarray::quantize_streams_f64(v, n, &step)
        })?,
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

/// [`quantize`] for one float type: `quantize` turns the values and the
/// stream length into integers, offsets and gains.
fn quantize_typed<'py, F, I>(
    py: Python<'py>,
    arr: &Bound<'py, PyAny>,
    threads: Option<usize>,
    quantize: impl Fn(&[F], usize) -> flacarray::Result<Quantized<I>> + Sync,
) -> PyResult<(Bound<'py, PyAny>, Vec<f64>, Vec<f64>)>
where
    F: numpy::Element + Sync,
    I: numpy::Element + Send,
{
    let arr: PyReadonlyArrayDyn<F> = arr.extract()?;
    let (values, shape) = nd_slice(&arr, "the array")?;
    let size = stream_size(&shape);
    let q = py
        .detach(|| with_thread_count(threads, || quantize(values, size)))
        .map_err(to_py)?;
    let ints = q.ints.into_pyarray(py).reshape(shape)?.into_any();
    Ok((ints, q.offsets, q.gains))
}

/// Restores floats from a C-contiguous int32 (to float32) or int64 (to
/// float64) array whose last axis holds the streams, with one offset and
/// gain per stream.
#[pyfunction]
#[pyo3(signature = (ints, offsets, gains, threads=None))]
pub(crate) fn restore<'py>(
    py: Python<'py>,
    ints: &Bound<'py, PyAny>,
    offsets: Vec<f64>,
    gains: Vec<f64>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let dtype: String = ints.getattr("dtype")?.getattr("name")?.extract()?;
    let tables = (offsets, gains);
    match dtype.as_str() {
        "int32" => restore_typed(py, ints, tables, threads, flacarray::restore_streams_f32),
        "int64" => restore_typed(py, ints, tables, threads, flacarray::restore_streams_f64),
        other => Err(PyTypeError::new_err(format!(
            "only int32 and int64 data are restored to floats, got {other}"
        ))),
    }
}

/// [`restore`] for one integer type.
fn restore_typed<'py, I, F>(
    py: Python<'py>,
    ints: &Bound<'py, PyAny>,
    (offsets, gains): (Vec<f64>, Vec<f64>),
    threads: Option<usize>,
    restore: fn(&Quantized<I>, usize) -> flacarray::Result<Vec<F>>,
) -> PyResult<Bound<'py, PyAny>>
where
    I: numpy::Element + Clone + Sync,
    F: numpy::Element + Send,
{
    let ints: PyReadonlyArrayDyn<I> = ints.extract()?;
    let (values, shape) = nd_slice(&ints, "the array")?;
    let size = stream_size(&shape);
    let q = Quantized {
        ints: values.to_vec(),
        offsets,
        gains,
    };
    let out = py
        .detach(|| with_thread_count(threads, || restore(&q, size)))
        .map_err(to_py)?;
    Ok(out.into_pyarray(py).reshape(shape)?.into_any())
}

/// Decodes one whole stream with our decoder, checking its frames' CRCs and,
/// where STREAMINFO records one, its MD5; returns whether an MD5 was
/// checked (damage raises CorruptDataError).
#[pyfunction]
pub(crate) fn verify_stream(
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

/// The parts with every stream as this version writes them, or None when
/// they already are (see `FlacArrayRef::to_current_layout`); the bytes are only
/// read, never copied, when nothing changes.
#[pyfunction]
pub(crate) fn to_current_layout(
    py: Python<'_>,
    parts: &Bound<'_, ArrayParts>,
) -> PyResult<Option<ArrayParts>> {
    with_fixed_streams(py, parts, |view| view.to_current_layout())
}

/// Like `to_current_layout`, but frame rows stay frame rows (the streams as
/// an Arrow column holds them).
#[pyfunction]
pub(crate) fn to_column_layout(
    py: Python<'_>,
    parts: &Bound<'_, ArrayParts>,
) -> PyResult<Option<ArrayParts>> {
    with_fixed_streams(py, parts, |view| view.to_column_layout())
}

/// `fix` (one of the layout conversions) run on `parts` without the GIL.
fn with_fixed_streams(
    py: Python<'_>,
    parts: &Bound<'_, ArrayParts>,
    fix: impl FnOnce(&FlacArrayRef<'_>) -> flacarray::Result<Option<FlacArray>> + Send,
) -> PyResult<Option<ArrayParts>> {
    let borrow = parts.get().borrow(py)?;
    let view = borrow.view()?;
    let changed = py.detach(|| fix(&view)).map_err(to_py)?;
    changed.map(|a| parts_object(py, a)).transpose()
}

/// True when both hold the same streams (a frame row and the whole stream
/// it stands for count as the same) with the same shape, type and scales.
#[pyfunction]
pub(crate) fn same_streams(
    py: Python<'_>,
    a: &Bound<'_, ArrayParts>,
    b: &Bound<'_, ArrayParts>,
) -> PyResult<bool> {
    let (a, b) = (a.get().borrow(py)?, b.get().borrow(py)?);
    let (a, b) = (a.view()?, b.view()?);
    Ok(py.detach(|| a.same_streams(&b)))
}

/// A FLAC stream's STREAMINFO: `(channels, bits_per_sample, total_samples)`.
#[pyfunction]
pub(crate) fn stream_info(bytes: &[u8]) -> PyResult<(u32, u32, u64)> {
    let info = flacarray::codec::stream_info(bytes).map_err(to_py)?;
    Ok((info.channels, info.bits_per_sample, info.total_samples))
}

/// Each stream's sample count from its STREAMINFO (0 when not recorded),
/// for streams `compressed[starts[i]..starts[i] + nbytes[i]]`.
#[pyfunction]
pub(crate) fn stream_lengths<'py>(
    py: Python<'py>,
    compressed: PyReadonlyArray1<'py, u8>,
    starts: PyReadonlyArray1<'py, i64>,
    nbytes: PyReadonlyArray1<'py, i64>,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let data = compressed
        .as_slice()
        .map_err(|_| contiguous("compressed"))?;
    let starts = counts_slice(&starts, "starts")?;
    let nbytes = counts_slice(&nbytes, "nbytes")?;
    let lengths = starts
        .iter()
        .zip(nbytes)
        .enumerate()
        .map(|(i, (&a, &n))| {
            let bytes = a
                .checked_add(n)
                .and_then(|end| data.get(a as usize..end as usize))
                .ok_or_else(|| Error::corrupt(format!("row {i} points past the data")))?;
            let info = flacarray::codec::stream_info(bytes)
                .map_err(|e| Error::corrupt(e.message()).in_row(i))?;
            Ok(info.total_samples as i64)
        })
        .collect::<flacarray::Result<Vec<i64>>>()
        .map_err(to_py)?;
    Ok(PyArray1::from_vec(py, lengths))
}

/// The element type whose streams have `channels` FLAC channels and, for
/// float data, offsets and gains (`has_scales`): the rule that names a
/// stored type where nothing else does (see `DType::from_channels`); None
/// when no type fits.
#[pyfunction]
pub(crate) fn dtype_from_channels(channels: u32, has_scales: bool) -> Option<&'static str> {
    DType::from_channels(channels, has_scales).map(DType::name)
}
