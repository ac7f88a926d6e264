//! Reading `flacarray.flac` columns from Parquet: the footer checked, only
//! the row groups and pages holding kept rows read, digests checked.

use std::fs::File;
use std::path::Path;

use arrow_array::Array;
use arrow_schema::extension::ExtensionType;
use parquet::arrow::arrow_reader::{
    ArrowReaderBuilder, ArrowReaderMetadata, ParquetRecordBatchReaderBuilder, RowSelection,
    RowSelector,
};
use parquet::arrow::ProjectionMask;
use parquet::file::reader::ChunkReader;

use crate::array::DType;
use crate::arrow::{FlacColumn, FlacExtension};
use crate::error::{Error, ErrorKind, Result};
use crate::FlacArray;

use super::pq_err;

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

/// Opens a file to read, an error naming it if it cannot be.
fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::at_path(path, e))
}

/// Checks what the footer claims about where the data lies (the parquet
/// crate trusts it, and panics on some impossible values): every row
/// group's row count and every column chunk's byte range must be
/// non-negative and inside the file.
pub(super) fn check_footer(
    meta: &parquet::file::metadata::ParquetMetaData,
    file_len: u64,
) -> Result<()> {
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
pub(super) fn guarded<T>(read: impl FnOnce() -> Result<T>) -> Result<T> {
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
    let metadata = ArrowReaderMetadata::load(&reader, reader_options()).map_err(pq_err)?;
    check_footer(metadata.metadata(), reader.0.len())?;
    let builder =
        ParquetRecordBatchReaderBuilder::new_with_metadata(reader.clone(), metadata.clone());
    let target = Target::find(builder.schema(), column)?;
    // every row's offset and gain, read in a pass of their own
    let scales = |reader| -> Result<Scales> {
        let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(reader, metadata.clone());
        let mut scales = Scales::default();
        for batch in scales_reader(builder, target.index)?
            .build()
            .map_err(pq_err)?
        {
            scales.add(&batch.map_err(batch_err)?)?;
        }
        Ok(scales)
    };
    let plan = match RowPlan::new(builder.metadata(), &target, keep)? {
        Ok(plan) => plan,
        Err(mask_error) => {
            // a mask that does not fit a damaged shape: the damage first
            if let Some((digest, recorded)) = target.recorded_digest()? {
                scales(reader)?.check(&target.probe, recorded, digest)?;
            }
            return Err(mask_error);
        }
    };
    let mut columns = Vec::new();
    for batch in plan.configure(builder, &target).build().map_err(pq_err)? {
        columns.push(target.column_of(batch.map_err(batch_err)?.column(0))?);
    }
    let array = plan.assemble(columns, &target, keep)?;
    if let Some((digest, read)) = target.check_digest(&array, keep)? {
        scales(reader)?.check(&target.probe, read, digest)?;
    }
    Ok(array)
}

/// How a read loads the footer: with the page index when there is one,
/// so pages are fetched by their exact byte ranges.
pub(super) fn reader_options() -> parquet::arrow::arrow_reader::ArrowReaderOptions {
    parquet::arrow::arrow_reader::ArrowReaderOptions::new()
        .with_offset_index_policy(parquet::file::metadata::PageIndexPolicy::Optional)
}

/// A batch the reader could not decode: damage in the file.
pub(super) fn batch_err(err: arrow_schema::ArrowError) -> Error {
    Error::corrupt(format!(
        "parquet: {}",
        crate::arrow::arrow_err(err).message()
    ))
}

/// An array's element type, level and stream length: what its digest
/// covers besides its shape, offsets and gains.
pub(super) type ArrayKind = (DType, u32, usize);

/// The column a read is after, as the file's Arrow schema describes it.
pub(super) struct Target {
    /// Its position among the file's root columns.
    pub(super) index: usize,
    name: String,
    field: arrow_schema::Field,
    /// Whether the field says it was written by this crate.
    claims_ours: bool,
    /// The column with no rows: its type and the whole array's facts.
    pub(super) probe: FlacColumn,
}

impl Target {
    /// Finds column `name` in `schema`; an error if it is missing or not a
    /// flacarray column.
    pub(super) fn find(schema: &arrow_schema::Schema, name: &str) -> Result<Self> {
        let (index, field) = schema
            .column_with_name(name)
            .ok_or_else(|| Error::invalid(format!("parquet file has no column '{name}'")))?;
        // A column that claims to be ours but whose type metadata or
        // storage does not hold up is a damaged file, not a caller's
        // mistake (what this crate writes always carries the name, its
        // metadata and the whole array's facts: a field with any of them
        // is ours, damaged)
        let claims_ours = field.extension_type_name() == Some(FlacExtension::NAME)
            || field.metadata().contains_key("ARROW:extension:metadata")
            || field.metadata().keys().any(|k| k.starts_with("flacarray."));
        let probe = read_column(
            field,
            name,
            claims_ours,
            &arrow_array::new_empty_array(field.data_type()),
        )?;
        Ok(Target {
            index,
            name: name.to_string(),
            field: field.clone(),
            claims_ours,
            probe,
        })
    }

    /// A batch's array of this column as a FlacColumn.
    pub(super) fn column_of(&self, array: &arrow_array::ArrayRef) -> Result<FlacColumn> {
        read_column(&self.field, &self.name, self.claims_ours, array)
    }

    /// Checks the field's digest against a whole array just read; for an
    /// array of kept rows only, returns the digest and the rows' type,
    /// level and stream length, for a check over every row's scales
    /// ([`Scales`]) that the caller reads.
    pub(super) fn check_digest(
        &self,
        array: &FlacArray,
        keep: Option<(&[bool], &[usize])>,
    ) -> Result<Option<(&str, ArrayKind)>> {
        match (self.probe.facts().digest.as_deref(), keep) {
            (None, _) => Ok(None),
            (Some(digest), None) => array.check_digest(Some(digest)).map(|()| None),
            (Some(digest), Some(_)) => Ok(Some((
                digest,
                (array.dtype(), array.level(), array.stream_size()),
            ))),
        }
    }

    /// The digest the field records, with the type, level and stream length
    /// it records (checked before any row is read).
    pub(super) fn recorded_digest(&self) -> Result<Option<(&str, ArrayKind)>> {
        let facts = self.probe.facts();
        let Some(digest) = facts.digest.as_deref() else {
            return Ok(None);
        };
        let (Some(level), Some(stream_size)) = (facts.level, facts.stream_size) else {
            return Err(Error::corrupt(
                "parquet: the column has a digest but no level or stream length",
            ));
        };
        Ok(Some((
            digest,
            (self.probe.dtype(), level, stream_size as usize),
        )))
    }
}

/// Column `name` of a batch, described by `field`: what does not hold up
/// in a column that claims to be ours is damage.
fn read_column(
    field: &arrow_schema::Field,
    name: &str,
    claims_ours: bool,
    array: &arrow_array::ArrayRef,
) -> Result<FlacColumn> {
    FlacColumn::from_field(field, array).map_err(|e| {
        // a newer layout stays Unsupported: the file is not damaged
        if claims_ours && e.kind() != ErrorKind::Unsupported {
            Error::corrupt(format!("parquet: column '{name}': {}", e.message()))
        } else {
            e
        }
    })
}

/// Which rows a read fetches: the row groups holding kept rows and a
/// selection over just those groups' rows (everything without a mask).
pub(super) struct RowPlan {
    groups: Option<Vec<usize>>,
    selection: Option<RowSelection>,
    kept_rows: usize,
    total: usize,
    batch_size: usize,
}

impl RowPlan {
    /// The plan for `keep` (a boolean mask in C order and its shape, which
    /// must be the array's leading shape). `Ok(Err(..))`: the mask does not
    /// fit the column's shape (the caller checks the digest first, so
    /// damage is reported before a mistake).
    pub(super) fn new(
        meta: &parquet::file::metadata::ParquetMetaData,
        target: &Target,
        keep: Option<(&[bool], &[usize])>,
    ) -> Result<std::result::Result<Self, Error>> {
        let group_rows: Vec<usize> = meta
            .row_groups()
            .iter()
            .map(|g| g.num_rows() as usize)
            .collect();
        let total: usize = group_rows.iter().sum();
        let mut plan = RowPlan {
            groups: None,
            selection: None,
            kept_rows: total,
            total,
            batch_size: rows_per_batch(meta),
        };
        let Some((keep, keep_shape)) = keep else {
            return Ok(Ok(plan));
        };
        let leading: Vec<usize> = match target.probe.leading_shape() {
            Some(shape) => shape.iter().map(|&d| d as usize).collect(),
            None => vec![total],
        };
        if leading.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) != Some(total) {
            return Err(Error::corrupt(format!(
                "parquet: the column's leading shape {leading:?} does not match its {total} rows"
            )));
        }
        if let Err(err) = crate::container::kept_streams(keep, keep_shape, &leading) {
            return Ok(Err(err));
        }
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
        plan.kept_rows = keep.iter().filter(|&&k| k).count();
        if plan.kept_rows == 0 && total > 0 {
            // Nothing kept: read the first row only, to learn the stream
            // length of the empty (0, samples) result.
            groups = vec![0];
            selectors = vec![RowSelector::select(1), RowSelector::skip(group_rows[0] - 1)];
        }
        plan.groups = Some(groups);
        plan.selection = Some(RowSelection::from(selectors));
        Ok(Ok(plan))
    }

    /// A reader builder (sync or async) set to fetch the plan's rows of
    /// the target column only.
    pub(super) fn configure<T>(
        &self,
        builder: ArrowReaderBuilder<T>,
        target: &Target,
    ) -> ArrowReaderBuilder<T> {
        let mask = ProjectionMask::roots(builder.parquet_schema(), [target.index]);
        let mut builder = builder
            .with_projection(mask)
            .with_batch_size(self.batch_size);
        if let (Some(groups), Some(selection)) = (&self.groups, &self.selection) {
            builder = builder
                .with_row_groups(groups.clone())
                .with_row_selection(selection.clone());
        }
        builder
    }

    /// The array the read columns make.
    pub(super) fn assemble(
        &self,
        mut columns: Vec<FlacColumn>,
        target: &Target,
        keep: Option<(&[bool], &[usize])>,
    ) -> Result<FlacArray> {
        if columns.is_empty() {
            // no rows at all: the field metadata alone gives the shape
            columns.push(target.probe.clone());
        }
        if self.kept_rows == 0 && self.total > 0 {
            let rows = columns.iter().map(FlacColumn::len).sum();
            let array = FlacArray::from_arrow_parts(&columns, vec![rows])?;
            let mut parts = array.into_parts();
            parts.shape = vec![0, parts.shape.last().copied().unwrap_or(0)];
            parts.compressed.clear();
            parts.stream_starts.clear();
            parts.stream_nbytes.clear();
            parts.stream_offsets = parts.stream_offsets.map(|_| Vec::new());
            parts.stream_gains = parts.stream_gains.map(|_| Vec::new());
            return FlacArray::from_parts(parts);
        }
        let leading = match (target.probe.leading_shape(), keep) {
            (Some(shape), None) => shape.iter().map(|&d| d as usize).collect(),
            _ => vec![self.kept_rows],
        };
        FlacArray::from_arrow_parts(&columns, leading)
    }
}

/// A reader builder (sync or async) set to read every row's offset and
/// gain of the target column, never its streams.
pub(super) fn scales_reader<T>(
    builder: ArrowReaderBuilder<T>,
    index: usize,
) -> Result<ArrowReaderBuilder<T>> {
    let leaves = builder.parquet_schema().columns().len();
    // the struct's leaves are stream, offset, gain: project the last two
    let first_leaf = (0..leaves)
        .find(|&leaf| builder.parquet_schema().get_column_root_idx(leaf) == index)
        .ok_or_else(|| Error::corrupt("parquet: the column has no leaves"))?;
    let mask = ProjectionMask::leaves(builder.parquet_schema(), [first_leaf + 1, first_leaf + 2]);
    Ok(builder.with_projection(mask))
}

/// Every row's offset and gain, gathered batch by batch to check a whole
/// column's digest when only some of its rows were read.
#[derive(Default)]
pub(super) struct Scales {
    offsets: Vec<f64>,
    gains: Vec<f64>,
}

impl Scales {
    /// Adds a batch read by [`scales_reader`].
    pub(super) fn add(&mut self, batch: &arrow_array::RecordBatch) -> Result<()> {
        let storage = batch
            .column(0)
            .as_any()
            .downcast_ref::<arrow_array::StructArray>()
            .ok_or_else(|| Error::corrupt("parquet: the column is not a struct"))?;
        for (name, out) in [
            (crate::arrow::OFFSET_FIELD, &mut self.offsets),
            (crate::arrow::GAIN_FIELD, &mut self.gains),
        ] {
            let floats = storage
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<arrow_array::Float64Array>())
                .ok_or_else(|| Error::corrupt("parquet: offsets or gains are missing"))?;
            out.extend(floats.iter().map(|v| v.unwrap_or(0.0)));
        }
        Ok(())
    }

    /// Checks the digest against the gathered scales; `dtype`, `level` and
    /// `stream_size` are those of the rows read (or, before any row is
    /// read, those the field metadata records).
    pub(super) fn check(
        &self,
        probe: &FlacColumn,
        (dtype, level, stream_size): ArrayKind,
        digest: &str,
    ) -> Result<()> {
        let leading: Vec<usize> = probe
            .leading_shape()
            .map(|s| s.iter().map(|&d| d as usize).collect())
            .unwrap_or_else(|| vec![self.offsets.len()]);
        let mut shape = leading;
        shape.push(stream_size);
        let float = dtype.is_float();
        let actual = crate::arrow::array_digest(
            dtype,
            &shape,
            level,
            float.then_some(self.offsets.as_slice()),
            float.then_some(self.gains.as_slice()),
        );
        if actual != digest {
            return Err(Error::corrupt(format!(
                "parquet: the column's shape, type, level, offsets or gains do not match its \
                 digest ({digest} recorded, {actual} found)"
            )));
        }
        Ok(())
    }
}

/// [`read_array`] from a file path.
pub fn read_array_file(
    path: impl AsRef<Path>,
    column: &str,
    keep: Option<(&[bool], &[usize])>,
) -> Result<FlacArray> {
    read_array(open(path.as_ref())?, column, keep)
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
