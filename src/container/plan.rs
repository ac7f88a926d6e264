//! Read plans: which streams a keep mask selects and which byte runs of
//! `compressed` hold them, the per-stream tables checked first.

use super::{
    corrupt, GroupLayout, ATTR_DIGEST, COMPRESSED, GAINS, MIN_STREAM_BYTES, NBYTES, OFFSETS, STARTS,
};
use crate::array::{FlacArray, FlacArrayParts, FlacArrayRef};
use crate::digest;
use crate::error::{Error, Result};

/// What to read from `compressed`, and the parts of the result.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadPlan {
    /// Byte ranges of `compressed` to read, in order; their concatenation
    /// holds the selected streams back to back.
    pub runs: Vec<(u64, u64)>,
    /// Flat indices of the selected streams.
    pub selected: Vec<usize>,
    /// FLAC channels every stream read must have ([`GroupLayout::channels`]);
    /// see [`check_stream_channels`].
    pub channels: Option<u32>,
    /// The result's record with no `compressed` bytes yet: its shape (the
    /// stored shape, or `(kept, samples)`), each selected stream's start in
    /// the concatenated runs and byte count, the selected scales.
    pub parts: FlacArrayParts,
}

impl ReadPlan {
    /// The array read: the plan's parts with `compressed`, the
    /// concatenation of [`ReadPlan::runs`], checked as every array is and
    /// against the channel count the group's layout requires.
    pub fn into_array(self, compressed: Vec<u8>) -> Result<FlacArray> {
        let array = FlacArray::from_parts(FlacArrayParts {
            compressed,
            ..self.parts
        })?;
        check_stream_channels(&array.view(), self.channels)?;
        Ok(array)
    }
}

/// Checks a keep mask's shape against a leading shape (a single-stream
/// array takes a 0-d or 1-element mask) and returns the kept flat indices.
pub fn kept_streams(mask: &[bool], mask_shape: &[usize], leading: &[usize]) -> Result<Vec<usize>> {
    let expected: &[usize] = if leading.is_empty() { &[1] } else { leading };
    let fits = mask_shape == expected || (leading.is_empty() && mask_shape.is_empty());
    let count = mask_shape.iter().product::<usize>();
    if !fits || count != mask.len() {
        return Err(Error::invalid(format!(
            "keep has shape {mask_shape:?}; expected the leading shape {expected:?}"
        )));
    }
    Ok((0..mask.len()).filter(|&i| mask[i]).collect())
}

/// Checks that the streams' byte runs tile `compressed` (`total` bytes)
/// exactly: every run inside it, none overlapping another, no byte left
/// between or after them. A changed start or length breaks the tiling.
fn check_tiling(starts: &[i64], nbytes: &[i64], total: u64) -> Result<()> {
    let mut runs = Vec::with_capacity(starts.len());
    for (i, (&start, &count)) in starts.iter().zip(nbytes).enumerate() {
        let (Ok(s), Ok(c)) = (u64::try_from(start), u64::try_from(count)) else {
            return Err(corrupt(format!(
                "stream {i} has a negative start ({start}) or byte count ({count})"
            )));
        };
        let end = s
            .checked_add(c)
            .filter(|&end| end <= total)
            .ok_or_else(|| {
                corrupt(format!(
                    "stream {i} claims bytes {s}..{} but '{COMPRESSED}' holds {total}",
                    s.saturating_add(c)
                ))
            })?;
        runs.push((s, end, i));
    }
    if runs.windows(2).any(|w| w[0].0 > w[1].0) {
        runs.sort_unstable();
    }
    let mut pos = 0u64;
    let mut previous = None;
    for (start, end, i) in runs {
        if start < pos {
            return Err(corrupt(format!(
                "stream {i} (bytes {start}..{end}) overlaps stream {}",
                previous.unwrap_or(0)
            )));
        }
        if start > pos {
            return Err(corrupt(format!(
                "bytes {pos}..{start} of '{COMPRESSED}' belong to no stream"
            )));
        }
        pos = end;
        previous = Some(i);
    }
    if pos != total {
        return Err(corrupt(format!(
            "bytes {pos}..{total} of '{COMPRESSED}' belong to no stream"
        )));
    }
    Ok(())
}

/// Checks that every stream of an array read from a container has the
/// channel count its layout requires (format 1 and the Arrow layout 2: one
/// for 32-bit types, two for 64-bit ones), so data of one type relabelled
/// as another is refused.
pub fn check_stream_channels(array: &FlacArrayRef<'_>, channels: Option<u32>) -> Result<()> {
    let Some(required) = channels else {
        return Ok(());
    };
    for i in 0..array.nstreams() {
        let found = array.stream_channels(i)?;
        if found != required {
            return Err(corrupt(format!(
                "stream {i} has {found} FLAC channels; {} data is stored in {required}",
                array.dtype()
            )));
        }
    }
    Ok(())
}

/// Validates the per-stream arrays read from a group described by `layout`
/// and plans which bytes to read. With `keep` (a boolean mask and its
/// shape, which must be the leading shape) only the kept streams are read
/// and the result has shape `(kept, samples)`.
pub fn plan_read(
    layout: &GroupLayout,
    starts: &[i64],
    nbytes: &[i64],
    offsets: Option<&[f64]>,
    gains: Option<&[f64]>,
    keep: Option<(&[bool], &[usize])>,
) -> Result<ReadPlan> {
    let n = layout.nstreams();
    for (name, len) in [
        (STARTS, Some(starts.len())),
        (NBYTES, Some(nbytes.len())),
        (OFFSETS, offsets.map(<[f64]>::len)),
        (GAINS, gains.map(<[f64]>::len)),
    ] {
        if let Some(len) = len.filter(|&len| len != n) {
            return Err(corrupt(format!(
                "'{name}' holds {len} values, expected {n}"
            )));
        }
    }
    if layout.has_scales() != (offsets.is_some() && gains.is_some()) {
        return Err(corrupt(format!(
            "{} data needs '{OFFSETS}' and '{GAINS}' and nothing else",
            layout.dtype
        )));
    }
    check_tiling(starts, nbytes, layout.compressed_len)?;
    if let Some(expected) = &layout.digest {
        let actual = digest::table_digest(
            layout.dtype,
            &layout.shape,
            layout.level,
            starts,
            nbytes,
            offsets,
            gains,
        );
        if &actual != expected {
            return Err(corrupt(format!(
                "the group's per-stream tables or its shape, type or level attributes do not \
                 match its digest ('{ATTR_DIGEST}' is {expected}, they give {actual})"
            )));
        }
    }
    let selected = match keep {
        None => (0..n).collect(),
        Some((mask, shape)) => kept_streams(mask, shape, layout.leading_shape())?,
    };
    let mut runs: Vec<(u64, u64)> = Vec::new();
    let mut new_starts = Vec::with_capacity(selected.len());
    let mut counts = Vec::with_capacity(selected.len());
    let mut pos = 0u64;
    for &i in &selected {
        let (start, count) = (starts[i], nbytes[i]);
        let (Ok(start), Ok(count)) = (u64::try_from(start), u64::try_from(count)) else {
            return Err(corrupt(format!(
                "stream {i} has a negative start ({start}) or byte count ({count})"
            )));
        };
        let end = start
            .checked_add(count)
            .filter(|&end| end <= layout.compressed_len)
            .ok_or_else(|| {
                corrupt(format!(
                    "stream {i} claims bytes {start}..{} but '{COMPRESSED}' holds {}",
                    start.saturating_add(count),
                    layout.compressed_len
                ))
            })?;
        if count < MIN_STREAM_BYTES {
            return Err(corrupt(format!(
                "stream {i} has only {count} bytes: too few for a FLAC stream"
            )));
        }
        match runs.last_mut() {
            Some(run) if run.1 == start => run.1 = end,
            _ => runs.push((start, end)),
        }
        new_starts.push(pos);
        counts.push(count);
        pos += count;
    }
    let pick = |values: Option<&[f64]>| values.map(|v| selected.iter().map(|&i| v[i]).collect());
    let shape = match keep {
        None => layout.shape.clone(),
        Some(_) => vec![selected.len(), layout.stream_size()],
    };
    Ok(ReadPlan {
        runs,
        parts: FlacArrayParts {
            dtype: layout.dtype,
            shape,
            compressed: Vec::new(),
            stream_starts: new_starts,
            stream_nbytes: counts,
            stream_offsets: pick(offsets),
            stream_gains: pick(gains),
            level: layout.level,
        },
        selected,
        channels: layout.channels,
    })
}
