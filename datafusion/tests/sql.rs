//! The functions in SQL, checked against the core's own reads of the same
//! files.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch as DfBatch};
use datafusion::arrow::datatypes::{
    DataType as DfType, Float64Type as DfFloat64, Int32Type as DfInt32, Int64Type as DfInt64,
    UInt64Type as DfUInt64,
};
use datafusion::common::DataFusionError;
use datafusion::datasource::MemTable;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use flacarray::arrow::{compress_column, FlacColumn};
use flacarray::arrow_array::types::{Float64Type, Int32Type, Int64Type};
use flacarray::arrow_array::ArrowPrimitiveType;
use flacarray::arrow_array::{
    Array as _, ArrayRef, Int64Array, LargeBinaryArray, ListArray, RecordBatch, StructArray,
};
use flacarray::{CompressOptions, ErrorKind};

/// A slowly varying signal plus a deterministic jitter.
fn signal(id: i64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let t = i as f64;
            (t / (40.0 + id as f64)).sin() * 100.0
                + ((i * 7919 + id as usize * 104729) % 97) as f64 * 0.01
        })
        .collect()
}

/// One file of `rows` rows (ids from `first_id`) of `n` samples each,
/// compressed at `level`.
fn write_file(path: &Path, first_id: i64, rows: i64, n: usize, level: u32) {
    let ids = first_id..first_id + rows;
    let batch = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(Int64Array::from_iter_values(ids.clone())) as ArrayRef,
        ),
        (
            "signal",
            Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(
                ids.map(|id| Some(signal(id, n).into_iter().map(Some).collect::<Vec<_>>())),
            )) as ArrayRef,
        ),
    ])
    .unwrap();
    let options = CompressOptions::default()
        .with_level(level)
        .with_quanta(1e-3)
        .with_block_size(1024);
    let packed = compress_column(&batch, "signal", &options).unwrap();
    flacarray::parquet::write_batches(File::create(path).unwrap(), [&packed], None).unwrap();
}

/// Three files written at different levels with different stream lengths.
fn archive(dir: &Path) {
    write_file(&dir.join("2019.parquet"), 0, 12, 3_000, 0);
    write_file(&dir.join("2022.parquet"), 100, 9, 10_000, 5);
    write_file(&dir.join("2025.parquet"), 200, 15, 25_000, 8);
}

/// What the core reads from every file of `dir`: id → (length, window).
fn core_reads(dir: &Path, window: std::ops::Range<i64>) -> HashMap<i64, (u64, Vec<f64>)> {
    let mut found = HashMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = File::open(entry.unwrap().path()).unwrap();
        let reader =
            flacarray::parquet_crate::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
                file, 1024,
            )
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let column = FlacColumn::from_record_batch(&batch, "signal").unwrap();
            let ids = batch
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap();
            for row in 0..batch.num_rows() {
                let len = column.row_len(row).unwrap().unwrap();
                let values = column.row::<f64>(row, window.clone()).unwrap().unwrap();
                found.insert(ids.value(row), (len, values));
            }
        }
    }
    found
}

fn context() -> SessionContext {
    let ctx = SessionContext::new();
    flacarray_datafusion::register(&ctx);
    ctx
}

async fn query(ctx: &SessionContext, sql: &str) -> datafusion::common::Result<Vec<DfBatch>> {
    ctx.sql(sql).await?.collect().await
}

/// Column `index` of every batch, as rows of Float64 lists.
fn float_column(batches: &[DfBatch], index: usize) -> Vec<Vec<f64>> {
    batches
        .iter()
        .flat_map(|b| float_rows(b.column(index).as_ref()))
        .collect()
}

fn float_rows(array: &dyn Array) -> Vec<Vec<f64>> {
    let lists = array.as_list::<i64>();
    (0..lists.len())
        .map(|i| lists.value(i).as_primitive::<DfFloat64>().values().to_vec())
        .collect()
}

/// Every row of `batches` with its id (column 0): (id, batch, row).
fn rows_by_id(batches: &[DfBatch]) -> Vec<(i64, &DfBatch, usize)> {
    batches
        .iter()
        .flat_map(|b| {
            let ids = b.column(0).as_primitive::<DfInt64>();
            (0..b.num_rows()).map(move |row| (ids.value(row), b, row))
        })
        .collect()
}

/// Row `row` of an Int32 `LargeList` column.
fn int32_row(batch: &DfBatch, column: usize, row: usize) -> Vec<i32> {
    let lists = batch.column(column).as_list::<i64>();
    lists.value(row).as_primitive::<DfInt32>().values().to_vec()
}

/// The core error inside a DataFusion error.
fn core_kind(err: &DataFusionError) -> Option<ErrorKind> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(err) = source {
        if let Some(core) = err.downcast_ref::<flacarray::Error>() {
            return Some(core.kind());
        }
        source = err.source();
    }
    None
}

#[tokio::test]
async fn sql_over_files_of_different_levels_and_lengths_gives_the_core_values() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    let expected = core_reads(dir.path(), 1000..1100);
    let ctx = context();
    ctx.register_parquet(
        "archive",
        dir.path().to_str().unwrap(),
        ParquetReadOptions::default(),
    )
    .await
    .unwrap();
    let batches = query(
        &ctx,
        "SELECT id, flac_len(signal) AS n, flac_decompress(signal, 1000, 1100) AS w \
         FROM archive ORDER BY id",
    )
    .await
    .unwrap();
    let rows = rows_by_id(&batches);
    for &(id, batch, row) in &rows {
        let (len, window) = &expected[&id];
        let lengths = batch.column(1).as_primitive::<DfUInt64>();
        assert_eq!(lengths.value(row), *len);
        assert_eq!(
            &float_rows(batch.column(2).as_ref())[row],
            window,
            "id {id}"
        );
        assert_eq!(window.len(), 100);
    }
    assert_eq!(rows.len(), 12 + 9 + 15);
}

#[tokio::test]
async fn a_glob_path_in_sql_with_a_filter_and_a_window() {
    let dir = tempfile::tempdir().unwrap();
    archive(dir.path());
    let expected = core_reads(dir.path(), -50..-10);
    let ctx = context().enable_url_table();
    let sql = format!(
        "SELECT id, flac_decompress(signal, -50, -10) FROM '{}/*.parquet' WHERE id = 205",
        dir.path().display()
    );
    let batches = query(&ctx, &sql).await.unwrap();
    let rows = float_column(&batches, 1);
    assert_eq!(rows, vec![expected[&205].1.clone()]);
    // and the whole rows, the window open at both ends
    let sql = format!(
        "SELECT flac_decompress(signal) FROM '{}/*.parquet' WHERE id = 3",
        dir.path().display()
    );
    let batches = query(&ctx, &sql).await.unwrap();
    let rows = float_column(&batches, 0);
    assert_eq!(rows, vec![core_reads(dir.path(), 0..3000)[&3].1.clone()]);
}

/// A batch of one list column, "signal", holding `rows`.
fn signal_batch<T: ArrowPrimitiveType>(rows: &[Vec<T::Native>]) -> RecordBatch {
    RecordBatch::try_from_iter([(
        "signal",
        Arc::new(ListArray::from_iter_primitive::<T, _, _>(
            rows.iter()
                .map(|r| Some(r.iter().copied().map(Some).collect::<Vec<_>>())),
        )) as ArrayRef,
    )])
    .unwrap()
}

/// An int64 column written to Parquet: `(path, the rows)`.
fn int64_file(dir: &Path, rows: &[Vec<i64>]) -> std::path::PathBuf {
    let path = dir.join("ints.parquet");
    let batch = signal_batch::<Int64Type>(rows);
    let packed = compress_column(&batch, "signal", &CompressOptions::default()).unwrap();
    flacarray::parquet::write_batches(File::create(&path).unwrap(), [&packed], None).unwrap();
    path
}

#[tokio::test]
async fn a_column_that_keeps_its_type_decodes_to_that_type() {
    let dir = tempfile::tempdir().unwrap();
    let big = vec![(1i64 << 60) + 1, -(1i64 << 58) - 3, 5];
    let path = int64_file(dir.path(), &[big.clone(), vec![1, 2, 3]]);
    let ctx = context();
    ctx.register_parquet(
        "typed",
        path.to_str().unwrap(),
        ParquetReadOptions::default().skip_metadata(false),
    )
    .await
    .unwrap();
    let batches = query(&ctx, "SELECT flac_decompress(signal) FROM typed")
        .await
        .unwrap();
    let lists = batches[0].column(0).as_list::<i64>();
    assert_eq!(
        lists.value_type(),
        DfType::Int64,
        "the type the field declares"
    );
    assert_eq!(
        lists.value(0).as_primitive::<DfInt64>().values().to_vec(),
        big
    );

    // without the type on the field, Float64: exact, or an error
    let ctx = context();
    ctx.register_parquet(
        "bare",
        path.to_str().unwrap(),
        ParquetReadOptions::default(),
    )
    .await
    .unwrap();
    let err = query(&ctx, "SELECT flac_decompress(signal) FROM bare")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("has no exact Float64"), "{err}");
    let batches = query(&ctx, "SELECT flac_decompress(signal, 2) FROM bare")
        .await
        .unwrap();
    assert_eq!(
        float_rows(batches[0].column(0).as_ref()),
        vec![vec![5.0], vec![3.0]]
    );
}

#[tokio::test]
async fn a_window_decodes_only_its_frames_so_a_damaged_later_frame_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.parquet");
    let rows: Vec<Vec<i32>> = (0..3)
        .map(|r| {
            (0..20_000)
                .map(|i: i32| (i * 31 + r * 7) % 1000 - 500)
                .collect()
        })
        .collect();
    let batch = signal_batch::<Int32Type>(&rows);
    let options = CompressOptions::default().with_block_size(4096);
    let packed = compress_column(&batch, "signal", &options).unwrap();
    let column = FlacColumn::from_record_batch(&packed, "signal").unwrap();
    // one byte inside the last frame of row 1 (samples 16384..20000)
    let storage = column.storage();
    let streams = storage
        .column(0)
        .as_any()
        .downcast_ref::<LargeBinaryArray>()
        .unwrap();
    let damaged: LargeBinaryArray = (0..streams.len())
        .map(|i| {
            let mut bytes = streams.value(i).to_vec();
            if i == 1 {
                let at = bytes.len() - 20;
                bytes[at] ^= 0x5a;
            }
            Some(bytes)
        })
        .collect();
    let mut columns = storage.columns().to_vec();
    columns[0] = Arc::new(damaged);
    let storage = StructArray::new(storage.fields().clone(), columns, storage.nulls().cloned());
    let field = packed.schema().field(0).clone();
    let damaged_batch = RecordBatch::try_new(
        Arc::new(flacarray::arrow_schema::Schema::new(vec![field])),
        vec![Arc::new(storage)],
    )
    .unwrap();
    flacarray::parquet::write_batches(File::create(&path).unwrap(), [&damaged_batch], None)
        .unwrap();

    let ctx = context();
    ctx.register_parquet("t", path.to_str().unwrap(), ParquetReadOptions::default())
        .await
        .unwrap();
    // the first frames decode, the values are right
    let batches = query(&ctx, "SELECT flac_decompress(signal, 100, 200) FROM t")
        .await
        .unwrap();
    let windows = float_rows(batches[0].column(0).as_ref());
    for (r, window) in windows.iter().enumerate() {
        let expected: Vec<f64> = rows[r][100..200].iter().map(|&v| f64::from(v)).collect();
        assert_eq!(window, &expected);
    }
    // the damaged frame is found as soon as a read reaches it
    for sql in [
        "SELECT flac_decompress(signal) FROM t",
        "SELECT flac_decompress(signal, 19000) FROM t",
    ] {
        let err = query(&ctx, sql).await.unwrap_err();
        assert_eq!(core_kind(&err), Some(ErrorKind::Corrupt), "{sql}: {err}");
        assert!(err.to_string().contains("row 1"), "{err}");
    }
}

fn int_lists_table(ctx: &SessionContext, rows: &[Option<Vec<i32>>]) {
    use datafusion::arrow::array::{Int64Array as DfInt64Array, ListArray as DfListArray};
    use datafusion::arrow::datatypes::{Field as DfField, Schema as DfSchema};
    let lists = DfListArray::from_iter_primitive::<DfInt32, _, _>(rows.iter().map(|r| {
        r.as_ref()
            .map(|r| r.iter().copied().map(Some).collect::<Vec<_>>())
    }));
    let ids = DfInt64Array::from_iter_values(0..rows.len() as i64);
    let schema = Arc::new(DfSchema::new(vec![
        DfField::new("id", DfType::Int64, false),
        DfField::new("v", lists.data_type().clone(), true),
    ]));
    let batch = DfBatch::try_new(schema.clone(), vec![Arc::new(ids), Arc::new(lists)]).unwrap();
    let table = MemTable::try_new(schema, vec![vec![batch]]).unwrap();
    ctx.register_table("t", Arc::new(table)).unwrap();
}

#[tokio::test]
async fn compress_in_sql_round_trips_and_copy_writes_a_file_the_core_reads() {
    let rows = vec![
        Some((0..5000).map(|i| (i % 313) - 150).collect::<Vec<i32>>()),
        None,
        Some(vec![]),
        Some(vec![7, -7, 7]),
    ];
    let ctx = context();
    int_lists_table(&ctx, &rows);
    let batches = query(
        &ctx,
        "SELECT flac_decompress(flac_compress(v, NULL, 8)) AS back, \
         flac_len(flac_compress(v)) AS n FROM t ORDER BY id",
    )
    .await
    .unwrap();
    let back = batches[0].column(0).as_list::<i64>();
    assert_eq!(back.value_type(), DfType::Int32);
    let lengths = batches[0].column(1).as_primitive::<DfUInt64>();
    for (i, row) in rows.iter().enumerate() {
        match row {
            None => assert!(back.is_null(i) && lengths.is_null(i)),
            Some(values) => {
                assert_eq!(
                    back.value(i).as_primitive::<DfInt32>().values().to_vec(),
                    *values
                );
                assert_eq!(lengths.value(i), values.len() as u64);
            }
        }
    }

    // COPY writes the column with its type: the core reads it as a whole
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("copied.parquet");
    query(
        &ctx,
        &format!(
            "COPY (SELECT id, flac_compress(v, NULL, 3) AS signal FROM t ORDER BY id) TO '{}'",
            out.display()
        ),
    )
    .await
    .unwrap();
    let reader = flacarray::parquet_crate::arrow::arrow_reader::ParquetRecordBatchReader::try_new(
        File::open(&out).unwrap(),
        1024,
    )
    .unwrap();
    let batch = reader.into_iter().next().unwrap().unwrap();
    let column = FlacColumn::from_record_batch(&batch, "signal").unwrap();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(column.row::<i32>(i, ..).unwrap(), row.clone());
    }
}

#[tokio::test]
async fn wrong_arguments_are_plan_errors_that_say_what_is_wrong() {
    let ctx = context();
    int_lists_table(&ctx, &[Some(vec![1, 2, 3])]);
    for (sql, message) in [
        (
            "SELECT flac_decompress(id) FROM t",
            "must be a flacarray column",
        ),
        ("SELECT flac_len(v) FROM t", "must be a flacarray column"),
        (
            "SELECT flac_decompress(flac_compress(v), 'a') FROM t",
            "expected Int64",
        ),
        (
            "SELECT flac_compress(v, 0.5, id) FROM t",
            "level must be a constant",
        ),
        (
            "SELECT flac_compress(v, NULL, 9) FROM t",
            "level must be 0 to 8",
        ),
        ("SELECT flac_compress(v, 0.5) FROM t", "float data only"),
        ("SELECT flac_compress(id) FROM t", "list"),
        ("SELECT flac_decompress() FROM t", "arguments"),
    ] {
        let err = query(&ctx, sql).await.unwrap_err();
        assert!(
            err.to_string()
                .to_lowercase()
                .contains(&message.to_lowercase()),
            "{sql}: {err}"
        );
    }
}

/// Int32 rows `ids` of `n` samples each, compressed at `level`.
fn write_int_file(path: &Path, ids: std::ops::Range<i64>, n: i32, level: u32) {
    let batch = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(Int64Array::from_iter_values(ids.clone())) as ArrayRef,
        ),
        (
            "signal",
            Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(ids.map(
                |id| {
                    Some(
                        (0..n)
                            .map(move |i| Some(i * 3 - id as i32))
                            .collect::<Vec<_>>(),
                    )
                },
            ))) as ArrayRef,
        ),
    ])
    .unwrap();
    let options = CompressOptions::default().with_level(level);
    let packed = compress_column(&batch, "signal", &options).unwrap();
    flacarray::parquet::write_batches(File::create(path).unwrap(), [&packed], None).unwrap();
}

#[tokio::test]
async fn an_archive_table_keeps_the_element_type_across_files() {
    let dir = tempfile::tempdir().unwrap();
    write_int_file(&dir.path().join("a.parquet"), 0..5, 3000, 0);
    write_int_file(&dir.path().join("b.parquet"), 5..9, 7000, 8);
    let ctx = context();
    let url = format!("{}/", dir.path().display());
    flacarray_datafusion::register_archive(&ctx, "archive", &url)
        .await
        .unwrap();
    let batches = query(
        &ctx,
        "SELECT id, flac_decompress(signal, 2990, 2993) FROM archive ORDER BY id",
    )
    .await
    .unwrap();
    let rows = rows_by_id(&batches);
    for &(id, batch, row) in &rows {
        assert_eq!(batch.column(1).as_list::<i64>().value_type(), DfType::Int32);
        let expected: Vec<i32> = (2990..2993).map(|i| i * 3 - id as i32).collect();
        assert_eq!(int32_row(batch, 1, row), expected);
    }
    assert_eq!(rows.len(), 9);

    // why the table exists: DataFusion keeping all field metadata refuses
    // files written at different levels
    let kept = ParquetReadOptions::default().skip_metadata(false);
    let plain = context();
    let refused = match plain.register_parquet("raw", &url, kept).await {
        Err(err) => err.to_string(),
        Ok(()) => query(&plain, "SELECT * FROM raw")
            .await
            .unwrap_err()
            .to_string(),
    };
    assert!(refused.contains("metadata"), "{refused}");

    // a file of another element type in the folder: refused, by name
    let floats = dir.path().join("c.parquet");
    write_file(&floats, 100, 2, 500, 5);
    let err = flacarray_datafusion::register_archive(&context(), "mixed", &url)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("disagree on its element type"),
        "{err}"
    );
}

#[tokio::test]
async fn a_window_per_row_from_columns() {
    let rows: Vec<Option<Vec<i32>>> = (0..6)
        .map(|r| Some((0..2000).map(|i| i * 10 + r).collect()))
        .collect();
    let ctx = context();
    int_lists_table(&ctx, &rows);
    // row id's window starts at 100 * id; NULL stop (id 4) runs to the end
    let batches = query(
        &ctx,
        "SELECT id, flac_decompress(flac_compress(v), id * 100, \
         CASE WHEN id = 4 THEN NULL ELSE id * 100 + 3 END) FROM t ORDER BY id",
    )
    .await
    .unwrap();
    let read = rows_by_id(&batches);
    for &(id, batch, row) in &read {
        let id = id as usize;
        let all = rows[id].as_ref().unwrap();
        let stop = if id == 4 { all.len() } else { id * 100 + 3 };
        assert_eq!(int32_row(batch, 1, row), all[id * 100..stop].to_vec());
    }
    assert_eq!(read.len(), 6);
}

/// An archive written over versions: a file of 0.3.0 (Arrow layout 2,
/// whole streams) and one of this version (layout 3, its 100-sample rows
/// frame rows) read in one glob give what the core reads from each.
#[tokio::test]
async fn files_of_layout_2_and_layout_3_read_in_one_glob() {
    let dir = tempfile::tempdir().unwrap();
    let golden =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/0.3.0/float64.parquet");
    std::fs::copy(&golden, dir.path().join("a_layout2.parquet")).unwrap();
    let values: Vec<f64> = (0..4 * 100)
        .map(|i| (f64::from(i) * 0.07).sin() * 50.0)
        .collect();
    let short = flacarray::FlacArray::compress(
        &values,
        &[4, 100],
        &CompressOptions::default().with_quanta(1e-3),
    )
    .unwrap();
    let new = dir.path().join("b_layout3.parquet");
    flacarray::parquet::write_array_file(&new, &short, "flac", flacarray::IfExists::Fail).unwrap();
    let mut expected: Vec<(u64, Vec<f64>)> = Vec::new();
    for path in [dir.path().join("a_layout2.parquet"), new] {
        let fa = flacarray::parquet::read_array_file(&path, "flac", None).unwrap();
        let rows = fa.to_vec::<f64>().unwrap();
        let n = fa.stream_size();
        expected.extend(rows.chunks(n).map(|row| (n as u64, row[..3].to_vec())));
    }
    let ctx = context().enable_url_table();
    let sql = format!(
        "SELECT flac_len(flac), flac_decompress(flac, 0, 3) FROM '{}/*.parquet'",
        dir.path().display()
    );
    let batches = query(&ctx, &sql).await.unwrap();
    let lengths: Vec<u64> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<DfUInt64>().values().to_vec())
        .collect();
    let mut got: Vec<(u64, Vec<f64>)> =
        lengths.into_iter().zip(float_column(&batches, 1)).collect();
    let order = |a: &(u64, Vec<f64>), b: &(u64, Vec<f64>)| {
        a.0.cmp(&b.0).then(a.1.partial_cmp(&b.1).unwrap())
    };
    got.sort_by(order);
    expected.sort_by(order);
    assert_eq!(got.len(), 4 + 4, "four rows of each file");
    assert_eq!(got, expected);
}
