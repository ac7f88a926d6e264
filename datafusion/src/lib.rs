//! flacarray columns in DataFusion SQL.
//!
//! Three scalar functions over the `flacarray.flac` column (one FLAC stream
//! per row, as `flacarray`'s Arrow and Parquet writers, its Python package
//! and its Polars plugin store it):
//!
//! | function | gives |
//! |---|---|
//! | `flac_decompress(col [, start [, stop]])` | each row's samples, or the window `start..stop` of them (Python's slice rule), decoding only the frames that hold them |
//! | `flac_len(col)` | each row's sample count (UInt64), from the stream headers |
//! | `flac_compress(list [, step [, level]])` | a flacarray column from a list column |
//!
//! ```
//! use std::sync::Arc;
//! use datafusion::arrow::array::{AsArray, ListArray, RecordBatch};
//! use datafusion::arrow::datatypes::{Int32Type, UInt64Type};
//! use datafusion::prelude::SessionContext;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> datafusion::common::Result<()> {
//! let rows = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![
//!     Some(1), Some(2), Some(3), Some(4),
//! ])]);
//! let ctx = SessionContext::new();
//! flacarray_datafusion::register(&ctx);
//! ctx.register_batch("t", RecordBatch::try_from_iter([("v", Arc::new(rows) as _)])?)?;
//! let batches = ctx
//!     .sql(
//!         "SELECT flac_len(c) AS n, flac_decompress(c, 1, 3) AS w \
//!          FROM (SELECT flac_compress(v) AS c FROM t)",
//!     )
//!     .await?
//!     .collect()
//!     .await?;
//! assert_eq!(batches[0].column(0).as_primitive::<UInt64Type>().value(0), 4);
//! let window = batches[0].column(1).as_list::<i64>().value(0);
//! assert_eq!(window.as_primitive::<Int32Type>().values(), &[2, 3]);
//! # Ok(())
//! # }
//! ```
//!
//! The element type of `flac_decompress`'s lists is the column's when its
//! field carries the `flacarray.flac` type. DataFusion's Parquet reader
//! drops field metadata unless `datafusion.execution.parquet.skip_metadata`
//! is false, and files written at different levels cannot share a schema
//! with it; so a column read from Parquet usually arrives as its bare
//! storage struct, and then the lists hold Float64 (exact for int32,
//! float32, float64; an int64 beyond ±2^53 is an error, never rounded).
//! [`register_archive`] registers a folder of files as a table that keeps
//! the type.
//!
//! Errors from the data (damaged streams, impossible lengths) keep the
//! core's [`flacarray::Error`] inside DataFusion's `External` error, so its
//! [`kind`](flacarray::Error::kind) is still there to read.

mod archive;
mod bridge;
mod column;
mod compress;
mod decompress;
mod length;

use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionContext;

pub use archive::register_archive;
pub use compress::FlacCompress;
pub use decompress::FlacDecompress;
pub use length::FlacLen;

/// The three functions, to register with any DataFusion function registry.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::new_from_impl(FlacDecompress::default()),
        ScalarUDF::new_from_impl(FlacLen::default()),
        ScalarUDF::new_from_impl(FlacCompress::default()),
    ]
}

/// Registers `flac_decompress`, `flac_len` and `flac_compress` with a
/// session.
pub fn register(ctx: &SessionContext) {
    for function in functions() {
        ctx.register_udf(function);
    }
}
