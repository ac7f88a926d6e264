//! [`FlacColumn`]: an extension-typed column (metadata + storage struct).

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StructArray};
use arrow_schema::extension::ExtensionType;
use arrow_schema::{Field, Schema};

use super::arrow_err;
use super::extension::{check_storage, FlacExtension, FlacMetadata};
use crate::error::{Error, Result};
use crate::quantize::Scale;

/// A `flacarray.flac` column: its metadata and its storage struct array.
#[derive(Debug, Clone)]
pub struct FlacColumn {
    metadata: FlacMetadata,
    storage: StructArray,
}

impl FlacColumn {
    /// Pairs metadata with a storage array, checking both.
    pub fn new(metadata: FlacMetadata, storage: StructArray) -> Result<Self> {
        FlacExtension::try_new(storage.data_type(), metadata.clone()).map_err(arrow_err)?;
        Ok(FlacColumn { metadata, storage })
    }

    /// Reads the column described by `field` (which must carry the
    /// `flacarray.flac` extension type) from `array`.
    pub fn from_field(field: &Field, array: &ArrayRef) -> Result<Self> {
        let ext = field.try_extension_type::<FlacExtension>().map_err(|e| {
            Error::invalid(format!(
                "column '{}' is not a flacarray.flac column: {e}",
                field.name()
            ))
        })?;
        check_storage(array.data_type()).map_err(arrow_err)?;
        let storage = array
            .as_struct_opt()
            .ok_or_else(|| Error::invalid("flacarray.flac storage must be a struct array"))?
            .clone();
        FlacColumn::new(ext.metadata().clone(), storage)
    }

    /// Finds column `name` in a record batch.
    pub fn from_record_batch(batch: &RecordBatch, name: &str) -> Result<Self> {
        let schema = batch.schema();
        let (index, field) = schema
            .column_with_name(name)
            .ok_or_else(|| Error::invalid(format!("record batch has no column '{name}'")))?;
        FlacColumn::from_field(field, batch.column(index))
    }

    /// The extension metadata.
    pub fn metadata(&self) -> &FlacMetadata {
        &self.metadata
    }

    /// The storage struct array.
    pub fn storage(&self) -> &StructArray {
        &self.storage
    }

    /// Number of rows (streams).
    pub fn len(&self) -> usize {
        self.storage.len()
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.storage.is_empty()
    }

    /// A field named `name` carrying the extension type.
    pub fn field(&self, name: &str) -> Field {
        let ext = FlacExtension::new(self.metadata.clone()).expect("metadata was validated");
        Field::new(name, self.storage.data_type().clone(), true).with_extension_type(ext)
    }

    /// A one-column record batch.
    pub fn to_record_batch(&self, name: &str) -> Result<RecordBatch> {
        let schema = Arc::new(Schema::new(vec![self.field(name)]));
        RecordBatch::try_new(schema, vec![Arc::new(self.storage.clone()) as ArrayRef])
            .map_err(arrow_err)
    }

    /// Each row's FLAC bytes (None for null rows).
    pub(crate) fn streams(&self) -> Vec<Option<&[u8]>> {
        let column = self.storage.column(0);
        let rows = self.storage.len();
        let valid = |i: usize| self.storage.is_valid(i) && column.is_valid(i);
        if let Some(bin) = column.as_binary_opt::<i64>() {
            (0..rows).map(|i| valid(i).then(|| bin.value(i))).collect()
        } else {
            let bin = column.as_binary::<i32>();
            (0..rows).map(|i| valid(i).then(|| bin.value(i))).collect()
        }
    }

    /// Each row's float scale, where both offset and gain are present.
    pub(crate) fn scales(&self) -> Vec<Option<Scale>> {
        let offsets: &Float64Array = self.storage.column(1).as_primitive();
        let gains: &Float64Array = self.storage.column(2).as_primitive();
        (0..self.storage.len())
            .map(|i| {
                (offsets.is_valid(i) && gains.is_valid(i)).then(|| Scale {
                    offset: offsets.value(i),
                    gain: gains.value(i),
                })
            })
            .collect()
    }
}
