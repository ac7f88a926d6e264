//! Running work on a chosen number of threads.

use std::sync::OnceLock;

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::error::{Error, ErrorKind, Result};

fn single_thread_pool() -> Result<&'static ThreadPool> {
    static POOL: OnceLock<std::result::Result<ThreadPool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| Error::new(ErrorKind::Codec, format!("cannot start a thread pool: {e}")))
}

/// Runs `work` with rayon limited to `threads` threads (`None`: rayon's
/// global pool, one thread per core). Results never depend on the count.
pub fn with_thread_count<R: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> R + Send,
) -> Result<R> {
    match threads {
        None => Ok(work()),
        Some(0) => Err(Error::invalid("thread count must be at least 1")),
        Some(1) => Ok(single_thread_pool()?.install(work)),
        Some(n) => {
            let pool = ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| {
                    Error::new(ErrorKind::Codec, format!("cannot start a thread pool: {e}"))
                })?;
            Ok(pool.install(work))
        }
    }
}
