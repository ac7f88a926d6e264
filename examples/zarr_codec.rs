//! The `flacarray.flac` Zarr v3 codec from Rust, with zarrs: an int32 array
//! written chunk by chunk and read back. zarr-python reads the same chunks
//! (they are byte for byte what it writes).
//!
//! `cargo run --example zarr_codec`

use flacarray::zarr_codec::FlacCodec;
use std::sync::Arc;
use zarrs::array::{data_type, Array, ArrayBuilder};
use zarrs::filesystem::FilesystemStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("flacarray_readme_zarr_{}", std::process::id()));
    let store = Arc::new(FilesystemStore::new(&dir)?);
    let array = ArrayBuilder::new(vec![4, 10_000], vec![2, 10_000], data_type::int32(), 0i32)
        .array_to_bytes_codec(Arc::new(FlacCodec::new(5, None, None)?))
        .build(store.clone(), "/signal")?;
    array.store_metadata()?;
    let values: Vec<i32> = (0..40_000).map(|i| (i % 1000) - 500).collect();
    array.store_array_subset(&[0..4, 0..10_000], values.clone())?;
    // any zarrs program linking flacarray opens arrays written by zarr-python too
    let back: Vec<i32> =
        Array::open(store, "/signal")?.retrieve_array_subset(&[0..4, 0..10_000])?;
    assert_eq!(back, values);
    std::fs::remove_dir_all(dir)?;
    Ok(())
}
