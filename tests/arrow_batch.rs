//! Whole record batches: `compress_column` / `decompress_column` keep the
//! schema, the other columns and the list type; `FlacColumn`'s row access.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Int32Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, FixedSizeListArray, Int64Array, LargeListArray, ListArray, RecordBatch,
    StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use flacarray::arrow::{
    compress_column, compress_lists, decompress_column, decompress_lists_as, FlacColumn, ListKind,
    LIST_TYPE_KEY,
};
use flacarray::{CompressOptions, ErrorKind, FlacArray, SampleWindow};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use parquet::file::properties::WriterProperties;

fn rows(n: usize, len: usize) -> Vec<Option<Vec<Option<i32>>>> {
    (0..n)
        .map(|r| {
            (r % 3 != 1).then(|| {
                (0..len)
                    .map(|i| Some(((i * 37 + r * 11) % 101) as i32 - 50))
                    .collect()
            })
        })
        .collect()
}

/// A batch with an id, a signal of `signal`'s type, and a label; user
/// metadata on the signal field and on the schema.
fn batch_with(signal: ArrayRef, nullable: bool) -> RecordBatch {
    let n = signal.len();
    let meta = HashMap::from([("units".to_string(), "adc".to_string())]);
    let schema = Schema::new_with_metadata(
        vec![
            Field::new("id", DataType::Int64, false),
            Field::new("signal", signal.data_type().clone(), nullable).with_metadata(meta),
            Field::new("label", DataType::Utf8, true),
        ],
        HashMap::from([("survey".to_string(), "s1".to_string())]),
    );
    let ids = Arc::new(Int64Array::from_iter_values(0..n as i64));
    let labels = Arc::new(StringArray::from_iter(
        (0..n).map(|i| Some(format!("d{i}"))),
    ));
    RecordBatch::try_new(Arc::new(schema), vec![ids, signal, labels]).unwrap()
}

fn every_list_kind() -> Vec<ArrayRef> {
    let item = Arc::new(
        Field::new("sample", DataType::Int32, true)
            .with_metadata(HashMap::from([("k".to_string(), "v".to_string())])),
    );
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(rows(5, 300));
    let (_, offsets, values, nulls) = list.into_parts();
    let renamed = ListArray::new(item.clone(), offsets, values, nulls);
    let large = LargeListArray::from_iter_primitive::<Int32Type, _, _>(rows(4, 70));
    let fixed = FixedSizeListArray::from_iter_primitive::<Int32Type, _, _>(rows(6, 40), 40);
    let non_null_item = FixedSizeListArray::try_new(
        Arc::new(Field::new("x", DataType::Int32, false)),
        40,
        fixed.values().clone(),
        fixed.nulls().cloned(),
    )
    .unwrap();
    vec![
        Arc::new(renamed),
        Arc::new(large),
        Arc::new(fixed),
        Arc::new(non_null_item),
    ]
}

#[test]
fn the_round_trip_gives_the_input_batch_back() {
    for signal in every_list_kind() {
        for nullable in [true, false] {
            if !nullable && signal.null_count() > 0 {
                continue;
            }
            let batch = batch_with(signal.clone(), nullable);
            let packed = compress_column(&batch, "signal", &CompressOptions::default()).unwrap();
            let field = packed.schema().field(1).clone();
            assert_eq!(field.extension_type_name(), Some("flacarray.flac"));
            assert_eq!(field.is_nullable(), nullable);
            assert_eq!(
                field.metadata().get("units").map(String::as_str),
                Some("adc")
            );
            // the other columns are the same arrays, not copies
            assert!(Arc::ptr_eq(packed.column(0), batch.column(0)));
            assert!(Arc::ptr_eq(packed.column(2), batch.column(2)));
            let back = decompress_column(&packed, "signal", .., ListKind::SameAsInput).unwrap();
            assert_eq!(back.schema(), batch.schema(), "{}", signal.data_type());
            assert_eq!(back, batch, "{}", signal.data_type());
        }
    }
}

#[test]
fn the_schema_survives_parquet_and_a_projected_read() {
    let batch = batch_with(every_list_kind()[0].clone(), true);
    let packed = compress_column(&batch, "signal", &CompressOptions::default()).unwrap();
    let mut file = Vec::new();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(2))
        .build();
    flacarray::parquet::write_batches(&mut file, [&packed], Some(props)).unwrap();
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(file)).unwrap();
    let mask = ProjectionMask::roots(builder.parquet_schema(), [0, 1]);
    let read: Vec<RecordBatch> = builder
        .with_projection(mask)
        .build()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let read = arrow_select_concat(&read);
    let back = decompress_column(&read, "signal", .., ListKind::SameAsInput).unwrap();
    // (the parquet crate's projected reader drops the schema's own
    // metadata; every field and value is the input's)
    let expected = batch.project(&[0, 1]).unwrap();
    assert_eq!(back.schema().fields(), expected.schema().fields());
    assert_eq!(back.columns(), expected.columns());
    // a window keeps the list type and the item field
    let window = decompress_column(&read, "signal", 10..20, ListKind::SameAsInput).unwrap();
    let list = window.column(1).as_list::<i32>();
    assert_eq!(list.data_type(), batch.column(1).data_type());
    let all = batch.column(1).as_list::<i32>();
    for row in 0..list.len() {
        assert_eq!(list.is_null(row), all.is_null(row));
        if list.is_valid(row) {
            assert_eq!(
                list.value(row).as_primitive::<Int32Type>().values(),
                &all.value(row).as_primitive::<Int32Type>().values()[10..20]
            );
        }
    }
}

/// The batches of one file as one batch (every batch has one schema).
fn arrow_select_concat(batches: &[RecordBatch]) -> RecordBatch {
    let schema = batches[0].schema();
    let columns = (0..schema.fields().len())
        .map(|c| {
            let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(c).as_ref()).collect();
            arrow_concat(&parts)
        })
        .collect();
    RecordBatch::try_new(schema, columns).unwrap()
}

fn arrow_concat(parts: &[&dyn Array]) -> ArrayRef {
    let data: Vec<_> = parts.iter().map(|p| p.to_data()).collect();
    let refs: Vec<_> = data.iter().collect();
    let total = parts.iter().map(|p| p.len()).sum();
    let mut out = arrow_data::transform::MutableArrayData::new(refs, false, total);
    for (i, p) in parts.iter().enumerate() {
        out.try_extend(i, 0, p.len()).unwrap();
    }
    arrow_array::make_array(out.freeze())
}

#[test]
fn fixed_size_rows_with_nulls_decode_as_fixed_size_lists() {
    let fixed = FixedSizeListArray::from_iter_primitive::<Int32Type, _, _>(rows(4, 8), 8);
    let column = compress_lists(&fixed, &CompressOptions::default()).unwrap();
    let back = decompress_lists_as(&column, 2..5, ListKind::FixedSizeList).unwrap();
    let back = back.as_fixed_size_list();
    assert_eq!(back.value_length(), 3);
    assert!(back.is_null(1));
    assert_eq!(
        back.value(2).as_primitive::<Int32Type>().values(),
        &fixed.value(2).as_primitive::<Int32Type>().values()[2..5]
    );
}

#[test]
fn columns_without_a_recorded_list_type_decode_as_large_lists() {
    let fa =
        FlacArray::compress(&[1i64, 2, 3, 4, 5, 6], &[2, 3], &CompressOptions::default()).unwrap();
    let packed = fa.to_arrow().unwrap().to_record_batch("x").unwrap();
    let back = decompress_column(&packed, "x", .., ListKind::SameAsInput).unwrap();
    assert!(matches!(
        back.schema().field(0).data_type(),
        DataType::LargeList(_)
    ));
    let values = back
        .column(0)
        .as_list::<i64>()
        .values()
        .as_primitive::<Int64Type>()
        .clone();
    assert_eq!(values.values(), &[1, 2, 3, 4, 5, 6]);
    // and no key of ours is left on the decoded field
    assert!(back.schema().field(0).metadata().is_empty());
}

#[test]
fn bad_requests_and_damaged_list_types_are_typed_errors() {
    let batch = batch_with(every_list_kind()[1].clone(), true);
    let err = compress_column(&batch, "nope", &CompressOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("no column 'nope'"), "{err}");
    let err = compress_column(&batch, "label", &CompressOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.message().starts_with("column 'label': expected a List"),
        "{err}"
    );
    let err = decompress_column(&batch, "id", .., ListKind::SameAsInput).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    let packed = compress_column(&batch, "signal", &CompressOptions::default()).unwrap();
    let schema = packed.schema();
    let mut field = schema.field(1).clone();
    let mut meta: HashMap<String, String> = field.metadata().into();
    meta.insert(LIST_TYPE_KEY.to_string(), r#"{"kind":"Tree"}"#.to_string());
    field = field.with_metadata(meta);
    let damaged = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            schema.field(0).clone(),
            field,
            schema.field(2).clone(),
        ])),
        packed.columns().to_vec(),
    )
    .unwrap();
    let err = decompress_column(&damaged, "signal", .., ListKind::SameAsInput).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.message().contains(LIST_TYPE_KEY), "{err}");
}

#[test]
fn rows_steps_and_offsets_of_a_column() {
    let values: Vec<Option<Vec<Option<f32>>>> = vec![
        Some((0..2000).map(|i| Some(i as f32 * 0.25 + 3.0)).collect()),
        None,
        Some(vec![]),
    ];
    let rows = ListArray::from_iter_primitive::<Float32Type, _, _>(values.clone());
    let column = compress_lists(&rows, &CompressOptions::default().with_quanta(0.25)).unwrap();
    let expected: Vec<f32> = (1990..2000).map(|i| i as f32 * 0.25 + 3.0).collect();
    assert_eq!(column.row::<f32>(0, -10..).unwrap(), Some(expected));
    assert_eq!(column.row::<f32>(0, 5000..6000).unwrap(), Some(vec![]));
    assert_eq!(column.row::<f32>(1, ..).unwrap(), None);
    assert_eq!(column.row::<f32>(2, ..).unwrap(), Some(vec![]));
    assert_eq!(column.row_len(0).unwrap(), Some(2000));
    assert_eq!(column.row_len(1).unwrap(), None);
    assert_eq!(column.step(0).unwrap(), Some(0.25));
    assert!(column.offset(0).unwrap().is_some());
    assert_eq!(column.step(1).unwrap(), None);
    assert_eq!(
        column.row::<f64>(0, ..).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        column.row::<f32>(3, ..).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(column.step(3).unwrap_err().kind(), ErrorKind::InvalidInput);

    // an Arrow array and back: the storage struct, the dtype recovered
    let storage: ArrayRef = column.clone().into();
    let again = FlacColumn::try_from(storage.as_ref()).unwrap();
    assert_eq!(again.dtype(), column.dtype());
    let window = SampleWindow::from(100..103);
    assert_eq!(
        again.row::<f32>(0, window).unwrap(),
        column.row::<f32>(0, window).unwrap()
    );
    assert!(FlacColumn::try_from(&Int64Array::from(vec![1]) as &dyn Array).is_err());
}
