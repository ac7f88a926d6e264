//! Regression tests for the core side of a user's probe: claims checked
//! before allocating, scales and steps that cannot decode, format-1 channel
//! layout, writers that never replace foreign data, no global state.

mod common;

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{Field, Schema};
use flacarray::arrow::{decompress_lists, FlacColumn, FlacMetadata, SampleWindow};
use flacarray::codec::{encode_i32, EncodeOptions};
use flacarray::{CompressOptions, DType, ErrorKind, FlacArray, FlacArrayParts, IfExists, StepSpec};

fn floats() -> FlacArray {
    let data: Vec<f64> = (0..6 * 3000)
        .map(|i| (i as f64 * 0.01).sin() * 50.0)
        .collect();
    FlacArray::compress(&data, &[2, 3, 3000], &CompressOptions::default()).unwrap()
}

#[test]
fn stream_size_zero_is_corrupt() {
    let fa = floats();
    let mut parts = fa.into_parts();
    parts.shape = vec![2, 3, 0];
    let err = FlacArray::from_parts(parts).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.message().contains("0 samples"), "{err}");
}

#[test]
fn stream_length_claims_are_checked_against_streaminfo() {
    let mut parts = floats().into_parts();
    parts.shape = vec![2, 3, 2999];
    let err = FlacArray::from_parts(parts).unwrap_err();
    assert!(err.message().contains("holds 3000 samples"), "{err}");
}

#[test]
fn unusable_scales_are_corrupt() {
    for gain in [-2.0, 0.0, 1e-320, f64::NAN, f64::INFINITY] {
        let mut parts = floats().into_parts();
        parts.stream_gains.as_mut().unwrap()[4] = gain;
        let err = FlacArray::from_parts(parts).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{gain}: {err}");
        assert!(err.message().contains("stream 4"), "{err}");
    }
    let data: Vec<f32> = (0..2000).map(|i| i as f32).collect();
    let fa = FlacArray::compress(&data, &[2, 1000], &CompressOptions::default()).unwrap();
    let mut parts = fa.into_parts();
    // a normal float64 gain, but denormal once stored as float32
    parts.stream_gains.as_mut().unwrap()[1] = 1e-39;
    assert!(FlacArray::from_parts(parts).is_err());
}

#[test]
fn float32_quanta_range_is_enforced() {
    let data: Vec<f32> = (0..1000).map(|i| i as f32).collect();
    for q in [3.5e38, 1e40, 1e45, 1e46, 1e-46] {
        let opts = CompressOptions::default().with_step(StepSpec::Quanta(vec![q]));
        let err = FlacArray::compress(&data, &[1000], &opts).unwrap_err();
        assert!(
            err.message().contains("float32 steps lie between"),
            "{q}: {err}"
        );
    }
}

#[test]
fn extreme_precision_is_an_error_not_a_fallback() {
    let data: Vec<f64> = (0..1000).map(|i| (i as f64).sin()).collect();
    for p in [309.0, 400.0, -309.0, -400.0] {
        let opts = CompressOptions::default().with_step(StepSpec::Precision(vec![p]));
        let err = FlacArray::compress(&data, &[1000], &opts).unwrap_err();
        assert!(err.message().contains("precision"), "{p}: {err}");
    }
}

#[test]
fn denormal_streams_are_refused_by_the_default_step() {
    // 2^30 steps across 1e-310 would need a step without a finite gain:
    // an error naming the remedy, never a silent collapse to one level
    let data: Vec<f64> = (0..1000).map(|i| 1e-310 + (i as f64) * 1e-313).collect();
    let err = FlacArray::compress(&data, &[1000], &CompressOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("values span only"), "{err}");
    assert!(err.message().contains("stream 0"), "{err}");
}

/// A float64 array in the reference's format 0 layout: 1-channel streams.
fn format0_float64() -> (Vec<i32>, FlacArray) {
    let ints: Vec<i32> = (0..2 * 4000).map(|i| ((i * 37) % 2001) - 1000).collect();
    let opts = EncodeOptions::default();
    let mut compressed = Vec::new();
    let mut starts = Vec::new();
    let mut nbytes = Vec::new();
    for row in ints.chunks(4000) {
        let bytes = encode_i32(row, &opts).unwrap();
        starts.push(compressed.len() as u64);
        nbytes.push(bytes.len() as u64);
        compressed.extend(bytes);
    }
    let fa = FlacArray::from_parts(FlacArrayParts {
        dtype: DType::Float64,
        shape: vec![2, 4000],
        compressed,
        stream_starts: starts,
        stream_nbytes: nbytes,
        stream_offsets: Some(vec![1.5, -2.0]),
        stream_gains: Some(vec![1000.0, 250.0]),
        level: 5,
    })
    .unwrap();
    (ints, fa)
}

#[test]
fn format0_float64_is_rewritten_with_two_channels() {
    let (_, fa) = format0_float64();
    assert_eq!(fa.view().stream_channels(0).unwrap(), 1);
    let fixed = fa.to_current_layout().unwrap().into_owned();
    for i in 0..2 {
        assert_eq!(fixed.view().stream_channels(i).unwrap(), 2);
    }
    assert_eq!(fixed.to_vec::<f64>().unwrap(), fa.to_vec::<f64>().unwrap());
    let column = fa.to_arrow().unwrap();
    let first = column.storage().column(0).to_data();
    let stream = arrow_array::LargeBinaryArray::from(first);
    assert_eq!(
        flacarray::codec::stream_info(stream.value(0))
            .unwrap()
            .channels,
        2
    );
    // already format 1: borrowed, nothing re-encoded
    assert!(matches!(
        fixed.to_current_layout().unwrap(),
        std::borrow::Cow::Borrowed(_)
    ));
    // the zarrs writer re-encodes too
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f0.zarr");
    flacarray::zarr::write_array(&path, &fa, IfExists::Fail).unwrap();
    let back = flacarray::zarr::read_array(&path, None).unwrap();
    assert_eq!(back.view().stream_channels(1).unwrap(), 2);
    assert_eq!(back.to_vec::<f64>().unwrap(), fa.to_vec::<f64>().unwrap());
}

#[test]
fn arrow_metadata_cannot_claim_more_samples_than_the_streams_hold() {
    let column = floats().to_arrow().unwrap();
    // layout 1 put the stream length in the type metadata
    let meta = FlacMetadata::from_json(
        r#"{"format":1,"dtype":"float64","stream_size":135460845,"leading_shape":null,"channels":2,"level":5}"#,
    )
    .unwrap();
    let forged = FlacColumn::new(meta, column.storage().clone()).unwrap();
    let err = decompress_lists(&forged, SampleWindow::all()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.message().contains("holds 3000 samples"), "{err}");
    let err = FlacArray::from_arrow(&forged).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    // the windowed path agrees
    assert!(decompress_lists(&forged, SampleWindow::new(Some(5), Some(10))).is_err());
}

#[test]
fn parquet_writer_never_replaces_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    let fa = floats();
    let path = dir.path().join("a.parquet");
    flacarray::parquet::write_array_file(&path, &fa, "flac", IfExists::Fail).unwrap();
    let err = flacarray::parquet::write_array_file(&path, &fa, "flac", IfExists::Fail).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    flacarray::parquet::write_array_file(&path, &fa, "flac", IfExists::Overwrite).unwrap();
    // a Parquet file without our column is not ours to replace
    let other = dir.path().join("other.parquet");
    let ids = Arc::new(arrow_array::Int64Array::from(vec![1, 2])) as ArrayRef;
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(
            "id",
            arrow_schema::DataType::Int64,
            false,
        )])),
        vec![ids],
    )
    .unwrap();
    flacarray::parquet::write_batch(std::fs::File::create(&other).unwrap(), &batch, 10).unwrap();
    let before = std::fs::read(&other).unwrap();
    let err =
        flacarray::parquet::write_array_file(&other, &fa, "flac", IfExists::Overwrite).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&other).unwrap(), before);
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["a.parquet", "other.parquet"],
        "no temporary files left"
    );
}

#[test]
fn zarr_writer_refuses_foreign_directories_and_leaves_no_debris() {
    let dir = tempfile::tempdir().unwrap();
    let fa = floats();
    let target = dir.path().join("data");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("notes.txt"), "keep").unwrap();
    for mode in [IfExists::Fail, IfExists::Overwrite] {
        let err = flacarray::zarr::write_array(&target, &fa, mode).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
    }
    assert_eq!(
        std::fs::read_to_string(target.join("notes.txt")).unwrap(),
        "keep"
    );
    // a write that fails part way leaves nothing: an invalid path component
    let err = flacarray::zarr::write_array(
        dir.path().join("missing/parent/x.zarr"),
        &fa,
        IfExists::Fail,
    );
    assert!(err.is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn zarr_writes_do_not_change_global_configuration() {
    zarrs::config::global_config_mut().set_include_zarrs_metadata(true);
    let dir = tempfile::tempdir().unwrap();
    flacarray::zarr::write_array(dir.path().join("a.zarr"), &floats(), IfExists::Fail).unwrap();
    assert!(zarrs::config::global_config().include_zarrs_metadata());
    let meta = std::fs::read_to_string(dir.path().join("a.zarr/compressed/zarr.json")).unwrap();
    assert!(!meta.contains("_zarrs"), "{meta}");
}

/// A zarr group of [`floats`] written in `dir`: its path, and the path and
/// JSON of array `name`'s metadata.
fn zarr_group_of_floats(
    dir: &std::path::Path,
    name: &str,
) -> (std::path::PathBuf, std::path::PathBuf, serde_json::Value) {
    let path = dir.join("a.zarr");
    flacarray::zarr::write_array(&path, &floats(), IfExists::Fail).unwrap();
    let meta_path = path.join(name).join("zarr.json");
    let meta = serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    (path, meta_path, meta)
}

#[test]
fn zarr_size_claims_are_checked_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let (path, meta_path, meta) = zarr_group_of_floats(dir.path(), "compressed");
    for claim in [1u64 << 40, 1 << 32] {
        let mut m = meta.clone();
        m["shape"] = serde_json::json!([claim]);
        std::fs::write(&meta_path, m.to_string()).unwrap();
        let err = flacarray::zarr::read_array(&path, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
        assert!(err.message().contains("'compressed'"), "{err}");
    }
    // a chunk claiming far more elements than its array
    let mut m = meta.clone();
    m["chunk_grid"]["configuration"]["chunk_shape"] = serde_json::json!([1u64 << 40]);
    std::fs::write(&meta_path, m.to_string()).unwrap();
    let err = flacarray::zarr::read_array(&path, None).unwrap_err();
    assert!(err.message().contains("claims chunks"), "{err}");
}

#[test]
fn short_gains_in_a_zarr_group_are_corrupt_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let (path, meta_path, mut meta) = zarr_group_of_floats(dir.path(), "stream_gains");
    meta["shape"] = serde_json::json!([1, 3]);
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    let err = flacarray::zarr::read_array(&path, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.message().contains("stream_gains"), "{err}");
    let keep = [true; 6];
    assert!(flacarray::zarr::read_array(&path, Some((&keep, &[2, 3]))).is_err());
}

#[test]
fn bare_storage_structs_and_rows_that_contradict_their_dtype() {
    let column = floats().to_arrow().unwrap();
    let storage: ArrayRef = Arc::new(column.storage().clone());
    // the dtype of a bare struct comes from the streams and the scales
    let bare = FlacColumn::from_storage(&storage, None).unwrap();
    assert_eq!(bare.dtype(), DType::Float64);
    let all = decompress_lists(&bare, SampleWindow::all()).unwrap();
    assert_eq!(all.len(), 6);
    // float rows read as int64 have offsets and gains: corrupt, never values
    let wrong = FlacColumn::from_storage(&storage, Some(DType::Int64)).unwrap();
    let err = decompress_lists(&wrong, SampleWindow::all()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.message().contains("offset or gain"), "{err}");
    // and int rows read as float64 have none
    let ints = FlacArray::compress(&[1i64, 2, 3, 4], &[2, 2], &CompressOptions::default()).unwrap();
    let storage: ArrayRef = Arc::new(ints.to_arrow().unwrap().storage().clone());
    let wrong = FlacColumn::from_storage(&storage, Some(DType::Float64)).unwrap();
    assert!(decompress_lists(&wrong, SampleWindow::all()).is_err());
}
