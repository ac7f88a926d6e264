//! Parquet files in an object store (S3, GCS, Azure, a local folder, memory:
//! anything `object_store` reaches), read and written asynchronously.
//!
//! Reading a column with a keep mask fetches the footer, the page index and
//! only the pages that hold kept rows (the writer gives each stream its own
//! pages, [`writer_properties`](super::writer_properties)); a window of
//! samples is then decoded from those rows' frames alone
//! ([`FlacArray::decompress`]). Writing uploads a complete file in one put:
//! a failed or interrupted write leaves no object and the old one intact.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::extension::ExtensionType;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryFutureExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::arrow::async_reader::{AsyncFileReader, ParquetRecordBatchStreamBuilder};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use parquet::file::properties::WriterProperties;

use super::pq_err;
use super::read::{check_footer, reader_options, scales_reader, RowPlan, Scales, Target};
use crate::arrow::FlacExtension;
use crate::error::{Error, ErrorKind, Result};
use crate::fsio::IfExists;
use crate::FlacArray;

/// One object of a store, read by byte ranges; it counts the bytes it
/// fetched (clones share the count).
#[derive(Debug, Clone)]
pub struct ObjectReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
    fetched: Arc<AtomicU64>,
}

fn store_err(path: &Path, err: object_store::Error) -> Error {
    let kind = match &err {
        object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. } => {
            ErrorKind::AlreadyExists
        }
        _ => ErrorKind::Io,
    };
    let message = match &err {
        object_store::Error::NotFound { .. } => format!("{path}: no such object"),
        object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. } => {
            format!("{path} already exists")
        }
        other => format!("{path}: {other}"),
    };
    Error::new(kind, message).with_source(err)
}

impl ObjectReader {
    /// Opens `path` in `store` (one `HEAD` request for its size).
    pub async fn open(store: Arc<dyn ObjectStore>, path: Path) -> Result<Self> {
        let meta = store.head(&path).await.map_err(|e| store_err(&path, e))?;
        Ok(ObjectReader {
            store,
            path,
            size: meta.size,
            fetched: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The object's size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Bytes fetched so far by this reader and its clones.
    pub fn bytes_fetched(&self) -> u64 {
        self.fetched.load(Ordering::Relaxed)
    }

    fn count(&self, bytes: &[Bytes]) {
        let n: usize = bytes.iter().map(Bytes::len).sum();
        self.fetched.fetch_add(n as u64, Ordering::Relaxed);
    }
}

fn parquet_err(err: object_store::Error) -> parquet::errors::ParquetError {
    parquet::errors::ParquetError::External(Box::new(err))
}

impl AsyncFileReader for ObjectReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            let bytes = self
                .store
                .get_range(&self.path, range)
                .await
                .map_err(parquet_err)?;
            self.count(std::slice::from_ref(&bytes));
            Ok(bytes)
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            let bytes = self
                .store
                .get_ranges(&self.path, &ranges)
                .await
                .map_err(parquet_err)?;
            self.count(&bytes);
            Ok(bytes)
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

/// Runs an async read, turning a panic of the parquet crate (on damaged
/// metadata it did not expect) into a `Corrupt` error.
async fn guarded<T>(read: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    std::panic::AssertUnwindSafe(read)
        .catch_unwind()
        .await
        .unwrap_or_else(|_| {
            Err(Error::corrupt(
                "parquet: the file is damaged (its reader failed)",
            ))
        })
}

/// [`read_array`](super::read_array) from any asynchronous Parquet source
/// of `len` bytes: the same checks and the same result, fetching only the
/// footer, the page index and the pages holding kept rows.
pub async fn read_array_async<R>(
    mut reader: R,
    len: u64,
    column: &str,
    keep: Option<(&[bool], &[usize])>,
) -> Result<FlacArray>
where
    R: AsyncFileReader + Clone + Unpin + 'static,
{
    guarded(async move {
        let metadata = ArrowReaderMetadata::load_async(&mut reader, reader_options())
            .await
            .map_err(pq_err)?;
        check_footer(metadata.metadata(), len)?;
        let builder =
            ParquetRecordBatchStreamBuilder::new_with_metadata(reader.clone(), metadata.clone());
        let target = Target::find(builder.schema(), column)?;
        // every row's offset and gain, read in a pass of their own
        let scales = |reader: R| {
            let builder =
                ParquetRecordBatchStreamBuilder::new_with_metadata(reader, metadata.clone());
            collect_scales(builder, target.index)
        };
        let plan = match RowPlan::new(builder.metadata(), &target, keep)? {
            Ok(plan) => plan,
            Err(mask_error) => {
                // a mask that does not fit a damaged shape: the damage first
                if let Some((digest, recorded)) = target.recorded_digest()? {
                    scales(reader)
                        .await?
                        .check(&target.probe, recorded, digest)?;
                }
                return Err(mask_error);
            }
        };
        let mut stream = plan.configure(builder, &target).build().map_err(pq_err)?;
        let mut columns = Vec::new();
        while let Some(batch) = stream.next().await {
            columns.push(target.column_of(batch.map_err(pq_err)?.column(0))?);
        }
        let array = plan.assemble(columns, &target, keep)?;
        if let Some((digest, read)) = target.check_digest(&array, keep)? {
            scales(reader).await?.check(&target.probe, read, digest)?;
        }
        Ok(array)
    })
    .await
}

async fn collect_scales<R: AsyncFileReader + Unpin + 'static>(
    builder: ParquetRecordBatchStreamBuilder<R>,
    index: usize,
) -> Result<Scales> {
    let mut stream = scales_reader(builder, index)?.build().map_err(pq_err)?;
    let mut scales = Scales::default();
    while let Some(batch) = stream.next().await {
        scales.add(&batch.map_err(pq_err)?)?;
    }
    Ok(scales)
}

/// Reads the FlacArray in column `column` of the Parquet object `path`
/// ([`read_array_async`] through an [`ObjectReader`]).
///
/// ```
/// use std::sync::Arc;
/// use flacarray::{CompressOptions, FlacArray};
/// use flacarray::parquet::{read_object, write_array_object};
/// use object_store::{memory::InMemory, path::Path, ObjectStore};
///
/// # futures::executor::block_on(async {
/// let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
/// let data: Vec<i32> = (0..3 * 5000).map(|i| (i % 101) - 50).collect();
/// let array = FlacArray::compress(&data, &[3, 5000], &CompressOptions::default())?;
/// let path = Path::from("archive/day1.parquet");
/// write_array_object(&store, &path, &array, "signal", flacarray::IfExists::Fail).await?;
///
/// // row 2 only: its pages and the footer are all that is fetched
/// let keep = [false, false, true];
/// let row = read_object(&store, &path, "signal", Some((&keep, &[3]))).await?;
/// assert_eq!(row.decompress::<i32>(&[0], 100..103)?, data[2 * 5000 + 100..2 * 5000 + 103]);
/// # Ok::<(), flacarray::Error>(())
/// # }).unwrap();
/// ```
pub async fn read_object(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    column: &str,
    keep: Option<(&[bool], &[usize])>,
) -> Result<FlacArray> {
    let reader = ObjectReader::open(store.clone(), path.clone()).await?;
    let len = reader.size();
    read_array_async(reader, len, column, keep).await
}

/// Writes record batches (one schema, any mix of flacarray and other
/// columns) as the Parquet object `path`, with
/// [`writer_properties`](super::writer_properties) built from `properties`.
///
/// The file is made in memory and uploaded in one put, so the object
/// appears complete or not at all. `IfExists::Fail` refuses an existing
/// object (the store checks it atomically); `IfExists::Overwrite`
/// replaces only an object that is itself a Parquet file with a flacarray
/// column, never anything else.
pub async fn write_object<I, B>(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    batches: I,
    properties: Option<WriterProperties>,
    if_exists: IfExists,
) -> Result<()>
where
    I: IntoIterator<Item = B>,
    B: std::borrow::Borrow<RecordBatch>,
{
    let mut file = Vec::new();
    super::write_batches(&mut file, batches, properties)?;
    put_file(store, path, file, if_exists).await
}

/// Writes a whole FlacArray as column `column` of the Parquet object
/// `path`, as [`write_array`](super::write_array) writes a file (shape,
/// level and digest recorded); uploaded as [`write_object`] uploads.
pub async fn write_array_object(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    array: &FlacArray,
    column: &str,
    if_exists: IfExists,
) -> Result<()> {
    let mut file = Vec::new();
    super::write_array(&mut file, array, column)?;
    put_file(store, path, file, if_exists).await
}

/// Uploads a complete file in one put, following `if_exists`.
async fn put_file(
    store: &Arc<dyn ObjectStore>,
    path: &Path,
    file: Vec<u8>,
    if_exists: IfExists,
) -> Result<()> {
    let mode = match if_exists {
        IfExists::Fail => PutMode::Create,
        IfExists::Overwrite => {
            match store.head(path).await {
                Ok(meta) => {
                    let existing = ObjectReader {
                        store: store.clone(),
                        path: path.clone(),
                        size: meta.size,
                        fetched: Arc::new(AtomicU64::new(0)),
                    };
                    check_replaceable(existing, path).await?;
                }
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(store_err(path, e)),
            }
            PutMode::Overwrite
        }
    };
    let options = PutOptions {
        mode,
        ..PutOptions::default()
    };
    store
        .put_opts(path, PutPayload::from(file), options)
        .map_err(|e| store_err(path, e))
        .await?;
    Ok(())
}

/// Refuses to replace an object that is not a Parquet file with a
/// flacarray column.
async fn check_replaceable(mut existing: ObjectReader, path: &Path) -> Result<()> {
    let metadata = ArrowReaderMetadata::load_async(&mut existing, ArrowReaderOptions::new()).await;
    let ours = metadata.is_ok_and(|m| {
        m.schema()
            .fields()
            .iter()
            .any(|f| f.extension_type_name() == Some(FlacExtension::NAME))
    });
    if ours {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::AlreadyExists,
            format!("{path} exists and is not a flacarray Parquet file: not replaced"),
        ))
    }
}
