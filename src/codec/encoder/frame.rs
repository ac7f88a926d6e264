//! The stream: `fLaC`, STREAMINFO, then one frame per block, each frame a
//! header, one subframe per channel and a CRC.

use std::cell::RefCell;

use rayon::prelude::*;

use super::bits::BitWriter;
use super::preset::{Preset, Stereo};
use super::subframe::{self, Choice};
use super::{depth, EncodeOptions, Samples, ShortStream};
use crate::codec::crc16::crc16;
use crate::codec::frame_row;
use crate::codec::frames::{crc8, Header, HEADER_BYTES};
use crate::codec::md5::{self, SampleDigest};
use crate::error::Result;

/// Everything one thread reuses from stream to stream and block to block.
#[derive(Default)]
struct Scratch {
    /// Left, right, side and mid of the current block.
    channels: [Vec<i64>; 4],
    choices: [Choice; 4],
    subframe: subframe::Scratch,
    /// Samples packed for the MD5.
    packed: Vec<u8>,
    /// The same for streams hashed side by side, one per lane.
    lanes: [Vec<u8>; md5::LANES],
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch (a fresh one if it is in use).
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => f(&mut Scratch::default()),
    })
}

/// The stream's fixed facts.
struct Layout {
    channels: usize,
    bps: u32,
    /// Whether the two channels may gain from decorrelation (see
    /// [`depth`]).
    decorrelate: bool,
    block: usize,
    frames: usize,
}

/// A whole stream written without its MD5 (zeros in its place): where its
/// header starts and what the header holds.
pub(super) struct Unhashed {
    start: usize,
    header: Header,
}

impl Unhashed {
    /// Writes the header again, with `md5`.
    pub(super) fn finish(mut self, md5: [u8; 16], out: &mut [u8]) {
        self.header.md5 = md5;
        out[self.start..self.start + HEADER_BYTES].copy_from_slice(&self.header.to_bytes());
    }
}

/// Appends the FLAC stream of `samples` to `out`. With `hash_later`, a
/// whole stream encoded on this thread alone is left without its MD5 and
/// returned as [`Unhashed`], for the caller to hash beside other streams.
pub(super) fn encode_stream(
    samples: Samples<'_>,
    options: &EncodeOptions,
    out: &mut Vec<u8>,
    hash_later: bool,
) -> Result<Option<Unhashed>> {
    let (frames, channels) = (samples.len(), samples.channels());
    let (bps, decorrelate) = depth(samples);
    let layout = Layout {
        channels,
        bps,
        decorrelate,
        block: options.block_size as usize,
        frames,
    };
    let preset = Preset::of_level(options.level);
    if options.short == ShortStream::FrameRow && (1..=layout.block).contains(&frames) {
        // the frame row: its prefix, then the one frame (no MD5: nothing
        // records it)
        frame_row::push_prefix(out, channels as u32, bps, options.block_size);
        with_scratch(|s| write_frame(samples, &layout, &preset, 0, s, out));
        return Ok(None);
    }
    let start = out.len();
    // room for the stream at half its samples' width, so that growing
    // the output rarely copies it
    out.reserve(HEADER_BYTES + frames * channels * bps as usize / 16);
    out.resize(start + HEADER_BYTES, 0);
    let blocks = frames.div_ceil(layout.block);
    let (mut min_frame, mut max_frame) = (u32::MAX, 0u32);
    let md5;
    let parallel = options.threads > 1 && blocks > 1;
    // (a stream encoded in parallel hashes beside its frames)
    let unhashed = hash_later && !parallel;
    if parallel {
        // the digest is sequential: it runs beside the frames
        let (digest, encoded) = rayon::join(
            || {
                with_scratch(|s| {
                    let mut digest = SampleDigest::new(bps);
                    digest.add(samples, &mut s.packed);
                    digest.finish()
                })
            },
            || {
                (0..blocks)
                    .into_par_iter()
                    .map(|b| {
                        let mut bytes = Vec::new();
                        with_scratch(|s| write_frame(samples, &layout, &preset, b, s, &mut bytes));
                        bytes
                    })
                    .collect::<Vec<Vec<u8>>>()
            },
        );
        md5 = digest;
        for bytes in encoded {
            min_frame = min_frame.min(bytes.len() as u32);
            max_frame = max_frame.max(bytes.len() as u32);
            out.extend_from_slice(&bytes);
        }
    } else {
        md5 = with_scratch(|s| {
            let mut digest = (!unhashed).then(|| SampleDigest::new(bps));
            for b in 0..blocks {
                let before = out.len();
                write_frame(samples, &layout, &preset, b, s, out);
                let size = (out.len() - before) as u32;
                min_frame = min_frame.min(size);
                max_frame = max_frame.max(size);
                if let Some(digest) = &mut digest {
                    // while the block is still in cache
                    let first = b * layout.block;
                    let last = frames.min(first + layout.block);
                    digest.add(samples.range(first..last), &mut s.packed);
                }
            }
            // (zeros for now when hashed later)
            digest.map_or([0; 16], SampleDigest::finish)
        });
    }
    if blocks == 0 {
        min_frame = 0;
    }
    let header = Header {
        channels: channels as u32,
        bits_per_sample: bps,
        block: options.block_size,
        min_frame,
        max_frame,
        total_samples: frames as u64,
        md5,
    };
    out[start..start + HEADER_BYTES].copy_from_slice(&header.to_bytes());
    Ok(unhashed.then_some(Unhashed { start, header }))
}

/// Appends the stream of each of `streams` to `out`, one after another,
/// pushing where each ends onto `ends`: the same bytes as
/// [`encode_stream`] gives, the MD5s of the whole streams computed side by
/// side at the end.
pub(super) fn encode_group(
    streams: &[Samples<'_>],
    options: &EncodeOptions,
    out: &mut Vec<u8>,
    ends: &mut Vec<usize>,
) -> Result<()> {
    for streams in streams.chunks(md5::LANES) {
        // the streams left unhashed, and the headers to finish
        let mut unhashed: [Option<Unhashed>; md5::LANES] = Default::default();
        let mut to_hash = [(Samples::One(&[]), 0); md5::LANES];
        let mut count = 0;
        for &samples in streams {
            if let Some(u) = encode_stream(samples, options, out, true)? {
                to_hash[count] = (samples, u.header.bits_per_sample);
                unhashed[count] = Some(u);
                count += 1;
            }
            ends.push(out.len());
        }
        let mut digests = [[0u8; 16]; md5::LANES];
        with_scratch(|s| {
            md5::sample_digests(&to_hash[..count], &mut digests[..count], &mut s.lanes);
        });
        for (u, digest) in unhashed.into_iter().flatten().zip(digests) {
            u.finish(digest, out);
        }
    }
    Ok(())
}

/// The channel assignment of a one-channel frame header.
const MONO: u8 = 0;
/// Two-channel assignments of a frame header, and the channels each codes
/// (0 left, 1 right, 2 side, 3 mid), in FLAC's order.
const STEREO_PAIRS: [(u8, [usize; 2]); 4] = [(1, [0, 1]), (8, [0, 2]), (9, [2, 1]), (10, [3, 2])];

/// Appends frame `index` (samples `index * block ..`) to `out`.
fn write_frame(
    samples: Samples<'_>,
    layout: &Layout,
    preset: &Preset,
    index: usize,
    s: &mut Scratch,
    out: &mut Vec<u8>,
) {
    let first = index * layout.block;
    let n = layout.block.min(layout.frames - first);
    let bps = layout.bps;
    let stereo = if layout.decorrelate {
        preset.stereo
    } else {
        Stereo::Independent
    };
    fill_channels(
        samples,
        first,
        n,
        stereo != Stereo::Independent,
        &mut s.channels,
    );
    let widths = [bps, bps, bps + 1, bps];
    let choose = |s: &mut Scratch, c: usize, sums: Option<&[u64; 5]>| {
        subframe::choose(
            &s.channels[c],
            widths[c],
            preset,
            sums,
            &mut s.subframe,
            &mut s.choices[c],
        );
        s.choices[c].bits
    };
    // the channel assignment, and the channels it codes
    let (assignment, coded): (u8, &[usize]) = if layout.channels == 1 {
        choose(s, 0, None);
        (MONO, &[0])
    } else {
        let mut cost = [u64::MAX; 4];
        let mut sums = [[0u64; 5]; 4];
        match stereo {
            Stereo::Independent => {}
            Stereo::Estimate => {
                for c in 0..4 {
                    sums[c] = super::predict::fixed_order_sums(&s.channels[c], widths[c]);
                    cost[c] = sums[c].iter().copied().min().unwrap_or(0);
                }
            }
            Stereo::Exhaustive => {
                for (c, slot) in cost.iter_mut().enumerate() {
                    *slot = choose(s, c, None);
                }
            }
        }
        let usable = if stereo == Stereo::Independent { 1 } else { 4 };
        let (assignment, pair) = STEREO_PAIRS[..usable]
            .iter()
            .min_by_key(|(_, [a, b])| cost[*a].saturating_add(cost[*b]))
            .unwrap_or(&STEREO_PAIRS[0]);
        match stereo {
            Stereo::Exhaustive => {}
            Stereo::Estimate => pair.iter().for_each(|&c| {
                choose(s, c, Some(&sums[c]));
            }),
            Stereo::Independent => pair.iter().for_each(|&c| {
                choose(s, c, None);
            }),
        }
        (*assignment, &pair[..])
    };
    let start = write_header(out, layout, index, n, assignment);
    let mut w = BitWriter::new(out);
    for &c in coded {
        subframe::write(&mut w, &s.channels[c], widths[c], &s.choices[c]);
    }
    w.finish();
    finish_frame(out, start);
}

vectorized! {
    /// Fills left and right (the one channel, or the low and high words)
    /// with samples `first..first + n`, and side and mid when `decorrelate`.
    fn fill_channels(
        samples: Samples<'_>,
        first: usize,
        n: usize,
        decorrelate: bool,
        channels: &mut [Vec<i64>; 4]
    ) -> () = fill_channels_body;
}

#[inline(always)]
fn fill_channels_body(
    samples: Samples<'_>,
    first: usize,
    n: usize,
    decorrelate: bool,
    channels: &mut [Vec<i64>; 4],
) {
    let [left, right, side, mid] = channels;
    // sized first, then filled by loops the compiler can vectorize
    match samples {
        Samples::One(x) => {
            left.resize(n, 0);
            for (l, &v) in left.iter_mut().zip(&x[first..first + n]) {
                *l = i64::from(v);
            }
        }
        Samples::Two(x) => {
            left.resize(n, 0);
            right.resize(n, 0);
            let x = &x[first..first + n];
            for (l, &v) in left.iter_mut().zip(x) {
                *l = i64::from(v as i32);
            }
            for (r, &v) in right.iter_mut().zip(x) {
                *r = v >> 32;
            }
        }
    }
    if decorrelate {
        side.resize(n, 0);
        mid.resize(n, 0);
        for ((s, m), (l, r)) in side
            .iter_mut()
            .zip(mid.iter_mut())
            .zip(left.iter().zip(right.iter()))
        {
            *s = l - r;
            *m = (l + r) >> 1;
        }
    }
}

/// Appends the CRC-16 of the frame that starts at `start`.
fn finish_frame(out: &mut Vec<u8>, start: usize) {
    let crc = crc16(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Appends a frame header (sync code to CRC-8); returns where it starts.
fn write_header(
    out: &mut Vec<u8>,
    layout: &Layout,
    index: usize,
    n: usize,
    assignment: u8,
) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0xFF, 0xF8]); // sync, fixed block size
    let (size_code, size_tail) = block_size_code(n);
    out.push((size_code << 4) | 0b1001); // 44.1 kHz
    out.push((assignment << 4) | (bps_code(layout.bps) << 1));
    push_coded_number(out, index as u64);
    match size_tail {
        Tail::None => {}
        Tail::Byte(v) => out.push(v),
        Tail::Word(v) => out.extend_from_slice(&v.to_be_bytes()),
    }
    let crc = crc8(&out[start..]);
    out.push(crc);
    start
}

enum Tail {
    None,
    Byte(u8),
    Word(u16),
}

/// The 4-bit block size code of a frame of `n` samples, and what follows
/// the header's coded number.
fn block_size_code(n: usize) -> (u8, Tail) {
    match n {
        192 => (1, Tail::None),
        576 => (2, Tail::None),
        1152 => (3, Tail::None),
        2304 => (4, Tail::None),
        4608 => (5, Tail::None),
        256 => (8, Tail::None),
        512 => (9, Tail::None),
        1024 => (10, Tail::None),
        2048 => (11, Tail::None),
        4096 => (12, Tail::None),
        8192 => (13, Tail::None),
        16384 => (14, Tail::None),
        32768 => (15, Tail::None),
        1..=256 => (6, Tail::Byte((n - 1) as u8)),
        _ => (7, Tail::Word((n - 1) as u16)),
    }
}

/// The 3-bit sample size code (0: as in STREAMINFO).
fn bps_code(bps: u32) -> u8 {
    match bps {
        8 => 1,
        12 => 2,
        16 => 4,
        20 => 5,
        24 => 6,
        _ => 0,
    }
}

/// FLAC's UTF-8-like coding of a frame number (up to 36 bits).
fn push_coded_number(out: &mut Vec<u8>, v: u64) {
    if v < 0x80 {
        out.push(v as u8);
        return;
    }
    // continuation bytes carry 6 bits each; the first byte the rest
    let extra = match v {
        0..=0x7FF => 1,
        0x800..=0xFFFF => 2,
        0x1_0000..=0x1F_FFFF => 3,
        0x20_0000..=0x3FF_FFFF => 4,
        0x400_0000..=0x7FFF_FFFF => 5,
        _ => 6,
    };
    let lead_marker: u8 = !(0xFFu8 >> (extra + 1));
    out.push(lead_marker | (v >> (6 * extra)) as u8);
    for i in (0..extra).rev() {
        out.push(0x80 | ((v >> (6 * i)) & 0x3F) as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coded_numbers_match_the_format() {
        let code = |v: u64| {
            let mut out = Vec::new();
            push_coded_number(&mut out, v);
            out
        };
        assert_eq!(code(0x7F), vec![0x7F]);
        assert_eq!(code(0x80), vec![0xC2, 0x80]);
        assert_eq!(code(0x800), vec![0xE0, 0xA0, 0x80]);
        assert_eq!(
            code(0xFFFF_FFFF),
            vec![0xFE, 0x83, 0xBF, 0xBF, 0xBF, 0xBF, 0xBF]
        );
    }
}
