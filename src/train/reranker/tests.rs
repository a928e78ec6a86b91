//! Tests of the reranker's training: synthetic recovery, determinism, the cache, cross-fitting,
//! the saved policy and the agent path.

use std::collections::HashSet;
use std::sync::Arc;

use super::cache::{read_cache, write_cache};
use super::*;
use crate::catalog::{Catalog, ItemId};
use crate::dialogue::Items;
use crate::rank::policy;
use crate::rank::CandidateRanker;

/// Contexts whose one relevant candidate is drawn from a PL policy with weights `truth`.
fn synthetic(truth: &[f64], contexts: usize, candidates: usize, seed: u64) -> Vec<Context> {
    let mut rng = seed;
    let mut unif = || ((splitmix64(&mut rng) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    (0..contexts)
        .map(|_| {
            let x: Vec<f32> = (0..candidates * D).map(|_| (unif() * 2.0 - 1.0) as f32).collect();
            let mut ctx = Context { x, relevant: vec![false; candidates], targets: 1 };
            let s: Vec<f64> = grpo::scores(&ctx, truth).into_iter().map(|v| v - (-unif().ln()).ln()).collect();
            let best = (0..candidates).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap();
            ctx.relevant[best] = true;
            ctx
        })
        .collect()
}

fn truth() -> Vec<f64> {
    (0..D).map(|j| if j < 3 { [3.0, -2.0, 1.5][j] } else { 0.0 }).collect()
}

fn quick(variant: Variant, epochs: usize) -> TrainConfig {
    TrainConfig { list_len: 5, batch: 16, lr: 0.05, patience: epochs, ..TrainConfig::new(variant, epochs, 3) }
}

#[test]
fn rank_grpo_learns_a_known_weight_vector() {
    let truth = truth();
    let train = synthetic(&truth, 300, 20, 1);
    let val = synthetic(&truth, 150, 20, 2);
    let zero = vec![0.0; D];
    let (_, start, _) = validate(&val, &zero);
    let (_, oracle, _) = validate(&val, &truth);
    let t = train_policy(&train, &val, &zero, &quick(Variant::Grpo(Reward::ExpInf), 25), None, false).unwrap();
    let (_, learned, _) = validate(&val, &t.theta);
    let dot: f64 = t.theta.iter().zip(&truth).map(|(a, b)| a * b).sum();
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    let cosine = dot / (norm(&t.theta) * norm(&truth));
    assert!(cosine > 0.9, "cosine {cosine}, θ {:?}", t.theta);
    assert!(learned > start + 0.5 * (oracle - start), "objective {learned} (start {start}, oracle {oracle})");
    // The supervised baseline learns it too.
    let s = train_policy(&train, &val, &zero, &quick(Variant::Supervised, 25), None, false).unwrap();
    let dot: f64 = s.theta.iter().zip(&truth).map(|(a, b)| a * b).sum();
    assert!(dot / (norm(&s.theta) * norm(&truth)) > 0.9);
}

#[test]
fn the_same_seed_gives_the_same_weights_and_a_resumed_run_matches() {
    let truth = truth();
    let train = synthetic(&truth, 60, 12, 5);
    let val = synthetic(&truth, 30, 12, 6);
    let zero = vec![0.0; D];
    let cfg = quick(Variant::Grpo(Reward::CausalDcg), 4);
    let a = train_policy(&train, &val, &zero, &cfg, None, false).unwrap();
    let b = train_policy(&train, &val, &zero, &cfg, None, false).unwrap();
    assert_eq!(a, b);
    let other = train_policy(&train, &val, &zero, &TrainConfig { seed: 4, ..cfg }, None, false).unwrap();
    assert_ne!(a.curve, other.curve);
    // Two epochs, then resume to four: the same curve as four at once.
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck.json");
    train_policy(&train, &val, &zero, &TrainConfig { epochs: 2, ..cfg }, Some(&ck), false).unwrap();
    let text = std::fs::read_to_string(&ck).unwrap().replace("\"epochs\":2", "\"epochs\":4");
    std::fs::write(&ck, text).unwrap();
    let resumed = train_policy(&train, &val, &zero, &cfg, Some(&ck), false).unwrap();
    assert_eq!(resumed.curve, a.curve);
}

#[test]
fn the_saved_mlp_policy_scores_as_it_was_trained() {
    // Training scores (f64, grpo::forward on standardised rows) and the agent's scores (f32,
    // Policy::score_row on raw rows) of the same MLP agree, through a save and load.
    let mut rng = 5u64;
    let mut unif = || ((splitmix64(&mut rng) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let params: Vec<f64> = (0..policy::params_len(4)).map(|_| unif() * 2.0 - 1.0).collect();
    let mean: Vec<f32> = (0..D).map(|j| j as f32 * 0.1).collect();
    let std: Vec<f32> = (0..D).map(|j| 1.0 + j as f32 * 0.05).collect();
    let pol = Policy::from_params(mean, std, &params).unwrap();
    assert_eq!(pol.hidden.as_ref().map(|h| h.v.len()), Some(4));
    let dir = std::env::temp_dir().join(format!("curator-mlp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(crate::rank::RERANKER_FILE);
    pol.save(&path).unwrap();
    let loaded = Policy::load(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(loaded, pol);
    let raw: Vec<f32> = (0..7 * D).map(|_| (unif() * 6.0 - 3.0) as f32).collect();
    let point =
        CachedPoint { fold: 0, raw: raw.clone(), target_candidate: vec![Some(2)], target_fusion_rank: vec![None] };
    let ctx = context_of(&point, &loaded);
    let trained: Vec<f64> = grpo::scores(&ctx, &loaded.params());
    let mut active = 0;
    for (i, t) in trained.iter().enumerate() {
        let s = loaded.score_row(&raw[i * D..(i + 1) * D]);
        assert!((f64::from(s) - t).abs() < 1e-3 * (1.0 + t.abs()), "candidate {i}: agent {s} vs training {t}");
        active +=
            usize::from((f64::from(s) - grpo::scores(&ctx, &params[..D]).get(i).copied().unwrap_or(0.0)).abs() > 1e-3);
    }
    assert!(active > 0, "the hidden layer never changed a score");
    // A parameter vector that fits no layout is refused.
    assert!(Policy::from_params(vec![0.0; D], vec![1.0; D], &params[..D + 1]).is_err());
}

#[test]
fn the_feature_cache_round_trips() {
    let p = CachedPoint {
        fold: 1,
        raw: (0..2 * D).map(|i| i as f32 * 0.5).collect(),
        target_candidate: vec![Some(1), None],
        target_fusion_rank: vec![Some(7), None],
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.bin");
    write_cache(&path, std::slice::from_ref(&p)).unwrap();
    assert_eq!(read_cache(&path).unwrap(), vec![p]);
    std::fs::write(&path, b"CRRRK001\x01").unwrap();
    assert!(read_cache(&path).unwrap_err().to_string().contains("truncated"));
}

/// Cross-fitting: the statistics behind the training contexts' features hold out every
/// dialogue that supplies contexts (the 2,263 validation dialogues and CFCRS's 784 more), so a pair of movies that only one held-out dialogue mentions
/// together has no co-mention count there (raw data at `../shared/data`; without it the
/// test says so and checks nothing).
#[test]
fn a_dialogue_never_feeds_its_own_features() {
    let source = crate::paths::project_root().join("../shared/data");
    let test = crate::paths::evals_dir().join("redial/test.jsonl");
    if !source.join(crate::eval::validation::VALIDATION).exists() {
        eprintln!("no raw data at {}; skipped", source.display());
        return;
    }
    let val = crate::eval::validation::reranker_dialogues(&source, &test).unwrap();
    let held: HashSet<String> = val.iter().map(|d| d.conversation_id.clone()).collect();
    assert_eq!((val.len(), held.len()), (3047, 3047));
    let path = source.join(crate::train::interactions::REDIAL_TRAIN);
    let base = Catalog::load(&crate::paths::catalog_dir()).unwrap();
    let known: HashSet<ItemId> = base.items().iter().map(|i| i.id).collect();
    let full = crate::data::train_statistics(&path, &known, &HashSet::new()).unwrap();
    let out = crate::data::train_statistics(&path, &known, &held).unwrap();
    assert_eq!(full.dialogues - out.dialogues, 3047, "{} vs {}", full.dialogues, out.dialogues);
    // Pairs of a held-out dialogue's annotated movies that one training dialogue co-mentions
    // (that dialogue, unless its movie-level record lacks one of them): gone once held out.
    let (mut checked, mut kept) = (0usize, 0usize);
    for d in &val {
        let ids: Vec<ItemId> = d.movie_mentions.keys().copied().filter(|i| known.contains(i)).collect();
        for (i, &a) in ids.iter().enumerate() {
            for &b in &ids[i + 1..] {
                let key = (a.min(b), a.max(b));
                if full.pairs.get(&key) == Some(&1) {
                    checked += 1;
                    kept += usize::from(out.pairs.contains_key(&key));
                }
            }
        }
    }
    assert!(checked > 100, "{checked} pairs checked");
    assert!((kept as f64) < 0.02 * checked as f64, "{kept} of {checked} single-dialogue pairs survived");
    // And the feature builder uses exactly this held-out set (`catalog_without`).
    let (catalog, _) = crate::train::catalog_without(&source, &base, &held).unwrap();
    for it in catalog.items().iter().take(500) {
        assert_eq!(it.popularity, out.popularity.get(&it.id).copied().unwrap_or(0));
    }
}

/// The agent's ranker with the committed policy orders the candidate set by the policy
/// (filling past it in fusion order), never returns an excluded item, and without the policy
/// falls back to the fusion's order.
#[test]
fn the_agent_ranks_with_the_policy_and_falls_back_to_the_fusion() {
    let assets = crate::assets::Assets::from_project(None).unwrap();
    let Some(policy) = assets.ranker.policy().cloned() else {
        eprintln!("no reranker.json in the catalog; skipped");
        return;
    };
    let catalog = assets.catalog.as_ref();
    let turns = vec![crate::dialogue::Turn {
        role: crate::dialogue::Role::Seeker,
        text: "I loved The Matrix (1999) and Alien (1979), something scary but not a comedy".to_string(),
        items: Vec::new(),
    }];
    let state = assets.tracker.replay(&turns, Items::Linked);
    assert!(!state.mentions.is_empty(), "the titles link");
    let ranked = assets.ranker.rank(&state, catalog, 20).unwrap();
    let set = assets.ranker.candidate_set(&state, catalog, 20).unwrap();
    assert!(set.len() >= 100, "{} candidates", set.len());
    let want: Vec<ItemId> = policy.ranking(&set, 20).into_iter().map(|p| catalog.items()[p].id).collect();
    assert_eq!(ranked.iter().map(|c| c.id).collect::<Vec<_>>(), want);
    assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score && w[1].score.is_finite()));
    let excluded = state.excluded_positions(catalog);
    assert!(ranked.iter().all(|c| !excluded[c.position]));
    // Without the policy: the fusion, whose order the candidate set records.
    let no_policy = fusion_only(&assets);
    let ids: Vec<usize> = no_policy.rank(&state, catalog, 20).unwrap().into_iter().map(|c| c.position).collect();
    assert_eq!(ids, set.fusion_order[..20].to_vec());
    assert_ne!(ids, ranked.iter().map(|c| c.position).collect::<Vec<_>>(), "the policy reorders");
}

/// The catalog's ranker rebuilt without its policy.
fn fusion_only(assets: &crate::assets::Assets) -> CandidateRanker {
    let dir = crate::paths::catalog_dir();
    let cf = crate::recommender::CoMentions::load(&dir.join("comentions.tsv"), &assets.catalog).unwrap();
    let mut r = CandidateRanker::new(&assets.catalog, cf, assets.ranker.weights());
    if let Some(m) = crate::assets::load_model(&dir).unwrap() {
        r = r.with_model(m);
    }
    if let Some(kt) = &assets.knowledge {
        r = r.with_knowledge(&assets.catalog, Arc::clone(kt));
    }
    r
}

/// The generators' sizes decide the candidate set: none gives no candidate, popularity alone
/// the most popular items' title groups, the requested-genre list alone the top genre shares;
/// and an agent's ranker builds the sets its policy was trained on (the inspired catalog's
/// policy adds the genre list).
#[test]
fn candidate_sizes_choose_the_generators() {
    let dir = crate::paths::project_root().join("catalogs").join("inspired");
    let assets = crate::assets::Assets::load(&dir, None).unwrap();
    let catalog = assets.catalog.as_ref();
    let turns = vec![crate::dialogue::Turn {
        role: crate::dialogue::Role::Seeker,
        text: "I'm in the mood for a funny comedy tonight".to_string(),
        items: Vec::new(),
    }];
    let state = assets.tracker.replay(&turns, Items::Linked);
    let none =
        CandidateSizes { cf: 0, comention: 0, ppr: 0, text: 0, genre: 0, popularity: 0, attribute: 0, fusion: 0 };
    let set_of = |sizes: CandidateSizes| {
        CandidateRanker::clone(&assets.ranker).with_candidate_sizes(sizes).candidate_set(&state, catalog, 20)
    };
    assert!(set_of(none).unwrap().is_empty(), "no generator, no candidate");
    let excluded = state.excluded_positions(catalog);
    let groups_of_top = |values: &[f32], m: usize, positive: bool| -> HashSet<usize> {
        crate::util::top_indices_desc(values, |p| !excluded[p] && (!positive || values[p] > 0.0), m)
            .into_iter()
            .map(|p| catalog.title_group_id(p))
            .collect()
    };
    let popularity: Vec<f32> = catalog.items().iter().map(|it| it.popularity as f32).collect();
    let set = set_of(CandidateSizes { popularity: 7, ..none }).unwrap();
    let want = groups_of_top(&popularity, 7, false);
    assert_eq!(set.len(), want.len());
    assert!(set.positions.iter().all(|&p| want.contains(&catalog.title_group_id(p))));
    let parts = assets.ranker.fusion_parts(&state, catalog, 20).unwrap();
    assert!(parts.genre.iter().any(|&g| g > 0.0), "comedy is asked for");
    let set = set_of(CandidateSizes { genre: 5, ..none }).unwrap();
    let want = groups_of_top(&parts.genre, 5, true);
    assert_eq!(set.len(), want.len());
    assert!(set.positions.iter().all(|&p| want.contains(&catalog.title_group_id(p)) && parts.genre[p] > 0.0));
    let policy = assets.ranker.policy().unwrap();
    assert_eq!(assets.ranker.candidate_sizes(), policy.candidates);
    assert!(policy.candidates.genre > 0, "the inspired policy was trained with the genre list");
}
