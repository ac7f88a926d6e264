//! [`FlacColumn`]: an extension-typed column (type metadata, per-array
//! facts from the field, and the storage struct).

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StructArray};
use arrow_schema::extension::ExtensionType;
use arrow_schema::{DataType, Field, FieldRef, Schema};

use super::arrow_err;
use super::extension::{
    check_storage, FlacExtension, FlacMetadata, DIGEST_KEY, LEADING_SHAPE_KEY, LEVEL_KEY,
    LIST_TYPE_KEY, STREAM_SIZE_KEY,
};
use super::lists::ListKind;
use crate::array::{DType, FlacArrayPartsRef};
use crate::error::{Error, ErrorKind, Result};
use crate::quantize::Scale;

/// What a column knows about the whole array it holds, beyond its type:
/// kept in the Arrow field's metadata, so it never affects type equality.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArrayFacts {
    /// The leading shape, when the column holds one whole array.
    pub leading_shape: Option<Vec<u64>>,
    /// The compression level used.
    pub level: Option<u32>,
    /// Samples per stream, when the column holds one whole array.
    pub stream_size: Option<u64>,
    /// The whole array's digest ([`DIGEST_KEY`]), when recorded.
    pub digest: Option<String>,
    /// The list type the rows were compressed from ([`LIST_TYPE_KEY`]).
    pub source_list: Option<SourceList>,
}

/// The list type a column's rows were compressed from, so that decoding
/// with [`ListKind::SameAsInput`] gives the input's `DataType` back: the
/// list kind and the item field's name, nullability and metadata (its data
/// type is the column's element type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceList {
    /// `List`, `LargeList` or `FixedSizeList`.
    pub kind: ListKind,
    /// The item field.
    pub item: FieldRef,
}

impl SourceList {
    /// The source list of a column of `data_type` (None if it is no list).
    pub fn of(data_type: &DataType) -> Option<Self> {
        let (kind, item) = match data_type {
            DataType::List(item) => (ListKind::List, item),
            DataType::LargeList(item) => (ListKind::LargeList, item),
            DataType::FixedSizeList(item, _) => (ListKind::FixedSizeList, item),
            _ => return None,
        };
        Some(SourceList {
            kind,
            item: item.clone(),
        })
    }

    fn to_json(&self) -> String {
        let kind = match self.kind {
            ListKind::List => "List",
            ListKind::FixedSizeList => "FixedSizeList",
            _ => "LargeList",
        };
        serde_json::json!({
            "kind": kind,
            "item": self.item.name(),
            "nullable": self.item.is_nullable(),
            "metadata": HashMap::<String, String>::from(self.item.metadata()),
        })
        .to_string()
    }

    fn from_json(text: &str, dtype: DType) -> Option<Self> {
        #[derive(serde::Deserialize)]
        struct Raw {
            kind: String,
            item: String,
            nullable: bool,
            #[serde(default)]
            metadata: HashMap<String, String>,
        }
        let raw: Raw = serde_json::from_str(text).ok()?;
        let kind = match raw.kind.as_str() {
            "List" => ListKind::List,
            "LargeList" => ListKind::LargeList,
            "FixedSizeList" => ListKind::FixedSizeList,
            _ => return None,
        };
        let item = Field::new(raw.item, super::lists::arrow_type(dtype), raw.nullable)
            .with_metadata(raw.metadata);
        Some(SourceList {
            kind,
            item: Arc::new(item),
        })
    }
}

impl ArrayFacts {
    /// The facts of a whole array (leading shape, stream length, level and
    /// digest), from its record; only its type, shape, level and scales are
    /// read, so a record without bytes serves as well.
    pub fn whole_array(array: FlacArrayPartsRef<'_>) -> Self {
        let shape = array.shape;
        let (&stream_size, leading) = shape.split_last().unwrap_or((&0, &[]));
        let digest = array_digest(
            array.dtype,
            shape,
            array.level,
            array.stream_offsets,
            array.stream_gains,
        );
        ArrayFacts {
            leading_shape: Some(leading.iter().map(|&d| d as u64).collect()),
            level: Some(array.level),
            stream_size: Some(stream_size as u64),
            digest: Some(digest),
            source_list: None,
        }
    }
}

impl ArrayFacts {
    /// The facts as field metadata (keys [`LEADING_SHAPE_KEY`], [`LEVEL_KEY`],
    /// [`STREAM_SIZE_KEY`], [`DIGEST_KEY`]).
    pub fn to_metadata(&self) -> HashMap<String, String> {
        let mut meta = HashMap::new();
        if let Some(shape) = &self.leading_shape {
            meta.insert(
                LEADING_SHAPE_KEY.to_string(),
                serde_json::to_string(shape).unwrap_or_default(),
            );
        }
        if let Some(level) = self.level {
            meta.insert(LEVEL_KEY.to_string(), level.to_string());
        }
        if let Some(size) = self.stream_size {
            meta.insert(STREAM_SIZE_KEY.to_string(), size.to_string());
        }
        if let Some(digest) = &self.digest {
            meta.insert(DIGEST_KEY.to_string(), digest.clone());
        }
        if let Some(source) = &self.source_list {
            meta.insert(LIST_TYPE_KEY.to_string(), source.to_json());
        }
        meta
    }
}

/// The digest of a whole array held by a column ([`DIGEST_KEY`]).
pub fn array_digest(
    dtype: DType,
    shape: &[usize],
    level: u32,
    offsets: Option<&[f64]>,
    gains: Option<&[f64]>,
) -> String {
    crate::digest::table_digest(dtype, shape, level, &[], &[], offsets, gains)
}

/// A `flacarray.flac` column: its type metadata, array facts and storage.
#[derive(Debug, Clone)]
pub struct FlacColumn {
    metadata: FlacMetadata,
    facts: ArrayFacts,
    storage: StructArray,
}

fn corrupt_field(name: &str, key: &str, value: &str) -> Error {
    Error::corrupt(format!(
        "column '{name}': field metadata '{key}' holds {value:?}"
    ))
}

impl FlacColumn {
    /// Pairs metadata with a storage array, checking the storage type.
    pub fn new(metadata: FlacMetadata, storage: StructArray) -> Result<Self> {
        check_storage(storage.data_type()).map_err(arrow_err)?;
        Ok(FlacColumn {
            metadata,
            facts: ArrayFacts::default(),
            storage,
        })
    }

    /// The same column, recording facts about the whole array.
    pub fn with_facts(mut self, facts: ArrayFacts) -> Self {
        self.facts = facts;
        self
    }

    /// Reads the column described by `field` (which must carry the
    /// `flacarray.flac` extension type) from `array`.
    pub fn from_field(field: &Field, array: &ArrayRef) -> Result<Self> {
        let ext = field.try_extension_type::<FlacExtension>().map_err(|e| {
            let err = arrow_err(e);
            let message = match err.kind() {
                // a layout newer than this version reads
                ErrorKind::Unsupported => format!("column '{}': {}", field.name(), err.message()),
                _ => format!(
                    "column '{}' is not a flacarray.flac column: {}",
                    field.name(),
                    err.message()
                ),
            };
            Error::new(err.kind(), message)
        })?;
        let storage = array
            .as_struct_opt()
            .ok_or_else(|| Error::invalid("flacarray.flac storage must be a struct array"))?
            .clone();
        let column = FlacColumn::new(ext.metadata().clone(), storage)?;
        let facts = facts_from(field.name(), field.metadata(), column.dtype())?;
        Ok(column.with_facts(facts))
    }

    /// A column from a bare storage struct (as DuckDB or a reader without
    /// the extension type hands it back): the dtype is given, or recovered
    /// from the first stream's channel count and the presence of scales.
    pub fn from_storage(storage: &ArrayRef, dtype: Option<DType>) -> Result<Self> {
        check_storage(storage.data_type()).map_err(arrow_err)?;
        let storage = storage.as_struct().clone();
        let dtype = match dtype {
            Some(d) => d,
            None => infer_dtype(&storage)?,
        };
        FlacColumn::new(FlacMetadata::new(dtype), storage)
    }

    /// Finds column `name` in a record batch.
    pub fn from_record_batch(batch: &RecordBatch, name: &str) -> Result<Self> {
        let schema = batch.schema();
        let (index, field) = schema
            .column_with_name(name)
            .ok_or_else(|| Error::invalid(format!("record batch has no column '{name}'")))?;
        FlacColumn::from_field(field, batch.column(index))
    }

    /// The extension type metadata.
    pub fn metadata(&self) -> &FlacMetadata {
        &self.metadata
    }

    /// The element type the rows decode to.
    pub fn dtype(&self) -> DType {
        self.metadata.dtype()
    }

    /// What the column knows about the whole array it holds.
    pub fn facts(&self) -> &ArrayFacts {
        &self.facts
    }

    /// The leading shape of the whole array this column holds, from the
    /// field metadata (or a layout-1 type), if recorded.
    pub fn leading_shape(&self) -> Option<&[u64]> {
        self.facts.leading_shape.as_deref().or_else(|| {
            self.metadata
                .legacy()
                .and_then(|l| l.leading_shape.as_deref())
        })
    }

    /// FLAC channels every row's stream must have: layout 2 holds each
    /// type in format 1's channel layout ([`DType::channels`]); layout 1
    /// also held float64 in 1-channel streams (`None`: either).
    pub fn required_channels(&self) -> Option<u32> {
        self.metadata
            .legacy()
            .is_none()
            .then(|| self.dtype().channels())
    }

    /// The compression level, if recorded.
    pub fn level(&self) -> Option<u32> {
        self.facts
            .level
            .or_else(|| self.metadata.legacy().and_then(|l| l.level))
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

    /// A field named `name` carrying the extension type, and the array
    /// facts as field metadata.
    pub fn field(&self, name: &str) -> Field {
        let ext = FlacExtension::new(FlacMetadata::new(self.dtype()));
        Field::new(name, self.storage.data_type().clone(), true)
            .with_metadata(self.facts.to_metadata())
            .with_extension_type(ext)
    }

    /// The field and the storage as an Arrow array: what a record batch
    /// needs for this column.
    pub fn to_field_and_array(&self, name: &str) -> (Field, ArrayRef) {
        (self.field(name), Arc::new(self.storage.clone()) as ArrayRef)
    }

    /// A one-column record batch.
    pub fn to_record_batch(&self, name: &str) -> Result<RecordBatch> {
        let (field, array) = self.to_field_and_array(name);
        RecordBatch::try_new(Arc::new(Schema::new(vec![field])), vec![array]).map_err(arrow_err)
    }

    /// Each row's FLAC bytes (None for null rows).
    pub(crate) fn streams(&self) -> Vec<Option<&[u8]>> {
        let stream = self.stream_reader();
        (0..self.len()).map(stream).collect()
    }

    /// Row `i`'s FLAC bytes (None for a null row; `i` must be in range).
    pub(crate) fn stream(&self, i: usize) -> Option<&[u8]> {
        self.stream_reader()(i)
    }

    /// Reads any row's FLAC bytes (None for a null row), the binary
    /// column's type found once.
    fn stream_reader<'a>(&'a self) -> impl Fn(usize) -> Option<&'a [u8]> + 'a {
        let column = self.storage.column(0);
        let large = column.as_binary_opt::<i64>();
        let small = column.as_binary_opt::<i32>();
        let view = column.as_binary_view_opt();
        move |i| {
            if !(self.storage.is_valid(i) && column.is_valid(i)) {
                return None;
            }
            match (large, small, view) {
                (Some(bin), _, _) => Some(bin.value(i)),
                (_, Some(bin), _) => Some(bin.value(i)),
                // the three binary types are all `new` accepts
                (_, _, view) => Some(view.expect("storage type checked by new").value(i)),
            }
        }
    }

    /// Each row's float scale (None for integer data and null rows). A row
    /// whose offset/gain presence contradicts the dtype is corrupt: an
    /// integer column never has them, a float row always has both.
    pub(crate) fn scales(&self) -> Result<Vec<Option<Scale>>> {
        let scale = self.scale_reader();
        (0..self.len()).map(scale).collect()
    }

    /// Row `i`'s float scale (see [`scales`](Self::scales)).
    pub(crate) fn scale(&self, i: usize) -> Result<Option<Scale>> {
        self.scale_reader()(i)
    }

    /// Reads any row's float scale (see [`scales`](Self::scales)), the
    /// offset and gain columns found once.
    fn scale_reader(&self) -> impl Fn(usize) -> Result<Option<Scale>> + '_ {
        let offsets: &Float64Array = self.storage.column(1).as_primitive();
        let gains: &Float64Array = self.storage.column(2).as_primitive();
        let float = self.dtype().is_float();
        move |i| {
            let present = (offsets.is_valid(i), gains.is_valid(i));
            let row_valid = self.storage.is_valid(i);
            match (float, present) {
                (true, (true, true)) => Ok(Some(Scale {
                    offset: offsets.value(i),
                    gain: gains.value(i),
                })),
                (false, (false, false)) => Ok(None),
                _ if !row_valid => Ok(None),
                (true, _) => Ok(None), // an empty or damaged row: checked when decoded
                (false, _) => Err(Error::corrupt(format!(
                    "{} data has an offset or gain: the rows are not {}",
                    self.dtype(),
                    self.dtype()
                ))
                .in_row(i)),
            }
        }
    }

    /// Row `i`'s quantization step (`1 / gain`): None for integer columns
    /// and null rows. An error when `i` is out of range.
    pub fn step(&self, i: usize) -> Result<Option<f64>> {
        self.check_row(i)?;
        Ok(self.scale(i)?.map(|s| 1.0 / s.gain))
    }

    /// Row `i`'s offset (the value its integers count from): None for
    /// integer columns and null rows. An error when `i` is out of range.
    pub fn offset(&self, i: usize) -> Result<Option<f64>> {
        self.check_row(i)?;
        Ok(self.scale(i)?.map(|s| s.offset))
    }

    pub(crate) fn check_row(&self, i: usize) -> Result<()> {
        if i >= self.len() {
            return Err(Error::invalid(format!(
                "row {i} is out of range for a column of {} rows",
                self.len()
            )));
        }
        Ok(())
    }
}

/// The storage struct as an Arrow array (the extension type lives on the
/// field: see [`FlacColumn::field`]).
impl From<FlacColumn> for ArrayRef {
    fn from(column: FlacColumn) -> Self {
        Arc::new(column.storage)
    }
}

/// A column from a storage struct, its dtype recovered from the streams
/// (see [`FlacColumn::from_storage`]).
impl TryFrom<&dyn Array> for FlacColumn {
    type Error = Error;

    fn try_from(array: &dyn Array) -> Result<Self> {
        FlacColumn::from_storage(&arrow_array::make_array(array.to_data()), None)
    }
}

fn facts_from(name: &str, meta: &arrow_schema::Metadata, dtype: DType) -> Result<ArrayFacts> {
    let leading_shape = match meta.get(LEADING_SHAPE_KEY) {
        None => None,
        Some(text) => Some(
            serde_json::from_str::<Vec<u64>>(text)
                .map_err(|_| corrupt_field(name, LEADING_SHAPE_KEY, text))?,
        ),
    };
    let level = match meta.get(LEVEL_KEY) {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .and_then(|l| crate::codec::Level::new(l).ok())
                .map(crate::codec::Level::get)
                .ok_or_else(|| corrupt_field(name, LEVEL_KEY, text))?,
        ),
    };
    let stream_size = match meta.get(STREAM_SIZE_KEY) {
        None => None,
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| corrupt_field(name, STREAM_SIZE_KEY, text))?,
        ),
    };
    let digest = match meta.get(DIGEST_KEY) {
        None => None,
        Some(text) => {
            Some(crate::digest::parse(text).ok_or_else(|| corrupt_field(name, DIGEST_KEY, text))?)
        }
    };
    let source_list = match meta.get(LIST_TYPE_KEY) {
        None => None,
        Some(text) => Some(
            SourceList::from_json(text, dtype)
                .ok_or_else(|| corrupt_field(name, LIST_TYPE_KEY, text))?,
        ),
    };
    Ok(ArrayFacts {
        leading_shape,
        level,
        stream_size,
        digest,
        source_list,
    })
}

/// The dtype of a bare storage struct: 1-channel streams are 32-bit, 2
/// channels 64-bit; offsets and gains mark floats.
fn infer_dtype(storage: &StructArray) -> Result<DType> {
    let probe = FlacColumn::new(FlacMetadata::new(DType::Int32), storage.clone())?;
    let streams = probe.streams();
    let Some((row, bytes)) = streams
        .iter()
        .enumerate()
        .find_map(|(i, s)| s.filter(|b| !b.is_empty()).map(|b| (i, b)))
    else {
        return Err(Error::invalid(
            "cannot tell the dtype of a column without streams: give it explicitly",
        ));
    };
    let channels = crate::codec::stream_info(bytes)
        .map_err(|e| Error::corrupt(e.message()).in_row(row))?
        .channels;
    let float = storage.column(2).is_valid(row);
    DType::from_channels(channels, float)
        .ok_or_else(|| Error::corrupt(format!("a stream with {channels} channels")).in_row(row))
}
