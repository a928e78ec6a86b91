//! The fusion weights of the candidate ranker ([`FusionWeights`]; the fusion score is in the
//! `rank` module doc). Split from `rank/mod.rs`.

use serde::{Deserialize, Serialize};

/// Weights of the fusion score (`rank` module doc). Chosen on a validation split of the ReDial
/// *training* dialogues (`curator tune`), never on the test split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FusionWeights {
    /// Weight of the normalised collaborative score.
    pub cf: f32,
    /// Weight of the normalised BM25 score of recent seeker text.
    pub text: f32,
    /// Weight of the normalised log popularity.
    pub popularity: f32,
    /// Weight of the genre match: the recency-weighted share of requested genres the item has.
    pub genre: f32,
    /// When the latest seeker turn asks for genres, keep only items with at least one of them.
    pub genre_filter: bool,
    /// Candidate popularity exponent β of the co-mention score (½ = cosine).
    pub beta: f32,
    /// Added to a candidate's popularity before the β power, damping items seen in very few
    /// dialogues.
    pub shrink: f32,
    /// Per-turn decay of seed weights (1 = no decay).
    pub recency: f32,
    /// Seed weight of items mentioned by the recommender.
    pub recommender_seed: f32,
    /// Seed weight of disliked items (negative).
    pub disliked_seed: f32,
    /// Weight of the normalised knowledge-graph proximity (personalized PageRank); needs a graph.
    pub kg: f32,
    /// Weight of the attribute match (requested people, years, keywords); needs a graph.
    pub attribute: f32,
    /// Keep only items meeting the latest turn's requested attributes (module doc); needs a graph.
    pub attribute_filter: bool,
}

impl FusionWeights {
    /// Checks the ranges: every weight finite; `cf`, `text`, `popularity`, `genre`, `kg`,
    /// `attribute`, `beta`, `shrink`, `recommender_seed` ≥ 0; `recency` in (0, 1];
    /// `disliked_seed` in [−1, 0]. Errors: a message naming the first weight out of range.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let non_negative = [
            ("cf", self.cf),
            ("text", self.text),
            ("popularity", self.popularity),
            ("genre", self.genre),
            ("kg", self.kg),
            ("attribute", self.attribute),
            ("beta", self.beta),
            ("shrink", self.shrink),
            ("recommender_seed", self.recommender_seed),
        ];
        for (name, v) in non_negative {
            if !v.is_finite() || v < 0.0 {
                return Err(format!("weights.{name} is {v}; it must be a finite number ≥ 0"));
            }
        }
        if !(self.recency > 0.0 && self.recency <= 1.0) {
            return Err(format!("weights.recency is {}; it must be in (0, 1]", self.recency));
        }
        if !(-1.0..=0.0).contains(&self.disliked_seed) {
            return Err(format!("weights.disliked_seed is {}; it must be in [-1, 0]", self.disliked_seed));
        }
        Ok(())
    }
}

impl Default for FusionWeights {
    fn default() -> Self {
        // The first tuning run's choice (see `catalogs/movies/ranker.yaml` for the current one).
        FusionWeights {
            cf: 1.0,
            text: 0.05,
            popularity: 0.1,
            genre: 0.0,
            genre_filter: false,
            beta: 0.15,
            shrink: 2.0,
            recency: 0.85,
            recommender_seed: 1.0,
            disliked_seed: 0.0,
            kg: 0.0,
            attribute: 0.0,
            attribute_filter: false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::FusionWeights;

    #[test]
    fn weights_out_of_range_are_named() {
        assert_eq!(FusionWeights::default().validate(), Ok(()));
        let w = FusionWeights { cf: f32::NAN, ..FusionWeights::default() };
        assert!(w.validate().unwrap_err().contains("weights.cf"));
        let w = FusionWeights { recency: 1e30, ..FusionWeights::default() };
        assert!(w.validate().unwrap_err().contains("weights.recency"));
        let w = FusionWeights { beta: -100.0, ..FusionWeights::default() };
        assert!(w.validate().unwrap_err().contains("weights.beta"));
    }
}
