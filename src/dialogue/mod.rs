//! The understanding layer: dialogue turns, the explicit dialogue state, and the one
//! [`Tracker`] that turns every utterance into that state.
//!
//! - [`state`]: [`DialogueState`] (turns, item mentions with role and polarity, recommended
//!   items, genres and attributes asked for or ruled out) and its queries.
//! - [`tracker`]: [`Tracker::observe`], the only way a turn enters a state: live chat, the
//!   terminal UI, the HTTP server, every evaluation mode, tuning and training call it.
//! - [`attributes`]: free text → knowledge-graph attributes (genres with cue words, people,
//!   decades, keywords), each asked for or ruled out.
//! - [`negation`]: the seeker's polarity toward an item from its clause.
//! - [`reactions`]: what a seeker turn says about the items of Curator's last list ("seen the
//!   first one, hated it").
//!
//! Below the recommender, the ranker and the agent; it imports only the catalog and the
//! knowledge graph's types.

pub mod attributes;
pub mod negation;
pub mod reactions;
pub mod state;
pub mod tracker;

pub use reactions::Reaction;
pub use state::{DialogueState, ItemMention, Polarity};
pub use tracker::{item_questions, ItemQuestion, Items, Observed, Rating, Tracker, Utterance};

use serde::{Deserialize, Serialize};

use crate::catalog::ItemId;

/// Who spoke a turn: the seeker (user asking for recommendations) or the recommender (Curator,
/// or the human recommender in ReDial's `respondentWorkerId` role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person looking for something to watch.
    Seeker,
    /// The side that recommends.
    Recommender,
}

/// One utterance: consecutive messages of one speaker merged, movie placeholders rendered as
/// "Title (Year)", and the catalog ids mentioned in it (in order of first appearance, when known).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// Speaker of the utterance.
    pub role: Role,
    /// The utterance text with item placeholders rendered as titles.
    pub text: String,
    /// Catalog ids mentioned in the utterance (ReDial `@movieId` placeholders, or entity-linked).
    pub items: Vec<ItemId>,
}
