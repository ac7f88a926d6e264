//! Lossless conversion between [`FlacArray`] and a `flacarray.flac` column.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, LargeBinaryArray, StructArray};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};

use super::column::{ArrayFacts, FlacColumn};
use super::extension::{storage_fields, FlacMetadata};
use crate::array::{FlacArray, FlacArrayParts};
use crate::error::{Error, Result};

/// Offsets of a binary array holding the streams back to back, when they
/// already lie that way in the buffer (the usual case).
fn contiguous_offsets(starts: &[u64], nbytes: &[u64], total: usize) -> Option<Vec<i64>> {
    let mut offsets = Vec::with_capacity(starts.len() + 1);
    let mut pos = 0u64;
    offsets.push(0);
    for (&s, &n) in starts.iter().zip(nbytes) {
        if s != pos {
            return None;
        }
        pos += n;
        offsets.push(pos as i64);
    }
    (pos as usize == total).then_some(offsets)
}

fn scale_column(values: Option<Vec<f64>>, rows: usize) -> ArrayRef {
    match values {
        Some(v) => Arc::new(Float64Array::from(v)),
        None => Arc::new(Float64Array::new(
            ScalarBuffer::from(vec![0.0; rows]),
            Some(NullBuffer::new_null(rows)),
        )),
    }
}

impl FlacArray {
    /// Converts to a `flacarray.flac` column, moving the compressed bytes
    /// into the Arrow buffer without copying them (when the streams lie
    /// back to back, as they do after compression).
    pub fn into_arrow(self) -> Result<FlacColumn> {
        // 64-bit data read from the reference's format 0 has 1-channel
        // streams; the column always holds the 2-channel layout.
        let normalized = match self.to_format1()? {
            std::borrow::Cow::Owned(array) => Some(array),
            std::borrow::Cow::Borrowed(_) => None,
        };
        let this = normalized.unwrap_or(self);
        let metadata = FlacMetadata::new(this.dtype());
        let facts = ArrayFacts {
            leading_shape: Some(this.leading_shape().iter().map(|&d| d as u64).collect()),
            level: Some(this.level()),
        };
        let rows = this.nstreams();
        let parts = this.into_parts();
        let (offsets, bytes) =
            match contiguous_offsets(&parts.starts, &parts.nbytes, parts.compressed.len()) {
                Some(offsets) => (offsets, parts.compressed),
                None => {
                    let mut bytes = Vec::new();
                    let mut offsets = vec![0i64];
                    for (&s, &n) in parts.starts.iter().zip(&parts.nbytes) {
                        bytes.extend_from_slice(&parts.compressed[s as usize..(s + n) as usize]);
                        offsets.push(bytes.len() as i64);
                    }
                    (offsets, bytes)
                }
            };
        let streams = LargeBinaryArray::new(
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            Buffer::from_vec(bytes),
            None,
        );
        let storage = StructArray::try_new(
            storage_fields(),
            vec![
                Arc::new(streams) as ArrayRef,
                scale_column(parts.offsets, rows),
                scale_column(parts.gains, rows),
            ],
            None,
        )
        .map_err(super::arrow_err)?;
        Ok(FlacColumn::new(metadata, storage)?.with_facts(facts))
    }

    /// Converts a copy of this array to a `flacarray.flac` column.
    pub fn to_arrow(&self) -> Result<FlacColumn> {
        self.clone().into_arrow()
    }

    /// Rebuilds an array from a `flacarray.flac` column that holds a whole
    /// array: every row present and of one length. The leading shape comes
    /// from the column's field metadata, else it is `[rows]`.
    pub fn from_arrow(column: &FlacColumn) -> Result<FlacArray> {
        let leading = match column.leading_shape() {
            Some(shape) => shape.iter().map(|&d| d as usize).collect(),
            None => vec![column.len()],
        };
        FlacArray::from_arrow_parts(std::slice::from_ref(column), leading)
    }

    /// Rebuilds an array from consecutive pieces of `flacarray.flac`
    /// columns of one dtype (record batches of a file, say), giving it
    /// `leading` as the leading shape. Every row's stream must hold the same
    /// number of samples (read from the streams themselves).
    pub fn from_arrow_parts(columns: &[FlacColumn], leading: Vec<usize>) -> Result<FlacArray> {
        let first = columns
            .first()
            .ok_or_else(|| Error::invalid("no flacarray.flac column given"))?;
        let dtype = first.dtype();
        if let Some(other) = columns.iter().find(|c| c.dtype() != dtype) {
            return Err(Error::invalid(format!(
                "column pieces hold different dtypes ({dtype} and {})",
                other.dtype()
            )));
        }
        let rows: usize = columns.iter().map(FlacColumn::len).sum();
        let streams = leading.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if streams != Some(rows) {
            return Err(Error::corrupt(format!(
                "leading shape {leading:?} does not match the column's {rows} rows"
            )));
        }
        let claimed = first.metadata().legacy().and_then(|l| l.stream_size);
        let mut stream_size: Option<u64> = claimed;
        let mut compressed = Vec::new();
        let mut starts = Vec::with_capacity(rows);
        let mut nbytes = Vec::with_capacity(rows);
        let mut offsets = Vec::with_capacity(rows);
        let mut gains = Vec::with_capacity(rows);
        let mut row = 0;
        for column in columns {
            for (bytes, scale) in column.streams().into_iter().zip(column.scales()?) {
                let bytes = bytes.ok_or_else(|| {
                    Error::invalid(format!("row {row} is null: a FlacArray has every stream"))
                })?;
                let length = row_samples(bytes, row)?;
                match stream_size {
                    None => stream_size = Some(length),
                    Some(n) if n != length && claimed.is_none() => {
                        return Err(Error::invalid(format!(
                            "rows have different lengths ({n} and {length} at row {row}): \
                             decompress the column as lists instead"
                        )))
                    }
                    _ => {}
                }
                starts.push(compressed.len() as u64);
                nbytes.push(bytes.len() as u64);
                compressed.extend_from_slice(bytes);
                if dtype.is_float() {
                    let s = scale
                        .ok_or_else(|| Error::corrupt(format!("row {row} has no offset/gain")))?;
                    offsets.push(s.offset);
                    gains.push(s.gain);
                }
                row += 1;
            }
        }
        let stream_size = stream_size.ok_or_else(|| {
            Error::invalid("a column without rows has no stream length: nothing to rebuild")
        })?;
        let mut shape = leading;
        shape.push(usize::try_from(stream_size).map_err(|_| Error::corrupt("impossible length"))?);
        let float = dtype.is_float();
        FlacArray::from_parts(FlacArrayParts {
            dtype,
            shape,
            compressed,
            starts,
            nbytes,
            offsets: float.then_some(offsets),
            gains: float.then_some(gains),
            level: first.level().unwrap_or(5),
        })
    }
}

/// A row's sample count, from its stream's STREAMINFO.
fn row_samples(bytes: &[u8], row: usize) -> Result<u64> {
    if bytes.is_empty() {
        return Err(Error::invalid(format!(
            "row {row} is empty: a FlacArray's streams hold at least one sample"
        )));
    }
    let info = crate::codec::stream_info(bytes)
        .map_err(|e| Error::corrupt(format!("row {row}: {}", e.message())))?;
    if info.total_samples == 0 {
        return Err(Error::corrupt(format!(
            "row {row}: the stream does not record its length"
        )));
    }
    Ok(info.total_samples)
}
