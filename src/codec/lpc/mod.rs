//! Turning residuals back into samples: one subframe at a time, or the LPC
//! subframes of up to eight frames at once.
//!
//! A subframe's samples form one chain of dependent multiply-adds, and a
//! predictor of order 8 costs eight multiplications and loads a sample.
//! [`restore_batch`] restores several subframes (of different frames, so
//! independent) side by side, one in each lane of a vector register:
//! eight in 52-bit integer multiply-adds where the CPU has AVX-512 IFMA
//! ([`ifma`]), else four in double-precision fused multiply-adds where it
//! has AVX2 and FMA ([`fma`]). Both are exact: samples of at most 32 bits
//! times coefficients of at most 15 bits, summed over at most 32 taps, stay
//! below 2^51 in magnitude. A lane whose sample leaves its channel's width
//! (a damaged stream; the range check is also the frame's width check) is
//! redone by the scalar code, which wraps every sample to 32 bits as
//! libFLAC's buffers do.

use super::aligned::{Aligned, Plain};

/// `$kernel::<N>(args)` with `N` the predictor order `$order` (1 to 32) as
/// a constant, so that the kernel's dot product unrolls, and `$taps` bound
/// to the first `N` rows of `$all` for the arguments to use.
#[cfg(target_arch = "x86_64")]
macro_rules! with_order {
    ($order:expr, $all:expr, |$taps:ident| $kernel:ident $args:tt) => {
        with_order!(@ $order, $all, $taps, $kernel, $args;
            1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32)
    };
    (@ $order:expr, $all:expr, $taps:ident, $kernel:ident, $args:tt; $($n:literal)*) => {
        match $order {
            $($n => {
                let $taps = <&[_; $n]>::try_from(&$all[..$n]).expect("taps");
                $kernel::<$n> $args
            })*
            _ => unreachable!("orders are 1..=32"),
        }
    };
}

#[cfg(target_arch = "x86_64")]
mod fma;
#[cfg(target_arch = "x86_64")]
mod ifma;
#[cfg(target_arch = "x86_64")]
pub(super) use ifma::transpose8;

/// The most subframes [`restore_batch`] takes at once.
pub(super) const LANES: usize = 8;

/// Subframes restored together where AVX-512 IFMA does not run: the FMA
/// kernel's lanes, and the groups a batch is split into.
const NARROW_BATCH: usize = 4;

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
/// `rows` is scratch space.
pub(super) fn restore_batch(batch: &mut [(&mut [i64], Pending)], rows: &mut Rows) -> [bool; LANES] {
    debug_assert!(batch.len() <= LANES);
    let mut narrow = [true; LANES];
    #[cfg(target_arch = "x86_64")]
    if batch.len() >= 2 && crate::codec::cpu::has_avx512_ifma() {
        return side_by_side::<{ ifma::WIDTH }, ifma::Ifma>(batch, &mut rows.ifma);
    }
    let _ = &rows;
    for (fits, group) in narrow
        .chunks_mut(NARROW_BATCH)
        .zip(batch.chunks_mut(NARROW_BATCH))
    {
        #[cfg(target_arch = "x86_64")]
        if group.len() >= 2 && crate::codec::cpu::has_avx2_fma() {
            let fine = side_by_side::<{ fma::WIDTH }, fma::Fma>(group, &mut rows.fma);
            fits.copy_from_slice(&fine);
            continue;
        }
        for (fit, (out, pending)) in fits.iter_mut().zip(group.iter_mut()) {
            *fit = pending.finish_alone(out);
        }
    }
    narrow
}

/// Restores the LPC subframes of `lanes` whose folded residuals wait in
/// `rows`, by sample: lane `l`'s residual of sample `i` at `rows[i][l]`,
/// for `i` from its order to its `needed`; its buffer holds its warm-up
/// samples. Side by side in AVX-512 IFMA lanes where they overlap (the
/// rest alone), into each lane's buffer (up to `needed`, wasted bits
/// undone). Returns, per lane, whether its samples fit its channel's bits,
/// or `None` where a sample left the range the side-by-side kernel keeps
/// exact (a damaged stream; the residuals are gone, so the caller decodes
/// the stream again another way).
///
/// # Panics
/// If the CPU lacks AVX-512 IFMA, or `rows` lacks a lane's samples.
#[cfg(target_arch = "x86_64")]
pub(super) fn restore_rows(
    lanes: &mut [Option<(&mut [i64], Pending)>; LANES],
    rows: &mut [[i64; LANES]],
) -> [Option<bool>; LANES] {
    assert!(
        crate::codec::cpu::has_avx512_ifma(),
        "restoring from rows needs AVX-512 IFMA"
    );
    let mut result = [None; LANES];
    let present = || lanes.iter().flatten().map(|(_, p)| p);
    let Some(order) = present().map(|p| p.order).max() else {
        return result;
    };
    let joint = present().map(|p| p.needed).min().unwrap_or(0);
    assert!(
        present().all(|p| p.needed <= rows.len()),
        "rows for every sample"
    );
    let alone = order == 0 || joint <= order;
    for (l, lane) in lanes.iter_mut().enumerate() {
        let Some((out, p)) = lane else { continue };
        // the residuals restored alone: those before `order` and from
        // `joint` on (all of them when nothing goes side by side)
        let from = p.order.min(p.needed);
        let head = if alone { p.needed } else { order.min(p.needed) };
        for (i, v) in out.iter_mut().enumerate().take(head).skip(from) {
            *v = rows[i][l];
        }
        if alone {
            result[l] = Some(p.finish_alone(out));
            continue;
        }
        for (i, v) in out.iter_mut().enumerate().take(p.needed).skip(joint) {
            *v = rows[i][l];
        }
        unfold(&mut out[p.order..order]);
        restore::<true>(out, p.coefs(), p.shift, 0, order);
    }
    if alone {
        return result;
    }
    // an unused lane takes a used one's subframe (its column holds
    // anything; its result is dropped)
    let used = lanes.iter().position(Option::is_some).expect("a lane");
    let fine = {
        let view = |l: usize| {
            let (out, p) = lanes[l].as_ref().or(lanes[used].as_ref()).expect("a lane");
            (&out[..order], *p)
        };
        let views: [&[i64]; LANES] = std::array::from_fn(|l| view(l).0);
        let pending: [Pending; LANES] = std::array::from_fn(|l| view(l).1);
        // SAFETY: the CPU has AVX-512 IFMA (asserted above).
        unsafe { ifma::restore_in_rows(views, &pending, order, &mut rows[..joint]) }
    };
    if lanes.iter().all(Option::is_some) && fine.iter().all(|&f| f) {
        // every lane back at once, eight rows at a time
        let mut places = lanes.iter_mut().flatten();
        let outs: [&mut [i64]; LANES] = std::array::from_fn(|_| {
            let (out, _) = places.next().expect("eight lanes");
            &mut out[order..joint]
        });
        // SAFETY: the CPU has AVX-512 IFMA (asserted above).
        unsafe { <ifma::Ifma as Kernel<LANES>>::columns(&rows[order..joint], outs) };
    } else {
        for (l, lane) in lanes.iter_mut().enumerate() {
            if let (Some((out, _)), true) = (lane, fine[l]) {
                for (v, row) in out[order..joint].iter_mut().zip(&rows[order..joint]) {
                    *v = row[l];
                }
            }
        }
    }
    for (l, lane) in lanes.iter_mut().enumerate() {
        let Some((out, p)) = lane else { continue };
        if !fine[l] {
            continue;
        }
        p.finish(out, joint);
        result[l] = Some(fits(&out[joint..p.needed], p.bits));
    }
    result
}

/// How many subframes [`restore_batch`] restores at once on this CPU: a
/// decoder keeps that many frames in flight.
pub(super) fn batch_width() -> usize {
    #[cfg(target_arch = "x86_64")]
    if crate::codec::cpu::has_avx512_ifma() {
        return ifma::WIDTH;
    }
    NARROW_BATCH
}

/// The side-by-side kernels' scratch rows (row `i` holds sample `i` of
/// every subframe of a batch), kept by the caller between batches.
#[derive(Default)]
pub(super) struct Rows {
    #[cfg(target_arch = "x86_64")]
    fma: Aligned<[f64; fma::WIDTH]>,
    #[cfg(target_arch = "x86_64")]
    ifma: Aligned<[i64; ifma::WIDTH]>,
}

/// A kernel restoring `W` LPC subframes side by side, one per lane of a
/// vector register, in rows of `Value`s.
trait Kernel<const W: usize> {
    type Value: Plain;

    /// Whether this CPU runs the kernel (its other functions need it).
    fn runs_here() -> bool;

    /// Fills `rows[..order]` with the subframes' first samples (already
    /// restored in `views`) and restores rows `order..` from the folded
    /// residuals in `views` (all as long as `rows`); `pending[lane]` is the
    /// subframe of `views[lane]`. Returns, per lane, whether every sample
    /// fits its channel's bits before the wasted bits; up to the first one
    /// that does not, every row of that lane is exact.
    ///
    /// # Safety
    /// [`Self::runs_here`] must be true.
    unsafe fn restore(
        views: [&[i64]; W],
        pending: &[Pending; W],
        order: usize,
        rows: &mut [[Self::Value; W]],
    ) -> [bool; W];

    /// Writes the rows back: lane `k` into `outs[k]` (each as long as
    /// `rows`).
    ///
    /// # Safety
    /// [`Self::runs_here`] must be true.
    unsafe fn columns(rows: &[[Self::Value; W]], outs: [&mut [i64]; W]);

    /// One value of a row as a sample.
    fn sample(value: Self::Value) -> i64;
}

/// The lanes' predictor coefficients as rows, oldest first (row `j`, lane
/// `k`: the coefficient of the sample `order - j` before, in subframe `k`),
/// each through `value`; a shorter predictor's oldest rows stay at
/// `T::default()`, and rows from `order` on are unused.
#[cfg(target_arch = "x86_64")]
fn taps_by_lane<T: Copy + Default, const W: usize>(
    pending: &[Pending; W],
    order: usize,
    value: impl Fn(&Pending, i64) -> T,
) -> [[T; W]; 32] {
    let mut taps = [[T::default(); W]; 32];
    for (lane, p) in pending.iter().enumerate() {
        for (j, &c) in p.coefs().iter().enumerate() {
            taps[order - 1 - j][lane] = value(p, c);
        }
    }
    taps
}

/// [`restore_batch`] with a kernel of `W` lanes (`batch` holds 2 to `W`
/// subframes): the samples every subframe of the batch needs go through it
/// together; each subframe's first samples (up to the longest predictor)
/// and its samples past the shortest one's end are restored alone. A lane
/// whose samples leave its channel's width (a damaged stream) is redone by
/// the scalar code, which wraps every sample to 32 bits as libFLAC does.
fn side_by_side<const W: usize, K: Kernel<W>>(
    batch: &mut [(&mut [i64], Pending)],
    rows: &mut Aligned<[K::Value; W]>,
) -> [bool; W] {
    let mut narrow = [true; W];
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
    // an unused lane repeats the last subframe (and is never written back)
    let last = batch.len() - 1;
    let views: [&[i64]; W] = std::array::from_fn(|lane| &batch[lane.min(last)].0[..joint]);
    let pending: [Pending; W] = std::array::from_fn(|lane| batch[lane.min(last)].1);
    if rows.len() < joint {
        rows.resize(joint);
    }
    let rows = &mut rows[..joint];
    assert!(
        K::runs_here(),
        "a side-by-side kernel this CPU does not run"
    );
    // SAFETY: the CPU runs the kernel (asserted just above).
    let fine = unsafe { K::restore(views, &pending, order, rows) };
    if batch.len() == W && fine.iter().all(|&f| f) {
        let mut places = batch.iter_mut();
        let outs: [&mut [i64]; W] = std::array::from_fn(|_| {
            let (out, _) = places.next().expect("W subframes");
            &mut out[order..joint]
        });
        // SAFETY: as for the restore.
        unsafe { K::columns(&rows[order..], outs) };
        for (fit, (out, p)) in narrow.iter_mut().zip(batch.iter_mut()) {
            p.finish(out, joint);
            *fit = fits(&out[joint..p.needed], p.bits);
        }
        return narrow;
    }
    for (lane, (out, p)) in batch.iter_mut().enumerate() {
        if fine[lane] {
            for (v, row) in out[order..joint].iter_mut().zip(&rows[order..]) {
                *v = K::sample(row[lane]);
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
        let mut rows = Rows::default();
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
            let narrow = restore_batch(&mut batch, &mut rows);
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
    fn restore_from_rows_matches_one_at_a_time() {
        if !crate::codec::cpu::has_avx512_ifma() {
            return;
        }
        let mut next = rng(0xB0A7);
        for round in 0..400 {
            let wild = round % 3 == 0;
            let walk = round % 3 == 1;
            // some lanes empty; all of one length or not
            let same = (next() % 300 + 40) as usize;
            let mut subframes: Vec<Option<(Vec<i64>, Pending)>> = (0..LANES)
                .map(|_| {
                    let len = if round % 2 == 0 {
                        same
                    } else {
                        (next() % 300 + 40) as usize
                    };
                    (!next().is_multiple_of(5)).then(|| subframe(&mut next, len, wild, walk))
                })
                .collect();
            let longest = subframes
                .iter()
                .flatten()
                .map(|(b, _)| b.len())
                .max()
                .unwrap_or(0);
            // the folded residuals in rows by sample; the buffers keep
            // only their warm-up samples (the rest is junk)
            let mut rows = vec![[0x5555_5555i64; LANES]; longest];
            let expected: Vec<Option<(Vec<i64>, bool, bool)>> = subframes
                .iter_mut()
                .enumerate()
                .map(|(l, slot)| {
                    let (buffer, pending) = slot.as_mut()?;
                    for (i, row) in rows
                        .iter_mut()
                        .enumerate()
                        .take(pending.needed)
                        .skip(pending.order)
                    {
                        row[l] = buffer[i];
                    }
                    let mut out = buffer.clone();
                    pending.finish(&mut out, 0);
                    // without wrapping, before the wasted bits: whether
                    // every sample is exact in the side-by-side kernel
                    let mut exact = buffer.clone();
                    unfold(&mut exact[pending.order..pending.needed.max(pending.order)]);
                    restore::<false>(
                        &mut exact,
                        pending.coefs(),
                        pending.shift,
                        0,
                        pending.needed,
                    );
                    let in_range = fits(&exact[..pending.needed], pending.bits - pending.wasted);
                    for v in buffer[pending.order..].iter_mut() {
                        *v = -7;
                    }
                    let samples = out[..pending.needed].to_vec();
                    let narrow = fits(&samples, pending.bits);
                    Some((samples, narrow, in_range))
                })
                .collect();
            let mut lanes: [Option<(&mut [i64], Pending)>; LANES] = Default::default();
            for (lane, slot) in lanes.iter_mut().zip(subframes.iter_mut()) {
                *lane = slot.as_mut().map(|(b, p)| (b.as_mut_slice(), *p));
            }
            let got = restore_rows(&mut lanes, &mut rows);
            for (l, (lane, want)) in lanes.iter().zip(&expected).enumerate() {
                let (Some((out, pending)), Some((samples, fit, in_range))) = (lane, want) else {
                    assert!(got[l].is_none(), "round {round}, lane {l}");
                    continue;
                };
                match got[l] {
                    Some(narrow) => {
                        assert_eq!(
                            &out[..pending.needed],
                            &samples[..],
                            "round {round}, lane {l}"
                        );
                        assert_eq!(narrow, *fit, "round {round}, lane {l}");
                    }
                    // refused only where an exact sample leaves the
                    // channel's width
                    None => assert!(!in_range, "round {round}, lane {l}"),
                }
            }
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
