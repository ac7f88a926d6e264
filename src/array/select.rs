//! Decompressing all or part of an array: any list of streams, any
//! window of samples, decoding only the frames that window touches.

use rayon::prelude::*;

use super::{Element, FlacArray, FlacArrayRef, SampleWindow};
use crate::codec::GROUP;
use crate::error::{Error, Result};

/// Below this many samples a range is not split across threads.
const MIN_SPLIT_SAMPLES: usize = 1 << 16;

impl FlacArrayRef<'_> {
    fn check_selection<T: Element>(&self, streams: &[usize]) -> Result<()> {
        if T::DTYPE != self.dtype() {
            return Err(Error::invalid(format!(
                "array holds {} values, not {}",
                self.dtype(),
                T::DTYPE
            )));
        }
        let n = self.nstreams();
        if let Some(&bad) = streams.iter().find(|&&s| s >= n) {
            return Err(Error::invalid(format!(
                "stream index {bad} is out of range for {n} streams"
            )));
        }
        Ok(())
    }

    /// Decodes the samples `window` selects (see [`SampleWindow`]: Python's
    /// slice rule, so a window past the end is clamped) of each stream in
    /// `streams` (flat indices, any order, repeats allowed; see
    /// [`stream_number`](Self::stream_number) for N-D indices; an index out
    /// of range is an error) into `out`, row after row: `out.len()` must be
    /// `streams.len()` times the window's length
    /// ([`SampleWindow::resolve_usize`] of [`stream_size`](Self::stream_size)).
    pub fn decompress_into<T: Element>(
        &self,
        streams: &[usize],
        window: impl Into<SampleWindow>,
        out: &mut [T],
    ) -> Result<()> {
        self.check_selection::<T>(streams)?;
        let samples = window.into().resolve_usize(self.stream_size());
        let len = samples.len();
        if out.len() != streams.len() * len {
            return Err(Error::invalid(format!(
                "output holds {} values but {} streams x {len} samples were requested",
                out.len(),
                streams.len()
            )));
        }
        if len == 0 || streams.is_empty() {
            return Ok(());
        }
        // With fewer streams than threads, split each range into pieces that
        // are decoded independently (each starts at its own frame).
        let cores = rayon::current_num_threads();
        let piece = if streams.len() < cores && len >= 2 * MIN_SPLIT_SAMPLES {
            let per_stream = cores.div_ceil(streams.len());
            len.div_ceil(per_stream).max(MIN_SPLIT_SAMPLES)
        } else {
            len
        };
        let stream_len = self.stream_size() as u64;
        let decode_part = |s: usize, first: usize, part: &mut [T]| {
            let bytes = self.stream_bytes(s)?;
            T::decode_stream(bytes, stream_len, first as u64, part, self.scale(s))
                .map_err(|e| e.in_stream(s))
        };
        if samples.start == 0 && len == self.stream_size() && piece == len && streams.len() >= 2 {
            // Whole streams: several at once on each thread.
            let per_group = whole_streams_per_task(streams.len(), cores);
            return out
                .par_chunks_mut(len * per_group)
                .zip(streams.par_chunks(per_group))
                .try_for_each(|(part, group)| {
                    let bytes = group
                        .iter()
                        .map(|&s| self.stream_bytes(s).map_err(|e| e.in_stream(s)))
                        .collect::<Result<Vec<_>>>()?;
                    let scales: Vec<_> = group.iter().map(|&s| self.scale(s)).collect();
                    T::decode_streams(&bytes, stream_len, part, &scales)
                        .map_err(|(i, e)| e.in_stream(group[i]))
                });
        }
        if streams.len() == 1 && piece == len {
            // One unit of work (a short slice, say): waking the pool costs
            // more than it could save.
            return decode_part(streams[0], samples.start, out);
        }
        out.par_chunks_mut(len)
            .zip(streams.par_iter())
            .try_for_each(|(row, &s)| {
                row.par_chunks_mut(piece)
                    .enumerate()
                    .try_for_each(|(k, part)| decode_part(s, samples.start + k * piece, part))
            })
    }

    /// The flat (C-order) stream number of the stream at `index` in the
    /// leading shape, as `decompress` takes them.
    ///
    /// ```
    /// use flacarray::{CompressOptions, FlacArray};
    ///
    /// let data: Vec<i32> = (0..2 * 3 * 10).collect();
    /// let fa = FlacArray::compress(&data, &[2, 3, 10], &CompressOptions::default())?;
    /// let stream = fa.view().stream_number(&[1, 2])?; // row 1, column 2
    /// assert_eq!(stream, 5);
    /// assert_eq!(fa.decompress::<i32>(&[stream], 0..2)?, vec![50, 51]);
    /// assert!(fa.view().stream_number(&[2, 0]).is_err());
    /// # Ok::<(), flacarray::Error>(())
    /// ```
    pub fn stream_number(&self, index: &[usize]) -> Result<usize> {
        let shape = self.shape();
        let leading = &shape[..shape.len() - 1];
        if index.len() != leading.len() {
            return Err(Error::invalid(format!(
                "stream index {index:?} has {} axes; the leading shape {leading:?} has {}",
                index.len(),
                leading.len()
            )));
        }
        let mut flat = 0usize;
        for (axis, (&i, &n)) in index.iter().zip(leading).enumerate() {
            if i >= n {
                return Err(Error::invalid(format!(
                    "index {i} is out of range for axis {axis} of size {n}"
                )));
            }
            flat = flat * n + i;
        }
        Ok(flat)
    }

    /// Like [`decompress_into`](Self::decompress_into), allocating the output.
    pub fn decompress<T: Element>(
        &self,
        streams: &[usize],
        window: impl Into<SampleWindow>,
    ) -> Result<Vec<T>> {
        self.check_selection::<T>(streams)?;
        let samples = window.into().resolve_usize(self.stream_size());
        let count = streams.len().saturating_mul(samples.len());
        let mut out = super::zeroed_output::<T>(count).ok_or_else(|| {
            Error::new(
                crate::ErrorKind::Resource,
                format!("cannot allocate {count} samples"),
            )
        })?;
        self.decompress_into(streams, samples, &mut out)?;
        Ok(out)
    }

    /// Decompresses the whole array (C order, the original shape).
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        let all: Vec<usize> = (0..self.nstreams()).collect();
        self.decompress(&all, ..)
    }

    /// [`to_vec`](Self::to_vec), checking more: every stream is decoded
    /// whole and its samples' MD5 compared with the one its STREAMINFO
    /// records (as [`crate::codec::verify_stream`] does; a stream that
    /// records none is accepted). Frame CRCs are checked by every decode;
    /// the MD5 also catches damage they cannot see (a forged or miscopied
    /// stream). Every stream is decoded twice: once to check, once into the
    /// output.
    ///
    /// ```
    /// use flacarray::{CompressOptions, ErrorKind, FlacArray};
    ///
    /// let data: Vec<i32> = (0..2 * 5000).map(|i| (i % 250) * 3).collect();
    /// let fa = FlacArray::compress(&data, &[2, 5000], &CompressOptions::default())?;
    /// assert_eq!(fa.to_vec_verified::<i32>()?, data);
    /// let mut parts = fa.into_parts();
    /// let md5_at = parts.stream_starts[1] as usize + 26; // stream 1's STREAMINFO MD5
    /// parts.compressed[md5_at] ^= 1;
    /// let damaged = FlacArray::from_parts(parts)?;
    /// assert_eq!(damaged.to_vec::<i32>()?, data); // the frames are intact
    /// let err = damaged.to_vec_verified::<i32>().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Corrupt);
    /// assert!(err.message().starts_with("stream 1: "));
    /// # Ok::<(), flacarray::Error>(())
    /// ```
    pub fn to_vec_verified<T: Element>(&self) -> Result<Vec<T>> {
        let samples = self.stream_size() as u64;
        (0..self.nstreams()).into_par_iter().try_for_each(|s| {
            crate::codec::verify_stream(self.stream_bytes(s)?, samples)
                .map(|_| ())
                .map_err(|e| e.in_stream(s))
        })?;
        self.to_vec()
    }

    /// Flat indices of the streams whose entry in a C-ordered boolean mask
    /// over the leading shape is true.
    pub fn keep_indices(&self, keep: &[bool]) -> Result<Vec<usize>> {
        if keep.len() != self.nstreams() {
            return Err(Error::invalid(format!(
                "keep mask has {} entries but the array has {} streams",
                keep.len(),
                self.nstreams()
            )));
        }
        Ok(keep
            .iter()
            .enumerate()
            .filter(|(_, &k)| k)
            .map(|(i, _)| i)
            .collect())
    }
}

impl FlacArray {
    /// See [`FlacArrayRef::decompress_into`].
    pub fn decompress_into<T: Element>(
        &self,
        streams: &[usize],
        window: impl Into<SampleWindow>,
        out: &mut [T],
    ) -> Result<()> {
        self.view().decompress_into(streams, window, out)
    }

    /// See [`FlacArrayRef::decompress`].
    pub fn decompress<T: Element>(
        &self,
        streams: &[usize],
        window: impl Into<SampleWindow>,
    ) -> Result<Vec<T>> {
        self.view().decompress(streams, window)
    }

    /// See [`FlacArrayRef::to_vec`].
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        self.view().to_vec()
    }

    /// See [`FlacArrayRef::to_vec_verified`].
    pub fn to_vec_verified<T: Element>(&self) -> Result<Vec<T>> {
        self.view().to_vec_verified()
    }

    /// See [`FlacArrayRef::keep_indices`].
    pub fn keep_indices(&self, keep: &[bool]) -> Result<Vec<usize>> {
        self.view().keep_indices(keep)
    }
}

/// How many of `streams` whole streams of one length a thread decodes
/// together (with `Element::decode_streams`) when `threads` share them:
/// full groups, since a group takes about as long with few streams as with
/// eight, unless that leaves threads without work.
pub(crate) fn whole_streams_per_task(streams: usize, threads: usize) -> usize {
    if streams.div_ceil(GROUP) >= threads {
        GROUP
    } else {
        streams.div_ceil(threads).max(1)
    }
}
