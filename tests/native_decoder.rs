//! Our FLAC decoder against libFLAC's, sample for sample: every stream shape
//! the encoder produces (property tests), the golden files, and damaged
//! streams.

mod common;

use flacarray::codec::{
    decode_window_i32_with, decode_window_i64_with, encode_i32, encode_i64, verify_stream, Decoder,
    EncodeOptions,
};
use proptest::prelude::*;

fn options(level: u32) -> EncodeOptions {
    EncodeOptions {
        level,
        ..EncodeOptions::default()
    }
}

/// The crate's folder, read when the test runs (a shared target folder may
/// hold a binary built from another clone).
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Both decoders on a window: the same samples, or both an error — except
/// that a window reads only the samples it returns, so where libFLAC
/// (which decodes whole frames) fails and ours returns samples, ours must
/// fail once it reads on to the stream's end.
fn same_i32(bytes: &[u8], len: u64, first: u64, count: usize) {
    let decode =
        |d: Decoder, first: u64, out: &mut [i32]| decode_window_i32_with(d, bytes, len, first, out);
    same(decode, len, first, count);
}

fn same_i64(bytes: &[u8], len: u64, first: u64, count: usize) {
    let decode =
        |d: Decoder, first: u64, out: &mut [i64]| decode_window_i64_with(d, bytes, len, first, out);
    same(decode, len, first, count);
}

fn same<T: Default + Clone + PartialEq + std::fmt::Debug>(
    decode: impl Fn(Decoder, u64, &mut [T]) -> flacarray::Result<()>,
    len: u64,
    first: u64,
    count: usize,
) {
    let mut ours = vec![T::default(); count];
    let mut theirs = vec![T::default(); count];
    let a = decode(Decoder::Native, first, &mut ours);
    let b = decode(Decoder::Libflac, first, &mut theirs);
    match (a, b) {
        (Ok(()), Ok(())) => assert_eq!(ours, theirs, "window {first}+{count} of {len}"),
        (Err(_), Err(_)) => {}
        (Ok(()), Err(e)) if first + (count as u64) < len => {
            let mut rest = vec![T::default(); (len - first) as usize];
            assert!(
                decode(Decoder::Native, first, &mut rest).is_err(),
                "libFLAC fails ({e:?}) on window {first}+{count} of {len}, ours reads on"
            );
        }
        (a, b) => panic!("native {a:?}, libFLAC {b:?} (window {first}+{count} of {len})"),
    }
}

/// Data of a given kind: smooth signal plus noise at `bits` of amplitude,
/// constant, or spanning the whole range.
fn make_i32(kind: u8, bits: u32, n: usize, seed: u64) -> Vec<i32> {
    let mut rng = common::Rng::new(seed);
    let amp = 1i64 << (bits - 1);
    (0..n)
        .map(|i| match kind {
            0 => 5,
            1 => rng.next_u64() as i32,
            _ => {
                let smooth = ((i as f64 * 0.01).sin() * (amp as f64 * 0.6)) as i64;
                let noise = (rng.next_u64() % (amp as u64 / 4 + 1)) as i64 - amp / 8;
                (smooth + noise).clamp(-amp, amp - 1) as i32
            }
        })
        .collect()
}

fn windows(len: usize, seed: u64) -> Vec<(u64, usize)> {
    let mut rng = common::Rng::new(seed);
    let mut out = vec![(0, len)];
    for _ in 0..6 {
        let a = (rng.next_u64() % len as u64) as usize;
        let b = a + 1 + (rng.next_u64() % (len - a) as u64) as usize;
        out.push((a as u64, b - a));
    }
    out.push(((len - 1) as u64, 1));
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn i32_streams_decode_as_libflac_does(
        kind in 0u8..3,
        bits in 4u32..=32,
        level in 0u32..=8,
        len in prop_oneof![Just(1usize), Just(4095), Just(4096), Just(4097), 2usize..20_000],
        seed in any::<u64>(),
    ) {
        let data = make_i32(kind, bits, len, seed);
        let bytes = encode_i32(&data, &options(level)).unwrap();
        let mut ours = vec![0i32; len];
        decode_window_i32_with(Decoder::Native, &bytes, len as u64, 0, &mut ours).unwrap();
        prop_assert_eq!(&ours, &data);
        // libFLAC records the samples' MD5; ours reproduces it
        prop_assert!(verify_stream(&bytes, len as u64).unwrap());
        for (first, count) in windows(len, seed ^ 1) {
            same_i32(&bytes, len as u64, first, count);
        }
    }

    #[test]
    fn i64_streams_decode_as_libflac_does(
        kind in 0u8..3,
        bits in 4u32..=32,
        shift in 0u32..=31,
        level in 0u32..=8,
        len in prop_oneof![Just(1usize), Just(4096), Just(4097), 2usize..12_000],
        seed in any::<u64>(),
    ) {
        let data: Vec<i64> = make_i32(kind, bits, len, seed)
            .into_iter()
            .map(|v| (i64::from(v) << shift) ^ i64::from(v & 0x55))
            .collect();
        let bytes = encode_i64(&data, &options(level)).unwrap();
        let mut ours = vec![0i64; len];
        decode_window_i64_with(Decoder::Native, &bytes, len as u64, 0, &mut ours).unwrap();
        prop_assert_eq!(&ours, &data);
        prop_assert!(verify_stream(&bytes, len as u64).unwrap());
        for (first, count) in windows(len, seed ^ 2) {
            same_i64(&bytes, len as u64, first, count);
        }
    }

    #[test]
    fn damaged_streams_fail_or_agree(
        len in 100usize..9000,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        seed in any::<u64>(),
    ) {
        let data = make_i32(2, 20, len, seed);
        let mut bytes = encode_i32(&data, &options(5)).unwrap();
        for (at, mask) in flips {
            let at = 42 + at % (bytes.len() - 42); // the audio, past STREAMINFO
            bytes[at] ^= mask.max(1);
        }
        // where ours returns samples, libFLAC returns the same ones (a
        // damaged frame fails its CRC in both, whole or windowed)
        for (first, count) in windows(len, seed ^ 3) {
            let mut ours = vec![0i32; count];
            let got = decode_window_i32_with(Decoder::Native, &bytes, len as u64, first, &mut ours);
            if got.is_ok() {
                same_i32(&bytes, len as u64, first, count);
            }
        }
    }
}

/// Stereo decorrelation modes and escape codes, which our encoder does not
/// write: streams from libFLAC's own encoder settings.
#[test]
fn every_stored_golden_stream_decodes_as_libflac_does() {
    let root = manifest_dir().join("tests/golden");
    let mut streams = 0;
    for version in std::fs::read_dir(&root).unwrap() {
        let dir = version.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "parquet") {
                let fa = flacarray::parquet::read_array_file(&path, "flac", None).unwrap();
                for s in 0..fa.nstreams() {
                    let bytes = fa.stream_bytes(s).unwrap();
                    let len = fa.stream_size() as u64;
                    if fa.dtype().size() == 4 {
                        same_i32(bytes, len, 0, len as usize);
                        same_i32(bytes, len, len / 2, (len - len / 2) as usize);
                    } else {
                        same_i64(bytes, len, 0, len as usize);
                        same_i64(bytes, len, len / 3, (len - len / 3) as usize);
                    }
                    streams += 1;
                }
            }
        }
    }
    assert!(
        streams > 0,
        "no golden streams found under {}",
        root.display()
    );
}

/// Inputs the differential fuzzer found (crashes, disagreements, hangs),
/// and its minimised corpus (the inputs that together reach everything the
/// campaigns reached), kept as regression tests: the decoders agree on each.
#[test]
fn fuzz_findings_decode_alike() {
    let mut inputs = Vec::new();
    for folder in [
        "fuzz/regressions/decoders_agree",
        "fuzz/seeds/decoders_agree",
    ] {
        let dir = manifest_dir().join(folder);
        let before = inputs.len();
        for entry in std::fs::read_dir(&dir).unwrap() {
            inputs.push(entry.unwrap().path());
        }
        assert!(inputs.len() > before, "no inputs in {}", dir.display());
    }
    for path in inputs {
        let data = std::fs::read(&path).unwrap();
        if data.len() < 6 {
            continue;
        }
        let stream_len = u64::from(u16::from_le_bytes([data[0], data[1]])) + 1;
        let first = u64::from(u16::from_le_bytes([data[2], data[3]])) % stream_len;
        let count = (usize::from(data[4]) * 37 + 1).min((stream_len - first) as usize);
        let bytes = &data[6..];
        if data[5] & 1 == 1 {
            same_i64(bytes, stream_len, first, count);
            same_i64(bytes, stream_len, 0, stream_len as usize);
        } else {
            same_i32(bytes, stream_len, first, count);
            same_i32(bytes, stream_len, 0, stream_len as usize);
        }
    }
}
