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

#[cfg(test)]
mod tests {
    #[test]
    fn the_root_is_found_from_the_current_directory() {
        // `cargo test` runs in the package root, which is a checkout.
        let root = super::project_root();
        assert!(root.join("catalogs/movies/items.jsonl").is_file(), "{}", root.display());
    }
}
