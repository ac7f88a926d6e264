//! Container parsing: arbitrary stream tables over arbitrary bytes, then a
//! selection. Errors are fine; crashes, hangs and huge allocations are not.
#![no_main]

use flacarray::{with_element_type, DType, FlacArrayPartsRef, FlacArrayRef};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 16 {
        return;
    }
    let dtype = DType::ALL[usize::from(data[0]) % DType::ALL.len()];
    let nstreams = usize::from(data[1] % 4) + 1;
    let stream_size = usize::from(u16::from_le_bytes([data[2], data[3]])) + 1;
    let table = &data[4..];
    let word = |i: usize| {
        u64::from(*table.get(i).unwrap_or(&0)) * 97 + u64::from(*table.get(i + 1).unwrap_or(&0))
    };
    let starts: Vec<u64> = (0..nstreams).map(|i| word(2 * i)).collect();
    let nbytes: Vec<u64> = (0..nstreams).map(|i| word(2 * i + 8)).collect();
    let compressed = &data[4..];
    let scales = vec![0.5f64; nstreams];
    let gains = vec![3.0f64; nstreams];
    let shape = [nstreams, stream_size];
    let (offsets, gains) = if dtype.is_float() {
        (Some(&scales[..]), Some(&gains[..]))
    } else {
        (None, None)
    };
    let Ok(view) = FlacArrayRef::new(FlacArrayPartsRef {
        dtype,
        shape: &shape,
        compressed,
        stream_starts: &starts,
        stream_nbytes: &nbytes,
        stream_offsets: offsets,
        stream_gains: gains,
        level: 5,
    }) else {
        return;
    };
    let streams: Vec<usize> = (0..nstreams).collect();
    let range = 0..stream_size.min(5000);
    let _ = with_element_type!(dtype, T => view.decompress::<T>(&streams, range).map(|_| ()));
});
