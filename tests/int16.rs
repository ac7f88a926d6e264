//! int16 end to end: the in-memory array, the Arrow column and Parquet,
//! the Zarr v3 codec (chunks and zarrs), and the group format's refusal.

mod common;

use arrow_array::cast::AsArray;
use arrow_array::types::Int16Type;
use arrow_array::ListArray;
use flacarray::codec::stream_info;
use flacarray::{CompressOptions, DType, ErrorKind, FlacArray, IfExists};

/// Noise around a slow wave, with both ends of the int16 range.
fn samples(nstreams: usize, n: usize) -> Vec<i16> {
    let mut rng = common::Rng::new(16);
    let mut data: Vec<i16> = (0..nstreams * n)
        .map(|i| {
            let wave = 3000.0 * ((i % n) as f64 / 50.0).sin();
            (wave + rng.normal() * 40.0) as i16
        })
        .collect();
    data[0] = i16::MIN;
    data[1] = i16::MAX;
    data
}

#[test]
fn an_int16_array_is_lossless_and_streams_hold_at_most_16_bits() {
    let data = samples(6, 2000);
    let fa = FlacArray::compress(&data, &[2, 3, 2000], &CompressOptions::default()).unwrap();
    assert_eq!(fa.dtype(), DType::Int16);
    assert_eq!(fa.to_vec::<i16>().unwrap(), data);
    assert!(fa.stream_offsets().is_none());
    assert!(fa.nbytes() < data.len() * 2, "{} bytes", fa.nbytes());
    for i in 0..fa.nstreams() {
        let info = stream_info(fa.stream_bytes(i).unwrap()).unwrap();
        assert_eq!(info.channels, 1);
        assert!(info.bits_per_sample <= 16, "{}", info.bits_per_sample);
    }
    let window = fa.decompress::<i16>(&[4], 1500..1510).unwrap();
    assert_eq!(window, &data[4 * 2000 + 1500..4 * 2000 + 1510]);
    // the type is checked: int16 streams are not read as int32
    let err = fa.to_vec::<i32>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[test]
fn a_stream_wider_than_16_bits_is_damage_in_an_int16_array() {
    let wide: Vec<i32> = (0..1000).map(|i| i * 70).collect();
    let fa = FlacArray::compress(&wide, &[1000], &CompressOptions::default()).unwrap();
    let mut parts = fa.into_parts();
    parts.dtype = DType::Int16;
    let relabelled = FlacArray::from_parts(parts).unwrap();
    let err = relabelled.to_vec::<i16>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("outside the int16 range"), "{err}");
}

#[cfg(feature = "libflac")]
#[test]
fn libflac_reads_our_int16_streams() {
    use flacarray::codec::{decode_window_i32_with, Decoder};
    let data = samples(2, 5000);
    let fa = FlacArray::compress(&data, &[2, 5000], &CompressOptions::default()).unwrap();
    for s in 0..2 {
        let mut out = vec![0i32; 5000];
        decode_window_i32_with(
            Decoder::Libflac,
            fa.stream_bytes(s).unwrap(),
            5000,
            0,
            &mut out,
        )
        .unwrap();
        let expected: Vec<i32> = data[s * 5000..(s + 1) * 5000]
            .iter()
            .map(|&v| v.into())
            .collect();
        assert_eq!(out, expected);
    }
}

#[test]
fn int16_lists_round_trip_through_arrow_and_parquet() {
    let data = samples(3, 700);
    let rows = ListArray::from_iter_primitive::<Int16Type, _, _>(
        data.chunks(700).map(|r| Some(r.iter().map(|&v| Some(v)))),
    );
    let column = flacarray::arrow::compress_lists(&rows, &CompressOptions::default()).unwrap();
    assert_eq!(column.dtype(), DType::Int16);
    let back = flacarray::arrow::decompress_lists(&column, ..).unwrap();
    let back = back.as_list::<i64>();
    assert_eq!(back.value_type(), arrow_schema::DataType::Int16);
    assert_eq!(
        back.values().as_primitive::<Int16Type>().values(),
        &data[..]
    );
    let window = flacarray::arrow::decompress_lists(&column, 10..13).unwrap();
    let window = window.as_list::<i64>().value(2);
    assert_eq!(
        window.as_primitive::<Int16Type>().values(),
        &data[1410..1413]
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("int16.parquet");
    let fa = FlacArray::compress(&data, &[3, 700], &CompressOptions::default()).unwrap();
    flacarray::parquet::write_array_file(&path, &fa, "signal", IfExists::Fail).unwrap();
    let read = flacarray::parquet::read_array_file(&path, "signal", None).unwrap();
    assert_eq!(read.dtype(), DType::Int16);
    assert_eq!(read.to_vec::<i16>().unwrap(), data);
}

#[test]
fn int16_chunks_round_trip_through_the_zarr_codec_and_zarrs() {
    let data = samples(4, 300);
    let chunk =
        flacarray::chunk::encode_chunk(&data, &[4, 300], &CompressOptions::default()).unwrap();
    assert_eq!(
        flacarray::chunk::decode_chunk::<i16>(&chunk, &[4, 300], ..).unwrap(),
        data
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("int16.zarr");
    let codec = flacarray::zarr_codec::FlacCodec::new(5, None, None).unwrap();
    flacarray::zarr_codec::write_array_file(&path, &data, &[4, 300], &[2, 150], codec).unwrap();
    let metadata = std::fs::read_to_string(path.join("zarr.json")).unwrap();
    assert!(metadata.contains("\"int16\""), "{metadata}");
    let (dtype, shape, bytes) = flacarray::zarr_codec::read_array_file(&path).unwrap();
    assert_eq!((dtype, shape), (DType::Int16, vec![4, 300]));
    let values: Vec<i16> = bytes
        .chunks(2)
        .map(|b| i16::from_ne_bytes([b[0], b[1]]))
        .collect();
    assert_eq!(values, data);
}

#[test]
fn the_group_format_refuses_int16_before_writing_anything() {
    let data = samples(2, 100);
    let fa = FlacArray::compress(&data, &[2, 100], &CompressOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("group.zarr");
    let err = flacarray::zarr::write_array(&path, &fa, IfExists::Fail).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    for named in [
        "int16",
        "Parquet",
        "Zarr v3",
        "int32, int64, float32 and float64",
    ] {
        assert!(err.to_string().contains(named), "{named}: {err}");
    }
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

    // a group whose attribute claims int16 is damaged, whatever its streams
    let int32 = FlacArray::compress(&[1i32, 2, 3], &[3], &CompressOptions::default()).unwrap();
    flacarray::zarr::write_array(&path, &int32, IfExists::Fail).unwrap();
    let attrs = path.join("zarr.json");
    let text = std::fs::read_to_string(&attrs).unwrap();
    assert!(text.contains("\"flacarray_dtype\": \"int32\""), "{text}");
    std::fs::write(
        &attrs,
        text.replace(
            "\"flacarray_dtype\": \"int32\"",
            "\"flacarray_dtype\": \"int16\"",
        ),
    )
    .unwrap();
    let err = flacarray::zarr::read_array(&path, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}
