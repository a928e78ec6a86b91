//! Curator: a conversational recommender system (CRS).
//!
//! A seeker chats; Curator tracks the dialogue state (items mentioned, liked, disliked),
//! generates candidates from the catalog and trained statistics, ranks them, and lets a local
//! LLM write a reply whose recommendations always exist in the catalog. See `ARCHITECTURE.md`
//! for the code map and its invariants.

pub mod agent;
pub mod bench;
pub mod catalog;
pub mod data;
pub mod dialogue;
pub mod error;
pub mod eval;
pub mod knowledge;
pub mod llm;
pub mod llm_eval;
pub mod paths;
pub mod rank;
pub mod recommender;
pub mod server;
pub mod tui;
pub mod util;

pub use error::{Error, Result};

/// Prints one line to standard output, ignoring a closed pipe (`curator eval … | head` must not
/// panic). Used instead of `println!` everywhere in the crate.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}
