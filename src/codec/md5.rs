//! MD5 (RFC 1321), and the digest of samples that FLAC's STREAMINFO holds.
//!
//! Our own: the streams' digests are a large share of encoding time, and
//! this one is a little faster than the crates we measured, and hashes
//! several streams side by side ([`sample_digests`]).

use crate::codec::Samples;

/// Per-step additive constants: `floor(abs(sin(i + 1)) * 2^32)`.
const K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// An MD5 hash fed a piece at a time.
#[derive(Clone)]
pub struct Md5 {
    state: [u32; 4],
    pending: [u8; 64],
    pending_len: usize,
    total: u64,
}

impl Default for Md5 {
    fn default() -> Self {
        Md5::new()
    }
}

impl Md5 {
    /// An empty hash.
    pub fn new() -> Self {
        Md5 {
            state: [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476],
            pending: [0; 64],
            pending_len: 0,
            total: 0,
        }
    }

    /// The digest of `bytes` in one call.
    ///
    /// ```
    /// let d = flacarray::codec::Md5::digest(b"abc");
    /// assert_eq!(d[..4], [0x90, 0x01, 0x50, 0x98]);
    /// ```
    pub fn digest(bytes: &[u8]) -> [u8; 16] {
        let mut h = Md5::new();
        h.update(bytes);
        h.finish()
    }

    /// Adds `bytes`.
    pub fn update(&mut self, mut bytes: &[u8]) {
        self.total = self.total.wrapping_add(bytes.len() as u64);
        if self.pending_len > 0 {
            let take = (64 - self.pending_len).min(bytes.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&bytes[..take]);
            self.pending_len += take;
            bytes = &bytes[take..];
            if self.pending_len < 64 {
                return;
            }
            let block = self.pending;
            compress(&mut self.state, &block);
            self.pending_len = 0;
        }
        let mut blocks = bytes.chunks_exact(64);
        for block in &mut blocks {
            compress(&mut self.state, block.try_into().expect("64 bytes"));
        }
        let rest = blocks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    /// The digest of everything added.
    pub fn finish(mut self) -> [u8; 16] {
        let (tail, len) = padding(self.total);
        self.update(&tail[..len]);
        digest_bytes(self.state)
    }
}

/// MD5's end of a message of `total` bytes: a one bit, zeros up to 56
/// bytes mod 64, and the length in bits; the bytes and how many of them.
fn padding(total: u64) -> ([u8; 72], usize) {
    let mut tail = [0u8; 72];
    tail[0] = 0x80;
    let pending = (total % 64) as usize;
    let zeros_to = if pending < 56 { 56 } else { 120 };
    let len = zeros_to - pending;
    tail[len..len + 8].copy_from_slice(&total.wrapping_mul(8).to_le_bytes());
    (tail, len + 8)
}

/// The digest of a finished state: its words, little-endian.
fn digest_bytes(state: [u32; 4]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (bytes, word) in out.chunks_exact_mut(4).zip(state) {
        bytes.copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// One 64-byte block into the state.
#[inline(always)]
fn compress(state: &mut [u32; 4], block: &[u8; 64]) {
    let mut lanes = state.map(|word| [word]);
    compress_lanes(&mut lanes, [block]);
    *state = lanes.map(|[word]| word);
}

/// One 64-byte block into each of `N` independent states (`state[k][lane]`
/// is word k of lane `lane`): four rounds of sixteen steps, each step done
/// for every lane before the next. With one lane this is the plain MD5
/// compression; with several, the lanes' dependency chains run side by
/// side (one chain alone leaves most of a core idle), and with eight lanes
/// of 32 bits, AVX2 runs a step for all of them in one instruction each.
#[inline(always)]
fn compress_lanes<const N: usize>(state: &mut [[u32; N]; 4], blocks: [&[u8; 64]; N]) {
    let mut m = [[0u32; N]; 16];
    for (lane, block) in blocks.iter().enumerate() {
        for (g, bytes) in block.chunks_exact(4).enumerate() {
            m[g][lane] = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
    }
    let [mut a, mut b, mut c, mut d] = *state;
    // a = b + ((a + f(b, c, d) + K[i] + m[g]) <<< s), with the sum of the
    // parts that do not wait for b taken first
    macro_rules! step {
        ($f:expr, $a:ident, $b:ident, $c:ident, $d:ident, $i:expr, $g:expr, $s:expr) => {
            for lane in 0..N {
                $a[lane] = $a[lane]
                    .wrapping_add(K[$i].wrapping_add(m[$g][lane]))
                    .wrapping_add($f($b[lane], $c[lane], $d[lane]))
                    .rotate_left($s)
                    .wrapping_add($b[lane]);
            }
        };
    }
    macro_rules! round {
        ($f:expr, $index:expr, $shifts:expr) => {
            for quad in 0..4 {
                let i = 16 * ($index) + 4 * quad;
                step!($f, a, b, c, d, i, word($index, i), $shifts[0]);
                step!($f, d, a, b, c, i + 1, word($index, i + 1), $shifts[1]);
                step!($f, c, d, a, b, i + 2, word($index, i + 2), $shifts[2]);
                step!($f, b, c, d, a, i + 3, word($index, i + 3), $shifts[3]);
            }
        };
    }
    round!(
        |x: u32, y: u32, z: u32| z ^ (x & (y ^ z)),
        0,
        [7, 12, 17, 22]
    );
    round!(
        |x: u32, y: u32, z: u32| (y & !z).wrapping_add(x & z),
        1,
        [5, 9, 14, 20]
    );
    round!(|x: u32, y: u32, z: u32| x ^ y ^ z, 2, [4, 11, 16, 23]);
    round!(|x: u32, y: u32, z: u32| y ^ (x | !z), 3, [6, 10, 15, 21]);
    for (words, new) in state.iter_mut().zip([a, b, c, d]) {
        for (w, v) in words.iter_mut().zip(new) {
            *w = w.wrapping_add(v);
        }
    }
}

/// Streams hashed side by side: the lanes of [`compress_lanes`].
pub(crate) const LANES: usize = 8;

vectorized! {
    /// [`compress_lanes`] over `blocks` consecutive 64-byte blocks of each
    /// lane's bytes.
    fn compress_lanes_run(
        state: &mut [[u32; LANES]; 4],
        bytes: [&[u8]; LANES],
        blocks: usize
    ) -> () = compress_lanes_run_body;
}

#[inline(always)]
fn compress_lanes_run_body(state: &mut [[u32; LANES]; 4], bytes: [&[u8]; LANES], blocks: usize) {
    for b in 0..blocks {
        let block =
            bytes.map(|lane| <&[u8; 64]>::try_from(&lane[64 * b..64 * (b + 1)]).expect("64 bytes"));
        compress_lanes(state, block);
    }
}

/// The message word step `i` of round `round` reads.
#[inline(always)]
const fn word(round: usize, i: usize) -> usize {
    match round {
        0 => i,
        1 => (5 * i + 1) % 16,
        2 => (3 * i + 5) % 16,
        _ => (7 * i) % 16,
    }
}

/// The MD5 of samples as FLAC defines it: interleaved channels, each
/// sample in the little-endian bytes of the stream's width (bits per
/// sample rounded up to whole bytes).
/// The bytes are packed into a buffer the caller lends (and may reuse
/// from stream to stream).
pub(crate) struct SampleDigest {
    hash: Md5,
    width: usize,
}

impl SampleDigest {
    /// A digest of samples of `bits_per_sample` bits.
    pub(crate) fn new(bits_per_sample: u32) -> Self {
        SampleDigest {
            hash: Md5::new(),
            width: width_of(bits_per_sample),
        }
    }

    /// Adds samples, a piece at a time through `packed`.
    pub(crate) fn add(&mut self, samples: Samples<'_>, packed: &mut Vec<u8>) {
        let per_piece = PIECE_BYTES / frame_bytes(samples, self.width);
        let n = samples.len();
        for start in (0..n).step_by(per_piece) {
            pack(
                samples.range(start..n.min(start + per_piece)),
                self.width,
                packed,
            );
            self.hash.update(packed);
        }
    }

    /// The 16 bytes STREAMINFO holds.
    pub(crate) fn finish(self) -> [u8; 16] {
        self.hash.finish()
    }
}

/// The FLAC MD5 of each stream's samples (`(samples, bits per sample)`)
/// into `out`, up to eight streams hashed side by side: the whole pieces
/// every stream of a group has are hashed in lockstep, then the rests (with
/// MD5's padding) in lockstep too when they are as long, else one stream
/// at a time. `packed` holds one piece per lane.
pub(crate) fn sample_digests(
    streams: &[(Samples<'_>, u32)],
    out: &mut [[u8; 16]],
    packed: &mut [Vec<u8>; LANES],
) {
    for (group, digests) in streams.chunks(LANES).zip(out.chunks_mut(LANES)) {
        if group.len() == 1 {
            let (samples, bps) = group[0];
            let mut digest = SampleDigest::new(bps);
            digest.add(samples, &mut packed[0]);
            digests[0] = digest.finish();
            continue;
        }
        let mut widths = [0; LANES];
        let mut per_piece = [0; LANES];
        for (lane, &(samples, bps)) in group.iter().enumerate() {
            widths[lane] = width_of(bps);
            per_piece[lane] = PIECE_BYTES / frame_bytes(samples, widths[lane]);
        }
        let common = group
            .iter()
            .zip(&per_piece)
            .map(|(&(samples, _), &p)| samples.len() / p)
            .min()
            .unwrap_or(0);
        let mut state = Md5::new().state.map(|word| [word; LANES]);
        for piece in 0..common {
            for (lane, (&(samples, _), &p)) in group.iter().zip(&per_piece).enumerate() {
                pack(
                    samples.range(piece * p..(piece + 1) * p),
                    widths[lane],
                    &mut packed[lane],
                );
            }
            compress_lanes_run(
                &mut state,
                lane_bytes(packed, group.len()),
                PIECE_BYTES / 64,
            );
        }
        // each stream's rest, padded as MD5 ends a message: side by side
        // when every padded rest has as many blocks (streams of one length),
        // else one lane at a time
        for (lane, (&(samples, _), &p)) in group.iter().zip(&per_piece).enumerate() {
            let rest = &mut packed[lane];
            pack(samples.range(common * p..samples.len()), widths[lane], rest);
            let (tail, len) = padding((common * PIECE_BYTES + rest.len()) as u64);
            rest.extend_from_slice(&tail[..len]);
        }
        let blocks = packed[0].len() / 64;
        if packed[..group.len()]
            .iter()
            .all(|rest| rest.len() == blocks * 64)
        {
            compress_lanes_run(&mut state, lane_bytes(packed, group.len()), blocks);
        } else {
            for (lane, rest) in packed[..group.len()].iter().enumerate() {
                let mut words = [0, 1, 2, 3].map(|k| state[k][lane]);
                for block in rest.chunks_exact(64) {
                    compress(&mut words, block.try_into().expect("64 bytes"));
                }
                for (k, word) in words.into_iter().enumerate() {
                    state[k][lane] = word;
                }
            }
        }
        for (lane, digest) in digests[..group.len()].iter_mut().enumerate() {
            *digest = digest_bytes([0, 1, 2, 3].map(|k| state[k][lane]));
        }
    }
}

/// The bytes each lane hashes: `packed[lane]` for the first `used` lanes;
/// lanes without a stream hash the first lane's bytes again (their state
/// is never read).
fn lane_bytes(packed: &[Vec<u8>; LANES], used: usize) -> [&[u8]; LANES] {
    std::array::from_fn(|lane| &packed[if lane < used { lane } else { 0 }][..])
}

/// Bytes of one sample of `bits_per_sample` bits.
fn width_of(bits_per_sample: u32) -> usize {
    bits_per_sample.div_ceil(8).clamp(1, 4) as usize
}

/// Bytes of one sample of every channel.
fn frame_bytes(samples: Samples<'_>, width: usize) -> usize {
    samples.channels() * width
}

/// Bytes packed and hashed at a time (the buffer stays in cache): a whole
/// number of 64-byte blocks and of samples of every width and channel
/// count (1, 2, 3, 4, 6 and 8 bytes).
const PIECE_BYTES: usize = 3 << 12;

/// Packs `samples` at `width` bytes each into `out` (resized to fit).
fn pack(samples: Samples<'_>, width: usize, out: &mut Vec<u8>) {
    out.resize(samples.len() * frame_bytes(samples, width), 0);
    match (samples, width) {
        (Samples::One(s), 1) => pack_words::<1>(s, out),
        (Samples::One(s), 2) => pack_words::<2>(s, out),
        (Samples::One(s), 3) => pack_words::<3>(s, out),
        (Samples::One(s), _) => pack_words::<4>(s, out),
        (Samples::Two(s), 1) => pack_pairs::<1>(s, out),
        (Samples::Two(s), 2) => pack_pairs::<2>(s, out),
        (Samples::Two(s), 3) => pack_pairs::<3>(s, out),
        (Samples::Two(s), _) => pack_pairs::<4>(s, out),
    }
}

/// Writes each word's `W` low bytes, little-endian, one after another.
#[inline(always)]
fn pack_words<const W: usize>(words: &[i32], out: &mut [u8]) {
    for (slot, w) in out.chunks_exact_mut(W).zip(words) {
        slot.copy_from_slice(&w.to_le_bytes()[..W]);
    }
}

/// Writes the `W` low bytes of each sample's low word, then of its high
/// word (the bytes of an `i64` are its low word's, then its high word's).
#[inline(always)]
fn pack_pairs<const W: usize>(samples: &[i64], out: &mut [u8]) {
    for (slot, v) in out.chunks_exact_mut(2 * W).zip(samples) {
        let bytes = v.to_le_bytes();
        slot[..W].copy_from_slice(&bytes[..W]);
        slot[W..].copy_from_slice(&bytes[4..4 + W]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(d: [u8; 16]) -> String {
        d.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rfc_1321_vectors() {
        let cases: [(&[u8], &str); 4] = [
            (b"", "d41d8cd98f00b204e9800998ecf8427e"),
            (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
            (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(hex(Md5::digest(input)), expected);
        }
    }

    #[test]
    fn pieces_of_any_size_give_the_same_digest() {
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let whole = Md5::digest(&bytes);
        for piece in [1, 3, 55, 56, 63, 64, 65, 127, 999] {
            let mut h = Md5::new();
            bytes.chunks(piece).for_each(|c| h.update(c));
            assert_eq!(h.finish(), whole, "pieces of {piece}");
        }
    }

    #[test]
    fn agrees_with_the_md5_crate() {
        let bytes: Vec<u8> = (0..5000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
            .collect();
        for len in (0..300).chain([4095, 4096, 4097, 5000]) {
            assert_eq!(
                Md5::digest(&bytes[..len]),
                md5::compute(&bytes[..len]).0,
                "{len} bytes"
            );
        }
    }
    #[test]
    fn streams_hashed_side_by_side_match_one_at_a_time() {
        let words: Vec<i32> = (0..40_000i32)
            .map(|i| i.wrapping_mul(2_654_435_761u32 as i32) >> 9)
            .collect();
        let wide: Vec<i64> = (0..40_000i64)
            .map(|i| i * 987_654_321 - (i << 20))
            .collect();
        // lengths around the piece size and its multiples (the longest first,
        // so that the groups share whole pieces), widths 1 to 4
        // bytes, one and two channels, groups of 1 to 9 streams
        let mut streams = Vec::new();
        for (k, len) in [40_000, 30_000, 12_289, 12_288, 4097, 4096, 4095, 1, 0]
            .into_iter()
            .enumerate()
        {
            let bps = [8, 16, 24, 32][k % 4];
            streams.push((Samples::One(&words[..len]), bps));
            streams.push((Samples::Two(&wide[..len]), bps));
        }
        for count in 1..=streams.len() {
            let group = &streams[..count];
            let mut out = vec![[0u8; 16]; count];
            sample_digests(group, &mut out, &mut Default::default());
            for (&(samples, bps), digest) in group.iter().zip(&out) {
                let mut alone = SampleDigest::new(bps);
                alone.add(samples, &mut Vec::new());
                assert_eq!(*digest, alone.finish(), "{count} streams");
            }
        }
        // streams of one length and width: their padded rests (one or two
        // blocks of padding, after whole pieces or none) hashed in lockstep
        for len in [0, 1, 27, 28, 32, 100, 12_288 + 70] {
            for lanes in [2, 3, 8] {
                let group: Vec<_> = (0..lanes)
                    .map(|k| (Samples::One(&words[k * 50..k * 50 + len]), 16))
                    .collect();
                let mut out = vec![[0u8; 16]; lanes];
                sample_digests(&group, &mut out, &mut Default::default());
                for (&(samples, bps), digest) in group.iter().zip(&out) {
                    let mut alone = SampleDigest::new(bps);
                    alone.add(samples, &mut Vec::new());
                    assert_eq!(*digest, alone.finish(), "{lanes} streams of {len}");
                }
            }
        }
        // the packing itself: 16-bit samples, little-endian
        let mut digest = SampleDigest::new(16);
        digest.add(Samples::One(&[1, -2]), &mut Vec::new());
        assert_eq!(digest.finish(), Md5::digest(&[1, 0, 0xFE, 0xFF]));
    }
}
