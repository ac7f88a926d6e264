//! The unit tests' pseudo-random numbers: a xorshift generator, the same
//! sequence for a seed on every machine.

/// Successive 64-bit xorshift numbers from `seed` (made odd: never zero).
pub(crate) fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
