//! Decoding allocates nothing per frame once the per-thread scratch has
//! grown: a second decode of the same stream (whole, or a window) makes no
//! allocation at all. Encoding likewise: once a thread's scratch has grown,
//! encoding streams into an output with room makes no allocation, whatever
//! the number of streams (the per-stream cost of short rows).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use flacarray::codec::{decode_window_i32_with, decode_window_i64_with, encode_i32, encode_i64};
use flacarray::codec::{
    encode_group, encode_i32_into, encode_i64_into, Decoder, EncodeOptions, Samples, ShortStream,
};

struct Counting;

thread_local! {
    // per thread: the tests run side by side
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // (a const thread-local without destructor: usable while allocating)
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's layout contract, passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations this thread made while running `f`.
fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn steady_state_decoding_does_not_allocate() {
    let n = 50_000usize;
    let data: Vec<i32> = (0..n)
        .map(|i| ((i as f64 * 0.01).sin() * 5e5) as i32 + (i as i32 % 7))
        .collect();
    let wide: Vec<i64> = data
        .iter()
        .map(|&v| i64::from(v) << 20 | i64::from(v & 0xff))
        .collect();
    let narrow_bytes = encode_i32(&data, &EncodeOptions::default()).unwrap();
    let wide_bytes = encode_i64(&wide, &EncodeOptions::default()).unwrap();
    let mut row = Vec::new();
    let row_options = EncodeOptions {
        short: ShortStream::FrameRow,
        ..EncodeOptions::default()
    };
    encode_i32_into(&data[..64], &row_options, &mut row).unwrap();
    let mut out32 = vec![0i32; n];
    let mut out64 = vec![0i64; n];
    let mut window = vec![0i32; 100];
    let mut row_out = vec![0i32; 64];
    let mut run = || {
        decode_window_i32_with(Decoder::Native, &row, 64, 0, &mut row_out).unwrap();
        decode_window_i32_with(Decoder::Native, &narrow_bytes, n as u64, 0, &mut out32).unwrap();
        decode_window_i64_with(Decoder::Native, &wide_bytes, n as u64, 0, &mut out64).unwrap();
        decode_window_i32_with(
            Decoder::Native,
            &narrow_bytes,
            n as u64,
            25_000,
            &mut window,
        )
        .unwrap();
    };
    run(); // grows this thread's scratch buffers
    assert_eq!(allocations_during(&mut run), 0);
    assert_eq!(out32, data);
    assert_eq!(out64, wide);
    assert_eq!(window, data[25_000..25_100]);
    assert_eq!(row_out, data[..64]);
}

#[test]
fn steady_state_encoding_does_not_allocate() {
    let rows: Vec<Vec<i32>> = (0..200)
        .map(|r| {
            (0..64)
                .map(|t| (((r * 64 + t) as f64 * 0.05).sin() * 3000.0) as i32 + t % 11)
                .collect()
        })
        .collect();
    let long: Vec<i64> = (0..20_000i64)
        .map(|t| (t * t) % 1_000_003 - 500_000)
        .collect();
    let streams: Vec<Samples<'_>> = rows.iter().map(|r| Samples::One(r)).collect();
    // whole streams, and the short rows as frame rows (as the Arrow
    // column's compressors write them)
    for (level, short) in [0, 5, 8]
        .into_iter()
        .flat_map(|l| [(l, ShortStream::Whole), (l, ShortStream::FrameRow)])
    {
        let options = EncodeOptions {
            level,
            short,
            ..EncodeOptions::default()
        };
        let mut out = Vec::with_capacity(1 << 22);
        let mut ends = Vec::with_capacity(rows.len());
        let run = |out: &mut Vec<u8>, ends: &mut Vec<usize>| {
            out.clear();
            ends.clear();
            for row in &rows {
                encode_i32_into(row, &options, out).unwrap();
            }
            encode_i64_into(&long, &options, out).unwrap();
            // and the rows eight at a time, as FlacArray::compress does
            for group in streams.chunks(8) {
                encode_group(group, &options, out, ends).unwrap();
            }
        };
        // grows this thread's scratch (its two cached windows, for
        // three block lengths here, reach their largest sizes by the second)
        run(&mut out, &mut ends);
        run(&mut out, &mut ends);
        let first = out.clone();
        assert_eq!(
            allocations_during(|| run(&mut out, &mut ends)),
            0,
            "level {level}, {short:?}"
        );
        assert_eq!(out, first);
    }
}
