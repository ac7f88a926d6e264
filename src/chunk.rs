//! One chunk of a chunked array as self-describing bytes: the format of the
//! Zarr v3 codec `flacarray.flac` (zarr-python and zarrs alike).
//!
//! A chunk is an N-D block in C order whose last axis holds the streams, as
//! in a [`FlacArray`]: each last-axis vector becomes one FLAC stream. The
//! bytes are a small header, the per-stream tables, then the streams back
//! to back (all numbers little-endian):
//!
//! | bytes | what |
//! |---|---|
//! | 4 | magic `FLCK` |
//! | 1 | layout version, 3 |
//! | 1 | element type code ([`DType::code`]: 1 int32, 2 int64, 3 float32, 4 float64, ...) |
//! | 2 | zero |
//! | 8 | number of streams `n` (u64) |
//! | 8 | samples per stream (u64) |
//! | 8 n | each stream's length in bytes (u64) |
//! | 16 n | floats only: each stream's offset, then each stream's gain (f64) |
//! | 16 | MD5 of every byte above |
//! | … | the FLAC streams, in stream order: a stream that fits one frame as a frame row (see [`crate::codec::whole_stream`]) |
//!
//! The MD5 makes damage to the header and tables an error (the streams
//! check themselves: CRCs per frame, and they must fill the rest of the
//! chunk exactly). Layout 2, written by version 0.3.0, is the same with
//! every stream whole; layout 1, written by version 0.2.0, is layout 2
//! without the MD5. Both are still read.
//!
//! Integers are lossless; floats are quantized per stream as in
//! [`FlacArray::compress`] (a value is `offset + (1 / gain) * integer`). The chunk
//! does not record its shape: the array's metadata holds it, and decoding
//! checks that the streams fit it.
//!
//! ```
//! use flacarray::chunk::{decode_chunk_into, encode_chunk};
//! use flacarray::CompressOptions;
//!
//! let data: Vec<i32> = (0..2 * 3 * 100).map(|i| (i % 17) * 40).collect();
//! let bytes = encode_chunk(&data, &[2, 3, 100], &CompressOptions::default())?;
//! let mut window = vec![0i32; 6 * 10];
//! decode_chunk_into(&bytes, &[2, 3, 100], 40..50, &mut window)?;
//! assert_eq!(&window[..10], &data[40..50]);
//! # Ok::<(), flacarray::Error>(())
//! ```

use crate::array::{DType, Element, SampleWindow};
use crate::codec::Md5;
use crate::error::{Error, Result};
use crate::{CompressOptions, FlacArray, FlacArrayPartsRef, FlacArrayRef};

/// The first four bytes of every chunk.
pub const MAGIC: &[u8; 4] = b"FLCK";
/// The layout version this crate writes.
pub const LAYOUT_VERSION: u8 = 3;
/// The layout versions this crate reads.
pub const READABLE_LAYOUTS: [u8; 3] = [1, 2, 3];
/// Bytes before the per-stream tables.
const FIXED_HEADER: usize = 24;
/// Bytes of the header and tables' MD5 (layouts 2 and 3).
const DIGEST: usize = 16;

fn dtype_from_code(code: u8) -> Result<DType> {
    DType::from_code(code)
        .ok_or_else(|| Error::corrupt(format!("chunk: unknown element type code {code}")))
}

/// Compresses one chunk, `data` in C order with the given `shape` (last
/// axis: the streams), into the bytes described in the module docs.
/// NaN or infinite floats are an error naming the stream and sample.
pub fn encode_chunk<T: Element>(
    data: &[T],
    shape: &[usize],
    options: &CompressOptions,
) -> Result<Vec<u8>> {
    let array = FlacArray::compress(data, shape, options)?;
    chunk_bytes(&array)
}

/// The chunk bytes of a compressed array: its streams in stream order,
/// those that fit one frame as frame rows, after the header and tables.
fn chunk_bytes(array: &FlacArray) -> Result<Vec<u8>> {
    let n = array.nstreams();
    let (streams, ends) = array.view().stored_rows()?;
    let scales = array.stream_offsets().zip(array.stream_gains());
    let tables = n * 8 + if scales.is_some() { n * 16 } else { 0 };
    let mut out = Vec::with_capacity(FIXED_HEADER + tables + DIGEST + streams.len());
    out.extend_from_slice(MAGIC);
    out.push(LAYOUT_VERSION);
    out.push(array.dtype().code());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(n as u64).to_le_bytes());
    out.extend_from_slice(&(array.stream_size() as u64).to_le_bytes());
    for pair in ends.windows(2) {
        out.extend_from_slice(&((pair[1] - pair[0]) as u64).to_le_bytes());
    }
    if let Some((offsets, gains)) = scales {
        for value in offsets.iter().chain(gains) {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    let digest = Md5::digest(&out);
    out.extend_from_slice(&digest);
    out.extend_from_slice(&streams);
    Ok(out)
}

/// A parsed chunk: its header and tables, borrowing the streams.
#[derive(Debug, Clone)]
pub struct Chunk<'a> {
    dtype: DType,
    stream_size: usize,
    starts: Vec<u64>,
    nbytes: Vec<u64>,
    offsets: Option<Vec<f64>>,
    gains: Option<Vec<f64>>,
    streams: &'a [u8],
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

impl<'a> Chunk<'a> {
    /// Reads a chunk's header and tables, checking every claim against the
    /// bytes present before allocating anything sized by it.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        if bytes.len() < FIXED_HEADER || &bytes[..4] != MAGIC {
            return Err(Error::corrupt(
                "chunk: not a flacarray.flac chunk (no FLCK header)",
            ));
        }
        let layout = bytes[4];
        if !READABLE_LAYOUTS.contains(&layout) {
            return Err(Error::corrupt(format!(
                "chunk: layout version {layout} (this version reads 1 to 3)"
            )));
        }
        let digest = if layout >= 2 { DIGEST } else { 0 };
        let dtype = dtype_from_code(bytes[5])?;
        let count = read_u64(bytes, 8);
        let stream_size = read_u64(bytes, 16);
        let per_stream = if dtype.is_float() { 24 } else { 8 };
        let tables = usize::try_from(count)
            .ok()
            .and_then(|n| n.checked_mul(per_stream))
            .filter(|&t| t + digest <= bytes.len() - FIXED_HEADER)
            .ok_or_else(|| {
                Error::corrupt(format!(
                    "chunk: claims {count} streams, more than its {} bytes can describe",
                    bytes.len()
                ))
            })?;
        let n = count as usize;
        let stream_size = usize::try_from(stream_size).map_err(|_| {
            Error::corrupt(format!("chunk: impossible stream length {stream_size}"))
        })?;
        let described = FIXED_HEADER + tables;
        if digest > 0
            && Md5::digest(&bytes[..described])[..] != bytes[described..described + DIGEST]
        {
            return Err(Error::corrupt(
                "chunk: its header or stream tables are damaged (MD5 mismatch)",
            ));
        }
        let table = &bytes[FIXED_HEADER..described];
        let nbytes: Vec<u64> = (0..n).map(|i| read_u64(table, 8 * i)).collect();
        let floats = |k: usize| -> Vec<f64> {
            (0..n)
                .map(|i| f64::from_bits(read_u64(table, 8 * (k * n + i))))
                .collect()
        };
        let (offsets, gains) = if dtype.is_float() {
            (Some(floats(1)), Some(floats(2)))
        } else {
            (None, None)
        };
        let streams = &bytes[described + digest..];
        let mut starts = Vec::with_capacity(n);
        let mut end = 0u64;
        for &len in &nbytes {
            starts.push(end);
            end = end
                .checked_add(len)
                .ok_or_else(|| Error::corrupt("chunk: impossible stream lengths"))?;
        }
        if end != streams.len() as u64 {
            return Err(Error::corrupt(format!(
                "chunk: the stream table says {end} bytes of streams, the chunk holds {}",
                streams.len()
            )));
        }
        Ok(Chunk {
            dtype,
            stream_size,
            starts,
            nbytes,
            offsets,
            gains,
            streams,
        })
    }

    /// The element type the chunk decodes to.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// Number of streams.
    pub fn nstreams(&self) -> usize {
        self.nbytes.len()
    }

    /// Samples per stream.
    pub fn stream_size(&self) -> usize {
        self.stream_size
    }

    /// The chunk as an array view of `shape` (the chunk shape the array's
    /// metadata gives), checked against the streams it holds.
    pub fn view<'s>(&'s self, shape: &'s [usize]) -> Result<FlacArrayRef<'s>> {
        let (last, leading) = shape
            .split_last()
            .ok_or_else(|| Error::invalid("chunk shape has no axes"))?;
        let streams = leading.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if streams != Some(self.nstreams()) || *last != self.stream_size {
            return Err(Error::corrupt(format!(
                "chunk holds {} streams of {} samples, not the chunk shape {shape:?}",
                self.nstreams(),
                self.stream_size
            )));
        }
        // The chunk records no level; the view's is only informational.
        FlacArrayRef::new(FlacArrayPartsRef {
            dtype: self.dtype,
            shape,
            compressed: self.streams,
            stream_starts: &self.starts,
            stream_nbytes: &self.nbytes,
            stream_offsets: self.offsets.as_deref(),
            stream_gains: self.gains.as_deref(),
            level: crate::codec::Level::default().get(),
        })
    }
}

/// Decodes the samples `window` selects ([`SampleWindow`]'s rule, clamped
/// to the chunk's last axis) of every stream of a chunk of `shape` into
/// `out` (stream after stream: `out.len()` is the number of streams times
/// the window's length). Only the FLAC frames holding the window are
/// decoded. A chunk of another element type than `T` is an error.
pub fn decode_chunk_into<T: Element>(
    bytes: &[u8],
    shape: &[usize],
    window: impl Into<SampleWindow>,
    out: &mut [T],
) -> Result<()> {
    let chunk = Chunk::parse(bytes)?;
    let view = checked_view::<T>(&chunk, shape)?;
    let all: Vec<usize> = (0..chunk.nstreams()).collect();
    view.decompress_into(&all, window, out)
}

/// Like [`decode_chunk_into`], allocating the output: only once the chunk's
/// bytes have been found to hold what the shape claims (a damaged or
/// hostile chunk never sizes an allocation), and an output too large to
/// allocate is a [`crate::ErrorKind::Resource`] error.
pub fn decode_chunk<T: Element>(
    bytes: &[u8],
    shape: &[usize],
    window: impl Into<SampleWindow>,
) -> Result<Vec<T>> {
    let chunk = Chunk::parse(bytes)?;
    let view = checked_view::<T>(&chunk, shape)?;
    let samples = window.into().resolve_usize(view.stream_size());
    let count = chunk
        .nstreams()
        .checked_mul(samples.len())
        .ok_or_else(|| Error::corrupt(format!("chunk shape {shape:?} is impossible")))?;
    let mut out = crate::array::zeroed_output::<T>(count).ok_or_else(|| {
        Error::new(
            crate::ErrorKind::Resource,
            format!("cannot allocate {count} samples for a chunk of shape {shape:?}"),
        )
    })?;
    let all: Vec<usize> = (0..chunk.nstreams()).collect();
    view.decompress_into(&all, samples, &mut out)?;
    Ok(out)
}

/// The chunk as a view of `shape`, for elements of type `T`.
fn checked_view<'s, T: Element>(
    chunk: &'s Chunk<'s>,
    shape: &'s [usize],
) -> Result<FlacArrayRef<'s>> {
    if chunk.dtype() != T::DTYPE {
        return Err(Error::corrupt(format!(
            "chunk holds {} data, the array is {}",
            chunk.dtype(),
            T::DTYPE
        )));
    }
    chunk.view(shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_chunk() -> (Vec<f64>, Vec<u8>) {
        let data: Vec<f64> = (0..4 * 500)
            .map(|i| (i as f64 * 0.03).sin() * 100.0)
            .collect();
        let options = CompressOptions::default().with_quanta(1e-3);
        let bytes = encode_chunk(&data, &[2, 2, 500], &options).unwrap();
        (data, bytes)
    }

    #[test]
    fn floats_round_trip_within_half_a_step_and_windows_match() {
        let (data, bytes) = sample_chunk();
        let mut all = vec![0f64; data.len()];
        decode_chunk_into(&bytes, &[2, 2, 500], 0..500, &mut all).unwrap();
        for (a, b) in all.iter().zip(&data) {
            assert!((a - b).abs() <= 0.5e-3 + 1e-9);
        }
        let mut window = vec![0f64; 4 * 30];
        decode_chunk_into(&bytes, &[2, 2, 500], 200..230, &mut window).unwrap();
        for s in 0..4 {
            assert_eq!(
                &window[s * 30..(s + 1) * 30],
                &all[s * 500 + 200..s * 500 + 230]
            );
        }
    }

    #[test]
    fn damaged_or_mismatched_chunks_are_errors() {
        let (_, bytes) = sample_chunk();
        let mut out = vec![0f64; 4 * 500];
        let shape = [2, 2, 500];
        let check = |bytes: &[u8], shape: &[usize], needle: &str| {
            let mut out = vec![0f64; 4 * 500];
            let err = decode_chunk_into(bytes, shape, 0..500, &mut out).unwrap_err();
            assert!(err.to_string().contains(needle), "{err}");
        };
        check(&bytes[..10], &shape, "no FLCK header");
        let mut other = bytes.clone();
        other[4] = 9;
        check(&other, &shape, "layout version 9");
        let mut other = bytes.clone();
        other[5] = 7;
        check(&other, &shape, "element type code 7");
        let mut other = bytes.clone();
        other[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        check(&other, &shape, "claims 18446744073709551615 streams");
        check(&bytes[..bytes.len() - 1], &shape, "the chunk holds");
        check(&bytes, &[2, 2, 400], "not the chunk shape");
        let mut ints = vec![0i32; 4 * 500];
        let err = decode_chunk_into(&bytes, &shape, 0..500, &mut ints).unwrap_err();
        assert!(err.to_string().contains("float64 data, the array is int32"));
        // and the good chunk still decodes
        decode_chunk_into(&bytes, &shape, 0..500, &mut out).unwrap();
    }

    #[test]
    fn short_streams_are_frame_rows() {
        let data: Vec<i32> = (0..4 * 64).map(|i| (i * 37) % 1001 - 500).collect();
        let bytes = encode_chunk(&data, &[4, 64], &CompressOptions::default()).unwrap();
        let chunk = Chunk::parse(&bytes).unwrap();
        let array = FlacArray::compress(&data, &[4, 64], &CompressOptions::default()).unwrap();
        for s in 0..4 {
            let start = chunk.starts[s] as usize;
            let row = &chunk.streams[start..start + chunk.nbytes[s] as usize];
            assert!(crate::codec::is_frame_row(row));
            assert_eq!(
                crate::codec::whole_stream(row).unwrap(),
                array.stream_bytes(s).unwrap()
            );
        }
        assert!(bytes.len() + 4 * 37 <= FIXED_HEADER + 4 * 8 + DIGEST + array.nbytes());
        let mut out = vec![0i32; 4 * 64];
        decode_chunk_into(&bytes, &[4, 64], 0..64, &mut out).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn nan_is_an_error_naming_where() {
        let mut data = vec![1.5f32; 3 * 100];
        data[150] = f32::NAN;
        let err = encode_chunk(&data, &[3, 100], &CompressOptions::default()).unwrap_err();
        assert!(err.to_string().contains("NaN"), "{err}");
    }
}
