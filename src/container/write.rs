//! Write plans: every array a writer creates in a group (name, part of
//! the record, type, shape, chunks, attributes) and the group's
//! attributes, as the reference reads them. Every writer (zarrs here;
//! h5py, zarr-python and the MPI writers in Python) executes a plan.

use serde_json::{json, Map, Value};

use super::{
    ATTR_CHANNELS, ATTR_DIGEST, ATTR_DTYPE, ATTR_LEVEL, ATTR_SHAPE, ATTR_SOFTWARE,
    ATTR_STREAM_SIZE, ATTR_VERSION, BYTES_CHUNK, COMPRESSED, FORMAT_VERSION, GAINS, NBYTES,
    OFFSETS, STARTS,
};
use crate::array::{DType, FlacArrayPartsRef};
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

/// Which part of an array's record ([`crate::Parts`]) a group array
/// stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `compressed`: every stream's FLAC bytes.
    Compressed,
    /// `stream_starts`.
    StreamStarts,
    /// `stream_nbytes` (stored as `stream_bytes`).
    StreamNbytes,
    /// `stream_offsets` (float data).
    StreamOffsets,
    /// `stream_gains` (float data).
    StreamGains,
}

/// The values of one part of a record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValues<'a> {
    /// The FLAC bytes.
    Bytes(&'a [u8]),
    /// Starts or byte counts.
    Counts(&'a [u64]),
    /// Offsets or gains.
    Floats(&'a [f64]),
}

impl Field {
    /// The record's name for this part (the same in Rust and Python).
    pub fn name(self) -> &'static str {
        match self {
            Field::Compressed => "compressed",
            Field::StreamStarts => "stream_starts",
            Field::StreamNbytes => "stream_nbytes",
            Field::StreamOffsets => "stream_offsets",
            Field::StreamGains => "stream_gains",
        }
    }

    /// This part of `parts` (`None`: offsets or gains of integer data).
    pub fn values<'a>(self, parts: &FlacArrayPartsRef<'a>) -> Option<FieldValues<'a>> {
        Some(match self {
            Field::Compressed => FieldValues::Bytes(parts.compressed),
            Field::StreamStarts => FieldValues::Counts(parts.stream_starts),
            Field::StreamNbytes => FieldValues::Counts(parts.stream_nbytes),
            Field::StreamOffsets => FieldValues::Floats(parts.stream_offsets?),
            Field::StreamGains => FieldValues::Floats(parts.stream_gains?),
        })
    }
}

/// One array a writer creates in a group.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedArray {
    /// Its name in the group.
    pub name: &'static str,
    /// The part of the array's record it holds.
    pub field: Field,
    /// Its element type, as numpy and zarr name it (`uint8`, `int64`,
    /// `float32`, `float64`); values are converted to it.
    pub dtype: &'static str,
    /// Its shape.
    pub shape: Vec<u64>,
    /// Its chunk shape, for containers that chunk (zarr): `compressed` in
    /// pieces of [`BYTES_CHUNK`] so a few streams are read without the
    /// rest, every other array in one chunk (of at least one element: zarr
    /// has no empty chunks).
    pub chunks: Vec<u64>,
    /// Its attributes.
    pub attributes: Map<String, Value>,
}

/// Everything a writer stores for one array: the arrays in the order
/// they are written, and the group attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct WritePlan {
    /// The arrays.
    pub arrays: Vec<PlannedArray>,
    /// The group attributes.
    pub attributes: Map<String, Value>,
}

/// What to write for `parts`, whose streams must already be in format 1's
/// channel layout (see [`crate::FlacArray::to_current_layout`]). Fails if
/// the group format cannot hold the array's type ([`check_group_dtype`]).
pub fn plan_write(parts: &FlacArrayPartsRef<'_>) -> Result<WritePlan> {
    Ok(WritePlan {
        arrays: plan_arrays(parts.dtype, parts.shape, parts.compressed.len() as u64)?,
        attributes: group_attributes(parts)?,
    })
}

/// The arrays a group holds for an array of `dtype` and `shape` whose
/// streams take `compressed_len` bytes (for an array spread over MPI
/// ranks: the whole array's), in the order they are written.
pub fn plan_arrays(
    dtype: DType,
    shape: &[usize],
    compressed_len: u64,
) -> Result<Vec<PlannedArray>> {
    check_group_dtype(dtype)?;
    let stream_size = *shape
        .last()
        .ok_or_else(|| Error::invalid("array must have at least one dimension"))?;
    let lead = stored_leading_shape(shape);
    let one_chunk: Vec<u64> = lead.iter().map(|&d| d.max(1)).collect();
    let table = |name, field, dtype, attributes| PlannedArray {
        name,
        field,
        dtype,
        shape: lead.clone(),
        chunks: one_chunk.clone(),
        attributes,
    };
    let mut starts_attributes = Map::new();
    starts_attributes.insert(ATTR_STREAM_SIZE.into(), json!(stream_size));
    let mut arrays = vec![
        PlannedArray {
            name: COMPRESSED,
            field: Field::Compressed,
            dtype: "uint8",
            shape: vec![compressed_len],
            chunks: vec![BYTES_CHUNK.min(compressed_len).max(1)],
            attributes: Map::new(),
        },
        table(STARTS, Field::StreamStarts, "int64", starts_attributes),
        table(NBYTES, Field::StreamNbytes, "int64", Map::new()),
    ];
    if dtype.is_float() {
        // the reference stores the scales in the data's own float type
        arrays.push(table(
            OFFSETS,
            Field::StreamOffsets,
            dtype.name(),
            Map::new(),
        ));
        arrays.push(table(GAINS, Field::StreamGains, dtype.name(), Map::new()));
    }
    Ok(arrays)
}

/// The group attributes for the array whose record is `parts` (for an
/// array spread over MPI ranks: the whole array's type, shape and level
/// with every rank's tables in order; `compressed` is not read and may be
/// empty). Fails if the group format cannot hold its type
/// ([`check_group_dtype`]).
pub fn group_attributes(parts: &FlacArrayPartsRef<'_>) -> Result<Map<String, Value>> {
    let dtype = parts.dtype;
    check_group_dtype(dtype)?;
    let mut attrs = Map::new();
    attrs.insert(ATTR_VERSION.into(), json!(FORMAT_VERSION));
    attrs.insert(
        ATTR_SOFTWARE.into(),
        json!(format!("flacarray-rs {}", env!("CARGO_PKG_VERSION"))),
    );
    attrs.insert(ATTR_CHANNELS.into(), json!(dtype.channels().to_string()));
    attrs.insert(ATTR_DTYPE.into(), json!(dtype.name()));
    attrs.insert(ATTR_SHAPE.into(), json!(parts.shape));
    attrs.insert(ATTR_LEVEL.into(), json!(parts.level));
    let as_i64 = |v: &[u64]| v.iter().map(|&x| x as i64).collect::<Vec<i64>>();
    let digest = digest::table_digest(
        dtype,
        parts.shape,
        parts.level,
        &as_i64(parts.stream_starts),
        &as_i64(parts.stream_nbytes),
        parts.stream_offsets,
        parts.stream_gains,
    );
    attrs.insert(ATTR_DIGEST.into(), json!(digest));
    Ok(attrs)
}

/// The shape of the per-stream arrays of an array of `shape` (`[1]` for a
/// single 1-D stream, as the reference writes it).
pub fn stored_leading_shape(shape: &[usize]) -> Vec<u64> {
    match &shape[..shape.len().saturating_sub(1)] {
        [] => vec![1],
        leading => leading.iter().map(|&d| d as u64).collect(),
    }
}
