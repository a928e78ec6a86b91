//! Cross-check of our evaluation contexts against He et al. (CIKM '23, "Large Language Models as
//! Zero-Shot Conversational Recommenders") processed test sets: `redial/eval_cikm23/test.jsonl`
//! (3,552 contexts) and `inspired/eval_cikm23/test.jsonl` (228).
//!
//! Each of their lines is one recommender turn with ground truth: `dialog_id` (`test_<conversationId>`
//! for ReDial, `test_<dialogue index in test.tsv>` for INSPIRED), `context` (a leading `""`, then
//! the earlier merged utterances) and `rec` (entity ids of their DBpedia-linked item set). A
//! context is keyed here by (dialogue, number of earlier utterances) = our
//! (`conversation_id`, `EvalPoint::utterance`).
//!
//! [`build_keys`] derives the keys (and, for ReDial, which of our movie ids are in their item
//! set: ReDial id → DBpedia URI by KGSF's `id2entity.json` → their `entity2id.json` →
//! `item_ids.json`) into small committed files, so that the check runs from a fresh clone.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalog::ItemId;
use crate::eval::redial::EvalPoint;
use crate::{Error, Result};

/// One He et al. context: (dialogue, earlier utterances, ground-truth count).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cikm23Key {
    /// Our dialogue id (ReDial `conversationId`; INSPIRED `dialog_id`).
    pub dialogue: String,
    /// Earlier utterances (their `context.len() - 1`).
    pub utterance: usize,
    /// Their `rec` length.
    pub rec: usize,
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::parse(path, 0, e.to_string()))
}

/// Reads He et al.'s `test.jsonl` at `path`; `dialog_ids` maps INSPIRED dialogue indices to
/// `dialog_id`s (empty for ReDial, whose ids are `test_<conversationId>`).
///
/// # Errors
/// [`Error::Io`]; [`Error::Parse`] for a line without `dialog_id`, `context` or `rec`, or an
/// INSPIRED index outside `dialog_ids`.
pub fn read_cikm23(path: &Path, dialog_ids: &[String]) -> Result<Vec<Cikm23Key>> {
    let mut out = Vec::new();
    crate::util::for_each_jsonl(path, |line_no, v: serde_json::Value| {
        let bad = |m: &str| Error::parse(path, line_no, m);
        let id = v["dialog_id"].as_str().ok_or_else(|| bad("no dialog_id"))?;
        let id = id.strip_prefix("test_").unwrap_or(id);
        let dialogue = if dialog_ids.is_empty() {
            id.to_string()
        } else {
            let k: usize = id.parse().map_err(|_| bad("dialog_id is not test_<index>"))?;
            dialog_ids.get(k).cloned().ok_or_else(|| bad("dialog index out of range"))?
        };
        let context = v["context"].as_array().ok_or_else(|| bad("no context"))?;
        let rec = v["rec"].as_array().ok_or_else(|| bad("no rec"))?;
        out.push(Cikm23Key { dialogue, utterance: context.len().saturating_sub(1), rec: rec.len() });
        Ok(())
    })?;
    Ok(out)
}

/// ReDial movie ids whose DBpedia entity is in He et al.'s ReDial item set.
///
/// # Errors
/// [`Error::Io`] / [`Error::Parse`] for the three JSON files.
pub fn redial_item_set(source: &Path) -> Result<BTreeSet<ItemId>> {
    let id2entity = read_json(&source.join("redial/kg/dbpedia_kgsf/id2entity.json"))?;
    let entity2id = read_json(&source.join("redial/eval_cikm23/entity2id.json"))?;
    let items = read_json(&source.join("redial/eval_cikm23/item_ids.json"))?;
    let items: HashSet<u64> =
        items.as_array().map(|a| a.iter().filter_map(|v| v.as_u64()).collect()).unwrap_or_default();
    let mut out = BTreeSet::new();
    if let Some(map) = id2entity.as_object() {
        for (id, uri) in map {
            let (Ok(id), Some(uri)) = (id.parse::<ItemId>(), uri.as_str()) else { continue };
            if entity2id[uri].as_u64().is_some_and(|e| items.contains(&e)) {
                out.insert(id);
            }
        }
    }
    Ok(out)
}

/// Writes `<out>/cikm23_contexts.tsv` (`dialogue, utterance, rec`) for one dataset and returns
/// how many contexts it holds.
///
/// # Errors
/// Those of [`read_cikm23`]; [`Error::Io`] on write.
pub fn build_keys(cikm23_test: &Path, dialog_ids: &[String], out: &Path) -> Result<usize> {
    let keys = read_cikm23(cikm23_test, dialog_ids)?;
    let mut tsv = String::from("dialogue\tutterance\trec\n");
    for k in &keys {
        tsv.push_str(&format!("{}\t{}\t{}\n", k.dialogue, k.utterance, k.rec));
    }
    crate::util::write_atomic(&out.join("cikm23_contexts.tsv"), tsv.as_bytes())?;
    Ok(keys.len())
}

/// Reads `cikm23_contexts.tsv` written by [`build_keys`].
///
/// # Errors
/// [`Error::Io`]; [`Error::Parse`] naming a malformed line.
pub fn load_keys(path: &Path) -> Result<Vec<Cikm23Key>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let bad = || Error::parse(path, i + 1, "expected dialogue<TAB>utterance<TAB>rec");
        if f.len() != 3 {
            return Err(bad());
        }
        out.push(Cikm23Key {
            dialogue: f[0].to_string(),
            utterance: f[1].parse().map_err(|_| bad())?,
            rec: f[2].parse().map_err(|_| bad())?,
        });
    }
    Ok(out)
}

/// Reads a list of ids, one a line (`cikm23_items.txt`).
///
/// # Errors
/// [`Error::Io`]; [`Error::Parse`] for a line that is not an id.
pub fn load_id_list(path: &Path) -> Result<BTreeSet<ItemId>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| l.trim().parse().map_err(|_| Error::parse(path, i + 1, "not an id")))
        .collect()
}

/// Our evaluation contexts against theirs, with the causes of every difference.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CrossCheck {
    /// Our points (standard extraction).
    pub ours: usize,
    /// Their contexts.
    pub theirs: usize,
    /// Contexts in both.
    pub matched: usize,
    /// Ours only, by cause.
    pub ours_only: BTreeMap<String, usize>,
    /// Theirs only, by cause.
    pub theirs_only: BTreeMap<String, usize>,
    /// Matched contexts where their ground-truth count differs from ours.
    pub matched_rec_count_differs: usize,
    /// Of those, how many have exactly as many of our targets in their item set as they have
    /// ground truth (the difference is their item set), when the item set is known.
    #[serde(default)]
    pub matched_rec_count_explained_by_item_set: usize,
}

/// Compares `points` with `keys`. `item_set`: our ids in their item set, when known (ReDial);
/// ours-only points are then split by whether any target is in it.
pub fn cross_check(points: &[EvalPoint], keys: &[Cikm23Key], item_set: Option<&BTreeSet<ItemId>>) -> CrossCheck {
    let theirs: BTreeMap<(&str, usize), usize> =
        keys.iter().map(|k| ((k.dialogue.as_str(), k.utterance), k.rec)).collect();
    let ours: BTreeMap<(&str, usize), &EvalPoint> =
        points.iter().map(|p| ((p.conversation_id.as_str(), p.utterance), p)).collect();
    let their_dialogues: HashSet<&str> = keys.iter().map(|k| k.dialogue.as_str()).collect();
    let mut c = CrossCheck { ours: ours.len(), theirs: theirs.len(), ..CrossCheck::default() };
    for (key, p) in &ours {
        match theirs.get(key) {
            Some(&rec) => {
                c.matched += 1;
                if rec != p.targets.len() {
                    c.matched_rec_count_differs += 1;
                    if item_set.is_some_and(|set| p.targets.iter().filter(|t| set.contains(&t.item)).count() == rec) {
                        c.matched_rec_count_explained_by_item_set += 1;
                    }
                }
            }
            None => {
                let cause = if !their_dialogues.contains(key.0) {
                    "dialogue absent from their file"
                } else {
                    match item_set {
                        Some(set) if !p.targets.iter().any(|t| set.contains(&t.item)) => {
                            "no ground-truth movie in their DBpedia-linked item set"
                        }
                        Some(_) => "other",
                        None => "dialogue present, turn absent (movie not in their item set)",
                    }
                };
                *c.ours_only.entry(cause.to_string()).or_insert(0) += 1;
            }
        }
    }
    for key in theirs.keys() {
        if !ours.contains_key(key) {
            let cause = if key.1 == 0 { "empty context (dialogue-opening turn)" } else { "other" };
            *c.theirs_only.entry(cause.to_string()).or_insert(0) += 1;
        }
    }
    c
}
