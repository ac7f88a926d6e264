//! `flac_compress(list [, step [, level]])`: lists of numbers into a
//! flacarray column.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{exec_err, internal_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use flacarray::arrow::{compress_lists, LEVEL_KEY};
use flacarray::arrow_array::new_empty_array;
use flacarray::CompressOptions;

use crate::bridge;
use crate::column::{coerce_trailing, constant_of, core_error};

const NAME: &str = "flac_compress";

/// `flac_compress(list [, step [, level]])`: each row of a List, LargeList
/// or FixedSizeList of Int32, Int64, Float32 or Float64 becomes one FLAC
/// stream; the result is a `flacarray.flac` column (its field carries the
/// type, so `flac_decompress` gives the input's element type back, and
/// `COPY ... TO '….parquet'` writes a column the core and Python read;
/// the level is not recorded in the field, whose type may not depend on
/// argument values).
///
/// `step` is the quantization step of float rows (the largest error is half
/// of it; without it, each row's step keeps its float precision, as the
/// core's default); integers take no step. `level` is the FLAC level, 0 to
/// 8 (default 5). Both must be constants.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FlacCompress {
    signature: Signature,
}

impl Default for FlacCompress {
    fn default() -> Self {
        FlacCompress {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// The options a call's constant arguments give.
fn options(step: Option<f64>, level: Option<i64>) -> Result<CompressOptions> {
    let mut options = CompressOptions::default();
    if let Some(level) = level {
        match u32::try_from(level) {
            Ok(level) if level <= 8 => options = options.with_level(level),
            _ => return exec_err!("{NAME}: level must be 0 to 8, not {level}"),
        }
    }
    if let Some(step) = step {
        options = options.with_quanta(step);
    }
    Ok(options)
}

impl ScalarUDFImpl for FlacCompress {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_trailing(NAME, arg_types, 3, &[DataType::Float64, DataType::Int64])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        internal_err!("{NAME}: its type comes from return_field_from_args")
    }

    /// The column's field, made by compressing no rows of the input's
    /// type: the extension type and the input's list type, which depend on
    /// the input's type alone (the level and steps are recorded per row).
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let input = &args.arg_fields[0];
        let empty = new_empty_array(&bridge::type_to_core(input.data_type())?);
        let column = compress_lists(empty.as_ref(), &CompressOptions::default())
            .map_err(|e| core_error(NAME, e))?;
        let mut field = column.field(NAME);
        field.metadata_mut().remove(LEVEL_KEY);
        let field = bridge::field_from_core(&field)?.with_nullable(input.is_nullable());
        Ok(Arc::new(field))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let step = constant_of::<f64>(NAME, "step", args.args.get(1))?;
        let level = constant_of::<i64>(NAME, "level", args.args.get(2))?;
        let lists = args.args[0].to_array(args.number_rows)?;
        let core = bridge::array_to_core(lists.as_ref())?;
        let column = compress_lists(core.as_ref(), &options(step, level)?)
            .map_err(|e| core_error(NAME, e))?;
        let out = bridge::array_from_core(&column.into())?;
        Ok(ColumnarValue::Array(out))
    }
}
