//! Validation of the collaborative models: the model-alone objective on the validation states
//! ([`validation_set`], [`score`]), the model inside the whole agent ([`AgentValidation`]), and a
//! model alone as an evaluation ranker ([`ModelRanker`]).

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use super::{interactions, AgentComparison, TunedFusion, ValidationScore};
use crate::catalog::{Catalog, Item, ItemId};
use crate::dialogue::{Items, Tracker, Turn};
use crate::eval::metrics::{paired_bootstrap, MAX_K};
use crate::eval::redial::RedialDialogue;
use crate::eval::{extract_points, MetricsAccumulator, Protocol, Ranker};
use crate::rank::{CandidateRanker, FusionWeights};
use crate::recommender::{CoMentions, RecState, Recommender};
use crate::{Error, Result};

/// Validation points as the recommender sees them: (state, de-dup ground truth).
pub type ValidationSet = Vec<(RecState, Vec<ItemId>)>;

/// Builds the validation set with `seeder`'s seed weights, each context's state built by
/// `tracker` (annotated items) over its catalog.
pub fn validation_set(val: &[RedialDialogue], tracker: &Tracker, seeder: &CandidateRanker) -> ValidationSet {
    let catalog = tracker.catalog();
    extract_points(val)
        .into_iter()
        .filter_map(|p| {
            let targets = p.targets_for(Protocol::Dedup);
            if targets.is_empty() {
                return None;
            }
            let state = tracker.replay(&p.context, Items::Annotated);
            Some((seeder.rec_state(&state, catalog), targets))
        })
        .collect()
}

/// Scores `model` on `set` (de-dup): objective and metrics with counts.
///
/// Errors: those of [`Recommender::recommend_candidates`].
pub fn score(model: &dyn Recommender, set: &ValidationSet) -> Result<ValidationScore> {
    let mut acc = MetricsAccumulator::new();
    for (state, targets) in set {
        let ranking: Vec<ItemId> = model.recommend_candidates(state, MAX_K)?.into_iter().map(|c| c.id).collect();
        for &t in targets {
            acc.add(&ranking, t);
        }
    }
    let m = acc.mean();
    let metrics = [m.recall_at_1, m.recall_at_10, m.recall_at_50, m.ndcg_at_10];
    Ok(ValidationScore {
        objective: (metrics[0] + metrics[1] + metrics[2]) / 3.0,
        metrics,
        instances: set.len(),
        recommendations: acc.samples(),
    })
}

/// A [`Ranker`] over a collaborative model alone (for the ablation on test).
pub struct ModelRanker<'a> {
    tracker: &'a Tracker,
    seeder: &'a CandidateRanker,
    model: &'a dyn Recommender,
    name: String,
}

impl<'a> ModelRanker<'a> {
    /// `model` seeded like the agent (`seeder`'s weights) over the states of `tracker`.
    pub fn new(tracker: &'a Tracker, seeder: &'a CandidateRanker, model: &'a dyn Recommender, name: String) -> Self {
        ModelRanker { tracker, seeder, model, name }
    }
}

impl Ranker for ModelRanker<'_> {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn rank(&self, context: &[Turn], k: usize) -> Vec<ItemId> {
        let state = self.tracker.replay(context, Items::Annotated);
        match self.model.recommend_candidates(&self.seeder.rec_state(&state, self.tracker.catalog()), k) {
            Ok(c) => c.into_iter().map(|c| c.id).collect(),
            Err(e) => {
                tracing::warn!("recommender failed: {e}");
                Vec::new()
            }
        }
    }
}

/// The seed weights of the agent: `ranker.yaml` in `catalog_dir`, else the defaults.
pub(super) fn seed_weights(catalog_dir: &Path) -> Result<FusionWeights> {
    crate::rank::config::load_weights(catalog_dir)
}

/// The catalog with popularity recounted from the training dialogues minus `exclude`, and the
/// co-mention counts of the same dialogues (what `curator tune` sees).
pub fn catalog_without(source: &Path, base: &Catalog, exclude: &HashSet<String>) -> Result<(Catalog, CoMentions)> {
    let known: HashSet<_> = base.items().iter().map(|i| i.id).collect();
    let stats = crate::data::train_statistics(&source.join(interactions::REDIAL_TRAIN), &known, exclude)?;
    let items: Vec<Item> = base
        .items()
        .iter()
        .map(|i| Item { popularity: stats.popularity.get(&i.id).copied().unwrap_or(0), ..i.clone() })
        .collect();
    let catalog = Catalog::from_items(items)?;
    let cf = CoMentions::from_pairs(&catalog, &stats.pairs);
    Ok((catalog, cf))
}

/// One validation point with the agent's non-collaborative fusion terms precomputed.
#[derive(Debug)]
struct CachedPoint {
    /// The state as the collaborative model sees it.
    rec: RecState,
    /// Co-mention seeds (catalog position, weight).
    seeds: Vec<(usize, f32)>,
    /// `w_text·text + w_genre·genre + w_kg·kg + w_attribute·attribute` per catalog position;
    /// −∞ for excluded items.
    base: Vec<f32>,
    /// Attribute-filter tier and request specificity per catalog position
    /// ([`crate::rank::FusionParts::request_key`]; empty: all 0).
    tier: Vec<(u16, f32)>,
    /// De-dup ground truth.
    targets: Vec<ItemId>,
}

/// The agent's validation objective for many collaborative models at the cost of one: every
/// fusion term but the collaborative and popularity ones is computed once per validation point
/// ([`CandidateRanker::fusion_parts`]); scoring a model then costs its own scoring plus a sort.
/// Gives the ranking of [`crate::agent::ToolRanker`] (same order, ties and title de-duplication),
/// so the objective equals [`crate::tune::objective`]'s up to float summation order.
#[derive(Debug)]
pub struct AgentValidation {
    catalog: Arc<Catalog>,
    cf: CoMentions,
    weights: FusionWeights,
    popularity: Vec<f32>,
    points: Vec<CachedPoint>,
}

impl AgentValidation {
    /// Precomputes the terms of `ranker` (its weights, knowledge graph and co-mentions `cf`) for
    /// the de-dup points of `points`, their states built by `tracker` over its catalog. Two
    /// threads.
    ///
    /// Errors: those of [`CandidateRanker::fusion_parts`].
    pub fn new(
        tracker: &Tracker,
        ranker: &CandidateRanker,
        cf: CoMentions,
        points: &[crate::eval::EvalPoint],
    ) -> Result<Self> {
        let catalog = Arc::clone(tracker.catalog());
        let tools = crate::agent::ToolRanker::new(tracker.clone(), Arc::new(ranker.clone()));
        let w = ranker.weights();
        let work: Vec<&crate::eval::EvalPoint> =
            points.iter().filter(|p| !p.targets_for(Protocol::Dedup).is_empty()).collect();
        let build = |chunk: &[&crate::eval::EvalPoint]| -> Result<Vec<CachedPoint>> {
            chunk
                .iter()
                .map(|p| {
                    let state = tools.state_for(&p.context);
                    let parts = ranker.fusion_parts(&state, &catalog, MAX_K)?;
                    let n = catalog.len();
                    let mut base = vec![f32::NEG_INFINITY; n];
                    let mut tier = Vec::new();
                    let tiers = parts.tiers();
                    if tiers.iter().any(|&t| t > 0) {
                        tier = (0..n)
                            .map(|q| {
                                let (t, specificity) = parts.request_key(q);
                                (t.min(u16::MAX as usize) as u16, specificity)
                            })
                            .collect();
                    }
                    for (q, ex) in parts.excluded.iter().enumerate() {
                        if !ex {
                            base[q] = parts.base_score(q, &w);
                        }
                    }
                    Ok(CachedPoint {
                        rec: ranker.rec_state(&state, &catalog),
                        seeds: parts.seeds,
                        base,
                        tier,
                        targets: p.targets_for(Protocol::Dedup),
                    })
                })
                .collect()
        };
        let (a, b) = crate::util::in_two_halves(&work, build);
        let mut cached = a.map_err(|_| Error::InvalidInput("a validation thread panicked".to_string()))??;
        cached.extend(b?);
        let popularity = catalog.items().iter().map(|it| (1.0 + it.popularity as f32).ln()).collect::<Vec<_>>();
        let max = popularity.iter().fold(0f32, |m, &x| m.max(x)).max(1e-6);
        let popularity = popularity.into_iter().map(|x| x / max).collect();
        Ok(AgentValidation { catalog, cf, weights: w, popularity, points: cached })
    }

    /// The fusion weights the terms were computed with.
    pub fn weights(&self) -> FusionWeights {
        self.weights
    }

    /// Re-tunes the `cf` and `popularity` fusion weights for `model` (`None`: co-mentions) by
    /// coordinate ascent from the ranker's weights, two passes over `cf` ∈ {0.5, 0.7, 1, 1.4, 2}
    /// and `popularity` ∈ {0.05, 0.1, 0.2, 0.3, 0.45}; a change must gain more than 1e-6.
    ///
    /// Errors: those of [`AgentValidation::score`].
    pub fn retune(&self, model: Option<&dyn Recommender>) -> Result<TunedFusion> {
        let (mut cf, mut pop) = (self.weights.cf, self.weights.popularity);
        let mut best = self.score(model, cf, pop)?;
        for _ in 0..2 {
            let before = (cf, pop);
            for v in [0.5, 0.7, 1.0, 1.4, 2.0] {
                if v != cf {
                    let s = self.score(model, v, pop)?;
                    if s.objective > best.objective + 1e-6 {
                        (best, cf) = (s, v);
                    }
                }
            }
            for v in [0.05, 0.1, 0.2, 0.3, 0.45] {
                if v != pop {
                    let s = self.score(model, cf, v)?;
                    if s.objective > best.objective + 1e-6 {
                        (best, pop) = (s, v);
                    }
                }
            }
            if (cf, pop) == before {
                break;
            }
        }
        Ok(TunedFusion { cf, popularity: pop, score: best })
    }

    /// The agent's validation objective (de-dup) with `model` as the collaborative part (`None`:
    /// the co-mention counts) and fusion weights `cf_weight` and `popularity_weight` in place of
    /// the ranker's. Two threads.
    ///
    /// Errors: the model's, for a state item it does not know.
    pub fn score(
        &self,
        model: Option<&dyn Recommender>,
        cf_weight: f32,
        popularity_weight: f32,
    ) -> Result<ValidationScore> {
        Ok(Self::score_of(&self.ranks(model, cf_weight, popularity_weight)?))
    }

    /// The figures of per-instance ranks.
    fn score_of(ranks: &[Vec<Option<usize>>]) -> ValidationScore {
        let mut acc = MetricsAccumulator::new();
        for &r in ranks.iter().flatten() {
            acc.add_rank(r);
        }
        let m = acc.mean();
        let metrics = [m.recall_at_1, m.recall_at_10, m.recall_at_50, m.ndcg_at_10];
        ValidationScore {
            objective: (metrics[0] + metrics[1] + metrics[2]) / 3.0,
            metrics,
            instances: ranks.len(),
            recommendations: acc.samples(),
        }
    }

    /// The agent with `model` (its `cf` and `popularity` weights `weights`) against the agent
    /// with the co-mention counts (weights `co_mention_weights`): both sides' figures and a
    /// paired bootstrap ([`paired_bootstrap`], 2,000 resamples over instances) of the objective
    /// difference.
    ///
    /// Errors: those of [`AgentValidation::score`].
    pub fn compare(
        &self,
        model: &dyn Recommender,
        weights: (f32, f32),
        co_mention_weights: (f32, f32),
    ) -> Result<AgentComparison> {
        let ra = self.ranks(Some(model), weights.0, weights.1)?;
        let rb = self.ranks(None, co_mention_weights.0, co_mention_weights.1)?;
        Ok(AgentComparison {
            selected: Self::score_of(&ra),
            co_mentions: Self::score_of(&rb),
            difference: paired_bootstrap(&ra, &rb, 2000, 0x00C0_FFEE)?,
        })
    }

    /// Per validation instance: the 1-based ranks of its ground-truth items (`None`: not in the
    /// top [`MAX_K`]), as in [`AgentValidation::score`].
    fn ranks(
        &self,
        model: Option<&dyn Recommender>,
        cf_weight: f32,
        popularity_weight: f32,
    ) -> Result<Vec<Vec<Option<usize>>>> {
        let n = self.catalog.len();
        let run = |chunk: &[CachedPoint]| -> Result<Vec<Vec<Option<usize>>>> {
            let mut ranks = Vec::new();
            let mut cf = vec![0f32; n];
            let mut order: Vec<((u16, f32), f32, u32)> = Vec::with_capacity(n);
            let mut taken = vec![false; n];
            for p in chunk {
                cf.iter_mut().for_each(|x| *x = 0.0);
                match model {
                    Some(m) => crate::rank::model_scores_into(m, &p.rec, &self.catalog, &mut cf)?,
                    None => self.cf.score_into(&p.seeds, self.weights.beta, self.weights.shrink, &mut cf),
                }
                let cf_max = cf.iter().fold(0f32, |m, &x| m.max(x.abs()));
                order.clear();
                for (q, (&raw, (&base, &pop))) in cf.iter().zip(p.base.iter().zip(&self.popularity)).enumerate() {
                    if base == f32::NEG_INFINITY {
                        continue;
                    }
                    let c = if cf_max > 0.0 { raw / cf_max } else { 0.0 };
                    let score = cf_weight * c + popularity_weight * pop + base;
                    order.push((p.tier.get(q).copied().unwrap_or((0, 0.0)), score, q as u32));
                }
                let cmp = |a: &((u16, f32), f32, u32), b: &((u16, f32), f32, u32)| {
                    b.0 .0.cmp(&a.0 .0).then(b.0 .1.total_cmp(&a.0 .1)).then(b.1.total_cmp(&a.1)).then(a.2.cmp(&b.2))
                };
                let head = (MAX_K + 64).min(order.len());
                if head > 0 && head < order.len() {
                    order.select_nth_unstable_by(head - 1, cmp);
                    order.truncate(head);
                }
                order.sort_unstable_by(cmp);
                taken.iter_mut().for_each(|x| *x = false);
                let mut ranking: Vec<ItemId> = Vec::with_capacity(MAX_K);
                for &(_, _, q) in order.iter() {
                    let q = q as usize;
                    if taken[q] {
                        continue;
                    }
                    for &r in self.catalog.same_title(q) {
                        taken[r] = true;
                    }
                    ranking.push(self.catalog.items()[q].id);
                    if ranking.len() == MAX_K {
                        break;
                    }
                }
                ranks.push(p.targets.iter().map(|&t| crate::eval::metrics::rank_of(&ranking, t)).collect());
            }
            Ok(ranks)
        };
        let (a, b) = crate::util::in_two_halves(&self.points, run);
        let mut ranks = a.map_err(|_| Error::InvalidInput("a validation thread panicked".to_string()))??;
        ranks.extend(b?);
        Ok(ranks)
    }
}
