//! `flac_len(column)`: each row's sample count, from its stream header.

use std::sync::Arc;

use datafusion::arrow::array::UInt64Array;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::column::{coerce_trailing, core_column, core_error};

const NAME: &str = "flac_len";

/// `flac_len(column)`: the number of samples in each row (UInt64, NULL for a
/// null row), read from each stream's header and checked as a read checks
/// it; nothing is decoded.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FlacLen {
    signature: Signature,
}

impl Default for FlacLen {
    fn default() -> Self {
        FlacLen {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for FlacLen {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_trailing(NAME, arg_types, 1, &[])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::UInt64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (column, _) = core_column(NAME, &args.arg_fields[0], &args.args[0], args.number_rows)?;
        let lengths = (0..column.len())
            .map(|i| column.row_len(i))
            .collect::<flacarray::Result<UInt64Array>>()
            .map_err(|e| core_error(NAME, e))?;
        Ok(ColumnarValue::Array(Arc::new(lengths)))
    }
}
