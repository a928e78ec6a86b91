//! Entity-linking accuracy on ReDial test mentions.
//!
//! Every `@movieId` placeholder in every message of the test split is one case. The query is the
//! dialogue's own rendering of that movie (`movieMentions`), whitespace collapsed, year removed
//! and lowercased ("black panther"); a case is correct when the linker's top-1 item is the
//! placeholder's id. Repeated mentions count each time.

use std::path::Path;

use serde::Serialize;

use crate::catalog::text::split_title_year;
use crate::catalog::{Catalog, ItemId};
use crate::{Error, Result};

/// Result of [`linking_accuracy`].
#[derive(Debug, Clone, Serialize)]
pub struct LinkingReport {
    /// Mentions evaluated.
    pub mentions: usize,
    /// Mentions whose top-1 linked item is the gold id.
    pub correct: usize,
    /// `correct / mentions`.
    pub accuracy: f64,
    /// Mentions whose top-1 item has the same normalised title as the gold item but another id
    /// (ReDial lists some films twice, e.g. with and without a year): errors no text can resolve.
    pub same_title_other_id: usize,
    /// Up to 20 wrong cases: (query, gold id, predicted id).
    pub examples: Vec<(String, ItemId, Option<ItemId>)>,
}

/// Measures top-1 linking accuracy of lowercase, year-less titles on the ReDial dialogues in
/// `path` (JSON lines in the original ReDial format).
///
/// Errors: unreadable file, or a line that is not a JSON object with `messages` and
/// `movieMentions` (named by line).
pub fn linking_accuracy(path: &Path, catalog: &Catalog) -> Result<LinkingReport> {
    let mut report =
        LinkingReport { mentions: 0, correct: 0, accuracy: 0.0, same_title_other_id: 0, examples: Vec::new() };
    crate::util::for_each_jsonl(path, |line_no, v: serde_json::Value| {
        let (Some(msgs), Some(names)) = (v["messages"].as_array(), v["movieMentions"].as_object()) else {
            return Err(Error::parse(path, line_no, "expected `messages` array and `movieMentions` object"));
        };
        for m in msgs {
            let text = m["text"].as_str().unwrap_or("");
            for id in super::redial::mentions(text) {
                let Some(name) = names.get(&id.to_string()).and_then(|n| n.as_str()) else {
                    continue;
                };
                let (title, _) = split_title_year(name);
                let query = title.to_lowercase();
                report.mentions += 1;
                let top = catalog.link_title(&query, 1).first().map(|c| c.id);
                if top == Some(id) {
                    report.correct += 1;
                } else {
                    let same = match (top.and_then(|t| catalog.get(t)), catalog.get(id)) {
                        (Some(a), Some(b)) => {
                            crate::catalog::text::normalize(&a.title) == crate::catalog::text::normalize(&b.title)
                        }
                        _ => false,
                    };
                    if same {
                        report.same_title_other_id += 1;
                    }
                    if report.examples.len() < 20 {
                        report.examples.push((query, id, top));
                    }
                }
            }
        }
        Ok(())
    })?;
    report.accuracy = if report.mentions > 0 { report.correct as f64 / report.mentions as f64 } else { 0.0 };
    Ok(report)
}
