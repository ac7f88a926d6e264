//! The codec layer: one integer stream ⇄ one standard FLAC bytestream.
//!
//! int32 samples are stored as 1-channel FLAC at the smallest bit depth that
//! holds them; int64 samples as 2 channels (low word, high word). Every
//! stream is self-contained (`fLaC` marker, STREAMINFO, frames), so any FLAC
//! decoder can read it, except frame rows (`frame_row`): one-frame streams
//! without `fLaC` and STREAMINFO, which the Arrow column stores and
//! [`whole_stream`] turns back into standard streams. Every read accepts both.

/// Defines `pub(super) fn $name`, which runs `$body` (an `#[inline(always)]`
/// function of the same signature) compiled for AVX-512 or AVX2 when the
/// CPU has it, else as built. The same operations in the same order either
/// way, so the output does not depend on the CPU. `FLACARRAY_NO_AVX512` in
/// the environment (read once) keeps it to AVX2, as the tests do to cover
/// both.
macro_rules! vectorized {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $body:ident;) => {
        $(#[$doc])*
        pub(super) fn $name($($arg: $ty),*) -> $ret {
            vectorized!(@tier has_avx512, "avx512f,avx512vl,avx512bw,avx512dq,avx2",
                $body($($arg: $ty),*) -> $ret);
            vectorized!(@tier has_avx2_fma, "avx2", $body($($arg: $ty),*) -> $ret);
            $body($($arg),*)
        }
    };
    // returns `$body` compiled with `$features` when `cpu::$check` says the
    // CPU has them
    (@tier $check:ident, $features:literal, $body:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        #[cfg(target_arch = "x86_64")]
        if crate::codec::cpu::$check() {
            #[target_feature(enable = $features)]
            unsafe fn tier($($arg: $ty),*) -> $ret {
                $body($($arg),*)
            }
            // SAFETY: the CPU has these features (checked just above).
            return unsafe { tier($($arg),*) };
        }
    };
}

mod aligned;
#[cfg(target_arch = "x86_64")]
mod cpu;
mod crc16;
mod decoder;
mod encoder;
mod frame_row;
mod frames;
mod level;
mod lpc;
mod md5;

pub use encoder::{
    encode_group, encode_i32, encode_i32_into, encode_i64, encode_i64_into, encode_with,
    EncodeOptions, Encoder, Samples, ShortStream,
};
pub use frames::StreamInfo;
pub use level::Level;
pub use md5::Md5;

/// The name libFLAC gives value `index` of one of its enums, from the
/// enum's table of names (`FLAC__StreamEncoderStateString`, ...).
///
/// # Safety
/// `table` is one of libFLAC's name tables and `index` a value of its enum.
#[cfg(feature = "libflac")]
unsafe fn libflac_name(table: *const *const std::os::raw::c_char, index: usize) -> String {
    // SAFETY: by the caller, entry `index` exists and is a static C string.
    unsafe { std::ffi::CStr::from_ptr(*table.add(index)) }
        .to_string_lossy()
        .into_owned()
}

/// Reads a stream's STREAMINFO (channels, bit depth, sample count), or
/// what a frame row records in its place (no MD5).
pub fn stream_info(bytes: &[u8]) -> crate::Result<StreamInfo> {
    if frame_row::is_frame_row(bytes) {
        frame_row::describe(bytes)
    } else {
        frames::parse_stream_info(bytes)
    }
}

/// True when `bytes` is a frame row (see [`ShortStream::FrameRow`]), not a
/// whole FLAC stream.
pub fn is_frame_row(bytes: &[u8]) -> bool {
    frame_row::is_frame_row(bytes)
}

/// The standard FLAC stream a frame row stands for (`fLaC`, STREAMINFO
/// with the MD5 of its samples, the frame): byte for byte the stream
/// [`encode_with`] writes for the same samples with [`ShortStream::Whole`].
/// A whole stream is returned as it is.
///
/// ```
/// use flacarray::codec::{encode_i32, encode_with, whole_stream, EncodeOptions, Encoder, Samples, ShortStream};
///
/// let samples = [3, 1, 4, 1, 5, 9, 2, 6];
/// let options = EncodeOptions { short: ShortStream::FrameRow, ..EncodeOptions::default() };
/// let mut row = Vec::new();
/// encode_with(Encoder::Native, Samples::One(&samples), &options, &mut row)?;
/// let whole = encode_i32(&samples, &EncodeOptions::default())?;
/// assert_eq!(row.len() + 38, whole.len());
/// assert_eq!(whole_stream(&row)?, whole);
/// # Ok::<(), flacarray::Error>(())
/// ```
pub fn whole_stream(bytes: &[u8]) -> crate::Result<Vec<u8>> {
    if !frame_row::is_frame_row(bytes) {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::with_capacity(bytes.len() + frames::HEADER_BYTES);
    frame_row::whole_stream_into(bytes, &mut out)?;
    Ok(out)
}

/// Appends the frame row standing for the whole stream `bytes` to `out`
/// when it has one (a one-frame stream whose header is exactly what
/// [`whole_stream`] rebuilds); otherwise appends nothing and returns false.
pub(crate) fn push_frame_row_of(bytes: &[u8], out: &mut Vec<u8>) -> bool {
    frame_row::push_frame_row_of(bytes, out)
}

/// True when streams `a` and `b` are the same bytes, or one is the frame
/// row standing for the other.
pub(crate) fn same_stream(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    let (row, whole) = match (is_frame_row(a), is_frame_row(b)) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        _ => return false,
    };
    let mut stripped = Vec::with_capacity(row.len());
    frame_row::push_frame_row_of(whole, &mut stripped) && stripped == row
}

/// Which FLAC decoder reads streams: ours (the default), or libFLAC's (with
/// the cargo feature `libflac`, for comparison and differential tests; the
/// default with the feature `libflac-decoder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// This crate's decoder (`src/codec/decoder/`).
    Native,
    /// libFLAC 1.5's stream decoder.
    #[cfg(feature = "libflac")]
    Libflac,
}

impl Decoder {
    /// The decoder every read path uses.
    #[cfg(feature = "libflac-decoder")]
    pub const DEFAULT: Decoder = Decoder::Libflac;
    /// The decoder every read path uses.
    #[cfg(not(feature = "libflac-decoder"))]
    pub const DEFAULT: Decoder = Decoder::Native;
}

/// The channel counts a read accepts: 32-bit types are 1-channel streams;
/// 64-bit types are 2-channel streams, or 1-channel ones (the reference's
/// format 0 wrote float64 that way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channels {
    One,
    OneOrTwo,
}

/// How one pass over a stream's frames ended (a decoder's damage report is
/// an `Err` instead).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every requested sample was written.
    Complete,
    /// The first frame read lies after the first requested sample.
    StartedLate,
    /// The stream ended after this many requested samples.
    Ended(usize),
}

impl Decoder {
    /// Decodes samples `first .. first + out.len()` of one stream with
    /// this decoder: each integer (a 1-channel sample, or the 64-bit value of a
    /// 2-channel low/high word pair) goes through `convert`. The checks of
    /// STREAMINFO, the jump to the frame holding `first` and the fallback to
    /// the first frame (a located header may be mimicked by audio data) are
    /// the same for both decoders.
    pub(crate) fn decode_into<T, F>(
        self,
        bytes: &[u8],
        stream_len: u64,
        first: u64,
        out: &mut [T],
        channels: Channels,
        convert: F,
    ) -> crate::Result<()>
    where
        F: Fn(i64) -> T + Copy,
    {
        let info = stream_info(bytes)?;
        #[cfg(feature = "libflac")]
        if self == Decoder::Libflac && frame_row::is_frame_row(bytes) {
            // libFLAC reads standard streams only (MD5 zero: nothing to check)
            let mut whole = Vec::with_capacity(bytes.len() + frames::HEADER_BYTES);
            frame_row::push_whole(bytes, &info, [0; 16], &mut whole);
            return self.decode_into(&whole, stream_len, first, out, channels, convert);
        }
        check_info(&info, stream_len, channels)?;
        if out.is_empty() {
            return Ok(());
        }
        let start = match info.fixed_block_size() {
            Some(block) if first >= u64::from(block) => {
                let frame_count = stream_len.max(first + 1).div_ceil(u64::from(block));
                frames::locate_frame(bytes, &info, first / u64::from(block), frame_count)
            }
            _ => info.audio_start,
        };
        let pass = |from: usize, out: &mut [T]| match self {
            Decoder::Native => decoder::run(bytes, &info, from, first, stream_len, out, &convert),
            #[cfg(feature = "libflac")]
            Decoder::Libflac => {
                decoder::libflac::run(bytes, &info, from, first, stream_len, out, convert)
            }
        };
        let mut outcome = pass(start, out);
        if start != info.audio_start && !matches!(outcome, Ok(Outcome::Complete)) {
            outcome = pass(info.audio_start, out);
        }
        let wanted = out.len();
        match outcome? {
            Outcome::Complete => Ok(()),
            Outcome::StartedLate => Err(crate::Error::corrupt(
                "first FLAC frame does not start at sample 0",
            )),
            Outcome::Ended(got) => Err(crate::Error::corrupt(format!(
                "FLAC stream ended early: got {got} of {wanted} requested samples starting at {first}"
            ))),
        }
    }
}

/// The most whole streams [`Decoder::decode_whole_into`] decodes at once.
pub(crate) const GROUP: usize = 8;

/// What a read checks of STREAMINFO before decoding: the channel count
/// fits the array's type, and a recorded sample count is the stream's.
fn check_info(info: &StreamInfo, stream_len: u64, channels: Channels) -> crate::Result<()> {
    match info.channels {
        1 => {}
        2 if channels == Channels::OneOrTwo => {}
        2 => {
            return Err(crate::Error::corrupt(
                "stream holds 64-bit values (2 channels) but the array's type is 32-bit",
            ))
        }
        n => {
            return Err(crate::Error::corrupt(format!(
                "stream has {n} channels; expected 1 or 2"
            )))
        }
    }
    if info.total_samples != 0 && info.total_samples != stream_len {
        return Err(crate::Error::corrupt(format!(
            "stream holds {} samples but {stream_len} were expected",
            info.total_samples
        )));
    }
    Ok(())
}

impl Decoder {
    /// Decodes whole streams of `stream_len` (> 0) samples each, stream `i`
    /// into `out[i * stream_len..][..stream_len]` through `converts[i]`:
    /// with our decoder, up to eight at a time where the CPU runs the group
    /// decoder (a group of fewer than five one by one), else one by one as [`Self::decode_into`] does (as it also
    /// does for a stream the group decoder leaves, so the outcome of each
    /// stream is the same either way). An error names the stream's place.
    pub(crate) fn decode_whole_into<T, F>(
        self,
        streams: &[&[u8]],
        stream_len: u64,
        out: &mut [T],
        channels: Channels,
        converts: &[F],
    ) -> Result<(), (usize, crate::Error)>
    where
        F: Fn(i64) -> T + Copy,
    {
        let len = usize::try_from(stream_len).unwrap_or(usize::MAX);
        assert!(len > 0 && out.len() == streams.len() * len && converts.len() == streams.len());
        let alone = |i: usize, out: &mut [T]| {
            self.decode_into(streams[i], stream_len, 0, out, channels, converts[i])
                .map_err(|e| (i, e))
        };
        #[cfg(target_arch = "x86_64")]
        if self == Decoder::Native && streams.len() >= 2 && decoder::group::runs_here() {
            for (g, outs) in out.chunks_mut(GROUP * len).enumerate() {
                let first = g * GROUP;
                if outs.len() < decoder::group::MIN_STREAMS * len {
                    for (i, part) in outs.chunks_mut(len).enumerate() {
                        alone(first + i, part)?;
                    }
                    continue;
                }
                let mut group = Vec::with_capacity(GROUP);
                let mut places = Vec::with_capacity(GROUP);
                let mut left = Vec::new();
                for (i, part) in outs.chunks_mut(len).enumerate() {
                    let i = first + i;
                    let checked = stream_info(streams[i])
                        .and_then(|info| check_info(&info, stream_len, channels).map(|()| info));
                    match checked {
                        Ok(info) => {
                            group.push(decoder::group::Stream {
                                bytes: streams[i],
                                info,
                                out: part,
                                convert: converts[i],
                            });
                            places.push(i);
                        }
                        Err(_) => left.push((i, part)),
                    }
                }
                let decoded = decoder::group::run_group(&mut group);
                for ((stream, i), done) in group.into_iter().zip(places).zip(decoded) {
                    if !done {
                        left.push((i, stream.out));
                    }
                }
                left.sort_by_key(|(i, _)| *i);
                for (i, part) in left {
                    alone(i, part)?;
                }
            }
            return Ok(());
        }
        for (i, part) in out.chunks_mut(len).enumerate() {
            alone(i, part)?;
        }
        Ok(())
    }
}

/// The rule for a stream's end, checked by both decoders when a read
/// reaches it: the frame holding the last sample ends exactly at the
/// stream's stated length (`stream_len`: STREAMINFO's count, or the
/// array's stream length where STREAMINFO records none), and no byte
/// follows that frame. A lowered sample count, a frame cut short or
/// anything appended to a stream is damage, never a shorter or longer
/// array.
pub(crate) fn check_stream_end(
    frame_end_sample: u64,
    stream_len: u64,
    frame_end_byte: usize,
    stream_bytes: usize,
) -> crate::Result<()> {
    if frame_end_sample != stream_len {
        return Err(crate::Error::corrupt(format!(
            "the last FLAC frame ends at sample {frame_end_sample}, but the stream holds {stream_len} samples"
        )));
    }
    if frame_end_byte != stream_bytes {
        return Err(crate::Error::corrupt(format!(
            "{} bytes follow the stream's last FLAC frame",
            stream_bytes.saturating_sub(frame_end_byte)
        )));
    }
    Ok(())
}

/// [`decode_window_i32`] with a chosen decoder.
pub fn decode_window_i32_with(
    decoder: Decoder,
    bytes: &[u8],
    stream_len: u64,
    first: u64,
    out: &mut [i32],
) -> crate::Result<()> {
    decoder.decode_into(bytes, stream_len, first, out, Channels::One, |v| v as i32)
}

/// [`decode_window_i64`] with a chosen decoder.
pub fn decode_window_i64_with(
    decoder: Decoder,
    bytes: &[u8],
    stream_len: u64,
    first: u64,
    out: &mut [i64],
) -> crate::Result<()> {
    decoder.decode_into(bytes, stream_len, first, out, Channels::OneOrTwo, |v| v)
}

/// Decodes a whole stream of `stream_len` samples with our decoder and
/// checks all it can: every frame header's CRC-8 and frame's CRC-16 and,
/// when STREAMINFO records one, the MD5 of the decoded samples (as libFLAC
/// computes it: each channel's samples interleaved, little-endian, in
/// whole bytes of the stream's sample size). Returns whether an MD5 was
/// checked; damage is a `Corrupt` error.
///
/// ```
/// use flacarray::codec::{encode_i32, verify_stream, EncodeOptions};
///
/// let samples: Vec<i32> = (0..10_000).map(|i| (i % 300) * 7).collect();
/// let mut bytes = encode_i32(&samples, &EncodeOptions::default())?;
/// assert!(verify_stream(&bytes, 10_000)?);        // CRCs and MD5 hold
/// let n = bytes.len();
/// bytes[n - 100] ^= 1;                               // one flipped bit
/// assert!(verify_stream(&bytes, 10_000).is_err());
/// # Ok::<(), flacarray::Error>(())
/// ```
pub fn verify_stream(bytes: &[u8], stream_len: u64) -> crate::Result<bool> {
    let info = stream_info(bytes)?;
    let n = if info.total_samples != 0 {
        info.total_samples
    } else {
        stream_len
    };
    let info = StreamInfo {
        total_samples: n,
        ..info
    };
    let md5 = samples_md5(bytes, &info)?;
    if info.md5 == [0; 16] {
        return Ok(false);
    }
    if md5 != info.md5 {
        return Err(crate::Error::corrupt(
            "the decoded samples do not match the stream's MD5",
        ));
    }
    Ok(true)
}

/// Decodes every sample of a stream (`info`: its facts, `total_samples`
/// known) with our decoder and returns their MD5 as STREAMINFO records it.
fn samples_md5(bytes: &[u8], info: &StreamInfo) -> crate::Result<[u8; 16]> {
    let mut values = vec![0i64; checked_len(info.total_samples, bytes.len())?];
    Decoder::Native.decode_into(
        bytes,
        info.total_samples,
        0,
        &mut values,
        Channels::OneOrTwo,
        |v| v,
    )?;
    let mut digest = md5::SampleDigest::new(info.bits_per_sample);
    let mut packed = Vec::new();
    if info.channels == 2 {
        digest.add(Samples::Two(&values), &mut packed);
    } else {
        let words: Vec<i32> = values.iter().map(|&v| v as i32).collect();
        digest.add(Samples::One(&words), &mut packed);
    }
    Ok(digest.finish())
}

/// Decodes a whole 1-channel stream into 32-bit samples.
pub fn decode_i32(bytes: &[u8]) -> crate::Result<Vec<i32>> {
    let n = stream_info(bytes)?.total_samples;
    let mut out = vec![0i32; checked_len(n, bytes.len())?];
    Decoder::DEFAULT.decode_into(bytes, n, 0, &mut out, Channels::One, |v| v as i32)?;
    Ok(out)
}

/// Decodes whole 1-channel streams of `stream_len` samples each into
/// `out`, stream after stream, with a chosen decoder: ours decodes up to
/// eight at once where the CPU has AVX-512 VBMI2 (the same samples, and
/// for a damaged stream the same error, as decoding each alone). An error
/// names the stream's place in `streams`.
///
/// ```
/// use flacarray::codec::{decode_streams_i32_with, encode_i32, Decoder, EncodeOptions};
///
/// let a: Vec<i32> = (0..5000).map(|i| (i % 300) * 7).collect();
/// let b: Vec<i32> = (0..5000).map(|i| i * i % 1001).collect();
/// let options = EncodeOptions::default();
/// let streams = [encode_i32(&a, &options)?, encode_i32(&b, &options)?];
/// let bytes: Vec<&[u8]> = streams.iter().map(|s| &s[..]).collect();
/// let mut out = vec![0; 10_000];
/// decode_streams_i32_with(Decoder::Native, &bytes, 5000, &mut out)?;
/// assert_eq!(&out[..5000], &a[..]);
/// assert_eq!(&out[5000..], &b[..]);
/// # Ok::<(), flacarray::Error>(())
/// ```
pub fn decode_streams_i32_with(
    decoder: Decoder,
    streams: &[&[u8]],
    stream_len: u64,
    out: &mut [i32],
) -> crate::Result<()> {
    decode_streams(decoder, streams, stream_len, out, Channels::One, |v| {
        v as i32
    })
}

/// Like [`decode_streams_i32_with`] for 64-bit streams (2 channels, or 1).
pub fn decode_streams_i64_with(
    decoder: Decoder,
    streams: &[&[u8]],
    stream_len: u64,
    out: &mut [i64],
) -> crate::Result<()> {
    decode_streams(decoder, streams, stream_len, out, Channels::OneOrTwo, |v| v)
}

/// [`decode_streams_i32_with`]'s checks of `out`'s size, then
/// [`Decoder::decode_whole_into`].
fn decode_streams<T, F: Fn(i64) -> T + Copy>(
    decoder: Decoder,
    streams: &[&[u8]],
    stream_len: u64,
    out: &mut [T],
    channels: Channels,
    convert: F,
) -> crate::Result<()> {
    let wanted = usize::try_from(stream_len)
        .ok()
        .and_then(|len| len.checked_mul(streams.len()));
    if wanted != Some(out.len()) {
        return Err(crate::Error::invalid(format!(
            "output holds {} samples, not {} streams of {stream_len}",
            out.len(),
            streams.len()
        )));
    }
    if stream_len == 0 {
        for (i, bytes) in streams.iter().enumerate() {
            decoder
                .decode_into(bytes, 0, 0, &mut [], channels, convert)
                .map_err(|e| e.in_stream(i))?;
        }
        return Ok(());
    }
    let converts = vec![convert; streams.len()];
    decoder
        .decode_whole_into(streams, stream_len, out, channels, &converts)
        .map_err(|(i, e)| e.in_stream(i))
}

/// Decodes samples `first..first + out.len()` of a 1-channel stream of
/// `stream_len` samples (its STREAMINFO's count, or the array's stream
/// length when the stream records none), decoding only the frames that
/// hold them.
pub fn decode_window_i32(
    bytes: &[u8],
    stream_len: u64,
    first: u64,
    out: &mut [i32],
) -> crate::Result<()> {
    Decoder::DEFAULT.decode_into(bytes, stream_len, first, out, Channels::One, |v| v as i32)
}

/// Like [`decode_window_i32`] for 64-bit streams (2 channels, or 1).
pub fn decode_window_i64(
    bytes: &[u8],
    stream_len: u64,
    first: u64,
    out: &mut [i64],
) -> crate::Result<()> {
    Decoder::DEFAULT.decode_into(bytes, stream_len, first, out, Channels::OneOrTwo, |v| v)
}

/// Decodes a whole stream (1 or 2 channels) into 64-bit samples.
pub fn decode_i64(bytes: &[u8]) -> crate::Result<Vec<i64>> {
    let n = stream_info(bytes)?.total_samples;
    let mut out = vec![0i64; checked_len(n, bytes.len())?];
    Decoder::DEFAULT.decode_into(bytes, n, 0, &mut out, Channels::OneOrTwo, |v| v)?;
    Ok(out)
}

/// A copy of a stream whose STREAMINFO records `total` samples (streams
/// written by the reference's 0.2.x record none). Only that field changes.
pub fn with_total_samples(bytes: &[u8], total: u64) -> crate::Result<Vec<u8>> {
    stream_info(bytes)?;
    if frame_row::is_frame_row(bytes) {
        return Err(crate::Error::invalid(
            "a frame row records its length in its frame header",
        ));
    }
    if total >= 1 << 36 {
        return Err(crate::Error::invalid(format!(
            "{total} samples do not fit FLAC's 36-bit sample count"
        )));
    }
    let mut out = bytes.to_vec();
    // STREAMINFO starts after "fLaC" and its 4-byte block header; the count
    // is the low 36 bits of its bytes 10..18.
    let field = &mut out[8 + 13..8 + 18];
    field[0] = (field[0] & 0xF0) | ((total >> 32) as u8 & 0x0F);
    field[1..5].copy_from_slice(&(total as u32).to_be_bytes());
    Ok(out)
}

/// The most samples `nbytes` of FLAC can hold: a frame costs at least 9
/// bytes (header, one constant subframe, CRC) for at most 65535 samples.
pub fn max_samples_in(nbytes: usize) -> u64 {
    (nbytes as u64 / 9 + 1) * 65535
}

/// A stream's STREAMINFO sample count is untrusted: never allocate more than
/// the bytes could possibly hold.
fn checked_len(total: u64, nbytes: usize) -> crate::Result<usize> {
    if total == 0 {
        return Err(crate::Error::unsupported(
            "stream does not record its sample count; decode with an explicit length",
        ));
    }
    if total > max_samples_in(nbytes) {
        return Err(crate::Error::corrupt(format!(
            "stream claims {total} samples, more than {nbytes} bytes can hold"
        )));
    }
    usize::try_from(total)
        .map_err(|_| crate::Error::corrupt(format!("stream claims {total} samples")))
}
