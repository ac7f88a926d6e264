//! Python bindings (`flacarray._core`), built by maturin from this crate;
//! the core crate at the repository root knows nothing of Python. They
//! move numpy buffers in and out without copying the samples or the
//! compressed bytes, and release the GIL while (de)compressing.
//! The user-facing Python API lives in `python/flacarray/`.

use pyo3::prelude::*;

use flacarray::{container, DType};

mod array;
mod errors;
mod group;
mod parquet;
mod parts;
mod polars_plugin;
#[cfg(feature = "test-hooks")]
mod test_hooks;
mod zarr_codec;
mod zarrs;

/// The native core of the `flacarray` Python package.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<parts::ArrayParts>()?;
    m.add_function(wrap_pyfunction!(array::compress, m)?)?;
    m.add_function(wrap_pyfunction!(array::decompress_into, m)?)?;
    m.add_function(wrap_pyfunction!(array::validate, m)?)?;
    m.add_function(wrap_pyfunction!(array::to_current_layout, m)?)?;
    m.add_function(wrap_pyfunction!(array::to_column_layout, m)?)?;
    m.add_function(wrap_pyfunction!(array::same_streams, m)?)?;
    m.add_function(wrap_pyfunction!(group::describe_group, m)?)?;
    m.add_function(wrap_pyfunction!(group::plan_group_read, m)?)?;
    m.add_class::<group::PlannedArray>()?;
    m.add_function(wrap_pyfunction!(group::plan_group_arrays, m)?)?;
    m.add_function(wrap_pyfunction!(group::group_attributes, m)?)?;
    m.add_function(wrap_pyfunction!(group::check_stream_channels, m)?)?;
    m.add_function(wrap_pyfunction!(group::resolve_group, m)?)?;
    m.add_function(wrap_pyfunction!(parquet::column_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(parquet::frame_row_values, m)?)?;
    m.add_function(wrap_pyfunction!(array::quantize, m)?)?;
    m.add_function(wrap_pyfunction!(array::restore, m)?)?;
    m.add_function(wrap_pyfunction!(parquet::check_column, m)?)?;
    m.add_function(wrap_pyfunction!(group::commit_record, m)?)?;
    m.add_function(wrap_pyfunction!(parquet::parse_flac_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(parquet::flac_metadata_json, m)?)?;
    m.add_function(wrap_pyfunction!(array::stream_info, m)?)?;
    m.add_function(wrap_pyfunction!(array::dtype_from_channels, m)?)?;
    m.add_function(wrap_pyfunction!(array::stream_lengths, m)?)?;
    m.add_function(wrap_pyfunction!(parquet::write_parquet, m)?)?;
    m.add_function(wrap_pyfunction!(parquet::write_parquet_parts, m)?)?;
    m.add_function(wrap_pyfunction!(zarr_codec::check_chunk_codec, m)?)?;
    m.add_function(wrap_pyfunction!(zarr_codec::encode_chunk, m)?)?;
    m.add_function(wrap_pyfunction!(zarr_codec::decode_chunk, m)?)?;
    m.add_function(wrap_pyfunction!(array::verify_stream, m)?)?;
    m.add_function(wrap_pyfunction!(parquet::parquet_leading_shape, m)?)?;
    m.add_function(wrap_pyfunction!(parquet::read_parquet, m)?)?;
    m.add_function(wrap_pyfunction!(zarrs::write_zarr, m)?)?;
    m.add_function(wrap_pyfunction!(zarrs::read_zarr, m)?)?;
    #[cfg(feature = "test-hooks")]
    for hook in [
        wrap_pyfunction!(test_hooks::decode_stream, m)?,
        wrap_pyfunction!(test_hooks::zarrs_write_array, m)?,
        wrap_pyfunction!(test_hooks::zarrs_read_array, m)?,
    ] {
        m.add_function(hook)?;
    }
    m.add(
        "CorruptDataError",
        m.py().get_type::<errors::CorruptDataError>(),
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    let dtypes: Vec<&str> = DType::ALL.iter().map(|d| d.name()).collect();
    m.add("DTYPES", dtypes)?;
    m.add("GROUP_ARRAYS", container::ARRAYS.to_vec())?;
    m.add("GROUP_ATTRIBUTES", container::GROUP_ATTRIBUTES.to_vec())?;
    m.add("BYTES_CHUNK", container::BYTES_CHUNK)?;
    m.add("VERSION_ATTRIBUTE", container::ATTR_VERSION)?;
    m.add("COMMIT_ATTRIBUTE", container::ATTR_COMMIT)?;
    m.add("STAGED_PREFIX", container::STAGED_PREFIX)?;
    Ok(())
}
