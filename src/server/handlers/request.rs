//! The checks of a request that need no server state: the JSON body, the messages (roles,
//! content, sizes) and the per-turn options of a chat completion. Every refusal names the field
//! and what is allowed (`ApiError::invalid`); no field is ignored unless it changes nothing.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::super::error::ApiError;
use super::super::wire::*;
use crate::agent::{AgentConfig, TurnOptions, MAX_INPUT_BYTES};
use crate::dialogue::Role;

/// Most messages accepted in one request.
pub const MAX_MESSAGES: usize = 256;
/// Longest assistant (or system) message accepted in a request's history, in bytes.
pub const MAX_HISTORY_MESSAGE_BYTES: usize = 16_000;
/// Largest `max_tokens` accepted (twice the default model's context).
pub const MAX_TOKENS_LIMIT: u64 = 4096;
/// Most stop sequences in one request (OpenAI's limit).
pub const MAX_STOP_SEQUENCES: usize = 4;
/// Longest stop sequence, in bytes.
pub const MAX_STOP_BYTES: usize = 200;
/// Longest `user` id, in bytes.
pub const MAX_USER_BYTES: usize = 256;

/// Reads a JSON object body into `T`; malformed JSON, a non-object, a wrong type or a missing
/// field each get an error naming the problem (and the field, via its path).
pub(super) fn parse_body<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(limit)
        } else {
            ApiError::invalid("invalid_body", None, format!("cannot read the request body: {rej}"))
        }
    })?;
    if bytes.is_empty() {
        return Err(ApiError::invalid("invalid_json", None, "the request body is empty; send a JSON object"));
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::invalid("invalid_json", None, format!("malformed JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::invalid(
            "invalid_json",
            None,
            format!("the request body must be a JSON object, not {}", json_kind(&value)),
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            // serde names a missing field only in its message ("missing field `messages`").
            let text = inner.to_string();
            let field = text.strip_prefix("missing field `").and_then(|r| r.split('`').next()).map(str::to_string);
            ApiError::invalid("invalid_request", field.as_deref(), text)
        } else {
            ApiError::invalid("invalid_type", Some(&path), format!("{path}: {inner}"))
        }
    })
}

/// A validated message: role and text.
pub(super) struct Message {
    pub(super) role: Role,
    pub(super) text: String,
}

/// Checks every message (role, content shape, size) and keeps the user and assistant ones.
pub(super) fn validate_messages(messages: &[ChatMessageIn]) -> Result<Vec<Message>, ApiError> {
    if messages.is_empty() {
        return Err(ApiError::invalid(
            "empty_messages",
            Some("messages"),
            "messages is empty: send at least one message with role \"user\"",
        ));
    }
    if messages.len() > MAX_MESSAGES {
        return Err(ApiError::invalid(
            "too_many_messages",
            Some("messages"),
            format!("messages has {} entries; the limit is {MAX_MESSAGES}", messages.len()),
        ));
    }
    let mut out = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let role = match m.role.as_str() {
            "user" => Some(Role::Seeker),
            "assistant" => Some(Role::Recommender),
            "system" | "developer" | "tool" => None,
            other => {
                return Err(ApiError::invalid(
                    "invalid_role",
                    Some(&format!("messages[{i}].role")),
                    format!(
                        "messages[{i}].role is {:?}; expected \"system\", \"developer\", \"user\", \"assistant\" or \"tool\"",
                        other.chars().take(40).collect::<String>()
                    ),
                ))
            }
        };
        if let Some((key, value)) = m.unsupported_field() {
            let shown: String = value.to_string().chars().take(60).collect();
            return Err(ApiError::invalid(
                "unsupported_field",
                Some(&format!("messages[{i}].{key}")),
                format!("messages[{i}].{key} ({shown}) is not supported by Curator's chat completions; leave it out"),
            ));
        }
        let param = format!("messages[{i}].content");
        let text =
            m.text().map_err(|e| ApiError::invalid("invalid_content", Some(&param), format!("messages[{i}].{e}")))?;
        let text = text.unwrap_or_default();
        let limit = if role == Some(Role::Seeker) { MAX_INPUT_BYTES } else { MAX_HISTORY_MESSAGE_BYTES };
        if text.trim().len() > limit {
            return Err(ApiError::invalid(
                "input_too_long",
                Some(&param),
                format!("messages[{i}].content is {} bytes; the limit is {limit}", text.trim().len()),
            ));
        }
        if let (Some(Role::Seeker), Some(c)) = (role, crate::agent::control_character(&text)) {
            return Err(ApiError::invalid(
                "invalid_content",
                Some(&param),
                format!("messages[{i}].content contains the control character U+{:04X}; send plain text", u32::from(c)),
            ));
        }
        if let Some(role) = role {
            out.push(Message { role, text });
        }
    }
    Ok(out)
}

/// Whether `value` of the unsupported request field `key` changes nothing, so accepting it
/// ignores nothing: null, `n: 1`, zero penalties, no log-probabilities, no tools, text output.
fn neutral(key: &str, value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (key, value) {
        (_, Value::Null) => true,
        ("n", v) => v.as_u64() == Some(1),
        ("presence_penalty" | "frequency_penalty", v) => v.as_f64() == Some(0.0),
        ("logprobs" | "store", v) => v == &Value::Bool(false),
        ("top_logprobs", v) => v.as_u64() == Some(0),
        ("logit_bias", Value::Object(m)) => m.is_empty(),
        ("tools" | "functions", Value::Array(a)) => a.is_empty(),
        ("tool_choice" | "function_call", v) => v.as_str() == Some("none"),
        ("parallel_tool_calls", v) => v.is_boolean(),
        ("response_format", v) => {
            v.get("type").and_then(Value::as_str) == Some("text") && v.as_object().is_some_and(|o| o.len() == 1)
        }
        ("modalities", v) => v.as_array().is_some_and(|a| a.len() == 1 && a[0] == "text"),
        _ => false,
    }
}

/// The per-turn settings of a chat request: sampling, `max_tokens`, `stop`, checked, and every
/// other field refused unless [`neutral`].
///
/// Errors: [`ApiError::InvalidRequest`] naming the field and its allowed values.
pub(super) fn turn_options(req: &ChatCompletionRequest) -> Result<TurnOptions, ApiError> {
    if let Some((key, value)) = req.other.iter().find(|(k, v)| !neutral(k, v)) {
        let shown: String = value.to_string().chars().take(60).collect();
        let message = if key == "n" {
            format!("n is {shown}; Curator returns one choice per request: send n = 1 or leave it out")
        } else {
            format!("the field `{key}` ({shown}) is not supported by Curator's chat completions; leave it out")
        };
        return Err(ApiError::invalid("unsupported_field", Some(key), message));
    }
    let max_tokens = match (req.max_tokens, req.max_completion_tokens) {
        (Some(a), Some(b)) if a != b => {
            return Err(ApiError::invalid(
                "invalid_max_tokens",
                Some("max_completion_tokens"),
                format!("max_tokens is {a} and max_completion_tokens is {b}; send one of them"),
            ))
        }
        (a, b) => a.or(b),
    };
    if let Some(m) = max_tokens.filter(|m| !(1..=MAX_TOKENS_LIMIT).contains(m)) {
        return Err(ApiError::invalid(
            "invalid_max_tokens",
            Some("max_tokens"),
            format!("max_tokens must be between 1 and {MAX_TOKENS_LIMIT}, not {m}"),
        ));
    }
    if let Some(t) = req.temperature.filter(|t| !(0.0..=2.0).contains(t)) {
        return Err(ApiError::invalid(
            "invalid_temperature",
            Some("temperature"),
            format!("temperature must be between 0 and 2, not {t}"),
        ));
    }
    if let Some(p) = req.top_p.filter(|p| !(*p > 0.0 && *p <= 1.0)) {
        return Err(ApiError::invalid("invalid_top_p", Some("top_p"), format!("top_p must be in (0, 1], not {p}")));
    }
    let stop = match &req.stop {
        None => Vec::new(),
        Some(StopField::One(s)) => vec![s.clone()],
        Some(StopField::Many(v)) => v.clone(),
    };
    if stop.len() > MAX_STOP_SEQUENCES {
        return Err(ApiError::invalid(
            "invalid_stop",
            Some("stop"),
            format!("stop has {} sequences; the limit is {MAX_STOP_SEQUENCES}", stop.len()),
        ));
    }
    if let Some((i, s)) = stop.iter().enumerate().find(|(_, s)| s.is_empty() || s.len() > MAX_STOP_BYTES) {
        return Err(ApiError::invalid(
            "invalid_stop",
            Some(&format!("stop[{i}]")),
            format!("stop[{i}] is {} bytes; a stop sequence has 1 to {MAX_STOP_BYTES}", s.len()),
        ));
    }
    if let Some(u) = req.user.as_ref().filter(|u| u.len() > MAX_USER_BYTES) {
        return Err(ApiError::invalid(
            "invalid_user",
            Some("user"),
            format!("user is {} bytes; the limit is {MAX_USER_BYTES}", u.len()),
        ));
    }
    let sampling = (req.temperature.is_some() || req.top_p.is_some() || req.seed.is_some()).then(|| {
        let base = AgentConfig::default().generation;
        // Any integer seed: its 64 bits folded into the sampler's 32.
        let seed = req.seed.map_or(base.seed, |s| {
            let s = s as u64;
            (s ^ (s >> 32)) as u32
        });
        crate::llm::GenerationParams {
            temperature: req.temperature.map_or(base.temperature, |t| t as f32),
            top_p: req.top_p.map_or(base.top_p, |p| p as f32),
            seed,
            ..base
        }
    });
    Ok(TurnOptions { sampling, max_tokens: max_tokens.and_then(|m| usize::try_from(m).ok()), stop })
}
