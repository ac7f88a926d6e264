//! The compressed array as Python holds it (`ArrayParts`: numpy arrays
//! shared with the core, never copied) and the borrows the core reads.

use numpy::{
    PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArrayDyn, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use flacarray::codec::Level;
use flacarray::{DType, FlacArray, FlacArrayParts, FlacArrayPartsRef, FlacArrayRef};

use crate::errors::{to_py, CorruptDataError};

pub(crate) fn parse_streams(streams: &PyReadonlyArray1<'_, i64>) -> PyResult<Vec<usize>> {
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

/// A compressed array's parts as they cross between Python and the core:
/// the dtype, the shape, every stream's FLAC bytes concatenated
/// (`compressed`, uint8), each stream's start and length in them (int64),
/// per-stream offsets and gains (float64, float data only) and the
/// compression level. The numpy arrays are shared, never copied; the
/// constructor checks their types, the core checks their contents.
#[pyclass(frozen, module = "flacarray._core")]
pub(crate) struct ArrayParts {
    pub(crate) dtype: DType,
    pub(crate) shape: Vec<usize>,
    /// `shape` as Python reads it (often: built once).
    shape_tuple: Py<PyTuple>,
    pub(crate) compressed: Py<PyArray1<u8>>,
    pub(crate) stream_starts: Py<PyArray1<i64>>,
    pub(crate) stream_nbytes: Py<PyArray1<i64>>,
    pub(crate) stream_offsets: Option<Py<PyArray1<f64>>>,
    pub(crate) stream_gains: Option<Py<PyArray1<f64>>>,
    pub(crate) level: u32,
}

pub(crate) fn checked_level(level: i64) -> PyResult<u32> {
    Ok(Level::new(level).map_err(to_py)?.get())
}

#[pymethods]
impl ArrayParts {
    #[new]
    #[pyo3(signature = (dtype, shape, compressed, stream_starts, stream_nbytes, stream_offsets=None, stream_gains=None, level=5))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        dtype: &str,
        shape: Vec<usize>,
        compressed: Bound<'_, PyArray1<u8>>,
        stream_starts: Bound<'_, PyArray1<i64>>,
        stream_nbytes: Bound<'_, PyArray1<i64>>,
        stream_offsets: Option<Bound<'_, PyArray1<f64>>>,
        stream_gains: Option<Bound<'_, PyArray1<f64>>>,
        level: i64,
    ) -> PyResult<Self> {
        Ok(ArrayParts {
            dtype: DType::from_name(dtype).map_err(to_py)?,
            shape_tuple: PyTuple::new(py, &shape)?.unbind(),
            shape,
            compressed: compressed.unbind(),
            stream_starts: stream_starts.unbind(),
            stream_nbytes: stream_nbytes.unbind(),
            stream_offsets: stream_offsets.map(Bound::unbind),
            stream_gains: stream_gains.map(Bound::unbind),
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
    fn shape<'py>(&self, py: Python<'py>) -> Bound<'py, PyTuple> {
        self.shape_tuple.bind(py).clone()
    }

    /// Every stream's FLAC bytes, concatenated.
    #[getter]
    fn compressed<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u8>> {
        self.compressed.bind(py).clone()
    }

    /// Where each stream starts in `compressed`.
    #[getter]
    fn stream_starts<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        self.stream_starts.bind(py).clone()
    }

    /// Each stream's length in bytes.
    #[getter]
    fn stream_nbytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        self.stream_nbytes.bind(py).clone()
    }

    /// Per-stream offsets (None for integer data).
    #[getter]
    fn stream_offsets<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        self.stream_offsets.as_ref().map(|a| a.bind(py).clone())
    }

    /// Per-stream gains (None for integer data).
    #[getter]
    fn stream_gains<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f64>>> {
        self.stream_gains.as_ref().map(|a| a.bind(py).clone())
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
            shape_tuple: self.shape_tuple.clone_ref(py),
            compressed: compressed.unbind(),
            stream_starts: self.stream_starts.clone_ref(py),
            stream_nbytes: self.stream_nbytes.clone_ref(py),
            stream_offsets: self.stream_offsets.as_ref().map(|a| a.clone_ref(py)),
            stream_gains: self.stream_gains.as_ref().map(|a| a.clone_ref(py)),
            level: self.level,
        }
    }

    /// The same parts under another shape (the arrays are shared).
    fn with_shape(&self, py: Python<'_>, shape: Vec<usize>) -> PyResult<Self> {
        Ok(ArrayParts {
            shape_tuple: PyTuple::new(py, &shape)?.unbind(),
            shape,
            ..self.with_compressed(py, self.compressed.bind(py).clone())
        })
    }

    /// The fields in the constructor's order: `ArrayParts(*parts.fields())`
    /// is the same parts (the arrays are shared).
    fn fields<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let none = || py.None().into_bound(py);
        let array = |a: &Option<Py<PyArray1<f64>>>| {
            a.as_ref()
                .map_or_else(none, |a| a.bind(py).clone().into_any())
        };
        PyTuple::new(
            py,
            [
                self.dtype.name().into_pyobject(py)?.into_any(),
                self.shape_tuple.bind(py).clone().into_any(),
                self.compressed.bind(py).clone().into_any(),
                self.stream_starts.bind(py).clone().into_any(),
                self.stream_nbytes.bind(py).clone().into_any(),
                array(&self.stream_offsets),
                array(&self.stream_gains),
                self.level.into_pyobject(py)?.into_any(),
            ],
        )
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

/// Read borrows of an [`ArrayParts`]' numpy arrays, held while the core
/// reads them through [`PartsBorrow::parts`].
pub(crate) struct PartsBorrow<'py> {
    of: &'py ArrayParts,
    compressed: PyReadonlyArray1<'py, u8>,
    counts: [PyReadonlyArray1<'py, i64>; 2],
    scales: [Option<PyReadonlyArray1<'py, f64>>; 2],
}

pub(crate) fn read_borrow<'py, T: numpy::Element>(
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

/// The values of a C-contiguous, aligned numpy array and its shape; `what`
/// names the array in the error when it is not.
pub(crate) fn nd_slice<'a, T: numpy::Element>(
    arr: &'a PyReadonlyArrayDyn<'_, T>,
    what: &str,
) -> PyResult<(&'a [T], Vec<usize>)> {
    let values = arr
        .as_slice()
        .map_err(|_| PyValueError::new_err(format!("{what} must be C-contiguous and aligned")))?;
    Ok((values, arr.shape().to_vec()))
}

/// Samples per stream of an array of `shape` (its last axis; 1 for a 0-D
/// array, and at least 1 so an empty array divides into no streams).
pub(crate) fn stream_size(shape: &[usize]) -> usize {
    shape.last().copied().unwrap_or(1).max(1)
}

pub(crate) fn contiguous(name: &str) -> PyErr {
    PyValueError::new_err(format!("{name} must be a contiguous 1-D array"))
}

pub(crate) fn float_slice<'a>(
    array: &'a Option<PyReadonlyArray1<'_, f64>>,
    name: &str,
) -> PyResult<Option<&'a [f64]>> {
    array
        .as_ref()
        .map(|a| a.as_slice().map_err(|_| contiguous(name)))
        .transpose()
}

/// An int64 table as the core's unsigned counts: the same memory, once no
/// value is negative.
pub(crate) fn counts_slice<'a>(
    array: &'a PyReadonlyArray1<'_, i64>,
    name: &str,
) -> PyResult<&'a [u64]> {
    let values = array.as_slice().map_err(|_| contiguous(name))?;
    if let Some(v) = values.iter().find(|&&v| v < 0) {
        return Err(CorruptDataError::new_err(format!(
            "{name} holds a negative value ({v})"
        )));
    }
    Ok(bytemuck::cast_slice(values))
}

impl ArrayParts {
    /// Borrows the numpy arrays for reading.
    pub(crate) fn borrow<'py>(&'py self, py: Python<'py>) -> PyResult<PartsBorrow<'py>> {
        let scale = |a: &Option<Py<PyArray1<f64>>>, name| {
            a.as_ref().map(|a| read_borrow(a, py, name)).transpose()
        };
        Ok(PartsBorrow {
            of: self,
            compressed: read_borrow(&self.compressed, py, "compressed")?,
            counts: [
                read_borrow(&self.stream_starts, py, "stream_starts")?,
                read_borrow(&self.stream_nbytes, py, "stream_nbytes")?,
            ],
            scales: [
                scale(&self.stream_offsets, "stream_offsets")?,
                scale(&self.stream_gains, "stream_gains")?,
            ],
        })
    }

    /// Parts the core made, handed to Python without copying the bytes.
    pub(crate) fn from_parts(py: Python<'_>, parts: FlacArrayParts) -> PyResult<Self> {
        let counts = |v: Vec<u64>| {
            // values from the core are counts of bytes held in memory
            let v: Vec<i64> = v.into_iter().map(|x| x as i64).collect();
            PyArray1::from_vec(py, v).unbind()
        };
        let floats = |v: Option<Vec<f64>>| v.map(|v| PyArray1::from_vec(py, v).unbind());
        Ok(ArrayParts {
            dtype: parts.dtype,
            shape_tuple: PyTuple::new(py, &parts.shape)?.unbind(),
            shape: parts.shape,
            compressed: PyArray1::from_vec(py, parts.compressed).unbind(),
            stream_starts: counts(parts.stream_starts),
            stream_nbytes: counts(parts.stream_nbytes),
            stream_offsets: floats(parts.stream_offsets),
            stream_gains: floats(parts.stream_gains),
            level: parts.level,
        })
    }
}

impl PartsBorrow<'_> {
    /// The record the core reads, in the numpy arrays' memory (the byte
    /// tables are checked not to be negative; nothing else is checked).
    pub(crate) fn parts(&self) -> PyResult<FlacArrayPartsRef<'_>> {
        let [starts, nbytes] = &self.counts;
        let [offsets, gains] = &self.scales;
        Ok(FlacArrayPartsRef {
            dtype: self.of.dtype,
            shape: &self.of.shape,
            compressed: self
                .compressed
                .as_slice()
                .map_err(|_| contiguous("compressed"))?,
            stream_starts: counts_slice(starts, "stream_starts")?,
            stream_nbytes: counts_slice(nbytes, "stream_nbytes")?,
            stream_offsets: float_slice(offsets, "stream_offsets")?,
            stream_gains: float_slice(gains, "stream_gains")?,
            level: self.of.level,
        })
    }

    /// The parts checked as a view.
    pub(crate) fn view(&self) -> PyResult<FlacArrayRef<'_>> {
        FlacArrayRef::new(self.parts()?).map_err(to_py)
    }
}

/// Hands an array's parts to Python without copying the bytes.
pub(crate) fn parts_object(py: Python<'_>, array: FlacArray) -> PyResult<ArrayParts> {
    ArrayParts::from_parts(py, array.into_parts())
}

/// A keep mask as (flat C-order flags, shape).
pub(crate) type KeepMask = (Vec<bool>, Vec<usize>);

pub(crate) fn keep_mask(keep: Option<PyReadonlyArrayDyn<'_, bool>>) -> PyResult<Option<KeepMask>> {
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

pub(crate) fn keep_ref(keep: &Option<KeepMask>) -> Option<(&[bool], &[usize])> {
    keep.as_ref().map(|(f, s)| (f.as_slice(), s.as_slice()))
}
