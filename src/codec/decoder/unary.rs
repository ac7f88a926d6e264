//! Rice codes of parameter 0: unary numbers, each a value's zeros and then
//! a one. Quiet channels (the high words of 64-bit samples, silence) hold
//! long runs of them of one or two bits each, so they are read a window of
//! the data at a time rather than code by code.
//!
//! A window is the next 56 bits, reversed so that the first is bit 0. Each
//! one bit ends a code; a code's value is its one's place less the place
//! after the one before it. No code waits for the one before it to be
//! measured: the places come from clearing the lowest one bit after
//! another or, with AVX-512 VBMI2, from compressing the places of all ones
//! into bytes at once.

use super::bits::BitReader;
use crate::error::Result;

/// Bits of the data a window holds (whatever the bit offset, one 8-byte
/// load has them).
const WINDOW: u32 = 56;

impl BitReader<'_> {
    /// `n` Rice codes of parameter 0 from the reader's position, their
    /// values stored into `out` when `STORE` (stepped over otherwise);
    /// returns how many were read. The last 7 bytes of the data are left to
    /// the caller's checked reader.
    #[inline(always)]
    pub(super) fn rice_zeros<const STORE: bool>(
        &mut self,
        out: &mut [i64],
        n: usize,
    ) -> Result<usize> {
        #[cfg(target_arch = "x86_64")]
        if STORE && crate::codec::cpu::has_avx512_vbmi2() {
            // SAFETY: the CPU runs AVX-512 VBMI2 and BW (checked just above).
            return unsafe { self.rice_zeros_avx512(out, n) };
        }
        self.windows::<STORE, false>(out, n)
    }

    /// [`Self::rice_zeros`], each window's values turned into numbers in
    /// vector registers.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi2,bmi1,bmi2,lzcnt,popcnt")]
    unsafe fn rice_zeros_avx512(&mut self, out: &mut [i64], n: usize) -> Result<usize> {
        self.windows::<true, true>(out, n)
    }

    /// The window loop: the codes ending in each window (up to `n` in all)
    /// are taken at once, with [`take_avx512`] when `VECTOR`, else
    /// [`take`]. A window without a one (a code of 56 zeros or more) has
    /// its code read field by field.
    #[inline(always)]
    fn windows<const STORE: bool, const VECTOR: bool>(
        &mut self,
        out: &mut [i64],
        n: usize,
    ) -> Result<usize> {
        let data = self.data;
        let out = if STORE { &mut out[..n] } else { out };
        let mut at = self.bit_position();
        let mut i = 0;
        while i < n {
            let Some(chunk) = data.get(at / 8..at / 8 + 8) else {
                break;
            };
            let word = u64::from_be_bytes(chunk.try_into().expect("8 bytes")) << (at % 8);
            let ones = (word >> (64 - WINDOW)).reverse_bits() >> (64 - WINDOW);
            if ones == 0 {
                self.seek(at)?;
                let value = self.long_rice(0)?;
                if STORE {
                    out[i] = value as i64;
                }
                i += 1;
                at = self.bit_position();
                continue;
            }
            let ending = ones.count_ones() as usize;
            let count = ending.min(n - i);
            if STORE {
                let slots = &mut out[i..i + count];
                #[cfg(target_arch = "x86_64")]
                if VECTOR {
                    // SAFETY: `VECTOR` is set only under AVX-512 VBMI2 and BW.
                    unsafe { take_avx512(ones, slots) };
                } else {
                    take(ones, slots);
                }
                #[cfg(not(target_arch = "x86_64"))]
                take(ones, slots);
            }
            i += count;
            at += used_bits(ones, count) as usize;
        }
        self.seek(at)?;
        Ok(i)
    }
}

/// The bits of a window (`ones`, see the module) its first `count` codes
/// take: up to and including the `count`th one (`count` >= 1).
#[inline(always)]
fn used_bits(ones: u64, count: usize) -> u32 {
    let mut taken = ones;
    if count < ones.count_ones() as usize {
        // (only the last window of a partition stops short)
        let mut left = ones;
        for _ in 0..count {
            left &= left - 1;
        }
        taken = ones ^ left;
    }
    u64::BITS - taken.leading_zeros()
}

/// The values of the first `slots.len()` codes of a window, one cleared one
/// bit at a time.
#[inline(always)]
fn take(mut ones: u64, slots: &mut [i64]) {
    let mut next = 0;
    for slot in slots {
        let one = ones.trailing_zeros();
        *slot = i64::from(one - next);
        next = one + 1;
        ones &= ones - 1;
    }
}

/// [`take`] in vector registers: the places of the ones compressed into
/// bytes, less the places after the ones before them (compressed the same
/// way, one place on), then widened eight numbers at a time and stored
/// under a mask (up to 56 codes, all stored without a branch).
///
/// # Safety
/// The CPU must run AVX-512 VBMI2 and BW; `slots` holds at most as many
/// places as `ones` has ones.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi2,bmi2")]
unsafe fn take_avx512(ones: u64, slots: &mut [i64]) {
    use std::arch::x86_64::*;
    let places: [i8; 64] = std::array::from_fn(|j| j as i8);
    let places = _mm512_loadu_si512(places.as_ptr().cast());
    // byte j: the place of the jth one
    let ends = _mm512_maskz_compress_epi8(ones, places);
    // byte j: where the jth code starts (0, then each place after a one)
    let starts = _mm512_maskz_compress_epi8((ones << 1) | 1, places);
    let values = _mm512_sub_epi8(ends, starts);
    let mut bytes = [0u8; 64];
    _mm512_storeu_si512(bytes.as_mut_ptr().cast(), values);
    let wanted = _bzhi_u64(u64::MAX, slots.len() as u32);
    let to = slots.as_mut_ptr();
    for q in 0..(WINDOW as usize / 8) {
        let eight = _mm512_cvtepu8_epi64(_mm_loadl_epi64(bytes.as_ptr().add(8 * q).cast()));
        // SAFETY: the mask holds only places below `slots.len()`; a
        // masked-off place is not touched.
        _mm512_mask_storeu_epi64(
            to.wrapping_add(8 * q).cast(),
            (wanted >> (8 * q)) as u8,
            eight,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unary codes of `values` (MSB first), then `tail` zero bytes.
    fn unary_bytes(values: &[u64], tail: usize) -> Vec<u8> {
        let mut bits = Vec::new();
        for &v in values {
            bits.extend(std::iter::repeat_n(0u8, v as usize));
            bits.push(1);
        }
        let mut bytes: Vec<u8> = bits
            .chunks(8)
            .map(|c| {
                c.iter()
                    .enumerate()
                    .fold(0u8, |b, (i, &x)| b | (x << (7 - i)))
            })
            .collect();
        bytes.extend(std::iter::repeat_n(0, tail));
        bytes
    }

    #[test]
    fn windows_read_what_code_by_code_reading_reads() {
        // mostly codes of 0-2 zeros, now and then one of 40-130 (longer
        // than a window), from several bit offsets, stopping inside a
        // window, and running into the data's last 7 bytes
        let mut next_random = crate::test_rng::xorshift(0x0dd_c0de_5eed);
        for round in 0..40 {
            let len = 1 + (next_random() % 700) as usize;
            let values: Vec<u64> = (0..len)
                .map(|_| {
                    let r = next_random();
                    if r.is_multiple_of(97) {
                        40 + (r >> 8) % 90
                    } else {
                        (r >> 8) % 3
                    }
                })
                .collect();
            let lead = (round % 8) as u32;
            let mut data = vec![0b1010_0110u8];
            data.extend(unary_bytes(&values, if round % 2 == 0 { 0 } else { 9 }));
            let start = |r: &mut BitReader<'_>| r.bits(lead).map(|_| ());
            for n in [len, len / 2, len.saturating_sub(1), 1] {
                let mut by_code = BitReader::new(&data, 0);
                start(&mut by_code).unwrap();
                let (mut pos, mut buf, mut count) = (by_code.pos, by_code.buf, by_code.count);
                let wanted: Vec<i64> = (0..n)
                    .map(|_| {
                        by_code
                            .checked_rice(0, &mut pos, &mut buf, &mut count)
                            .unwrap() as i64
                    })
                    .collect();
                (by_code.pos, by_code.buf, by_code.count) = (pos, buf, count);
                let mut forms = vec![(false, true), (false, false)];
                #[cfg(target_arch = "x86_64")]
                if crate::codec::cpu::has_avx512_vbmi2() {
                    forms.push((true, true));
                }
                for (vector, store) in forms {
                    let mut r = BitReader::new(&data, 0);
                    start(&mut r).unwrap();
                    let mut got = vec![-1i64; n];
                    let read = match (vector, store) {
                        #[cfg(target_arch = "x86_64")]
                        // SAFETY: the CPU runs AVX-512 VBMI2 (checked above).
                        (true, _) => unsafe { r.rice_zeros_avx512(&mut got, n) },
                        (false, true) => r.windows::<true, false>(&mut got, n),
                        (_, false) => r.windows::<false, false>(&mut [], n),
                    }
                    .unwrap();
                    // whatever the windows left is for the checked reader
                    let (mut pos, mut buf, mut count) = (r.pos, r.buf, r.count);
                    for slot in &mut got[read..] {
                        *slot = r.checked_rice(0, &mut pos, &mut buf, &mut count).unwrap() as i64;
                    }
                    let at = pos * 8 - count as usize;
                    let what = format!("round {round}, {n} codes, vector {vector}, store {store}");
                    if store {
                        assert_eq!(got, wanted, "{what}");
                    }
                    assert_eq!(at, by_code.bit_position(), "{what}");
                    if n == len && round % 2 == 1 {
                        assert!(read == n, "{what}: the windows stopped early at {read}");
                    }
                }
            }
        }
    }
}
