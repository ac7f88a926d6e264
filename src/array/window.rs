//! The sample window: which samples of each stream (or row) a read returns.
//!
//! One rule in every API (Rust, Python, Polars, Arrow): Python's slice
//! rule. Negative bounds count from the end of each stream; bounds beyond
//! it are clamped to it; a window that ends before it starts is empty. A
//! window past a stream's end therefore gives the samples it has, maybe
//! none: the length of what comes back says so. Stream (row) indices, by
//! contrast, are never clamped: an index out of range is an error.

use std::ops::{Range, RangeFrom, RangeFull, RangeTo};

/// A window of samples `start..stop`, resolved against each stream's
/// length with Python's slice rule (see the module documentation).
///
/// Every read that takes a window takes `impl Into<SampleWindow>`: a range
/// of any integer type (`10..20`, `..100`, `-5..`), `..` for everything, or
/// [`SampleWindow::new`] for bounds known only at run time.
///
/// ```
/// use flacarray::SampleWindow;
///
/// assert_eq!(SampleWindow::from(10..20).resolve(30), 10..20);
/// assert_eq!(SampleWindow::from(10..20).resolve(15), 10..15); // clamped
/// assert_eq!(SampleWindow::from(20..40).resolve(15), 15..15); // past the end: empty
/// assert_eq!(SampleWindow::from(-5..).resolve(100), 95..100);
/// assert_eq!(SampleWindow::from(..).resolve(7), 0..7);
/// assert_eq!(SampleWindow::new(Some(50), Some(10)).resolve(100), 50..50);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SampleWindow {
    /// First sample (default 0; negative: counted from the end).
    pub start: Option<i64>,
    /// One past the last sample (default: the stream's end; negative:
    /// counted from the end).
    pub stop: Option<i64>,
}

impl SampleWindow {
    /// The window `start..stop`; `None` is the stream's start or end.
    pub fn new(start: Option<i64>, stop: Option<i64>) -> Self {
        SampleWindow { start, stop }
    }

    /// Every sample.
    pub fn all() -> Self {
        SampleWindow::default()
    }

    /// The samples this window selects in a stream of `len` samples.
    pub fn resolve(&self, len: u64) -> Range<u64> {
        let len_wide = i128::from(len);
        let place = |bound: i64| {
            let bound = i128::from(bound);
            let bound = if bound < 0 { bound + len_wide } else { bound };
            bound.clamp(0, len_wide) as u64
        };
        let first = self.start.map_or(0, place);
        let last = self.stop.map_or(len, place);
        first..last.max(first)
    }

    /// [`resolve`](Self::resolve) for lengths and indices held as `usize`.
    pub fn resolve_usize(&self, len: usize) -> Range<usize> {
        let range = self.resolve(len as u64);
        range.start as usize..range.end as usize
    }
}

/// An integer type a window's bounds can be written in.
pub trait WindowBound: Copy + sealed::Sealed {
    /// The bound as an `i64`; values beyond `i64::MAX` saturate (they are
    /// past the end of any stream, so they clamp to it).
    fn to_bound(self) -> i64;
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! window_bounds {
    ($($t:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl WindowBound for $t {
            fn to_bound(self) -> i64 {
                i64::try_from(self).unwrap_or(i64::MAX)
            }
        }
    )*};
}

window_bounds!(i32, i64, isize, u32, u64, usize);

impl<I: WindowBound> From<Range<I>> for SampleWindow {
    fn from(range: Range<I>) -> Self {
        SampleWindow::new(Some(range.start.to_bound()), Some(range.end.to_bound()))
    }
}

impl<I: WindowBound> From<RangeFrom<I>> for SampleWindow {
    fn from(range: RangeFrom<I>) -> Self {
        SampleWindow::new(Some(range.start.to_bound()), None)
    }
}

impl<I: WindowBound> From<RangeTo<I>> for SampleWindow {
    fn from(range: RangeTo<I>) -> Self {
        SampleWindow::new(None, Some(range.end.to_bound()))
    }
}

impl From<RangeFull> for SampleWindow {
    fn from(_: RangeFull) -> Self {
        SampleWindow::all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_of_every_integer_type_give_the_same_window() {
        let len = 100u64;
        let expected = 10..20;
        assert_eq!(SampleWindow::from(10i32..20).resolve(len), expected);
        assert_eq!(SampleWindow::from(10usize..20).resolve(len), expected);
        assert_eq!(SampleWindow::from(10u64..20).resolve(len), expected);
        assert_eq!(SampleWindow::from(-90i64..-80).resolve(len), expected);
        assert_eq!(
            SampleWindow::from(u64::MAX - 1..u64::MAX).resolve(len),
            100..100
        );
        assert_eq!(SampleWindow::from(i64::MIN..i64::MAX).resolve(len), 0..100);
        assert_eq!(SampleWindow::from(..-1).resolve(0), 0..0);
    }
}
