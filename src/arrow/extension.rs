//! The `flacarray.flac` Arrow extension type.
//!
//! Storage: `Struct<stream: LargeBinary, offset: Float64, gain: Float64>`,
//! one row per stream (C order of the leading shape when the column is a
//! whole [`FlacArray`](crate::FlacArray)). `stream` is a complete FLAC
//! bytestream; `offset` and `gain` restore floats (null for integers). The
//! extension metadata (JSON) carries everything else needed to decode.

use std::sync::Arc;

use arrow_schema::extension::ExtensionType;
use arrow_schema::{ArrowError, DataType, Field, Fields};
use serde::{Deserialize, Serialize};

use crate::array::DType;

/// Version of the Arrow layout and metadata written by this crate.
pub const ARROW_FORMAT_VERSION: u32 = 1;

/// Names of the storage struct's fields.
pub const STREAM_FIELD: &str = "stream";
/// Offset column (float data only).
pub const OFFSET_FIELD: &str = "offset";
/// Gain column (float data only).
pub const GAIN_FIELD: &str = "gain";

/// The parameters stored as the extension type's JSON metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlacMetadata {
    /// Layout version ([`ARROW_FORMAT_VERSION`]).
    pub format: u32,
    /// Element type of the uncompressed data ("int32", ..., "float64").
    pub dtype: String,
    /// Samples per stream, or null when rows have their own lengths.
    pub stream_size: Option<u64>,
    /// Leading shape when the column is a whole array (product = rows).
    pub leading_shape: Option<Vec<u64>>,
    /// FLAC channels per stream: 1 (32-bit words) or 2 (64-bit words).
    pub channels: u32,
    /// Compression level used.
    pub level: u32,
}

impl FlacMetadata {
    /// Metadata for data of `dtype` compressed at `level`.
    pub fn new(dtype: DType, level: u32) -> Self {
        FlacMetadata {
            format: ARROW_FORMAT_VERSION,
            dtype: dtype.name().to_string(),
            stream_size: None,
            leading_shape: None,
            channels: channels_for(dtype),
            level,
        }
    }

    /// The element type, checked.
    pub fn dtype(&self) -> crate::Result<DType> {
        DType::from_name(&self.dtype)
    }

    fn check(&self) -> Result<(), ArrowError> {
        let invalid = |msg: String| Err(ArrowError::InvalidArgumentError(msg));
        if self.format != ARROW_FORMAT_VERSION {
            return invalid(format!(
                "flacarray.flac metadata format {} is not supported (this version reads {ARROW_FORMAT_VERSION})",
                self.format
            ));
        }
        let dtype = match DType::from_name(&self.dtype) {
            Ok(d) => d,
            Err(e) => return invalid(e.message().to_string()),
        };
        let channels_ok = match dtype {
            DType::Int32 | DType::Float32 => self.channels == 1,
            DType::Int64 => self.channels == 2,
            DType::Float64 => matches!(self.channels, 1 | 2),
        };
        if !channels_ok {
            return invalid(format!(
                "{} data cannot have {} FLAC channels",
                self.dtype, self.channels
            ));
        }
        if self.level > 8 {
            return invalid(format!(
                "compression level {} is out of range 0..=8",
                self.level
            ));
        }
        if self.leading_shape.is_some() && self.stream_size.is_none() {
            return invalid("a leading shape needs a stream_size".to_string());
        }
        Ok(())
    }
}

/// FLAC channels per stream for data of `dtype`.
pub fn channels_for(dtype: DType) -> u32 {
    match dtype {
        DType::Int32 | DType::Float32 => 1,
        DType::Int64 | DType::Float64 => 2,
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
    /// Wraps validated metadata.
    pub fn new(metadata: FlacMetadata) -> Result<Self, ArrowError> {
        metadata.check()?;
        Ok(FlacExtension(metadata))
    }
}

impl ExtensionType for FlacExtension {
    const NAME: &'static str = "flacarray.flac";
    type Metadata = FlacMetadata;

    fn metadata(&self) -> &Self::Metadata {
        &self.0
    }

    fn serialize_metadata(&self) -> Option<String> {
        serde_json::to_string(&self.0).ok()
    }

    fn deserialize_metadata(metadata: Option<&str>) -> Result<Self::Metadata, ArrowError> {
        let text = metadata.ok_or_else(|| {
            ArrowError::InvalidArgumentError("flacarray.flac needs extension metadata".to_string())
        })?;
        serde_json::from_str(text).map_err(|e| {
            ArrowError::InvalidArgumentError(format!("invalid flacarray.flac metadata: {e}"))
        })
    }

    fn supports_data_type(&self, data_type: &DataType) -> Result<(), ArrowError> {
        check_storage(data_type)
    }

    fn try_new(data_type: &DataType, metadata: Self::Metadata) -> Result<Self, ArrowError> {
        let ext = FlacExtension::new(metadata)?;
        ext.supports_data_type(data_type)?;
        Ok(ext)
    }
}

/// Accepts `Struct<stream: LargeBinary | Binary, offset: Float64, gain: Float64>`.
pub fn check_storage(data_type: &DataType) -> Result<(), ArrowError> {
    let ok = match data_type {
        DataType::Struct(fields) => {
            fields.len() == 3
                && fields[0].name() == STREAM_FIELD
                && matches!(
                    fields[0].data_type(),
                    DataType::LargeBinary | DataType::Binary
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
        Err(ArrowError::InvalidArgumentError(format!(
            "flacarray.flac storage must be Struct<stream: LargeBinary, offset: Float64, gain: Float64>, got {data_type}"
        )))
    }
}
