//! One FLAC bytestream in, a contiguous range of its samples out (libFLAC).
//!
//! A range that starts past sample 0 is decoded from the frame holding its
//! first sample: we locate that frame's header (see [`super::frames`]) and
//! hand libFLAC the stream's metadata followed by the bytes from that frame on.

use std::cell::RefCell;
use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use libflac_sys as ffi;

use super::frames::{locate_frame, parse_stream_info, StreamInfo};
use crate::error::{Error, ErrorKind, Result};

/// Owns a libFLAC decoder.
struct RawDecoder(*mut ffi::FLAC__StreamDecoder);

impl Drop for RawDecoder {
    fn drop(&mut self) {
        // SAFETY: created by FLAC__stream_decoder_new, deleted once.
        unsafe { ffi::FLAC__stream_decoder_delete(self.0) };
    }
}

impl RawDecoder {
    fn new() -> Result<Self> {
        // SAFETY: plain constructor; null means out of memory.
        let ptr = unsafe { ffi::FLAC__stream_decoder_new() };
        if ptr.is_null() {
            return Err(Error::new(
                ErrorKind::Codec,
                "libFLAC could not allocate a decoder",
            ));
        }
        Ok(RawDecoder(ptr))
    }
}

thread_local! {
    /// One reusable decoder per thread: creating one per stream costs more
    /// than decoding a short range.
    static DECODER: RefCell<Option<RawDecoder>> = const { RefCell::new(None) };
}

fn with_decoder<R>(f: impl FnOnce(&RawDecoder) -> R) -> Result<R> {
    DECODER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut slot) => {
            if slot.is_none() {
                *slot = Some(RawDecoder::new()?);
            }
            Ok(f(slot.as_ref().expect("decoder was just created")))
        }
        Err(_) => Ok(f(&RawDecoder::new()?)),
    })
}

/// How one decoding pass ended.
enum Outcome {
    /// Every requested sample was written.
    Complete,
    /// The first frame seen lies after the first requested sample.
    StartedLate,
    /// libFLAC reported damage, or frames were out of sequence.
    Damaged(String),
    /// The bytes ran out after this many requested samples.
    Ended(usize),
}

/// State shared with libFLAC's callbacks during one pass.
struct Pass<'a, T, F> {
    head: &'a [u8],
    body: &'a [u8],
    read_pos: usize,
    out: &'a mut [T],
    first: u64,
    next_sample: Option<u64>,
    written: usize,
    convert: F,
    outcome: Option<Outcome>,
}

impl<T, F: Fn(i64) -> T> Pass<'_, T, F> {
    fn read(&mut self, buffer: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buffer.len() {
            let (src, at) = if self.read_pos < self.head.len() {
                (self.head, self.read_pos)
            } else {
                (self.body, self.read_pos - self.head.len())
            };
            let avail = &src[at.min(src.len())..];
            if avail.is_empty() {
                break;
            }
            let take = avail.len().min(buffer.len() - n);
            buffer[n..n + take].copy_from_slice(&avail[..take]);
            n += take;
            self.read_pos += take;
        }
        n
    }

    /// Stores the requested part of one decoded frame; returns false to stop.
    fn frame(&mut self, start: u64, channels: &[&[i32]]) -> bool {
        let len = channels[0].len() as u64;
        match self.next_sample {
            Some(expected) if expected != start => {
                self.outcome = Some(Outcome::Damaged(format!(
                    "frame starting at sample {start} follows sample {expected}"
                )));
                return false;
            }
            None if start > self.first => {
                self.outcome = Some(Outcome::StartedLate);
                return false;
            }
            _ => {}
        }
        self.next_sample = Some(start + len);
        let end = self.first + self.out.len() as u64;
        let lo = start.max(self.first);
        let hi = (start + len).min(end);
        if lo < hi {
            let src = (lo - start) as usize..(hi - start) as usize;
            let dst = &mut self.out[(lo - self.first) as usize..(hi - self.first) as usize];
            match channels {
                [mono] => {
                    for (d, &s) in dst.iter_mut().zip(&mono[src]) {
                        *d = (self.convert)(i64::from(s));
                    }
                }
                [low, high] => {
                    for (d, (&l, &h)) in dst.iter_mut().zip(low[src.clone()].iter().zip(&high[src]))
                    {
                        *d = (self.convert)((i64::from(h) << 32) | i64::from(l as u32));
                    }
                }
                _ => {
                    self.outcome = Some(Outcome::Damaged("unexpected channel count".into()));
                    return false;
                }
            }
            self.written += (hi - lo) as usize;
        }
        if start + len >= end {
            self.outcome = Some(Outcome::Complete);
            return false;
        }
        true
    }
}

unsafe extern "C" fn read_cb<T, F: Fn(i64) -> T>(
    _dec: *const ffi::FLAC__StreamDecoder,
    buffer: *mut ffi::FLAC__byte,
    bytes: *mut usize,
    client: *mut c_void,
) -> ffi::FLAC__StreamDecoderReadStatus {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: libFLAC gives a writable buffer of *bytes bytes and our client pointer.
        let pass = unsafe { &mut *client.cast::<Pass<T, F>>() };
        if pass.outcome.is_some() {
            return ffi::FLAC__STREAM_DECODER_READ_STATUS_ABORT;
        }
        let buf = unsafe { std::slice::from_raw_parts_mut(buffer, *bytes) };
        let n = pass.read(buf);
        unsafe { *bytes = n };
        if n == 0 {
            ffi::FLAC__STREAM_DECODER_READ_STATUS_END_OF_STREAM
        } else {
            ffi::FLAC__STREAM_DECODER_READ_STATUS_CONTINUE
        }
    }));
    result.unwrap_or(ffi::FLAC__STREAM_DECODER_READ_STATUS_ABORT)
}

unsafe extern "C" fn write_cb<T, F: Fn(i64) -> T>(
    _dec: *const ffi::FLAC__StreamDecoder,
    frame: *const ffi::FLAC__Frame,
    buffer: *const *const ffi::FLAC__int32,
    client: *mut c_void,
) -> ffi::FLAC__StreamDecoderWriteStatus {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: libFLAC passes a valid frame, one buffer per channel of
        // `blocksize` samples, and our client pointer.
        let pass = unsafe { &mut *client.cast::<Pass<T, F>>() };
        let header = unsafe { &(*frame).header };
        let n = header.blocksize as usize;
        let start = if header.number_type == ffi::FLAC__FRAME_NUMBER_TYPE_SAMPLE_NUMBER {
            unsafe { header.number.sample_number }
        } else {
            u64::from(unsafe { header.number.frame_number }) * u64::from(header.blocksize)
        };
        let channels = header.channels as usize;
        if !(1..=2).contains(&channels) {
            pass.outcome = Some(Outcome::Damaged(format!("frame has {channels} channels")));
            return false;
        }
        let mut planes: [&[i32]; 2] = [&[], &[]];
        for (c, plane) in planes.iter_mut().enumerate().take(channels) {
            *plane = unsafe { std::slice::from_raw_parts(*buffer.add(c), n) };
        }
        pass.outcome.is_none() && pass.frame(start, &planes[..channels])
    }));
    match result {
        Ok(true) => ffi::FLAC__STREAM_DECODER_WRITE_STATUS_CONTINUE,
        _ => ffi::FLAC__STREAM_DECODER_WRITE_STATUS_ABORT,
    }
}

unsafe extern "C" fn error_cb<T, F: Fn(i64) -> T>(
    _dec: *const ffi::FLAC__StreamDecoder,
    status: ffi::FLAC__StreamDecoderErrorStatus,
    client: *mut c_void,
) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: our client pointer; libFLAC's static status strings.
        let pass = unsafe { &mut *client.cast::<Pass<T, F>>() };
        if pass.outcome.is_none() {
            let text = unsafe {
                let name = *ffi::FLAC__StreamDecoderErrorStatusString
                    .as_ptr()
                    .add(status as usize);
                std::ffi::CStr::from_ptr(name)
                    .to_string_lossy()
                    .into_owned()
            };
            pass.outcome = Some(Outcome::Damaged(format!("libFLAC reports {text}")));
        }
    }));
}

fn run_pass<T, F: Fn(i64) -> T>(
    bytes: &[u8],
    info: &StreamInfo,
    from: usize,
    first: u64,
    out: &mut [T],
    convert: F,
) -> Result<Outcome> {
    let mut pass = Pass {
        head: &bytes[..info.audio_start],
        body: &bytes[from..],
        read_pos: 0,
        out,
        first,
        next_sample: None,
        written: 0,
        convert,
        outcome: None,
    };
    let init = with_decoder(|decoder| {
        let dec = decoder.0;
        // SAFETY: the decoder is idle (finished or new); `pass` outlives the
        // calls below, after which the decoder is finished and forgets it.
        unsafe {
            let status = ffi::FLAC__stream_decoder_init_stream(
                dec,
                Some(read_cb::<T, F>),
                None,
                None,
                None,
                None,
                Some(write_cb::<T, F>),
                None,
                Some(error_cb::<T, F>),
                (&mut pass as *mut Pass<T, F>).cast(),
            );
            if status == ffi::FLAC__STREAM_DECODER_INIT_STATUS_OK {
                ffi::FLAC__stream_decoder_process_until_end_of_stream(dec);
            }
            ffi::FLAC__stream_decoder_finish(dec);
            status
        }
    })?;
    if init != ffi::FLAC__STREAM_DECODER_INIT_STATUS_OK {
        return Err(Error::new(
            ErrorKind::Codec,
            format!("libFLAC decoder init failed with status {init}"),
        ));
    }
    Ok(pass.outcome.unwrap_or(Outcome::Ended(pass.written)))
}

/// Decodes samples `first .. first + out.len()` of one FLAC stream.
///
/// Each decoded integer (a 1-channel sample, or the 64-bit value of a
/// 2-channel low/high word pair) goes through `convert` into `out`.
/// `stream_len` is the stream's sample count (used to find frames quickly);
/// `allow_two_channels` says whether 64-bit words are acceptable here.
pub fn decode_into<T, F>(
    bytes: &[u8],
    stream_len: u64,
    first: u64,
    out: &mut [T],
    allow_two_channels: bool,
    convert: F,
) -> Result<()>
where
    F: Fn(i64) -> T + Copy,
{
    let info = parse_stream_info(bytes)?;
    match info.channels {
        1 => {}
        2 if allow_two_channels => {}
        2 => {
            return Err(Error::corrupt(
                "stream holds 64-bit values (2 channels) but the array's type is 32-bit",
            ))
        }
        n => {
            return Err(Error::corrupt(format!(
                "stream has {n} channels; expected 1 or 2"
            )))
        }
    }
    if info.total_samples != 0 && info.total_samples != stream_len {
        return Err(Error::corrupt(format!(
            "stream holds {} samples but {stream_len} were expected",
            info.total_samples
        )));
    }
    if out.is_empty() {
        return Ok(());
    }
    let start = match info.fixed_block_size() {
        Some(block) if first >= u64::from(block) => {
            let frames = stream_len.max(first + 1).div_ceil(u64::from(block));
            locate_frame(bytes, &info, first / u64::from(block), frames)
        }
        _ => info.audio_start,
    };
    let mut outcome = run_pass(bytes, &info, start, first, out, convert)?;
    if start != info.audio_start && !matches!(outcome, Outcome::Complete) {
        outcome = run_pass(bytes, &info, info.audio_start, first, out, convert)?;
    }
    let wanted = out.len();
    match outcome {
        Outcome::Complete => Ok(()),
        Outcome::StartedLate => Err(Error::corrupt(
            "first FLAC frame does not start at sample 0",
        )),
        Outcome::Damaged(why) => Err(Error::corrupt(why)),
        Outcome::Ended(got) => Err(Error::corrupt(format!(
            "FLAC stream ended early: got {got} of {wanted} requested samples starting at {first}"
        ))),
    }
}

/// Reads a stream's STREAMINFO (channels, bit depth, sample count).
pub fn stream_info(bytes: &[u8]) -> Result<StreamInfo> {
    parse_stream_info(bytes)
}
