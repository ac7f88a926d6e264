//! One channel of one block: the cheapest of a constant, verbatim, fixed
//! or LPC subframe (with wasted bits taken out), then its bits.

use super::bits::BitWriter;
use super::predict::{self, MAX_LPC_ORDER};
use super::preset::Preset;
use super::rice::{self, RicePlan, RiceScratch};

/// How a subframe predicts its samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Constant,
    Verbatim,
    Fixed(usize),
    Lpc {
        order: usize,
        precision: u32,
        shift: u32,
    },
}

/// A chosen subframe: its kind, coefficients, residual plan and size.
#[derive(Debug, Clone)]
pub(super) struct Choice {
    kind: Kind,
    wasted: u32,
    coefs: [i32; MAX_LPC_ORDER],
    plan: RicePlan,
    residual: Vec<i64>,
    /// Estimated size in bits, header included (exact but for the
    /// residual's Rice codes).
    pub bits: u64,
}

impl Default for Choice {
    fn default() -> Self {
        Choice {
            kind: Kind::Verbatim,
            wasted: 0,
            coefs: [0; MAX_LPC_ORDER],
            plan: RicePlan::default(),
            residual: Vec::new(),
            bits: u64::MAX,
        }
    }
}

/// Per-thread buffers reused from block to block.
#[derive(Default)]
pub(super) struct Scratch {
    shifted: Vec<i64>,
    /// The shifted samples as 32-bit values (every channel fits).
    narrow: Vec<i32>,
    residual: Vec<i64>,
    windowed: Vec<f64>,
    rice: RiceScratch,
    plan: RicePlan,
    /// Windows made for blocks of a length at a level: the two most
    /// recent (a stream's full blocks and its last one).
    windows: [MadeWindows; 2],
}

/// Windows made for blocks of `key.0` samples at level `key.1`.
#[derive(Default)]
struct MadeWindows {
    key: Option<(usize, u32)>,
    /// The windows (the first `count`; the rest are spare buffers).
    values: Vec<Vec<f64>>,
    count: usize,
}

impl Scratch {
    /// The windows of `preset` for blocks of `n` samples at `level`.
    fn windows(&mut self, n: usize, level: u32, preset: &Preset) -> &[Vec<f64>] {
        let key = Some((n, level));
        if self.windows[0].key != key {
            self.windows.swap(0, 1);
            if self.windows[0].key != key {
                let made = &mut self.windows[0];
                let mut used = 0;
                for &kind in preset.windows {
                    used += predict::make_windows(kind, n, &mut made.values, used);
                }
                made.count = used;
                made.key = key;
            }
        }
        &self.windows[0].values[..self.windows[0].count]
    }
}

/// Bits of a subframe header with `wasted` wasted bits.
fn header_bits(wasted: u32) -> u64 {
    8 + u64::from(wasted)
}

/// Chooses the cheapest subframe for samples `x` of `bps` bits.
/// `fixed_sums` are `x`'s [`predict::fixed_order_sums`] if already known.
pub(super) fn choose(
    x: &[i64],
    bps: u32,
    preset: &Preset,
    level: u32,
    fixed_sums: Option<&[u64; 5]>,
    scratch: &mut Scratch,
    best: &mut Choice,
) {
    let n = x.len();
    best.kind = Kind::Verbatim;
    best.wasted = 0;
    // one pass: is the block constant, and which low bits are always zero
    let (or, differs) = x.iter().fold((0i64, 0i64), |(or, differs), &v| {
        (or | v, differs | (v ^ x[0]))
    });
    if differs == 0 {
        best.kind = Kind::Constant;
        best.bits = header_bits(0) + u64::from(bps);
        return;
    }
    best.bits = header_bits(0) + n as u64 * u64::from(bps);

    // wasted bits: low bits zero in every sample
    let wasted = or.trailing_zeros();
    let wasted = if wasted >= bps { 0 } else { wasted };
    let mut shifted = std::mem::take(&mut scratch.shifted);
    shifted.clear();
    if wasted > 0 {
        shifted.extend(x.iter().map(|&v| v >> wasted));
    }
    let sub_bps = bps - wasted;
    let xs = if wasted > 0 { &shifted[..] } else { x };

    // fixed predictors
    let max_fixed = 4.min(n.saturating_sub(1));
    let orders = if preset.exhaustive_fixed || n < 5 {
        0..=max_fixed
    } else {
        // on `x`, not `xs`: shifting out wasted bits divides every sum by
        // the same power of two, so the smallest is the same order
        let computed;
        let sums = match fixed_sums {
            Some(sums) => sums,
            None => {
                computed = predict::fixed_order_sums(x, bps);
                &computed
            }
        };
        let order = (0..=max_fixed).min_by_key(|&o| sums[o]).unwrap_or(0);
        order..=order
    };
    for order in orders {
        predict::fixed_residual(xs, order, &mut scratch.residual);
        let Some(residual_bits) = residual_cost(scratch, n, order, preset) else {
            continue;
        };
        let bits = header_bits(wasted) + order as u64 * u64::from(sub_bps) + residual_bits;
        if bits < best.bits {
            take(best, scratch, Kind::Fixed(order), wasted, &[], bits);
        }
    }

    // linear prediction
    let max_order = preset.max_lpc_order.min(n.saturating_sub(1));
    if max_order > 0 && n > MAX_LPC_ORDER {
        let mut narrow = std::mem::take(&mut scratch.narrow);
        narrow.clear();
        narrow.extend(xs.iter().map(|&v| v as i32));
        let base_precision = predict::default_precision(n, sub_bps);
        let mut coefs = [[0.0; MAX_LPC_ORDER]; MAX_LPC_ORDER];
        let mut errors = [0.0; MAX_LPC_ORDER];
        let count = scratch.windows(n, level, preset).len();
        for w in 0..count {
            let window = &scratch.windows[0].values[w];
            let r = predict::autocorrelation(&narrow, window, max_order, &mut scratch.windowed);
            let computed = predict::levinson(&r, max_order, &mut coefs, &mut errors);
            if computed == 0 {
                continue;
            }
            // the orders with the smallest estimated size
            let mut ranked = [(0.0f64, 0usize); MAX_LPC_ORDER];
            for order in 1..=computed {
                let e =
                    predict::estimated_bits(errors[order - 1], n, order, sub_bps, base_precision);
                ranked[order - 1] = (e, order);
            }
            let ranked = &mut ranked[..computed];
            ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
            for &(_, order) in ranked.iter().take(preset.orders_tried) {
                for step in 0..=preset.precision_steps {
                    let precision = base_precision.saturating_sub(step).max(5);
                    let mut q = [0i32; MAX_LPC_ORDER];
                    let lp = &coefs[order - 1][..order];
                    let Some(shift) = predict::quantize(lp, precision, &mut q[..order]) else {
                        continue;
                    };
                    predict::lpc_residual(&narrow, &q[..order], shift, &mut scratch.residual);
                    let Some(residual_bits) = residual_cost(scratch, n, order, preset) else {
                        continue;
                    };
                    let bits = header_bits(wasted)
                        + order as u64 * u64::from(sub_bps)
                        + 4
                        + 5
                        + order as u64 * u64::from(precision)
                        + residual_bits;
                    if bits < best.bits {
                        let kind = Kind::Lpc {
                            order,
                            precision,
                            shift,
                        };
                        take(best, scratch, kind, wasted, &q[..order], bits);
                    }
                }
            }
        }
        scratch.narrow = narrow;
    }
    scratch.shifted = shifted;
}

/// Plans the residual now in `scratch.residual`; its estimated bits, or
/// `None` when a residual falls outside 32 bits (the predictor is not
/// used).
fn residual_cost(scratch: &mut Scratch, n: usize, order: usize, preset: &Preset) -> Option<u64> {
    rice::plan(
        &scratch.residual,
        n,
        order,
        preset.max_partition_order,
        &mut scratch.rice,
        &mut scratch.plan,
    )
    .then_some(scratch.plan.bits)
}

fn take(
    best: &mut Choice,
    scratch: &mut Scratch,
    kind: Kind,
    wasted: u32,
    coefs: &[i32],
    bits: u64,
) {
    best.kind = kind;
    best.wasted = wasted;
    best.coefs[..coefs.len()].copy_from_slice(coefs);
    // swapped, not copied: the buffers change hands (once every one has
    // grown to a block's size, nothing is allocated)
    std::mem::swap(&mut best.plan, &mut scratch.plan);
    std::mem::swap(&mut best.residual, &mut scratch.residual);
    best.bits = bits;
}

/// Writes the subframe `choice` made for samples `x` of `bps` bits.
pub(super) fn write(w: &mut BitWriter<'_>, x: &[i64], bps: u32, choice: &Choice) {
    let n = x.len();
    let wasted = choice.wasted;
    let type_bits: u64 = match choice.kind {
        Kind::Constant => 0,
        Kind::Verbatim => 1,
        Kind::Fixed(order) => 8 | order as u64,
        Kind::Lpc { order, .. } => 32 | (order as u64 - 1),
    };
    w.put((type_bits << 1) | u64::from(wasted > 0), 8);
    if wasted > 0 {
        w.put_unary(u64::from(wasted - 1));
    }
    let sub_bps = bps - wasted;
    let warm_up = |w: &mut BitWriter<'_>, order: usize| {
        for &v in &x[..order] {
            w.put_signed(v >> wasted, sub_bps);
        }
    };
    match choice.kind {
        Kind::Constant => w.put_signed(x[0], bps),
        Kind::Verbatim => {
            for &v in x {
                w.put_signed(v, bps);
            }
        }
        Kind::Fixed(order) => {
            warm_up(w, order);
            rice::write(w, &choice.residual, n, order, &choice.plan);
        }
        Kind::Lpc {
            order,
            precision,
            shift,
        } => {
            warm_up(w, order);
            w.put(u64::from(precision - 1), 4);
            w.put(u64::from(shift), 5);
            for &c in &choice.coefs[..order] {
                w.put_signed(i64::from(c), precision);
            }
            rice::write(w, &choice.residual, n, order, &choice.plan);
        }
    }
}
