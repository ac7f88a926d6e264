//! The group format's rules (HDF5 and zarr groups), for the Python
//! backends that move the bytes.

use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArrayDyn};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use flacarray::container::{self, GroupDescription};

use crate::errors::to_py;
use crate::parts::{as_i64, contiguous, float_slice, keep_mask, keep_ref, ArrayParts};

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
    let parts = ArrayParts {
        dtype: layout.dtype,
        shape: plan.shape,
        compressed: PyArray1::<u8>::zeros(py, 0, false).unbind(),
        stream_starts: PyArray1::from_vec(py, as_i64(plan.starts)).unbind(),
        stream_nbytes: PyArray1::from_vec(py, as_i64(plan.nbytes)).unbind(),
        stream_offsets: plan.offsets.map(|v| PyArray1::from_vec(py, v).unbind()),
        stream_gains: plan.gains.map(|v| PyArray1::from_vec(py, v).unbind()),
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
pub(crate) fn check_stream_channels(
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
pub(crate) fn group_layout<'py>(
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
        None => container::group_attributes(&view, borrowed.level).map_err(to_py)?,
        Some((starts, nbytes, offsets, gains)) => {
            let tables = container::GroupTables {
                starts: starts
                    .as_slice()
                    .map_err(|_| contiguous(container::STARTS))?,
                nbytes: nbytes
                    .as_slice()
                    .map_err(|_| contiguous(container::NBYTES))?,
                offsets: float_slice(offsets, container::OFFSETS)?,
                gains: float_slice(gains, container::GAINS)?,
            };
            container::group_attributes_for(view.dtype(), &shape, borrowed.level, &tables)
                .map_err(to_py)?
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

/// A whole group's per-stream tables: starts, byte counts, offsets, gains.
pub(crate) type GlobalTables<'py> = (
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, i64>,
    Option<PyReadonlyArray1<'py, f64>>,
    Option<PyReadonlyArray1<'py, f64>>,
);
