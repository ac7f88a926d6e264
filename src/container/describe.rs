//! Describing a group: its attributes and stored arrays checked against
//! each other into a [`GroupLayout`], or a `Corrupt` error naming the claim.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    as_count, as_small_int, corrupt, describe_value, ARRAYS, ATTR_CHANNELS, ATTR_COMMIT,
    ATTR_DIGEST, ATTR_DTYPE, ATTR_LEVEL, ATTR_SHAPE, ATTR_STREAM_SIZE, ATTR_VERSION, BYTES_CHUNK,
    COMPRESSED, GAINS, GROUP_ATTRIBUTES, MAX_EXPANSION, MIN_STREAM_BYTES, NBYTES, OFFSETS,
    READABLE_VERSIONS, STAGED_PREFIX, STARTS, STORAGE_SLACK,
};
use crate::array::DType;
use crate::codec::Level;
use crate::digest;
use crate::error::{Error, Result};

/// What a reader knows about one stored array before reading it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ArrayInfo {
    /// Its shape.
    pub shape: Vec<u64>,
    /// Its element type as a numpy name ("uint8", "int64", "float32", ...).
    pub dtype: String,
    /// Bytes actually stored for it (after any container compression),
    /// when the container can tell.
    #[serde(default)]
    pub stored_bytes: Option<u64>,
    /// How many of its chunks are absent from the store, when the container
    /// can tell (absent chunks would read as zeros).
    #[serde(default)]
    pub missing_chunks: Option<u64>,
    /// Elements per chunk, for chunked containers (a chunk is decoded
    /// whole, so it must not claim more than the array holds).
    #[serde(default)]
    pub chunk_elements: Option<u64>,
    /// How many chunks its chunk grid has, for chunked containers. A stored
    /// chunk takes at least one byte, so more chunks than stored bytes means
    /// chunks are missing (readers need not list them to know).
    #[serde(default)]
    pub chunk_count: Option<u64>,
}

impl ArrayInfo {
    /// Whether counting the missing chunks is worth listing the store: not
    /// when the chunk count alone proves some are missing.
    pub fn chunks_worth_listing(&self) -> bool {
        match (self.chunk_count, self.stored_bytes) {
            (Some(count), Some(stored)) => count <= stored,
            _ => true,
        }
    }
}

/// What a reader found in a group: its attributes, the attributes of
/// `stream_starts`, and its arrays by name.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct GroupDescription {
    /// The group's attributes, as JSON values.
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// The attributes of `stream_starts`.
    #[serde(default)]
    pub starts_attributes: Map<String, Value>,
    /// The arrays present, by name (other members are ignored).
    #[serde(default)]
    pub arrays: BTreeMap<String, ArrayInfo>,
}

/// A group's validated layout, before any stream bytes are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupLayout {
    /// Format version (0 or 1).
    pub version: u32,
    /// Element type of the stored array.
    pub dtype: DType,
    /// Full shape of the stored array (last entry: samples per stream).
    pub shape: Vec<usize>,
    /// Shape of the per-stream arrays as stored (`(1,)` for one stream).
    pub stored_leading: Vec<usize>,
    /// Length of `compressed`.
    pub compressed_len: u64,
    /// Compression level recorded by the writer (5, libFLAC's default, when
    /// the writer did not record one).
    pub level: u32,
    /// FLAC channels every stream must have (format 1; `None` for format
    /// 0, whose float64 streams are 1-channel).
    pub channels: Option<u32>,
    /// The digest our writers recorded ([`ATTR_DIGEST`]), if any.
    pub digest: Option<String>,
}

impl GroupLayout {
    /// Number of streams.
    pub fn nstreams(&self) -> usize {
        self.stored_leading.iter().product()
    }

    /// Samples per stream.
    pub fn stream_size(&self) -> usize {
        self.shape[self.shape.len() - 1]
    }

    /// Leading shape of the stored array (`()` for a 1-D array).
    pub fn leading_shape(&self) -> &[usize] {
        &self.shape[..self.shape.len() - 1]
    }

    /// True for float data (which has offsets and gains).
    pub fn has_scales(&self) -> bool {
        self.dtype.is_float()
    }
}

fn array<'a>(desc: &'a GroupDescription, name: &str) -> Result<&'a ArrayInfo> {
    desc.arrays.get(name).ok_or_else(|| {
        corrupt(format!(
            "group has no '{name}' array: not a flacarray group"
        ))
    })
}

/// A chunk is decoded whole: it may not claim more elements than its array
/// (or than one `compressed` chunk, for tiny arrays).
fn check_chunks(desc: &GroupDescription) -> Result<()> {
    for (name, info) in &desc.arrays {
        let elements = info
            .shape
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d))
            .unwrap_or(u64::MAX);
        if let Some(chunk) = info.chunk_elements {
            if chunk > elements.max(BYTES_CHUNK) {
                return Err(corrupt(format!(
                    "'{name}' claims chunks of {chunk} elements for {elements} elements"
                )));
            }
        }
    }
    Ok(())
}

fn to_usize_shape(name: &str, shape: &[u64]) -> Result<Vec<usize>> {
    shape
        .iter()
        .map(|&d| {
            usize::try_from(d).map_err(|_| corrupt(format!("'{name}' has an impossible shape")))
        })
        .collect()
}

fn checked_product(name: &str, shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| corrupt(format!("'{name}' has an impossible shape {shape:?}")))
}

fn is_integer_type(dtype: &str) -> bool {
    matches!(
        dtype,
        "int8" | "int16" | "int32" | "int64" | "uint8" | "uint16" | "uint32" | "uint64"
    )
}

fn parse_version(attrs: &Map<String, Value>) -> Result<u32> {
    let raw = attrs.get(ATTR_VERSION).ok_or_else(|| {
        corrupt(format!(
            "group has no '{ATTR_VERSION}' attribute: not a flacarray group"
        ))
    })?;
    match as_small_int(raw) {
        Some(v) if READABLE_VERSIONS.contains(&v) => Ok(v),
        Some(v) => Err(Error::unsupported(format!(
            "flacarray format version {v} is not supported; this version reads 0 and 1"
        ))),
        None => Err(corrupt(format!(
            "attribute '{ATTR_VERSION}' holds {}, not a version number",
            describe_value(raw)
        ))),
    }
}

fn parse_stream_size(desc: &GroupDescription) -> Result<usize> {
    let raw = desc
        .starts_attributes
        .get(ATTR_STREAM_SIZE)
        .ok_or_else(|| {
            corrupt(format!(
                "'{STARTS}' has no '{ATTR_STREAM_SIZE}' attribute: not a flacarray group"
            ))
        })?;
    match as_count(raw).and_then(|v| usize::try_from(v).ok()) {
        Some(0) => Err(corrupt(format!(
            "attribute '{ATTR_STREAM_SIZE}' is 0: streams cannot be empty"
        ))),
        Some(n) => Ok(n),
        None => Err(corrupt(format!(
            "attribute '{ATTR_STREAM_SIZE}' holds {}, not a positive integer",
            describe_value(raw)
        ))),
    }
}

fn parse_channels(attrs: &Map<String, Value>) -> Result<Option<u32>> {
    match attrs.get(ATTR_CHANNELS) {
        None => Ok(None),
        Some(raw) => match as_small_int(raw) {
            Some(c @ (1 | 2)) => Ok(Some(c)),
            _ => Err(corrupt(format!(
                "attribute '{ATTR_CHANNELS}' holds {}, expected 1 or 2",
                describe_value(raw)
            ))),
        },
    }
}

fn parse_level(attrs: &Map<String, Value>) -> Result<u32> {
    match attrs.get(ATTR_LEVEL) {
        None => Ok(5),
        Some(raw) => match as_count(raw) {
            Some(level) if Level::new(level as i64).is_ok() => Ok(level as u32),
            _ => Err(corrupt(format!(
                "attribute '{ATTR_LEVEL}' holds {}, expected a level 0..8",
                describe_value(raw)
            ))),
        },
    }
}

fn parse_dtype(
    version: u32,
    attrs: &Map<String, Value>,
    gains: Option<&ArrayInfo>,
    channels: Option<u32>,
) -> Result<DType> {
    // What the arrays and format 1's channel attribute say; our own
    // attribute, when present, must agree with them.
    let stored = match (gains, channels) {
        (Some(g), Some(c)) => DType::from_channels(c, true).filter(|d| {
            let wide_gains = g.dtype == "float64";
            (*d == DType::Float64) == wide_gains
        }),
        (Some(g), None) if g.dtype == "float32" => Some(DType::Float32),
        (Some(_), None) => Some(DType::Float64),
        (None, Some(c)) => DType::from_channels(c, false),
        (None, None) => Some(DType::Int32),
    };
    let Some(stored) = stored else {
        return Err(corrupt(format!(
            "attribute '{ATTR_CHANNELS}' ({}) contradicts '{GAINS}' ({})",
            channels.unwrap_or(0),
            gains.map_or("absent", |g| g.dtype.as_str())
        )));
    };
    let Some(raw) = attrs.get(ATTR_DTYPE) else {
        return Ok(stored);
    };
    let dtype = match raw.as_str().map(DType::from_name) {
        Some(Ok(dtype)) if dtype.in_group_format() => dtype,
        _ => {
            return Err(corrupt(format!(
                "attribute '{ATTR_DTYPE}' holds {}, expected {}",
                describe_value(raw),
                DType::group_format_names("or")
            )))
        }
    };
    // Format 0 held float64 in 1-channel streams with float64 scales:
    // only the channel count, which it did not record, may differ.
    let agrees = dtype == stored
        || (version == 0 && channels.is_none() && dtype.is_float() == stored.is_float());
    if !agrees {
        return Err(corrupt(format!(
            "attribute '{ATTR_DTYPE}' says {dtype} but the group's arrays and channel count \
             hold {stored}"
        )));
    }
    Ok(dtype)
}

/// Reads the digest attribute.
fn parse_digest(attrs: &Map<String, Value>) -> Result<Option<String>> {
    let Some(raw) = attrs.get(ATTR_DIGEST) else {
        return Ok(None);
    };
    match raw.as_str().and_then(digest::parse) {
        Some(text) => Ok(Some(text)),
        None => Err(corrupt(format!(
            "attribute '{ATTR_DIGEST}' holds {}, not a digest",
            describe_value(raw)
        ))),
    }
}

fn parse_shape(
    attrs: &Map<String, Value>,
    stored_leading: &[usize],
    nstreams: usize,
    stream_size: usize,
) -> Result<Vec<usize>> {
    let Some(raw) = attrs.get(ATTR_SHAPE) else {
        return Ok(if stored_leading == [1] {
            vec![stream_size]
        } else {
            stored_leading
                .iter()
                .copied()
                .chain([stream_size])
                .collect()
        });
    };
    let bad = || {
        corrupt(format!(
            "attribute '{ATTR_SHAPE}' holds {}, which does not fit {nstreams} streams of {stream_size} samples",
            describe_value(raw)
        ))
    };
    let shape: Vec<usize> = raw
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|v| as_count(v).and_then(|d| usize::try_from(d).ok()))
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    let (&last, leading) = shape.split_last().ok_or_else(bad)?;
    let streams = leading.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if last != stream_size || streams != Some(nstreams) {
        return Err(bad());
    }
    Ok(shape)
}

/// Checks that `compressed` really holds the bytes it claims, where the
/// container can tell: no absent chunks, and no more than a plausible
/// expansion of the stored bytes.
fn check_storage(info: &ArrayInfo, len: u64) -> Result<()> {
    if !info.chunks_worth_listing() {
        return Err(corrupt(format!(
            "'{COMPRESSED}' claims {len} bytes in {} chunks but only {} bytes are stored",
            info.chunk_count.unwrap_or(0),
            info.stored_bytes.unwrap_or(0)
        )));
    }
    if let Some(missing) = info.missing_chunks.filter(|&m| m > 0) {
        return Err(corrupt(format!(
            "'{COMPRESSED}' claims {len} bytes but {missing} of its chunks are missing"
        )));
    }
    if let Some(stored) = info.stored_bytes {
        let limit = stored
            .saturating_mul(MAX_EXPANSION)
            .saturating_add(STORAGE_SLACK);
        if len > limit {
            return Err(corrupt(format!(
                "'{COMPRESSED}' claims {len} bytes but only {stored} bytes are stored"
            )));
        }
    }
    Ok(())
}

/// A group as its writer meant it: the format attributes in force and,
/// for each of the format's arrays, the name it is stored under.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resolution {
    /// The group's attributes, with a committed write's format attributes
    /// in place of the old ones.
    pub attributes: Map<String, Value>,
    /// Format array name -> the member holding it (itself, or its staged
    /// name while a committed write's swap is unfinished).
    pub arrays: BTreeMap<String, String>,
    /// Whether a committed write's swap is unfinished.
    pub pending: bool,
}

/// The commit record a writer stores in [`ATTR_COMMIT`] once every staged
/// array is complete: the arrays the new group holds and its format
/// attributes.
pub fn commit_record(arrays: &[&str], attributes: &Map<String, Value>) -> String {
    json!({ "arrays": arrays, "attributes": attributes }).to_string()
}

/// Resolves what a group holds from its attributes and the names of the
/// arrays present in it (format names and staged names): without a commit
/// record the format's arrays under their own names (staged arrays are the
/// debris of a write that never committed, and ignored); with one, the
/// arrays and attributes it lists, each array taken from its staged name
/// where that still exists. Every reader and writer resolves a group this
/// way, so a write killed at any point leaves either the old array or the
/// new one.
pub fn resolve_group(attributes: &Map<String, Value>, present: &[String]) -> Result<Resolution> {
    let has = |name: &str| present.iter().any(|p| p == name);
    let Some(raw) = attributes.get(ATTR_COMMIT) else {
        let arrays = ARRAYS
            .iter()
            .filter(|name| has(name))
            .map(|name| (name.to_string(), name.to_string()))
            .collect();
        return Ok(Resolution {
            attributes: attributes.clone(),
            arrays,
            pending: false,
        });
    };
    let bad = || {
        corrupt(format!(
            "attribute '{ATTR_COMMIT}' holds {}, not a commit record",
            describe_value(raw)
        ))
    };
    let record: Value = raw
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok())
        .ok_or_else(bad)?;
    let names: Vec<&str> = record["arrays"]
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|v| v.as_str().filter(|n| ARRAYS.contains(n)).ok_or_else(bad))
        .collect::<Result<_>>()?;
    let committed = record["attributes"].as_object().ok_or_else(bad)?;
    let mut merged: Map<String, Value> = attributes
        .iter()
        .filter(|(k, _)| !GROUP_ATTRIBUTES.contains(&k.as_str()) && k.as_str() != ATTR_COMMIT)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in committed {
        if !GROUP_ATTRIBUTES.contains(&k.as_str()) {
            return Err(bad());
        }
        merged.insert(k.clone(), v.clone());
    }
    let mut arrays = BTreeMap::new();
    for name in names {
        let staged = format!("{STAGED_PREFIX}{name}");
        if has(&staged) {
            arrays.insert(name.to_string(), staged);
        } else if has(name) {
            arrays.insert(name.to_string(), name.to_string());
        }
    }
    Ok(Resolution {
        attributes: merged,
        arrays,
        pending: true,
    })
}

/// Validates a group's attributes and array shapes/types (format 0 or 1)
/// and works out the stored array's type and shape. Nothing is read.
pub fn describe(desc: &GroupDescription) -> Result<GroupLayout> {
    let attrs = &desc.attributes;
    let version = parse_version(attrs)?;
    check_chunks(desc)?;
    let compressed = array(desc, COMPRESSED)?;
    let starts = array(desc, STARTS)?;
    let nbytes = array(desc, NBYTES)?;
    if compressed.dtype != "uint8" || compressed.shape.len() != 1 {
        return Err(corrupt(format!(
            "'{COMPRESSED}' must be a 1-D uint8 array, found {} of shape {:?}",
            compressed.dtype, compressed.shape
        )));
    }
    let compressed_len = compressed.shape[0];
    for (name, info) in [(STARTS, starts), (NBYTES, nbytes)] {
        if !is_integer_type(&info.dtype) {
            return Err(corrupt(format!(
                "'{name}' must hold integers, found {}",
                info.dtype
            )));
        }
    }
    if starts.shape.is_empty() || nbytes.shape != starts.shape {
        return Err(corrupt(format!(
            "'{STARTS}' and '{NBYTES}' must have the same leading shape, found {:?} and {:?}",
            starts.shape, nbytes.shape
        )));
    }
    let stored_leading = to_usize_shape(STARTS, &starts.shape)?;
    let nstreams = checked_product(STARTS, &stored_leading)?;
    let offsets = desc.arrays.get(OFFSETS);
    let gains = desc.arrays.get(GAINS);
    match (offsets, gains) {
        (Some(o), Some(g)) => {
            for (name, info) in [(OFFSETS, o), (GAINS, g)] {
                if info.dtype != "float32" && info.dtype != "float64" {
                    return Err(corrupt(format!(
                        "'{name}' must hold float32 or float64, found {}",
                        info.dtype
                    )));
                }
                if info.shape != starts.shape {
                    return Err(corrupt(format!(
                        "'{name}' has shape {:?} but '{STARTS}' has {:?}",
                        info.shape, starts.shape
                    )));
                }
            }
        }
        (None, None) => {}
        _ => {
            return Err(corrupt(format!(
                "group has only one of '{OFFSETS}' and '{GAINS}'"
            )))
        }
    }
    let channels = parse_channels(attrs)?;
    let dtype = parse_dtype(version, attrs, gains, channels)?;
    let digest = parse_digest(attrs)?;
    if dtype.is_float() != gains.is_some() {
        return Err(corrupt(if dtype.is_float() {
            format!("{dtype} data needs '{OFFSETS}' and '{GAINS}'")
        } else {
            format!("{dtype} data must not have '{OFFSETS}' and '{GAINS}'")
        }));
    }
    let stream_size = parse_stream_size(desc)?;
    let level = parse_level(attrs)?;
    let shape = parse_shape(attrs, &stored_leading, nstreams, stream_size)?;
    if (nstreams as u64).saturating_mul(MIN_STREAM_BYTES) > compressed_len {
        return Err(corrupt(format!(
            "{nstreams} streams cannot fit in {compressed_len} compressed bytes"
        )));
    }
    check_storage(compressed, compressed_len)?;
    if digest.is_some() {
        // Our writers store every chunk of every array: one that is absent
        // would read as the fill value.
        for (name, info) in &desc.arrays {
            let empty = info.shape.contains(&0);
            let missing = !info.chunks_worth_listing()
                || info.missing_chunks.is_some_and(|m| m > 0)
                || (info.stored_bytes == Some(0) && !empty);
            if missing {
                return Err(corrupt(format!(
                    "'{name}' has missing chunks: part of it would read as its fill value"
                )));
            }
        }
    }
    Ok(GroupLayout {
        version,
        dtype,
        shape,
        stored_leading,
        compressed_len,
        level,
        channels: (version >= 1).then(|| dtype.channels()),
        digest,
    })
}
