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
//! - **softmax item-kNN** ([`softmax`]): binary item-kNN weights fine-tuned by SGD on the softmax
//!   loss of the next recommended item given the items said before it (same instances as the
//!   transition model), projected onto `B ≥ 0`.

use std::collections::HashMap;
use std::path::Path;

use faer::linalg::solvers::DenseSolveCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::interactions::{Session, Source};

pub mod softmax;
use crate::catalog::{Catalog, ItemId};
use crate::{Error, Result};
pub use softmax::SoftmaxTrainer;

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
    /// Softmax item-kNN ([`softmax`]): binary item-kNN weights (exponent β) fine-tuned
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
    info: ModelInfo,
    /// Item ids, ascending.
    ids: Vec<ItemId>,
    /// Per item: training sessions containing it.
    popularity: Vec<f32>,
    /// Per item: (item index, weight), weight descending.
    neighbours: Vec<Vec<(u32, f32)>>,
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

    /// Serialises the model: magic `CURATOR-RECOMMENDER\n`, u32 version 1, u32 header length,
    /// the [`ModelInfo`] as JSON, u32 item count n, n u32 ids, n f32 popularities, n u32 row
    /// lengths, then each row's (u32 index, f32 weight) pairs, all little-endian; last, the
    /// sha256 of everything before it.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let header = serde_json::to_vec(&self.info)
            .map_err(|e| Error::InvalidInput(format!("cannot serialise the model header: {e}")))?;
        let mut out = Vec::with_capacity(64 + header.len() + self.ids.len() * 12 + self.entries() * 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&(self.ids.len() as u32).to_le_bytes());
        for id in &self.ids {
            out.extend_from_slice(&id.to_le_bytes());
        }
        for p in &self.popularity {
            out.extend_from_slice(&p.to_le_bytes());
        }
        for row in &self.neighbours {
            out.extend_from_slice(&(row.len() as u32).to_le_bytes());
        }
        for row in &self.neighbours {
            for (j, w) in row {
                out.extend_from_slice(&j.to_le_bytes());
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        Ok(out)
    }

    /// Parses [`ItemModel::to_bytes`] output; `path` names the source in errors.
    ///
    /// Errors: [`Error::Parse`] for a wrong magic or version, a checksum mismatch (a damaged
    /// file), a truncated file, an out-of-range neighbour index or a weight or popularity that
    /// is not finite.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self> {
        let bad = |m: &str| {
            Error::parse(path, 0, format!("{m}; restore it with `git checkout -- catalogs/movies` or retrain with `curator train recommender --source ../shared/data`"))
        };
        if bytes.len() < MAGIC.len() + 32 || !bytes.starts_with(MAGIC) {
            return Err(bad("not a Curator recommender file"));
        }
        let (body, digest) = bytes.split_at(bytes.len() - 32);
        if Sha256::digest(body).as_slice() != digest {
            return Err(bad("checksum mismatch (damaged file)"));
        }
        let mut r = Reader { bytes: body, at: MAGIC.len() };
        let version = r.u32().ok_or_else(|| bad("truncated"))?;
        if version != 1 {
            return Err(bad(&format!("unsupported version {version}")));
        }
        let hlen = r.u32().ok_or_else(|| bad("truncated"))? as usize;
        let header = r.take(hlen).ok_or_else(|| bad("truncated header"))?;
        let info: ModelInfo = serde_json::from_slice(header).map_err(|e| bad(&format!("bad header: {e}")))?;
        let n = r.u32().ok_or_else(|| bad("truncated"))? as usize;
        if n > body.len() / 4 {
            return Err(bad("item count larger than the file"));
        }
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            ids.push(r.u32().ok_or_else(|| bad("truncated ids"))?);
        }
        if ids.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("item ids not strictly ascending"));
        }
        let mut popularity = Vec::with_capacity(n);
        for _ in 0..n {
            let p = f32::from_bits(r.u32().ok_or_else(|| bad("truncated popularity"))?);
            if !p.is_finite() {
                return Err(bad("popularity not finite"));
            }
            popularity.push(p);
        }
        let mut lens = Vec::with_capacity(n);
        for _ in 0..n {
            lens.push(r.u32().ok_or_else(|| bad("truncated row lengths"))? as usize);
        }
        let mut neighbours = Vec::with_capacity(n);
        for len in lens {
            if len > n {
                return Err(bad("row longer than the item count"));
            }
            let mut row = Vec::with_capacity(len);
            for _ in 0..len {
                let j = r.u32().ok_or_else(|| bad("truncated rows"))?;
                let w = f32::from_bits(r.u32().ok_or_else(|| bad("truncated rows"))?);
                if j as usize >= n || !w.is_finite() {
                    return Err(bad("neighbour index out of range or weight not finite"));
                }
                row.push((j, w));
            }
            neighbours.push(row);
        }
        if r.at != body.len() {
            return Err(bad("trailing bytes"));
        }
        Ok(ItemModel { info, ids, popularity, neighbours })
    }

    /// Checks that the model knows every item of `catalog` (the catalog it will score); `path`
    /// names the model file in the error.
    ///
    /// Errors: [`Error::InvalidInput`] naming the first catalog item the model does not know and
    /// how to restore or retrain the file.
    pub fn check_covers(&self, catalog: &Catalog, path: &Path) -> Result<()> {
        match catalog.items().iter().find(|it| self.index(it.id).is_none()) {
            None => Ok(()),
            Some(it) => Err(Error::InvalidInput(format!(
                "{} does not know catalog item {} ({}; the model has {} items, the catalog {}): it was trained for \
                 another catalog; restore it with `git checkout -- catalogs/movies` or retrain with `curator train \
                 recommender --source ../shared/data`",
                path.display(),
                it.id,
                it.display_name(),
                self.ids.len(),
                catalog.len()
            ))),
        }
    }

    /// Writes the model to `path` (through a temporary file and a rename, see
    /// [`crate::util::write_atomic`]).
    ///
    /// Errors: [`Error::Io`].
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::util::write_atomic(path, &self.to_bytes()?)
    }

    /// Reads a model written by [`ItemModel::save`].
    ///
    /// Errors: [`Error::Missing`] if absent (with how to train it); those of
    /// [`ItemModel::from_bytes`].
    pub fn load(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(Error::Missing(format!(
                "{} not found; train it with `curator train recommender --source ../shared/data`",
                path.display()
            )));
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        ItemModel::from_bytes(&bytes, path)
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

const MAGIC: &[u8] = b"CURATOR-RECOMMENDER\n";

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn u32(&mut self) -> Option<u32> {
        let s = self.take(4)?;
        Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
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
}

/// The weighted co-occurrence (Gram) matrix of a set of sessions, dense over the items that occur.
#[derive(Debug, Clone)]
pub struct Gram {
    /// Catalog ids of all items (the model's item set), ascending.
    ids: Vec<ItemId>,
    /// Per item: sessions containing it (weighted by the session's source weight).
    popularity: Vec<f32>,
    /// Item indices that occur in some session.
    active: Vec<usize>,
    /// Row-major `active.len()²` Gram matrix `XᵀX` over active items (candidate columns
    /// weighted by `seeker` where only the seeker mentioned them).
    g: Vec<f64>,
    /// Per active item: `Σ_sessions x²` without role weighting (item-kNN row normalisation).
    self_weight: Vec<f64>,
    bm25: bool,
    backward: f32,
    seeker: f32,
    movielens_weight: f32,
    sessions: usize,
}

impl Gram {
    /// Builds `G = XᵀX` for the sessions over `catalog`'s items. MovieLens sessions count with
    /// weight `movielens_weight` (0 drops them); with `bm25`, entries are BM25-weighted (module
    /// doc). Sessions hold catalog positions.
    pub fn new(catalog: &Catalog, sessions: &[Session], movielens_weight: f32, bm25: bool) -> Self {
        Gram::with_order(catalog, sessions, movielens_weight, bm25, 1.0)
    }

    /// Like [`Gram::new`], with the co-occurrences where the candidate (column) comes *before*
    /// the seed (row) in a session's mention order weighted by `backward` (1: symmetric). Only
    /// item-kNN accepts `backward` < 1 (EASE needs a symmetric Gram matrix).
    pub fn with_order(
        catalog: &Catalog,
        sessions: &[Session],
        movielens_weight: f32,
        bm25: bool,
        backward: f32,
    ) -> Self {
        Gram::with_roles(catalog, sessions, movielens_weight, bm25, backward, 1.0)
    }

    /// Like [`Gram::with_order`], with a session's seeker-only items ([`Session::seeker_only`])
    /// counting `seeker` as the candidate (column) of a pair (1: roles ignored). Only item-kNN
    /// accepts `seeker` < 1.
    pub fn with_roles(
        catalog: &Catalog,
        sessions: &[Session],
        movielens_weight: f32,
        bm25: bool,
        backward: f32,
        seeker: f32,
    ) -> Self {
        let mut ids: Vec<ItemId> = catalog.items().iter().map(|i| i.id).collect();
        ids.sort_unstable();
        // Catalog position → model index.
        let mut pos_to_idx = vec![0usize; catalog.len()];
        for (p, item) in catalog.items().iter().enumerate() {
            pos_to_idx[p] = ids.binary_search(&item.id).unwrap_or(0);
        }
        let sw = |s: &Session| if s.source == Source::Movielens { movielens_weight } else { 1.0 };
        let used: Vec<&Session> = sessions.iter().filter(|s| sw(s) > 0.0).collect();
        let n = ids.len();
        let mut df = vec![0f32; n];
        let mut popularity = vec![0f32; n];
        let mut total_len = 0f64;
        for s in &used {
            total_len += s.items.len() as f64;
            for &(p, _) in &s.items {
                let i = pos_to_idx[p as usize];
                df[i] += 1.0;
                popularity[i] += sw(s);
            }
        }
        let avg_len = if used.is_empty() { 1.0 } else { total_len / used.len() as f64 };
        let big_n = used.len() as f32;
        let mut active: Vec<usize> = (0..n).filter(|&i| df[i] > 0.0).collect();
        active.sort_unstable();
        let mut act_idx: HashMap<usize, usize> = HashMap::with_capacity(active.len());
        for (a, &i) in active.iter().enumerate() {
            act_idx.insert(i, a);
        }
        let m = active.len();
        let mut g = vec![0f64; m * m];
        let mut self_weight = vec![0f64; m];
        let (k1, b) = (1.2f64, 0.75f64);
        let mut row: Vec<(usize, f64)> = Vec::new();
        let mut column: Vec<f64> = Vec::new();
        for s in &used {
            row.clear();
            column.clear();
            let len_norm = k1 * (1.0 - b + b * s.items.len() as f64 / avg_len) + 1.0;
            for &(p, w) in &s.items {
                let i = pos_to_idx[p as usize];
                let Some(&a) = act_idx.get(&i) else { continue };
                let x = if bm25 {
                    let idf = (1.0 + (big_n - df[i] + 0.5) / (df[i] + 0.5)).ln() as f64;
                    idf * (k1 + 1.0) / len_norm * w as f64
                } else {
                    w as f64
                };
                row.push((a, x));
                column.push(if s.seeker_only.contains(&p) { seeker as f64 } else { 1.0 });
            }
            let scale = sw(s) as f64;
            for (ia, &(a, xa)) in row.iter().enumerate() {
                let base = a * m;
                self_weight[a] += scale * xa * xa;
                for (ic, &(c, xc)) in row.iter().enumerate() {
                    let order = if ic < ia { backward as f64 } else { 1.0 };
                    g[base + c] += scale * order * xa * xc * column[ic];
                }
            }
        }
        Gram { ids, popularity, active, g, self_weight, bm25, backward, seeker, movielens_weight, sessions: used.len() }
    }

    /// Items that occur in some session.
    pub fn active_items(&self) -> usize {
        self.active.len()
    }

    /// Per catalog position of `catalog` (the one the Gram was built over): its active index.
    fn active_of_positions(&self, catalog: &Catalog) -> Vec<Option<usize>> {
        let mut act_of: HashMap<usize, usize> = HashMap::with_capacity(self.active.len());
        for (a, &i) in self.active.iter().enumerate() {
            act_of.insert(i, a);
        }
        catalog
            .items()
            .iter()
            .map(|it| self.ids.binary_search(&it.id).ok().and_then(|i| act_of.get(&i).copied()))
            .collect()
    }

    fn finish(&self, spec: ModelSpec, neighbours: usize, rows: Vec<Vec<(u32, f32)>>) -> ItemModel {
        ItemModel {
            info: ModelInfo {
                spec,
                movielens_weight: self.movielens_weight,
                neighbours,
                sessions: self.sessions,
                provenance: serde_json::Value::Null,
            },
            ids: self.ids.clone(),
            popularity: self.popularity.clone(),
            neighbours: rows,
        }
    }

    /// Keeps the `neighbours` largest positive weights of each active row (`weight(a, c)` over
    /// active indices), mapped to model indices.
    fn top_rows(&self, neighbours: usize, weight: impl Fn(usize, usize) -> f64) -> Vec<Vec<(u32, f32)>> {
        let m = self.active.len();
        let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); self.ids.len()];
        let mut buf: Vec<(u32, f32)> = Vec::with_capacity(m);
        for a in 0..m {
            buf.clear();
            for c in 0..m {
                if c == a {
                    continue;
                }
                let w = weight(a, c) as f32;
                if w > 0.0 && w.is_finite() {
                    buf.push((self.active[c] as u32, w));
                }
            }
            let order = |x: &(u32, f32), y: &(u32, f32)| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0));
            if buf.len() > neighbours && neighbours > 0 {
                buf.select_nth_unstable_by(neighbours - 1, order);
                buf.truncate(neighbours);
            } else if neighbours == 0 {
                buf.clear();
            }
            buf.sort_unstable_by(order);
            rows[self.active[a]] = buf.clone();
        }
        rows
    }

    /// The popularity model.
    pub fn popularity_model(&self) -> ItemModel {
        self.finish(ModelSpec::Popularity, 0, vec![Vec::new(); self.ids.len()])
    }

    /// Item-kNN with candidate exponent `beta` and `shrink` (module doc), `neighbours` per item.
    pub fn item_knn(&self, beta: f32, shrink: f32, neighbours: usize) -> ItemModel {
        let rows = self.top_rows(neighbours, self.knn_weight(beta, shrink));
        let spec = ModelSpec::ItemKnn { bm25: self.bm25, beta, shrink, backward: self.backward, seeker: self.seeker };
        self.finish(spec, neighbours, rows)
    }

    /// The item-kNN weight `B[a, c]` (module doc) over active indices, for exponent `beta` and
    /// `shrink`.
    fn knn_weight(&self, beta: f32, shrink: f32) -> impl Fn(usize, usize) -> f64 + '_ {
        let m = self.active.len();
        let row: Vec<f64> = self.self_weight.iter().map(|x| x.max(1e-12).sqrt()).collect();
        let diag: Vec<f64> = (0..m).map(|a| self.g[a * m + a].max(1e-12).powf(beta as f64)).collect();
        move |a, c| self.g[a * m + c] / (row[a] * diag[c] + shrink as f64)
    }

    /// EASE^R with regularisation `lambda` (module doc), `neighbours` per item.
    ///
    /// Errors: [`Error::InvalidInput`] if `lambda` ≤ 0 or `G + λI` is not positive definite.
    pub fn ease(&self, lambda: f32, neighbours: usize) -> Result<ItemModel> {
        let p = self.ease_inverse(lambda)?;
        let rows = self.top_rows(neighbours, |i, j| -p[(i, j)] / p[(j, j)]);
        Ok(self.finish(ModelSpec::Ease { lambda, bm25: self.bm25 }, neighbours, rows))
    }

    /// The normalised blend of item-kNN (`beta`, `shrink`) and EASE^R (`lambda`) with EASE share
    /// `ease_share` ([`ModelSpec::Blend`]), `neighbours` per item.
    ///
    /// Errors: those of [`Gram::ease`]; [`Error::InvalidInput`] if `ease_share` is not in
    /// [0, 1] or the Gram matrix is BM25-weighted.
    pub fn blend(&self, beta: f32, shrink: f32, lambda: f32, ease_share: f32, neighbours: usize) -> Result<ItemModel> {
        if !(0.0..=1.0).contains(&ease_share) {
            return Err(Error::InvalidInput(format!("the EASE share must be in [0, 1], got {ease_share}")));
        }
        if self.bm25 {
            return Err(Error::InvalidInput("the blend is trained on the binary Gram matrix".to_string()));
        }
        let p = self.ease_inverse(lambda)?;
        let m = self.active.len();
        let diag: Vec<f64> = (0..m).map(|a| self.g[a * m + a].max(1e-12)).collect();
        let knn = |a: usize, c: usize| self.g[a * m + c] / (diag[a].sqrt() * diag[c].powf(beta as f64) + shrink as f64);
        let ease = |i: usize, j: usize| -p[(i, j)] / p[(j, j)];
        // Mean over rows of the largest off-diagonal weight.
        let row_scale = |w: &dyn Fn(usize, usize) -> f64| {
            let total: f64 = (0..m).map(|a| (0..m).filter(|&c| c != a).map(|c| w(a, c)).fold(0f64, f64::max)).sum();
            if m == 0 || total <= 0.0 {
                1.0
            } else {
                total / m as f64
            }
        };
        let (sk, se) = (row_scale(&knn), row_scale(&ease));
        let s = ease_share as f64;
        let rows = self.top_rows(neighbours, |a, c| (1.0 - s) * knn(a, c) / sk + s * ease(a, c) / se);
        Ok(self.finish(ModelSpec::Blend { beta, shrink, lambda, ease_share }, neighbours, rows))
    }

    /// `(G + λI)⁻¹` over the active items (EASE^R, Steck 2019, eq. 8).
    fn ease_inverse(&self, lambda: f32) -> Result<faer::Mat<f64>> {
        if self.backward != 1.0 || self.seeker != 1.0 {
            return Err(Error::InvalidInput(
                "EASE needs a symmetric Gram matrix (backward = 1, seeker = 1)".to_string(),
            ));
        }
        if lambda <= 0.0 || !lambda.is_finite() {
            return Err(Error::InvalidInput(format!("EASE needs λ > 0, got {lambda}")));
        }
        let m = self.active.len();
        let a = faer::Mat::<f64>::from_fn(m, m, |i, j| self.g[i * m + j] + if i == j { lambda as f64 } else { 0.0 });
        let llt = a
            .llt(faer::Side::Lower)
            .map_err(|e| Error::InvalidInput(format!("G + λI is not positive definite (λ = {lambda}): {e:?}")))?;
        Ok(llt.inverse())
    }

    /// The SLIT transition model (module doc) fitted on the ordered sessions of `sessions`
    /// (MovieLens users are skipped: their order is not a dialogue's) over this Gram's item set,
    /// `neighbours` per item. `sessions` must be those the Gram was built from.
    ///
    /// Errors: [`Error::InvalidInput`] if `lambda` ≤ 0, `decay` ∉ (0, 1], or `S + λI` is not
    /// positive definite.
    pub fn transition(
        &self,
        catalog: &Catalog,
        sessions: &[Session],
        lambda: f32,
        decay: f32,
        neighbours: usize,
    ) -> Result<ItemModel> {
        if lambda <= 0.0 || !lambda.is_finite() {
            return Err(Error::InvalidInput(format!("the transition model needs λ > 0, got {lambda}")));
        }
        if !(decay > 0.0 && decay <= 1.0) {
            return Err(Error::InvalidInput(format!("the transition model needs a decay in (0, 1], got {decay}")));
        }
        let m = self.active.len();
        let mut s = faer::Mat::<f64>::zeros(m, m);
        let mut t: HashMap<(u32, u32), f64> = HashMap::new();
        self.for_each_instance(catalog, sessions, decay, |context, target| {
            for &(a, xa) in context {
                *t.entry((a as u32, target as u32)).or_insert(0.0) += xa;
                for &(b, xb) in context {
                    s[(a, b)] += xa * xb;
                }
            }
        });
        for a in 0..m {
            s[(a, a)] += lambda as f64;
        }
        let p = s
            .llt(faer::Side::Lower)
            .map_err(|e| Error::InvalidInput(format!("S + λI is not positive definite (λ = {lambda}): {e:?}")))?
            .inverse();
        // B = P·T, column by column (T is sparse): B[:, c] += T[b, c] · P[:, b].
        let mut b = vec![0f64; m * m];
        let mut entries: Vec<((u32, u32), f64)> = t.into_iter().collect();
        entries.sort_unstable_by_key(|e| (e.0 .1, e.0 .0));
        for ((from, to), v) in entries {
            let col = &mut b[to as usize * m..(to as usize + 1) * m];
            for (a, x) in col.iter_mut().enumerate() {
                *x += v * p[(a, from as usize)];
            }
        }
        let rows = self.top_rows(neighbours, |a, c| b[c * m + a]);
        Ok(self.finish(ModelSpec::Transition { lambda, decay }, neighbours, rows))
    }

    /// Calls `f(context, target)` for each next-recommendation instance of the ordered sessions
    /// (module doc, transition model): every item a recommender mentioned, except a session's
    /// first item, with the earlier items as `(active index, weight · decay^age)` context.
    /// MovieLens sessions (unordered) and items outside this Gram's active set are skipped.
    fn for_each_instance(
        &self,
        catalog: &Catalog,
        sessions: &[Session],
        decay: f32,
        mut f: impl FnMut(&[(usize, f64)], usize),
    ) {
        let pos_to_act = self.active_of_positions(catalog);
        let mut context: Vec<(usize, f64)> = Vec::new();
        for session in sessions.iter().filter(|s| s.source != Source::Movielens) {
            context.clear();
            for (k, &(p, w)) in session.items.iter().enumerate() {
                let Some(target) = pos_to_act.get(p as usize).copied().flatten() else { continue };
                if k > 0 && !context.is_empty() && !session.seeker_only.contains(&p) {
                    f(&context, target);
                }
                for c in context.iter_mut() {
                    c.1 *= decay as f64;
                }
                context.push((target, w as f64));
            }
        }
    }

    /// Trains `spec` (its `bm25` must match this Gram's weighting); `catalog` and `sessions` are
    /// those the Gram was built from (the transition model reads the sessions' order).
    ///
    /// Errors: those of [`Gram::ease`] and [`Gram::transition`]; [`Error::InvalidInput`] on a
    /// weighting mismatch.
    pub fn train(
        &self,
        spec: ModelSpec,
        neighbours: usize,
        catalog: &Catalog,
        sessions: &[Session],
    ) -> Result<ItemModel> {
        match spec {
            ModelSpec::Transition { lambda, decay } if !self.bm25 => {
                self.transition(catalog, sessions, lambda, decay, neighbours)
            }
            ModelSpec::KnnTransition { beta, shrink, lambda, decay, share } if !self.bm25 => {
                let knn = self.item_knn(beta, shrink, neighbours);
                let transition = self.transition(catalog, sessions, lambda, decay, neighbours)?;
                knn.mixed(&transition, share, spec, neighbours)
            }
            ModelSpec::Softmax { beta, decay, lr, l2, epochs } => {
                self.softmax(catalog, sessions, beta, decay, lr, l2, epochs, neighbours)
            }
            ModelSpec::Popularity => Ok(self.popularity_model()),
            ModelSpec::ItemKnn { bm25, beta, shrink, backward, seeker }
                if bm25 == self.bm25 && backward == self.backward && seeker == self.seeker =>
            {
                Ok(self.item_knn(beta, shrink, neighbours))
            }
            ModelSpec::Ease { lambda, bm25 } if bm25 == self.bm25 => self.ease(lambda, neighbours),
            ModelSpec::Blend { beta, shrink, lambda, ease_share } if !self.bm25 => {
                self.blend(beta, shrink, lambda, ease_share, neighbours)
            }
            _ => Err(Error::InvalidInput(format!(
                "{} does not match this Gram matrix (bm25 = {}, backward = {}, seeker = {})",
                spec.describe(),
                self.bm25,
                self.backward,
                self.seeker
            ))),
        }
    }
}

/// The `seeker` column weight of the Gram matrix `spec` is trained on (1: roles ignored).
pub fn seeker_of(spec: &ModelSpec) -> f32 {
    match spec {
        ModelSpec::ItemKnn { seeker, .. } => *seeker,
        _ => 1.0,
    }
}

/// The `backward` weight of the Gram matrix `spec` is trained on (1: symmetric).
pub fn backward_of(spec: &ModelSpec) -> f32 {
    match spec {
        ModelSpec::ItemKnn { backward, .. } => *backward,
        _ => 1.0,
    }
}

/// Whether `spec` is trained on a BM25-weighted Gram matrix.
pub fn uses_bm25(spec: &ModelSpec) -> bool {
    match spec {
        ModelSpec::Popularity
        | ModelSpec::Blend { .. }
        | ModelSpec::Transition { .. }
        | ModelSpec::KnnTransition { .. }
        | ModelSpec::Softmax { .. } => false,
        ModelSpec::ItemKnn { bm25, .. } | ModelSpec::Ease { bm25, .. } => *bm25,
    }
}
