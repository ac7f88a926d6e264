//! Predictors: FLAC's fixed polynomials, and linear prediction from a
//! windowed autocorrelation (Levinson-Durbin), its coefficients quantized
//! as the format stores them.

/// Largest LPC order the encoder uses (the FLAC subset's limit).
pub(super) const MAX_LPC_ORDER: usize = 12;
/// Largest coefficient precision in bits (the format's 4-bit field).
pub(super) const MAX_PRECISION: u32 = 15;
/// Largest coefficient shift (the format's 5-bit signed field; negative
/// shifts are not written).
const MAX_SHIFT: i32 = 15;

vectorized! {
    /// Residuals of the fixed predictor of `order` (0..=4) for samples
    /// `order..`, into `out` (`x.len() - order` values; whether they fit
    /// the format's 32 bits, [`super::rice::plan`] tells).
    fn fixed_residual(x: &[i64], order: usize, out: &mut Vec<i64>) -> () = fixed_residual_body;
}

#[inline(always)]
fn fixed_residual_body(x: &[i64], order: usize, out: &mut Vec<i64>) {
    out.clear();
    let n = x.len();
    match order {
        0 => out.extend_from_slice(x),
        1 => out.extend((1..n).map(|i| x[i] - x[i - 1])),
        2 => out.extend((2..n).map(|i| x[i] - 2 * x[i - 1] + x[i - 2])),
        3 => out.extend((3..n).map(|i| x[i] - 3 * x[i - 1] + 3 * x[i - 2] - x[i - 3])),
        _ => {
            out.extend((4..n).map(|i| x[i] - 4 * x[i - 1] + 6 * x[i - 2] - 4 * x[i - 3] + x[i - 4]))
        }
    }
}

/// Sums of |residual| of the fixed orders 0..=4 over samples 4.. (or
/// zeros for blocks shorter than 5): the estimate that picks an order.
/// `bps` bounds the samples (|x| < 2^(bps-1)).
pub(super) fn fixed_order_sums(x: &[i64], bps: u32) -> [u64; 5] {
    if x.len() < 5 {
        return [0; 5];
    }
    // |e4| < 2^(bps+3); if n of them cannot reach 2^32, 32-bit lanes
    // hold every difference and sum exactly
    let log_n = usize::BITS - (x.len() - 1).leading_zeros();
    if bps + 3 + log_n <= 32 {
        fixed_order_sums_narrow(x)
    } else {
        fixed_order_sums_wide(x)
    }
}

vectorized! {
    /// [`fixed_order_sums`] in 32-bit lanes (see there for when exact).
    fn fixed_order_sums_narrow(x: &[i64]) -> [u64; 5] = narrow_sums_body;
}

vectorized! {
    /// [`fixed_order_sums`] in 64-bit lanes.
    fn fixed_order_sums_wide(x: &[i64]) -> [u64; 5] = wide_sums_body;
}

/// The differences of orders 1..=4 at `v`, given the four samples before
/// it (`a` the oldest).
macro_rules! differences {
    ($sub:ident, $a:expr, $b:expr, $c:expr, $d:expr, $v:expr) => {{
        let (d1_v, d1_d, d1_c, d1_b) = ($v.$sub($d), $d.$sub($c), $c.$sub($b), $b.$sub($a));
        let (d2_v, d2_d, d2_c) = (d1_v.$sub(d1_d), d1_d.$sub(d1_c), d1_c.$sub(d1_b));
        let (d3_v, d3_d) = (d2_v.$sub(d2_d), d2_d.$sub(d2_c));
        (d1_v, d2_v, d3_v, d3_v.$sub(d3_d))
    }};
}

#[inline(always)]
fn narrow_sums_body(x: &[i64]) -> [u64; 5] {
    // a piece at a time: its samples narrowed to 32 bits once, on the
    // stack, then the differences taken from five overlapping views of
    // them (narrowing each view instead cost five conversions a sample)
    const PIECE: usize = 256;
    let mut words = [0i32; PIECE + 4];
    let mut sums = [0u32; 5];
    let mut start = 0;
    while start + 4 < x.len() {
        let end = x.len().min(start + PIECE + 4);
        let piece = &mut words[..end - start];
        for (w, &v) in piece.iter_mut().zip(&x[start..end]) {
            *w = v as i32;
        }
        let n = piece.len() - 4;
        let (x0, x1, x2, x3, x4) = (
            &piece[..n],
            &piece[1..n + 1],
            &piece[2..n + 2],
            &piece[3..n + 3],
            &piece[4..],
        );
        for i in 0..n {
            let (e1, e2, e3, e4) = differences!(wrapping_sub, x0[i], x1[i], x2[i], x3[i], x4[i]);
            sums[0] = sums[0].wrapping_add(x4[i].unsigned_abs());
            sums[1] = sums[1].wrapping_add(e1.unsigned_abs());
            sums[2] = sums[2].wrapping_add(e2.unsigned_abs());
            sums[3] = sums[3].wrapping_add(e3.unsigned_abs());
            sums[4] = sums[4].wrapping_add(e4.unsigned_abs());
        }
        start += n;
    }
    sums.map(u64::from)
}

#[inline(always)]
fn wide_sums_body(x: &[i64]) -> [u64; 5] {
    let n = x.len() - 4;
    let (x0, x1, x2, x3, x4) = (&x[..n], &x[1..n + 1], &x[2..n + 2], &x[3..n + 3], &x[4..]);
    let mut sums = [0u64; 5];
    for i in 0..n {
        let (e1, e2, e3, e4) = differences!(wrapping_sub, x0[i], x1[i], x2[i], x3[i], x4[i]);
        sums[0] += x4[i].unsigned_abs();
        sums[1] += e1.unsigned_abs();
        sums[2] += e2.unsigned_abs();
        sums[3] += e3.unsigned_abs();
        sums[4] += e4.unsigned_abs();
    }
    sums
}

/// The window applied before the autocorrelation, for blocks of `n`
/// samples, into `out`: a Tukey window, cosine tapers over a quarter of
/// the block at each end.
pub(super) fn make_window(n: usize, out: &mut Vec<f64>) {
    let taper = n / 4;
    out.clear();
    out.extend((0..n).map(|i| {
        let edge = i.min(n - 1 - i);
        if edge < taper {
            0.5 - 0.5 * (std::f64::consts::PI * edge as f64 / taper as f64).cos()
        } else {
            1.0
        }
    }));
}

vectorized! {
    /// Autocorrelation of `x * window` at lags `0..=max_lag`.
    fn autocorrelation(
        x: &[i32],
        window: &[f64],
        max_lag: usize,
        scratch: &mut Vec<f64>
    ) -> [f64; MAX_LPC_ORDER + 1] = autocorrelation_body;
}

#[inline(always)]
fn autocorrelation_body(
    x: &[i32],
    window: &[f64],
    max_lag: usize,
    scratch: &mut Vec<f64>,
) -> [f64; MAX_LPC_ORDER + 1] {
    scratch.clear();
    scratch.extend(x.iter().zip(window).map(|(&v, &w)| f64::from(v) * w));
    let y = &scratch[..];
    let mut r = [0.0; MAX_LPC_ORDER + 1];
    for (lag, slot) in r.iter_mut().enumerate().take(max_lag + 1) {
        if lag >= y.len() {
            break;
        }
        *slot = dot(&y[lag..], &y[..y.len() - lag]);
    }
    r
}

/// The dot product of two equally long slices, in sixteen independent
/// partial sums: four vectors of four, so that additions do not wait on
/// each other. The order of the additions is fixed, so every machine gets
/// the same value.
#[inline(always)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    const LANES: usize = 16;
    let mut lanes = [0.0f64; LANES];
    let (a16, b16) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (a16.remainder(), b16.remainder());
    for (ca, cb) in a16.zip(b16) {
        for k in 0..LANES {
            lanes[k] += ca[k] * cb[k];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f64>() + tail
}

/// Levinson-Durbin: the predictor coefficients of every order 1..=`max`
/// (`coefs[k][..=k]` for order k+1) and each order's residual energy.
/// Returns how many orders it computed (fewer when the signal is exactly
/// predictable sooner or the autocorrelation is zero).
pub(super) fn levinson(
    r: &[f64; MAX_LPC_ORDER + 1],
    max: usize,
    coefs: &mut [[f64; MAX_LPC_ORDER]; MAX_LPC_ORDER],
    errors: &mut [f64; MAX_LPC_ORDER],
) -> usize {
    if r[0] <= 0.0 || !r[0].is_finite() {
        return 0;
    }
    let mut lpc = [0.0f64; MAX_LPC_ORDER];
    let mut err = r[0];
    for i in 0..max {
        let mut acc = -r[i + 1];
        for j in 0..i {
            acc -= lpc[j] * r[i - j];
        }
        let k = acc / err;
        if !k.is_finite() {
            return i;
        }
        // in place, a pair at a time: each new value from the two old
        // ones (a copy of the whole array, written a value at a time and
        // read back as vectors, stalled on store forwarding)
        for j in 0..i / 2 {
            let (a, b) = (lpc[j], lpc[i - 1 - j]);
            lpc[j] = a + k * b;
            lpc[i - 1 - j] = b + k * a;
        }
        if i % 2 == 1 {
            let m = i / 2;
            lpc[m] += k * lpc[m];
        }
        lpc[i] = k;
        err *= 1.0 - k * k;
        // FLAC predicts x[t] = sum(c_j x[t-1-j]): the negated coefficients
        for j in 0..=i {
            coefs[i][j] = -lpc[j];
        }
        errors[i] = err;
        if err <= 0.0 {
            return i + 1;
        }
    }
    max
}

/// What [`estimated_bits`] and [`precision_for`] need of a block of `n`
/// samples with windowed autocorrelation `r`, worked out once for all of
/// its orders: every order then takes one logarithm, of its error.
#[derive(Debug, Clone, Copy)]
pub(super) struct BlockTerms {
    n: usize,
    /// log2 of 2n: the per-sample energy of an error is `error / n`, and
    /// a Laplacian's bits are half the log2 of half that.
    log2_twice_n: f64,
    /// log2 of `n · 2 (r[0] - r[1]) / 12` (see [`precision_for`]): -inf
    /// when the differences have no energy (the least precision), NaN when
    /// rounding made it negative (the most).
    log2_rounding: f64,
}

impl BlockTerms {
    pub(super) fn new(n: usize, r: &[f64; MAX_LPC_ORDER + 1]) -> Self {
        let differences = 2.0 * (r[0] - r[1]);
        BlockTerms {
            n,
            log2_twice_n: (n as f64 * 2.0).log2(),
            log2_rounding: (n as f64 * differences / 12.0).log2(),
        }
    }
}

/// log2 of a prediction error, as [`estimated_bits`] and [`precision_for`]
/// take it (-inf for no error).
pub(super) fn log2_error(error: f64) -> f64 {
    if error > 0.0 {
        error.log2()
    } else {
        f64::NEG_INFINITY
    }
}

/// Expected bits of an order's residuals plus its warm-up samples and
/// coefficients, from the log2 of its residual energy (a Laplacian
/// estimate).
pub(super) fn estimated_bits(
    block: &BlockTerms,
    log2_error: f64,
    order: usize,
    bps: u32,
    precision: u32,
) -> f64 {
    let per_sample = if log2_error.is_finite() && block.n > 0 {
        (0.5 * (log2_error - block.log2_twice_n)).max(0.0)
    } else {
        0.0
    };
    per_sample * (block.n - order) as f64 + (order as u32 * (bps + precision)) as f64
}

/// floor(log2(x)) of a positive finite `x`, from its binary exponent.
fn exponent(x: f64) -> i32 {
    let biased = ((x.to_bits() >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // subnormal: no implicit leading bit
        x.log2().floor() as i32
    } else {
        biased - 1023
    }
}

/// Fewest bits of coefficient precision used (libFLAC's lower limit too).
pub(super) const MIN_PRECISION: u32 = 5;

/// The largest coefficient precision for blocks of `n` samples of `bps`
/// bits (libFLAC's choice for 16 bits and below, two bits more above).
pub(super) fn max_precision(n: usize, bps: u32) -> u32 {
    let by_length = match n {
        0..=192 => 7,
        193..=384 => 8,
        385..=576 => 9,
        577..=1152 => 10,
        1153..=2304 => 11,
        2305..=4608 => 12,
        _ => 13,
    };
    if bps < 16 {
        by_length.min(2 + bps / 2).max(MIN_PRECISION)
    } else if bps > 16 {
        (by_length + 2).min(MAX_PRECISION)
    } else {
        by_length
    }
}

/// The coefficient precision (at most `max`) that makes the subframe
/// smallest by estimate, for coefficients `lp` fitted to `block` with a
/// prediction error of log2 `log2_error`.
///
/// Every bit of precision costs a bit per coefficient and quarters the
/// rounding error's share of the residual. [`quantize`] carries each
/// coefficient's rounding error into the next, so the errors of
/// neighbouring coefficients nearly cancel and what they add to a residual
/// scales with the signal's first differences (energy about
/// `2 (r[0] - r[1])`), not with the signal (whose offset or slow swing may
/// be far larger). The size is smallest where the added error is about
/// `order / n` of the prediction error, which gives
/// `p = 1 + e + log2(n · 2 (r[0] - r[1]) / (12 · error)) / 2`, `e` being
/// the bits of the largest coefficient's integer part.
pub(super) fn precision_for(lp: &[f64], block: &BlockTerms, log2_error: f64, max: u32) -> u32 {
    let cmax = lp.iter().fold(0.0f64, |m, c| m.max(c.abs()));
    if !(cmax > 0.0 && cmax.is_finite() && log2_error.is_finite()) {
        return max;
    }
    let e = f64::from(exponent(cmax) + 1);
    let p = 1.0 + e + 0.5 * (block.log2_rounding - log2_error);
    if p.is_nan() {
        return max;
    }
    p.round().clamp(f64::from(MIN_PRECISION), f64::from(max)) as u32
}

/// Quantizes `lp` to `precision` bits with a common shift, carrying each
/// rounding error into the next coefficient. `None` when the coefficients
/// are all zero or too large for a non-negative shift.
pub(super) fn quantize(lp: &[f64], precision: u32, q: &mut [i32]) -> Option<u32> {
    let cmax = lp.iter().fold(0.0f64, |m, c| m.max(c.abs()));
    if cmax <= 0.0 || !cmax.is_finite() {
        return None;
    }
    let magnitude = precision as i32 - 1;
    let (qmin, qmax) = (-(1i64 << magnitude), (1i64 << magnitude) - 1);
    // cmax = m * 2^e with 0.5 <= m < 1: the largest coefficient needs e bits
    let e = exponent(cmax) + 1;
    let shift = (magnitude - e).min(MAX_SHIFT);
    if shift < 0 {
        return None;
    }
    let scale = (1u64 << shift) as f64;
    let mut carry = 0.0;
    for (slot, &c) in q.iter_mut().zip(lp) {
        carry += c * scale;
        let v = (carry.round() as i64).clamp(qmin, qmax);
        carry -= v as f64;
        *slot = v as i32;
    }
    Some(shift as u32)
}

vectorized! {
    /// Residuals of the quantized predictor (`q`, `shift`) for samples
    /// `q.len()..` of `x` (samples of at most 32 bits), into `out` (whether
    /// they fit the format's 32 bits, [`super::rice::plan`] tells).
    fn lpc_residual(x: &[i32], q: &[i32], shift: u32, out: &mut Vec<i64>) -> () = lpc_residual_body;
}

#[inline(always)]
fn lpc_residual_body(x: &[i32], q: &[i32], shift: u32, out: &mut Vec<i64>) {
    let order = q.len();
    let m = x.len().saturating_sub(order);
    out.clear();
    out.resize(m, 0);
    // when no sum can leave 32 bits (the coefficients' magnitudes times the
    // largest sample), it runs in 32-bit lanes: twice as many per vector
    let peak = x.iter().fold(0u32, |p, &v| p.max(v.unsigned_abs()));
    let weight: u64 = q.iter().map(|&c| u64::from(c.unsigned_abs())).sum();
    if weight * u64::from(peak) < 1 << 31 {
        residual_tiles(x, q, shift, out);
        return;
    }
    // coefficient j applies to the sample j + 1 back; summed one
    // coefficient at a time over the whole block, the products (32 x 32
    // bits into 64) run in vector lanes
    for (j, &c) in q.iter().enumerate() {
        let c = i64::from(c);
        let history = &x[order - 1 - j..order - 1 - j + m];
        for (acc, &v) in out.iter_mut().zip(history) {
            *acc += c * i64::from(v);
        }
    }
    for (r, &v) in out.iter_mut().zip(&x[order..]) {
        *r = i64::from(v) - (*r >> shift);
    }
}

/// `lpc_residual` where no partial sum leaves 32 bits, in tiles of
/// [`TILE`] residuals whose sums stay in registers while every
/// coefficient is applied.
#[inline(always)]
fn residual_tiles(x: &[i32], q: &[i32], shift: u32, out: &mut [i64]) {
    let order = q.len();
    let tiles = out.len() / TILE;
    for t in 0..tiles {
        let first = t * TILE;
        let mut acc = [0i32; TILE];
        for (j, &c) in q.iter().enumerate() {
            // coefficient j applies to the sample j + 1 back
            let history = &x[first + order - 1 - j..][..TILE];
            for (a, &v) in acc.iter_mut().zip(history) {
                // cannot overflow: the caller bounds every partial sum
                *a = a.wrapping_add(c.wrapping_mul(v));
            }
        }
        let current = &x[first + order..][..TILE];
        for ((r, a), &v) in out[first..][..TILE].iter_mut().zip(acc).zip(current) {
            *r = i64::from(v) - i64::from(a >> shift);
        }
    }
    for i in tiles * TILE..out.len() {
        let sum: i64 = q
            .iter()
            .enumerate()
            .map(|(j, &c)| i64::from(c) * i64::from(x[i + order - 1 - j]))
            .sum();
        out[i] = i64::from(x[i + order]) - (sum >> shift);
    }
}

/// Residuals computed together, their sums kept in vector registers.
const TILE: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_orders_remove_polynomials() {
        let x: Vec<i64> = (0..50).map(|t| 3 * t * t - 7 * t + 11).collect();
        let mut out = Vec::new();
        fixed_residual(&x, 3, &mut out);
        assert!(out.iter().all(|&r| r == 0));
        fixed_residual(&x, 2, &mut out);
        assert!(out.iter().all(|&r| r == 6));
        for bps in [14, 33] {
            let sums = fixed_order_sums(&x, bps);
            assert_eq!(sums[3], 0);
            assert_eq!(sums[2], 6 * 46);
        }
    }

    #[test]
    fn narrow_and_wide_sums_agree() {
        let mut next = crate::test_rng::xorshift(0x2545_F491_4F6C_DD1D);
        // around the narrowing's pieces of 256 samples (and 4 of overlap)
        for n in [5, 6, 259, 260, 261, 516, 1029, 4096, 5000] {
            // 16-bit samples: 32-bit lanes hold every sum
            let x: Vec<i64> = (0..n).map(|_| (next() >> 49) as i64 - (1 << 14)).collect();
            assert_eq!(
                fixed_order_sums_narrow(&x),
                fixed_order_sums_wide(&x),
                "{n} samples"
            );
            assert_eq!(fixed_order_sums(&x, 16), fixed_order_sums_wide(&x));
        }
    }

    #[test]
    fn a_sine_is_predicted_by_order_two() {
        let x: Vec<i64> = (0..4096)
            .map(|t| (10000.0 * (t as f64 * 0.01).sin()).round() as i64)
            .collect();
        let mut window = Vec::new();
        make_window(x.len(), &mut window);
        let narrow: Vec<i32> = x.iter().map(|&v| v as i32).collect();
        let r = autocorrelation(&narrow, &window, 8, &mut Vec::new());
        let mut coefs = [[0.0; MAX_LPC_ORDER]; MAX_LPC_ORDER];
        let mut errors = [0.0; MAX_LPC_ORDER];
        assert!(levinson(&r, 8, &mut coefs, &mut errors) >= 2);
        // x[t] = 2 cos(w) x[t-1] - x[t-2]
        assert!(
            (coefs[1][0] - 2.0 * 0.01f64.cos()).abs() < 1e-3,
            "{:?}",
            coefs[1]
        );
        assert!((coefs[1][1] + 1.0).abs() < 1e-3);
        let mut q = [0i32; 2];
        let shift = quantize(&coefs[1][..2], 12, &mut q).unwrap();
        let mut out = Vec::new();
        lpc_residual(&narrow, &q, shift, &mut out);
        assert!(out.iter().all(|r| r.abs() <= 3), "{:?}", &out[..10]);
    }

    #[test]
    fn quantized_coefficients_fit_their_precision() {
        let mut q = [0i32; 3];
        let shift = quantize(&[1.9, -0.95, 0.01], 10, &mut q).unwrap();
        assert!(q.iter().all(|&c| (-512..512).contains(&c)));
        assert_eq!(shift, 8);
        assert!(quantize(&[0.0, 0.0], 10, &mut q[..2]).is_none());
        assert!(quantize(&[1e9], 10, &mut q[..1]).is_none());
    }
}
