//! flacarray groups through zarrs (a path written and read in Rust).

use numpy::PyReadonlyArrayDyn;
use pyo3::prelude::*;

use flacarray::IfExists;

use crate::errors::to_py;
use crate::parts::{keep_mask, keep_ref, parts_object, ArrayParts};

/// Writes an array (given as its parts) as a zarr v3 group at `path`; an
/// existing group is replaced only with `overwrite`.
#[pyfunction]
#[pyo3(signature = (path, parts, overwrite=false))]
pub(crate) fn write_zarr(
    py: Python<'_>,
    path: std::path::PathBuf,
    parts: &Bound<'_, ArrayParts>,
    overwrite: bool,
) -> PyResult<()> {
    let borrow = parts.get().borrow(py)?;
    let view = borrow.view()?;
    let mode = IfExists::from_flag(overwrite);
    py.detach(|| flacarray::zarr::write_view(&path, &view, mode))
        .map_err(to_py)
}

/// Reads an array from a zarr group at `path`; with `keep` (a boolean mask
/// of the leading shape), only those streams.
#[pyfunction]
#[pyo3(signature = (path, keep=None))]
pub(crate) fn read_zarr<'py>(
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
