//! Residual coding: Rice partitions, their order and parameters chosen by
//! estimated cost, escape codes for partitions Rice cannot hold well.

use super::bits::BitWriter;

/// The chosen coding of one subframe's residuals.
#[derive(Debug, Default, Clone)]
pub(super) struct RicePlan {
    /// Partition order (2^order partitions).
    pub order: u32,
    /// Per partition: a Rice parameter, or `ESCAPE | raw bits`.
    pub params: Vec<u32>,
    /// Estimated bits, the 6-bit method/order header included.
    pub bits: u64,
}

/// Largest partition order of the format's 4-bit field used (the subset's).
const MAX_PARTITION_ORDER: u32 = 8;

/// Marks an escaped partition in [`RicePlan::params`].
const ESCAPE: u32 = 1 << 16;
/// Largest Rice parameter of the 5-bit (Rice2) method (31 is the escape).
const MAX_PARAM: u32 = 30;
/// Fewest samples a partition holds (the first one's warm-up included):
/// a finer partition's 4–5 parameter bits rarely pay for themselves, and
/// costing the many partitions of a short block's fine orders made the
/// search most of a short row's encoding time. Blocks of 4096 keep every
/// order up to 8.
const MIN_PARTITION: usize = 16;

#[inline(always)]
pub(super) fn fold(r: i64) -> u64 {
    ((r << 1) ^ (r >> 63)) as u64
}

/// Scratch for the search: per-partition sums and bitwise ORs (whose
/// width is the largest value's) of every order, the finest first, and
/// the parameters of the order being costed.
#[derive(Default)]
pub(super) struct RiceScratch {
    sums: Vec<u64>,
    ors: Vec<u64>,
    params: Vec<u32>,
}

/// Chooses the partition order (at most `max_order`, fitting the block)
/// and each partition's parameter for `residual` (the samples after the
/// `predictor_order` warm-up of a block of `block` samples). `false` when
/// a residual falls outside 32 bits (the format's limit: the predictor
/// cannot be used; `out` is then not a plan).
pub(super) fn plan(
    residual: &[i64],
    block: usize,
    predictor_order: usize,
    max_order: u32,
    scratch: &mut RiceScratch,
    out: &mut RicePlan,
) -> bool {
    // the finest order the block allows: partitions of equal size, of at
    // least `MIN_PARTITION` samples, the first still longer than the warm-up
    let mut finest = 0;
    while finest < max_order
        && block.is_multiple_of(1 << (finest + 1))
        && (block >> (finest + 1)) > predictor_order
        && (block >> (finest + 1)) >= MIN_PARTITION
    {
        finest += 1;
    }
    let size = block >> finest;
    finest_sums(residual, size - predictor_order, size, scratch);
    // the coarser orders' sums and ORs after the finest's: each
    // partition merges two neighbours of the next finer order
    let mut first_of = [0usize; 16];
    for order in (0..finest).rev() {
        let finer = first_of[order as usize + 1];
        first_of[order as usize] = scratch.sums.len();
        for p in 0..1usize << order {
            let (a, b) = (finer + 2 * p, finer + 2 * p + 1);
            scratch.sums.push(scratch.sums[a] + scratch.sums[b]);
            scratch.ors.push(scratch.ors[a] | scratch.ors[b]);
        }
    }
    // every folded value below 2^32: every residual a 32-bit value
    if scratch.ors[first_of[0]] >> 32 != 0 {
        return false;
    }
    // Coarse to fine, an order given up as soon as its bits so far exceed
    // the best: the cheapest order wins, the finest of equally cheap ones
    // (short blocks are usually cheapest coarse, so the many partitions of
    // the fine orders are rarely all costed).
    out.bits = u64::MAX;
    'orders: for order in 0..=finest {
        let first = first_of[order as usize];
        let size = (block >> order) as u64;
        let mut bits = 6u64;
        scratch.params.clear();
        // room for the most partitions in every vector that changes hands
        // with the plans, so none grows once each has been used
        scratch.params.reserve(1 << MAX_PARTITION_ORDER);
        for p in 0..1usize << order {
            let count = if p == 0 {
                size - predictor_order as u64
            } else {
                size
            };
            let (cost, param) =
                partition_cost(scratch.sums[first + p], scratch.ors[first + p], count);
            bits += cost;
            if bits > out.bits {
                break 'orders;
            }
            scratch.params.push(param);
        }
        out.bits = bits;
        out.order = order;
        std::mem::swap(&mut out.params, &mut scratch.params);
    }
    true
}

vectorized! {
    /// The sums and bitwise ORs of the folded residuals of every partition
    /// (the first `first` values long, the others `size`) into `scratch`,
    /// in one call: partitions may be as short as 16 values.
    fn finest_sums(residual: &[i64], first: usize, size: usize, scratch: &mut RiceScratch) -> () = finest_sums_body;
}

#[inline(always)]
fn finest_sums_body(residual: &[i64], first: usize, size: usize, scratch: &mut RiceScratch) {
    scratch.sums.clear();
    scratch.ors.clear();
    let (head, rest) = residual.split_at(first.min(residual.len()));
    for part in std::iter::once(head).chain(rest.chunks(size.max(1))) {
        let (sum, or) = sum_and_or(part);
        scratch.sums.push(sum);
        scratch.ors.push(or);
    }
}

/// The sum and the bitwise OR of the folded values of `residual`.
#[inline(always)]
fn sum_and_or(residual: &[i64]) -> (u64, u64) {
    let mut sums = [0u64; 4];
    let mut ors = [0u64; 4];
    let chunks = residual.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            let u = fold(c[k]);
            sums[k] += u;
            ors[k] |= u;
        }
    }
    for &r in rest {
        sums[0] += fold(r);
        ors[0] |= fold(r);
    }
    (sums.iter().sum(), ors.iter().fold(0, |a, &b| a | b))
}

/// Estimated bits of one partition (parameter field included) and its
/// parameter (or `ESCAPE | raw bits`).
fn partition_cost(sum: u64, or: u64, count: u64) -> (u64, u32) {
    if count == 0 {
        return (5, 0);
    }
    // the parameter near log2 of the mean folded value (partitions of a
    // power-of-two block hold a power of two of values, but the first: a
    // shift then, not a division, on this hot path)
    let mean = if count.is_power_of_two() {
        sum >> count.trailing_zeros()
    } else {
        sum / count
    };
    let guess = if mean == 0 {
        0
    } else {
        63 - mean.leading_zeros()
    };
    let mut best = (u64::MAX, 0);
    for k in guess.saturating_sub(1)..=(guess + 1).min(MAX_PARAM) {
        // every code: k low bits, a stop bit, and the quotient in zeros
        let quotients = if k == 0 {
            sum
        } else {
            (sum >> k).saturating_sub(count / 2).max(sum >> (k + 1))
        };
        let bits = 5 + count * (u64::from(k) + 1) + quotients;
        if bits < best.0 {
            best = (bits, k);
        }
    }
    // escaped: every value in raw two's complement
    let raw = if or == 0 { 1 } else { 64 - or.leading_zeros() };
    let escaped = 5 + 5 + count * u64::from(raw);
    if raw <= 31 && escaped < best.0 {
        best = (escaped, ESCAPE | raw);
    }
    best
}

/// Writes `residual` with `plan` (the method, order and partitions).
pub(super) fn write(
    w: &mut BitWriter<'_>,
    residual: &[i64],
    block: usize,
    predictor_order: usize,
    plan: &RicePlan,
) {
    let wide = plan.params.iter().any(|&p| p & ESCAPE == 0 && p > 14);
    let (method, param_bits) = if wide { (1, 5) } else { (0, 4) };
    w.put(method, 2);
    w.put(u64::from(plan.order), 4);
    let size = block >> plan.order;
    let mut start = 0;
    for (p, &param) in plan.params.iter().enumerate() {
        let count = if p == 0 { size - predictor_order } else { size };
        let slice = &residual[start..start + count];
        if param & ESCAPE != 0 {
            let raw = param & !ESCAPE;
            w.put((1 << param_bits) - 1, param_bits);
            w.put(u64::from(raw), 5);
            for &r in slice {
                w.put_signed(r, raw);
            }
        } else {
            w.put(u64::from(param), param_bits);
            w.put_rice_codes(slice, param);
        }
        start += count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_fit_the_block_and_warm_up() {
        let residual = vec![3i64; 4096 - 8];
        let mut out = RicePlan::default();
        plan(&residual, 4096, 8, 8, &mut RiceScratch::default(), &mut out);
        assert!(4096 >> out.order > 8);
        assert_eq!(out.params.len(), 1 << out.order);
        // an odd block allows only one partition
        let residual = vec![1i64; 4095 - 2];
        plan(&residual, 4095, 2, 8, &mut RiceScratch::default(), &mut out);
        assert_eq!(out.order, 0);
        // a short block's partitions keep at least 16 samples, even where
        // finer ones would be cheaper (values that change every 4 samples)
        let residual: Vec<i64> = (0..64)
            .map(|i| if i / 4 % 2 == 0 { 0 } else { 9_999 })
            .collect();
        plan(&residual, 64, 0, 8, &mut RiceScratch::default(), &mut out);
        assert!(out.order <= 2, "order {}", out.order);
    }

    #[test]
    fn residuals_beyond_32_bits_are_refused() {
        let mut out = RicePlan::default();
        let scratch = &mut RiceScratch::default();
        for (residual, fits) in [
            (vec![i64::from(i32::MIN), i64::from(i32::MAX)], true),
            (vec![0, i64::from(i32::MAX) + 1], false),
            (vec![i64::from(i32::MIN) - 1, 0], false),
        ] {
            let mut block = vec![1i64; 62];
            block.extend(residual);
            assert_eq!(plan(&block, 64, 0, 2, scratch, &mut out), fits);
            assert_eq!(plan(&block, 64, 0, 0, scratch, &mut out), fits);
        }
    }

    #[test]
    fn large_values_escape_or_use_wide_parameters() {
        let (min, max) = (i64::from(i32::MIN), i64::from(i32::MAX));
        let residual: Vec<i64> = (0..64)
            .map(|i| if i % 2 == 0 { max } else { min })
            .collect();
        let mut out = RicePlan::default();
        plan(&residual, 64, 0, 0, &mut RiceScratch::default(), &mut out);
        // 32-bit values cannot escape (5-bit width): the widest parameter
        assert!(
            out.params[0] & ESCAPE == 0 && out.params[0] >= 29,
            "{:?}",
            out.params
        );
        let residual: Vec<i64> = (0..64).map(|i| if i % 2 == 0 { 9 } else { -7 }).collect();
        plan(&residual, 64, 0, 0, &mut RiceScratch::default(), &mut out);
        assert_eq!(out.params, vec![ESCAPE | 5]);
    }
}
