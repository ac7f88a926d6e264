//! The benchmark datasets (DEVELOPERS' facts §3), generated deterministically.
#![allow(dead_code)]

#[path = "../../tests/common/mod.rs"]
mod common;

use common::{timestream, Rng};
use flacarray::codec::{encode_group, encode_with, EncodeOptions, Encoder, Samples};
use flacarray::quantize::{quantize_f64, Step};

/// One benchmark dataset: flat C-ordered values plus shape.
pub enum Data {
    I32(Vec<i32>),
    I64(Vec<i64>),
    F64(Vec<f64>),
}

pub struct Dataset {
    pub id: &'static str,
    pub about: &'static str,
    pub shape: Vec<usize>,
    pub data: Data,
    /// Quantization step for float data.
    pub quanta: Option<f64>,
    /// Entropy of the noise in bits/sample, where known.
    pub bound: Option<f64>,
}

impl Dataset {
    pub fn input_bytes(&self) -> usize {
        match &self.data {
            Data::I32(v) => v.len() * 4,
            Data::I64(v) => v.len() * 8,
            Data::F64(v) => v.len() * 8,
        }
    }

    pub fn samples(&self) -> usize {
        self.shape.iter().product()
    }

    /// The dataset compressed with the default options (and its quanta).
    pub fn compress(&self) -> flacarray::FlacArray {
        let opts = flacarray::CompressOptions::default().with_step(
            self.quanta.map_or(flacarray::StepSpec::Range, |q| {
                flacarray::StepSpec::Quanta(vec![q])
            }),
        );
        match &self.data {
            Data::I32(v) => flacarray::FlacArray::compress(v, &self.shape, &opts),
            Data::I64(v) => flacarray::FlacArray::compress(v, &self.shape, &opts),
            Data::F64(v) => flacarray::FlacArray::compress(v, &self.shape, &opts),
        }
        .expect("benchmark data compresses")
    }
}

fn gaussian_bound(sigma: f64) -> f64 {
    (sigma * (2.0 * std::f64::consts::PI * std::f64::consts::E).sqrt()).log2()
}

fn d2_like(seed: u64, streams: usize, n: usize) -> Vec<i64> {
    let mut rng = Rng::new(seed);
    (0..streams)
        .flat_map(|_| timestream(&mut rng, n, 1e6, 1e5, 100.0))
        .map(|v| v.round() as i64)
        .collect()
}

/// All datasets at full size (streams x 100,000 samples).
pub fn all() -> Vec<Dataset> {
    let n = 100_000;
    let mut rng = Rng::new(42);
    let d5: Vec<i32> = (0..200 * n)
        .map(|_| (rng.normal() * 1000.0).round() as i32)
        .collect();
    let d3: Vec<i32> = (0..20 * n).map(|_| rng.next_u64() as i32).collect();
    let d4: Vec<i64> = d2_like(4, 50, n)
        .into_iter()
        .map(|v| v * (1 << 20) + (rng.normal() * 1000.0) as i64)
        .collect();
    let d1: Vec<f64> = (0..100)
        .flat_map(|_| {
            let dc = 5.0 * (rng.uniform() - 0.5);
            let amp = 6.0 * rng.uniform();
            timestream(&mut rng, n, dc, amp, 1.0)
        })
        .collect();
    vec![
        Dataset {
            id: "D1",
            about: "float64 timestreams, sigma 1, quanta 1e-3",
            shape: vec![100, n],
            data: Data::F64(d1),
            quanta: Some(1e-3),
            bound: Some(gaussian_bound(1000.0)),
        },
        Dataset {
            id: "D2",
            about: "int32 DC 1e6 + sine 1e5 + Gaussian sigma 100",
            shape: vec![200, n],
            data: Data::I32(d2_like(2, 200, n).into_iter().map(|v| v as i32).collect()),
            quanta: None,
            bound: Some(gaussian_bound(100.0)),
        },
        Dataset {
            id: "D3",
            about: "int32 uniform over the full range",
            shape: vec![20, n],
            data: Data::I32(d3),
            quanta: None,
            bound: Some(32.0),
        },
        Dataset {
            id: "D4",
            about: "int64 D2 x 2^20 + noise",
            shape: vec![50, n],
            data: Data::I64(d4),
            quanta: None,
            bound: None,
        },
        Dataset {
            id: "D5",
            about: "int32 Gaussian sigma 1000",
            shape: vec![200, n],
            data: Data::I32(d5),
            quanta: None,
            bound: Some(gaussian_bound(1000.0)),
        },
    ]
}

/// A dataset's streams as integers (floats quantized as the array layer
/// does it), for the encoder benchmarks.
pub enum Streams {
    One(Vec<Vec<i32>>),
    Two(Vec<Vec<i64>>),
}

impl Streams {
    pub fn of(ds: &Dataset) -> Streams {
        let n = *ds.shape.last().expect("a shape");
        match &ds.data {
            Data::I32(v) => Streams::One(v.chunks(n).map(<[i32]>::to_vec).collect()),
            Data::I64(v) => Streams::Two(v.chunks(n).map(<[i64]>::to_vec).collect()),
            Data::F64(v) => Streams::Two(
                v.chunks(n)
                    .map(|s| {
                        let mut ints = vec![0i64; n];
                        let step = Step::Quanta(ds.quanta.unwrap_or(1e-3));
                        quantize_f64(s, step, &mut ints).expect("quantizes");
                        ints
                    })
                    .collect(),
            ),
        }
    }

    pub fn samples(&self) -> Vec<Samples<'_>> {
        match self {
            Streams::One(s) => s.iter().map(|x| Samples::One(x)).collect(),
            Streams::Two(s) => s.iter().map(|x| Samples::Two(x)).collect(),
        }
    }
}

/// Bytes of every stream encoded by `encoder`, one at a time.
pub fn encode_one_by_one(
    samples: &[Samples<'_>],
    encoder: Encoder,
    options: &EncodeOptions,
) -> usize {
    let mut out = Vec::new();
    let mut bytes = 0;
    for &s in samples {
        out.clear();
        encode_with(encoder, s, options, &mut out).expect("encodes");
        bytes += out.len();
    }
    bytes
}

/// Bytes of every stream encoded by ours eight at a time (`encode_group`,
/// their MD5s side by side), as `FlacArray::compress` does.
pub fn encode_in_groups(samples: &[Samples<'_>], options: &EncodeOptions) -> usize {
    let (mut out, mut ends) = (Vec::new(), Vec::new());
    let mut bytes = 0;
    for group in samples.chunks(8) {
        out.clear();
        ends.clear();
        encode_group(group, options, &mut out, &mut ends).expect("encodes");
        bytes += out.len();
    }
    bytes
}
