//! [`MistralRsModel`]: a [`LanguageModel`] running a local GGUF model with mistral.rs (the
//! `mistralrs` crate, cargo feature `mistralrs`).
//!
//! mistral.rs is asynchronous (tokio): its engine runs on a thread of its own and takes requests
//! over a channel. This backend keeps a small tokio runtime (one worker) for the loading and for
//! one forwarding task per request, which moves the engine's answers into a standard channel;
//! the synchronous trait methods wait on that channel, so they may be called from any thread,
//! inside a tokio runtime's blocking pool or outside any runtime.
//!
//! | capability | how |
//! |---|---|
//! | chat template | the GGUF's own Jinja template (`tokenizer.chat_template`), applied by mistral.rs (so SmolLM2's default system prompt appears when no system message is given, unlike llama.cpp's built-in ChatML) |
//! | stream | completion chunks of the engine, one per token that completes a character |
//! | cancel | `on_text` returning `false` drops the request's channel; the engine cancels the sequence at its next token |
//! | constrain | each title slot is one request under an llguidance regex: the alternation of the still-allowed titles, escaped, common prefixes factored ([`alternation_regex`]) |
//! | score | the raw-logits path (`return_raw_logits`, `max_len: 0`, as in mistral.rs's perplexity example): one forward pass over prompt and continuation, log-softmax of the rows that predict the continuation |
//!
//! mistral.rs's prefix cache is off, for two reasons read in mistralrs-core 0.8.1: a raw-logits
//! request that hits it returns logits only for its uncached tail, so a continuation that an
//! earlier generation left in the cache could not be scored; and `evict_caches` never evicts an
//! entry held on the CPU (upstream issue EricLBuehler/mistral.rs#1961), so on a CPU the keys and
//! values of every finished request would stay in memory. Every call therefore processes its
//! whole prompt ([`GenerationStats::cached_prompt_tokens`] is 0, [`LanguageModel::prefill_only`]
//! does nothing).
//!
//! Limits, stated rather than hidden: the sampler's random generator is mistral.rs's engine-wide
//! one (seeded once when the engine starts), so [`GenerationParams::seed`] cannot be honoured per
//! request and a sampled (temperature > 0) reply is not reproducible by seed (greedy decoding is);
//! constrained items carry no per-token scores (`token_logprobs` empty, `mean_logprob` 0, as with
//! a server's structured output); CPU threads are candle's (all cores, or `RAYON_NUM_THREADS`).

use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::time::Instant;

use ::mistralrs::core::{DetokenizationRequest, RequestMessage, TokenSource, TokenizationRequest};
use ::mistralrs::{Constraint, DType, GgufModelBuilder, NormalRequest, Request, Response, SamplingParams};
use either::Either;
use indexmap::IndexMap;

use super::constrained::{ListConstraint, Step};
use super::fetch::check_gguf;
use super::remote::{check_params, regex_escape};
use super::{ChatMessage, GenerationParams, GenerationStats, LanguageModel, StopReason};
use crate::{Error, Result};

/// A GGUF chat model run by mistral.rs in process (on the CPU; on the GPU with the cargo feature
/// `cuda`).
///
/// Not `Sync` in use: one thread drives it at a time (`&mut self`); it is `Send`.
pub struct MistralRsModel {
    name: String,
    path: PathBuf,
    /// Keeps the engine alive; dropping it stops the engine.
    _model: ::mistralrs::Model,
    /// The engine's request channel.
    sender: tokio::sync::mpsc::Sender<Request>,
    /// Runs the loading and the forwarding tasks. `None` only while dropping.
    rt: Option<tokio::runtime::Runtime>,
    /// The model's longest sequence (prompt and reply) in tokens, when mistral.rs knows it.
    max_seq_len: Option<usize>,
    /// Size of the model file in bytes (part of the tokenizer key).
    file_size: u64,
}

impl std::fmt::Debug for MistralRsModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MistralRsModel")
            .field("name", &self.name)
            .field("path", &self.path)
            .field("max_seq_len", &self.max_seq_len)
            .finish()
    }
}

impl Drop for MistralRsModel {
    fn drop(&mut self) {
        // `shutdown_background` never blocks, so dropping the model inside an async context is
        // fine (a plain drop of a runtime there panics).
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// What one generation request produced.
struct Streamed {
    /// Tokens streamed (chunks), the end-of-turn token not counted.
    generated: usize,
    /// mistral.rs's `finish_reason` (`stop`, `length`, `canceled`), if it sent one.
    finish: Option<String>,
    /// `on_text` returned `false`.
    cancelled: bool,
    /// When the first chunk arrived, in ms since the call's start.
    first_ms: Option<f64>,
}

impl MistralRsModel {
    /// Loads the GGUF model at `path` with mistral.rs (`GgufModelBuilder`: the file's folder as
    /// the model id, the file as its only weights file; tokenizer and chat template from the GGUF
    /// metadata; nothing fetched from any hub). Takes a few seconds for SmolLM2-135M.
    ///
    /// Errors: [`Error::Missing`] (naming the path and how to fetch the model) if the file does
    /// not exist; [`Error::Io`] if it cannot be read; [`Error::Model`] naming the path if it is not
    /// a GGUF file, mistral.rs rejects it (e.g. an unsupported architecture), or mistral.rs fails
    /// while loading.
    pub fn load(path: &Path) -> Result<Self> {
        check_gguf(path)?;
        let file_size = std::fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
        let key = path.canonicalize().map_err(|e| Error::io(path, e))?;
        let (Some(dir), Some(file)) = (key.parent(), key.file_name()) else {
            return Err(Error::InvalidInput(format!("{}: not a model file path", path.display())));
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("curator-mistralrs")
            .enable_all()
            .build()
            .map_err(|e| Error::Model(format!("cannot start a tokio runtime for mistral.rs: {e}")))?;
        let builder = GgufModelBuilder::new(dir.to_string_lossy(), vec![file.to_string_lossy()])
            .with_token_source(TokenSource::None)
            .with_prefix_cache_n(None);
        #[cfg(not(feature = "cuda"))]
        let builder = builder.with_force_cpu();
        let (tx, rx) = std_mpsc::channel();
        rt.spawn(async move {
            let built = builder.build().await.map_err(|e| format!("{e:#}"));
            let _ = tx.send(built);
        });
        let model = match rx.recv() {
            Ok(Ok(m)) => m,
            Ok(Err(e)) => {
                return Err(Error::Model(format!("{}: mistral.rs could not load the model: {e}", path.display())))
            }
            Err(_) => {
                return Err(Error::Model(format!(
                    "{}: mistral.rs stopped while loading the model (a panic inside mistral.rs; its message is above)",
                    path.display()
                )))
            }
        };
        let sender = model
            .inner()
            .get_sender(None)
            .map_err(|e| Error::Model(format!("{}: mistral.rs has no engine for the model: {e}", path.display())))?;
        let max_seq_len = model.max_sequence_length().ok().flatten();
        let name =
            path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
        Ok(MistralRsModel {
            name,
            path: path.to_path_buf(),
            _model: model,
            sender,
            rt: Some(rt),
            max_seq_len,
            file_size,
        })
    }

    /// The model file this was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sends the request that `build` makes around a fresh response channel, and returns a
    /// standard channel that receives the engine's answers (closed when the engine closes its
    /// side). Dropping the returned receiver drops the engine's channel too (the engine then
    /// cancels a running sequence at its next token).
    fn ask<T: Send + 'static>(
        &self,
        build: impl FnOnce(tokio::sync::mpsc::Sender<T>) -> Request,
    ) -> Result<std_mpsc::Receiver<std::result::Result<T, String>>> {
        let rt = self.rt.as_ref().ok_or_else(|| Error::Model("the mistral.rs runtime is gone".into()))?;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<T>(64);
        let (out_tx, out_rx) = std_mpsc::channel();
        let request = build(tx);
        let sender = self.sender.clone();
        rt.spawn(async move {
            if sender.send(request).await.is_err() {
                let _ = out_tx.send(Err("the mistral.rs engine has stopped".to_string()));
                return;
            }
            while let Some(answer) = rx.recv().await {
                if out_tx.send(Ok(answer)).is_err() {
                    break;
                }
            }
        });
        Ok(out_rx)
    }

    /// Waits for the single answer of a request.
    fn ask_one<T: Send + 'static>(&self, build: impl FnOnce(tokio::sync::mpsc::Sender<T>) -> Request) -> Result<T> {
        match self.ask(build)?.recv() {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Error::Model(e)),
            Err(_) => Err(Error::Model("the mistral.rs engine closed the request without an answer".into())),
        }
    }

    /// Token ids of `text` (no BOS; special-token text such as `<|im_end|>` becomes the token).
    fn tokens(&self, text: &str) -> Result<Vec<u32>> {
        self.ask_one(|response| {
            Request::Tokenize(TokenizationRequest {
                text: Either::Right(text.to_string()),
                tools: None,
                add_generation_prompt: false,
                add_special_tokens: false,
                enable_thinking: None,
                reasoning_effort: None,
                response,
            })
        })?
        .map_err(|e| Error::Model(format!("mistral.rs cannot tokenize: {e:#}")))
    }

    /// Token ids of `messages` under the model's chat template, ending with the opening of an
    /// assistant turn: exactly what mistral.rs feeds the model for a chat request.
    fn template_tokens(&self, messages: &[ChatMessage]) -> Result<Vec<u32>> {
        if messages.iter().any(|m| m.content.contains('\0')) {
            return Err(Error::Model("a message contains a NUL byte".into()));
        }
        let wire: Vec<IndexMap<String, ::mistralrs::MessageContent>> = messages
            .iter()
            .map(|m| {
                IndexMap::from([
                    ("role".to_string(), Either::Left(m.role.as_str().to_string())),
                    ("content".to_string(), Either::Left(m.content.clone())),
                ])
            })
            .collect();
        self.ask_one(|response| {
            Request::Tokenize(TokenizationRequest {
                text: Either::Left(wire),
                tools: None,
                add_generation_prompt: true,
                add_special_tokens: true,
                enable_thinking: None,
                reasoning_effort: None,
                response,
            })
        })?
        .map_err(|e| Error::Model(format!("{}: cannot apply the chat template: {e:#}", self.name)))
    }

    /// The text of `tokens`, special tokens included.
    fn detokenize(&self, tokens: Vec<u32>) -> Result<String> {
        self.ask_one(|response| {
            Request::Detokenize(DetokenizationRequest { tokens, skip_special_tokens: false, response })
        })?
        .map_err(|e| Error::Model(format!("mistral.rs cannot detokenize: {e:#}")))
    }

    /// [`Error::ContextOverflow`] when `needed` tokens exceed the model's longest sequence.
    fn check_fits(&self, needed: usize) -> Result<()> {
        match self.max_seq_len {
            Some(n) if needed > n => Err(Error::ContextOverflow { needed, n_ctx: n }),
            _ => Ok(()),
        }
    }

    /// Generates after `prompt` (token ids) with `sampling` and `constraint`, streaming each
    /// piece to `on_piece` (which returns `false` to stop: the request is then dropped and the
    /// engine cancels it). `t0` is the call's start, for the time of the first piece.
    fn stream(
        &self,
        prompt: Vec<u32>,
        sampling: SamplingParams,
        constraint: Constraint,
        t0: Instant,
        on_piece: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Streamed> {
        let rx = self.ask(|response| {
            Request::Normal(Box::new(NormalRequest {
                messages: RequestMessage::CompletionTokens(prompt),
                sampling_params: sampling,
                response,
                return_logprobs: false,
                is_streaming: true,
                id: 0,
                constraint,
                suffix: None,
                tools: None,
                tool_choice: None,
                logits_processors: None,
                return_raw_logits: false,
                web_search_options: None,
                model_id: None,
                truncate_sequence: false,
            }))
        })?;
        let mut out = Streamed { generated: 0, finish: None, cancelled: false, first_ms: None };
        for answer in rx.iter() {
            match answer.map_err(Error::Model)? {
                Response::CompletionChunk(chunk) => {
                    for choice in chunk.choices {
                        out.first_ms.get_or_insert_with(|| ms(t0));
                        let eot = choice.finish_reason.as_deref() == Some("stop") && choice.text.is_empty();
                        if !eot {
                            out.generated += 1;
                        }
                        if !choice.text.is_empty() && !on_piece(&choice.text) {
                            out.cancelled = true;
                            return Ok(out);
                        }
                        if let Some(f) = choice.finish_reason {
                            out.finish = Some(f);
                        }
                    }
                    if out.finish.is_some() {
                        break;
                    }
                }
                other => return Err(answer_error(&self.name, other)),
            }
        }
        Ok(out)
    }

    /// Generates after `prompt` under `constraint` without streaming, returning the text.
    fn complete(&self, prompt: Vec<u32>, sampling: SamplingParams, constraint: Constraint) -> Result<String> {
        let mut text = String::new();
        self.stream(prompt, sampling, constraint, Instant::now(), &mut |p| {
            text.push_str(p);
            true
        })?;
        Ok(text)
    }

    /// Log-probabilities of `continuation` tokens after `prompt` tokens, from one raw-logits
    /// forward pass over both.
    fn score_tokens(&self, prompt: &[u32], continuation: &[u32]) -> Result<Vec<f32>> {
        let all: Vec<u32> = prompt.iter().chain(continuation).copied().collect();
        self.check_fits(all.len())?;
        let answer = self.ask_one(|response| {
            Request::Normal(Box::new(NormalRequest {
                messages: RequestMessage::CompletionTokens(all.clone()),
                sampling_params: SamplingParams { max_len: Some(0), ..SamplingParams::deterministic() },
                response,
                return_logprobs: false,
                is_streaming: false,
                id: 0,
                constraint: Constraint::None,
                suffix: None,
                tools: None,
                tool_choice: None,
                logits_processors: None,
                return_raw_logits: true,
                web_search_options: None,
                model_id: None,
                truncate_sequence: false,
            }))
        })?;
        let logits = match answer {
            Response::Raw { logits_chunks, .. } => logits_chunks
                .into_iter()
                .next()
                .ok_or_else(|| Error::Model("mistral.rs returned no raw logits".into()))?,
            other => return Err(answer_error(&self.name, other)),
        };
        let rows = logits.dim(0).map_err(candle_error)?;
        // Row i holds the logits after token `all.len() - rows + i`; the continuation's first token
        // is predicted by the row of the prompt's last token.
        let first = (prompt.len() + rows).checked_sub(all.len() + 1).ok_or_else(|| {
            Error::Model(format!(
                "mistral.rs returned logits for {rows} of {} tokens: too few to score the continuation",
                all.len()
            ))
        })?;
        let table = logits
            .narrow(0, first, continuation.len())
            .and_then(|t| t.to_dtype(DType::F32))
            .and_then(|t| t.to_vec2::<f32>())
            .map_err(candle_error)?;
        Ok(table.iter().zip(continuation).map(|(row, &tok)| log_softmax_at(row, tok as usize)).collect())
    }
}

/// The error of an engine answer that is not the one asked for.
fn answer_error(name: &str, answer: Response) -> Error {
    Error::Model(match answer {
        Response::InternalError(e) => format!("{name}: mistral.rs failed: {e}"),
        Response::ValidationError(e) => format!("{name}: mistral.rs refused the request: {e}"),
        Response::ModelError(e, _) | Response::CompletionModelError(e, _) => format!("{name}: mistral.rs failed: {e}"),
        _ => format!("{name}: mistral.rs answered with an unexpected kind of response"),
    })
}

/// A regular expression (llguidance / Rust `regex` syntax) whose matches are exactly `options`,
/// with common prefixes factored out (`["ab", "ac"]` gives `a(b|c)`), so that an alternation of
/// thousands of catalog titles stays small. O(total length · alphabet).
pub fn alternation_regex(options: &[String]) -> String {
    let mut chars: Vec<Vec<char>> = options.iter().map(|o| o.chars().collect()).collect();
    chars.sort();
    chars.dedup();
    let refs: Vec<&[char]> = chars.iter().map(|c| c.as_slice()).collect();
    factor(&refs)
}

/// [`alternation_regex`] over sorted, distinct strings.
fn factor(opts: &[&[char]]) -> String {
    match opts {
        [] => String::new(),
        [one] => regex_escape(&one.iter().collect::<String>()),
        _ => {
            let has_empty = opts.iter().any(|o| o.is_empty());
            let mut parts = Vec::new();
            let mut rest = opts.iter().filter(|o| !o.is_empty()).peekable();
            while let Some(head) = rest.next() {
                let c = head[0];
                let mut group = vec![&head[1..]];
                while let Some(next) = rest.next_if(|o| o[0] == c) {
                    group.push(&next[1..]);
                }
                parts.push(format!("{}{}", regex_escape(&c.to_string()), factor(&group)));
            }
            match (parts.len(), has_empty) {
                (1, false) => parts.remove(0),
                (_, false) => format!("({})", parts.join("|")),
                (_, true) => format!("({})?", parts.join("|")),
            }
        }
    }
}

fn candle_error(e: impl std::fmt::Display) -> Error {
    Error::Model(format!("mistral.rs logits: {e}"))
}

/// `log softmax(row)[tok]` (natural log), computed in f64; `-inf` for a token outside the row.
fn log_softmax_at(row: &[f32], tok: usize) -> f32 {
    let Some(&x) = row.get(tok) else { return f32::NEG_INFINITY };
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = row.iter().map(|&v| f64::from(v - max).exp()).sum();
    (f64::from(x - max) - sum.ln()) as f32
}

fn ms(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1e3
}

/// mistral.rs sampling for `params` with at most `max_len` new tokens: greedy (top-k 1) at
/// temperature 0, else temperature and nucleus `top_p`.
fn sampling(params: &GenerationParams, max_len: usize) -> SamplingParams {
    if params.temperature > 0.0 {
        SamplingParams {
            temperature: Some(f64::from(params.temperature)),
            top_p: Some(f64::from(params.top_p)),
            max_len: Some(max_len),
            ..SamplingParams::neutral()
        }
    } else {
        SamplingParams { max_len: Some(max_len), ..SamplingParams::deterministic() }
    }
}

/// The stop reason of a finished stream asked for at most `max` tokens with `room` tokens left
/// in the model's sequence after the prompt: mistral.rs says `length` for either bound, and the
/// smaller one is the one reached.
fn stop_reason(s: &Streamed, max: usize, room: usize) -> StopReason {
    if s.cancelled {
        return StopReason::Cancelled;
    }
    match s.finish.as_deref() {
        Some("length") if max <= room => StopReason::MaxTokens,
        Some("length") => StopReason::ContextFull,
        Some("canceled") => StopReason::Cancelled,
        None if s.generated >= max => StopReason::MaxTokens,
        _ => StopReason::EndOfTurn,
    }
}

impl LanguageModel for MistralRsModel {
    fn name(&self) -> &str {
        &self.name
    }

    fn apply_chat_template(&self, messages: &[ChatMessage]) -> Result<String> {
        let tokens = self.template_tokens(messages)?;
        self.detokenize(tokens)
    }

    fn generate(
        &mut self,
        messages: &[ChatMessage],
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<GenerationStats> {
        check_params(params)?;
        let t0 = Instant::now();
        let prompt = self.template_tokens(messages)?;
        self.check_fits(prompt.len() + 1)?;
        let mut stats = GenerationStats { prompt_tokens: prompt.len(), ..GenerationStats::default() };
        if params.max_tokens == 0 {
            stats.stop_reason = StopReason::MaxTokens;
            stats.time_to_first_token_ms = ms(t0);
            stats.prompt_ms = stats.time_to_first_token_ms;
            return Ok(stats);
        }
        let room = self.max_seq_len.map_or(usize::MAX, |n| n.saturating_sub(prompt.len()));
        let s = self.stream(prompt, sampling(params, params.max_tokens), Constraint::None, t0, on_text)?;
        let total = ms(t0);
        stats.generated_tokens = s.generated;
        stats.time_to_first_token_ms = s.first_ms.unwrap_or(total);
        stats.prompt_ms = stats.time_to_first_token_ms;
        stats.generation_ms = total - stats.time_to_first_token_ms;
        stats.stop_reason = stop_reason(&s, params.max_tokens, room);
        Ok(stats)
    }

    fn continuation_logprobs(&mut self, prompt: &str, continuation: &str) -> Result<Vec<f32>> {
        if prompt.is_empty() {
            return Err(Error::InvalidInput("cannot score a continuation of an empty prompt".into()));
        }
        if continuation.is_empty() {
            return Err(Error::InvalidInput("cannot score an empty continuation".into()));
        }
        let p = self.tokens(prompt)?;
        let c = self.tokens(continuation)?;
        if p.is_empty() || c.is_empty() {
            return Err(Error::InvalidInput("the prompt or continuation has no tokens".into()));
        }
        self.score_tokens(&p, &c)
    }

    fn supports_logprobs(&self) -> bool {
        true
    }

    fn context_size(&self) -> Option<usize> {
        self.max_seq_len
    }

    fn token_ids(&self, text: &str) -> Result<Vec<i32>> {
        self.tokens(text)?
            .into_iter()
            .map(|t| i32::try_from(t).map_err(|_| Error::Model(format!("token id {t} does not fit an i32"))))
            .collect()
    }

    fn tokenizer_key(&self) -> String {
        format!("{}:{}:mistralrs", self.name, self.file_size)
    }

    fn supports_constrained(&self) -> bool {
        true
    }

    fn constraint_method(&self) -> Option<String> {
        Some(
            "mistral.rs llguidance regex (each title slot: an alternation of the allowed titles; the \
             items carry no per-token scores, and a sampled reply ignores the seed)"
                .to_string(),
        )
    }

    fn generate_constrained(
        &mut self,
        messages: &[ChatMessage],
        params: &GenerationParams,
        constraint: &mut ListConstraint<'_>,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<GenerationStats> {
        check_params(params)?;
        let t0 = Instant::now();
        let prompt = self.apply_chat_template(messages)?;
        let mut stats = GenerationStats::default();
        let mut reply = String::new();
        let mut first: Option<f64> = None;
        let mut budget = params.max_tokens;
        let mut stop = StopReason::EndOfTurn;
        loop {
            if budget == 0 {
                stop = StopReason::MaxTokens;
                break;
            }
            let step = constraint.step();
            // `reply` is what the model reads: shown-only text (the caller's opening, reasons and
            // closing) is passed on but not added to it, as in the llama.cpp backend.
            let read = matches!(step, Step::Force(_));
            match step {
                Step::Stop => break,
                Step::Force(text) | Step::Show(text) => {
                    let n = self.tokens(&text)?.len();
                    if n > budget {
                        stop = StopReason::MaxTokens;
                        break;
                    }
                    budget -= n;
                    if read {
                        first.get_or_insert_with(|| ms(t0));
                        reply.push_str(&text);
                    }
                    if !on_text(&text) {
                        stop = StopReason::Cancelled;
                        break;
                    }
                }
                Step::Free => {
                    // The opening line (or, with free slots, a title): free tokens until the
                    // constraint says the part is over.
                    let tokens = self.tokens(&format!("{prompt}{reply}"))?;
                    self.check_fits(tokens.len() + 1)?;
                    stats.prompt_tokens = tokens.len();
                    let mut user_stop = false;
                    let s = self.stream(tokens, sampling(params, budget.min(64)), Constraint::None, t0, &mut |p| {
                        if !constraint.free_token(p, false) {
                            return false;
                        }
                        first.get_or_insert_with(|| ms(t0));
                        reply.push_str(p);
                        let go = on_text(p);
                        user_stop |= !go;
                        go
                    })?;
                    stats.generated_tokens += s.generated;
                    budget = budget.saturating_sub(s.generated);
                    if user_stop {
                        stop = StopReason::Cancelled;
                        break;
                    }
                    // However the part ended (the model's end of turn, the token bound), it is over.
                    if constraint.in_opening() || constraint.in_slot() {
                        constraint.free_token("", true);
                    }
                }
                Step::Choose { .. } => {
                    let options: Vec<String> = constraint.open_titles().into_iter().map(|(_, t)| t).collect();
                    if options.is_empty() {
                        constraint.end_list();
                        continue;
                    }
                    let regex = alternation_regex(&options);
                    let tokens = self.tokens(&format!("{prompt}{reply}"))?;
                    let longest = options.iter().map(|o| o.chars().count()).max().unwrap_or(1);
                    self.check_fits(tokens.len() + longest)?;
                    let answer = self.complete(tokens, sampling(params, longest + 8), Constraint::Regex(regex))?;
                    let Some(key) = constraint.resolve_open(answer.trim()) else {
                        constraint.record_unresolved(answer);
                        constraint.end_list();
                        continue;
                    };
                    let Some(text) = constraint.choose_title(key) else {
                        constraint.end_list();
                        continue;
                    };
                    let n = self.tokens(&text)?.len();
                    stats.generated_tokens += n;
                    budget = budget.saturating_sub(n);
                    first.get_or_insert_with(|| ms(t0));
                    reply.push_str(&text);
                    if !on_text(&text) {
                        stop = StopReason::Cancelled;
                        break;
                    }
                }
            }
        }
        let total = ms(t0);
        stats.time_to_first_token_ms = first.unwrap_or(total);
        stats.prompt_ms = stats.time_to_first_token_ms;
        stats.generation_ms = total - stats.time_to_first_token_ms;
        stats.stop_reason = stop;
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_softmax_matches_its_definition() {
        let row = [1.0f32, 2.0, 3.0];
        let z: f64 = row.iter().map(|&v| f64::from(v).exp()).sum();
        for (i, &v) in row.iter().enumerate() {
            let want = (f64::from(v) - z.ln()) as f32;
            assert!((log_softmax_at(&row, i) - want).abs() < 1e-6);
        }
        assert_eq!(log_softmax_at(&row, 3), f32::NEG_INFINITY);
    }

    #[test]
    fn alternations_factor_common_prefixes_and_escape() {
        let o = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(alternation_regex(&o(&[" Heat (1995)"])), r" Heat \(1995\)");
        assert_eq!(alternation_regex(&o(&["ab", "ac", "ab"])), "a(b|c)");
        assert_eq!(alternation_regex(&o(&["Alien", "Aliens", "Heat"])), "(Alien(s)?|Heat)");
        assert_eq!(alternation_regex(&o(&["a.b", "a*c"])), r"a(\*c|\.b)");
    }

    #[test]
    fn stop_reasons_follow_finish_reasons() {
        let s = |finish: Option<&str>, generated, cancelled| Streamed {
            generated,
            finish: finish.map(str::to_string),
            cancelled,
            first_ms: None,
        };
        assert_eq!(stop_reason(&s(Some("stop"), 3, false), 8, 100), StopReason::EndOfTurn);
        assert_eq!(stop_reason(&s(Some("length"), 7, false), 8, 100), StopReason::MaxTokens);
        assert_eq!(stop_reason(&s(Some("length"), 3, false), 8, 3), StopReason::ContextFull);
        assert_eq!(stop_reason(&s(Some("stop"), 3, true), 8, 100), StopReason::Cancelled);
        assert_eq!(stop_reason(&s(None, 8, false), 8, 100), StopReason::MaxTokens);
    }

    #[test]
    fn a_missing_or_bad_file_is_an_error_naming_it() {
        let err = MistralRsModel::load(Path::new("/nonexistent/model.gguf")).err().map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("/nonexistent/model.gguf"));
    }
}
