//! The catalogs one server answers for: every built catalog under a `catalogs/` folder (a folder
//! with `items.jsonl`, see `catalogs/README.md`), each served as the model `curator-NAME`
//! (`GET /v1/models`), plus `curator`, the default catalog (`curator serve --catalog NAME`,
//! `movies` unless chosen).
//!
//! A request picks its catalog with `model` or `catalog` ([`Catalogs::resolve`]); an unknown name
//! is a 404 naming it and the served ones, never a silent fallback. The default catalog's assets
//! are loaded at start; the others on their first request (and then kept).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use super::error::ApiError;
use crate::assets::Assets;
use crate::rank::FusionWeights;

/// The model id of the default catalog (accepted as `model`, listed first).
pub const DEFAULT_MODEL_ID: &str = "curator";

/// Prefix of a catalog's model id: `curator-` + the catalog name.
pub const MODEL_PREFIX: &str = "curator-";

/// The model id that selects catalog `name`: `curator-NAME`.
pub fn model_id(name: &str) -> String {
    format!("{MODEL_PREFIX}{name}")
}

/// The catalogs a server can answer for, loaded on demand.
#[derive(Debug)]
pub struct Catalogs {
    /// The folder holding one folder per catalog (`<root>/catalogs`).
    dir: PathBuf,
    /// The catalog used when a request names none.
    default: String,
    /// Names of the built catalogs, sorted (found at start).
    names: Vec<String>,
    /// Ranking weights for every catalog (`None`: each catalog's `ranker.yaml`).
    weights: Option<FusionWeights>,
    loaded: Mutex<BTreeMap<String, Assets>>,
}

impl Catalogs {
    /// The catalogs under `dir` (folders with `items.jsonl`), with `default` loaded now.
    ///
    /// Errors: [`crate::Error::InvalidInput`] when `default` is not one of them (naming those
    /// found); those of [`Assets::load`] for the default catalog.
    pub fn open(dir: PathBuf, default: &str, weights: Option<FusionWeights>) -> crate::Result<Self> {
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.path().join("items.jsonl").is_file())
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .filter(|n| crate::paths::valid_catalog_name(n))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        if !names.iter().any(|n| n == default) {
            return Err(crate::Error::InvalidInput(format!(
                "the default catalog {default:?} is not built under {} (catalogs there: {})",
                dir.display(),
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            )));
        }
        let assets = Assets::load(&dir.join(default), weights)?;
        assets.warm();
        let loaded = Mutex::new(BTreeMap::from([(default.to_string(), assets)]));
        Ok(Catalogs { dir, default: default.to_string(), names, weights, loaded })
    }

    /// The default catalog's name.
    pub fn default_name(&self) -> &str {
        &self.default
    }

    /// The served catalogs' names, sorted.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The folder of catalog `name`.
    pub fn dir_of(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The catalog a request names: by `model` (`curator` = the default, `curator-NAME`) and/or
    /// `catalog` (`NAME`); both absent: the default. When both are given they must agree.
    ///
    /// Errors: [`ApiError::ModelNotFound`] for a model that is not served,
    /// [`ApiError::InvalidRequest`] (param `catalog`) for an unknown catalog or one that
    /// disagrees with `model`; each message names the value and what is served.
    pub fn resolve(&self, model: Option<&str>, catalog: Option<&str>) -> Result<String, ApiError> {
        let served = || self.names.iter().map(|n| model_id(n)).collect::<Vec<_>>().join(", ");
        let by_model = match model {
            None => None,
            Some(DEFAULT_MODEL_ID) => Some(self.default.clone()),
            Some(m) => match m.strip_prefix(MODEL_PREFIX).filter(|n| self.names.iter().any(|x| x == n)) {
                Some(n) => Some(n.to_string()),
                None => {
                    let model = m.chars().take(100).collect();
                    return Err(ApiError::ModelNotFound { model, served: format!("{DEFAULT_MODEL_ID}, {}", served()) });
                }
            },
        };
        let by_catalog = match catalog {
            None => None,
            Some(c) if self.names.iter().any(|x| x == c) => Some(c.to_string()),
            Some(c) => {
                let shown: String = c.chars().take(100).collect();
                return Err(ApiError::invalid(
                    "catalog_not_found",
                    Some("catalog"),
                    format!("catalog {shown:?} is not served here (catalogs: {})", self.names.join(", ")),
                ));
            }
        };
        match (by_model, by_catalog) {
            (Some(a), Some(b)) if a != b => Err(ApiError::invalid(
                "catalog_mismatch",
                Some("catalog"),
                format!(
                    "model {:?} is catalog {a:?}, but catalog is {b:?}; send one of them",
                    model.unwrap_or_default()
                ),
            )),
            (a, b) => Ok(a.or(b).unwrap_or_else(|| self.default.clone())),
        }
    }

    /// The assets of catalog `name` (loaded on first use; blocking, so call it off the async
    /// runtime's threads).
    ///
    /// Errors: [`ApiError::ModelNotFound`] for a name that is not served;
    /// [`ApiError::Internal`] when the catalog's files cannot be loaded (the cause named).
    pub fn assets(&self, name: &str) -> Result<Assets, ApiError> {
        if !self.names.iter().any(|n| n == name) {
            let served = self.names.iter().map(|n| model_id(n)).collect::<Vec<_>>().join(", ");
            return Err(ApiError::ModelNotFound { model: model_id(name), served });
        }
        let mut loaded = self.loaded.lock().map_err(|_| ApiError::Internal("catalog lock poisoned".into()))?;
        if let Some(a) = loaded.get(name) {
            return Ok(a.clone());
        }
        let assets = Assets::load(&self.dir.join(name), self.weights)
            .map_err(|e| ApiError::Internal(format!("cannot load catalog {name:?}: {e}")))?;
        assets.warm();
        loaded.insert(name.to_string(), assets.clone());
        Ok(assets)
    }

    /// The default catalog's assets (loaded at [`Catalogs::open`]).
    ///
    /// Errors: those of [`Catalogs::assets`] (not expected: it is loaded at start).
    pub fn default_assets(&self) -> Result<Assets, ApiError> {
        self.assets(&self.default)
    }
}
