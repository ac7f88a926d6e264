//! Running work on a chosen number of threads.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::error::{Error, ErrorKind, Result};

thread_local! {
    /// The pools this thread has asked for, one per thread count, built the
    /// first time and kept (building a pool costs more than a short decode)
    /// until the thread ends. Per calling thread, so that callers running
    /// side by side (a Dask or Python thread pool, each call limited to one
    /// thread) each get their own threads instead of queueing for one.
    static POOLS: RefCell<HashMap<usize, Arc<ThreadPool>>> = RefCell::new(HashMap::new());
}

/// This thread's pool of `threads` threads.
fn pool(threads: usize) -> Result<Arc<ThreadPool>> {
    if let Some(pool) = POOLS.with(|pools| pools.borrow().get(&threads).cloned()) {
        return Ok(pool);
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
    POOLS.with(|pools| pools.borrow_mut().insert(threads, pool.clone()));
    Ok(pool)
}

/// Runs `work` with rayon limited to `threads` threads (`None`: rayon's
/// global pool, one thread per core). The limit is per call: calls from
/// different threads run side by side, each on its own threads. Results
/// never depend on the count.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_from_different_threads_do_not_share_their_threads() {
        // each caller limited to one thread: the work of two callers runs
        // on two different threads (one shared pool would queue them)
        let worker = || {
            with_thread_count(Some(1), || {
                assert_eq!(rayon::current_num_threads(), 1);
                Ok(std::thread::current().id())
            })
            .unwrap()
        };
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(worker);
            let b = s.spawn(worker);
            (a.join().unwrap(), b.join().unwrap())
        });
        assert_ne!(a, b);
        // and one caller keeps its pool
        assert_eq!(worker(), worker());
    }
}
