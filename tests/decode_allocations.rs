//! Decoding allocates nothing per frame once the per-thread scratch has
//! grown: a second decode of the same stream (whole, or a window) makes no
//! allocation at all.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use flacarray::codec::{decode_window_i32_with, decode_window_i64_with, encode_i32, encode_i64};
use flacarray::codec::{Decoder, EncodeOptions};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator, only counting calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
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

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    f();
    ALLOCATIONS.load(Ordering::Relaxed) - before
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
    let mut out32 = vec![0i32; n];
    let mut out64 = vec![0i64; n];
    let mut window = vec![0i32; 100];
    let mut run = || {
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
}
