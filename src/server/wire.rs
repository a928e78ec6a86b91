//! Wire types of the HTTP API: every JSON body the server reads or writes, in one place.
//!
//! The chat types follow OpenAI's Chat Completions API (`/v1/chat/completions`), so unmodified
//! OpenAI clients work; Curator's additions are extension fields that such clients ignore or
//! expose as extra attributes: `session_id` (request and response) and `recommendations`
//! (response, and one streamed chunk). No request field is ignored: the sampling fields
//! (`temperature`, `top_p`, `seed`), `max_tokens` (or `max_completion_tokens`), `stop` and `user`
//! are honoured; any other field is refused with a 400 naming it unless its value changes
//! nothing (`n: 1`, `presence_penalty: 0`, `frequency_penalty: 0`, `logprobs: false`,
//! `logit_bias: {}`, `tools: []`, `response_format: {"type": "text"}`, …).

use serde::{Deserialize, Serialize};

use crate::agent::Recommendation;
use crate::catalog::ItemId;
use crate::knowledge::Attribute;

/// One message of a chat request. `content` is kept as raw JSON and checked by
/// [`ChatMessageIn::text`], so that a wrong shape gets a precise error.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatMessageIn {
    /// `system`, `developer`, `user`, `assistant` or `tool`.
    pub role: String,
    /// A string, an array of content parts (`{"type": "text", "text": …}`), or null.
    #[serde(default)]
    pub content: serde_json::Value,
    /// Every other field of the message, checked by [`ChatMessageIn::unsupported_field`]: a
    /// client that echoes a response message back sends `refusal: null`, `annotations: []`, ….
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl ChatMessageIn {
    /// The first field besides `role` and `content` whose value would change the message's
    /// meaning, which Curator cannot honour: anything but a participant `name` (one seeker per
    /// conversation, so it changes nothing), a `tool_call_id` (tool messages are skipped), and
    /// the fields of an echoed response message when empty (`refusal`, `tool_calls`,
    /// `function_call`, `audio`, `annotations`: null or `[]`). `None` when every field passes.
    pub fn unsupported_field(&self) -> Option<(&str, &serde_json::Value)> {
        use serde_json::Value;
        self.other
            .iter()
            .find(|(k, v)| {
                let passes = match (k.as_str(), v) {
                    ("name" | "tool_call_id", Value::String(_)) => true,
                    ("refusal" | "tool_calls" | "function_call" | "audio" | "annotations", Value::Null) => true,
                    ("tool_calls" | "annotations", Value::Array(a)) => a.is_empty(),
                    _ => false,
                };
                !passes
            })
            .map(|(k, v)| (k.as_str(), v))
    }

    /// The message's text: the string, or the text parts joined by newlines (other part types
    /// are refused); `None` for a null content. `Err` names what is wrong with the shape.
    pub fn text(&self) -> Result<Option<String>, String> {
        match &self.content {
            serde_json::Value::Null => Ok(None),
            serde_json::Value::String(s) => Ok(Some(s.clone())),
            serde_json::Value::Array(parts) => {
                let mut out = Vec::with_capacity(parts.len());
                for (j, part) in parts.iter().enumerate() {
                    match (part.get("type").and_then(|t| t.as_str()), part.get("text").and_then(|t| t.as_str())) {
                        (Some("text"), Some(t)) => out.push(t),
                        (Some(other), _) if other != "text" => {
                            return Err(format!("content[{j}] has type {other:?}; only \"text\" parts are supported"))
                        }
                        _ => return Err(format!("content[{j}] must be {{\"type\": \"text\", \"text\": string}}")),
                    }
                }
                Ok(Some(out.join("\n")))
            }
            other => Err(format!("content must be a string or an array of text parts, not {}", json_kind(other))),
        }
    }
}

/// The JSON kind of a value, for error messages.
pub(crate) fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// `POST /v1/chat/completions` request body (OpenAI Chat Completions, plus `session_id`).
#[derive(Debug, Clone, Deserialize)]
pub struct ChatCompletionRequest {
    /// Model id; must be one of `GET /v1/models` when given: `curator` (the default catalog) or
    /// `curator-NAME` (catalog NAME). Absent: the default catalog, or a stored session's own.
    #[serde(default)]
    pub model: Option<String>,
    /// Extension: the catalog (`NAME`, as in `curator-NAME`); must agree with `model` when both
    /// are given, and with a stored session's catalog.
    #[serde(default)]
    pub catalog: Option<String>,
    /// The conversation. Stateless use: the whole dialogue, the last message from the user.
    /// With `session_id`: the stored session holds the history, only the last (user) message is read.
    pub messages: Vec<ChatMessageIn>,
    /// Stream the reply as server-sent events (`chat.completion.chunk` objects, then `[DONE]`).
    #[serde(default)]
    pub stream: Option<bool>,
    /// Streaming options; `include_usage` adds a final chunk with token usage.
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    /// Extension: continue the stored session with this id (1–64 of `A-Z a-z 0-9 _ -`); an
    /// unknown id starts a new session under that id; an expired or evicted one answers 404
    /// (`session_expired`, `session_evicted`). Omitted: a new session is created from
    /// `messages` and its id is returned.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Most tokens of the reply (1–4096), counted as `usage.completion_tokens` counts them: the
    /// model's own tokens and the list text the agent feeds through it (markers, reasons, the
    /// closing line). When reached, the reply ends there with `finish_reason: "length"` and lists
    /// only the items it names in full. Without a model (`--no-model`) no token is generated
    /// and nothing is cut.
    #[serde(default)]
    pub max_tokens: Option<u64>,
    /// OpenAI's newer name for `max_tokens` (the same bound; send one of the two).
    #[serde(default)]
    pub max_completion_tokens: Option<u64>,
    /// Sampling temperature of the model's text, 0–2 (0: greedy, the default).
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Nucleus sampling mass, in (0, 1] (default 0.95; used when `temperature` > 0).
    #[serde(default)]
    pub top_p: Option<f64>,
    /// Seed of the sampler: the same seed, dialogue and parameters give the same reply. Any
    /// integer (folded to 32 bits).
    #[serde(default)]
    pub seed: Option<i64>,
    /// Up to 4 stop sequences (a string or an array of strings, 1–200 bytes each): the reply ends
    /// before the first one, which is not returned.
    #[serde(default)]
    pub stop: Option<StopField>,
    /// An end-user id (OpenAI's abuse-monitoring hint): accepted (at most 256 bytes) and not
    /// used otherwise.
    #[serde(default)]
    pub user: Option<String>,
    /// Every other field, checked by the handler: refused unless its value changes nothing.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// OpenAI's `stop`: one string or an array of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StopField {
    /// One stop sequence.
    One(String),
    /// Several.
    Many(Vec<String>),
}

/// OpenAI's `stream_options`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamOptions {
    /// Send a last chunk with `usage` and no choices before `[DONE]`.
    #[serde(default)]
    pub include_usage: bool,
}

/// Model tokens of a completion, from the language model's statistics for the turn
/// ([`crate::llm::GenerationStats`]); a turn answered without the model counts 0 and 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Tokens of the prompt the model read (its chat template, the dialogue window and the
    /// tools' results), cached ones included.
    pub prompt_tokens: usize,
    /// Tokens the model decoded: its opening line and the titles it chose, and the text the
    /// agent feeds through it after each title (list markers, the reasons drawn from the
    /// knowledge graph and catalog, the closing line).
    pub completion_tokens: usize,
    /// The sum of both.
    pub total_tokens: usize,
}

impl Usage {
    /// The usage of a turn whose model statistics are `generation` (`None`: no model ran).
    pub fn of(generation: Option<&crate::llm::GenerationStats>) -> Self {
        let (prompt_tokens, completion_tokens) =
            generation.map(|g| (g.prompt_tokens, g.generated_tokens)).unwrap_or((0, 0));
        Usage { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens }
    }
}

/// The assistant's message in a non-streamed completion.
#[derive(Debug, Clone, Serialize)]
pub struct ChatMessageOut {
    /// Always `assistant`.
    pub role: &'static str,
    /// The whole reply: an opening sentence, numbered recommendations with reasons, a closing line.
    pub content: String,
}

/// One choice of a non-streamed completion (Curator always returns exactly one).
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    /// Always 0.
    pub index: u32,
    /// The reply.
    pub message: ChatMessageOut,
    /// `stop` (the reply is complete, or a stop sequence ended it) or `length` (`max_tokens`
    /// reached).
    pub finish_reason: &'static str,
    /// Always null (log-probabilities are not offered).
    pub logprobs: Option<()>,
}

/// `POST /v1/chat/completions` response when `stream` is false (`object: "chat.completion"`).
#[derive(Debug, Clone, Serialize)]
pub struct ChatCompletion {
    /// `chatcmpl-…`, unique per response.
    pub id: String,
    /// Always `chat.completion`.
    pub object: &'static str,
    /// Unix time (seconds) of the response.
    pub created: u64,
    /// The model id that answered.
    pub model: String,
    /// Exactly one choice.
    pub choices: Vec<Choice>,
    /// Approximate token counts (see [`Usage`]).
    pub usage: Usage,
    /// Extension: the session this turn was stored in; send it back to continue.
    pub session_id: String,
    /// Extension: the recommended items of this turn, best first, with catalog ids, titles,
    /// fused ranker scores and grounded reasons (the same items the reply lists).
    pub recommendations: Vec<Recommendation>,
}

/// The `delta` of a streamed chunk.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Delta {
    /// `assistant` in the first chunk only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    /// A piece of the reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// One choice of a streamed chunk.
#[derive(Debug, Clone, Serialize)]
pub struct ChunkChoice {
    /// Always 0.
    pub index: u32,
    /// The new piece.
    pub delta: Delta,
    /// `stop` or `length` in the last chunk of the reply (as [`Choice::finish_reason`]), null
    /// before.
    pub finish_reason: Option<&'static str>,
    /// Always null.
    pub logprobs: Option<()>,
}

/// One server-sent event of a streamed completion (`object: "chat.completion.chunk"`).
/// Sequence: a chunk with `delta.role`, text chunks (one carries the `recommendations`
/// extension field, sent when the ranked list is known, before its lines), a chunk with
/// `finish_reason: "stop"` (sent only once the turn is stored), optionally a usage chunk, then
/// `data: [DONE]`.
#[derive(Debug, Clone, Serialize)]
pub struct ChatCompletionChunk {
    /// Same id for every chunk of one response.
    pub id: String,
    /// Always `chat.completion.chunk`.
    pub object: &'static str,
    /// Unix time (seconds) of the response.
    pub created: u64,
    /// The model id that answers.
    pub model: String,
    /// One choice, or none in the usage chunk.
    pub choices: Vec<ChunkChoice>,
    /// Extension: the session id (every chunk).
    pub session_id: String,
    /// Extension: the recommended items, in one chunk only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendations: Option<Vec<Recommendation>>,
    /// Token counts, in the usage chunk only (`stream_options.include_usage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// One entry of `GET /v1/models`.
#[derive(Debug, Clone, Serialize)]
pub struct ModelCard {
    /// The id to send as `model`: `curator` (the default catalog) or `curator-NAME`.
    pub id: String,
    /// The catalog it recommends from (`NAME`: the folder under `catalogs/`).
    pub catalog: String,
    /// What the catalog's items are called, plural (its `catalog.yaml` `items`: "movies").
    pub items: String,
    /// Always `model`.
    pub object: &'static str,
    /// Unix time (seconds) the server started.
    pub created: u64,
    /// Always `curator`.
    pub owned_by: &'static str,
}

/// `GET /v1/models` response.
#[derive(Debug, Clone, Serialize)]
pub struct ModelList {
    /// Always `list`.
    pub object: &'static str,
    /// The models this server answers as.
    pub data: Vec<ModelCard>,
}

/// `POST /v1/recommend` request: a dialogue or a session, no text generation. Unknown fields
/// are refused (400 naming them).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecommendRequest {
    /// The catalog's model id (`curator`, `curator-NAME`; see `GET /v1/models`); absent: the
    /// default catalog, or the session's.
    #[serde(default)]
    pub model: Option<String>,
    /// The catalog (`NAME`); must agree with `model` and with the session's catalog.
    #[serde(default)]
    pub catalog: Option<String>,
    /// The dialogue (same shape as chat messages); user messages are the seeker's, assistant
    /// messages the recommender's. Required unless `session_id` is given; with a session, these
    /// messages are read as new seeker/recommender turns after the stored ones (not stored).
    #[serde(default)]
    pub messages: Option<Vec<ChatMessageIn>>,
    /// A stored session (its dialogue state and feedback are used; nothing is written).
    #[serde(default)]
    pub session_id: Option<String>,
    /// How many items (1–100, default 10).
    #[serde(default)]
    pub k: Option<u64>,
}

/// `POST /v1/recommend` response.
#[derive(Debug, Clone, Serialize)]
pub struct RecommendResponse {
    /// Always `recommendation.list`.
    pub object: &'static str,
    /// The model (catalog) that ranked: `curator-NAME`.
    pub model: String,
    /// The session read, if any.
    pub session_id: Option<String>,
    /// Ranked items, best first, each with id, title, reason and score.
    pub items: Vec<Recommendation>,
    /// Items the seeker likes, as the dialogue state reads them.
    pub liked: Vec<ItemRef>,
    /// Items the seeker dislikes.
    pub disliked: Vec<ItemRef>,
}

/// A catalog item by id and display title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemRef {
    /// Catalog id.
    pub id: ItemId,
    /// "Title (Year)".
    pub title: String,
}

/// `POST /v1/feedback` request: the seeker likes or dislikes an item in a session.
#[derive(Debug, Clone, Deserialize)]
pub struct FeedbackRequest {
    /// The session (must exist).
    pub session_id: String,
    /// Catalog id of the item (e.g. from `recommendations[].id`).
    pub item_id: ItemId,
    /// `like`, `dislike` or `seen` (a seen item is never recommended again).
    pub rating: String,
}

/// `POST /v1/feedback` response.
#[derive(Debug, Clone, Serialize)]
pub struct FeedbackResponse {
    /// Always `feedback`.
    pub object: &'static str,
    /// The session.
    pub session_id: String,
    /// The item rated.
    pub item: ItemRef,
    /// `like` or `dislike`.
    pub rating: String,
}

/// One stored message of a session (`GET /v1/sessions/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredMessage {
    /// `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// `GET /v1/sessions/{id}` response.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    /// Always `session`.
    pub object: &'static str,
    /// The model (catalog) of the session: `curator-NAME`.
    pub model: String,
    /// The session id.
    pub id: String,
    /// Every answered turn, oldest first.
    pub messages: Vec<StoredMessage>,
    /// Items the seeker likes (text and feedback).
    pub liked: Vec<ItemRef>,
    /// Items the seeker dislikes.
    pub disliked: Vec<ItemRef>,
    /// Items the seeker has seen (said in the dialogue or by feedback), never recommended again.
    pub seen: Vec<ItemRef>,
    /// Items recommended so far, in order.
    pub recommended: Vec<ItemRef>,
    /// Attributes the seeker asked for (latest mention not a rejection), in order of first
    /// mention: genres (also those suggested by words such as "funny"), people, years, keywords.
    pub wanted: Vec<AttributeRef>,
    /// Attributes the seeker ruled out ("no horror", "nothing too violent"): hard constraints,
    /// no recommended item has one.
    pub rejected: Vec<AttributeRef>,
    /// The items of the latest reply, in its order (empty before the first reply).
    pub recommendations: Vec<SessionRecommendation>,
}

/// An attribute of the dialogue state, as `GET /v1/sessions/{id}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttributeRef {
    /// `genre`, `person`, `years` or `keyword`.
    pub kind: &'static str,
    /// How replies name it: "thriller", "Denzel Washington", "the 1990s", "\"violence\"".
    pub label: String,
}

impl AttributeRef {
    /// The wire form of `attribute` (its label from [`Attribute::describe`]).
    pub fn of(attribute: &Attribute) -> Self {
        let kind = match attribute {
            Attribute::Genre { .. } => "genre",
            Attribute::Person { .. } => "person",
            Attribute::Years { .. } => "years",
            Attribute::Keyword { .. } => "keyword",
            Attribute::Company { .. } => "company",
        };
        AttributeRef { kind, label: attribute.describe() }
    }
}

/// One item of a session's latest reply (`GET /v1/sessions/{id}`): what the reply showed, read
/// back from the stored turn, with the catalog's year and genres.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecommendation {
    /// Catalog id.
    pub id: ItemId,
    /// "Title (Year)" as the reply showed it.
    pub title: String,
    /// Release year (catalog), when known.
    #[serde(default)]
    pub year: Option<u16>,
    /// Genres, lowercase (catalog).
    #[serde(default)]
    pub genres: Vec<String>,
    /// The reason the reply gave.
    pub reason: String,
}

/// `GET /healthz` and `GET /readyz` response.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// `ok`, `ready`, or `unavailable`.
    pub status: &'static str,
    /// Chat requests waiting for the generation worker.
    pub queue_depth: usize,
    /// The queue's capacity; beyond it requests get 429.
    pub queue_capacity: usize,
    /// Whether a chat turn is being generated right now.
    pub generating: bool,
    /// Whether the generation worker is running.
    pub worker_alive: bool,
}

/// The body of every error response (OpenAI's shape).
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The error inside [`ErrorBody`].
#[derive(Debug, Clone, Serialize)]
pub struct ErrorDetail {
    /// What went wrong, naming the field or limit.
    pub message: String,
    /// `invalid_request_error`, `authentication_error`, `not_found_error`, `rate_limit_error`,
    /// `server_error` or `timeout_error`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The request field at fault, when one is.
    pub param: Option<String>,
    /// A stable machine-readable code (e.g. `invalid_json`, `model_not_found`, `queue_full`).
    pub code: &'static str,
}
