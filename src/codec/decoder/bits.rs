//! The bit reader: bits MSB first from a byte slice, 64 bits at a time,
//! with Rice codes read in groups.

use super::corrupt;
use crate::error::{Error, Result};

/// Reads bits MSB first from a byte slice, 64 bits at a time.
#[derive(Clone)]
pub(super) struct BitReader<'a> {
    pub(super) data: &'a [u8],
    /// Next byte to load into `buf`.
    pub(super) pos: usize,
    /// Unread bits, left-aligned: the top `count` are valid, the rest are
    /// zero or the stream's next bits.
    pub(super) buf: u64,
    pub(super) count: u32,
}

/// [`BitReader::refill`] on the reader's parts (kept in registers by the
/// hot loops).
#[inline(always)]
pub(super) fn refill_parts(data: &[u8], pos: &mut usize, buf: &mut u64, count: &mut u32) {
    if let Some(chunk) = data.get(*pos..*pos + 8) {
        let word = u64::from_be_bytes(chunk.try_into().expect("8 bytes"));
        *buf |= word >> *count;
        let added = (63 - *count) >> 3;
        *pos += added as usize;
        *count += added * 8;
        // (bits below `count` now hold the start of the next byte, which
        // the next refill ORs in again at the same place)
    } else {
        while *count <= 56 && *pos < data.len() {
            *buf |= u64::from(data[*pos]) << (56 - *count);
            *pos += 1;
            *count += 8;
        }
    }
}

impl<'a> BitReader<'a> {
    pub(super) fn new(data: &'a [u8], start: usize) -> Self {
        BitReader {
            data,
            pos: start,
            buf: 0,
            count: 0,
        }
    }

    /// Loads bytes until at least 57 bits are buffered (or the data ends).
    #[inline(always)]
    pub(super) fn refill(&mut self) {
        refill_parts(self.data, &mut self.pos, &mut self.buf, &mut self.count);
    }

    /// The bit position in `data` of the next unread bit.
    pub(super) fn bit_position(&self) -> usize {
        self.pos * 8 - self.count as usize
    }

    pub(super) fn out_of_data() -> Error {
        corrupt("FLAC frame runs past the end of the stream")
    }

    /// Reads `n` <= 32 bits as an unsigned number.
    #[inline(always)]
    pub(super) fn bits(&mut self, n: u32) -> Result<u32> {
        if n == 0 {
            return Ok(0);
        }
        if self.count < n {
            self.refill();
            if self.count < n {
                return Err(Self::out_of_data());
            }
        }
        let value = (self.buf >> (64 - n)) as u32;
        self.buf <<= n;
        self.count -= n;
        Ok(value)
    }

    /// Reads `n` <= 32 bits as a two's complement signed number.
    #[inline(always)]
    pub(super) fn signed(&mut self, n: u32) -> Result<i32> {
        if n == 0 {
            return Ok(0);
        }
        let raw = self.bits(n)?;
        Ok(((raw << (32 - n)) as i32) >> (32 - n))
    }

    /// Reads `n` <= 33 bits as a signed number (33-bit side channels).
    pub(super) fn signed_wide(&mut self, n: u32) -> Result<i64> {
        if n <= 32 {
            return self.signed(n).map(i64::from);
        }
        let high = i64::from(self.signed(n - 32)?);
        let low = i64::from(self.bits(32)?);
        Ok((high << 32) | low)
    }

    /// Reads a unary number: zeros ended by a one.
    #[inline(always)]
    pub(super) fn unary(&mut self) -> Result<u32> {
        let mut zeros = 0u32;
        loop {
            if self.count == 0 {
                self.refill();
                if self.count == 0 {
                    return Err(Self::out_of_data());
                }
            }
            let lead = self.buf.leading_zeros();
            if lead < self.count {
                self.buf <<= lead;
                self.buf <<= 1;
                self.count -= lead + 1;
                return Ok(zeros + lead);
            }
            zeros += self.count;
            self.buf = 0;
            self.count = 0;
            if zeros > 1 << 30 {
                return Err(corrupt("FLAC residual has an impossible unary code"));
            }
        }
    }

    /// Reads `out.len()` signed numbers of `n` <= 32 bits each (verbatim
    /// samples). Each number's place is known in advance, so they are read
    /// independently of each other, eight bytes at a time.
    pub(super) fn signed_block(&mut self, n: u32, out: &mut [i64]) -> Result<()> {
        let start = self.bit_position();
        let end = start as u64 + out.len() as u64 * u64::from(n);
        if n == 0 || end > self.data.len() as u64 * 8 {
            for slot in out.iter_mut() {
                *slot = i64::from(self.signed(n)?);
            }
            return Ok(());
        }
        #[cfg(target_arch = "x86_64")]
        if crate::codec::cpu::has_avx512_vbmi2() && out.len() >= 8 {
            // SAFETY: the CPU runs AVX-512 VBMI (checked just above).
            let done = unsafe { signed_eights_avx512(self.data, start, n, out) };
            if done > 0 {
                self.seek(start + done * n as usize)?;
                return self.signed_block(n, &mut out[done..]);
            }
        }
        if start.is_multiple_of(8) && n.is_multiple_of(8) {
            // whole bytes from a byte boundary (a first channel's verbatim
            // samples of 8, 16, 24 or 32 bits): plain big-endian numbers
            let from = &self.data[start / 8..end.div_ceil(8) as usize];
            match n {
                8 => big_endian::<1>(from, out),
                16 => big_endian::<2>(from, out),
                24 => big_endian::<3>(from, out),
                _ => big_endian::<4>(from, out),
            }
            return self.seek(end as usize);
        }
        // numbers whose 8-byte load stays inside the data
        let fast = if self.data.len() < 8 {
            0
        } else {
            ((self.data.len() - 8) * 8 + 8)
                .saturating_sub(start)
                .div_ceil(n as usize)
                .min(out.len())
        };
        for (i, slot) in out[..fast].iter_mut().enumerate() {
            let at = start + i * n as usize;
            let word =
                u64::from_be_bytes(self.data[at / 8..at / 8 + 8].try_into().expect("8 bytes"));
            *slot = ((word << (at % 8)) as i64) >> (64 - n);
        }
        self.seek(start + fast * n as usize)?;
        for slot in out[fast..].iter_mut() {
            *slot = i64::from(self.signed(n)?);
        }
        Ok(())
    }

    /// Moves to bit `at` of the data (not past its end).
    pub(super) fn seek(&mut self, at: usize) -> Result<()> {
        if at > self.data.len() * 8 {
            return Err(Self::out_of_data());
        }
        self.pos = at / 8;
        self.buf = 0;
        self.count = 0;
        self.bits((at % 8) as u32)?;
        Ok(())
    }

    /// Steps over `n` bits.
    pub(super) fn skip(&mut self, n: u64) -> Result<()> {
        if n <= u64::from(self.count) {
            let n = n as u32;
            self.buf = if n == 64 { 0 } else { self.buf << n };
            self.count -= n;
            return Ok(());
        }
        let target = self.bit_position() as u64 + n;
        if target > self.data.len() as u64 * 8 {
            return Err(Self::out_of_data());
        }
        self.seek(target as usize)
    }

    /// Reads the zero bits up to the next byte boundary (nonzero padding
    /// is damage: libFLAC reports it as lost sync).
    pub(super) fn align(&mut self) -> Result<()> {
        let skip = self.count % 8;
        if skip > 0 && self.bits(skip)? != 0 {
            return Err(corrupt("FLAC frame has nonzero padding before its CRC-16"));
        }
        Ok(())
    }

    /// Decodes `out.len()` Rice codes with parameter `k` (< 32), storing
    /// each as its folded (zigzag-coded) unsigned value; [`unfold`] turns
    /// them into residuals.
    #[inline(always)]
    pub(super) fn rice(&mut self, k: u32, out: &mut [i64]) -> Result<()> {
        self.rice_codes::<true>(k, out, out.len())
    }

    /// Steps over `n` Rice codes with parameter `k` (parsed, not stored).
    #[inline(always)]
    pub(super) fn rice_skip(&mut self, k: u32, n: usize) -> Result<()> {
        self.rice_codes::<false>(k, &mut [], n)
    }

    /// `n` Rice codes, their folded values stored into `out` when `STORE`.
    ///
    /// Short codes (parameter up to 25) go through [`Self::rice_groups`]
    /// while the data has room; what it leaves (the partition's last codes,
    /// codes near the end of the data, large parameters) is read one
    /// checked code at a time.
    // (an index loop: `out` is empty when nothing is stored)
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    pub(super) fn rice_codes<const STORE: bool>(
        &mut self,
        k: u32,
        out: &mut [i64],
        n: usize,
    ) -> Result<()> {
        let done = match k {
            0 => self.rice_zeros::<STORE>(out, n)?,
            1..=11 => self.rice_groups::<STORE, 4>(k, out, n)?,
            12..=15 => self.rice_groups::<STORE, 3>(k, out, n)?,
            16..=25 => self.rice_groups::<STORE, 2>(k, out, n)?,
            _ => 0,
        };
        let (mut pos, mut buf, mut count) = (self.pos, self.buf, self.count);
        for j in done..n {
            let value = self.checked_rice(k, &mut pos, &mut buf, &mut count)?;
            if STORE {
                out[j] = value as i64;
            }
        }
        (self.pos, self.buf, self.count) = (pos, buf, count);
        Ok(())
    }

    /// Rice codes with parameter `k` <= 25 in groups of `G`, from the start
    /// of `out` (or of `n` codes when nothing is stored); returns how many
    /// were read, a multiple of `G`.
    ///
    /// Each group follows one untested refill (at least 56 bits buffered)
    /// and takes its codes without a test between them: the bits a group
    /// used are compared with the bits it had once, at its end. The rare
    /// group that did not fit (`G` codes of more than 56 bits together,
    /// which `G` is chosen against `k` to make unlikely) is read again code
    /// by code, checked. A code taken from the buffer has at most 63 bits,
    /// so with `k` <= 25 its value fits 32 bits: nothing else is tested.
    // (index loops: `dst` is empty when nothing is stored)
    #[allow(clippy::needless_range_loop)]
    #[inline(always)]
    pub(super) fn rice_groups<const STORE: bool, const G: usize>(
        &mut self,
        k: u32,
        out: &mut [i64],
        n: usize,
    ) -> Result<usize> {
        debug_assert!(k <= 25);
        let data = self.data;
        let (mut pos, mut buf, mut count) = (self.pos, self.buf, self.count);
        let tail = k + 1;
        let mut i = 0;
        while i + G <= n && pos + 8 <= data.len() {
            refill_fast(data, &mut pos, &mut buf, &mut count);
            let mut rest = buf;
            let mut zeros = 0u32;
            let dst: &mut [i64] = if STORE { &mut out[i..i + G] } else { &mut [] };
            for g in 0..G {
                let lead = rest.leading_zeros();
                // the code's bits, 1 and then the k remainder bits, after
                // the zeros (garbage when the buffer ran dry: the group is
                // then read again)
                let code = rest.wrapping_shl(lead) >> (63 - k);
                // `rest << tail` does not wait for the zeros' count, so
                // the chain from one code to the next is two steps
                rest = (rest << tail).wrapping_shl(lead);
                zeros += lead;
                if STORE {
                    dst[g] = ((u64::from(lead) << k) + code - (1u64 << k)) as i64;
                }
            }
            let used = zeros + G as u32 * tail;
            if used <= count {
                buf = rest;
                count -= used;
            } else {
                for g in 0..G {
                    let value = self.checked_rice(k, &mut pos, &mut buf, &mut count)?;
                    if STORE {
                        dst[g] = value as i64;
                    }
                }
            }
            i += G;
        }
        (self.pos, self.buf, self.count) = (pos, buf, count);
        Ok(i)
    }

    /// One Rice code with parameter `k`, on the reader's parts, refilled
    /// (checked) when the code does not fit what is buffered.
    #[inline(always)]
    pub(super) fn checked_rice(
        &mut self,
        k: u32,
        pos: &mut usize,
        buf: &mut u64,
        count: &mut u32,
    ) -> Result<u64> {
        let tail = 1 + k;
        let mut lead = buf.leading_zeros();
        if lead + tail > *count {
            refill_parts(self.data, pos, buf, count);
            lead = buf.leading_zeros();
        }
        if lead + tail <= *count {
            let len = lead + tail;
            let code = *buf >> (64 - len);
            // (len may be 64 here: the buffer then empties)
            *buf = buf.checked_shl(len).unwrap_or(0);
            *count -= len;
            let value = (u64::from(lead) << k) + code - (1u64 << k);
            if value > u64::from(u32::MAX) {
                return Err(corrupt("FLAC residual does not fit 32 bits"));
            }
            Ok(value)
        } else {
            (self.pos, self.buf, self.count) = (*pos, *buf, *count);
            let value = self.long_rice(k)?;
            (*pos, *buf, *count) = (self.pos, self.buf, self.count);
            Ok(value)
        }
    }

    /// One Rice code read field by field (longer than the bit buffer, or
    /// at the end of the data).
    #[cold]
    pub(super) fn long_rice(&mut self, k: u32) -> Result<u64> {
        let high = u64::from(self.unary()?);
        let value = (high << k) | u64::from(self.bits(k)?);
        if value > u64::from(u32::MAX) {
            return Err(corrupt("FLAC residual does not fit 32 bits"));
        }
        Ok(value)
    }
}

/// Signed big-endian numbers of `B` bytes each, one per slot of `out`
/// (`from` holds exactly that many).
#[inline(always)]
fn big_endian<const B: usize>(from: &[u8], out: &mut [i64]) {
    for (slot, bytes) in out.iter_mut().zip(from.chunks_exact(B)) {
        let mut word = [0u8; 8];
        word[..B].copy_from_slice(bytes);
        *slot = i64::from_be_bytes(word) >> (64 - 8 * B);
    }
}

/// [`BitReader::signed_block`]'s numbers eight at a time, from bit `start`
/// of `data`, for as many whole eights as one 64-byte load per eight
/// allows; returns how many numbers were read (a multiple of eight).
///
/// Eight numbers of `n` bits span `n` bytes, so every eight has the same
/// layout: number `i`'s bytes are put in big-endian order in lane `i` by
/// one byte permute, shifted left by its bit offset, then shifted right
/// (with its sign) to `n` bits.
///
/// # Safety
/// The CPU must run AVX-512 VBMI.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
unsafe fn signed_eights_avx512(data: &[u8], start: usize, n: u32, out: &mut [i64]) -> usize {
    use std::arch::x86_64::*;
    debug_assert!((1..=32).contains(&n));
    let n = n as usize;
    let mut order = [0u8; 64];
    let mut offsets = [0u64; 8];
    for (i, offset) in offsets.iter_mut().enumerate() {
        let bit = start % 8 + i * n;
        *offset = (bit % 8) as u64;
        // (a number and its shift take at most 39 bits: 5 bytes from
        // `bit / 8` <= 28, so every index stays below 64)
        for (j, place) in order[8 * i..8 * i + 8].iter_mut().enumerate() {
            *place = (bit / 8 + 7 - j) as u8;
        }
    }
    let order = _mm512_loadu_si512(order.as_ptr().cast());
    let offsets = _mm512_loadu_si512(offsets.as_ptr().cast());
    let right = _mm512_set1_epi64(64 - n as i64);
    let first = start / 8;
    // the eights whose 64-byte load ends within the data
    let eights = match data.len().checked_sub(first + 64) {
        Some(spare) => (spare / n + 1).min(out.len() / 8),
        None => 0,
    };
    for (e, eight) in out.chunks_exact_mut(8).take(eights).enumerate() {
        // SAFETY: `first + e * n + 64 <= data.len()` for every `e < eights`.
        let bytes = _mm512_loadu_si512(data.as_ptr().add(first + e * n).cast());
        let words = _mm512_permutexvar_epi8(order, bytes);
        let numbers = _mm512_srav_epi64(_mm512_sllv_epi64(words, offsets), right);
        _mm512_storeu_si512(eight.as_mut_ptr().cast(), numbers);
    }
    8 * eights
}

/// Refills the bit buffer to at least 56 bits without testing anything:
/// the caller makes sure 8 bytes follow `pos`.
#[inline(always)]
pub(super) fn refill_fast(data: &[u8], pos: &mut usize, buf: &mut u64, count: &mut u32) {
    let word = u64::from_be_bytes(data[*pos..*pos + 8].try_into().expect("8 bytes"));
    *buf |= word >> *count;
    *pos += ((63 - *count) >> 3) as usize;
    // count + 8 * ((63 - count) / 8), for count in 0..=63
    *count |= 56;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_block_reads_what_single_reads_read() {
        // every width, from every bit offset, near the data's end too: the
        // block paths (whole bytes, 8-byte loads, one at a time) agree
        // with reading the numbers one by one
        let mut next_random = crate::test_rng::xorshift(0x51ed_270b_2d3c_86f1);
        let data: Vec<u8> = (0..700).map(|_| next_random() as u8).collect();
        for n in 1..=32u32 {
            for start in [0, 1, 5, 7, 8, 16, 24, 40, 3 * 8 + 3] {
                for count in [0, 1, 7, 64, (data.len() * 8 - start) / n as usize] {
                    let mut block = BitReader::new(&data, 0);
                    block.skip(start as u64).unwrap();
                    let mut got = vec![0i64; count];
                    block.signed_block(n, &mut got).unwrap();
                    let mut single = BitReader::new(&data, 0);
                    single.skip(start as u64).unwrap();
                    let wanted: Vec<i64> = (0..count)
                        .map(|_| i64::from(single.signed(n).unwrap()))
                        .collect();
                    assert_eq!(got, wanted, "{n} bits from bit {start}, {count} numbers");
                    assert_eq!(block.bit_position(), single.bit_position());
                }
            }
        }
    }
}
