//! Any bytes, decoded as one stream at any offset: an error or samples,
//! never a crash or a hang.
#![no_main]

use flacarray::codec::{decode_i32, decode_i64, decode_window_i32, decode_window_i64};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let first = u64::from(u16::from_le_bytes([data[0], data[1]]));
    let len = usize::from(data[2]) * 64 + 1;
    let bytes = &data[3..];
    let _ = decode_i32(bytes);
    let _ = decode_i64(bytes);
    let mut out = vec![0i64; len];
    let _ = decode_window_i64(bytes, first + len as u64, first, &mut out);
    let mut out32 = vec![0i32; len];
    let _ = decode_window_i32(bytes, first + len as u64, first, &mut out32);
});
