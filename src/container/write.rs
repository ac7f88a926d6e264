//! What a writer stores besides the streams: the group's attributes and
//! the tables' shapes, as the reference reads them.

use serde_json::{json, Map, Value};

use super::{
    ATTR_CHANNELS, ATTR_DIGEST, ATTR_DTYPE, ATTR_LEVEL, ATTR_SHAPE, ATTR_SOFTWARE,
    ATTR_STREAM_SIZE, ATTR_VERSION, FORMAT_VERSION,
};
use crate::array::{DType, FlacArrayRef};
use crate::digest;
use crate::error::{Error, Result};

/// Checks that the group format can hold arrays of `dtype`: the reference's
/// format stores four element types; the others are refused with an error
/// naming the containers that take them.
pub fn check_group_dtype(dtype: DType) -> Result<()> {
    if dtype.in_group_format() {
        return Ok(());
    }
    Err(Error::unsupported(format!(
        "an HDF5 or zarr group holds {} (the reference package's format), not {dtype}; \
         write {dtype} arrays to Parquet, an Arrow or Polars column, or a Zarr v3 array \
         with the flacarray.flac codec",
        DType::group_format_names("and")
    )))
}

/// The group attributes to write for `array` (compressed at `level`),
/// whose per-stream tables are written as they are. Its streams must
/// already be in format 1's channel layout (see
/// [`crate::FlacArray::to_current_layout`]). Fails if the group format cannot
/// hold the array's type ([`check_group_dtype`]).
pub fn group_attributes(array: &FlacArrayRef<'_>, level: u32) -> Result<Map<String, Value>> {
    let as_i64 = |v: &[u64]| v.iter().map(|&x| x as i64).collect::<Vec<i64>>();
    let tables = GroupTables {
        starts: &as_i64(array.stream_starts()),
        nbytes: &as_i64(array.stream_nbytes()),
        offsets: array.stream_offsets(),
        gains: array.stream_gains(),
    };
    group_attributes_for(array.dtype(), array.shape(), level, &tables)
}

/// The per-stream tables of a whole group as they are stored (for an array
/// spread over MPI ranks: every rank's, in order), for its digest.
#[derive(Debug, Clone, Copy)]
pub struct GroupTables<'a> {
    /// Each stream's start in `compressed`.
    pub starts: &'a [i64],
    /// Each stream's byte count.
    pub nbytes: &'a [i64],
    /// Float data: the offsets.
    pub offsets: Option<&'a [f64]>,
    /// Float data: the gains.
    pub gains: Option<&'a [f64]>,
}

/// The group attributes for an array of `dtype` and `shape` whose tables
/// are `tables` (for example a whole array whose streams are spread over
/// MPI ranks). Fails if the group format cannot hold `dtype`
/// ([`check_group_dtype`]).
pub fn group_attributes_for(
    dtype: DType,
    shape: &[usize],
    level: u32,
    tables: &GroupTables<'_>,
) -> Result<Map<String, Value>> {
    check_group_dtype(dtype)?;
    let mut attrs = Map::new();
    attrs.insert(ATTR_VERSION.into(), json!(FORMAT_VERSION));
    attrs.insert(
        ATTR_SOFTWARE.into(),
        json!(format!("flacarray-rs {}", env!("CARGO_PKG_VERSION"))),
    );
    attrs.insert(ATTR_CHANNELS.into(), json!(dtype.channels().to_string()));
    attrs.insert(ATTR_DTYPE.into(), json!(dtype.name()));
    attrs.insert(ATTR_SHAPE.into(), json!(shape));
    attrs.insert(ATTR_LEVEL.into(), json!(level));
    let digest = digest::table_digest(
        dtype,
        shape,
        level,
        tables.starts,
        tables.nbytes,
        tables.offsets,
        tables.gains,
    );
    attrs.insert(ATTR_DIGEST.into(), json!(digest));
    Ok(attrs)
}

/// The attributes of `stream_starts` for `array`.
pub fn starts_attributes(array: &FlacArrayRef<'_>) -> Map<String, Value> {
    starts_attributes_for(array.stream_size())
}

/// The attributes of `stream_starts` for streams of `stream_size` samples.
pub fn starts_attributes_for(stream_size: usize) -> Map<String, Value> {
    let mut attrs = Map::new();
    attrs.insert(ATTR_STREAM_SIZE.into(), json!(stream_size));
    attrs
}

/// The shape of the per-stream arrays written for `array` (`[1]` for a
/// single 1-D stream, as the reference writes it).
pub fn stored_leading_shape(array: &FlacArrayRef<'_>) -> Vec<u64> {
    stored_leading_shape_for(array.shape())
}

/// [`stored_leading_shape`] for an array of `shape`.
pub fn stored_leading_shape_for(shape: &[usize]) -> Vec<u64> {
    match &shape[..shape.len().saturating_sub(1)] {
        [] => vec![1],
        leading => leading.iter().map(|&d| d as u64).collect(),
    }
}
