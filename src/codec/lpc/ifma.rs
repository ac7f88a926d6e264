//! The side-by-side restore in integers: eight subframes, one per lane of a
//! 512-bit register, with AVX-512 IFMA's 52-bit multiply-adds.
//!
//! `vpmadd52luq` adds the low 52 bits of a product to a 64-bit sum, so a
//! prediction comes out right modulo 2^52; as every true sum here lies in
//! `-2^51..2^51` (see the parent module), sign-extending its low 52 bits
//! gives it exactly. The residual joins the sum times 2^shift, so that one
//! arithmetic shift both sign-extends and divides: a sample waits for its
//! predecessor through one multiply-add and two shifts, where the
//! double-precision kernel waits through a multiply-add and a rounding.

use std::arch::x86_64::*;

use super::{taps_by_lane, unfolded, Kernel, Pending};

/// Subframes restored together.
pub(super) const WIDTH: usize = 8;

/// The AVX-512 IFMA kernel.
pub(super) struct Ifma;

impl Kernel<WIDTH> for Ifma {
    type Value = i64;

    fn runs_here() -> bool {
        crate::codec::cpu::has_avx512_ifma()
    }

    unsafe fn restore(
        views: [&[i64]; WIDTH],
        pending: &[Pending; WIDTH],
        order: usize,
        rows: &mut [[i64; WIDTH]],
    ) -> [bool; WIDTH] {
        // SAFETY: the CPU has AVX-512 IFMA (the caller's word).
        unsafe { restore_lanes(views, pending, order, rows, false) }
    }

    unsafe fn columns(rows: &[[i64; WIDTH]], outs: [&mut [i64]; WIDTH]) {
        // SAFETY: the CPU has AVX-512 (the caller's word).
        unsafe { columns_avx512(rows, outs) }
    }

    fn sample(value: i64) -> i64 {
        value
    }
}

/// A row of eight numbers as a vector.
#[inline(always)]
fn load(row: &[i64; WIDTH]) -> __m512i {
    // SAFETY: a row is 64 readable bytes; the load is unaligned (and the
    // caller runs with AVX-512F).
    unsafe { _mm512_loadu_si512(row.as_ptr().cast()) }
}

/// A vector stored into a row of eight numbers.
#[inline(always)]
fn store(row: &mut [i64; WIDTH], value: __m512i) {
    // SAFETY: a row is 64 writable bytes; the store is unaligned (and the
    // caller runs with AVX-512F).
    unsafe { _mm512_storeu_si512(row.as_mut_ptr().cast(), value) }
}

/// The side-by-side restore. `views` are the subframes' buffers (samples
/// before `N`, folded residuals after; all as long as `rows`); `taps` holds
/// each lane's coefficients, oldest first, and `shift` its shift. Row `i`
/// of `rows` receives sample `i` of every subframe: the residual plus the
/// prediction shifted right — what [`super::restore_order`] computes while
/// samples stay in the 32-bit range (`tests::side_by_side_matches_one_at_a_time`
/// in the parent module compares them). Residuals are loaded eight rows at
/// a time, unfolded, transposed and scaled in registers, and staged in
/// `rows` just ahead of the rows that use them.
///
/// Returns, per lane, whether every sample lies in `-bound..bound`. The
/// first sample to leave the range is exact (those before it are in range,
/// so its sum is below 2^51 in magnitude); later ones may be anything.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512 IFMA.
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn restore_lanes_ifma<const N: usize, const STAGED: bool>(
    views: [&[i64]; WIDTH],
    rows: &mut [[i64; WIDTH]],
    taps: &[[i64; WIDTH]; N],
    shift: [i64; WIDTH],
    bound: [i64; WIDTH],
) -> [bool; WIDTH] {
    let len = rows.len();
    let view_len = if STAGED { N } else { len };
    assert!(len > N && views.iter().all(|v| v.len() >= view_len));
    // the samples before `N`, as they are
    for (i, row) in rows[..N].iter_mut().enumerate() {
        *row = views.map(|v| v[i]);
    }
    let mut low = load(&rows[0]);
    let mut high = low;
    for row in &rows[1..N] {
        low = _mm512_min_epi64(load(row), low);
        high = _mm512_max_epi64(load(row), high);
    }
    let taps: [__m512i; N] = std::array::from_fn(|j| load(&taps[j]));
    let scale = load(&shift);
    // the sum's 52 bits moved to the top, then down by 12 + shift
    let down = _mm512_add_epi64(scale, _mm512_set1_epi64(12));
    let mut newest = load(&rows[N - 1]);
    // one row: its staged residuals (times 2^shift) plus the products of
    // the rows before it
    let mut restore_row = |rows: &mut [[i64; WIDTH]], i: usize| {
        let history: &[[i64; WIDTH]; N] = rows[i - N..i].try_into().expect("N samples");
        // two partial sums over the older samples, so the multiply-adds do
        // not form one long chain
        let mut even = load(&rows[i]);
        let mut odd = _mm512_setzero_si512();
        for j in 0..N - 1 {
            if j % 2 == 0 {
                even = _mm512_madd52lo_epu64(even, load(&history[j]), taps[j]);
            } else {
                odd = _mm512_madd52lo_epu64(odd, load(&history[j]), taps[j]);
            }
        }
        // the newest sample's product comes last: only it and the shifts
        // wait for the previous row
        let sum = _mm512_madd52lo_epu64(_mm512_add_epi64(even, odd), newest, taps[N - 1]);
        let sample = _mm512_srav_epi64(_mm512_slli_epi64::<12>(sum), down);
        store(&mut rows[i], sample);
        low = _mm512_min_epi64(sample, low);
        high = _mm512_max_epi64(sample, high);
        newest = sample;
    };
    if STAGED {
        // the folded residuals are in the rows already: each unfolded and
        // scaled in place, just before its row is restored
        let one = _mm512_set1_epi64(1);
        for i in N..len {
            let folded = load(&rows[i]);
            let sign = _mm512_sub_epi64(_mm512_setzero_si512(), _mm512_and_si512(folded, one));
            let residual = _mm512_xor_si512(_mm512_srli_epi64::<1>(folded), sign);
            store(&mut rows[i], _mm512_sllv_epi64(residual, scale));
            restore_row(rows, i);
        }
        return in_bounds(low, high, bound);
    }
    // one row from the residuals of each subframe, unfolded and scaled
    let stage_one = |rows: &mut [[i64; WIDTH]], i: usize| {
        rows[i] = std::array::from_fn(|lane| unfolded(views[lane][i]) << shift[lane]);
    };
    // rows one by one up to a multiple of eight, so that the loads below
    // start on a cache line (the buffers do)
    let mut i = N;
    while !i.is_multiple_of(WIDTH) && i < len {
        stage_one(rows, i);
        restore_row(rows, i);
        i += 1;
    }
    let one = _mm512_set1_epi64(1);
    while i + WIDTH <= len {
        // eight folded residuals of each subframe, unfolded
        // (loops, not `map`: the closure of a `map` is not inlined here)
        let mut columns = [_mm512_setzero_si512(); WIDTH];
        for (column, v) in columns.iter_mut().zip(&views) {
            // SAFETY: `v[i..i + 8]` is in bounds (the loop condition); the
            // load is unaligned.
            let folded = unsafe { _mm512_loadu_si512(v[i..i + WIDTH].as_ptr().cast()) };
            let sign = _mm512_sub_epi64(_mm512_setzero_si512(), _mm512_and_si512(folded, one));
            *column = _mm512_xor_si512(_mm512_srli_epi64::<1>(folded), sign);
        }
        // transposed into rows, scaled, and staged for the restore
        for (row, value) in rows[i..i + WIDTH].iter_mut().zip(transpose8(columns)) {
            store(row, _mm512_sllv_epi64(value, scale));
        }
        for j in i..i + WIDTH {
            restore_row(rows, j);
        }
        i += WIDTH;
    }
    for i in i..len {
        stage_one(rows, i);
        restore_row(rows, i);
    }
    in_bounds(low, high, bound)
}

/// [`restore_lanes_ifma`] loading the residuals from the views.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512 IFMA.
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn restore_loaded<const N: usize>(
    views: [&[i64]; WIDTH],
    rows: &mut [[i64; WIDTH]],
    taps: &[[i64; WIDTH]; N],
    shift: [i64; WIDTH],
    bound: [i64; WIDTH],
) -> [bool; WIDTH] {
    // SAFETY: the caller's word.
    unsafe { restore_lanes_ifma::<N, false>(views, rows, taps, shift, bound) }
}

/// [`restore_lanes_ifma`] on residuals already staged in the rows.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512 IFMA.
#[target_feature(enable = "avx512f,avx512ifma")]
unsafe fn restore_staged<const N: usize>(
    views: [&[i64]; WIDTH],
    rows: &mut [[i64; WIDTH]],
    taps: &[[i64; WIDTH]; N],
    shift: [i64; WIDTH],
    bound: [i64; WIDTH],
) -> [bool; WIDTH] {
    // SAFETY: the caller's word.
    unsafe { restore_lanes_ifma::<N, true>(views, rows, taps, shift, bound) }
}

/// The IFMA restore of eight LPC subframes whose folded residuals are
/// already in `rows`, by sample (`rows[i][lane]` for `i` from the lane's
/// order on): `views` hold each lane's first `order` samples, restored
/// (`order`: the largest order of the batch). Returns, per lane, whether
/// its samples fit its channel's bits before the wasted bits.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512 IFMA.
pub(super) unsafe fn restore_in_rows(
    views: [&[i64]; WIDTH],
    pending: &[Pending; WIDTH],
    order: usize,
    rows: &mut [[i64; WIDTH]],
) -> [bool; WIDTH] {
    // SAFETY: the caller's word.
    unsafe { restore_lanes(views, pending, order, rows, true) }
}

/// Each lane's coefficients, shift and bound from `pending`, then
/// [`restore_lanes_ifma`] for the batch's `order`: with `staged`, on
/// residuals already in the rows, else loading them from the views.
///
/// # Safety
/// The CPU must support AVX-512F and AVX-512 IFMA.
unsafe fn restore_lanes(
    views: [&[i64]; WIDTH],
    pending: &[Pending; WIDTH],
    order: usize,
    rows: &mut [[i64; WIDTH]],
    staged: bool,
) -> [bool; WIDTH] {
    let all = taps_by_lane(pending, order, |_, c| c);
    let shift = pending.map(|p| i64::from(p.shift));
    // each lane's bound: its samples fit the channel's bits before the
    // wasted bits (so stay in the 32-bit range)
    let bound = pending.map(|p| 1i64 << (p.bits - p.wasted - 1));
    // SAFETY: the caller's word.
    unsafe {
        if staged {
            with_order!(order, all, |taps| restore_staged(
                views, rows, taps, shift, bound
            ))
        } else {
            with_order!(order, all, |taps| restore_loaded(
                views, rows, taps, shift, bound
            ))
        }
    }
}

/// Per lane, whether `low..=high` lies in `-bound..bound`.
#[inline]
#[target_feature(enable = "avx512f")]
fn in_bounds(low: __m512i, high: __m512i, bound: [i64; WIDTH]) -> [bool; WIDTH] {
    let bound = load(&bound);
    let inside = _mm512_cmplt_epi64_mask(high, bound)
        & _mm512_cmpge_epi64_mask(low, _mm512_sub_epi64(_mm512_setzero_si512(), bound));
    std::array::from_fn(|lane| inside & (1 << lane) != 0)
}

/// The rows written back as eight subframes' samples (lane `k` into
/// `outs[k]`, all as long as `rows`), eight rows at a time transposed in
/// registers.
///
/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn columns_avx512(rows: &[[i64; WIDTH]], mut outs: [&mut [i64]; WIDTH]) {
    let len = rows.len();
    assert!(outs.iter().all(|o| o.len() == len));
    // rows one by one (before the stores start on a cache line, and after
    // the last eight)
    let one_by_one = |outs: &mut [&mut [i64]; WIDTH], at: std::ops::Range<usize>| {
        for k in at {
            for (out, &value) in outs.iter_mut().zip(&rows[k]) {
                out[k] = value;
            }
        }
    };
    // (where the buffers' lines start, if they all do)
    let head = (0..len.min(WIDTH))
        .find(|&i| (outs[0][i..].as_ptr() as usize).is_multiple_of(64))
        .unwrap_or(0);
    one_by_one(&mut outs, 0..head);
    let mut i = head;
    while i + WIDTH <= len {
        let mut block = [_mm512_setzero_si512(); WIDTH];
        for (vector, row) in block.iter_mut().zip(&rows[i..i + WIDTH]) {
            *vector = load(row);
        }
        for (out, column) in outs.iter_mut().zip(transpose8(block)) {
            let slot: &mut [i64; WIDTH] = (&mut out[i..i + WIDTH]).try_into().expect("8 slots");
            store(slot, column);
        }
        i += WIDTH;
    }
    one_by_one(&mut outs, i..len);
}

/// Eight vectors of eight numbers transposed: element `k` of vector `j`
/// becomes element `j` of vector `k`.
#[inline]
#[target_feature(enable = "avx512f")]
pub(in crate::codec) fn transpose8(r: [__m512i; WIDTH]) -> [__m512i; WIDTH] {
    // pairs of vectors interleaved: `t[2p]` holds the even elements of
    // vectors 2p and 2p + 1, `t[2p + 1]` their odd ones, two by two
    let t = [
        _mm512_unpacklo_epi64(r[0], r[1]),
        _mm512_unpackhi_epi64(r[0], r[1]),
        _mm512_unpacklo_epi64(r[2], r[3]),
        _mm512_unpackhi_epi64(r[2], r[3]),
        _mm512_unpacklo_epi64(r[4], r[5]),
        _mm512_unpackhi_epi64(r[4], r[5]),
        _mm512_unpacklo_epi64(r[6], r[7]),
        _mm512_unpackhi_epi64(r[6], r[7]),
    ];
    // then 128-bit blocks of two pairs: (0x88 takes blocks 0 and 2 of each
    // operand, 0xDD blocks 1 and 3)
    let even = |a, b| _mm512_shuffle_i64x2::<0x88>(a, b);
    let odd = |a, b| _mm512_shuffle_i64x2::<0xDD>(a, b);
    // u[0]: elements 0 and 4 of vectors 0–3; u[1]: 2 and 6; u[2]: 1 and 5;
    // u[3]: 3 and 7; u[4..] the same of vectors 4–7
    let u = [
        even(t[0], t[2]),
        odd(t[0], t[2]),
        even(t[1], t[3]),
        odd(t[1], t[3]),
        even(t[4], t[6]),
        odd(t[4], t[6]),
        even(t[5], t[7]),
        odd(t[5], t[7]),
    ];
    [
        even(u[0], u[4]),
        even(u[2], u[6]),
        even(u[1], u[5]),
        even(u[3], u[7]),
        odd(u[0], u[4]),
        odd(u[2], u[6]),
        odd(u[1], u[5]),
        odd(u[3], u[7]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_eight_by_eight() {
        if !crate::codec::cpu::has_avx512_ifma() {
            return;
        }
        let rows: Vec<[i64; WIDTH]> = (0..WIDTH as i64)
            .map(|j| std::array::from_fn(|k| 10 * j + k as i64))
            .collect();
        let mut columns = vec![vec![0i64; WIDTH]; WIDTH];
        let outs: [&mut [i64]; WIDTH] = {
            let mut slices = columns.iter_mut();
            std::array::from_fn(|_| slices.next().expect("8 columns").as_mut_slice())
        };
        // SAFETY: the CPU has AVX-512 (checked above).
        unsafe { columns_avx512(&rows, outs) };
        for (k, column) in columns.iter().enumerate() {
            for (j, &value) in column.iter().enumerate() {
                assert_eq!(value, rows[j][k], "row {j}, lane {k}");
            }
        }
    }
}
