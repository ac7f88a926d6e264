//! One FLAC bytestream in, a contiguous range of its samples out (libFLAC).
//!
//! A range that starts past sample 0 is decoded from the frame holding its
//! first sample (located by the codec layer, see [`crate::codec::frames`]): libFLAC
//! gets the stream's metadata followed by the bytes from that frame on.

use std::cell::RefCell;
use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use libflac_sys as ffi;

use crate::codec::frames::StreamInfo;
use crate::codec::Outcome;
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

/// State shared with libFLAC's callbacks during one pass.
struct Pass<'a, T, F> {
    head: &'a [u8],
    body: &'a [u8],
    read_pos: usize,
    out: &'a mut [T],
    first: u64,
    /// The stream's stated length: a window reaching it is checked
    /// against [`crate::codec::check_stream_end`].
    stream_len: u64,
    /// The end sample of the frame that completed a window reaching the
    /// stream's end (its end byte is asked of libFLAC afterwards).
    stream_end: Option<u64>,
    next_sample: Option<u64>,
    written: usize,
    convert: F,
    /// How the pass ended, damage included (the callbacks cannot return
    /// an error): libFLAC's report, or frames out of sequence.
    outcome: Option<Result<Outcome>>,
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
                self.outcome = Some(Err(Error::corrupt(format!(
                    "frame starting at sample {start} follows sample {expected}"
                ))));
                return false;
            }
            None if start > self.first => {
                self.outcome = Some(Ok(Outcome::StartedLate));
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
                    self.outcome = Some(Err(Error::corrupt("unexpected channel count")));
                    return false;
                }
            }
            self.written += (hi - lo) as usize;
        }
        if start + len >= end {
            if end >= self.stream_len {
                self.stream_end = Some(start + len);
            }
            self.outcome = Some(Ok(Outcome::Complete));
            return false;
        }
        true
    }

    /// Where byte `position` of the stream libFLAC reads (the head, then
    /// the body) lies in the whole stream.
    fn absolute(&self, position: u64, from: usize) -> usize {
        let position = position as usize;
        if position <= self.head.len() {
            position
        } else {
            from + (position - self.head.len())
        }
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

unsafe extern "C" fn tell_cb<T, F: Fn(i64) -> T>(
    _dec: *const ffi::FLAC__StreamDecoder,
    position: *mut ffi::FLAC__uint64,
    client: *mut c_void,
) -> ffi::FLAC__StreamDecoderTellStatus {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let pass = unsafe { &*client.cast::<Pass<T, F>>() };
        unsafe { *position = pass.read_pos as u64 };
    }));
    match result {
        Ok(()) => ffi::FLAC__STREAM_DECODER_TELL_STATUS_OK,
        Err(_) => ffi::FLAC__STREAM_DECODER_TELL_STATUS_ERROR,
    }
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
            pass.outcome = Some(Err(Error::corrupt(format!(
                "frame has {channels} channels"
            ))));
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
            let table = ffi::FLAC__StreamDecoderErrorStatusString.as_ptr();
            let text = unsafe { crate::codec::libflac_name(table, status as usize) };
            pass.outcome = Some(Err(Error::corrupt(format!("libFLAC reports {text}"))));
        }
    }));
}

/// Decodes frames from byte `from` on with libFLAC (the stream's metadata
/// fed first), writing samples `first .. first + out.len()` through
/// `convert`.
pub(in crate::codec) fn run<T, F: Fn(i64) -> T>(
    bytes: &[u8],
    info: &StreamInfo,
    from: usize,
    first: u64,
    stream_len: u64,
    out: &mut [T],
    convert: F,
) -> Result<Outcome> {
    let mut pass = Pass {
        head: &bytes[..info.audio_start],
        body: &bytes[from..],
        read_pos: 0,
        out,
        first,
        stream_len,
        stream_end: None,
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
                Some(tell_cb::<T, F>),
                None,
                None,
                Some(write_cb::<T, F>),
                None,
                Some(error_cb::<T, F>),
                (&mut pass as *mut Pass<T, F>).cast(),
            );
            let mut end_byte = None;
            if status == ffi::FLAC__STREAM_DECODER_INIT_STATUS_OK {
                ffi::FLAC__stream_decoder_process_until_end_of_stream(dec);
                let mut position: ffi::FLAC__uint64 = 0;
                if pass.stream_end.is_some()
                    && ffi::FLAC__stream_decoder_get_decode_position(dec, &mut position) != 0
                {
                    end_byte = Some(position);
                }
            }
            ffi::FLAC__stream_decoder_finish(dec);
            (status, end_byte)
        }
    })?;
    let (init, end_byte) = init;
    if init != ffi::FLAC__STREAM_DECODER_INIT_STATUS_OK {
        return Err(Error::new(
            ErrorKind::Codec,
            format!("libFLAC decoder init failed with status {init}"),
        ));
    }
    if let (Some(Ok(Outcome::Complete)), Some(frame_end)) = (&pass.outcome, pass.stream_end) {
        let end_byte = end_byte
            .map(|p| pass.absolute(p, from))
            .ok_or_else(|| Error::new(ErrorKind::Codec, "libFLAC did not tell where it stopped"))?;
        crate::codec::check_stream_end(frame_end, stream_len, end_byte, bytes.len())?;
    }
    pass.outcome.unwrap_or(Ok(Outcome::Ended(pass.written)))
}
