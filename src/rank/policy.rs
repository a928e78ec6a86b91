//! The learned listwise reranker: candidate generation, the feature vector φ(state, item) and a
//! linear Plackett–Luce policy over it (DESIGN.md §6; Rank-GRPO, Zhu et al., ICLR 2026,
//! arXiv 2510.20150, applied to a PL policy instead of an LLM).
//!
//! **Candidates** ([`CandidateRanker::candidate_set`](super::CandidateRanker::candidate_set)):
//! the union of the generators' lists — the collaborative model's top 200, co-mentions top 100,
//! personalized PageRank top 100, BM25 top 100, attribute matches (top 100 of the items having
//! a requested person, year or keyword, in fusion order), popularity top 50, sequels/prequels of
//! liked items, and the tuned fusion's own top 100 — deduplicated by title group (the member the
//! fusion ranks first stands for its group), with every hard constraint of the fusion applied
//! (items in the state, rejected genres and attributes, the genre and attribute filters).
//!
//! **Features** ([`FEATURES`], [`D`] per candidate, f32; "rank" = 0-based position among the
//! non-excluded catalog items by that signal, ties by catalog position):
//!
//! | # | name | meaning | range |
//! |---|---|---|---|
//! | 0 | `cf` | trained CF model score / max abs | [−1, 1] |
//! | 1 | `cf_log_rank` | ln(1 + rank by `cf`) | [0, 8.9] nats |
//! | 2 | `comention` | co-mention score (β, shrink of `ranker.yaml`) / max abs | [−1, 1] |
//! | 3 | `comention_log_rank` | ln(1 + rank by co-mentions) | [0, 8.9] |
//! | 4 | `ppr` | personalized PageRank / max | [0, 1] |
//! | 5 | `ppr_log_rank` | ln(1 + rank by PPR) | [0, 8.9] |
//! | 6 | `bm25` | BM25 of the recent seeker text / max | [0, 1] |
//! | 7 | `popularity` | ln(1+pop)/ln(1+max pop), training dialogues | [0, 1] |
//! | 8 | `genre` | recency-weighted share of requested genres | [0, 1] |
//! | 9 | `attribute` | share of requested people, years, keywords | [0, 1] |
//! | 10 | `tier` | latest requests the item meets (fusion's filter) | 0 … requests+1 |
//! | 11 | `fusion` | the tuned fusion score of `ranker.yaml` | ≈ [−1, 2] |
//! | 12 | `fusion_log_rank` | ln(1 + rank in the fusion's order) | [0, 8.9] |
//! | 13 | `sequel_link` | sequel or prequel of a positively seeded item | {0, 1} |
//! | 14 | `shared_people` | distinct directors/writers/stars shared with positive seeds, capped at 5 | 0 … 5 |
//! | 15 | `year_gap` | min \|year − seed year\| / 10, capped at 5 (5 without seeds or year) | [0, 5] decades |
//! | 16 | `popularity_no_seeds` | `popularity` × [no positive seed] | [0, 1] |
//! | 17 | `cf_x_log_seeds` | `cf` × ln(1 + positive seeds) | ≈ [−3, 3] |
//! | 18 | `popularity_x_log_turns` | `popularity` × ln(1 + turns) | [0, ≈4] |
//!
//! Context-level quantities (seed count, turn index) enter only through interactions, since a
//! constant shift of every candidate's score leaves a Plackett–Luce policy unchanged. The LLM's
//! rank-level score log π̄ is not a feature yet: the policy works without it.
//!
//! **Policy** ([`Policy`]): s(y) = θ · (φ(y) − μ) / σ, with μ, σ the training candidates'
//! mean and standard deviation; π(y_k | y_<k) = exp s(y_k) / Σ_{j not yet placed} exp s(j).
//! Ranking = candidates by descending s (ties by catalog position). Saved as
//! `<catalog>/reranker.json` by `curator train reranker`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// File name of the learned reranker inside a catalog folder.
pub const RERANKER_FILE: &str = "reranker.json";

/// Feature count per candidate.
pub const D: usize = 19;

/// Feature names, in vector order (module doc: units and ranges).
pub const FEATURES: [&str; D] = [
    "cf",
    "cf_log_rank",
    "comention",
    "comention_log_rank",
    "ppr",
    "ppr_log_rank",
    "bm25",
    "popularity",
    "genre",
    "attribute",
    "tier",
    "fusion",
    "fusion_log_rank",
    "sequel_link",
    "shared_people",
    "year_gap",
    "popularity_no_seeds",
    "cf_x_log_seeds",
    "popularity_x_log_turns",
];

/// Index of `fusion_log_rank` in [`FEATURES`] (the reference policy's only feature).
pub const FUSION_LOG_RANK: usize = 12;

/// Generator list lengths (module doc).
pub const CF_TOP: usize = 200;
/// Co-mentions, PPR, BM25, attribute matches and the fusion: top 100 each.
pub const OTHER_TOP: usize = 100;
/// Popularity: top 50.
pub const POPULARITY_TOP: usize = 50;

/// One context's candidates: catalog positions, raw features and the fusion's own order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CandidateSet {
    /// Catalog positions of the candidates (one per title group), in fusion order.
    pub positions: Vec<usize>,
    /// Raw features, row-major: candidate i's vector is `features[i*D..(i+1)*D]`.
    pub features: Vec<f32>,
    /// The fusion's ranking beyond the candidates: every non-excluded title group's position, in
    /// fusion order (the candidates are a subset); used to fill a list past the candidates.
    pub fusion_order: Vec<usize>,
}

impl CandidateSet {
    /// Number of candidates.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Whether there is no candidate.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Candidate `i`'s raw feature vector (empty when out of range).
    pub fn row(&self, i: usize) -> &[f32] {
        self.features.get(i * D..(i + 1) * D).unwrap_or(&[])
    }
}

/// A linear Plackett–Luce policy over standardised features (module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Feature names (must equal [`FEATURES`]).
    pub features: Vec<String>,
    /// Training mean μ per feature.
    pub mean: Vec<f32>,
    /// Training standard deviation σ per feature (> 0).
    pub std: Vec<f32>,
    /// Weights θ on the standardised features.
    pub theta: Vec<f32>,
    /// How it was trained (variant, hyperparameters, validation figures, counts).
    #[serde(default)]
    pub provenance: serde_json::Value,
}

impl Policy {
    /// A policy with weights `theta` over features standardised by `mean` and `std` (σ below
    /// 1e-6 is taken as 1: a constant feature).
    pub fn new(mean: Vec<f32>, std: Vec<f32>, theta: Vec<f32>) -> Self {
        let std = std.into_iter().map(|s| if s.is_finite() && s > 1e-6 { s } else { 1.0 }).collect();
        Policy {
            features: FEATURES.iter().map(|s| s.to_string()).collect(),
            mean,
            std,
            theta,
            provenance: Default::default(),
        }
    }

    /// Checks shapes and values: [`D`] entries each, names equal to [`FEATURES`], all finite, σ > 0.
    /// Errors: a message naming the first problem.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.features.len() != D || self.features.iter().zip(FEATURES).any(|(a, b)| a != b) {
            return Err(format!("features are {:?}; this build expects {:?}", self.features, FEATURES));
        }
        for (name, v) in [("mean", &self.mean), ("std", &self.std), ("theta", &self.theta)] {
            if v.len() != D {
                return Err(format!("{name} has {} entries; expected {D}", v.len()));
            }
            if let Some(x) = v.iter().find(|x| !x.is_finite()) {
                return Err(format!("{name} holds {x}; every entry must be finite"));
            }
        }
        if let Some(s) = self.std.iter().find(|s| **s <= 0.0) {
            return Err(format!("std holds {s}; every entry must be > 0"));
        }
        Ok(())
    }

    /// Standardises a raw feature row into `out` (length [`D`]).
    pub fn standardise(&self, raw: &[f32], out: &mut [f32]) {
        for (j, o) in out.iter_mut().enumerate().take(D) {
            *o = (raw.get(j).copied().unwrap_or(0.0) - self.mean[j]) / self.std[j];
        }
    }

    /// The score s(y) of one raw feature row.
    pub fn score_row(&self, raw: &[f32]) -> f32 {
        (0..D).map(|j| self.theta[j] * (raw.get(j).copied().unwrap_or(0.0) - self.mean[j]) / self.std[j]).sum()
    }

    /// Scores of every candidate of `set`, in candidate order.
    pub fn scores(&self, set: &CandidateSet) -> Vec<f32> {
        (0..set.len()).map(|i| self.score_row(set.row(i))).collect()
    }

    /// The candidates' catalog positions by descending score (ties: fusion order), then the rest
    /// of the fusion's order, at most `k`.
    pub fn ranking(&self, set: &CandidateSet, k: usize) -> Vec<usize> {
        let scores = self.scores(set);
        ranking_by(set, &scores, k)
    }

    /// Loads and validates a policy file.
    ///
    /// Errors: [`Error::Io`] if unreadable; [`Error::Parse`] for malformed JSON or a policy that
    /// fails [`Policy::validate`].
    pub fn load(path: &Path) -> Result<Policy> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let p: Policy = serde_json::from_str(&text).map_err(|e| Error::parse(path, e.line(), e.to_string()))?;
        p.validate().map_err(|m| Error::parse(path, 0, m))?;
        Ok(p)
    }

    /// Writes the policy as pretty JSON atomically.
    ///
    /// Errors: an invalid policy ([`Error::InvalidInput`]); a failed write.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.validate().map_err(Error::InvalidInput)?;
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::InvalidInput(format!("cannot serialise the reranker: {e}")))?;
        crate::util::write_atomic(path, format!("{text}\n").as_bytes())
    }
}

/// The candidates' positions ordered by descending `scores` (ties: candidate order, i.e. fusion
/// order), then the remaining positions of the fusion's order; at most `k`.
pub fn ranking_by(set: &CandidateSet, scores: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..set.len().min(scores.len())).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut out: Vec<usize> = idx.into_iter().take(k).map(|i| set.positions[i]).collect();
    if out.len() < k {
        let taken: std::collections::HashSet<usize> = set.positions.iter().copied().collect();
        out.extend(set.fusion_order.iter().copied().filter(|p| !taken.contains(p)).take(k - out.len()));
    }
    out
}

/// The 0-based rank of each entry of `values` among the entries with `keep[i]` (descending;
/// ties by index); excluded entries get the count of kept ones.
pub fn ranks_desc(values: &[f32], keep: &[bool]) -> Vec<u32> {
    let idx = crate::util::top_indices_desc(values, |i| keep.get(i).copied().unwrap_or(false), values.len());
    let mut rank = vec![idx.len() as u32; values.len()];
    for (r, &i) in idx.iter().enumerate() {
        rank[i] = r as u32;
    }
    rank
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ranking_orders_by_score_then_fills_from_the_fusion() {
        let mut set =
            CandidateSet { positions: vec![5, 7, 9], features: vec![0.0; 3 * D], fusion_order: vec![5, 7, 2, 9, 4] };
        set.features[D] = 1.0; // candidate 1 (position 7) has cf = 1
        let mut theta = vec![0.0; D];
        theta[0] = 1.0;
        let p = Policy::new(vec![0.0; D], vec![1.0; D], theta);
        assert_eq!(p.ranking(&set, 5), vec![7, 5, 9, 2, 4]);
        assert_eq!(p.ranking(&set, 2), vec![7, 5]);
    }

    #[test]
    fn ranks_skip_excluded_items() {
        let r = ranks_desc(&[0.5, 0.9, 0.1, 0.9], &[true, true, false, true]);
        assert_eq!(r, vec![2, 0, 3, 1]);
    }

    #[test]
    fn a_policy_with_the_wrong_features_is_refused() {
        let mut p = Policy::new(vec![0.0; D], vec![1.0; D], vec![0.0; D]);
        assert_eq!(p.validate(), Ok(()));
        p.features[3] = "other".into();
        assert!(p.validate().unwrap_err().contains("expects"));
        let p = Policy::new(vec![0.0; D], vec![1.0; D], vec![f32::NAN; D]);
        assert!(p.validate().unwrap_err().contains("theta"));
    }
}
