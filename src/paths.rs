//! Default locations of the project's data and of the model cache.

use std::path::PathBuf;

/// Root of the repository's committed data (`catalogs/`, `evals/`, `prompts/`), found at run time:
/// `$CURATOR_HOME` if set; else the nearest folder at or above the current directory that holds
/// `catalogs/movies/items.jsonl` and `prompts/` (a checkout); else the crate's manifest directory
/// at build time. Finding it at run time matters because builds share a target folder outside the
/// clone: a binary built in one checkout must not read another checkout's data.
pub fn project_root() -> PathBuf {
    if let Some(p) = std::env::var_os("CURATOR_HOME") {
        return PathBuf::from(p);
    }
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            if dir.join("catalogs").join("movies").join("items.jsonl").is_file() && dir.join("prompts").is_dir() {
                return dir.to_path_buf();
            }
        }
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether `name` is a valid catalog name: 1–40 characters from `a-z`, `0-9`, `-`, `_` (it names
/// folders under `catalogs/` and `knowledge/`).
pub fn valid_catalog_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The default catalog's name.
pub const DEFAULT_CATALOG: &str = "movies";

static CATALOG: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Chooses the catalog that [`catalog_dir`] returns for the rest of the process (the CLI's
/// `--catalog NAME`; set once, before anything loads).
///
/// Errors: [`crate::Error::InvalidInput`] for a name that is not a catalog name
/// ([`valid_catalog_name`]), a folder `<root>/catalogs/NAME` without
/// `items.jsonl` (listing the catalogs that exist), or a second, different choice.
pub fn select_catalog(name: &str) -> crate::Result<()> {
    if !valid_catalog_name(name) {
        return Err(crate::Error::InvalidInput(format!("--catalog {name:?} is not a catalog name")));
    }
    let dir = project_root().join("catalogs").join(name);
    if !dir.join("items.jsonl").is_file() {
        return Err(crate::Error::InvalidInput(format!(
            "--catalog {name}: {} has no items.jsonl (catalogs here: {}); build it with `curator catalog build SRC --name {name}`",
            dir.display(),
            catalog_names().join(", ")
        )));
    }
    let chosen = CATALOG.get_or_init(|| name.to_string());
    if chosen != name {
        return Err(crate::Error::InvalidInput(format!("catalog {chosen} is already selected, not {name}")));
    }
    Ok(())
}

/// The selected catalog's name ([`select_catalog`]), else [`DEFAULT_CATALOG`].
pub fn catalog_name() -> String {
    CATALOG.get().cloned().unwrap_or_else(|| DEFAULT_CATALOG.to_string())
}

/// The names of the built catalogs under `<root>/catalogs/` (folders with `items.jsonl`), sorted.
pub fn catalog_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(project_root().join("catalogs"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().join("items.jsonl").is_file())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The selected catalog's folder: `<root>/catalogs/<name>` (`movies` unless [`select_catalog`]
/// chose another).
pub fn catalog_dir() -> PathBuf {
    project_root().join("catalogs").join(catalog_name())
}

/// The evaluation data folder: `<root>/evals`.
pub fn evals_dir() -> PathBuf {
    project_root().join("evals")
}

/// The prompts folder: `<root>/prompts`.
pub fn prompts_dir() -> PathBuf {
    project_root().join("prompts")
}

/// Cache for downloaded models: `$CURATOR_CACHE` if set, else `$XDG_CACHE_HOME/curator`, else
/// `$HOME/.cache/curator`, else `./.cache/curator`.
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("CURATOR_CACHE") {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(p).join("curator");
    }
    if let Some(p) = std::env::var_os("HOME") {
        return PathBuf::from(p).join(".cache").join("curator");
    }
    PathBuf::from(".cache").join("curator")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_root_is_found_from_the_current_directory() {
        // `cargo test` runs in the package root, which is a checkout.
        let root = super::project_root();
        assert!(root.join("catalogs/movies/items.jsonl").is_file(), "{}", root.display());
    }
}
