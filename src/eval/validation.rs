//! The one validation split of the offline wing (`curator tune`, `curator train recommender`):
//! ReDial *training* dialogues with full text, checked disjoint from the test split, so nothing is
//! ever tuned or selected on test.

use std::collections::HashSet;
use std::path::Path;

use crate::{Error, Result};

/// Validation dialogues (ReDial train with full text), relative to the data folder: held out of
/// every training statistic, used to select weights and models.
pub const VALIDATION: &str = "redial/train_partial/train_subset_original_format.jsonl";

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
