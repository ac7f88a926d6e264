//! Files written by earlier versions (tests/golden/<version>/) read back exactly:
//! Parquet, zarr groups and raw FLAC streams.

use std::path::{Path, PathBuf};

use flacarray::codec::{decode_i32, decode_i64, stream_info};
use flacarray::{DType, FlacArray};

/// The golden files written by `version` (one folder per version). The
/// crate's folder is read when the test runs (cargo sets it then too), not
/// baked in at compile time: a shared target dir may hold a test binary
/// built from another clone of the same sources.
fn golden(version: &str) -> PathBuf {
    let root = std::env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo test");
    Path::new(&root).join("tests").join("golden").join(version)
}

/// A minimal .npy reader: little-endian C-order arrays of i4, i8, f4, f8.
fn read_npy(path: &Path) -> (String, Vec<usize>, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let (header_len, start) = if bytes[6] == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
    } else {
        (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        )
    };
    let header = std::str::from_utf8(&bytes[start..start + header_len]).unwrap();
    let descr = header
        .split("'descr': '")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_string();
    assert!(header.contains("'fortran_order': False"));
    let shape_text = header
        .split("'shape': (")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let shape = shape_text
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().unwrap())
        .collect();
    (descr, shape, bytes[start + header_len..].to_vec())
}

fn values_of(fa: &FlacArray) -> Vec<u8> {
    flacarray::with_element_type!(fa.dtype(), T => fa
        .to_vec::<T>()
        .unwrap()
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect())
}

/// A Zarr codec chunk of `dtype` and `shape` decodes to `expected`
/// (little-endian bytes).
fn assert_chunk_decodes(chunk: &[u8], dtype: DType, shape: &[usize], expected: &[u8], name: &str) {
    let size = *shape.last().unwrap();
    let values: Vec<u8> = flacarray::with_element_type!(dtype, T => flacarray::chunk::decode_chunk::<T>(chunk, shape, 0..size)
        .unwrap()
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect());
    assert!(
        values == expected,
        "{name}: the chunk decodes to other values"
    );
}

/// The zarr array `{name}.zarr` in `dir` (written with the codec) reads as
/// `shape` and `expected` through zarrs.
fn assert_zarr_reads(dir: &Path, name: &str, shape: &[usize], expected: &[u8]) {
    let (_, zarr_shape, values) =
        flacarray::zarr_codec::read_array_file(dir.join(format!("{name}.zarr"))).unwrap();
    assert_eq!(
        zarr_shape,
        shape.iter().map(|&d| d as u64).collect::<Vec<_>>()
    );
    assert!(
        values == expected,
        "{name}: the zarr array reads other values"
    );
}

/// Golden array `name` of `dir`, read from its Parquet file and its zarr
/// group.
fn parquet_and_zarr(dir: &Path, name: &str) -> (FlacArray, FlacArray) {
    let parquet = dir.join(format!("{name}.parquet"));
    let from_parquet = flacarray::parquet::read_array_file(parquet, "flac", None).unwrap();
    let from_zarr = flacarray::zarr::read_array(dir.join(format!("{name}.zarr")), None).unwrap();
    (from_parquet, from_zarr)
}

#[test]
fn golden_files_decode_identically() {
    let dir = golden("0.1.0");
    let names = ["int32", "int64", "float32", "float64", "float64_single"];
    for name in names {
        let (descr, shape, expected) = read_npy(&dir.join(format!("{name}.expected.npy")));
        let (from_parquet, from_zarr) = parquet_and_zarr(&dir, name);
        // the same arrays in Arrow layout 2 (type metadata: format and dtype only)
        let from_layout2 = flacarray::parquet::read_array_file(
            golden("0.2.0").join(format!("{name}.parquet")),
            "flac",
            None,
        )
        .unwrap();
        assert_eq!(from_layout2, from_parquet, "{name}");
        for fa in [&from_parquet, &from_zarr] {
            assert_eq!(fa.shape(), &shape[..], "{name}");
            let wanted = match fa.dtype() {
                flacarray::DType::Int16 => "<i2",
                flacarray::DType::Int32 => "<i4",
                flacarray::DType::Int64 => "<i8",
                flacarray::DType::Float32 => "<f4",
                flacarray::DType::Float64 => "<f8",
            };
            assert_eq!(descr, wanted, "{name}");
            assert!(
                values_of(fa) == expected,
                "{name}: values differ from the golden file"
            );
        }
        assert_eq!(from_parquet, from_zarr, "{name}");
        let stream = std::fs::read(dir.join(format!("{name}.stream0.flac"))).unwrap();
        assert_eq!(from_parquet.stream_bytes(0).unwrap(), &stream[..], "{name}");
        let info = stream_info(&stream).unwrap();
        assert_eq!(info.total_samples as usize, *shape.last().unwrap());
        // the integer streams, decoded alone, give the first row's values
        let first: Option<Vec<u8>> = match name {
            "int32" => Some(
                decode_i32(&stream)
                    .unwrap()
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
            ),
            "int64" => Some(
                decode_i64(&stream)
                    .unwrap()
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
            ),
            _ => None,
        };
        if let Some(first) = first {
            assert_eq!(first, expected[..first.len()], "{name}");
        }
    }
}

/// Golden chunk `name` of `dir` and the values stored beside it: (numpy
/// type, shape, values' bytes, chunk), the chunk checked to be in chunk
/// layout `layout`.
fn golden_chunk(dir: &Path, name: &str, layout: u8) -> (String, Vec<usize>, Vec<u8>, Vec<u8>) {
    let (descr, shape, expected) = read_npy(&dir.join(format!("{name}.expected.npy")));
    let chunk = std::fs::read(dir.join(format!("{name}.chunk"))).unwrap();
    assert_eq!(chunk[4], layout, "{name}: layout {layout}");
    (descr, shape, expected, chunk)
}

/// Zarr codec chunks as 0.2.0 wrote them (chunk layout 1): each decodes to
/// the values stored beside it, alone and as a zarrs array.
#[test]
fn golden_codec_chunks_decode_identically() {
    let dir = golden("0.2.0").join("chunks");
    for name in ["int32", "int64", "float32", "float64", "float64_single"] {
        let (descr, shape, expected, chunk) = golden_chunk(&dir, name, 1);
        let dtype = match descr.as_str() {
            "<i4" => DType::Int32,
            "<i8" => DType::Int64,
            "<f4" => DType::Float32,
            _ => DType::Float64,
        };
        assert_chunk_decodes(&chunk, dtype, &shape, &expected, name);
        assert_zarr_reads(&dir, name, &shape, &expected);
    }
}

/// 0.3.0's files: groups with a digest, Parquet with the whole array's
/// field metadata, chunk layout 2.
#[test]
fn golden_files_of_0_3_0_decode_identically() {
    let old = golden("0.1.0");
    let dir = golden("0.3.0");
    for name in ["int32", "int64", "float32", "float64", "float64_single"] {
        let (_, shape, expected) = read_npy(&old.join(format!("{name}.expected.npy")));
        let (from_parquet, from_zarr) = parquet_and_zarr(&dir, name);
        assert_eq!(from_parquet, from_zarr, "{name}");
        assert_eq!(from_zarr.shape(), &shape[..], "{name}");
        assert!(values_of(&from_zarr) == expected, "{name}: values differ");
        let chunk = std::fs::read(dir.join("chunks").join(format!("{name}.chunk"))).unwrap();
        assert_eq!(chunk[4], 2, "{name}: layout 2");
    }
}

/// 0.4.0's files: Parquet in Arrow layout 3, short rows as frame rows (an
/// array of 100-sample rows per dtype, and a Polars list column whose rows
/// of 1 to 4096 samples are frame rows and longer ones whole streams).
#[test]
fn golden_files_of_0_4_0_decode_identically() {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int32Type;
    use arrow_array::Array;
    use flacarray::arrow::{decompress_lists, FlacColumn};

    let dir = golden("0.4.0");
    for name in ["int16", "int32", "int64", "float32", "float64"] {
        let (_, shape, expected) = read_npy(&dir.join(format!("{name}.expected.npy")));
        let fa =
            flacarray::parquet::read_array_file(dir.join(format!("{name}.parquet")), "flac", None)
                .unwrap();
        assert_eq!(fa.shape(), &shape[..], "{name}");
        assert!(values_of(&fa) == expected, "{name}: values differ");
        // the array holds the frame rows; each stands for a standard stream
        for s in 0..fa.nstreams() {
            let row = fa.stream_bytes(s).unwrap();
            assert!(flacarray::codec::is_frame_row(row), "{name}");
            let whole = flacarray::codec::whole_stream(row).unwrap();
            assert!(flacarray::codec::verify_stream(&whole, 100).unwrap());
        }
        let whole = fa.to_current_layout().unwrap();
        assert!(values_of(&whole) == expected && *whole == fa, "{name}");
    }
    let (_, _, expected) = read_npy(&dir.join("lists.expected.npy"));
    let expected: Vec<i32> = expected
        .chunks(4)
        .map(|b| i32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let file = std::fs::File::open(dir.join("lists.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    let column = FlacColumn::from_record_batch(&batches[0], "signal").unwrap();
    let lists = decompress_lists(&column, ..).unwrap();
    let lists = lists.as_list::<i64>();
    let lengths = [
        Some(0),
        Some(1),
        Some(64),
        None,
        Some(4096),
        Some(4097),
        Some(10_000),
    ];
    assert_eq!(lists.len(), lengths.len());
    let mut at = 0;
    for (row, length) in lengths.iter().enumerate() {
        assert_eq!(lists.is_valid(row), length.is_some(), "row {row}");
        let Some(n) = length else { continue };
        let values = lists.value(row);
        let values = values.as_primitive::<Int32Type>().values();
        assert_eq!(values.len(), *n, "row {row}");
        assert_eq!(&values[..], &expected[at..at + n], "row {row}");
        at += n;
    }
}

/// 0.4.0's Zarr codec chunks (layout 3: the 100-sample streams are frame
/// rows) decode to the values stored beside them, alone and, written by
/// zarr-python, as a zarrs array.
#[test]
fn golden_codec_chunks_of_0_4_0_decode_identically() {
    let dir = golden("0.4.0").join("chunks");
    for name in ["int16", "int32", "int64", "float32", "float64"] {
        let (_, shape, expected, chunk) = golden_chunk(&dir, name, 3);
        assert_chunk_decodes(
            &chunk,
            DType::from_name(name).unwrap(),
            &shape,
            &expected,
            name,
        );
        let (_, zarr_expected_shape, zarr_expected) =
            read_npy(&dir.join(format!("{name}.zarr.expected.npy")));
        assert_zarr_reads(&dir, name, &zarr_expected_shape, &zarr_expected);
    }
}
