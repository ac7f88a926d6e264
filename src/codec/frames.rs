//! Reading the parts of a FLAC bytestream we need without decoding audio:
//! the STREAMINFO block, where the first frame starts, and frame headers
//! (to jump close to a sample without decoding from the start).

use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"fLaC";
const STREAMINFO_LEN: usize = 34;
/// Bytes of `fLaC` plus a STREAMINFO block: where a stream this crate
/// writes has its first frame.
pub(crate) const HEADER_BYTES: usize = 4 + 4 + STREAMINFO_LEN;
/// The sample rate every stream this crate writes declares (the samples
/// are not audio; any valid rate would do, and this one has a 4-bit code
/// in frame headers).
const SAMPLE_RATE: u32 = 44_100;
/// A fixed-blocksize frame header starts with these 15 sync bits plus a 0 bit.
const SYNC_FIXED: [u8; 2] = [0xFF, 0xF8];

/// What the stream's metadata says, plus where the audio frames begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamInfo {
    /// Smallest block size in samples (excluding the last block).
    pub min_block_size: u32,
    /// Largest block size in samples.
    pub max_block_size: u32,
    /// Number of channels (1..=8).
    pub channels: u32,
    /// Bits per sample (4..=32).
    pub bits_per_sample: u32,
    /// Samples per channel, or 0 when the writer did not know it.
    pub total_samples: u64,
    /// Byte offset of the end of the STREAMINFO block.
    pub streaminfo_end: usize,
    /// Byte offset of the first audio frame.
    pub audio_start: usize,
    /// MD5 of the unencoded samples (all zero when the writer did not
    /// compute it).
    pub md5: [u8; 16],
}

impl StreamInfo {
    /// True when every frame but the last has the same number of samples, so
    /// frame `k` starts at sample `k * block_size`.
    pub fn fixed_block_size(&self) -> Option<u32> {
        (self.min_block_size == self.max_block_size && self.min_block_size > 0)
            .then_some(self.min_block_size)
    }
}

/// Parses the `fLaC` marker and metadata blocks.
pub fn parse_stream_info(bytes: &[u8]) -> Result<StreamInfo> {
    if bytes.len() < 4 || &bytes[..4] != MAGIC {
        return Err(Error::corrupt("not a FLAC stream (missing 'fLaC' marker)"));
    }
    let mut pos = 4;
    let mut info: Option<StreamInfo> = None;
    loop {
        let header = bytes
            .get(pos..pos + 4)
            .ok_or_else(|| Error::corrupt("FLAC metadata is truncated"))?;
        let is_last = header[0] & 0x80 != 0;
        let block_type = header[0] & 0x7F;
        let len = u32::from_be_bytes([0, header[1], header[2], header[3]]) as usize;
        let body_start = pos + 4;
        let body = bytes
            .get(body_start..body_start + len)
            .ok_or_else(|| Error::corrupt("FLAC metadata block runs past the end of the stream"))?;
        match (info.is_none(), block_type) {
            (true, 0) if len == STREAMINFO_LEN => {
                info = Some(read_streaminfo(body, body_start + len)?);
            }
            (true, _) => return Err(Error::corrupt("FLAC stream does not start with STREAMINFO")),
            // a later STREAMINFO replaces the first, as libFLAC reads them
            // (its first 34 bytes; the rest of a longer block is skipped)
            (false, 0) if len >= STREAMINFO_LEN => {
                let later = read_streaminfo(body, body_start + len)?;
                let first = info.expect("a STREAMINFO was read");
                info = Some(StreamInfo {
                    streaminfo_end: first.streaminfo_end,
                    ..later
                });
            }
            (false, 0) => return Err(Error::corrupt("FLAC STREAMINFO block is too short")),
            (false, 127) => return Err(Error::corrupt("invalid FLAC metadata block type")),
            (false, _) => {}
        }
        pos = body_start + len;
        if is_last {
            break;
        }
    }
    let mut info = info.ok_or_else(|| Error::corrupt("FLAC stream has no STREAMINFO"))?;
    info.audio_start = pos;
    Ok(info)
}

fn read_streaminfo(body: &[u8], end: usize) -> Result<StreamInfo> {
    let min_block_size = u32::from(u16::from_be_bytes([body[0], body[1]]));
    let max_block_size = u32::from(u16::from_be_bytes([body[2], body[3]]));
    // bytes 10..18: 20 bits sample rate, 3 bits channels-1, 5 bits bps-1, 36 bits samples
    let packed = u64::from_be_bytes([
        body[10], body[11], body[12], body[13], body[14], body[15], body[16], body[17],
    ]);
    let channels = ((packed >> 41) & 0x7) as u32 + 1;
    let bits_per_sample = ((packed >> 36) & 0x1F) as u32 + 1;
    let total_samples = packed & 0xF_FFFF_FFFF;
    if max_block_size < 16 || min_block_size > max_block_size || bits_per_sample < 4 {
        return Err(Error::corrupt("FLAC STREAMINFO holds impossible values"));
    }
    let mut md5 = [0u8; 16];
    md5.copy_from_slice(&body[18..34]);
    Ok(StreamInfo {
        min_block_size,
        max_block_size,
        channels,
        bits_per_sample,
        total_samples,
        streaminfo_end: end,
        audio_start: end,
        md5,
    })
}

/// The facts a stream this crate writes records in its STREAMINFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub channels: u32,
    pub bits_per_sample: u32,
    /// The block size (every frame's but the last).
    pub block: u32,
    /// Smallest and largest frame in bytes (0: none, or too large to
    /// record).
    pub min_frame: u32,
    pub max_frame: u32,
    pub total_samples: u64,
    pub md5: [u8; 16],
}

impl Header {
    /// `fLaC` and STREAMINFO as the only (last) metadata block: the
    /// [`HEADER_BYTES`] every stream this crate writes starts with.
    pub(crate) fn to_bytes(self) -> [u8; HEADER_BYTES] {
        let mut out = [0u8; HEADER_BYTES];
        out[..4].copy_from_slice(MAGIC);
        out[4..8].copy_from_slice(&[0x80, 0, 0, STREAMINFO_LEN as u8]);
        let info = &mut out[8..];
        let block = self.block as u16;
        info[0..2].copy_from_slice(&block.to_be_bytes());
        info[2..4].copy_from_slice(&block.to_be_bytes());
        // frame sizes are 24-bit fields (0: unknown)
        let frame_field = |v: u32| if v < 1 << 24 { v } else { 0 };
        info[4..7].copy_from_slice(&frame_field(self.min_frame).to_be_bytes()[1..]);
        info[7..10].copy_from_slice(&frame_field(self.max_frame).to_be_bytes()[1..]);
        // total samples is a 36-bit field (0: unknown)
        let total = self.total_samples;
        let total = if total < 1 << 36 { total } else { 0 };
        let packed: u64 = (u64::from(SAMPLE_RATE) << 44)
            | (u64::from(self.channels - 1) << 41)
            | (u64::from(self.bits_per_sample - 1) << 36)
            | total;
        info[10..18].copy_from_slice(&packed.to_be_bytes());
        info[18..34].copy_from_slice(&self.md5);
        out
    }
}

/// CRC-8 with polynomial x^8 + x^2 + x + 1, as used by FLAC frame headers.
pub(super) fn crc8(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |crc, &b| CRC8_TABLE[usize::from(crc ^ b)])
}

/// [`crc8`] of every single byte (a byte at a time instead of a bit).
const CRC8_TABLE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u8;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x80 != 0 {
                (crc << 1) ^ 0x07
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// Reads FLAC's UTF-8-like coded frame number at the start of `bytes`.
/// Returns the value and its length in bytes.
fn read_coded_number(bytes: &[u8]) -> Option<(u64, usize)> {
    let first = *bytes.first()?;
    let extra = match first.leading_ones() {
        0 => return Some((u64::from(first), 1)),
        1 => return None,
        n @ 2..=7 => n as usize - 1,
        _ => 6,
    };
    let mut value = if first == 0xFE {
        0
    } else {
        u64::from(first & (0x7F >> (extra + 1)))
    };
    for i in 1..=extra {
        let b = *bytes.get(i)?;
        if b & 0xC0 != 0x80 {
            return None;
        }
        value = (value << 6) | u64::from(b & 0x3F);
    }
    Some((value, extra + 1))
}

/// Checks whether a valid fixed-blocksize frame header for this stream starts
/// at `bytes[0]`; returns its frame number and block size (in samples).
pub(crate) fn frame_header_at(bytes: &[u8], info: &StreamInfo) -> Option<(u64, u32)> {
    if bytes.len() < 6 || bytes[..2] != SYNC_FIXED {
        return None;
    }
    let block_code = bytes[2] >> 4;
    let rate_code = bytes[2] & 0x0F;
    let channel_code = bytes[3] >> 4;
    let size_code = (bytes[3] >> 1) & 0x7;
    if block_code == 0 || rate_code == 0x0F || bytes[3] & 1 != 0 || size_code == 3 {
        return None;
    }
    let channels_ok = match info.channels {
        1 => channel_code == 0,
        2 => matches!(channel_code, 1 | 8 | 9 | 10),
        n => u32::from(channel_code) + 1 == n,
    };
    let bits = match size_code {
        0 => info.bits_per_sample,
        1 => 8,
        2 => 12,
        4 => 16,
        5 => 20,
        6 => 24,
        _ => 32,
    };
    if !channels_ok || bits != info.bits_per_sample {
        return None;
    }
    let (number, number_len) = read_coded_number(&bytes[4..])?;
    let mut len = 4 + number_len;
    let block = match block_code {
        1 => 192,
        2..=5 => 576 << (block_code - 2),
        6 => u32::from(*bytes.get(len)?) + 1,
        7 => u32::from(u16::from_be_bytes([*bytes.get(len)?, *bytes.get(len + 1)?])) + 1,
        _ => 256 << (block_code - 8),
    };
    len += match block_code {
        6 => 1,
        7 => 2,
        _ => 0,
    };
    len += match rate_code {
        12 => 1,
        13 | 14 => 2,
        _ => 0,
    };
    let crc = *bytes.get(len)?;
    (crc8(&bytes[..len]) == crc).then_some((number, block))
}

/// Finds the first frame header at or after `from` and before `until`.
fn next_frame_header(
    bytes: &[u8],
    from: usize,
    until: usize,
    info: &StreamInfo,
) -> Option<(usize, u64)> {
    let until = until.min(bytes.len());
    let mut pos = from;
    while pos + 1 < until {
        let window = &bytes[pos..until];
        let hit = window.iter().position(|&b| b == 0xFF)?;
        pos += hit;
        if let Some((number, _)) = frame_header_at(&bytes[pos..], info) {
            return Some((pos, number));
        }
        pos += 1;
    }
    None
}

/// Returns the byte offset of a frame at or before frame `target` (ideally
/// exactly `target`), found by interpolation search over frame headers.
/// `frame_count` is the stream's number of frames. The answer is a hint: a
/// frame header can be mimicked by audio data, so callers must check what
/// they decode and fall back to `info.audio_start`.
pub fn locate_frame(bytes: &[u8], info: &StreamInfo, target: u64, frame_count: u64) -> usize {
    let (mut lo, mut lo_frame) = (info.audio_start, 0u64);
    let (mut hi, mut hi_frame) = (bytes.len(), frame_count.max(target + 1));
    for _ in 0..64 {
        if lo_frame == target || hi <= lo + 1 {
            break;
        }
        let span = (hi - lo) as u128;
        let step = span * u128::from(target - lo_frame) / u128::from(hi_frame - lo_frame);
        let guess = (lo + step as usize).clamp(lo + 1, hi - 1);
        match next_frame_header(bytes, guess, hi, info) {
            Some((pos, number)) if number == target => return pos,
            Some((pos, number)) if number < target && number > lo_frame => {
                lo = pos;
                lo_frame = number;
            }
            Some((pos, number)) if number > target && number < hi_frame => {
                hi = pos;
                hi_frame = number;
            }
            // Nothing usable between the guess and `hi`: shrink from above.
            _ => hi = guess,
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc8_matches_known_value() {
        // CRC-8/SMBUS (poly 0x07, init 0) check value for "123456789".
        assert_eq!(crc8(b"123456789"), 0xF4);
    }

    #[test]
    fn coded_numbers_decode() {
        assert_eq!(read_coded_number(&[0x05]), Some((5, 1)));
        assert_eq!(read_coded_number(&[0xC2, 0x80]), Some((0x80, 2)));
        assert_eq!(read_coded_number(&[0xE1, 0x80, 0x80]), Some((0x1000, 3)));
        assert_eq!(read_coded_number(&[0x80]), None);
        assert_eq!(read_coded_number(&[0xC2, 0x00]), None);
        assert_eq!(read_coded_number(&[0xC2]), None);
    }

    #[test]
    fn rejects_garbage_headers() {
        assert!(parse_stream_info(b"").is_err());
        assert!(parse_stream_info(b"fLaC").is_err());
        assert!(parse_stream_info(b"fLaC\x80\x00\x00\x22").is_err());
        assert!(parse_stream_info(b"RIFF\x00\x00\x00\x00").is_err());
    }
}
