//! Arrays, fields and types between DataFusion's Arrow and the core's.
//!
//! DataFusion 55 is built on Arrow 59, the core on Arrow 60: two sets of
//! Rust types for the same memory layout. They cross through the Arrow C
//! data interface, as two libraries in different languages would: the
//! buffers are shared, never copied, and released by whichever side drops
//! the last reference.

use arrow::ffi as df_ffi;
use datafusion::arrow::array::{make_array as df_make_array, Array as DfArray, ArrayRef};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{DataFusionError, Result};
use flacarray::arrow_array::ffi as core_ffi;
use flacarray::arrow_array::{make_array as core_make_array, Array as _, ArrayRef as CoreArrayRef};
use flacarray::arrow_schema::{DataType as CoreDataType, Field as CoreField};

/// Moves an exported `ArrowArray` from one Arrow version's type to the
/// other's: both are the C data interface's `struct ArrowArray`
/// (`#[repr(C)]`, same fields), and `from_raw` leaves a released struct
/// behind, so the source's drop releases nothing.
macro_rules! move_c_struct {
    ($value:expr, $from:ty => $to:ty) => {{
        let mut value: $from = $value;
        // SAFETY: `$from` and `$to` are the same C struct of the Arrow C
        // data interface, declared `#[repr(C)]` by both Arrow versions;
        // `from_raw` moves it out of `value` and leaves a released
        // struct, whose drop releases nothing.
        unsafe { <$to>::from_raw((&mut value as *mut $from).cast::<$to>()) }
    }};
}

fn arrow_error(direction: &str, err: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Internal(format!("moving an Arrow array {direction}: {err}"))
}

/// Moves an array through the C data interface from the Arrow version of
/// the `ffi` module `$from` to that of `$to`, built by `$make_array`.
macro_rules! move_array {
    ($array:expr, $from:ident => $to:ident, $make_array:ident, $direction:literal) => {{
        let (c_array, c_schema) =
            $from::to_ffi(&$array.to_data()).map_err(|e| arrow_error($direction, e))?;
        let c_array = move_c_struct!(c_array, $from::FFI_ArrowArray => $to::FFI_ArrowArray);
        let c_schema = move_c_struct!(c_schema, $from::FFI_ArrowSchema => $to::FFI_ArrowSchema);
        // SAFETY: the structs were just exported by Arrow from a valid array.
        let data = unsafe { $to::from_ffi(c_array, &c_schema) }
            .map_err(|e| arrow_error($direction, e))?;
        Ok($make_array(data))
    }};
}

/// Moves a field or a data type (what `FFI_ArrowSchema` converts from and
/// to) through the C data interface, as [`move_array`] moves arrays.
macro_rules! move_schema {
    ($value:expr, $from:ident => $to:ident, $target:ty, $direction:literal) => {{
        let c_schema =
            $from::FFI_ArrowSchema::try_from($value).map_err(|e| arrow_error($direction, e))?;
        let c_schema = move_c_struct!(c_schema, $from::FFI_ArrowSchema => $to::FFI_ArrowSchema);
        <$target>::try_from(&c_schema).map_err(|e| arrow_error($direction, e))
    }};
}

/// A DataFusion array as a core array (no copy).
pub(crate) fn array_to_core(array: &dyn DfArray) -> Result<CoreArrayRef> {
    move_array!(array, df_ffi => core_ffi, core_make_array, "to the core")
}

/// A core array as a DataFusion array (no copy).
pub(crate) fn array_from_core(array: &CoreArrayRef) -> Result<ArrayRef> {
    move_array!(array, core_ffi => df_ffi, df_make_array, "to DataFusion")
}

/// A DataFusion field (name, type, nullability, metadata) as a core field.
pub(crate) fn field_to_core(field: &Field) -> Result<CoreField> {
    move_schema!(field, df_ffi => core_ffi, CoreField, "to the core")
}

/// A core field as a DataFusion field.
pub(crate) fn field_from_core(field: &CoreField) -> Result<Field> {
    move_schema!(field, core_ffi => df_ffi, Field, "to DataFusion")
}

/// A DataFusion data type as a core data type.
pub(crate) fn type_to_core(data_type: &DataType) -> Result<CoreDataType> {
    move_schema!(data_type, df_ffi => core_ffi, CoreDataType, "to the core")
}

/// A core data type as a DataFusion data type.
pub(crate) fn type_from_core(data_type: &CoreDataType) -> Result<DataType> {
    Ok(
        field_from_core(&CoreField::new("", data_type.clone(), true))?
            .data_type()
            .clone(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use datafusion::arrow::array::{Float64Array, Int32Array, StructArray};
    use datafusion::arrow::datatypes::Fields;

    #[test]
    fn an_array_crosses_both_ways_sharing_its_buffers() {
        let values = Float64Array::from(vec![Some(1.5), None, Some(-2.0)]);
        let ints = Int32Array::from(vec![7, 8, 9]);
        let original: ArrayRef = Arc::new(StructArray::new(
            Fields::from(vec![
                Field::new("a", DataType::Float64, true),
                Field::new("b", DataType::Int32, false),
            ]),
            vec![Arc::new(values.clone()), Arc::new(ints)],
            None,
        ));
        let sliced = original.slice(1, 2);
        let core = array_to_core(sliced.as_ref()).unwrap();
        assert_eq!(core.len(), 2);
        let back = array_from_core(&core).unwrap();
        assert_eq!(back.to_data(), sliced.to_data());
        // the float values were not copied on the way
        let values_at = |data: &datafusion::arrow::array::ArrayData| {
            data.child_data()[0].buffers()[0].as_ptr() as usize
        };
        let core_values = core.to_data().child_data()[0].buffers()[0].as_ptr() as usize;
        assert_eq!(core_values, values_at(&sliced.to_data()));
        assert_eq!(values_at(&back.to_data()), values_at(&sliced.to_data()));
    }

    #[test]
    fn a_field_keeps_its_metadata() {
        let field = Field::new("signal", DataType::LargeBinary, false).with_metadata(
            [("ARROW:extension:name".to_string(), "x".to_string())]
                .into_iter()
                .collect(),
        );
        let core = field_to_core(&field).unwrap();
        assert_eq!(core.metadata().get("ARROW:extension:name").unwrap(), "x");
        assert_eq!(field_from_core(&core).unwrap(), field);
        let dt = DataType::LargeList(Arc::new(Field::new("item", DataType::Int32, false)));
        assert_eq!(type_from_core(&type_to_core(&dt).unwrap()).unwrap(), dt);
    }
}
