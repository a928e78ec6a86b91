//! Training sessions, the input of the model fitting ([`crate::recommender::fit`]): a dialogue or
//! a user × catalog items with implicit weights. The loaders that read them from the raw data
//! live in the offline wing (`crate::train::interactions`).

use serde::{Deserialize, Serialize};

/// Where a session comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A ReDial training dialogue (movie level or text).
    Redial,
    /// An INSPIRED training dialogue.
    Inspired,
    /// A MovieLens user (ratings ≥ 4).
    Movielens,
    /// A session of a built catalog's `interactions.jsonl` (`curator catalog build`).
    Catalog,
}

/// One session: distinct catalog positions in order of first mention, each with its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Where it comes from.
    pub source: Source,
    /// `(catalog position, implicit weight)`, distinct positions, in order of first mention.
    pub items: Vec<(u32, f32)>,
    /// Positions of `items` that only the seeker mentioned (ReDial `u` role "S" and never "R");
    /// empty for sources without roles.
    pub seeker_only: Vec<u32>,
}
