//! `curator serve`: Curator over HTTP, compatible with OpenAI chat clients (axum on tokio).
//!
//! The server is an adapter: handlers turn wire types ([`wire`]) into calls on the agent, the
//! candidate ranker and the session store, and every failure is one [`ApiError`] mapped to a
//! status code and a JSON body. [`router`] is a library function, so tests drive it over a real
//! socket (`127.0.0.1`, port 0).
//!
//! Routes: `POST /v1/chat/completions` (OpenAI format, SSE streaming with `stream: true`),
//! `GET /v1/models` (one model per catalog, module `catalogs`), `POST /v1/recommend` (ranking without generation), `POST /v1/feedback`,
//! `GET /v1/sessions/{id}`, `GET /healthz`, `GET /readyz`, `GET /openapi.json`, and the web chat
//! page (`GET /`, its script and stylesheet, module `page`), which loads without the API key.
//!
//! Invariants: one [`crate::agent::Engine`] (and one model) answers every chat turn, one at a time, on the
//! generation worker; waiting turns sit in a bounded queue and a full queue is answered with 429
//! and `Retry-After` (memory stays bounded); sessions expire after an idle time and the least
//! recently active are evicted beyond a maximum count (their ids answer 404 saying which and
//! why); a turn is stored in SQLite before it is answered, so
//! sessions survive `kill -9`; `/v1/recommend` never waits for the queue; the server binds
//! `127.0.0.1` unless told otherwise; no input makes it panic.

pub mod catalogs;
mod error;
mod handlers;
pub mod listen;
mod openapi;
mod page;
pub mod sessions;
pub mod wire;
mod worker;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnRequest, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use catalogs::{model_id, DEFAULT_MODEL_ID as MODEL_ID};
pub use error::ApiError;
pub use handlers::{check_body, Endpoint};
pub use openapi::document as openapi_document;

use crate::agent::{AgentConfig, Engine, RecommendPrompts};
use crate::llm::LanguageModel;
use crate::{Error, Result};
use listen::ConnectionLimits;
use sessions::{SessionLimits, SessionStore};
use worker::Worker;

/// Settings of `curator serve`.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Address to listen on (default `127.0.0.1:8080`; port 0 lets the OS choose).
    pub addr: SocketAddr,
    /// The SQLite session database (created if absent).
    pub db_path: PathBuf,
    /// When set, `/v1/*` requires `Authorization: Bearer <key>` (health and OpenAPI stay open).
    pub api_key: Option<String>,
    /// Chat requests that may wait for the generation worker; more get 429 (default 32).
    pub queue_capacity: usize,
    /// Longest a chat request may take, queue wait included; then it is cancelled with 504
    /// (default 60 s).
    pub request_timeout: Duration,
    /// Largest request body in bytes; larger bodies get 413 (default 64 KiB).
    pub max_body_bytes: usize,
    /// Items recommended per chat turn (default 3).
    pub recommendations: usize,
    /// Idle expiry and maximum count of stored sessions (default 7 days, 10,000).
    pub sessions: SessionLimits,
    /// Cap on open connections and the deadline for request headers (default 256, 10 s).
    pub connections: ConnectionLimits,
    /// Origins (`scheme://host[:port]`) whose web pages may call the API from a browser (CORS);
    /// empty by default: no cross-origin access.
    pub cors_origins: Vec<String>,
    /// Whether the model may write each reply's opening sentence
    /// ([`AgentConfig::model_opening`]); default `false`.
    pub model_opening: bool,
    /// The folder of the catalogs served, one per model (default `<root>/catalogs`).
    pub catalogs_dir: PathBuf,
    /// The catalog of requests that name none (model `curator`; default: the `--catalog`
    /// choice, [`crate::paths::catalog_name`]).
    pub default_catalog: String,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db_path: crate::paths::cache_dir().join("sessions.sqlite"),
            api_key: None,
            queue_capacity: 32,
            request_timeout: Duration::from_secs(60),
            max_body_bytes: 64 * 1024,
            recommendations: 3,
            sessions: SessionLimits::default(),
            connections: ConnectionLimits::default(),
            cors_origins: Vec::new(),
            model_opening: false,
            catalogs_dir: crate::paths::project_root().join("catalogs"),
            default_catalog: crate::paths::catalog_name(),
        }
    }
}

/// Shared state of the handlers: the catalogs served with their assets (catalog, tracker, ranker:
/// for replaying stateless dialogues and `/v1/recommend`), the session
/// store, the generation worker and the settings. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The contents of [`AppState`].
pub struct Inner {
    catalogs: catalogs::Catalogs,
    store: Arc<SessionStore>,
    worker: Worker,
    busy: Arc<Mutex<HashSet<String>>>,
    options: ServerOptions,
    cors: Option<CorsLayer>,
    started: u64,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("options", &self.options).finish_non_exhaustive()
    }
}

impl AppState {
    /// Finds the catalogs under `options.catalogs_dir`, loads the default one's assets (the
    /// others load on their first request) and the prompts, builds the agent around `model`
    /// (`None`: the fixed opening sentence, same recommendations), opens the session database
    /// and starts the generation worker.
    ///
    /// Errors: a CORS origin that is not `scheme://host[:port]` ([`Error::InvalidInput`] naming
    /// it); those of [`catalogs::Catalogs::open`] and [`RecommendPrompts::load`]; an unusable
    /// session database ([`Error::Io`] naming the file).
    pub fn start(options: ServerOptions, model: Option<Box<dyn LanguageModel>>) -> Result<Self> {
        let cors = cors_layer(&options.cors_origins)?;
        let config = AgentConfig {
            recommendations: options.recommendations.max(1),
            model_opening: options.model_opening,
            ..AgentConfig::default()
        };
        let catalogs =
            catalogs::Catalogs::open(options.catalogs_dir.clone(), &options.default_catalog, config.weights)?;
        let assets = catalogs.default_assets().map_err(|e| Error::InvalidInput(e.to_string()))?;
        let prompts = RecommendPrompts::load(&crate::paths::prompts_dir())?;
        let engine = Engine::new(assets, prompts.clone(), model, config);
        let store = SessionStore::open_with(&options.db_path, options.sessions)
            .map_err(|e| Error::io(&options.db_path, std::io::Error::other(e.to_string())))?;
        let store = Arc::new(store);
        let default = catalogs.default_name().to_string();
        let worker = Worker::start((default, engine), prompts, Arc::clone(&store), options.queue_capacity)
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        let started =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Ok(AppState(Arc::new(Inner {
            catalogs,
            store,
            worker,
            busy: Arc::new(Mutex::new(HashSet::new())),
            options,
            cors,
            started,
        })))
    }
}

/// The HTTP routes over `state` (see the module docs), with the body limit, the optional bearer
/// check on `/v1/*`, JSON 404/405 answers, a request id on every request (`x-request-id`: the
/// client's, or a new UUID; echoed in the response and carried by the `request` span of every
/// log line about it), and CORS headers only for the configured origins.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/v1/chat/completions", post(handlers::chat_completions))
        .route("/v1/models", get(handlers::models))
        .route("/v1/recommend", post(handlers::recommend))
        .route("/v1/feedback", post(handlers::feedback))
        .route("/v1/sessions/{id}", get(handlers::session))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), handlers::require_key));
    let cors = state.cors.clone();
    let request_id = HeaderName::from_static("x-request-id");
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
        })
        .on_request(DefaultOnRequest::new().level(Level::DEBUG))
        .on_response(DefaultOnResponse::new().level(Level::INFO));
    let layers = tower::ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(request_id))
        .option_layer(cors);
    let body_limit = state.options.max_body_bytes;
    Router::new()
        .route("/healthz", get(handlers::healthz))
        .route("/readyz", get(handlers::readyz))
        .route("/openapi.json", get(handlers::openapi))
        .route("/", get(page::index))
        .route("/page/app.css", get(page::css))
        .route("/page/app.js", get(page::js))
        .merge(api)
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), body_deadline))
        .with_state(state)
        .layer(layers)
}

/// Reads a request's whole body before its handler runs, within the body deadline
/// ([`ConnectionLimits::body_timeout`]) and the body limit, so that a client trickling its body
/// holds its connection slot for the deadline at most: 408 `body_timeout` past the deadline
/// (connection closed), 413 `payload_too_large` past the limit, 400 `invalid_body` when the body
/// cannot be read (e.g. broken chunked encoding).
async fn body_deadline(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let deadline = state.options.connections.body_timeout;
    let limit = state.options.max_body_bytes;
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes))).await,
        Ok(Err(e)) => {
            let cause = e.into_inner();
            if cause.is::<http_body_util::LengthLimitError>() {
                ApiError::PayloadTooLarge(limit).into_response()
            } else {
                ApiError::invalid("invalid_body", None, format!("cannot read the request body: {cause}"))
                    .into_response()
            }
        }
        Err(_) => {
            let mut resp = ApiError::BodyTimeout(deadline.as_secs()).into_response();
            resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            resp
        }
    }
}

/// The CORS layer for `origins` (`None` when empty: no CORS headers, so browsers keep other
/// origins out): `GET`, `POST` and `OPTIONS` with `authorization` and `content-type`.
///
/// Errors: [`Error::InvalidInput`] naming an origin that is not `scheme://host[:port]`.
fn cors_layer(origins: &[String]) -> Result<Option<CorsLayer>> {
    if origins.is_empty() {
        return Ok(None);
    }
    let mut values = Vec::with_capacity(origins.len());
    for o in origins {
        let ok = (o.starts_with("http://") || o.starts_with("https://")) && !o.ends_with('/');
        let value = HeaderValue::from_str(o).ok().filter(|_| ok).ok_or_else(|| {
            Error::InvalidInput(format!(
                "CORS origin {o:?} is not an origin: write scheme://host[:port], e.g. https://app.example.com"
            ))
        })?;
        values.push(value);
    }
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(values))
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([HeaderName::from_static("x-request-id")]),
    ))
}

/// Runs the server until Ctrl-C or SIGTERM: starts [`AppState`], binds `options.addr`, prints
/// `curator serve: listening on http://ADDR` on stdout (the bound port, when 0 was asked), and
/// serves [`router`]; on shutdown, waits (at most 30 s) for the generation worker's job in hand,
/// then removes the sessions' saved model caches ([`crate::llm::remove_saved_caches`]).
///
/// Errors: those of [`AppState::start`]; the address cannot be bound ([`Error::Io`]).
pub fn run(options: ServerOptions, model: Option<Box<dyn LanguageModel>>) -> Result<()> {
    let addr = options.addr;
    if !addr.ip().is_loopback() && options.api_key.is_none() {
        tracing::warn!("listening on {addr} without an API key: anyone who can reach it can use it");
    }
    let limits = options.connections;
    let state = AppState::start(options, model)?;
    let app = router(state.clone());
    let rt =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| Error::io("tokio runtime", e))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| Error::io(format!("bind {addr}"), e))?;
        let local = listener.local_addr().map_err(|e| Error::io(format!("bind {addr}"), e))?;
        crate::outln!("curator serve: listening on http://{local}");
        listen::serve(listener, app, limits, shutdown_signal()).await;
        Ok::<(), Error>(())
    })?;
    // The worker may be caching the last turn inside llama.cpp: the process must not end under
    // it.
    if !state.0.worker.shut_down(std::time::Duration::from_secs(30)) {
        tracing::warn!("the generation worker was still busy 30 s after shutdown; exiting anyway");
    }
    // The workers may still hold sessions' saved model caches (files); the process ends now.
    crate::llm::remove_saved_caches();
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
