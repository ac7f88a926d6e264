//! A big-endian bit writer (FLAC's bit order) over a byte vector.

/// Appends bits to `bytes`, most significant first; [`BitWriter::finish`]
/// pads the last byte with zeros.
pub(super) struct BitWriter<'a> {
    bytes: &'a mut Vec<u8>,
    /// Pending bits, right-aligned; fewer than 32 between calls.
    acc: u64,
    pending: u32,
}

impl<'a> BitWriter<'a> {
    /// A writer appending to `bytes` (which may already hold whole bytes).
    pub(super) fn new(bytes: &'a mut Vec<u8>) -> Self {
        BitWriter {
            bytes,
            acc: 0,
            pending: 0,
        }
    }

    /// Writes the low `bits` (at most 32) bits of `value`.
    #[inline(always)]
    pub(super) fn put(&mut self, value: u64, bits: u32) {
        debug_assert!(bits <= 32);
        if bits == 0 {
            return;
        }
        let mask = (1u64 << bits) - 1;
        self.acc = (self.acc << bits) | (value & mask);
        self.pending += bits;
        if self.pending >= 32 {
            self.pending -= 32;
            let word = (self.acc >> self.pending) as u32;
            self.bytes.extend_from_slice(&word.to_be_bytes());
        }
    }

    /// Writes a two's-complement value in `bits` (at most 33) bits.
    #[inline(always)]
    pub(super) fn put_signed(&mut self, value: i64, bits: u32) {
        if bits > 32 {
            self.put((value >> 32) as u64, bits - 32);
            self.put(value as u64, 32);
        } else {
            self.put(value as u64, bits);
        }
    }

    /// Writes `zeros` zero bits and a one.
    #[inline(always)]
    pub(super) fn put_unary(&mut self, mut zeros: u64) {
        while zeros >= 32 {
            self.put(0, 32);
            zeros -= 32;
        }
        self.put(1, zeros as u32 + 1);
    }

    /// Writes one Rice code of `folded` with parameter `k` (< 32).
    #[inline(always)]
    pub(super) fn put_rice(&mut self, folded: u64, k: u32) {
        let quotient = folded >> k;
        let low = folded & ((1u64 << k) - 1);
        if quotient + 1 + u64::from(k) <= 32 {
            self.put((1u64 << k) | low, quotient as u32 + 1 + k);
        } else {
            self.put_unary(quotient);
            self.put(low, k);
        }
    }

    /// Writes the Rice code of every folded value of `residual` with
    /// parameter `k` (< 32): the same bits as [`BitWriter::put_rice`] on
    /// each. A chunk's codes and lengths are worked out first, in vector
    /// lanes; only appending them is sequential, with the pending bits kept
    /// in registers and whole words gathered on the stack before they are
    /// appended.
    pub(super) fn put_rice_codes(&mut self, residual: &[i64], k: u32) {
        // one 32-bit word at most per code of at most 32 bits, and room
        // for the one stored but not kept
        let mut words = [0u8; 4 * CODES_AT_ONCE + 4];
        let mut codes = [0u64; CODES_AT_ONCE];
        let mut lens = [0u64; CODES_AT_ONCE];
        let (mut acc, mut pending) = (self.acc, self.pending);
        for chunk in residual.chunks(CODES_AT_ONCE) {
            if rice_codes(chunk, k, &mut codes, &mut lens) > 32 {
                // a long unary run: the chunk through the general path
                (self.acc, self.pending) = (acc, pending);
                for &r in chunk {
                    self.put_rice(super::rice::fold(r), k);
                }
                (acc, pending) = (self.acc, self.pending);
                continue;
            }
            let mut used = 0;
            for (&code, &len) in codes.iter().zip(&lens).take(chunk.len()) {
                acc = (acc << len) | code;
                pending += len as u32;
                // without a branch (whether a word is full follows the
                // data, so a branch would be mispredicted often): the word
                // is always stored, and kept only when full
                let full = (pending >> 5) as usize;
                pending &= 31;
                words[used..used + 4].copy_from_slice(&((acc >> pending) as u32).to_be_bytes());
                used += 4 * full;
            }
            self.bytes.extend_from_slice(&words[..used]);
        }
        (self.acc, self.pending) = (acc, pending);
    }

    /// Pads to a whole byte with zeros and flushes everything.
    pub(super) fn finish(mut self) {
        let pad = (8 - self.pending % 8) % 8;
        self.put(0, pad);
        while self.pending >= 8 {
            self.pending -= 8;
            self.bytes.push((self.acc >> self.pending) as u8);
        }
    }
}

/// Rice codes worked out at a time by [`BitWriter::put_rice_codes`].
const CODES_AT_ONCE: usize = 64;

vectorized! {
    /// The Rice code (stop bit and low bits) of each folded value of
    /// `residual` with parameter `k` into `codes`, and its length in bits
    /// into `lens`; returns the longest length.
    fn rice_codes(
        residual: &[i64],
        k: u32,
        codes: &mut [u64; CODES_AT_ONCE],
        lens: &mut [u64; CODES_AT_ONCE]
    ) -> u64 = rice_codes_body;
}

#[inline(always)]
fn rice_codes_body(
    residual: &[i64],
    k: u32,
    codes: &mut [u64; CODES_AT_ONCE],
    lens: &mut [u64; CODES_AT_ONCE],
) -> u64 {
    let low_mask = (1u64 << k) - 1;
    let stop_bit = 1u64 << k;
    let mut longest = 0;
    for ((code, len), &r) in codes.iter_mut().zip(lens.iter_mut()).zip(residual) {
        let folded = super::rice::fold(r);
        *code = stop_bit | (folded & low_mask);
        *len = (folded >> k) + 1 + u64::from(k);
        longest = longest.max(*len);
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_come_out_most_significant_first() {
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out);
        w.put(0b1, 1);
        w.put(0b0101, 4);
        w.put_unary(2); // 001
        w.put_signed(-1, 33);
        w.put_rice(5, 1); // quotient 2 -> 001, low 1
        w.finish();
        // 1 0101 001 | 33 ones | 001 1 | pad
        let mut bits = String::from("10101001");
        bits.push_str(&"1".repeat(33));
        bits.push_str("0011");
        while bits.len() % 8 != 0 {
            bits.push('0');
        }
        let expected: Vec<u8> = bits
            .as_bytes()
            .chunks(8)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap())
            .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn long_unary_codes() {
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out);
        w.put_rice(100 << 3 | 5, 3);
        w.finish();
        // 100 zeros, a one, then 101
        assert_eq!(out.len(), 104_usize.div_ceil(8));
        assert!(out[..12].iter().all(|&b| b == 0));
        assert_eq!(out[12], 0b0000_1101);
    }

    #[test]
    fn rice_codes_in_bulk_match_one_at_a_time() {
        let mut next = crate::test_rng::xorshift(0x2545_F491_4F6C_DD1D);
        for round in 0..400 {
            let k = (round % 20) as u32;
            let lead = (round % 37) as u32;
            let n = (next() % 300) as usize;
            // mostly small values, some whose codes are long
            let residual: Vec<i64> = (0..n)
                .map(|_| {
                    let v = (next() % (4u64 << k)) as i64 - (2i64 << k);
                    if next().is_multiple_of(50) {
                        v * 300
                    } else {
                        v
                    }
                })
                .collect();
            let (mut bulk, mut single) = (Vec::new(), Vec::new());
            let mut w = BitWriter::new(&mut bulk);
            w.put(0x1_2345_6789 & ((1 << lead.min(32)) - 1), lead.min(32));
            w.put_rice_codes(&residual, k);
            w.put(0b101, 3);
            w.finish();
            let mut w = BitWriter::new(&mut single);
            w.put(0x1_2345_6789 & ((1 << lead.min(32)) - 1), lead.min(32));
            for &r in &residual {
                w.put_rice(crate::codec::encoder::rice::fold(r), k);
            }
            w.put(0b101, 3);
            w.finish();
            assert_eq!(bulk, single, "k {k}, lead {lead}, n {n}");
        }
    }
}
