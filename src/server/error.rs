//! The server's one error type and its mapping to HTTP status codes and JSON bodies.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::wire::{ErrorBody, ErrorDetail};

/// Every way a request can fail. Each becomes a JSON [`ErrorBody`] whose message names the
/// problem, with the status code of [`ApiError::status`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request is malformed or violates a rule (400); `code` is machine-readable, `param`
    /// names the field at fault.
    #[error("{message}")]
    InvalidRequest {
        /// Stable code, e.g. `invalid_json`, `empty_messages`.
        code: &'static str,
        /// The field at fault.
        param: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// Missing or wrong bearer token (401).
    #[error("missing or invalid API key: send `Authorization: Bearer <key>`")]
    Unauthorized,
    /// The `model` is not served here (404).
    #[error("the model {model:?} does not exist; served here: {served} (GET /v1/models)")]
    ModelNotFound {
        /// The model asked for (at most 100 characters).
        model: String,
        /// The served model ids, comma-separated.
        served: String,
    },
    /// A session, item or route does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The session existed and has ended (404): `code` is `session_expired` (idle longer than
    /// the server's limit) or `session_evicted` (the oldest, when the server kept its maximum).
    #[error("{message}")]
    SessionEnded {
        /// `session_expired` or `session_evicted`.
        code: &'static str,
        /// Which session, when and why it ended, and what to do.
        message: String,
    },
    /// The method is not allowed on this route (405).
    #[error("method not allowed on this route")]
    MethodNotAllowed,
    /// The session is answering another request (409); retry after it finishes.
    #[error("session {0:?} is busy with another request; retry when it has finished")]
    SessionBusy(String),
    /// The body is larger than the limit in bytes (413).
    #[error("the request body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    /// The request body did not all arrive within the body deadline in seconds (408); the
    /// connection is closed.
    #[error("the request body did not arrive within {0} s")]
    BodyTimeout(u64),
    /// The generation queue is full (429, with `Retry-After`).
    #[error("the server is busy: {capacity} chat requests are already waiting; retry after {retry_after_s} s")]
    QueueFull {
        /// The queue's capacity.
        capacity: usize,
        /// Seconds the client should wait.
        retry_after_s: u64,
    },
    /// The generation worker is not running (503, with `Retry-After`).
    #[error("the generation worker is unavailable: {0}")]
    Unavailable(String),
    /// The request took longer than the per-request timeout (504); generation was cancelled.
    #[error("the request did not finish within {0} s and was cancelled")]
    Timeout(u64),
    /// A storage or internal failure (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 error with a code, the field at fault, and a message.
    pub fn invalid(code: &'static str, param: Option<&str>, message: impl Into<String>) -> Self {
        ApiError::InvalidRequest { code, param: param.map(str::to_string), message: message.into() }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::ModelNotFound { .. } | ApiError::NotFound(_) | ApiError::SessionEnded { .. } => {
                StatusCode::NOT_FOUND
            }
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::SessionBusy(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::QueueFull { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body of this error.
    pub fn body(&self) -> ErrorBody {
        let (kind, code, param) = match self {
            ApiError::InvalidRequest { code, param, .. } => ("invalid_request_error", *code, param.clone()),
            ApiError::Unauthorized => ("authentication_error", "invalid_api_key", None),
            ApiError::ModelNotFound { .. } => ("invalid_request_error", "model_not_found", Some("model".to_string())),
            ApiError::NotFound(_) => ("not_found_error", "not_found", None),
            ApiError::SessionEnded { code, .. } => ("not_found_error", *code, Some("session_id".to_string())),
            ApiError::MethodNotAllowed => ("invalid_request_error", "method_not_allowed", None),
            ApiError::SessionBusy(_) => ("invalid_request_error", "session_busy", Some("session_id".to_string())),
            ApiError::PayloadTooLarge(_) => ("invalid_request_error", "payload_too_large", None),
            ApiError::BodyTimeout(_) => ("timeout_error", "body_timeout", None),
            ApiError::QueueFull { .. } => ("rate_limit_error", "queue_full", None),
            ApiError::Unavailable(_) => ("server_error", "unavailable", None),
            ApiError::Timeout(_) => ("timeout_error", "timeout", None),
            ApiError::Internal(_) => ("server_error", "internal_error", None),
        };
        ErrorBody { error: ErrorDetail { message: self.to_string(), kind, param, code } }
    }

    /// Seconds for the `Retry-After` header, for errors a client should retry.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::QueueFull { retry_after_s, .. } => Some(*retry_after_s),
            ApiError::Unavailable(_) => Some(5),
            ApiError::SessionBusy(_) => Some(1),
            _ => None,
        }
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::InvalidInput(m) => ApiError::invalid("invalid_input", None, m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // Inside the request's span: the line carries its request id.
            tracing::warn!(status = status.as_u16(), "{self}");
        }
        let retry = self.retry_after();
        let mut resp = (status, axum::Json(self.body())).into_response();
        if let Some(s) = retry {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if matches!(self, ApiError::Unauthorized) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}
