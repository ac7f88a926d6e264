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

/// A DataFusion array as a core array (no copy).
pub(crate) fn array_to_core(array: &dyn DfArray) -> Result<CoreArrayRef> {
    let (c_array, c_schema) =
        df_ffi::to_ffi(&array.to_data()).map_err(|e| arrow_error("to the core", e))?;
    let c_array = move_c_struct!(c_array, df_ffi::FFI_ArrowArray => core_ffi::FFI_ArrowArray);
    let c_schema = move_c_struct!(c_schema, df_ffi::FFI_ArrowSchema => core_ffi::FFI_ArrowSchema);
    // SAFETY: the structs were just exported by Arrow from a valid array.
    let data = unsafe { core_ffi::from_ffi(c_array, &c_schema) }
        .map_err(|e| arrow_error("to the core", e))?;
    Ok(core_make_array(data))
}

/// A core array as a DataFusion array (no copy).
pub(crate) fn array_from_core(array: &CoreArrayRef) -> Result<ArrayRef> {
    let (c_array, c_schema) =
        core_ffi::to_ffi(&array.to_data()).map_err(|e| arrow_error("to DataFusion", e))?;
    let c_array = move_c_struct!(c_array, core_ffi::FFI_ArrowArray => df_ffi::FFI_ArrowArray);
    let c_schema = move_c_struct!(c_schema, core_ffi::FFI_ArrowSchema => df_ffi::FFI_ArrowSchema);
    // SAFETY: the structs were just exported by Arrow from a valid array.
    let data = unsafe { df_ffi::from_ffi(c_array, &c_schema) }
        .map_err(|e| arrow_error("to DataFusion", e))?;
    Ok(df_make_array(data))
}

/// A DataFusion field (name, type, nullability, metadata) as a core field.
pub(crate) fn field_to_core(field: &Field) -> Result<CoreField> {
    let c_schema =
        df_ffi::FFI_ArrowSchema::try_from(field).map_err(|e| arrow_error("to the core", e))?;
    let c_schema = move_c_struct!(c_schema, df_ffi::FFI_ArrowSchema => core_ffi::FFI_ArrowSchema);
    CoreField::try_from(&c_schema).map_err(|e| arrow_error("to the core", e))
}

/// A core field as a DataFusion field.
pub(crate) fn field_from_core(field: &CoreField) -> Result<Field> {
    let c_schema =
        core_ffi::FFI_ArrowSchema::try_from(field).map_err(|e| arrow_error("to DataFusion", e))?;
    let c_schema = move_c_struct!(c_schema, core_ffi::FFI_ArrowSchema => df_ffi::FFI_ArrowSchema);
    Field::try_from(&c_schema).map_err(|e| arrow_error("to DataFusion", e))
}

/// A DataFusion data type as a core data type.
pub(crate) fn type_to_core(data_type: &DataType) -> Result<CoreDataType> {
    let c_schema =
        df_ffi::FFI_ArrowSchema::try_from(data_type).map_err(|e| arrow_error("to the core", e))?;
    let c_schema = move_c_struct!(c_schema, df_ffi::FFI_ArrowSchema => core_ffi::FFI_ArrowSchema);
    CoreDataType::try_from(&c_schema).map_err(|e| arrow_error("to the core", e))
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
