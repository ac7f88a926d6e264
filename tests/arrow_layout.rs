//! The Arrow extension type, list compression, Parquet and zarrs containers.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, FixedSizeListArray, Int8Array, LargeListArray, ListArray, RecordBatch,
    StructArray,
};
use arrow_schema::extension::{
    ExtensionType, EXTENSION_TYPE_METADATA_KEY, EXTENSION_TYPE_NAME_KEY,
};
use arrow_schema::{DataType, Field};
use flacarray::arrow::{compress_lists, decompress_lists, FlacColumn, FlacExtension, SampleWindow};
use flacarray::{CompressOptions, ErrorKind, FlacArray, IfExists, StepSpec};

fn ragged_i64() -> Vec<Option<Vec<Option<i64>>>> {
    let mut rng = common::Rng::new(17);
    vec![
        Some(
            (0..5000)
                .map(|_| Some(rng.next_u64() as i64 >> 20))
                .collect(),
        ),
        None,
        Some(vec![]),
        Some(vec![Some(i64::MIN), Some(i64::MAX), Some(0)]),
        Some((0..12_345).map(|i| Some(i * 1000 - 7)).collect()),
    ]
}

fn values_of<T: arrow_array::ArrowPrimitiveType>(
    list: &LargeListArray,
    row: usize,
) -> Vec<T::Native> {
    list.value(row).as_primitive::<T>().values().to_vec()
}

fn windowed<T: Clone>(v: &[T], w: SampleWindow) -> Vec<T> {
    v[w.resolve_usize(v.len())].to_vec()
}

#[test]
fn integer_lists_round_trip_with_windows() {
    let rows = ragged_i64();
    let input = LargeListArray::from_iter_primitive::<Int64Type, _, _>(rows.clone());
    let column = compress_lists(&input, &CompressOptions::default()).unwrap();
    assert_eq!(column.dtype(), flacarray::DType::Int64);
    assert_eq!(
        column.metadata().to_json(),
        r#"{"format":3,"dtype":"int64"}"#,
        "the type says nothing of row lengths or level"
    );
    let err = FlacArray::from_arrow(&column).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidInput,
        "null and ragged rows: {err}"
    );
    let windows = [
        SampleWindow::all(),
        SampleWindow::new(Some(10), Some(20)),
        SampleWindow::new(Some(-100), None),
        SampleWindow::new(None, Some(-4990)),
        SampleWindow::new(Some(4000), Some(-1)),
        SampleWindow::new(Some(50), Some(10)),
    ];
    for w in windows {
        let out = decompress_lists(&column, w).unwrap();
        let out = out.as_list::<i64>();
        for (row, expected) in rows.iter().enumerate() {
            match expected {
                None => assert!(out.is_null(row)),
                Some(v) => {
                    let v: Vec<i64> = v.iter().map(|x| x.unwrap()).collect();
                    assert_eq!(
                        values_of::<Int64Type>(out, row),
                        windowed(&v, w),
                        "row {row} window {w:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn all_types_and_list_kinds() {
    let mut rng = common::Rng::new(3);
    let data: Vec<Vec<f64>> = (0..4)
        .map(|i| common::timestream(&mut rng, 3000 + i * 10, 5.0, 2.0, 0.1))
        .collect();
    // Int32 through a ListArray (32-bit offsets)
    let i32_rows: Vec<Option<Vec<Option<i32>>>> = data
        .iter()
        .map(|r| Some(r.iter().map(|&v| Some((v * 1e4) as i32)).collect()))
        .collect();
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(i32_rows.clone());
    let out = decompress_lists(
        &compress_lists(&list, &CompressOptions::default()).unwrap(),
        SampleWindow::all(),
    )
    .unwrap();
    for (row, r) in i32_rows.iter().enumerate() {
        let expected: Vec<i32> = r.as_ref().unwrap().iter().map(|v| v.unwrap()).collect();
        assert_eq!(values_of::<Int32Type>(out.as_list::<i64>(), row), expected);
    }
    // Float32 with per-row quanta
    let f32_rows: Vec<Option<Vec<Option<f32>>>> = data
        .iter()
        .map(|r| Some(r.iter().map(|&v| Some(v as f32)).collect()))
        .collect();
    let list = LargeListArray::from_iter_primitive::<Float32Type, _, _>(f32_rows.clone());
    let quanta = vec![1e-2, 1e-3, 1e-4, 1e-5];
    let opts = CompressOptions::default().with_step(StepSpec::Quanta(quanta.clone()));
    let column = compress_lists(&list, &opts).unwrap();
    let out = decompress_lists(&column, SampleWindow::all()).unwrap();
    for (row, r) in f32_rows.iter().enumerate() {
        let got = values_of::<Float32Type>(out.as_list::<i64>(), row);
        for (a, b) in got.iter().zip(r.as_ref().unwrap()) {
            let b = b.unwrap();
            assert!((a - b).abs() as f64 <= 0.5 * quanta[row] + 4.0 * f32::EPSILON as f64 * 8.0);
        }
    }
    // Float64 through a FixedSizeList: equal rows give a stream size
    let flat: Vec<f64> = data.iter().flat_map(|r| r[..3000].to_vec()).collect();
    let values = Arc::new(arrow_array::Float64Array::from(flat.clone()));
    let fixed = FixedSizeListArray::new(
        Arc::new(Field::new("item", DataType::Float64, false)),
        3000,
        values,
        None,
    );
    let opts = CompressOptions::default().with_step(StepSpec::Precision(vec![4.0]));
    let column = compress_lists(&fixed, &opts).unwrap();
    let as_array = FlacArray::from_arrow(&column).unwrap();
    assert_eq!(as_array.shape(), &[4, 3000]);
    let back = decompress_lists(&column, SampleWindow::new(Some(-10), None)).unwrap();
    let full = as_array.to_vec::<f64>().unwrap();
    assert_eq!(
        values_of::<Float64Type>(back.as_list::<i64>(), 2),
        full[2 * 3000 + 2990..3 * 3000].to_vec()
    );
}

#[test]
fn bad_list_inputs() {
    let strings = arrow_array::StringArray::from(vec!["a"]);
    let err = compress_lists(&strings, &CompressOptions::default()).unwrap_err();
    assert!(
        err.message()
            .contains("expected a List, LargeList or FixedSizeList column"),
        "{err}"
    );
    let int8 = ListArray::new(
        Arc::new(Field::new("item", DataType::Int8, true)),
        arrow_buffer::OffsetBuffer::new(vec![0, 2].into()),
        Arc::new(Int8Array::from(vec![1, 2])),
        None,
    );
    let err = compress_lists(&int8, &CompressOptions::default()).unwrap_err();
    assert!(err.message().contains("list values are Int8"), "{err}");
    let with_null =
        LargeListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1), None])]);
    let err = compress_lists(&with_null, &CompressOptions::default()).unwrap_err();
    assert!(
        err.message().contains("row 0 contains null values"),
        "{err}"
    );
    let rows = LargeListArray::from_iter_primitive::<Float64Type, _, _>(vec![
        Some(vec![Some(1.0)]),
        Some(vec![Some(f64::NAN)]),
    ]);
    let err = compress_lists(&rows, &CompressOptions::default()).unwrap_err();
    assert!(
        err.message().contains("row 1") && err.message().contains("NaN"),
        "{err}"
    );
    let opts = CompressOptions::default().with_step(StepSpec::Quanta(vec![0.1, 0.2, 0.3]));
    let err = compress_lists(&rows, &opts).unwrap_err();
    assert!(err.message().contains("one per row (2)"), "{err}");
}

#[test]
fn many_rows_keep_their_places_and_name_the_bad_one() {
    // enough rows to be encoded in groups: nulls, empty rows and rows of
    // every length between them, one long enough for several frames
    let rows: Vec<Option<Vec<Option<f64>>>> = (0..300)
        .map(|i| match i {
            _ if i % 7 == 3 => None,
            _ if i % 11 == 5 => Some(vec![]),
            _ => Some(
                (0..(i * 37 % 500 + if i == 100 { 20_000 } else { 1 }))
                    .map(|t| Some((t as f64 * 0.01 + i as f64).sin()))
                    .collect(),
            ),
        })
        .collect();
    let input = LargeListArray::from_iter_primitive::<Float64Type, _, _>(rows.clone());
    let opts = CompressOptions::default().with_step(StepSpec::Quanta(vec![1e-6]));
    let column = compress_lists(&input, &opts).unwrap();
    let out = decompress_lists(&column, SampleWindow::all()).unwrap();
    let out = out.as_list::<i64>();
    for (row, expected) in rows.iter().enumerate() {
        match expected {
            None => assert!(out.is_null(row), "row {row}"),
            Some(values) => {
                let got = values_of::<Float64Type>(out, row);
                assert_eq!(got.len(), values.len(), "row {row}");
                for (g, v) in got.iter().zip(values) {
                    assert!((g - v.unwrap()).abs() <= 0.5e-6, "row {row}");
                }
            }
        }
    }
    let mut bad = rows;
    bad[141] = Some(vec![Some(1.0), Some(f64::NAN)]);
    let input = LargeListArray::from_iter_primitive::<Float64Type, _, _>(bad);
    let err = compress_lists(&input, &opts).unwrap_err();
    assert!(
        err.message().starts_with("row 141") && err.message().contains("NaN"),
        "{err}"
    );
}

#[test]
fn runs_of_whole_rows_decode_together_and_name_a_damaged_row() {
    // runs of rows of one length (decoded several at a time), broken by
    // nulls, empty rows, other lengths and windowed rows
    let mut rng = common::Rng::new(5);
    let rows: Vec<Option<Vec<Option<i32>>>> = (0..61)
        .map(|i| match i {
            9 | 40 => None,
            17 => Some(vec![]),
            _ => {
                let len = if i == 25 || i == 26 { 3000 } else { 5000 };
                let mut v = i64::from(i) * 1000;
                Some(
                    (0..len)
                        .map(|_| {
                            v += (rng.next_u64() % 201) as i64 - 100;
                            Some(v as i32)
                        })
                        .collect(),
                )
            }
        })
        .collect();
    let input = LargeListArray::from_iter_primitive::<Int32Type, _, _>(rows.clone());
    let column = compress_lists(&input, &CompressOptions::default()).unwrap();
    let windows: Vec<SampleWindow> = (0..rows.len())
        .map(|i| match i {
            30 => SampleWindow::new(Some(100), Some(200)),
            31 => SampleWindow::new(None, Some(4999)),
            _ => SampleWindow::all(),
        })
        .collect();
    for out in [
        decompress_lists(&column, SampleWindow::all()).unwrap(),
        flacarray::arrow::decompress_lists_per_row(&column, &windows).unwrap(),
    ] {
        let per_row = out.len() == rows.len() && out.as_list::<i64>().value_length(30) == 100;
        let out = out.as_list::<i64>();
        for (row, expected) in rows.iter().enumerate() {
            match expected {
                None => assert!(out.is_null(row), "row {row}"),
                Some(values) => {
                    let values: Vec<i32> = values.iter().flatten().copied().collect();
                    let want = if per_row {
                        windowed(&values, windows[row])
                    } else {
                        values
                    };
                    assert_eq!(values_of::<Int32Type>(out, row), want, "row {row}");
                }
            }
        }
    }
    // one damaged byte in a row inside a run: that row is named
    let storage = column.storage();
    let streams = storage.column(0).as_binary::<i64>();
    let mut damaged: Vec<Option<Vec<u8>>> = streams.iter().map(|s| s.map(<[u8]>::to_vec)).collect();
    let bytes = damaged[13].as_mut().unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    let mut columns = storage.columns().to_vec();
    columns[0] = Arc::new(arrow_array::LargeBinaryArray::from_iter(damaged));
    let storage = StructArray::new(storage.fields().clone(), columns, storage.nulls().cloned());
    let forged = FlacColumn::new(column.metadata().clone(), storage).unwrap();
    let err = decompress_lists(&forged, SampleWindow::all()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.message().starts_with("row 13"), "{err}");
}

#[test]
fn extension_metadata_is_validated() {
    let column = compress_lists(
        &LargeListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1)])]),
        &CompressOptions::default(),
    )
    .unwrap();
    let field = column.field("x");
    assert_eq!(
        field
            .metadata()
            .get(EXTENSION_TYPE_NAME_KEY)
            .map(String::as_str),
        Some("flacarray.flac")
    );
    let json = field.metadata().get(EXTENSION_TYPE_METADATA_KEY).unwrap();
    assert_eq!(json, r#"{"format":3,"dtype":"int32"}"#);
    assert_eq!(
        field
            .metadata()
            .get(flacarray::arrow::LEVEL_KEY)
            .map(String::as_str),
        Some("5")
    );
    // wrong storage type
    let err = FlacExtension::try_new(&DataType::Binary, column.metadata().clone()).unwrap_err();
    assert!(err.to_string().contains("storage must be Struct"), "{err}");
    // inconsistent or unknown metadata
    for bad in [
        r#"{"format":1,"dtype":"int32","stream_size":null,"leading_shape":null,"channels":2,"level":5}"#,
        r#"{"format":9,"dtype":"int32","stream_size":null,"leading_shape":null,"channels":1,"level":5}"#,
        r#"{"format":1,"dtype":"int8","stream_size":null,"leading_shape":null,"channels":1,"level":5}"#,
        r#"{"format":2}"#,
        "not json",
    ] {
        let parsed = FlacExtension::deserialize_metadata(Some(bad));
        let err = parsed.and_then(|m| FlacExtension::try_new(&flacarray::arrow::storage_type(), m));
        assert!(err.is_err(), "accepted {bad}");
    }
    let plain = Field::new("x", flacarray::arrow::storage_type(), true);
    let err = FlacColumn::from_field(&plain, &(Arc::new(column.storage().clone()) as ArrayRef))
        .unwrap_err();
    assert!(
        err.message().contains("not a flacarray.flac column"),
        "{err}"
    );
}

fn sample_array() -> (Vec<f64>, FlacArray) {
    let mut rng = common::Rng::new(8);
    let data: Vec<f64> = (0..12)
        .flat_map(|_| common::timestream(&mut rng, 20_000, 1.0, 3.0, 0.01))
        .collect();
    let opts = CompressOptions::default().with_step(StepSpec::Quanta(vec![1e-4]));
    let fa = FlacArray::compress(&data, &[3, 4, 20_000], &opts).unwrap();
    (data, fa)
}

#[test]
fn flacarray_column_round_trip_is_lossless_and_zero_copy() {
    let (_, fa) = sample_array();
    let moved = fa.clone();
    let bytes_ptr = moved.compressed().as_ptr();
    let column = moved.into_arrow().unwrap();
    let streams = column.storage().column(0).as_binary::<i64>();
    assert_eq!(
        streams.values().as_ptr(),
        bytes_ptr,
        "into_arrow moves the bytes without copying"
    );
    assert_eq!(column.leading_shape(), Some(&[3u64, 4][..]));
    assert_eq!(FlacArray::from_arrow(&column).unwrap(), fa);
    let ints = FlacArray::compress(
        &common::int32_signal(1, 3, 100),
        &[3, 100],
        &CompressOptions::default(),
    )
    .unwrap();
    let column = ints.to_arrow().unwrap();
    assert_eq!(
        column.storage().column(1).null_count(),
        3,
        "integer streams have null offsets"
    );
    assert_eq!(FlacArray::from_arrow(&column).unwrap(), ints);
    let one = FlacArray::compress(&[1i64, 2, 3], &[3], &CompressOptions::default()).unwrap();
    assert_eq!(
        FlacArray::from_arrow(&one.to_arrow().unwrap())
            .unwrap()
            .shape(),
        &[3]
    );
}

#[test]
fn ipc_round_trip_keeps_extension_type() {
    let (_, fa) = sample_array();
    let batch = fa.to_arrow().unwrap().to_record_batch("flac").unwrap();
    let mut buf = Vec::new();
    {
        let mut w = arrow_ipc::writer::FileWriter::try_new(&mut buf, &batch.schema()).unwrap();
        w.write(&batch).unwrap();
        w.finish().unwrap();
    }
    let reader = arrow_ipc::reader::FileReader::try_new(std::io::Cursor::new(buf), None).unwrap();
    let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
    let column = FlacColumn::from_record_batch(&batches[0], "flac").unwrap();
    assert_eq!(FlacArray::from_arrow(&column).unwrap(), fa);
}

/// A Parquet source that counts the bytes it hands out.
struct Counting {
    data: bytes::Bytes,
    read: Arc<AtomicU64>,
}

impl parquet::file::reader::Length for Counting {
    fn len(&self) -> u64 {
        self.data.len() as u64
    }
}

impl parquet::file::reader::ChunkReader for Counting {
    type T = <bytes::Bytes as parquet::file::reader::ChunkReader>::T;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        self.read
            .fetch_add(self.data.len() as u64 - start, Ordering::Relaxed);
        self.data.get_read(start)
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        self.read.fetch_add(length as u64, Ordering::Relaxed);
        self.data.get_bytes(start, length)
    }
}

#[test]
fn parquet_round_trip_and_keep_reads_little() {
    let (data, fa) = sample_array();
    let mut buf = Vec::new();
    // one stream per row group, so a keep mask maps to whole row groups
    let batch = fa.to_arrow().unwrap().to_record_batch("flac").unwrap();
    flacarray::parquet::write_batch(&mut buf, &batch, 1).unwrap();
    let file = bytes::Bytes::from(buf);
    let read = Arc::new(AtomicU64::new(0));
    let back = flacarray::parquet::read_array(
        Counting {
            data: file.clone(),
            read: read.clone(),
        },
        "flac",
        None,
    )
    .unwrap();
    assert_eq!(back, fa);
    let full_read = read.swap(0, Ordering::Relaxed);
    let mut keep = vec![false; 12];
    keep[5] = true;
    let sub = flacarray::parquet::read_array(
        Counting {
            data: file.clone(),
            read: read.clone(),
        },
        "flac",
        Some((&keep, &[3, 4])),
    )
    .unwrap();
    let sub_read = read.load(Ordering::Relaxed);
    assert_eq!(sub.shape(), &[1, 20_000]);
    let stream = fa.stream_nbytes()[5];
    assert!(
        sub_read < full_read / 4,
        "keep read {sub_read} of {full_read} bytes"
    );
    assert!(sub_read >= stream, "read at least the stream itself");
    let values = sub.decompress::<f64>(&[0], 100..200).unwrap();
    let expected = fa.decompress::<f64>(&[5], 100..200).unwrap();
    assert_eq!(values, expected);
    assert!((values[0] - data[5 * 20_000 + 100]).abs() <= 0.5e-4 * (1.0 + 1e-9));
    // the default writer groups rows by size and reads back the same way
    let mut buf = Vec::new();
    flacarray::parquet::write_array(&mut buf, &fa, "flac").unwrap();
    let keep: Vec<bool> = (0..12).map(|i| i % 5 == 0).collect();
    let sub =
        flacarray::parquet::read_array(bytes::Bytes::from(buf), "flac", Some((&keep, &[3, 4])))
            .unwrap();
    assert_eq!(
        sub.to_vec::<f64>().unwrap(),
        fa.decompress::<f64>(&[0, 5, 10], 0..20_000).unwrap()
    );
    let err = flacarray::parquet::read_array(file.clone(), "nope", None).unwrap_err();
    assert!(err.message().contains("no column 'nope'"), "{err}");
    let err = flacarray::parquet::read_array(file, "flac", Some((&[true; 3], &[3]))).unwrap_err();
    assert!(err.message().contains("keep has shape [3]"), "{err}");
}

#[test]
fn parquet_parts_make_the_whole_array_and_are_checked() {
    let opts = CompressOptions::default().with_quanta(1e-3);
    let data: Vec<f64> = (0..7 * 900).map(|i| (i as f64 * 0.01).sin()).collect();
    let whole = FlacArray::compress(&data, &[7, 900], &opts).unwrap();
    // the pieces three ranks hold: 3, 2 and 2 streams
    let piece = |a: usize, b: usize| {
        FlacArray::compress(&data[a * 900..b * 900], &[b - a, 900], &opts).unwrap()
    };
    let parts = [piece(0, 3), piece(3, 5), piece(5, 7)];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parts.parquet");
    let columns = parts.iter().map(FlacArray::to_arrow);
    let facts = flacarray::arrow::ArrayFacts::whole_array(whole.parts());
    flacarray::parquet::write_parts_file(&path, "flac", facts.clone(), columns, IfExists::Fail)
        .unwrap();
    let back = flacarray::parquet::read_array_file(&path, "flac", None).unwrap();
    assert_eq!(back, whole);
    let (dtype, leading) = flacarray::parquet::leading_shape_file(&path, "flac").unwrap();
    assert_eq!((dtype, leading), (whole.dtype(), vec![7]));
    // too few or too many streams, a part of another dtype, a failing part:
    // an error, and no file left behind
    let ints = FlacArray::compress(&[1i32, 2, 3], &[1, 3], &CompressOptions::default()).unwrap();
    let failing = || Err(flacarray::Error::new(ErrorKind::Io, "rank 2 is gone"));
    let cases: Vec<(Vec<flacarray::Result<FlacColumn>>, &str)> = vec![
        (
            vec![parts[0].to_arrow(), parts[1].to_arrow()],
            "hold 5 streams",
        ),
        (
            parts
                .iter()
                .chain(&parts[..1])
                .map(FlacArray::to_arrow)
                .collect(),
            "hold 10 streams",
        ),
        (vec![parts[0].to_arrow(), ints.to_arrow()], "int32 data"),
        (vec![parts[0].to_arrow(), failing()], "rank 2 is gone"),
        (vec![], "no part"),
    ];
    for (columns, message) in cases {
        let target = dir.path().join("bad.parquet");
        let err = flacarray::parquet::write_parts_file(
            &target,
            "flac",
            facts.clone(),
            columns,
            IfExists::Fail,
        )
        .unwrap_err();
        assert!(err.message().contains(message), "{err}");
        assert!(!target.exists());
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary files left"
    );
}

#[test]
fn parquet_keeps_other_columns_and_metadata() {
    let (_, fa) = sample_array();
    let column = fa.to_arrow().unwrap();
    let ids = Arc::new(arrow_array::Int64Array::from((0..12).collect::<Vec<i64>>())) as ArrayRef;
    let schema = Arc::new(arrow_schema::Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        column.field("flac"),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![ids, Arc::new(column.storage().clone()) as ArrayRef],
    )
    .unwrap();
    let mut buf = Vec::new();
    flacarray::parquet::write_batch(&mut buf, &batch, 4).unwrap();
    let back = flacarray::parquet::read_array(bytes::Bytes::from(buf), "flac", None).unwrap();
    assert_eq!(back, fa);
}

#[test]
fn zarrs_round_trip_with_keep_and_slice() {
    let (_, fa) = sample_array();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("array.zarr");
    flacarray::zarr::write_array(&path, &fa, IfExists::Fail).unwrap();
    assert!(path.join("zarr.json").exists() && path.join("compressed").join("zarr.json").exists());
    let back = flacarray::zarr::read_array(&path, None).unwrap();
    assert_eq!(back, fa);
    let mut keep = vec![false; 12];
    keep[1] = true;
    keep[2] = true;
    keep[11] = true;
    let sub = flacarray::zarr::read_array(&path, Some((&keep, &[3, 4]))).unwrap();
    assert_eq!(sub.shape(), &[3, 20_000]);
    assert_eq!(
        sub.decompress::<f64>(&[0, 1, 2], 500..600).unwrap(),
        fa.decompress::<f64>(&[1, 2, 11], 500..600).unwrap()
    );
    let ints = FlacArray::compress(&[5i32, 6, 7], &[3], &CompressOptions::default()).unwrap();
    let err = flacarray::zarr::write_array(&path, &ints, IfExists::Fail).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    flacarray::zarr::write_array(&path, &ints, IfExists::Overwrite).unwrap();
    assert_eq!(
        flacarray::zarr::read_array(&path, None).unwrap().shape(),
        &[3]
    );
    let err = flacarray::zarr::read_array(dir.path().join("missing"), None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    std::fs::remove_dir_all(path.join("stream_bytes")).unwrap();
    let err = flacarray::zarr::read_array(&path, None).unwrap_err();
    assert!(err.message().contains("'stream_bytes'"), "{err}");
}

#[test]
fn storage_struct_is_plain_arrow() {
    let (_, fa) = sample_array();
    let column = fa.to_arrow().unwrap();
    let storage: &StructArray = column.storage();
    assert_eq!(storage.data_type(), &flacarray::arrow::storage_type());
    assert_eq!(storage.len(), 12);
}

#[test]
fn decompress_lists_as_returns_the_list_type_asked_for() {
    use flacarray::arrow::{decompress_lists_as, ListKind};

    let ragged = LargeListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(1i64), Some(2), Some(3)]),
        None,
        Some(vec![Some(4), Some(5)]),
    ]);
    let column = compress_lists(&ragged, &CompressOptions::default()).unwrap();
    let list = decompress_lists_as(&column, SampleWindow::all(), ListKind::List).unwrap();
    let list = list.as_list::<i32>();
    assert_eq!(list.value_offsets(), &[0, 3, 3, 5]);
    assert!(list.is_null(1));
    assert_eq!(
        list.values().as_primitive::<Int64Type>().values(),
        &[1, 2, 3, 4, 5]
    );
    // present rows of different lengths cannot be a FixedSizeList (null
    // rows can: they stay null)
    let err =
        decompress_lists_as(&column, SampleWindow::all(), ListKind::FixedSizeList).unwrap_err();
    assert!(err.message().contains("rows of one length"), "{err}");
    let fixed = decompress_lists_as(&column, 0..2, ListKind::FixedSizeList).unwrap();
    assert!(fixed.is_null(1));
    assert_eq!(fixed.as_fixed_size_list().value_length(), 2);
    // a window equal for every present row of an equal-length column works
    let equal = LargeListArray::from_iter_primitive::<Int64Type, _, _>(vec![
        Some(vec![Some(1i64), Some(2), Some(3)]),
        Some(vec![Some(4), Some(5), Some(6)]),
    ]);
    let column = compress_lists(&equal, &CompressOptions::default()).unwrap();
    let fixed =
        decompress_lists_as(&column, SampleWindow::from(1..3), ListKind::FixedSizeList).unwrap();
    let fixed = fixed.as_fixed_size_list();
    assert_eq!(fixed.value_length(), 2);
    assert_eq!(
        fixed.values().as_primitive::<Int64Type>().values(),
        &[2, 3, 5, 6]
    );
}

#[test]
fn a_window_means_the_same_samples_for_an_array_and_a_column() {
    // one rule (SampleWindow, Python's slices): the same window on a
    // FlacArray and on an Arrow column of the same rows
    let data: Vec<i32> = (0..3 * 100).map(|i| (i * 7) % 31 - 15).collect();
    let fa = flacarray::FlacArray::compress(&data, &[3, 100], &CompressOptions::default()).unwrap();
    let rows = LargeListArray::from_iter_primitive::<Int32Type, _, _>(
        data.chunks(100)
            .map(|r| Some(r.iter().copied().map(Some).collect::<Vec<_>>())),
    );
    let column = compress_lists(&rows, &CompressOptions::default()).unwrap();
    for window in [
        SampleWindow::from(20..40),
        SampleWindow::from(90..140),
        SampleWindow::from(1100..1200),
        SampleWindow::from(-10..),
        SampleWindow::from(..-95),
        SampleWindow::new(Some(50), Some(10)),
    ] {
        let from_array = fa.decompress::<i32>(&[0, 1, 2], window).unwrap();
        let from_column = decompress_lists(&column, window).unwrap();
        let values = from_column
            .as_list::<i64>()
            .values()
            .as_primitive::<Int32Type>();
        assert_eq!(values.values().to_vec(), from_array, "{window:?}");
    }
}

#[test]
fn a_newer_layout_is_unsupported_on_every_path() {
    let fa = FlacArray::compress(&[1i32, 2, 3, 4], &[2, 2], &CompressOptions::default()).unwrap();
    let column = fa.to_arrow().unwrap();
    let (field, storage) = column.to_field_and_array("flac");
    let mut meta: std::collections::HashMap<String, String> = field.metadata().into();
    meta.insert(
        EXTENSION_TYPE_METADATA_KEY.to_string(),
        r#"{"format":4,"dtype":"int32"}"#.to_string(),
    );
    let future = field.with_metadata(meta);
    let err = FlacColumn::from_field(&future, &storage).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(
        err.message()
            .starts_with("column 'flac': flacarray.flac layout version 4 is not supported"),
        "{err}"
    );
    let batch = RecordBatch::try_new(
        Arc::new(arrow_schema::Schema::new(vec![future])),
        vec![storage],
    )
    .unwrap();
    let mut file = Vec::new();
    flacarray::parquet::write_batches(&mut file, [&batch], None).unwrap();
    let err = flacarray::parquet::read_array(bytes::Bytes::from(file), "flac", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
    assert!(err.message().contains("layout version 4"), "{err}");
    // no Arrow category prefixes in our messages
    for message in [err.message().to_string(), err.to_string()] {
        assert!(!message.contains("Invalid argument error"), "{message}");
        assert!(!message.contains("Not yet implemented:"), "{message}");
    }
}
