//! One conversation: its dialogue state and the model cache it owns. Many conversations share one
//! [`super::Engine`] (the HTTP server, the evaluation); the chat front ends hold one.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::dialogue::DialogueState;
use crate::llm::CacheSnapshot;

/// A conversation: the dialogue state the tracker builds, and the model cache (keys and values
/// of the dialogue so far) saved while another conversation used the model.
#[derive(Debug)]
pub struct Conversation {
    /// Unique within the process: the engine knows whose cache the model holds.
    pub(super) id: u64,
    /// The dialogue state (only the engine's tracker writes it).
    pub state: DialogueState,
    /// The model cache saved for this conversation, restored before its next turn.
    pub cache: Option<CacheSnapshot>,
}

impl Default for Conversation {
    fn default() -> Self {
        Conversation::new()
    }
}

impl Conversation {
    /// A new, empty conversation.
    pub fn new() -> Self {
        Conversation::with_state(DialogueState::new())
    }

    /// A conversation that goes on from `state` (a stored session, or a replayed dialogue).
    pub fn with_state(state: DialogueState) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Conversation { id: NEXT.fetch_add(1, Ordering::Relaxed), state, cache: None }
    }
}
