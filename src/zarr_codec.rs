//! The Zarr v3 array-to-bytes codec `flacarray.flac` for zarrs: each chunk's
//! last-axis vectors become FLAC streams, in the layout of [`crate::chunk`]
//! (the same bytes zarr-python writes with `flacarray.zarr_codec.FlacCodec`).
//!
//! Linking this crate (with the `zarr` feature) registers the codec, so
//! zarrs opens arrays that use it; to create one, put a [`FlacCodec`] in the
//! array builder:
//!
//! ```
//! use std::sync::Arc;
//! use zarrs::array::{data_type, ArrayBuilder};
//! use zarrs::filesystem::FilesystemStore;
//! use flacarray::zarr_codec::FlacCodec;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = Arc::new(FilesystemStore::new(dir.path()).unwrap());
//! let array = ArrayBuilder::new(vec![4, 1000], vec![2, 500], data_type::int32(), 0i32)
//!     .array_to_bytes_codec(Arc::new(FlacCodec::new(5, None, None)?))
//!     .build(store.clone(), "/signal")
//!     .unwrap();
//! array.store_metadata().unwrap();
//! let values: Vec<i32> = (0..4000).map(|i| (i % 100) * 3).collect();
//! array.store_array_subset(&[0..4, 0..1000], values.clone()).unwrap();
//! let reopened = zarrs::array::Array::open(store, "/signal").unwrap();
//! let back: Vec<i32> = reopened.retrieve_array_subset(&[0..4, 0..1000]).unwrap();
//! assert_eq!(back, values);
//! # Ok::<(), flacarray::Error>(())
//! ```

use std::borrow::Cow;
use std::num::NonZeroU64;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use std::ops::Range;

use zarrs::array::codec::api::{
    ArrayBytes, ArrayBytesRaw, ArrayCodecTraits, ArrayPartialDecoderTraits,
    ArrayToBytesCodecTraits, BytesPartialDecoderTraits, BytesRepresentation, Codec, CodecError,
    CodecMetadataOptions, CodecOptions, CodecPluginV3, CodecTraits, CodecTraitsV3,
    PartialDecoderCapability, PartialEncoderCapability, RecommendedConcurrency,
};
use zarrs::array::{convert_from_bytes_slice, transmute_to_bytes_vec, DataType, FillValue};
use zarrs::array::{ArraySubset, Indexer};
use zarrs::metadata::v3::MetadataV3;
use zarrs::metadata::{Configuration, ConfigurationSerialize};
use zarrs::storage::StorageError;
use zarrs_plugin::{PluginCreateError, ZarrVersion};

use crate::array::{DType, Element};
use crate::chunk::{decode_chunk, encode_chunk};
use crate::codec::Level;
use crate::error::{Error, Result};
use crate::with_element_type;
use crate::{CompressOptions, StepSpec};

/// The codec's name in Zarr v3 array metadata.
pub const CODEC_NAME: &str = "flacarray.flac";

/// The codec's JSON configuration: `{"level": 5, "quanta": null,
/// "precision": null}`. For floats, `quanta` (the quantization step) or
/// `precision` (significant digits) may be given, not both; with neither,
/// each stream of each chunk gets the default step of `FlacArray`.
/// Integers take neither.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlacCodecConfiguration {
    /// The FLAC compression level, 0..=8.
    #[serde(default = "default_level")]
    pub level: i64,
    /// The quantization step for float data.
    #[serde(default)]
    pub quanta: Option<f64>,
    /// The number of significant digits kept for float data.
    #[serde(default)]
    pub precision: Option<f64>,
}

fn default_level() -> i64 {
    5
}

impl ConfigurationSerialize for FlacCodecConfiguration {}

/// The `flacarray.flac` codec (see the module docs).
#[derive(Debug, Clone)]
pub struct FlacCodec {
    configuration: FlacCodecConfiguration,
    options: CompressOptions,
}

impl FlacCodec {
    /// A codec with a compression level and, for floats, at most one of a
    /// quantization step and a precision (checked here: a bad level, a
    /// non-positive step, or both given is an error).
    pub fn new(level: i64, quanta: Option<f64>, precision: Option<f64>) -> Result<Self> {
        let configuration = FlacCodecConfiguration {
            level,
            quanta,
            precision,
        };
        Self::from_configuration(configuration)
    }

    /// The codec a configuration describes, checked as in [`FlacCodec::new`].
    pub fn from_configuration(configuration: FlacCodecConfiguration) -> Result<Self> {
        let level = Level::new(configuration.level)?;
        let step = StepSpec::from_options(
            configuration.quanta.map(|q| vec![q]),
            configuration.precision.map(|p| vec![p]),
        )?;
        // Steps usable for float64 are checked now (float32's narrower
        // range once the element type is known, in `check_dtype`).
        step.check_values(DType::Float64)?;
        let options = CompressOptions::default()
            .with_level(level.get())
            .with_step(step);
        Ok(FlacCodec {
            configuration,
            options,
        })
    }

    /// The configuration written to the array metadata.
    pub fn configuration(&self) -> FlacCodecConfiguration {
        self.configuration
    }

    /// Checks that arrays of `data_type` can use this codec: an element
    /// type of [`DType::ALL`], and steps only for floats.
    pub fn check_data_type(&self, data_type: &DataType) -> Result<DType> {
        let dtype = dtype_of(data_type).ok_or_else(|| {
            Error::invalid(format!(
                "the flacarray.flac codec stores {}, not {data_type}",
                DType::names("and")
            ))
        })?;
        self.check_dtype(dtype)?;
        Ok(dtype)
    }

    /// Checks that arrays of `dtype` can use this configuration (a step is
    /// only for floats, and must suit the float type).
    pub fn check_dtype(&self, dtype: DType) -> Result<()> {
        self.options.step.check_values(dtype)
    }

    /// The compression options chunks are encoded with.
    pub fn options(&self) -> &CompressOptions {
        &self.options
    }
}

/// Our element type for a zarrs data type (None: not supported). Zarr v3
/// names its core data types as numpy does.
fn dtype_of(data_type: &DataType) -> Option<DType> {
    DType::from_name(&data_type.name(ZarrVersion::V3)?).ok()
}

/// The zarrs data type of `dtype` (None if zarrs has none of that name).
fn zarrs_type(dtype: DType) -> Option<DataType> {
    DataType::from_metadata(&MetadataV3::new(dtype.name())).ok()
}

fn codec_err(err: Error) -> CodecError {
    CodecError::Other(format!("flacarray.flac: {err}"))
}

fn chunk_shape(shape: &[NonZeroU64]) -> std::result::Result<Vec<usize>, CodecError> {
    shape
        .iter()
        .map(|d| usize::try_from(d.get()).map_err(|_| CodecError::Other("chunk too large".into())))
        .collect()
}

zarrs_plugin::impl_extension_aliases!(FlacCodec, v3: "flacarray.flac");

inventory::submit! {
    CodecPluginV3::new::<FlacCodec>()
}

impl CodecTraitsV3 for FlacCodec {
    fn create(metadata: &MetadataV3) -> std::result::Result<Codec, PluginCreateError> {
        let configuration: FlacCodecConfiguration = metadata.to_typed_configuration()?;
        let codec = FlacCodec::from_configuration(configuration)
            .map_err(|e| PluginCreateError::Other(format!("flacarray.flac: {e}")))?;
        Ok(Codec::ArrayToBytes(Arc::new(codec)))
    }
}

impl CodecTraits for FlacCodec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn configuration(
        &self,
        _version: ZarrVersion,
        _options: &CodecMetadataOptions,
    ) -> Option<Configuration> {
        Some(self.configuration.into())
    }

    fn partial_decoder_capability(&self) -> PartialDecoderCapability {
        // Windows along the last axis decode only their frames; the chunk's
        // bytes are read whole.
        PartialDecoderCapability {
            partial_read: false,
            partial_decode: true,
        }
    }

    fn partial_encoder_capability(&self) -> PartialEncoderCapability {
        PartialEncoderCapability {
            partial_encode: false,
        }
    }
}

impl ArrayCodecTraits for FlacCodec {
    fn recommended_concurrency(
        &self,
        _shape: &[NonZeroU64],
        _data_type: &DataType,
    ) -> std::result::Result<RecommendedConcurrency, CodecError> {
        // Streams are compressed in parallel on the rayon pool.
        Ok(RecommendedConcurrency::new_maximum(
            rayon::current_num_threads(),
        ))
    }
}

fn encode_as<T: Element + bytemuck::Pod>(
    bytes: &[u8],
    shape: &[usize],
    options: &CompressOptions,
) -> Result<Vec<u8>> {
    let values: Vec<T> = convert_from_bytes_slice::<T>(bytes);
    encode_chunk(&values, shape, options)
}

fn decode_as<T: Element + bytemuck::Pod>(bytes: &[u8], shape: &[usize]) -> Result<Vec<u8>> {
    let values = decode_chunk::<T>(bytes, shape, 0..*shape.last().unwrap_or(&0))?;
    Ok(transmute_to_bytes_vec(values))
}

impl ArrayToBytesCodecTraits for FlacCodec {
    fn into_dyn(self: Arc<Self>) -> Arc<dyn ArrayToBytesCodecTraits> {
        self as Arc<dyn ArrayToBytesCodecTraits>
    }

    fn encode<'a>(
        &self,
        bytes: ArrayBytes<'a>,
        shape: &[NonZeroU64],
        data_type: &DataType,
        _fill_value: &FillValue,
        _options: &CodecOptions,
    ) -> std::result::Result<ArrayBytesRaw<'a>, CodecError> {
        let dtype = self.check_data_type(data_type).map_err(codec_err)?;
        let shape = chunk_shape(shape)?;
        let bytes = bytes.into_fixed()?;
        let encoded = with_element_type!(dtype, T => encode_as::<T>(&bytes, &shape, &self.options));
        Ok(Cow::Owned(encoded.map_err(codec_err)?))
    }

    fn decode<'a>(
        &self,
        bytes: ArrayBytesRaw<'a>,
        shape: &[NonZeroU64],
        data_type: &DataType,
        _fill_value: &FillValue,
        _options: &CodecOptions,
    ) -> std::result::Result<ArrayBytes<'a>, CodecError> {
        let dtype = self.check_data_type(data_type).map_err(codec_err)?;
        let shape = chunk_shape(shape)?;
        let decoded = with_element_type!(dtype, T => decode_as::<T>(&bytes, &shape));
        Ok(ArrayBytes::from(decoded.map_err(codec_err)?))
    }

    fn partial_decoder(
        self: Arc<Self>,
        input_handle: Arc<dyn BytesPartialDecoderTraits>,
        shape: &[NonZeroU64],
        data_type: &DataType,
        fill_value: &FillValue,
        _options: &CodecOptions,
    ) -> std::result::Result<Arc<dyn ArrayPartialDecoderTraits>, CodecError> {
        let dtype = self.check_data_type(data_type).map_err(codec_err)?;
        Ok(Arc::new(FlacPartialDecoder {
            input: input_handle,
            shape: shape.to_vec(),
            data_type: data_type.clone(),
            fill_value: fill_value.clone(),
            dtype,
        }))
    }

    fn encoded_representation(
        &self,
        _shape: &[NonZeroU64],
        data_type: &DataType,
        _fill_value: &FillValue,
    ) -> std::result::Result<BytesRepresentation, CodecError> {
        self.check_data_type(data_type).map_err(codec_err)?;
        Ok(BytesRepresentation::UnboundedSize)
    }
}

/// Decodes only the samples of the last axis that a request covers (the
/// FLAC frames holding them), for every stream of the chunk; the leading
/// axes are then cut from that window.
struct FlacPartialDecoder {
    input: Arc<dyn BytesPartialDecoderTraits>,
    shape: Vec<NonZeroU64>,
    data_type: DataType,
    fill_value: FillValue,
    dtype: DType,
}

fn window_as<T: Element + bytemuck::Pod>(
    bytes: &[u8],
    shape: &[usize],
    samples: Range<u64>,
) -> Result<Vec<u8>> {
    let samples = samples.start as usize..samples.end as usize;
    let values = decode_chunk::<T>(bytes, shape, samples)?;
    Ok(transmute_to_bytes_vec(values))
}

impl ArrayPartialDecoderTraits for FlacPartialDecoder {
    fn data_type(&self) -> &DataType {
        &self.data_type
    }

    fn exists(&self) -> std::result::Result<bool, StorageError> {
        self.input.exists()
    }

    fn size_held(&self) -> usize {
        self.input.size_held()
    }

    fn partial_decode(
        &self,
        indexer: &dyn Indexer,
        options: &CodecOptions,
    ) -> std::result::Result<ArrayBytes<'_>, CodecError> {
        let Some(encoded) = self.input.decode(options)? else {
            return ArrayBytes::new_fill_value(&self.data_type, indexer.len(), &self.fill_value)
                .map_err(CodecError::from);
        };
        let chunk: Vec<u64> = self.shape.iter().map(|d| d.get()).collect();
        let last = chunk.len() - 1;
        // The last-axis range a rectangular request covers (any other
        // indexer: the whole stream).
        let window = match indexer.as_array_subset() {
            Some(subset) if subset.shape()[last] > 0 => {
                let start = subset.start()[last];
                start..start + subset.shape()[last]
            }
            _ => 0..chunk[last],
        };
        if window.end > chunk[last] {
            return Err(CodecError::Other(format!(
                "flacarray.flac: samples {window:?} are outside a chunk of {} samples",
                chunk[last]
            )));
        }
        let shape = chunk_shape(&self.shape)?;
        let decoded =
            with_element_type!(self.dtype, T => window_as::<T>(&encoded, &shape, window.clone()))
                .map_err(codec_err)?;
        let mut window_shape = chunk.clone();
        window_shape[last] = window.end - window.start;
        let decoded = ArrayBytes::from(decoded);
        match indexer.as_array_subset() {
            Some(subset) => {
                let mut start = subset.start().to_vec();
                start[last] -= window.start;
                let shifted = ArraySubset::new_with_start_shape(start, subset.shape().to_vec())
                    .map_err(|e| CodecError::Other(e.to_string()))?;
                decoded.extract_array_subset(&shifted, &window_shape, &self.data_type)
            }
            None => decoded.extract_array_subset(indexer, &window_shape, &self.data_type),
        }
        .map(ArrayBytes::into_owned)
    }

    fn supports_partial_decode(&self) -> bool {
        true
    }
}

/// Writes `data` (C order, of `shape`) as a Zarr v3 array at directory
/// `path` (created; an existing one is an error), chunked by `chunks`,
/// with `codec` as its serializer and no other codec.
pub fn write_array_file<T>(
    path: impl AsRef<std::path::Path>,
    data: &[T],
    shape: &[u64],
    chunks: &[u64],
    codec: FlacCodec,
) -> Result<()>
where
    T: Element
        + zarrs::array::Element
        + Default
        + Into<zarrs::array::builder::ArrayBuilderFillValue>,
{
    let path = path.as_ref();
    if path.exists() {
        return Err(Error::new(
            crate::ErrorKind::AlreadyExists,
            format!("'{}' already exists", path.display()),
        ));
    }
    let io = |e: &dyn std::fmt::Display| Error::new(crate::ErrorKind::Io, e.to_string());
    let expected = shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d));
    if expected != Some(data.len() as u64) || chunks.len() != shape.len() {
        return Err(Error::invalid(format!(
            "{} values, shape {shape:?} and chunks {chunks:?} do not agree",
            data.len()
        )));
    }
    let data_type = zarrs_type(T::DTYPE)
        .ok_or_else(|| Error::invalid(format!("zarrs has no data type {}", T::DTYPE)))?;
    codec.check_dtype(T::DTYPE)?;
    let store = Arc::new(zarrs::filesystem::FilesystemStore::new(path).map_err(|e| io(&e))?);
    let array =
        zarrs::array::ArrayBuilder::new(shape.to_vec(), chunks.to_vec(), data_type, T::default())
            .array_to_bytes_codec(Arc::new(codec))
            .build(store, "/")
            .map_err(|e| io(&e))?;
    array.store_metadata().map_err(|e| io(&e))?;
    let region: Vec<std::ops::Range<u64>> = shape.iter().map(|&d| 0..d).collect();
    array
        .store_array_subset(&region, data.to_vec())
        .map_err(|e| Error::invalid(e.to_string()))?;
    Ok(())
}

/// Reads a whole Zarr v3 array at directory `path` (any codecs zarrs
/// knows, this one included): its element type, shape and values as
/// native-endian bytes in C order.
pub fn read_array_file(path: impl AsRef<std::path::Path>) -> Result<(DType, Vec<u64>, Vec<u8>)> {
    let corrupt = |e: &dyn std::fmt::Display| Error::corrupt(e.to_string());
    let store = Arc::new(
        zarrs::filesystem::FilesystemStore::new(path.as_ref())
            .map_err(|e| Error::new(crate::ErrorKind::Io, e.to_string()))?,
    );
    let array = zarrs::array::Array::open(store, "/").map_err(|e| corrupt(&e))?;
    let dtype = dtype_of(array.data_type())
        .ok_or_else(|| Error::invalid(format!("unsupported data type {}", array.data_type())))?;
    let shape = array.shape().to_vec();
    let region: Vec<std::ops::Range<u64>> = shape.iter().map(|&d| 0..d).collect();
    let bytes = with_element_type!(dtype, T => transmute_to_bytes_vec(
        array
            .retrieve_array_subset::<Vec<T>>(&region)
            .map_err(|e| corrupt(&e))?,
    ));
    Ok((dtype, shape, bytes))
}
