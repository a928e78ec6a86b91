//! Default locations of the project's data and of the model cache.

use std::path::PathBuf;

/// Root of the repository's committed data: `$CURATOR_HOME` if set, else the crate's manifest
/// directory at build time (the repository checkout).
pub fn project_root() -> PathBuf {
    match std::env::var_os("CURATOR_HOME") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    }
}

/// The movie catalog folder written by `curator data build`: `<root>/catalogs/movies`.
pub fn catalog_dir() -> PathBuf {
    project_root().join("catalogs").join("movies")
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
