//! Turning residuals back into samples: one subframe at a time, or the LPC
//! subframes of up to four frames at once.
//!
//! A subframe's samples form one chain of dependent multiply-adds, and a
//! predictor of order 8 costs eight multiplications and loads a sample.
//! [`restore_batch`] restores up to four subframes (of different frames,
//! so independent) side by side, one in each lane of a 256-bit register,
//! in double precision with fused multiply-adds where the CPU has AVX2 and
//! FMA: exact, because samples of at most 32 bits times coefficients of at
//! most 15 bits, summed over at most 32 taps, stay below 2^51, inside the
//! 53 bits of a double's significand. A lane whose sample leaves its
//! channel's width (a damaged stream; the range check is also the frame's
//! width check) is redone by the scalar code, which wraps every sample to
//! 32 bits as libFLAC's buffers do.

/// How many subframes [`restore_batch`] restores together.
pub(super) const LANES: usize = 4;

/// An LPC subframe of at most 32 bits read but not yet restored: its
/// warm-up samples and its residuals, still folded, wait in the channel's
/// buffer.
#[derive(Clone, Copy)]
pub(super) struct Pending {
    /// Coefficients, newest first (`order` of them).
    pub coefs: [i64; 32],
    pub order: usize,
    pub shift: u32,
    /// The channel's bits per sample, wasted bits included (at most 32).
    pub bits: u32,
    pub wasted: u32,
    /// Samples of the subframe to produce.
    pub needed: usize,
}

impl Pending {
    fn coefs(&self) -> &[i64] {
        &self.coefs[..self.order]
    }

    /// Restores samples `from..needed` alone (their residuals still
    /// folded), wrapping every sample to 32 bits, then undoes the wasted
    /// bits.
    pub fn finish(&self, out: &mut [i64], from: usize) {
        unfold(&mut out[from.max(self.order)..self.needed.max(self.order)]);
        restore::<true>(out, self.coefs(), self.shift, from, self.needed);
        shift_wasted::<true>(&mut out[..self.needed], self.wasted);
    }

    /// [`Self::finish`] from the start; whether the samples fit the
    /// channel's bits.
    fn finish_alone(&self, out: &mut [i64]) -> bool {
        self.finish(out, 0);
        fits(&out[..self.needed], self.bits)
    }
}

/// Whether every sample fits `bits` (1..=32) as a two's complement number.
pub(super) fn fits(samples: &[i64], bits: u32) -> bool {
    let offset = 1i64 << (bits - 1);
    let spread = samples
        .iter()
        .fold(0u64, |acc, &v| acc | v.wrapping_add(offset) as u64);
    spread >> bits == 0
}

/// Turns folded Rice values (0, 1, 2, 3, ... for 0, -1, 1, -2, ...) into
/// residuals, in place.
#[inline(always)]
pub(super) fn unfold(values: &mut [i64]) {
    for v in values.iter_mut() {
        *v = unfolded(*v);
    }
}

/// One folded Rice value's residual.
#[inline(always)]
fn unfolded(v: i64) -> i64 {
    let u = v as u64;
    ((u >> 1) as i64) ^ -((u & 1) as i64)
}

/// Shifts samples left by the subframe's wasted bits (keeping them to 32
/// bits with `WRAP`).
pub(super) fn shift_wasted<const WRAP: bool>(out: &mut [i64], wasted: u32) {
    if wasted > 0 {
        for v in out.iter_mut() {
            *v <<= wasted;
            if WRAP {
                *v = i64::from(*v as i32);
            }
        }
    }
}

/// Turns the residuals in `out[from.max(order)..to]` into samples, from
/// the samples before them and the predictor coefficients (newest first)
/// with `shift`. With `WRAP` (channels of at most 32 bits) every sample is
/// kept to 32 bits as libFLAC stores it: the exact numbers for any stream
/// whose predictions stay in range, libFLAC's when one overflows.
#[inline(always)]
pub(super) fn restore<const WRAP: bool>(
    out: &mut [i64],
    coefs: &[i64],
    shift: u32,
    from: usize,
    to: usize,
) {
    let order = coefs.len();
    if to <= order.max(from) {
        return;
    }
    macro_rules! by_order {
        ($($n:literal)*) => {
            match order {
                0 => {}
                $($n => restore_order::<$n, WRAP>(&mut out[..to], coefs, shift, from),)*
                _ => unreachable!("orders are 0..=32"),
            }
        };
    }
    by_order!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30
        31 32);
}

/// [`restore`] for FLAC's fixed predictors (orders 0 to 4) on
/// `out[order..to]`: their coefficients are constants here, so a sample
/// costs additions and shifts, not multiplications.
#[inline(always)]
pub(super) fn restore_fixed<const WRAP: bool>(out: &mut [i64], order: usize, to: usize) {
    if to <= order {
        return;
    }
    // the predictions s[n-1], 2s[n-1] - s[n-2], 3s[n-1] - 3s[n-2] + s[n-3]
    // and 4s[n-1] - 6s[n-2] + 4s[n-3] - s[n-4], as taps oldest first
    let out = &mut out[..to];
    match order {
        1 => restore_taps::<1, WRAP>(out, [1], 0, 0),
        2 => restore_taps::<2, WRAP>(out, [-1, 2], 0, 0),
        3 => restore_taps::<3, WRAP>(out, [1, -3, 3], 0, 0),
        4 => restore_taps::<4, WRAP>(out, [-1, 4, -6, 4], 0, 0),
        _ => {}
    }
}

/// [`restore`] for one predictor order, known at compile time so the dot
/// product unrolls.
#[inline(always)]
fn restore_order<const N: usize, const WRAP: bool>(
    out: &mut [i64],
    coefs: &[i64],
    shift: u32,
    from: usize,
) {
    // oldest first, to pair with the history window `out[i - N..i]`
    let mut taps = [0i64; N];
    for (t, &c) in taps.iter_mut().zip(coefs.iter().rev()) {
        *t = c;
    }
    restore_taps::<N, WRAP>(out, taps, shift, from);
}

/// Restores `out[from.max(N)..]` from `taps` (oldest first).
#[inline(always)]
fn restore_taps<const N: usize, const WRAP: bool>(
    out: &mut [i64],
    taps: [i64; N],
    shift: u32,
    from: usize,
) {
    for i in from.max(N)..out.len() {
        let history: &[i64; N] = out[i - N..i].try_into().expect("N samples");
        let mut sum = 0i64;
        for j in 0..N {
            sum = sum.wrapping_add(taps[j].wrapping_mul(history[j]));
        }
        let sample = (sum >> shift).wrapping_add(out[i]);
        out[i] = if WRAP {
            i64::from(sample as i32)
        } else {
            sample
        };
    }
}

/// Restores up to [`LANES`] pending subframes (each with its buffer),
/// side by side where the CPU allows, and undoes their wasted bits;
/// returns, per subframe, whether its samples fit its channel's bits.
/// `lanes` is scratch space.
pub(super) fn restore_batch(
    batch: &mut [(&mut [i64], Pending)],
    lanes: &mut Vec<[f64; LANES]>,
) -> [bool; LANES] {
    debug_assert!(batch.len() <= LANES);
    #[cfg(target_arch = "x86_64")]
    if batch.len() >= 2 && crate::codec::cpu::has_avx2_fma() {
        return restore_side_by_side(batch, lanes);
    }
    let _ = lanes;
    let mut narrow = [true; LANES];
    for (fit, (out, pending)) in narrow.iter_mut().zip(batch.iter_mut()) {
        *fit = pending.finish_alone(out);
    }
    narrow
}

/// Adding this to an integer below 2^51 in magnitude, as a double's bits,
/// gives 2^52 + 2^51 + the integer; subtracting it back gives the integer.
const MAGIC_BITS: u64 = 0x4338_0000_0000_0000;
const MAGIC: f64 = 6_755_399_441_055_744.0;

/// An integer below 2^51 in magnitude as a double (vectorisable).
#[inline(always)]
fn to_f64(v: i64) -> f64 {
    f64::from_bits(v.wrapping_add(MAGIC_BITS as i64) as u64) - MAGIC
}

/// A whole double below 2^51 in magnitude as an integer (vectorisable);
/// anything else gives a number outside the 32-bit range or garbage,
/// which the caller's range check catches.
#[inline(always)]
fn to_i64(v: f64) -> i64 {
    ((v + MAGIC).to_bits() as i64).wrapping_sub(MAGIC_BITS as i64)
}

/// [`restore_batch`] with the FMA kernel: the samples every subframe of the
/// batch needs go through it together; each subframe's first samples (up
/// to the longest predictor) and its samples past the shortest one's end
/// are restored alone.
#[cfg(target_arch = "x86_64")]
fn restore_side_by_side(
    batch: &mut [(&mut [i64], Pending)],
    lanes: &mut Vec<[f64; LANES]>,
) -> [bool; LANES] {
    let mut narrow = [true; LANES];
    let order = batch.iter().map(|(_, p)| p.order).max().unwrap_or(0);
    let joint = batch.iter().map(|(_, p)| p.needed).min().unwrap_or(0);
    if order == 0 || joint <= order {
        for (fit, (out, pending)) in narrow.iter_mut().zip(batch.iter_mut()) {
            *fit = pending.finish_alone(out);
        }
        return narrow;
    }
    // each subframe's samples before `order` by its own predictor
    for (out, p) in batch.iter_mut() {
        unfold(&mut out[p.order..order]);
        restore::<true>(out, p.coefs(), p.shift, 0, order);
    }
    let mut taps = [[0.0f64; LANES]; 32];
    for (lane, (_, p)) in batch.iter().enumerate() {
        // oldest first, scaled by 2^-shift (exact: a power of two); a
        // shorter predictor's oldest taps stay zero, and so do an unused
        // lane's (it repeats the last lane's numbers, and is never written
        // back)
        let scale = 1.0 / f64::from(1u32 << p.shift);
        for (j, &c) in p.coefs().iter().enumerate() {
            taps[order - 1 - j][lane] = c as f64 * scale;
        }
    }
    // each lane's bound: its samples fit the channel's bits before the
    // wasted bits (so stay in the 32-bit range, and are exact); an unused
    // lane repeats the last one's numbers
    let bound: [f64; LANES] = std::array::from_fn(|lane| {
        let p = &batch[lane.min(batch.len() - 1)].1;
        f64::from(1u32 << (p.bits - p.wasted - 1))
    });
    let views: [&[i64]; LANES] =
        std::array::from_fn(|lane| &batch[lane.min(batch.len() - 1)].0[..joint]);
    if lanes.len() < joint {
        lanes.resize(joint, [0.0; LANES]);
    }
    let lanes = &mut lanes[..joint];
    macro_rules! by_order {
        ($($n:literal)*) => {
            match order {
                $($n => {
                    let taps: &[[f64; LANES]; $n] = taps[..$n].try_into().expect("taps");
                    // SAFETY: the CPU has AVX2 and FMA (checked by the caller).
                    unsafe { restore_lanes_fma::<$n>(views, lanes, taps, bound) }
                })*
                _ => unreachable!("orders are 1..=32"),
            }
        };
    }
    let fine = by_order!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26
        27 28 29 30 31 32);
    if let ([(a, pa), (b, pb), (c, pc), (d, pd)], [true, true, true, true]) = (&mut *batch, fine) {
        let outs = [
            &mut a[order..joint],
            &mut b[order..joint],
            &mut c[order..joint],
            &mut d[order..joint],
        ];
        // SAFETY: the CPU has AVX2 and FMA (checked by the caller).
        unsafe { columns_fma(&lanes[order..], outs) };
        for (fit, (out, p)) in narrow.iter_mut().zip([(a, pa), (b, pb), (c, pc), (d, pd)]) {
            p.finish(out, joint);
            *fit = fits(&out[joint..p.needed], p.bits);
        }
        return narrow;
    }
    for (lane, (out, p)) in batch.iter_mut().enumerate() {
        if fine[lane] {
            for (v, row) in out[order..joint].iter_mut().zip(&lanes[order..]) {
                *v = to_i64(row[lane]);
            }
            p.finish(out, joint);
            narrow[lane] = fits(&out[joint..p.needed], p.bits);
        } else {
            // a sample too wide, perhaps outside the 32-bit range: the
            // residuals are untouched, so the scalar code starts over,
            // wrapping as libFLAC does, and the samples are checked
            p.finish(out, order);
            narrow[lane] = fits(&out[..p.needed], p.bits);
        }
    }
    narrow
}

/// The rows of `lanes` written back as four subframes' samples (lane `k`
/// into `outs[k]`, all as long as `lanes`): four rows at a time, transposed
/// in registers and turned into integers there (what [`to_i64`] does one
/// value at a time, which left this a tenth of a stream's decoding).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn columns_fma(lanes: &[[f64; LANES]], outs: [&mut [i64]; LANES]) {
    use std::arch::x86_64::*;
    let len = lanes.len();
    assert!(outs.iter().all(|o| o.len() == len));
    let magic = _mm256_set1_pd(MAGIC);
    let magic_bits = _mm256_set1_epi64x(MAGIC_BITS as i64);
    let whole =
        |v: __m256d| _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(v, magic)), magic_bits);
    let [a, b, c, d] = outs;
    let mut i = 0;
    while i + 4 <= len {
        // SAFETY: rows i..i + 4 exist (the loop condition), 32 bytes each.
        let rows = std::array::from_fn(|k| unsafe { _mm256_loadu_pd(lanes[i + k].as_ptr()) });
        let columns = transpose4(rows);
        for (out, column) in [&mut *a, &mut *b, &mut *c, &mut *d]
            .into_iter()
            .zip(columns)
        {
            // SAFETY: `out[i..i + 4]` is in bounds (same length as `lanes`).
            unsafe { _mm256_storeu_si256(out[i..i + 4].as_mut_ptr().cast(), whole(column)) };
        }
        i += 4;
    }
    for (k, row) in lanes.iter().enumerate().skip(i) {
        (a[k], b[k], c[k], d[k]) = (
            to_i64(row[0]),
            to_i64(row[1]),
            to_i64(row[2]),
            to_i64(row[3]),
        );
    }
}

/// Four vectors of four doubles transposed: element `k` of vector `j`
/// becomes element `j` of vector `k`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
fn transpose4([a, b, c, d]: [std::arch::x86_64::__m256d; 4]) -> [std::arch::x86_64::__m256d; 4] {
    use std::arch::x86_64::*;
    let (ab_low, ab_high) = (_mm256_unpacklo_pd(a, b), _mm256_unpackhi_pd(a, b));
    let (cd_low, cd_high) = (_mm256_unpacklo_pd(c, d), _mm256_unpackhi_pd(c, d));
    [
        _mm256_permute2f128_pd::<0x20>(ab_low, cd_low),
        _mm256_permute2f128_pd::<0x20>(ab_high, cd_high),
        _mm256_permute2f128_pd::<0x31>(ab_low, cd_low),
        _mm256_permute2f128_pd::<0x31>(ab_high, cd_high),
    ]
}

/// The side-by-side restore. `views` are the subframes' buffers (samples
/// before `N`, folded residuals after; all as long as `lanes`); `taps`
/// holds each lane's coefficients times 2^-shift, oldest first. Row `i` of
/// `lanes` receives sample `i` of every subframe, as doubles: the residual
/// plus the floor of the scaled prediction — exactly what [`restore_order`]
/// computes while samples stay in the 32-bit range (its scalar twin;
/// `tests::side_by_side_matches_one_at_a_time` compares them). Residuals
/// are loaded four rows at a time, unfolded, converted and transposed in
/// registers, and staged in `lanes` just ahead of the rows that use them.
///
/// Returns, per lane, whether every sample lies in `-bound..bound`. The
/// first sample to leave the range is an exact number (those before it are
/// in range, so its prediction is below 2^51); later ones may be anything,
/// infinities and NaNs included, which the running minimum and maximum
/// ignore (`min`/`max` return their second operand when one is NaN).
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn restore_lanes_fma<const N: usize>(
    views: [&[i64]; LANES],
    lanes: &mut [[f64; LANES]],
    taps: &[[f64; LANES]; N],
    bound: [f64; LANES],
) -> [bool; LANES] {
    use std::arch::x86_64::*;
    let len = lanes.len();
    assert!(len > N && views.iter().all(|v| v.len() == len));
    let load = |row: &[f64; LANES]| {
        // SAFETY: a row is 32 readable bytes; the load is unaligned.
        unsafe { _mm256_loadu_pd(row.as_ptr()) }
    };
    // the samples before `N`, as they are
    for (i, row) in lanes[..N].iter_mut().enumerate() {
        *row = views.map(|v| to_f64(v[i]));
    }
    let mut low = load(&lanes[0]);
    let mut high = low;
    for row in &lanes[1..N] {
        low = _mm256_min_pd(load(row), low);
        high = _mm256_max_pd(load(row), high);
    }
    let taps: [__m256d; N] = std::array::from_fn(|j| load(&taps[j]));
    let mut newest = load(&lanes[N - 1]);
    // one row: `residuals` (a register) plus the prediction from the rows
    // before it
    let mut restore_row = |lanes: &mut [[f64; LANES]], i: usize| {
        let residuals = load(&lanes[i]);
        let history: &[[f64; LANES]; N] = lanes[i - N..i].try_into().expect("N samples");
        // two partial sums over the older samples, so the additions do not
        // form one long chain
        let mut even = _mm256_setzero_pd();
        let mut odd = _mm256_setzero_pd();
        for j in 0..N - 1 {
            if j % 2 == 0 {
                even = _mm256_fmadd_pd(load(&history[j]), taps[j], even);
            } else {
                odd = _mm256_fmadd_pd(load(&history[j]), taps[j], odd);
            }
        }
        // the residual joins the older products (floor(x + r) is
        // floor(x) + r for a whole r, and the sum stays exact), and the
        // newest sample's product comes last: only it and the floor wait
        // for the previous row
        let older = _mm256_add_pd(_mm256_add_pd(even, odd), residuals);
        let sample = _mm256_floor_pd(_mm256_fmadd_pd(newest, taps[N - 1], older));
        // SAFETY: `lanes[i]` is 32 writable bytes; the store is unaligned.
        unsafe { _mm256_storeu_pd(lanes[i].as_mut_ptr(), sample) };
        low = _mm256_min_pd(sample, low);
        high = _mm256_max_pd(sample, high);
        newest = sample;
    };
    let one = _mm256_set1_epi64x(1);
    let magic_bits = _mm256_set1_epi64x(MAGIC_BITS as i64);
    let magic = _mm256_set1_pd(MAGIC);
    // four folded residuals of one subframe, unfolded, as doubles
    let residuals = |v: &[i64], i: usize| {
        // SAFETY: `v[i..i + 4]` is in bounds (the callers' loop condition);
        // the load is unaligned.
        let folded = unsafe { _mm256_loadu_si256(v[i..i + 4].as_ptr().cast()) };
        let sign = _mm256_sub_epi64(_mm256_setzero_si256(), _mm256_and_si256(folded, one));
        let value = _mm256_xor_si256(_mm256_srli_epi64::<1>(folded), sign);
        _mm256_sub_pd(
            _mm256_castsi256_pd(_mm256_add_epi64(value, magic_bits)),
            magic,
        )
    };
    let mut i = N;
    while i + 4 <= len {
        let [a, b, c, d] = views.map(|v| residuals(v, i));
        // transpose: four subframes' rows i..i + 4 into four rows of
        // lanes, staged there (registers are short) for the restore
        let rows = transpose4([a, b, c, d]);
        for (row, value) in lanes[i..i + 4].iter_mut().zip(rows) {
            // SAFETY: a row is 32 writable bytes; the store is unaligned.
            unsafe { _mm256_storeu_pd(row.as_mut_ptr(), value) };
        }
        for j in i..i + 4 {
            restore_row(lanes, j);
        }
        i += 4;
    }
    for i in i..len {
        lanes[i] = views.map(|v| to_f64(unfolded(v[i])));
        restore_row(lanes, i);
    }
    let bound = _mm256_loadu_pd(bound.as_ptr());
    let inside = _mm256_and_pd(
        _mm256_cmp_pd::<_CMP_LT_OQ>(high, bound),
        _mm256_cmp_pd::<_CMP_GE_OQ>(low, _mm256_sub_pd(_mm256_setzero_pd(), bound)),
    );
    let mask = _mm256_movemask_pd(inside);
    std::array::from_fn(|lane| mask & (1 << lane) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_rng::xorshift as rng;

    /// A subframe's buffer (warm-up samples and folded residuals) and
    /// predictor; with `wild`, full-range numbers whose predictions
    /// overflow; with `walk`, a predictor that keeps the samples near the
    /// narrow channels' bounds.
    fn subframe(
        next: &mut impl FnMut() -> u64,
        len: usize,
        wild: bool,
        walk: bool,
    ) -> (Vec<i64>, Pending) {
        let order = (next() % 32 + 1) as usize;
        let precision = (next() % 15 + 1) as u32;
        let mut coefs = [0i64; 32];
        for c in coefs[..order].iter_mut() {
            *c = (next() % (1 << precision)) as i64 - (1 << (precision - 1));
        }
        let shift = (next() % 16) as u32;
        if walk {
            // a random walk (each sample the last plus its residual): stays
            // in the 32-bit range and crosses the narrow channels' bounds
            coefs = [0; 32];
            coefs[0] = 1 << shift;
        }
        let buffer = (0..len)
            .map(|i| {
                let v = if wild {
                    i64::from(next() as i32)
                } else {
                    // small residuals: a well-behaved predictor's output
                    (next() % 2001) as i64 - 1000
                };
                // warm-up samples as they are, residuals folded
                if i < order {
                    v
                } else {
                    (v << 1) ^ (v >> 63)
                }
            })
            .collect();
        let pending = Pending {
            coefs,
            order,
            shift,
            // narrow channels too, so that some samples do not fit
            bits: [12, 16, 20, 32][(next() % 4) as usize],
            wasted: (next() % 3) as u32,
            needed: len - (next() % 40) as usize,
        };
        (buffer, pending)
    }

    #[test]
    fn side_by_side_matches_one_at_a_time() {
        let mut next = rng(0x5EED);
        let mut lanes = Vec::new();
        for round in 0..400 {
            let count = round % LANES + 1;
            let wild = round % 3 == 0;
            let walk = round % 3 == 1;
            let mut subframes: Vec<(Vec<i64>, Pending)> = (0..count)
                .map(|_| {
                    let len = (next() % 300 + 40) as usize;
                    subframe(&mut next, len, wild, walk)
                })
                .collect();
            let expected: Vec<(Vec<i64>, bool)> = subframes
                .iter()
                .map(|(buffer, pending)| {
                    let mut out = buffer.clone();
                    pending.finish(&mut out, 0);
                    let samples = out[..pending.needed].to_vec();
                    let narrow = fits(&samples, pending.bits);
                    (samples, narrow)
                })
                .collect();
            let mut batch: Vec<(&mut [i64], Pending)> = subframes
                .iter_mut()
                .map(|(buffer, pending)| (buffer.as_mut_slice(), *pending))
                .collect();
            let narrow = restore_batch(&mut batch, &mut lanes);
            for (lane, ((out, pending), (want, fit))) in batch.iter().zip(&expected).enumerate() {
                assert_eq!(
                    &out[..pending.needed],
                    &want[..],
                    "round {round}, lane {lane}"
                );
                assert_eq!(narrow[lane], *fit, "round {round}, lane {lane}");
            }
        }
    }

    #[test]
    fn conversions_round_trip() {
        for v in [
            0i64,
            1,
            -1,
            i64::from(i32::MAX),
            i64::from(i32::MIN),
            (1 << 50) - 1,
            -(1 << 50),
        ] {
            assert_eq!(to_f64(v), v as f64);
            assert_eq!(to_i64(v as f64), v);
        }
    }

    #[test]
    fn folded_values_unfold_to_residuals() {
        let mut values = vec![0, 1, 2, 3, 4, 0xffff_fffe, 0xffff_ffff];
        unfold(&mut values);
        assert_eq!(
            values,
            [0, -1, 1, -2, 2, i64::from(i32::MAX), i64::from(i32::MIN)]
        );
    }

    #[test]
    fn wrapping_keeps_samples_to_32_bits() {
        // 2^31 - 1 predicted from itself with coefficient 2 wraps around
        let mut out = vec![i64::from(i32::MAX), 0, 0];
        restore::<true>(&mut out, &[2], 0, 0, 3);
        assert_eq!(out[1], i64::from((2 * i64::from(i32::MAX)) as i32));
        let mut wide = vec![i64::from(i32::MAX), 0, 0];
        restore::<false>(&mut wide, &[2], 0, 0, 3);
        assert_eq!(wide[1], 2 * i64::from(i32::MAX));
    }
}
