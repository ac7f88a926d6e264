//! Parquet in object stores: reads fetch only what they need, writes
//! appear whole and replace only what they may.
#![cfg(feature = "object_store")]

use std::sync::Arc;

use flacarray::parquet::{
    read_array_async, read_object, write_array_object, write_object, ObjectReader,
};
use flacarray::{CompressOptions, ErrorKind, FlacArray, IfExists};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// `rows` streams of `n` int32 samples: a ramp plus a jitter of about 9 bits.
fn data(rows: usize, n: usize) -> Vec<i32> {
    (0..rows * n)
        .map(|i| ((i % n) / 50) as i32 + ((i.wrapping_mul(2654435761) >> 7) % 400) as i32)
        .collect()
}

fn stores() -> Vec<(Arc<dyn ObjectStore>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalFileSystem::new_with_prefix(dir.path()).unwrap();
    vec![
        (Arc::new(InMemory::new()), tempfile::tempdir().unwrap()),
        (Arc::new(local), dir),
    ]
}

#[tokio::test]
async fn a_whole_array_and_kept_rows_read_back_from_every_store() {
    let (rows, n) = (40, 3000);
    let values = data(rows, n);
    let array = FlacArray::compress(&values, &[4, 10, n], &CompressOptions::default()).unwrap();
    for (store, _dir) in stores() {
        let path = Path::from("a/b/signal.parquet");
        write_array_object(&store, &path, &array, "signal", IfExists::Fail)
            .await
            .unwrap();
        let back = read_object(&store, &path, "signal", None).await.unwrap();
        assert_eq!(back, array);

        let mut keep = vec![false; rows];
        for r in [3, 17, 18, 39] {
            keep[r] = true;
        }
        let kept = read_object(&store, &path, "signal", Some((&keep, &[4, 10])))
            .await
            .unwrap();
        assert_eq!(kept.shape(), &[4, n]);
        for (i, r) in [3, 17, 18, 39].into_iter().enumerate() {
            assert_eq!(
                kept.decompress::<i32>(&[i], 1000..1100).unwrap(),
                values[r * n + 1000..r * n + 1100]
            );
        }
        // a mask of the wrong shape is the caller's mistake
        let err = read_object(&store, &path, "signal", Some((&keep, &[40])))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        let err = read_object(&store, &Path::from("nothing.parquet"), "signal", None)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io, "{err}");
    }
}

#[tokio::test]
async fn a_few_rows_fetch_a_few_pages() {
    let (rows, n) = (2000, 4000);
    let values = data(rows, n);
    let array = FlacArray::compress(&values, &[rows, n], &CompressOptions::default()).unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let path = Path::from("big.parquet");
    write_array_object(&store, &path, &array, "signal", IfExists::Fail)
        .await
        .unwrap();
    let reader = ObjectReader::open(store.clone(), path.clone())
        .await
        .unwrap();
    let size = reader.size();
    let picks = [5, 401, 402, 777, 1000, 1203, 1500, 1750, 1998, 1999];
    let mut keep = vec![false; rows];
    for r in picks {
        keep[r] = true;
    }
    let kept = read_array_async(reader.clone(), size, "signal", Some((&keep, &[rows])))
        .await
        .unwrap();
    for (i, r) in picks.into_iter().enumerate() {
        assert_eq!(
            kept.decompress::<i32>(&[i], 1000..1100).unwrap(),
            values[r * n + 1000..r * n + 1100]
        );
    }
    let fetched = reader.bytes_fetched();
    let per_row = array.nbytes() as u64 / rows as u64;
    // the footer, the page index, and at most one 32 KiB page (or one
    // row) around each kept row
    let bound = 64 * 1024 + 10 * (flacarray::parquet::STREAM_PAGE_BYTES as u64 + per_row);
    assert!(
        fetched < bound,
        "fetched {fetched} of {size} bytes (bound {bound})"
    );
    assert!(fetched * 20 < size, "fetched {fetched} of {size} bytes");

    // the whole array fetches the whole file
    let whole = ObjectReader::open(store.clone(), path.clone())
        .await
        .unwrap();
    read_array_async(whole.clone(), size, "signal", None)
        .await
        .unwrap();
    assert!(whole.bytes_fetched() >= size * 9 / 10);
}

/// Writes `array` to `path` and expects the write refused: something is
/// there already.
async fn refused_as_existing(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    array: &FlacArray,
    if_exists: IfExists,
) {
    let err = write_array_object(store, path, array, "signal", if_exists)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
}

#[tokio::test]
async fn overwriting_is_explicit_and_never_replaces_a_foreign_object() {
    let values = data(3, 1000);
    let array = FlacArray::compress(&values, &[3, 1000], &CompressOptions::default()).unwrap();
    let other =
        FlacArray::compress(&values[..2000], &[2, 1000], &CompressOptions::default()).unwrap();
    for (store, _dir) in stores() {
        let path = Path::from("x.parquet");
        write_array_object(&store, &path, &array, "signal", IfExists::Fail)
            .await
            .unwrap();
        refused_as_existing(&store, &path, &other, IfExists::Fail).await;
        assert_eq!(
            read_object(&store, &path, "signal", None).await.unwrap(),
            array
        );
        write_array_object(&store, &path, &other, "signal", IfExists::Overwrite)
            .await
            .unwrap();
        assert_eq!(
            read_object(&store, &path, "signal", None).await.unwrap(),
            other
        );

        // an object that is not ours stays
        let foreign = Path::from("notes.txt");
        store
            .put(&foreign, PutPayload::from_static(b"field notes"))
            .await
            .unwrap();
        refused_as_existing(&store, &foreign, &array, IfExists::Overwrite).await;
        let kept = store.get(&foreign).await.unwrap().bytes().await.unwrap();
        assert_eq!(&kept[..], b"field notes");
    }
}

#[tokio::test]
async fn record_batches_with_other_columns_write_too() {
    use flacarray::arrow::{compress_column, FlacColumn};
    use flacarray::arrow_array::types::Int32Type;
    use flacarray::arrow_array::{ArrayRef, Int64Array, ListArray, RecordBatch};
    let batch = RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(vec![10, 11])) as ArrayRef),
        (
            "signal",
            Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
                Some(vec![Some(1), Some(2), Some(3)]),
                Some(vec![Some(-4), Some(5)]),
            ])) as ArrayRef,
        ),
    ])
    .unwrap();
    let packed = compress_column(&batch, "signal", &CompressOptions::default()).unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let path = Path::from("events.parquet");
    write_object(&store, &path, [&packed], None, IfExists::Fail)
        .await
        .unwrap();
    let bytes = store.get(&path).await.unwrap().bytes().await.unwrap();
    let reader =
        flacarray::parquet_crate::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes, 16)
            .unwrap();
    let back = reader.into_iter().next().unwrap().unwrap();
    let column = FlacColumn::from_record_batch(&back, "signal").unwrap();
    assert_eq!(column.row::<i32>(1, ..).unwrap(), Some(vec![-4, 5]));
}

#[tokio::test]
async fn damaged_objects_are_corrupt_errors() {
    let values = data(8, 5000);
    let array = FlacArray::compress(&values, &[8, 5000], &CompressOptions::default()).unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let path = Path::from("good.parquet");
    write_array_object(&store, &path, &array, "signal", IfExists::Fail)
        .await
        .unwrap();
    let good = store
        .get(&path)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let mut seen_error = 0;
    for at in (0..good.len()).step_by(good.len() / 97 + 1) {
        let mut bad = good.clone();
        bad[at] ^= 0x41;
        let bad_path = Path::from(format!("bad-{at}.parquet"));
        store.put(&bad_path, PutPayload::from(bad)).await.unwrap();
        let read = read_object(&store, &bad_path, "signal", None).await;
        match read.and_then(|back| back.to_vec::<i32>()) {
            // undamaged in effect (padding, an unused statistic): the
            // values must still be right
            Ok(back) => assert_eq!(back, values, "byte {at}"),
            Err(err) => {
                assert!(
                    matches!(err.kind(), ErrorKind::Corrupt | ErrorKind::Unsupported),
                    "byte {at}: {err}"
                );
                seen_error += 1;
            }
        }
    }
    assert!(seen_error > 10);
}
