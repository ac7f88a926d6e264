//! Compressing list columns (one stream per row, rows of any length) and
//! decompressing them back, optionally to a window of samples per row.

use std::sync::Arc;

use arrow_array::builder::LargeBinaryBuilder;
use arrow_array::cast::AsArray;
use arrow_array::types::ArrowPrimitiveType;
use arrow_array::{
    make_array, Array, ArrayRef, FixedSizeListArray, Float64Array, GenericListArray,
    LargeListArray, ListArray, OffsetSizeTrait, PrimitiveArray, StructArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_data::transform::MutableArrayData;
use arrow_schema::{DataType, Field, FieldRef};
use rayon::prelude::*;

use super::column::{ArrayFacts, FlacColumn, SourceList};
use super::extension::{storage_fields, FlacMetadata};
use crate::array::{
    encode_streams, group_size, CompressOptions, DType, Element, EncodedGroup, SampleWindow,
    StepSpec,
};
use crate::codec::{max_samples_in, stream_info, EncodeOptions, ShortStream};
use crate::error::{Error, Result};
use crate::quantize::Step;

/// An element type together with its Arrow primitive type.
trait ArrowElement: Element + arrow_buffer::ArrowNativeType {
    type Arrow: ArrowPrimitiveType<Native = Self>;
}

macro_rules! arrow_elements {
    ([] $(($variant:ident, $rust:ty, $name:literal, $code:literal, $arrow:ident, $groups:literal, $doc:literal))*) => {
        $(impl ArrowElement for $rust {
            type Arrow = arrow_array::types::$arrow;
        })*
    };
}
crate::element_types!(arrow_elements;);

/// The Arrow types of every element type, as error messages list them.
fn arrow_type_names() -> String {
    DType::names_by(|d| arrow_type(d).to_string(), "or")
}

/// The Arrow type of `dtype`'s values (what a decompressed list holds).
///
/// ```
/// use flacarray::arrow::arrow_type;
/// use flacarray::arrow_schema::DataType;
/// use flacarray::DType;
///
/// assert_eq!(arrow_type(DType::Float32), DataType::Float32);
/// ```
pub fn arrow_type(dtype: DType) -> DataType {
    crate::with_element_type!(dtype, T => <T as ArrowElement>::Arrow::DATA_TYPE)
}

/// One compressed row: null, empty, or stream `j` of its group.
#[derive(Clone, Copy)]
enum EncodedRow {
    Null,
    Empty,
    Stream(usize),
}

/// One row of the input: its values, or None when the row is null.
type Row<'a, T> = Option<&'a [T]>;

/// A list array's values, each row's value range, and its row validity.
type ListParts<'a> = (&'a ArrayRef, Vec<(usize, usize)>, Option<&'a NullBuffer>);

fn list_parts<O: OffsetSizeTrait>(list: &GenericListArray<O>) -> ListParts<'_> {
    let bounds = list
        .value_offsets()
        .windows(2)
        .map(|w| (w[0].as_usize(), w[1].as_usize()))
        .collect();
    (list.values(), bounds, list.nulls())
}

fn rows_of<'a, T: ArrowElement>(array: &'a dyn Array) -> Result<Vec<Row<'a, T>>> {
    let (values, bounds, validity) = if let Some(list) = array.as_list_opt::<i32>() {
        list_parts(list)
    } else if let Some(list) = array.as_list_opt::<i64>() {
        list_parts(list)
    } else if let Some(list) = array.as_fixed_size_list_opt() {
        let n = list.value_length() as usize;
        (
            list.values(),
            (0..list.len()).map(|i| (i * n, (i + 1) * n)).collect(),
            list.nulls(),
        )
    } else {
        return Err(Error::invalid(format!(
            "expected a List, LargeList or FixedSizeList column, got {}",
            array.data_type()
        )));
    };
    let prim: &PrimitiveArray<T::Arrow> = values.as_primitive_opt().ok_or_else(|| {
        Error::invalid(format!(
            "list values are {}, expected {}",
            values.data_type(),
            arrow_type_names()
        ))
    })?;
    let all: &[T] = prim.values();
    bounds
        .into_iter()
        .enumerate()
        .map(|(row, (a, b))| {
            if validity.is_some_and(|v| v.is_null(row)) {
                return Ok(None);
            }
            if prim.nulls().is_some_and(|n| (a..b).any(|i| n.is_null(i))) {
                return Err(Error::invalid(format!(
                    "row {row} contains null values; FLAC streams cannot hold nulls"
                )));
            }
            Ok(Some(&all[a..b]))
        })
        .collect()
}

fn list_dtype(array: &dyn Array) -> Result<DType> {
    let inner = match array.data_type() {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => f.data_type(),
        other => {
            return Err(Error::invalid(format!(
                "expected a List, LargeList or FixedSizeList column, got {other}"
            )))
        }
    };
    DType::ALL
        .iter()
        .copied()
        .find(|&d| arrow_type(d) == *inner)
        .ok_or_else(|| {
            Error::invalid(format!(
                "list values are {inner}, expected {}",
                arrow_type_names()
            ))
        })
}

fn step_for(spec: &StepSpec, row: usize, rows: usize) -> Result<Step> {
    let pick = |name: &str, v: &Vec<f64>| match v.len() {
        1 => Ok(v[0]),
        n if n == rows => Ok(v[row]),
        n => Err(Error::invalid(format!(
            "{name} has {n} values; expected one value or one per row ({rows})"
        ))),
    };
    Ok(match spec {
        StepSpec::Range => Step::Range,
        StepSpec::Quanta(v) => Step::Quanta(pick("quanta", v)?),
        StepSpec::Precision(v) => Step::Precision(pick("precision", v)?),
    })
}

fn compress_rows<T: ArrowElement>(
    array: &dyn Array,
    options: &CompressOptions,
) -> Result<FlacColumn> {
    let rows = rows_of::<T>(array)?;
    options.step.check_dtype(T::DTYPE)?;
    let encode = EncodeOptions {
        level: options.level,
        block_size: options.block_size,
        threads: 1,
        // rows that fit one frame are frame rows (layout 3)
        short: ShortStream::FrameRow,
    };
    encode.validate()?;
    let n = rows.len();
    // rows in groups whose MD5s are hashed side by side
    let group = group_size(n, rayon::current_num_threads());
    let encoded: Vec<Result<(Vec<EncodedRow>, EncodedGroup)>> = rows
        .par_chunks(group)
        .enumerate()
        .map(|(g, chunk)| {
            let first = g * group;
            let mut encoded: Vec<EncodedRow> = Vec::with_capacity(chunk.len());
            let (mut values, mut steps, mut slots) = (Vec::new(), Vec::new(), Vec::new());
            for (k, row) in chunk.iter().enumerate() {
                match row {
                    None => encoded.push(EncodedRow::Null),
                    Some([]) => encoded.push(EncodedRow::Empty),
                    Some(row) => {
                        let step = step_for(&options.step, first + k, n)?;
                        // A constant row is stored exactly: it needs no
                        // step, so a missing or unusable one (null, NaN, 0)
                        // does no harm there.
                        let constant = row.iter().all(|v| v == &row[0]);
                        steps.push(if constant { Step::Range } else { step });
                        encoded.push(EncodedRow::Stream(values.len()));
                        values.push(*row);
                        slots.push(k);
                    }
                }
            }
            let streams = encode_streams(&values, |j| steps[j], &encode)
                .map_err(|(j, e)| e.in_row(first + slots[j]))?;
            Ok((encoded, streams))
        })
        .collect();
    let encoded = encoded.into_iter().collect::<Result<Vec<_>>>()?;
    let total = encoded.iter().map(|(_, group)| group.byte_len()).sum();
    let mut streams = LargeBinaryBuilder::with_capacity(n, total);
    let mut offsets = Vec::with_capacity(n);
    let mut gains = Vec::with_capacity(n);
    for (rows, group) in &encoded {
        for &row in rows {
            match row {
                EncodedRow::Null => {
                    streams.append_null();
                    offsets.push(None);
                    gains.push(None);
                }
                EncodedRow::Empty => {
                    streams.append_value([]);
                    offsets.push(None);
                    gains.push(None);
                }
                EncodedRow::Stream(j) => {
                    let (bytes, scale) = group.stream(j);
                    streams.append_value(bytes);
                    offsets.push(scale.map(|s| s.offset));
                    gains.push(scale.map(|s| s.gain));
                }
            }
        }
    }
    let nulls = NullBuffer::from_iter(rows.iter().map(Option::is_some));
    let storage = StructArray::try_new(
        storage_fields(),
        vec![
            Arc::new(streams.finish()) as ArrayRef,
            Arc::new(Float64Array::from(offsets)),
            Arc::new(Float64Array::from(gains)),
        ],
        (nulls.null_count() > 0).then_some(nulls),
    )
    .map_err(super::arrow_err)?;
    let facts = ArrayFacts {
        level: Some(options.level),
        source_list: SourceList::of(array.data_type()),
        ..ArrayFacts::default()
    };
    Ok(FlacColumn::new(FlacMetadata::new(T::DTYPE), storage)?.with_facts(facts))
}

/// Compresses a `List`, `LargeList` or `FixedSizeList` column of Int32,
/// Int64, Float32 or Float64 into a `flacarray.flac` column: one FLAC stream
/// per row, rows of any length, null rows stay null, empty rows become
/// empty streams. `options.step` may give one quanta/precision per row.
pub fn compress_lists(array: &dyn Array, options: &CompressOptions) -> Result<FlacColumn> {
    crate::with_element_type!(list_dtype(array)?, T => compress_rows::<T>(array, options))
}

/// The sample count of one row's stream, from its STREAMINFO, checked
/// against the column metadata's claim (if any) and against what its bytes
/// can hold, before anything is allocated for it; its channel count must
/// be `channels` (when given: the column's type, see
/// [`FlacColumn::required_channels`]).
fn row_length(
    bytes: &[u8],
    stream_size: Option<u64>,
    channels: Option<u32>,
    row: usize,
) -> Result<u64> {
    if bytes.is_empty() {
        return Ok(0);
    }
    let info = stream_info(bytes).map_err(|e| Error::corrupt(e.message()).in_row(row))?;
    if let Some(required) = channels.filter(|&c| c != info.channels) {
        return Err(Error::corrupt(format!(
            "the stream has {} FLAC channels, a column of this type has {required}",
            info.channels
        ))
        .in_row(row));
    }
    let recorded = info.total_samples;
    let n = match (stream_size, recorded) {
        (Some(claimed), 0) => claimed,
        (Some(claimed), n) if n != claimed => {
            return Err(Error::corrupt(format!(
                "the stream holds {n} samples but the column metadata says {claimed}"
            ))
            .in_row(row))
        }
        (_, n) => n,
    };
    if n == 0 || n > max_samples_in(bytes.len()) {
        return Err(Error::corrupt(format!(
            "implausible sample count {n} for {} bytes",
            bytes.len()
        ))
        .in_row(row));
    }
    Ok(n)
}

fn decompress_rows<T: ArrowElement>(
    column: &FlacColumn,
    window_of: impl Fn(usize) -> SampleWindow,
) -> Result<ArrayRef> {
    let streams = column.streams();
    let stream_size = column.metadata().legacy().and_then(|l| l.stream_size);
    let channels = column.required_channels();
    let scales = column.scales()?;
    // Each row's sample count and the window of it to decode.
    let mut lengths = Vec::with_capacity(streams.len());
    let mut ranges = Vec::with_capacity(streams.len());
    let mut offsets = Vec::with_capacity(streams.len() + 1);
    offsets.push(0i64);
    for (row, bytes) in streams.iter().enumerate() {
        let (len, range) = match bytes {
            Some(bytes) => {
                let len = row_length(bytes, stream_size, channels, row)?;
                (len, window_of(row).resolve(len))
            }
            None => (0, 0..0),
        };
        offsets.push(offsets[row] + (range.end - range.start) as i64);
        lengths.push(len);
        ranges.push(range);
    }
    let total = *offsets.last().unwrap_or(&0) as usize;
    let mut values = crate::array::zeroed_output::<T>(total).ok_or_else(|| {
        Error::new(
            crate::ErrorKind::Resource,
            format!("cannot allocate {total} samples for the decoded rows"),
        )
    })?;
    // Runs of whole rows of one length are decoded together (as a
    // FlacArray's whole streams are); any other row alone. A task's rows
    // are consecutive, so its samples are one piece of `values`.
    let whole = |row: usize| lengths[row] > 0 && ranges[row] == (0..lengths[row]);
    let together = (0..streams.len()).filter(|&row| whole(row)).count();
    let per_task = crate::array::whole_streams_per_task(together, rayon::current_num_threads());
    let mut tasks = Vec::new();
    let mut start = 0;
    while start < streams.len() {
        let mut end = start + 1;
        if whole(start) {
            while end < streams.len()
                && end - start < per_task
                && whole(end)
                && lengths[end] == lengths[start]
            {
                end += 1;
            }
        }
        tasks.push(start..end);
        start = end;
    }
    let mut parts = Vec::with_capacity(tasks.len());
    let mut rest = values.as_mut_slice();
    for rows in &tasks {
        let (part, tail) = rest.split_at_mut((offsets[rows.end] - offsets[rows.start]) as usize);
        parts.push(part);
        rest = tail;
    }
    tasks
        .into_par_iter()
        .zip(parts)
        .try_for_each(|(rows, part)| {
            if part.is_empty() {
                return Ok(());
            }
            let row = rows.start;
            if rows.len() > 1 {
                let bytes: Vec<&[u8]> = streams[rows.clone()].iter().flatten().copied().collect();
                T::decode_streams(&bytes, lengths[row], part, &scales[rows])
                    .map_err(|(i, e)| e.in_row(row + i))
            } else {
                let bytes = streams[row].unwrap_or_default();
                T::decode_stream(bytes, lengths[row], ranges[row].start, part, scales[row])
                    .map_err(|e| e.in_row(row))
            }
        })?;
    let nulls = NullBuffer::from_iter(streams.iter().map(Option::is_some));
    let field = Arc::new(Field::new("item", T::Arrow::DATA_TYPE, false));
    let list = LargeListArray::try_new(
        field,
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Arc::new(PrimitiveArray::<T::Arrow>::new(
            ScalarBuffer::from(values),
            None,
        )),
        (nulls.null_count() > 0).then_some(nulls),
    )
    .map_err(super::arrow_err)?;
    Ok(Arc::new(list))
}

impl FlacColumn {
    /// Row `i`'s sample count (None for a null row), from its stream,
    /// checked as a read checks it. An error when `i` is out of range.
    pub fn row_len(&self, i: usize) -> Result<Option<u64>> {
        Ok(self.row_stream(i)?.map(|(_, len)| len))
    }

    /// Row `i`'s stream and its checked sample count (None for a null row).
    fn row_stream(&self, i: usize) -> Result<Option<(&[u8], u64)>> {
        self.check_row(i)?;
        let stream_size = self.metadata().legacy().and_then(|l| l.stream_size);
        self.stream(i)
            .map(|bytes| {
                row_length(bytes, stream_size, self.required_channels(), i).map(|n| (bytes, n))
            })
            .transpose()
    }

    /// The samples `window` selects of row `i` ([`SampleWindow`]'s rule),
    /// decoding only the frames holding them; None for a null row. `T`
    /// must be the column's element type.
    ///
    /// ```
    /// use arrow_array::{types::Float64Type, ListArray};
    /// use flacarray::arrow::compress_lists;
    /// use flacarray::CompressOptions;
    ///
    /// let rows = ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
    ///     Some((0..1000).map(|i| Some(i as f64 * 0.5)).collect::<Vec<_>>()),
    ///     None,
    /// ]);
    /// let column = compress_lists(&rows, &CompressOptions::default().with_quanta(0.5))?;
    /// assert_eq!(column.row::<f64>(0, 10..13)?, Some(vec![5.0, 5.5, 6.0]));
    /// assert_eq!(column.row::<f64>(1, ..)?, None);
    /// assert_eq!(column.row_len(0)?, Some(1000));
    /// assert_eq!(column.step(0)?, Some(0.5));
    /// assert!(column.row::<f64>(2, ..).is_err()); // no row 2
    /// # Ok::<(), flacarray::Error>(())
    /// ```
    pub fn row<T: Element>(
        &self,
        i: usize,
        window: impl Into<SampleWindow>,
    ) -> Result<Option<Vec<T>>> {
        if T::DTYPE != self.dtype() {
            return Err(Error::invalid(format!(
                "the column holds {} values, not {}",
                self.dtype(),
                T::DTYPE
            )));
        }
        let Some((bytes, len)) = self.row_stream(i)? else {
            return Ok(None);
        };
        let range = window.into().resolve(len);
        let mut out = vec![T::default(); (range.end - range.start) as usize];
        if !out.is_empty() {
            T::decode_stream(bytes, len, range.start, &mut out, self.scale(i)?)
                .map_err(|e| e.in_row(i))?;
        }
        Ok(Some(out))
    }
}

/// The list type [`decompress_lists_as`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListKind {
    /// `LargeList` (64-bit offsets): any size; what [`decompress_lists`] returns.
    LargeList,
    /// `List` (32-bit offsets): an error if the values exceed `i32::MAX`.
    List,
    /// `FixedSizeList`: every present row of the same length after the
    /// window (an error otherwise); null rows stay null.
    FixedSizeList,
    /// The list type the rows were compressed from, item field included
    /// (recorded by [`compress_lists`] in the field metadata,
    /// [`LIST_TYPE_KEY`](super::LIST_TYPE_KEY)); `LargeList` for columns
    /// that did not record it (written by Python, Polars or older versions).
    SameAsInput,
}

/// [`decompress_lists`], returning the list type of your choice (for
/// example the one the column was compressed from: [`ListKind::SameAsInput`]).
/// When the column recorded its source list type, the item field keeps its
/// name, nullability and metadata whatever `kind` is.
///
/// ```
/// use arrow_array::{types::Int32Type, Array, FixedSizeListArray};
/// use flacarray::arrow::{compress_lists, decompress_lists_as, ListKind, SampleWindow};
/// use flacarray::CompressOptions;
///
/// let rows = FixedSizeListArray::from_iter_primitive::<Int32Type, _, _>(
///     vec![Some(vec![Some(1), Some(2), Some(3)]), None, Some(vec![Some(4), Some(5), Some(6)])],
///     3,
/// );
/// let column = compress_lists(&rows, &CompressOptions::default())?;
/// let back = decompress_lists_as(&column, .., ListKind::SameAsInput)?;
/// assert_eq!(back.data_type(), rows.data_type());
/// assert!(back.is_null(1));
/// # Ok::<(), flacarray::Error>(())
/// ```
pub fn decompress_lists_as(
    column: &FlacColumn,
    window: impl Into<SampleWindow>,
    kind: ListKind,
) -> Result<ArrayRef> {
    let large = decompress_lists(column, window)?;
    let large = large.as_list::<i64>();
    let (field, offsets, values, nulls) = large.clone().into_parts();
    let source = column.facts().source_list.as_ref();
    let field = source.map_or(field, |s| s.item.clone());
    let kind = match kind {
        ListKind::SameAsInput => source.map_or(ListKind::LargeList, |s| s.kind),
        other => other,
    };
    match kind {
        ListKind::List => {
            let narrow = offsets
                .iter()
                .map(|&o| i32::try_from(o))
                .collect::<std::result::Result<Vec<i32>, _>>()
                .map_err(|_| {
                    Error::invalid("the decoded values do not fit a List (over 2^31 values)")
                })?;
            let list = ListArray::try_new(
                field,
                OffsetBuffer::new(ScalarBuffer::from(narrow)),
                values,
                nulls,
            )
            .map_err(super::arrow_err)?;
            Ok(Arc::new(list))
        }
        ListKind::FixedSizeList => fixed_size(field, &offsets, values, nulls),
        _ => Ok(Arc::new(
            LargeListArray::try_new(field, offsets, values, nulls).map_err(super::arrow_err)?,
        )),
    }
}

/// Rows of one length as a `FixedSizeList`; null rows (which decode to no
/// values) get that many placeholder values, as the layout requires.
fn fixed_size(
    field: FieldRef,
    offsets: &OffsetBuffer<i64>,
    values: ArrayRef,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef> {
    let valid = |row: usize| nulls.as_ref().is_none_or(|n| n.is_valid(row));
    let lengths: Vec<i64> = offsets.windows(2).map(|w| w[1] - w[0]).collect();
    let first = (0..lengths.len()).find(|&r| valid(r));
    let size = first.map_or(0, |r| lengths[r]);
    if let Some(row) = (0..lengths.len()).find(|&r| valid(r) && lengths[r] != size) {
        return Err(Error::invalid(format!(
            "a FixedSizeList needs rows of one length: row {} has {size} values, row {row} has {}",
            first.unwrap_or(0),
            lengths[row]
        )));
    }
    let width =
        i32::try_from(size).map_err(|_| Error::invalid("rows too long for a FixedSizeList"))?;
    let values = match &nulls {
        Some(nulls) if nulls.null_count() > 0 && size > 0 => {
            let data = values.to_data();
            let mut padded =
                MutableArrayData::new(vec![&data], true, lengths.len() * size as usize);
            for (row, window) in offsets.windows(2).enumerate() {
                if nulls.is_valid(row) {
                    padded.try_extend(0, window[0] as usize, window[1] as usize)
                } else {
                    padded.try_extend_nulls(size as usize)
                }
                .map_err(super::arrow_err)?;
            }
            make_array(padded.freeze())
        }
        _ => values,
    };
    let list =
        FixedSizeListArray::try_new(field, width, values, nulls).map_err(super::arrow_err)?;
    Ok(Arc::new(list))
}

/// Decompresses a `flacarray.flac` column into a `LargeList` of the original
/// element type, keeping only `window` of each row (decoding only the frames
/// it needs; the window rule is [`SampleWindow`]'s, clamped to each row).
/// Null rows stay null. See [`decompress_lists_as`] for another list type.
pub fn decompress_lists(column: &FlacColumn, window: impl Into<SampleWindow>) -> Result<ArrayRef> {
    let window = window.into();
    crate::with_element_type!(column.dtype(), T => decompress_rows::<T>(column, |_| window))
}

/// [`decompress_lists`] with a window of its own for each row (an event's
/// samples around its trigger, say): `windows[i]` of row `i`, each by
/// [`SampleWindow`]'s rule. An error unless there is one window per row.
///
/// ```
/// use arrow_array::{cast::AsArray, types::Int32Type, ListArray};
/// use flacarray::arrow::{compress_lists, decompress_lists_per_row, SampleWindow};
/// use flacarray::CompressOptions;
///
/// let rows = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
///     Some((0..100).map(Some).collect::<Vec<_>>()),
///     Some((0..100).map(|v| Some(-v)).collect::<Vec<_>>()),
/// ]);
/// let column = compress_lists(&rows, &CompressOptions::default())?;
/// let windows = [SampleWindow::from(10..12), SampleWindow::from(-2..)];
/// let back = decompress_lists_per_row(&column, &windows)?;
/// let back = back.as_list::<i64>();
/// assert_eq!(back.value(0).as_primitive::<Int32Type>().values(), &[10, 11]);
/// assert_eq!(back.value(1).as_primitive::<Int32Type>().values(), &[-98, -99]);
/// # Ok::<(), flacarray::Error>(())
/// ```
pub fn decompress_lists_per_row(column: &FlacColumn, windows: &[SampleWindow]) -> Result<ArrayRef> {
    if windows.len() != column.len() {
        return Err(Error::invalid(format!(
            "{} windows for a column of {} rows: one per row",
            windows.len(),
            column.len()
        )));
    }
    crate::with_element_type!(column.dtype(), T => decompress_rows::<T>(column, |row| windows[row]))
}
