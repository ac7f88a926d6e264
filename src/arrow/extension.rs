//! The `flacarray.flac` Arrow extension type.
//!
//! Storage: `Struct<stream: LargeBinary, offset: Float64, gain: Float64>`
//! (`Binary` and `BinaryView` streams are read too), one row per stream.
//! `stream` is a complete FLAC bytestream, or for a row that fits one
//! frame a frame row (layout 3; see [`crate::codec::whole_stream`]); both
//! record their length. `offset` and `gain` restore floats (null for
//! integers).
//!
//! The type's metadata holds only what decoding needs,
//! `{"format":3,"dtype":"float64"}`, so every column of one dtype has the
//! same type and columns from many files concatenate. Facts about a whole
//! array (its leading shape, the compression level) travel as the Arrow
//! field's key-value metadata ([`LEADING_SHAPE_KEY`], [`LEVEL_KEY`]), which
//! never stops two columns from concatenating.
//!
//! Layout version 2 is layout 3 without frame rows (every row a whole
//! stream), read as it is. Layout version 1 (this crate's 0.1 before the
//! change) also put `stream_size`, `leading_shape`, `channels` and `level`
//! in the type metadata; it is still read. Unknown metadata fields are ignored (a
//! future writer may add some); an unknown layout version is refused.

use std::sync::Arc;

use arrow_schema::extension::ExtensionType;
use arrow_schema::{ArrowError, DataType, Field, Fields};
use serde::Deserialize;

use crate::array::DType;

/// Version of the Arrow layout and metadata written by this crate.
pub const ARROW_FORMAT_VERSION: u32 = 3;
/// Versions this crate reads.
pub const READABLE_ARROW_FORMATS: [u32; 3] = [1, 2, 3];

/// Names of the storage struct's fields.
pub const STREAM_FIELD: &str = "stream";
/// Offset column (float data only).
pub const OFFSET_FIELD: &str = "offset";
/// Gain column (float data only).
pub const GAIN_FIELD: &str = "gain";

/// Field metadata key: the leading shape of the array a column holds (JSON
/// list of integers), when the column is one whole array.
pub const LEADING_SHAPE_KEY: &str = "flacarray.leading_shape";
/// Field metadata key: the FLAC compression level used (an integer).
pub const LEVEL_KEY: &str = "flacarray.level";
/// Field metadata key: samples per stream of the whole array a column
/// holds (an integer; what an array without rows keeps of its shape).
pub const STREAM_SIZE_KEY: &str = "flacarray.stream_size";
/// Field metadata key: the digest of the whole array's type, shape, level,
/// offsets and gains ([`crate::digest::table_digest`], without stream
/// tables: each row's bytes delimit its stream).
pub const DIGEST_KEY: &str = "flacarray.digest";
/// Field metadata key: the list type the rows were compressed from (kind,
/// item name, item nullability and metadata), so decoding can give the
/// input's exact `DataType` back.
pub const LIST_TYPE_KEY: &str = "flacarray.list_type";
/// Every field metadata key this crate writes (besides Arrow's extension
/// keys).
pub(crate) const FIELD_KEYS: [&str; 5] = [
    LEADING_SHAPE_KEY,
    LEVEL_KEY,
    STREAM_SIZE_KEY,
    DIGEST_KEY,
    LIST_TYPE_KEY,
];

/// Facts a layout-1 column carried in its type metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LegacyFacts {
    /// Samples per stream, if every row had the same length.
    pub stream_size: Option<u64>,
    /// The leading shape, if the column was one whole array.
    pub leading_shape: Option<Vec<u64>>,
    /// The compression level.
    pub level: Option<u32>,
}

/// The `flacarray.flac` type metadata: the element type the rows decode to.
///
/// Two metadata are equal when their rows decode the same way (same
/// dtype), whatever layout version they were read from.
#[derive(Debug, Clone, Eq)]
pub struct FlacMetadata {
    dtype: DType,
    legacy: Option<LegacyFacts>,
}

impl PartialEq for FlacMetadata {
    fn eq(&self, other: &Self) -> bool {
        self.dtype == other.dtype
    }
}

/// The JSON as written by any version: known fields typed loosely, unknown
/// fields ignored.
#[derive(Deserialize)]
struct RawMetadata {
    format: u32,
    dtype: String,
    #[serde(default)]
    stream_size: Option<u64>,
    #[serde(default)]
    leading_shape: Option<Vec<u64>>,
    #[serde(default)]
    channels: Option<u32>,
    #[serde(default)]
    level: Option<u32>,
}

fn invalid(message: String) -> ArrowError {
    ArrowError::InvalidArgumentError(message)
}

impl FlacMetadata {
    /// Metadata for columns whose rows decode to `dtype`.
    pub fn new(dtype: DType) -> Self {
        FlacMetadata {
            dtype,
            legacy: None,
        }
    }

    /// The element type the rows decode to.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// What a layout-1 column said about the whole array (None for later
    /// layouts).
    pub fn legacy(&self) -> Option<&LegacyFacts> {
        self.legacy.as_ref()
    }

    /// The JSON this crate writes: `{"format":3,"dtype":"..."}`.
    pub fn to_json(&self) -> String {
        format!(
            r#"{{"format":{ARROW_FORMAT_VERSION},"dtype":"{}"}}"#,
            self.dtype.name()
        )
    }

    /// Parses metadata of layout 1, 2 or 3. Unknown fields are ignored; an
    /// unknown layout version is refused, naming it.
    pub fn from_json(text: &str) -> Result<Self, ArrowError> {
        let raw: RawMetadata = serde_json::from_str(text)
            .map_err(|e| invalid(format!("invalid flacarray.flac metadata: {e}")))?;
        if !READABLE_ARROW_FORMATS.contains(&raw.format) {
            return Err(ArrowError::NotYetImplemented(format!(
                "flacarray.flac layout version {} is not supported (this version reads 1 to 3)",
                raw.format
            )));
        }
        let dtype = DType::from_name(&raw.dtype)
            .map_err(|e| invalid(format!("flacarray.flac metadata: {}", e.message())))?;
        if raw.format >= 2 {
            return Ok(FlacMetadata::new(dtype));
        }
        let wide = dtype.size() == 8;
        let channels_ok = match raw.channels {
            None => true,
            Some(1) => !wide || dtype == DType::Float64,
            Some(2) => wide,
            Some(_) => false,
        };
        if !channels_ok {
            return Err(invalid(format!(
                "{dtype} data cannot have {} FLAC channels",
                raw.channels.unwrap_or(0)
            )));
        }
        if let Some(level) = raw.level {
            crate::codec::Level::new(i64::from(level))
                .map_err(|e| invalid(e.message().to_string()))?;
        }
        if raw.leading_shape.is_some() && raw.stream_size.is_none() {
            return Err(invalid("a leading shape needs a stream_size".to_string()));
        }
        Ok(FlacMetadata {
            dtype,
            legacy: Some(LegacyFacts {
                stream_size: raw.stream_size,
                leading_shape: raw.leading_shape,
                level: raw.level,
            }),
        })
    }
}

/// The storage type of a `flacarray.flac` column.
pub fn storage_type() -> DataType {
    DataType::Struct(storage_fields())
}

/// The storage struct's fields.
pub fn storage_fields() -> Fields {
    Fields::from(vec![
        Arc::new(Field::new(STREAM_FIELD, DataType::LargeBinary, true)),
        Arc::new(Field::new(OFFSET_FIELD, DataType::Float64, true)),
        Arc::new(Field::new(GAIN_FIELD, DataType::Float64, true)),
    ])
}

/// The `flacarray.flac` extension type: FLAC-compressed streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlacExtension(FlacMetadata);

impl FlacExtension {
    /// The type for rows of `dtype`.
    pub fn new(metadata: FlacMetadata) -> Self {
        FlacExtension(metadata)
    }
}

impl ExtensionType for FlacExtension {
    const NAME: &'static str = "flacarray.flac";
    type Metadata = FlacMetadata;

    fn metadata(&self) -> &Self::Metadata {
        &self.0
    }

    fn serialize_metadata(&self) -> Option<String> {
        Some(self.0.to_json())
    }

    fn deserialize_metadata(metadata: Option<&str>) -> Result<Self::Metadata, ArrowError> {
        let text = metadata
            .ok_or_else(|| invalid("flacarray.flac needs extension metadata".to_string()))?;
        FlacMetadata::from_json(text)
    }

    fn supports_data_type(&self, data_type: &DataType) -> Result<(), ArrowError> {
        check_storage(data_type)
    }

    fn try_new(data_type: &DataType, metadata: Self::Metadata) -> Result<Self, ArrowError> {
        let ext = FlacExtension::new(metadata);
        ext.supports_data_type(data_type)?;
        Ok(ext)
    }
}

/// Accepts `Struct<stream: LargeBinary | Binary | BinaryView, offset:
/// Float64, gain: Float64>`.
pub(crate) fn check_storage(data_type: &DataType) -> Result<(), ArrowError> {
    let ok = match data_type {
        DataType::Struct(fields) => {
            fields.len() == 3
                && fields[0].name() == STREAM_FIELD
                && matches!(
                    fields[0].data_type(),
                    DataType::LargeBinary | DataType::Binary | DataType::BinaryView
                )
                && fields[1].name() == OFFSET_FIELD
                && fields[1].data_type() == &DataType::Float64
                && fields[2].name() == GAIN_FIELD
                && fields[2].data_type() == &DataType::Float64
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "flacarray.flac storage must be Struct<stream: LargeBinary, offset: Float64, gain: Float64>, got {data_type}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_type_per_dtype() {
        let a = FlacMetadata::from_json(r#"{"format":2,"dtype":"float64"}"#).unwrap();
        let b = FlacMetadata::from_json(
            r#"{"format":1,"dtype":"float64","stream_size":10,"leading_shape":[2],"channels":2,"level":8}"#,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(b.legacy().unwrap().leading_shape, Some(vec![2]));
        let c = FlacMetadata::from_json(r#"{"format":2,"dtype":"int64"}"#).unwrap();
        assert_ne!(a, c);
        assert_eq!(a.to_json(), r#"{"format":3,"dtype":"float64"}"#);
        assert_eq!(FlacMetadata::from_json(&a.to_json()).unwrap(), a);
    }

    #[test]
    fn unknown_fields_are_ignored_and_unknown_versions_refused() {
        let m = FlacMetadata::from_json(r#"{"format":2,"dtype":"int32","future":[1,2]}"#);
        assert_eq!(m.unwrap().dtype(), DType::Int32);
        let err = FlacMetadata::from_json(r#"{"format":4,"dtype":"int32"}"#).unwrap_err();
        assert!(err.to_string().contains("layout version 4"), "{err}");
        assert!(FlacMetadata::from_json(r#"{"format":2,"dtype":"int8"}"#).is_err());
        assert!(FlacMetadata::from_json(r#"{"format":1,"dtype":"int32","channels":2}"#).is_err());
    }
}
