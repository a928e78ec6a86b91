//! Scoring a run's outcomes: the standard and de-dup protocols, He et al.'s protocol (context
//! items removed from each ranking) and the dialogue-level metrics (Kostric & Balog, SIGIR '26),
//! each with its counts.

use std::collections::BTreeMap;

use super::{DialogueResult, HeResult, PointOutcome, ProtocolResult, HE_KS, SHOWN};
use crate::catalog::{Catalog, ItemId};
use crate::eval::dialogue_metrics as dm;
use crate::eval::metrics::{self, MetricsAccumulator};
use crate::eval::redial::{Answer, EvalPoint, RedialDialogue};
use crate::eval::Protocol;

fn curve(ranks: &[Option<usize>]) -> Vec<f64> {
    (1..=metrics::MAX_K)
        .map(|k| {
            if ranks.is_empty() {
                0.0
            } else {
                ranks.iter().filter(|r| r.is_some_and(|r| r <= k)).count() as f64 / ranks.len() as f64
            }
        })
        .collect()
}

/// Scores outcomes (parallel to `points`) under standard and de-dup.
pub fn score_protocols(points: &[EvalPoint], outcomes: &[PointOutcome]) -> Vec<ProtocolResult> {
    Protocol::ALL
        .iter()
        .map(|&protocol| {
            let (counts, ranks) =
                crate::eval::protocol_ranks(points, outcomes.iter().map(|o| o.ranking.as_slice()), protocol);
            let mut acc = MetricsAccumulator::new();
            ranks.iter().for_each(|r| acc.add_rank(*r));
            ProtocolResult { protocol, counts, metrics: acc.mean(), recall_curve: curve(&ranks) }
        })
        .collect()
}

/// Scores outcomes under He et al.'s protocol: items seen in the context removed from each
/// ranking; subsets all / recommendation (new) / discussion (repeated).
pub fn score_he(points: &[EvalPoint], outcomes: &[PointOutcome]) -> Vec<HeResult> {
    // (subset, keep a target given whether it was mentioned before: None = keep all)
    let subsets = [("all", None), ("recommendation", Some(false)), ("discussion", Some(true))];
    subsets
        .iter()
        .map(|(name, keep)| {
            let mut counts = crate::eval::Counts::default();
            let mut ranks = Vec::new();
            for (p, o) in points.iter().zip(outcomes) {
                let seen: Vec<ItemId> = p.context.iter().flat_map(|t| t.items.iter().copied()).collect();
                let ranking: Vec<ItemId> = o.ranking.iter().copied().filter(|id| !seen.contains(id)).collect();
                let targets: Vec<_> =
                    p.targets.iter().filter(|t| keep.is_none_or(|k| k == t.mentioned_before)).collect();
                if targets.is_empty() {
                    continue;
                }
                counts.instances += 1;
                counts.recommendations += targets.len();
                for t in targets {
                    ranks.push(metrics::rank_of(&ranking, t.item));
                }
            }
            let c = curve(&ranks);
            let at = |k: usize| c.get(k - 1).copied().unwrap_or(0.0);
            HeResult {
                subset: name.to_string(),
                counts,
                recall: [at(HE_KS[0]), at(HE_KS[1]), at(HE_KS[2]), at(HE_KS[3])],
                recall_curve: c,
            }
        })
        .collect()
}

/// The reward of `top1` in `dialogue` (see [`crate::eval::dialogue_metrics`]).
pub fn top1_reward(dialogue: &RedialDialogue, top1: ItemId) -> f64 {
    let labels = match dialogue.seeker_labels.get(&top1) {
        Some(l) if l.liked != Answer::DidNotSay || l.seen != Answer::DidNotSay => Some(l),
        other => dialogue.recommender_labels.get(&top1).or(other),
    };
    labels.map_or(0.0, |l| dm::reward(l.liked == Answer::Yes, l.seen == Answer::Yes))
}

/// Dialogue-level metrics of outcomes (parallel to `points`).
pub fn score_dialogue(
    points: &[EvalPoint],
    outcomes: &[PointOutcome],
    redial: &[RedialDialogue],
    catalog: &Catalog,
) -> DialogueResult {
    let rankings: Vec<&[ItemId]> = outcomes.iter().map(|o| o.ranking.as_slice()).collect();
    let seen: Vec<Vec<ItemId>> =
        points.iter().map(|p| p.context.iter().flat_map(|t| t.items.iter().copied()).collect()).collect();
    let pairs: Vec<(&[ItemId], &[ItemId])> = rankings.iter().zip(&seen).map(|(r, s)| (*r, s.as_slice())).collect();
    let targets: Vec<ItemId> = points.iter().flat_map(|p| p.targets.iter().map(|t| t.item)).collect();
    let gt_ooc = if targets.is_empty() {
        0.0
    } else {
        targets.iter().filter(|&&t| catalog.get(t).is_none()).count() as f64 / targets.len() as f64
    };
    let mut result = DialogueResult {
        out_of_catalog_rate: dm::out_of_catalog_rate(&rankings, SHOWN, |id| catalog.get(id).is_some()),
        ground_truth_out_of_catalog_rate: gt_ooc,
        repeat_rate: dm::repeat_rate(&pairs, SHOWN),
        coverage: dm::coverage(&rankings, SHOWN, catalog.len()),
        ..DialogueResult::default()
    };
    if !redial.is_empty() {
        let mut per: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
        for (p, o) in points.iter().zip(outcomes) {
            let r = match (redial.get(p.dialogue), o.ranking.first()) {
                (Some(d), Some(&top)) => top1_reward(d, top),
                _ => 0.0,
            };
            per.entry(p.dialogue).or_default().push(r);
        }
        let lists: Vec<Vec<f64>> = per.into_values().collect();
        let (sr, rdl, n) = dm::success_and_reward(&lists);
        result.dialogues = n;
        result.success_rate = Some(sr);
        result.reward_per_dialogue_length = Some(rdl);
    }
    let replies: Vec<&str> = outcomes.iter().filter_map(|o| o.reply.as_deref()).collect();
    if !replies.is_empty() {
        let names: Vec<bool> = replies.iter().map(|r| !catalog.link_text(r).is_empty()).collect();
        result.responses = Some(dm::response_metrics(&replies, &names));
        let sentences: Vec<&str> = outcomes
            .iter()
            .filter(|o| o.model_text_used)
            .filter_map(|o| o.reply.as_deref().and_then(|r| r.lines().next()))
            .collect();
        if !sentences.is_empty() {
            let names: Vec<bool> = sentences.iter().map(|r| !catalog.link_text(r).is_empty()).collect();
            result.model_sentences = Some(dm::response_metrics(&sentences, &names));
        }
    }
    result
}
