//! [`LlamaCppModel`]: a [`LanguageModel`] running a GGUF model with llama.cpp (`llama-cpp-2`).
//!
//! Lifetimes: a `LlamaContext` borrows its `LlamaModel`. Each distinct model file is loaded once
//! per process and leaked to `'static` (it lives until the process exits, ≈ 120 MB for
//! SmolLM2-135M), so a `LlamaCppModel` can own its context without self-reference or `unsafe`.
//! Loading the same file again reuses the weights and only creates a new context. One context is
//! kept for the model's lifetime, together with the tokens whose keys and values it holds; each
//! call reuses the longest common prefix (earlier turns of a dialogue, or a shared scoring
//! prompt) and processes only the new tokens.
//!
//! The llama.cpp backend is initialised once per process ([`backend`]); its logs never reach
//! stderr: they are dropped, or sent to `tracing` when `CURATOR_LLAMA_LOG` is set.

use super::constrained::ListConstraint;
use super::fetch::check_gguf;
use super::kv_files::{KvDir, KvFile};
use super::utf8::Utf8Stream;
use super::{CacheSnapshot, ChatMessage, GenerationParams, GenerationStats, LanguageModel, StopReason};
use crate::{Error, Result};
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel, RopeType};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use std::cell::OnceCell;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// Fewest cached tokens a moved dialogue window must keep for [`LlamaCppModel::shift_window`]
/// to shift them rather than decode the window again.
const MIN_SHIFT_TOKENS: usize = 32;

/// llama.cpp's `LLAMA_FLASH_ATTN_TYPE_DISABLED` (`llama_flash_attn_type` is a C int; the sys crate
/// is not re-exported by `llama-cpp-2`).
const FLASH_ATTN_DISABLED: i32 = 0;
/// llama.cpp's `LLAMA_FLASH_ATTN_TYPE_ENABLED`.
const FLASH_ATTN_ENABLED: i32 = 1;

pub use super::backend::LlamaOptions;

mod constrained_list;
mod score_trie;
use score_trie::{log_prob, ScoreTrie};

/// Environment variable that sends llama.cpp's own logs to `tracing` when set (to anything but
/// `0`); by default they are dropped.
pub const LOG_ENV: &str = "CURATOR_LLAMA_LOG";

/// The process-wide llama.cpp backend, initialised on first use.
///
/// llama.cpp logs ≈ 140 lines at INFO level per model load (and `llama-cpp-2` adds spurious
/// warnings while forwarding them), so its logs are dropped unless [`LOG_ENV`] is set, in which
/// case they go to `tracing` under the target `llama-cpp-2`.
///
/// Errors: [`Error::Model`] if llama.cpp was already initialised outside this function (by code
/// calling `LlamaBackend::init` directly).
pub fn backend() -> Result<&'static LlamaBackend> {
    static BACKEND: OnceLock<std::result::Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            let mut backend = LlamaBackend::init().map_err(|e| e.to_string())?;
            if std::env::var_os(LOG_ENV).is_some_and(|v| v != "0") {
                llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            } else {
                backend.void_logs();
            }
            Ok(backend)
        })
        .as_ref()
        .map_err(|e| Error::Model(format!("cannot initialise llama.cpp: {e}")))
}

/// Models loaded so far, by canonical path; each is leaked so that contexts can borrow it for
/// `'static`. Also serialises context creation, which llama.cpp does not allow concurrently on
/// one model.
static MODELS: Mutex<Vec<(PathBuf, &'static LlamaModel)>> = Mutex::new(Vec::new());

/// A GGUF chat model run by llama.cpp on the CPU, with one context and a prefix cache.
///
/// Chat templating uses llama.cpp's built-in implementations, chosen from the GGUF's
/// `tokenizer.chat_template` metadata (ChatML for SmolLM2); Jinja-only behaviour of a template,
/// such as SmolLM2's default system prompt when none is given, is not reproduced.
///
/// Each call keeps the keys and values of its tokens; the next call reuses the longest shared
/// prefix. On a 5-turn chat this halves the time against processing the whole dialogue every
/// turn (which a context per call would have to do). Not `Sync`: one thread drives it at a time
/// (it is `Send`).
pub struct LlamaCppModel {
    name: String,
    path: PathBuf,
    model: &'static LlamaModel,
    ctx: LlamaContext<'static>,
    template: Option<LlamaChatTemplate>,
    /// Tokens whose keys and values sit in sequence 0 of the cache, at positions `0..len`.
    cached: Vec<LlamaToken>,
    /// Where the cached keys and values stop being those a fresh prefill would give: the point
    /// a [`shift_window`](Self::shift_window) joined the kept turns at (`None`: all exact).
    /// Scores reuse only what comes before it.
    approx_from: Option<usize>,
    n_ctx: usize,
    n_batch: usize,
    /// Where [`save_cache`](LanguageModel::save_cache) writes snapshots: made at the first save,
    /// once (`None` inside when the folder cannot be made: saves are then skipped, warned once).
    kv_dir: OnceCell<Option<Arc<KvDir>>>,
}

impl std::fmt::Debug for LlamaCppModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlamaCppModel")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("n_ctx", &self.n_ctx)
            .field("cached_tokens", &self.cached.len())
            .finish()
    }
}

impl LlamaCppModel {
    /// Loads the GGUF model at `path` and creates its context.
    ///
    /// The weights are memory-mapped and kept for the rest of the process; loading the same file
    /// again only creates a new context (a few milliseconds).
    ///
    /// Errors: [`Error::Missing`] (naming the path and how to fetch the model) if the file does
    /// not exist; [`Error::Io`] if it cannot be read; [`Error::Model`] naming the path if it is not
    /// a GGUF file or llama.cpp rejects it; [`Error::InvalidInput`] for a zero `n_ctx`,
    /// `n_batch` or `n_threads`.
    pub fn load(path: &Path, opts: &LlamaOptions) -> Result<Self> {
        let n_ctx =
            NonZeroU32::new(opts.n_ctx).ok_or_else(|| Error::InvalidInput("n_ctx must be at least 1".into()))?;
        if opts.n_batch == 0 || opts.n_threads == 0 {
            return Err(Error::InvalidInput("n_batch and n_threads must be at least 1".into()));
        }
        let n_threads = i32::try_from(opts.n_threads)
            .map_err(|_| Error::InvalidInput(format!("n_threads {} is too large", opts.n_threads)))?;
        check_gguf(path)?;
        let backend = backend()?;
        let key = path.canonicalize().map_err(|e| Error::io(path, e))?;

        let mut models = MODELS.lock().map_err(|_| Error::Model("model registry lock poisoned".into()))?;
        let model: &'static LlamaModel = match models.iter().find(|(p, _)| *p == key) {
            Some((_, m)) => m,
            None => {
                let loaded = LlamaModel::load_from_file(backend, &key, &LlamaModelParams::default()).map_err(|e| {
                    Error::Model(format!("{}: llama.cpp could not load the model: {e}", path.display()))
                })?;
                let leaked: &'static LlamaModel = Box::leak(Box::new(loaded));
                models.push((key.clone(), leaked));
                leaked
            }
        };
        let n_batch = opts.n_batch.min(opts.n_ctx);
        let params = LlamaContextParams::default()
            .with_n_ctx(Some(n_ctx))
            .with_n_batch(n_batch)
            .with_n_ubatch(n_batch)
            .with_n_threads(n_threads)
            .with_n_threads_batch(n_threads)
            .with_flash_attention_policy(if opts.flash_attention { FLASH_ATTN_ENABLED } else { FLASH_ATTN_DISABLED });
        let ctx = model.new_context(backend, params).map_err(|e| {
            Error::Model(format!("{}: cannot create a {}-token context: {e}", path.display(), opts.n_ctx))
        })?;
        drop(models);

        let name =
            path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
        Ok(LlamaCppModel {
            name,
            path: path.to_path_buf(),
            model,
            n_ctx: ctx.n_ctx() as usize,
            n_batch: n_batch as usize,
            ctx,
            template: model.chat_template(None).ok(),
            cached: Vec::new(),
            approx_from: None,
            kv_dir: OnceCell::new(),
        })
    }

    /// The model file this was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The context window in tokens.
    pub fn n_ctx(&self) -> usize {
        self.n_ctx
    }

    /// The vocabulary size (49 152 for SmolLM2).
    pub fn n_vocab(&self) -> usize {
        self.model.n_vocab().max(0) as usize
    }

    /// Tokenizes `text` with the model's tokenizer. `add_bos` adds the beginning-of-sequence token
    /// if the model asks for one; special-token text such as `<|im_end|>` is always parsed as the
    /// special token. Token ids are llama.cpp's (`i32`).
    pub fn tokenize(&self, text: &str, add_bos: bool) -> Vec<i32> {
        self.tokens(text, add_bos).into_iter().map(|t| t.0).collect()
    }

    /// The bytes of token `id` as it appears in text (special tokens render as their text, e.g.
    /// `<|im_end|>`). May be part of a multi-byte UTF-8 character.
    pub fn token_bytes(&self, id: i32) -> Vec<u8> {
        self.model.vocab().token_to_piece(LlamaToken(id), true, None)
    }

    /// Whether token `id` ends a turn or the text (llama.cpp's end-of-generation set; for SmolLM2
    /// it includes `<|im_end|>`, id 2, and `<|endoftext|>`, id 0).
    pub fn is_end_of_generation(&self, id: i32) -> bool {
        self.model.vocab().is_eog(LlamaToken(id))
    }

    fn tokens(&self, text: &str, add_bos: bool) -> Vec<LlamaToken> {
        self.model.vocab().tokenize(text.as_bytes(), add_bos, true)
    }

    /// Drops cached keys and values after the longest prefix that `tokens` shares with the cache,
    /// keeping at most `limit` tokens, and returns how many were kept: decoding resumes there.
    fn reuse_prefix(&mut self, tokens: &[LlamaToken], limit: usize) -> usize {
        let common = self.cached.iter().zip(tokens).take_while(|(a, b)| a == b).count();
        let keep = common.min(limit);
        if keep < self.cached.len() {
            let removed =
                u32::try_from(keep).ok().map(|p0| self.ctx.kv_cache_seq_rm(0, Some(p0), None).is_ok()).unwrap_or(false);
            if !removed {
                self.reset_cache();
                return 0;
            }
            self.cached.truncate(keep);
            if self.approx_from.is_some_and(|p| p >= keep) {
                self.approx_from = None;
            }
        }
        keep
    }

    /// How many leading cached tokens a score may reuse: those whose keys and values are exact.
    fn exact_len(&self) -> usize {
        self.approx_from.unwrap_or(usize::MAX)
    }

    /// Whether llama.cpp can move cached keys to other positions for this model (K-shift): RoPE
    /// of the normal or NeoX kind, and a plain attention cache (not a recurrent or hybrid
    /// memory). llama.cpp aborts the process on a shift it cannot do, so this is checked first.
    fn can_shift(&self) -> bool {
        matches!(self.model.rope_type(), Some(RopeType::Norm | RopeType::NeoX))
            && !self.model.is_recurrent()
            && !self.model.is_hybrid()
    }

    /// The dialogue's window moved (the agent dropped its oldest turns, `agent::window`): the
    /// cache holds `tokens`' first part (the system prompt), then the dropped turns, then what
    /// follows in `tokens`. Removes the dropped turns' keys and values and shifts the rest back
    /// (llama.cpp's K-shift, as its server's context shift), so that only what is new gets
    /// decoded instead of the whole window. Returns whether it shifted.
    ///
    /// The kept keys and values were computed with the dropped turns in view, so the model's
    /// output can differ slightly from a fresh prefill of the window: used for generation only,
    /// never for scores, which stay exact and independent of what was decoded before.
    fn shift_window(&mut self, tokens: &[LlamaToken]) -> bool {
        let common = self.cached.iter().zip(tokens).take_while(|(a, b)| a == b).count();
        if common == 0 || common >= tokens.len() || common + 1 >= self.cached.len() || !self.can_shift() {
            return false;
        }
        let rest = &tokens[common..];
        // The offset where the cache goes on longest as `tokens` does.
        let Some((at, len)) = (common + 1..self.cached.len())
            .filter(|&o| self.cached[o] == rest[0])
            .map(|o| (o, self.cached[o..].iter().zip(rest).take_while(|(a, b)| a == b).count()))
            .max_by_key(|&(o, len)| (len, std::cmp::Reverse(o)))
        else {
            return false;
        };
        // A moved window keeps nearly all of what follows the common part (all but the new
        // message); a shorter run that happens to repeat is no moved window.
        if len < MIN_SHIFT_TOKENS.max(rest.len() / 2) {
            return false;
        }
        let (Ok(c), Ok(from), Ok(end), Ok(delta)) =
            (u32::try_from(common), u32::try_from(at), u32::try_from(at + len), i32::try_from(at - common))
        else {
            return false;
        };
        let shifted = self.ctx.kv_cache_seq_rm(0, Some(end), None).is_ok()
            && self.ctx.kv_cache_seq_rm(0, Some(c), Some(from)).is_ok()
            && self.ctx.kv_cache_seq_add(0, Some(from), Some(end), -delta).is_ok();
        if !shifted {
            self.reset_cache();
            return false;
        }
        self.cached.truncate(at + len);
        self.cached.drain(common..at);
        self.approx_from = Some(self.approx_from.map_or(common, |p| p.min(common)));
        true
    }

    /// Templates `messages`, checks the prompt fits, and decodes what the cache lacks of it
    /// (prefix reuse). Errors: an empty prompt ([`Error::InvalidInput`]); a prompt of `n_ctx`
    /// tokens or more ([`Error::ContextOverflow`]); decoding errors.
    fn prefill(&mut self, messages: &[ChatMessage]) -> Result<Prefilled> {
        let tokens = self.tokens(&self.apply_chat_template(messages)?, true);
        self.prefill_tokens(&tokens)
    }

    /// What [`prefill`](Self::prefill) would have to process, without processing it: for a call
    /// cancelled before the model was needed (`prompt_ms` 0; `idx` is not a valid logits index).
    fn unread(&mut self, messages: &[ChatMessage]) -> Result<Prefilled> {
        let tokens = self.tokens(&self.apply_chat_template(messages)?, true);
        let keep = self.cached.iter().zip(&tokens).take_while(|(a, b)| a == b).count();
        Ok(Prefilled { n_tokens: tokens.len(), keep, idx: -1, prompt_ms: 0.0 })
    }

    /// [`prefill`](Self::prefill) of an already templated and tokenized prompt.
    fn prefill_tokens(&mut self, tokens: &[LlamaToken]) -> Result<Prefilled> {
        if tokens.is_empty() {
            return Err(Error::InvalidInput("the templated prompt is empty".into()));
        }
        if tokens.len() >= self.n_ctx {
            return Err(Error::ContextOverflow { needed: tokens.len() + 1, n_ctx: self.n_ctx });
        }
        let prompt_start = Instant::now();
        self.shift_window(tokens);
        let keep = self.reuse_prefix(tokens, tokens.len() - 1);
        let new = &tokens[keep..];
        let idx = self.decode(new, new.len() - 1, |_, _| ())?;
        Ok(Prefilled { n_tokens: tokens.len(), keep, idx, prompt_ms: elapsed_ms(prompt_start) })
    }

    /// Decodes `tokens` at positions `self.cached.len()..` in chunks of `n_batch`, asking for logits
    /// at every index `>= logits_from` (relative to `tokens`) and handing each
    /// `(index, logits)` to `on_logits` right after its chunk is decoded. Returns the batch
    /// index of the last token of the last chunk.
    fn decode(
        &mut self,
        tokens: &[LlamaToken],
        logits_from: usize,
        mut on_logits: impl FnMut(usize, &[f32]),
    ) -> Result<i32> {
        let mut batch = LlamaBatch::new(self.n_batch, 1);
        let mut last = 0;
        for (chunk_no, chunk) in tokens.chunks(self.n_batch).enumerate() {
            batch.clear();
            let base = chunk_no * self.n_batch;
            let start_pos = self.cached.len();
            for (i, &tok) in chunk.iter().enumerate() {
                let pos =
                    i32::try_from(start_pos + i).map_err(|_| Error::Model("token position overflows i32".into()))?;
                batch
                    .add(tok, pos, &[0], base + i >= logits_from)
                    .map_err(|e| Error::Model(format!("cannot fill a batch: {e}")))?;
            }
            if let Err(e) = self.ctx.decode(&mut batch) {
                // The cache may hold part of the chunk: forget it all rather than guess.
                self.reset_cache();
                return Err(Error::Model(format!(
                    "llama.cpp failed to decode {} tokens at position {start_pos}: {e}",
                    chunk.len()
                )));
            }
            self.cached.extend_from_slice(chunk);
            for i in 0..chunk.len() {
                if base + i >= logits_from {
                    on_logits(base + i, self.ctx.get_logits_ith(i as i32));
                }
            }
            last = chunk.len() as i32 - 1;
        }
        Ok(last)
    }
}

fn nanos(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

fn elapsed_ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

fn sampler(params: &GenerationParams) -> Result<LlamaSampler> {
    if !params.temperature.is_finite() || params.temperature < 0.0 {
        return Err(Error::InvalidInput(format!("temperature must be >= 0, got {}", params.temperature)));
    }
    if params.temperature == 0.0 {
        return Ok(LlamaSampler::greedy());
    }
    if !(params.top_p > 0.0 && params.top_p <= 1.0) {
        return Err(Error::InvalidInput(format!("top_p must be in (0, 1], got {}", params.top_p)));
    }
    Ok(LlamaSampler::chain_simple([
        LlamaSampler::top_p(params.top_p, 1),
        LlamaSampler::temp(params.temperature),
        LlamaSampler::dist(params.seed),
    ]))
}

impl LanguageModel for LlamaCppModel {
    fn name(&self) -> &str {
        &self.name
    }

    fn apply_chat_template(&self, messages: &[ChatMessage]) -> Result<String> {
        let template = self
            .template
            .as_ref()
            .ok_or_else(|| Error::Model(format!("{}: the model file has no chat template", self.path.display())))?;
        let chat = messages
            .iter()
            .map(|m| LlamaChatMessage::new(m.role.as_str().to_string(), m.content.clone()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::Model(format!("cannot pass a message to the chat template: {e}")))?;
        self.model
            .apply_chat_template(template, &chat, true)
            .map_err(|e| Error::Model(format!("{}: cannot apply the chat template: {e}", self.name)))
    }

    fn generate(
        &mut self,
        messages: &[ChatMessage],
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<GenerationStats> {
        let start = Instant::now();
        let mut sampler = sampler(params)?;
        let pre = self.prefill(messages)?;
        let mut idx = pre.idx;

        let gen_start = Instant::now();
        let mut ttft = None;
        let mut generated = 0;
        let mut utf8 = Utf8Stream::default();
        let mut piece = Vec::new();
        let mut cancelled = false;
        let stop_reason = loop {
            if generated >= params.max_tokens {
                break StopReason::MaxTokens;
            }
            let token = sampler.sample(&self.ctx, idx);
            ttft.get_or_insert_with(|| elapsed_ms(start));
            if self.model.vocab().is_eog(token) {
                break StopReason::EndOfTurn;
            }
            generated += 1;
            piece.clear();
            self.model.vocab().token_to_piece_into(token, &mut piece, false, None);
            let text = utf8.push(&piece);
            if !text.is_empty() && !on_text(&text) {
                cancelled = true;
                break StopReason::Cancelled;
            }
            if generated >= params.max_tokens {
                break StopReason::MaxTokens;
            }
            if self.cached.len() >= self.n_ctx {
                break StopReason::ContextFull;
            }
            idx = self.decode(&[token], 0, |_, _| ())?;
        };
        let rest = utf8.finish();
        if !rest.is_empty() && !cancelled {
            on_text(&rest);
        }
        Ok(pre.stats(generated, start, gen_start, ttft, stop_reason))
    }

    fn continuation_logprobs(&mut self, prompt: &str, continuation: &str) -> Result<Vec<f32>> {
        let p = self.tokens(prompt, true);
        let c = self.tokens(continuation, false);
        if p.is_empty() {
            return Err(Error::InvalidInput("cannot score a continuation of an empty prompt".into()));
        }
        if c.is_empty() {
            return Err(Error::InvalidInput("cannot score an empty continuation".into()));
        }
        let all: Vec<LlamaToken> = p.iter().chain(&c).copied().collect();
        if all.len() > self.n_ctx {
            return Err(Error::ContextOverflow { needed: all.len(), n_ctx: self.n_ctx });
        }
        // The last prompt token is decoded again (its logits predict the first continuation token);
        // the last continuation token is never decoded (nothing follows it).
        let keep = self.reuse_prefix(&all, (p.len() - 1).min(self.exact_len()));
        let todo = &all[keep..all.len() - 1];
        let mut out = vec![f32::NAN; c.len()];
        let first = p.len() - 1 - keep;
        self.decode(todo, first, |i, logits| {
            let target = keep + i + 1; // index in `all` of the token these logits predict
            out[target - p.len()] = log_prob(logits, all[target]);
        })?;
        Ok(out)
    }

    fn supports_logprobs(&self) -> bool {
        true
    }

    fn token_ids(&self, text: &str) -> Result<Vec<i32>> {
        Ok(self.tokenize(text, false))
    }

    fn tokenizer_key(&self) -> String {
        let size = std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0);
        format!("{}:{size}:{}", self.name, self.n_vocab())
    }

    fn supports_constrained(&self) -> bool {
        true
    }

    fn generate_constrained(
        &mut self,
        messages: &[ChatMessage],
        params: &GenerationParams,
        constraint: &mut ListConstraint<'_>,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<GenerationStats> {
        self.constrained_list(messages, params, constraint, on_text)
    }

    fn score_continuations(&mut self, prompt: &str, continuations: &[String]) -> Result<Vec<Vec<f32>>> {
        let p = self.tokens(prompt, true);
        if p.is_empty() {
            return Err(Error::InvalidInput("cannot score a continuation of an empty prompt".into()));
        }
        let conts: Vec<Vec<LlamaToken>> = continuations.iter().map(|c| self.tokens(c, false)).collect();
        if let Some(i) = conts.iter().position(Vec::is_empty) {
            return Err(Error::InvalidInput(format!("continuation {i} is empty")));
        }
        if conts.is_empty() {
            return Ok(Vec::new());
        }
        let longest = conts.iter().map(Vec::len).max().unwrap_or(0);
        if p.len() + longest > self.n_ctx {
            return Err(Error::ContextOverflow { needed: p.len() + longest, n_ctx: self.n_ctx });
        }
        // The trie of the continuations' tokens: node 0 is the end of the prompt; a title's j-th
        // token is scored with the logits of the node of its first j tokens.
        let mut trie = ScoreTrie::default();
        let paths: Vec<Vec<usize>> = conts.iter().map(|c| trie.insert(c)).collect();

        // The prompt once (its cached prefix reused); the root's next tokens from its last logits.
        let keep = self.reuse_prefix(&p, (p.len() - 1).min(self.exact_len()));
        let base = p.len();
        let mut root_lps = Vec::new();
        self.decode(&p[keep..], p.len() - 1 - keep, |_, logits| root_lps = trie.next_logprobs(0, logits))?;
        trie.lps[0] = root_lps;

        // Depth first: decode each chain of single-child nodes as one batch, back up with
        // `kv_cache_seq_rm` to a branch point before the next sibling. Every node is decoded once.
        let mut stack: Vec<usize> = trie.children[0].iter().rev().map(|&(_, c)| c).collect();
        let result = (|| -> Result<()> {
            while let Some(start) = stack.pop() {
                if trie.children[start].is_empty() {
                    continue; // a last token: nothing is scored after it
                }
                let keep = base + trie.depth[start];
                if self.cached.len() > keep {
                    self.ctx
                        .kv_cache_seq_rm(0, u32::try_from(keep).ok(), None)
                        .map_err(|e| Error::Model(format!("cannot trim the cache: {e}")))?;
                    self.cached.truncate(keep);
                }
                let mut chain = vec![start];
                let mut last = start;
                while let [(_, only)] = trie.children[last].as_slice() {
                    if trie.children[*only].is_empty() {
                        break;
                    }
                    last = *only;
                    chain.push(last);
                }
                let mut toks: Vec<LlamaToken> = chain.iter().map(|&n| trie.token[n]).collect();
                // A one-token batch takes llama.cpp's matrix-vector path, whose rounding differs
                // from the batched path by up to ~0.3 nats on this model: decode the token before
                // it again in the same batch, so every scored row comes from a batch of 2 or more.
                let mut skip = 0;
                if toks.len() == 1 && keep > 0 {
                    let before = if trie.depth[start] == 0 { p[p.len() - 1] } else { trie.token[trie.parent[start]] };
                    self.ctx
                        .kv_cache_seq_rm(0, u32::try_from(keep - 1).ok(), None)
                        .map_err(|e| Error::Model(format!("cannot trim the cache: {e}")))?;
                    self.cached.truncate(keep - 1);
                    toks.insert(0, before);
                    skip = 1;
                }
                let mut rows: Vec<(usize, Vec<f32>)> = Vec::with_capacity(chain.len());
                self.decode(&toks, skip, |i, logits| {
                    let n = chain[i - skip];
                    rows.push((n, trie.next_logprobs(n, logits)));
                })?;
                for (n, lps) in rows {
                    trie.lps[n] = lps;
                }
                stack.extend(trie.children[last].iter().rev().map(|&(_, c)| c));
            }
            Ok(())
        })();
        // The cache keeps the prompt only, for the next call.
        if self.cached.len() > base {
            if self.ctx.kv_cache_seq_rm(0, u32::try_from(base).ok(), None).is_ok() {
                self.cached.truncate(base);
            } else {
                self.reset_cache();
            }
        }
        result?;
        Ok(paths
            .iter()
            .zip(&conts)
            .map(|(path, c)| {
                // path[j] is the node of token j; its parent (or the root) scored it.
                (0..c.len())
                    .map(|j| {
                        let parent = if j == 0 { 0 } else { path[j - 1] };
                        trie.lp_of(parent, c[j])
                    })
                    .collect()
            })
            .collect())
    }

    fn prefill_only(&mut self, messages: &[ChatMessage], max_new: usize) -> Result<usize> {
        let tokens = self.tokens(&self.apply_chat_template(messages)?, true);
        self.shift_window(&tokens);
        let common = self.cached.iter().zip(&tokens).take_while(|(a, b)| a == b).count();
        if tokens.len().saturating_sub(common) > max_new {
            return Ok(0);
        }
        let Prefilled { n_tokens, keep, .. } = self.prefill_tokens(&tokens)?;
        Ok(n_tokens - keep)
    }

    /// Writes the cache of sequence 0 to a file of this model's snapshot folder (`kv_files.rs`:
    /// kept out of resident memory); `bytes` is the file's size. `None` when the cache is empty
    /// or the file cannot be written (logged).
    fn save_cache(&mut self) -> Option<CacheSnapshot> {
        if self.cached.is_empty() {
            return None;
        }
        let dir = self.kv_dir.get_or_init(|| {
            KvDir::create()
                .map_err(|e| tracing::warn!("cannot make a folder for saved model caches (none are kept): {e}"))
                .ok()
        });
        let file = dir.as_ref()?.new_file();
        match self.ctx.state_seq_save_file(file.path(), 0, &self.cached) {
            Ok(bytes) => Some(CacheSnapshot {
                tokens: self.cached.iter().map(|t| t.0).collect(),
                bytes,
                state: Box::new(Saved { file, approx_from: self.approx_from }),
            }),
            Err(e) => {
                tracing::warn!("cannot save the model cache to {}: {e}", file.path().display());
                None
            }
        }
    }

    /// Reads a snapshot file back into sequence 0; `false` (with an empty cache) when the
    /// snapshot is not this backend's, the file cannot be read, or its tokens differ from the
    /// snapshot's.
    fn restore_cache(&mut self, snapshot: &CacheSnapshot) -> bool {
        self.reset_cache();
        let Some(Saved { file, approx_from }) = snapshot.state.downcast_ref::<Saved>() else {
            return false;
        };
        match self.ctx.state_seq_load_file(file.path(), 0, self.n_ctx) {
            Ok((tokens, _)) if tokens.iter().map(|t| t.0).eq(snapshot.tokens.iter().copied()) => {
                self.cached = tokens;
                self.approx_from = *approx_from;
                true
            }
            _ => {
                self.reset_cache();
                false
            }
        }
    }

    fn context_size(&self) -> Option<usize> {
        Some(self.n_ctx)
    }

    fn reset_cache(&mut self) {
        self.ctx.clear_kv_cache();
        self.cached.clear();
        self.approx_from = None;
    }
}

/// A saved cache ([`LanguageModel::save_cache`]): its file and where its keys and values stop
/// being exact ([`LlamaCppModel::approx_from`]).
struct Saved {
    file: KvFile,
    approx_from: Option<usize>,
}

/// A prompt decoded into the cache ([`LlamaCppModel::prefill`]).
struct Prefilled {
    /// Prompt tokens.
    n_tokens: usize,
    /// Of those, reused from the cache.
    keep: usize,
    /// Batch index of the last prompt token's logits.
    idx: i32,
    /// Milliseconds spent decoding the new part.
    prompt_ms: f64,
}

impl Prefilled {
    /// The statistics of a generation after this prompt: `generated` tokens, timed from `start`
    /// (the call) and `gen_start` (the first decoding step); `ttft` is the milliseconds to the
    /// first streamed text, if any was streamed.
    fn stats(
        &self,
        generated: usize,
        start: Instant,
        gen_start: Instant,
        ttft: Option<f64>,
        stop_reason: StopReason,
    ) -> GenerationStats {
        GenerationStats {
            prompt_tokens: self.n_tokens,
            cached_prompt_tokens: self.keep,
            generated_tokens: generated,
            prompt_ms: self.prompt_ms,
            generation_ms: elapsed_ms(gen_start),
            time_to_first_token_ms: ttft.unwrap_or_else(|| elapsed_ms(start)),
            stop_reason,
        }
    }
}

#[cfg(test)]
mod tests;
