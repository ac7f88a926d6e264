//! The group format shared by every HDF5 and zarr reader and writer
//! (the reference package's format 0 and 1), as pure functions: no I/O.
//!
//! A reader describes what it found in a group ([`GroupDescription`]:
//! attributes and, per stored array, its shape, element type and how much
//! data is really stored), gets a validated [`GroupLayout`] back, reads the
//! small per-stream arrays, and asks [`plan_read`] which byte ranges of
//! `compressed` to read. A writer asks [`group_attributes`] and
//! [`starts_attributes`] what to write. The zarrs reader in this crate and
//! the h5py and zarr-python readers of the Python package all go through
//! these functions, so they accept and reject exactly the same groups.
//!
//! A group holds:
//! - `compressed`: uint8, every stream's FLAC bytes back to back;
//! - `stream_starts`, `stream_bytes`: integers of the leading shape
//!   (`(1,)` for a single stream); `stream_starts` has the `stream_size`
//!   attribute;
//! - float data only: `stream_offsets`, `stream_gains` (float32/float64);
//! - attributes `flacarray_format_version` (`"1"`; the reference's 0.2.x
//!   wrote `0`), `flacarray_software_version`, `flac_channels` (`"1"` or
//!   `"2"`, format 1), and ours: `flacarray_dtype`, `flacarray_shape`,
//!   `flacarray_level` and `flacarray_digest` (see [`crate::digest`]).
//!
//! Reading checks what a group claims against itself before any stream is
//! decoded: the streams' byte runs must tile `compressed` exactly (no
//! overlap, no gap, nothing left over), format 1's channel count must fit
//! the type, and where our writers recorded a digest the layout and every
//! per-stream table must match it and no chunk of any array may be
//! missing.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::array::{DType, FlacArrayRef};
use crate::codec::Level;
use crate::digest;
use crate::error::{Error, Result};

/// Format version this crate writes.
pub const FORMAT_VERSION: &str = "1";
/// Format versions this crate reads.
pub const READABLE_VERSIONS: [u32; 2] = [0, 1];

/// Group attribute: the format version.
pub const ATTR_VERSION: &str = "flacarray_format_version";
/// Group attribute: the writing software and its version.
pub const ATTR_SOFTWARE: &str = "flacarray_software_version";
/// Group attribute: FLAC channels per stream (format 1).
pub const ATTR_CHANNELS: &str = "flac_channels";
/// Group attribute (ours): the element type.
pub const ATTR_DTYPE: &str = "flacarray_dtype";
/// Group attribute (ours): the full shape (so 1-D arrays read back 1-D).
pub const ATTR_SHAPE: &str = "flacarray_shape";
/// Group attribute (ours): the compression level used.
pub const ATTR_LEVEL: &str = "flacarray_level";
/// Group attribute (ours): the digest of the layout and the per-stream
/// tables ([`crate::digest::table_digest`]).
pub const ATTR_DIGEST: &str = "flacarray_digest";
/// Attribute of `stream_starts`: samples per stream.
pub const ATTR_STREAM_SIZE: &str = "stream_size";

/// Every group attribute this format defines.
pub const GROUP_ATTRIBUTES: [&str; 7] = [
    ATTR_VERSION,
    ATTR_SOFTWARE,
    ATTR_CHANNELS,
    ATTR_DTYPE,
    ATTR_SHAPE,
    ATTR_LEVEL,
    ATTR_DIGEST,
];

/// The FLAC bytes of all streams.
pub const COMPRESSED: &str = "compressed";
/// Byte offset of each stream in `compressed`.
pub const STARTS: &str = "stream_starts";
/// Byte length of each stream.
pub const NBYTES: &str = "stream_bytes";
/// Per-stream offsets (float data).
pub const OFFSETS: &str = "stream_offsets";
/// Per-stream gains (float data).
pub const GAINS: &str = "stream_gains";
/// Every array a group may hold, in the order they are written.
pub const ARRAYS: [&str; 5] = [COMPRESSED, STARTS, NBYTES, OFFSETS, GAINS];

/// Name prefix of the arrays a writer stages beside a group's old ones
/// (`flacarray_staged_compressed`, ...) until the new array is complete.
/// (Zarr v3 reserves names starting with `__`.)
pub const STAGED_PREFIX: &str = "flacarray_staged_";
/// Group attribute: a write's commit record ([`commit_record`]). Once it is
/// present the staged arrays are the group's, even if the swap that puts
/// them in place was cut short (see [`resolve_group`]).
pub const ATTR_COMMIT: &str = "flacarray_commit";

/// Chunk length of `compressed` in zarr, so a few streams are read without
/// reading the rest.
pub const BYTES_CHUNK: u64 = 1 << 20;

/// The smallest possible FLAC stream: `fLaC` and a STREAMINFO block.
pub const MIN_STREAM_BYTES: u64 = 42;

/// `compressed` may claim at most this many bytes more than
/// [`MAX_EXPANSION`] times what is stored (FLAC bytes barely compress).
const STORAGE_SLACK: u64 = 64 << 20;
/// How much larger than its stored size `compressed` may claim to be.
const MAX_EXPANSION: u64 = 64;

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

fn corrupt(message: impl Into<String>) -> Error {
    Error::corrupt(message.into())
}

/// A non-negative integer stored as a JSON integer or an integral float.
fn as_count(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 9.0e15)
                .map(|f| f as u64)
        }),
        _ => None,
    }
}

/// A small integer stored as a JSON integer or a decimal string (the
/// reference writes its version and channel attributes as strings).
fn as_small_int(value: &Value) -> Option<u32> {
    match value {
        Value::String(s) => s.trim().parse().ok(),
        other => as_count(other).and_then(|v| u32::try_from(v).ok()),
    }
}

fn describe_value(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 60 {
        format!("{}...", &text[..57])
    } else {
        text
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
        Some(Ok(dtype)) => dtype,
        _ => {
            return Err(corrupt(format!(
                "attribute '{ATTR_DTYPE}' holds {}, expected int32, int64, float32 or float64",
                describe_value(raw)
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

/// What to read from `compressed`, and the per-stream parts of the result.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadPlan {
    /// Byte ranges of `compressed` to read, in order; their concatenation
    /// holds the selected streams back to back.
    pub runs: Vec<(u64, u64)>,
    /// Shape of the result (the stored shape, or `(kept, samples)`).
    pub shape: Vec<usize>,
    /// Flat indices of the selected streams.
    pub selected: Vec<usize>,
    /// Each selected stream's start in the concatenated runs.
    pub starts: Vec<u64>,
    /// Each selected stream's byte count.
    pub nbytes: Vec<u64>,
    /// Selected offsets (float data).
    pub offsets: Option<Vec<f64>>,
    /// Selected gains (float data).
    pub gains: Option<Vec<f64>>,
    /// FLAC channels every stream read must have ([`GroupLayout::channels`]);
    /// see [`check_stream_channels`].
    pub channels: Option<u32>,
}

/// Checks a keep mask's shape against a leading shape (a single-stream
/// array takes a 0-d or 1-element mask) and returns the kept flat indices.
pub fn kept_streams(mask: &[bool], mask_shape: &[usize], leading: &[usize]) -> Result<Vec<usize>> {
    let expected: &[usize] = if leading.is_empty() { &[1] } else { leading };
    let fits = mask_shape == expected || (leading.is_empty() && mask_shape.is_empty());
    let count = mask_shape.iter().product::<usize>();
    if !fits || count != mask.len() {
        return Err(Error::invalid(format!(
            "keep has shape {mask_shape:?}; expected the leading shape {expected:?}"
        )));
    }
    Ok((0..mask.len()).filter(|&i| mask[i]).collect())
}

/// Checks that the streams' byte runs tile `compressed` (`total` bytes)
/// exactly: every run inside it, none overlapping another, no byte left
/// between or after them. A changed start or length breaks the tiling.
fn check_tiling(starts: &[i64], nbytes: &[i64], total: u64) -> Result<()> {
    let mut runs = Vec::with_capacity(starts.len());
    for (i, (&start, &count)) in starts.iter().zip(nbytes).enumerate() {
        let (Ok(s), Ok(c)) = (u64::try_from(start), u64::try_from(count)) else {
            return Err(corrupt(format!(
                "stream {i} has a negative start ({start}) or byte count ({count})"
            )));
        };
        let end = s
            .checked_add(c)
            .filter(|&end| end <= total)
            .ok_or_else(|| {
                corrupt(format!(
                    "stream {i} claims bytes {s}..{} but '{COMPRESSED}' holds {total}",
                    s.saturating_add(c)
                ))
            })?;
        runs.push((s, end, i));
    }
    if runs.windows(2).any(|w| w[0].0 > w[1].0) {
        runs.sort_unstable();
    }
    let mut pos = 0u64;
    let mut previous = None;
    for (start, end, i) in runs {
        if start < pos {
            return Err(corrupt(format!(
                "stream {i} (bytes {start}..{end}) overlaps stream {}",
                previous.unwrap_or(0)
            )));
        }
        if start > pos {
            return Err(corrupt(format!(
                "bytes {pos}..{start} of '{COMPRESSED}' belong to no stream"
            )));
        }
        pos = end;
        previous = Some(i);
    }
    if pos != total {
        return Err(corrupt(format!(
            "bytes {pos}..{total} of '{COMPRESSED}' belong to no stream"
        )));
    }
    Ok(())
}

/// Checks that every stream of an array read from a container has the
/// channel count its layout requires (format 1 and the Arrow layout 2: one
/// for 32-bit types, two for 64-bit ones), so data of one type relabelled
/// as another is refused.
pub fn check_stream_channels(array: &FlacArrayRef<'_>, channels: Option<u32>) -> Result<()> {
    let Some(required) = channels else {
        return Ok(());
    };
    for i in 0..array.nstreams() {
        let found = array.stream_channels(i)?;
        if found != required {
            return Err(corrupt(format!(
                "stream {i} has {found} FLAC channels; {} data is stored in {required}",
                array.dtype()
            )));
        }
    }
    Ok(())
}

/// Validates the per-stream arrays read from a group described by `layout`
/// and plans which bytes to read. With `keep` (a boolean mask and its
/// shape, which must be the leading shape) only the kept streams are read
/// and the result has shape `(kept, samples)`.
pub fn plan_read(
    layout: &GroupLayout,
    starts: &[i64],
    nbytes: &[i64],
    offsets: Option<&[f64]>,
    gains: Option<&[f64]>,
    keep: Option<(&[bool], &[usize])>,
) -> Result<ReadPlan> {
    let n = layout.nstreams();
    for (name, len) in [
        (STARTS, Some(starts.len())),
        (NBYTES, Some(nbytes.len())),
        (OFFSETS, offsets.map(<[f64]>::len)),
        (GAINS, gains.map(<[f64]>::len)),
    ] {
        if let Some(len) = len.filter(|&len| len != n) {
            return Err(corrupt(format!(
                "'{name}' holds {len} values, expected {n}"
            )));
        }
    }
    if layout.has_scales() != (offsets.is_some() && gains.is_some()) {
        return Err(corrupt(format!(
            "{} data needs '{OFFSETS}' and '{GAINS}' and nothing else",
            layout.dtype
        )));
    }
    check_tiling(starts, nbytes, layout.compressed_len)?;
    if let Some(expected) = &layout.digest {
        let actual = digest::table_digest(
            layout.dtype,
            &layout.shape,
            layout.level,
            starts,
            nbytes,
            offsets,
            gains,
        );
        if &actual != expected {
            return Err(corrupt(format!(
                "the group's per-stream tables or its shape, type or level attributes do not \
                 match its digest ('{ATTR_DIGEST}' is {expected}, they give {actual})"
            )));
        }
    }
    let selected = match keep {
        None => (0..n).collect(),
        Some((mask, shape)) => kept_streams(mask, shape, layout.leading_shape())?,
    };
    let mut runs: Vec<(u64, u64)> = Vec::new();
    let mut new_starts = Vec::with_capacity(selected.len());
    let mut counts = Vec::with_capacity(selected.len());
    let mut pos = 0u64;
    for &i in &selected {
        let (start, count) = (starts[i], nbytes[i]);
        let (Ok(start), Ok(count)) = (u64::try_from(start), u64::try_from(count)) else {
            return Err(corrupt(format!(
                "stream {i} has a negative start ({start}) or byte count ({count})"
            )));
        };
        let end = start
            .checked_add(count)
            .filter(|&end| end <= layout.compressed_len)
            .ok_or_else(|| {
                corrupt(format!(
                    "stream {i} claims bytes {start}..{} but '{COMPRESSED}' holds {}",
                    start.saturating_add(count),
                    layout.compressed_len
                ))
            })?;
        if count < MIN_STREAM_BYTES {
            return Err(corrupt(format!(
                "stream {i} has only {count} bytes: too few for a FLAC stream"
            )));
        }
        match runs.last_mut() {
            Some(run) if run.1 == start => run.1 = end,
            _ => runs.push((start, end)),
        }
        new_starts.push(pos);
        counts.push(count);
        pos += count;
    }
    let pick = |values: Option<&[f64]>| values.map(|v| selected.iter().map(|&i| v[i]).collect());
    let shape = match keep {
        None => layout.shape.clone(),
        Some(_) => vec![selected.len(), layout.stream_size()],
    };
    Ok(ReadPlan {
        runs,
        shape,
        starts: new_starts,
        nbytes: counts,
        offsets: pick(offsets),
        gains: pick(gains),
        selected,
        channels: layout.channels,
    })
}

/// The group attributes to write for `array` (compressed at `level`),
/// whose per-stream tables are written as they are. Its streams must
/// already be in format 1's channel layout (see
/// [`crate::FlacArray::to_format1`]).
pub fn group_attributes(array: &FlacArrayRef<'_>, level: u32) -> Map<String, Value> {
    let as_i64 = |v: &[u64]| v.iter().map(|&x| x as i64).collect::<Vec<i64>>();
    let tables = GroupTables {
        starts: &as_i64(array.stream_starts()),
        nbytes: &as_i64(array.stream_nbytes()),
        offsets: array.stream_offsets(),
        gains: array.stream_gains(),
    };
    group_attributes_for(array.dtype(), array.shape(), level, &tables)
}

/// The per-stream tables of a whole group as they are stored (for an array
/// spread over MPI ranks: every rank's, in order), for its digest.
#[derive(Debug, Clone, Copy)]
pub struct GroupTables<'a> {
    /// Each stream's start in `compressed`.
    pub starts: &'a [i64],
    /// Each stream's byte count.
    pub nbytes: &'a [i64],
    /// Float data: the offsets.
    pub offsets: Option<&'a [f64]>,
    /// Float data: the gains.
    pub gains: Option<&'a [f64]>,
}

/// The group attributes for an array of `dtype` and `shape` whose tables
/// are `tables` (for example a whole array whose streams are spread over
/// MPI ranks).
pub fn group_attributes_for(
    dtype: DType,
    shape: &[usize],
    level: u32,
    tables: &GroupTables<'_>,
) -> Map<String, Value> {
    let mut attrs = Map::new();
    attrs.insert(ATTR_VERSION.into(), json!(FORMAT_VERSION));
    attrs.insert(
        ATTR_SOFTWARE.into(),
        json!(format!("flacarray-rs {}", env!("CARGO_PKG_VERSION"))),
    );
    attrs.insert(ATTR_CHANNELS.into(), json!(dtype.channels().to_string()));
    attrs.insert(ATTR_DTYPE.into(), json!(dtype.name()));
    attrs.insert(ATTR_SHAPE.into(), json!(shape));
    attrs.insert(ATTR_LEVEL.into(), json!(level));
    let digest = digest::table_digest(
        dtype,
        shape,
        level,
        tables.starts,
        tables.nbytes,
        tables.offsets,
        tables.gains,
    );
    attrs.insert(ATTR_DIGEST.into(), json!(digest));
    attrs
}

/// The attributes of `stream_starts` for `array`.
pub fn starts_attributes(array: &FlacArrayRef<'_>) -> Map<String, Value> {
    starts_attributes_for(array.stream_size())
}

/// The attributes of `stream_starts` for streams of `stream_size` samples.
pub fn starts_attributes_for(stream_size: usize) -> Map<String, Value> {
    let mut attrs = Map::new();
    attrs.insert(ATTR_STREAM_SIZE.into(), json!(stream_size));
    attrs
}

/// The shape of the per-stream arrays written for `array` (`[1]` for a
/// single 1-D stream, as the reference writes it).
pub fn stored_leading_shape(array: &FlacArrayRef<'_>) -> Vec<u64> {
    stored_leading_shape_for(array.shape())
}

/// [`stored_leading_shape`] for an array of `shape`.
pub fn stored_leading_shape_for(shape: &[usize]) -> Vec<u64> {
    match &shape[..shape.len().saturating_sub(1)] {
        [] => vec![1],
        leading => leading.iter().map(|&d| d as u64).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(shape: &[u64], dtype: &str) -> ArrayInfo {
        ArrayInfo {
            shape: shape.to_vec(),
            dtype: dtype.into(),
            stored_bytes: None,
            missing_chunks: None,
            chunk_elements: None,
            chunk_count: None,
        }
    }

    fn group(version: Value, stream_size: Value) -> GroupDescription {
        let mut desc = GroupDescription::default();
        desc.attributes.insert(ATTR_VERSION.into(), version);
        desc.starts_attributes
            .insert(ATTR_STREAM_SIZE.into(), stream_size);
        desc.arrays
            .insert(COMPRESSED.into(), info(&[1000], "uint8"));
        desc.arrays.insert(STARTS.into(), info(&[2, 3], "int64"));
        desc.arrays.insert(NBYTES.into(), info(&[2, 3], "int64"));
        desc
    }

    #[test]
    fn reference_attributes_are_understood() {
        let layout = describe(&group(json!("1"), json!(100))).unwrap();
        assert_eq!(layout.shape, vec![2, 3, 100]);
        assert_eq!(layout.dtype, DType::Int32);
        let layout = describe(&group(json!(0), json!(100.0))).unwrap();
        assert_eq!(layout.version, 0);
    }

    #[test]
    fn damaged_attributes_are_corrupt() {
        for size in [json!(-1), json!("abc"), json!([5000]), json!(0), json!(1.5)] {
            let err = describe(&group(json!("1"), size.clone())).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Corrupt, "{size}: {err}");
        }
        let err = describe(&group(json!("7"), json!(10))).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Unsupported);
        let mut desc = group(json!("1"), json!(10));
        desc.attributes.insert(ATTR_SHAPE.into(), json!([4, 10]));
        assert!(describe(&desc).is_err());
    }

    #[test]
    fn claims_are_checked_against_storage() {
        let mut desc = group(json!("1"), json!(10));
        desc.arrays.get_mut(COMPRESSED).unwrap().shape = vec![1 << 40];
        desc.arrays.get_mut(COMPRESSED).unwrap().stored_bytes = Some(40_000);
        assert!(describe(&desc).is_err());
        let mut desc = group(json!("1"), json!(10));
        desc.arrays.get_mut(STARTS).unwrap().shape = vec![1 << 20, 1 << 20];
        desc.arrays.get_mut(NBYTES).unwrap().shape = vec![1 << 20, 1 << 20];
        assert!(describe(&desc).is_err());
    }

    #[test]
    fn plan_merges_adjacent_streams_and_checks_values() {
        let mut desc = group(json!("1"), json!(10));
        desc.arrays.get_mut(COMPRESSED).unwrap().shape = vec![600];
        let layout = describe(&desc).unwrap();
        let starts = [0, 100, 200, 400, 500, 300];
        let nbytes = [100, 100, 100, 100, 100, 100];
        let plan = plan_read(&layout, &starts, &nbytes, None, None, None).unwrap();
        assert_eq!(plan.runs, vec![(0, 300), (400, 600), (300, 400)]);
        let mask = [true, false, true, true, true, false];
        let plan = plan_read(
            &layout,
            &starts,
            &nbytes,
            None,
            None,
            Some((&mask, &[2, 3])),
        )
        .unwrap();
        assert_eq!(plan.runs, vec![(0, 100), (200, 300), (400, 600)]);
        assert_eq!(plan.shape, vec![4, 10]);
        let bad = [0, 100, 200, 400, 500, i64::MAX];
        assert!(plan_read(&layout, &bad, &nbytes, None, None, None).is_err());
        assert!(plan_read(&layout, &starts, &[-1; 6], None, None, None).is_err());
        assert!(plan_read(&layout, &starts[..5], &nbytes, None, None, None).is_err());
        assert!(plan_read(
            &layout,
            &starts,
            &nbytes,
            None,
            None,
            Some((&mask, &[3, 2]))
        )
        .is_err());
    }
}
