//! Running work on a chosen number of threads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::error::{Error, ErrorKind, Result};

/// One pool per thread count, built the first time it is asked for and
/// kept: building a pool costs more than a short decode.
fn pool(threads: usize) -> Result<Arc<ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();
    let pools = POOLS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut pools = pools
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(pool) = pools.get(&threads) {
        return Ok(pool.clone());
    }
    let pool = ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map(Arc::new)
        .map_err(|e| {
            Error::new(
                ErrorKind::Resource,
                format!("cannot start a pool of {threads} threads: {e}"),
            )
        })?;
    pools.insert(threads, pool.clone());
    Ok(pool)
}

/// Runs `work` with rayon limited to `threads` threads (`None`: rayon's
/// global pool, one thread per core). Results never depend on the count.
///
/// ```
/// use flacarray::{with_thread_count, CompressOptions, FlacArray};
///
/// let data: Vec<i32> = (0..4000).collect();
/// let fa = with_thread_count(Some(1), || {
///     FlacArray::compress(&data, &[4, 1000], &CompressOptions::default())
/// })?;
/// assert_eq!(fa.nstreams(), 4);
/// # Ok::<(), flacarray::Error>(())
/// ```
pub fn with_thread_count<R: Send>(
    threads: Option<usize>,
    work: impl FnOnce() -> Result<R> + Send,
) -> Result<R> {
    match threads {
        None => work(),
        Some(0) => Err(Error::invalid("thread count must be at least 1")),
        Some(n) => pool(n)?.install(work),
    }
}
