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

/// Adds the listed `#[pyfunction]`s of one module to the Python module.
macro_rules! add_functions {
    ($m:ident, $module:ident: $($function:ident),+ $(,)?) => {
        $($m.add_function(wrap_pyfunction!($module::$function, $m)?)?;)+
    };
}

/// The native core of the `flacarray` Python package.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<parts::ArrayParts>()?;
    m.add_class::<group::PlannedArray>()?;
    add_functions!(m, array: compress, decompress_into, validate, to_current_layout,
        to_column_layout, same_streams, quantize, restore, stream_info, dtype_from_channels,
        stream_lengths, verify_stream);
    add_functions!(m, group: describe_group, plan_group_read, plan_group_arrays,
        group_attributes, check_stream_channels, resolve_group, commit_record);
    add_functions!(m, parquet: column_metadata, frame_row_values, check_column,
        parse_flac_metadata, flac_metadata_json, write_parquet, write_parquet_parts,
        parquet_leading_shape, read_parquet);
    add_functions!(m, zarr_codec: check_chunk_codec, encode_chunk, decode_chunk);
    add_functions!(m, zarrs: write_zarr, read_zarr);
    #[cfg(feature = "test-hooks")]
    add_functions!(m, test_hooks: decode_stream, zarrs_write_array, zarrs_read_array);
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
