//! What "our decoder agrees with libFLAC's" means, shared by the tests
//! (`tests/native_decoder.rs`) and the differential fuzz target
//! (`fuzz/fuzz_targets/decoders_agree.rs`, which includes this file).

use flacarray::codec::{
    decode_streams_i32_with, decode_streams_i64_with, decode_window_i32_with,
    decode_window_i64_with, encode_i32, encode_i64, Decoder, EncodeOptions,
};

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

/// Our decoder on whole streams of `stream_len` samples decoded together
/// (`decode_streams`: several at once where the CPU allows) against each
/// decoded alone: the same samples, or an error naming the first stream
/// that fails alone. Panics otherwise.
pub fn assert_group_agrees<T: Default + Clone + PartialEq + std::fmt::Debug>(
    decode_alone: impl Fn(&[u8], &mut [T]) -> flacarray::Result<()>,
    decode_group: impl Fn(&[&[u8]], &mut [T]) -> flacarray::Result<()>,
    streams: &[&[u8]],
    stream_len: usize,
) {
    let mut alone = vec![T::default(); stream_len * streams.len()];
    let mut first_failing = None;
    for (i, (bytes, out)) in streams
        .iter()
        .zip(alone.chunks_mut(stream_len.max(1)))
        .enumerate()
    {
        if decode_alone(bytes, out).is_err() && first_failing.is_none() {
            first_failing = Some(i);
        }
    }
    let mut together = vec![T::default(); stream_len * streams.len()];
    match (decode_group(streams, &mut together), first_failing) {
        (Ok(()), None) => assert_eq!(together, alone, "decoded together and alone differ"),
        (Err(e), Some(i)) => assert_eq!(e.stream(), Some(i), "{e}"),
        (got, failing) => panic!("together {got:?}, the first failing alone: {failing:?}"),
    }
}

/// Streams of `len` samples our encoder writes at several levels, to
/// decode in one group with a fuzzed stream (each a different mix of
/// predictors and partitions).
fn clean_streams(len: usize, wide: bool) -> Vec<Vec<u8>> {
    [0u32, 5, 8]
        .iter()
        .map(|&level| {
            let options = EncodeOptions {
                level,
                ..EncodeOptions::default()
            };
            let wave =
                |i: usize| ((i as f64 * 0.003 * f64::from(level + 1)).sin() * 30_000.0) as i32;
            let noise = |i: usize| (i.wrapping_mul(2_654_435_761) >> 7) as i32 % (1 << (level + 4));
            let samples: Vec<i32> = (0..len).map(|i| wave(i) + noise(i)).collect();
            if wide {
                let samples: Vec<i64> = samples.iter().map(|&v| i64::from(v) << 20).collect();
                encode_i64(&samples, &options).unwrap()
            } else {
                encode_i32(&samples, &options).unwrap()
            }
        })
        .collect()
}

/// [`assert_group_agrees`] on a group of eight: the fuzzed `bytes` in
/// four places, between clean streams of the same length.
pub fn assert_group_agrees_on(bytes: &[u8], stream_len: u64, wide: bool) {
    let len = stream_len as usize;
    let clean = clean_streams(len, wide);
    let group: Vec<&[u8]> = vec![
        bytes, &clean[0], bytes, &clean[1], &clean[2], bytes, &clean[0], bytes,
    ];
    if wide {
        assert_group_agrees(
            |b: &[u8], out: &mut [i64]| {
                decode_window_i64_with(Decoder::Native, b, stream_len, 0, out)
            },
            |g: &[&[u8]], out: &mut [i64]| {
                decode_streams_i64_with(Decoder::Native, g, stream_len, out)
            },
            &group,
            len,
        );
    } else {
        assert_group_agrees(
            |b: &[u8], out: &mut [i32]| {
                decode_window_i32_with(Decoder::Native, b, stream_len, 0, out)
            },
            |g: &[&[u8]], out: &mut [i32]| {
                decode_streams_i32_with(Decoder::Native, g, stream_len, out)
            },
            &group,
            len,
        );
    }
}

/// One differential fuzz input: a 6-byte header (stream length - 1 and
/// window start, little-endian u16s; window length / 37; bit 0: 64-bit
/// samples) and then the stream. The decoders must agree on the window
/// and on the whole stream, and ours must decode the stream in a group as
/// it does alone; inputs shorter than the header are skipped.
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
