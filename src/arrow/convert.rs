//! Lossless conversion between [`FlacArray`] and a `flacarray.flac` column.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, LargeBinaryArray, StructArray};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};

use super::column::{ArrayFacts, FlacColumn};
use super::extension::{storage_fields, FlacMetadata};
use crate::array::{FlacArray, FlacArrayParts, FlacArrayRef, Parts};
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

/// The column of an array in format 1's stream layout whose compressed
/// bytes are `bytes`: one-frame streams as frame rows (layout 3), the
/// others as they are; `bytes` shared as the binary values when there are
/// no frame rows and the streams lie back to back (as they do after
/// compression), else gathered.
fn build_column(view: &FlacArrayRef<'_>, bytes: Buffer) -> Result<FlacColumn> {
    let metadata = FlacMetadata::new(view.dtype());
    let facts = ArrayFacts::whole_array(view.parts());
    let rows = view.nstreams();
    let (starts, nbytes) = (view.stream_starts(), view.stream_nbytes());
    let gathered = |(values, positions): (Vec<u8>, Vec<i64>)| (positions, Buffer::from_vec(values));
    let (offsets_buffer, values) = match view.frame_row_values()? {
        Some(rows) => gathered(rows),
        None => match contiguous_offsets(starts, nbytes, bytes.len()) {
            Some(positions) => (positions, bytes),
            None => gathered(view.stored_rows()?),
        },
    };
    let streams = LargeBinaryArray::new(
        OffsetBuffer::new(ScalarBuffer::from(offsets_buffer)),
        values,
        None,
    );
    let storage = StructArray::try_new(
        storage_fields(),
        vec![
            Arc::new(streams) as ArrayRef,
            scale_column(view.stream_offsets().map(<[f64]>::to_vec), rows),
            scale_column(view.stream_gains().map(<[f64]>::to_vec), rows),
        ],
        None,
    )
    .map_err(super::arrow_err)?;
    Ok(FlacColumn::new(metadata, storage)?.with_facts(facts))
}

impl FlacArrayRef<'_> {
    /// The binary values of this view's column when some whole stream fits
    /// one frame and becomes a frame row (layout 3): every row's bytes
    /// back to back, and the `rows + 1` offsets. `None` when the streams
    /// are the rows as they are (longer than one frame, or frame rows
    /// already, as read from a column), so that the compressed bytes can be
    /// used as they are (streams longer than the largest block are never
    /// frame rows: nothing is read then).
    pub fn frame_row_values(&self) -> Result<Option<(Vec<u8>, Vec<i64>)>> {
        if self.stream_size() > usize::from(u16::MAX) {
            return Ok(None);
        }
        for i in 0..self.nstreams() {
            let bytes = self.stream_bytes(i)?;
            if crate::codec::is_frame_row(bytes) {
                continue;
            }
            let info = crate::codec::stream_info(bytes)?;
            if info.total_samples <= u64::from(info.max_block_size) {
                return self.stored_rows().map(Some);
            }
        }
        Ok(None)
    }

    /// The `flacarray.flac` column of this view (recording its level): the
    /// bytes are copied once into the Arrow buffer (see
    /// [`FlacArrayRef::to_arrow_shared`] to share a buffer instead).
    /// Streams not in format 1's layout are brought to it first.
    pub fn to_arrow(&self) -> Result<FlacColumn> {
        match self.to_column_layout()? {
            Some(array) => array.into_arrow(),
            None => build_column(self, Buffer::from(self.compressed())),
        }
    }

    /// Like [`FlacArrayRef::to_arrow`], but the column's binary values share
    /// `bytes`, an Arrow buffer holding exactly this view's compressed bytes
    /// (the same memory), so nothing is copied when the streams lie back to
    /// back and need no conversion.
    ///
    /// ```
    /// use arrow_buffer::Buffer;
    /// use flacarray::{CompressOptions, FlacArray, FlacArrayPartsRef, FlacArrayRef};
    ///
    /// let fa = FlacArray::compress(&[1i32, 5, 2, 8, 3, 9], &[2, 3], &CompressOptions::default())?;
    /// let bytes = Buffer::from(fa.compressed());
    /// let view = FlacArrayRef::new(FlacArrayPartsRef {
    ///     compressed: bytes.as_slice(),
    ///     ..fa.parts()
    /// })?;
    /// let column = view.to_arrow_shared(&bytes)?;
    /// assert_eq!(FlacArray::from_arrow(&column)?.to_vec::<i32>()?, vec![1, 5, 2, 8, 3, 9]);
    /// # Ok::<(), flacarray::Error>(())
    /// ```
    pub fn to_arrow_shared(&self, bytes: &Buffer) -> Result<FlacColumn> {
        let same =
            bytes.as_ptr() == self.compressed().as_ptr() && bytes.len() == self.compressed().len();
        if !same {
            return Err(Error::invalid(
                "to_arrow_shared: the buffer must hold this view's compressed bytes",
            ));
        }
        match self.to_column_layout()? {
            Some(array) => array.into_arrow(),
            None => build_column(self, bytes.clone()),
        }
    }
}

impl FlacArray {
    /// Converts to a `flacarray.flac` column, moving the compressed bytes
    /// into the Arrow buffer without copying them (when the streams lie
    /// back to back, as they do after compression).
    pub fn into_arrow(self) -> Result<FlacColumn> {
        // 64-bit data read from the reference's format 0 has 1-channel
        // streams; the column always holds the 2-channel layout.
        let this = match self.view().to_column_layout()? {
            Some(array) => array,
            None => self,
        };
        let mut parts = this.into_parts();
        let bytes = Buffer::from_vec(std::mem::take(&mut parts.compressed));
        let view = FlacArrayRef::new(Parts {
            compressed: bytes.as_slice(),
            ..parts.borrowed()
        })?;
        build_column(&view, bytes.clone())
    }

    /// Converts a copy of this array to a `flacarray.flac` column.
    pub fn to_arrow(&self) -> Result<FlacColumn> {
        self.clone().into_arrow()
    }

    /// Rebuilds an array from a `flacarray.flac` column that holds a whole
    /// array: every row present and of one length. The leading shape comes
    /// from the column's field metadata, else it is `[rows]`; a digest in
    /// the field metadata must match what the column holds.
    pub fn from_arrow(column: &FlacColumn) -> Result<FlacArray> {
        let leading = match column.leading_shape() {
            Some(shape) => shape.iter().map(|&d| d as usize).collect(),
            None => vec![column.len()],
        };
        let array = FlacArray::from_arrow_parts(std::slice::from_ref(column), leading)?;
        array.check_digest(column.facts().digest.as_deref())?;
        Ok(array)
    }

    /// Checks `digest` (a column's [`ArrayFacts::digest`], if any) against
    /// this array's type, shape, level, offsets and gains.
    pub fn check_digest(&self, digest: Option<&str>) -> Result<()> {
        let Some(expected) = digest else {
            return Ok(());
        };
        let actual = super::column::array_digest(
            self.dtype(),
            self.shape(),
            self.level(),
            self.stream_offsets(),
            self.stream_gains(),
        );
        if actual != expected {
            return Err(Error::corrupt(format!(
                "the column's shape, type, level, offsets or gains do not match its digest \
                 ({expected} recorded, {actual} found)"
            )));
        }
        Ok(())
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
        let channels = first.required_channels();
        // a whole array's column records its stream length: a row of
        // another length is damage, not a ragged column
        let recorded = first.facts().stream_size;
        let mut stream_size: Option<u64> = claimed;
        let streams: Vec<Vec<Option<&[u8]>>> = columns.iter().map(FlacColumn::streams).collect();
        // every stream's bytes land in one buffer allocated once
        let total: usize = streams
            .iter()
            .flatten()
            .map(|s| s.map_or(0, <[u8]>::len))
            .sum();
        let mut compressed = Vec::with_capacity(total);
        let mut starts = Vec::with_capacity(rows);
        let mut nbytes = Vec::with_capacity(rows);
        let mut offsets = Vec::with_capacity(rows);
        let mut gains = Vec::with_capacity(rows);
        let mut row = 0;
        for (column, column_streams) in columns.iter().zip(streams) {
            for (bytes, scale) in column_streams.into_iter().zip(column.scales()?) {
                let bytes = bytes.ok_or_else(|| {
                    Error::invalid(format!("row {row} is null: a FlacArray has every stream"))
                })?;
                let length = row_samples(bytes, channels, row)?;
                match (stream_size, recorded) {
                    (_, Some(r)) if r != length && claimed.is_none() => {
                        return Err(Error::corrupt(format!(
                            "row {row} holds {length} samples, the array's streams {r}"
                        )))
                    }
                    (None, _) => stream_size = Some(length),
                    (Some(n), _) if n != length && claimed.is_none() => {
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
        // An array without streams keeps its length in the field metadata.
        let stream_size = match (stream_size, recorded) {
            (Some(n), Some(r)) if n != r && claimed.is_none() => {
                return Err(Error::corrupt(format!(
                    "the rows hold {n} samples but the field metadata says {r}"
                )))
            }
            (Some(n), _) => n,
            (None, Some(r)) if rows == 0 => r,
            _ => {
                return Err(Error::invalid(
                    "a column without rows or a recorded stream length has no shape to rebuild",
                ))
            }
        };
        let mut shape = leading;
        shape.push(usize::try_from(stream_size).map_err(|_| Error::corrupt("impossible length"))?);
        let float = dtype.is_float();
        // frame rows stay frame rows: the array's streams are the rows'
        // bytes (see `FlacArrayRef::same_streams`, `whole_stream`)
        FlacArray::from_parts(FlacArrayParts {
            dtype,
            shape,
            compressed,
            stream_starts: starts,
            stream_nbytes: nbytes,
            stream_offsets: float.then_some(offsets),
            stream_gains: float.then_some(gains),
            level: first.level().unwrap_or(5),
        })
    }
}

/// A row's sample count, from its stream's STREAMINFO (whose channel
/// count must be `channels`, when given).
fn row_samples(bytes: &[u8], channels: Option<u32>, row: usize) -> Result<u64> {
    if bytes.is_empty() {
        return Err(Error::invalid(format!(
            "row {row} is empty: a FlacArray's streams hold at least one sample"
        )));
    }
    let info =
        crate::codec::stream_info(bytes).map_err(|e| Error::corrupt(e.message()).in_row(row))?;
    if let Some(required) = channels.filter(|&c| c != info.channels) {
        return Err(Error::corrupt(format!(
            "the stream has {} FLAC channels, {} data has {required}",
            info.channels,
            if required == 2 { "64-bit" } else { "32-bit" }
        ))
        .in_row(row));
    }
    if info.total_samples == 0 {
        return Err(Error::corrupt("the stream does not record its length").in_row(row));
    }
    Ok(info.total_samples)
}
