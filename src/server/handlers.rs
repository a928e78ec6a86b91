//! Route handlers: each turns a wire request into a call on the agent, the ranker or the
//! session store, and the result back into a wire response or an [`ApiError`].

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use super::catalogs::model_id;
use super::error::ApiError;
use super::sessions::validate_session_id;
use super::wire::*;
use super::worker::{CancelOnDrop, Job, JobEvent, LeaseSlot, SessionLease};
use super::AppState;
use crate::agent::{AgentEvent, FinishReason, Recommendation, TurnOptions};
use crate::assets::Assets;
use crate::catalog::Catalog;
use crate::dialogue::{DialogueState, Polarity, Rating, Role, Tracker, Utterance};

/// Most items `/v1/recommend` returns.
pub const MAX_K: u64 = 100;

mod request;
mod stream;
use request::{parse_body, turn_options, validate_messages, Message};
use stream::stream_response;

fn join_err(e: tokio::task::JoinError) -> ApiError {
    ApiError::Internal(format!("a blocking task failed: {e}"))
}

fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Replays messages into `state` through the one tracker, as live chat would have built it:
/// user messages as seeker turns, assistant messages as recommender turns, items linked from
/// the text (an assistant message in Curator's list format contributes its listed titles).
/// Empty messages are skipped.
fn replay(state: &mut DialogueState, messages: &[Message], tracker: &Tracker) {
    for m in messages {
        if !m.text.trim().is_empty() {
            tracker.observe(state, Utterance::said(m.role, m.text.as_str()));
        }
    }
}

/// The catalog a request is for, with its assets: a stored session's own (a `model` or
/// `catalog` naming another is refused), else the one the request names
/// ([`super::catalogs::Catalogs::resolve`]), else the default. Blocking (database, loading).
///
/// Errors: those of `resolve`; [`ApiError::InvalidRequest`] (`catalog_mismatch`) when the
/// request names a catalog other than its session's; those of the store and of loading.
fn request_catalog(
    app: &AppState,
    session_id: Option<&str>,
    model: Option<&str>,
    catalog: Option<&str>,
) -> Result<(String, Assets), ApiError> {
    let named = app.catalogs.resolve(model, catalog)?;
    let name = match session_id.map(|id| (id, app.store.catalog_of(id))) {
        None => named,
        Some((_, Err(e))) => return Err(e),
        Some((_, Ok(None))) => named,
        Some((id, Ok(Some(stored)))) => {
            let own = stored.unwrap_or_else(|| app.catalogs.default_name().to_string());
            if (model.is_some() || catalog.is_some()) && own != named {
                return Err(ApiError::invalid(
                    "catalog_mismatch",
                    Some(if catalog.is_some() { "catalog" } else { "model" }),
                    format!(
                        "session {id:?} is about catalog {own:?} (model {}), but the request names catalog {named:?}; leave model and catalog out to continue it, or start a new session",
                        model_id(&own)
                    ),
                ));
            }
            own
        }
    };
    let assets = app.catalogs.assets(&name)?;
    Ok((name, assets))
}

fn item_refs(ids: &[u32], catalog: &Catalog) -> Vec<ItemRef> {
    ids.iter().filter_map(|&id| catalog.get(id).map(|i| ItemRef { id, title: i.display_name() })).collect()
}

/// OpenAI's `finish_reason` of a turn that ended for `finish`.
fn finish_reason(finish: FinishReason) -> &'static str {
    match finish {
        FinishReason::MaxTokens => "length",
        FinishReason::Complete | FinishReason::StopSequence => "stop",
    }
}

/// `POST /v1/chat/completions`.
pub(crate) async fn chat_completions(State(app): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    match chat_inner(app, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// A chat request after decoding and every check that needs no server state.
struct ChatInput {
    req: ChatCompletionRequest,
    options: TurnOptions,
    /// The user and assistant messages before the last one.
    messages: Vec<Message>,
    /// The last user message, trimmed (not empty).
    text: String,
}

/// Checks a request's `model` and `catalog` fields (`None`: not given) against what is served.
type ResolveCatalog<'a> = &'a dyn Fn(Option<&str>, Option<&str>) -> Result<(), ApiError>;

/// Decodes a chat request body and checks it (model and catalog, fields, messages, session id);
/// `resolve` checks a stateless request's `model` and `catalog` (a session's catalog is checked
/// with the session).
fn decode_chat(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
    resolve: ResolveCatalog<'_>,
) -> Result<ChatInput, ApiError> {
    let req: ChatCompletionRequest = parse_body(body, limit)?;
    if req.session_id.is_none() {
        // Checked before anything else.
        resolve(req.model.as_deref(), req.catalog.as_deref())?;
    }
    let options = turn_options(&req)?;
    let mut messages = validate_messages(&req.messages)?;
    let last_raw = req.messages.last().map(|m| m.role.as_str()).unwrap_or("");
    let n = req.messages.len();
    let Some(last) = messages.pop().filter(|m| m.role == Role::Seeker && last_raw == "user") else {
        return Err(ApiError::invalid(
            "last_message_not_user",
            Some(&format!("messages[{}].role", n.saturating_sub(1))),
            format!(
                "the last message must have role \"user\" (it has {:?})",
                last_raw.chars().take(40).collect::<String>()
            ),
        ));
    };
    let text = last.text.trim().to_string();
    if text.is_empty() {
        return Err(ApiError::invalid(
            "empty_message",
            Some(&format!("messages[{}].content", n.saturating_sub(1))),
            "the last user message is empty",
        ));
    }
    if let Some(id) = &req.session_id {
        validate_session_id(id)?;
    }
    Ok(ChatInput { req, options, messages, text })
}

/// Which endpoint's request body [`check_body`] decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/chat/completions` ([`ChatCompletionRequest`]).
    ChatCompletions,
    /// `POST /v1/recommend` ([`RecommendRequest`]).
    Recommend,
    /// `POST /v1/feedback` ([`FeedbackRequest`]).
    Feedback,
}

/// Decodes `body` as the request of `endpoint` and runs every check the handler makes before it
/// touches the catalog, the session store or the model (JSON shape, field types, unsupported
/// fields, sampling ranges, message roles, sizes and control characters, session ids, `k`,
/// `rating`): the server's request decoding without a server, for the fuzz targets (`fuzz/`).
///
/// Errors: the [`ApiError`] (a 400, or 404 for an unknown `model`) the handler would answer.
pub fn check_body(endpoint: Endpoint, body: &[u8]) -> Result<(), ApiError> {
    let body = Ok(Bytes::copy_from_slice(body));
    match endpoint {
        Endpoint::ChatCompletions => decode_chat(body, usize::MAX, &|_, _| Ok(())).map(|_| ()),
        Endpoint::Recommend => decode_recommend(body, usize::MAX).map(|_| ()),
        Endpoint::Feedback => decode_feedback(body, usize::MAX).map(|_| ()),
    }
}

async fn chat_inner(app: AppState, body: Result<Bytes, BytesRejection>) -> Result<Response, ApiError> {
    let resolve = |model: Option<&str>, catalog: Option<&str>| app.catalogs.resolve(model, catalog).map(|_| ());
    let ChatInput { req, options, messages, text } = decode_chat(body, app.options.max_body_bytes, &resolve)?;
    let (session_id, stateless) = match &req.session_id {
        Some(id) => (id.clone(), false),
        None => (new_id(), true),
    };
    let lease = SessionLease::acquire(&app.busy, &session_id)?;
    // A stateless request's dialogue is stored with its turn, as sent (system messages aside).
    let earlier: Vec<StoredMessage> = if stateless {
        messages
            .iter()
            .map(|m| StoredMessage {
                role: if m.role == Role::Seeker { "user" } else { "assistant" }.to_string(),
                content: m.text.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let (state, catalog) = {
        let app = app.clone();
        let sid = session_id.clone();
        let (model, catalog) = (req.model.clone(), req.catalog.clone());
        tokio::task::spawn_blocking(move || -> Result<(DialogueState, (String, Assets)), ApiError> {
            let session = (!stateless).then_some(sid.as_str());
            let (name, assets) = request_catalog(&app, session, model.as_deref(), catalog.as_deref())?;
            let state = if stateless {
                let mut state = DialogueState::new();
                replay(&mut state, &messages, &assets.tracker);
                state
            } else {
                app.store.load(&sid)?.unwrap_or_default()
            };
            Ok((state, (name, assets)))
        })
        .await
        .map_err(join_err)??
    };
    let model = model_id(&catalog.0);

    let cancel = Arc::new(AtomicBool::new(false));
    let lease: LeaseSlot = Arc::new(std::sync::Mutex::new(Some(lease)));
    let guard = CancelOnDrop { cancel: Arc::clone(&cancel), lease: Arc::clone(&lease) };
    let (tx, rx) = unbounded_channel();
    let timeout = app.options.request_timeout;
    let deadline = Instant::now() + timeout;
    app.worker.submit(Job {
        catalog,
        session_id: session_id.clone(),
        state,
        earlier,
        text: text.clone(),
        options,
        cancel,
        deadline,
        timeout_s: timeout.as_secs(),
        events: tx,
        lease,
    })?;
    let meta = ReplyMeta {
        model,
        id: format!("chatcmpl-{}", new_id()),
        created: now_s(),
        session_id,
        timeout_s: timeout.as_secs(),
        deadline: tokio::time::Instant::from_std(deadline),
    };
    if req.stream.unwrap_or(false) {
        let include_usage = req.stream_options.is_some_and(|o| o.include_usage);
        Ok(stream_response(meta, rx, guard, include_usage))
    } else {
        let r = collect_reply(meta, rx, &guard).await;
        drop(guard);
        r
    }
}

struct ReplyMeta {
    /// The model id answered as (`curator-NAME`).
    model: String,
    id: String,
    created: u64,
    session_id: String,
    timeout_s: u64,
    deadline: tokio::time::Instant,
}

/// Longest wait, after a chat request's deadline, for the worker to stop the turn and let go of
/// the session before the 504 is sent (so that the client's next turn does not find the session
/// busy).
const CANCEL_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

async fn collect_reply(
    meta: ReplyMeta,
    mut rx: UnboundedReceiver<JobEvent>,
    guard: &CancelOnDrop,
) -> Result<Response, ApiError> {
    let mut content = String::new();
    let mut usage = Usage::default();
    let mut finish = "stop";
    loop {
        match tokio::time::timeout_at(meta.deadline, rx.recv()).await {
            Err(_) => {
                // A running turn holds its session until the worker sees the flag; the worker
                // frees the session before it reports the end (a queued turn's lease is released
                // by `cancel` itself).
                guard.cancel();
                let grace = tokio::time::Instant::now() + CANCEL_GRACE;
                while let Ok(Some(ev)) = tokio::time::timeout_at(grace, rx.recv()).await {
                    if matches!(ev, JobEvent::Finished(_)) {
                        break;
                    }
                }
                return Err(ApiError::Timeout(meta.timeout_s));
            }
            Ok(None) => return Err(ApiError::Internal("the generation worker dropped the request".into())),
            Ok(Some(JobEvent::Agent(AgentEvent::Text { text }))) => content.push_str(&text),
            Ok(Some(JobEvent::Agent(AgentEvent::Done { stats }))) => {
                usage = Usage::of(stats.generation.as_ref());
                finish = finish_reason(stats.finish);
            }
            Ok(Some(JobEvent::Agent(_))) => {}
            Ok(Some(JobEvent::Finished(Err(e)))) => return Err(e),
            Ok(Some(JobEvent::Finished(Ok(recommendations)))) => {
                let body = ChatCompletion {
                    id: meta.id,
                    object: "chat.completion",
                    created: meta.created,
                    model: meta.model,
                    choices: vec![Choice {
                        index: 0,
                        message: ChatMessageOut { role: "assistant", content },
                        finish_reason: finish,
                        logprobs: None,
                    }],
                    usage,
                    session_id: meta.session_id,
                    recommendations,
                };
                return Ok(Json(body).into_response());
            }
        }
    }
}

/// A fresh random-looking id: 32 hex digits of SHA-256 over the time, a counter and the pid.
pub(crate) fn new_id() -> String {
    use sha2::Digest;
    use std::sync::atomic::AtomicU64;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let mut h = sha2::Sha256::new();
    h.update(nanos.to_le_bytes());
    h.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    crate::util::hex(&h.finalize()[..16])
}

/// `POST /v1/recommend`.
pub(crate) async fn recommend(State(app): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    let run = async {
        let (req, msgs) = decode_recommend(body, app.options.max_body_bytes)?;
        let app2 = app.clone();
        tokio::task::spawn_blocking(move || recommend_sync(&app2, req, msgs)).await.map_err(join_err)?
    };
    match run.await {
        Ok(r) => Json(r).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Decodes a `/v1/recommend` body and checks it (`k`, session id, messages); returns the request
/// and its validated messages (empty with a session id and no messages).
fn decode_recommend(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<(RecommendRequest, Vec<Message>), ApiError> {
    let req: RecommendRequest = parse_body(body, limit)?;
    let k = req.k.unwrap_or(10);
    if k == 0 || k > MAX_K {
        return Err(ApiError::invalid("invalid_k", Some("k"), format!("k must be between 1 and {MAX_K}, not {k}")));
    }
    if let Some(id) = &req.session_id {
        validate_session_id(id)?;
    }
    let msgs = match (&req.messages, &req.session_id) {
        (None, None) => {
            return Err(ApiError::invalid(
                "missing_dialogue",
                Some("messages"),
                "send `messages` (the dialogue) or `session_id` (a stored session)",
            ))
        }
        (Some(m), None) if m.is_empty() => {
            return Err(ApiError::invalid(
                "empty_messages",
                Some("messages"),
                "messages is empty: send at least one message with role \"user\"",
            ))
        }
        (Some(m), _) if !m.is_empty() => validate_messages(m)?,
        _ => Vec::new(),
    };
    Ok((req, msgs))
}

fn recommend_sync(app: &AppState, req: RecommendRequest, msgs: Vec<Message>) -> Result<RecommendResponse, ApiError> {
    let k = req.k.unwrap_or(10);
    let (name, assets) = request_catalog(app, req.session_id.as_deref(), req.model.as_deref(), req.catalog.as_deref())?;
    let mut state = match &req.session_id {
        Some(id) => app.store.load(id)?.ok_or_else(|| ApiError::NotFound(format!("session {id:?} does not exist")))?,
        None => DialogueState::new(),
    };
    replay(&mut state, &msgs, &assets.tracker);
    let k = usize::try_from(k).unwrap_or(10);
    let items = crate::agent::recommend(&assets, &state, k)?;
    Ok(RecommendResponse {
        object: "recommendation.list",
        model: model_id(&name),
        session_id: req.session_id.clone(),
        items,
        liked: item_refs(&state.items_with(Polarity::Liked), &assets.catalog),
        disliked: item_refs(&state.items_with(Polarity::Disliked), &assets.catalog),
    })
}

/// Decodes a `/v1/feedback` body and checks it (session id, rating).
fn decode_feedback(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<(FeedbackRequest, Rating), ApiError> {
    let req: FeedbackRequest = parse_body(body, limit)?;
    validate_session_id(&req.session_id)?;
    let rating = match req.rating.as_str() {
        "like" => Rating::Like,
        "dislike" => Rating::Dislike,
        "seen" => Rating::Seen,
        other => {
            return Err(ApiError::invalid(
                "invalid_rating",
                Some("rating"),
                format!(
                    "rating is {:?}; expected \"like\", \"dislike\" or \"seen\"",
                    other.chars().take(40).collect::<String>()
                ),
            ))
        }
    };
    Ok((req, rating))
}

/// `POST /v1/feedback`.
pub(crate) async fn feedback(State(app): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    let run = async {
        let (req, rating) = decode_feedback(body, app.options.max_body_bytes)?;
        let lease = SessionLease::acquire(&app.busy, &req.session_id)?;
        let app2 = app.clone();
        let sid = req.session_id.clone();
        let item_id = req.item_id;
        let item = tokio::task::spawn_blocking(move || {
            let (name, assets) = request_catalog(&app2, Some(&sid), None, None)?;
            let Some(item) = assets.catalog.get(item_id) else {
                return Err(ApiError::invalid(
                    "unknown_item",
                    Some("item_id"),
                    format!("item {item_id} is not in the catalog ({name:?}, the session's)"),
                ));
            };
            let item = ItemRef { id: item_id, title: item.display_name() };
            app2.store.record_feedback(&sid, item_id, rating, &assets.tracker)?;
            drop(lease);
            Ok(item)
        })
        .await
        .map_err(join_err)??;
        Ok::<_, ApiError>(FeedbackResponse { object: "feedback", session_id: req.session_id, item, rating: req.rating })
    };
    match run.await {
        Ok(r) => Json(r).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /v1/sessions/{id}`.
pub(crate) async fn session(State(app): State<AppState>, Path(id): Path<String>) -> Response {
    let run = async {
        validate_session_id(&id)?;
        let app2 = app.clone();
        let id2 = id.clone();
        let (messages, state, mut recommendations, (name, assets)) =
            tokio::task::spawn_blocking(move || -> Result<_, ApiError> {
                Ok((
                    app2.store.messages(&id2)?,
                    app2.store.load(&id2)?,
                    app2.store.latest_recommendations(&id2)?,
                    request_catalog(&app2, Some(&id2), None, None)?,
                ))
            })
            .await
            .map_err(join_err)??;
        let (Some(messages), Some(state)) = (messages, state) else {
            return Err(ApiError::NotFound(format!("session {id:?} does not exist")));
        };
        for r in &mut recommendations {
            if let Some(item) = assets.catalog.get(r.id) {
                r.year = item.year;
                r.genres.clone_from(&item.genres);
            }
        }
        Ok(SessionView {
            object: "session",
            model: model_id(&name),
            liked: item_refs(&state.items_with(Polarity::Liked), &assets.catalog),
            disliked: item_refs(&state.items_with(Polarity::Disliked), &assets.catalog),
            seen: item_refs(&state.items_seen(true), &assets.catalog),
            recommended: item_refs(&state.recommended, &assets.catalog),
            wanted: state.requested_attributes().into_iter().map(|(m, _)| AttributeRef::of(&m.attribute)).collect(),
            rejected: state.rejected_attributes().into_iter().map(AttributeRef::of).collect(),
            recommendations,
            id,
            messages,
        })
    };
    match run.await {
        Ok(r) => Json(r).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /v1/models`.
/// `GET /v1/models`: `curator` (the default catalog), then `curator-NAME` for every catalog
/// served, each with its catalog's name and plural item noun (from its `catalog.yaml`).
pub(crate) async fn models(State(app): State<AppState>) -> Response {
    let card = |id: String, name: &str| {
        let items = crate::catalog::config::CatalogConfig::load(&app.catalogs.dir_of(name))
            .map(|c| c.items_noun())
            .unwrap_or_else(|_| "items".to_string());
        ModelCard { id, catalog: name.to_string(), items, object: "model", created: app.started, owned_by: "curator" }
    };
    let default = app.catalogs.default_name();
    let mut data = vec![card(super::MODEL_ID.to_string(), default)];
    data.extend(app.catalogs.names().iter().map(|n| card(model_id(n), n)));
    Json(ModelList { object: "list", data }).into_response()
}

fn health(app: &AppState, ok_status: &'static str) -> Health {
    let alive = app.worker.alive();
    Health {
        status: if alive { ok_status } else { "unavailable" },
        queue_depth: app.worker.depth(),
        queue_capacity: app.worker.capacity(),
        generating: app.worker.running(),
        worker_alive: alive,
    }
}

/// `GET /healthz`: the process answers (200 while the worker runs, else 503).
pub(crate) async fn healthz(State(app): State<AppState>) -> Response {
    let h = health(&app, "ok");
    let code = if h.worker_alive { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(h)).into_response()
}

/// `GET /readyz`: ready for chat traffic (worker running and queue not full; else 503 with
/// `Retry-After`).
pub(crate) async fn readyz(State(app): State<AppState>) -> Response {
    let mut h = health(&app, "ready");
    if h.worker_alive && h.queue_depth < h.queue_capacity {
        return (StatusCode::OK, Json(h)).into_response();
    }
    if h.worker_alive {
        h.status = "busy";
    }
    let mut r = (StatusCode::SERVICE_UNAVAILABLE, Json(h)).into_response();
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// `GET /openapi.json`.
pub(crate) async fn openapi() -> Response {
    Json(super::openapi::document()).into_response()
}

/// Unknown routes.
pub(crate) async fn not_found(req: Request) -> Response {
    ApiError::NotFound(format!("no route {} {}", req.method(), req.uri().path())).into_response()
}

/// Known route, wrong method.
pub(crate) async fn method_not_allowed() -> Response {
    ApiError::MethodNotAllowed.into_response()
}

/// Bearer-token check for the `/v1` routes when the server has an API key.
pub(crate) async fn require_key(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(key) = &app.options.api_key {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if !given.is_some_and(|g| key_matches(g.as_bytes(), key.as_bytes())) {
            return ApiError::Unauthorized.into_response();
        }
    }
    next.run(req).await
}

/// Whether the bearer token `given` is `key`, in time independent of where they differ and of
/// their lengths: their SHA-256 digests (always 32 bytes) are compared with `subtle`'s
/// constant-time equality.
fn key_matches(given: &[u8], key: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    bool::from(Sha256::digest(given).as_slice().ct_eq(Sha256::digest(key).as_slice()))
}

#[cfg(test)]
mod tests {
    use super::key_matches;

    #[test]
    fn the_api_key_matches_only_itself() {
        assert!(key_matches(b"s3cret-key", b"s3cret-key"));
        for other in [&b""[..], b"s3cret-ke", b"s3cret-key ", b"S3cret-key", b"s3cret-kez"] {
            assert!(!key_matches(other, b"s3cret-key"), "{:?}", String::from_utf8_lossy(other));
        }
    }
}
