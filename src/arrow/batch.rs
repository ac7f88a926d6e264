//! Whole record batches: one column replaced by its compressed form and
//! back, every other column untouched, the field's name, nullability and
//! metadata kept, and the list type recorded so that the round trip gives
//! the input schema back exactly.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::extension::{EXTENSION_TYPE_METADATA_KEY, EXTENSION_TYPE_NAME_KEY};
use arrow_schema::{Field, FieldRef, Schema};

use super::column::FlacColumn;
use super::extension::FIELD_KEYS;
use super::lists::{compress_lists, decompress_lists_as, ListKind};
use super::{arrow_err, SampleWindow};
use crate::array::CompressOptions;
use crate::error::{Error, Result};

/// Whether a field metadata key is one this crate adds to a
/// `flacarray.flac` column (removed again when the column is decompressed).
fn is_ours(key: &str) -> bool {
    key == EXTENSION_TYPE_NAME_KEY
        || key == EXTENSION_TYPE_METADATA_KEY
        || FIELD_KEYS.contains(&key)
}

/// `batch` with list column `name` compressed ([`compress_lists`]: one FLAC
/// stream per row). The other columns are shared, not copied; the field
/// keeps its name, position, nullability and metadata, and records the
/// list type so that [`decompress_column`] with [`ListKind::SameAsInput`]
/// gives the original schema back.
///
/// ```
/// use std::sync::Arc;
/// use arrow_array::{types::Int32Type, Int64Array, ListArray, RecordBatch};
/// use flacarray::arrow::{compress_column, decompress_column, ListKind};
/// use flacarray::CompressOptions;
///
/// let signal = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
///     Some((0..500).map(Some).collect::<Vec<_>>()),
///     None,
/// ]);
/// let batch = RecordBatch::try_from_iter([
///     ("id", Arc::new(Int64Array::from(vec![7, 8])) as _),
///     ("signal", Arc::new(signal) as _),
/// ])?;
/// let packed = compress_column(&batch, "signal", &CompressOptions::default())?;
/// let back = decompress_column(&packed, "signal", .., ListKind::SameAsInput)?;
/// assert_eq!(back, batch);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compress_column(
    batch: &RecordBatch,
    name: &str,
    options: &CompressOptions,
) -> Result<RecordBatch> {
    let (index, field) = find(batch, name)?;
    let column =
        compress_lists(batch.column(index).as_ref(), options).map_err(|e| e.in_column(name))?;
    let (ours, storage) = column.to_field_and_array(name);
    let mut metadata = HashMap::<String, String>::from(field.metadata());
    metadata.extend(HashMap::<String, String>::from(ours.metadata()));
    let field = ours
        .with_nullable(field.is_nullable())
        .with_metadata(metadata);
    replace(batch, index, field, storage)
}

/// `batch` with `flacarray.flac` column `name` decoded into a list column
/// of `kind` ([`ListKind::SameAsInput`]: the list type it was compressed
/// from), keeping `window` of each row ([`SampleWindow`]'s rule). The field
/// keeps its name, position, nullability and the user's metadata; the keys
/// this crate added are removed. Other columns are shared, not copied.
pub fn decompress_column(
    batch: &RecordBatch,
    name: &str,
    window: impl Into<SampleWindow>,
    kind: ListKind,
) -> Result<RecordBatch> {
    let (index, field) = find(batch, name)?;
    let column = FlacColumn::from_field(&field, batch.column(index))?;
    let values = decompress_lists_as(&column, window, kind).map_err(|e| e.in_column(name))?;
    let metadata: HashMap<String, String> = field
        .metadata()
        .iter()
        .filter(|(key, _)| !is_ours(key))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let field =
        Field::new(name, values.data_type().clone(), field.is_nullable()).with_metadata(metadata);
    replace(batch, index, field, values)
}

fn find(batch: &RecordBatch, name: &str) -> Result<(usize, FieldRef)> {
    let schema = batch.schema();
    let (index, field) = schema
        .column_with_name(name)
        .ok_or_else(|| Error::invalid(format!("record batch has no column '{name}'")))?;
    Ok((index, Arc::new(field.clone())))
}

fn replace(
    batch: &RecordBatch,
    index: usize,
    field: Field,
    array: ArrayRef,
) -> Result<RecordBatch> {
    let schema = batch.schema();
    let mut fields: Vec<FieldRef> = schema.fields().iter().cloned().collect();
    fields[index] = Arc::new(field);
    let mut columns = batch.columns().to_vec();
    columns[index] = array;
    let schema = Schema::new_with_metadata(fields, schema.metadata().clone());
    RecordBatch::try_new(Arc::new(schema), columns).map_err(arrow_err)
}
