//! A folder of flacarray Parquet files as a table whose flacarray columns
//! keep their element type.
//!
//! DataFusion either drops every field's metadata (its default) or refuses
//! files whose field metadata differ (`skip_metadata = false`), and files
//! written at different levels or of different lengths do differ. This
//! table keeps what all the files agree on and decoding needs: the
//! `flacarray.flac` type of each such column.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::common::{plan_err, Result};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::SessionContext;
use flacarray::arrow_schema::extension::{EXTENSION_TYPE_METADATA_KEY, EXTENSION_TYPE_NAME_KEY};
use futures::TryStreamExt;

/// Registers the Parquet files under `url` (a folder, a file, or a glob)
/// as table `name`, each flacarray column typed by its `flacarray.flac`
/// extension type, so `flac_decompress` returns lists of the stored
/// element type (Int32, Int64, Float32 or Float64) instead of Float64.
///
/// Every file's footer is read once to check that the files agree on
/// each flacarray column's element type; files that do not are refused
/// (query them as a plain Parquet table, where the lists are Float64).
pub async fn register_archive(ctx: &SessionContext, name: &str, url: &str) -> Result<()> {
    let table_url = ListingTableUrl::parse(url)?;
    let state = ctx.state();
    let store = state.runtime_env().object_store(&table_url)?;
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let schema = options.infer_schema(&state, &table_url).await?;
    let files: Vec<_> = table_url
        .list_all_files(&state, store.as_ref(), ".parquet")
        .await?
        .try_collect()
        .await?;
    let with_metadata = ParquetFormat::default().with_skip_metadata(false);
    // each column's extension keys as the first file has them, checked
    // against every other file
    let mut types: HashMap<String, (String, HashMap<String, String>)> = HashMap::new();
    for file in &files {
        let file_schema = with_metadata
            .infer_schema(&state, &store, std::slice::from_ref(file))
            .await?;
        for field in file_schema.fields() {
            let keys = extension_keys(field);
            if keys.get(EXTENSION_TYPE_NAME_KEY).map(String::as_str) != Some("flacarray.flac") {
                continue;
            }
            match types.get(field.name()) {
                None => {
                    types.insert(field.name().clone(), (file.location.to_string(), keys));
                }
                Some((first, seen)) if *seen != keys => {
                    return plan_err!(
                        "column '{}' has the type {:?} in {first} but {:?} in {}: the files \
                         disagree on its element type",
                        field.name(),
                        seen.get(EXTENSION_TYPE_METADATA_KEY),
                        keys.get(EXTENSION_TYPE_METADATA_KEY),
                        file.location
                    );
                }
                Some(_) => {}
            }
        }
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|field| match types.get(field.name()) {
            Some((_, keys)) => field.as_ref().clone().with_metadata(keys.clone()),
            None => field.as_ref().clone(),
        })
        .collect();
    let config = ListingTableConfig::new(table_url)
        .with_listing_options(options)
        .with_schema(Arc::new(Schema::new(fields)));
    ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
    Ok(())
}

/// The Arrow extension keys of a field's metadata (its type, nothing
/// about one file's array).
fn extension_keys(field: &Field) -> HashMap<String, String> {
    field
        .metadata()
        .iter()
        .filter(|(k, _)| *k == EXTENSION_TYPE_NAME_KEY || *k == EXTENSION_TYPE_METADATA_KEY)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
