//! The remote backend: any OpenAI-compatible chat server (vLLM, llama.cpp's llama-server, SGLang,
//! the mistral.rs server, `curator serve` itself, or anything else that speaks
//! `POST /v1/chat/completions`) as a [`LanguageModel`].
//!
//! Replies stream over server-sent events (`stream: true`; one JSON chunk per `data:` line,
//! `data: [DONE]` last). A request that fails before anything was streamed is retried on a
//! connection error, 429 or 5xx, with exponential backoff (0.5 s, 1 s, 2 s, … at most 30 s, or the
//! server's `Retry-After` when it sends one); any other answer is an error that quotes the server's
//! status and message.
//!
//! Catalog-constrained lists ([`LanguageModel::generate_constrained`]) run the same
//! [`ListConstraint`] as the local backends, over a trie of Unicode scalar values (this backend's
//! [`token_ids`](LanguageModel::token_ids): one id per character, since a remote tokenizer is not
//! at hand). The forced text (markers, reasons, closing line) is Curator's; each title slot is one
//! request that continues the assistant's partial reply under the server's own structured output,
//! chosen by [`ServerKind`]:
//!
//! | server | continue the partial reply | constraint |
//! |---|---|---|
//! | vLLM | `continue_final_message`, `add_generation_prompt: false` | `structured_outputs: {"choice": [...]}` |
//! | llama-server | assistant prefill (its default) | `grammar`: a GBNF alternation |
//! | SGLang | `continue_final_message` | `regex`: an alternation of the escaped titles |
//! | mistral.rs server | assistant prefill | `grammar: {"type": "regex", "value": ...}` |
//! | `curator serve`, generic | — | none: one free reply, each list line resolved to an allowed title exactly |
//!
//! Where the server has no structured output, unresolved lines are counted
//! ([`ListConstraint::unresolved`]) and the list holds only the lines that resolved, so an item
//! named in a reply is still always one of the allowed titles.
//!
//! Continuation scores ([`LanguageModel::continuation_logprobs`]) come from vLLM's
//! `prompt_logprobs` (`POST /v1/completions`) and SGLang's `input_token_logprobs` (`POST
//! /generate` with `logprob_start_len`); the other servers do not return log-probabilities of
//! prompt tokens, so [`supports_logprobs`](LanguageModel::supports_logprobs) is `false` there and
//! the agent keeps the ranker's order.
//!
//! Invariants: no request field is sent that the chosen server kind does not understand (`curator
//! serve` refuses unknown fields by name); the API key is read from the environment
//! ([`API_KEY_ENVS`]) and never logged; no panic on any server answer.

use std::io::{BufRead, BufReader, Read};
use std::str::FromStr;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod wire;
pub use wire::{
    gbnf_alternation, list_titles, parse_sglang_input_logprobs, parse_vllm_prompt_logprobs, regex_escape, tail_logprobs,
};

use super::constrained::{ListConstraint, Step};
use super::{ChatMessage, GenerationParams, GenerationStats, LanguageModel, StopReason};
use crate::{Error, Result};

/// Environment variables read, in this order, for the bearer token sent to the server.
pub const API_KEY_ENVS: [&str; 2] = ["CURATOR_API_KEY", "OPENAI_API_KEY"];

/// Which OpenAI-compatible server is on the other end: decides the structured-output and
/// scoring fields sent (module docs' table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerKind {
    /// vLLM ≥ 0.12 (`structured_outputs`, `prompt_logprobs`).
    Vllm,
    /// llama.cpp's `llama-server` (`grammar` in GBNF).
    LlamaServer,
    /// SGLang (`regex`, `/generate` with `input_token_logprobs`).
    Sglang,
    /// The mistral.rs server (`grammar` as a regex).
    Mistralrs,
    /// `curator serve` (no structured output, no scores; its replies are Curator's own lists).
    Curator,
    /// Any other OpenAI-compatible server: plain chat completions only.
    Generic,
}

impl ServerKind {
    /// Every kind, in the order `--server-kind` lists them.
    pub const ALL: [ServerKind; 6] = [
        ServerKind::Vllm,
        ServerKind::LlamaServer,
        ServerKind::Sglang,
        ServerKind::Mistralrs,
        ServerKind::Curator,
        ServerKind::Generic,
    ];

    /// The name used on the command line and in the YAML config (`llama-server`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ServerKind::Vllm => "vllm",
            ServerKind::LlamaServer => "llama-server",
            ServerKind::Sglang => "sglang",
            ServerKind::Mistralrs => "mistralrs",
            ServerKind::Curator => "curator",
            ServerKind::Generic => "generic",
        }
    }

    /// Whether the server constrains a generation to a set of strings itself.
    pub fn has_structured_output(self) -> bool {
        !matches!(self, ServerKind::Curator | ServerKind::Generic)
    }

    /// Whether the server returns log-probabilities of prompt tokens (continuation scores).
    pub fn can_score(self) -> bool {
        matches!(self, ServerKind::Vllm | ServerKind::Sglang)
    }
}

impl FromStr for ServerKind {
    type Err = Error;

    /// Parses a name of [`ServerKind::as_str`]. Errors: [`Error::InvalidInput`] listing the names.
    fn from_str(s: &str) -> Result<Self> {
        ServerKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = ServerKind::ALL.iter().map(|k| k.as_str()).collect();
            Error::InvalidInput(format!("unknown server kind {s:?}: use one of {}", names.join(", ")))
        })
    }
}

/// Where and how to reach the server.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteOptions {
    /// Base URL up to and including `/v1`, e.g. `http://127.0.0.1:8000/v1` (a trailing `/` is
    /// dropped).
    pub base_url: String,
    /// The served model's name as `GET /v1/models` lists it (`curator` for `curator serve`).
    pub model: String,
    /// Bearer token; `None` sends no `Authorization` header.
    pub api_key: Option<String>,
    /// Which server it is.
    pub server_kind: ServerKind,
    /// Longest wait for one whole request, streamed body included. Default 120 s.
    pub timeout: Duration,
    /// Longest wait to connect. Default 10 s.
    pub connect_timeout: Duration,
    /// Extra tries after a connection error, 429 or 5xx. Default 3.
    pub retries: u32,
}

impl RemoteOptions {
    /// Options for `model` at `base_url` on a `server_kind` server, with the key from
    /// [`API_KEY_ENVS`] and the default timeouts and retries.
    pub fn new(base_url: &str, model: &str, server_kind: ServerKind) -> Self {
        RemoteOptions {
            base_url: base_url.trim_end_matches('/').to_string(),
            model: model.to_string(),
            api_key: api_key_from_env(),
            server_kind,
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
            retries: 3,
        }
    }
}

/// The first non-empty value of [`API_KEY_ENVS`].
pub fn api_key_from_env() -> Option<String> {
    API_KEY_ENVS.iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
}

/// A model served by an OpenAI-compatible server.
pub struct OpenAiModel {
    opts: RemoteOptions,
    client: reqwest::blocking::Client,
    name: String,
}

impl std::fmt::Debug for OpenAiModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiModel")
            .field("base_url", &self.opts.base_url)
            .field("model", &self.opts.model)
            .field("server_kind", &self.opts.server_kind)
            .finish()
    }
}

/// Most bytes of an error body quoted in an error message.
const QUOTE_BYTES: usize = 500;

impl OpenAiModel {
    /// Connects to the server and checks that it serves `opts.model` (`GET {base}/models`).
    ///
    /// Errors: [`Error::InvalidInput`] for a base URL that is not `http(s)://…`;
    /// [`Error::Model`] when the server cannot be reached or answers with an error (its status
    /// and message quoted); [`Error::Missing`] when its model list does not name `opts.model`
    /// (the served names listed). A server without a `/models` route (404) is accepted; the
    /// first request then names any problem.
    pub fn connect(opts: RemoteOptions) -> Result<Self> {
        if !(opts.base_url.starts_with("http://") || opts.base_url.starts_with("https://")) {
            return Err(Error::InvalidInput(format!(
                "base URL {:?} must start with http:// or https:// (e.g. http://127.0.0.1:8000/v1)",
                opts.base_url
            )));
        }
        if opts.model.trim().is_empty() {
            return Err(Error::InvalidInput("the remote backend needs a model name (--model)".into()));
        }
        let client = reqwest::blocking::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.connect_timeout)
            .build()
            .map_err(|e| Error::Model(format!("cannot build an HTTP client: {e}")))?;
        let name = format!("{} at {} ({})", opts.model, opts.base_url, opts.server_kind.as_str());
        let model = OpenAiModel { opts, client, name };
        model.check_model()?;
        Ok(model)
    }

    /// The options it was made with.
    pub fn options(&self) -> &RemoteOptions {
        &self.opts
    }

    fn check_model(&self) -> Result<()> {
        let url = format!("{}/models", self.opts.base_url);
        let resp = self.send(|c| c.get(&url))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            tracing::warn!("{url}: no model list (404); not checking that {} is served", self.opts.model);
            return Ok(());
        }
        let resp = check_status(&url, resp)?;
        let body = read_json(&url, resp)?;
        let served: Vec<String> = body["data"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| m["id"].as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        if served.iter().any(|m| m == &self.opts.model) {
            Ok(())
        } else {
            Err(Error::Missing(format!(
                "model {:?} is not served at {} (it serves: {})",
                self.opts.model,
                self.opts.base_url,
                if served.is_empty() { "nothing".to_string() } else { served.join(", ") }
            )))
        }
    }

    /// Sends the request built by `build`, retrying connection errors, 429 and 5xx with backoff.
    /// Returns the last response (whatever its status) or the last connection error.
    fn send(
        &self,
        build: impl Fn(&reqwest::blocking::Client) -> reqwest::blocking::RequestBuilder,
    ) -> Result<reqwest::blocking::Response> {
        let mut attempt = 0u32;
        loop {
            let mut req = build(&self.client);
            if let Some(key) = &self.opts.api_key {
                req = req.bearer_auth(key);
            }
            let retry_after = match req.send() {
                Ok(resp) => {
                    let s = resp.status();
                    if !(s == reqwest::StatusCode::TOO_MANY_REQUESTS || s.is_server_error())
                        || attempt >= self.opts.retries
                    {
                        return Ok(resp);
                    }
                    resp.headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<f64>().ok())
                        .filter(|s| s.is_finite() && *s >= 0.0)
                }
                Err(e) if attempt >= self.opts.retries || !(e.is_connect() || e.is_timeout()) => {
                    return Err(Error::Model(format!("cannot reach {}: {e}", self.opts.base_url)));
                }
                Err(_) => None,
            };
            let wait = retry_after.unwrap_or(0.5 * f64::from(1u32 << attempt.min(6))).min(30.0);
            tracing::debug!("retrying {} in {wait:.1} s (attempt {})", self.opts.base_url, attempt + 1);
            std::thread::sleep(Duration::from_secs_f64(wait));
            attempt += 1;
        }
    }

    /// The chat request body: the messages, sampling and, with `extra`, server-specific fields.
    fn chat_body(&self, messages: &[Value], params: &GenerationParams, stream: bool, extra: Option<Value>) -> Value {
        let mut body = json!({
            "model": self.opts.model,
            "messages": messages,
            "stream": stream,
            "max_tokens": params.max_tokens.max(1),
            "temperature": params.temperature,
        });
        if params.temperature > 0.0 {
            body["top_p"] = json!(params.top_p);
            body["seed"] = json!(params.seed);
        }
        if stream && self.opts.server_kind != ServerKind::Curator {
            body["stream_options"] = json!({"include_usage": true});
        }
        if let (Some(Value::Object(extra)), Some(obj)) = (extra, body.as_object_mut()) {
            obj.extend(extra);
        }
        body
    }

    /// Streams one chat completion, handing each content delta to `on_text` (which returns
    /// `false` to stop: the connection is then dropped). Returns the stats.
    fn stream_chat(&self, body: &Value, on_text: &mut dyn FnMut(&str) -> bool) -> Result<GenerationStats> {
        let t0 = Instant::now();
        let url = format!("{}/chat/completions", self.opts.base_url);
        let resp = check_status(&url, self.send(|c| post_json(c, &url, body))?)?;
        read_chat_stream(BufReader::new(resp), &url, t0, on_text)
    }

    /// One non-streamed chat completion's text.
    fn complete_chat(&self, body: &Value) -> Result<String> {
        let url = format!("{}/chat/completions", self.opts.base_url);
        let resp = check_status(&url, self.send(|c| post_json(c, &url, body))?)?;
        let v = read_json(&url, resp)?;
        v["choices"][0]["message"]["content"].as_str().map(str::to_string).ok_or_else(|| {
            Error::Model(format!("{url}: the answer has no choices[0].message.content: {}", quote(&v.to_string())))
        })
    }

    /// The server-specific fields that continue the last (assistant) message under a choice among
    /// `options` (module docs' table); `None` for a server without structured output.
    fn choice_fields(&self, options: &[String]) -> Option<Value> {
        let alternation = || options.iter().map(|o| regex_escape(o)).collect::<Vec<_>>().join("|");
        match self.opts.server_kind {
            ServerKind::Vllm => Some(json!({
                "continue_final_message": true,
                "add_generation_prompt": false,
                "structured_outputs": {"choice": options},
            })),
            ServerKind::Sglang => Some(json!({
                "continue_final_message": true,
                "regex": format!("({})", alternation()),
            })),
            ServerKind::LlamaServer => Some(json!({ "grammar": gbnf_alternation(options) })),
            ServerKind::Mistralrs => {
                Some(json!({ "grammar": {"type": "regex", "value": format!("({})", alternation())} }))
            }
            ServerKind::Curator | ServerKind::Generic => None,
        }
    }

    /// Log-probabilities of the last prompt tokens that spell `continuation`, from vLLM's
    /// `prompt_logprobs`.
    fn score_vllm(&self, prompt: &str, continuation: &str) -> Result<Vec<f32>> {
        let url = format!("{}/completions", self.opts.base_url);
        let body = json!({
            "model": self.opts.model,
            "prompt": format!("{prompt}{continuation}"),
            "max_tokens": 1,
            "temperature": 0.0,
            "prompt_logprobs": 0,
        });
        let resp = check_status(&url, self.send(|c| post_json(c, &url, &body))?)?;
        let v = read_json(&url, resp)?;
        let tokens = parse_vllm_prompt_logprobs(&v).ok_or_else(|| {
            Error::Model(format!("{url}: no choices[0].prompt_logprobs in {}", quote(&v.to_string())))
        })?;
        tail_logprobs(&tokens, continuation)
    }

    /// The same from SGLang's native `/generate` (`input_token_logprobs`).
    fn score_sglang(&self, prompt: &str, continuation: &str) -> Result<Vec<f32>> {
        let root = self.opts.base_url.trim_end_matches("/v1");
        let url = format!("{root}/generate");
        let body = json!({
            "text": format!("{prompt}{continuation}"),
            "sampling_params": {"max_new_tokens": 0, "temperature": 0.0},
            "return_logprob": true,
            "logprob_start_len": 0,
            "return_text_in_logprobs": true,
        });
        let resp = check_status(&url, self.send(|c| post_json(c, &url, &body))?)?;
        let v = read_json(&url, resp)?;
        let tokens = parse_sglang_input_logprobs(&v).ok_or_else(|| {
            Error::Model(format!("{url}: no meta_info.input_token_logprobs in {}", quote(&v.to_string())))
        })?;
        tail_logprobs(&tokens, continuation)
    }
}

/// A POST of `body` as JSON.
/// Reads an OpenAI chat-completions event stream (server-sent events: `data: {chunk}` lines,
/// `data: [DONE]` last; other lines are skipped) from `reader`, handing each content delta to
/// `on_text` (which returns `false` to stop). `url` names the server in errors; `t0` is when the
/// request was sent (for the timings). Returns the turn's statistics: token counts from a
/// `usage` chunk when the server sends one (else the number of content chunks), and the stop
/// reason from `finish_reason`.
///
/// Errors: [`Error::Model`] when the stream breaks off or is not UTF-8, a chunk is not JSON, or
/// the server reports an error mid-stream.
pub fn read_chat_stream(
    mut reader: impl BufRead,
    url: &str,
    t0: Instant,
    on_text: &mut dyn FnMut(&str) -> bool,
) -> Result<GenerationStats> {
    let mut stats = GenerationStats::default();
    let mut first: Option<f64> = None;
    let mut chunks = 0usize;
    let mut usage_tokens: Option<usize> = None;
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line).map_err(|e| Error::Model(format!("{url}: stream broke off: {e}")))?;
        if n == 0 {
            break;
        }
        let Some(data) = line.trim_end().strip_prefix("data:") else { continue };
        let data = data.trim();
        if data == "[DONE]" {
            break;
        }
        let chunk: Value = serde_json::from_str(data)
            .map_err(|e| Error::Model(format!("{url}: a stream chunk is not JSON ({e}): {}", quote(data))))?;
        if let Some(msg) = chunk["error"]["message"].as_str() {
            return Err(Error::Model(format!("{url}: the server reported an error mid-stream: {msg}")));
        }
        if let Some(u) = chunk.get("usage").filter(|u| u.is_object()) {
            stats.prompt_tokens = u["prompt_tokens"].as_u64().unwrap_or(0) as usize;
            stats.cached_prompt_tokens = u["prompt_tokens_details"]["cached_tokens"].as_u64().unwrap_or(0) as usize;
            usage_tokens = u["completion_tokens"].as_u64().map(|n| n as usize);
        }
        let Some(choice) = chunk["choices"].get(0) else { continue };
        if let Some(text) = choice["delta"]["content"].as_str().filter(|t| !t.is_empty()) {
            let now = ms(t0);
            first.get_or_insert(now);
            chunks += 1;
            if !on_text(text) {
                stats.stop_reason = StopReason::Cancelled;
                break;
            }
        }
        match choice["finish_reason"].as_str() {
            Some("length") => stats.stop_reason = StopReason::MaxTokens,
            Some(_) if stats.stop_reason != StopReason::Cancelled => stats.stop_reason = StopReason::EndOfTurn,
            _ => {}
        }
    }
    let total = ms(t0);
    stats.time_to_first_token_ms = first.unwrap_or(total);
    stats.prompt_ms = stats.time_to_first_token_ms;
    stats.generation_ms = total - stats.time_to_first_token_ms;
    stats.generated_tokens = usage_tokens.unwrap_or(chunks);
    Ok(stats)
}

fn post_json(c: &reqwest::blocking::Client, url: &str, body: &Value) -> reqwest::blocking::RequestBuilder {
    c.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body.to_string())
}

/// The response body as JSON. Errors: [`Error::Model`] naming `url` when it is not JSON.
fn read_json(url: &str, resp: reqwest::blocking::Response) -> Result<Value> {
    serde_json::from_reader(resp).map_err(|e| Error::Model(format!("{url}: the answer is not JSON: {e}")))
}

fn ms(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64() * 1e3
}

/// `s` cut to [`QUOTE_BYTES`] at a character boundary.
fn quote(s: &str) -> String {
    let cut = crate::util::cut_at_char_boundary(s, QUOTE_BYTES);
    if cut.len() < s.len() {
        format!("{cut}…")
    } else {
        cut.to_string()
    }
}

/// `resp` when its status is 2xx, else an error quoting the status and the server's message
/// (`error.message` of an OpenAI error body, else the body's start).
fn check_status(url: &str, resp: reqwest::blocking::Response) -> Result<reqwest::blocking::Response> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let mut body = String::new();
    let _ = resp.take(64 * 1024).read_to_string(&mut body);
    let message = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| {
            v["error"]["message"].as_str().or(v["message"].as_str()).or(v["detail"].as_str()).map(str::to_string)
        })
        .unwrap_or_else(|| quote(body.trim()));
    Err(Error::Model(format!("{url} answered {status}: {message}")))
}

impl LanguageModel for OpenAiModel {
    fn name(&self) -> &str {
        &self.name
    }

    /// A ChatML rendering (`<|im_start|>role\ncontent<|im_end|>\n`, then `<|im_start|>assistant\n`):
    /// the server applies its own template to the messages, which this text only approximates
    /// (it is what the agent measures and caches against, never what the server sees).
    fn apply_chat_template(&self, messages: &[ChatMessage]) -> Result<String> {
        let mut out = String::new();
        for m in messages {
            if m.content.contains('\0') {
                return Err(Error::Model("a message contains a NUL byte".into()));
            }
            out.push_str(&format!("<|im_start|>{}\n{}<|im_end|>\n", m.role.as_str(), m.content));
        }
        out.push_str("<|im_start|>assistant\n");
        Ok(out)
    }

    fn generate(
        &mut self,
        messages: &[ChatMessage],
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<GenerationStats> {
        check_params(params)?;
        let body = self.chat_body(&wire_messages(messages, None), params, true, None);
        self.stream_chat(&body, on_text)
    }

    fn continuation_logprobs(&mut self, prompt: &str, continuation: &str) -> Result<Vec<f32>> {
        if prompt.is_empty() || continuation.is_empty() {
            return Err(Error::InvalidInput("empty prompt or continuation".into()));
        }
        match self.opts.server_kind {
            ServerKind::Vllm => self.score_vllm(prompt, continuation),
            ServerKind::Sglang => self.score_sglang(prompt, continuation),
            k => Err(Error::Model(format!(
                "{} cannot score continuations: a {} server returns no prompt log-probabilities",
                self.name,
                k.as_str()
            ))),
        }
    }

    fn supports_logprobs(&self) -> bool {
        self.opts.server_kind.can_score()
    }

    /// One id per Unicode scalar value (its code point): the remote tokenizer is not at hand, and
    /// character ids make the title trie a character trie.
    fn token_ids(&self, text: &str) -> Result<Vec<i32>> {
        Ok(text.chars().map(|c| c as i32).collect())
    }

    fn tokenizer_key(&self) -> String {
        "unicode-scalar-values".to_string()
    }

    fn supports_constrained(&self) -> bool {
        true
    }

    fn constraint_method(&self) -> Option<String> {
        Some(match self.opts.server_kind {
            ServerKind::Vllm => "server structured output (vLLM structured_outputs.choice)".to_string(),
            ServerKind::LlamaServer => "server grammar (llama-server GBNF alternation)".to_string(),
            ServerKind::Sglang => "server regex (SGLang)".to_string(),
            ServerKind::Mistralrs => "server grammar (mistral.rs regex)".to_string(),
            k => format!("none on a {} server: free reply, list lines resolved to allowed titles exactly", k.as_str()),
        })
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
        let structured = self.opts.server_kind.has_structured_output();
        let mut reply = String::new();
        let mut stats = GenerationStats::default();
        let mut first: Option<f64> = None;
        // Without structured output: one free reply; its opening is the opening, its list lines
        // the titles (resolved exactly against the allowed ones, in order).
        let mut queue: std::collections::VecDeque<u32> = Default::default();
        let mut free_opening: Option<String> = None;
        if !structured {
            let body = self.chat_body(&wire_messages(messages, None), params, true, None);
            let mut text = String::new();
            let s = self.stream_chat(&body, &mut |p| {
                text.push_str(p);
                true
            })?;
            stats.prompt_tokens = s.prompt_tokens;
            stats.generated_tokens = s.generated_tokens;
            first = Some(s.time_to_first_token_ms);
            for title in list_titles(&text) {
                match constraint.resolve_open(&title) {
                    Some(key) if !queue.contains(&key) => queue.push_back(key),
                    _ => constraint.record_unresolved(title),
                }
            }
            constraint.limit_items(queue.len());
            free_opening = Some(text.lines().next().unwrap_or_default().to_string());
        }
        let mut cancelled = false;
        fn emit(
            piece: &str,
            reply: &mut String,
            first: &mut Option<f64>,
            t0: Instant,
            on_text: &mut dyn FnMut(&str) -> bool,
        ) -> bool {
            first.get_or_insert_with(|| ms(t0));
            reply.push_str(piece);
            on_text(piece)
        }
        loop {
            match constraint.step() {
                Step::Stop => break,
                Step::Free => {
                    if let Some(opening) = free_opening.take() {
                        if !opening.is_empty() && constraint.free_token(&opening, false) {
                            cancelled = !emit(&opening, &mut reply, &mut first, t0, on_text);
                        }
                    } else if structured {
                        let intro = GenerationParams { max_tokens: params.max_tokens.min(64), ..params.clone() };
                        let extra = json!({"stop": ["\n"]});
                        let body = self.chat_body(&wire_messages(messages, None), &intro, true, Some(extra));
                        let s = self.stream_chat(&body, &mut |p| {
                            if !constraint.free_token(p, false) {
                                return false;
                            }
                            first.get_or_insert_with(|| ms(t0));
                            reply.push_str(p);
                            let go = on_text(p);
                            cancelled |= !go;
                            go
                        })?;
                        stats.prompt_tokens = s.prompt_tokens;
                        stats.generated_tokens += s.generated_tokens;
                    }
                    if cancelled {
                        break;
                    }
                    // However the opening ended, the list starts now.
                    // (`step` is not asked: it would consume the list's first marker when the
                    // opening already ended at a sentence end.)
                    if constraint.in_opening() {
                        constraint.free_token("\n", true);
                    }
                }
                Step::Force(text) => {
                    if !emit(&text, &mut reply, &mut first, t0, on_text) {
                        cancelled = true;
                        break;
                    }
                }
                // Shown only: `reply` is what the server continues, the model's own part of the
                // reply (as in the llama.cpp backend, it does not read the caller's text).
                Step::Show(text) => {
                    if !on_text(&text) {
                        cancelled = true;
                        break;
                    }
                }
                Step::Choose { .. } => {
                    let key = if structured {
                        let options: Vec<String> = constraint.open_titles().into_iter().map(|(_, t)| t).collect();
                        let mut wire = wire_messages(messages, Some(&reply));
                        if wire.is_empty() {
                            wire.push(json!({"role": "assistant", "content": reply}));
                        }
                        let longest = options.iter().map(|o| o.chars().count()).max().unwrap_or(1);
                        let slot = GenerationParams { max_tokens: longest + 8, ..params.clone() };
                        let extra = self.choice_fields(&options);
                        let body = self.chat_body(&wire, &slot, false, extra);
                        let answer = self.complete_chat(&body)?;
                        stats.generated_tokens += 1;
                        let key = constraint.resolve_open(answer.trim());
                        if key.is_none() {
                            constraint.record_unresolved(answer.clone());
                        }
                        key
                    } else {
                        queue.pop_front()
                    };
                    let Some(key) = key else {
                        constraint.end_list();
                        continue;
                    };
                    match constraint.choose_title(key) {
                        Some(text) => {
                            if !emit(&text, &mut reply, &mut first, t0, on_text) {
                                cancelled = true;
                                break;
                            }
                        }
                        None => constraint.end_list(),
                    }
                }
            }
        }
        let total = ms(t0);
        stats.time_to_first_token_ms = first.unwrap_or(total);
        stats.prompt_ms = stats.time_to_first_token_ms;
        stats.generation_ms = total - stats.time_to_first_token_ms;
        if cancelled {
            stats.stop_reason = StopReason::Cancelled;
        }
        Ok(stats)
    }
}

/// The parameters' ranges, as the local backend checks them. Errors: [`Error::InvalidInput`].
pub(crate) fn check_params(params: &GenerationParams) -> Result<()> {
    if !(params.top_p > 0.0 && params.top_p <= 1.0) {
        return Err(Error::InvalidInput(format!("top_p {} must be in (0, 1]", params.top_p)));
    }
    if !(params.temperature.is_finite() && params.temperature >= 0.0) {
        return Err(Error::InvalidInput(format!("temperature {} must be finite and >= 0", params.temperature)));
    }
    Ok(())
}

/// `messages` as OpenAI wire messages, with `partial` appended as an assistant message to be
/// continued.
fn wire_messages(messages: &[ChatMessage], partial: Option<&str>) -> Vec<Value> {
    let mut out: Vec<Value> = messages.iter().map(|m| json!({"role": m.role.as_str(), "content": m.content})).collect();
    if let Some(p) = partial {
        out.push(json!({"role": "assistant", "content": p}));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_kinds_parse_and_say_what_they_support() {
        for k in ServerKind::ALL {
            assert_eq!(k.as_str().parse::<ServerKind>().ok(), Some(k));
        }
        let err = "vllm2".parse::<ServerKind>().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("llama-server") && err.contains("vllm2"), "{err}");
        assert!(ServerKind::Vllm.can_score() && ServerKind::Sglang.can_score());
        assert!(!ServerKind::LlamaServer.can_score() && !ServerKind::Curator.can_score());
        assert!(!ServerKind::Generic.has_structured_output());
    }

    #[test]
    fn a_bad_base_url_is_refused_before_any_request() {
        let opts = RemoteOptions::new("localhost:8000/v1", "m", ServerKind::Generic);
        let err = OpenAiModel::connect(opts).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("must start with http://"), "{err}");
        let mut opts = RemoteOptions::new("http://127.0.0.1:9/v1", "m", ServerKind::Generic);
        opts.retries = 0;
        opts.connect_timeout = Duration::from_secs(2);
        let err = OpenAiModel::connect(opts).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("cannot reach http://127.0.0.1:9/v1"), "{err}");
    }
}
