//! Subframes: constant, verbatim, fixed and LPC predictors, and their
//! Rice-coded residuals.

use super::bits::BitReader;
use super::corrupt;
use crate::codec::lpc::{fits, restore, restore_fixed, shift_wasted, unfold, Pending};
use crate::error::Result;

/// Decodes one subframe of `out.len()` samples (the block), storing its
/// first `needed` samples in `out`: every residual is read (the next
/// subframe starts after them), only the needed ones are kept.
///
/// Returns whether the samples fit `bits`.
///
/// Samples of channels of at most 32 bits are 32-bit numbers, as libFLAC
/// stores them: a prediction that overflows wraps around. Exact 64-bit
/// arithmetic gives the same samples unless one leaves the 32-bit range,
/// so the subframe is decoded exactly and, only if a sample left the range
/// (a damaged but CRC-correct stream), read again wrapping every step.
///
/// With `defer`, an LPC subframe of at most 32 bits is left unrestored for
/// [`restore_batch`].
#[inline]
pub(super) fn read_subframe(
    r: &mut BitReader<'_>,
    bits: u32,
    needed: usize,
    defer: bool,
    out: &mut [i64],
) -> Result<Subframe> {
    let start = r.clone();
    let defer = defer && bits <= 32;
    if let Some(pending) = read_subframe_with::<false>(r, bits, needed, defer, out)? {
        return Ok(Subframe::Pending(pending));
    }
    if bits > 32 || fits(&out[..needed], bits) {
        return Ok(Subframe::Restored(true));
    }
    if !fits(&out[..needed], 32) {
        *r = start;
        read_subframe_with::<true>(r, bits, needed, false, out)?;
    }
    Ok(Subframe::Restored(fits(&out[..needed], bits)))
}

/// What [`read_subframe`] left in the channel's buffer.
// (a box would allocate for every subframe; the value only passes up one call)
#[allow(clippy::large_enum_variant)]
pub(super) enum Subframe {
    /// Samples; whether they fit the channel's bits.
    Restored(bool),
    /// Warm-up samples and residuals of an LPC subframe to restore.
    Pending(Pending),
}

/// [`read_subframe`]'s decoding, wrapping samples to 32 bits with `WRAP`;
/// with `defer`, an LPC subframe is returned unrestored.
pub(super) fn read_subframe_with<const WRAP: bool>(
    r: &mut BitReader<'_>,
    bits: u32,
    needed: usize,
    defer: bool,
    out: &mut [i64],
) -> Result<Option<Pending>> {
    match read_head(r, bits, needed, out)? {
        Head::Read { wasted } => shift_wasted::<WRAP>(&mut out[..needed], wasted),
        Head::Predicted(predicted) => {
            read_partitions(r, &predicted.partitions, predicted.order, needed, out, 0)?;
            if defer && !predicted.fixed {
                // (its residuals stay folded: the batch unfolds them as it
                // loads them)
                return Ok(Some(predicted.pending(needed)));
            }
            predicted.restore::<WRAP>(out, needed);
        }
    }
    Ok(None)
}

/// A subframe read up to its residuals by [`read_head`].
// (a box would allocate for every subframe; the value only passes up one call)
#[allow(clippy::large_enum_variant)]
pub(super) enum Head {
    /// A constant or verbatim subframe: its needed samples are in the
    /// buffer, still to be shifted left by `wasted` bits.
    Read { wasted: u32 },
    /// A predicted subframe: its warm-up samples are in the buffer, and its
    /// Rice partitions come next.
    Predicted(Predicted),
}

/// A fixed or LPC subframe whose residuals are still to be read.
#[derive(Clone, Copy)]
pub(super) struct Predicted {
    /// FLAC's fixed predictor (no coefficients) or an LPC one.
    pub fixed: bool,
    pub order: usize,
    /// LPC coefficients, newest first, and their shift.
    pub coefs: [i64; 32],
    pub shift: u32,
    /// The channel's bits per sample, wasted bits included.
    pub bits: u32,
    pub wasted: u32,
    pub partitions: Partitions,
}

impl Predicted {
    /// The LPC subframe as one for [`crate::codec::lpc::restore_batch`]
    /// (its residuals read into the buffer, still folded).
    pub(super) fn pending(&self, needed: usize) -> Pending {
        Pending {
            coefs: self.coefs,
            order: self.order,
            shift: self.shift,
            bits: self.bits,
            wasted: self.wasted,
            needed,
        }
    }

    /// Turns the folded residuals read into `out` into the first `needed`
    /// samples, wrapping them to 32 bits with `WRAP`.
    pub(super) fn restore<const WRAP: bool>(&self, out: &mut [i64], needed: usize) {
        let order = self.order;
        unfold(&mut out[order..needed.max(order)]);
        if self.fixed {
            restore_fixed::<WRAP>(out, order, needed);
        } else {
            restore::<WRAP>(out, &self.coefs[..order], self.shift, 0, needed);
        }
        shift_wasted::<WRAP>(&mut out[..needed], self.wasted);
    }
}

/// Reads a subframe's header and what follows it up to its Rice
/// partitions: all of a constant or verbatim subframe (its first `needed`
/// samples into `out`, the block), a predicted one's warm-up samples into
/// `out`, its coefficients and its residual coding.
pub(super) fn read_head(
    r: &mut BitReader<'_>,
    bits: u32,
    needed: usize,
    out: &mut [i64],
) -> Result<Head> {
    let block = out.len();
    if r.bits(1)? != 0 {
        return Err(corrupt("FLAC subframe header has its padding bit set"));
    }
    let kind = r.bits(6)?;
    let wasted = if r.bits(1)? == 1 { r.unary()? + 1 } else { 0 };
    if wasted >= bits {
        return Err(corrupt(
            "FLAC subframe has more wasted bits than its sample size",
        ));
    }
    let channel_bits = bits;
    let bits = bits - wasted;
    let (fixed, order) = match kind {
        0 => {
            let value = r.signed_wide(bits)?;
            out[..needed].fill(value);
            return Ok(Head::Read { wasted });
        }
        1 => {
            if bits <= 32 {
                r.signed_block(bits, &mut out[..needed])?;
            } else {
                for slot in out[..needed].iter_mut() {
                    *slot = r.signed_wide(bits)?;
                }
            }
            // the rest is not needed: step over it
            r.skip((block - needed) as u64 * u64::from(bits))?;
            return Ok(Head::Read { wasted });
        }
        8..=12 => (true, (kind - 8) as usize),
        32..=63 => (false, (kind - 31) as usize),
        _ => {
            return Err(corrupt(format!(
                "FLAC subframe has the reserved type {kind}"
            )))
        }
    };
    if order > block {
        return Err(corrupt(if fixed {
            "FLAC fixed predictor order exceeds the block size"
        } else {
            "FLAC LPC order exceeds the block size"
        }));
    }
    for slot in out[..order].iter_mut() {
        *slot = r.signed_wide(bits)?;
    }
    let mut coefs = [0i64; 32];
    let mut shift = 0;
    if !fixed {
        let precision = r.bits(4)? + 1;
        if precision == 16 {
            return Err(corrupt("FLAC LPC subframe uses the invalid precision 15"));
        }
        let signed_shift = r.signed(5)?;
        if signed_shift < 0 {
            return Err(corrupt("FLAC LPC subframe has a negative shift"));
        }
        shift = signed_shift as u32;
        for c in coefs[..order].iter_mut() {
            *c = i64::from(r.signed(precision)?);
        }
    }
    let partitions = read_partitions_header(r, order, block)?;
    Ok(Head::Predicted(Predicted {
        fixed,
        order,
        coefs,
        shift,
        bits: channel_bits,
        wasted,
        partitions,
    }))
}

/// How a predicted subframe's residuals are split and coded.
#[derive(Clone, Copy)]
pub(super) struct Partitions {
    /// Bits of each partition's Rice parameter (4 or 5).
    pub param_bits: u32,
    pub count: usize,
    /// Samples per partition (the first holds `order` fewer residuals).
    pub per_partition: usize,
}

impl Partitions {
    /// The parameter that marks an escaped partition (its residuals stored
    /// as plain numbers): all `param_bits` ones.
    pub(super) fn escape(&self) -> u32 {
        (1 << self.param_bits) - 1
    }
}

/// Reads the residual coding method and partition order of a subframe of
/// `block` samples predicted with `order`, and checks that its partitions
/// fit the block.
pub(super) fn read_partitions_header(
    r: &mut BitReader<'_>,
    order: usize,
    block: usize,
) -> Result<Partitions> {
    let param_bits = match r.bits(2)? {
        0 => 4,
        1 => 5,
        _ => return Err(corrupt("FLAC residual uses a reserved coding method")),
    };
    let count = 1usize << r.bits(4)?;
    if !block.is_multiple_of(count) || block / count < order {
        return Err(corrupt("FLAC residual partitions do not fit the block"));
    }
    Ok(Partitions {
        param_bits,
        count,
        per_partition: block / count,
    })
}

/// Reads the residuals of a predicted subframe of `out.len()` samples
/// (samples `order..`) from partition `first` on, storing those up to
/// sample `needed` into `out`, folded (see [`unfold`]), and stepping over
/// the rest.
pub(super) fn read_partitions(
    r: &mut BitReader<'_>,
    partitions: &Partitions,
    order: usize,
    needed: usize,
    out: &mut [i64],
    first: usize,
) -> Result<()> {
    let block = out.len();
    let escape = partitions.escape();
    let per_partition = partitions.per_partition;
    let residual = &mut out[order..block];
    // residuals stored up to `keep`, parsed (not stored) after it
    let keep = needed.max(order);
    // residual index of the partition's start
    let mut sample = (first * per_partition).saturating_sub(order);
    for p in first..partitions.count {
        let count = if p == 0 {
            per_partition - order
        } else {
            per_partition
        };
        if sample + order >= block {
            break;
        }
        let param = r.bits(partitions.param_bits)?;
        let store = keep.saturating_sub(order + sample).min(count);
        let parse = (block - order - sample).min(count) - store;
        let slots = &mut residual[sample..sample + store];
        if param == escape {
            let raw_bits = r.bits(5)?;
            for slot in slots.iter_mut() {
                // folded like the Rice values around it
                let v = i64::from(r.signed(raw_bits)?);
                *slot = (v << 1) ^ (v >> 63);
            }
            r.skip(parse as u64 * u64::from(raw_bits))?;
        } else {
            rice_block(r, param, slots)?;
            if parse > 0 {
                rice_skip_block(r, param, parse)?;
            }
        }
        sample += count;
    }
    Ok(())
}

/// Reads the rest of a whole subframe's residuals (`out` is the block),
/// after `done` of them were read elsewhere: `k` is the parameter of the
/// partition holding the next one, if it was read and codes of it remain
/// (else the next bits start a partition).
pub(super) fn read_rest(
    r: &mut BitReader<'_>,
    partitions: &Partitions,
    order: usize,
    out: &mut [i64],
    done: usize,
    k: Option<u32>,
) -> Result<()> {
    let block = out.len();
    let next = order + done;
    // (the first partition may hold no codes: it starts where the second does)
    let mut partition = if done == 0 {
        0
    } else {
        next / partitions.per_partition
    };
    if let Some(k) = k {
        let end = (partition + 1) * partitions.per_partition;
        rice_block(r, k, &mut out[next..end])?;
        partition += 1;
    }
    read_partitions(r, partitions, order, block, out, partition)
}

/// Decodes a partition's Rice codes, with the bit-manipulation
/// instructions (LZCNT, BMI2 shifts, POPCNT) when the CPU has them.
#[inline(always)]
pub(super) fn rice_block(r: &mut BitReader<'_>, k: u32, out: &mut [i64]) -> Result<()> {
    #[cfg(target_arch = "x86_64")]
    if crate::codec::cpu::has_bmi2() {
        // SAFETY: the CPU supports LZCNT, BMI1/2 and POPCNT (checked just above);
        // the function is otherwise the portable one compiled for them.
        return unsafe { rice_block_bmi2(r, k, out) };
    }
    r.rice(k, out)
}

/// Steps over a partition's Rice codes (see [`rice_block`]).
#[inline(always)]
pub(super) fn rice_skip_block(r: &mut BitReader<'_>, k: u32, n: usize) -> Result<()> {
    #[cfg(target_arch = "x86_64")]
    if crate::codec::cpu::has_bmi2() {
        // SAFETY: the CPU supports LZCNT, BMI1/2 and POPCNT (checked just above);
        // the function is otherwise the portable one compiled for them.
        return unsafe { rice_skip_block_bmi2(r, k, n) };
    }
    r.rice_skip(k, n)
}

/// [`BitReader::rice_skip`] compiled with LZCNT, BMI1/2 and POPCNT (scalar twin:
/// the portable build; `tests::rice_twins_agree` compares them).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "lzcnt,bmi1,bmi2,popcnt")]
pub(super) unsafe fn rice_skip_block_bmi2(r: &mut BitReader<'_>, k: u32, n: usize) -> Result<()> {
    r.rice_skip(k, n)
}

/// [`BitReader::rice`] compiled with LZCNT, BMI1/2 and POPCNT (its scalar twin is
/// the portable build; `tests::rice_twins_agree` compares them).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "lzcnt,bmi1,bmi2,popcnt")]
pub(super) unsafe fn rice_block_bmi2(r: &mut BitReader<'_>, k: u32, out: &mut [i64]) -> Result<()> {
    r.rice(k, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rice_twins_agree() {
        // Rice codes of many sizes, and the same bytes decoded by both builds
        let push = |bits: u64, len: u32, acc: &mut u64, n: &mut u32, out: &mut Vec<u8>| {
            for i in (0..len).rev() {
                *acc = (*acc << 1) | ((bits >> i) & 1);
                *n += 1;
                if *n == 8 {
                    out.push(*acc as u8);
                    *acc = 0;
                    *n = 0;
                }
            }
        };
        // every parameter, with codes mostly near 2^k (the groups' fast
        // path) and now and then far longer (groups read again, codes
        // longer than the bit buffer)
        let mut next_random = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15);
        for k in 0..31u32 {
            let (mut bytes, mut acc, mut n) = (Vec::new(), 0u64, 0u32);
            let values: Vec<i64> = (0..3001)
                .map(|_| {
                    let r = next_random();
                    let quotient = if r.is_multiple_of(16) {
                        (r >> 8) % 120
                    } else {
                        (r >> 8) % 3
                    };
                    let folded =
                        ((quotient << k) | ((r >> 20) & ((1 << k) - 1))).min(u32::MAX.into());
                    ((folded >> 1) as i64) ^ -((folded & 1) as i64)
                })
                .collect();
            for &v in &values {
                let u = ((v << 1) ^ (v >> 63)) as u64;
                push(0, (u >> k) as u32, &mut acc, &mut n, &mut bytes);
                push(1, 1, &mut acc, &mut n, &mut bytes);
                push(u & ((1 << k) - 1), k, &mut acc, &mut n, &mut bytes);
            }
            push(0, 7, &mut acc, &mut n, &mut bytes);
            let mut portable = vec![0i64; values.len()];
            BitReader::new(&bytes, 0).rice(k, &mut portable).unwrap();
            unfold(&mut portable);
            assert_eq!(portable, values, "k = {k}");
            let mut dispatched = vec![0i64; values.len()];
            rice_block(&mut BitReader::new(&bytes, 0), k, &mut dispatched).unwrap();
            unfold(&mut dispatched);
            assert_eq!(dispatched, values, "k = {k}");
            // skipping the first 1001 codes (both builds) lands on the same code
            for twin in [true, false] {
                let mut r = BitReader::new(&bytes, 0);
                if twin {
                    rice_skip_block(&mut r, k, 1001).unwrap();
                } else {
                    r.rice_skip(k, 1001).unwrap();
                }
                let mut next = [0i64; 5];
                r.rice(k, &mut next).unwrap();
                unfold(&mut next);
                assert_eq!(next, values[1001..1006], "k = {k}");
            }
            // one code more than the data holds is an error, not a panic
            let mut extra = vec![0i64; values.len() + 1];
            assert!(BitReader::new(&bytes, 0).rice(k, &mut extra).is_err());
        }
    }

    #[test]
    fn verbatim_blocks_match_numbers_read_one_by_one() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 151 + i / 7) as u8).collect();
        for n in [1u32, 4, 7, 8, 13, 24, 31, 32] {
            for lead in [0u32, 3, 8, 13] {
                let count = ((data.len() * 8 - lead as usize) / n as usize).min(200);
                let mut expected = vec![0i64; count];
                let mut r = BitReader::new(&data, 0);
                r.bits(lead).unwrap();
                for v in expected.iter_mut() {
                    *v = i64::from(r.signed(n).unwrap());
                }
                let after = r.bit_position();
                let mut got = vec![0i64; count];
                let mut r = BitReader::new(&data, 0);
                r.bits(lead).unwrap();
                r.signed_block(n, &mut got).unwrap();
                assert_eq!(got, expected, "{n} bits after {lead}");
                assert_eq!(r.bit_position(), after);
                // one number too many runs out of data
                let too_many = (data.len() * 8 - lead as usize) / n as usize + 1;
                let mut r = BitReader::new(&data, 0);
                r.bits(lead).unwrap();
                assert!(r.signed_block(n, &mut vec![0; too_many]).is_err());
            }
        }
    }

    #[test]
    fn bit_reader_reads_across_refills() {
        let data: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37)).collect();
        let mut r = BitReader::new(&data, 0);
        let mut bits = Vec::new();
        for n in [1u32, 7, 13, 32, 3, 5, 31, 2, 17, 9, 11, 8, 24, 1, 30] {
            bits.push((n, r.bits(n).unwrap()));
        }
        // the same fields read one bit at a time
        let mut r2 = BitReader::new(&data, 0);
        for (n, v) in bits {
            let mut x = 0u32;
            for _ in 0..n {
                x = (x << 1) | r2.bits(1).unwrap();
            }
            assert_eq!(x, v, "{n} bits");
        }
    }
}
