//! The learned listwise reranker: candidate generation, the feature vector φ(state, item) and a
//! linear Plackett–Luce policy over it (DESIGN.md §6; Rank-GRPO, Zhu et al., ICLR 2026,
//! arXiv 2510.20150, applied to a PL policy instead of an LLM).
//!
//! **Candidates** ([`CandidateRanker::candidate_set`](super::CandidateRanker::candidate_set)):
//! the union of the generators' lists — by default ([`CandidateSizes`]) the collaborative
//! model's top 200, co-mentions top 100, personalized PageRank top 100, BM25 top 100, attribute
//! matches (top 100 of the items having a requested person, year or keyword, in fusion order),
//! popularity top 50, sequels/prequels of liked items, and the tuned fusion's own top 100; a
//! policy trained with other sizes (`curator train reranker --candidates`, e.g. the INSPIRED
//! catalog's, which adds the requested-genre top N) carries them in its `reranker.json` —
//! deduplicated by title group (the member the fusion ranks first stands for its group), with
//! every hard constraint of the fusion applied (items in the state, rejected genres and
//! attributes, the genre and attribute filters).
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
//! | 19 | `shared_genres` | share of the item's genres that positive seeds have (0 without genres) | [0, 1] |
//! | 20 | `shared_keywords` | knowledge-graph keywords shared with positive seeds, capped at 5 | 0 … 5 |
//! | 21 | `negative_comention` | co-mention score from the disliked seeds alone / max | [0, 1] |
//! | 22 | `year` | (year − 2000) / 10, clamped (0 without a year) | [−8, 2] decades |
//! | 23 | `log_seeds` | ln(1 + positive seeds) (context) | [0, ≈3] |
//! | 24 | `log_disliked` | ln(1 + disliked seeds) (context) | [0, ≈2] |
//! | 25 | `log_turns` | ln(1 + turns so far) (context) | [0, ≈4] |
//! | 26 | `log_text_len` | ln(1 + characters of the latest seeker turn) (context) | [0, ≈7] |
//! | 27 | `seed_age` | turns since the latest non-disliked item mention, capped at 10 (10 without) (context) | 0 … 10 |
//!
//! Context-level quantities (23–27) are the same for every candidate of a turn: a linear policy
//! cannot use them (a constant shift of every score leaves a Plackett–Luce policy unchanged;
//! their gradient is exactly zero), the MLP uses them through its hidden units, and the linear
//! part sees seed and turn counts through the interactions 16–18. The LLM's rank-level score
//! log π̄ is not a feature: the default model scores the ranker's top 100 at 6.7 s a context
//! on 2 CPU cores (`curator eval llm --parts rank`), ≈ 18 h for the training, validation and
//! test contexts, which waits for a GPU run.
//!
//! **Policy** ([`Policy`]): s(y) = θ · z + Σ_h v_h · max(0, W_h · z + b_h), z = (φ(y) − μ) / σ,
//! with μ, σ the training candidates' mean and standard deviation; the hidden layer ([`Hidden`],
//! H units, ReLU) is optional (absent: a linear policy). π(y_k | y_<k) = exp s(y_k) /
//! Σ_{j not yet placed} exp s(j). Flat parameter layout for training ([`Policy::params`]):
//! `[θ (D) | W (H × D, row-major) | b (H) | v (H)]`, [`params_len`] entries.
//! Ranking = candidates by descending s (ties by catalog position). Saved as
//! `<catalog>/reranker.json` by `curator train reranker`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// File name of the learned reranker inside a catalog folder.
pub const RERANKER_FILE: &str = "reranker.json";

/// Feature count per candidate.
pub const D: usize = 28;

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
    "shared_genres",
    "shared_keywords",
    "negative_comention",
    "year",
    "log_seeds",
    "log_disliked",
    "log_turns",
    "log_text_len",
    "seed_age",
];

/// Index of `fusion_log_rank` in [`FEATURES`] (the reference policy's only feature).
pub const FUSION_LOG_RANK: usize = 12;

/// How many items each candidate generator contributes (module doc): the default is the
/// movies catalog's set (collaborative top 200; co-mentions, PPR, BM25, attribute matches and
/// the fusion top 100 each; popularity top 50; no genre list). A policy is trained on the sets
/// these sizes give and saved with them (`candidates` in `reranker.json`), so the agent
/// rebuilds the same kind of set it was trained on. Every size is a count of title groups
/// (0: the generator is off), at most [`CandidateSizes::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CandidateSizes {
    /// The trained collaborative model's top N (any score, the catalog's order for ties).
    pub cf: usize,
    /// Co-mentions top N (positive scores only).
    pub comention: usize,
    /// Personalized PageRank top N (positive scores only).
    pub ppr: usize,
    /// BM25 of the recent seeker text top N (positive scores only).
    pub text: usize,
    /// Requested-genre share top N (positive shares only; recency-weighted genres of the state).
    pub genre: usize,
    /// Training popularity top N.
    pub popularity: usize,
    /// The first N items in fusion order having a requested person, year or keyword.
    pub attribute: usize,
    /// The fusion's own top N.
    pub fusion: usize,
}

impl Default for CandidateSizes {
    fn default() -> Self {
        CandidateSizes {
            cf: 200,
            comention: 100,
            ppr: 100,
            text: 100,
            genre: 0,
            popularity: 50,
            attribute: 100,
            fusion: 100,
        }
    }
}

impl CandidateSizes {
    /// Largest size a generator may be given (more than any catalog here has items).
    pub const MAX: usize = 1_000_000;

    /// The generator names, in the order of [`CandidateSizes::get`] and of the `--candidates`
    /// option.
    pub const NAMES: [&'static str; 8] =
        ["cf", "comention", "ppr", "text", "genre", "popularity", "attribute", "fusion"];

    /// Whether these are the defaults (then `reranker.json` omits them).
    pub fn is_default(&self) -> bool {
        *self == CandidateSizes::default()
    }

    /// The size of generator `name` ([`CandidateSizes::NAMES`]), `None` for another name.
    pub fn get(&self, name: &str) -> Option<usize> {
        let mut copy = *self;
        copy.slot(name).map(|s| *s)
    }

    fn slot(&mut self, name: &str) -> Option<&mut usize> {
        Some(match name {
            "cf" => &mut self.cf,
            "comention" => &mut self.comention,
            "ppr" => &mut self.ppr,
            "text" => &mut self.text,
            "genre" => &mut self.genre,
            "popularity" => &mut self.popularity,
            "attribute" => &mut self.attribute,
            "fusion" => &mut self.fusion,
            _ => return None,
        })
    }

    /// The defaults changed by `spec`, comma-separated `name=N` pairs
    /// (`"popularity=200,genre=100,ppr=200"`; names as [`CandidateSizes::NAMES`]; an empty
    /// spec gives the defaults).
    ///
    /// Errors: a message naming the pair that is not `name=N`, the unknown generator (with the
    /// known ones), a size that is not a whole number or is over [`CandidateSizes::MAX`], or a
    /// generator given twice.
    pub fn parse(spec: &str) -> std::result::Result<Self, String> {
        let mut out = CandidateSizes::default();
        let mut seen: Vec<&str> = Vec::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("candidate size {pair:?} is not name=N (e.g. popularity=200)"))?;
            let (name, value) = (name.trim(), value.trim());
            let known = Self::NAMES.join(", ");
            let slot =
                out.slot(name).ok_or_else(|| format!("unknown candidate generator {name:?} (known: {known})"))?;
            let n: usize =
                value.parse().map_err(|_| format!("candidate size of {name} is {value:?}, not a whole number"))?;
            if n > Self::MAX {
                return Err(format!("candidate size of {name} is {n}, over the maximum {}", Self::MAX));
            }
            if seen.contains(&name) {
                return Err(format!("candidate generator {name} is given twice"));
            }
            seen.push(name);
            *slot = n;
        }
        Ok(out)
    }

    /// Checks every size is at most [`CandidateSizes::MAX`] (a hand-edited `reranker.json`).
    ///
    /// Errors: a message naming the generator whose size is over the maximum.
    pub fn validate(&self) -> std::result::Result<(), String> {
        for name in Self::NAMES {
            let n = self.get(name).unwrap_or(0);
            if n > Self::MAX {
                return Err(format!("candidate size of {name} is {n}, over the maximum {}", Self::MAX));
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for CandidateSizes {
    /// `name=N` pairs in [`CandidateSizes::NAMES`] order, the form [`CandidateSizes::parse`] reads.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pairs: Vec<String> = Self::NAMES.iter().map(|n| format!("{n}={}", self.get(n).unwrap_or(0))).collect();
        f.write_str(&pairs.join(","))
    }
}

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

/// Entries of the flat parameter vector of a policy with `hidden` hidden units:
/// D + hidden · (D + 2) (module doc).
pub fn params_len(hidden: usize) -> usize {
    D + hidden * (D + 2)
}

/// Hidden units of a flat parameter vector of length `len` (None when `len` fits no layout).
pub fn hidden_of(len: usize) -> Option<usize> {
    let extra = len.checked_sub(D)?;
    extra.is_multiple_of(D + 2).then_some(extra / (D + 2))
}

/// The optional ReLU hidden layer of a policy: H units over the standardised features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hidden {
    /// Input weights W, row-major H × [`D`].
    pub w: Vec<f32>,
    /// Biases b, H.
    pub b: Vec<f32>,
    /// Output weights v, H.
    pub v: Vec<f32>,
}

/// A Plackett–Luce policy over standardised features, linear or with one ReLU hidden layer
/// (module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Feature names (must equal [`FEATURES`]).
    pub features: Vec<String>,
    /// Training mean μ per feature.
    pub mean: Vec<f32>,
    /// Training standard deviation σ per feature (> 0).
    pub std: Vec<f32>,
    /// Weights θ on the standardised features (the linear part).
    pub theta: Vec<f32>,
    /// The hidden layer (absent: a linear policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<Hidden>,
    /// The candidate generators' sizes the policy was trained with (absent: the defaults).
    #[serde(default, skip_serializing_if = "CandidateSizes::is_default")]
    pub candidates: CandidateSizes,
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
            hidden: None,
            candidates: CandidateSizes::default(),
            provenance: Default::default(),
        }
    }

    /// A policy from a flat parameter vector (module doc; its length gives the hidden units)
    /// over features standardised by `mean` and `std`.
    ///
    /// Errors: a length that fits no layout (names the length).
    pub fn from_params(mean: Vec<f32>, std: Vec<f32>, params: &[f64]) -> std::result::Result<Self, String> {
        let h = hidden_of(params.len())
            .ok_or_else(|| format!("{} parameters fit no policy layout over {D} features", params.len()))?;
        let f = |r: std::ops::Range<usize>| params[r].iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let mut p = Policy::new(mean, std, f(0..D));
        if h > 0 {
            let w0 = D;
            let b0 = w0 + h * D;
            let v0 = b0 + h;
            p.hidden = Some(Hidden { w: f(w0..b0), b: f(b0..v0), v: f(v0..v0 + h) });
        }
        Ok(p)
    }

    /// The flat parameter vector (module doc).
    pub fn params(&self) -> Vec<f64> {
        let mut out: Vec<f64> = self.theta.iter().map(|&x| f64::from(x)).collect();
        if let Some(h) = &self.hidden {
            out.extend(h.w.iter().chain(&h.b).chain(&h.v).map(|&x| f64::from(x)));
        }
        out
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
        if let Some(h) = &self.hidden {
            let units = h.v.len();
            if units == 0 || h.b.len() != units || h.w.len() != units * D {
                return Err(format!(
                    "hidden layer has {} input weights, {} biases and {} output weights; expected H × {D}, H and H with H ≥ 1",
                    h.w.len(),
                    h.b.len(),
                    units
                ));
            }
            if let Some(x) = h.w.iter().chain(&h.b).chain(&h.v).find(|x| !x.is_finite()) {
                return Err(format!("hidden layer holds {x}; every entry must be finite"));
            }
        }
        self.candidates.validate()
    }

    /// Standardises a raw feature row into `out` (length [`D`]).
    pub fn standardise(&self, raw: &[f32], out: &mut [f32]) {
        for (j, o) in out.iter_mut().enumerate().take(D) {
            *o = (raw.get(j).copied().unwrap_or(0.0) - self.mean[j]) / self.std[j];
        }
    }

    /// The score s(y) of one raw feature row (module doc).
    pub fn score_row(&self, raw: &[f32]) -> f32 {
        let mut z = [0f32; D];
        self.standardise(raw, &mut z);
        let mut s: f32 = z.iter().zip(&self.theta).map(|(a, b)| a * b).sum();
        if let Some(h) = &self.hidden {
            for (row, (b, v)) in h.w.chunks_exact(D).zip(h.b.iter().zip(&h.v)) {
                let a: f32 = row.iter().zip(&z).map(|(w, x)| w * x).sum::<f32>() + b;
                if a > 0.0 {
                    s += v * a;
                }
            }
        }
        s
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
    ranking_by_key(set, scores, |_| (0, 0.0), k)
}

/// [`ranking_by`] with a key that orders first: the candidates by descending `key(position)`
/// (`(tier, specificity)`, [`super::FusionParts::request_key`]), then by descending `scores`,
/// ties by candidate order; then the rest of the fusion's order; at most `k`.
pub fn ranking_by_key(set: &CandidateSet, scores: &[f32], key: impl Fn(usize) -> (usize, f32), k: usize) -> Vec<usize> {
    let keys: Vec<(usize, f32)> = set.positions.iter().map(|&p| key(p)).collect();
    let mut idx: Vec<usize> = (0..set.len().min(scores.len())).collect();
    idx.sort_by(|&a, &b| {
        keys[b]
            .0
            .cmp(&keys[a].0)
            .then(keys[b].1.total_cmp(&keys[a].1))
            .then(scores[b].total_cmp(&scores[a]))
            .then(a.cmp(&b))
    });
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

    #[test]
    fn candidate_sizes_parse_print_and_refuse_bad_pairs() {
        assert_eq!(CandidateSizes::parse(""), Ok(CandidateSizes::default()));
        let s = CandidateSizes::parse(" popularity=200, genre=100 ,ppr=200").unwrap();
        assert_eq!((s.popularity, s.genre, s.ppr, s.cf, s.fusion), (200, 100, 200, 200, 100));
        assert!(!s.is_default() && CandidateSizes::default().is_default());
        assert_eq!(
            s.to_string(),
            "cf=200,comention=100,ppr=200,text=100,genre=100,popularity=200,attribute=100,fusion=100"
        );
        assert_eq!(CandidateSizes::parse(&s.to_string()), Ok(s));
        assert_eq!(CandidateSizes::parse("cf=0").map(|s| s.cf), Ok(0));
        let err = |spec: &str| CandidateSizes::parse(spec).unwrap_err();
        assert!(err("popularity").contains("\"popularity\" is not name=N"), "{}", err("popularity"));
        assert!(err("genres=5").contains("unknown candidate generator \"genres\" (known: cf, comention"));
        assert!(err("ppr=-1").contains("candidate size of ppr is \"-1\", not a whole number"));
        assert!(err("ppr=2000000").contains("over the maximum 1000000"));
        assert!(err("ppr=1,ppr=2").contains("ppr is given twice"));
    }

    #[test]
    fn a_policy_keeps_its_candidate_sizes_and_omits_the_defaults() {
        let mut p = Policy::new(vec![0.0; D], vec![1.0; D], vec![0.0; D]);
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("candidates"), "{json}");
        p.candidates.genre = 100;
        let json = serde_json::to_string(&p).unwrap();
        let back: Policy = serde_json::from_str(&json).unwrap();
        assert_eq!(back.candidates.genre, 100);
        assert_eq!(back, p);
        p.candidates.ppr = CandidateSizes::MAX + 1;
        assert!(p.validate().unwrap_err().contains("candidate size of ppr is 1000001"));
        let typo = json.replace("\"genre\":100", "\"genres\":100");
        assert!(serde_json::from_str::<Policy>(&typo).unwrap_err().to_string().contains("genres"));
    }
}
