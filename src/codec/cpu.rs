//! What this CPU can run, each checked once: the instruction sets the
//! codec's faster paths are compiled for (each path falls back to portable
//! code, which gives the same output).

#![cfg(target_arch = "x86_64")]

use std::arch::is_x86_feature_detected as has;
use std::sync::OnceLock;

/// AVX2 and FMA: the side-by-side LPC restore and the `vectorized!` code.
pub(super) fn has_avx2_fma() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| has!("avx2") && has!("fma"))
}

/// AVX-512 with 256-bit forms and byte to quadword operations (x86-64-v4's
/// parts), unless `FLACARRAY_NO_AVX512` is set (the tests use it to cover
/// the AVX2 form on such CPUs).
pub(super) fn has_avx512() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        std::env::var_os("FLACARRAY_NO_AVX512").is_none()
            && has!("avx512f")
            && has!("avx512vl")
            && has!("avx512bw")
            && has!("avx512dq")
            && has_avx2_fma()
    })
}

/// [`has_avx512`] and AVX-512 IFMA (52-bit integer multiply-adds): the
/// side-by-side LPC restore of eight subframes.
pub(super) fn has_avx512_ifma() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| has_avx512() && has!("avx512ifma"))
}

/// [`has_avx512`] and VPCLMULQDQ (carry-less multiplication in 512-bit
/// registers): the CRC-16 of long frames.
pub(super) fn has_avx512_clmul() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| has_avx512() && has_clmul() && has!("vpclmulqdq"))
}

/// [`has_avx512`], AVX-512 CD (leading zero counts), VBMI (byte permutes)
/// and VBMI2 (funnel shifts, byte compresses): the decoder's Rice codes of
/// eight streams in lockstep, its unary codes and its verbatim samples.
pub(super) fn has_avx512_vbmi2() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        has_avx512() && has!("avx512cd") && has!("avx512vbmi") && has!("avx512vbmi2")
    })
}

/// LZCNT, BMI1/2 and POPCNT: the decoder's Rice codes.
pub(super) fn has_bmi2() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| has!("lzcnt") && has!("bmi1") && has!("bmi2") && has!("popcnt"))
}

/// PCLMULQDQ and SSSE3: the folding CRC-16.
pub(super) fn has_clmul() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| has!("pclmulqdq") && has!("ssse3"))
}
