//! The Polars expression plugin behind `pl.col(c).flac.compress(...)` and
//! `pl.col(c).flac.decompress(...)` (Python side: `flacarray/polars.py`).
//!
//! Columns cross into the Arrow layer through the Arrow C data interface
//! (no copy of the samples), so compression and decompression are exactly
//! [`compress_lists`] and [`decompress_lists`]. The compressed column's
//! dtype is the Polars Extension dtype `flacarray.flac` over the storage
//! struct, with the same JSON metadata as the Arrow extension type.

use arrow_array::{Array, ArrayRef};
use arrow_schema::extension::ExtensionType;
use polars::datatypes::extension::get_extension_type_or_generic;
use polars::prelude::*;
use polars_arrow::ffi as pa_ffi;
use pyo3_polars::derive::{polars_expr, CallerContext};
use serde::Deserialize;

use flacarray::array::{CompressOptions, DType, StepSpec};
use flacarray::arrow::{
    compress_lists, decompress_lists, storage_fields, FlacColumn, FlacExtension, FlacMetadata,
    SampleWindow,
};
use flacarray::codec::Level;
use flacarray::{with_element_type, with_thread_count};

const EXTENSION_NAME: &str = FlacExtension::NAME;

/// Threads for the core's work: one when Polars already runs this call in
/// parallel with others (group_by, over), else the whole pool.
fn threads(context: CallerContext) -> Option<usize> {
    context.parallel().then_some(1)
}

fn compute_err(err: impl std::fmt::Display) -> PolarsError {
    PolarsError::ComputeError(err.to_string().into())
}

/// Chunk `chunk` of a Polars series as an arrow-rs array, through the C
/// data interface and at Polars' own compat level, so no buffer is copied
/// (binary columns stay BinaryView).
fn to_arrow_rs(series: &Series, chunk: usize) -> PolarsResult<ArrayRef> {
    let array = series.to_arrow(chunk, CompatLevel::newest());
    let field =
        polars_arrow::datatypes::Field::new(series.name().clone(), array.dtype().clone(), true);
    let c_array = pa_ffi::export_array_to_c(array);
    let c_schema = pa_ffi::export_field_to_c(&field);
    // SAFETY: both libraries' structs are the Arrow C data interface's
    // ArrowArray / ArrowSchema (#[repr(C)], same layout); ownership moves.
    let c_array: arrow_array::ffi::FFI_ArrowArray = unsafe { std::mem::transmute(c_array) };
    let c_schema: arrow_schema::ffi::FFI_ArrowSchema = unsafe { std::mem::transmute(c_schema) };
    let data = unsafe { arrow_array::ffi::from_ffi(c_array, &c_schema) }.map_err(compute_err)?;
    Ok(arrow_array::make_array(data))
}

/// An arrow-rs array as a Polars series (through the C data interface).
fn from_arrow_rs(name: PlSmallStr, array: &ArrayRef) -> PolarsResult<Series> {
    let (c_array, c_schema) = arrow_array::ffi::to_ffi(&array.to_data()).map_err(compute_err)?;
    // SAFETY: see `to_arrow_rs`.
    let c_array: pa_ffi::ArrowArray = unsafe { std::mem::transmute(c_array) };
    let c_schema: pa_ffi::ArrowSchema = unsafe { std::mem::transmute(c_schema) };
    let field = unsafe { pa_ffi::import_field_from_c(&c_schema) }?;
    let imported = unsafe { pa_ffi::import_array_from_c(c_array, field.dtype().clone()) }?;
    Series::from_arrow(name, imported)
}

/// The core's storage struct as a Polars dtype (streams as Binary, Polars'
/// one binary type).
fn storage_dtype() -> DataType {
    let fields = storage_fields()
        .iter()
        .map(|f| {
            let dtype = match f.data_type() {
                arrow_schema::DataType::Float64 => DataType::Float64,
                _ => DataType::Binary,
            };
            Field::new(f.name().as_str().into(), dtype)
        })
        .collect();
    DataType::Struct(fields)
}

fn extension_type(metadata: &FlacMetadata) -> PolarsResult<ExtensionTypeInstance> {
    Ok(get_extension_type_or_generic(
        EXTENSION_NAME,
        &storage_dtype(),
        Some(&metadata.to_json()),
    ))
}

/// The element type and fixed width (Array) of a compressible input.
fn input_kind(name: &str, dtype: &DataType) -> PolarsResult<(DType, Option<u64>)> {
    let (inner, width) = match dtype {
        DataType::List(inner) => (inner.as_ref(), None),
        DataType::Array(inner, width) => (inner.as_ref(), Some(*width as u64)),
        _ => (&DataType::Null, None),
    };
    let Some(element) = DType::ALL
        .iter()
        .copied()
        .find(|&d| element_dtype(d) == *inner)
    else {
        polars_bail!(InvalidOperation:
            "flac.compress expects a List or Array of {}; column '{name}' is {dtype}",
            DType::names_by(|d| format!("{:?}", element_dtype(d)), "or"))
    };
    Ok((element, width))
}

#[derive(Deserialize)]
struct CompressKwargs {
    level: i64,
    quanta: Option<f64>,
    precision: Option<f64>,
    /// The second input holds one quanta (or precision) per row.
    per_row: Option<String>,
}

/// The output type's metadata (the same for every column of one dtype,
/// whatever the level or row lengths) and the level.
fn plan_metadata(
    name: &str,
    input: &DataType,
    kwargs: &CompressKwargs,
) -> PolarsResult<(FlacMetadata, u32)> {
    let (dtype, _) = input_kind(name, input)?;
    let level = Level::new(kwargs.level)
        .map_err(|e| polars_err!(InvalidOperation: "{}", e.message()))?
        .get();
    Ok((FlacMetadata::new(dtype), level))
}

/// The step rule of a compress call: numbers from the kwargs, or the
/// per-row column (`per_row` names which one it holds).
fn step_rule(kwargs: &CompressKwargs, per_row: Option<&Series>) -> PolarsResult<StepSpec> {
    let column = |name: &str| -> PolarsResult<Option<Vec<f64>>> {
        match (kwargs.per_row.as_deref(), per_row) {
            (Some(which), Some(series)) if which == name => per_row_values(series, name).map(Some),
            // planning: the column exists, its values come later
            (Some(which), None) if which == name => Ok(Some(Vec::new())),
            _ => Ok(None),
        }
    };
    if let Some(other) = kwargs
        .per_row
        .as_deref()
        .filter(|w| !matches!(*w, "quanta" | "precision"))
    {
        polars_bail!(InvalidOperation: "unknown per-row option {other}");
    }
    let quanta = column("quanta")?.or(kwargs.quanta.map(|q| vec![q]));
    let precision = column("precision")?.or(kwargs.precision.map(|p| vec![p]));
    StepSpec::from_options(quanta, precision)
        .map_err(|e| polars_err!(InvalidOperation: "{}", e.message()))
}

fn compress_type(fields: &[Field], kwargs: CompressKwargs) -> PolarsResult<Field> {
    if let DataType::Array(_, 0) = fields[0].dtype() {
        polars_bail!(InvalidOperation:
            "flac.compress: column '{}' is an Array of width 0: no samples to compress", fields[0].name());
    }
    let (metadata, _) = plan_metadata(fields[0].name(), fields[0].dtype(), &kwargs)?;
    // conflicting or integer-only step options fail at plan time
    step_rule(&kwargs, None)?
        .check_dtype(metadata.dtype())
        .map_err(|e| polars_err!(InvalidOperation: "{}", e.message()))?;
    let dtype = DataType::Extension(extension_type(&metadata)?, Box::new(storage_dtype()));
    Ok(Field::new(fields[0].name().clone(), dtype))
}

/// One step value per row; a null becomes NaN ("no step"), which is fine
/// on rows that need none (null, empty or constant rows).
fn per_row_values(series: &Series, name: &str) -> PolarsResult<Vec<f64>> {
    if !series.dtype().is_primitive_numeric() {
        polars_bail!(InvalidOperation:
            "the per-row {name} must be a numeric column or expression, got {} ('{}')",
            series.dtype(), series.name());
    }
    let values = series.cast(&DataType::Float64)?;
    Ok(values
        .f64()?
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect())
}

/// Errors from a batch: Polars hands a plugin one batch at a time (in the
/// streaming engine, a slice of the frame), so row numbers count from the
/// batch's start.
fn batch_err(err: flacarray::Error, rows: usize) -> PolarsError {
    compute_err(format!(
        "{err} (rows are numbered within the {rows}-row batch Polars passed to the plugin)"
    ))
}

fn concat_chunks(name: PlSmallStr, parts: Vec<Series>, empty: DataType) -> PolarsResult<Series> {
    let mut parts = parts.into_iter();
    let Some(mut out) = parts.next() else {
        return Ok(Series::new_empty(name, &empty));
    };
    for part in parts {
        out.append(&part)?;
    }
    Ok(out)
}

#[polars_expr(output_type_func_with_kwargs=compress_type)]
fn flac_compress(
    inputs: &[Series],
    context: CallerContext,
    kwargs: CompressKwargs,
) -> PolarsResult<Series> {
    let input = &inputs[0];
    let (metadata, level) = plan_metadata(input.name(), input.dtype(), &kwargs)?;
    let step = step_rule(&kwargs, inputs.get(1))?;
    let rows = input.len();
    let mut parts = Vec::with_capacity(input.n_chunks());
    let mut first_row = 0;
    for chunk in 0..input.n_chunks() {
        let lists = to_arrow_rs(input, chunk)?;
        let n = lists.len();
        let options = CompressOptions::default()
            .with_level(level)
            .with_step(rows_of_step(&step, first_row, n));
        let column = with_thread_count(threads(context), || {
            compress_lists(lists.as_ref(), &options)
        })
        .map_err(|e| batch_err(e.shift_rows(first_row), rows))?;
        let storage = std::sync::Arc::new(column.storage().clone()) as ArrayRef;
        parts.push(from_arrow_rs(input.name().clone(), &storage)?);
        first_row += n;
    }
    let series = concat_chunks(input.name().clone(), parts, storage_dtype())?;
    Ok(series.into_extension(extension_type(&metadata)?))
}

/// The part of a per-row step rule that covers rows `first..first + n`.
fn rows_of_step(step: &StepSpec, first: usize, n: usize) -> StepSpec {
    let slice = |v: &Vec<f64>| {
        if v.len() == 1 {
            v.clone()
        } else {
            v[first.min(v.len())..(first + n).min(v.len())].to_vec()
        }
    };
    match step {
        StepSpec::Range => StepSpec::Range,
        StepSpec::Quanta(v) => StepSpec::Quanta(slice(v)),
        StepSpec::Precision(v) => StepSpec::Precision(slice(v)),
    }
}

/// The metadata of a `flacarray.flac` input column; a plain storage struct
/// (a reader that dropped the extension type) takes its dtype from `dtype`.
fn flac_metadata(dtype: &DataType, given: Option<&str>) -> PolarsResult<FlacMetadata> {
    match (dtype, given) {
        (DataType::Extension(typ, _), None) if typ.name() == EXTENSION_NAME => {
            let json = typ.serialize_metadata().ok_or_else(
                || polars_err!(InvalidOperation: "flacarray.flac column without metadata"),
            )?;
            FlacMetadata::from_json(&json).map_err(compute_err)
        }
        (DataType::Extension(typ, _), Some(_)) if typ.name() == EXTENSION_NAME => {
            polars_bail!(InvalidOperation:
                "flac.decompress: dtype= is only for plain storage structs; this column knows its dtype")
        }
        (DataType::Struct(fields), Some(name)) if fields.len() == 3 => {
            let dtype = DType::from_name(name).map_err(compute_err)?;
            Ok(FlacMetadata::new(dtype))
        }
        (DataType::Struct(_), None) => polars_bail!(InvalidOperation:
            "flac.decompress of a plain Struct{{stream, offset, gain}} column needs dtype= \
             (one of {})", DType::names("or")),
        (other, _) => polars_bail!(InvalidOperation:
            "flac.decompress expects a flacarray.flac column (made by flac.compress), got {other}"),
    }
}

/// The Polars type of `dtype`'s values.
fn element_dtype(dtype: DType) -> DataType {
    with_element_type!(dtype, T => <T as NumericNative>::PolarsType::get_static_dtype())
}

fn decompress_type(fields: &[Field], kwargs: DecompressKwargs) -> PolarsResult<Field> {
    let metadata = flac_metadata(fields[0].dtype(), kwargs.dtype.as_deref())?;
    let dtype = metadata.dtype();
    Ok(Field::new(
        fields[0].name().clone(),
        DataType::List(Box::new(element_dtype(dtype))),
    ))
}

#[derive(Deserialize)]
struct DecompressKwargs {
    start: Option<i64>,
    stop: Option<i64>,
    /// The dtype of a plain storage struct input.
    dtype: Option<String>,
}

#[polars_expr(output_type_func_with_kwargs=decompress_type)]
fn flac_decompress(
    inputs: &[Series],
    context: CallerContext,
    kwargs: DecompressKwargs,
) -> PolarsResult<Series> {
    let input = &inputs[0];
    let metadata = flac_metadata(input.dtype(), kwargs.dtype.as_deref())?;
    let storage_series = input.to_storage();
    let window = SampleWindow::new(kwargs.start, kwargs.stop);
    let rows = input.len();
    let mut parts = Vec::with_capacity(storage_series.n_chunks());
    let mut first_row = 0;
    // Chunk by chunk, sharing the stream bytes (no rechunk, no copy).
    for chunk in 0..storage_series.n_chunks() {
        let storage = to_arrow_rs(storage_series, chunk)?;
        let storage = storage
            .as_any()
            .downcast_ref::<arrow_array::StructArray>()
            .ok_or_else(|| polars_err!(InvalidOperation: "flacarray.flac storage is not a struct"))?
            .clone();
        let n = storage.len();
        let column = FlacColumn::new(metadata.clone(), storage).map_err(compute_err)?;
        let out = with_thread_count(threads(context), || decompress_lists(&column, window))
            .map_err(|e| batch_err(e.shift_rows(first_row), rows))?;
        parts.push(from_arrow_rs(input.name().clone(), &out)?);
        first_row += n;
    }
    let element = element_dtype(metadata.dtype());
    concat_chunks(
        input.name().clone(),
        parts,
        DataType::List(Box::new(element)),
    )
}
