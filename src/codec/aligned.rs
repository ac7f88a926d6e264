//! Buffers that start on a 64-byte boundary (a cache line, and the width of
//! an AVX-512 register), so that the vector loads and stores of whole rows
//! never straddle two cache lines.

use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

/// 64 bytes on a 64-byte boundary: the unit a buffer grows by.
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Line([u64; 8]);

/// Numbers for which every bit pattern is a valid value, so that a buffer's
/// bytes can be read as them.
///
/// # Safety
/// Every bit pattern of the type's size must be a valid value, and the type
/// must have no padding.
pub(super) unsafe trait Plain: Copy {}

// SAFETY: every bit pattern is a valid integer or float.
unsafe impl Plain for i64 {}
// SAFETY: as above.
unsafe impl Plain for f64 {}
// SAFETY: an array of plain numbers has no padding.
unsafe impl<T: Plain, const N: usize> Plain for [T; N] {}

/// A growable slice of `T` starting on a 64-byte boundary.
pub(super) struct Aligned<T: Plain> {
    lines: Vec<Line>,
    len: usize,
    item: PhantomData<T>,
}

impl<T: Plain> Default for Aligned<T> {
    fn default() -> Self {
        Aligned {
            lines: Vec::new(),
            len: 0,
            item: PhantomData,
        }
    }
}

impl<T: Plain> Aligned<T> {
    /// Makes the slice `len` long; new items are all-zero bits.
    pub(super) fn resize(&mut self, len: usize) {
        const { assert!(std::mem::size_of::<T>() > 0 && 64 % std::mem::size_of::<T>() == 0) };
        const { assert!(std::mem::align_of::<T>() <= 64) };
        let bytes = len
            .checked_mul(std::mem::size_of::<T>())
            .expect("a buffer's size fits memory");
        let lines = bytes.div_ceil(64);
        if self.lines.len() < lines {
            self.lines.resize(lines, Line::default());
        }
        if len > self.len {
            // items freed by an earlier shrink may hold old values
            let old = self.len;
            self.len = len;
            for item in &mut self[old..] {
                // SAFETY: all-zero bits are a valid `T` (it is plain).
                *item = unsafe { std::mem::zeroed() };
            }
        }
        self.len = len;
    }
}

impl<T: Plain> Deref for Aligned<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        // SAFETY: `lines` holds at least `len * size_of::<T>()` initialised
        // bytes (see `resize`), aligned to 64 bytes (at least `T`'s
        // alignment, checked there), and any bit pattern is a valid `T`.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<T>(), self.len) }
    }
}

impl<T: Plain> DerefMut for Aligned<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`; `self` is borrowed mutably.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<T>(), self.len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_on_a_line_and_zero_fills_what_it_grows() {
        let mut buffer = Aligned::<i64>::default();
        buffer.resize(13);
        assert_eq!(buffer.as_ptr() as usize % 64, 0);
        assert!(buffer.iter().all(|&v| v == 0));
        buffer.iter_mut().for_each(|v| *v = 7);
        buffer.resize(3);
        buffer.resize(100);
        assert_eq!(buffer.len(), 100);
        assert_eq!(&buffer[..3], &[7, 7, 7]);
        assert!(buffer[3..].iter().all(|&v| v == 0));
        assert_eq!(buffer.as_ptr() as usize % 64, 0);
        let mut rows = Aligned::<[f64; 4]>::default();
        rows.resize(5);
        assert_eq!(rows.len(), 5);
        assert_eq!(rows.as_ptr() as usize % 64, 0);
    }
}
