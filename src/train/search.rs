//! The validation search of `curator train recommender`: every requested model family over its
//! grid and data mixes, each scored on the validation split (module doc of [`super`]).

use std::collections::HashSet;

use super::interactions::{self, DataMix, InteractionCounts};
use super::{bar, score, AgentValidation, TrainOptions, ValidationScore, ValidationSet, BASELINE_MIX, MAX_NEIGHBOURS};
use crate::catalog::Catalog;
use crate::rank::FusionWeights;
use crate::recommender::fit::{Gram, SoftmaxTrainer};
use crate::recommender::{ItemModel, ModelSpec};
use crate::Result;

/// The best configuration of each (family, data mix): (family, mix name, validation score,
/// spec, MovieLens weight).
pub(super) type Best = Vec<(String, String, ValidationScore, ModelSpec, f32)>;
/// Keeps `s` for (`family`, `mix`) when it beats the best so far.
fn consider(best: &mut Best, family: &str, mix: &str, s: ValidationScore, spec: ModelSpec, w: f32) {
    match best.iter_mut().find(|b| b.0 == family && b.1 == mix) {
        Some(b) if b.2.objective >= s.objective => {}
        Some(b) => *b = (family.to_string(), mix.to_string(), s, spec, w),
        None => best.push((family.to_string(), mix.to_string(), s, spec, w)),
    }
}

/// The validation search (module doc): every requested family over its grid and data mixes,
/// each scored alone on `set` (the softmax model's epochs on the agent's objective `av`).
/// Returns the best configuration of each (family, mix) and the interaction counts of the
/// dialogues-only validation data.
///
/// Errors: those of loading the interactions and fitting or scoring a model.
pub(super) fn search(
    opts: &TrainOptions,
    val_catalog: &Catalog,
    val_ids: &HashSet<String>,
    set: &ValidationSet,
    av: &AgentValidation,
    weights: FusionWeights,
) -> Result<(Best, InteractionCounts)> {
    let want = |family: &str| opts.families.is_empty() || opts.families.iter().any(|f| f == family);
    let ml_weights: &[f32] = if opts.quick { &[0.0] } else { &[0.0, 0.05, 0.3] };
    let knn: Vec<(f32, f32)> = if opts.quick {
        vec![(0.5, 0.0)]
    } else {
        [0.0, 0.15, 0.3, 0.5].iter().flat_map(|&b| [0.0, 10.0, 30.0].map(|s| (b, s))).collect()
    };
    let lambdas: &[f32] = if opts.quick { &[50.0] } else { &[150.0, 400.0, 1000.0, 2500.0, 6000.0] };
    let backwards: &[f32] = if opts.quick { &[0.0] } else { &[0.0, 0.25, 0.5] };
    let seekers: &[f32] = if opts.quick { &[0.5] } else { &[0.25, 0.5] };
    let role_betas: &[f32] = if opts.quick { &[0.15] } else { &[0.0, 0.15, 0.3] };
    let shares: &[f32] = if opts.quick { &[0.5] } else { &[0.25, 0.5] };
    let transitions: Vec<(f32, f32)> = if opts.quick {
        vec![(200.0, 0.85)]
    } else {
        [800.0, 3000.0, 10000.0].iter().flat_map(|&l| [0.6, 0.85, 1.0].map(|d| (l, d))).collect()
    };
    let transition_shares: &[f32] = if opts.quick { &[0.25] } else { &[0.1, 0.2, 0.35, 0.5] };
    // Softmax item-kNN: (learning rate, L2 toward the prior), each scored after every epoch.
    let softmax_grid: Vec<(f32, f32)> = if opts.quick {
        vec![(0.05, 0.0)]
    } else {
        [0.05, 0.1].iter().flat_map(|&lr| [0.0, 0.01].map(|l2| (lr, l2))).collect()
    };
    let softmax_epochs: u32 = if opts.quick { 1 } else { 8 };
    let count = |family: &str, n: usize| if want(family) { n } else { 0 };
    let total = ml_weights.len()
        * (count("popularity", 1)
            + count("item-knn", 2 * knn.len())
            + count("ease", lambdas.len())
            + count("session-knn", knn.len() * backwards.len())
            + count("role-knn", seekers.len() * role_betas.len())
            + count("knn+ease", shares.len()))
        + count("transition", transitions.len())
        + count("knn+transition", transition_shares.len())
        + count("softmax-knn", softmax_grid.len() * softmax_epochs as usize);
    let pb = bar(total, opts.progress, "validating");
    let mut val_counts = InteractionCounts::default();
    // The dialogues-only sessions (MovieLens weight 0), kept for the transition model.
    let mut dialogue_sessions: Option<Vec<interactions::Session>> = None;
    let mut best: Best = Vec::new();
    for &w in ml_weights {
        let mix = if w > 0.0 { DataMix::WITH_MOVIELENS } else { DataMix::DIALOGUES };
        let data = interactions::load(&opts.source, val_catalog, mix, val_ids)?;
        if w == 0.0 {
            val_counts = data.counts.clone();
            dialogue_sessions = Some(data.sessions.clone());
        }
        for bm25 in [false, true] {
            let gram = Gram::new(val_catalog, &data.sessions, w, bm25);
            if !bm25 && want("popularity") {
                let s = score(&gram.popularity_model(), set)?;
                pb.inc(1);
                consider(&mut best, "popularity", mix.name(), s, ModelSpec::Popularity, w);
            }
            for &(beta, shrink) in knn.iter().filter(|_| want("item-knn")) {
                let spec = ModelSpec::ItemKnn { bm25, beta, shrink, backward: 1.0, seeker: 1.0 };
                let s = score(&gram.item_knn(beta, shrink, MAX_NEIGHBOURS), set)?;
                pb.set_message(format!("{} ml {w}: {:.4}", spec.describe(), s.objective));
                pb.inc(1);
                consider(&mut best, "item-knn", mix.name(), s, spec, w);
            }
            // EASE on the BM25-weighted matrix never led in a first full search (λ scaled by
            // idf² ≈ 10): only the binary matrix is searched.
            for &lambda in lambdas.iter().filter(|_| !bm25 && want("ease")) {
                let spec = ModelSpec::Ease { lambda, bm25 };
                let s = score(&gram.ease(lambda, MAX_NEIGHBOURS)?, set)?;
                pb.set_message(format!("{} ml {w}: {:.4}", spec.describe(), s.objective));
                pb.inc(1);
                consider(&mut best, "ease", mix.name(), s, spec, w);
            }
        }
        // Session-aware item-kNN: pairs in mention order count fully, reversed pairs less.
        for &backward in backwards.iter().filter(|_| want("session-knn")) {
            let gram = Gram::with_order(val_catalog, &data.sessions, w, false, backward);
            for &(beta, shrink) in &knn {
                let spec = ModelSpec::ItemKnn { bm25: false, beta, shrink, backward, seeker: 1.0 };
                let s = score(&gram.item_knn(beta, shrink, MAX_NEIGHBOURS), set)?;
                pb.set_message(format!("{} ml {w}: {:.4}", spec.describe(), s.objective));
                pb.inc(1);
                consider(&mut best, "session-knn", mix.name(), s, spec, w);
            }
        }
        // Role-aware item-kNN: items only seekers mentioned count less as candidates.
        for &seeker in seekers.iter().filter(|_| want("role-knn")) {
            let gram = Gram::with_roles(val_catalog, &data.sessions, w, false, 1.0, seeker);
            for &beta in role_betas {
                let spec = ModelSpec::ItemKnn { bm25: false, beta, shrink: 0.0, backward: 1.0, seeker };
                let s = score(&gram.item_knn(beta, 0.0, MAX_NEIGHBOURS), set)?;
                pb.set_message(format!("{} ml {w}: {:.4}", spec.describe(), s.objective));
                pb.inc(1);
                consider(&mut best, "role-knn", mix.name(), s, spec, w);
            }
        }
        // The blend of this mix's best binary item-kNN and best EASE^R.
        let knn_best = best.iter().find_map(|b| match b.3 {
            ModelSpec::ItemKnn { bm25: false, beta, shrink, .. } if b.0 == "item-knn" && b.1 == mix.name() => {
                Some((beta, shrink))
            }
            _ => None,
        });
        let ease_best = best.iter().find_map(|b| match b.3 {
            ModelSpec::Ease { lambda, .. } if b.1 == mix.name() => Some(lambda),
            _ => None,
        });
        if let (Some((beta, shrink)), Some(lambda), true) = (knn_best, ease_best, want("knn+ease")) {
            let gram = Gram::new(val_catalog, &data.sessions, w, false);
            for &ease_share in shares {
                let spec = ModelSpec::Blend { beta, shrink, lambda, ease_share };
                let s = score(&gram.blend(beta, shrink, lambda, ease_share, MAX_NEIGHBOURS)?, set)?;
                pb.set_message(format!("{} ml {w}: {:.4}", spec.describe(), s.objective));
                pb.inc(1);
                consider(&mut best, "knn+ease", mix.name(), s, spec, w);
            }
        }
    }
    // The transition model reads dialogue order: dialogues only (MovieLens users are unordered).
    // Mixed with item-kNN (the agent's β, shrink 0), from the best transition model.
    let ordered = match dialogue_sessions {
        _ if !(want("transition") || want("knn+transition") || want("softmax-knn")) => None,
        Some(s) => Some(s),
        None => Some(interactions::load(&opts.source, val_catalog, DataMix::DIALOGUES, val_ids)?.sessions),
    };
    // The softmax item-kNN model starts from the agent's co-mentions (ReDial only, its β) and is
    // trained on the ReDial dialogues' order.
    if let (Some(sessions), true) = (&ordered, want("softmax-knn")) {
        let redial: Vec<interactions::Session> =
            sessions.iter().filter(|s| s.source == interactions::Source::Redial).cloned().collect();
        let gram = Gram::new(val_catalog, &redial, 0.0, false);
        // Epochs and rates are chosen on the agent's objective (fixed fusion weights): the
        // model-alone objective peaks earlier and misses what the model adds to the fusion.
        let mut top: Option<(f64, ValidationScore, ModelSpec)> = None;
        for &(lr, l2) in &softmax_grid {
            let mut trainer = SoftmaxTrainer::new(&gram, val_catalog, &redial, weights.beta, weights.recency)?;
            for _ in 0..softmax_epochs {
                let loss = trainer.epoch(lr, l2)?;
                let model = trainer.model(lr, l2, MAX_NEIGHBOURS);
                let s = score(&model, set)?;
                let agent = av.score(Some(&model), weights.cf, weights.popularity)?;
                pb.suspend(|| {
                    crate::outln!(
                        "  {} ({} instances, prior scale {}): training loss {loss:.4} nats, validation objective {:.4}, in agent {:.4}",
                        model.info().spec.describe(),
                        trainer.instances(),
                        trainer.scale(),
                        s.objective,
                        agent.objective
                    )
                });
                pb.inc(1);
                if top.as_ref().is_none_or(|t| agent.objective > t.0) {
                    top = Some((agent.objective, s, model.info().spec));
                }
            }
        }
        if let Some((_, s, spec)) = top {
            consider(&mut best, "softmax-knn", BASELINE_MIX, s, spec, 0.0);
        }
    }
    if let (Some(sessions), true) = (&ordered, want("transition") || want("knn+transition")) {
        let gram = Gram::new(val_catalog, sessions, 0.0, false);
        let mut top: Option<(f64, ModelSpec, ItemModel)> = None;
        for &(lambda, decay) in &transitions {
            let spec = ModelSpec::Transition { lambda, decay };
            let model = gram.transition(val_catalog, sessions, lambda, decay, MAX_NEIGHBOURS)?;
            let s = score(&model, set)?;
            pb.set_message(format!("{}: {:.4}", spec.describe(), s.objective));
            pb.inc(1);
            if top.as_ref().is_none_or(|t| s.objective > t.0) {
                top = Some((s.objective, spec, model));
            }
            consider(&mut best, "transition", DataMix::DIALOGUES.name(), s, spec, 0.0);
        }
        if let (Some((_, ModelSpec::Transition { lambda, decay }, transition)), true) = (top, want("knn+transition")) {
            let (beta, shrink) = (weights.beta, 0.0);
            let knn = gram.item_knn(beta, shrink, MAX_NEIGHBOURS);
            for &share in transition_shares {
                let spec = ModelSpec::KnnTransition { beta, shrink, lambda, decay, share };
                let s = score(&knn.mixed(&transition, share, spec, MAX_NEIGHBOURS)?, set)?;
                pb.set_message(format!("{}: {:.4}", spec.describe(), s.objective));
                pb.inc(1);
                consider(&mut best, "knn+transition", DataMix::DIALOGUES.name(), s, spec, 0.0);
            }
        }
    }
    pb.finish_and_clear();
    Ok((best, val_counts))
}
