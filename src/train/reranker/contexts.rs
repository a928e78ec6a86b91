//! The training contexts of `curator train reranker` (module doc of [`super`]): the candidate
//! sets of a list of evaluation points, the reranker-train / reranker-validation split of the
//! ReDial text dialogues, and their cross-fitted, cached features. Split from `mod.rs`.

use std::collections::HashSet;
use std::sync::Arc;

use super::cache::{cached, read_cache, write_cache, CachedPoint, MAGIC};
use super::{inspired, RerankerOptions};
use crate::catalog::Catalog;
use crate::dialogue::{Items, Tracker};
use crate::eval::metrics::MAX_K;
use crate::eval::{extract_points, EvalPoint, Protocol};
use crate::rank::policy::{self, CandidateSet, CandidateSizes};
use crate::rank::CandidateRanker;
use crate::train::bar;
use crate::util::splitmix64;
use crate::Result;

/// Candidate sets of `points` (two threads; order kept), each with its state replayed by
/// `tracker` (annotated items) and `k` = [`MAX_K`].
pub(super) fn candidate_sets(
    tracker: &Tracker,
    ranker: &CandidateRanker,
    sizes: CandidateSizes,
    points: &[EvalPoint],
    progress: bool,
    msg: &str,
) -> Vec<Option<CandidateSet>> {
    let ranker = &ranker.clone().with_candidate_sizes(sizes);
    let pb = bar(points.len(), progress, msg);
    let catalog = tracker.catalog();
    let run = |chunk: &[EvalPoint]| -> Vec<Option<CandidateSet>> {
        chunk
            .iter()
            .map(|p| {
                let state = tracker.replay(&p.context, Items::Annotated);
                let set = ranker.candidate_set(&state, catalog, MAX_K);
                pb.inc(1);
                match set {
                    Ok(s) => Some(s),
                    Err(e) => {
                        tracing::warn!("candidates failed: {e}");
                        None
                    }
                }
            })
            .collect()
    };
    let (a, b) = crate::util::in_two_halves(points, run);
    pb.finish_and_clear();
    let mut out = a.unwrap_or_else(|_| vec![None; points.len() / 2]);
    out.extend(b);
    out
}

/// 0 (reranker-train) or 1 (reranker-validation) for a conversation id: 20 % validation.
fn fold_of(conversation_id: &str) -> u8 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in conversation_id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    u8::from(splitmix64(&mut h).is_multiple_of(5))
}

/// The training contexts' features ([`crate::eval::validation::reranker_dialogues`]), from the
/// cache when its key matches, else computed (models refit without those dialogues) and cached.
pub(super) fn training_points(opts: &RerankerOptions) -> Result<Vec<CachedPoint>> {
    if let Some(dev) = &opts.inspired_dev {
        return inspired::cached_points(opts, dev);
    }
    let mut val = crate::eval::validation::reranker_dialogues(&opts.source, &opts.test_path)?;
    if let Some(l) = opts.limit {
        val.truncate(l);
    }
    let mut key =
        format!("{}|{:?}|{}|{}|", policy::FEATURES.join(","), opts.limit, String::from_utf8_lossy(MAGIC), val.len());
    if !opts.candidates.is_default() {
        key.push_str(&format!("candidates {}|", opts.candidates));
    }
    for f in ["manifest.json", crate::rank::RANKER_FILE] {
        key.push_str(&std::fs::read_to_string(opts.catalog_dir.join(f)).unwrap_or_default());
    }
    let key = crate::util::sha256_hex(key.as_bytes());
    let path = opts.cache_dir.join(format!("features-{}.bin", &key[..16]));
    if path.exists() {
        crate::outln!("features: cached at {}", path.display());
        return read_cache(&path);
    }
    let val_ids: HashSet<String> = val.iter().map(|d| d.conversation_id.clone()).collect();
    let base = Catalog::load(&opts.catalog_dir)?;
    let (catalog, cf) = crate::train::catalog_without(&opts.source, &base, &val_ids)?;
    let catalog = Arc::new(catalog);
    let weights = crate::rank::config::load_weights(&opts.catalog_dir)?;
    let mut ranker = CandidateRanker::new(&catalog, cf, weights);
    if let Some(m) = crate::train::refit_saved_model(&opts.source, &opts.catalog_dir, &catalog, &val_ids)? {
        ranker = ranker.with_model(Arc::new(m));
    }
    let knowledge = crate::assets::load_knowledge(&opts.catalog_dir)?;
    if let Some(kt) = &knowledge {
        ranker = ranker.with_knowledge(&catalog, Arc::clone(kt));
    }
    let tracker = Tracker::with_graph(Arc::clone(&catalog), knowledge.as_ref().map(|kt| &kt.graph));
    let points: Vec<EvalPoint> =
        extract_points(&val).into_iter().filter(|p| !p.targets_for(Protocol::Dedup).is_empty()).collect();
    let sets =
        candidate_sets(&tracker, &ranker, opts.candidates, &points, opts.progress, "features (validation dialogues)");
    let out: Vec<CachedPoint> = points
        .iter()
        .zip(sets)
        .filter_map(|(p, s)| {
            s.map(|s| cached(&s, &catalog, &p.targets_for(Protocol::Dedup), fold_of(&p.conversation_id)))
        })
        .collect();
    write_cache(&path, &out)?;
    crate::outln!("features: {} contexts cached at {}", out.len(), path.display());
    Ok(out)
}
