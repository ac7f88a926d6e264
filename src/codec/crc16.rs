//! CRC-16 of FLAC frames (polynomial 0x8005, MSB first, initial value 0).
//!
//! Two twins compute the same function: a table-driven one (eight bytes a
//! step) that runs everywhere, and one that folds 16 bytes a step with
//! carry-less multiplication (PCLMULQDQ) on x86-64 CPUs that have it. The
//! folding keeps a 128-bit value congruent to the bytes read so far modulo
//! the CRC polynomial; congruent messages have the same CRC, so the table
//! finishes the job on those 16 bytes and the tail.

use std::sync::OnceLock;

/// The CRC polynomial without its x^16 term.
const POLY: u16 = 0x8005;

/// CRC-16 of `bytes`, with the fastest twin this CPU runs.
pub(super) fn crc16(bytes: &[u8]) -> u16 {
    #[cfg(target_arch = "x86_64")]
    if bytes.len() >= 32 && crate::codec::cpu::has_clmul() {
        // SAFETY: the CPU has PCLMULQDQ and SSSE3 (checked just above).
        return unsafe { crc16_clmul(bytes) };
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

/// Folding constants: a 128-bit value `hi·x^64 + lo` moved 128 bits on is
/// congruent to `hi·K_192 + lo·K_128`.
const K_192: u64 = x_pow_mod(192);
const K_128: u64 = x_pow_mod(128);

/// The folding twin (see the module comment); `bytes` holds at least 16.
///
/// # Safety
/// The CPU must support PCLMULQDQ and SSSE3.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq,ssse3,sse2")]
unsafe fn crc16_clmul(bytes: &[u8]) -> u16 {
    use std::arch::x86_64::*;
    debug_assert!(bytes.len() >= 16);
    // byte order reversal: the first byte becomes the most significant
    let reverse = _mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    let keys = _mm_set_epi64x(K_192 as i64, K_128 as i64);
    let mut blocks = bytes.chunks_exact(16);
    let load = |block: &[u8]| {
        // SAFETY: `block` is 16 bytes long; the load is unaligned.
        _mm_shuffle_epi8(_mm_loadu_si128(block.as_ptr().cast()), reverse)
    };
    let mut acc = load(blocks.next().expect("at least 16 bytes"));
    for block in &mut blocks {
        // high half times K_192, low half times K_128, plus the next block
        let high = _mm_clmulepi64_si128(acc, keys, 0x11);
        let low = _mm_clmulepi64_si128(acc, keys, 0x00);
        acc = _mm_xor_si128(_mm_xor_si128(high, low), load(block));
    }
    let mut folded = [0u8; 16];
    _mm_storeu_si128(folded.as_mut_ptr().cast(), _mm_shuffle_epi8(acc, reverse));
    crc16_table(blocks.remainder(), crc16_table(&folded, 0))
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
        for len in (0..200).chain([255, 256, 257, 1023, 4096, 4999, 5000]) {
            let bytes = &data[data.len() - len..];
            let expected = bitwise(bytes);
            assert_eq!(crc16_table(bytes, 0), expected, "table, {len} bytes");
            assert_eq!(crc16(bytes), expected, "dispatched, {len} bytes");
            #[cfg(target_arch = "x86_64")]
            if len >= 16 && crate::codec::cpu::has_clmul() {
                // SAFETY: the CPU has the instructions (checked).
                assert_eq!(
                    unsafe { crc16_clmul(bytes) },
                    expected,
                    "clmul, {len} bytes"
                );
            }
        }
        // all-ones and all-zero blocks (carries of every folding step)
        for fill in [0u8, 0xFF] {
            let bytes = vec![fill; 1000];
            assert_eq!(crc16(&bytes), bitwise(&bytes));
        }
    }
}
