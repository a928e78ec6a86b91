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

use crate::catalog::{Catalog, Item};
use crate::dialogue::Tracker;
use crate::eval::{extract_points, Protocol};
use crate::rank::{FusionWeights, TuneProvenance, TunedWeights};
use crate::recommender::CoMentions;
use crate::{Error, Result};

pub use crate::eval::validation::{validation_split, VALIDATION};
pub use crate::eval::weights::{objective, search_weights, RankerParts, WeightSearch};

const TRAIN: &str = "redial/train_movie_level/train_movie_sequences_compact.jsonl";

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
