//! The `flacarray.flac` Zarr v3 codec through zarrs: round trips, windows
//! that decode only their frames, missing and damaged chunks.
#![cfg(feature = "zarr")]

use std::sync::Arc;

use flacarray::zarr_codec::{read_array_file, write_array_file, FlacCodec};
use flacarray::DType;
use zarrs::array::{data_type, Array, ArrayBuilder};
use zarrs::filesystem::FilesystemStore;

fn signal(n: usize) -> Vec<i32> {
    (0..n)
        .map(|i| ((i as f64 * 0.001).sin() * 30_000.0) as i32 + (i as i32 * 7919) % 101)
        .collect()
}

#[test]
fn windows_decode_only_their_frames() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zarr");
    let (streams, samples) = (5usize, 40_000usize);
    let data = signal(streams * samples);
    let codec = FlacCodec::new(5, None, None).unwrap();
    write_array_file(&path, &data, &[5, 40_000], &[2, 40_000], codec).unwrap();
    let store = Arc::new(FilesystemStore::new(&path).unwrap());
    let array = Array::open(store.clone(), "/").unwrap();
    let window: Vec<i32> = array.retrieve_array_subset(&[1..4, 2345..2500]).unwrap();
    let expected: Vec<i32> = (1..4)
        .flat_map(|s| data[s * samples + 2345..s * samples + 2500].to_vec())
        .collect();
    assert_eq!(window, expected);
    // Damage the last FLAC frame of the last stream in chunk (0, 0): a
    // window from the first frames still reads (only its frames are
    // decoded), the whole chunk does not.
    let chunk = path.join("c").join("0").join("0");
    let mut bytes = std::fs::read(&chunk).unwrap();
    let n = bytes.len();
    bytes[n - 40] ^= 0x5a;
    std::fs::write(&chunk, &bytes).unwrap();
    let array = Array::open(store, "/").unwrap();
    let early: Vec<i32> = array.retrieve_array_subset(&[0..2, 0..100]).unwrap();
    assert_eq!(&early[..100], &data[..100]);
    let err = array
        .retrieve_array_subset::<Vec<i32>>(&[0..2, 0..40_000])
        .unwrap_err();
    assert!(err.to_string().contains("flacarray.flac"), "{err}");
}

#[test]
fn missing_chunks_read_as_the_fill_value_and_dtypes_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FilesystemStore::new(dir.path()).unwrap());
    let codec = Arc::new(FlacCodec::new(5, Some(1e-3), None).unwrap());
    let array = ArrayBuilder::new(vec![4, 100], vec![2, 100], data_type::float64(), 1.5f64)
        .array_to_bytes_codec(codec)
        .build(store.clone(), "/x")
        .unwrap();
    array.store_metadata().unwrap();
    let values: Vec<f64> = (0..200).map(|i| i as f64 * 0.25).collect();
    array
        .store_array_subset(&[0..2, 0..100], values.clone())
        .unwrap();
    let back: Vec<f64> = array.retrieve_array_subset(&[0..4, 10..20]).unwrap();
    assert_eq!(&back[..10], &values[10..20]);
    assert!(
        back[20..].iter().all(|&v| v == 1.5),
        "chunk (1, 0) was never written"
    );
    // a step is for floats only; unsupported element types are refused
    let ints = FlacCodec::new(5, Some(1e-3), None).unwrap();
    assert!(ints.check_dtype(DType::Int32).is_err());
    let err = ints.check_data_type(&data_type::uint16()).unwrap_err();
    assert!(
        err.to_string()
            .contains("int32, int64, float32 and float64"),
        "{err}"
    );
    assert!(FlacCodec::new(9, None, None).is_err());
    assert!(FlacCodec::new(5, Some(-1.0), None).is_err());
    assert!(FlacCodec::new(5, Some(1.0), Some(3.0)).is_err());
    let (dtype, shape, raw) = read_array_file(dir.path().join("x")).unwrap();
    assert_eq!(
        (dtype, shape, raw.len()),
        (DType::Float64, vec![4, 100], 400 * 8)
    );
}

/// Issue 22, item 10: a small chunk under array metadata claiming 2^33
/// samples per stream is an error found before anything is allocated for
/// it, in the whole-chunk and the partial decoder (it used to abort).
#[test]
fn huge_chunk_claims_are_errors_not_aborts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FilesystemStore::new(dir.path()).unwrap());
    let codec = FlacCodec::new(5, None, None).unwrap();
    let huge = 1u64 << 33;
    let array = ArrayBuilder::new(vec![1, huge], vec![1, huge], data_type::int32(), 0i32)
        .array_to_bytes_codec(Arc::new(codec.clone()))
        .build(store.clone(), "/x")
        .unwrap();
    array.store_metadata().unwrap();
    let chunk = flacarray::chunk::encode_chunk(&[1i32, 2, 3], &[1, 3], codec.options()).unwrap();
    let key = dir.path().join("x").join("c").join("0").join("0");
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    std::fs::write(&key, &chunk).unwrap();
    let array = Array::open(store, "/x").unwrap();
    let err = array
        .retrieve_array_subset::<Vec<i32>>(&[0..1, 0..10])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("chunk holds 1 streams of 3 samples"),
        "{err}"
    );
    let err = array.retrieve_chunk::<Vec<i32>>(&[0, 0]).unwrap_err();
    assert!(err.to_string().contains("chunk holds"), "{err}");
}

/// Issue 22, item 7 (codec chunks): a changed stream length, offset or
/// gain in a chunk's tables is Corrupt (layouts 2 and 3 carry their MD5).
#[test]
fn damaged_chunk_tables_are_corrupt() {
    let data: Vec<f64> = (0..2 * 300).map(|i| (i as f64 * 0.05).sin()).collect();
    let options = flacarray::CompressOptions::default().with_quanta(1e-4);
    let chunk = flacarray::chunk::encode_chunk(&data, &[2, 300], &options).unwrap();
    assert_eq!(chunk[4], 3, "layout 3");
    let mut out = vec![0f64; 600];
    flacarray::chunk::decode_chunk_into(&chunk, &[2, 300], 0..300, &mut out).unwrap();
    // every byte of the header (but the layout byte) and the tables
    let tables = 24 + 2 * 24;
    for at in (0..tables).filter(|&at| at != 4) {
        let mut damaged = chunk.clone();
        damaged[at] ^= 0x10;
        let err =
            flacarray::chunk::decode_chunk_into(&damaged, &[2, 300], 0..300, &mut out).unwrap_err();
        assert_eq!(
            err.kind(),
            flacarray::ErrorKind::Corrupt,
            "byte {at}: {err}"
        );
    }
}
