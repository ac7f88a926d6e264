//! CRC-16 of FLAC frames (polynomial 0x8005, MSB first, initial value 0).
//!
//! Two twins compute the same function: a table-driven one (eight bytes a
//! step) that runs everywhere, and one that folds 16-byte blocks with
//! carry-less multiplication (PCLMULQDQ) on x86-64 CPUs that have it: four
//! blocks side by side on long frames, sixteen in 512-bit registers where
//! the CPU has VPCLMULQDQ. The folding keeps a 128-bit value congruent to
//! the bytes read so far modulo the CRC polynomial; congruent messages have
//! the same CRC, so the table finishes the job on those 16 bytes and the
//! tail.

use std::sync::OnceLock;

/// The CRC polynomial without its x^16 term.
const POLY: u16 = 0x8005;

/// CRC-16 of `bytes`, with the fastest twin this CPU runs.
pub(super) fn crc16(bytes: &[u8]) -> u16 {
    #[cfg(target_arch = "x86_64")]
    if bytes.len() >= 32 && crate::codec::cpu::has_clmul() {
        let wide = crate::codec::cpu::has_avx512_clmul();
        // SAFETY: the CPU has PCLMULQDQ and SSSE3 (checked just above),
        // and VPCLMULQDQ with AVX-512 when `wide`.
        return unsafe { crc16_clmul(bytes, wide) };
    }
    crc16_table(bytes, 0)
}

/// Tables for eight bytes a step: `TABLE[t][b]` is the CRC of byte `b`
/// followed by `t` zero bytes.
fn tables() -> &'static [[u16; 256]; 8] {
    static TABLE: OnceLock<[[u16; 256]; 8]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [[0u16; 256]; 8];
        for i in 0..256u16 {
            let mut crc = i << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ POLY
                } else {
                    crc << 1
                };
            }
            table[0][i as usize] = crc;
        }
        for i in 0..256 {
            for t in 1..8 {
                let prev = table[t - 1][i];
                table[t][i] = (prev << 8) ^ table[0][(prev >> 8) as usize];
            }
        }
        table
    })
}

/// The portable twin: continues a CRC of earlier bytes, `crc`, over `bytes`.
pub(super) fn crc16_table(bytes: &[u8], mut crc: u16) -> u16 {
    let table = tables();
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let a = crc ^ u16::from_be_bytes([c[0], c[1]]);
        crc = table[7][(a >> 8) as usize]
            ^ table[6][(a & 0xFF) as usize]
            ^ table[5][c[2] as usize]
            ^ table[4][c[3] as usize]
            ^ table[3][c[4] as usize]
            ^ table[2][c[5] as usize]
            ^ table[1][c[6] as usize]
            ^ table[0][c[7] as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc << 8) ^ table[0][((crc >> 8) as u8 ^ b) as usize];
    }
    crc
}

/// x^n modulo the CRC polynomial (degree below 16).
const fn x_pow_mod(n: u32) -> u64 {
    let mut r: u32 = 1; // x^0
    let mut i = 0;
    while i < n {
        r <<= 1;
        if r & 0x1_0000 != 0 {
            r ^= 0x1_0000 | POLY as u32;
        }
        i += 1;
    }
    r as u64
}

/// Folding constants for a distance of `bits`: a 128-bit value
/// `hi·x^64 + lo` moved `bits` on is congruent to
/// `hi·x^(bits + 64) + lo·x^bits`, so to `hi·high + lo·low` with
/// `(high, low)` these remainders.
const fn fold_keys(bits: u32) -> (u64, u64) {
    (x_pow_mod(bits + 64), x_pow_mod(bits))
}

/// `acc`, a 128-bit value `hi·x^64 + lo`, moved on by the distance of
/// `(high, low)` (see [`fold_keys`]): the high half times the high key, the
/// low half times the low one.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "pclmulqdq,sse2")]
fn fold(acc: std::arch::x86_64::__m128i, (high, low): (u64, u64)) -> std::arch::x86_64::__m128i {
    use std::arch::x86_64::*;
    let keys = _mm_set_epi64x(high as i64, low as i64);
    _mm_xor_si128(
        _mm_clmulepi64_si128(acc, keys, 0x11),
        _mm_clmulepi64_si128(acc, keys, 0x00),
    )
}

/// Folding constants for moving block `b` of 16 (16 bytes each) to the
/// place of the last one.
#[cfg(target_arch = "x86_64")]
const TO_LAST: [(u64, u64); 16] = {
    let mut keys = [(0, 0); 16];
    let mut b = 0;
    while b < 15 {
        keys[b] = fold_keys(128 * (15 - b as u32));
        b += 1;
    }
    keys
};

/// Consecutive 16-byte blocks (1 to 16 of them), each moved to the last
/// one's place and added up: one 128-bit value congruent to them all.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "pclmulqdq,sse2")]
fn fold_to_last(blocks: &[std::arch::x86_64::__m128i]) -> std::arch::x86_64::__m128i {
    use std::arch::x86_64::*;
    let (&last, before) = blocks.split_last().expect("at least one block");
    let keys = &TO_LAST[TO_LAST.len() - blocks.len()..];
    before.iter().zip(keys).fold(last, |acc, (&block, &keys)| {
        _mm_xor_si128(acc, fold(block, keys))
    })
}

/// The folding twin (see the module comment); `bytes` holds at least 16.
/// From 128 bytes on, four accumulators take turns (each moves 64 bytes a
/// step), so that four multiplications are under way at once instead of
/// each waiting for the one before; they are folded into one at the end.
/// With `wide`, 512 bytes and more go through [`fold_wide`] first.
///
/// # Safety
/// The CPU must support PCLMULQDQ and SSSE3, and with `wide` AVX-512 (F,
/// BW) and VPCLMULQDQ.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq,ssse3,sse2")]
unsafe fn crc16_clmul(bytes: &[u8], wide: bool) -> u16 {
    use std::arch::x86_64::*;
    debug_assert!(bytes.len() >= 16);
    // byte order reversal: the first byte becomes the most significant
    let reverse = _mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    let load = |block: &[u8]| {
        // SAFETY: `block` holds at least 16 bytes; the load is unaligned.
        _mm_shuffle_epi8(_mm_loadu_si128(block[..16].as_ptr().cast()), reverse)
    };
    let (mut acc, rest) = if wide && bytes.len() >= 512 {
        // SAFETY: the CPU has what `fold_wide` needs (the caller's word).
        unsafe { fold_wide(bytes) }
    } else if bytes.len() >= 128 {
        let mut quads = bytes.chunks_exact(64);
        let first = quads.next().expect("at least 64 bytes");
        let mut lanes: [__m128i; 4] = std::array::from_fn(|j| load(&first[16 * j..]));
        let step = const { fold_keys(512) };
        for quad in &mut quads {
            for (j, lane) in lanes.iter_mut().enumerate() {
                *lane = _mm_xor_si128(fold(*lane, step), load(&quad[16 * j..]));
            }
        }
        (fold_to_last(&lanes), quads.remainder())
    } else {
        (load(bytes), &bytes[16..])
    };
    let step = const { fold_keys(128) };
    let mut blocks = rest.chunks_exact(16);
    for block in &mut blocks {
        acc = _mm_xor_si128(fold(acc, step), load(block));
    }
    let mut folded = [0u8; 16];
    _mm_storeu_si128(folded.as_mut_ptr().cast(), _mm_shuffle_epi8(acc, reverse));
    crc16_table(blocks.remainder(), crc16_table(&folded, 0))
}

/// The start of [`crc16_clmul`] in 512-bit registers: four accumulators
/// of four 16-byte blocks each, moving 256 bytes a step; returns a 128-bit
/// value congruent to the 256-byte steps read, and the bytes after them.
/// `bytes` holds at least 256.
///
/// # Safety
/// The CPU must support AVX-512 (F, BW), VPCLMULQDQ and PCLMULQDQ.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,vpclmulqdq,pclmulqdq,ssse3,sse2")]
unsafe fn fold_wide(bytes: &[u8]) -> (std::arch::x86_64::__m128i, &[u8]) {
    use std::arch::x86_64::*;
    // byte order reversal within each 16-byte block
    let reverse = _mm512_broadcast_i32x4(_mm_setr_epi8(
        15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
    ));
    let load = |quad: &[u8]| {
        // SAFETY: `quad` holds at least 64 bytes; the load is unaligned.
        _mm512_shuffle_epi8(_mm512_loadu_si512(quad[..64].as_ptr().cast()), reverse)
    };
    let (high, low) = const { fold_keys(2048) };
    let step = _mm512_broadcast_i32x4(_mm_set_epi64x(high as i64, low as i64));
    let mut steps = bytes.chunks_exact(256);
    let first = steps.next().expect("at least 256 bytes");
    let mut lanes: [__m512i; 4] = std::array::from_fn(|j| load(&first[64 * j..]));
    for next in &mut steps {
        for (j, lane) in lanes.iter_mut().enumerate() {
            let folded = _mm512_xor_si512(
                _mm512_clmulepi64_epi128(*lane, step, 0x11),
                _mm512_clmulepi64_epi128(*lane, step, 0x00),
            );
            *lane = _mm512_xor_si512(folded, load(&next[64 * j..]));
        }
    }
    // SAFETY: four 512-bit vectors are sixteen 128-bit ones, in memory
    // order (the blocks in the order they were read).
    let blocks: [__m128i; 16] = unsafe { std::mem::transmute(lanes) };
    (fold_to_last(&blocks), steps.remainder())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bitwise(bytes: &[u8]) -> u16 {
        bytes.iter().fold(0u16, |mut crc, &b| {
            crc ^= u16::from(b) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ POLY
                } else {
                    crc << 1
                };
            }
            crc
        })
    }

    #[test]
    fn known_value() {
        // CRC-16/BUYPASS check value
        assert_eq!(crc16(b"123456789"), 0xFEE8);
        assert_eq!(crc16_table(b"123456789", 0), 0xFEE8);
    }

    #[test]
    fn twins_agree_with_the_bitwise_definition() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let data: Vec<u8> = (0..5000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        for len in (0..200).chain([
            255, 256, 257, 511, 512, 513, 767, 768, 1023, 1024, 1279, 4096, 4999, 5000,
        ]) {
            let bytes = &data[data.len() - len..];
            let expected = bitwise(bytes);
            assert_eq!(crc16_table(bytes, 0), expected, "table, {len} bytes");
            assert_eq!(crc16(bytes), expected, "dispatched, {len} bytes");
            #[cfg(target_arch = "x86_64")]
            if len >= 16 && crate::codec::cpu::has_clmul() {
                // SAFETY: the CPU has the instructions (checked).
                assert_eq!(
                    unsafe { crc16_clmul(bytes, false) },
                    expected,
                    "clmul, {len} bytes"
                );
                if crate::codec::cpu::has_avx512_clmul() {
                    // SAFETY: as above.
                    assert_eq!(
                        unsafe { crc16_clmul(bytes, true) },
                        expected,
                        "wide clmul, {len} bytes"
                    );
                }
            }
        }
        // all-ones and all-zero blocks (carries of every folding step)
        for fill in [0u8, 0xFF] {
            let bytes = vec![fill; 1000];
            assert_eq!(crc16(&bytes), bitwise(&bytes));
        }
    }
}
