//! The digest our writers record beside an array's small tables, so that
//! damage to them is an error instead of other values.
//!
//! FLAC bytes check themselves (CRC-8 and CRC-16 per frame, and the MD5 of
//! the samples), but the metadata around them does not: a stream's start or
//! length, an offset or gain, a shape or a type name. Every container we
//! write records this digest over them (the HDF5/zarr group attribute
//! `flacarray_digest`, the Arrow field metadata `flacarray.digest`, the
//! Zarr codec chunk's header), and every reader recomputes it from what it
//! read. It guards against damage, not against someone rewriting it on
//! purpose.
//!
//! ```
//! use flacarray::digest::{parse, table_digest};
//! use flacarray::DType;
//!
//! let digest = table_digest(DType::Float32, &[2, 100], 5, &[0, 60], &[60, 58], Some(&[0.5, 1.5]), Some(&[10.0, 10.0]));
//! assert_eq!(parse(&digest), Some(digest.clone()));
//! let other = table_digest(DType::Float32, &[2, 100], 5, &[0, 60], &[60, 58], Some(&[0.5, 1.25]), Some(&[10.0, 10.0]));
//! assert_ne!(digest, other);
//! ```

use crate::array::DType;
use crate::codec::Md5;

/// The digest of an array's layout and tables: MD5 over the type, the full
/// shape, the level, then each stream's start and byte count (64-bit
/// integers, little-endian; empty where a container has no such table) and
/// each stream's offset and gain (in the data's float type), written as
/// `md5:` and 32 lowercase hexadecimal digits.
pub fn table_digest(
    dtype: DType,
    shape: &[usize],
    level: u32,
    starts: &[i64],
    nbytes: &[i64],
    offsets: Option<&[f64]>,
    gains: Option<&[f64]>,
) -> String {
    let mut digest = Hasher::new();
    digest.add(format!("flacarray tables 1\n{dtype}\n{shape:?}\n{level}\n").as_bytes());
    for &v in starts.iter().chain(nbytes) {
        digest.add(&v.to_le_bytes());
    }
    for &v in offsets.into_iter().chain(gains).flatten() {
        if dtype == DType::Float32 {
            digest.add(&(v as f32).to_le_bytes());
        } else {
            digest.add(&v.to_le_bytes());
        }
    }
    digest.finish()
}

/// A digest as written (`md5:` and 32 hexadecimal digits, either case), in
/// the form [`table_digest`] gives; `None` for anything else.
pub fn parse(text: &str) -> Option<String> {
    let hex = text.strip_prefix("md5:")?;
    (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("md5:{}", hex.to_ascii_lowercase()))
}

/// MD5 fed through a buffer (the tables come eight bytes at a time).
struct Hasher {
    hash: Md5,
    buffer: Vec<u8>,
}

impl Hasher {
    const BUFFER: usize = 1 << 16;

    fn new() -> Self {
        Hasher {
            hash: Md5::new(),
            buffer: Vec::with_capacity(Self::BUFFER),
        }
    }

    fn add(&mut self, bytes: &[u8]) {
        if self.buffer.len() + bytes.len() > Self::BUFFER {
            self.hash.update(&self.buffer);
            self.buffer.clear();
        }
        self.buffer.extend_from_slice(bytes);
    }

    fn finish(mut self) -> String {
        self.hash.update(&self.buffer);
        let hex: String = self
            .hash
            .finish()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("md5:{hex}")
    }
}
