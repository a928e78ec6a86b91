//! The ranker's configuration file, `<catalog>/ranker.yaml`: the fusion weights and how they were
//! chosen. One [`load`] / [`save`] pair; `curator tune` writes it and `curator train recommender`
//! updates its `cf` and `popularity`; the agent, the server and the evaluations read it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::FusionWeights;
use crate::{Error, Result};

/// File name of the ranker's configuration inside a catalog folder.
pub const RANKER_FILE: &str = "ranker.yaml";

/// The tuned weights and how they were chosen; stored as `catalogs/movies/ranker.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TunedWeights {
    /// The chosen weights.
    pub weights: FusionWeights,
    /// How they were chosen (source files, counts, objective values).
    pub provenance: TuneProvenance,
}

/// Record of one tuning run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneProvenance {
    /// Validation file, relative to the data source folder.
    pub validation_file: String,
    /// Validation dialogues.
    pub validation_dialogues: usize,
    /// Validation instances and recommendations (de-dup protocol).
    pub validation_instances: usize,
    /// Ground-truth samples scored.
    pub validation_recommendations: usize,
    /// Training dialogues whose statistics were used while tuning (validation held out).
    pub train_dialogues_used: usize,
    /// Objective (mean of R@1, R@10, R@50, de-dup) of the default weights.
    pub objective_default: f64,
    /// Objective of the chosen weights.
    pub objective_tuned: f64,
    /// Recall@1/10/50 and NDCG@10 of the chosen weights on validation.
    pub tuned_metrics: [f64; 4],
}

/// The header of a `ranker.yaml` written by `curator tune`.
pub const TUNED_HEADER: &str = "Fusion weights of the candidate ranker, chosen by `curator tune --source <data>` on a\nvalidation split of the ReDial training dialogues (never the test split).";

/// The header of a `ranker.yaml` whose `cf` and `popularity` `curator train recommender`
/// re-tuned for its collaborative model.
pub const RETUNED_HEADER: &str = "Fusion weights of the candidate ranker, chosen by `curator tune --source <data>` on a\nvalidation split of the ReDial training dialogues (never the test split); `cf` and\n`popularity` re-tuned for the collaborative model by `curator train recommender`.";

/// Loads a ranker configuration from `path` (a `ranker.yaml`).
///
/// Errors: [`Error::Io`] if unreadable; [`Error::Parse`] with the line of malformed YAML, or
/// naming the weight out of range.
pub fn load(path: &Path) -> Result<TunedWeights> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse(path, &text)
}

/// [`load`] over the text of a `ranker.yaml`; `path` only names it in errors.
///
/// Errors: [`Error::Parse`] as [`load`].
pub fn parse(path: &Path, text: &str) -> Result<TunedWeights> {
    let tuned: TunedWeights = serde_yaml::from_str(text)
        .map_err(|e| Error::parse(path, e.location().map(|l| l.line()).unwrap_or(0), e.to_string()))?;
    tuned.weights.validate().map_err(|m| Error::parse(path, 0, m))?;
    Ok(tuned)
}

/// The fusion weights of `<catalog_dir>/ranker.yaml`, or the defaults when the catalog has none.
///
/// Errors: those of [`load`].
pub fn load_weights(catalog_dir: &Path) -> Result<FusionWeights> {
    let path = catalog_dir.join(RANKER_FILE);
    if path.exists() {
        Ok(load(&path)?.weights)
    } else {
        Ok(FusionWeights::default())
    }
}

/// Writes `tuned` to `path` atomically (a reader never sees half a file), under a comment
/// header: `how` says what chose the weights, one `#` line per line of it.
///
/// Errors: a weight out of range ([`Error::InvalidInput`], nothing written); a failed write.
pub fn save(path: &Path, tuned: &TunedWeights, how: &str) -> Result<()> {
    tuned.weights.validate().map_err(Error::InvalidInput)?;
    let yaml =
        serde_yaml::to_string(tuned).map_err(|e| Error::InvalidInput(format!("cannot serialise weights: {e}")))?;
    let header: String = how.lines().map(|l| format!("# {l}\n")).collect();
    crate::util::write_atomic(path, format!("{header}{yaml}").as_bytes())
}
