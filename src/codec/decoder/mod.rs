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
//! folds 16-byte blocks, several at once, with carry-less multiplication
//! ([`super::crc16`]);
//! up to eight frames (four without AVX-512 IFMA) are read before their
//! LPC subframes are restored together, side by side in the lanes of
//! vector registers ([`super::lpc`]), from buffers that start on cache
//! lines.
//!
//! What it returns matches libFLAC's decoder, including on damaged streams
//! whose CRCs are right: samples of channels of at most 32 bits are 32-bit
//! numbers (a prediction that overflows wraps around, as in libFLAC's
//! 32-bit buffers), and a frame holding samples wider than its bits per
//! sample is refused. A window checks only the samples it reconstructs.
//!
//! Safe Rust except the Rice loop built for BMI2, the CRC's carry-less
//! twins and the AVX2/FMA and AVX-512 IFMA predictors, each behind a
//! runtime CPU check with a portable twin and a test comparing them, and
//! the cast that views the aligned scratch buffers as numbers
//! ([`super::aligned`]). Scratch buffers are reused per thread, so decoding
//! allocates nothing per frame once they have grown.

use std::cell::RefCell;

use super::aligned::Aligned;
use super::crc16::crc16;
use super::frames::StreamInfo;
use super::lpc::{batch_width, fits, restore_batch, Pending, Rows, LANES};
use super::Outcome;
use crate::error::{Error, Result};

/// A `Corrupt` error (the one kind every check here reports).
fn corrupt(message: impl Into<String>) -> Error {
    Error::corrupt(message)
}

mod bits;
#[cfg(target_arch = "x86_64")]
pub(super) mod group;
mod header;
#[cfg(feature = "libflac")]
pub(super) mod libflac;
#[cfg(target_arch = "x86_64")]
mod rice8;
mod subframe;
mod unary;

use bits::BitReader;
use header::{read_frame_header, FrameHeader, Layout};
use subframe::{read_subframe, Subframe};

/// The most frames decoded before their LPC subframes are restored
/// together (see [`restore_batch`]); [`batch_width`] says how many on this
/// CPU.
const IN_FLIGHT: usize = LANES;

/// Per-thread buffers: two channels for each frame in flight (residuals
/// are decoded in place, then turned into samples), and the batch
/// restore's rows.
#[derive(Default)]
struct Scratch {
    samples: [Aligned<i64>; 2 * IN_FLIGHT],
    rows: Rows,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
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
    let in_flight = batch_width();
    let buffers = &mut scratch.samples[..2 * in_flight];
    let max_block = info.max_block_size.max(16) as usize;
    for buf in buffers.iter_mut() {
        if buf.len() < max_block {
            buf.resize(max_block);
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
        for buf in scratch.samples[..2 * in_flight].iter_mut() {
            if buf.len() < block {
                buf.resize(block);
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
        if last || flight.frames == in_flight {
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
        let Scratch { samples, rows } = scratch;
        let pending: [Option<Pending>; 2 * IN_FLIGHT] = std::array::from_fn(|index| {
            self.waiting[index / 2]
                .as_ref()
                .and_then(|frame| frame.pending[index % 2])
        });
        let narrow = restore_waiting(samples, &pending, rows);
        for (index, fit) in narrow.into_iter().enumerate() {
            if let (Some(fit), Some(frame)) = (fit, self.waiting[index / 2].as_mut()) {
                frame.narrow[index % 2] = Some(fit);
            }
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

/// Restores the LPC subframes `pending[i]` waiting in `samples[i]`, up to
/// [`LANES`] side by side; returns, per buffer, whether its samples fit
/// their channel's bits (`None` where nothing waited).
fn restore_waiting(
    samples: &mut [Aligned<i64>; 2 * IN_FLIGHT],
    pending: &[Option<Pending>; 2 * IN_FLIGHT],
    rows: &mut Rows,
) -> [Option<bool>; 2 * IN_FLIGHT] {
    let mut narrow = [None; 2 * IN_FLIGHT];
    let mut batch: [Option<(&mut [i64], Pending)>; LANES] = Default::default();
    // which buffer each place of the batch holds
    let mut owners = [0usize; LANES];
    let mut count = 0;
    for (index, (buffer, pending)) in samples.iter_mut().zip(pending).enumerate() {
        if let Some(pending) = pending {
            batch[count] = Some((&mut buffer[..], *pending));
            owners[count] = index;
            count += 1;
            if count == LANES {
                for (&owner, fit) in owners.iter().zip(restore_ready(&mut batch, rows)) {
                    narrow[owner] = Some(fit);
                }
                count = 0;
            }
        }
    }
    for (&owner, fit) in owners[..count].iter().zip(restore_ready(&mut batch, rows)) {
        narrow[owner] = Some(fit);
    }
    narrow
}

/// Restores the subframes gathered in `batch` (emptying it); returns,
/// per place, whether the samples fit their channel's bits.
fn restore_ready(
    batch: &mut [Option<(&mut [i64], Pending)>; LANES],
    rows: &mut Rows,
) -> [bool; LANES] {
    let taken = std::mem::take(batch);
    let mut ready: [(&mut [i64], Pending); LANES] = taken.map(|entry| match entry {
        Some(entry) => entry,
        None => (&mut [][..], EMPTY),
    });
    let count = ready.iter().take_while(|(b, _)| !b.is_empty()).count();
    restore_batch(&mut ready[..count], rows)
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
        let channel_bits = header.layout.channel_bits(bits, c);
        match read_subframe(r, channel_bits, needed, defer, &mut buffer[..block])? {
            Subframe::Restored(narrow) => frame.narrow[c] = Some(narrow),
            Subframe::Pending(pending) => {
                frame.narrow[c] = None;
                frame.pending[c] = Some(pending);
            }
        }
    }
    Ok(frame)
}
