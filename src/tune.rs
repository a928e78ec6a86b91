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
    let eval = |w: FusionWeights| {
        let mut ranker = CandidateRanker::new(&catalog, cf.clone(), w);
        if let Some(m) = &model {
            ranker = ranker.with_model(m.clone());
        }
        if let Some(kt) = &knowledge {
            ranker = ranker.with_knowledge(&catalog, kt.clone());
        }
        let ranker = ToolRanker::new(tracker.clone(), Arc::new(ranker));
        objective(&ranker, &points)
    };
    let mut best = start.unwrap_or_default();
    let (default_obj, _, samples) = eval(best);
    let instances = points.iter().filter(|p| !p.targets_for(Protocol::Dedup).is_empty()).count();
    crate::outln!(
        "validation: {} dialogues, {instances} instances / {samples} recommendations (de-dup); training statistics from {} dialogues",
        val.len(),
        stats.used
    );
    crate::outln!("starting weights: objective {default_obj:.4}");
    let mut best_obj = default_obj;
    type Setter = fn(&mut FusionWeights, f32);
    let grid: [(&str, Setter, &[f32]); 10] = [
        ("kg", |w, v| w.kg = v, &[0.0, 0.05, 0.1, 0.2, 0.4]),
        ("attribute", |w, v| w.attribute = v, &[0.0, 0.05, 0.1, 0.2, 0.4]),
        ("genre", |w, v| w.genre = v, &[0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5]),
        ("beta", |w, v| w.beta = v, &[0.0, 0.15, 0.3, 0.5, 0.7]),
        ("shrink", |w, v| w.shrink = v, &[0.0, 2.0, 5.0, 10.0, 25.0]),
        ("text", |w, v| w.text = v, &[0.0, 0.05, 0.1, 0.25, 0.5]),
        ("popularity", |w, v| w.popularity = v, &[0.0, 0.02, 0.05, 0.1, 0.2, 0.4]),
        ("recency", |w, v| w.recency = v, &[0.5, 0.7, 0.85, 1.0]),
        ("recommender_seed", |w, v| w.recommender_seed = v, &[0.0, 0.25, 0.5, 1.0]),
        ("disliked_seed", |w, v| w.disliked_seed = v, &[-1.0, -0.5, -0.25, 0.0]),
    ];
    if let Some(only) = only {
        if let Some(bad) = only.iter().find(|o| !grid.iter().any(|(n, _, _)| n == o)) {
            return Err(Error::InvalidInput(format!("--only: {bad:?} is not a tuned weight")));
        }
    }
    let passes = if search { 2 } else { 0 };
    for pass in 1..=passes {
        for (name, set, values) in grid.iter().filter(|(n, _, _)| only.is_none_or(|o| o.iter().any(|x| x == n))) {
            // β and shrink shape only the co-mention score, unused with a trained model.
            if model.is_some() && (*name == "beta" || *name == "shrink") {
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
    let (_, m, _) = eval(best);
    crate::outln!(
        "chosen: objective {best_obj:.4} (default {default_obj:.4}); validation de-dup R@1 {:.4} R@10 {:.4} R@50 {:.4} NDCG@10 {:.4}",
        m[0], m[1], m[2], m[3]
    );
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
