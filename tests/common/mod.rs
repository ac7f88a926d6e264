//! Deterministic test data shared by the integration tests.
#![allow(dead_code)]

/// A small xorshift generator: reproducible data without extra crates.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// Slowly varying signal plus Gaussian noise, like a detector timestream.
pub fn timestream(rng: &mut Rng, n: usize, dc: f64, amplitude: f64, sigma: f64) -> Vec<f64> {
    let phase = rng.uniform() * 6.0;
    (0..n)
        .map(|i| dc + amplitude * (i as f64 * 2e-4 + phase).sin() + sigma * rng.normal())
        .collect()
}

pub fn int32_signal(seed: u64, nstreams: usize, n: usize) -> Vec<i32> {
    let mut rng = Rng::new(seed);
    (0..nstreams)
        .flat_map(|_| timestream(&mut rng, n, 1e6, 1e5, 100.0))
        .map(|v| v.round() as i32)
        .collect()
}

#[cfg(feature = "libflac")]
pub mod agreement;

/// The interleaved samples the pure-Rust `flac-codec` decodes from a
/// stream: an independent reader of what we write.
pub fn flac_codec_words(bytes: &[u8]) -> Vec<i32> {
    let mut reader = flac_codec::decode::FlacSampleReader::new(std::io::Cursor::new(bytes))
        .expect("flac-codec opens the stream");
    let mut out = Vec::new();
    reader
        .read_to_end(&mut out)
        .expect("flac-codec decodes the stream");
    out
}
