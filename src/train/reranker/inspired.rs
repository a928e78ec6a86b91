//! Contexts of `curator --catalog NAME train reranker --inspired` for a catalog built from
//! INSPIRED (`catalogs/inspired`, `scripts/inspired_catalog.py`): the reranker learns from
//! INSPIRED's own training dialogues and is selected on INSPIRED dev, never test.
//!
//! **Training contexts.** UniCRS's processed INSPIRED train split
//! (`inspired/train_unicrs/train_data_dbpedia.jsonl`: one dialogue a line, a JSON array of turns
//! with `role` "SEEKER" / "RECOMMENDER", `text` and `movie`, the "Title (Year)" names mentioned),
//! the names linked into the catalog by [`crate::eval::inspired::link_movie`] (unlinked names
//! dropped), consecutive turns of one speaker merged as in the evaluation. Every recommender
//! turn with a movie not mentioned before is one context (de-dup protocol).
//!
//! **Cross-fitting.** The catalog's popularity, co-mentions and collaborative model all come from
//! these same dialogues (its `interactions.jsonl`), so the dialogues are split into
//! [`FOLDS`] folds by line number, and a fold's contexts get their features from statistics and a
//! model (the catalog's saved `recommender.bin` specification) fitted on the other folds' dialogues
//! only: no context sees its own dialogue's interactions.
//!
//! **ReDial contexts** (`--with-redial`, tried and not adopted: INSPIRED dev reads lower): the
//! 3,047 full-text ReDial training dialogues, each movie mapped to the catalog item of the same
//! title and year, featurised by the catalog's own models (which never saw ReDial).
//!
//! **Validation.** INSPIRED dev (`evals/inspired/NAME/dev.jsonl`, `curator --catalog NAME eval
//! build`) with the catalog's own models (fitted on every training dialogue; dev is not among
//! them), as the agent sees it.

use std::path::Path;
use std::sync::Arc;

use crate::catalog::{Catalog, ItemId};
use crate::dialogue::{Role, Tracker};
use crate::eval::inspired::{InspiredDialogue, InspiredMovie, InspiredUtterance};
use crate::eval::{EvalPoint, Protocol};
use crate::rank::CandidateRanker;
use crate::recommender::CoMentions;
use crate::{Error, Result};

use super::cache::{cached, read_cache, write_cache, CachedPoint, MAGIC};
use super::{candidate_sets, RerankerOptions};

/// Folds of the cross-fitting.
pub const FOLDS: usize = 5;

/// The training split inside the raw data folder.
pub const TRAIN_FILE: &str = "inspired/train_unicrs/train_data_dbpedia.jsonl";

/// Reads UniCRS's INSPIRED train split (module doc) with each movie name linked into `catalog`.
/// Dialogue ids are `train-<line index>` (0-based, blank lines counted), as
/// `scripts/inspired_catalog.py` names the sessions of `interactions.jsonl`.
///
/// Errors: [`Error::Io`] if unreadable; [`Error::Parse`] naming the 1-based line of a dialogue
/// that is not a JSON array of turns, or a turn whose `role` is neither "SEEKER" nor
/// "RECOMMENDER".
pub fn load_train_dialogues(path: &Path, catalog: &Catalog) -> Result<Vec<InspiredDialogue>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (k, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |msg: String| Error::parse(path, k + 1, msg);
        let turns: Vec<serde_json::Value> =
            serde_json::from_str(line).map_err(|e| bad(format!("expected a JSON array of turns: {e}")))?;
        let mut utterances = Vec::with_capacity(turns.len());
        for (t, turn) in turns.iter().enumerate() {
            let role = match turn.get("role").and_then(|r| r.as_str()) {
                Some("SEEKER") => Role::Seeker,
                Some("RECOMMENDER") => Role::Recommender,
                other => {
                    return Err(bad(format!("turn {t}: role {other:?} is neither \"SEEKER\" nor \"RECOMMENDER\"")))
                }
            };
            let movies = turn
                .get("movie")
                .and_then(|m| m.as_array())
                .into_iter()
                .flatten()
                .filter_map(|m| m.as_str())
                .filter_map(|name| {
                    let (id, _) = crate::eval::inspired::link_movie(catalog, name);
                    id.map(|id| InspiredMovie { name: name.to_string(), id, in_catalog: true })
                })
                .collect();
            let text = turn.get("text").and_then(|t| t.as_str()).unwrap_or("").to_string();
            utterances.push(InspiredUtterance { role, text, movies });
        }
        out.push(InspiredDialogue { dialog_id: format!("train-{k}"), utterances });
    }
    Ok(out)
}

/// The distinct catalog items of a dialogue, in order of first mention.
fn session(d: &InspiredDialogue) -> Vec<ItemId> {
    let mut out: Vec<ItemId> = Vec::new();
    for m in d.utterances.iter().flat_map(|u| &u.movies) {
        if !out.contains(&m.id) {
            out.push(m.id);
        }
    }
    out
}

/// [`training_points`] from the feature cache when its key (features, catalog manifest, fusion
/// weights, dev file, limit) matches, else computed and cached under `opts.cache_dir`.
///
/// Errors: those of [`training_points`]; an unreadable or unwritable cache.
pub(super) fn cached_points(opts: &RerankerOptions, dev: &Path) -> Result<Vec<CachedPoint>> {
    let mut key = format!(
        "inspired|{}|{:?}|{}|{}|",
        crate::rank::policy::FEATURES.join(","),
        opts.limit,
        String::from_utf8_lossy(MAGIC),
        opts.redial_contexts
    );
    if !opts.candidates.is_default() {
        key.push_str(&format!("candidates {}|", opts.candidates));
    }
    for f in ["manifest.json", crate::rank::RANKER_FILE] {
        key.push_str(&std::fs::read_to_string(opts.catalog_dir.join(f)).unwrap_or_default());
    }
    key.push_str(&std::fs::read_to_string(dev).unwrap_or_default());
    let key = crate::util::sha256_hex(key.as_bytes());
    let path = opts.cache_dir.join(format!("features-inspired-{}.bin", &key[..16]));
    if path.exists() {
        crate::outln!("features: cached at {}", path.display());
        return read_cache(&path);
    }
    let out = training_points(opts, dev)?;
    write_cache(&path, &out)?;
    crate::outln!("features: {} contexts cached at {}", out.len(), path.display());
    Ok(out)
}

/// Cross-fitted training contexts (fold 0) and INSPIRED dev contexts (fold 1) with their raw
/// features (module doc).
///
/// Errors: unreadable or malformed inputs; a catalog without `recommender.bin` (build it with
/// interactions); a failed fit.
fn training_points(opts: &RerankerOptions, dev_path: &Path) -> Result<Vec<CachedPoint>> {
    let assets = crate::assets::Assets::load(&opts.catalog_dir, None)?;
    let base = assets.catalog.as_ref();
    let saved = crate::assets::load_model(&opts.catalog_dir)?.ok_or_else(|| {
        Error::Missing(format!(
            "{} has no recommender.bin: build the catalog from a source with interactions.jsonl",
            opts.catalog_dir.display()
        ))
    })?;
    let spec = saved.info().spec;
    let weights = crate::rank::config::load_weights(&opts.catalog_dir)?;
    let mut dialogues = load_train_dialogues(&opts.source.join(TRAIN_FILE), base)?;
    if let Some(l) = opts.limit {
        dialogues.truncate(l);
    }
    let sessions: Vec<Vec<ItemId>> = dialogues.iter().map(session).collect();
    let mut out = Vec::new();
    for fold in 0..FOLDS {
        let others = other_folds(&sessions, fold);
        let (popularity, pairs) = crate::data::catalog_train::count_sessions(others.iter().copied());
        let catalog = Arc::new(crate::data::catalog_train::with_popularity(base, &popularity)?);
        let fitted = crate::data::catalog_train::to_sessions(&catalog, others.iter().copied());
        let model = crate::data::catalog_train::fit(&catalog, &fitted, spec)?;
        let mut ranker = CandidateRanker::new(&catalog, CoMentions::from_pairs(&catalog, &pairs), weights)
            .with_model(Arc::new(model));
        if let Some(kt) = &assets.knowledge {
            ranker = ranker.with_knowledge(&catalog, Arc::clone(kt));
        }
        let tracker = Tracker::with_graph(Arc::clone(&catalog), assets.knowledge.as_ref().map(|kt| &kt.graph));
        let held: Vec<InspiredDialogue> =
            dialogues.iter().enumerate().filter(|(k, _)| k % FOLDS == fold).map(|(_, d)| d.clone()).collect();
        let points = dedup_points(&held);
        let msg = format!("features (INSPIRED train, fold {} of {FOLDS})", fold + 1);
        out.extend(featurise(opts, &tracker, &ranker, &catalog, &points, &msg, 0));
    }
    if opts.redial_contexts {
        let points = redial_points(opts, base)?;
        out.extend(featurise(opts, &assets.tracker, &assets.ranker, base, &points, "features (ReDial train)", 0));
    }
    let dev = crate::eval::inspired::load_inspired(dev_path)?;
    let points = dedup_points(&dev);
    out.extend(featurise(opts, &assets.tracker, &assets.ranker, base, &points, "features (INSPIRED dev)", 1));
    Ok(out)
}

/// The cached features of `points` (de-dup targets) in fold `fold` (0: training, 1: dev), their
/// candidate sets built by `ranker` with `opts.candidates`; points without a set are dropped.
fn featurise(
    opts: &RerankerOptions,
    tracker: &Tracker,
    ranker: &CandidateRanker,
    catalog: &Catalog,
    points: &[EvalPoint],
    msg: &str,
    fold: u8,
) -> Vec<CachedPoint> {
    let sets = candidate_sets(tracker, ranker, opts.candidates, points, opts.progress, msg);
    points
        .iter()
        .zip(sets)
        .filter_map(|(p, s)| s.map(|s| cached(&s, catalog, &p.targets_for(Protocol::Dedup), fold)))
        .collect()
}

/// ReDial's full-text training dialogues ([`crate::eval::validation::reranker_dialogues`]) as
/// contexts of the INSPIRED catalog `catalog`: each movie is the catalog item of the same title
/// and year ([`crate::eval::inspired::link_movie`] on the movies catalog's "Title (Year)", the
/// `movies` folder beside `opts.catalog_dir`), unmapped movies dropped; a point is kept when a
/// de-dup target maps. The catalog's models never saw ReDial, so no cross-fitting is needed.
///
/// Errors: a missing movies catalog; those of `reranker_dialogues`.
fn redial_points(opts: &RerankerOptions, catalog: &Catalog) -> Result<Vec<EvalPoint>> {
    let movies_dir = opts.catalog_dir.with_file_name(crate::paths::DEFAULT_CATALOG);
    let movies = Catalog::load(&movies_dir)?;
    let map: std::collections::HashMap<ItemId, ItemId> = movies
        .items()
        .iter()
        .filter_map(|m| crate::eval::inspired::link_movie(catalog, &m.display_name()).0.map(|i| (m.id, i)))
        .collect();
    let dialogues = crate::eval::validation::reranker_dialogues(&opts.source, &opts.test_path)?;
    let mut out = Vec::new();
    for mut p in crate::eval::extract_points(&dialogues) {
        p.targets.retain_mut(|t| match map.get(&t.item) {
            Some(&i) => {
                t.item = i;
                true
            }
            None => false,
        });
        for turn in &mut p.context {
            turn.items = turn.items.iter().filter_map(|i| map.get(i).copied()).collect();
        }
        if !p.targets_for(Protocol::Dedup).is_empty() {
            out.push(p);
        }
    }
    crate::outln!("ReDial contexts mapped into the catalog: {} ({} movies map)", out.len(), map.len());
    Ok(out)
}

/// The sessions outside `fold` (dialogue `k` is in fold `k % FOLDS`): what a fold's contexts
/// may be featurised from.
fn other_folds(sessions: &[Vec<ItemId>], fold: usize) -> Vec<&Vec<ItemId>> {
    sessions.iter().enumerate().filter(|(k, _)| k % FOLDS != fold).map(|(_, s)| s).collect()
}

/// The evaluation points of `dialogues` with at least one de-dup target.
fn dedup_points(dialogues: &[InspiredDialogue]) -> Vec<EvalPoint> {
    crate::eval::inspired::extract_inspired_points(dialogues)
        .into_iter()
        .filter(|p| !p.targets_for(Protocol::Dedup).is_empty())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::catalog::Item;

    fn catalog() -> Catalog {
        let item = |id: ItemId, title: &str, year: u16| Item {
            id,
            title: title.into(),
            year: Some(year),
            ..Default::default()
        };
        Catalog::from_items(vec![item(1, "Joker", 2019), item(2, "Knives Out", 2019), item(3, "Us", 2019)]).unwrap()
    }

    #[test]
    fn train_dialogues_link_names_and_refuse_an_unknown_role() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("train.jsonl");
        let good = r#"[{"role": "SEEKER", "text": "I saw Joker", "movie": ["Joker (2019)"]}, {"role": "RECOMMENDER", "text": "Try Knives Out or Us, or Cats", "movie": ["Knives Out (2019)", "Us (2019)", "Cats (2019)", "Joker (2019)"]}]"#;
        std::fs::write(&path, format!("{good}\n\n{good}\n")).unwrap();
        let d = load_train_dialogues(&path, &catalog()).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].dialog_id.as_str(), d[1].dialog_id.as_str()), ("train-0", "train-2"));
        // "Cats (2019)" is not in the catalog: dropped.
        let names: Vec<ItemId> = d[0].utterances[1].movies.iter().map(|m| m.id).collect();
        assert_eq!(names, [2, 3, 1]);
        assert_eq!(session(&d[0]), [1, 2, 3]);
        // One context: the recommender turn, with Knives Out and Us new (Joker said before).
        let points = dedup_points(&d[..1]);
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].targets_for(Protocol::Dedup), [2, 3]);
        std::fs::write(&path, format!("{good}\n[{{\"role\": \"BOT\", \"text\": \"hi\"}}]\n")).unwrap();
        let err = load_train_dialogues(&path, &catalog()).unwrap_err().to_string();
        assert!(err.contains(":2") && err.contains("BOT"), "{err}");
        std::fs::write(&path, "{\"role\": \"SEEKER\"}\n").unwrap();
        let err = load_train_dialogues(&path, &catalog()).unwrap_err().to_string();
        assert!(err.contains(":1") && err.contains("array"), "{err}");
    }

    #[test]
    fn a_fold_is_featurised_without_its_own_sessions() {
        let sessions: Vec<Vec<ItemId>> = (0..12u32).map(|k| vec![k, k + 100]).collect();
        for fold in 0..FOLDS {
            let others = other_folds(&sessions, fold);
            let own: Vec<&Vec<ItemId>> =
                sessions.iter().enumerate().filter(|(k, _)| k % FOLDS == fold).map(|(_, s)| s).collect();
            assert!(!own.is_empty());
            assert!(own.iter().all(|s| !others.contains(s)), "fold {fold}");
            assert_eq!(others.len() + own.len(), sessions.len());
        }
    }
}
