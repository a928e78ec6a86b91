//! Dialogue turns shared by the agent, the evaluation and the front ends.

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
