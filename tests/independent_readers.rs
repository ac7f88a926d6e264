//! Our streams are standard FLAC: the pure-Rust `flac-codec` decoder reads
//! every shape we produce bit-exactly, and libFLAC can seek in them.

mod common;

use flacarray::codec::{encode_i32, encode_i64, stream_info, EncodeOptions};
use flacarray::{CompressOptions, FlacArray, StepSpec};

/// Decodes with flac-codec; returns interleaved samples and channel count.
fn flac_codec_decode(bytes: &[u8]) -> (Vec<i32>, usize) {
    let channels = stream_info(bytes).unwrap().channels as usize;
    (common::flac_codec_words(bytes), channels)
}

fn words_of(values: &[i64]) -> Vec<i32> {
    values
        .iter()
        .flat_map(|&v| [v as i32, (v >> 32) as i32])
        .collect()
}

fn stream_cases() -> Vec<(String, Vec<i64>, bool)> {
    let mut rng = common::Rng::new(77);
    let mut cases = vec![
        ("tiny".to_string(), vec![1, -1, 3], false),
        ("one sample".to_string(), vec![5], false),
        (
            "i32 extremes".to_string(),
            vec![i32::MIN as i64, i32::MAX as i64, 0],
            false,
        ),
        ("constant".to_string(), vec![123456; 10000], false),
        (
            "i64 extremes".to_string(),
            vec![i64::MIN, i64::MAX, 0, -1],
            true,
        ),
        (
            "i64 narrow".to_string(),
            (0..9000).map(|i| i % 300 - 150).collect(),
            true,
        ),
    ];
    for bits in [4u32, 8, 15, 16, 17, 23, 24, 25, 31, 32] {
        let half = 1i64 << (bits - 1);
        let v: Vec<i64> = (0..10_000)
            .map(|_| (rng.next_u64() % (2 * half as u64)) as i64 - half)
            .collect();
        cases.push((format!("uniform {bits} bits"), v, false));
    }
    let noisy: Vec<i64> = common::timestream(&mut rng, 20_000, 0.0, 1e12, 1e6)
        .iter()
        .map(|&v| v as i64)
        .collect();
    cases.push(("i64 wide".to_string(), noisy, true));
    cases
}

#[test]
fn flac_codec_decodes_every_stream_shape_bit_exactly() {
    for level in [0, 5, 8] {
        let opts = EncodeOptions {
            level,
            ..Default::default()
        };
        for (name, values, wide) in stream_cases() {
            let (bytes, expected) = if wide {
                (encode_i64(&values, &opts).unwrap(), words_of(&values))
            } else {
                let v32: Vec<i32> = values.iter().map(|&v| v as i32).collect();
                (encode_i32(&v32, &opts).unwrap(), v32)
            };
            let (decoded, channels) = flac_codec_decode(&bytes);
            assert_eq!(channels, if wide { 2 } else { 1 }, "{name}");
            assert!(
                decoded == expected,
                "{name} at level {level}: flac-codec output differs"
            );
        }
    }
}

#[test]
fn flac_codec_reads_array_streams() {
    let mut rng = common::Rng::new(3);
    let data: Vec<f64> = (0..4)
        .flat_map(|_| common::timestream(&mut rng, 7000, 10.0, 5.0, 0.01))
        .collect();
    let opts = CompressOptions::default().with_step(StepSpec::Quanta(vec![1e-4]));
    let fa = FlacArray::compress(&data, &[4, 7000], &opts).unwrap();
    for s in 0..4 {
        let (words, channels) = flac_codec_decode(fa.stream_bytes(s).unwrap());
        assert_eq!(channels, 2);
        let scale_off = fa.stream_offsets().unwrap()[s];
        let gain = fa.stream_gains().unwrap()[s];
        for (j, pair) in words.chunks(2).enumerate() {
            let int = (i64::from(pair[1]) << 32) | i64::from(pair[0] as u32);
            let value = scale_off + (1.0 / gain) * int as f64;
            assert!((value - data[s * 7000 + j]).abs() <= 0.5e-4 * (1.0 + 1e-9));
        }
    }
}

// ---- libFLAC seeking -------------------------------------------------------

#[cfg(feature = "libflac")]
mod libflac_seeking {
    use super::*;
    use libflac_sys as ffi;
    use std::os::raw::c_void;

    struct SeekClient<'a> {
        bytes: &'a [u8],
        pos: usize,
        frames: Vec<(u64, Vec<i32>)>,
        errors: Vec<u32>,
    }

    unsafe extern "C" fn read_cb(
        _d: *const ffi::FLAC__StreamDecoder,
        buf: *mut u8,
        len: *mut usize,
        c: *mut c_void,
    ) -> ffi::FLAC__StreamDecoderReadStatus {
        let c = unsafe { &mut *(c as *mut SeekClient) };
        let n = (*unsafe { &*len }).min(c.bytes.len() - c.pos);
        unsafe { std::ptr::copy_nonoverlapping(c.bytes[c.pos..].as_ptr(), buf, n) };
        c.pos += n;
        unsafe { *len = n };
        if n == 0 {
            ffi::FLAC__STREAM_DECODER_READ_STATUS_END_OF_STREAM
        } else {
            ffi::FLAC__STREAM_DECODER_READ_STATUS_CONTINUE
        }
    }

    unsafe extern "C" fn seek_cb(
        _d: *const ffi::FLAC__StreamDecoder,
        off: u64,
        c: *mut c_void,
    ) -> ffi::FLAC__StreamDecoderSeekStatus {
        let c = unsafe { &mut *(c as *mut SeekClient) };
        c.pos = (off as usize).min(c.bytes.len());
        ffi::FLAC__STREAM_DECODER_SEEK_STATUS_OK
    }

    unsafe extern "C" fn tell_cb(
        _d: *const ffi::FLAC__StreamDecoder,
        off: *mut u64,
        c: *mut c_void,
    ) -> ffi::FLAC__StreamDecoderTellStatus {
        unsafe { *off = (*(c as *mut SeekClient)).pos as u64 };
        ffi::FLAC__STREAM_DECODER_TELL_STATUS_OK
    }

    unsafe extern "C" fn length_cb(
        _d: *const ffi::FLAC__StreamDecoder,
        len: *mut u64,
        c: *mut c_void,
    ) -> ffi::FLAC__StreamDecoderLengthStatus {
        let client = unsafe { &*(c as *mut SeekClient) };
        unsafe { *len = client.bytes.len() as u64 };
        ffi::FLAC__STREAM_DECODER_LENGTH_STATUS_OK
    }

    unsafe extern "C" fn eof_cb(_d: *const ffi::FLAC__StreamDecoder, c: *mut c_void) -> i32 {
        let c = unsafe { &*(c as *mut SeekClient) };
        (c.pos >= c.bytes.len()) as i32
    }

    unsafe extern "C" fn write_cb(
        _d: *const ffi::FLAC__StreamDecoder,
        frame: *const ffi::FLAC__Frame,
        buffer: *const *const i32,
        c: *mut c_void,
    ) -> ffi::FLAC__StreamDecoderWriteStatus {
        let c = unsafe { &mut *(c as *mut SeekClient) };
        let h = unsafe { &(*frame).header };
        let first = unsafe { h.number.sample_number };
        let n = h.blocksize as usize;
        let planes: Vec<&[i32]> = (0..h.channels as usize)
            .map(|ch| unsafe { std::slice::from_raw_parts(*buffer.add(ch), n) })
            .collect();
        // interleave, as the encoder received the words
        let words = (0..n)
            .flat_map(|i| planes.iter().map(move |p| p[i]))
            .collect();
        c.frames.push((first, words));
        ffi::FLAC__STREAM_DECODER_WRITE_STATUS_CONTINUE
    }

    unsafe extern "C" fn error_cb(
        _d: *const ffi::FLAC__StreamDecoder,
        status: u32,
        c: *mut c_void,
    ) {
        // no panics across the C boundary: record and assert afterwards
        unsafe { (*(c as *mut SeekClient)).errors.push(status) };
    }

    /// Seeks with libFLAC to `target` and returns the interleaved words it then
    /// decodes in the frame containing it.
    fn libflac_seek(bytes: &[u8], target: u64) -> Vec<i32> {
        let mut client = SeekClient {
            bytes,
            pos: 0,
            frames: Vec::new(),
            errors: Vec::new(),
        };
        unsafe {
            let dec = ffi::FLAC__stream_decoder_new();
            let status = ffi::FLAC__stream_decoder_init_stream(
                dec,
                Some(read_cb),
                Some(seek_cb),
                Some(tell_cb),
                Some(length_cb),
                Some(eof_cb),
                Some(write_cb),
                None,
                Some(error_cb),
                (&mut client as *mut SeekClient).cast(),
            );
            assert_eq!(status, ffi::FLAC__STREAM_DECODER_INIT_STATUS_OK);
            assert!(ffi::FLAC__stream_decoder_process_until_end_of_metadata(dec) != 0);
            client.frames.clear();
            assert!(
                ffi::FLAC__stream_decoder_seek_absolute(dec, target) != 0,
                "libFLAC cannot seek to {target}"
            );
            ffi::FLAC__stream_decoder_finish(dec);
            ffi::FLAC__stream_decoder_delete(dec);
        }
        assert!(
            client.errors.is_empty(),
            "libFLAC reported errors {:?}",
            client.errors
        );
        // After a seek libFLAC delivers the target frame trimmed to start at `target`.
        let (first, samples) = client
            .frames
            .first()
            .expect("seek produced a frame")
            .clone();
        assert_eq!(first, target);
        samples
    }

    #[test]
    fn libflac_seeks_in_every_stream_shape() {
        for (name, values, wide) in stream_cases() {
            let (bytes, words) = if wide {
                (
                    encode_i64(&values, &EncodeOptions::default()).unwrap(),
                    words_of(&values),
                )
            } else {
                let v32: Vec<i32> = values.iter().map(|&v| v as i32).collect();
                (encode_i32(&v32, &EncodeOptions::default()).unwrap(), v32)
            };
            let channels = if wide { 2 } else { 1 };
            let n = values.len() as u64;
            for target in [0, n / 2, n - 1] {
                let got = libflac_seek(&bytes, target);
                let at = target as usize * channels;
                assert_eq!(
                    got[..],
                    words[at..at + got.len()],
                    "{name}: seek to {target}"
                );
            }
        }
    }

    #[test]
    fn libflac_seeks_in_our_streams() {
        let data = common::int32_signal(5, 1, 100_000);
        let bytes = encode_i32(&data, &EncodeOptions::default()).unwrap();
        let info = stream_info(&bytes).unwrap();
        assert_eq!(info.total_samples, 100_000);
        assert_eq!((info.min_block_size, info.max_block_size), (4096, 4096));
        for target in [0u64, 1, 4095, 4096, 50_000, 99_999] {
            let got = libflac_seek(&bytes, target);
            let t = target as usize;
            assert_eq!(got[..], data[t..t + got.len()], "seek to {target}");
        }
    }
}

/// Frame rows (the Arrow column's short rows) stand for standard streams:
/// the stream rebuilt from one is the one the encoder writes whole, and
/// flac-codec (and libFLAC, given the row) decodes it bit-exactly.
#[test]
fn frame_rows_rebuild_standard_streams() {
    use flacarray::codec::{
        encode_with, is_frame_row, whole_stream, Encoder, Samples, ShortStream,
    };

    let mut rng = common::Rng::new(11);
    for n in [1usize, 2, 17, 64, 1000, 4096] {
        for level in [0, 5, 8] {
            let whole_options = EncodeOptions {
                level,
                ..Default::default()
            };
            let row_options = EncodeOptions {
                short: ShortStream::FrameRow,
                ..whole_options
            };
            let narrow: Vec<i32> = (0..n)
                .map(|i| (3000.0 * (i as f64 * 0.02).sin()) as i32 + (rng.next_u64() % 64) as i32)
                .collect();
            let wide: Vec<i64> = narrow.iter().map(|&v| i64::from(v) << 20).collect();
            for (samples, expected) in [
                (Samples::One(&narrow), narrow.clone()),
                (Samples::Two(&wide), words_of(&wide)),
            ] {
                let mut row = Vec::new();
                encode_with(Encoder::Native, samples, &row_options, &mut row).unwrap();
                let mut whole = Vec::new();
                encode_with(Encoder::Native, samples, &whole_options, &mut whole).unwrap();
                assert!(is_frame_row(&row) && row.len() < whole.len() - 36);
                let rebuilt = whole_stream(&row).unwrap();
                assert_eq!(rebuilt, whole, "n {n} level {level}");
                let (decoded, _) = flac_codec_decode(&rebuilt);
                assert_eq!(decoded, expected, "n {n} level {level}");
                assert!(flacarray::codec::verify_stream(&rebuilt, n as u64).unwrap());
                #[cfg(feature = "libflac")]
                {
                    use flacarray::codec::{decode_window_i64_with, Decoder};
                    let mut out = vec![0i64; n];
                    decode_window_i64_with(Decoder::Libflac, &row, n as u64, 0, &mut out).unwrap();
                    let mut native = vec![0i64; n];
                    decode_window_i64_with(Decoder::Native, &row, n as u64, 0, &mut native)
                        .unwrap();
                    assert_eq!(out, native, "libFLAC, n {n} level {level}");
                }
            }
        }
    }
}
