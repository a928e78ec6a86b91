//! The [`Recommender`] trait and the trained item-to-item models behind it.
//!
//! Every model is stored the same way, as a sparse item × item weight matrix `B` (top-N
//! neighbours per item) plus per-item training popularity. The score of a candidate `c` for a
//! dialogue state with seed weights `w` is `s(c) = Σ_{a ∈ state} w_a · B[a, c]`; ties (including
//! the all-zero scores of an empty state) break by training popularity, then by lower item id.
//!
//! - **popularity**: `B` is empty; `s(c)` = sessions containing `c`.
//! - **item-kNN**: `B[a, c] = G[a, c] / (G[a, a]^½ · G[c, c]^β + shrink)` on the co-occurrence
//!   Gram matrix `G = XᵀX` of the session × item matrix `X`, either binary or BM25-weighted
//!   (`x_ui = idf_i · (k1 + 1) / (k1 · (1 − b + b · |u| / avg|u|) + 1)`, k1 = 1.2, b = 0.75,
//!   `idf_i = ln(1 + (N − df_i + ½) / (df_i + ½))`). β = ½ is cosine.
//!   With `backward` < 1 the counts are order-aware (a session-aware variant): a pair where the
//!   candidate was mentioned before the seed counts `backward` instead of 1. With `seeker` < 1
//!   (role-aware) a session's items only the seeker mentioned count `seeker` as candidates
//!   (columns of `G`); rows keep the role-free norm.
//! - **EASE^R** (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019, eq. 8):
//!   `P = (G + λI)⁻¹`, `B[i, j] = −P[i, j] / P[j, j]` for i ≠ j, `B[i, i] = 0`; the dense
//!   inverse is computed once at training time with `faer`'s Cholesky factorisation and only the
//!   top-N positive weights of each row are kept.
//! - **knn+ease**: `B = (1 − s)·B_knn/m_knn + s·B_ease/m_ease`, each part divided by the mean of
//!   its rows' largest weight ([`ModelSpec::Blend`]).
//! - **transition** (SLIT, the transition part of SLIST: Choi et al., "Session-aware Linear
//!   Item-Item Models for Session-based Recommendation", WWW 2021, §3.3, eq. 10): a ridge
//!   regression from what was said *before* a recommendation to the item recommended. Every
//!   item of an ordered session (ReDial, INSPIRED; not MovieLens) that a recommender mentioned,
//!   except the first item, is a target `e_t`; its context is `x_t = Σ_{j<t} d^{t−1−j} e_j` (the
//!   earlier items, the latest weighted 1, with the agent's recency decay `d`). With
//!   `S = Σ x_t x_tᵀ` and `T = Σ x_t e_tᵀ`, `B = (S + λI)⁻¹ T`. It predicts what a recommender
//!   brings up next, where the co-occurrence models predict what else a session mentions.
//! - **softmax item-kNN** ([`crate::recommender::fit::softmax`]): binary item-kNN weights fine-tuned by SGD on the softmax
//!   loss of the next recommended item given the items said before it (same instances as the
//!   transition model), projected onto `B ≥ 0`.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod file;

use crate::catalog::{Catalog, ItemId};
use crate::{Error, Result};

/// What the user said about an item in the dialogue state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feedback {
    /// The seeker liked it.
    Liked,
    /// The seeker disliked or rejected it.
    Disliked,
    /// Mentioned without a stated opinion (e.g. by the recommender).
    Mentioned,
}

/// One item of a [`RecState`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StateItem {
    /// Catalog id.
    pub id: ItemId,
    /// What the seeker said about it.
    pub feedback: Feedback,
    /// Seed weight in the score (module doc): the caller's choice (recency, role); 0 excludes
    /// the item without letting it vote.
    pub weight: f32,
}

/// The dialogue state a recommender sees: the items mentioned so far, in order, with feedback.
/// Every item in the state is excluded from the output.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecState {
    /// Items in order of mention; a later entry for the same id overrides an earlier one.
    pub items: Vec<StateItem>,
}

impl RecState {
    /// An empty state.
    pub fn new() -> Self {
        RecState::default()
    }

    /// A state from liked, disliked and other mentioned items (default weights: liked and
    /// mentioned 1, disliked 0), in the order liked, mentioned, disliked.
    pub fn from_lists(liked: &[ItemId], disliked: &[ItemId], mentioned: &[ItemId]) -> Self {
        let mut s = RecState::new();
        for &id in liked {
            s.push(id, Feedback::Liked, 1.0);
        }
        for &id in mentioned {
            s.push(id, Feedback::Mentioned, 1.0);
        }
        for &id in disliked {
            s.push(id, Feedback::Disliked, 0.0);
        }
        s
    }

    /// Appends one item.
    pub fn push(&mut self, id: ItemId, feedback: Feedback, weight: f32) {
        self.items.push(StateItem { id, feedback, weight });
    }
}

/// One scored candidate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoredItem {
    /// Catalog id.
    pub id: ItemId,
    /// Model score (higher is better); popularity model: training sessions.
    pub score: f32,
}

/// A collaborative recommender: scores catalog items for a dialogue state.
pub trait Recommender: Send + Sync + std::fmt::Debug {
    /// Short stable name ("ease", "item-knn", "popularity").
    fn name(&self) -> String;

    /// The best `k` items (fewer if the model knows fewer), best first, none of them in
    /// `state`. Deterministic: ties break by training popularity, then lower id.
    ///
    /// Errors: [`Error::InvalidInput`] naming a state item id the model does not know.
    fn recommend_candidates(&self, state: &RecState, k: usize) -> Result<Vec<ScoredItem>>;

    /// Every item [`Recommender::recommend_candidates`] would return for an unbounded `k`, with
    /// the same scores, in no particular order (callers that only read scores skip the sort).
    ///
    /// Errors: those of [`Recommender::recommend_candidates`].
    fn score_all(&self, state: &RecState) -> Result<Vec<ScoredItem>> {
        self.recommend_candidates(state, usize::MAX)
    }
}

/// Which model family and hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelSpec {
    /// Training popularity.
    Popularity,
    /// Item-kNN on the (binary or BM25-weighted) co-occurrence matrix.
    ItemKnn {
        /// BM25 weighting of the session × item matrix (else binary).
        bm25: bool,
        /// Weight of co-occurrences where the candidate was mentioned *before* the seed (1 =
        /// symmetric co-occurrence; < 1 favours what tends to come next in a session).
        #[serde(default = "one")]
        backward: f32,
        /// Weight of a session's items that only the seeker mentioned when they are the
        /// *candidate* (column) of a pair (1 = roles ignored; < 1 favours what recommenders
        /// bring up, the agent's task). Rows keep the role-free normalisation.
        #[serde(default = "one")]
        seeker: f32,
        /// Candidate popularity exponent β (½ = cosine).
        beta: f32,
        /// Added to the similarity's denominator.
        shrink: f32,
    },
    /// A normalised blend of binary item-kNN and EASE^R on the same symmetric Gram matrix:
    /// `B = (1 − s) · B_knn / m_knn + s · B_ease / m_ease`, where `m_x` is the mean over items of
    /// the largest weight of the item's row (so both parts are on one scale) and `s` the EASE
    /// share.
    Blend {
        /// Item-kNN candidate popularity exponent β.
        beta: f32,
        /// Item-kNN shrink.
        shrink: f32,
        /// EASE^R regularisation λ.
        lambda: f32,
        /// Share `s` of EASE^R in [0, 1].
        ease_share: f32,
    },
    /// SLIT transition model (module doc) with L2 weight λ and context recency decay `d`.
    Transition {
        /// L2 regularisation λ added to the diagonal of `S`.
        lambda: f32,
        /// Weight ratio of each earlier context item to the next one, in (0, 1].
        decay: f32,
    },
    /// Item-kNN plus the transition model, each divided by the mean of its rows' largest
    /// weight: `B = (1 − s)·B_knn/m_knn + s·B_transition/m_transition`.
    KnnTransition {
        /// Item-kNN candidate popularity exponent β.
        beta: f32,
        /// Item-kNN shrink.
        shrink: f32,
        /// Transition λ.
        lambda: f32,
        /// Transition context decay.
        decay: f32,
        /// Share `s` of the transition model in [0, 1].
        share: f32,
    },
    /// Softmax item-kNN ([`crate::recommender::fit::softmax`]): binary item-kNN weights (exponent β) fine-tuned
    /// with the softmax loss of the next recommendation, context decay `d`, `epochs` epochs of
    /// SGD with learning rate `lr` and L2 weight `l2` toward the scaled item-kNN prior.
    Softmax {
        /// Item-kNN candidate popularity exponent β of the prior.
        beta: f32,
        /// Weight ratio of each earlier context item to the next one, in (0, 1].
        decay: f32,
        /// SGD learning rate.
        lr: f32,
        /// L2 weight toward the prior.
        l2: f32,
        /// Epochs over the training instances.
        epochs: u32,
    },
    /// EASE^R with L2 weight λ.
    Ease {
        /// L2 regularisation λ added to the Gram diagonal.
        lambda: f32,
        /// BM25 weighting of the session × item matrix (else binary).
        bm25: bool,
    },
}

impl ModelSpec {
    /// Family name used in reports: "popularity", "item-knn", "ease".
    pub fn family(&self) -> &'static str {
        match self {
            ModelSpec::Popularity => "popularity",
            ModelSpec::ItemKnn { .. } => "item-knn",
            ModelSpec::Ease { .. } => "ease",
            ModelSpec::Blend { .. } => "knn+ease",
            ModelSpec::Transition { .. } => "transition",
            ModelSpec::KnnTransition { .. } => "knn+transition",
            ModelSpec::Softmax { .. } => "softmax-knn",
        }
    }

    /// Family and hyperparameters in one line.
    pub fn describe(&self) -> String {
        match self {
            ModelSpec::Popularity => "popularity".to_string(),
            ModelSpec::ItemKnn { bm25, beta, shrink, backward, seeker } => {
                let mut order = if *backward < 1.0 { format!(", backward {backward}") } else { String::new() };
                if *seeker < 1.0 {
                    order.push_str(&format!(", seeker-only candidates ×{seeker}"));
                }
                format!("item-knn ({}, β {beta}, shrink {shrink}{order})", if *bm25 { "bm25" } else { "binary" })
            }
            ModelSpec::Ease { lambda, bm25 } => format!("ease (λ {lambda}, {})", if *bm25 { "bm25" } else { "binary" }),
            ModelSpec::Blend { beta, shrink, lambda, ease_share } => {
                format!("knn+ease (item-knn β {beta}, shrink {shrink}; ease λ {lambda}; ease share {ease_share})")
            }
            ModelSpec::Transition { lambda, decay } => format!("transition (λ {lambda}, decay {decay})"),
            ModelSpec::KnnTransition { beta, shrink, lambda, decay, share } => format!(
                "knn+transition (item-knn β {beta}, shrink {shrink}; transition λ {lambda}, decay {decay}; transition share {share})"
            ),
            ModelSpec::Softmax { beta, decay, lr, l2, epochs } => {
                format!("softmax-knn (item-knn β {beta}; decay {decay}, lr {lr}, l2 {l2}, {epochs} epochs)")
            }
        }
    }
}

fn one() -> f32 {
    1.0
}

/// How a model was trained (stored in the model file's header).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Family and hyperparameters.
    pub spec: ModelSpec,
    /// Weight of each MovieLens session relative to a dialogue (0: dialogues only).
    pub movielens_weight: f32,
    /// Neighbours kept per item.
    pub neighbours: usize,
    /// Sessions the model was fitted on.
    pub sessions: usize,
    /// Free-form provenance (data mix, validation figures), written by `curator train recommender`.
    #[serde(default)]
    pub provenance: serde_json::Value,
}

/// A trained item-to-item model (module doc) over a fixed item set.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemModel {
    pub(crate) info: ModelInfo,
    /// Item ids, ascending.
    pub(crate) ids: Vec<ItemId>,
    /// Per item: training sessions containing it.
    pub(crate) popularity: Vec<f32>,
    /// Per item: (item index, weight), weight descending.
    pub(crate) neighbours: Vec<Vec<(u32, f32)>>,
}

impl ItemModel {
    /// How the model was trained.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Mutable provenance (set before saving).
    pub fn info_mut(&mut self) -> &mut ModelInfo {
        &mut self.info
    }

    /// Number of items the model knows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the model knows no item.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Stored (neighbour, weight) entries in all.
    pub fn entries(&self) -> usize {
        self.neighbours.iter().map(Vec::len).sum()
    }

    /// The same model with at most `n` neighbours per item (rows are stored best first).
    pub fn truncated(&self, n: usize) -> ItemModel {
        let mut m = self.clone();
        for row in &mut m.neighbours {
            row.truncate(n);
        }
        m.info.neighbours = n.min(m.info.neighbours);
        m
    }

    fn index(&self, id: ItemId) -> Option<usize> {
        self.ids.binary_search(&id).ok()
    }

    /// `B[a, c]` for ids `a`, `c` (0 when not a stored neighbour or unknown).
    pub fn weight(&self, a: ItemId, c: ItemId) -> f32 {
        match (self.index(a), self.index(c)) {
            (Some(a), Some(c)) => {
                self.neighbours[a].iter().find(|(j, _)| *j as usize == c).map(|(_, w)| *w).unwrap_or(0.0)
            }
            _ => 0.0,
        }
    }

    /// `(1 − share)·self/m_self + share·other/m_other`, where `m_x` is the mean over rows of a
    /// row's largest weight; rows keep their `neighbours` largest weights. The result is
    /// labelled `spec`.
    ///
    /// Errors: [`Error::InvalidInput`] if the two models know different items or `share` is not
    /// in [0, 1].
    pub fn mixed(&self, other: &ItemModel, share: f32, spec: ModelSpec, neighbours: usize) -> Result<ItemModel> {
        if self.ids != other.ids {
            return Err(Error::InvalidInput("models over different item sets cannot be mixed".to_string()));
        }
        if !(0.0..=1.0).contains(&share) {
            return Err(Error::InvalidInput(format!("the mixing share must be in [0, 1], got {share}")));
        }
        let scale = |m: &ItemModel| {
            let rows: Vec<f32> = m.neighbours.iter().filter_map(|r| r.first().map(|x| x.1)).collect();
            let mean = rows.iter().sum::<f32>() / rows.len().max(1) as f32;
            if mean > 0.0 {
                mean
            } else {
                1.0
            }
        };
        let (a, b) = ((1.0 - share) / scale(self), share / scale(other));
        let mut out = self.clone();
        out.info.spec = spec;
        out.info.neighbours = neighbours;
        let mut acc: HashMap<u32, f32> = HashMap::new();
        for (row, (x, y)) in out.neighbours.iter_mut().zip(self.neighbours.iter().zip(&other.neighbours)) {
            acc.clear();
            for &(c, w) in x {
                *acc.entry(c).or_insert(0.0) += a * w;
            }
            for &(c, w) in y {
                *acc.entry(c).or_insert(0.0) += b * w;
            }
            let mut merged: Vec<(u32, f32)> = acc.iter().map(|(&c, &w)| (c, w)).filter(|e| e.1 > 0.0).collect();
            merged.sort_unstable_by(|p, q| q.1.total_cmp(&p.1).then(p.0.cmp(&q.0)));
            merged.truncate(neighbours);
            *row = merged;
        }
        Ok(out)
    }

    /// Scores every item for `state` into a vector parallel to the model's ids, and marks the
    /// state's items. Errors on unknown ids.
    fn scores(&self, state: &RecState) -> Result<(Vec<f32>, Vec<bool>)> {
        let n = self.ids.len();
        let mut weights: Vec<(usize, f32)> = Vec::with_capacity(state.items.len());
        let mut excluded = vec![false; n];
        for s in &state.items {
            let Some(a) = self.index(s.id) else {
                return Err(Error::InvalidInput(format!(
                    "item {} is not known to the recommender ({} items)",
                    s.id,
                    self.ids.len()
                )));
            };
            excluded[a] = true;
            match weights.iter_mut().find(|(b, _)| *b == a) {
                Some(e) => e.1 = s.weight,
                None => weights.push((a, s.weight)),
            }
        }
        let mut scores = vec![0f32; n];
        if matches!(self.info.spec, ModelSpec::Popularity) {
            scores.copy_from_slice(&self.popularity);
        } else {
            for (a, w) in weights {
                if w == 0.0 {
                    continue;
                }
                for &(c, b) in &self.neighbours[a] {
                    scores[c as usize] += w * b;
                }
            }
        }
        Ok((scores, excluded))
    }
}

impl Recommender for ItemModel {
    fn name(&self) -> String {
        self.info.spec.family().to_string()
    }

    fn recommend_candidates(&self, state: &RecState, k: usize) -> Result<Vec<ScoredItem>> {
        let (scores, excluded) = self.scores(state)?;
        let mut cand: Vec<u32> = (0..self.ids.len() as u32).filter(|&i| !excluded[i as usize]).collect();
        let order = |a: &u32, b: &u32| {
            let (a, b) = (*a as usize, *b as usize);
            scores[b].total_cmp(&scores[a]).then(self.popularity[b].total_cmp(&self.popularity[a])).then(a.cmp(&b))
        };
        let k = k.min(cand.len());
        if k == 0 {
            return Ok(Vec::new());
        }
        if k < cand.len() {
            cand.select_nth_unstable_by(k - 1, order);
            cand.truncate(k);
        }
        cand.sort_unstable_by(order);
        Ok(cand.into_iter().map(|i| ScoredItem { id: self.ids[i as usize], score: scores[i as usize] }).collect())
    }

    fn score_all(&self, state: &RecState) -> Result<Vec<ScoredItem>> {
        let (scores, excluded) = self.scores(state)?;
        Ok((0..self.ids.len())
            .filter(|&i| !excluded[i])
            .map(|i| ScoredItem { id: self.ids[i], score: scores[i] })
            .collect())
    }
}
