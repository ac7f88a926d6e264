//! libFLAC's encoder (cargo feature `libflac`): the same streams as ours,
//! for comparison and as a test oracle.

use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use libflac_sys as ffi;

use super::{depth, EncodeOptions, Samples};
use crate::codec::frames::parse_stream_info;
use crate::error::{Error, ErrorKind, Result};

/// Encodes 32-bit samples as a 1-channel FLAC stream at the smallest bit
/// depth (4..=32) that holds every value.
pub fn encode_i32(samples: &[i32], options: &EncodeOptions) -> Result<Vec<u8>> {
    encode_interleaved(samples, 1, options)
}

/// Encodes 64-bit samples as a 2-channel FLAC stream: channel 0 holds the
/// low 32-bit word, channel 1 the high word (the reference package's layout).
pub fn encode_i64(samples: &[i64], options: &EncodeOptions) -> Result<Vec<u8>> {
    #[cfg(target_endian = "little")]
    {
        // SAFETY: on little-endian targets an i64 is laid out as [low word,
        // high word]; i32 has weaker alignment and every bit pattern is valid.
        let words = unsafe {
            std::slice::from_raw_parts(samples.as_ptr().cast::<i32>(), samples.len() * 2)
        };
        encode_interleaved(words, 2, options)
    }
    #[cfg(not(target_endian = "little"))]
    {
        let words: Vec<i32> = samples
            .iter()
            .flat_map(|&v| [v as i32, (v >> 32) as i32])
            .collect();
        encode_interleaved(&words, 2, options)
    }
}

/// The growing output plus a cursor, so libFLAC can seek back and rewrite
/// STREAMINFO when it finishes.
#[derive(Default)]
struct Sink {
    bytes: Vec<u8>,
    pos: usize,
}

unsafe extern "C" fn write_cb(
    _enc: *const ffi::FLAC__StreamEncoder,
    buffer: *const ffi::FLAC__byte,
    bytes: usize,
    _samples: u32,
    _frame: u32,
    client: *mut c_void,
) -> ffi::FLAC__StreamEncoderWriteStatus {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: libFLAC hands us `bytes` readable bytes and our own client pointer.
        let sink = unsafe { &mut *client.cast::<Sink>() };
        let data = unsafe { std::slice::from_raw_parts(buffer, bytes) };
        let end = sink.pos + data.len();
        if sink.pos == sink.bytes.len() {
            sink.bytes.extend_from_slice(data);
        } else {
            if end > sink.bytes.len() {
                sink.bytes.resize(end, 0);
            }
            sink.bytes[sink.pos..end].copy_from_slice(data);
        }
        sink.pos = end;
    }));
    match result {
        Ok(()) => ffi::FLAC__STREAM_ENCODER_WRITE_STATUS_OK,
        Err(_) => ffi::FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR,
    }
}

unsafe extern "C" fn seek_cb(
    _enc: *const ffi::FLAC__StreamEncoder,
    offset: ffi::FLAC__uint64,
    client: *mut c_void,
) -> ffi::FLAC__StreamEncoderSeekStatus {
    // SAFETY: our own client pointer.
    let sink = unsafe { &mut *client.cast::<Sink>() };
    match usize::try_from(offset) {
        Ok(pos) if pos <= sink.bytes.len() => {
            sink.pos = pos;
            ffi::FLAC__STREAM_ENCODER_SEEK_STATUS_OK
        }
        _ => ffi::FLAC__STREAM_ENCODER_SEEK_STATUS_ERROR,
    }
}

unsafe extern "C" fn tell_cb(
    _enc: *const ffi::FLAC__StreamEncoder,
    offset: *mut ffi::FLAC__uint64,
    client: *mut c_void,
) -> ffi::FLAC__StreamEncoderTellStatus {
    // SAFETY: our own client pointer and libFLAC's output location.
    unsafe { *offset = (*client.cast::<Sink>()).pos as u64 };
    ffi::FLAC__STREAM_ENCODER_TELL_STATUS_OK
}

/// Owns a libFLAC encoder and deletes it on every exit path.
struct RawEncoder(*mut ffi::FLAC__StreamEncoder);

impl Drop for RawEncoder {
    fn drop(&mut self) {
        // SAFETY: created by FLAC__stream_encoder_new, deleted once.
        unsafe { ffi::FLAC__stream_encoder_delete(self.0) };
    }
}

impl RawEncoder {
    fn state_error(&self, what: &str) -> Error {
        // SAFETY: valid encoder; libFLAC returns a static C string.
        let text = unsafe {
            let state = ffi::FLAC__stream_encoder_get_state(self.0);
            crate::codec::libflac_name(ffi::FLAC__StreamEncoderStateString.as_ptr(), state as usize)
        };
        Error::new(ErrorKind::Codec, format!("libFLAC {what} failed: {text}"))
    }
}

/// Samples handed to libFLAC per call (its count argument is 32-bit).
const CHUNK_FRAMES: usize = 1 << 20;

fn encode_interleaved(words: &[i32], channels: u32, options: &EncodeOptions) -> Result<Vec<u8>> {
    let frames = words.len() / channels as usize;
    // SAFETY: a fresh encoder, or null when out of memory.
    let encoder = RawEncoder(unsafe { ffi::FLAC__stream_encoder_new() });
    if encoder.0.is_null() {
        return Err(Error::new(
            ErrorKind::Codec,
            "libFLAC could not allocate an encoder",
        ));
    }
    let enc = encoder.0;
    let mut sink = Sink {
        bytes: Vec::with_capacity(words.len() * 2 + 128),
        pos: 0,
    };
    // SAFETY: all calls use the valid encoder before/after init as libFLAC requires;
    // `sink` outlives the encoder's use of the client pointer (finish is called below).
    unsafe {
        let configured = ffi::FLAC__stream_encoder_set_channels(enc, channels) != 0
            && ffi::FLAC__stream_encoder_set_bits_per_sample(enc, depth(Samples::One(words)).0)
                != 0
            && ffi::FLAC__stream_encoder_set_sample_rate(enc, 44_100) != 0
            && ffi::FLAC__stream_encoder_set_streamable_subset(enc, 0) != 0
            && ffi::FLAC__stream_encoder_set_compression_level(enc, options.level) != 0
            && ffi::FLAC__stream_encoder_set_blocksize(enc, options.block_size) != 0
            && ffi::FLAC__stream_encoder_set_total_samples_estimate(enc, frames as u64) != 0;
        if channels == 2 {
            // Low and high words are not left/right audio: mid/side only costs time.
            ffi::FLAC__stream_encoder_set_do_mid_side_stereo(enc, 0);
            ffi::FLAC__stream_encoder_set_loose_mid_side_stereo(enc, 0);
        }
        if options.threads > 1 {
            // Ignored (status returned) when libFLAC was built without threads.
            ffi::FLAC__stream_encoder_set_num_threads(enc, options.threads);
        }
        if !configured {
            return Err(encoder.state_error("configuration"));
        }
        let status = ffi::FLAC__stream_encoder_init_stream(
            enc,
            Some(write_cb),
            Some(seek_cb),
            Some(tell_cb),
            None,
            (&mut sink as *mut Sink).cast(),
        );
        if status != ffi::FLAC__STREAM_ENCODER_INIT_STATUS_OK {
            return Err(Error::new(
                ErrorKind::Codec,
                format!("libFLAC encoder init failed with status {status}"),
            ));
        }
        for chunk in words.chunks(CHUNK_FRAMES * channels as usize) {
            let n = (chunk.len() / channels as usize) as u32;
            if ffi::FLAC__stream_encoder_process_interleaved(enc, chunk.as_ptr(), n) == 0 {
                let err = encoder.state_error("encoding");
                ffi::FLAC__stream_encoder_finish(enc);
                return Err(err);
            }
        }
        if ffi::FLAC__stream_encoder_finish(enc) == 0 {
            return Err(encoder.state_error("finishing the stream"));
        }
    }
    drop(encoder);
    strip_extra_metadata(&mut sink.bytes)?;
    Ok(sink.bytes)
}

/// Removes every metadata block after STREAMINFO (libFLAC always adds a
/// VORBIS_COMMENT with its vendor string): ~40 bytes per stream saved.
fn strip_extra_metadata(bytes: &mut Vec<u8>) -> Result<()> {
    let info = parse_stream_info(bytes)?;
    if info.audio_start > info.streaminfo_end {
        bytes.drain(info.streaminfo_end..info.audio_start);
        bytes[4] |= 0x80; // STREAMINFO is now the last metadata block
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_has_only_streaminfo() {
        let bytes = encode_i32(&[1, 2, 3, 4], &EncodeOptions::default()).unwrap();
        let info = parse_stream_info(&bytes).unwrap();
        assert_eq!(info.audio_start, 42);
        assert_eq!(info.total_samples, 4);
        assert_eq!(info.channels, 1);
    }
}
