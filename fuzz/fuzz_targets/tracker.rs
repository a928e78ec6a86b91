//! The dialogue tracker on arbitrary UTF-8: each line a turn (seeker and recommender in turn,
//! at most 12), observed with the real catalog and knowledge graph, then the state queried as
//! the ranker and the front ends query it.
#![no_main]

mod common;

use std::sync::OnceLock;

use curator::dialogue::{DialogueState, Polarity, Role, Tracker, Utterance};
use libfuzzer_sys::fuzz_target;

fn tracker() -> &'static Tracker {
    static TRACKER: OnceLock<Tracker> = OnceLock::new();
    TRACKER.get_or_init(|| Tracker::with_graph(common::catalog(), Some(common::graph())))
}

fuzz_target!(|text: &str| {
    let tracker = tracker();
    let mut state = DialogueState::new();
    for (i, line) in text.split('\n').take(12).enumerate() {
        let role = if i % 2 == 0 { Role::Seeker } else { Role::Recommender };
        tracker.observe(&mut state, Utterance::said(role, line));
    }
    let liked = state.items_with(Polarity::Liked);
    let _ = state.items_with(Polarity::Disliked);
    let _ = state.excluded_positions(tracker.catalog());
    let _ = (state.genres(), state.rejected_genres(), state.latest_requests(), state.recent_seeker_text(3));
    if let Some(&id) = liked.first() {
        let _ = tracker.feedback(&mut state, id, Polarity::Disliked);
    }
});
