//! The agent's candidate ranker without the language model: what evaluation, tuning and
//! training score.

use std::sync::Arc;

use crate::assets::Assets;
use crate::catalog::{Catalog, ItemId};
use crate::dialogue::{DialogueState, Items, Tracker, Turn};
use crate::rank::CandidateRanker;
use crate::Result;

/// The agent's ranker without the LLM: a dialogue's context is replayed by the one
/// [`Tracker`] (the turns' item annotations used, as the ranker-level protocols score against
/// them), then [`CandidateRanker::rank`] orders the catalog. `crate::eval` makes it a
/// `Ranker`.
#[derive(Debug, Clone)]
pub struct ToolRanker {
    tracker: Tracker,
    ranker: Arc<CandidateRanker>,
    items: Items,
}

impl ToolRanker {
    /// The ranker `ranker` with the states of `tracker`.
    pub fn new(tracker: Tracker, ranker: Arc<CandidateRanker>) -> Self {
        ToolRanker { tracker, ranker, items: Items::Annotated }
    }

    /// The same ranker replaying contexts with their items found as `items` says
    /// ([`Items::Linked`]: from the text, as a front end would).
    pub fn with_items(mut self, items: Items) -> Self {
        self.items = items;
        self
    }

    /// The tracker and ranker of loaded assets.
    pub fn from_assets(assets: &Assets) -> Self {
        ToolRanker::new(assets.tracker.clone(), Arc::clone(&assets.ranker))
    }

    /// The catalog.
    pub fn catalog(&self) -> &Arc<Catalog> {
        self.tracker.catalog()
    }

    /// The tracker.
    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    /// The candidate ranker.
    pub fn ranker(&self) -> &Arc<CandidateRanker> {
        &self.ranker
    }

    /// The dialogue state the agent would hold after `context` (its items found as
    /// [`ToolRanker::with_items`] says; annotated by default).
    pub fn state_for(&self, context: &[Turn]) -> DialogueState {
        self.tracker.replay(context, self.items)
    }

    /// The best `k` item ids after `context`, best first.
    ///
    /// Errors: those of [`CandidateRanker::rank`].
    pub fn rank_context(&self, context: &[Turn], k: usize) -> Result<Vec<ItemId>> {
        let state = self.state_for(context);
        Ok(self.ranker.rank(&state, self.tracker.catalog(), k)?.into_iter().map(|c| c.id).collect())
    }
}
