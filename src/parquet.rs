//! Parquet export and import of `flacarray.flac` columns.
//!
//! A file holds the Arrow layout (one row per stream: FLAC bytes, offset,
//! gain) with the Arrow schema embedded, so the extension metadata survives
//! and any Parquet reader sees plain binary and float columns. Row groups
//! are sized by bytes, and reading with a keep mask selects only the row
//! groups and pages holding the kept rows.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use arrow_array::{Array, RecordBatch};
use arrow_schema::extension::ExtensionType;
use arrow_schema::Schema;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ParquetRecordBatchReaderBuilder, RowSelection, RowSelector,
};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::reader::ChunkReader;
use parquet::schema::types::ColumnPath;

use crate::array::DType;
use crate::arrow::{ArrayFacts, FlacColumn, FlacExtension};
use crate::error::{Error, ErrorKind, Result};
use crate::fsio::IfExists;
use crate::FlacArray;

/// Default name of the column holding the streams.
pub const DEFAULT_COLUMN: &str = "flac";

/// Target compressed bytes per row group.
const GROUP_BYTES: usize = 16 << 20;

/// Errors while reading: damage in the file, unless the source failed
/// (an I/O error; anything else the reader reports, a bad UTF-8 string in
/// the footer say, is damage).
fn pq_err(err: parquet::errors::ParquetError) -> Error {
    let (kind, message) = match &err {
        parquet::errors::ParquetError::External(e) if e.is::<std::io::Error>() => {
            (ErrorKind::Io, e.to_string())
        }
        other => (
            ErrorKind::Corrupt,
            format!("parquet: {}", plain_message(other)),
        ),
    };
    Error::new(kind, message).with_source(err)
}

/// Rows per record batch when reading a FLAC column: about
/// [`BATCH_BYTES`] of streams each. The reader grows a batch's value buffer
/// as it goes (reallocating and copying it, page faults included): kept
/// small, that costs nothing beside the one copy into the array's buffer.
fn rows_per_batch(meta: &parquet::file::metadata::ParquetMetaData) -> usize {
    let rows: i64 = meta.row_groups().iter().map(|g| g.num_rows()).sum();
    let bytes: i64 = meta.row_groups().iter().map(|g| g.total_byte_size()).sum();
    let per_row = (bytes / rows.max(1)).max(1) as usize;
    (BATCH_BYTES / per_row).clamp(1, 8192)
}

/// Target stream bytes per record batch read (see [`rows_per_batch`]).
const BATCH_BYTES: usize = 1 << 20;

/// A parquet error's own words, without the crate's "Parquet error: " or
/// Arrow's "Invalid argument error: " style prefixes.
fn plain_message(err: &parquet::errors::ParquetError) -> String {
    use parquet::errors::ParquetError as P;
    match err {
        P::General(m) | P::NYI(m) | P::EOF(m) | P::ArrowError(m) => strip_arrow_prefixes(m),
        other => other.to_string(),
    }
}

/// `message` without the category prefixes Arrow and Parquet put in front
/// of their errors' text (our messages name the problem themselves).
fn strip_arrow_prefixes(message: &str) -> String {
    const PREFIXES: [&str; 12] = [
        "Parquet error: ",
        "Arrow: ",
        "Invalid argument error: ",
        "Schema error: ",
        "Cast error: ",
        "Compute error: ",
        "Parser error: ",
        "Not yet implemented: ",
        "External error: ",
        "Io error: ",
        "Memory error: ",
        "Parquet argument error: ",
    ];
    let mut rest = message;
    while let Some(stripped) = PREFIXES.iter().find_map(|p| rest.strip_prefix(p)) {
        rest = stripped;
    }
    rest.to_string()
}

/// Errors while writing: the data given or the destination, never damage.
fn pq_write_err(err: parquet::errors::ParquetError) -> Error {
    let (kind, message) = match &err {
        parquet::errors::ParquetError::External(e) => (ErrorKind::Io, e.to_string()),
        parquet::errors::ParquetError::ArrowError(e) => (
            ErrorKind::InvalidInput,
            format!("parquet: {}", strip_arrow_prefixes(e)),
        ),
        other => (ErrorKind::Io, format!("parquet: {}", plain_message(other))),
    };
    Error::new(kind, message).with_source(err)
}

/// Parquet writer properties for batches with `flacarray.flac` columns:
/// `base` (or the parquet crate's defaults) with, for the `stream` leaf of
/// each FLAC column only, no compression, no dictionary and no statistics
/// (FLAC bytes do not compress further, and min/max of binary blobs cost
/// time and space for nothing). Every other column keeps what `base` says.
pub fn writer_properties(schema: &Schema, base: Option<WriterProperties>) -> WriterProperties {
    let mut builder = base.unwrap_or_default().into_builder();
    for field in schema.fields() {
        if field.extension_type_name() == Some(FlacExtension::NAME) {
            let stream = ColumnPath::new(vec![field.name().clone(), "stream".to_string()]);
            builder = builder
                .set_column_compression(stream.clone(), Compression::UNCOMPRESSED)
                .set_column_dictionary_enabled(stream.clone(), false)
                .set_column_statistics_enabled(stream, EnabledStatistics::None);
        }
    }
    builder.build()
}

/// Writes record batches (one schema; any mix of `flacarray.flac` and
/// other columns) to Parquet with [`writer_properties`] built from the
/// first batch's schema and `properties`.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{ArrayRef, Int64Array, LargeListArray, RecordBatch};
/// use arrow_array::types::Int32Type;
/// use arrow_schema::{DataType, Field, Schema};
/// use flacarray::arrow::compress_lists;
/// use flacarray::CompressOptions;
///
/// let lists = LargeListArray::from_iter_primitive::<Int32Type, _, _>(vec![
///     Some(vec![Some(1), Some(2), Some(3)]),
///     Some(vec![Some(4), Some(5)]),
/// ]);
/// let (field, signal) = compress_lists(&lists, &CompressOptions::default())?.to_field_and_array("signal");
/// let ids = Arc::new(Int64Array::from(vec![7, 8])) as ArrayRef;
/// let schema = Schema::new(vec![Field::new("id", DataType::Int64, false), field]);
/// let batch = RecordBatch::try_new(Arc::new(schema), vec![ids, signal]).unwrap();
/// let mut file = Vec::new();
/// flacarray::parquet::write_batches(&mut file, [&batch], None)?;
/// assert_eq!(&file[..4], b"PAR1");
/// # Ok::<(), flacarray::Error>(())
/// ```
pub fn write_batches<W, I, B>(
    writer: W,
    batches: I,
    properties: Option<WriterProperties>,
) -> Result<()>
where
    W: Write + Send,
    I: IntoIterator<Item = B>,
    B: std::borrow::Borrow<RecordBatch>,
{
    let mut batches = batches.into_iter().peekable();
    let schema = match batches.peek() {
        Some(first) => first.borrow().schema(),
        None => return Err(Error::invalid("write_batches: no record batch given")),
    };
    let props = writer_properties(&schema, properties);
    let mut w = ArrowWriter::try_new(writer, schema, Some(props)).map_err(pq_write_err)?;
    for batch in batches {
        w.write(batch.borrow()).map_err(pq_write_err)?;
    }
    w.close().map_err(pq_write_err)?;
    Ok(())
}

/// Writes one record batch with `rows_per_group` rows per row group (and
/// otherwise the properties of [`writer_properties`]).
pub fn write_batch<W: Write + Send>(
    writer: W,
    batch: &RecordBatch,
    rows_per_group: usize,
) -> Result<()> {
    let base = WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows_per_group.max(1)))
        .build();
    write_batches(writer, [batch], Some(base))
}

/// Writes a FlacArray as a one-column Parquet file (column `column`).
pub fn write_array<W: Write + Send>(writer: W, array: &FlacArray, column: &str) -> Result<()> {
    write_column(writer, &array.to_arrow()?, column)
}

/// Writes a `flacarray.flac` column as a one-column Parquet file, with row
/// groups of about 16 MB of streams.
pub fn write_column<W: Write + Send>(writer: W, column: &FlacColumn, name: &str) -> Result<()> {
    let rows = column.len().max(1);
    let per_row = (column.storage().get_array_memory_size() / rows).max(1);
    let rows_per_group = (GROUP_BYTES / per_row).clamp(1, rows);
    write_batch(writer, &column.to_record_batch(name)?, rows_per_group)
}

/// Writes one array that arrives in parts (runs of consecutive streams, in
/// order: the pieces the ranks of an MPI job hold) as a one-column Parquet
/// file holding the rows and metadata [`write_column`] writes for the whole
/// array (row groups are sized from the first part). `whole` is the whole
/// array's field metadata ([`ArrayFacts::whole_array`]: its leading shape,
/// level, stream length and digest); every part must have the first part's
/// dtype and the parts' rows must add up to the leading shape. Parts are
/// taken one at a time, so the caller need never hold more than one.
///
/// ```
/// use flacarray::arrow::ArrayFacts;
/// use flacarray::{CompressOptions, DType, FlacArray};
///
/// let whole = FlacArray::compress(&[1i32, 5, 2, 8, 3, 9], &[3, 2], &CompressOptions::default())?;
/// let top = FlacArray::compress(&[1i32, 5, 2, 8], &[2, 2], &CompressOptions::default())?;
/// let bottom = FlacArray::compress(&[3i32, 9], &[1, 2], &CompressOptions::default())?;
/// let mut file = Vec::new();
/// let parts = [top.to_arrow(), bottom.to_arrow()];
/// let facts = ArrayFacts::whole_array(DType::Int32, &[3, 2], 5, None, None);
/// flacarray::parquet::write_parts(&mut file, "flac", facts, parts)?;
/// let back = flacarray::parquet::read_array(bytes::Bytes::from(file), "flac", None)?;
/// assert_eq!(back, whole);
/// # Ok::<(), flacarray::Error>(())
/// ```
pub fn write_parts<W, I>(writer: W, name: &str, whole: ArrayFacts, parts: I) -> Result<()>
where
    W: Write + Send,
    I: IntoIterator<Item = Result<FlacColumn>>,
{
    let leading_shape: Vec<usize> = whole
        .leading_shape
        .as_ref()
        .ok_or_else(|| Error::invalid("write_parts: the whole array's leading shape is needed"))?
        .iter()
        .map(|&d| d as usize)
        .collect();
    let expected = leading_shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| Error::invalid(format!("impossible leading shape {leading_shape:?}")))?;
    let mut parts = parts.into_iter();
    let first = match parts.next() {
        Some(part) => part?,
        None => return Err(Error::invalid("write_parts: no part given")),
    };
    let facts = whole;
    let schema = std::sync::Arc::new(Schema::new(vec![first
        .clone()
        .with_facts(facts)
        .field(name)]));
    let rows = first.len().max(1);
    let per_row = (first.storage().get_array_memory_size() / rows).max(1);
    let rows_per_group = (GROUP_BYTES / per_row).clamp(1, expected.max(1));
    let base = WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows_per_group))
        .build();
    let props = writer_properties(&schema, Some(base));
    let mut w = ArrowWriter::try_new(writer, schema.clone(), Some(props)).map_err(pq_write_err)?;
    let mut written = 0usize;
    for part in std::iter::once(Ok(first)).chain(parts) {
        let part = part?;
        if part.dtype() != schema_dtype(&schema) {
            return Err(Error::invalid(format!(
                "write_parts: a part holds {} data, the first part {}",
                part.dtype(),
                schema_dtype(&schema)
            )));
        }
        written += part.len();
        if written > expected {
            break;
        }
        let storage = std::sync::Arc::new(part.storage().clone()) as arrow_array::ArrayRef;
        let batch = RecordBatch::try_new(schema.clone(), vec![storage]).map_err(arrow_write_err)?;
        w.write(&batch).map_err(pq_write_err)?;
    }
    if written != expected {
        return Err(Error::invalid(format!(
            "write_parts: the parts hold {written} streams, the leading shape \
             {leading_shape:?} needs {expected}"
        )));
    }
    w.close().map_err(pq_write_err)?;
    Ok(())
}

/// The dtype of the (one) FLAC column of a schema built by [`write_parts`].
fn schema_dtype(schema: &Schema) -> crate::array::DType {
    schema.fields()[0]
        .try_extension_type::<FlacExtension>()
        .map(|ext| ext.metadata().dtype())
        .unwrap_or(crate::array::DType::Int32)
}

fn arrow_write_err(err: arrow_schema::ArrowError) -> Error {
    let err = crate::arrow::arrow_err(err);
    Error::new(err.kind(), format!("parquet: {}", err.message()))
}

/// [`write_parts`] to a file path, with the rules of [`write_array_file`]
/// (a failed write, including a failing part, leaves nothing behind).
pub fn write_parts_file<I>(
    path: impl AsRef<Path>,
    name: &str,
    whole: ArrayFacts,
    parts: I,
    if_exists: IfExists,
) -> Result<()>
where
    I: IntoIterator<Item = Result<FlacColumn>>,
{
    crate::fsio::write_atomically(
        path.as_ref(),
        if_exists,
        "Parquet file",
        replaceable,
        |temp| {
            let file = File::create(temp)?;
            write_parts(&file, name, whole, parts)?;
            file.sync_all()?;
            Ok(())
        },
    )
}

/// The dtype and leading shape of the array in column `column` of a
/// Parquet file, from its footer alone (no stream is read).
pub fn leading_shape_file(
    path: impl AsRef<Path>,
    column: &str,
) -> Result<(crate::array::DType, Vec<usize>)> {
    let builder =
        guarded(|| ParquetRecordBatchReaderBuilder::try_new(open(path.as_ref())?).map_err(pq_err))?;
    let rows = builder.metadata().file_metadata().num_rows();
    let schema = builder.schema().clone();
    let field = schema
        .column_with_name(column)
        .ok_or_else(|| Error::invalid(format!("parquet file has no column '{column}'")))?
        .1;
    let probe = FlacColumn::from_field(field, &arrow_array::new_empty_array(field.data_type()))
        .map_err(|e| Error::corrupt(format!("parquet: column '{column}': {}", e.message())))?;
    let rows = usize::try_from(rows).map_err(|_| Error::corrupt("parquet: negative row count"))?;
    let leading: Vec<usize> = match probe.leading_shape() {
        Some(shape) => shape.iter().map(|&d| d as usize).collect(),
        None => vec![rows],
    };
    Ok((probe.dtype(), leading))
}

/// Says why the file at `path` is not a Parquet file holding one
/// `flacarray.flac` column and nothing else (the only kind an overwrite may
/// replace: every other column would be lost).
fn replaceable(path: &Path) -> std::result::Result<(), String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|_| "it is not a Parquet file".to_string())?;
    let fields = builder.schema().fields();
    let ours = |f: &&std::sync::Arc<arrow_schema::Field>| {
        f.extension_type_name() == Some(FlacExtension::NAME)
    };
    if !fields.iter().any(|f| ours(&f)) {
        return Err("it has no flacarray.flac column".into());
    }
    // the first flacarray.flac column is the one replaced; any other
    // column, ours or not, would be lost
    let replaced = fields.iter().position(|f| ours(&f)).unwrap_or(0);
    let foreign: Vec<String> = fields
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != replaced)
        .map(|(_, f)| format!("'{}'", f.name()))
        .collect();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "it also holds the column{} {}, which the new file would not keep",
            if foreign.len() == 1 { "" } else { "s" },
            foreign.join(", ")
        ))
    }
}

/// [`write_array`] to a file path. The file is written beside `path` and
/// renamed into place, so a failed write leaves nothing behind. An existing
/// `path` is refused with [`ErrorKind::AlreadyExists`] unless `if_exists` is
/// [`IfExists::Overwrite`], and even then only a Parquet file with a
/// `flacarray.flac` column is replaced.
pub fn write_array_file(
    path: impl AsRef<Path>,
    array: &FlacArray,
    column: &str,
    if_exists: IfExists,
) -> Result<()> {
    write_column_file(path, &array.to_arrow()?, column, if_exists)
}

/// [`write_column`] to a file path, with the rules of [`write_array_file`].
pub fn write_column_file(
    path: impl AsRef<Path>,
    column: &FlacColumn,
    name: &str,
    if_exists: IfExists,
) -> Result<()> {
    crate::fsio::write_atomically(
        path.as_ref(),
        if_exists,
        "Parquet file",
        replaceable,
        |temp| {
            let file = File::create(temp)?;
            write_column(&file, column, name)?;
            file.sync_all()?;
            Ok(())
        },
    )
}

/// Opens a file to read, an error naming it if it cannot be.
fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::at_path(path, e))
}

/// Checks what the footer claims about where the data lies (the parquet
/// crate trusts it, and panics on some impossible values): every row
/// group's row count and every column chunk's byte range must be
/// non-negative and inside the file.
fn check_footer(meta: &parquet::file::metadata::ParquetMetaData, file_len: u64) -> Result<()> {
    let bad = |what: String| Err(Error::corrupt(format!("parquet: damaged footer: {what}")));
    for (g, group) in meta.row_groups().iter().enumerate() {
        if group.num_rows() < 0 {
            return bad(format!("row group {g} has {} rows", group.num_rows()));
        }
        for (c, column) in group.columns().iter().enumerate() {
            let start = column
                .dictionary_page_offset()
                .unwrap_or_else(|| column.data_page_offset());
            let len = column.compressed_size();
            let inside = u64::try_from(start)
                .ok()
                .zip(u64::try_from(len).ok())
                .and_then(|(s, l)| s.checked_add(l))
                .is_some_and(|end| end <= file_len)
                && column.data_page_offset() >= 0;
            if !inside {
                return bad(format!(
                    "column chunk {c} of row group {g} claims bytes {start}+{len} of a \
                     {file_len}-byte file"
                ));
            }
        }
    }
    if let Some(index) = meta.page_index() {
        for (g, group) in meta.row_groups().iter().enumerate() {
            for c in 0..group.num_columns() {
                let Some(column) = index.offset_index(g, c) else {
                    continue;
                };
                for page in column.page_locations() {
                    let end = u64::try_from(page.offset)
                        .ok()
                        .zip(u64::try_from(page.compressed_page_size).ok())
                        .and_then(|(s, l)| s.checked_add(l));
                    if end.is_none_or(|end| end > file_len) || page.first_row_index < 0 {
                        return bad(format!("a page of row group {g} lies outside the file"));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Runs a read through the parquet crate, turning a panic of it (on
/// damaged metadata it did not expect) into a `Corrupt` error: nothing a
/// file holds may take the caller down.
fn guarded<T>(read: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Error::corrupt(format!(
            "parquet: the file is damaged (its reader failed: {why})"
        )))
    })
}

/// A reader shared by the two passes of a read with a keep mask.
struct Shared<R>(std::sync::Arc<R>);

impl<R> Clone for Shared<R> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<R: ChunkReader> parquet::file::reader::Length for Shared<R> {
    fn len(&self) -> u64 {
        self.0.len()
    }
}

impl<R: ChunkReader> ChunkReader for Shared<R> {
    type T = R::T;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        self.0.get_read(start)
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        self.0.get_bytes(start, length)
    }
}

/// Reads the FlacArray stored in column `column`. With `keep` (a boolean
/// mask in C order and its shape, which must be the array's leading shape)
/// only the row groups and pages holding kept streams are read, and the
/// result has shape `(kept, stream_size)`.
///
/// A digest in the column's field metadata (written by this crate) is
/// checked against the array: with `keep`, every row's offset and gain is
/// read for it too (16 bytes a row, never the streams).
pub fn read_array<R: ChunkReader + 'static>(
    reader: R,
    column: &str,
    keep: Option<(&[bool], &[usize])>,
) -> Result<FlacArray> {
    guarded(|| read_array_unguarded(reader, column, keep))
}

fn read_array_unguarded<R: ChunkReader + 'static>(
    reader: R,
    column: &str,
    keep: Option<(&[bool], &[usize])>,
) -> Result<FlacArray> {
    let reader = Shared(std::sync::Arc::new(reader));
    // with the page index, pages are read by their exact byte ranges
    let options = parquet::arrow::arrow_reader::ArrowReaderOptions::new()
        .with_offset_index_policy(parquet::file::metadata::PageIndexPolicy::Optional);
    let metadata = ArrowReaderMetadata::load(&reader, options).map_err(pq_err)?;
    check_footer(metadata.metadata(), reader.0.len())?;
    let builder =
        ParquetRecordBatchReaderBuilder::new_with_metadata(reader.clone(), metadata.clone());
    let schema = builder.schema().clone();
    let (index, field) = schema
        .column_with_name(column)
        .ok_or_else(|| Error::invalid(format!("parquet file has no column '{column}'")))?;
    let field = field.clone();
    // A column that claims to be ours but whose type metadata or storage
    // does not hold up is a damaged file, not a caller's mistake
    // (what this crate writes always carries the name, its metadata and
    // the whole array's facts: a field with any of them is ours, damaged)
    let claims_ours = field.extension_type_name() == Some(FlacExtension::NAME)
        || field.metadata().contains_key("ARROW:extension:metadata")
        || field.metadata().keys().any(|k| k.starts_with("flacarray."));
    let column_of = |array: &arrow_array::ArrayRef| {
        FlacColumn::from_field(&field, array).map_err(|e| {
            // a newer layout stays Unsupported: the file is not damaged
            if claims_ours && e.kind() != ErrorKind::Unsupported {
                Error::corrupt(format!("parquet: column '{column}': {}", e.message()))
            } else {
                e
            }
        })
    };
    let probe = column_of(&arrow_array::new_empty_array(field.data_type()))?;
    let meta = builder.metadata().clone();
    let group_rows: Vec<usize> = meta
        .row_groups()
        .iter()
        .map(|g| g.num_rows() as usize)
        .collect();
    let total: usize = group_rows.iter().sum();

    let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
    let mut builder = builder
        .with_projection(mask)
        .with_batch_size(rows_per_batch(&meta));
    let mut kept_rows = total;
    if let Some((keep, keep_shape)) = keep {
        let leading: Vec<usize> = match probe.leading_shape() {
            Some(shape) => shape.iter().map(|&d| d as usize).collect(),
            None => vec![total],
        };
        if leading.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) != Some(total) {
            return Err(Error::corrupt(format!(
                "parquet: the column's leading shape {leading:?} does not match its {total} rows"
            )));
        }
        if let Err(err) = crate::container::kept_streams(keep, keep_shape, &leading) {
            // a mask that does not fit a damaged shape: the damage first
            if let Some(digest) = probe.facts().digest.as_deref() {
                let facts = probe.facts();
                let (Some(level), Some(stream_size)) = (facts.level, facts.stream_size) else {
                    return Err(Error::corrupt(
                        "parquet: the column has a digest but no level or stream length",
                    ));
                };
                let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(reader, metadata);
                let recorded = (probe.dtype(), level, stream_size as usize);
                check_scales_digest(builder, index, &probe, recorded, digest)?;
            }
            return Err(err);
        }
        // Row groups holding at least one kept row, and a selection over
        // just those groups' rows.
        let mut groups = Vec::new();
        let mut selectors: Vec<RowSelector> = Vec::new();
        let mut start = 0;
        for (g, &n) in group_rows.iter().enumerate() {
            let flags = &keep[start..start + n];
            if flags.iter().any(|&k| k) {
                groups.push(g);
                for &k in flags {
                    match selectors.last_mut() {
                        Some(last) if last.skip != k => last.row_count += 1,
                        _ => selectors.push(if k {
                            RowSelector::select(1)
                        } else {
                            RowSelector::skip(1)
                        }),
                    }
                }
            }
            start += n;
        }
        kept_rows = keep.iter().filter(|&&k| k).count();
        if kept_rows == 0 && total > 0 {
            // Nothing kept: read the first row only, to learn the stream
            // length of the empty (0, samples) result.
            groups = vec![0];
            selectors = vec![RowSelector::select(1), RowSelector::skip(group_rows[0] - 1)];
        }
        builder = builder
            .with_row_groups(groups)
            .with_row_selection(RowSelection::from(selectors));
    }
    let batches = builder.build().map_err(pq_err)?;
    let mut columns = Vec::new();
    for batch in batches {
        let batch = batch.map_err(|e| {
            Error::corrupt(format!("parquet: {}", crate::arrow::arrow_err(e).message()))
        })?;
        columns.push(column_of(batch.column(0))?);
    }
    if columns.is_empty() {
        // no rows at all: the field metadata alone gives the shape
        columns.push(probe.clone());
    }
    let array = if kept_rows == 0 && total > 0 {
        let array =
            FlacArray::from_arrow_parts(&columns, vec![columns.iter().map(FlacColumn::len).sum()])?;
        let mut parts = array.into_parts();
        parts.shape = vec![0, parts.shape.last().copied().unwrap_or(0)];
        parts.compressed.clear();
        parts.starts.clear();
        parts.nbytes.clear();
        parts.offsets = parts.offsets.map(|_| Vec::new());
        parts.gains = parts.gains.map(|_| Vec::new());
        FlacArray::from_parts(parts)?
    } else {
        let leading = match (probe.leading_shape(), keep) {
            (Some(shape), None) => shape.iter().map(|&d| d as usize).collect(),
            _ => vec![kept_rows],
        };
        FlacArray::from_arrow_parts(&columns, leading)?
    };
    match (probe.facts().digest.as_deref(), keep) {
        (None, _) => {}
        (Some(digest), None) => array.check_digest(Some(digest))?,
        (Some(digest), Some(_)) => {
            let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(reader, metadata);
            let read = (array.dtype(), array.level(), array.stream_size());
            check_scales_digest(builder, index, &probe, read, digest)?
        }
    }
    Ok(array)
}

/// Checks a whole column's digest when only some of its rows were read:
/// reads every row's offset and gain (the streams stay unread). `dtype`,
/// `level` and `stream_size` are those of the rows read (or, before any
/// row is read, those the field metadata records).
fn check_scales_digest<R: ChunkReader + 'static>(
    builder: ParquetRecordBatchReaderBuilder<R>,
    index: usize,
    probe: &FlacColumn,
    (dtype, level, stream_size): (DType, u32, usize),
    digest: &str,
) -> Result<()> {
    let leaves = builder.parquet_schema().columns().len();
    // the struct's leaves are stream, offset, gain: project the last two
    let first_leaf = (0..leaves)
        .find(|&leaf| builder.parquet_schema().get_column_root_idx(leaf) == index)
        .ok_or_else(|| Error::corrupt("parquet: the column has no leaves"))?;
    let mask = ProjectionMask::leaves(builder.parquet_schema(), [first_leaf + 1, first_leaf + 2]);
    let batches = builder.with_projection(mask).build().map_err(pq_err)?;
    let (mut offsets, mut gains) = (Vec::new(), Vec::new());
    for batch in batches {
        let batch = batch.map_err(|e| {
            Error::corrupt(format!("parquet: {}", crate::arrow::arrow_err(e).message()))
        })?;
        let storage = batch
            .column(0)
            .as_any()
            .downcast_ref::<arrow_array::StructArray>()
            .ok_or_else(|| Error::corrupt("parquet: the column is not a struct"))?;
        for (values, out) in [(1, &mut offsets), (2, &mut gains)] {
            let floats = storage
                .column_by_name([crate::arrow::OFFSET_FIELD, crate::arrow::GAIN_FIELD][values - 1])
                .and_then(|c| c.as_any().downcast_ref::<arrow_array::Float64Array>())
                .ok_or_else(|| Error::corrupt("parquet: offsets or gains are missing"))?;
            out.extend(floats.iter().map(|v| v.unwrap_or(0.0)));
        }
    }
    let leading: Vec<usize> = probe
        .leading_shape()
        .map(|s| s.iter().map(|&d| d as usize).collect())
        .unwrap_or_else(|| vec![offsets.len()]);
    let mut shape = leading;
    shape.push(stream_size);
    let float = dtype.is_float();
    let actual = crate::arrow::array_digest(
        dtype,
        &shape,
        level,
        float.then_some(offsets.as_slice()),
        float.then_some(gains.as_slice()),
    );
    if actual != digest {
        return Err(Error::corrupt(format!(
            "parquet: the column's shape, type, level, offsets or gains do not match its \
             digest ({digest} recorded, {actual} found)"
        )));
    }
    Ok(())
}

/// [`read_array`] from a file path.
pub fn read_array_file(
    path: impl AsRef<Path>,
    column: &str,
    keep: Option<(&[bool], &[usize])>,
) -> Result<FlacArray> {
    read_array(open(path.as_ref())?, column, keep)
}
