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
//! | 6 | + LPC up to order 8, tukey(0.5), partial_tukey(2) | 0..=6 | by estimate |
//! | 7 | + LPC up to order 12, tukey(0.5), partial_tukey(2) | 0..=6 | by estimate |
//! | 8 | every fixed order; LPC up to order 12, tukey(0.5), partial_tukey(2), punchout_tukey(3), the two best estimated orders of each and two coefficient precisions | 0..=8 | every decorrelation tried |
//!
//! Every level also tries a constant subframe, verbatim samples and wasted
//! bits; a higher level never skips a predictor a lower one tries. Every
//! two-channel decorrelation is encoded in full only where that is cheap
//! (level 2, without LPC) or the smallest output is asked for (8); levels
//! 1 and 3–7 pick one by the fixed predictors' residuals. The
//! output stays inside the FLAC subset's limits on predictors (LPC order
//! at most 12, coefficient precision at most 15 bits, partition order at
//! most 8). A partition holds at least 16 samples, so a short block (a
//! short row, a stream's last block) may use fewer orders than the table's.

/// An apodization (window) applied before the autocorrelation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Window {
    /// A Tukey window with this fraction of cosine taper.
    Tukey(f64),
    /// `n` windows, each a Tukey window over its own `1/n` of the block.
    PartialTukey(u32),
    /// `n` windows, each the block with one `1/n` of it cut out.
    PunchoutTukey(u32),
}

/// The encoder's settings at one level.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Preset {
    /// Try every fixed order exactly (else the one the estimate picks).
    pub exhaustive_fixed: bool,
    /// Largest LPC order (0: no LPC).
    pub max_lpc_order: usize,
    /// Windows for LPC analysis.
    pub windows: &'static [Window],
    /// How many of the best estimated LPC orders are encoded per window.
    pub orders_tried: usize,
    /// Coefficient precisions tried: the default, and this many one bit
    /// smaller each.
    pub precision_steps: u32,
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

const TUKEY: &[Window] = &[Window::Tukey(0.5)];
const TUKEY_PARTIAL: &[Window] = &[Window::Tukey(0.5), Window::PartialTukey(2)];
const TUKEY_PARTIAL_PUNCHOUT: &[Window] = &[
    Window::Tukey(0.5),
    Window::PartialTukey(2),
    Window::PunchoutTukey(3),
];

impl Preset {
    /// The settings of `level` (0..=8; larger values read as 8).
    pub(super) fn of_level(level: u32) -> Preset {
        let base = Preset {
            exhaustive_fixed: false,
            max_lpc_order: 0,
            windows: &[],
            orders_tried: 1,
            precision_steps: 0,
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
                windows: TUKEY,
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
                windows: TUKEY_PARTIAL,
                max_partition_order: 6,
                ..Preset::of_level(5)
            },
            7 => Preset {
                max_lpc_order: 12,
                ..Preset::of_level(6)
            },
            _ => Preset {
                exhaustive_fixed: true,
                stereo: Stereo::Exhaustive,
                windows: TUKEY_PARTIAL_PUNCHOUT,
                orders_tried: 2,
                precision_steps: 1,
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
            assert!(higher.windows.len() >= lower.windows.len());
            assert!(higher.orders_tried >= lower.orders_tried);
            assert!(higher.max_partition_order >= lower.max_partition_order);
            assert!(higher.exhaustive_fixed >= lower.exhaustive_fixed);
            assert!(higher.max_lpc_order <= 12 && higher.max_partition_order <= 8);
        }
    }
}
