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
