//! The side-by-side restore in double precision: four subframes, one per
//! lane of a 256-bit register, with AVX2 and FMA. A sample is the residual
//! plus the floor of the prediction scaled by 2^-shift (a power of two, so
//! exact), all in doubles, which hold the integers involved exactly.

use std::arch::x86_64::*;

use super::{taps_by_lane, unfolded, Kernel, Pending};

/// Subframes restored together.
pub(super) const WIDTH: usize = super::NARROW_BATCH;

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

/// The AVX2/FMA kernel.
pub(super) struct Fma;

impl Kernel<WIDTH> for Fma {
    type Value = f64;

    fn runs_here() -> bool {
        crate::codec::cpu::has_avx2_fma()
    }

    unsafe fn restore(
        views: [&[i64]; WIDTH],
        pending: &[Pending; WIDTH],
        order: usize,
        rows: &mut [[f64; WIDTH]],
    ) -> [bool; WIDTH] {
        // scaled by 2^-shift (exact: a power of two)
        let all = taps_by_lane(pending, order, |p, c| c as f64 / f64::from(1u32 << p.shift));
        // each lane's bound: its samples fit the channel's bits before the
        // wasted bits (so stay in the 32-bit range, and are exact)
        let bound: [f64; WIDTH] = pending.map(|p| f64::from(1u32 << (p.bits - p.wasted - 1)));
        // SAFETY: the CPU has AVX2 and FMA (the caller's word).
        unsafe {
            with_order!(order, all, |taps| restore_lanes_fma(
                views, rows, taps, bound
            ))
        }
    }

    unsafe fn columns(rows: &[[f64; WIDTH]], outs: [&mut [i64]; WIDTH]) {
        // SAFETY: the CPU has AVX2 and FMA (the caller's word).
        unsafe { columns_fma(rows, outs) }
    }

    fn sample(value: f64) -> i64 {
        to_i64(value)
    }
}

/// The rows of `lanes` written back as four subframes' samples (lane `k`
/// into `outs[k]`, all as long as `lanes`): four rows at a time, transposed
/// in registers and turned into integers there (what [`to_i64`] does one
/// value at a time, which left this a tenth of a stream's decoding).
///
/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2,fma")]
unsafe fn columns_fma(lanes: &[[f64; WIDTH]], outs: [&mut [i64]; WIDTH]) {
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
#[inline]
#[target_feature(enable = "avx2,fma")]
fn transpose4([a, b, c, d]: [__m256d; 4]) -> [__m256d; 4] {
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
/// plus the floor of the scaled prediction — exactly what [`super::restore_order`]
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
#[target_feature(enable = "avx2,fma")]
unsafe fn restore_lanes_fma<const N: usize>(
    views: [&[i64]; WIDTH],
    lanes: &mut [[f64; WIDTH]],
    taps: &[[f64; WIDTH]; N],
    bound: [f64; WIDTH],
) -> [bool; WIDTH] {
    let len = lanes.len();
    assert!(len > N && views.iter().all(|v| v.len() == len));
    let load = |row: &[f64; WIDTH]| {
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
    let mut restore_row = |lanes: &mut [[f64; WIDTH]], i: usize| {
        let residuals = load(&lanes[i]);
        let history: &[[f64; WIDTH]; N] = lanes[i - N..i].try_into().expect("N samples");
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
}
