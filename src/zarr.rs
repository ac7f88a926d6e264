//! Zarr v3 export and import (through zarrs, on the filesystem), in the
//! same group layout as the HDF5 and zarr-python containers (format 1):
//! `compressed` (uint8, raw 1 MiB chunks), `stream_starts` (with the
//! `stream_size` attribute), `stream_bytes`, and for floats
//! `stream_offsets` / `stream_gains`, plus the group attributes.

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Map, Value};
use zarrs::array::{data_type, Array, ArrayBuilder};
use zarrs::filesystem::FilesystemStore;
use zarrs::group::{Group, GroupBuilder};

use crate::array::{DType, FlacArray, FlacArrayParts};
use crate::error::{Error, ErrorKind, Result};

/// Chunk length of the `compressed` byte array.
pub const BYTES_CHUNK: u64 = 1 << 20;
/// Format version written to the group attributes.
pub const FORMAT_VERSION: &str = "1";

fn io(err: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Io, format!("zarr: {err}"))
}

fn corrupt(err: impl std::fmt::Display) -> Error {
    Error::corrupt(format!("zarr: {err}"))
}

type Store = FilesystemStore;

fn store_at(path: &Path) -> Result<Arc<Store>> {
    Ok(Arc::new(FilesystemStore::new(path).map_err(io)?))
}

/// Writes one 1-D or N-D array of `values` (fill value 0) in one piece,
/// or in chunks of `chunk` elements along a 1-D array.
fn write_vec<T>(
    store: &Arc<Store>,
    name: &str,
    shape: Vec<u64>,
    chunk: Option<u64>,
    dtype: zarrs::array::DataType,
    values: &[T],
    attributes: Map<String, Value>,
) -> Result<()>
where
    T: zarrs::array::Element + Default + Into<zarrs::array::builder::ArrayBuilderFillValue>,
{
    let chunk_shape = match chunk {
        Some(c) => vec![c],
        None => shape.clone(),
    };
    let mut builder = ArrayBuilder::new(shape.clone(), chunk_shape, dtype, T::default());
    builder.attributes(attributes);
    let array = builder
        .build(store.clone(), &format!("/{name}"))
        .map_err(io)?;
    array.store_metadata().map_err(io)?;
    let ranges: Vec<std::ops::Range<u64>> = shape.iter().map(|&d| 0..d).collect();
    array
        .store_array_subset(&ranges.as_slice(), values)
        .map_err(io)?;
    Ok(())
}

/// Writes `array` as a zarr v3 group at `path` (created or replaced).
pub fn write_array(path: impl AsRef<Path>, array: &FlacArray) -> Result<()> {
    let path = path.as_ref();
    if path.exists() {
        std::fs::remove_dir_all(path)?;
    }
    zarrs::config::global_config_mut().set_include_zarrs_metadata(false);
    let store = store_at(path)?;
    let wide = matches!(array.dtype(), DType::Int64 | DType::Float64);
    let mut attrs = Map::new();
    attrs.insert("flacarray_format_version".into(), json!(FORMAT_VERSION));
    attrs.insert(
        "flacarray_software_version".into(),
        json!(format!("flacarray-rs {}", env!("CARGO_PKG_VERSION"))),
    );
    attrs.insert("flac_channels".into(), json!(if wide { "2" } else { "1" }));
    attrs.insert("flacarray_dtype".into(), json!(array.dtype().name()));
    attrs.insert("flacarray_shape".into(), json!(array.shape()));
    let group = GroupBuilder::new()
        .attributes(attrs)
        .build(store.clone(), "/")
        .map_err(io)?;
    group.store_metadata().map_err(io)?;

    let n = array.nbytes() as u64;
    write_vec(
        &store,
        "compressed",
        vec![n],
        Some(BYTES_CHUNK.min(n).max(1)),
        data_type::uint8(),
        array.compressed(),
        Map::new(),
    )?;
    let lead: Vec<u64> = if array.leading_shape().is_empty() {
        vec![1]
    } else {
        array.leading_shape().iter().map(|&d| d as u64).collect()
    };
    let starts: Vec<i64> = array.stream_starts().iter().map(|&v| v as i64).collect();
    let nbytes: Vec<i64> = array.stream_nbytes().iter().map(|&v| v as i64).collect();
    let mut size_attr = Map::new();
    size_attr.insert("stream_size".into(), json!(array.stream_size()));
    write_vec(
        &store,
        "stream_starts",
        lead.clone(),
        None,
        data_type::int64(),
        &starts,
        size_attr,
    )?;
    write_vec(
        &store,
        "stream_bytes",
        lead.clone(),
        None,
        data_type::int64(),
        &nbytes,
        Map::new(),
    )?;
    if let (Some(offsets), Some(gains)) = (array.stream_offsets(), array.stream_gains()) {
        for (name, values) in [("stream_offsets", offsets), ("stream_gains", gains)] {
            if array.dtype() == DType::Float32 {
                let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
                write_vec(
                    &store,
                    name,
                    lead.clone(),
                    None,
                    data_type::float32(),
                    &v,
                    Map::new(),
                )?;
            } else {
                write_vec(
                    &store,
                    name,
                    lead.clone(),
                    None,
                    data_type::float64(),
                    values,
                    Map::new(),
                )?;
            }
        }
    }
    Ok(())
}

fn open(store: &Arc<Store>, name: &str) -> Result<Array<Store>> {
    Array::open(store.clone(), &format!("/{name}"))
        .map_err(|e| Error::corrupt(format!("zarr group has no readable '{name}' array: {e}")))
}

fn read_all<T: zarrs::array::ElementOwned>(array: &Array<Store>) -> Result<Vec<T>> {
    let ranges: Vec<std::ops::Range<u64>> = array.shape().iter().map(|&d| 0..d).collect();
    array
        .retrieve_array_subset::<Vec<T>>(&ranges.as_slice())
        .map_err(corrupt)
}

fn read_floats(array: &Array<Store>) -> Result<Vec<f64>> {
    if array.data_type() == &data_type::float32() {
        Ok(read_all::<f32>(array)?.into_iter().map(f64::from).collect())
    } else if array.data_type() == &data_type::float64() {
        read_all::<f64>(array)
    } else {
        Err(Error::corrupt(
            "stream offsets/gains must be float32 or float64",
        ))
    }
}

fn attr_string(attrs: &Map<String, Value>, name: &str) -> Option<String> {
    attrs.get(name).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// Reads the array stored as a zarr group at `path` (written by this crate,
/// by the Python package, or by the reference in format 0 or 1). With
/// `keep` (one flag per stream, C order) only the chunks of `compressed`
/// holding kept streams are read and the result has shape
/// `(kept, stream_size)`.
pub fn read_array(path: impl AsRef<Path>, keep: Option<&[bool]>) -> Result<FlacArray> {
    let path = path.as_ref();
    if !path.is_dir() {
        return Err(Error::new(
            ErrorKind::Io,
            format!("no zarr group at {}", path.display()),
        ));
    }
    let store = store_at(path)?;
    let group = Group::open(store.clone(), "/")
        .map_err(|e| Error::corrupt(format!("not a zarr group: {e}")))?;
    let attrs = group.attributes();
    let version = attr_string(attrs, "flacarray_format_version").ok_or_else(|| {
        Error::corrupt(
            "zarr group has no 'flacarray_format_version' attribute: not a flacarray group",
        )
    })?;
    if version != "0" && version != "1" {
        return Err(Error::unsupported(format!(
            "unsupported flacarray format version '{version}'"
        )));
    }
    let starts_arr = open(&store, "stream_starts")?;
    let stream_size = starts_arr
        .attributes()
        .get("stream_size")
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::corrupt("'stream_starts' has no 'stream_size' attribute"))?
        as usize;
    let starts = read_all::<i64>(&starts_arr)?;
    let nbytes = read_all::<i64>(&open(&store, "stream_bytes")?)?;
    let compressed_arr = open(&store, "compressed")?;
    let has_scales = Array::<Store>::open(store.clone(), "/stream_gains").is_ok();
    let (offsets, gains) = if has_scales {
        let gains_arr = open(&store, "stream_gains")?;
        (
            Some(read_floats(&open(&store, "stream_offsets")?)?),
            Some((
                read_floats(&gains_arr)?,
                gains_arr.data_type() == &data_type::float32(),
            )),
        )
    } else {
        (None, None)
    };
    let dtype = match attr_string(attrs, "flacarray_dtype") {
        Some(name) => DType::from_name(&name)?,
        None => match &gains {
            Some((_, true)) => DType::Float32,
            Some((_, false)) => DType::Float64,
            None if attr_string(attrs, "flac_channels").as_deref() == Some("2") => DType::Int64,
            None => DType::Int32,
        },
    };
    let gains = gains.map(|(g, _)| g);
    let lead: Vec<usize> = starts_arr.shape().iter().map(|&d| d as usize).collect();
    let mut shape: Vec<usize> = match attrs.get("flacarray_shape").and_then(Value::as_array) {
        Some(v) => v
            .iter()
            .filter_map(Value::as_u64)
            .map(|d| d as usize)
            .collect(),
        None if lead == [1] => vec![stream_size],
        None => lead.iter().copied().chain([stream_size]).collect(),
    };
    if shape.last() != Some(&stream_size)
        || shape[..shape.len() - 1].iter().product::<usize>() != starts.len()
    {
        shape = lead.iter().copied().chain([stream_size]).collect();
    }
    if starts.len() != nbytes.len() || starts.iter().chain(&nbytes).any(|&v| v < 0) {
        return Err(Error::corrupt(
            "stream_starts and stream_bytes disagree or hold negative values",
        ));
    }
    let total = compressed_arr.shape()[0];
    let selected: Vec<usize> = match keep {
        None => (0..starts.len()).collect(),
        Some(mask) if mask.len() == starts.len() => (0..mask.len()).filter(|&i| mask[i]).collect(),
        Some(mask) => {
            return Err(Error::invalid(format!(
                "keep mask has {} entries but the group has {} streams",
                mask.len(),
                starts.len()
            )))
        }
    };
    // Read each run of adjacent selected streams in one request.
    let mut compressed = Vec::new();
    let mut new_starts = Vec::with_capacity(selected.len());
    let mut run: Option<(u64, u64)> = None;
    let flush = |run: (u64, u64), out: &mut Vec<u8>| -> Result<()> {
        if run.1 > total {
            return Err(Error::corrupt(format!(
                "stream bytes {}..{} point past the {total} compressed bytes",
                run.0, run.1
            )));
        }
        let range = run.0..run.1;
        let subset = std::slice::from_ref(&range);
        out.extend(
            compressed_arr
                .retrieve_array_subset::<Vec<u8>>(&subset)
                .map_err(corrupt)?,
        );
        Ok(())
    };
    for &i in &selected {
        let (a, b) = (starts[i] as u64, (starts[i] + nbytes[i]) as u64);
        new_starts.push((compressed.len() as u64) + run.map_or(0, |r| r.1 - r.0));
        run = match run {
            Some((ra, rb)) if rb == a => Some((ra, b)),
            Some(r) => {
                flush(r, &mut compressed)?;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    if let Some(r) = run {
        flush(r, &mut compressed)?;
    }
    let pick = |v: &Vec<f64>| selected.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    if keep.is_some() {
        shape = vec![selected.len(), stream_size];
    }
    FlacArray::from_parts(FlacArrayParts {
        dtype,
        shape,
        compressed,
        starts: new_starts,
        nbytes: selected.iter().map(|&i| nbytes[i] as u64).collect(),
        offsets: offsets.as_ref().map(pick),
        gains: gains.as_ref().map(pick),
        level: 5,
    })
}
