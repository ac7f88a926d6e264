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
    /// Windows made for blocks of a length: the two most recent (a
    /// stream's full blocks and its last one).
    windows: [(usize, Vec<f64>); 2],
}

impl Scratch {
    /// Makes `windows[0]` the window for blocks of `n` samples.
    /// (`n` is never 0: blocks with LPC are longer than its order.)
    fn prepare_window(&mut self, n: usize) {
        if self.windows[0].0 != n {
            self.windows.swap(0, 1);
            if self.windows[0].0 != n {
                self.windows[0].0 = n;
                predict::make_window(n, &mut self.windows[0].1);
            }
        }
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
    let orders = if n < 5 {
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
        let max_precision = predict::max_precision(n, sub_bps);
        let mut coefs = [[0.0; MAX_LPC_ORDER]; MAX_LPC_ORDER];
        let mut errors = [0.0; MAX_LPC_ORDER];
        scratch.prepare_window(n);
        let window = &scratch.windows[0].1;
        let r = predict::autocorrelation(&narrow, window, max_order, &mut scratch.windowed);
        let computed = predict::levinson(&r, max_order, &mut coefs, &mut errors);
        // the order of the smallest estimated size, with the precision its
        // estimate prefers: only its residual is computed
        let block = predict::BlockTerms::new(n, &r);
        let mut pick: Option<(f64, usize, u32)> = None;
        for order in 1..=computed {
            let log2_error = predict::log2_error(errors[order - 1]);
            let lp = &coefs[order - 1][..order];
            let precision = predict::precision_for(lp, &block, log2_error, max_precision);
            let estimate = predict::estimated_bits(&block, log2_error, order, sub_bps, precision);
            if pick.is_none_or(|(best, ..)| estimate < best) {
                pick = Some((estimate, order, precision));
            }
        }
        // no order predicts better than no prediction at all (noise): the
        // fixed predictors have it already
        let plain = predict::estimated_bits(&block, predict::log2_error(r[0]), 0, sub_bps, 0);
        if let Some((_, order, precision)) = pick.filter(|&(estimate, ..)| estimate < plain) {
            let lp = &coefs[order - 1];
            let mut q = [0i32; MAX_LPC_ORDER];
            if let Some(shift) = predict::quantize(&lp[..order], precision, &mut q[..order]) {
                predict::lpc_residual(&narrow, &q[..order], shift, &mut scratch.residual);
                if let Some(residual_bits) = residual_cost(scratch, n, order, preset) {
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
