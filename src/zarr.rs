//! Zarr v3 export and import (through zarrs, on the filesystem), in the
//! group layout of [`crate::container`] (the reference's format 1), readable
//! by zarr-python and by the reference package. Groups written by
//! zarr-python with its default codecs (zstd, gzip, blosc, crc32c) are read.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use zarrs::array::{data_type, Array, ArrayBuilder, ArrayMetadataOptions, DataType};
use zarrs::filesystem::FilesystemStore;
use zarrs::group::{Group, GroupBuilder};
use zarrs::storage::{ListableStorageTraits, ReadableStorageTraits, StoreKey, StorePrefix};

use crate::array::{FlacArray, FlacArrayRef};
use crate::container::{
    self, ArrayInfo, FieldValues, GroupDescription, PlannedArray, ARRAYS, ATTR_VERSION, COMPRESSED,
    GAINS, NBYTES, OFFSETS, STAGED_PREFIX, STARTS,
};
use crate::error::{Error, ErrorKind, Result};
pub use crate::fsio::IfExists;

/// Format version written to the group attributes.
pub const FORMAT_VERSION: &str = container::FORMAT_VERSION;

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

/// Writes the planned array `planned` of `values` (fill value 0).
fn write_planned<T>(
    store: &Arc<Store>,
    planned: &PlannedArray,
    dtype: DataType,
    values: &[T],
) -> Result<()>
where
    T: zarrs::array::Element + Default + Into<zarrs::array::builder::ArrayBuilderFillValue>,
{
    let shape = planned.shape.clone();
    let mut builder = ArrayBuilder::new(shape.clone(), planned.chunks.clone(), dtype, T::default());
    builder.attributes(planned.attributes.clone());
    let name = planned.name;
    let array = builder
        .build(store.clone(), &format!("/{name}"))
        .map_err(io)?;
    // Per write, not through zarrs' global configuration: a library never
    // changes how its host's own zarrs writes behave.
    array
        .store_metadata_opt(&ArrayMetadataOptions::default().with_include_zarrs_metadata(false))
        .map_err(io)?;
    let ranges: Vec<std::ops::Range<u64>> = shape.iter().map(|&d| 0..d).collect();
    // Every chunk is stored, even one holding only the fill value: a
    // missing chunk then always means damage (see `container::describe`).
    let options = zarrs::array::CodecOptions::default().with_store_empty_chunks(true);
    array
        .store_array_subset_opt(&ranges.as_slice(), values, &options)
        .map_err(io)?;
    Ok(())
}

fn write_group(path: &Path, array: &FlacArrayRef<'_>) -> Result<()> {
    let parts = array.parts();
    let plan = container::plan_write(&parts)?;
    std::fs::create_dir(path)?;
    let store = store_at(path)?;
    let group = GroupBuilder::new()
        .attributes(plan.attributes)
        .build(store.clone(), "/")
        .map_err(io)?;
    group.store_metadata().map_err(io)?;
    for planned in plan.arrays {
        let values = planned
            .field
            .values(&parts)
            .ok_or_else(|| Error::invalid(format!("the array has no {}", planned.field.name())))?;
        let planned = &planned;
        match (values, planned.dtype) {
            (FieldValues::Bytes(v), "uint8") => {
                write_planned(&store, planned, data_type::uint8(), v)?
            }
            (FieldValues::Counts(v), "int64") => {
                let v: Vec<i64> = v.iter().map(|&x| x as i64).collect();
                write_planned(&store, planned, data_type::int64(), &v)?
            }
            (FieldValues::Floats(v), "float64") => {
                write_planned(&store, planned, data_type::float64(), v)?
            }
            (FieldValues::Floats(v), "float32") => {
                let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
                write_planned(&store, planned, data_type::float32(), &v)?
            }
            (_, dtype) => {
                return Err(Error::invalid(format!(
                    "cannot store {} as {dtype}",
                    planned.field.name()
                )))
            }
        }
    }
    Ok(())
}

/// Says why the directory at `path` is not a flacarray zarr group holding
/// only its own arrays (which is all an overwrite may replace).
fn replaceable(path: &Path) -> std::result::Result<(), String> {
    if !path.is_dir() {
        return Err("it is not a directory".into());
    }
    let is_flacarray = std::fs::read(path.join("zarr.json"))
        .ok()
        .and_then(|text| serde_json::from_slice::<Value>(&text).ok())
        .is_some_and(|meta| meta["attributes"].get(ATTR_VERSION).is_some());
    if !is_flacarray {
        return Err("it is not a flacarray zarr group".into());
    }
    // Ours: the format's arrays (under their names, or staged by a write
    // that was cut short), nothing else; a group or file that merely has
    // one of those names is someone else's.
    let is_array = |name: &str| {
        std::fs::read(path.join(name).join("zarr.json"))
            .ok()
            .and_then(|text| serde_json::from_slice::<Value>(&text).ok())
            .is_some_and(|meta| meta["node_type"] == "array")
    };
    let ours = |name: &str| {
        let format_name = name.strip_prefix(STAGED_PREFIX).unwrap_or(name);
        ARRAYS.contains(&format_name) && is_array(name)
    };
    let entries = std::fs::read_dir(path).map_err(|e| e.to_string())?;
    let foreign: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "zarr.json" && !ours(name))
        .collect();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(format!("it also holds {}", foreign.join(", ")))
    }
}

/// Writes `array` as a zarr v3 group at `path`, in format 1 (64-bit streams
/// from format 0 files are re-encoded to 2 channels first).
///
/// The group is written beside `path` and renamed into place, so a failed
/// write leaves nothing behind. An existing non-empty `path` is refused
/// with [`ErrorKind::AlreadyExists`] unless `if_exists` is
/// [`IfExists::Overwrite`], and even then it is replaced only when it is a
/// flacarray group holding nothing but its own arrays.
pub fn write_array(path: impl AsRef<Path>, array: &FlacArray, if_exists: IfExists) -> Result<()> {
    write_view(path, &array.view(), if_exists)
}

/// [`write_array`] from borrowed parts (their level is recorded, and used
/// if a stream must be re-encoded into format 1's layout): nothing is
/// copied when the streams already are in that layout.
pub fn write_view(
    path: impl AsRef<Path>,
    array: &FlacArrayRef<'_>,
    if_exists: IfExists,
) -> Result<()> {
    container::check_group_dtype(array.dtype())?;
    let converted = array.to_current_layout()?;
    let array = match &converted {
        Some(converted) => converted.view(),
        None => array.shorten(),
    };
    crate::fsio::write_atomically(
        path.as_ref(),
        if_exists,
        "zarr group",
        replaceable,
        |temp| write_group(temp, &array),
    )
}

fn open(store: &Arc<Store>, name: &str) -> Result<Array<Store>> {
    Array::open(store.clone(), &format!("/{name}"))
        .map_err(|e| Error::corrupt(format!("zarr group has no readable '{name}' array: {e}")))
}

fn dtype_name(dtype: &DataType) -> &'static str {
    let known = [
        (data_type::uint8(), "uint8"),
        (data_type::uint16(), "uint16"),
        (data_type::uint32(), "uint32"),
        (data_type::uint64(), "uint64"),
        (data_type::int8(), "int8"),
        (data_type::int16(), "int16"),
        (data_type::int32(), "int32"),
        (data_type::int64(), "int64"),
        (data_type::float32(), "float32"),
        (data_type::float64(), "float64"),
    ];
    known
        .into_iter()
        .find(|(d, _)| d == dtype)
        .map_or("unsupported", |(_, name)| name)
}

/// Describes one array for the container rules: how much is stored and
/// how many chunks are missing (zarr-python leaves out chunks that hold
/// only the fill value; the rules decide what that means).
fn array_info(store: &Arc<Store>, name: &str, array: &Array<Store>) -> Result<ArrayInfo> {
    let prefix = StorePrefix::new(format!("{name}/")).map_err(io)?;
    let stored = store.size_prefix(&prefix).map_err(io)?;
    let grid = array.chunk_grid_shape();
    let chunk_count = grid.iter().try_fold(1u64, |n, &d| n.checked_mul(d));
    let mut info = ArrayInfo {
        shape: array.shape().to_vec(),
        dtype: dtype_name(array.data_type()).to_string(),
        stored_bytes: Some(stored),
        missing_chunks: None,
        chunk_elements: None,
        chunk_count: Some(chunk_count.unwrap_or(u64::MAX)),
    };
    if info.chunks_worth_listing() {
        let mut missing = 0;
        for index in chunk_indices(grid) {
            if store
                .size_key(&array.chunk_key(&index))
                .map_err(io)?
                .is_none()
            {
                missing += 1;
            }
        }
        info.missing_chunks = Some(missing);
    }
    let origin = vec![0; array.dimensionality()];
    let chunk_elements = array
        .chunk_shape(&origin)
        .map_err(corrupt)?
        .iter()
        .try_fold(1u64, |n, d| n.checked_mul(d.get()))
        .unwrap_or(u64::MAX);
    info.chunk_elements = Some(chunk_elements);
    Ok(info)
}

/// Every chunk index of a chunk grid, in C order (the grid's size is
/// bounded by the stored bytes before this is called).
fn chunk_indices(grid: &[u64]) -> Vec<Vec<u64>> {
    let mut indices = vec![Vec::new()];
    for &d in grid {
        indices = indices
            .into_iter()
            .flat_map(|prefix| {
                (0..d).map(move |i| {
                    let mut index = prefix.clone();
                    index.push(i);
                    index
                })
            })
            .collect();
    }
    indices
}

fn read_range<T: zarrs::array::ElementOwned>(
    array: &Array<Store>,
    ranges: &[std::ops::Range<u64>],
) -> Result<Vec<T>> {
    array
        .retrieve_array_subset::<Vec<T>>(&ranges)
        .map_err(corrupt)
}

fn read_all<T: zarrs::array::ElementOwned>(array: &Array<Store>) -> Result<Vec<T>> {
    let ranges: Vec<std::ops::Range<u64>> = array.shape().iter().map(|&d| 0..d).collect();
    read_range(array, &ranges)
}

fn read_ints(array: &Array<Store>, name: &str) -> Result<Vec<i64>> {
    let t = array.data_type();
    let widen = |v: Vec<u64>| -> Result<Vec<i64>> {
        v.into_iter()
            .map(|x| i64::try_from(x).map_err(|_| corrupt(format!("'{name}' holds {x}"))))
            .collect()
    };
    Ok(match dtype_name(t) {
        "int64" => read_all::<i64>(array)?,
        "int32" => read_all::<i32>(array)?.into_iter().map(i64::from).collect(),
        "int16" => read_all::<i16>(array)?.into_iter().map(i64::from).collect(),
        "int8" => read_all::<i8>(array)?.into_iter().map(i64::from).collect(),
        "uint64" => widen(read_all::<u64>(array)?)?,
        "uint32" => read_all::<u32>(array)?.into_iter().map(i64::from).collect(),
        "uint16" => read_all::<u16>(array)?.into_iter().map(i64::from).collect(),
        "uint8" => read_all::<u8>(array)?.into_iter().map(i64::from).collect(),
        other => return Err(corrupt(format!("'{name}' holds {other} values"))),
    })
}

fn read_floats(array: &Array<Store>) -> Result<Vec<f64>> {
    if array.data_type() == &data_type::float32() {
        Ok(read_all::<f32>(array)?.into_iter().map(f64::from).collect())
    } else {
        read_all::<f64>(array)
    }
}

/// Reads the array stored as a zarr group at `path` (written by this crate,
/// by the Python package, or by the reference in format 0 or 1). With
/// `keep` (a boolean mask and its shape, which must be the stored leading
/// shape) only the chunks of `compressed` holding kept streams are read,
/// and the result has shape `(kept, stream_size)`.
///
/// Every size the group claims is checked against the data really stored
/// before anything is allocated for it; damage gives [`ErrorKind::Corrupt`].
pub fn read_array(path: impl AsRef<Path>, keep: Option<(&[bool], &[usize])>) -> Result<FlacArray> {
    let path = path.as_ref();
    if !path.is_dir() {
        let kind = if path.exists() {
            std::io::ErrorKind::NotADirectory
        } else {
            std::io::ErrorKind::NotFound
        };
        return Err(Error::at_path(
            path,
            std::io::Error::new(kind, "no zarr group here"),
        ));
    }
    let store = store_at(path)?;
    let group = Group::open(store.clone(), "/")
        .map_err(|e| Error::corrupt(format!("'{}' is not a zarr group: {e}", path.display())))?;
    let mut present = Vec::new();
    for name in ARRAYS {
        for stored in [name.to_string(), format!("{STAGED_PREFIX}{name}")] {
            let key = StoreKey::new(format!("{stored}/zarr.json")).map_err(io)?;
            if store.size_key(&key).map_err(io)?.is_some() {
                present.push(stored);
            }
        }
    }
    let resolution = container::resolve_group(group.attributes(), &present)?;
    let mut desc = GroupDescription {
        attributes: resolution.attributes,
        ..Default::default()
    };
    let mut arrays = std::collections::BTreeMap::new();
    for (name, stored) in &resolution.arrays {
        // A missing array is reported by the rules; an unreadable one here.
        let array = open(&store, stored)?;
        desc.arrays
            .insert(name.clone(), array_info(&store, stored, &array)?);
        if name == STARTS {
            desc.starts_attributes = array.attributes().clone();
        }
        arrays.insert(name.as_str(), array);
    }
    let layout = container::describe(&desc)?;
    let starts = read_ints(&arrays[STARTS], STARTS)?;
    let nbytes = read_ints(&arrays[NBYTES], NBYTES)?;
    let (offsets, gains) = match (arrays.get(OFFSETS), arrays.get(GAINS)) {
        (Some(o), Some(g)) => (Some(read_floats(o)?), Some(read_floats(g)?)),
        _ => (None, None),
    };
    let plan = container::plan_read(
        &layout,
        &starts,
        &nbytes,
        offsets.as_deref(),
        gains.as_deref(),
        keep,
    )?;
    let bytes_array = &arrays[COMPRESSED];
    let compressed = match plan.runs.as_slice() {
        // one run (a whole array, say): zarrs' buffer is the array's
        [(a, b)] => read_range::<u8>(bytes_array, std::slice::from_ref(&(*a..*b)))?,
        runs => {
            let total: u64 = runs.iter().map(|(a, b)| b - a).sum();
            let mut compressed = Vec::with_capacity(total as usize);
            for &(a, b) in runs {
                compressed.extend(read_range::<u8>(
                    bytes_array,
                    std::slice::from_ref(&(a..b)),
                )?);
            }
            compressed
        }
    };
    plan.into_array(compressed)
}
