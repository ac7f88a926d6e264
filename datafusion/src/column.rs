//! What the functions take: a flacarray column as DataFusion hands it over,
//! and their constant arguments.
//!
//! A column keeps its `flacarray.flac` type when its field carries it (a
//! batch made in Rust, a table registered with the type, Parquet read with
//! `skip_metadata = false`). DataFusion's Parquet reader drops field
//! metadata by default (`datafusion.execution.parquet.skip_metadata`), so a
//! column read from files usually arrives as its bare storage struct: then
//! the element type is read from the streams, row by row, as the core does
//! for any reader without the extension type.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{exec_err, plan_err, DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::ColumnarValue;
use flacarray::array::DType;
use flacarray::arrow::{storage_type, FlacColumn, FlacExtension, SampleWindow};
use flacarray::arrow_schema::extension::{ExtensionType, EXTENSION_TYPE_NAME_KEY};
use flacarray::arrow_schema::Field as CoreField;

use crate::bridge;

/// A core error as a DataFusion error: the core's [`flacarray::Error`]
/// stays inside (`DataFusionError::External`), so a caller can still read
/// its kind (`Corrupt`, `InvalidInput`, `Unsupported`).
pub(crate) fn core_error(function: &str, err: flacarray::Error) -> DataFusionError {
    DataFusionError::External(Box::new(err)).context(function.to_string())
}

/// The element type a column's field declares: `Some` for a
/// `flacarray.flac` field, `None` for a bare storage struct, an error for
/// anything else.
pub(crate) fn declared_dtype(function: &str, field: &Field) -> Result<Option<DType>> {
    Ok(declared(function, field)?.1)
}

/// The field in the core's Arrow, and the element type it declares (see
/// [`declared_dtype`]).
fn declared(function: &str, field: &Field) -> Result<(CoreField, Option<DType>)> {
    let DataType::Struct(_) = field.data_type() else {
        return plan_err!(
            "{function}: the first argument must be a flacarray column (a struct of stream, offset and gain), not {}",
            field.data_type()
        );
    };
    let core = bridge::field_to_core(field)?;
    if core.metadata().get(EXTENSION_TYPE_NAME_KEY).is_none() {
        let expected = bridge::type_from_core(&storage_type())?;
        if !same_storage(field.data_type(), &expected) {
            return plan_err!(
                "{function}: the first argument must be a flacarray column (stream, offset, gain), not {}",
                field.data_type()
            );
        }
        return Ok((core, None));
    }
    match core.try_extension_type::<FlacExtension>() {
        Ok(ext) => {
            let dtype = ext.metadata().dtype();
            Ok((core, Some(dtype)))
        }
        Err(err) => plan_err!("{function}: column '{}': {err}", field.name()),
    }
}

/// Whether `found` is the storage struct, allowing any of the binary
/// types the core reads for the streams.
fn same_storage(found: &DataType, expected: &DataType) -> bool {
    let (DataType::Struct(found), DataType::Struct(expected)) = (found, expected) else {
        return false;
    };
    found.len() == expected.len()
        && found.iter().zip(expected.iter()).all(|(f, e)| {
            f.name() == e.name()
                && match e.data_type() {
                    DataType::LargeBinary => matches!(
                        f.data_type(),
                        DataType::LargeBinary | DataType::Binary | DataType::BinaryView
                    ),
                    other => f.data_type() == other,
                }
        })
}

/// The column argument as a core column: typed by its field when it
/// carries the extension type, by its streams otherwise; and whether the
/// field carried it.
pub(crate) fn core_column(
    function: &str,
    field: &Field,
    value: &ColumnarValue,
    rows: usize,
) -> Result<(FlacColumn, bool)> {
    let (core_field, dtype) = declared(function, field)?;
    let array = value.to_array(rows)?;
    let core = bridge::array_to_core(array.as_ref())?;
    let column = match dtype {
        Some(_) => FlacColumn::from_field(&core_field, &core),
        None => FlacColumn::from_storage(&core, None).or_else(|err| {
            if has_streams(&array) {
                Err(err)
            } else {
                // nothing to read the type from and nothing to decode:
                // any type gives the same nulls and empty rows
                FlacColumn::from_storage(&core, Some(DType::Float64))
            }
        }),
    };
    Ok((
        column.map_err(|e| core_error(function, e))?,
        dtype.is_some(),
    ))
}

fn has_streams(storage: &ArrayRef) -> bool {
    use datafusion::arrow::array::{Array, AsArray};
    let streams = storage.as_struct().column(0);
    let len = |i: usize| match streams.data_type() {
        DataType::LargeBinary => streams.as_binary::<i64>().value_length(i) as usize,
        DataType::Binary => streams.as_binary::<i32>().value_length(i) as usize,
        _ => streams.as_binary_view().value(i).len(),
    };
    (0..storage.len()).any(|i| storage.is_valid(i) && streams.is_valid(i) && len(i) > 0)
}

/// The sample windows of a call: one for every row when `start` and `stop`
/// are constants (or absent), one per row when either is a column (a NULL
/// bound is open).
pub(crate) enum Windows {
    Same(SampleWindow),
    PerRow(Vec<SampleWindow>),
}

/// The windows `start` and `stop` give over `rows` rows.
pub(crate) fn windows(
    function: &str,
    start: Option<&ColumnarValue>,
    stop: Option<&ColumnarValue>,
    rows: usize,
) -> Result<Windows> {
    let constant = |arg: Option<&ColumnarValue>| !matches!(arg, Some(ColumnarValue::Array(_)));
    if constant(start) && constant(stop) {
        return Ok(Windows::Same(SampleWindow::new(
            constant_of::<i64>(function, "start", start)?,
            constant_of::<i64>(function, "stop", stop)?,
        )));
    }
    let bounds = |arg: Option<&ColumnarValue>| -> Result<Vec<Option<i64>>> {
        let array = match arg {
            None => return Ok(vec![None; rows]),
            Some(value) => value.cast_to(&DataType::Int64, None)?.to_array(rows)?,
        };
        Ok(array.as_primitive::<Int64Type>().iter().collect())
    };
    let (a, b) = (bounds(start)?, bounds(stop)?);
    Ok(Windows::PerRow(
        a.into_iter()
            .zip(b)
            .map(|(a, b)| SampleWindow::new(a, b))
            .collect(),
    ))
}

/// A constant argument: None when absent or NULL, an error when it is a
/// column.
fn constant<'a>(
    function: &str,
    what: &str,
    arg: Option<&'a ColumnarValue>,
) -> Result<Option<&'a ScalarValue>> {
    match arg {
        None => Ok(None),
        Some(ColumnarValue::Scalar(value)) if value.is_null() => Ok(None),
        Some(ColumnarValue::Scalar(value)) => Ok(Some(value)),
        Some(ColumnarValue::Array(_)) => {
            exec_err!("{function}: {what} must be a constant, not a column")
        }
    }
}

/// The types a constant argument is read as, and how an error names them.
pub(crate) trait ConstantType: TryFrom<ScalarValue> {
    /// The type the argument is cast to.
    const TYPE: DataType;
    /// What a value of the type is called in an error ("an integer").
    const NOUN: &'static str;
}

impl ConstantType for i64 {
    const TYPE: DataType = DataType::Int64;
    const NOUN: &'static str = "an integer";
}

impl ConstantType for f64 {
    const TYPE: DataType = DataType::Float64;
    const NOUN: &'static str = "a number";
}

/// A constant argument cast to `T` (None when absent or NULL).
pub(crate) fn constant_of<T: ConstantType>(
    function: &str,
    what: &str,
    arg: Option<&ColumnarValue>,
) -> Result<Option<T>> {
    let Some(value) = constant(function, what, arg)? else {
        return Ok(None);
    };
    let cast = value.cast_to(&T::TYPE)?;
    if cast.is_null() {
        return Ok(None);
    }
    match T::try_from(cast) {
        Ok(v) => Ok(Some(v)),
        Err(_) => exec_err!("{function}: {what} must be {}, not {value}", T::NOUN),
    }
}

/// The coercions every function asks for: its first argument as it is,
/// the others to `numeric` (Int64 or Float64), NULL allowed.
pub(crate) fn coerce_trailing(
    function: &str,
    arg_types: &[DataType],
    max_args: usize,
    numeric: &[DataType],
) -> Result<Vec<DataType>> {
    if arg_types.is_empty() || arg_types.len() > max_args {
        return plan_err!(
            "{function} takes 1 to {max_args} arguments, got {}",
            arg_types.len()
        );
    }
    let mut coerced = vec![arg_types[0].clone()];
    for (found, wanted) in arg_types[1..].iter().zip(numeric) {
        let ok = found.is_null()
            || (wanted == &DataType::Int64 && found.is_integer())
            || (wanted == &DataType::Float64 && found.is_numeric());
        if !ok {
            return plan_err!(
                "{function}: expected {wanted} arguments after the first, got {found}"
            );
        }
        coerced.push(wanted.clone());
    }
    Ok(coerced)
}
