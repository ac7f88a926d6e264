//! One integer stream in, one self-contained FLAC bytestream out.
//!
//! The encoder is this crate's own ([`frame`] and the modules beside it);
//! with the cargo feature `libflac`, libFLAC's can be chosen instead
//! ([`Encoder::Libflac`]), for comparison and as a test oracle. Both write
//! the same layout: `fLaC`, STREAMINFO (the only metadata block, with the
//! MD5 of the samples), then frames of `block_size` samples, numbered.

mod bits;
mod frame;
#[cfg(feature = "libflac")]
mod libflac;
mod predict;
mod preset;
mod rice;
mod subframe;

use crate::error::{Error, Result};

/// Settings for encoding one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Compression level, 0 (fastest) to 8 (smallest); what each level
    /// does is listed in the crate's docs/format.md.
    pub level: u32,
    /// Samples per FLAC frame; also the granularity of random access.
    pub block_size: u32,
    /// Threads that may encode frames of this one stream at once (1 = none).
    pub threads: u32,
    /// How a stream of at most `block_size` samples is written.
    pub short: ShortStream,
}

/// How a stream short enough for one frame (1 to `block_size` samples) is
/// written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShortStream {
    /// As every stream: `fLaC`, STREAMINFO (with the samples' MD5), then
    /// the frame.
    #[default]
    Whole,
    /// As a frame row (the Arrow column's short rows): a 2–4-byte prefix
    /// instead of `fLaC` and STREAMINFO, no MD5; see
    /// [`crate::codec::whole_stream`] for the standard stream it stands for.
    /// The libFLAC encoder writes whole streams only.
    FrameRow,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            level: 5,
            block_size: 4096,
            threads: 1,
            short: ShortStream::Whole,
        }
    }
}

impl EncodeOptions {
    /// Checks the settings; the error names the offending one.
    pub fn validate(&self) -> Result<()> {
        super::Level::new(i64::from(self.level))?;
        if !(16..=65535).contains(&self.block_size) {
            return Err(Error::invalid(format!(
                "block size must be between 16 and 65535 samples, got {}",
                self.block_size
            )));
        }
        Ok(())
    }
}

/// Which FLAC encoder writes streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoder {
    /// This crate's encoder (the default).
    Native,
    /// libFLAC 1.5's stream encoder (cargo feature `libflac`).
    #[cfg(feature = "libflac")]
    Libflac,
}

/// Encodes 32-bit samples as a 1-channel FLAC stream at the smallest bit
/// depth (4..=32) that holds every value.
///
/// ```
/// use flacarray::codec::{encode_i32, stream_info, EncodeOptions};
///
/// let samples: Vec<i32> = (0..10_000).map(|t| (t % 100) * 7 - 300).collect();
/// let bytes = encode_i32(&samples, &EncodeOptions::default())?;
/// let info = stream_info(&bytes)?;
/// assert_eq!((info.channels, info.total_samples), (1, 10_000));
/// assert!(bytes.len() < 10_000);
/// # Ok::<(), flacarray::Error>(())
/// ```
pub fn encode_i32(samples: &[i32], options: &EncodeOptions) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_i32_into(samples, options, &mut out)?;
    Ok(out)
}

/// Encodes 64-bit samples as a 2-channel FLAC stream: channel 0 holds the
/// low 32-bit word, channel 1 the high word (the reference package's layout).
pub fn encode_i64(samples: &[i64], options: &EncodeOptions) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_i64_into(samples, options, &mut out)?;
    Ok(out)
}

/// [`encode_i32`], appending the stream to `out`.
pub fn encode_i32_into(samples: &[i32], options: &EncodeOptions, out: &mut Vec<u8>) -> Result<()> {
    encode_with(Encoder::Native, Samples::One(samples), options, out)
}

/// [`encode_i64`], appending the stream to `out`.
pub fn encode_i64_into(samples: &[i64], options: &EncodeOptions, out: &mut Vec<u8>) -> Result<()> {
    encode_with(Encoder::Native, Samples::Two(samples), options, out)
}

/// The samples of one stream: 32-bit (one channel) or 64-bit (two).
#[derive(Debug, Clone, Copy)]
pub enum Samples<'a> {
    /// One channel of 32-bit samples.
    One(&'a [i32]),
    /// 64-bit samples, stored as two channels (low word, high word).
    Two(&'a [i64]),
}

impl<'a> Samples<'a> {
    /// Channels: 1 or 2.
    pub(crate) fn channels(self) -> usize {
        match self {
            Samples::One(_) => 1,
            Samples::Two(_) => 2,
        }
    }

    /// How many samples (frames, for two channels).
    pub(crate) fn len(self) -> usize {
        match self {
            Samples::One(s) => s.len(),
            Samples::Two(s) => s.len(),
        }
    }

    /// The samples (frames, for two channels) in `range`.
    pub(crate) fn range(self, range: std::ops::Range<usize>) -> Samples<'a> {
        match self {
            Samples::One(s) => Samples::One(&s[range]),
            Samples::Two(s) => Samples::Two(&s[range]),
        }
    }
}

/// Encodes `samples` with `encoder`, appending the stream to `out`.
pub fn encode_with(
    encoder: Encoder,
    samples: Samples<'_>,
    options: &EncodeOptions,
    out: &mut Vec<u8>,
) -> Result<()> {
    options.validate()?;
    match encoder {
        Encoder::Native => frame::encode_stream(samples, options, out, false).map(|_| ()),
        #[cfg(feature = "libflac")]
        Encoder::Libflac => {
            let bytes = match samples {
                Samples::One(s) => libflac::encode_i32(s, options)?,
                Samples::Two(s) => libflac::encode_i64(s, options)?,
            };
            out.extend_from_slice(&bytes);
            Ok(())
        }
    }
}

/// Encodes each of `streams` with this crate's encoder and appends them to
/// `out` one after another, pushing the offset in `out` where each ends
/// onto `ends`: the bytes [`encode_with`] gives for each, in less time. A
/// whole stream's MD5 is about a third of its encoding time at the default
/// level, and one hash alone leaves most of a core idle: here the streams'
/// hashes run side by side, eight at a time. One output for all of them
/// spares short streams an allocation each.
///
/// ```
/// use flacarray::codec::{encode_group, encode_i32, EncodeOptions, Samples};
///
/// let a: Vec<i32> = (0..10_000).map(|t| (t % 100) * 7 - 300).collect();
/// let b: Vec<i32> = (0..5_000).map(|t| (t % 37) * 11).collect();
/// let options = EncodeOptions::default();
/// let (mut out, mut ends) = (Vec::new(), Vec::new());
/// encode_group(&[Samples::One(&a), Samples::One(&b)], &options, &mut out, &mut ends)?;
/// assert_eq!(out[..ends[0]], encode_i32(&a, &options)?);
/// assert_eq!(out[ends[0]..ends[1]], encode_i32(&b, &options)?);
/// # Ok::<(), flacarray::Error>(())
/// ```
pub fn encode_group(
    streams: &[Samples<'_>],
    options: &EncodeOptions,
    out: &mut Vec<u8>,
    ends: &mut Vec<usize>,
) -> Result<()> {
    options.validate()?;
    frame::encode_group(streams, options, out, ends)
}

/// Smallest signed bit depth that holds every sample of `samples` (both
/// words of a two-channel sample), within FLAC's 4..=32, and whether the
/// two channels (an int64's low and high words) may gain from being
/// decorrelated: not at 32 bits (the side channel would need 33), nor when
/// the high word takes at most two neighbouring values while samples need
/// more than 8 bits (values within ±2^31, whose high word is only the sign:
/// a side or mid channel is then the low word within one, and dearer than
/// the sign).
fn depth(samples: Samples<'_>) -> (u32, bool) {
    let (min, max, high_spread) = match samples {
        Samples::One(words) => {
            let (min, max) = word_range(words);
            (min, max, 0)
        }
        Samples::Two(pairs) => pair_range(pairs),
    };
    let width = |v: i32| {
        33 - if v < 0 {
            (!v).leading_zeros()
        } else {
            v.leading_zeros()
        }
    };
    let bps = width(min).max(width(max)).clamp(4, 32);
    (bps, bps < 32 && (high_spread > 1 || bps <= 8))
}

vectorized! {
    /// The smallest and the largest of `words` and 0.
    fn word_range(words: &[i32]) -> (i32, i32) = word_range_body;
}

vectorized! {
    /// The smallest and the largest of the low and the high words of
    /// `pairs` and 0, and the high words' largest minus their smallest.
    fn pair_range(pairs: &[i64]) -> (i32, i32, i64) = pair_range_body;
}

#[inline(always)]
fn word_range_body(words: &[i32]) -> (i32, i32) {
    words
        .iter()
        .fold((0, 0), |(lo, hi), &w| (lo.min(w), hi.max(w)))
}

#[inline(always)]
fn pair_range_body(pairs: &[i64]) -> (i32, i32, i64) {
    // two passes, each a simple loop
    let (lo, hi) = pairs
        .iter()
        .fold((0, 0), |(lo, hi), &v| (lo.min(v as i32), hi.max(v as i32)));
    let (high_lo, high_hi) = pairs.iter().fold((i32::MAX, i32::MIN), |(lo, hi), &v| {
        let high = (v >> 32) as i32;
        (lo.min(high), hi.max(high))
    });
    let spread = i64::from(high_hi) - i64::from(high_lo);
    (lo.min(high_lo), hi.max(high_hi), spread)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// The channel assignment of a stream's first frame (after `fLaC` and
    /// STREAMINFO): 1 independent, 8–10 left/side, right/side, mid/side.
    fn first_assignment(stream: &[u8]) -> u8 {
        stream[42 + 3] >> 4
    }

    #[test]
    fn words_are_decorrelated_only_where_it_can_pay() {
        let options = EncodeOptions::default();
        // equal low and high words: the side channel is all zeros
        let equal: Vec<i64> = (0..5000i64)
            .map(|t| {
                let s = ((t as f64 * 0.01).sin() * 1000.0) as i64;
                (s << 32) | (s & 0xffff_ffff)
            })
            .collect();
        // values within ±2^31: the high word is only the sign
        let small: Vec<i64> = (0..5000i64).map(|t| (t * 7919) % 20_001 - 10_000).collect();
        // tiny values: the low word is the high word but for one bit
        let tiny: Vec<i64> = (0..5000i64).map(|t| -(((t * 7919) % 13) & 1)).collect();
        assert!(depth(Samples::Two(&equal)).1 && depth(Samples::Two(&tiny)).1);
        assert!(!depth(Samples::Two(&small)).1);
        for (samples, decorrelated) in [(&equal, true), (&tiny, true), (&small, false)] {
            let stream = encode_i64(samples, &options).unwrap();
            assert_eq!((8..=10).contains(&first_assignment(&stream)), decorrelated);
            assert_eq!(&crate::codec::decode_i64(&stream).unwrap(), samples);
        }
    }

    #[test]
    fn bit_depth_covers_extremes() {
        let ones = |w: &[i32]| depth(Samples::One(w)).0;
        assert_eq!(ones(&[0, 1, -1]), 4);
        assert_eq!(ones(&[127]), 8);
        assert_eq!(ones(&[-128]), 8);
        assert_eq!(ones(&[128]), 9);
        assert_eq!(ones(&[i32::MAX]), 32);
        assert_eq!(ones(&[i32::MIN]), 32);
        assert_eq!(ones(&[1 << 29]), 31);
        // both words of a 64-bit sample count
        let pairs = |v: &[i64]| depth(Samples::Two(v)).0;
        assert_eq!(pairs(&[1 << 40]), 10);
        assert_eq!(pairs(&[0x7F, -(1 << 33)]), 8);
        assert_eq!(pairs(&[0x80]), 9);
        assert_eq!(pairs(&[i64::MIN]), 32);
        // longer than a vector, the extreme last
        let mut long = vec![3i32; 1001];
        long[1000] = -70_000;
        assert_eq!(ones(&long), 18);
    }

    #[test]
    fn rejects_bad_level() {
        let opts = EncodeOptions {
            level: 9,
            ..Default::default()
        };
        let err = encode_i32(&[1, 2, 3], &opts).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains("compression level"));
    }

    #[test]
    fn output_has_only_streaminfo() {
        let bytes = encode_i32(&[1, 2, 3, 4], &EncodeOptions::default()).unwrap();
        let info = super::super::frames::parse_stream_info(&bytes).unwrap();
        assert_eq!(info.audio_start, 42);
        assert_eq!(info.total_samples, 4);
        assert_eq!(info.channels, 1);
    }
    #[test]
    fn groups_give_the_bytes_of_streams_one_by_one() {
        let mut next = crate::test_rng::xorshift(0x9E37_79B9_7F4A_7C15);
        // one and two channels, widths of 1 to 4 bytes, lengths from one
        // sample to several pieces of the hash, constant streams
        let ones: Vec<Vec<i32>> = [
            (1, 7),
            (100, 7),
            (4096, 15),
            (20_000, 23),
            (33_333, 31),
            (9_000, 0),
        ]
        .iter()
        .map(|&(n, bits)| {
            (0..n)
                .map(|_| (next() as i32) >> (31 - bits.max(1)))
                .collect()
        })
        .collect();
        let twos: Vec<Vec<i64>> = [(5000, 40), (12_345, 60), (3, 10)]
            .iter()
            .map(|&(n, bits)| (0..n).map(|_| (next() as i64) >> (63 - bits)).collect())
            .collect();
        let streams: Vec<Samples<'_>> = ones
            .iter()
            .map(|s| Samples::One(s))
            .chain(twos.iter().map(|s| Samples::Two(s)))
            .collect();
        for (level, threads, short) in [
            (5, 1, ShortStream::Whole),
            (0, 1, ShortStream::FrameRow),
            (8, 2, ShortStream::Whole),
        ] {
            let options = EncodeOptions {
                level,
                threads,
                short,
                ..EncodeOptions::default()
            };
            for count in 1..=streams.len() {
                let group = &streams[streams.len() - count..];
                // appended after what `out` and `ends` already hold
                let (mut out, mut ends) = (vec![0xAB], vec![1]);
                encode_group(group, &options, &mut out, &mut ends).unwrap();
                assert_eq!(ends.len(), count + 1);
                assert_eq!(out[0], 0xAB);
                for (&samples, bounds) in group.iter().zip(ends.windows(2)) {
                    let mut alone = Vec::new();
                    encode_with(Encoder::Native, samples, &options, &mut alone).unwrap();
                    let got = &out[bounds[0]..bounds[1]];
                    assert_eq!(got, alone, "level {level}, {count} streams");
                }
                assert_eq!(ends[count], out.len());
            }
        }
    }
}
