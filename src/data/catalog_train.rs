//! Training at `curator catalog build` when the source has `interactions.jsonl`: the
//! collaborative model (`recommender.bin`) and the candidate ranker's fusion weights
//! (`ranker.yaml`), both chosen on held-out sessions of the interactions themselves.
//!
//! Validation: every fifth session (positions 4, 9, 14, … in file order) is held out; each of
//! its items after the first is one point whose context is the items before it (all liked, in
//! order) and whose target is that item (next-item prediction; Recall@K as in the evaluation
//! suite). Objective: the mean of Recall@1, @10 and @50, as `curator tune` and `curator train`.
//!
//! Model: popularity, item-kNN over β × shrink and EASE^R over λ ([`GRID`]) are fitted on the
//! other sessions and scored alone; the best (ties: grid order) is refit on every session and
//! saved. Ranker: the fusion weights of `SRC/ranker.yaml` when the source has one (e.g. chosen on
//! a dialogue dev split, `curator tune --inspired-dev`), else coordinate ascent
//! ([`crate::eval::weights::search_weights`]) of `popularity`, `kg`, `recency` and `cf` on the same
//! held-out points, with the model fitted without them. Everything is deterministic.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Item, ItemId};
use crate::dialogue::{Role, Turn};
use crate::eval::redial::Target;
use crate::eval::{EvalPoint, MetricsAccumulator};
use crate::rank::{FusionWeights, TuneProvenance, TunedWeights};
use crate::recommender::model::{Feedback, ModelSpec, RecState, StateItem};
use crate::recommender::sessions::{Session, Source};
use crate::recommender::{CoMentions, ItemModel, Recommender};
use crate::{Error, Result};

/// Every `HOLD_OUT`-th session (the last of each group) is held out for validation.
pub const HOLD_OUT: usize = 5;

/// Neighbours kept per item by the saved model.
pub const NEIGHBOURS: usize = 100;

/// The model grid: popularity, item-kNN (β, shrink), EASE^R (λ).
pub const GRID: [ModelSpec; 10] = [
    ModelSpec::Popularity,
    knn(0.3, 0.0),
    knn(0.5, 0.0),
    knn(0.5, 5.0),
    knn(0.7, 5.0),
    knn(0.5, 20.0),
    ModelSpec::Ease { lambda: 5.0, bm25: false },
    ModelSpec::Ease { lambda: 20.0, bm25: false },
    ModelSpec::Ease { lambda: 100.0, bm25: false },
    ModelSpec::Ease { lambda: 500.0, bm25: false },
];

const fn knn(beta: f32, shrink: f32) -> ModelSpec {
    ModelSpec::ItemKnn { bm25: false, beta, shrink, backward: 1.0, seeker: 1.0 }
}

/// The weights the build searches when the source has no `ranker.yaml`.
const SEARCHED: [&str; 4] = ["popularity", "kg", "recency", "cf"];

/// Validation figures of one grid model (in the build manifest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridRow {
    /// The model and its hyperparameters.
    pub model: String,
    /// Objective: mean of Recall@1, @10, @50 on the held-out points.
    pub objective: f64,
}

/// What the build trained (recorded in `catalogs/NAME/manifest.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Training {
    /// Sessions the selection was fitted on.
    pub train_sessions: usize,
    /// Sessions held out for selection.
    pub held_out_sessions: usize,
    /// Held-out next-item points.
    pub points: usize,
    /// Every grid model's validation objective, in grid order.
    pub grid: Vec<GridRow>,
    /// The selected model (refit on every session and saved as `recommender.bin`).
    pub model: String,
    /// Where the fusion weights come from: `source ranker.yaml`, or `held-out sessions`.
    pub ranker: String,
}

/// A file the training wrote: its name inside the catalog folder and its bytes.
pub type Written = (&'static str, Vec<u8>);

/// Every session's distinct items, in order (as `interactions.jsonl` gives them).
pub type Sessions = [Vec<ItemId>];

/// Per-item session counts and co-mention counts of `sessions` (each pair once per session).
pub fn count_sessions<'a>(
    sessions: impl IntoIterator<Item = &'a Vec<ItemId>>,
) -> (BTreeMap<ItemId, u32>, BTreeMap<(ItemId, ItemId), u32>) {
    let mut popularity: BTreeMap<ItemId, u32> = BTreeMap::new();
    let mut pairs: BTreeMap<(ItemId, ItemId), u32> = BTreeMap::new();
    for s in sessions {
        let sorted: Vec<ItemId> = s.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
        for (k, a) in sorted.iter().enumerate() {
            *popularity.entry(*a).or_insert(0) += 1;
            for b in &sorted[k + 1..] {
                *pairs.entry((*a, *b)).or_insert(0) += 1;
            }
        }
    }
    (popularity, pairs)
}

/// `catalog`'s items with the session counts `popularity` (0 for an item without sessions), as
/// a catalog of its own (without the loaded catalog's word list and aliases: for fitting and
/// scoring, not for linking).
///
/// Errors: those of [`Catalog::from_items`].
pub(crate) fn with_popularity(catalog: &Catalog, popularity: &BTreeMap<ItemId, u32>) -> Result<Catalog> {
    let items: Vec<Item> = catalog
        .items()
        .iter()
        .map(|i| Item { popularity: popularity.get(&i.id).copied().unwrap_or(0), ..i.clone() })
        .collect();
    Catalog::from_items(items)
}

/// `sessions` as the fitting code reads them: catalog positions, weight 1.
pub(crate) fn to_sessions<'a>(catalog: &Catalog, sessions: impl IntoIterator<Item = &'a Vec<ItemId>>) -> Vec<Session> {
    sessions
        .into_iter()
        .map(|s| Session {
            source: Source::Catalog,
            items: s.iter().filter_map(|id| catalog.position(*id)).map(|p| (p as u32, 1.0)).collect(),
            seeker_only: Vec::new(),
        })
        .collect()
}

/// Fits `spec` on `sessions` over `catalog`.
///
/// Errors: those of [`crate::recommender::fit::Gram::train`].
pub(crate) fn fit(catalog: &Catalog, sessions: &[Session], spec: ModelSpec) -> Result<ItemModel> {
    let gram = crate::recommender::fit::Gram::new(catalog, sessions, 0.0, false);
    gram.train(spec, NEIGHBOURS, catalog, sessions)
}

/// The held-out next-item points: (context items, target).
fn held_out_points(held_out: &[&Vec<ItemId>]) -> Vec<(Vec<ItemId>, ItemId)> {
    held_out.iter().flat_map(|s| (1..s.len()).map(move |j| (s[..j].to_vec(), s[j]))).collect()
}

/// Mean of Recall@1, @10, @50 of `model` on `points`.
fn model_objective(model: &ItemModel, points: &[(Vec<ItemId>, ItemId)]) -> Result<f64> {
    let mut acc = MetricsAccumulator::new();
    for (context, target) in points {
        let state = RecState {
            items: context.iter().map(|&id| StateItem { id, feedback: Feedback::Liked, weight: 1.0 }).collect(),
        };
        let ranking: Vec<ItemId> = model.recommend_candidates(&state, 50)?.into_iter().map(|s| s.id).collect();
        acc.add(&ranking, *target);
    }
    let m = acc.mean();
    Ok((m.recall_at_1 + m.recall_at_10 + m.recall_at_50) / 3.0)
}

/// The held-out points as evaluation points for the candidate ranker: one seeker turn naming
/// the context items (their titles as text, the items annotated).
fn eval_points(catalog: &Catalog, points: &[(Vec<ItemId>, ItemId)]) -> Vec<EvalPoint> {
    points
        .iter()
        .enumerate()
        .map(|(i, (context, target))| {
            let titles: Vec<String> =
                context.iter().filter_map(|id| catalog.get(*id)).map(|it| it.display_name()).collect();
            EvalPoint {
                dialogue: i,
                conversation_id: format!("held-out-{i}"),
                utterance: 1,
                context: vec![Turn {
                    role: Role::Seeker,
                    text: format!("I liked {}", titles.join(", ")),
                    items: context.clone(),
                }],
                targets: vec![Target { item: *target, mentioned_before: false }],
            }
        })
        .collect()
}

/// Trains the model and the ranker of the catalog written to `dir` (`catalogs/NAME`) on
/// `sessions` (module doc), writing `dir/recommender.bin` and `dir/ranker.yaml`; `source_ranker`
/// is the source's `ranker.yaml`, used as given when present. `bar` counts the grid models.
/// Returns what was trained and the files written (name, bytes).
///
/// Errors: a malformed `source_ranker` (named); fitting and writing errors.
pub fn train(
    dir: &Path,
    sessions: &Sessions,
    source_ranker: Option<&Path>,
    bar: &indicatif::ProgressBar,
) -> Result<(Training, Vec<Written>)> {
    let catalog = Catalog::load(dir)?;
    let held_out: Vec<&Vec<ItemId>> = sessions.iter().skip(HOLD_OUT - 1).step_by(HOLD_OUT).collect();
    let train: Vec<&Vec<ItemId>> =
        sessions.iter().enumerate().filter(|(i, _)| i % HOLD_OUT != HOLD_OUT - 1).map(|(_, s)| s).collect();
    // The catalog as the training part alone knows it (popularity and co-mentions).
    let (popularity, pairs) = count_sessions(train.iter().copied());
    let train_catalog = Arc::new(with_popularity(&catalog, &popularity)?);
    let train_sessions = to_sessions(&train_catalog, train.iter().copied());
    let points = held_out_points(&held_out);
    bar.set_length(GRID.len() as u64);
    let mut grid = Vec::new();
    let mut best: Option<(f64, ModelSpec, ItemModel)> = None;
    for spec in GRID {
        let model = fit(&train_catalog, &train_sessions, spec)?;
        let objective = if points.is_empty() { 0.0 } else { model_objective(&model, &points)? };
        grid.push(GridRow { model: spec.describe(), objective });
        if best.as_ref().is_none_or(|(b, _, _)| objective > *b + 1e-12) {
            best = Some((objective, spec, model));
        }
        bar.inc(1);
    }
    let Some((objective, spec, held_model)) = best else {
        return Err(Error::InvalidInput("the model grid is empty".into()));
    };
    let all = to_sessions(&catalog, sessions.iter());
    let mut model = fit(&catalog, &all, spec)?;
    model.info_mut().provenance = serde_json::json!({
        "mix": "interactions",
        "selected_on": format!("every {HOLD_OUT}th session of interactions.jsonl held out (next-item points)"),
        "held_out_sessions": held_out.len(),
        "points": points.len(),
        "objective": objective,
    });
    let mut files = vec![(crate::recommender::MODEL_FILE, model.to_bytes()?)];
    let (weights, ranker) = match source_ranker {
        Some(path) => {
            crate::rank::config::load(path)?;
            (std::fs::read(path).map_err(|e| Error::io(path, e))?, "source ranker.yaml".to_string())
        }
        None => {
            let knowledge = crate::assets::load_knowledge(dir)?;
            let parts = crate::eval::weights::RankerParts {
                catalog: train_catalog.clone(),
                cf: CoMentions::from_pairs(&train_catalog, &pairs),
                model: Some(Arc::new(held_model) as Arc<dyn Recommender>),
                knowledge: knowledge.clone(),
            };
            let tracker =
                crate::dialogue::Tracker::with_graph(train_catalog.clone(), knowledge.as_ref().map(|kt| &kt.graph));
            let eval = eval_points(&train_catalog, &points);
            let only: Vec<String> = SEARCHED.iter().map(|s| s.to_string()).collect();
            let passes = if eval.is_empty() { 0 } else { 2 };
            let found = crate::eval::weights::search_weights(
                &parts,
                &tracker,
                &eval,
                FusionWeights::default(),
                Some(&only),
                passes,
            )?;
            let tuned = TunedWeights {
                weights: found.weights,
                provenance: TuneProvenance {
                    validation_file: format!("interactions.jsonl, every {HOLD_OUT}th session held out"),
                    validation_dialogues: held_out.len(),
                    validation_instances: eval.len(),
                    validation_recommendations: found.samples,
                    train_dialogues_used: train.len(),
                    objective_default: found.start_objective,
                    objective_tuned: found.objective,
                    tuned_metrics: found.metrics,
                },
            };
            let yaml = serde_yaml::to_string(&tuned)
                .map_err(|e| Error::InvalidInput(format!("cannot serialise weights: {e}")))?;
            let header = "# Fusion weights chosen by `curator catalog build` on held-out sessions of\n\
                          # interactions.jsonl (every 5th session; next-item points).\n";
            (format!("{header}{yaml}").into_bytes(), "held-out sessions".to_string())
        }
    };
    files.push((crate::rank::RANKER_FILE, weights));
    for (file, bytes) in &files {
        crate::util::write_atomic(&dir.join(file), bytes)?;
    }
    let training = Training {
        train_sessions: train.len(),
        held_out_sessions: held_out.len(),
        points: points.len(),
        grid,
        model: spec.describe(),
        ranker,
    };
    Ok((training, files))
}
