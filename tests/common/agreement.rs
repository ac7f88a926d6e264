//! What "our decoder agrees with libFLAC's" means, shared by the tests
//! (`tests/native_decoder.rs`) and the differential fuzz target
//! (`fuzz/fuzz_targets/decoders_agree.rs`, which includes this file).

use flacarray::codec::{decode_window_i32_with, decode_window_i64_with, Decoder};

/// Both decoders on the window `first..first + count` of a stream of
/// `stream_len` samples: the same samples, or both an error — except that
/// a window reads only the samples it returns, so where libFLAC (which
/// decodes whole frames) fails and ours returns samples, ours must fail
/// once it reads on to the stream's end. Panics otherwise.
pub fn assert_agree<T: Default + Clone + PartialEq + std::fmt::Debug>(
    decode: impl Fn(Decoder, u64, &mut [T]) -> flacarray::Result<()>,
    stream_len: u64,
    first: u64,
    count: usize,
) {
    let window = format!("window {first}+{count} of {stream_len}");
    let mut ours = vec![T::default(); count];
    let mut theirs = vec![T::default(); count];
    let a = decode(Decoder::Native, first, &mut ours);
    let b = decode(Decoder::Libflac, first, &mut theirs);
    match (a, b) {
        (Ok(()), Ok(())) => assert_eq!(ours, theirs, "the decoders disagree ({window})"),
        (Err(_), Err(_)) => {}
        (Ok(()), Err(e)) if first + (count as u64) < stream_len => {
            let mut rest = vec![T::default(); (stream_len - first) as usize];
            let read_on = decode(Decoder::Native, first, &mut rest);
            assert!(
                read_on.is_err(),
                "libFLAC fails ({e:?}) on {window}, ours reads on: {read_on:?}"
            );
        }
        (a, b) => panic!("native {a:?}, libFLAC {b:?} ({window})"),
    }
}

/// [`assert_agree`] on 32-bit samples of `bytes`.
pub fn assert_agree_i32(bytes: &[u8], stream_len: u64, first: u64, count: usize) {
    let decode = |d: Decoder, first: u64, out: &mut [i32]| {
        decode_window_i32_with(d, bytes, stream_len, first, out)
    };
    assert_agree(decode, stream_len, first, count);
}

/// [`assert_agree`] on 64-bit samples of `bytes`.
pub fn assert_agree_i64(bytes: &[u8], stream_len: u64, first: u64, count: usize) {
    let decode = |d: Decoder, first: u64, out: &mut [i64]| {
        decode_window_i64_with(d, bytes, stream_len, first, out)
    };
    assert_agree(decode, stream_len, first, count);
}

/// One differential fuzz input: a 6-byte header (stream length - 1 and
/// window start, little-endian u16s; window length / 37; bit 0: 64-bit
/// samples) and then the stream. The decoders must agree on the window
/// and on the whole stream; inputs shorter than the header are skipped.
pub fn assert_agree_on_input(data: &[u8]) {
    if data.len() < 6 {
        return;
    }
    let stream_len = u64::from(u16::from_le_bytes([data[0], data[1]])) + 1;
    let first = u64::from(u16::from_le_bytes([data[2], data[3]])) % stream_len;
    let count = (usize::from(data[4]) * 37 + 1).min((stream_len - first) as usize);
    let bytes = &data[6..];
    if data[5] & 1 == 1 {
        assert_agree_i64(bytes, stream_len, first, count);
        assert_agree_i64(bytes, stream_len, 0, stream_len as usize);
    } else {
        assert_agree_i32(bytes, stream_len, first, count);
        assert_agree_i32(bytes, stream_len, 0, stream_len as usize);
    }
}
