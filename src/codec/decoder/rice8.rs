//! The Rice codes of eight residual sections (of eight different streams)
//! decoded in lockstep, one section per lane of a 512-bit register.
//!
//! One stream's Rice codes form a chain: where a code starts depends on
//! the length of the one before, so a scalar decoder waits on a leading
//! zero count and a shift for every code. Eight independent chains side by
//! side keep the core busy. Each lane reads a window of four big-endian
//! words of its stream (`w[0]` to `w[3]`) at a bit offset `p` in `w[0]`
//! (0..64): a code is the top of `w[0]:w[1]` shifted left by `p` (a funnel
//! shift, AVX-512 VBMI2), its quotient the leading zero count of that
//! (AVX-512 CD). A lane whose offset passes 64 moves its window on by a
//! word, and its next word is gathered three words before it is needed.
//! (The window moves as whole vectors, so every lane's next read waits for
//! the latest gather: with three words that wait was on every step's
//! chain; with four, the gather has two steps to land.)
//!
//! Every step decodes one code in each running lane, and a lane joins at
//! the step of its first residual (its predictor's order), so step `t`
//! holds the residual of sample `t` of every section: the codes come out
//! as rows (`rows[t][lane]`, as the side-by-side LPC restore lays samples
//! out), still folded. Partition parameters are read between runs of steps, when
//! a lane's partition is used up. What the kernel does not handle stops
//! that lane and says where: an escaped partition, a code longer than 64
//! bits or worth more than 32 bits, the last bytes of a stream (a window
//! that cannot be gathered whole), a first partition without codes. The
//! scalar reader goes on from there, and checks what the kernel refused.

use std::arch::x86_64::*;

/// Lanes decoded together.
pub(super) const LANES: usize = 8;

/// Words in each lane's window.
const WORDS: usize = 4;

/// Steps between two prefetches of each lane's data, and how far ahead
/// they reach (a lane reads a 64-byte line in about 50 steps).
const PREFETCH_EVERY: usize = 16;
const PREFETCH_AHEAD: usize = 512;

/// One lane's residual section: Rice-coded partitions from bit `bit` of
/// `data`, for the residuals of samples `order..order + codes`.
#[derive(Clone, Copy)]
pub(super) struct Section<'a> {
    pub data: &'a [u8],
    pub bit: usize,
    /// Bits of each partition's parameter (4 or 5).
    pub param_bits: u32,
    /// Samples per partition (the first holds `order` fewer codes).
    pub per_partition: usize,
    pub order: usize,
    pub codes: usize,
}

/// Where a lane's decoding ended: `codes` codes were decoded into the rows,
/// and the next unread bit is `bit`. `k` is the parameter of the partition
/// the next code belongs to, when its parameter is already read and codes
/// of it remain; with `None` the next bits are a partition's parameter (or
/// the section is done: `codes` is all of it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(super) struct Stop {
    pub codes: usize,
    pub bit: usize,
    pub k: Option<u32>,
}

/// Whether this CPU runs [`rice8`].
pub(super) fn runs_here() -> bool {
    crate::codec::cpu::has_avx512_vbmi2()
}

/// Decodes the sections in `lanes` (`None`: an unused lane) in lockstep,
/// storing the residual of sample `t` of lane `l` at `rows[t][l]`, folded
/// (code `j` of a section at row `order + j`); `rows` must hold every
/// section's last sample. Returns where each lane stopped (an unused
/// lane's stop is the default).
///
/// # Panics
/// If `rows` is too short or [`runs_here`] is false.
pub(super) fn rice8(
    lanes: &[Option<Section<'_>>; LANES],
    rows: &mut [[i64; LANES]],
) -> [Stop; LANES] {
    assert!(runs_here(), "the lockstep Rice decoder needs AVX-512 VBMI2");
    let longest = lanes
        .iter()
        .flatten()
        .map(|s| s.order + s.codes)
        .max()
        .unwrap_or(0);
    assert!(rows.len() >= longest, "rows for every code");
    // SAFETY: the CPU runs the kernel (asserted above); rows are checked.
    unsafe { lockstep(lanes, &mut rows[..longest]) }
}

/// Moves each lane's codes out of the rows: `rows[t][l]` to `outs[l][t]`
/// for `t` in `ranges[l]` (within both); eight rows at a time, transposed
/// in registers, each stored whole where its range allows.
///
/// # Panics
/// If a range reaches past its slice or past `rows`, or [`runs_here`] is
/// false.
pub(super) fn columns(
    rows: &[[i64; LANES]],
    outs: &mut [&mut [i64]; LANES],
    ranges: &[std::ops::Range<usize>; LANES],
) {
    assert!(runs_here(), "the lockstep Rice decoder needs AVX-512 VBMI2");
    for (out, range) in outs.iter().zip(ranges) {
        assert!(range.is_empty() || (range.end <= out.len() && range.end <= rows.len()));
    }
    // SAFETY: the CPU runs AVX-512F (asserted above); ranges are checked.
    unsafe { columns_avx512(rows, outs, ranges) }
}

#[target_feature(enable = "avx512f")]
unsafe fn columns_avx512(
    rows: &[[i64; LANES]],
    outs: &mut [&mut [i64]; LANES],
    ranges: &[std::ops::Range<usize>; LANES],
) {
    let used = ranges.iter().filter(|r| !r.is_empty());
    let (Some(lo), Some(hi)) = (
        used.clone().map(|r| r.start).min(),
        used.map(|r| r.end).max(),
    ) else {
        return;
    };
    let mut at = lo / LANES * LANES;
    while at < hi {
        let mut vectors = [_mm512_setzero_si512(); LANES];
        for (i, v) in vectors.iter_mut().enumerate() {
            if let Some(row) = rows.get(at + i) {
                *v = _mm512_loadu_si512(row.as_ptr().cast());
            }
        }
        for ((out, range), column) in outs
            .iter_mut()
            .zip(ranges)
            .zip(crate::codec::lpc::transpose8(vectors))
        {
            // the places of this block inside the lane's range
            let from = range.start.clamp(at, at + LANES) - at;
            let to = range.end.clamp(at, at + LANES) - at;
            if from >= to {
                continue;
            }
            let mask = ((1u32 << to) - (1u32 << from)) as __mmask8;
            // SAFETY: `at` < `range.end` <= `out.len()`, and the masked
            // store writes only places below `at + to` <= `range.end`.
            _mm512_mask_storeu_epi64(out.as_mut_ptr().add(at), mask, column);
        }
        at += LANES;
    }
}

/// The byte order of each 64-bit word reversed (big-endian words).
#[inline(always)]
unsafe fn swap_words(v: __m512i) -> __m512i {
    let reverse = _mm512_set_epi64(
        0x08090a0b0c0d0e0f,
        0x0001020304050607,
        0x08090a0b0c0d0e0f,
        0x0001020304050607,
        0x08090a0b0c0d0e0f,
        0x0001020304050607,
        0x08090a0b0c0d0e0f,
        0x0001020304050607,
    );
    _mm512_shuffle_epi8(v, reverse)
}

/// A vector of eight lanes' numbers.
#[inline(always)]
unsafe fn vector(values: [i64; LANES]) -> __m512i {
    _mm512_loadu_si512(values.as_ptr().cast())
}

/// A vector's eight numbers.
#[inline(always)]
unsafe fn numbers(v: __m512i) -> [i64; LANES] {
    let mut out = [0i64; LANES];
    _mm512_storeu_si512(out.as_mut_ptr().cast(), v);
    out
}

/// The kernel's per-lane state between steps.
#[derive(Clone, Copy)]
struct Window {
    w: [__m512i; WORDS],
    /// Address of the word after the window.
    next: __m512i,
    /// Bit offset in `w0`.
    p: __m512i,
}

impl Window {
    /// Lane `lane`'s bit position in its section's data.
    unsafe fn bit(&self, lane: usize, data: &[u8]) -> usize {
        let next = numbers(self.next)[lane] as usize;
        let p = numbers(self.p)[lane] as usize;
        (next - 8 * WORDS - data.as_ptr() as usize) * 8 + p
    }

    /// Asks for each lane's data [`PREFETCH_AHEAD`] bytes on (the gathers
    /// read eight places at once, which the CPU's own prefetching does
    /// not follow as it follows one stream of loads).
    #[inline(always)]
    unsafe fn prefetch(&self) {
        for at in numbers(self.next) {
            // (a prefetch never faults, wherever it points)
            _mm_prefetch::<_MM_HINT_T0>((at as usize).wrapping_add(PREFETCH_AHEAD) as *const i8);
        }
    }

    /// The 64 bits at each lane's offset.
    #[inline(always)]
    unsafe fn top(&self) -> __m512i {
        _mm512_shldv_epi64(self.w[0], self.w[1], self.p)
    }

    /// Moves the lanes of `advance` on by a word, gathering their next one.
    /// The caller makes sure each such lane's next word lies in its data.
    #[inline(always)]
    unsafe fn advance(&mut self, advance: __mmask8, gatherable: __mmask8) {
        let sixty_four = _mm512_set1_epi64(64);
        // (merged into zeros, not into the window: each gather would
        // otherwise wait for the one before)
        let gathered = _mm512_mask_i64gather_epi64::<1>(
            _mm512_setzero_si512(),
            gatherable,
            self.next,
            std::ptr::null(),
        );
        for i in 0..WORDS - 1 {
            self.w[i] = _mm512_mask_mov_epi64(self.w[i], advance, self.w[i + 1]);
        }
        self.w[WORDS - 1] = _mm512_mask_mov_epi64(self.w[WORDS - 1], advance, swap_words(gathered));
        self.next = _mm512_mask_add_epi64(self.next, advance, self.next, _mm512_set1_epi64(8));
        self.p = _mm512_mask_sub_epi64(self.p, advance, self.p, sixty_four);
    }
}

/// Lanes of `mask` as indices.
fn lanes_of(mask: __mmask8) -> impl Iterator<Item = usize> {
    (0..LANES).filter(move |l| mask & (1 << l) != 0)
}

#[target_feature(enable = "avx512f,avx512cd,avx512bw,avx512vbmi2")]
unsafe fn lockstep(
    lanes: &[Option<Section<'_>>; LANES],
    rows: &mut [[i64; LANES]],
) -> [Stop; LANES] {
    let mut stops = [Stop::default(); LANES];
    // the lanes decoding, and those to join at their first residual; a
    // lane leaves once its stop is written
    let mut active: __mmask8 = 0;
    let mut waiting: __mmask8 = 0;
    let mut start = [0i64; LANES];
    let mut words = [[0i64; LANES]; WORDS];
    let mut offset = [0i64; LANES];
    // last address a word may be gathered from, per lane
    let mut limit = [0i64; LANES];
    // where each lane's residuals start and end (sample numbers)
    let mut begin = [0i64; LANES];
    let mut end = [0i64; LANES];
    let mut param_bits = [0i64; LANES];
    let mut per_partition = [0i64; LANES];
    let mut first_count = [0i64; LANES];
    for (lane, section) in lanes.iter().enumerate() {
        let Some(s) = section else { continue };
        stops[lane] = Stop {
            codes: 0,
            bit: s.bit,
            k: None,
        };
        let byte = s.bit / 8;
        // the scalar reader takes a section near the data's end, one
        // without codes, and a first partition without codes
        if s.codes == 0 || s.order >= s.per_partition || byte + 8 * WORDS > s.data.len() {
            continue;
        }
        let at = s.data.as_ptr() as usize + byte;
        start[lane] = (at + 8 * WORDS) as i64;
        for (w, word) in words.iter_mut().enumerate() {
            let bytes = &s.data[byte + 8 * w..byte + 8 * w + 8];
            word[lane] = i64::from_be_bytes(bytes.try_into().expect("8 bytes"));
        }
        offset[lane] = (s.bit % 8) as i64;
        limit[lane] = (s.data.as_ptr() as usize + s.data.len() - 8) as i64;
        begin[lane] = s.order as i64;
        end[lane] = (s.order + s.codes) as i64;
        param_bits[lane] = i64::from(s.param_bits);
        per_partition[lane] = s.per_partition as i64;
        first_count[lane] = (s.per_partition - s.order) as i64;
        waiting |= 1 << lane;
    }
    let data = |lane: usize| lanes[lane].as_ref().map_or(&[][..], |s| s.data);
    let mut window = Window {
        w: words.map(|word| vector(word)),
        next: vector(start),
        p: vector(offset),
    };
    let limit = vector(limit);
    let begin = vector(begin);
    let end = vector(end);
    let param_bits = vector(param_bits);
    let escape = _mm512_sub_epi64(
        _mm512_sllv_epi64(_mm512_set1_epi64(1), param_bits),
        _mm512_set1_epi64(1),
    );
    let per_partition = vector(per_partition);
    let first_count = vector(first_count);
    let sixty_four = _mm512_set1_epi64(64);
    let mut k = _mm512_setzero_si512();
    // codes left in each lane's partition
    let mut left = _mm512_setzero_si512();
    // the sample whose residuals the next step reads
    let mut t = 0usize;
    while active | waiting != 0 {
        let now = _mm512_set1_epi64(t as i64);
        let joining = _mm512_mask_cmpeq_epi64_mask(waiting, begin, now);
        waiting &= !joining;
        active |= joining;
        // lanes whose partition is used up: done, or at a parameter
        let spent = _mm512_mask_cmpeq_epi64_mask(active, left, _mm512_setzero_si512());
        if spent != 0 {
            let done = _mm512_mask_cmpeq_epi64_mask(spent, end, now);
            let param = _mm512_srlv_epi64(window.top(), _mm512_sub_epi64(sixty_four, param_bits));
            let escaped = _mm512_mask_cmpeq_epi64_mask(spent & !done, param, escape);
            for lane in lanes_of(done | escaped) {
                stops[lane] = Stop {
                    codes: t - numbers(begin)[lane] as usize,
                    bit: window.bit(lane, data(lane)),
                    k: None,
                };
            }
            active &= !(done | escaped);
            let need = spent & !(done | escaped);
            k = _mm512_mask_mov_epi64(k, need, param);
            let count = _mm512_mask_mov_epi64(per_partition, joining, first_count);
            left = _mm512_mask_mov_epi64(left, need, count);
            window.p = _mm512_mask_add_epi64(window.p, need, window.p, param_bits);
            let advance = _mm512_mask_cmpge_epi64_mask(need, window.p, sixty_four);
            let stuck = _mm512_mask_cmpgt_epi64_mask(advance, window.next, limit);
            for lane in lanes_of(stuck) {
                stops[lane] = Stop {
                    codes: t - numbers(begin)[lane] as usize,
                    bit: window.bit(lane, data(lane)),
                    k: Some(numbers(k)[lane] as u32),
                };
            }
            active &= !stuck;
            window.advance(advance & !stuck, advance & !stuck);
        }
        // steps until some lane's partition is used up or a lane joins
        let to_join = _mm512_mask_reduce_min_epu64(waiting, _mm512_sub_epi64(begin, now));
        let steps = (_mm512_mask_reduce_min_epu64(active, left).min(to_join)) as usize;
        if active == 0 {
            t += steps;
            continue;
        }
        let mut step = 0;
        while step < steps {
            let run = codes(
                &mut window,
                active,
                k,
                limit,
                &mut rows[t + step..t + steps],
            );
            step += run.steps;
            for lane in lanes_of(run.refused) {
                // stopped before the code of this step, left to the scalar reader
                stops[lane] = Stop {
                    codes: t + step - numbers(begin)[lane] as usize,
                    bit: window.bit(lane, data(lane)),
                    k: Some(numbers(k)[lane] as u32),
                };
            }
            for lane in lanes_of(run.stuck) {
                // stopped after its code of the last step, at its data's end
                let rest = numbers(left)[lane] as usize - step;
                stops[lane] = Stop {
                    codes: t + step - numbers(begin)[lane] as usize,
                    bit: window.bit(lane, data(lane)),
                    k: (rest > 0).then(|| numbers(k)[lane] as u32),
                };
            }
            active &= !(run.refused | run.stuck);
            if active == 0 {
                break;
            }
        }
        t += steps;
        left = _mm512_mask_sub_epi64(left, active, left, _mm512_set1_epi64(steps as i64));
    }
    stops
}

/// How a run of [`codes`] ended.
struct Run {
    /// Steps completed.
    steps: usize,
    /// Lanes whose code at the next step the kernel refuses (nothing of
    /// that step was applied, in any lane).
    refused: __mmask8,
    /// Lanes that read their code at the last step completed but whose
    /// window could not move on (the end of their data).
    stuck: __mmask8,
}

/// The hot loop: one code per lane of `active` (with parameters `k`) per
/// row of `rows`, stopping early at a lane the kernel cannot go on with.
#[inline(always)]
unsafe fn codes(
    window: &mut Window,
    active: __mmask8,
    k: __m512i,
    limit: __m512i,
    rows: &mut [[i64; LANES]],
) -> Run {
    let one = _mm512_set1_epi64(1);
    let sixty_four = _mm512_set1_epi64(64);
    let widest = _mm512_set1_epi64(i64::from(u32::MAX));
    let tail = _mm512_add_epi64(k, one);
    let down = _mm512_sub_epi64(sixty_four, k);
    let mut w = Window { ..*window };
    let mut run = Run {
        steps: rows.len(),
        refused: 0,
        stuck: 0,
    };
    for (step, row) in rows.iter_mut().enumerate() {
        if step % PREFETCH_EVERY == 0 {
            w.prefetch();
        }
        let top = w.top();
        let zeros = _mm512_lzcnt_epi64(top);
        let remainder =
            _mm512_srlv_epi64(_mm512_sllv_epi64(top, _mm512_add_epi64(zeros, one)), down);
        let value = _mm512_or_si512(_mm512_sllv_epi64(zeros, k), remainder);
        let used = _mm512_add_epi64(zeros, tail);
        let refused = _mm512_mask_cmpgt_epu64_mask(active, used, sixty_four)
            | _mm512_mask_cmpgt_epu64_mask(active, value, widest);
        if refused != 0 {
            run = Run {
                steps: step,
                refused,
                stuck: 0,
            };
            break;
        }
        _mm512_storeu_si512(row.as_mut_ptr().cast(), value);
        w.p = _mm512_mask_add_epi64(w.p, active, w.p, used);
        let advance = _mm512_mask_cmpge_epi64_mask(active, w.p, sixty_four);
        let far = _mm512_cmpgt_epi64_mask(w.next, limit);
        let stuck = advance & far;
        w.advance(advance & !stuck, active & !far);
        if stuck != 0 {
            run = Run {
                steps: step + 1,
                refused: 0,
                stuck,
            };
            break;
        }
    }
    *window = w;
    run
}

#[cfg(test)]
mod tests {
    use super::super::bits::BitReader;
    use super::super::subframe::{read_partitions, read_rest, Partitions};
    use super::*;

    /// Bits written MSB first.
    #[derive(Default)]
    struct Writer {
        bytes: Vec<u8>,
        bits: usize,
    }

    impl Writer {
        fn put(&mut self, value: u64, n: u32) {
            for i in (0..n).rev() {
                if self.bits.is_multiple_of(8) {
                    self.bytes.push(0);
                }
                let bit = ((value >> i) & 1) as u8;
                *self.bytes.last_mut().expect("a byte") |= bit << (7 - self.bits % 8);
                self.bits += 1;
            }
        }

        fn zeros(&mut self, n: u64) {
            for _ in 0..n {
                self.put(0, 1);
            }
        }
    }

    /// A residual section of random partitions after `lead` bits of
    /// padding: Rice parameters of every size, escaped partitions, and now
    /// and then a code longer than 64 bits or worth more than 32 bits
    /// (which the scalar reader refuses).
    fn section(
        next: &mut impl FnMut() -> u64,
        lead: u32,
        order: usize,
        partitions: &Partitions,
    ) -> Vec<u8> {
        let mut w = Writer::default();
        w.put(0, lead);
        let escape = (1u64 << partitions.param_bits) - 1;
        for p in 0..partitions.count {
            let count = partitions.per_partition - if p == 0 { order } else { 0 };
            let k = if next().is_multiple_of(9) {
                escape
            } else {
                next() % escape.min(25)
            };
            w.put(k, partitions.param_bits);
            if k == escape {
                let raw = (next() % 33) as u32;
                w.put(u64::from(raw), 5);
                for _ in 0..count {
                    w.put(next(), raw);
                }
                continue;
            }
            for _ in 0..count {
                let r = next();
                let quotient = match r % 500 {
                    0 => 70 + r % 40,
                    1 if k >= 20 => (u64::from(u32::MAX) >> k) + 1,
                    2..=40 => (r >> 9) % 30,
                    _ => (r >> 9) % 3,
                };
                w.zeros(quotient);
                w.put(1, 1);
                w.put(r >> 20, k as u32);
            }
        }
        // some sections end right after their codes
        if !next().is_multiple_of(3) {
            w.put(next(), 64);
        }
        w.bytes
    }

    #[test]
    fn lockstep_then_scalar_reads_what_the_scalar_reader_reads() {
        if !runs_here() {
            return;
        }
        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1d);
        let mut stopped_early = 0;
        for round in 0..300 {
            let block = [16usize, 192, 576, 1024, 4096][round % 5];
            let mut datas = Vec::new();
            let mut shapes = Vec::new();
            for _ in 0..LANES {
                let count = 1usize << (next() % 5).min(block.trailing_zeros() as u64);
                let per_partition = block / count;
                let order = (next() % 33).min(per_partition as u64) as usize;
                let partitions = Partitions {
                    param_bits: if next().is_multiple_of(2) { 4 } else { 5 },
                    count,
                    per_partition,
                };
                let lead = (next() % 8) as u32;
                datas.push(section(&mut next, lead, order, &partitions));
                shapes.push((lead, order, partitions));
            }
            let used = next() as usize % (LANES + 1);
            let lanes: [Option<Section<'_>>; LANES] = std::array::from_fn(|l| {
                let (lead, order, partitions) = shapes[l];
                (l < used.max(1)).then(|| Section {
                    data: &datas[l],
                    bit: lead as usize,
                    param_bits: partitions.param_bits,
                    per_partition: partitions.per_partition,
                    order,
                    codes: block - order,
                })
            });
            let mut rows = vec![[0i64; LANES]; block];
            let stops = rice8(&lanes, &mut rows);
            for (l, section) in lanes.iter().enumerate() {
                let Some(s) = section else {
                    assert_eq!(stops[l], Stop::default());
                    continue;
                };
                let (_, order, partitions) = shapes[l];
                // the scalar reader alone
                let mut alone = vec![0i64; block];
                let mut r = BitReader::new(s.data, 0);
                r.skip(s.bit as u64).unwrap();
                let expected = read_partitions(&mut r, &partitions, order, block, &mut alone, 0)
                    .map(|()| r.bit_position());
                // the kernel's codes, then the scalar reader from its stop
                let stop = stops[l];
                assert!(stop.codes <= s.codes);
                stopped_early += usize::from(stop.codes < s.codes);
                let mut both = vec![0i64; block];
                for (slot, row) in both[order..order + stop.codes]
                    .iter_mut()
                    .zip(&rows[order..])
                {
                    *slot = row[l];
                }
                let mut r = BitReader::new(s.data, 0);
                r.seek(stop.bit).unwrap();
                let got = read_rest(&mut r, &partitions, order, &mut both, stop.codes, stop.k)
                    .map(|()| r.bit_position());
                match (expected, got) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a, b, "round {round} lane {l}: end");
                        assert_eq!(alone[order..], both[order..], "round {round} lane {l}");
                    }
                    (Err(_), Err(_)) => {}
                    (a, b) => panic!("round {round} lane {l}: alone {a:?}, lockstep {b:?}"),
                }
            }
        }
        // the cases the scalar reader takes over were met
        assert!(stopped_early > 100, "{stopped_early}");
    }

    #[test]
    fn codes_well_inside_their_data_are_all_read_in_lockstep() {
        if !runs_here() {
            return;
        }
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15);
        for round in 0..50 {
            let block = 4096;
            let partitions = Partitions {
                param_bits: 5,
                count: 1 << (round % 4),
                per_partition: block >> (round % 4),
            };
            let mut datas = Vec::new();
            let mut orders = Vec::new();
            for lane in 0..LANES {
                // short codes, then long ones (a word per code) in some lanes
                let long = lane % 3 == 0;
                let order = (next() % 33) as usize;
                let mut w = Writer::default();
                for p in 0..partitions.count {
                    let k = if long { 26 + next() % 3 } else { next() % 16 };
                    w.put(k, 5);
                    let count = partitions.per_partition - if p == 0 { order } else { 0 };
                    for _ in 0..count {
                        w.zeros(next() % 4);
                        w.put(1, 1);
                        w.put(next(), k as u32);
                    }
                }
                w.zeros(64 * 8);
                datas.push(w.bytes);
                orders.push(order);
            }
            let lanes: [Option<Section<'_>>; LANES] = std::array::from_fn(|l| {
                Some(Section {
                    data: &datas[l],
                    bit: 0,
                    param_bits: partitions.param_bits,
                    per_partition: partitions.per_partition,
                    order: orders[l],
                    codes: block - orders[l],
                })
            });
            let mut rows = vec![[0i64; LANES]; block];
            let stops = rice8(&lanes, &mut rows);
            for (l, stop) in stops.iter().enumerate() {
                assert_eq!(stop.codes, block - orders[l], "round {round} lane {l}");
                let mut alone = vec![0i64; block];
                let mut r = BitReader::new(&datas[l], 0);
                read_partitions(&mut r, &partitions, orders[l], block, &mut alone, 0).unwrap();
                assert_eq!(stop.bit, r.bit_position(), "round {round} lane {l}");
                let lockstep: Vec<i64> = rows[orders[l]..].iter().map(|row| row[l]).collect();
                assert_eq!(lockstep, alone[orders[l]..], "round {round} lane {l}");
            }
        }
    }
}
