//! The one validation split of the offline wing (`curator tune`, `curator train recommender`):
//! ReDial *training* dialogues with full text, checked disjoint from the test split, so nothing is
//! ever tuned or selected on test. The learned reranker (`curator train reranker`) draws its
//! contexts from these and from the full-text training dialogues of CFCRS's processed copy
//! ([`reranker_dialogues`]).

use std::collections::HashSet;
use std::path::Path;

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
pub fn validation_split(source: &Path, test_path: &Path) -> Result<Vec<crate::eval::redial::RedialDialogue>> {
    let val_path = source.join(VALIDATION);
    let val_text = std::fs::read_to_string(&val_path).map_err(|e| Error::io(&val_path, e))?;
    let val = crate::eval::redial::parse_redial(&val_text, &val_path)?;
    let test_text = std::fs::read_to_string(test_path).map_err(|e| Error::io(test_path, e))?;
    let test_ids: HashSet<String> =
        crate::eval::redial::parse_redial(&test_text, test_path)?.into_iter().map(|d| d.conversation_id).collect();
    if let Some(clash) = val.iter().find(|d| test_ids.contains(&d.conversation_id)) {
        return Err(Error::InvalidInput(format!(
            "validation dialogue {} is in the test split; refusing to tune or train on test",
            clash.conversation_id
        )));
    }
    Ok(val)
}

/// The reranker's training dialogues: [`validation_split`] followed by the dialogues of
/// [`RERANKER_EXTRA`] not already in it (by conversation id; 2,263 + 784 = 3,047 with
/// `../shared/data`), each checked disjoint from the test split at `test_path`. A missing
/// [`RERANKER_EXTRA`] file yields the validation dialogues alone.
///
/// Errors: those of [`validation_split`]; unreadable or malformed [`RERANKER_EXTRA`];
/// [`Error::InvalidInput`] when one of its dialogues is in the test split.
pub fn reranker_dialogues(source: &Path, test_path: &Path) -> Result<Vec<crate::eval::redial::RedialDialogue>> {
    let mut dialogues = validation_split(source, test_path)?;
    let extra_path = source.join(RERANKER_EXTRA);
    if !extra_path.exists() {
        return Ok(dialogues);
    }
    let extra_text = std::fs::read_to_string(&extra_path).map_err(|e| Error::io(&extra_path, e))?;
    let extra = crate::eval::redial::parse_redial(&extra_text, &extra_path)?;
    let test_text = std::fs::read_to_string(test_path).map_err(|e| Error::io(test_path, e))?;
    let test_ids: HashSet<String> =
        crate::eval::redial::parse_redial(&test_text, test_path)?.into_iter().map(|d| d.conversation_id).collect();
    let mut seen: HashSet<String> = dialogues.iter().map(|d| d.conversation_id.clone()).collect();
    for d in extra {
        if test_ids.contains(&d.conversation_id) {
            return Err(Error::InvalidInput(format!(
                "{}: dialogue {} is in the test split; refusing to train on test",
                extra_path.display(),
                d.conversation_id
            )));
        }
        if seen.insert(d.conversation_id.clone()) {
            dialogues.push(d);
        }
    }
    Ok(dialogues)
}
