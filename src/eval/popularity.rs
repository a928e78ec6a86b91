//! The popularity baseline: rank movies by how often the ReDial *training* dialogues mention them.
//!
//! Popularity must come from the training split only. `movies_with_mentions.csv`'s `nbMentions`
//! counts the whole corpus, test included, and must never feed a ranker evaluated on test.
//! `curator data build` counts it (`Item::popularity`: training dialogues of
//! `redial/train_movie_level/` mentioning the movie) and `curator eval redial --ranker popularity`
//! ranks by it.

use std::collections::{HashMap, HashSet};

use crate::catalog::ItemId;
use crate::dialogue::Turn;
use crate::eval::Ranker;

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
}
