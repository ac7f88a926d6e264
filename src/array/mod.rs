//! The array layer: [`FlacArray`], an N-D array whose last-axis vectors
//! ("streams") are each stored as one FLAC bytestream.

mod compress;
mod element;
mod parts;
mod quantized;
mod select;
mod threads;
mod window;

use std::fmt;

pub use compress::{CompressOptions, StepSpec};
#[cfg(feature = "arrow")]
pub(crate) use element::{encode_streams, group_size, EncodedGroup};
pub use element::{DType, Element};
pub use parts::{Borrowed, FlacArrayParts, FlacArrayPartsRef, Item, Owned, Parts, Storage};
pub use quantized::{
    quantize_streams_f32, quantize_streams_f64, restore_streams_f32, restore_streams_f64, Quantized,
};
#[cfg(feature = "arrow")]
pub(crate) use select::whole_streams_per_task;
pub use threads::with_thread_count;
pub use window::{SampleWindow, WindowBound};

/// `count` zeros of `T` for a decoder to write into, or `None` when they
/// cannot be allocated. The memory comes zeroed from the allocator (fresh
/// pages need no writing pass of their own) and, when large, is backed by
/// huge pages where the kernel offers them (as numpy does for its arrays):
/// one page fault per 2 MiB instead of per 4 KiB as the decoder first
/// writes it, which is most of what a read costs beyond decoding.
pub(crate) fn zeroed_output<T: Element>(count: usize) -> Option<Vec<T>> {
    let layout = std::alloc::Layout::array::<T>(count).ok()?;
    if layout.size() == 0 {
        return Some(Vec::new());
    }
    // SAFETY: the layout has a non-zero size; every `Element` is a plain
    // integer or float for which all-zero bytes are the value zero; the
    // pointer, when not null, owns `count` elements allocated with the
    // global allocator and this layout, as `Vec::from_raw_parts` requires.
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout);
        if ptr.is_null() {
            return None;
        }
        advise_huge_pages(ptr, layout.size());
        Some(Vec::from_raw_parts(ptr.cast::<T>(), count, count))
    }
}

/// MADV_HUGEPAGE over the 2 MiB-aligned part of `[ptr, ptr + len)`: only a
/// hint, nothing for small buffers or where the kernel declines.
fn advise_huge_pages(ptr: *mut u8, len: usize) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = (ptr as usize).next_multiple_of(HUGE);
        let end = (ptr as usize + len) / HUGE * HUGE;
        if end > start {
            // SAFETY: [start, end) lies inside the caller's allocation and
            // is page aligned; MADV_HUGEPAGE changes no contents.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, len);
}

use std::borrow::Cow;

use rayon::prelude::*;

use crate::codec::{encode_i64, max_samples_in, stream_info, EncodeOptions};
use crate::error::{Error, Result};
use crate::quantize::{validate_scale, Float, Scale};

/// A compressed N-dimensional array: a [`FlacArrayParts`] record that
/// passed the checks of [`FlacArray::from_parts`].
///
/// The last axis of the original array holds the streams; the other axes
/// (the *leading shape*) index them in C order. All streams are concatenated
/// in [`compressed`](Self::compressed); stream `i` occupies
/// `compressed[starts[i] .. starts[i] + nbytes[i]]`. Float arrays also carry
/// one offset and gain per stream.
#[derive(Clone)]
pub struct FlacArray {
    parts: FlacArrayParts,
}

fn stream_count(shape: &[usize]) -> Result<usize> {
    let (_, leading) = shape
        .split_last()
        .ok_or_else(|| Error::invalid("array must have at least one dimension"))?;
    leading
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| Error::invalid(format!("shape {shape:?} is too large")))
}

/// A borrowed, validated view of a compressed array (a
/// [`FlacArrayPartsRef`] that passed the checks of [`FlacArrayRef::new`]):
/// what selection and decompression work on. Containers that keep the
/// parts in their own buffers (numpy, Arrow) decode through a view without
/// copying them.
#[derive(Debug, Clone, Copy)]
pub struct FlacArrayRef<'a> {
    parts: FlacArrayPartsRef<'a>,
}

impl<'a> FlacArrayRef<'a> {
    /// Checks that the parts are consistent (a valid level, every stream
    /// inside the buffer, one scale per stream for floats, a stream length
    /// its bytes can actually hold) and builds the view.
    pub fn new(parts: FlacArrayPartsRef<'a>) -> Result<Self> {
        let Parts {
            dtype,
            shape,
            compressed,
            stream_starts: starts,
            stream_nbytes: nbytes,
            stream_offsets: offsets,
            stream_gains: gains,
            level,
        } = parts;
        crate::codec::Level::new(i64::from(level))?;
        let nstreams = stream_count(shape)?;
        let stream_size = *shape.last().unwrap_or(&0);
        if stream_size == 0 && nstreams > 0 {
            return Err(Error::corrupt(format!(
                "shape {shape:?} has streams of 0 samples: a stream holds at least one sample"
            )));
        }
        for (name, len) in [
            ("stream_starts", starts.len()),
            ("stream_nbytes", nbytes.len()),
        ] {
            if len != nstreams {
                return Err(Error::corrupt(format!(
                    "{name} has {len} entries but the shape {shape:?} has {nstreams} streams"
                )));
            }
        }
        let total = compressed.len() as u64;
        for (i, (&start, &n)) in starts.iter().zip(nbytes).enumerate() {
            if start.checked_add(n).is_none_or(|end| end > total) {
                return Err(Error::corrupt(format!(
                    "stream {i} claims bytes {start}..{} but only {total} compressed bytes exist",
                    start.saturating_add(n)
                )));
            }
            if stream_size as u64 > max_samples_in(n as usize) {
                return Err(Error::corrupt(format!(
                    "stream {i} claims {stream_size} samples in only {n} bytes"
                )));
            }
        }
        match (dtype.is_float(), offsets, gains) {
            (true, Some(o), Some(g)) => {
                for (name, len) in [("offsets", o.len()), ("gains", g.len())] {
                    if len != nstreams {
                        return Err(Error::corrupt(format!(
                            "stream_{name} has {len} entries, expected {nstreams}"
                        )));
                    }
                }
            }
            (true, _, _) => {
                return Err(Error::corrupt(format!(
                    "{dtype} data needs both stream offsets and gains"
                )))
            }
            (false, None, None) => {}
            (false, _, _) => {
                return Err(Error::corrupt(format!(
                    "{dtype} data must not have stream offsets or gains"
                )))
            }
        }
        Ok(FlacArrayRef { parts })
    }

    /// The parts this view was built from.
    pub fn parts(&self) -> FlacArrayPartsRef<'a> {
        self.parts
    }

    /// The same view for a shorter lifetime (see
    /// [`FlacArrayPartsRef::shorten`]).
    pub fn shorten<'b>(self) -> FlacArrayRef<'b>
    where
        'a: 'b,
    {
        FlacArrayRef {
            parts: self.parts.shorten(),
        }
    }

    /// Element type of the uncompressed array.
    pub fn dtype(&self) -> DType {
        self.parts.dtype
    }

    /// Full shape of the uncompressed array.
    pub fn shape(&self) -> &'a [usize] {
        self.parts.shape
    }

    /// Compression level the streams were written with.
    pub fn level(&self) -> u32 {
        self.parts.level
    }

    /// Samples per stream.
    pub fn stream_size(&self) -> usize {
        self.parts.shape[self.parts.shape.len() - 1]
    }

    /// Number of streams.
    pub fn nstreams(&self) -> usize {
        self.parts.stream_starts.len()
    }

    /// All streams' FLAC bytes.
    pub fn compressed(&self) -> &'a [u8] {
        self.parts.compressed
    }

    /// Where each stream starts in [`FlacArrayRef::compressed`].
    pub fn stream_starts(&self) -> &'a [u64] {
        self.parts.stream_starts
    }

    /// Each stream's length in bytes.
    pub fn stream_nbytes(&self) -> &'a [u64] {
        self.parts.stream_nbytes
    }

    /// Per-stream offsets (float data only).
    pub fn stream_offsets(&self) -> Option<&'a [f64]> {
        self.parts.stream_offsets
    }

    /// Per-stream gains (float data only).
    pub fn stream_gains(&self) -> Option<&'a [f64]> {
        self.parts.stream_gains
    }

    /// The FLAC bytes of stream `i`: a complete FLAC file, or a frame row
    /// (read from an Arrow column; [`crate::codec::whole_stream`] gives the
    /// file it stands for).
    pub fn stream_bytes(&self, i: usize) -> Result<&'a [u8]> {
        let n = self.nstreams();
        if i >= n {
            return Err(Error::invalid(format!(
                "stream index {i} is out of range for {n} streams"
            )));
        }
        let start = self.parts.stream_starts[i] as usize;
        Ok(&self.parts.compressed[start..start + self.parts.stream_nbytes[i] as usize])
    }

    /// Checks every stream against what the array claims, before anything
    /// is allocated for decoding: each stream's STREAMINFO must record the
    /// array's stream length (or none) and a channel count its type allows,
    /// and float scales must be usable. Cheap (reads ~42 bytes per stream).
    pub fn validate_streams(&self) -> Result<()> {
        let size = self.stream_size() as u64;
        for i in 0..self.nstreams() {
            let info = stream_info(self.stream_bytes(i)?).map_err(|e| e.in_stream(i))?;
            if info.total_samples != 0 && info.total_samples != size {
                return Err(Error::corrupt(format!(
                    "stream {i} holds {} samples but the array has {size} per stream",
                    info.total_samples
                )));
            }
            let two_channels = self.parts.dtype.channels() == 2;
            if !(info.channels == 1 || (two_channels && info.channels == 2)) {
                return Err(Error::corrupt(format!(
                    "stream {i} has {} FLAC channels, impossible for {} data",
                    info.channels, self.parts.dtype
                )));
            }
            if let Some(scale) = self.scale(i) {
                // a stream has a scale only in a float array
                let float = self.parts.dtype.float().unwrap_or(Float::F64);
                validate_scale(scale, float).map_err(|e| e.in_stream(i))?;
            }
        }
        Ok(())
    }

    /// Number of FLAC channels of stream `i`, from its STREAMINFO.
    pub fn stream_channels(&self, i: usize) -> Result<u32> {
        Ok(stream_info(self.stream_bytes(i)?)?.channels)
    }

    pub(crate) fn scale(&self, i: usize) -> Option<Scale> {
        match (self.parts.stream_offsets, self.parts.stream_gains) {
            (Some(o), Some(g)) => Some(Scale {
                offset: o[i],
                gain: g[i],
            }),
            _ => None,
        }
    }
}

impl FlacArray {
    /// Assembles an array from stored parts after the checks of
    /// [`FlacArrayRef::new`] and [`FlacArrayRef::validate_streams`].
    pub fn from_parts(parts: FlacArrayParts) -> Result<Self> {
        FlacArrayRef::new(parts.borrowed())?.validate_streams()?;
        Ok(FlacArray { parts })
    }

    /// The parts, borrowed.
    pub fn parts(&self) -> FlacArrayPartsRef<'_> {
        self.parts.borrowed()
    }

    /// A borrowed view, for selection and decompression.
    pub fn view(&self) -> FlacArrayRef<'_> {
        FlacArrayRef {
            parts: self.parts.borrowed(),
        }
    }

    /// Gives the parts back (no copy).
    pub fn into_parts(self) -> FlacArrayParts {
        self.parts
    }

    /// Element type of the uncompressed array.
    pub fn dtype(&self) -> DType {
        self.parts.dtype
    }

    /// Full shape of the uncompressed array.
    pub fn shape(&self) -> &[usize] {
        &self.parts.shape
    }

    /// Shape of the array of streams (all axes but the last).
    pub fn leading_shape(&self) -> &[usize] {
        &self.parts.shape[..self.parts.shape.len() - 1]
    }

    /// Samples per stream.
    pub fn stream_size(&self) -> usize {
        self.parts.shape[self.parts.shape.len() - 1]
    }

    /// Number of streams.
    pub fn nstreams(&self) -> usize {
        self.parts.stream_starts.len()
    }

    /// All compressed bytes.
    pub fn compressed(&self) -> &[u8] {
        &self.parts.compressed
    }

    /// Total compressed size in bytes.
    pub fn nbytes(&self) -> usize {
        self.parts.compressed.len()
    }

    /// Byte offset of each stream.
    pub fn stream_starts(&self) -> &[u64] {
        &self.parts.stream_starts
    }

    /// Byte length of each stream.
    pub fn stream_nbytes(&self) -> &[u64] {
        &self.parts.stream_nbytes
    }

    /// Per-stream offsets (float arrays only).
    pub fn stream_offsets(&self) -> Option<&[f64]> {
        self.parts.stream_offsets.as_deref()
    }

    /// Per-stream gains (float arrays only).
    pub fn stream_gains(&self) -> Option<&[f64]> {
        self.parts.stream_gains.as_deref()
    }

    /// Compression level the streams were written with.
    pub fn level(&self) -> u32 {
        self.parts.level
    }

    /// The FLAC bytes of stream `i`: a complete FLAC file, or a frame row
    /// (read from an Arrow column; [`crate::codec::whole_stream`] gives the
    /// file it stands for).
    pub fn stream_bytes(&self, i: usize) -> Result<&[u8]> {
        self.view().stream_bytes(i)
    }

    /// This array with every stream as this version writes them (see
    /// [`FlacArrayRef::to_current_layout`]); borrows `self` when nothing needs
    /// changing.
    pub fn to_current_layout(&self) -> Result<Cow<'_, FlacArray>> {
        Ok(match self.view().to_current_layout()? {
            Some(changed) => Cow::Owned(changed),
            None => Cow::Borrowed(self),
        })
    }
}

impl FlacArrayRef<'_> {
    /// The array with every stream as this version writes them: whole
    /// FLAC streams (frame rows, as an Arrow column holds short rows,
    /// rebuilt: see [`crate::codec::whole_stream`]), 64-bit
    /// types (int64, float64) in 2-channel streams, and every STREAMINFO
    /// recording the stream's length. Arrays read from the reference's
    /// format 0 hold float64 data in 1-channel (32-bit) streams, which
    /// format-1 readers cannot decode, and record no lengths; such float64
    /// streams are re-encoded (same integers, so the same
    /// values, at the view's level), missing lengths are filled in (STREAMINFO only), the rest is
    /// copied as is. `None` when nothing needs changing: then nothing is
    /// copied either (only each stream's STREAMINFO is read).
    pub fn to_current_layout(&self) -> Result<Option<FlacArray>> {
        self.fixed_streams(FrameRows::Rebuild)
    }

    /// Like [`FlacArrayRef::to_current_layout`], but frame rows stay frame
    /// rows: the streams as an Arrow column holds them.
    pub fn to_column_layout(&self) -> Result<Option<FlacArray>> {
        self.fixed_streams(FrameRows::Keep)
    }

    fn fixed_streams(&self, frame_rows: FrameRows) -> Result<Option<FlacArray>> {
        let two_channels = self.dtype().channels() == 2;
        let mut fixes = Vec::new();
        for i in 0..self.nstreams() {
            let bytes = self.stream_bytes(i)?;
            let info = stream_info(bytes).map_err(|e| e.in_stream(i))?;
            if crate::codec::is_frame_row(bytes) {
                if frame_rows == FrameRows::Rebuild {
                    fixes.push((i, StreamFix::Rebuild));
                }
            } else if two_channels && info.channels == 1 {
                fixes.push((i, StreamFix::Reencode));
            } else if info.total_samples == 0 {
                fixes.push((i, StreamFix::RecordLength));
            }
        }
        if fixes.is_empty() {
            return Ok(None);
        }
        let options = EncodeOptions {
            level: self.parts.level,
            ..Default::default()
        };
        let size = self.stream_size();
        // each fixed stream on its own (decoding, encoding or MD5 work), in
        // parallel; then every stream in order
        let fixed: Vec<Vec<u8>> = fixes
            .par_iter()
            .map(|&(i, fix)| {
                let original = self.stream_bytes(i)?;
                match fix {
                    StreamFix::Rebuild => crate::codec::whole_stream(original),
                    StreamFix::Reencode => {
                        let mut values = vec![0i64; size];
                        crate::codec::Decoder::DEFAULT.decode_into(
                            original,
                            size as u64,
                            0,
                            &mut values,
                            crate::codec::Channels::OneOrTwo,
                            |v| v,
                        )?;
                        encode_i64(&values, &options)
                    }
                    StreamFix::RecordLength => {
                        crate::codec::with_total_samples(original, size as u64)
                    }
                }
                .map_err(|e| e.in_stream(i))
            })
            .collect::<Result<_>>()?;
        let mut out = Parts {
            compressed: &[][..],
            ..self.parts
        }
        .to_owned_parts();
        out.compressed.reserve(self.parts.compressed.len());
        let mut fixed = fixes.iter().map(|&(i, _)| i).zip(fixed).peekable();
        for i in 0..self.nstreams() {
            let bytes = match fixed.next_if(|(j, _)| *j == i) {
                Some((_, bytes)) => Cow::Owned(bytes),
                None => Cow::Borrowed(self.stream_bytes(i)?),
            };
            out.stream_starts[i] = out.compressed.len() as u64;
            out.stream_nbytes[i] = bytes.len() as u64;
            out.compressed.extend_from_slice(&bytes);
        }
        Ok(Some(FlacArray { parts: out }))
    }
}

impl FlacArrayRef<'_> {
    /// Every stream in order, as an Arrow column or a Zarr codec chunk
    /// stores them: a whole stream that fits one frame as its frame row
    /// (see [`crate::codec::whole_stream`]), the others as they are; the
    /// bytes back to back and the `nstreams + 1` offsets where each starts
    /// and the last ends.
    pub(crate) fn stored_rows(&self) -> Result<(Vec<u8>, Vec<i64>)> {
        let mut bytes = Vec::with_capacity(self.parts.compressed.len());
        let mut offsets = Vec::with_capacity(self.nstreams() + 1);
        offsets.push(0i64);
        for i in 0..self.nstreams() {
            let stream = self.stream_bytes(i)?;
            if !crate::codec::push_frame_row_of(stream, &mut bytes) {
                bytes.extend_from_slice(stream);
            }
            offsets.push(bytes.len() as i64);
        }
        Ok((bytes, offsets))
    }
}

/// Whether [`FlacArrayRef::fixed_streams`] rebuilds frame rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameRows {
    Rebuild,
    Keep,
}

/// What [`FlacArray::to_current_layout`] does to one stream.
#[derive(Debug, Clone, Copy)]
enum StreamFix {
    /// Rebuild the whole stream a frame row stands for.
    Rebuild,
    /// Decode and encode again as 2 channels.
    Reencode,
    /// Write the sample count into STREAMINFO.
    RecordLength,
}

/// Formats a shape the way Python prints a tuple: `(5,)`, `(4, 3, 10)`.
pub(crate) fn shape_string(shape: &[usize]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => {
            let items: Vec<String> = shape.iter().map(ToString::to_string).collect();
            format!("({})", items.join(", "))
        }
    }
}

impl fmt::Display for FlacArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<FlacArray {} shape={} bytes={}>",
            self.dtype(),
            shape_string(self.shape()),
            self.nbytes()
        )
    }
}

impl fmt::Debug for FlacArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FlacArrayRef<'_> {
    /// True when both hold the same streams with the same shape, type and
    /// scales: stream by stream the same bytes, or a frame row and the
    /// whole stream it stands for (an array read from an Arrow column and
    /// the one written to it). The compression level and where the streams
    /// lie in the compressed bytes are not compared.
    pub fn same_streams(&self, other: &FlacArrayRef<'_>) -> bool {
        let (a, b) = (self.parts, other.parts);
        if a.dtype != b.dtype
            || a.shape != b.shape
            || a.stream_offsets != b.stream_offsets
            || a.stream_gains != b.stream_gains
        {
            return false;
        }
        if a.stream_starts == b.stream_starts
            && a.stream_nbytes == b.stream_nbytes
            && a.compressed == b.compressed
        {
            return true;
        }
        (0..self.nstreams()).all(|i| match (self.stream_bytes(i), other.stream_bytes(i)) {
            (Ok(x), Ok(y)) => crate::codec::same_stream(x, y),
            _ => false,
        })
    }
}

/// Two arrays are equal when they hold the same streams with the same
/// shape, type and scales ([`FlacArrayRef::same_streams`]; the compression
/// level is not compared).
impl PartialEq for FlacArray {
    fn eq(&self, other: &Self) -> bool {
        self.view().same_streams(&other.view())
    }
}
