//! The one validation split of the offline wing (`curator tune`, `curator train recommender`):
//! ReDial *training* dialogues with full text, checked disjoint from the test split, so nothing is
//! ever tuned or selected on test. The learned reranker (`curator train reranker`) draws its
//! contexts from these and from the full-text training dialogues of CFCRS's processed copy
//! ([`reranker_dialogues`]).

use std::collections::HashSet;
use std::path::Path;

use crate::eval::redial::{parse_redial, RedialDialogue};
use crate::{Error, Result};

/// Validation dialogues (ReDial train with full text), relative to the data folder: held out of
/// every training statistic, used to select weights and models.
pub const VALIDATION: &str = "redial/train_partial/train_subset_original_format.jsonl";

/// More ReDial *training* dialogues with full text, relative to the data folder: CFCRS's
/// processed validation file (Xu et al., 2023; 1,000 train dialogues in ReDial's own fields, a
/// seeker's consecutive messages merged, 784 of them not in [`VALIDATION`]). Used only by the
/// reranker's training contexts ([`reranker_dialogues`]).
pub const RERANKER_EXTRA: &str = "redial/train_partial/cfcrs_valid_data_annotated.jsonl";

/// Reads the validation dialogues ([`VALIDATION`] under `source`) and refuses any that is also
/// in the test split at `test_path`: the one validation set of `curator tune` and
/// `curator train recommender`.
///
/// Errors: unreadable or malformed files; [`Error::InvalidInput`] on overlap with test.
pub fn validation_split(source: &Path, test_path: &Path) -> Result<Vec<RedialDialogue>> {
    read_disjoint(&source.join(VALIDATION), &test_ids(test_path)?)
}

/// The reranker's training dialogues: [`validation_split`] followed by the dialogues of
/// [`RERANKER_EXTRA`] not already in it (by conversation id; 2,263 + 784 = 3,047 with
/// `../shared/data`), each checked disjoint from the test split at `test_path`. A missing
/// [`RERANKER_EXTRA`] file yields the validation dialogues alone.
///
/// Errors: those of [`validation_split`]; unreadable or malformed [`RERANKER_EXTRA`];
/// [`Error::InvalidInput`] when one of its dialogues is in the test split.
pub fn reranker_dialogues(source: &Path, test_path: &Path) -> Result<Vec<RedialDialogue>> {
    let test = test_ids(test_path)?;
    let mut dialogues = read_disjoint(&source.join(VALIDATION), &test)?;
    let extra_path = source.join(RERANKER_EXTRA);
    if !extra_path.exists() {
        return Ok(dialogues);
    }
    let mut seen: HashSet<String> = dialogues.iter().map(|d| d.conversation_id.clone()).collect();
    for d in read_disjoint(&extra_path, &test)? {
        if seen.insert(d.conversation_id.clone()) {
            dialogues.push(d);
        }
    }
    Ok(dialogues)
}

/// The conversation ids of the test split at `test_path`.
fn test_ids(test_path: &Path) -> Result<HashSet<String>> {
    let text = std::fs::read_to_string(test_path).map_err(|e| Error::io(test_path, e))?;
    Ok(parse_redial(&text, test_path)?.into_iter().map(|d| d.conversation_id).collect())
}

/// The ReDial dialogues at `path`, refusing any whose conversation id is in `test`.
fn read_disjoint(path: &Path, test: &HashSet<String>) -> Result<Vec<RedialDialogue>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let dialogues = parse_redial(&text, path)?;
    if let Some(clash) = dialogues.iter().find(|d| test.contains(&d.conversation_id)) {
        return Err(Error::InvalidInput(format!(
            "{}: dialogue {} is in the test split; refusing to tune or train on test",
            path.display(),
            clash.conversation_id
        )));
    }
    Ok(dialogues)
}
