//! `curator train recommender`: trains the collaborative models, chooses hyperparameters on
//! validation, writes the ablation table and saves the selected model.
//!
//! Validation is the split of `curator tune`: the 2,263 ReDial *train* dialogues with full text
//! (`redial/train_partial/train_subset_original_format.jsonl`, checked disjoint from the test
//! split), held out of every training source while choosing (their conversation ids are
//! excluded from the ReDial sessions). Each recommender utterance of a validation dialogue with
//! a movie not mentioned before is one point (de-dup protocol); its context becomes a
//! [`crate::recommender::RecState`] exactly as in the agent (entity linking, seed weights of
//! `catalogs/movies/ranker.yaml`). Objective: mean of Recall@1, @10 and @50.
//!
//! Search, per data mix (dialogues only; dialogues + MovieLens at a few session weights):
//! popularity; item-kNN over {binary, BM25} × β × shrink; session-aware item-kNN (order-weighted
//! co-occurrence) × backward weight; role-aware item-kNN (seeker-only candidates down-weighted)
//! × β; EASE^R (binary) × λ; the blend of the mix's best item-kNN and EASE^R × EASE share. On
//! the dialogues' order: the SLIT transition model × (λ, decay) and its blend with item-kNN; the
//! softmax item-kNN model (ReDial dialogues, from the agent's co-mentions) × (learning rate, L2)
//! × epochs, its epochs and rates chosen on the agent's objective (fixed fusion weights), where
//! the others are chosen on the model-alone objective. Then the neighbour count N of the
//! selected model. The best configuration of each model and mix is then plugged into the agent's candidate ranker (with the
//! knowledge graph, like the agent) and scored on the same validation points
//! ([`AgentValidation`]), once with the fusion weights of `ranker.yaml` and once with `cf` and
//! `popularity` re-tuned for that model, so that no model is judged with weights fitted to
//! another. The one with the best re-tuned agent objective (ties: the order of the table) is
//! refit on all training data, saved to `catalogs/movies/recommender.bin`, recorded in
//! `catalogs/movies/manifest.json`, and its re-tuned `cf` and `popularity` written to
//! `ranker.yaml` when they differ. The previous agent (co-mention counts) is scored the same way
//! as the baseline row, and the selected model is compared with it by a paired bootstrap over the
//! validation instances ([`AgentValidation::compare`]). With `--ablation` every row is refit on all training data and evaluated
//! alone on the ReDial test split (standard and de-dup) and INSPIRED dev.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

pub mod interactions;
mod output;
pub mod reranker;
mod search;
mod validation;

pub use output::record_in_manifest;
use output::{update_fusion, write_ablation};
use search::search;

use crate::catalog::Catalog;
use crate::dialogue::Tracker;
use crate::eval::metrics::PairedDifference;
use crate::eval::{extract_points, EvalResult, Protocol};
use crate::rank::CandidateRanker;
use crate::recommender::fit::Gram;
use crate::recommender::{CoMentions, ItemModel, ModelSpec, Recommender};
use crate::{Error, Result};
use interactions::{DataMix, InteractionCounts};

pub use crate::eval::validation::VALIDATION;
/// The saved model's file name inside the catalog folder.
pub use crate::recommender::MODEL_FILE;

/// What `curator train recommender` does.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Raw data folder (laid out like `../shared/data`).
    pub source: PathBuf,
    /// Catalog folder (`catalogs/movies`).
    pub catalog_dir: PathBuf,
    /// The ReDial test split, read only to refuse overlap and, with `ablation`, to evaluate.
    pub test_path: PathBuf,
    /// Evaluate each model × data mix on the test split and write `ablation.{json,md}`.
    pub ablation: bool,
    /// Folder of the ablation report (`evals/results`).
    pub results_dir: PathBuf,
    /// Save the selected model (and its manifest entry).
    pub write: bool,
    /// Show progress bars.
    pub progress: bool,
    /// Quick run: a smaller grid (for tests and smoke runs).
    pub quick: bool,
    /// Model families to search ([`FAMILIES`]); empty: all.
    pub families: Vec<String>,
}

/// The model families `curator train recommender` searches, in report order.
pub const FAMILIES: [&str; 9] = [
    "popularity",
    "item-knn",
    "ease",
    "session-knn",
    "role-knn",
    "knn+ease",
    "transition",
    "knn+transition",
    "softmax-knn",
];

/// Validation figures of one configuration (de-dup protocol).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationScore {
    /// Mean of R@1, R@10, R@50.
    pub objective: f64,
    /// R@1, R@10, R@50, NDCG@10.
    pub metrics: [f64; 4],
    /// Validation instances scored.
    pub instances: usize,
    /// Ground-truth samples scored.
    pub recommendations: usize,
}

/// The agent with the selected model against the agent with co-mentions (each with its own
/// `cf` and `popularity` weights) on the same instances (de-dup protocol).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentComparison {
    /// Figures with the selected model.
    pub selected: ValidationScore,
    /// Figures with the co-mention counts.
    pub co_mentions: ValidationScore,
    /// Selected minus co-mentions, with a paired bootstrap interval.
    pub difference: PairedDifference,
}

/// The agent's validation figures with re-tuned `cf` and `popularity` fusion weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TunedFusion {
    /// Chosen weight of the normalised collaborative score.
    pub cf: f32,
    /// Chosen weight of the normalised log popularity.
    pub popularity: f32,
    /// Validation figures with them.
    pub score: ValidationScore,
}

/// One row of the ablation table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AblationRow {
    /// Model family.
    pub model: String,
    /// The chosen hyperparameters.
    pub spec: ModelSpec,
    /// Data mix name.
    pub mix: String,
    /// MovieLens session weight (0 for dialogues only).
    pub movielens_weight: f32,
    /// Neighbours kept per item.
    pub neighbours: usize,
    /// Validation figures of the model alone (fitted without the validation dialogues).
    pub validation: ValidationScore,
    /// Validation figures of the agent's candidate ranker with this model as its collaborative
    /// part (fusion weights of `ranker.yaml`); the baseline row is the agent as it was.
    pub validation_agent: Option<ValidationScore>,
    /// The same with the fusion weights `cf` and `popularity` re-tuned on validation for this
    /// model ([`AgentValidation::retune`]), so that each model is judged with weights fitted to
    /// it; `None` when not computed.
    #[serde(default)]
    pub validation_agent_tuned: Option<TunedFusion>,
    /// INSPIRED dev (`evals/inspired/dev.jsonl`), standard then de-dup, model alone; empty
    /// without `--ablation` or without the file.
    #[serde(default)]
    pub inspired_dev: Vec<EvalResult>,
    /// ReDial test, standard then de-dup (model refit on all training data); empty without
    /// `--ablation`.
    pub test: Vec<EvalResult>,
}

/// The outcome of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Interaction counts of the final fit (all training data, the selected mix).
    pub interactions: InteractionCounts,
    /// Interaction counts while validating (validation dialogues held out).
    pub interactions_validation: InteractionCounts,
    /// Validation dialogues.
    pub validation_dialogues: usize,
    /// The selected configuration (best validation objective).
    pub selected: AblationRow,
    /// The best configuration of each model × mix.
    pub rows: Vec<AblationRow>,
    /// The agent with the selected model against the agent with co-mentions on validation.
    #[serde(default)]
    pub versus_co_mentions_validation: Option<AgentComparison>,
    /// The same on the ReDial test split (with `--ablation`; reported, never used to select).
    #[serde(default)]
    pub versus_co_mentions_test: Option<AgentComparison>,
    /// Where the model was written, if it was.
    pub model_path: Option<String>,
}

pub use crate::eval::validation::validation_split;
use validation::seed_weights;
pub use validation::{catalog_without, score, validation_set, AgentValidation, ModelRanker, ValidationSet};

/// Fits `spec` (with its MovieLens weight) on the sources of the mix, skipping `exclude`.
///
/// Errors: those of [`interactions::load`] and [`Gram::train`].
pub fn fit(
    source: &Path,
    catalog: &Catalog,
    spec: ModelSpec,
    movielens_weight: f32,
    neighbours: usize,
    exclude: &HashSet<String>,
) -> Result<(ItemModel, InteractionCounts)> {
    let mix = if movielens_weight > 0.0 { DataMix::WITH_MOVIELENS } else { DataMix::DIALOGUES };
    let data = interactions::load(source, catalog, mix, exclude)?;
    let gram = Gram::with_roles(
        catalog,
        &data.sessions,
        movielens_weight,
        crate::recommender::fit::uses_bm25(&spec),
        crate::recommender::fit::backward_of(&spec),
        crate::recommender::fit::seeker_of(&spec),
    );
    Ok((gram.train(spec, neighbours, catalog, &data.sessions)?, data.counts))
}

/// Name of the baseline row: the agent's collaborative part before trained models.
pub const BASELINE: &str = "co-mentions (previous agent CF)";
/// Its data: ReDial training dialogues only.
const BASELINE_MIX: &str = "redial-only";

/// Like [`fit`], for a named mix (`redial-only` keeps only the ReDial sessions).
///
/// Errors: those of [`fit`].
pub fn fit_model(
    source: &Path,
    catalog: &Catalog,
    mix: &str,
    spec: ModelSpec,
    movielens_weight: f32,
    neighbours: usize,
    exclude: &HashSet<String>,
) -> Result<(ItemModel, InteractionCounts)> {
    if mix != BASELINE_MIX {
        return fit(source, catalog, spec, movielens_weight, neighbours, exclude);
    }
    let mut data = interactions::load(source, catalog, DataMix::DIALOGUES, exclude)?;
    data.sessions.retain(|s| s.source == interactions::Source::Redial);
    let gram = Gram::with_roles(
        catalog,
        &data.sessions,
        0.0,
        crate::recommender::fit::uses_bm25(&spec),
        crate::recommender::fit::backward_of(&spec),
        crate::recommender::fit::seeker_of(&spec),
    );
    Ok((gram.train(spec, neighbours, catalog, &data.sessions)?, data.counts))
}

/// The catalog's saved collaborative model (`recommender.bin`: family, hyperparameters, data mix)
/// refit on `catalog` without the dialogues in `held_out`; `None` when the catalog has none.
/// Used by `curator tune` and `curator train reranker` so that nothing is scored with a model
/// fitted on its own dialogue.
///
/// Errors: those of [`crate::assets::load_model`] and [`fit_model`].
pub fn refit_saved_model(
    source: &Path,
    catalog_dir: &Path,
    catalog: &Catalog,
    held_out: &HashSet<String>,
) -> Result<Option<ItemModel>> {
    let Some(saved) = crate::assets::load_model(catalog_dir)? else { return Ok(None) };
    let info = saved.info();
    let mix = info.provenance.get("mix").and_then(|m| m.as_str()).unwrap_or("dialogues");
    let (m, _) = fit_model(source, catalog, mix, info.spec, info.movielens_weight, info.neighbours, held_out)?;
    crate::outln!("collaborative model {} refit without {} held-out dialogues", info.spec.describe(), held_out.len());
    Ok(Some(m))
}

/// A progress bar of `len` steps labelled `msg` (hidden without `progress`).
pub(crate) fn bar(len: usize, progress: bool, msg: &str) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(len as u64);
    let style = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({elapsed_precise}) {wide_msg}")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    b.set_style(style);
    b.set_message(msg.to_string());
    b
}

/// Most neighbours tried per item.
const MAX_NEIGHBOURS: usize = 200;

/// Trains every model family: runs training, selection, the optional ablation, and saving (module doc).
///
/// Errors: an unknown family in `opts.families` (before any data is read); missing or malformed
/// inputs; overlap of validation and test; a failed write.
pub fn train(opts: &TrainOptions) -> Result<TrainReport> {
    if let Some(f) = opts.families.iter().find(|f| !FAMILIES.contains(&f.as_str())) {
        return Err(Error::InvalidInput(format!("unknown model family {f:?}; known: {}", FAMILIES.join(", "))));
    }
    let base = Arc::new(Catalog::load(&opts.catalog_dir)?);
    let val = validation_split(&opts.source, &opts.test_path)?;
    let val_ids: HashSet<String> = val.iter().map(|d| d.conversation_id.clone()).collect();
    let weights = seed_weights(&opts.catalog_dir)?;
    let (val_catalog, val_cf) = catalog_without(&opts.source, &base, &val_ids)?;
    let val_catalog = Arc::new(val_catalog);
    let knowledge = crate::assets::load_knowledge(&opts.catalog_dir)?;
    let val_tracker = Tracker::with_graph(Arc::clone(&val_catalog), knowledge.as_ref().map(|kt| &kt.graph));
    let val_points = extract_points(&val);
    let val_seeder = CandidateRanker::new(&val_catalog, val_cf.clone(), weights);
    let set = validation_set(&val, &val_tracker, &val_seeder);
    crate::outln!(
        "validation: {} dialogues, {} instances / {} recommendations (de-dup); held out of training",
        val.len(),
        set.len(),
        set.iter().map(|(_, t)| t.len()).sum::<usize>()
    );

    // The agent's ranker on validation (with the knowledge graph, like the agent): scores each
    // model as the ranker's collaborative part.
    let mut agent_ranker = CandidateRanker::new(&val_catalog, val_cf.clone(), weights);
    if let Some(kt) = &knowledge {
        agent_ranker = agent_ranker.with_knowledge(&val_catalog, Arc::clone(kt));
    }
    let av = AgentValidation::new(&val_tracker, &agent_ranker, val_cf.clone(), &val_points)?;
    let (best, val_counts) = search(opts, &val_catalog, &val_ids, &set, &av, weights)?;
    // The agent's previous collaborative part: co-mention counts of the ReDial training
    // dialogues with the fusion's β (item-kNN, binary, shrink 0, every neighbour).
    let baseline_spec = ModelSpec::ItemKnn { bm25: false, beta: weights.beta, shrink: 0.0, backward: 1.0, seeker: 1.0 };
    let baseline = fit_model(&opts.source, &val_catalog, BASELINE_MIX, baseline_spec, 0.0, usize::MAX, &val_ids)?;
    let baseline_score = score(&baseline.0, &set)?;
    for (family, mix, s, spec, w) in &best {
        crate::outln!(
            "best {family:<10} on {mix:<20} {} (MovieLens weight {w}): validation objective {:.4} R@1 {:.4} R@10 {:.4} R@50 {:.4} NDCG@10 {:.4} ({} instances / {} recommendations)",
            spec.describe(),
            s.objective,
            s.metrics[0],
            s.metrics[1],
            s.metrics[2],
            s.metrics[3],
            s.instances,
            s.recommendations
        );
    }
    crate::outln!(
        "baseline {BASELINE} ({}): validation objective {:.4} R@1 {:.4} R@10 {:.4} R@50 {:.4} NDCG@10 {:.4}",
        baseline_spec.describe(),
        baseline_score.objective,
        baseline_score.metrics[0],
        baseline_score.metrics[1],
        baseline_score.metrics[2],
        baseline_score.metrics[3]
    );
    let baseline_row = AblationRow {
        model: BASELINE.to_string(),
        spec: baseline_spec,
        mix: BASELINE_MIX.to_string(),
        movielens_weight: 0.0,
        neighbours: usize::MAX,
        validation: baseline_score.clone(),
        validation_agent: None,
        validation_agent_tuned: None,
        inspired_dev: Vec::new(),
        test: Vec::new(),
    };
    // The same co-occurrence model trained as an item-kNN (top-N lists) is a candidate too.
    let knn_redial = AblationRow { model: "item-knn".to_string(), neighbours: MAX_NEIGHBOURS, ..baseline_row.clone() };
    let mut rows: Vec<AblationRow> = [baseline_row, knn_redial]
        .into_iter()
        .chain(best.iter().map(|(family, mix, s, spec, w)| AblationRow {
            model: family.clone(),
            spec: *spec,
            mix: mix.clone(),
            movielens_weight: *w,
            neighbours: if matches!(spec, ModelSpec::Popularity) { 0 } else { MAX_NEIGHBOURS },
            validation: s.clone(),
            validation_agent: None,
            validation_agent_tuned: None,
            inspired_dev: Vec::new(),
            test: Vec::new(),
        }))
        .collect();
    // The agent's objective with each row's model as its collaborative part, with the fusion
    // weights of ranker.yaml and with `cf` and `popularity` re-tuned for the model; the baseline
    // row is the agent as it was. The ranker has the knowledge graph, like the agent.
    let pb = bar(rows.len(), opts.progress, "agent objective on validation");
    let mut val_models: Vec<Option<ItemModel>> = Vec::new();
    for row in &mut rows {
        let model = if row.model == BASELINE {
            None
        } else {
            let (m, _) = fit_model(
                &opts.source,
                &val_catalog,
                &row.mix,
                row.spec,
                row.movielens_weight,
                row.neighbours,
                &val_ids,
            )?;
            Some(m)
        };
        let as_dyn = model.as_ref().map(|m| m as &dyn Recommender);
        let fused = av.score(as_dyn, weights.cf, weights.popularity)?;
        let tuned = av.retune(as_dyn)?;
        val_models.push(model);
        pb.suspend(|| {
            crate::outln!(
            "agent with {} [{}]: validation objective {:.4} R@1 {:.4} R@10 {:.4} R@50 {:.4}; re-tuned (cf {}, popularity {}) {:.4} R@1 {:.4} R@10 {:.4} R@50 {:.4} ({} instances / {} recommendations)",
            if row.model == BASELINE { BASELINE.to_string() } else { row.spec.describe() },
            row.mix,
            fused.objective,
            fused.metrics[0],
            fused.metrics[1],
            fused.metrics[2],
            tuned.cf,
            tuned.popularity,
            tuned.score.objective,
            tuned.score.metrics[0],
            tuned.score.metrics[1],
            tuned.score.metrics[2],
            fused.instances,
            fused.recommendations
        )
        });
        row.validation_agent = Some(fused);
        row.validation_agent_tuned = Some(tuned);
        pb.inc(1);
    }
    pb.finish_and_clear();
    // Selected: the trained model that gives the agent the best validation objective with
    // fusion weights re-tuned for it.
    let agent_obj = |r: &AblationRow| r.validation_agent_tuned.as_ref().map(|v| v.score.objective).unwrap_or(f64::MIN);
    let Some(top_i) = (0..rows.len())
        .filter(|&i| rows[i].model != BASELINE)
        .max_by(|&a, &b| agent_obj(&rows[a]).total_cmp(&agent_obj(&rows[b])).then(b.cmp(&a)))
    else {
        return Err(Error::InvalidInput("no model was trained".to_string()));
    };
    let top = rows[top_i].clone();
    let (top_cf, top_pop) =
        top.validation_agent_tuned.as_ref().map(|t| (t.cf, t.popularity)).unwrap_or((weights.cf, weights.popularity));
    if let Some(base_row) = rows.iter().find(|r| r.model == BASELINE) {
        crate::outln!(
            "selected {} [{}]: agent objective {:.4} vs co-mentions {:.4} (both with re-tuned cf and popularity; {} instances / {} recommendations)",
            top.spec.describe(),
            top.mix,
            agent_obj(&top),
            agent_obj(base_row),
            top.validation.instances,
            top.validation.recommendations
        );
    }
    // Is the selected model better than co-mentions beyond chance? Paired bootstrap over the
    // validation instances, each with its re-tuned weights.
    let (base_cf, base_pop) = rows
        .iter()
        .find(|r| r.model == BASELINE)
        .and_then(|r| r.validation_agent_tuned.as_ref())
        .map(|t| (t.cf, t.popularity))
        .unwrap_or((weights.cf, weights.popularity));
    let versus_baseline = match val_models.get(top_i) {
        Some(Some(model)) => {
            let c = av.compare(model, (top_cf, top_pop), (base_cf, base_pop))?;
            crate::outln!("selected minus co-mentions, agent objective on validation: {}", c.difference);
            Some(c)
        }
        _ => None,
    };
    // Neighbour count of the selected model, on the agent's validation objective.
    let mut neighbours = 0;
    if let Some(Some(model)) = val_models.get(top_i) {
        let mut tried: Vec<(usize, f64)> = Vec::new();
        for n in [25, 50, 100, MAX_NEIGHBOURS] {
            let m = model.truncated(n);
            let f = av.score(Some(&m), top_cf, top_pop)?;
            crate::outln!(
                "  {} with {n} neighbours: agent validation objective {:.4} ({} instances / {} recommendations)",
                top.spec.describe(),
                f.objective,
                f.instances,
                f.recommendations
            );
            tried.push((n, f.objective));
        }
        // The smallest N within 0.0005 of the best: a smaller file for the same quality.
        let best_obj = tried.iter().map(|(_, o)| *o).fold(f64::MIN, f64::max);
        neighbours = tried.iter().find(|(_, o)| o + 0.0005 >= best_obj).map(|(n, _)| *n).unwrap_or(MAX_NEIGHBOURS);
    }
    for row in &mut rows {
        if row.model != BASELINE && !matches!(row.spec, ModelSpec::Popularity) {
            row.neighbours = neighbours;
        }
    }
    let (mut model, counts) =
        fit_model(&opts.source, &base, &top.mix, top.spec, top.movielens_weight, neighbours, &HashSet::new())?;
    let mut versus_test = None;
    if opts.ablation {
        let test_text = std::fs::read_to_string(&opts.test_path).map_err(|e| Error::io(&opts.test_path, e))?;
        let test = crate::eval::redial::parse_redial(&test_text, &opts.test_path)?;
        let points = extract_points(&test);
        let seeder = CandidateRanker::new(&base, CoMentions::from_pairs(&base, std::iter::empty()), weights);
        let base_tracker = Tracker::with_graph(Arc::clone(&base), knowledge.as_ref().map(|kt| &kt.graph));
        // INSPIRED dev (a tuning split, linked into the catalog by `curator eval inspired`).
        let dev_path = opts.test_path.parent().and_then(Path::parent).map(|e| e.join("inspired").join("dev.jsonl"));
        let dev_points = match dev_path.filter(|p| p.exists()) {
            Some(p) => crate::eval::inspired::extract_inspired_points(&crate::eval::inspired::load_inspired(&p)?),
            None => Vec::new(),
        };
        let pb = bar(rows.len(), opts.progress, "ablation on ReDial test");
        for row in &mut rows {
            let (m, _) = fit_model(
                &opts.source,
                &base,
                &row.mix,
                row.spec,
                row.movielens_weight,
                row.neighbours,
                &HashSet::new(),
            )?;
            let name = format!("{} [{}]", row.model, row.mix);
            let ranker = ModelRanker::new(&base_tracker, &seeder, &m, name);
            row.test =
                Protocol::ALL.iter().map(|&p| crate::eval::evaluate_redial(&points, p, &ranker, false)).collect();
            if !dev_points.is_empty() {
                row.inspired_dev = Protocol::ALL
                    .iter()
                    .map(|&p| crate::eval::evaluate_redial(&dev_points, p, &ranker, false))
                    .collect();
            }
            for r in row.test.iter().chain(&row.inspired_dev) {
                pb.suspend(|| crate::outln!("{r}"));
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
        // The whole agent on test (knowledge graph, co-mentions of all training dialogues) with
        // the selected model, refit on all training data, against co-mentions: reported only,
        // after selection.
        let agent_catalog = Arc::new(Catalog::load(&opts.catalog_dir)?);
        let test_cf = CoMentions::load(&opts.catalog_dir.join("comentions.tsv"), &agent_catalog)?;
        let mut test_ranker = CandidateRanker::new(&agent_catalog, test_cf.clone(), weights);
        if let Some(kt) = &knowledge {
            test_ranker = test_ranker.with_knowledge(&agent_catalog, Arc::clone(kt));
        }
        let test_tracker = Tracker::with_graph(agent_catalog, knowledge.as_ref().map(|kt| &kt.graph));
        let tv = AgentValidation::new(&test_tracker, &test_ranker, test_cf, &points)?;
        let c = tv.compare(&model, (top_cf, top_pop), (base_cf, base_pop))?;
        crate::outln!(
            "ReDial test, agent with the selected model: R@1 {:.4} R@10 {:.4} R@50 {:.4}; with co-mentions: R@1 {:.4} R@10 {:.4} R@50 {:.4}; selected minus co-mentions {}",
            c.selected.metrics[0],
            c.selected.metrics[1],
            c.selected.metrics[2],
            c.co_mentions.metrics[0],
            c.co_mentions.metrics[1],
            c.co_mentions.metrics[2],
            c.difference
        );
        versus_test = Some(c);
    }
    let selected_row = AblationRow {
        neighbours,
        test: rows[top_i].test.clone(),
        inspired_dev: rows[top_i].inspired_dev.clone(),
        ..top.clone()
    };
    crate::outln!(
        "selected: {} on {} (MovieLens weight {}), {} neighbours; refit on {} sessions ({} stored weights)",
        top.spec.describe(),
        top.mix,
        top.movielens_weight,
        neighbours,
        model.info().sessions,
        model.entries()
    );
    model.info_mut().provenance = serde_json::json!({
        "trained_by": "curator train recommender --source <data>",
        "mix": top.mix,
        "validation_file": VALIDATION,
        "validation_dialogues": val.len(),
        "validation": selected_row.validation,
        "validation_agent": selected_row.validation_agent,
        "validation_agent_tuned": selected_row.validation_agent_tuned,
        "validation_agent_versus_co_mentions": versus_baseline,
        "interactions": counts,
    });
    let mut model_path = None;
    if opts.write {
        let path = opts.catalog_dir.join(MODEL_FILE);
        model.save(&path)?;
        record_in_manifest(&opts.catalog_dir, MODEL_FILE)?;
        crate::outln!("wrote {}", path.display());
        model_path = Some(path.display().to_string());
        if (top_cf, top_pop) != (weights.cf, weights.popularity) {
            if let Some(t) = &selected_row.validation_agent_tuned {
                update_fusion(&opts.catalog_dir, t)?;
            }
        }
    }
    let report = TrainReport {
        interactions: counts,
        interactions_validation: val_counts,
        validation_dialogues: val.len(),
        selected: selected_row,
        rows,
        versus_co_mentions_validation: versus_baseline,
        versus_co_mentions_test: versus_test,
        model_path,
    };
    if opts.ablation {
        write_ablation(&opts.results_dir, &report)?;
    }
    Ok(report)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unknown_family_is_refused_before_any_data_is_read() {
        let opts = TrainOptions {
            source: PathBuf::from("/nonexistent/data"),
            catalog_dir: PathBuf::from("/nonexistent/catalog"),
            test_path: PathBuf::from("/nonexistent/test.jsonl"),
            ablation: false,
            results_dir: PathBuf::from("/nonexistent/results"),
            write: false,
            progress: false,
            quick: true,
            families: vec!["transition".to_string(), "sasrec".to_string()],
        };
        let e = train(&opts).unwrap_err().to_string();
        assert!(e.contains("\"sasrec\"") && e.contains("knn+transition"), "{e}");
    }
}
