//! Differential fuzzing: the same (mutated) bytes through our FLAC decoder
//! and libFLAC's, as a window and as a whole stream. Where ours returns
//! samples, libFLAC must return the same ones; where ours refuses, libFLAC
//! must fail too (both check the frame CRCs). The rule and the input format
//! are the tests' (`tests/common/agreement.rs`), which replay every finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/agreement.rs"]
mod agreement;

fuzz_target!(|data: &[u8]| agreement::assert_agree_on_input(data));
