//! Writing `flacarray.flac` columns to Parquet: writer properties, record
//! batches, whole arrays and arrays written part by part, files replaced
//! only once complete.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use arrow_array::{Array, RecordBatch};
use arrow_schema::extension::ExtensionType;
use arrow_schema::Schema;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::arrow::{ArrayFacts, FlacColumn, FlacExtension};
use crate::error::{Error, Result};
use crate::fsio::IfExists;
use crate::FlacArray;

use super::{pq_write_err, GROUP_BYTES};

/// Largest data page of a FLAC column's `stream` leaf, in bytes.
pub const STREAM_PAGE_BYTES: usize = 32 << 10;

/// Parquet writer properties for batches with `flacarray.flac` columns:
/// `base` (or the parquet crate's defaults) with, for the `stream` leaf of
/// each FLAC column only, no compression, no dictionary and no statistics
/// (FLAC bytes do not compress further, and min/max of binary blobs cost
/// time and space for nothing), and pages of at most [`STREAM_PAGE_BYTES`]
/// (a stream longer than that gets a page of its own), so a read of a few
/// rows fetches those rows' pages and little else. Every other column keeps
/// what `base` says.
pub fn writer_properties(schema: &Schema, base: Option<WriterProperties>) -> WriterProperties {
    let mut builder = base.unwrap_or_default().into_builder();
    for field in schema.fields() {
        if field.extension_type_name() == Some(FlacExtension::NAME) {
            let stream = ColumnPath::new(vec![field.name().clone(), "stream".to_string()]);
            builder = builder
                .set_column_compression(stream.clone(), Compression::UNCOMPRESSED)
                .set_column_dictionary_enabled(stream.clone(), false)
                .set_column_data_page_size_limit(stream.clone(), STREAM_PAGE_BYTES)
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
/// use flacarray::{CompressOptions, FlacArray};
///
/// let whole = FlacArray::compress(&[1i32, 5, 2, 8, 3, 9], &[3, 2], &CompressOptions::default())?;
/// let top = FlacArray::compress(&[1i32, 5, 2, 8], &[2, 2], &CompressOptions::default())?;
/// let bottom = FlacArray::compress(&[3i32, 9], &[1, 2], &CompressOptions::default())?;
/// let mut file = Vec::new();
/// let parts = [top.to_arrow(), bottom.to_arrow()];
/// let facts = ArrayFacts::whole_array(whole.parts());
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
    write_file(path.as_ref(), if_exists, |file| {
        write_parts(file, name, whole, parts)
    })
}

/// Writes a Parquet file at `path` with `write`: beside it first, synced,
/// then renamed into place, under the overwrite rules of
/// [`write_array_file`].
fn write_file(
    path: &Path,
    if_exists: IfExists,
    write: impl FnOnce(&File) -> Result<()>,
) -> Result<()> {
    crate::fsio::write_atomically(path, if_exists, "Parquet file", replaceable, |temp| {
        let file = File::create(temp)?;
        write(&file)?;
        file.sync_all()?;
        Ok(())
    })
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
/// `path` is refused with [`ErrorKind::AlreadyExists`](crate::ErrorKind::AlreadyExists) unless `if_exists` is
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
    write_file(path.as_ref(), if_exists, |file| {
        write_column(file, column, name)
    })
}
