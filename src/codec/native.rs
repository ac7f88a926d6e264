//! Our own FLAC decoder: the default for every read.
//!
//! It reads standard FLAC streams — 1 or 2 channels (independent, or one of
//! the stereo decorrelation modes), 4–32 bits per sample, CONSTANT /
//! VERBATIM / FIXED / LPC subframes, Rice and Rice2 partitions with escape
//! codes, wasted bits, fixed and variable block sizes — checking every
//! frame header's CRC-8 and every fully read frame's CRC-16.
//!
//! A window `[first, first + out.len())` starts at the frame holding
//! `first` (found through the frame index search of [`super::frames`]) and
//! stops with the frame holding its last sample; in that frame samples are
//! reconstructed only up to the window's end (unless the window reaches
//! the stream's end: the stream's last frame is reconstructed whole, as
//! libFLAC does, so a damaged frame reaching past the stated end is
//! checked to its end). Its residuals are all read,
//! though: the frame's CRC-16 covers them, and only reading them says where
//! the frame ends. (Scanning for the next frame header instead was tried
//! and dropped: the differential fuzzer built a stream whose junk after a
//! short frame passed that check, where libFLAC reports lost sync.)
//!
//! Where it differs from a textbook decoder, for speed: Rice codes are read
//! in groups after one untested refill of a 64-bit bit buffer, with one
//! test per group, and stored folded, to be unfolded in a pass of their own
//! (or, for LPC subframes restored side by side, as they are loaded into
//! the lanes); verbatim samples are read from
//! their known bit positions independently of each other; the frame CRC-16
//! folds 16 bytes a step with carry-less multiplication ([`super::crc16`]);
//! up to four frames are read before their LPC subframes are restored
//! together, side by side in double-precision FMA lanes ([`super::lpc`]).
//!
//! What it returns matches libFLAC's decoder, including on damaged streams
//! whose CRCs are right: samples of channels of at most 32 bits are 32-bit
//! numbers (a prediction that overflows wraps around, as in libFLAC's
//! 32-bit buffers), and a frame holding samples wider than its bits per
//! sample is refused. A window checks only the samples it reconstructs.
//!
//! Safe Rust except the Rice loop built for BMI2, the CRC's PCLMULQDQ twin
//! and the AVX2/FMA predictor, each behind a runtime CPU check with a
//! portable twin and a test comparing them. Scratch buffers are reused per thread, so decoding
//! allocates nothing per frame once they have grown.

use std::cell::RefCell;

use super::crc16::crc16;
use super::frames::{crc8, StreamInfo};
use super::lpc::{fits, restore, restore_batch, shift_wasted, unfold, Pending, LANES};
use super::Outcome;
use crate::error::{Error, Result};

fn corrupt(message: impl Into<String>) -> Error {
    Error::corrupt(message)
}

/// Reads bits MSB first from a byte slice, 64 bits at a time.
#[derive(Clone)]
struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte to load into `buf`.
    pos: usize,
    /// Unread bits, left-aligned: the top `count` are valid, the rest are
    /// zero or the stream's next bits.
    buf: u64,
    count: u32,
}

/// [`BitReader::refill`] on the reader's parts (kept in registers by the
/// hot loops).
#[inline(always)]
fn refill_parts(data: &[u8], pos: &mut usize, buf: &mut u64, count: &mut u32) {
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
    fn new(data: &'a [u8], start: usize) -> Self {
        BitReader {
            data,
            pos: start,
            buf: 0,
            count: 0,
        }
    }

    /// Loads bytes until at least 57 bits are buffered (or the data ends).
    #[inline(always)]
    fn refill(&mut self) {
        refill_parts(self.data, &mut self.pos, &mut self.buf, &mut self.count);
    }

    /// The bit position in `data` of the next unread bit.
    fn bit_position(&self) -> usize {
        self.pos * 8 - self.count as usize
    }

    fn out_of_data() -> Error {
        corrupt("FLAC frame runs past the end of the stream")
    }

    /// Reads `n` <= 32 bits as an unsigned number.
    #[inline(always)]
    fn bits(&mut self, n: u32) -> Result<u32> {
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
    fn signed(&mut self, n: u32) -> Result<i32> {
        if n == 0 {
            return Ok(0);
        }
        let raw = self.bits(n)?;
        Ok(((raw << (32 - n)) as i32) >> (32 - n))
    }

    /// Reads `n` <= 33 bits as a signed number (33-bit side channels).
    fn signed_wide(&mut self, n: u32) -> Result<i64> {
        if n <= 32 {
            return self.signed(n).map(i64::from);
        }
        let high = i64::from(self.signed(n - 32)?);
        let low = i64::from(self.bits(32)?);
        Ok((high << 32) | low)
    }

    /// Reads a unary number: zeros ended by a one.
    #[inline(always)]
    fn unary(&mut self) -> Result<u32> {
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
    fn signed_block(&mut self, n: u32, out: &mut [i64]) -> Result<()> {
        let start = self.bit_position();
        let end = start as u64 + out.len() as u64 * u64::from(n);
        if n == 0 || end > self.data.len() as u64 * 8 {
            for slot in out.iter_mut() {
                *slot = i64::from(self.signed(n)?);
            }
            return Ok(());
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
    fn seek(&mut self, at: usize) -> Result<()> {
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
    fn skip(&mut self, n: u64) -> Result<()> {
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
    fn align(&mut self) -> Result<()> {
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
    fn rice(&mut self, k: u32, out: &mut [i64]) -> Result<()> {
        self.rice_codes::<true>(k, out, out.len())
    }

    /// Steps over `n` Rice codes with parameter `k` (parsed, not stored).
    #[inline(always)]
    fn rice_skip(&mut self, k: u32, n: usize) -> Result<()> {
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
    fn rice_codes<const STORE: bool>(&mut self, k: u32, out: &mut [i64], n: usize) -> Result<()> {
        let done = match k {
            0..=11 => self.rice_groups::<STORE, 4>(k, out, n)?,
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
    fn rice_groups<const STORE: bool, const G: usize>(
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
    fn checked_rice(
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
    fn long_rice(&mut self, k: u32) -> Result<u64> {
        let high = u64::from(self.unary()?);
        let value = (high << k) | u64::from(self.bits(k)?);
        if value > u64::from(u32::MAX) {
            return Err(corrupt("FLAC residual does not fit 32 bits"));
        }
        Ok(value)
    }
}

/// Refills the bit buffer to at least 56 bits without testing anything:
/// the caller makes sure 8 bytes follow `pos`.
#[inline(always)]
fn refill_fast(data: &[u8], pos: &mut usize, buf: &mut u64, count: &mut u32) {
    let word = u64::from_be_bytes(data[*pos..*pos + 8].try_into().expect("8 bytes"));
    *buf |= word >> *count;
    *pos += ((63 - *count) >> 3) as usize;
    // count + 8 * ((63 - count) / 8), for count in 0..=63
    *count |= 56;
}

/// How a frame's two channels are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Channels as they are (1 or 2).
    Independent(usize),
    LeftSide,
    SideRight,
    MidSide,
}

impl Layout {
    fn channels(self) -> usize {
        match self {
            Layout::Independent(n) => n,
            _ => 2,
        }
    }
}

/// A parsed frame header.
struct FrameHeader {
    block_size: usize,
    layout: Layout,
    bits_per_sample: u32,
    /// First sample of the frame.
    start: u64,
}

fn read_utf8_number(r: &mut BitReader<'_>) -> Result<u64> {
    let first = r.bits(8)?;
    let extra = match (first as u8).leading_ones() {
        0 => return Ok(u64::from(first)),
        1 => return Err(corrupt("FLAC frame number is not a valid coded number")),
        n @ 2..=7 => n - 1,
        _ => 6,
    };
    let mut value = u64::from(first & (0x7F >> (extra + 1)));
    for _ in 0..extra {
        let b = r.bits(8)?;
        if b & 0xC0 != 0x80 {
            return Err(corrupt("FLAC frame number is not a valid coded number"));
        }
        value = (value << 6) | u64::from(b & 0x3F);
    }
    Ok(value)
}

fn read_frame_header(r: &mut BitReader<'_>, info: &StreamInfo) -> Result<FrameHeader> {
    let header_start = r.bit_position() / 8;
    let sync = r.bits(15)?;
    if sync != 0x7FFC {
        return Err(corrupt("FLAC frame does not start with a sync code"));
    }
    let variable = r.bits(1)? == 1;
    let size_code = r.bits(4)?;
    let rate_code = r.bits(4)?;
    let channel_code = r.bits(4)?;
    let depth_code = r.bits(3)?;
    if r.bits(1)? != 0 {
        return Err(corrupt("FLAC frame header has its reserved bit set"));
    }
    let number = read_utf8_number(r)?;
    let block_size = match size_code {
        0 => return Err(corrupt("FLAC frame header uses a reserved block size")),
        1 => 192,
        2..=5 => 576 << (size_code - 2),
        6 => r.bits(8)? as usize + 1,
        7 => r.bits(16)? as usize + 1,
        _ => 256 << (size_code - 8),
    };
    match rate_code {
        12 => {
            r.bits(8)?;
        }
        13 | 14 => {
            r.bits(16)?;
        }
        15 => return Err(corrupt("FLAC frame header has an invalid sample rate")),
        _ => {}
    }
    let header_end = r.bit_position() / 8;
    let crc = r.bits(8)? as u8;
    if crc8(&r.data[header_start..header_end]) != crc {
        return Err(corrupt("FLAC frame header CRC-8 mismatch"));
    }
    let layout = match channel_code {
        0..=7 => Layout::Independent(channel_code as usize + 1),
        8 => Layout::LeftSide,
        9 => Layout::SideRight,
        10 => Layout::MidSide,
        _ => return Err(corrupt("FLAC frame header uses a reserved channel layout")),
    };
    // (a frame's channel count may differ from STREAMINFO's, as libFLAC
    // allows; each frame's samples are combined by its own count)
    let bits_per_sample = match depth_code {
        0 => info.bits_per_sample,
        1 => 8,
        2 => 12,
        3 => return Err(corrupt("FLAC frame header uses a reserved sample size")),
        4 => 16,
        5 => 20,
        6 => 24,
        _ => 32,
    };
    // The coded number is the frame's first sample in variable-blocking
    // frames, and also — as libFLAC reads it — in any frame of a stream
    // whose STREAMINFO gives different smallest and largest block sizes;
    // otherwise it counts blocks of the stream's one block size.
    let start = if variable || info.min_block_size != info.max_block_size {
        number
    } else {
        number
            .checked_mul(u64::from(info.max_block_size))
            .ok_or_else(|| corrupt("FLAC frame number is impossible"))?
    };
    Ok(FrameHeader {
        block_size,
        layout,
        bits_per_sample,
        start,
    })
}

/// The fixed predictors' coefficients, orders 0..=4.
const FIXED: [&[i64]; 5] = [&[], &[1], &[2, -1], &[3, -3, 1], &[4, -6, 4, -1]];

/// Frames decoded before their LPC subframes are restored together (see
/// [`restore_batch`]).
const IN_FLIGHT: usize = LANES;

/// Per-thread buffers: two channels for each frame in flight (residuals
/// are decoded in place, then turned into samples), and the batch
/// restore's lanes.
#[derive(Default)]
struct Scratch {
    samples: [Vec<i64>; 2 * IN_FLIGHT],
    lanes: Vec<[f64; LANES]>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Decodes one subframe's first `needed` samples (of `block`) into `out`,
/// reading its residuals only that far — unless `whole`, when every
/// residual is read (the next subframe starts after them).
///
/// Returns whether the samples fit `bits`.
///
/// Samples of channels of at most 32 bits are 32-bit numbers, as libFLAC
/// stores them: a prediction that overflows wraps around. Exact 64-bit
/// arithmetic gives the same samples unless one leaves the 32-bit range,
/// so the subframe is decoded exactly and, only if a sample left the range
/// (a damaged but CRC-correct stream), read again wrapping every step.
///
/// With `defer`, an LPC subframe of at most 32 bits is left unrestored for
/// [`restore_batch`].
fn read_subframe(
    r: &mut BitReader<'_>,
    bits: u32,
    block: usize,
    needed: usize,
    whole: bool,
    defer: bool,
    out: &mut [i64],
) -> Result<Subframe> {
    let start = r.clone();
    let defer = defer && bits <= 32;
    if let Some(pending) = read_subframe_with::<false>(r, bits, block, needed, whole, defer, out)? {
        return Ok(Subframe::Pending(pending));
    }
    if bits > 32 || fits(&out[..needed], bits) {
        return Ok(Subframe::Restored(true));
    }
    if !fits(&out[..needed], 32) {
        *r = start;
        read_subframe_with::<true>(r, bits, block, needed, whole, false, out)?;
    }
    Ok(Subframe::Restored(fits(&out[..needed], bits)))
}

/// What [`read_subframe`] left in the channel's buffer.
// (a box would allocate for every subframe; the value only passes up one call)
#[allow(clippy::large_enum_variant)]
enum Subframe {
    /// Samples; whether they fit the channel's bits.
    Restored(bool),
    /// Warm-up samples and residuals of an LPC subframe to restore.
    Pending(Pending),
}

/// [`read_subframe`]'s decoding, wrapping samples to 32 bits with `WRAP`;
/// with `defer`, an LPC subframe is returned unrestored.
fn read_subframe_with<const WRAP: bool>(
    r: &mut BitReader<'_>,
    bits: u32,
    block: usize,
    needed: usize,
    whole: bool,
    defer: bool,
    out: &mut [i64],
) -> Result<Option<Pending>> {
    if r.bits(1)? != 0 {
        return Err(corrupt("FLAC subframe header has its padding bit set"));
    }
    let kind = r.bits(6)?;
    let wasted = if r.bits(1)? == 1 { r.unary()? + 1 } else { 0 };
    if wasted >= bits {
        return Err(corrupt(
            "FLAC subframe has more wasted bits than its sample size",
        ));
    }
    let bits = bits - wasted;
    let out = &mut out[..block];
    match kind {
        0 => {
            let value = r.signed_wide(bits)?;
            out[..needed].fill(value);
        }
        1 => {
            if bits <= 32 {
                r.signed_block(bits, &mut out[..needed])?;
            } else {
                for slot in out[..needed].iter_mut() {
                    *slot = r.signed_wide(bits)?;
                }
            }
            if whole {
                // the rest is not needed: step over it
                r.skip((block - needed) as u64 * u64::from(bits))?;
            }
        }
        8..=12 => {
            let order = (kind - 8) as usize;
            if order > block {
                return Err(corrupt("FLAC fixed predictor order exceeds the block size"));
            }
            for slot in out[..order].iter_mut() {
                *slot = r.signed_wide(bits)?;
            }
            read_residual(r, order, block, needed, whole, out)?;
            unfold(&mut out[order..needed.max(order)]);
            restore::<WRAP>(out, FIXED[order], 0, 0, needed);
        }
        32..=63 => {
            let order = (kind - 31) as usize;
            if order > block {
                return Err(corrupt("FLAC LPC order exceeds the block size"));
            }
            for slot in out[..order].iter_mut() {
                *slot = r.signed_wide(bits)?;
            }
            let precision = r.bits(4)? + 1;
            if precision == 16 {
                return Err(corrupt("FLAC LPC subframe uses the invalid precision 15"));
            }
            let shift = r.signed(5)?;
            if shift < 0 {
                return Err(corrupt("FLAC LPC subframe has a negative shift"));
            }
            let mut coefs = [0i64; 32];
            for c in coefs[..order].iter_mut() {
                *c = i64::from(r.signed(precision)?);
            }
            read_residual(r, order, block, needed, whole, out)?;
            if defer {
                // (its residuals stay folded: the batch unfolds them as it
                // loads them)
                return Ok(Some(Pending {
                    coefs,
                    order,
                    shift: shift as u32,
                    bits: bits + wasted,
                    wasted,
                    needed,
                }));
            }
            unfold(&mut out[order..needed.max(order)]);
            restore::<WRAP>(out, &coefs[..order], shift as u32, 0, needed);
        }
        _ => {
            return Err(corrupt(format!(
                "FLAC subframe has the reserved type {kind}"
            )))
        }
    }
    shift_wasted::<WRAP>(&mut out[..needed], wasted);
    Ok(None)
}

/// Reads the residuals of a predicted subframe (samples `order..`), up to
/// sample `needed` (all with `whole`), into `out[order..]`, folded (see
/// [`unfold`]).
fn read_residual(
    r: &mut BitReader<'_>,
    order: usize,
    block: usize,
    needed: usize,
    whole: bool,
    out: &mut [i64],
) -> Result<()> {
    let method = r.bits(2)?;
    let param_bits = match method {
        0 => 4,
        1 => 5,
        _ => return Err(corrupt("FLAC residual uses a reserved coding method")),
    };
    let escape = (1 << param_bits) - 1;
    let partition_order = r.bits(4)?;
    let partitions = 1usize << partition_order;
    if block % partitions != 0 || block / partitions < order {
        return Err(corrupt("FLAC residual partitions do not fit the block"));
    }
    let per_partition = block / partitions;
    let residual = &mut out[order..block];
    // residuals stored up to `keep`, parsed (not stored) up to `stop`
    let keep = needed.max(order);
    let stop = if whole { block } else { keep };
    let mut sample = 0usize; // residual index of the partition's start
    for p in 0..partitions {
        let count = if p == 0 {
            per_partition - order
        } else {
            per_partition
        };
        if sample + order >= stop {
            break;
        }
        let param = r.bits(param_bits)?;
        let store = keep.saturating_sub(order + sample).min(count);
        let parse = (stop - order - sample).min(count) - store;
        let slots = &mut residual[sample..sample + store];
        if param == escape {
            let raw_bits = r.bits(5)?;
            for slot in slots.iter_mut() {
                // folded like the Rice values around it
                let v = i64::from(r.signed(raw_bits)?);
                *slot = (v << 1) ^ (v >> 63);
            }
            r.skip(parse as u64 * u64::from(raw_bits))?;
        } else {
            rice_block(r, param, slots)?;
            if parse > 0 {
                rice_skip_block(r, param, parse)?;
            }
        }
        sample += count;
    }
    Ok(())
}

/// Decodes a partition's Rice codes, with the bit-manipulation
/// instructions (LZCNT, BMI2 shifts) when the CPU has them.
#[inline(always)]
fn rice_block(r: &mut BitReader<'_>, k: u32, out: &mut [i64]) -> Result<()> {
    #[cfg(target_arch = "x86_64")]
    if has_bmi2() {
        // SAFETY: the CPU supports LZCNT and BMI1/2 (checked just above);
        // the function is otherwise the portable one compiled for them.
        return unsafe { rice_block_bmi2(r, k, out) };
    }
    r.rice(k, out)
}

/// Steps over a partition's Rice codes (see [`rice_block`]).
#[inline(always)]
fn rice_skip_block(r: &mut BitReader<'_>, k: u32, n: usize) -> Result<()> {
    #[cfg(target_arch = "x86_64")]
    if has_bmi2() {
        // SAFETY: the CPU supports LZCNT and BMI1/2 (checked just above);
        // the function is otherwise the portable one compiled for them.
        return unsafe { rice_skip_block_bmi2(r, k, n) };
    }
    r.rice_skip(k, n)
}

/// [`BitReader::rice_skip`] compiled with LZCNT and BMI1/2 (scalar twin:
/// the portable build; `tests::rice_twins_agree` compares them).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "lzcnt,bmi1,bmi2")]
unsafe fn rice_skip_block_bmi2(r: &mut BitReader<'_>, k: u32, n: usize) -> Result<()> {
    r.rice_skip(k, n)
}

/// [`BitReader::rice`] compiled with LZCNT and BMI1/2 (its scalar twin is
/// the portable build; `tests::rice_twins_agree` compares them).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "lzcnt,bmi1,bmi2")]
unsafe fn rice_block_bmi2(r: &mut BitReader<'_>, k: u32, out: &mut [i64]) -> Result<()> {
    r.rice(k, out)
}

/// Whether this CPU has LZCNT and BMI1/2 (checked once).
#[cfg(target_arch = "x86_64")]
fn has_bmi2() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| {
        std::arch::is_x86_feature_detected!("lzcnt")
            && std::arch::is_x86_feature_detected!("bmi1")
            && std::arch::is_x86_feature_detected!("bmi2")
    })
}

/// Decodes frames from byte `from` on, writing samples
/// `first .. first + out.len()` (of a stream of `stream_len` samples)
/// through `convert`.
pub(super) fn run<T, F: Fn(i64) -> T>(
    bytes: &[u8],
    info: &StreamInfo,
    from: usize,
    first: u64,
    stream_len: u64,
    out: &mut [T],
    convert: &F,
) -> Result<Outcome> {
    let r = BitReader::new(bytes, from);
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => run_with(r, info, first, stream_len, out, convert, &mut scratch),
        Err(_) => run_with(
            r,
            info,
            first,
            stream_len,
            out,
            convert,
            &mut Scratch::default(),
        ),
    })
}

fn run_with<T, F: Fn(i64) -> T>(
    mut r: BitReader<'_>,
    info: &StreamInfo,
    first: u64,
    stream_len: u64,
    out: &mut [T],
    convert: &F,
    scratch: &mut Scratch,
) -> Result<Outcome> {
    let bytes = r.data;
    let end = first + out.len() as u64;
    let mut expected: Option<u64> = None;
    let mut written = 0usize;
    // Frames read whose LPC subframes wait to be restored together.
    let mut flight = Flight::default();
    let max_block = info.max_block_size.max(16) as usize;
    for buf in scratch.samples.iter_mut() {
        if buf.len() < max_block {
            buf.resize(max_block, 0);
        }
    }
    loop {
        let frame_start = r.bit_position() / 8;
        if frame_start >= bytes.len() {
            written += flight.land(scratch, first, out, convert)?;
            return Ok(Outcome::Ended(written));
        }
        let header = read_frame_header(&mut r, info)?;
        match expected {
            Some(next) if next != header.start => {
                return Err(corrupt(format!(
                    "FLAC frame starting at sample {} follows sample {next}",
                    header.start
                )))
            }
            None if header.start > first => return Ok(Outcome::StartedLate),
            _ => {}
        }
        let block = header.block_size;
        // STREAMINFO's largest block is only a hint (libFLAC does not hold
        // frames to it either); a frame holds at most 65536 samples.
        for buf in scratch.samples.iter_mut() {
            if buf.len() < block {
                buf.resize(block, 0);
            }
        }
        let frame_end_sample = header.start + block as u64;
        expected = Some(frame_end_sample);
        let slot = flight.frames;
        let [a, b] = &mut scratch.samples[2 * slot..2 * slot + 2] else {
            unreachable!("two buffers per frame")
        };
        if frame_end_sample <= first {
            // a frame before the window (the located frame may be early):
            // decode it whole, only to get past it
            let frame = decode_frame(&mut r, &header, block, false, a, b)?;
            check_crc(&mut r, bytes, frame_start)?;
            frame.finish(a, b)?;
            continue;
        }
        // samples of this frame the window needs, from the frame's start;
        // a window reaching the stream's end takes its last frame whole,
        // as libFLAC does, so samples past the stated end (a damaged
        // stream) are checked too
        let last = frame_end_sample >= end;
        let stream_end = last && end >= stream_len;
        let needed = if stream_end {
            block
        } else {
            (end.min(frame_end_sample) - header.start) as usize
        };
        // Every residual of the frame is read (its CRC-16 covers them all,
        // and only reading them says where the frame ends), but samples
        // are reconstructed only up to the window's end.
        let frame = decode_frame(&mut r, &header, needed, true, a, b)?;
        check_crc(&mut r, bytes, frame_start)?;
        if stream_end {
            super::check_stream_end(
                frame_end_sample,
                stream_len,
                r.bit_position() / 8,
                bytes.len(),
            )?;
        }
        if frame.pending.iter().all(Option::is_none) {
            // nothing to wait for: out at once, while it is in cache
            frame.finish(a, b)?;
            written += frame.emit(a, b, first, out, convert);
        } else {
            flight.add(frame);
        }
        if last || flight.frames == IN_FLIGHT {
            written += flight.land(scratch, first, out, convert)?;
        }
        if last {
            return Ok(Outcome::Complete);
        }
    }
}

/// A frame read into its two channel buffers.
#[derive(Clone, Copy)]
struct Frame {
    /// The frame's first sample, and how many of its samples are decoded.
    start: u64,
    needed: usize,
    layout: Layout,
    bits: u32,
    /// Per channel: whether its samples fit the frame's bits (`None` while
    /// it waits to be restored).
    narrow: [Option<bool>; 2],
    /// LPC subframes waiting to be restored.
    pending: [Option<Pending>; 2],
}

impl Frame {
    /// Once every channel is restored: undoes stereo decorrelation and
    /// checks that the samples fit the frame's bits per sample (a
    /// CRC-correct frame can still hold wider ones; libFLAC refuses such
    /// frames too).
    fn finish(&self, a: &mut [i64], b: &mut [i64]) -> Result<()> {
        let (needed, bits) = (self.needed, self.bits);
        let channels = self.layout.channels();
        match self.layout {
            Layout::Independent(_) => {}
            Layout::LeftSide => {
                for (left, side) in a[..needed].iter().zip(b[..needed].iter_mut()) {
                    *side = left - *side;
                }
            }
            Layout::SideRight => {
                for (side, right) in a[..needed].iter_mut().zip(&b[..needed]) {
                    *side += right;
                }
            }
            Layout::MidSide => {
                for (mid, side) in a[..needed].iter_mut().zip(b[..needed].iter_mut()) {
                    let m = (*mid << 1) | (*side & 1);
                    let s = *side;
                    *mid = (m + s) >> 1;
                    *side = (m - s) >> 1;
                }
            }
        }
        let wide = if self.layout == Layout::Independent(channels) {
            let mut wide = false;
            for (c, samples) in [&a[..needed], &b[..needed]]
                .into_iter()
                .enumerate()
                .take(channels)
            {
                wide |= !self.narrow[c].unwrap_or_else(|| bits >= 32 || fits(samples, bits));
            }
            wide
        } else {
            // the decorrelated channels are 32-bit samples, as libFLAC
            // keeps them
            for v in a[..needed].iter_mut().chain(b[..needed].iter_mut()) {
                *v = i64::from(*v as i32);
            }
            bits < 32 && !(fits(&a[..needed], bits) && fits(&b[..needed], bits))
        };
        if wide {
            return Err(corrupt(format!(
                "FLAC frame holds samples wider than its {bits} bits"
            )));
        }
        Ok(())
    }

    /// Writes the samples that fall in the window starting at `first`;
    /// returns how many.
    fn emit<T, F: Fn(i64) -> T>(
        &self,
        a: &[i64],
        b: &[i64],
        first: u64,
        out: &mut [T],
        convert: &F,
    ) -> usize {
        let lo = first.max(self.start);
        let hi = (first + out.len() as u64).min(self.start + self.needed as u64);
        let src = (lo - self.start) as usize..(hi - self.start) as usize;
        let dst = &mut out[(lo - first) as usize..(lo - first) as usize + src.len()];
        if self.layout.channels() == 1 {
            for (d, &s) in dst.iter_mut().zip(&a[src]) {
                *d = convert(s);
            }
        } else {
            for (d, (&l, &h)) in dst.iter_mut().zip(a[src.clone()].iter().zip(&b[src])) {
                *d = convert((h << 32) | i64::from(l as u32));
            }
        }
        dst.len()
    }
}

/// Frames in the scratch buffers (frame `f` in buffers `2f` and `2f + 1`)
/// waiting for their LPC subframes to be restored.
#[derive(Default)]
struct Flight {
    frames: usize,
    waiting: [Option<Frame>; IN_FLIGHT],
}

impl Flight {
    fn add(&mut self, frame: Frame) {
        self.waiting[self.frames] = Some(frame);
        self.frames += 1;
    }

    /// Records that the subframes in buffers `owners` are restored, and
    /// whether their samples fit their bits.
    fn restored(&mut self, owners: &[usize], narrow: [bool; LANES]) {
        for (&index, fit) in owners.iter().zip(narrow) {
            if let Some(frame) = self.waiting[index / 2].as_mut() {
                frame.narrow[index % 2] = Some(fit);
            }
        }
    }

    /// Restores the waiting subframes, [`LANES`] at a time, then finishes
    /// each frame and writes its samples out; returns how many.
    fn land<T, F: Fn(i64) -> T>(
        &mut self,
        scratch: &mut Scratch,
        first: u64,
        out: &mut [T],
        convert: &F,
    ) -> Result<usize> {
        if self.frames == 0 {
            return Ok(0);
        }
        let Scratch { samples, lanes } = scratch;
        {
            let mut batch: [Option<(&mut [i64], Pending)>; LANES] = Default::default();
            // which buffer each place of the batch holds
            let mut owners = [0usize; LANES];
            let mut count = 0;
            for (index, buffer) in samples.iter_mut().enumerate() {
                let pending = self.waiting[index / 2]
                    .as_ref()
                    .and_then(|frame| frame.pending[index % 2]);
                if let Some(pending) = pending {
                    batch[count] = Some((&mut buffer[..], pending));
                    owners[count] = index;
                    count += 1;
                    if count == LANES {
                        let narrow = restore_ready(&mut batch, lanes);
                        self.restored(&owners, narrow);
                        count = 0;
                    }
                }
            }
            let narrow = restore_ready(&mut batch, lanes);
            self.restored(&owners[..count], narrow);
        }
        let mut written = 0;
        for (f, frame) in self.waiting[..self.frames].iter_mut().enumerate() {
            let frame = frame.take().expect("a frame in flight");
            let [a, b] = &mut samples[2 * f..2 * f + 2] else {
                unreachable!("two buffers per frame")
            };
            frame.finish(a, b)?;
            written += frame.emit(a, b, first, out, convert);
        }
        self.frames = 0;
        Ok(written)
    }
}

/// Restores the subframes gathered in `batch` (emptying it); returns,
/// per place, whether the samples fit their channel's bits.
fn restore_ready(
    batch: &mut [Option<(&mut [i64], Pending)>; LANES],
    lanes: &mut Vec<[f64; LANES]>,
) -> [bool; LANES] {
    let taken = std::mem::take(batch);
    let mut ready: [(&mut [i64], Pending); LANES] = taken.map(|entry| match entry {
        Some(entry) => entry,
        None => (&mut [][..], EMPTY),
    });
    let count = ready.iter().take_while(|(b, _)| !b.is_empty()).count();
    restore_batch(&mut ready[..count], lanes)
}

/// A placeholder for unused batch places (never restored).
const EMPTY: Pending = Pending {
    coefs: [0; 32],
    order: 0,
    shift: 0,
    bits: 32,
    wasted: 0,
    needed: 0,
};

fn check_crc(r: &mut BitReader<'_>, bytes: &[u8], frame_start: usize) -> Result<()> {
    r.align()?;
    let crc_at = r.bit_position() / 8;
    let stored = r.bits(16)? as u16;
    if crc16(&bytes[frame_start..crc_at]) != stored {
        return Err(corrupt("FLAC frame CRC-16 mismatch"));
    }
    Ok(())
}

/// Decodes the first `needed` samples of every channel of a frame into
/// `a` and `b` (every residual is read). With `defer`, LPC subframes of at
/// most 32 bits are left unrestored (the returned frame lists them); stereo
/// decorrelation and the width check are [`Frame::finish`]'s.
fn decode_frame(
    r: &mut BitReader<'_>,
    header: &FrameHeader,
    needed: usize,
    defer: bool,
    a: &mut [i64],
    b: &mut [i64],
) -> Result<Frame> {
    let block = header.block_size;
    let channels = header.layout.channels();
    if channels > 2 {
        return Err(corrupt(format!(
            "FLAC frame has {channels} channels; 1 or 2 are read"
        )));
    }
    let bits = header.bits_per_sample;
    let mut frame = Frame {
        start: header.start,
        needed,
        layout: header.layout,
        bits,
        narrow: [Some(true); 2],
        pending: [None; 2],
    };
    for (c, buffer) in [a, b].into_iter().enumerate().take(channels) {
        let side = matches!(
            (header.layout, c),
            (Layout::LeftSide, 1) | (Layout::SideRight, 0) | (Layout::MidSide, 1)
        );
        let channel_bits = bits + u32::from(side);
        match read_subframe(r, channel_bits, block, needed, true, defer, buffer)? {
            Subframe::Restored(narrow) => frame.narrow[c] = Some(narrow),
            Subframe::Pending(pending) => {
                frame.narrow[c] = None;
                frame.pending[c] = Some(pending);
            }
        }
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rice_twins_agree() {
        // Rice codes of many sizes, and the same bytes decoded by both builds
        let push = |bits: u64, len: u32, acc: &mut u64, n: &mut u32, out: &mut Vec<u8>| {
            for i in (0..len).rev() {
                *acc = (*acc << 1) | ((bits >> i) & 1);
                *n += 1;
                if *n == 8 {
                    out.push(*acc as u8);
                    *acc = 0;
                    *n = 0;
                }
            }
        };
        // every parameter, with codes mostly near 2^k (the groups' fast
        // path) and now and then far longer (groups read again, codes
        // longer than the bit buffer)
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next_random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for k in 0..31u32 {
            let (mut bytes, mut acc, mut n) = (Vec::new(), 0u64, 0u32);
            let values: Vec<i64> = (0..3001)
                .map(|_| {
                    let r = next_random();
                    let quotient = if r % 16 == 0 {
                        (r >> 8) % 120
                    } else {
                        (r >> 8) % 3
                    };
                    let folded =
                        ((quotient << k) | ((r >> 20) & ((1 << k) - 1))).min(u32::MAX.into());
                    ((folded >> 1) as i64) ^ -((folded & 1) as i64)
                })
                .collect();
            for &v in &values {
                let u = ((v << 1) ^ (v >> 63)) as u64;
                push(0, (u >> k) as u32, &mut acc, &mut n, &mut bytes);
                push(1, 1, &mut acc, &mut n, &mut bytes);
                push(u & ((1 << k) - 1), k, &mut acc, &mut n, &mut bytes);
            }
            push(0, 7, &mut acc, &mut n, &mut bytes);
            let mut portable = vec![0i64; values.len()];
            BitReader::new(&bytes, 0).rice(k, &mut portable).unwrap();
            unfold(&mut portable);
            assert_eq!(portable, values, "k = {k}");
            let mut dispatched = vec![0i64; values.len()];
            rice_block(&mut BitReader::new(&bytes, 0), k, &mut dispatched).unwrap();
            unfold(&mut dispatched);
            assert_eq!(dispatched, values, "k = {k}");
            // skipping the first 1001 codes (both builds) lands on the same code
            for twin in [true, false] {
                let mut r = BitReader::new(&bytes, 0);
                if twin {
                    rice_skip_block(&mut r, k, 1001).unwrap();
                } else {
                    r.rice_skip(k, 1001).unwrap();
                }
                let mut next = [0i64; 5];
                r.rice(k, &mut next).unwrap();
                unfold(&mut next);
                assert_eq!(next, values[1001..1006], "k = {k}");
            }
            // one code more than the data holds is an error, not a panic
            let mut extra = vec![0i64; values.len() + 1];
            assert!(BitReader::new(&bytes, 0).rice(k, &mut extra).is_err());
        }
    }

    #[test]
    fn verbatim_blocks_match_numbers_read_one_by_one() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 151 + i / 7) as u8).collect();
        for n in [1u32, 4, 7, 8, 13, 24, 31, 32] {
            for lead in [0u32, 3, 8, 13] {
                let count = ((data.len() * 8 - lead as usize) / n as usize).min(200);
                let mut expected = vec![0i64; count];
                let mut r = BitReader::new(&data, 0);
                r.bits(lead).unwrap();
                for v in expected.iter_mut() {
                    *v = i64::from(r.signed(n).unwrap());
                }
                let after = r.bit_position();
                let mut got = vec![0i64; count];
                let mut r = BitReader::new(&data, 0);
                r.bits(lead).unwrap();
                r.signed_block(n, &mut got).unwrap();
                assert_eq!(got, expected, "{n} bits after {lead}");
                assert_eq!(r.bit_position(), after);
                // one number too many runs out of data
                let too_many = (data.len() * 8 - lead as usize) / n as usize + 1;
                let mut r = BitReader::new(&data, 0);
                r.bits(lead).unwrap();
                assert!(r.signed_block(n, &mut vec![0; too_many]).is_err());
            }
        }
    }

    #[test]
    fn bit_reader_reads_across_refills() {
        let data: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37)).collect();
        let mut r = BitReader::new(&data, 0);
        let mut bits = Vec::new();
        for n in [1u32, 7, 13, 32, 3, 5, 31, 2, 17, 9, 11, 8, 24, 1, 30] {
            bits.push((n, r.bits(n).unwrap()));
        }
        // the same fields read one bit at a time
        let mut r2 = BitReader::new(&data, 0);
        for (n, v) in bits {
            let mut x = 0u32;
            for _ in 0..n {
                x = (x << 1) | r2.bits(1).unwrap();
            }
            assert_eq!(x, v, "{n} bits");
        }
    }
}
