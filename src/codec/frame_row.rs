//! Frame rows: a stream short enough for one FLAC frame, stored as a
//! 3–5-byte prefix and that frame instead of `fLaC`, STREAMINFO (42 bytes)
//! and the frame. The Arrow column's short rows are frame rows (layout 3):
//! for rows of tens of samples the 42 bytes were a third of the column.
//!
//! The prefix: one byte `0b10cb_bbbb` (c: channels − 1, b: bits per
//! sample − 1; a whole stream's first byte is `f`), the block size
//! STREAMINFO would record as an unsigned LEB128 number (shortest form),
//! then the CRC-8 of those bytes (FLAC's frame header CRC: the frame's own
//! checks do not cover a depth its header leaves to STREAMINFO). The frame is a
//! standard fixed-blocksize frame numbered 0 whose block size is the
//! stream's length; it fills the rest of the row. Nothing records an MD5
//! (the frame's CRC-16 covers its bytes): [`whole_stream_into`] rebuilds
//! the standard stream, computing the MD5 from the decoded samples, so a
//! whole stream written by this crate and its frame row give each other
//! back byte for byte.

use super::frames::{self, Header, StreamInfo, HEADER_BYTES};
use crate::error::{Error, Result};

/// The two high bits of a frame row's first byte.
const MARK: u8 = 0b1000_0000;
const MARK_MASK: u8 = 0b1100_0000;

/// True when `bytes` is a frame row (not a whole stream, not empty).
pub(crate) fn is_frame_row(bytes: &[u8]) -> bool {
    bytes.first().is_some_and(|&b| b & MARK_MASK == MARK)
}

/// Appends a frame row's prefix.
pub(crate) fn push_prefix(out: &mut Vec<u8>, channels: u32, bits_per_sample: u32, block: u32) {
    debug_assert!((1..=2).contains(&channels) && (4..=32).contains(&bits_per_sample));
    let start = out.len();
    out.push(MARK | ((channels as u8 - 1) << 5) | (bits_per_sample as u8 - 1));
    let mut rest = block;
    loop {
        let low = (rest & 0x7F) as u8;
        rest >>= 7;
        if rest == 0 {
            out.push(low);
            break;
        }
        out.push(low | 0x80);
    }
    let crc = frames::crc8(&out[start..]);
    out.push(crc);
}

/// What a frame row records, as the STREAMINFO of the stream it stands
/// for (no MD5), with `audio_start` at its frame. Every fact is checked:
/// the block size (16..=65535, in its shortest LEB128 form), and a frame
/// header numbered 0 of the prefix's channels and depth, whose CRC-8
/// holds and whose length is at most the block size.
pub(crate) fn describe(bytes: &[u8]) -> Result<StreamInfo> {
    let first = *bytes
        .first()
        .filter(|&&b| b & MARK_MASK == MARK)
        .ok_or_else(|| Error::corrupt("not a frame row"))?;
    let channels = u32::from((first >> 5) & 1) + 1;
    let bits_per_sample = u32::from(first & 0x1F) + 1;
    if bits_per_sample < 4 {
        return Err(Error::corrupt(format!(
            "frame row records {bits_per_sample} bits per sample"
        )));
    }
    let (mut block, mut pos, mut shift) = (0u32, 1usize, 0u32);
    loop {
        let byte = *bytes
            .get(pos)
            .ok_or_else(|| Error::corrupt("frame row ends in its prefix"))?;
        pos += 1;
        block |= u32::from(byte & 0x7F) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            // the shortest form only: one row, one encoding
            if byte == 0 && pos > 2 {
                return Err(Error::corrupt(
                    "frame row's block size is not in its shortest form",
                ));
            }
            break;
        }
        if shift > 14 {
            return Err(Error::corrupt("frame row's block size is too long"));
        }
    }
    let crc = *bytes
        .get(pos)
        .ok_or_else(|| Error::corrupt("frame row ends in its prefix"))?;
    if frames::crc8(&bytes[..pos]) != crc {
        return Err(Error::corrupt("frame row's prefix CRC-8 mismatch"));
    }
    pos += 1;
    if !(16..=65535).contains(&block) {
        return Err(Error::corrupt(format!(
            "frame row records a block size of {block} samples"
        )));
    }
    let mut info = StreamInfo {
        min_block_size: block,
        max_block_size: block,
        channels,
        bits_per_sample,
        total_samples: 0,
        streaminfo_end: pos,
        audio_start: pos,
        md5: [0; 16],
    };
    let samples = match frames::frame_header_at(&bytes[pos..], &info) {
        Some((0, samples)) if samples <= block => samples,
        _ => {
            return Err(Error::corrupt(
                "frame row does not hold one valid FLAC frame numbered 0",
            ))
        }
    };
    info.total_samples = u64::from(samples);
    Ok(info)
}

/// The frame row standing for `whole`, appended to `out`, when `whole` is
/// a one-frame stream with exactly the header [`whole_stream_into`] would
/// rebuild (STREAMINFO only, one block size, the frame's size as both
/// frame sizes, this crate's sample rate, an MD5); else nothing is
/// appended and the answer is false. The MD5 itself is not checked here.
pub(crate) fn push_frame_row_of(whole: &[u8], out: &mut Vec<u8>) -> bool {
    let Ok(info) = frames::parse_stream_info(whole) else {
        return false;
    };
    let frame = &whole[info.audio_start..];
    let canonical = info.audio_start == HEADER_BYTES
        && (1..=2).contains(&info.channels)
        && info.md5 != [0; 16]
        && info.fixed_block_size().is_some()
        && (1..=u64::from(info.max_block_size)).contains(&info.total_samples)
        && matches!(
            frames::frame_header_at(frame, &info),
            Some((0, n)) if u64::from(n) == info.total_samples
        );
    if !canonical {
        return false;
    }
    let header = header_of(&info, frame.len(), info.md5);
    if whole[..HEADER_BYTES] != header.to_bytes() {
        return false;
    }
    push_prefix(
        out,
        info.channels,
        info.bits_per_sample,
        info.max_block_size,
    );
    out.extend_from_slice(frame);
    true
}

/// Appends the standard FLAC stream `row` (a frame row) stands for: `fLaC`,
/// STREAMINFO with the MD5 of the decoded samples, then the frame. Damage
/// (a CRC that does not hold, a frame that does not fill the row) is
/// `Corrupt`.
pub(crate) fn whole_stream_into(row: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let info = describe(row)?;
    let md5 = super::samples_md5(row, &info)?;
    push_whole(row, &info, md5, out);
    Ok(())
}

/// Appends the standard stream the frame row `row` (whose facts are
/// `info`) stands for, with `md5` in its STREAMINFO (zeros: none recorded).
pub(crate) fn push_whole(row: &[u8], info: &StreamInfo, md5: [u8; 16], out: &mut Vec<u8>) {
    let frame = &row[info.audio_start..];
    out.extend_from_slice(&header_of(info, frame.len(), md5).to_bytes());
    out.extend_from_slice(frame);
}

/// The STREAMINFO a one-frame stream of `info`'s facts records.
fn header_of(info: &StreamInfo, frame_len: usize, md5: [u8; 16]) -> Header {
    let frame = u32::try_from(frame_len).unwrap_or(u32::MAX);
    Header {
        channels: info.channels,
        bits_per_sample: info.bits_per_sample,
        block: info.max_block_size,
        min_frame: frame,
        max_frame: frame,
        total_samples: info.total_samples,
        md5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{encode_i32, encode_with, EncodeOptions, Encoder, Samples, ShortStream};

    fn row_of(samples: &[i32], block: u32) -> Vec<u8> {
        let options = EncodeOptions {
            block_size: block,
            short: ShortStream::FrameRow,
            ..EncodeOptions::default()
        };
        let mut out = Vec::new();
        encode_with(Encoder::Native, Samples::One(samples), &options, &mut out).unwrap();
        out
    }

    #[test]
    fn a_row_and_its_whole_stream_give_each_other_back() {
        for (n, block) in [
            (1usize, 16u32),
            (64, 4096),
            (200, 200),
            (4096, 4096),
            (1000, 65535),
        ] {
            let samples: Vec<i32> = (0..n as i32).map(|i| (i * 37) % 201 - 100).collect();
            let whole = encode_i32(
                &samples,
                &EncodeOptions {
                    block_size: block,
                    ..EncodeOptions::default()
                },
            )
            .unwrap();
            let row = row_of(&samples, block);
            assert!(is_frame_row(&row));
            let leb128 = (32 - block.leading_zeros()).div_ceil(7) as usize;
            assert_eq!(whole.len() - row.len(), 42 - 2 - leb128);
            let mut rebuilt = Vec::new();
            whole_stream_into(&row, &mut rebuilt).unwrap();
            assert_eq!(rebuilt, whole, "n {n} block {block}");
            let mut stripped = Vec::new();
            assert!(push_frame_row_of(&whole, &mut stripped));
            assert_eq!(stripped, row);
            assert_eq!(describe(&row).unwrap().total_samples, n as u64);
        }
    }

    #[test]
    fn long_streams_stay_whole() {
        let samples: Vec<i32> = (0..5000).collect();
        let whole = encode_i32(&samples, &EncodeOptions::default()).unwrap();
        let mut out = Vec::new();
        assert!(!push_frame_row_of(&whole, &mut out));
        assert!(out.is_empty());
        // and the encoder writes them whole even when asked for frame rows
        let long = row_of(&samples, 4096);
        assert_eq!(long, whole);
    }

    /// `prefix` with its CRC-8, then `frame`.
    fn with_prefix(prefix: &[u8], frame: &[u8]) -> Vec<u8> {
        let mut out = prefix.to_vec();
        out.push(frames::crc8(prefix));
        out.extend_from_slice(frame);
        out
    }

    #[test]
    fn damaged_prefixes_are_corrupt() {
        // 13 bits: the frame header leaves the depth to the prefix
        let row = row_of(&[5, -3, 8, 4000, 7], 4096);
        assert_eq!(row[0], MARK | 12);
        let (prefix, frame) = row.split_at(3);
        let frame = &frame[1..];
        let mut cases = vec![
            with_prefix(&[MARK | 2, prefix[1], prefix[2]], frame), // 3 bits
            with_prefix(&[MARK | 0x20 | 12, prefix[1], prefix[2]], frame), // 2 channels
            with_prefix(&[prefix[0], 0x80 | prefix[1], 0x80 | prefix[2], 0], frame), // long form
            with_prefix(&[prefix[0], 8], frame),                   // block of 8
            with_prefix(&[prefix[0], 4], frame),                   // shorter than the row
            row[..3].to_vec(),                                     // ends in the prefix
        ];
        // a depth of 14 bits would read this verbatim frame to its end
        // (5 x 14 bits pad to the same bytes as 5 x 13): the CRC-8 is
        // what catches that damage
        let mut flipped = row.clone();
        flipped[0] ^= 1;
        cases.push(flipped);
        for case in cases {
            let whole = describe(&case).and_then(|_| {
                let mut out = Vec::new();
                whole_stream_into(&case, &mut out)
            });
            let Err(err) = whole else {
                panic!("{case:?} read as a frame row");
            };
            assert_eq!(err.kind(), crate::ErrorKind::Corrupt, "{case:?}");
        }
        assert!(describe(&row).is_ok());
    }
}
