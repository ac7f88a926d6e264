//! Whole streams decoded several at once, frame `i` of each together: their
//! headers one by one, the Rice codes of their subframes in lockstep
//! ([`super::rice8`]), their LPC subframes side by side.
//!
//! The group decoder only speeds up streams it can vouch for: a stream it
//! does not finish (damage of any kind, a frame it does not take) is left
//! to the caller, which decodes it alone with [`super::run`] and so reports
//! exactly what that reports. A stream it does finish passed every check
//! `run` makes, and holds the same samples.
//!
//! Subframes whose residuals start with Rice parameter 0 are read alone
//! ([`super::unary`] is faster there), and when a group's first frames
//! read nothing in lockstep (verbatim, constant or such subframes) each
//! stream is finished by [`super::run`] from its second frame on: done
//! only if that read completes, so the rule above holds.

use std::cell::RefCell;

use super::bits::BitReader;
use super::header::read_frame_header;
use super::rice8::{self, Section, LANES};
use super::subframe::{read_head, read_partitions, read_rest, Head, Predicted};
use super::{check_crc, restore_waiting, Frame};
use crate::codec::aligned::Aligned;
use crate::codec::frames::StreamInfo;
use crate::codec::lpc::{fits, restore_rows, shift_wasted, Pending, Rows};
use crate::codec::GROUP;

// (a group's streams are the lockstep kernel's lanes)
const _: () = assert!(GROUP == LANES);

/// Fewer predicted subframes than this in a round are read one by one: a
/// step of the lockstep kernel costs about as much for one lane as for
/// eight, and eight lanes run about 4.5 times as fast as one stream alone.
const MIN_LOCKSTEP: usize = 5;

/// Fewer streams than this are better decoded alone: besides the Rice
/// codes, a stream decoded alone restores eight of its own frames side by
/// side, where a group restores one frame of each of its streams.
pub(crate) const MIN_STREAMS: usize = MIN_LOCKSTEP;

/// One stream of a group: its bytes (STREAMINFO checked by the caller),
/// its length, and where its samples go, each through `convert`.
pub(crate) struct Stream<'a, T, F> {
    pub bytes: &'a [u8],
    pub info: StreamInfo,
    pub out: &'a mut [T],
    pub convert: F,
}

/// Per-thread buffers: two channels per stream, the lockstep rows, the
/// restore's rows.
#[derive(Default)]
struct Scratch {
    samples: [Aligned<i64>; 2 * GROUP],
    /// Per channel, the lockstep kernel's rows (residuals by sample).
    codes: [Aligned<[i64; LANES]>; 2],
    rows: Rows,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Whether this CPU runs the group decoder.
pub(crate) fn runs_here() -> bool {
    rice8::runs_here() && crate::codec::cpu::has_avx512_ifma()
}

/// Decodes up to [`GROUP`] whole streams (each `out` as long as its
/// stream); returns, per stream, whether it was decoded. A stream not
/// decoded is left for [`super::run`].
pub(crate) fn run_group<T, F: Fn(i64) -> T>(streams: &mut [Stream<'_, T, F>]) -> [bool; GROUP] {
    assert!(streams.len() <= GROUP, "at most {GROUP} streams");
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => decode(streams, &mut scratch),
        Err(_) => decode(streams, &mut Scratch::default()),
    })
}

/// A stream's place in the group between frames.
struct Lane<'a> {
    r: BitReader<'a>,
    /// The next frame's first sample.
    next: u64,
    /// Byte where the current frame starts.
    frame_start: usize,
    frame: Option<Frame>,
    /// Per channel: whether the frame's LPC subframe waits in the
    /// channel's rows (else in the lane's buffer).
    in_rows: [bool; 2],
}

fn decode<T, F: Fn(i64) -> T>(
    streams: &mut [Stream<'_, T, F>],
    scratch: &mut Scratch,
) -> [bool; GROUP] {
    let mut done = [false; GROUP];
    let mut first_round = true;
    let mut lanes: [Option<Lane<'_>>; GROUP] = Default::default();
    for (lane, stream) in lanes.iter_mut().zip(streams.iter()) {
        *lane = Some(Lane {
            r: BitReader::new(stream.bytes, stream.info.audio_start),
            next: 0,
            frame_start: 0,
            frame: None,
            in_rows: [false; 2],
        });
    }
    loop {
        // frame headers; a lane that cannot go on leaves the group
        for (l, slot) in lanes.iter_mut().enumerate() {
            let Some(lane) = slot else { continue };
            let stream = &streams[l];
            match next_frame(lane, stream.bytes, &stream.info, stream.out.len() as u64) {
                Some(frame) => {
                    let block = frame.needed;
                    for buffer in &mut scratch.samples[2 * l..2 * l + 2] {
                        if buffer.len() < block {
                            buffer.resize(block);
                        }
                    }
                    lane.frame = Some(frame);
                    lane.in_rows = [false; 2];
                }
                None => *slot = None,
            }
        }
        if lanes.iter().all(Option::is_none) {
            return done;
        }
        // each channel's subframes, the first channels of all lanes first
        let mut together = false;
        for channel in 0..2 {
            together |= read_subframes(&mut lanes, channel, scratch);
        }
        for (l, slot) in lanes.iter_mut().enumerate() {
            let Some(lane) = slot else { continue };
            if check_crc(&mut lane.r, streams[l].bytes, lane.frame_start).is_err() {
                *slot = None;
            }
        }
        restore_pending(&mut lanes, scratch);
        for (l, slot) in lanes.iter_mut().enumerate() {
            let Some(lane) = slot else { continue };
            let frame = lane.frame.take().expect("a frame read");
            let [a, b] = &mut scratch.samples[2 * l..2 * l + 2] else {
                unreachable!("two buffers per lane")
            };
            if frame.finish(a, b).is_err() {
                *slot = None;
                continue;
            }
            let stream = &mut streams[l];
            frame.emit(a, b, 0, stream.out, &stream.convert);
            let end = frame.start + frame.needed as u64;
            lane.next = end;
            let stream_len = stream.out.len() as u64;
            if end == stream_len {
                let at = lane.r.bit_position() / 8;
                done[l] =
                    crate::codec::check_stream_end(end, stream_len, at, stream.bytes.len()).is_ok();
                *slot = None;
            }
        }
        if !together && first_round {
            // nothing was read in lockstep: the streams go on alone
            hand_over(&mut lanes, streams, &mut done);
            return done;
        }
        first_round = false;
    }
}

/// Decodes the rest of each lane's stream alone, from its next frame on,
/// with the checks [`super::run`] makes; a lane's stream is done if that
/// read completes.
fn hand_over<T, F: Fn(i64) -> T>(
    lanes: &mut [Option<Lane<'_>>; GROUP],
    streams: &mut [Stream<'_, T, F>],
    done: &mut [bool; GROUP],
) {
    for (l, slot) in lanes.iter_mut().enumerate() {
        let Some(lane) = slot.take() else { continue };
        let stream = &mut streams[l];
        let stream_len = stream.out.len() as u64;
        let rest = &mut stream.out[lane.next as usize..];
        let from = lane.r.bit_position() / 8;
        done[l] = matches!(
            super::run(
                stream.bytes,
                &stream.info,
                from,
                lane.next,
                stream_len,
                rest,
                &stream.convert
            ),
            Ok(crate::codec::Outcome::Complete)
        );
    }
}

/// Reads the next frame's header, if the lane can take it: the frame
/// follows the last one, ends within the stream, and its subframes are of
/// at most 32 bits.
fn next_frame(
    lane: &mut Lane<'_>,
    bytes: &[u8],
    info: &StreamInfo,
    stream_len: u64,
) -> Option<Frame> {
    lane.frame_start = lane.r.bit_position() / 8;
    if lane.frame_start >= bytes.len() {
        return None;
    }
    let header = read_frame_header(&mut lane.r, info).ok()?;
    let block = header.block_size as u64;
    if header.start != lane.next || header.start + block > stream_len {
        return None;
    }
    let frame = Frame {
        start: header.start,
        needed: header.block_size,
        layout: header.layout,
        bits: header.bits_per_sample,
        narrow: [Some(true); 2],
        pending: [None; 2],
    };
    let channels = header.layout.channels();
    (channels <= 2 && (0..channels).all(|c| frame.layout.channel_bits(frame.bits, c) <= 32))
        .then_some(frame)
}

/// Reads channel `channel`'s subframe of every lane's frame: headers one by
/// one, then the residuals of the predicted ones together. Fixed
/// subframes are restored here; LPC ones wait in their frame's `pending`.
/// Returns whether residuals were read in lockstep.
fn read_subframes(
    lanes: &mut [Option<Lane<'_>>; GROUP],
    channel: usize,
    scratch: &mut Scratch,
) -> bool {
    let Scratch { samples, codes, .. } = scratch;
    let mut buffers: [Option<&mut [i64]>; GROUP] = Default::default();
    for (slot, buffer) in buffers
        .iter_mut()
        .zip(samples.iter_mut().skip(channel).step_by(2))
    {
        *slot = Some(&mut buffer[..]);
    }
    let mut heads: [Option<Predicted>; GROUP] = [None; GROUP];
    for (l, slot) in lanes.iter_mut().enumerate() {
        let Some(lane) = slot else { continue };
        let frame = lane.frame.as_mut().expect("a frame read");
        if channel >= frame.layout.channels() {
            continue;
        }
        let bits = frame.layout.channel_bits(frame.bits, channel);
        let out = &mut buffers[l].as_mut().expect("a buffer per lane")[..frame.needed];
        match read_head(&mut lane.r, bits, out.len(), out) {
            Ok(Head::Read { wasted }) => {
                shift_wasted::<false>(out, wasted);
                if !fits(out, bits) {
                    *slot = None;
                }
            }
            Ok(Head::Predicted(predicted)) => heads[l] = Some(predicted),
            Err(_) => *slot = None,
        }
    }
    // residuals of parameter 0 (as the first partition's says) read
    // faster alone, a window at a time (`super::unary`)
    let mut in_lockstep = heads;
    for (head, lane) in in_lockstep.iter_mut().zip(lanes.iter()) {
        if let (Some(h), Some(lane)) = (head.as_ref(), lane) {
            if first_parameter(lane, h) == Some(0) {
                *head = None;
            }
        }
    }
    let together = in_lockstep.iter().flatten().count() >= MIN_LOCKSTEP;
    if together {
        lockstep(lanes, &in_lockstep, &mut buffers, &mut codes[channel]);
        for (lane, head) in lanes.iter_mut().zip(&in_lockstep) {
            if let (Some(lane), Some(head)) = (lane, head) {
                lane.in_rows[channel] = !head.fixed;
            }
        }
    }
    // the others one by one
    for (l, head) in heads.iter().enumerate() {
        if together && in_lockstep[l].is_some() {
            continue;
        }
        let (Some(head), Some(lane)) = (head, lanes[l].as_mut()) else {
            continue;
        };
        let block = lane.frame.as_ref().expect("a frame read").needed;
        let out = &mut buffers[l].as_mut().expect("a buffer per lane")[..block];
        if read_partitions(&mut lane.r, &head.partitions, head.order, block, out, 0).is_err() {
            lanes[l] = None;
        }
    }
    for (l, head) in heads.iter().enumerate() {
        let (Some(head), Some(lane)) = (head, lanes[l].as_mut()) else {
            continue;
        };
        let frame = lane.frame.as_mut().expect("a frame read");
        let block = frame.needed;
        if head.fixed {
            let out = &mut buffers[l].as_mut().expect("a buffer per lane")[..block];
            head.restore::<false>(out, block);
            if !fits(out, head.bits) {
                lanes[l] = None;
            }
        } else {
            frame.narrow[channel] = None;
            frame.pending[channel] = Some(head.pending(block));
        }
    }
    together
}

/// The Rice parameter of a predicted subframe's first partition (`None`
/// for an escaped partition or too little data), read ahead of the lane.
fn first_parameter(lane: &Lane<'_>, head: &Predicted) -> Option<u32> {
    let param = lane.r.clone().bits(head.partitions.param_bits).ok()?;
    (param != head.partitions.escape()).then_some(param)
}

/// The residuals of the lanes' predicted subframes (`heads`), decoded in
/// lockstep into `codes` and moved to each lane's buffer; what the kernel
/// leaves of a lane is read by the scalar reader.
fn lockstep(
    lanes: &mut [Option<Lane<'_>>; GROUP],
    heads: &[Option<Predicted>; GROUP],
    buffers: &mut [Option<&mut [i64]>; GROUP],
    codes: &mut Aligned<[i64; LANES]>,
) {
    let mut sections: [Option<Section<'_>>; LANES] = [None; LANES];
    let mut longest = 0;
    for (l, head) in heads.iter().enumerate() {
        let (Some(head), Some(lane)) = (head, lanes[l].as_ref()) else {
            continue;
        };
        let block = lane.frame.as_ref().expect("a frame read").needed;
        sections[l] = Some(Section {
            data: lane.r.data,
            bit: lane.r.bit_position(),
            param_bits: head.partitions.param_bits,
            per_partition: head.partitions.per_partition,
            order: head.order,
            codes: block - head.order,
        });
        longest = longest.max(block);
    }
    // (whole blocks of eight rows, for the transposes)
    let rows = longest.next_multiple_of(LANES);
    if codes.len() < rows {
        codes.resize(rows);
    }
    let stops = rice8::rice8(&sections, &mut codes[..rows]);
    // the fixed predictors' residuals go to the buffers; the LPC ones stay
    // in the rows for the side-by-side restore
    let mut outs: [&mut [i64]; LANES] = Default::default();
    let mut ranges: [std::ops::Range<usize>; LANES] = Default::default();
    for (l, (out, buffer)) in outs.iter_mut().zip(buffers.iter_mut()).enumerate() {
        if let (Some(head), Some(buffer)) = (&heads[l], buffer.as_mut()) {
            if head.fixed {
                *out = &mut buffer[..];
                ranges[l] = head.order..head.order + stops[l].codes;
            }
        }
    }
    rice8::columns(&codes[..rows], &mut outs, &ranges);
    for (l, head) in heads.iter().enumerate() {
        let (Some(head), Some(lane)) = (head, lanes[l].as_mut()) else {
            continue;
        };
        let stop = stops[l];
        let block = lane.frame.as_ref().expect("a frame read").needed;
        let out = &mut buffers[l].as_mut().expect("a buffer per lane")[..block];
        let rest = lane.r.seek(stop.bit).and_then(|()| {
            read_rest(
                &mut lane.r,
                &head.partitions,
                head.order,
                out,
                stop.codes,
                stop.k,
            )
        });
        if rest.is_err() {
            lanes[l] = None;
            continue;
        }
        if !head.fixed {
            // what the scalar reader read joins the rows
            for (i, row) in codes[..block]
                .iter_mut()
                .enumerate()
                .skip(head.order + stop.codes)
            {
                row[l] = out[i];
            }
        }
    }
}

/// Restores the lanes' waiting LPC subframes, up to eight side by side,
/// and records whether each fits its channel's bits.
fn restore_pending(lanes: &mut [Option<Lane<'_>>; GROUP], scratch: &mut Scratch) {
    let Scratch {
        samples,
        rows,
        codes,
    } = scratch;
    // those in the lockstep rows, a channel at a time
    for (channel, codes) in codes.iter_mut().enumerate() {
        let mut in_rows: [Option<(&mut [i64], Pending)>; LANES] = Default::default();
        for ((slot, lane), buffer) in in_rows
            .iter_mut()
            .zip(lanes.iter_mut())
            .zip(samples.iter_mut().skip(channel).step_by(2))
        {
            let Some(lane) = lane else { continue };
            let frame = lane.frame.as_mut().expect("a frame read");
            if lane.in_rows[channel] {
                if let Some(pending) = frame.pending[channel].take() {
                    *slot = Some((&mut buffer[..], pending));
                }
            }
        }
        if in_rows.iter().all(Option::is_none) {
            continue;
        }
        let narrow = restore_rows(&mut in_rows, codes);
        for (lane, fit) in lanes.iter_mut().zip(narrow) {
            let Some(frame) = lane.as_mut().and_then(|lane| lane.frame.as_mut()) else {
                continue;
            };
            if frame.narrow[channel].is_none() && frame.pending[channel].is_none() {
                match fit {
                    Some(fit) => frame.narrow[channel] = Some(fit),
                    // the residuals are spent: the stream is decoded alone
                    None => *lane = None,
                }
            }
        }
    }
    // the others, from the lanes' buffers
    let pending: [Option<Pending>; 2 * GROUP] = std::array::from_fn(|index| {
        lanes[index / 2]
            .as_ref()
            .and_then(|lane| lane.frame.as_ref())
            .and_then(|frame| frame.pending[index % 2])
    });
    let narrow = restore_waiting(samples, &pending, rows);
    for (index, fit) in narrow.into_iter().enumerate() {
        let frame = lanes[index / 2]
            .as_mut()
            .and_then(|lane| lane.frame.as_mut());
        if let (Some(fit), Some(frame)) = (fit, frame) {
            frame.narrow[index % 2] = Some(fit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{encode_i32, stream_info, EncodeOptions};

    /// Eight streams of three frames and a bit: a first frame of steps of
    /// -1, 0 or 1 (or all zeros, every third stream), nothing the lockstep
    /// kernel reads, then noise.
    fn quiet_then_noisy() -> (Vec<Vec<i32>>, Vec<Vec<u8>>) {
        let len = 3 * 4096 + 100;
        let datas: Vec<Vec<i32>> = (0..8u64)
            .map(|s| {
                let mut next = crate::test_rng::xorshift(0x5eed + s);
                let mut level = 0i32;
                (0..len)
                    .map(|i| match i {
                        _ if i >= 4096 => (next() % 4001) as i32 - 2000,
                        _ if s % 3 == 0 => 0,
                        _ => {
                            level += (next() % 3) as i32 - 1;
                            level
                        }
                    })
                    .collect()
            })
            .collect();
        let options = EncodeOptions {
            block_size: 4096,
            ..EncodeOptions::default()
        };
        let bytes = datas
            .iter()
            .map(|d| encode_i32(d, &options).unwrap())
            .collect();
        (datas, bytes)
    }

    fn decode_group(bytes: &[Vec<u8>], outs: &mut [Vec<i32>]) -> [bool; GROUP] {
        let mut streams: Vec<_> = bytes
            .iter()
            .zip(outs.iter_mut())
            .map(|(b, out)| Stream {
                bytes: b,
                info: stream_info(b).unwrap(),
                out,
                convert: |v: i64| v as i32,
            })
            .collect();
        run_group(&mut streams)
    }

    #[test]
    fn streams_handed_over_after_a_quiet_first_frame_are_finished_alone() {
        if !runs_here() {
            return;
        }
        let (datas, mut bytes) = quiet_then_noisy();
        let mut outs = vec![vec![0i32; datas[0].len()]; GROUP];
        assert_eq!(decode_group(&bytes, &mut outs), [true; GROUP]);
        assert_eq!(outs, datas);
        // damage in stream 5's third frame: that stream is left to the
        // caller, the others are finished
        let at = bytes[5].len() * 3 / 4;
        bytes[5][at] ^= 0x10;
        let mut outs = vec![vec![0i32; datas[0].len()]; GROUP];
        let done = decode_group(&bytes, &mut outs);
        for (s, (out, data)) in outs.iter().zip(&datas).enumerate() {
            assert_eq!(done[s], s != 5, "stream {s}");
            if s != 5 {
                assert_eq!(out, data, "stream {s}");
            }
        }
    }
}
