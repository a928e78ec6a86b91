//! The agent: explicit dialogue state, tools (catalog linking and search, the candidate
//! ranker), prompts from `prompts/`, and the reply loop.
//!
//! One turn: link the seeker's text to catalog items → update the state → rank candidates
//! (items already mentioned or recommended are excluded) → build one grounded reason per item
//! from catalog metadata and co-mention counts → the LLM writes the reply, streamed token by
//! token: a free opening line, then a numbered list whose titles are decoded under the trie of
//! the reranked shortlist ([`crate::llm::constrained`]), so every item named is a catalog item;
//! each item's reason (from data) and the closing line are forced text. The model sees the
//! dialogue so far (a sliding window when it would overflow its context) and reuses the keys and
//! values of earlier turns. Without a model (or with one that cannot constrain) the list is
//! written from the ranked list. Every front end consumes the same [`AgentEvent`] stream.

pub mod attributes;
pub mod prompts;
mod reasons;
pub mod state;
pub mod tools;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::catalog::{Catalog, ItemId};
use crate::dialogue::{Role, Turn};
use crate::llm::{
    ChatMessage, GeneratedItem, GenerationParams, GenerationStats, LanguageModel, ListConstraint, ListSpec, TitleForm,
    TitleTrie,
};
use crate::rank::{CandidateRanker, FusionWeights};
use crate::recommender::CoMentions;
use crate::util::cut_at_char_boundary;
use crate::{Error, Result};

pub use prompts::RecommendPrompts;
pub use reasons::reason_for;
use state::{DialogueState, Polarity};

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
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            recommendations: 3,
            generation: GenerationParams { max_tokens: 400, ..GenerationParams::default() },
            shortlist: 3,
            weights: None,
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
}

/// Most free tokens of the model's opening line.
const INTRO_MAX_TOKENS: usize = 40;

/// Longest seeker message the model sees, in bytes (the tools see all of it).
const MODEL_INPUT_BYTES: usize = 600;

/// Tokens kept free for the next seeker message when the dialogue's window is chosen
/// ([`model_messages`]): a message of [`MODEL_INPUT_BYTES`] English bytes is ≈ 150 tokens.
const NEXT_MESSAGE_TOKENS: usize = 200;

/// Turns dropped at a time from the start of a dialogue too long for the context
/// ([`model_messages`]): four exchanges.
const WINDOW_STEP: usize = 8;

/// Most tokens [`Agent::prefill_dialogue`] decodes between turns (≈ 1.2 s on 2 cores): a reply
/// whose shown text differs from what the model decoded is ≈ 100–150 tokens; more means the
/// window moved, and the next turn processes it instead (the front end stays responsive).
const PREFILL_MAX_TOKENS: usize = 256;

/// The conversational agent. Owns the dialogue state of one conversation.
pub struct Agent {
    catalog: Arc<Catalog>,
    ranker: Arc<CandidateRanker>,
    prompts: RecommendPrompts,
    model: Option<Box<dyn LanguageModel>>,
    state: DialogueState,
    config: AgentConfig,
    /// The whole catalog's title trie in the model's tokenizer (built or loaded on first use);
    /// `None` until then or when the model cannot tokenize.
    trie: Option<TitleTrie>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("catalog", &self.catalog)
            .field("model", &self.model.as_ref().map(|m| m.name().to_string()))
            .field("state", &self.state)
            .finish()
    }
}

/// Loads the catalog and the candidate ranker from `catalog_dir` (e.g. `catalogs/movies`): the
/// co-mention counts, and the trained collaborative model `recommender.bin` when present.
/// `weights: None` uses the tuned weights in `<catalog_dir>/ranker.yaml` (written by
/// `curator tune`), or the defaults when that file does not exist.
///
/// Errors: those of [`crate::data::verify_catalog`] (files that differ from `manifest.json`),
/// [`Catalog::load`], [`CoMentions::load`], [`crate::recommender::ItemModel::load`],
/// [`crate::recommender::ItemModel::check_covers`] and a malformed `ranker.yaml`.
pub fn load_ranker(catalog_dir: &Path, weights: Option<FusionWeights>) -> Result<(Arc<Catalog>, Arc<CandidateRanker>)> {
    let weights = match weights {
        Some(w) => w,
        None => {
            let path = catalog_dir.join("ranker.yaml");
            if path.exists() {
                crate::rank::tune::load_weights(&path)?.weights
            } else {
                FusionWeights::default()
            }
        }
    };
    crate::data::verify_catalog(catalog_dir)?;
    let catalog = Catalog::load(catalog_dir)?;
    let cf = CoMentions::load(&catalog_dir.join("comentions.tsv"), &catalog)?;
    let mut ranker = CandidateRanker::new(&catalog, cf, weights);
    // The trained collaborative model (`curator train recommender`), when there is one.
    if let Some(model) = crate::recommender::train::load_model(catalog_dir)? {
        model.check_covers(&catalog, &catalog_dir.join(crate::recommender::train::MODEL_FILE))?;
        ranker = ranker.with_model(model);
    }
    if let Some(tools) = load_knowledge(catalog_dir)? {
        ranker = ranker.with_knowledge(&catalog, tools);
    }
    Ok((Arc::new(catalog), Arc::new(ranker)))
}

/// The knowledge graph that goes with `catalog_dir` (`<root>/catalogs/movies` →
/// `<root>/knowledge/movies`), or `None` when that folder has no `nodes.tsv` (e.g. a test catalog).
///
/// Errors: a file that does not match `knowledge/movies/manifest.json` ([`crate::data::verify_outputs`]);
/// those of [`tools::KgTools::load`].
pub fn load_knowledge(catalog_dir: &Path) -> Result<Option<Arc<tools::KgTools>>> {
    let Some(root) = catalog_dir.parent().and_then(Path::parent) else { return Ok(None) };
    let dir = root.join("knowledge").join("movies");
    if !dir.join("nodes.tsv").exists() {
        return Ok(None);
    }
    crate::data::verify_outputs(&dir, "knowledge/movies/")?;
    Ok(Some(Arc::new(tools::KgTools::load(&dir)?)))
}

impl Agent {
    /// An agent over a loaded catalog and ranker. `model` may be `None` (replies then use the
    /// prompt's fallback opening; everything else is the same).
    pub fn new(
        catalog: Arc<Catalog>,
        ranker: Arc<CandidateRanker>,
        prompts: RecommendPrompts,
        model: Option<Box<dyn LanguageModel>>,
        config: AgentConfig,
    ) -> Self {
        Agent { catalog, ranker, prompts, model, state: DialogueState::new(), config, trie: None }
    }

    /// An agent over the project's committed data: the catalog and tuned ranker of
    /// [`crate::paths::catalog_dir`] and the prompts of [`crate::paths::prompts_dir`].
    ///
    /// Errors: those of [`load_ranker`] and [`RecommendPrompts::load`].
    pub fn from_project(model: Option<Box<dyn LanguageModel>>, config: AgentConfig) -> Result<Self> {
        let (catalog, ranker) = load_ranker(&crate::paths::catalog_dir(), config.weights)?;
        let prompts = RecommendPrompts::load(&crate::paths::prompts_dir())?;
        Ok(Agent::new(catalog, ranker, prompts, model, config))
    }

    /// The dialogue state so far.
    pub fn state(&self) -> &DialogueState {
        &self.state
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The knowledge-graph tools (`kg_lookup`, …), when the graph is loaded.
    pub fn knowledge(&self) -> Option<&Arc<crate::agent::tools::KgTools>> {
        self.ranker.knowledge()
    }

    /// The agent's settings.
    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    /// The model's name, if a model is loaded.
    pub fn model_name(&self) -> Option<&str> {
        self.model.as_deref().map(|m| m.name())
    }

    /// Starts a new conversation (`/reset`).
    pub fn reset(&mut self) {
        self.state.reset();
        if let Some(m) = self.model.as_mut() {
            m.reset_cache();
        }
    }

    /// Replaces the dialogue state (a stored session), returning the previous one. Clears the
    /// model's cache, which belonged to the previous conversation.
    pub fn replace_state(&mut self, state: DialogueState) -> DialogueState {
        if let Some(m) = self.model.as_mut() {
            m.reset_cache();
        }
        std::mem::replace(&mut self.state, state)
    }

    /// Saves the model's key/value cache (this conversation so far), for a front end that serves
    /// many conversations with one agent (the HTTP server): restore it with
    /// [`restore_model_cache`](Self::restore_model_cache) after [`replace_state`](Self::replace_state)
    /// so that the next turn prefills only its new tokens. `None` without a model or cache.
    pub fn save_model_cache(&mut self) -> Option<crate::llm::CacheSnapshot> {
        self.model.as_mut().and_then(|m| m.save_cache())
    }

    /// Restores a cache saved by [`save_model_cache`](Self::save_model_cache). Always safe: the
    /// model compares the snapshot's tokens with the next prompt and recomputes from the first
    /// difference (an edited or reset conversation simply reuses less). Returns whether the cache
    /// was restored.
    pub fn restore_model_cache(&mut self, snapshot: &crate::llm::CacheSnapshot) -> bool {
        self.model.as_mut().is_some_and(|m| m.restore_cache(snapshot))
    }

    /// Prefills the model's cache with the dialogue as the next turn's prompt will begin (system
    /// prompt, every turn so far, Curator's replies as shown), so that the next message prefills
    /// only its own tokens. Front ends call it after a reply is shown, while the seeker reads:
    /// the reply shown differs from what the model decoded wherever the agent replaced or added
    /// text (a replaced opening, reasons), and without this the next turn re-prefills the whole
    /// reply. Decodes at most 256 tokens (more are left to the next turn, so that a
    /// front end is never held up long). Returns the number of tokens decoded now (0 without a
    /// model, with a backend that keeps no cache, or when nothing or too much was missing).
    ///
    /// Errors: the model's (a dialogue longer than the context is cut as the next turn would
    /// cut it, so an overflow is not expected).
    pub fn prefill_dialogue(&mut self) -> Result<usize> {
        let Some(model) = self.model.as_deref_mut() else {
            return Ok(0);
        };
        if self.state.turns.is_empty() {
            return Ok(0);
        }
        let messages = model_messages(&*model, &self.prompts, &self.config, &self.state.turns, None);
        model.prefill_only(&messages, PREFILL_MAX_TOKENS)
    }

    /// The seeker likes or dislikes item `id` (feedback outside the text, e.g. a key or an API
    /// call); the next turn's ranking and reasons use it.
    ///
    /// Errors: [`Error::InvalidInput`] when `id` is not in the catalog.
    pub fn feedback(&mut self, id: ItemId, polarity: Polarity) -> Result<()> {
        if self.catalog.get(id).is_none() {
            return Err(Error::InvalidInput(format!("item {id} is not in the catalog")));
        }
        self.state.record_feedback(id, polarity);
        Ok(())
    }

    /// Answers one seeker message, sending events to `on_event` as they happen.
    ///
    /// Errors: [`Error::InvalidInput`] for an empty or oversize message (the state is left
    /// unchanged); ranking errors. A model failure is not an error: the reply falls back to the
    /// prompt's fixed opening and a warning is logged.
    pub fn respond(&mut self, text: &str, on_event: &mut dyn FnMut(AgentEvent)) -> Result<Vec<Recommendation>> {
        self.respond_cancellable(text, &AtomicBool::new(false), on_event)
    }

    /// [`Agent::respond`] that stops promptly once `cancel` becomes true (checked between model
    /// tokens and before each event). A cancelled turn returns [`Error::Cancelled`]; the seeker's
    /// message stays in the state, no recommendation is recorded.
    pub fn respond_cancellable(
        &mut self,
        text: &str,
        cancel: &AtomicBool,
        on_event: &mut dyn FnMut(AgentEvent),
    ) -> Result<Vec<Recommendation>> {
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
        let t0 = Instant::now();
        let history = self.state.turns.clone();
        self.state.observe_seeker_text(text, &self.catalog);
        if let Some(kt) = self.ranker.knowledge() {
            self.state.link_attributes(&kt.linker);
            // A title inside a person's name is the person ("with Keanu Reeves").
            self.state.forget_items_within(&kt.linker.person_spans(text), &self.catalog);
        }
        let constrained = self.model.as_deref().is_some_and(|m| m.supports_constrained());
        let k = if constrained {
            self.config.shortlist.max(self.config.recommendations)
        } else {
            self.config.recommendations
        };
        let ranked = self.ranker.rank(&self.state, &self.catalog, k)?;
        let recs: Vec<Recommendation> = ranked
            .iter()
            .filter_map(|c| {
                let item = self.catalog.get(c.id)?;
                Some(Recommendation {
                    id: c.id,
                    title: item.display_name(),
                    reason: reason_for(c, &self.state, &self.catalog),
                    score: c.score,
                })
            })
            .collect();
        let mut stats = TurnStats { tools_ms: t0.elapsed().as_secs_f64() * 1e3, ..TurnStats::default() };

        let mut reply = String::new();
        let emit = |piece: &str, reply: &mut String, on_event: &mut dyn FnMut(AgentEvent)| {
            reply.push_str(piece);
            on_event(AgentEvent::Text { text: piece.to_string() });
        };
        let shown: Vec<Recommendation> = if recs.is_empty() {
            emit(&self.prompts.no_results.clone(), &mut reply, on_event);
            Vec::new()
        } else if let Some(shown) =
            self.constrained_reply(&history, text, &recs, &mut stats, cancel, on_event, &mut reply)
        {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            on_event(AgentEvent::Recommendations { items: shown.clone() });
            shown
        } else {
            // No model, or one that cannot decode under a constraint: the model (if any) writes
            // the opening sentence, checked before it is shown, and the list comes from the ranker.
            let recs: Vec<Recommendation> = recs.into_iter().take(self.config.recommendations).collect();
            let intro = self.intro(text, &recs, &mut stats, cancel);
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            emit(&intro, &mut reply, on_event);
            on_event(AgentEvent::Recommendations { items: recs.clone() });
            for (i, r) in recs.iter().enumerate() {
                emit(&format!("\n{}. {} — {}", i + 1, r.title, r.reason), &mut reply, on_event);
            }
            emit(&format!("\n{}", self.prompts.closing), &mut reply, on_event);
            recs
        };
        self.state.observe_turn(
            Turn { role: Role::Recommender, text: reply, items: shown.iter().map(|r| r.id).collect() },
            &self.catalog,
        );
        on_event(AgentEvent::Done { stats });
        Ok(shown)
    }

    /// The reply written by the model under the catalog constraint, streamed to `on_event` as it
    /// is decoded: an opening line (shown once complete, if it looks free of titles; else the fixed
    /// opening), then `recommendations` numbered items whose titles are decoded over the trie of
    /// `shortlist`, each followed by its reason, then the closing line. Returns the items in the
    /// model's order, or `None` — with nothing emitted — when there is no constrained model or it
    /// fails before writing anything (the caller then writes the reply itself).
    #[allow(clippy::too_many_arguments)]
    fn constrained_reply(
        &mut self,
        history: &[Turn],
        user: &str,
        shortlist: &[Recommendation],
        stats: &mut TurnStats,
        cancel: &AtomicBool,
        on_event: &mut dyn FnMut(AgentEvent),
        reply: &mut String,
    ) -> Option<Vec<Recommendation>> {
        let model = self.model.as_deref_mut().filter(|m| m.supports_constrained())?;
        if self.trie.is_none() {
            let titles: Vec<(u32, String)> = self.catalog.items().iter().map(|i| (i.id, i.display_name())).collect();
            let dir = crate::paths::cache_dir().join("tries");
            match TitleTrie::for_model(&*model, &titles, TitleForm::LeadingSpace, &dir) {
                Ok(t) => self.trie = Some(t),
                Err(e) => {
                    tracing::warn!("cannot build the catalog trie; the list is written from the ranking: {e}");
                    return None;
                }
            }
        }
        let trie = self.trie.as_ref()?.restrict(&shortlist.iter().map(|r| r.id).collect::<Vec<_>>());
        let messages = model_messages(&*model, &self.prompts, &self.config, history, Some(user));
        let reasons: std::collections::HashMap<u32, String> =
            shortlist.iter().map(|r| (r.id, r.reason.clone())).collect();
        let spec = ListSpec {
            items: self.config.recommendations,
            intro_max_tokens: INTRO_MAX_TOKENS,
            closing: Some(self.prompts.closing.clone()),
            free_slots: false,
        };
        let mut constraint = ListConstraint::new(&trie, spec)
            .with_suffix(|k| reasons.get(&k).map(|r| format!(" — {r}")).unwrap_or_default());

        // The opening line is held back until it is complete and checked; everything after it is
        // passed on piece by piece.
        let liked: Vec<ItemId> = self.state.items_with(Polarity::Liked);
        let liked_words: Vec<String> = liked
            .iter()
            .filter_map(|id| self.catalog.get(*id))
            .flat_map(|it| it.title.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .collect();
        let catalog = &self.catalog;
        let fallback = self.prompts.fallback_intro.clone();
        let mut opening: Option<String> = Some(String::new());
        let mut used_model_text = false;
        let mut check_opening = |raw: &str| -> String {
            let line = raw.trim();
            let names_item = catalog.link_text(line).iter().any(|m| !liked.contains(&m.id));
            let shown = clean_intro(line);
            if line.is_empty() || names_item || looks_like_a_title(line, &liked_words) || refuses(&shown) {
                tracing::debug!("model opening replaced (empty, names or looks like a title, or refuses): {raw:?}");
                fallback.clone()
            } else {
                used_model_text = true;
                shown
            }
        };
        let out = |piece: &str, reply: &mut String, on_event: &mut dyn FnMut(AgentEvent)| {
            reply.push_str(piece);
            on_event(AgentEvent::Text { text: piece.to_string() });
        };
        let params = GenerationParams { max_tokens: self.config.reply_tokens(), ..self.config.generation.clone() };
        let result = model.generate_constrained(&messages, &params, &mut constraint, &mut |piece| {
            if cancel.load(Ordering::Relaxed) {
                return false;
            }
            match opening.as_mut() {
                Some(buf) => {
                    buf.push_str(piece);
                    if let Some(nl) = buf.find('\n') {
                        let (line, rest) = buf.split_at(nl);
                        let shown = check_opening(line);
                        let rest = rest.to_string();
                        opening = None;
                        out(&shown, reply, on_event);
                        out(&rest, reply, on_event);
                    }
                }
                None => out(piece, reply, on_event),
            }
            true
        });
        if let Some(buf) = opening.take() {
            if !buf.is_empty() || result.is_ok() {
                let shown = check_opening(&buf);
                out(&shown, reply, on_event);
            }
        }
        stats.model_text_used = used_model_text;
        match result {
            Ok(s) => stats.generation = Some(s),
            Err(e) => {
                tracing::warn!("constrained generation failed: {e}");
                if reply.is_empty() {
                    return None;
                }
            }
        }
        let items = constraint.into_items();
        let shown = items.iter().filter_map(|it| shortlist.iter().find(|r| r.id == it.key).cloned()).collect();
        stats.generated = items;
        Some(shown)
    }

    /// The opening sentence: the model's, when it loads, runs, and names no catalog item;
    /// otherwise the prompt's fallback.
    fn intro(&mut self, user: &str, recs: &[Recommendation], stats: &mut TurnStats, cancel: &AtomicBool) -> String {
        let fallback = self.prompts.fallback_intro.clone();
        let Some(model) = self.model.as_mut() else {
            return fallback;
        };
        let titles = |p: Polarity| -> String {
            self.state
                .items_with(p)
                .iter()
                .filter_map(|id| self.catalog.get(*id).map(|i| i.display_name()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut genres: Vec<&str> = Vec::new();
        for r in recs {
            for g in self.catalog.get(r.id).map(|i| i.genres.as_slice()).unwrap_or(&[]) {
                if !genres.contains(&g.as_str()) && genres.len() < 3 {
                    genres.push(g);
                }
            }
        }
        // The model sees at most the first 600 bytes of the message: the opening sentence needs no
        // more, and a long message must not overflow the model's context.
        let ctx = minijinja::context! {
            user => cut_at_char_boundary(user, 600),
            liked => titles(Polarity::Liked),
            disliked => titles(Polarity::Disliked),
            count => recs.len(),
            genres => if genres.is_empty() { "various genres".to_string() } else { genres.join(", ") },
        };
        let prompt = match self.prompts.render_intro(ctx) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("{e}");
                return fallback;
            }
        };
        let messages = [ChatMessage::system(self.prompts.system.trim()), ChatMessage::user(prompt)];
        let mut out = String::new();
        let result = model.generate(&messages, &self.config.generation, &mut |piece| {
            out.push_str(piece);
            !out.contains('\n') && !cancel.load(Ordering::Relaxed)
        });
        match result {
            Ok(s) => stats.generation = Some(s),
            Err(e) => {
                tracing::warn!("the model failed; using the fixed opening: {e}");
                return fallback;
            }
        }
        let sentence = clean_intro(&out);
        // The model must not name items: a catalog title in its sentence other than one the
        // seeker said they liked rejects it, so every item in the reply comes from the list (and
        // the model cannot praise a movie the seeker disliked).
        let allowed: Vec<ItemId> = self.state.items_with(Polarity::Liked);
        let names_item = self.catalog.link_text(&sentence).iter().any(|m| !allowed.contains(&m.id));
        // Titles outside the catalog cannot be linked, so the sentence must also look free of
        // any title: no quotes, no digits, and no capitalised word except at a sentence start,
        // "I…", or a word of a title the seeker liked ("Galactic Tacos 3" is refused).
        let liked_words: Vec<String> = allowed
            .iter()
            .filter_map(|id| self.catalog.get(*id))
            .flat_map(|it| it.title.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .collect();
        if names_item || looks_like_a_title(&sentence, &liked_words) {
            tracing::debug!("model sentence rejected (names or looks like a title): {sentence:?} from {out:?}");
            return fallback;
        }
        if sentence.is_empty() {
            tracing::debug!("model sentence rejected (empty or names an item): {sentence:?} from {out:?}");
            return fallback;
        }
        stats.model_text_used = true;
        sentence
    }
}

/// The model's messages for a turn: the system prompt, the dialogue so far (seeker turns through
/// the `intro` template, Curator's replies as shown) and the new message (`None`: the dialogue
/// alone, as [`Agent::prefill_dialogue`] caches it).
///
/// When the dialogue would leave fewer than [`AgentConfig::reply_tokens`] tokens of the context plus
/// [`NEXT_MESSAGE_TOKENS`] for a message, its oldest turns are dropped, [`WINDOW_STEP`] at a time
/// (cutting at a seeker turn). The window depends on the dialogue only, not on the new message,
/// so the dialogue prefilled after a turn and the next turn's prompt start at the same turn, and
/// the window stays the same until it is full again: its keys and values are reused. Only a
/// message longer than the reserve moves the window further.
fn model_messages(
    model: &dyn LanguageModel,
    prompts: &RecommendPrompts,
    config: &AgentConfig,
    history: &[Turn],
    user: Option<&str>,
) -> Vec<ChatMessage> {
    let render = |text: &str| {
        let text = cut_at_char_boundary(text, MODEL_INPUT_BYTES);
        prompts.render_intro(minijinja::context! { user => text }).unwrap_or_else(|_| text.to_string())
    };
    let budget = model.context_size().unwrap_or(usize::MAX).saturating_sub(config.reply_tokens() + 8);
    let build = |start: usize, user: Option<&str>| -> (Vec<ChatMessage>, usize) {
        let mut messages = vec![ChatMessage::system(prompts.system.trim())];
        for t in &history[start..] {
            messages.push(match t.role {
                Role::Seeker => ChatMessage::user(render(&t.text)),
                Role::Recommender => ChatMessage::assistant(t.text.clone()),
            });
        }
        if let Some(user) = user {
            messages.push(ChatMessage::user(render(user)));
        }
        let len = model.apply_chat_template(&messages).and_then(|p| model.token_ids(&p)).map(|t| t.len()).unwrap_or(0);
        (messages, len)
    };
    // Fixed cut points (every WINDOW_STEP turns), not a fraction of the history: as the dialogue
    // grows the chosen start stays put until the window is full, then jumps a whole step.
    let advance = |start: usize| -> usize {
        let mut next = (start / WINDOW_STEP + 1) * WINDOW_STEP;
        while next < history.len() && history[next].role != Role::Seeker {
            next += 1;
        }
        next
    };
    let mut start = 0;
    while start < history.len() && build(start, None).1 + NEXT_MESSAGE_TOKENS > budget {
        start = advance(start);
    }
    loop {
        let (messages, len) = build(start, user);
        if len <= budget || start >= history.len() {
            return messages;
        }
        start = advance(start);
    }
}

/// Phrases of a small model declining, apologising, hedging or answering another task ("I'm
/// not equipped to recommend movies.", "I'm not sure what to recommend", "Here's a revised
/// version of your text"), which would contradict the list that follows (lower case).
const REFUSALS: [&str; 22] = [
    "not equipped",
    "not able to",
    "unable to",
    "can't recommend",
    "cannot recommend",
    "can't help",
    "cannot help",
    "can't provide",
    "cannot provide",
    "as an ai",
    "language model",
    "sorry",
    "apologi",
    "not sure",
    "don't know",
    "do not know",
    "unfortunately",
    "something else",
    "your text",
    "revised version",
    "i don't have",
    "i do not have",
];

/// True when the opening `sentence` declines, apologises or hedges ([`REFUSALS`]): the list
/// below it would contradict it.
fn refuses(sentence: &str) -> bool {
    let lower = sentence.to_lowercase().replace('’', "'");
    REFUSALS.iter().any(|p| lower.contains(p))
}

/// True when `sentence` has quotes, digits, or a capitalised word that is not at a sentence start,
/// not "I" or one of its contractions, and not in `allowed_words` (words of titles the seeker
/// liked): the marks of a title the catalog may not have.
fn looks_like_a_title(sentence: &str, allowed_words: &[String]) -> bool {
    if sentence.chars().any(|c| c.is_ascii_digit() || matches!(c, '"' | '“' | '”' | '«' | '»')) {
        return true;
    }
    // Not prose: a replacement character (a cut multi-byte character) or mostly symbols/emoji.
    let letters = sentence.chars().filter(|c| c.is_alphabetic() || c.is_whitespace()).count();
    if sentence.contains('\u{FFFD}') || letters * 10 < sentence.chars().count() * 8 {
        return true;
    }
    let mut sentence_start = true;
    for word in sentence.split_whitespace() {
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
        let capital = bare.chars().next().is_some_and(char::is_uppercase);
        let is_i = bare == "I" || bare.starts_with("I'") || bare.starts_with("I’");
        if capital
            && !sentence_start
            && !is_i
            && !allowed_words.iter().any(|w| w.trim_matches(|c: char| !c.is_alphanumeric()) == bare)
        {
            return true;
        }
        sentence_start = word.ends_with(['.', '!', '?']);
    }
    false
}

/// The opening the model wrote, reduced to its first sentence (two when the first is shorter
/// than 40 bytes) of its first non-empty line, quotes removed; an unfinished sentence gets "…".
fn clean_intro(raw: &str) -> String {
    let line = raw.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let line = line.trim_matches(|c| c == '"' || c == '“' || c == '”').trim();
    if line.is_empty() {
        return String::new();
    }
    let ends: Vec<usize> = line
        .char_indices()
        .filter(|&(i, c)| {
            matches!(c, '.' | '!' | '?') && line[i + c.len_utf8()..].chars().next().is_none_or(char::is_whitespace)
        })
        .map(|(i, c)| i + c.len_utf8())
        .collect();
    match ends.as_slice() {
        [] if line.ends_with('…') => line.to_string(),
        [] => format!("{line}…"),
        [first, rest @ ..] => {
            let second = rest.first().copied().filter(|_| *first < 40);
            // A second sentence that repeats the first ("I'm glad. I'm glad.") is dropped.
            let end = match second {
                Some(end) if line[*first..end].trim() != line[..*first].trim() => end,
                _ => *first,
            };
            line[..end].to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{clean_intro, looks_like_a_title, model_messages, refuses, AgentConfig, NEXT_MESSAGE_TOKENS};
    use crate::agent::prompts::RecommendPrompts;
    use crate::dialogue::{Role, Turn};
    use crate::llm::{ChatMessage, GenerationParams, GenerationStats, LanguageModel};

    /// A model whose template joins the messages and whose tokens are words, with a 1000-token
    /// context: enough to exercise the dialogue window.
    struct Words;

    impl LanguageModel for Words {
        fn name(&self) -> &str {
            "words"
        }
        fn apply_chat_template(&self, messages: &[ChatMessage]) -> crate::Result<String> {
            Ok(messages.iter().map(|m| m.content.as_str()).collect::<Vec<_>>().join(" "))
        }
        fn generate(
            &mut self,
            _: &[ChatMessage],
            _: &GenerationParams,
            _: &mut dyn FnMut(&str) -> bool,
        ) -> crate::Result<GenerationStats> {
            Err(crate::Error::Model("not used".into()))
        }
        fn context_size(&self) -> Option<usize> {
            Some(1000)
        }
        fn token_ids(&self, text: &str) -> crate::Result<Vec<i32>> {
            Ok(text.split_whitespace().map(|_| 0).collect())
        }
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn the_dialogue_window_does_not_depend_on_the_new_message() {
        let prompts = RecommendPrompts::load(&crate::paths::prompts_dir()).unwrap();
        let config = AgentConfig::default();
        let budget = 1000 - config.generation.max_tokens - 8;
        let mut history = Vec::new();
        let mut moved = 0;
        let mut last_first = String::new();
        for n in 0..40 {
            let seeker = format!("turn {n}: I liked a movie with many words in this message");
            let reply = format!("reply {n}: here are three movies with their reasons and a closing line");
            let alone = model_messages(&Words, &prompts, &config, &history, None);
            let next = model_messages(&Words, &prompts, &config, &history, Some(&seeker));
            // The prompt of the next turn is the prefilled dialogue plus the new message.
            assert_eq!(next.len(), alone.len() + 1, "turn {n}");
            assert_eq!(next[..alone.len()], alone[..], "turn {n}");
            let len = Words.token_ids(&Words.apply_chat_template(&next).unwrap()).unwrap().len();
            assert!(len <= budget, "turn {n}: {len} tokens > {budget}");
            let first = alone.get(1).map(|m| m.content.clone()).unwrap_or_default();
            if first != last_first {
                moved += 1;
                last_first = first;
            }
            history.push(Turn { role: Role::Seeker, text: seeker, items: Vec::new() });
            history.push(Turn { role: Role::Recommender, text: reply, items: Vec::new() });
        }
        // The window moves now and then (by halves), not every turn.
        assert!((2..=12).contains(&moved), "the window moved {moved} times in 40 turns");
        let long = "word ".repeat(NEXT_MESSAGE_TOKENS * 2);
        let fitted = model_messages(&Words, &prompts, &config, &history, Some(&long));
        let len = Words.token_ids(&Words.apply_chat_template(&fitted).unwrap()).unwrap().len();
        assert!(len <= budget, "a message longer than the reserve still fits: {len}");
    }

    #[test]
    fn sentences_that_look_like_titles_are_caught() {
        let liked = vec!["Heat".to_string(), "Collateral".to_string()];
        assert!(!looks_like_a_title("I'm glad you enjoyed Heat and Collateral.", &liked));
        assert!(looks_like_a_title("The 2031 movie Galactic Tacos 3 is a must-see.", &liked));
        assert!(looks_like_a_title("You might like Inception.", &liked));
        assert!(looks_like_a_title("Try \"something\" new.", &liked));
        assert!(!looks_like_a_title("Great picks! You'll like these.", &liked));
        assert!(looks_like_a_title("🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥\u{FFFD}", &liked));
        assert!(looks_like_a_title("Great picks \u{FFFD}", &liked));
    }

    #[test]
    fn openings_that_decline_or_apologise_are_caught() {
        assert!(refuses("I'm not equipped to recommend movies."));
        assert!(refuses("I’m sorry, but I can’t recommend anything."));
        assert!(refuses("As an AI language model, I have no taste."));
        assert!(!refuses("Great picks! You'll like these."));
        assert!(!refuses("If you want something darker, try these."));
        // Found by a newcomer: hedges and another task's answer.
        assert!(refuses("I'm not sure what to recommend, but I'd recommend something else."));
        assert!(refuses("Sorry, here is a list."));
        assert!(refuses("Here's a revised version of your text with a focus on comedy:"));
        assert!(refuses("Unfortunately I don't know that one."));
    }

    #[test]
    fn intro_is_cut_to_complete_sentences() {
        assert_eq!(clean_intro("Great taste! You will love these. And then"), "Great taste! You will love these.");
        assert_eq!(
            clean_intro("I'm glad you enjoyed Heat and Collateral. You might enjoy The Dark Knight."),
            "I'm glad you enjoyed Heat and Collateral."
        );
        assert_eq!(clean_intro("\n\"Here you go!\"\nmore"), "Here you go!");
        assert_eq!(clean_intro("Movies like Ocean's 11 are fun"), "Movies like Ocean's 11 are fun…");
        assert_eq!(clean_intro("…"), "…", "an ellipsis is not doubled (the model's cache must match)");
        assert_eq!(clean_intro("Sure! Here you go. More."), "Sure! Here you go.");
        assert_eq!(clean_intro(""), "");
        assert_eq!(
            clean_intro("I'm glad to hear that. I'm glad to hear that. I'm glad to hear that."),
            "I'm glad to hear that."
        );
    }
}

/// The agent's candidate ranker without the LLM, as an evaluation [`crate::eval::Ranker`]: the
/// context turns are replayed into a fresh [`DialogueState`] (items from the turns, polarity read
/// from their text), then [`CandidateRanker::rank`] orders the catalog.
#[derive(Debug, Clone)]
pub struct ToolRanker {
    catalog: Arc<Catalog>,
    ranker: Arc<CandidateRanker>,
}

impl ToolRanker {
    /// Wraps a loaded catalog and ranker.
    pub fn new(catalog: Arc<Catalog>, ranker: Arc<CandidateRanker>) -> Self {
        ToolRanker { catalog, ranker }
    }

    /// The dialogue state the agent would hold after `context`.
    pub fn state_for(&self, context: &[Turn]) -> DialogueState {
        let mut state = DialogueState::new();
        for t in context {
            state.observe_turn(t.clone(), &self.catalog);
            if let Some(kt) = self.ranker.knowledge() {
                state.link_attributes(&kt.linker);
            }
        }
        state
    }
}

impl crate::eval::Ranker for ToolRanker {
    fn name(&self) -> String {
        "agent-tools".to_string()
    }

    fn rank(&self, context: &[Turn], k: usize) -> Vec<ItemId> {
        let state = self.state_for(context);
        match self.ranker.rank(&state, &self.catalog, k) {
            Ok(c) => c.into_iter().map(|c| c.id).collect(),
            Err(e) => {
                tracing::warn!("ranking failed: {e}");
                Vec::new()
            }
        }
    }
}
