//! The group format shared by every HDF5 and zarr reader and writer
//! (the reference package's format 0 and 1), as pure functions: no I/O.
//!
//! A reader describes what it found in a group ([`GroupDescription`]:
//! attributes and, per stored array, its shape, element type and how much
//! data is really stored), gets a validated [`GroupLayout`] back, reads the
//! small per-stream arrays, and asks [`plan_read`] which byte ranges of
//! `compressed` to read. A writer asks [`plan_write`] (or, for an array
//! spread over MPI ranks, [`plan_arrays`] and [`group_attributes`]) what
//! to write. The zarrs reader and writer in this crate and the h5py and
//! zarr-python ones of the Python package all go through these functions,
//! so they write the same groups and accept and reject exactly the same
//! ones.
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

mod describe;
mod plan;
mod write;

pub use describe::{
    commit_record, describe, resolve_group, ArrayInfo, GroupDescription, GroupLayout, Resolution,
};
pub use plan::{check_stream_channels, kept_streams, plan_read, ReadPlan};
pub use write::{
    check_group_dtype, group_attributes, plan_arrays, plan_write, stored_leading_shape, Field,
    FieldValues, PlannedArray, WritePlan,
};

use serde_json::Value;

use crate::error::Error;

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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::array::DType;

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
        assert_eq!(plan.parts.shape, vec![4, 10]);
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

    #[test]
    fn a_write_plan_names_every_array_as_the_reference_reads_it() {
        let plan = plan_arrays(DType::Float32, &[2, 3, 10], 5_000_000).unwrap();
        let names: Vec<&str> = plan.iter().map(|p| p.name).collect();
        assert_eq!(names, ARRAYS.to_vec());
        let fields: Vec<&str> = plan.iter().map(|p| p.field.name()).collect();
        assert_eq!(
            fields,
            [
                "compressed",
                "stream_starts",
                "stream_nbytes",
                "stream_offsets",
                "stream_gains"
            ]
        );
        let dtypes: Vec<&str> = plan.iter().map(|p| p.dtype).collect();
        assert_eq!(dtypes, ["uint8", "int64", "int64", "float32", "float32"]);
        assert_eq!(plan[0].shape, vec![5_000_000]);
        assert_eq!(plan[0].chunks, vec![BYTES_CHUNK]);
        for table in &plan[1..] {
            assert_eq!(
                (table.shape.as_slice(), table.chunks.as_slice()),
                (&[2, 3][..], &[2, 3][..])
            );
        }
        assert_eq!(plan[1].attributes[ATTR_STREAM_SIZE], json!(10));
        // a single stream: tables of shape (1,); no bytes still one chunk
        let plan = plan_arrays(DType::Int64, &[7], 0).unwrap();
        assert_eq!(plan.len(), 3);
        assert_eq!(
            (plan[0].shape.clone(), plan[0].chunks.clone()),
            (vec![0], vec![1])
        );
        assert_eq!(plan[2].shape, vec![1]);
        let empty = plan_arrays(DType::Int32, &[0, 5], 0).unwrap();
        assert_eq!(
            (empty[1].shape.clone(), empty[1].chunks.clone()),
            (vec![0], vec![1])
        );
        let err = plan_arrays(DType::Int16, &[2, 5], 100).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Unsupported);
    }

    #[test]
    fn group_attributes_digest_what_a_reader_checks() {
        let parts = crate::FlacArrayPartsRef {
            dtype: DType::Int32,
            shape: &[2, 3, 100],
            compressed: &[],
            stream_starts: &[0, 100, 200, 300, 400, 500],
            stream_nbytes: &[100; 6],
            stream_offsets: None,
            stream_gains: None,
            level: 5,
        };
        let mut desc = group(json!("1"), json!(100));
        desc.attributes = group_attributes(&parts).unwrap();
        desc.arrays.insert(COMPRESSED.into(), info(&[600], "uint8"));
        let layout = describe(&desc).unwrap();
        let starts = [0, 100, 200, 300, 400, 500];
        assert!(plan_read(&layout, &starts, &[100; 6], None, None, None).is_ok());
        let moved = [0, 100, 200, 300, 500, 400];
        let err = plan_read(&layout, &moved, &[100; 6], None, None, None).unwrap_err();
        assert!(err.to_string().contains("digest"), "{err}");
    }
}
