//! Differential fuzzing: the same (mutated) bytes through our FLAC decoder
//! and libFLAC's, as a whole stream and as a window. Where ours returns
//! samples, libFLAC must return the same ones; where ours refuses, libFLAC
//! must fail too (both check the frame CRCs).
#![no_main]

use flacarray::codec::{decode_window_i32_with, decode_window_i64_with, Decoder};
use libfuzzer_sys::fuzz_target;

fn agree<T: PartialEq + std::fmt::Debug + Default + Clone>(
    decode: impl Fn(Decoder, &mut [T]) -> flacarray::Result<()>,
    len: usize,
) {
    let mut ours = vec![T::default(); len];
    let mut theirs = vec![T::default(); len];
    let a = decode(Decoder::Native, &mut ours);
    let b = decode(Decoder::Libflac, &mut theirs);
    match (&a, &b) {
        (Ok(()), Ok(())) => assert_eq!(ours, theirs, "the decoders disagree"),
        (Err(_), Err(_)) => {}
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
        agree::<i64>(|d, out| decode_window_i64_with(d, bytes, stream_len, first, out), count);
        agree::<i64>(|d, out| decode_window_i64_with(d, bytes, stream_len, 0, out), stream_len as usize);
    } else {
        agree::<i32>(|d, out| decode_window_i32_with(d, bytes, stream_len, first, out), count);
        agree::<i32>(|d, out| decode_window_i32_with(d, bytes, stream_len, 0, out), stream_len as usize);
    }
});
