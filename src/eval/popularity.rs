//! The popularity baseline: rank movies by how often the ReDial *training* dialogues mention them.
//!
//! Popularity must come from the training split only. `movies_with_mentions.csv`'s `nbMentions`
//! counts the whole corpus, test included, and must never feed a ranker evaluated on test.
//! [`train_popularity`] counts from `redial/train_movie_level/train_movie_sequences_compact.jsonl`
//! (9,996 of the 10,006 training dialogues at movie level).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::catalog::ItemId;
use crate::dialogue::Turn;
use crate::eval::Ranker;
use crate::{Error, Result};

/// Ranks items by a fixed count, most frequent first, skipping items mentioned in the context.
///
/// Ties in count are broken by ascending item id, so the ranking is deterministic. Only items
/// given to [`PopularityRanker::new`] are ever returned.
#[derive(Debug, Clone)]
pub struct PopularityRanker {
    order: Vec<ItemId>,
}

impl PopularityRanker {
    /// Builds the ranker from `(item, count)` pairs; counts of a repeated item are summed.
    pub fn new(counts: Vec<(ItemId, u32)>) -> Self {
        let mut totals: HashMap<ItemId, u64> = HashMap::new();
        for (id, c) in counts {
            *totals.entry(id).or_insert(0) += u64::from(c);
        }
        let mut items: Vec<(ItemId, u64)> = totals.into_iter().collect();
        items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        PopularityRanker { order: items.into_iter().map(|(id, _)| id).collect() }
    }

    /// Number of distinct items the ranker can return.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the ranker knows no item (it then always returns an empty list).
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

impl Ranker for PopularityRanker {
    fn name(&self) -> String {
        "popularity".to_string()
    }

    /// The `k` most popular items not mentioned in any context turn ([`Turn::items`]).
    fn rank(&self, context: &[Turn], k: usize) -> Vec<ItemId> {
        let seen: HashSet<ItemId> = context.iter().flat_map(|t| t.items.iter().copied()).collect();
        self.order.iter().copied().filter(|id| !seen.contains(id)).take(k).collect()
    }
}

/// What [`train_popularity`] counts in the movie-level training file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrainCount {
    /// Dialogues whose `v` field (ordered `[movieId, liked]` pairs; 9,875 dialogues) mentions the
    /// movie: each movie once per dialogue. Null ids are skipped.
    DialoguesV,
    /// Every mention in the `u` field (`[movieId, "S"|"R", polarity]` triples, repeats kept;
    /// 9,005 dialogues). Unresolved `I<n>` ids are skipped.
    MentionsU,
    /// Dialogues whose `u` or `v` mentions the movie, each movie once per dialogue (the count
    /// the catalog build stores as `Item::popularity`).
    DialoguesUV,
}

#[derive(Deserialize)]
struct TrainLine {
    #[serde(default)]
    v: Option<Vec<Vec<Value>>>,
    #[serde(default)]
    u: Option<Vec<Vec<Value>>>,
}

fn first_id(entry: &[Value]) -> Option<ItemId> {
    entry.first().and_then(Value::as_str).and_then(|s| s.parse::<ItemId>().ok())
}

/// Counts movie popularity in the ReDial movie-level training file at `path`
/// (`train_movie_sequences_compact.jsonl`), as `(movieId, count)` pairs sorted by id.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Parse`] naming the 1-based line that is
/// not a JSON object with optional `u` / `v` lists of lists.
pub fn train_popularity(path: &Path, count: TrainCount) -> Result<Vec<(ItemId, u32)>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut counts: HashMap<ItemId, u32> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let d: TrainLine = serde_json::from_str(line)
            .map_err(|e| Error::parse(path, i + 1, format!("not a movie-level training dialogue: {e}")))?;
        let v_ids = d.v.iter().flatten().filter_map(|e| first_id(e));
        let u_ids = d.u.iter().flatten().filter_map(|e| first_id(e));
        let ids: Vec<ItemId> = match count {
            TrainCount::MentionsU => u_ids.collect(),
            TrainCount::DialoguesV => v_ids.collect::<HashSet<_>>().into_iter().collect(),
            TrainCount::DialoguesUV => v_ids.chain(u_ids).collect::<HashSet<_>>().into_iter().collect(),
        };
        for id in ids {
            *counts.entry(id).or_insert(0) += 1;
        }
    }
    let mut out: Vec<(ItemId, u32)> = counts.into_iter().collect();
    out.sort_unstable();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::Role;

    #[test]
    fn ranks_by_count_then_id_and_excludes_context_items() {
        let r = PopularityRanker::new(vec![(5, 1), (3, 4), (9, 4), (7, 2), (5, 2)]);
        assert_eq!(r.len(), 4);
        assert_eq!(r.rank(&[], 10), vec![3, 9, 5, 7]);
        assert_eq!(r.rank(&[], 2), vec![3, 9]);
        let ctx = [Turn { role: Role::Seeker, text: "I like X".into(), items: vec![9] }];
        assert_eq!(r.rank(&ctx, 2), vec![3, 5]);
        assert!(PopularityRanker::new(vec![]).rank(&ctx, 5).is_empty());
    }

    #[test]
    fn counts_training_file_both_ways() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let path = dir.path().join("train.jsonl");
        let text = concat!(
            r#"{"id":"1","v":[["10",1],["11",0],[null,1]],"u":[["10","S",1],["10","R",1],["I3","S",1]]}"#,
            "\n",
            r#"{"id":"2","v":[["10",1]]}"#,
            "\n\n",
            r#"{"id":"3","u":[["12","R",1]]}"#,
            "\n"
        );
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        assert_eq!(train_popularity(&path, TrainCount::DialoguesV)?, vec![(10, 2), (11, 1)]);
        assert_eq!(train_popularity(&path, TrainCount::MentionsU)?, vec![(10, 2), (12, 1)]);
        assert_eq!(train_popularity(&path, TrainCount::DialoguesUV)?, vec![(10, 2), (11, 1), (12, 1)]);
        std::fs::write(&path, "{\"id\":\"1\"}\nnot json\n").map_err(|e| Error::io(&path, e))?;
        match train_popularity(&path, TrainCount::DialoguesV) {
            Err(Error::Parse { line: 2, .. }) => Ok(()),
            other => Err(Error::InvalidInput(format!("expected a parse error on line 2, got {other:?}"))),
        }
    }
}
