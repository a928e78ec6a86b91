//! The agent: the reply loop over the dialogue tracker, the candidate ranker, prompts from
//! `prompts/` and the language model.
//!
//! - [`Engine`] (`engine.rs`): what every conversation shares — the assets (catalog, tracker,
//!   ranker, knowledge graph), the prompts, the model and its title trie; it answers a turn of a
//!   [`Conversation`].
//! - [`Conversation`] (`conversation.rs`): one dialogue's state and the model cache it owns.
//! - [`Agent`]: one engine with one conversation (the chat front ends).
//! - `window.rs` (the dialogue the model sees), `opening.rs` (the one opening-line check),
//!   `reasons.rs` (grounded reasons), [`ToolRanker`] (the agent's ranker without the model, for
//!   evaluation, tuning and training).
//!
//! One turn: the tracker links the seeker's text to catalog items and attributes → the state
//! is updated → rank candidates
//! (items already mentioned or recommended are excluded) → build one grounded reason per item
//! from catalog metadata and co-mention counts → the LLM writes the reply, streamed token by
//! token: a free opening line, then a numbered list whose titles are decoded under the trie of
//! the reranked shortlist ([`crate::llm::constrained`]), so every item named is a catalog item;
//! a fixed opening, each item's reason (from data) and the closing line are shown without the
//! model reading them during the turn (it chooses each title after its prompt, its own opening
//! and the titles so far; the front ends' prefill decodes the reply as shown while the seeker
//! reads). The model sees the dialogue so far (a sliding window when it would overflow its
//! context) and reuses the keys and values of earlier turns. Without a model (or with one that cannot constrain) the list is
//! written from the ranked list. Every front end consumes the same [`AgentEvent`] stream.

mod conversation;
mod engine;
mod limits;
mod opening;
pub mod prompts;
pub mod reasons;
mod tool_ranker;
mod window;

use std::sync::atomic::AtomicBool;

use serde::Serialize;

use crate::assets::Assets;
use crate::catalog::{Catalog, ItemId};
use crate::dialogue::{DialogueState, Polarity};
use crate::knowledge::tools::KgTools;
use crate::llm::{GeneratedItem, GenerationParams, GenerationStats, LanguageModel};
use crate::rank::{Candidate, FusionWeights};
use crate::{Error, Result};

pub use conversation::Conversation;
pub use engine::Engine;
pub use limits::{FinishReason, TurnOptions};
pub use opening::{accept_opening, answer, is_vague, lead, noted, OpeningPlan};
pub use prompts::RecommendPrompts;
pub use reasons::reason_for;
pub use tool_ranker::ToolRanker;

/// Longest seeker message accepted, in bytes; longer input is refused with a clear error.
pub const MAX_INPUT_BYTES: usize = 4000;

/// Agent settings.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Items recommended per turn (default 3).
    pub recommendations: usize,
    /// Sampling of the reply (default: greedy). `max_tokens` bounds the whole reply, forced text
    /// included (default 400, raised for long lists: [`AgentConfig::reply_tokens`]); the opening
    /// line gets at most 40 free tokens.
    pub generation: GenerationParams,
    /// Size of the reranked shortlist the model's list is constrained to (at least
    /// `recommendations`; default 3: the model orders the ranker's top 3).
    pub shortlist: usize,
    /// Fusion weights of the candidate ranker; `None`: the tuned `ranker.yaml` of the catalog.
    pub weights: Option<FusionWeights>,
    /// Whether the model may write the reply's opening sentence (default `false`). A small model
    /// (the default SmolLM2-135M) writes lines that contradict the dialogue ("I'm glad you're
    /// enjoying the latest installment of your favorite film."), so only a model the backend
    /// configuration marks as able (`free_opening: true`, `--free-opening`) writes one, and its
    /// line is shown only when [`accept_opening`] finds it true to the state; otherwise the
    /// opening is built from the state ([`OpeningPlan`]).
    pub model_opening: bool,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            recommendations: 3,
            generation: GenerationParams { max_tokens: 400, ..GenerationParams::default() },
            shortlist: 3,
            weights: None,
            model_opening: false,
        }
    }
}

/// Tokens kept per listed item when a reply's token budget is sized
/// ([`AgentConfig::reply_tokens`]): marker, title, year and reason are ≈ 30 on SmolLM2's
/// tokenizer; twice that leaves room for long titles and reasons.
const REPLY_ITEM_TOKENS: usize = 60;

/// Tokens kept for the closing line of a reply.
const CLOSING_TOKENS: usize = 40;

impl AgentConfig {
    /// The most tokens a reply with the model may take: `generation.max_tokens`, raised when
    /// `recommendations` items need more (40 for the opening line, 60 per item, 40 for the
    /// closing line), so a long list is never cut off mid-item.
    pub fn reply_tokens(&self) -> usize {
        self.generation.max_tokens.max(INTRO_MAX_TOKENS + self.recommendations * REPLY_ITEM_TOKENS + CLOSING_TOKENS)
    }
}

/// The first control character of `text` other than newline, tab and carriage return: a seeker
/// message may not contain one (`None`: plain text). The agent and the HTTP front end both check.
pub fn control_character(text: &str) -> Option<char> {
    text.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
}

/// One recommended item with its grounded reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// Catalog id.
    pub id: ItemId,
    /// "Title (Year)" as shown in the reply.
    pub title: String,
    /// One sentence from catalog metadata or co-mention counts.
    pub reason: String,
    /// The ranker's fused score.
    pub score: f32,
}

impl Recommendation {
    /// The recommendation of a ranked `candidate` in `state`: its "Title (Year)" and grounded
    /// reason ([`reason_for`]). `None` when the candidate is not in `catalog`.
    pub fn from_candidate(
        candidate: &Candidate,
        state: &DialogueState,
        catalog: &Catalog,
        knowledge: Option<&KgTools>,
    ) -> Option<Self> {
        let item = catalog.get(candidate.id)?;
        Some(Recommendation {
            id: candidate.id,
            title: item.display_name(),
            reason: reason_for(candidate, state, catalog, knowledge),
            score: candidate.score,
        })
    }
}

/// Events of one turn, in order: zero or more `Text` pieces interleaved with one
/// `Recommendations`, then `Done`. Concatenating the `Text` pieces gives the whole reply.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// A piece of reply text.
    Text {
        /// The piece.
        text: String,
    },
    /// The ranked recommendations of this turn (before their lines are streamed).
    Recommendations {
        /// Best first.
        items: Vec<Recommendation>,
    },
    /// The turn is complete.
    Done {
        /// Timings of the turn.
        stats: TurnStats,
    },
}

/// Timings of one turn (milliseconds, wall clock).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TurnStats {
    /// Linking, state update, ranking and reasons (the tool part).
    pub tools_ms: f64,
    /// The model's statistics for the reply, when a model ran.
    pub generation: Option<GenerationStats>,
    /// Whether the model's opening sentence was shown (false: no model, or it looked like it
    /// named an item and the fixed opening replaced it).
    pub model_text_used: bool,
    /// The items the model wrote under the catalog constraint, in order, each with its rank-level
    /// score log π̄ (empty without a model).
    pub generated: Vec<GeneratedItem>,
    /// Why the reply ended: complete, cut at [`TurnOptions::max_tokens`], or at a stop sequence.
    pub finish: FinishReason,
}

/// Most free tokens of the model's opening line.
const INTRO_MAX_TOKENS: usize = 40;

/// The recommendations the ranker of `assets` gives for `state`, best first, at most `k`, each
/// with its grounded reason (no model involved): the list of a chat turn before the model orders
/// it, and `/v1/recommend`.
///
/// Errors: ranking errors.
pub fn recommend(assets: &Assets, state: &DialogueState, k: usize) -> Result<Vec<Recommendation>> {
    let ranked = assets.ranker.rank(state, &assets.catalog, k)?;
    let knowledge = assets.knowledge.as_deref();
    Ok(ranked.iter().filter_map(|c| Recommendation::from_candidate(c, state, &assets.catalog, knowledge)).collect())
}

/// Checks a seeker message before it reaches the tracker: trimmed, not empty, at most
/// [`MAX_INPUT_BYTES`], no control character. Returns the trimmed text.
///
/// Errors: [`Error::InvalidInput`] naming what is wrong.
pub fn check_message(text: &str) -> Result<&str> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::InvalidInput("the message is empty".into()));
    }
    if text.len() > MAX_INPUT_BYTES {
        return Err(Error::InvalidInput(format!(
            "the message is {} bytes; the limit is {MAX_INPUT_BYTES}",
            text.len()
        )));
    }
    if let Some(c) = control_character(text) {
        return Err(Error::InvalidInput(format!(
            "the message contains the control character U+{:04X}; send plain text",
            u32::from(c)
        )));
    }
    Ok(text)
}

/// The conversational agent of one front end: an [`Engine`] with one [`Conversation`].
pub struct Agent {
    engine: Engine,
    conversation: Conversation,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent").field("engine", &self.engine).field("conversation", &self.conversation).finish()
    }
}

impl Agent {
    /// An agent over loaded assets. `model` may be `None` (replies then use the prompt's
    /// fallback opening; everything else is the same).
    pub fn new(
        assets: Assets,
        prompts: RecommendPrompts,
        model: Option<Box<dyn LanguageModel>>,
        config: AgentConfig,
    ) -> Self {
        Agent { engine: Engine::new(assets, prompts, model, config), conversation: Conversation::new() }
    }

    /// An agent over the project's committed data ([`Engine::from_project`]).
    ///
    /// Errors: those of [`Engine::from_project`].
    pub fn from_project(model: Option<Box<dyn LanguageModel>>, config: AgentConfig) -> Result<Self> {
        Ok(Agent { engine: Engine::from_project(model, config)?, conversation: Conversation::new() })
    }

    /// The shared engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The dialogue state so far.
    pub fn state(&self) -> &DialogueState {
        &self.conversation.state
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        self.engine.catalog()
    }

    /// The knowledge-graph tools (`kg_lookup`, …), when the graph is loaded.
    pub fn knowledge(&self) -> Option<&std::sync::Arc<KgTools>> {
        self.engine.knowledge()
    }

    /// The agent's settings.
    pub fn config(&self) -> &AgentConfig {
        self.engine.config()
    }

    /// The model's name, if a model is loaded.
    pub fn model_name(&self) -> Option<&str> {
        self.engine.model_name()
    }

    /// Starts a new conversation (`/reset`).
    pub fn reset(&mut self) {
        self.conversation = Conversation::new();
    }

    /// Replaces the dialogue state (a stored session), returning the previous one. The model's
    /// cache belonged to the previous conversation and is not reused.
    pub fn replace_state(&mut self, state: DialogueState) -> DialogueState {
        let previous = std::mem::replace(&mut self.conversation, Conversation::with_state(state));
        previous.state
    }

    /// Saves the model's key/value cache of this conversation ([`Engine::save_cache`]).
    pub fn save_model_cache(&mut self) -> Option<crate::llm::CacheSnapshot> {
        self.engine.save_cache(&self.conversation)
    }

    /// Restores a cache saved by [`save_model_cache`](Self::save_model_cache) for this
    /// conversation; always safe (the model recomputes from the first token that differs).
    /// Returns whether a model took it.
    pub fn restore_model_cache(&mut self, snapshot: &crate::llm::CacheSnapshot) -> bool {
        self.engine.restore_cache(&self.conversation, snapshot)
    }

    /// Prefills the model's cache with the dialogue so far ([`Engine::prefill`]).
    ///
    /// Errors: the model's.
    pub fn prefill_dialogue(&mut self) -> Result<usize> {
        self.engine.prefill(&mut self.conversation)
    }

    /// The seeker likes or dislikes item `id` (feedback outside the text, e.g. a key or an API
    /// call); the next turn's ranking and reasons use it.
    ///
    /// Errors: [`Error::InvalidInput`] when `id` is not in the catalog.
    pub fn feedback(&mut self, id: ItemId, polarity: Polarity) -> Result<()> {
        self.engine.feedback(&mut self.conversation, id, polarity)
    }

    /// Answers one seeker message ([`Engine::respond`]).
    ///
    /// Errors: those of [`Engine::respond`].
    pub fn respond(&mut self, text: &str, on_event: &mut dyn FnMut(AgentEvent)) -> Result<Vec<Recommendation>> {
        self.engine.respond(&mut self.conversation, text, &AtomicBool::new(false), on_event)
    }

    /// [`Agent::respond`] that stops promptly once `cancel` becomes true ([`Engine::respond`]).
    ///
    /// Errors: those of [`Engine::respond`].
    pub fn respond_cancellable(
        &mut self,
        text: &str,
        cancel: &AtomicBool,
        on_event: &mut dyn FnMut(AgentEvent),
    ) -> Result<Vec<Recommendation>> {
        self.engine.respond(&mut self.conversation, text, cancel, on_event)
    }
}
