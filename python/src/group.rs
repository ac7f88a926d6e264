//! The group format's rules (HDF5 and zarr groups), for the Python
//! backends that move the bytes.

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArrayDyn};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use flacarray::container::{self, GroupDescription};
use flacarray::DType;

use crate::errors::to_py;
use crate::parts::{contiguous, float_slice, keep_mask, keep_ref, ArrayParts};

pub(crate) fn parse_description(description: &str) -> PyResult<GroupDescription> {
    serde_json::from_str(description)
        .map_err(|e| PyValueError::new_err(format!("bad group description: {e}")))
}

/// Validates a group description (JSON: attributes, starts_attributes,
/// arrays) against the format rules. Returns a dict with the layout:
/// dtype, shape, stored_leading, version, level.
#[pyfunction]
pub(crate) fn describe_group<'py>(
    py: Python<'py>,
    description: &str,
) -> PyResult<Bound<'py, PyAny>> {
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
pub(crate) fn plan_group_read<'py>(
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
        starts
            .as_slice()
            .map_err(|_| contiguous(container::STARTS))?,
        nbytes
            .as_slice()
            .map_err(|_| contiguous(container::NBYTES))?,
        float_slice(&offsets, container::OFFSETS)?,
        float_slice(&gains, container::GAINS)?,
        keep_ref(&keep),
    )
    .map_err(to_py)?;
    let flat: Vec<i64> = plan
        .runs
        .iter()
        .flat_map(|&(a, b)| [a as i64, b as i64])
        .collect();
    let runs = PyArray1::from_vec(py, flat).reshape([plan.runs.len(), 2])?;
    let parts = ArrayParts::from_parts(py, plan.parts)?;
    let parts = Bound::new(py, parts)?;
    let channels = plan.channels.into_pyobject(py)?.into_any();
    PyTuple::new(py, [runs.into_any(), parts.into_any(), channels])
}

/// Checks that every stream of `parts` (read from a group) has the FLAC
/// channel count the group's layout requires (`channels`, from
/// `plan_group_read`; None: any).
#[pyfunction]
#[pyo3(signature = (parts, channels=None))]
pub(crate) fn check_stream_channels(
    py: Python<'_>,
    parts: &Bound<'_, ArrayParts>,
    channels: Option<u32>,
) -> PyResult<()> {
    let borrow = parts.get().borrow(py)?;
    container::check_stream_channels(&borrow.view()?, channels).map_err(to_py)
}

/// One array a writer creates in a group (see
/// `flacarray::container::PlannedArray`): its name, the part of the
/// array's record it holds (`field`, an `ArrayParts` attribute), its numpy
/// dtype, shape and zarr chunk shape, and its attributes as JSON.
#[pyclass(frozen, get_all, module = "flacarray._core")]
pub(crate) struct PlannedArray {
    name: &'static str,
    field: &'static str,
    dtype: &'static str,
    shape: Vec<u64>,
    chunks: Vec<u64>,
    attributes: String,
}

/// The arrays a group holds for an array of `dtype` and `shape` whose
/// streams take `compressed_len` bytes (for an array spread over MPI
/// ranks: the whole array's), in the order they are written. Raises
/// ValueError for a type the group format does not hold.
#[pyfunction]
pub(crate) fn plan_group_arrays(
    dtype: &str,
    shape: Vec<usize>,
    compressed_len: u64,
) -> PyResult<Vec<PlannedArray>> {
    let dtype = DType::from_name(dtype).map_err(to_py)?;
    let planned = container::plan_arrays(dtype, &shape, compressed_len).map_err(to_py)?;
    Ok(planned
        .into_iter()
        .map(|p| PlannedArray {
            name: p.name,
            field: p.field.name(),
            dtype: p.dtype,
            shape: p.shape,
            chunks: p.chunks,
            attributes: serde_json::Value::Object(p.attributes).to_string(),
        })
        .collect())
}

/// The group attributes (JSON) for the array whose parts are `parts` (for
/// an array spread over MPI ranks: the whole array's type, shape and level
/// with every rank's tables in order; `compressed` is not read).
#[pyfunction]
pub(crate) fn group_attributes(py: Python<'_>, parts: &Bound<'_, ArrayParts>) -> PyResult<String> {
    let borrow = parts.get().borrow(py)?;
    let attrs = container::group_attributes(&borrow.parts()?).map_err(to_py)?;
    Ok(serde_json::Value::Object(attrs).to_string())
}

/// Resolves a group from its attributes (JSON) and the names of the arrays
/// present (format and staged names): returns `(attributes JSON, {format
/// name: stored name}, pending)`; see `flacarray::container::resolve_group`.
#[pyfunction]
pub(crate) fn resolve_group<'py>(
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
pub(crate) fn commit_record(arrays: Vec<String>, attributes: &str) -> PyResult<String> {
    let attributes: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(attributes)
            .map_err(|e| PyValueError::new_err(format!("bad attributes: {e}")))?;
    let names: Vec<&str> = arrays.iter().map(String::as_str).collect();
    Ok(container::commit_record(&names, &attributes))
}
