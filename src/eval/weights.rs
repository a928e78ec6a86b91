//! Searching the candidate ranker's fusion weights: the validation [`objective`] (mean of
//! Recall@1/10/50, de-dup) and coordinate ascent over a grid per weight ([`search_weights`]).
//! Used by `curator tune` (ReDial validation, INSPIRED dev) and by `curator catalog build` (held-out
//! interaction sessions); never given a test split by its callers.

use std::sync::Arc;

use crate::agent::ToolRanker;
use crate::catalog::Catalog;
use crate::dialogue::Tracker;
use crate::eval::{metrics::MAX_K, EvalPoint, MetricsAccumulator, Protocol, Ranker};
use crate::rank::{CandidateRanker, FusionWeights};
use crate::recommender::CoMentions;
use crate::{Error, Result};

/// The validation objective of `ranker` on `points` (de-dup protocol): (mean of R@1/10/50,
/// `[R@1, R@10, R@50, NDCG@10]`, recommendations scored). Two threads; zeros if one fails.
pub fn objective(ranker: &ToolRanker, points: &[EvalPoint]) -> (f64, [f64; 4], usize) {
    let work: Vec<&EvalPoint> = points.iter().filter(|p| !p.targets_for(Protocol::Dedup).is_empty()).collect();
    let run = |chunk: &[&EvalPoint]| {
        let mut acc = MetricsAccumulator::new();
        for p in chunk {
            let ranking = ranker.rank(&p.context, MAX_K);
            for t in p.targets_for(Protocol::Dedup) {
                acc.add(&ranking, t);
            }
        }
        acc
    };
    let (a, b) = crate::util::in_two_halves(&work, run);
    let mut samples = b.samples();
    let mb = b.mean();
    let (ma, na) = match a {
        Ok(a) => (a.mean(), a.samples()),
        Err(_) => return (0.0, [0.0; 4], 0),
    };
    samples += na;
    let w = |x: f64, y: f64| {
        if samples == 0 {
            0.0
        } else {
            (x * na as f64 + y * b.samples() as f64) / samples as f64
        }
    };
    let m = [
        w(ma.recall_at_1, mb.recall_at_1),
        w(ma.recall_at_10, mb.recall_at_10),
        w(ma.recall_at_50, mb.recall_at_50),
        w(ma.ndcg_at_10, mb.ndcg_at_10),
    ];
    ((m[0] + m[1] + m[2]) / 3.0, m, samples)
}

/// What the fusion score is computed from while searching weights: a catalog (with the
/// popularity of the training data), its co-mention counts, the collaborative model fitted on the
/// same training data (if any) and the knowledge graph (if any).
pub struct RankerParts {
    /// The catalog, popularity from the training data only.
    pub catalog: Arc<Catalog>,
    /// Co-mention counts of the training data.
    pub cf: CoMentions,
    /// The collaborative model fitted on the training data.
    pub model: Option<Arc<dyn crate::recommender::Recommender>>,
    /// The knowledge graph's tools.
    pub knowledge: Option<Arc<crate::knowledge::tools::KgTools>>,
}

/// The result of [`search_weights`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightSearch {
    /// The chosen weights.
    pub weights: FusionWeights,
    /// Their objective (mean of R@1, R@10, R@50, de-dup).
    pub objective: f64,
    /// The starting weights' objective.
    pub start_objective: f64,
    /// R@1, R@10, R@50 and NDCG@10 of the chosen weights.
    pub metrics: [f64; 4],
    /// Ground-truth samples scored (de-dup).
    pub samples: usize,
}

/// One searched weight: its name, how to set it and the values tried.
type Setter = fn(&mut FusionWeights, f32);

/// The searched weights and their grids (coordinate ascent, in this order).
const GRID: [(&str, Setter, &[f32]); 11] = [
    ("kg", |w, v| w.kg = v, &[0.0, 0.05, 0.1, 0.2, 0.4]),
    ("attribute", |w, v| w.attribute = v, &[0.0, 0.05, 0.1, 0.2, 0.4]),
    ("genre", |w, v| w.genre = v, &[0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5]),
    ("beta", |w, v| w.beta = v, &[0.0, 0.15, 0.3, 0.5, 0.7]),
    ("shrink", |w, v| w.shrink = v, &[0.0, 2.0, 5.0, 10.0, 25.0]),
    ("cf", |w, v| w.cf = v, &[0.25, 0.5, 1.0, 2.0]),
    ("text", |w, v| w.text = v, &[0.0, 0.05, 0.1, 0.25, 0.5]),
    ("popularity", |w, v| w.popularity = v, &[0.0, 0.02, 0.05, 0.1, 0.2, 0.4]),
    ("recency", |w, v| w.recency = v, &[0.5, 0.7, 0.85, 1.0]),
    ("recommender_seed", |w, v| w.recommender_seed = v, &[0.0, 0.25, 0.5, 1.0]),
    ("disliked_seed", |w, v| w.disliked_seed = v, &[-1.0, -0.5, -0.25, 0.0]),
];

/// The weights searched by default: all of [`GRID`] but `cf` (the scale of the others is
/// relative to it).
const DEFAULT_SEARCH: [&str; 10] = [
    "kg",
    "attribute",
    "genre",
    "beta",
    "shrink",
    "text",
    "popularity",
    "recency",
    "recommender_seed",
    "disliked_seed",
];

/// Coordinate ascent over the fusion weights named in `only` (default: all but `cf`), `passes`
/// times (0: only score `start`), of the [`objective`] of the candidate ranker built from
/// `parts` on `points` (contexts replayed by `tracker`). Prints each improvement.
///
/// Errors: [`Error::InvalidInput`] for a name in `only` that is not a searched weight.
pub fn search_weights(
    parts: &RankerParts,
    tracker: &Tracker,
    points: &[EvalPoint],
    start: FusionWeights,
    only: Option<&[String]>,
    passes: usize,
) -> Result<WeightSearch> {
    if let Some(bad) = only.and_then(|o| o.iter().find(|o| !GRID.iter().any(|(n, _, _)| n == o))) {
        return Err(Error::InvalidInput(format!("--only: {bad:?} is not a tuned weight")));
    }
    let eval = |w: FusionWeights| {
        let mut ranker = CandidateRanker::new(&parts.catalog, parts.cf.clone(), w);
        if let Some(m) = &parts.model {
            ranker = ranker.with_model(m.clone());
        }
        if let Some(kt) = &parts.knowledge {
            ranker = ranker.with_knowledge(&parts.catalog, kt.clone());
        }
        let ranker = ToolRanker::new(tracker.clone(), Arc::new(ranker));
        objective(&ranker, points)
    };
    let mut best = start;
    let (start_objective, _, _) = eval(best);
    crate::outln!("starting weights: objective {start_objective:.4}");
    let mut best_obj = start_objective;
    let searched = |n: &str| only.map_or(DEFAULT_SEARCH.contains(&n), |o: &[String]| o.iter().any(|x| x == n));
    for pass in 1..=passes {
        for (name, set, values) in GRID.iter().filter(|(n, _, _)| searched(n)) {
            // β and shrink shape only the co-mention score, unused with a trained model.
            if parts.model.is_some() && (*name == "beta" || *name == "shrink") {
                continue;
            }
            for &v in *values {
                let mut w = best;
                set(&mut w, v);
                if w == best {
                    continue;
                }
                let (obj, _, _) = eval(w);
                if obj > best_obj + 1e-6 {
                    best_obj = obj;
                    best = w;
                    crate::outln!("pass {pass}: {name} = {v} → objective {obj:.4}");
                }
            }
        }
    }
    let (_, metrics, samples) = eval(best);
    crate::outln!(
        "chosen: objective {best_obj:.4} (start {start_objective:.4}); validation de-dup R@1 {:.4} R@10 {:.4} R@50 {:.4} NDCG@10 {:.4}",
        metrics[0], metrics[1], metrics[2], metrics[3]
    );
    Ok(WeightSearch { weights: best, objective: best_obj, start_objective, metrics, samples })
}
