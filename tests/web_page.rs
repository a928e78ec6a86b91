//! The web chat page of `curator serve` (`GET /`), against a server started in-process on
//! 127.0.0.1 without a model (replies use the fixed opening): the page and its assets load without
//! the API key under a strict Content-Security-Policy, and the session view carries what the page
//! shows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use curator::server::{router, AppState, ServerOptions};
use serde_json::{json, Value};

/// A server started in-process on 127.0.0.1 (port 0) on its own runtime.
struct Served {
    _rt: tokio::runtime::Runtime,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start(api_key: Option<&str>) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sessions.sqlite");
        let options =
            ServerOptions { db_path: db.clone(), api_key: api_key.map(str::to_string), ..ServerOptions::default() };
        let state = AppState::start(options, None).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        rt.spawn(async move { axum::serve(listener, router(state)).await });
        Served { _rt: rt, addr, _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

// ---------------------------------------------------------------------------------------------
// Without a browser: the page's HTTP answers and the session view it reads.

#[test]
fn the_page_loads_without_the_key_under_a_strict_content_security_policy() {
    let s = Served::start(Some("s3cret"));
    let http = reqwest::blocking::Client::new();
    let page = http.get(s.url("/")).send().unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let header = |r: &reqwest::blocking::Response, name: &str| {
        r.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
    };
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    let csp = header(&page, "content-security-policy");
    for directive in
        ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]
    {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    let html = page.text().unwrap();
    // Scripts only from files, no inline event handler attributes.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
    assert!(html.contains(r#"<script src="/page/app.js" defer></script>"#));
    for handler in [" onclick=", " onload=", " onerror=", " onsubmit=", " onkeydown=", " oninput="] {
        assert!(!html.contains(handler), "{handler} in the page");
    }

    let js = http.get(s.url("/page/app.js")).send().unwrap();
    assert_eq!(js.status().as_u16(), 200);
    assert_eq!(header(&js, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&js, "content-security-policy"), csp);
    let js = js.text().unwrap();
    // Server strings go in as text: the script never parses HTML or evaluates strings.
    for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
        assert!(!js.contains(sink), "app.js uses {sink}");
    }
    let css = http.get(s.url("/page/app.css")).send().unwrap();
    assert_eq!((css.status().as_u16(), header(&css, "content-type").as_str()), (200, "text/css; charset=utf-8"));
    // The API itself still needs the key.
    assert_eq!(http.get(s.url("/v1/models")).send().unwrap().status().as_u16(), 401);
    let doc = curator::server::openapi_document();
    assert!(doc["paths"]["/"]["get"].is_object());
    assert!(doc["components"]["schemas"]["Session"]["properties"]["rejected"].is_object());
}

#[test]
fn the_session_view_carries_what_is_asked_for_ruled_out_and_the_latest_cards() {
    let s = Served::start(None);
    let http = reqwest::blocking::Client::new();
    let chat: Value = http
        .post(s.url("/v1/chat/completions"))
        .body(json!({"messages": [{"role": "user", "content": "I loved Heat and Collateral, a 90s thriller, no horror"}]}).to_string())
        .send()
        .unwrap()
        .json_value();
    let id = chat["session_id"].as_str().unwrap();
    let view: Value = http.get(s.url(&format!("/v1/sessions/{id}"))).send().unwrap().json_value();
    assert_eq!(
        view["wanted"],
        json!([{"kind": "genre", "label": "thriller"}, {"kind": "years", "label": "the 1990s"}]),
        "{view}"
    );
    assert_eq!(view["rejected"], json!([{"kind": "genre", "label": "horror"}]), "{view}");
    let sent = chat["recommendations"].as_array().unwrap();
    let shown = view["recommendations"].as_array().unwrap();
    assert_eq!(shown.len(), 3, "{view}");
    assert_eq!(shown.len(), sent.len());
    for (card, rec) in shown.iter().zip(sent) {
        assert_eq!((&card["id"], &card["title"], &card["reason"]), (&rec["id"], &rec["title"], &rec["reason"]));
        let title = card["title"].as_str().unwrap();
        assert!(title.ends_with(&format!("({})", card["year"])), "{card}");
        assert!(!card["genres"].as_array().unwrap().is_empty(), "{card}");
    }
}

/// The body of a response as JSON.
trait JsonValue {
    fn json_value(self) -> Value;
}

impl JsonValue for reqwest::blocking::Response {
    fn json_value(self) -> Value {
        let text = self.text().unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}
