//! Start-up checks of the committed assets against their `manifest.json`: a damaged or
//! truncated file is an error naming it and how to restore it, never silently worse
//! recommendations.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::{Error, Result};

/// Checks the files of a built catalog folder (`catalogs/<name>/`) against the sha256 recorded in
/// its `manifest.json`, so that a damaged or truncated file is an error instead of silently worse
/// recommendations. A folder without a manifest (e.g. a test catalog) passes.
///
/// Errors: [`Error::Parse`] for a malformed manifest; [`Error::InvalidInput`] naming the file whose
/// bytes differ from the manifest, with how to restore it.
pub fn verify_catalog(catalog_dir: &Path) -> Result<()> {
    let name = catalog_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    verify_outputs(catalog_dir, &format!("catalogs/{name}/"))
}

/// Checks every file of `dir` that `dir/manifest.json`'s `outputs` lists under `prefix` (e.g.
/// `"knowledge/movies/"`) against its recorded sha256. A folder without a manifest passes (test
/// fixtures).
///
/// Errors: [`Error::Io`] / [`Error::Parse`] for an unreadable manifest or listed file;
/// [`Error::InvalidInput`] naming the file that does not match and how to restore it.
pub fn verify_outputs(dir: &Path, prefix: &str) -> Result<()> {
    #[derive(Deserialize)]
    struct Outputs {
        outputs: BTreeMap<String, String>,
    }
    let path = dir.join("manifest.json");
    if !path.exists() {
        return Ok(());
    }
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let manifest: Outputs = serde_json::from_slice(&bytes).map_err(|e| Error::parse(&path, e.line(), e.to_string()))?;
    for (rel, want) in &manifest.outputs {
        let Some(name) = rel.strip_prefix(prefix) else { continue };
        let file = dir.join(name);
        let rebuild = if name == crate::recommender::MODEL_FILE {
            "retrain it with `curator train recommender --source ../shared/data`"
        } else {
            "rebuild it with `curator data build --source ../shared/data`"
        };
        if !file.exists() {
            return Err(Error::InvalidInput(format!(
                "{} is listed in {} but missing: restore it with `git checkout -- {}` or {rebuild}",
                file.display(),
                path.display(),
                prefix.trim_end_matches('/'),
            )));
        }
        let got = crate::util::sha256_file(&file)?;
        if &got != want {
            return Err(Error::InvalidInput(format!(
                "{} does not match {} (sha256 {got}, expected {want}): restore it with `git checkout -- {}` or {rebuild}",
                file.display(),
                path.display(),
                prefix.trim_end_matches('/'),
            )));
        }
    }
    Ok(())
}
