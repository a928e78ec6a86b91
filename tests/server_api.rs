//! `curator serve --no-model` over a real socket on 127.0.0.1: the OpenAI wire format (plain and
//! streamed), `/v1/recommend`, feedback, sessions surviving `kill -9`, every error case as JSON,
//! the API key, and 50 concurrent streaming clients against a small queue.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};

mod common;

use common::{get_json as get, Server};

/// `curator serve --no-model --db DB EXTRA…`, checked to bind 127.0.0.1 by default.
fn start(db: &Path, extra: &[&str]) -> Server {
    let mut args: Vec<std::ffi::OsString> = vec!["--no-model".into(), "--db".into(), db.into()];
    args.extend(extra.iter().map(Into::into));
    let s = Server::spawn(args, Stdio::inherit());
    assert!(s.addr.starts_with("127.0.0.1:"), "binds 127.0.0.1 by default: {}", s.addr);
    s
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap()
}

/// POSTs raw bytes; returns status, headers and body text.
fn post_raw(
    s: &Server,
    path: &str,
    body: impl Into<reqwest::blocking::Body>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let r = client().post(s.url(path)).header("content-type", "application/json").body(body).send().unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().unwrap())
}

fn post(s: &Server, path: &str, body: &Value) -> (u16, Value) {
    let (status, _, text) = post_raw(s, path, body.to_string());
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

/// The `data:` payloads of a server-sent event stream.
fn sse_events(body: &str) -> Vec<String> {
    body.split("\n\n").filter_map(|ev| ev.lines().find_map(|l| l.strip_prefix("data: ")).map(str::to_string)).collect()
}

#[test]
fn chat_completion_follows_the_openai_format_and_sessions_continue() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(&dir.path().join("s.db"), &[]);
    let (code, r) = post(
        &s,
        "/v1/chat/completions",
        &json!({"model": "curator", "messages": [{"role": "system", "content": "be nice"}, user("I loved Heat and Collateral")], "temperature": 0.2}),
    );
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["object"], "chat.completion");
    assert!(r["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(r["choices"][0]["message"]["role"], "assistant");
    assert_eq!(r["choices"][0]["finish_reason"], "stop");
    let content = r["choices"][0]["message"]["content"].as_str().unwrap();
    let recs = r["recommendations"].as_array().unwrap();
    assert_eq!(recs.len(), 3, "{r}");
    for rec in recs {
        assert!(rec["id"].as_u64().is_some() && rec["reason"].as_str().is_some_and(|x| !x.is_empty()), "{rec}");
        assert!(content.contains(rec["title"].as_str().unwrap()), "the reply lists every item: {content}");
    }
    // No model ran: no model tokens (the reply comes from the tools).
    assert_eq!(r["usage"], json!({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}), "{r}");
    let sid = r["session_id"].as_str().unwrap().to_string();

    // The session continues: only the new message is read; earlier picks are not repeated.
    let (code, r2) =
        post(&s, "/v1/chat/completions", &json!({"messages": [user("something funny now")], "session_id": sid}));
    assert_eq!(code, 200, "{r2}");
    assert_eq!(r2["session_id"], sid.as_str());
    let first: Vec<u64> = recs.iter().map(|x| x["id"].as_u64().unwrap()).collect();
    for rec in r2["recommendations"].as_array().unwrap() {
        assert!(!first.contains(&rec["id"].as_u64().unwrap()), "never recommended twice: {r2}");
    }
    let (code, view) = get(&s, &format!("/v1/sessions/{sid}"));
    assert_eq!(code, 200);
    assert_eq!(view["messages"].as_array().unwrap().len(), 4, "{view}");
    assert_eq!(view["recommended"].as_array().unwrap().len(), 6, "{view}");
    let liked: Vec<&str> = view["liked"].as_array().unwrap().iter().map(|x| x["title"].as_str().unwrap()).collect();
    assert!(liked.iter().any(|t| t.starts_with("Heat")), "{view}");
}

#[test]
fn streaming_sends_role_text_recommendations_stop_and_done() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(&dir.path().join("s.db"), &[]);
    let body = json!({"model": "curator", "stream": true, "stream_options": {"include_usage": true}, "messages": [user("I want a funny animated movie for my kids")]});
    let (code, headers, text) = post_raw(&s, "/v1/chat/completions", body.to_string());
    assert_eq!(code, 200, "{text}");
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let events = sse_events(&text);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{text}");
    let chunks: Vec<Value> = events[..events.len() - 1].iter().map(|e| serde_json::from_str(e).unwrap()).collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let id = chunks[0]["id"].clone();
    let mut content = String::new();
    let mut recs = None;
    let mut stops = 0;
    for c in &chunks {
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["id"], id);
        if let Some(t) = c["choices"][0]["delta"]["content"].as_str() {
            content.push_str(t);
        }
        if c["choices"][0]["finish_reason"] == "stop" {
            stops += 1;
        }
        if c.get("recommendations").is_some() {
            recs = Some(c["recommendations"].as_array().unwrap().clone());
        }
    }
    assert_eq!(stops, 1);
    let usage = chunks.last().unwrap();
    assert!(usage["choices"].as_array().unwrap().is_empty(), "{usage}");
    assert_eq!(usage["usage"]["total_tokens"], 0, "no model ran: {usage}");
    let recs = recs.expect("one chunk carries the recommendations");
    assert_eq!(recs.len(), 3);
    for r in &recs {
        assert!(content.contains(r["title"].as_str().unwrap()), "{content}");
    }
}

#[test]
fn recommend_ranks_without_generation_from_messages_or_a_session() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(&dir.path().join("s.db"), &[]);
    let (code, r) = post(&s, "/v1/recommend", &json!({"messages": [user("I loved Heat but I hated Titanic")], "k": 5}));
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["items"].as_array().unwrap().len(), 5);
    assert!(r["liked"][0]["title"].as_str().unwrap().starts_with("Heat"), "{r}");
    assert!(r["disliked"][0]["title"].as_str().unwrap().starts_with("Titanic"), "{r}");
    let scores: Vec<f64> = r["items"].as_array().unwrap().iter().map(|x| x["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "best first: {scores:?}");

    // From a session, with feedback: a disliked item is never recommended.
    let (_, c) = post(&s, "/v1/chat/completions", &json!({"messages": [user("I loved Heat and Collateral")]}));
    let sid = c["session_id"].as_str().unwrap();
    let (code, before) = post(&s, "/v1/recommend", &json!({"session_id": sid, "k": 10}));
    assert_eq!(code, 200, "{before}");
    let top = before["items"][0]["id"].as_u64().unwrap();
    let (code, fb) = post(&s, "/v1/feedback", &json!({"session_id": sid, "item_id": top, "rating": "dislike"}));
    assert_eq!(code, 200, "{fb}");
    assert_eq!(fb["rating"], "dislike");
    let (_, after) = post(&s, "/v1/recommend", &json!({"session_id": sid, "k": 10}));
    assert!(after["items"].as_array().unwrap().iter().all(|x| x["id"].as_u64() != Some(top)), "{after}");
    assert!(after["disliked"].as_array().unwrap().iter().any(|x| x["id"].as_u64() == Some(top)), "{after}");
}

#[test]
fn sessions_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let s = start(&db, &[]);
    let (code, r) =
        post(&s, "/v1/chat/completions", &json!({"messages": [user("I loved Heat")], "session_id": "kill-test_1"}));
    assert_eq!(code, 200, "{r}");
    let first: Vec<u64> = r["recommendations"].as_array().unwrap().iter().map(|x| x["id"].as_u64().unwrap()).collect();
    let (code, fb) =
        post(&s, "/v1/feedback", &json!({"session_id": "kill-test_1", "item_id": first[0], "rating": "like"}));
    assert_eq!(code, 200, "{fb}");
    s.kill9();

    let s = start(&db, &[]);
    let (code, view) = get(&s, "/v1/sessions/kill-test_1");
    assert_eq!(code, 200, "{view}");
    assert_eq!(view["messages"][0]["content"], "I loved Heat");
    assert_eq!(view["messages"][1]["role"], "assistant");
    let recommended: Vec<u64> =
        view["recommended"].as_array().unwrap().iter().map(|x| x["id"].as_u64().unwrap()).collect();
    assert_eq!(recommended, first);
    assert!(
        view["liked"].as_array().unwrap().iter().any(|x| x["id"].as_u64() == Some(first[0])),
        "feedback kept: {view}"
    );
    let (code, r2) =
        post(&s, "/v1/chat/completions", &json!({"messages": [user("more please")], "session_id": "kill-test_1"}));
    assert_eq!(code, 200, "{r2}");
    for rec in r2["recommendations"].as_array().unwrap() {
        assert!(!first.contains(&rec["id"].as_u64().unwrap()), "the restarted server remembers: {r2}");
    }
}

/// Every malformed request gets a JSON error with the right status and a message naming the problem.
#[test]
fn every_error_is_json_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(&dir.path().join("s.db"), &["--max-body-bytes", "20000"]);
    let long = "a".repeat(5000);
    let huge = format!("{{\"messages\": [{{\"role\": \"user\", \"content\": \"{}\"}}]}}", "b".repeat(30_000));
    let chat = "/v1/chat/completions";
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        ("malformed JSON", chat, "{\"messages\": [".into(), 400, "malformed JSON"),
        ("empty body", chat, String::new(), 400, "empty"),
        ("not an object", chat, "[1, 2]".into(), 400, "JSON object"),
        ("missing messages", chat, "{\"model\": \"curator\"}".into(), 400, "missing field `messages`"),
        ("messages wrong type", chat, "{\"messages\": \"hi\"}".into(), 400, "messages"),
        ("role wrong type", chat, "{\"messages\": [{\"role\": 5, \"content\": \"hi\"}]}".into(), 400, "role"),
        ("stream wrong type", chat, "{\"stream\": \"yes\", \"messages\": []}".into(), 400, "stream"),
        (
            "content wrong type",
            chat,
            json!({"messages": [{"role": "user", "content": 42}]}).to_string(),
            400,
            "content",
        ),
        ("unknown role", chat, json!({"messages": [{"role": "wizard", "content": "hi"}]}).to_string(), 400, "wizard"),
        ("unknown model", chat, json!({"model": "gpt-9", "messages": [user("hi")]}).to_string(), 404, "gpt-9"),
        ("empty messages", chat, json!({"messages": []}).to_string(), 400, "messages is empty"),
        (
            "last not user",
            chat,
            json!({"messages": [user("hi"), {"role": "assistant", "content": "yo"}]}).to_string(),
            400,
            "last message",
        ),
        ("blank message", chat, json!({"messages": [user("   ")]}).to_string(), 400, "empty"),
        (
            "control character, streamed",
            chat,
            json!({"stream": true, "messages": [user("I loved Heat\u{1b}")]}).to_string(),
            400,
            "U+001B",
        ),
        ("oversize message", chat, json!({"messages": [user(&long)]}).to_string(), 400, "limit is 4000"),
        ("oversize body", chat, huge, 413, "20000 bytes"),
        (
            "invalid session id",
            chat,
            json!({"messages": [user("hi")], "session_id": "../../etc"}).to_string(),
            400,
            "invalid session id",
        ),
        (
            "empty session id",
            chat,
            json!({"messages": [user("hi")], "session_id": ""}).to_string(),
            400,
            "invalid session id",
        ),
        ("recommend nothing", "/v1/recommend", "{}".into(), 400, "messages"),
        ("recommend k", "/v1/recommend", json!({"messages": [user("hi")], "k": 0}).to_string(), 400, "k must be"),
        ("recommend k negative", "/v1/recommend", json!({"messages": [user("hi")], "k": -3}).to_string(), 400, "k"),
        (
            "recommend unknown session",
            "/v1/recommend",
            json!({"session_id": "nope"}).to_string(),
            404,
            "does not exist",
        ),
        (
            "feedback rating",
            "/v1/feedback",
            json!({"session_id": "x", "item_id": 1, "rating": "meh"}).to_string(),
            400,
            "rating",
        ),
        (
            "feedback unknown item",
            "/v1/feedback",
            json!({"session_id": "x", "item_id": 4_000_000_000u64, "rating": "like"}).to_string(),
            400,
            "not in the catalog",
        ),
        (
            "feedback unknown session",
            "/v1/feedback",
            json!({"session_id": "nobody", "item_id": 176314, "rating": "like"}).to_string(),
            404,
            "does not exist",
        ),
        ("unknown route", "/v1/nothing", "{}".into(), 404, "no route"),
    ];
    for (name, path, body, status, needle) in cases {
        let (code, headers, text) = post_raw(&s, path, body);
        assert_eq!(code, status, "{name}: {text}");
        assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"), "{name}");
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {text}"));
        let msg = v["error"]["message"].as_str().unwrap_or_else(|| panic!("{name}: no error.message: {text}"));
        assert!(msg.contains(needle), "{name}: {msg:?} should mention {needle:?}");
        assert!(v["error"]["type"].is_string() && v["error"]["code"].is_string(), "{name}: {text}");
    }
    // A missing field is named in `param`, as a wrong-typed one is.
    let (code, _, text) = post_raw(&s, chat, "{\"model\": \"curator\"}".to_string());
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((code, v["error"]["param"].as_str()), (400, Some("messages")), "{text}");
    let (_, _, text) = post_raw(&s, chat, "{\"stream\": \"yes\", \"messages\": []}".to_string());
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["error"]["param"].as_str(), Some("stream"), "{text}");
    // Wrong method on a known route.
    let r = client().get(s.url("/v1/chat/completions")).send().unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let v: Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("method"));
    // Garbage bytes on the raw socket: the server answers 400 or closes; it stays up.
    let mut raw = TcpStream::connect(&s.addr).unwrap();
    raw.write_all(b"\x00\xff GARBAGE\r\n\r\n").unwrap();
    let mut sink = Vec::new();
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = raw.read_to_end(&mut sink);
    let (code, _) = get(&s, "/healthz");
    assert_eq!(code, 200);
}

#[test]
fn api_key_guards_v1_but_not_health() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(&dir.path().join("s.db"), &["--api-key", "s3cret"]);
    let (code, v) = get(&s, "/v1/models");
    assert_eq!(code, 401);
    assert!(v["error"]["message"].as_str().unwrap().contains("API key"));
    let r = client().get(s.url("/v1/models")).bearer_auth("wrong").send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let r = client().get(s.url("/v1/models")).bearer_auth("s3cret").send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    assert_eq!(v["data"][0]["id"], "curator");
    assert_eq!(get(&s, "/healthz").0, 200);
    assert_eq!(get(&s, "/readyz").0, 200);
    let (code, doc) = get(&s, "/openapi.json");
    assert_eq!(code, 200);
    for p in ["/v1/chat/completions", "/v1/recommend", "/v1/feedback", "/v1/models", "/healthz", "/readyz"] {
        assert!(doc["paths"].get(p).is_some(), "OpenAPI documents {p}");
    }
}

/// 50 concurrent streaming clients against a queue of 4: every response is a complete stream or
/// a clean 429 with `Retry-After` and a JSON error; the server stays healthy.
#[test]
fn fifty_concurrent_streams_complete_or_are_cleanly_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(&dir.path().join("s.db"), &["--queue", "4"]);
    let url = s.url("/v1/chat/completions");
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let body = json!({"stream": true, "messages": [user(&format!("I loved Heat and Alien, number {i}"))]});
                let r = client()
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .send()
                    .unwrap();
                let status = r.status().as_u16();
                let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
                (status, retry, r.text().unwrap())
            })
        })
        .collect();
    let (mut ok, mut refused) = (0, 0);
    for h in handles {
        let (status, retry, text) = h.join().unwrap();
        match status {
            200 => {
                let ev = sse_events(&text);
                assert_eq!(ev.last().map(String::as_str), Some("[DONE]"), "{text}");
                assert!(text.contains("\"finish_reason\":\"stop\""), "complete: {text}");
                ok += 1;
            }
            429 => {
                assert!(retry.is_some(), "429 carries Retry-After");
                let v: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["error"]["code"], "queue_full");
                refused += 1;
            }
            other => panic!("unexpected status {other}: {text}"),
        }
    }
    assert_eq!(ok + refused, 50);
    // How many fit in the queue depends on timing on a loaded 2-core machine; what must hold is
    // that each response is complete or a clean 429, and that some complete.
    assert!(ok >= 1, "some streams complete ({ok} ok, {refused} refused)");
    let (code, h) = get(&s, "/readyz");
    assert_eq!(code, 200, "{h}");
}

/// `kill -9` while requests are in flight: after a restart, every turn whose response was
/// complete (non-streamed 200) is stored, with both messages.
#[test]
fn every_answered_turn_survives_kill_9_mid_requests() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sessions.db");
    let s = start(&db, &["--queue", "64"]);
    let url = s.url("/v1/chat/completions");
    let handles: Vec<_> = (0..40)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(i * 5));
                let body = json!({"messages": [user(&format!("I loved Heat and Alien, request {i}"))]});
                let r = client().post(&url).body(body.to_string()).send().ok()?;
                if r.status().as_u16() != 200 {
                    return None;
                }
                let v: Value = serde_json::from_str(&r.text().ok()?).ok()?;
                Some((v["session_id"].as_str()?.to_string(), i))
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    s.kill9();
    let answered: Vec<(String, u64)> = handles.into_iter().filter_map(|h| h.join().unwrap()).collect();
    let s = start(&db, &[]);
    for (sid, i) in &answered {
        let (code, view) = get(&s, &format!("/v1/sessions/{sid}"));
        assert_eq!(code, 200, "answered turn {i} lost after kill -9: {view}");
        assert_eq!(view["messages"].as_array().unwrap().len(), 2, "{view}");
        assert_eq!(view["messages"][0]["content"], format!("I loved Heat and Alien, request {i}"));
    }
    eprintln!("{} of 40 requests answered before kill -9; all stored", answered.len());
}
