//! The shared engine: assets, prompts, the model and its title trie; answers one turn of a
//! [`Conversation`] (module doc of [`crate::agent`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::conversation::Conversation;
use super::limits::{FinishReason, StopFilter, TurnOptions};
use super::opening::{accept_opening, is_vague, lead, noted, OpeningPlan};
use super::window::model_messages;
use super::{check_message, AgentConfig, AgentEvent, RecommendPrompts, Recommendation, TurnStats, INTRO_MAX_TOKENS};
use crate::assets::Assets;
use crate::catalog::{Catalog, ItemId};
use crate::dialogue::{DialogueState, Polarity, Role, Utterance};
use crate::knowledge::tools::KgTools;
use crate::llm::{
    CacheSnapshot, ChatMessage, GenerationParams, LanguageModel, ListConstraint, ListSpec, StopReason, TitleForm,
    TitleTrie,
};
use crate::{Error, Result};

/// Most tokens [`Engine::prefill`] decodes between turns (≈ 1.2 s on 2 cores): a reply whose
/// shown text differs from what the model decoded is ≈ 100–150 tokens; more means the window
/// moved, and the next turn processes it instead (the front end stays responsive).
const PREFILL_MAX_TOKENS: usize = 256;

/// What every conversation shares: the assets (catalog, tracker, ranker, knowledge graph), the
/// prompts, the model and the catalog's title trie in its tokenizer.
pub struct Engine {
    assets: Assets,
    prompts: RecommendPrompts,
    model: Option<Box<dyn LanguageModel>>,
    config: AgentConfig,
    /// The whole catalog's title trie in the model's tokenizer (built or loaded on first use);
    /// `None` until then or when the model cannot tokenize.
    trie: Option<TitleTrie>,
    /// The conversation whose keys and values the model's cache holds.
    live: Option<u64>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("catalog", &self.assets.catalog)
            .field("model", &self.model.as_ref().map(|m| m.name().to_string()))
            .field("config", &self.config)
            .finish()
    }
}

impl Engine {
    /// An engine over loaded assets. `model` may be `None` (replies then use the prompt's
    /// fallback opening; everything else is the same).
    pub fn new(
        assets: Assets,
        prompts: RecommendPrompts,
        model: Option<Box<dyn LanguageModel>>,
        config: AgentConfig,
    ) -> Self {
        // The prompts in the catalog's words ("board games", not "movies"). `RecommendPrompts::load`
        // checked that they render, so a failure here keeps the text as written, with a warning.
        let prompts = match prompts.for_catalog(assets.catalog.config()) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("{e}; using the prompts as written");
                prompts
            }
        };
        Engine { assets, prompts, model, config, trie: None, live: None }
    }

    /// An engine over the project's committed data: the assets of [`crate::paths::catalog_dir`]
    /// (with `config.weights`, else the catalog's `ranker.yaml`) and the prompts of
    /// [`crate::paths::prompts_dir`].
    ///
    /// Errors: those of [`Assets::load`] and [`RecommendPrompts::load`].
    pub fn from_project(model: Option<Box<dyn LanguageModel>>, config: AgentConfig) -> Result<Self> {
        let assets = Assets::from_project(config.weights)?;
        let prompts = RecommendPrompts::load(&crate::paths::prompts_dir())?;
        Ok(Engine::new(assets, prompts, model, config))
    }

    /// The assets (catalog, tracker, ranker, graph).
    pub fn assets(&self) -> &Assets {
        &self.assets
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.assets.catalog
    }

    /// The knowledge-graph tools, when the graph is loaded.
    pub fn knowledge(&self) -> Option<&Arc<KgTools>> {
        self.assets.knowledge.as_ref()
    }

    /// The engine's settings.
    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    /// The model's name, if a model is loaded.
    pub fn model_name(&self) -> Option<&str> {
        self.model.as_deref().map(|m| m.name())
    }

    /// Takes the model out of this engine (a server with several catalogs moves its one model to
    /// the engine of the catalog a turn is for); the engine then answers without a model.
    pub fn take_model(&mut self) -> Option<Box<dyn LanguageModel>> {
        self.live = None;
        self.model.take()
    }

    /// Puts `model` (from [`Engine::take_model`] of an engine over another catalog) in this
    /// engine, its cache emptied. The title trie is this engine's own (its catalog's titles).
    pub fn set_model(&mut self, mut model: Option<Box<dyn LanguageModel>>) {
        if let Some(m) = model.as_mut() {
            m.reset_cache();
        }
        self.model = model;
        self.live = None;
    }

    /// Makes the model's cache `conversation`'s: when another conversation (or none) used the
    /// model last, its cache is dropped and the conversation's saved cache (if any) restored.
    fn switch_to(&mut self, conversation: &mut Conversation) {
        if self.live == Some(conversation.id) {
            return;
        }
        if let Some(m) = self.model.as_mut() {
            m.reset_cache();
            if let Some(snapshot) = conversation.cache.take() {
                m.restore_cache(&snapshot);
            }
        }
        self.live = Some(conversation.id);
    }

    /// Saves the model's key/value cache when it holds `conversation`'s dialogue, for a front
    /// end that serves many conversations with one engine (the HTTP server keeps it and puts it
    /// back in [`Conversation::cache`] before the conversation's next turn, so that turn prefills
    /// only its new tokens). `None` without a model or cache, or when the model holds another
    /// conversation.
    pub fn save_cache(&mut self, conversation: &Conversation) -> Option<CacheSnapshot> {
        if self.live != Some(conversation.id) {
            return None;
        }
        self.model.as_mut().and_then(|m| m.save_cache())
    }

    /// Restores `snapshot` as `conversation`'s cache now. Always safe: the model compares the
    /// snapshot's tokens with the next prompt and recomputes from the first difference. Returns
    /// whether a model took it.
    pub fn restore_cache(&mut self, conversation: &Conversation, snapshot: &CacheSnapshot) -> bool {
        let Some(m) = self.model.as_mut() else { return false };
        m.reset_cache();
        self.live = Some(conversation.id);
        m.restore_cache(snapshot)
    }

    /// Prefills the model's cache with `conversation`'s dialogue as the next turn's prompt will
    /// begin (system prompt, every turn so far, Curator's replies as shown), so that the next
    /// message prefills only its own tokens. Front ends call it after a reply is shown, while the
    /// seeker reads: the reply shown differs from what the model decoded wherever the agent
    /// replaced or added text (a replaced opening, reasons). Decodes at most 256 tokens (more
    /// are left to the next turn). Returns the number of tokens decoded now (0 without a model,
    /// with a backend that keeps no cache, or when nothing or too much was missing).
    ///
    /// Errors: the model's (a dialogue longer than the context is cut as the next turn would
    /// cut it, so an overflow is not expected).
    pub fn prefill(&mut self, conversation: &mut Conversation) -> Result<usize> {
        if self.model.is_none() || conversation.state.turns.is_empty() {
            return Ok(0);
        }
        self.switch_to(conversation);
        let Some(model) = self.model.as_deref_mut() else { return Ok(0) };
        let messages = model_messages(&*model, &self.prompts, &self.config, &conversation.state.turns, None);
        model.prefill_only(&messages, PREFILL_MAX_TOKENS)
    }

    /// The seeker likes or dislikes item `id` (a button or an API call, not text); the next
    /// turn's ranking and reasons use it ([`crate::dialogue::Tracker::feedback`]).
    ///
    /// Errors: [`Error::InvalidInput`] when `id` is not in the catalog.
    pub fn feedback(&mut self, conversation: &mut Conversation, id: ItemId, polarity: Polarity) -> Result<()> {
        self.assets.tracker.feedback(&mut conversation.state, id, polarity)
    }

    /// The recommendations the ranker gives for `state`, best first, at most `k`, each with its
    /// grounded reason (no model involved).
    ///
    /// Errors: ranking errors.
    pub fn recommend(&self, state: &DialogueState, k: usize) -> Result<Vec<Recommendation>> {
        super::recommend(&self.assets, state, k)
    }

    /// Answers one seeker message of `conversation`, sending events to `on_event` as they
    /// happen, and stops promptly once `cancel` becomes true (checked between model tokens and
    /// before each event).
    ///
    /// The message goes through the tracker, the ranker orders the candidates, the model (when
    /// there is one) writes the reply with the list's titles decoded under the shortlist's trie;
    /// the reply enters the state as a recommender turn with the items shown.
    ///
    /// Errors: [`Error::InvalidInput`] for an empty or oversize message or one with a control
    /// character ([`check_message`]; the state is left unchanged); [`Error::Cancelled`] for a
    /// cancelled turn (the seeker's message stays in the state, no recommendation is
    /// recorded); ranking errors. A model failure is not an error: the reply falls back to the
    /// prompt's fixed opening and a warning is logged.
    pub fn respond(
        &mut self,
        conversation: &mut Conversation,
        text: &str,
        cancel: &AtomicBool,
        on_event: &mut dyn FnMut(AgentEvent),
    ) -> Result<Vec<Recommendation>> {
        self.respond_with(conversation, text, &TurnOptions::default(), cancel, on_event)
    }

    /// [`Engine::respond`] under a client's per-turn `options`: sampling, a bound on the reply's
    /// tokens, stop sequences ([`TurnOptions`]). The reply stored in the state and the items
    /// recorded as recommended are those shown: a reply cut by `max_tokens` or a stop sequence
    /// lists only the items before the cut. [`TurnStats::finish`] says why the reply ended.
    ///
    /// Errors: those of [`Engine::respond`].
    pub fn respond_with(
        &mut self,
        conversation: &mut Conversation,
        text: &str,
        options: &TurnOptions,
        cancel: &AtomicBool,
        on_event: &mut dyn FnMut(AgentEvent),
    ) -> Result<Vec<Recommendation>> {
        let text = check_message(text)?;
        self.switch_to(conversation);
        let t0 = Instant::now();
        let history = conversation.state.turns.clone();
        let observed = self.assets.tracker.observe(&mut conversation.state, Utterance::said(Role::Seeker, text));
        // The opening says what the turn changed and what the list rests on, asks after a vague
        // message, and never repeats the last one.
        let opening = {
            let state = &conversation.state;
            let catalog = &self.assets.catalog;
            let previous = history
                .iter()
                .rev()
                .find(|t| t.role == Role::Recommender)
                .and_then(|t| t.text.lines().next())
                .map(|l| l.trim().to_string());
            let question = is_vague(state).then(|| self.prompts.question.clone());
            let lines = [self.prompts.fallback_intro.as_str(), self.prompts.alternate_intro.as_str()];
            let model_writes = self.config.model_opening && self.model.is_some();
            let noted = noted(&observed, state, catalog, &catalog.missing_titles(text));
            let lead = lead(state, catalog, noted.as_deref());
            OpeningPlan::new(noted, lead, question, lines, previous, model_writes)
        };
        let constrained = self.model.as_deref().is_some_and(|m| m.supports_constrained());
        let k = if constrained {
            self.config.shortlist.max(self.config.recommendations)
        } else {
            self.config.recommendations
        };
        let recs = self.recommend(&conversation.state, k)?;
        let mut stats = TurnStats { tools_ms: t0.elapsed().as_secs_f64() * 1e3, ..TurnStats::default() };

        // Every piece of text goes through the stop filter: what it passes is what the client sees
        // and what the state keeps. With stop sequences the list of items waits for the cut.
        let halt = Halt { cancel, stopped: AtomicBool::new(false) };
        let mut filter = StopFilter::new(&options.stop);
        let mut shown_text = String::new();
        let mut held: Option<Vec<Recommendation>> = None;
        let mut filtered = |ev: AgentEvent| match ev {
            AgentEvent::Text { text } => {
                let piece = filter.push(&text);
                if filter.hit() {
                    halt.stopped.store(true, Ordering::Relaxed);
                }
                if !piece.is_empty() {
                    shown_text.push_str(&piece);
                    on_event(AgentEvent::Text { text: piece });
                }
            }
            AgentEvent::Recommendations { items } if !options.stop.is_empty() => held = Some(items),
            other => on_event(other),
        };
        let sink: &mut dyn FnMut(AgentEvent) = &mut filtered;
        let mut reply = String::new();
        let emit = |piece: &str, reply: &mut String, on_event: &mut dyn FnMut(AgentEvent)| {
            reply.push_str(piece);
            on_event(AgentEvent::Text { text: piece.to_string() });
        };
        let state = &conversation.state;
        let shown: Vec<Recommendation> = if recs.is_empty() {
            emit(&self.prompts.no_results.clone(), &mut reply, sink);
            Vec::new()
        } else if let Some(shown) =
            self.constrained_reply(state, &opening, &history, text, &recs, options, &mut stats, &halt, sink, &mut reply)
        {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            sink(AgentEvent::Recommendations { items: shown.clone() });
            shown
        } else {
            // No model, or one that cannot decode under a constraint: the model (if any) writes
            // the opening sentence, checked before it is shown, and the list comes from the ranker.
            let recs: Vec<Recommendation> = recs.into_iter().take(self.config.recommendations).collect();
            let intro = self.intro(state, &opening, text, &recs, options, &mut stats, &halt);
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            emit(&intro, &mut reply, sink);
            sink(AgentEvent::Recommendations { items: recs.clone() });
            self.write_list(&recs, &mut reply, sink);
            recs
        };
        let rest = filter.finish();
        if !rest.is_empty() {
            shown_text.push_str(&rest);
            on_event(AgentEvent::Text { text: rest });
        }
        if filter.hit() {
            stats.finish = FinishReason::StopSequence;
        } else if stats.generation.as_ref().is_some_and(|g| g.stop_reason == StopReason::MaxTokens) {
            stats.finish = FinishReason::MaxTokens;
        }
        // A reply cut short lists only the items whose titles it shows.
        let shown: Vec<Recommendation> = if stats.finish == FinishReason::Complete {
            shown
        } else {
            shown.into_iter().filter(|r| shown_text.contains(&r.title)).collect()
        };
        if held.is_some() {
            on_event(AgentEvent::Recommendations { items: shown.clone() });
        }
        let items = shown.iter().map(|r| r.id).collect();
        let turn = Utterance { role: Role::Recommender, text: shown_text, items: Some(items) };
        self.assets.tracker.observe(&mut conversation.state, turn);
        on_event(AgentEvent::Done { stats });
        Ok(shown)
    }

    /// The reply written by the model under the catalog constraint, streamed to `on_event` as it
    /// is decoded: an opening line (shown once complete, if [`accept_opening`] takes it; else the
    /// fixed opening), then `recommendations` numbered items whose titles are decoded over the
    /// trie of `shortlist`, each followed by its reason, then the closing line. Returns the items
    /// in the model's order, or `None` — with nothing emitted — when there is no constrained
    /// model or it fails before writing anything (the caller then writes the reply itself).
    #[allow(clippy::too_many_arguments)]
    fn constrained_reply(
        &mut self,
        state: &DialogueState,
        opening_rules: &OpeningPlan,
        history: &[crate::dialogue::Turn],
        user: &str,
        shortlist: &[Recommendation],
        options: &TurnOptions,
        stats: &mut TurnStats,
        halt: &Halt<'_>,
        on_event: &mut dyn FnMut(AgentEvent),
        reply: &mut String,
    ) -> Option<Vec<Recommendation>> {
        let model = self.model.as_deref_mut().filter(|m| m.supports_constrained())?;
        let catalog = &self.assets.catalog;
        if self.trie.is_none() {
            let titles: Vec<(u32, String)> = catalog.items().iter().map(|i| (i.id, i.display_name())).collect();
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
        // A fixed opening is shown (the model writes none, and does not read it before choosing
        // titles); otherwise the model gets free tokens for one.
        let fixed = opening_rules.fixed.clone();
        let spec = ListSpec {
            items: self.config.recommendations,
            intro_max_tokens: if fixed.is_some() { 0 } else { INTRO_MAX_TOKENS },
            closing: Some(self.prompts.closing.clone()),
            free_slots: false,
        };
        let mut constraint = ListConstraint::new(&trie, spec)
            .with_opening(fixed.as_deref().unwrap_or(""))
            .with_suffix(|k| reasons.get(&k).map(|r| format!(" — {r}")).unwrap_or_default());

        // The model's opening line is held back until it is complete and checked; everything
        // after it (and a fixed opening) is passed on piece by piece.
        let tracker = &self.assets.tracker;
        let mut opening: Option<String> = fixed.is_none().then(String::new);
        let mut used_model_text = false;
        let mut check_opening = |raw: &str| -> String {
            let (shown, model) = opening_rules.choose(accept_opening(raw, state, tracker));
            used_model_text = model;
            shown
        };
        let out = |piece: &str, reply: &mut String, on_event: &mut dyn FnMut(AgentEvent)| {
            reply.push_str(piece);
            on_event(AgentEvent::Text { text: piece.to_string() });
        };
        let sampling = options.sampling.as_ref().unwrap_or(&self.config.generation);
        let max_tokens = options.max_tokens.unwrap_or_else(|| self.config.reply_tokens());
        let params = GenerationParams { max_tokens, ..sampling.clone() };
        let result = model.generate_constrained(&messages, &params, &mut constraint, &mut |piece| {
            if halt.now() {
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
            let cut = result.as_ref().is_ok_and(|s| s.stop_reason == StopReason::MaxTokens);
            if cut {
                // Cut inside the opening line by `max_tokens`: the model's words as far as they
                // went, if the check takes them; nothing (rather than the longer fixed line) if not.
                if accept_opening(&buf, state, tracker).is_some() {
                    used_model_text = true;
                    out(&buf, reply, on_event);
                }
            } else if !buf.is_empty() || result.is_ok() {
                let shown = check_opening(&buf);
                out(&shown, reply, on_event);
            }
        }
        stats.model_text_used = used_model_text;
        let items = constraint.into_items();
        match result {
            Ok(s) => stats.generation = Some(s),
            Err(e) => {
                tracing::warn!("constrained generation failed: {e}");
                if reply.is_empty() {
                    return None;
                }
                // Failed after the opening was shown (the prompt is read once the model is
                // needed) and before any title: the list comes from the ranking.
                if items.is_empty() {
                    let recs: Vec<Recommendation> =
                        shortlist.iter().take(self.config.recommendations).cloned().collect();
                    self.write_list(&recs, reply, on_event);
                    return Some(recs);
                }
            }
        }
        let shown = items.iter().filter_map(|it| shortlist.iter().find(|r| r.id == it.key).cloned()).collect();
        stats.generated = items;
        Some(shown)
    }

    /// Emits `recs` as the reply's numbered list, each with its reason, then the closing line
    /// as text events, appending the text to `reply`.
    fn write_list(&self, recs: &[Recommendation], reply: &mut String, on_event: &mut dyn FnMut(AgentEvent)) {
        let mut out = |text: String| {
            reply.push_str(&text);
            on_event(AgentEvent::Text { text });
        };
        for (i, r) in recs.iter().enumerate() {
            out(format!("\n{}. {} — {}", i + 1, r.title, r.reason));
        }
        out(format!("\n{}", self.prompts.closing));
    }

    /// The opening sentence: the model's, when it loads, runs, and [`accept_opening`] takes it;
    /// otherwise the prompt's fallback.
    #[allow(clippy::too_many_arguments)]
    fn intro(
        &mut self,
        state: &DialogueState,
        rules: &OpeningPlan,
        user: &str,
        recs: &[Recommendation],
        options: &TurnOptions,
        stats: &mut TurnStats,
        halt: &Halt<'_>,
    ) -> String {
        let choose = |model: Option<String>| rules.choose(model);
        let catalog = &self.assets.catalog;
        let Some(model) = self.model.as_mut().filter(|_| rules.fixed.is_none()) else {
            return choose(None).0;
        };
        let titles = |p: Polarity| -> String {
            state
                .items_with(p)
                .iter()
                .filter_map(|id| catalog.get(*id).map(|i| i.display_name()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut genres: Vec<&str> = Vec::new();
        for r in recs {
            for g in catalog.get(r.id).map(|i| i.genres.as_slice()).unwrap_or(&[]) {
                if !genres.contains(&g.as_str()) && genres.len() < 3 {
                    genres.push(g);
                }
            }
        }
        // The model sees at most the first 600 bytes of the message: the opening sentence needs no
        // more, and a long message must not overflow the model's context.
        let ctx = minijinja::context! {
            user => crate::util::cut_at_char_boundary(user, 600),
            liked => titles(Polarity::Liked),
            disliked => titles(Polarity::Disliked),
            count => recs.len(),
            genres => if genres.is_empty() { "various genres".to_string() } else { genres.join(", ") },
        };
        let prompt = match self.prompts.render_intro(ctx) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("{e}");
                return choose(None).0;
            }
        };
        let messages = [ChatMessage::system(self.prompts.system.trim()), ChatMessage::user(prompt)];
        let mut out = String::new();
        let sampling = options.sampling.as_ref().unwrap_or(&self.config.generation);
        let max_tokens = options.max_tokens.map_or(sampling.max_tokens, |m| m.min(sampling.max_tokens));
        let params = GenerationParams { max_tokens, ..sampling.clone() };
        let result = model.generate(&messages, &params, &mut |piece| {
            out.push_str(piece);
            !out.contains('\n') && !halt.now()
        });
        match result {
            Ok(s) => stats.generation = Some(s),
            Err(e) => {
                tracing::warn!("the model failed; using the fixed opening: {e}");
                return choose(None).0;
            }
        }
        // The model must not name items: a catalog title in its sentence other than one the
        // seeker said they liked rejects it, so every item in the reply comes from the list (and
        // the model cannot praise a movie the seeker disliked).
        let (line, used) = choose(accept_opening(&out, state, &self.assets.tracker));
        stats.model_text_used = used;
        line
    }
}

/// When a turn's generation must stop: the caller cancelled it, or a stop sequence ended the reply.
struct Halt<'a> {
    cancel: &'a AtomicBool,
    stopped: AtomicBool,
}

impl Halt<'_> {
    fn now(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || self.stopped.load(Ordering::Relaxed)
    }
}
