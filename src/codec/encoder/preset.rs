//! What each compression level does: the one table of encoder settings.
//!
//! | level | predictors | residual partitions | two channels |
//! |---|---|---|---|
//! | 0 | fixed, order by estimate | orders 0..=3 | independent |
//! | 1 | fixed, order by estimate | 0..=4 | the best decorrelation by estimate |
//! | 2 | fixed, order by estimate | 0..=4 | every decorrelation tried |
//! | 3 | + LPC up to order 6, tukey(0.5) | 0..=4 | by estimate |
//! | 4 | + LPC up to order 8, tukey(0.5) | 0..=4 | by estimate |
//! | 5 | + LPC up to order 8, tukey(0.5) | 0..=5 | by estimate |
//! | 6 | + LPC up to order 8, tukey(0.5) | 0..=6 | by estimate |
//! | 7 | + LPC up to order 12, tukey(0.5) | 0..=6 | by estimate |
//! | 8 | + LPC up to order 12, tukey(0.5) | 0..=8 | by estimate |
//!
//! Every level also tries a constant subframe, verbatim samples and wasted
//! bits. A level with LPC encodes the fixed order and the one linear
//! predictor its estimates prefer: the order of the smallest estimated
//! size (from the windowed prediction error), its coefficients at the
//! precision that estimate prefers ([`super::predict::precision_for`]).
//! A higher level never skips a predictor a lower one tries. Every
//! two-channel decorrelation is encoded in full only where that is cheap
//! (level 2, without LPC); levels 1 and 3–8 pick one by the fixed
//! predictors' residuals. The output stays inside the FLAC subset's limits
//! on predictors (LPC order at most 12, coefficient precision at most 15
//! bits, partition order at most 8). A partition holds at least 16
//! samples, so a short block (a short row, a stream's last block) may use
//! fewer orders than the table's.

/// The encoder's settings at one level.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Preset {
    /// Largest LPC order (0: no LPC).
    pub max_lpc_order: usize,
    /// Largest residual partition order.
    pub max_partition_order: u32,
    /// Two-channel decorrelation: none, by estimate, or every kind encoded.
    pub stereo: Stereo,
}

/// How a two-channel stream chooses its channel assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stereo {
    Independent,
    Estimate,
    Exhaustive,
}

impl Preset {
    /// The settings of `level` (0..=8; larger values read as 8).
    pub(super) fn of_level(level: u32) -> Preset {
        let base = Preset {
            max_lpc_order: 0,
            max_partition_order: 3,
            stereo: Stereo::Independent,
        };
        match level {
            0 => base,
            1 => Preset {
                max_partition_order: 4,
                stereo: Stereo::Estimate,
                ..base
            },
            2 => Preset {
                stereo: Stereo::Exhaustive,
                ..Preset::of_level(1)
            },
            3 => Preset {
                max_lpc_order: 6,
                ..Preset::of_level(1)
            },
            4 => Preset {
                max_lpc_order: 8,
                ..Preset::of_level(3)
            },
            5 => Preset {
                max_partition_order: 5,
                ..Preset::of_level(4)
            },
            6 => Preset {
                max_partition_order: 6,
                ..Preset::of_level(5)
            },
            7 => Preset {
                max_lpc_order: 12,
                ..Preset::of_level(6)
            },
            _ => Preset {
                max_partition_order: 8,
                ..Preset::of_level(7)
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_levels_never_try_less() {
        for level in 1..=8 {
            let (lower, higher) = (Preset::of_level(level - 1), Preset::of_level(level));
            assert!(higher.max_lpc_order >= lower.max_lpc_order);
            assert!(higher.max_partition_order >= lower.max_partition_order);
            assert!(higher.max_lpc_order <= 12 && higher.max_partition_order <= 8);
        }
    }
}
