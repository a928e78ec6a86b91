//! `curator tune`: chooses the fusion weights on a validation split of the ReDial **training**
//! dialogues, never on the test split.
//!
//! Validation: the 2,263 train dialogues with full text in `redial/train_partial/
//! train_subset_original_format.jsonl` (disjoint from test; checked here). They are removed from
//! the co-mention and popularity statistics before tuning (leave-them-out), so the ranker is
//! scored on dialogues it has not counted. Objective: mean of Recall@1, @10 and @50 on the
//! de-dup protocol. Search: coordinate ascent over a small grid per weight, two passes.
//! Disliked items are kept at a weight ≤ 0 by design: on ReDial a disliked movie still predicts
//! what gets discussed next, but a seeker who says "not Titanic" must not get Titanic-alikes.
//! Likewise `genre_filter` is not searched: a seeker who asks for "a funny animated movie" gets
//! comedies or animations, whatever the validation figure says (it costs about 2 % of the
//! objective on ReDial validation, where genre words are often not requests). It is taken from
//! the starting weights (`--from`).
//!
//! When `catalogs/movies/recommender.bin` exists, its model (same family, hyperparameters and
//! data mix) is refit without the validation dialogues and supplies the collaborative score.
//!
//! The starting weights (`--from`) also supply `attribute_filter` (a seeker who asks for a 90s
//! thriller with Denzel Washington gets one). The knowledge-graph weights `kg` and `attribute`
//! are searched like the others.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use crate::agent::ToolRanker;
use crate::catalog::{Catalog, Item};
use crate::dialogue::Tracker;
use crate::eval::{extract_points, metrics::MAX_K, EvalPoint, MetricsAccumulator, Protocol, Ranker};
use crate::rank::{CandidateRanker, FusionWeights, TuneProvenance, TunedWeights};
use crate::recommender::CoMentions;
use crate::{Error, Result};

pub use crate::eval::validation::{validation_split, VALIDATION};

const TRAIN: &str = "redial/train_movie_level/train_movie_sequences_compact.jsonl";

/// The validation objective of `ranker` on `points` (de-dup protocol): (mean of R@1/10/50,
/// `[R@1, R@10, R@50, NDCG@10]`, recommendations scored). Two threads; zeros if one fails.
pub fn objective(ranker: &ToolRanker, points: &[EvalPoint]) -> (f64, [f64; 4], usize) {
    let work: Vec<&EvalPoint> = points.iter().filter(|p| !p.targets_for(Protocol::Dedup).is_empty()).collect();
    let half = work.len() / 2;
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
    let (a, b) = std::thread::scope(|s| {
        let h = s.spawn(|| run(&work[..half]));
        let b = run(&work[half..]);
        (h.join(), b)
    });
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

/// Tunes the fusion weights of the built catalog in `catalog_dir` (another than movies, e.g.
/// `catalogs/inspired`) on INSPIRED **dev** (`dev_path`, linked into that catalog by `curator
/// --catalog NAME eval build`), never test: starting from the catalog's `ranker.yaml`, coordinate
/// ascent over the weights in `only` (default: all but `cf`) with the catalog's own popularity,
/// co-mentions, trained model and graph (built from INSPIRED train only).
///
/// Errors: a path that is not a dev split (`dev.jsonl`); loading errors; those of
/// [`search_weights`].
pub fn tune_on_dev(catalog_dir: &Path, dev_path: &Path, only: Option<&[String]>) -> Result<TunedWeights> {
    if dev_path.file_name().and_then(|n| n.to_str()) != Some("dev.jsonl") {
        return Err(Error::InvalidInput(format!(
            "{}: tuning reads a dev split (dev.jsonl) only, never test",
            dev_path.display()
        )));
    }
    let catalog = Arc::new(Catalog::load(catalog_dir)?);
    let cf = CoMentions::load(&catalog_dir.join("comentions.tsv"), &catalog)?;
    let model = crate::assets::load_model(catalog_dir)?.map(|m| m as Arc<dyn crate::recommender::Recommender>);
    let knowledge = crate::assets::load_knowledge(catalog_dir)?;
    let tracker = Tracker::with_graph(catalog.clone(), knowledge.as_ref().map(|kt| &kt.graph));
    let data = crate::eval::suite::load_data(crate::eval::suite::Dataset::Inspired, dev_path)?;
    let points = data.points;
    let instances = points.iter().filter(|p| !p.targets_for(Protocol::Dedup).is_empty()).count();
    crate::outln!("INSPIRED dev {}: {instances} instances (de-dup)", dev_path.display());
    let start = crate::rank::config::load_weights(catalog_dir)?;
    // The training sessions the catalog was built from (its manifest's `sessions`).
    let catalog_sessions = std::fs::read_to_string(catalog_dir.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|m| m["sessions"].as_u64())
        .map_or(0, |n| n as usize);
    let parts = RankerParts { catalog, cf, model, knowledge };
    let found = search_weights(&parts, &tracker, &points, start, only, 2)?;
    Ok(TunedWeights {
        weights: found.weights,
        provenance: TuneProvenance {
            validation_file: "INSPIRED dev (evals/inspired/<catalog>/dev.jsonl)".to_string(),
            validation_dialogues: data.dialogues,
            validation_instances: instances,
            validation_recommendations: found.samples,
            train_dialogues_used: catalog_sessions,
            objective_default: found.start_objective,
            objective_tuned: found.objective,
            tuned_metrics: found.metrics,
        },
    })
}

/// Tunes the fusion weights with the raw data in `source` (laid out like `../shared/data`)
/// against the catalog in `catalog_dir`; prints progress lines and returns the result.
///
/// Errors: missing or malformed inputs; a validation dialogue that is also in the test split
/// `test_path` ([`Error::InvalidInput`]: tuning on test is refused).
/// With `start: Some(w)` the search starts from `w` instead of the defaults; with `search:
/// false` it only scores the starting weights (a validation run of one configuration).
pub fn tune(
    source: &Path,
    catalog_dir: &Path,
    test_path: &Path,
    start: Option<FusionWeights>,
    search: bool,
) -> Result<TunedWeights> {
    tune_only(source, catalog_dir, test_path, start, search, None)
}

/// [`tune`] searching only the weights named in `only` (e.g. `["kg", "attribute"]`, starting
/// from `--from`); `None` searches them all.
///
/// Errors: those of [`tune`]; [`Error::InvalidInput`] for a name that is not a searched weight.
pub fn tune_only(
    source: &Path,
    catalog_dir: &Path,
    test_path: &Path,
    start: Option<FusionWeights>,
    search: bool,
    only: Option<&[String]>,
) -> Result<TunedWeights> {
    let base = Catalog::load(catalog_dir)?;
    let val = validation_split(source, test_path)?;
    let val_ids: HashSet<String> = val.iter().map(|d| d.conversation_id.clone()).collect();
    let known: HashSet<_> = base.items().iter().map(|i| i.id).collect();
    let stats = crate::data::train_statistics(&source.join(TRAIN), &known, &val_ids)?;
    let items: Vec<Item> = base
        .items()
        .iter()
        .map(|i| Item { popularity: stats.popularity.get(&i.id).copied().unwrap_or(0), ..i.clone() })
        .collect();
    let catalog = Arc::new(Catalog::from_items(items)?);
    let cf = CoMentions::from_pairs(&catalog, &stats.pairs);
    // The trained collaborative model, refit without the validation dialogues.
    let model: Option<Arc<dyn crate::recommender::Recommender>> =
        crate::train::refit_saved_model(source, catalog_dir, &catalog, &val_ids)?
            .map(|m| Arc::new(m) as Arc<dyn crate::recommender::Recommender>);
    let points = extract_points(&val);
    // The knowledge graph holds no dialogue statistics, so it needs no holding out.
    let knowledge = crate::assets::load_knowledge(catalog_dir)?;
    let tracker = Tracker::with_graph(catalog.clone(), knowledge.as_ref().map(|kt| &kt.graph));
    let parts = RankerParts { catalog, cf, model, knowledge };
    let instances = points.iter().filter(|p| !p.targets_for(Protocol::Dedup).is_empty()).count();
    crate::outln!(
        "validation: {} dialogues, {instances} instances (de-dup); training statistics from {} dialogues",
        val.len(),
        stats.used
    );
    let found = search_weights(&parts, &tracker, &points, start.unwrap_or_default(), only, if search { 2 } else { 0 })?;
    let (best, best_obj, default_obj, m, samples) =
        (found.weights, found.objective, found.start_objective, found.metrics, found.samples);
    Ok(TunedWeights {
        weights: best,
        provenance: TuneProvenance {
            validation_file: VALIDATION.to_string(),
            validation_dialogues: val.len(),
            validation_instances: instances,
            validation_recommendations: samples,
            train_dialogues_used: stats.used,
            objective_default: default_obj,
            objective_tuned: best_obj,
            tuned_metrics: m,
        },
    })
}
