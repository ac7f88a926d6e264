//! Frame headers: sync code, block size, channel layout, bits per sample,
//! frame or sample number, CRC-8.

use super::bits::BitReader;
use super::corrupt;
use crate::codec::frames::{crc8, StreamInfo};
use crate::error::Result;

/// How a frame's two channels are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// Channels as they are (1 or 2).
    Independent(usize),
    LeftSide,
    SideRight,
    MidSide,
}

impl Layout {
    pub(super) fn channels(self) -> usize {
        match self {
            Layout::Independent(n) => n,
            _ => 2,
        }
    }

    /// The bits per sample of channel `c` in a frame of `bits`: a side
    /// channel (the difference of two) has one more.
    pub(super) fn channel_bits(self, bits: u32, c: usize) -> u32 {
        let side = matches!(
            (self, c),
            (Layout::LeftSide, 1) | (Layout::SideRight, 0) | (Layout::MidSide, 1)
        );
        bits + u32::from(side)
    }
}

/// A parsed frame header.
pub(super) struct FrameHeader {
    pub(super) block_size: usize,
    pub(super) layout: Layout,
    pub(super) bits_per_sample: u32,
    /// First sample of the frame.
    pub(super) start: u64,
}

pub(super) fn read_utf8_number(r: &mut BitReader<'_>) -> Result<u64> {
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

pub(super) fn read_frame_header(r: &mut BitReader<'_>, info: &StreamInfo) -> Result<FrameHeader> {
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
