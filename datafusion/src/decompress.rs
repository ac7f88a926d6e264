//! `flac_decompress(column [, start [, stop]])`: each row's samples, or a
//! window of them.

use std::sync::Arc;

use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{exec_err, internal_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use flacarray::array::DType;
use flacarray::arrow::{decompress_lists, decompress_lists_per_row};
use flacarray::arrow_array::cast::AsArray;
use flacarray::arrow_array::types::Int64Type;
use flacarray::arrow_array::ArrayRef as CoreArrayRef;

use crate::bridge;
use crate::column::{coerce_trailing, core_column, core_error, declared_dtype, windows, Windows};

const NAME: &str = "flac_decompress";

/// `flac_decompress(column [, start [, stop]])`: the samples of each row as
/// a `LargeList`, or only `start..stop` of them (Python's slice rule:
/// negative counts from the end, a window past the end is clamped, NULL is
/// open), decoding only the FLAC frames that hold them. `start` and `stop`
/// are constants or columns (a window per row: `trigger - 50, trigger +
/// 50`).
///
/// The items are the column's element type when its field carries the
/// `flacarray.flac` type, and Float64 when it does not (DataFusion's
/// Parquet reader drops field metadata by default): int32 and float32
/// values are exact in a float64; an int64 value that a float64 cannot
/// hold exactly (beyond ±2^53) is an error, never a rounded value.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FlacDecompress {
    signature: Signature,
}

impl Default for FlacDecompress {
    fn default() -> Self {
        FlacDecompress {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// The list type `flac_decompress` returns for items of `dtype`.
fn list_of(dtype: Option<DType>) -> Result<DataType> {
    let item = match dtype {
        Some(dtype) => bridge::type_from_core(&flacarray::arrow::arrow_type(dtype))?,
        None => DataType::Float64,
    };
    Ok(DataType::LargeList(Arc::new(Field::new(
        "item", item, false,
    ))))
}

impl ScalarUDFImpl for FlacDecompress {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_trailing(NAME, arg_types, 3, &[DataType::Int64, DataType::Int64])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        internal_err!("{NAME}: its type comes from return_field_from_args")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let dtype = declared_dtype(NAME, &args.arg_fields[0])?;
        Ok(Arc::new(Field::new(
            NAME,
            list_of(dtype)?,
            args.arg_fields[0].is_nullable(),
        )))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let windows = windows(NAME, args.args.get(1), args.args.get(2), args.number_rows)?;
        let (column, typed) =
            core_column(NAME, &args.arg_fields[0], &args.args[0], args.number_rows)?;
        let lists = match &windows {
            Windows::Same(window) => decompress_lists(&column, *window),
            Windows::PerRow(windows) => decompress_lists_per_row(&column, windows),
        }
        .map_err(|e| core_error(NAME, e))?;
        if !typed && column.dtype() == DType::Int64 {
            check_exact_in_float64(&lists)?;
        }
        let mut out = bridge::array_from_core(&lists)?;
        if !typed {
            // every other element type is exact in a float64
            out = cast(&out, args.return_field.data_type())?;
        }
        if out.data_type() != args.return_field.data_type() {
            return internal_err!(
                "{NAME}: made {} where the plan expects {}",
                out.data_type(),
                args.return_field.data_type()
            );
        }
        Ok(ColumnarValue::Array(out))
    }
}

/// Refuses int64 lists holding a value a float64 cannot hold exactly
/// (beyond ±2^53): they would come back rounded.
fn check_exact_in_float64(lists: &CoreArrayRef) -> Result<()> {
    const EXACT: i64 = 1 << 53;
    let ints = lists.as_list::<i64>().values().as_primitive::<Int64Type>();
    if let Some(bad) = ints
        .values()
        .iter()
        .find(|v| !(-EXACT..=EXACT).contains(*v))
    {
        return exec_err!(
            "{NAME}: the column's field does not say its element type, so values come \
             back as Float64, and the int64 value {bad} has no exact Float64; keep the \
             flacarray.flac type on the field (DataFusion drops it from Parquet unless \
             datafusion.execution.parquet.skip_metadata is false)"
        );
    }
    Ok(())
}
