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
//! use datafusion::prelude::SessionContext;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> datafusion::common::Result<()> {
//! let ctx = SessionContext::new();
//! flacarray_datafusion::register(&ctx);
//! let batches = ctx
//!     .sql(
//!         "SELECT flac_len(c) AS n, flac_decompress(c, 1, 3) AS w \
//!          FROM (SELECT flac_compress(make_array(1, 2, 3, 4)) AS c)",
//!     )
//!     .await?
//!     .collect()
//!     .await?;
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
