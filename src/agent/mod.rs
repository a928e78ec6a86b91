//! The agent: explicit dialogue state, tools (catalog linking and search, the candidate
//! ranker), prompts from `prompts/`, and the reply loop.
//!
//! One turn: link the seeker's text to catalog items → update the state → rank candidates
//! (items already mentioned or recommended are excluded) → build one grounded reason per item
//! from catalog metadata and co-mention counts → the LLM writes a short opening sentence →
//! the recommended titles are inserted from the ranked list, so every item named is a catalog
//! item. Every front end consumes the same [`AgentEvent`] stream.

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
use crate::llm::{ChatMessage, GenerationParams, GenerationStats, LanguageModel};
use crate::rank::{CandidateRanker, FusionWeights};
use crate::recommender::CoMentions;
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
    /// Sampling of the opening sentence (default: greedy, at most 48 tokens).
    pub generation: GenerationParams,
    /// Fusion weights of the candidate ranker; `None`: the tuned `ranker.yaml` of the catalog.
    pub weights: Option<FusionWeights>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            recommendations: 3,
            generation: GenerationParams { max_tokens: 48, ..GenerationParams::default() },
            weights: None,
        }
    }
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
    /// The model's statistics for the opening sentence, when a model ran.
    pub generation: Option<GenerationStats>,
    /// Whether the model's sentence was used (false: no model, or it named an item).
    pub model_text_used: bool,
}

/// The conversational agent. Owns the dialogue state of one conversation.
pub struct Agent {
    catalog: Arc<Catalog>,
    ranker: Arc<CandidateRanker>,
    prompts: RecommendPrompts,
    model: Option<Box<dyn LanguageModel>>,
    state: DialogueState,
    config: AgentConfig,
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
/// [`Catalog::load`], [`CoMentions::load`], [`crate::recommender::ItemModel::load`] and a
/// malformed `ranker.yaml`.
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
/// Errors: those of [`tools::KgTools::load`].
pub fn load_knowledge(catalog_dir: &Path) -> Result<Option<Arc<tools::KgTools>>> {
    let Some(root) = catalog_dir.parent().and_then(Path::parent) else { return Ok(None) };
    let dir = root.join("knowledge").join("movies");
    if !dir.join("nodes.tsv").exists() {
        return Ok(None);
    }
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
        Agent { catalog, ranker, prompts, model, state: DialogueState::new(), config }
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
        let t0 = Instant::now();
        self.state.observe_seeker_text(text, &self.catalog);
        if let Some(kt) = self.ranker.knowledge() {
            self.state.link_attributes(&kt.linker);
        }
        let ranked = self.ranker.rank(&self.state, &self.catalog, self.config.recommendations)?;
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
        if recs.is_empty() {
            emit(&self.prompts.no_results.clone(), &mut reply, on_event);
        } else {
            // The model's sentence is checked before it is shown (see `intro`), so it arrives
            // as one piece; the list lines follow one by one.
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
        }
        self.state.observe_turn(
            Turn { role: Role::Recommender, text: reply, items: recs.iter().map(|r| r.id).collect() },
            &self.catalog,
        );
        on_event(AgentEvent::Done { stats });
        Ok(recs)
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
        let mut cut = user.len().min(600);
        while !user.is_char_boundary(cut) {
            cut -= 1;
        }
        let ctx = minijinja::context! {
            user => &user[..cut],
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

/// True when `sentence` has quotes, digits, or a capitalised word that is not at a sentence start,
/// not "I" or one of its contractions, and not in `allowed_words` (words of titles the seeker
/// liked): the marks of a title the catalog may not have.
fn looks_like_a_title(sentence: &str, allowed_words: &[String]) -> bool {
    if sentence.chars().any(|c| c.is_ascii_digit() || matches!(c, '"' | '“' | '”' | '«' | '»')) {
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
        [] => format!("{line}…"),
        [first, rest @ ..] => {
            let end = if *first < 40 { rest.first().copied().unwrap_or(*first) } else { *first };
            line[..end].to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{clean_intro, looks_like_a_title};

    #[test]
    fn sentences_that_look_like_titles_are_caught() {
        let liked = vec!["Heat".to_string(), "Collateral".to_string()];
        assert!(!looks_like_a_title("I'm glad you enjoyed Heat and Collateral.", &liked));
        assert!(looks_like_a_title("The 2031 movie Galactic Tacos 3 is a must-see.", &liked));
        assert!(looks_like_a_title("You might like Inception.", &liked));
        assert!(looks_like_a_title("Try \"something\" new.", &liked));
        assert!(!looks_like_a_title("Great picks! You'll like these.", &liked));
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
        assert_eq!(clean_intro("Sure! Here you go. More."), "Sure! Here you go.");
        assert_eq!(clean_intro(""), "");
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
