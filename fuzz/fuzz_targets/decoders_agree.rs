//! Differential fuzzing: the same (mutated) bytes through our FLAC decoder
//! and libFLAC's, as a whole stream and as a window. Where ours returns
//! samples, libFLAC must return the same ones; where ours refuses, libFLAC
//! must fail too (both check the frame CRCs).
#![no_main]

use flacarray::codec::{decode_window_i32_with, decode_window_i64_with, Decoder};
use libfuzzer_sys::fuzz_target;

/// The same samples, or both an error — except that a window reads only
/// the samples it returns: where libFLAC (which decodes whole frames) fails
/// and ours returns a window's samples, ours must fail once it reads on to
/// the stream's end.
fn agree<T: PartialEq + std::fmt::Debug + Default + Clone>(
    decode: impl Fn(Decoder, u64, &mut [T]) -> flacarray::Result<()>,
    stream_len: u64,
    first: u64,
    len: usize,
) {
    let mut ours = vec![T::default(); len];
    let mut theirs = vec![T::default(); len];
    let a = decode(Decoder::Native, first, &mut ours);
    let b = decode(Decoder::Libflac, first, &mut theirs);
    match (&a, &b) {
        (Ok(()), Ok(())) => assert_eq!(ours, theirs, "the decoders disagree"),
        (Err(_), Err(_)) => {}
        (Ok(()), Err(_)) if first + (len as u64) < stream_len => {
            let mut rest = vec![T::default(); (stream_len - first) as usize];
            let read_on = decode(Decoder::Native, first, &mut rest);
            assert!(
                read_on.is_err(),
                "libFLAC {b:?}, ours reads on: {read_on:?}"
            );
        }
        _ => panic!("native {a:?}, libFLAC {b:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 6 {
        return;
    }
    let stream_len = u64::from(u16::from_le_bytes([data[0], data[1]])) + 1;
    let first = u64::from(u16::from_le_bytes([data[2], data[3]])) % stream_len;
    let count = (usize::from(data[4]) * 37 + 1).min((stream_len - first) as usize);
    let wide = data[5] & 1 == 1;
    let bytes = &data[6..];
    if wide {
        let decode =
            |d, first, out: &mut [i64]| decode_window_i64_with(d, bytes, stream_len, first, out);
        agree(decode, stream_len, first, count);
        agree(decode, stream_len, 0, stream_len as usize);
    } else {
        let decode =
            |d, first, out: &mut [i32]| decode_window_i32_with(d, bytes, stream_len, first, out);
        agree(decode, stream_len, first, count);
        agree(decode, stream_len, 0, stream_len as usize);
    }
});
