//! The web chat page of `curator serve`: one HTML page, its stylesheet and its script (vanilla
//! JavaScript, no build step), embedded in the binary and served at `GET /`, `GET /page/app.css`
//! and `GET /page/app.js`.
//!
//! The page is a client of the public API only (`/v1/chat/completions` streamed, `/v1/feedback`,
//! `/v1/sessions/{id}`, `/v1/models`), so it doubles as its example client. It loads without the
//! API key (the key guards `/v1/*`); when the server has one, the page asks for it and sends it as
//! a bearer token. Every response carries a strict Content-Security-Policy: scripts and styles
//! from this server only, no inline script, style or event handler, no other origin, no framing.
//! The page inserts every model and catalog string as text, never as HTML.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

/// The page (`GET /`).
const INDEX_HTML: &str = include_str!("page/index.html");
/// Its stylesheet (`GET /page/app.css`).
const APP_CSS: &str = include_str!("page/app.css");
/// Its script (`GET /page/app.js`).
const APP_JS: &str = include_str!("page/app.js");

/// The Content-Security-Policy of the page and its assets: same-origin scripts, styles and
/// requests only; no inline code, plugins, base-URI changes, form posts elsewhere or framing.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One embedded file with its content type and the page's security headers.
fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// `GET /`: the chat page.
pub(crate) async fn index() -> Response {
    asset(INDEX_HTML, "text/html; charset=utf-8")
}

/// `GET /page/app.css`.
pub(crate) async fn css() -> Response {
    asset(APP_CSS, "text/css; charset=utf-8")
}

/// `GET /page/app.js`.
pub(crate) async fn js() -> Response {
    asset(APP_JS, "text/javascript; charset=utf-8")
}
