//! The FLAC compression level: the one place that knows its range.

use std::fmt;

use crate::error::{Error, Result};

/// A libFLAC compression level, 0 (fastest) to 8 (smallest). Every place
/// that takes a level from outside (options, Python, Polars, file
/// attributes, Arrow metadata) goes through [`Level::new`].
///
/// ```
/// use flacarray::codec::Level;
///
/// assert_eq!(Level::new(6)?.get(), 6);
/// assert!(Level::new(9).is_err());
/// assert!(Level::new(-1).is_err());
/// assert_eq!(Level::default().get(), 5);
/// # Ok::<(), flacarray::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level(u8);

impl Level {
    /// The smallest output libFLAC offers.
    pub const MAX: Level = Level(8);

    /// The level `value`, or an `InvalidInput` error naming it.
    pub fn new(value: i64) -> Result<Level> {
        u8::try_from(value)
            .ok()
            .filter(|&l| l <= Self::MAX.0)
            .map(Level)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "compression level must be between 0 and 8, got {value}"
                ))
            })
    }

    /// The level as a number.
    pub fn get(self) -> u32 {
        u32::from(self.0)
    }
}

impl Default for Level {
    fn default() -> Self {
        Level(5)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
