//! `curator serve` with the real default model (SmolLM2-135M-Instruct Q4_1) on 127.0.0.1: what a
//! client sends is answered and kept — the dialogue-window crash of issue 20 (a stateless request
//! whose history is longer than the model's context).
//!
//! A missing model is a failure, never a silent pass: run `cargo run --release -- model fetch`
//! (or `make model`) first, or point `CURATOR_MODEL` at a GGUF file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Stdio;

use serde_json::json;

mod common;

use common::{get_json as get, model_path, post_json as post, Server};

/// `curator serve --model MODEL --db DB` on 127.0.0.1.
fn start(db: &Path) -> Server {
    let args: Vec<std::ffi::OsString> =
        vec!["--timeout-secs".into(), "600".into(), "--db".into(), db.into(), "--model".into(), model_path().into()];
    Server::spawn(args, Stdio::inherit())
}

/// Issue 20: `[user "I loved Heat", assistant <6,000 bytes>, user "more please"]` moved the
/// dialogue window's start to 8 in a history of 2 turns, and the slice panicked (HTTP 500).
#[test]
fn a_history_longer_than_the_context_after_one_turn_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(&dir.path().join("s.db"));
    let long = "Here is a long reply about crime movies and their directors. ".repeat(100);
    assert!(long.len() >= 6000);
    let messages = json!([
        {"role": "user", "content": "I loved Heat"},
        {"role": "assistant", "content": long},
        {"role": "user", "content": "more please"},
    ]);
    let (code, r) = post(&s, "/v1/chat/completions", &json!({"model": "curator", "messages": messages}));
    assert_eq!(code, 200, "{r}");
    let recs = r["recommendations"].as_array().unwrap();
    assert_eq!(recs.len(), 3, "{r}");
    let content = r["choices"][0]["message"]["content"].as_str().unwrap();
    for rec in recs {
        assert!(content.contains(rec["title"].as_str().unwrap()), "{rec} in {content}");
        assert_ne!(rec["title"], "Heat (1995)", "a liked item is not recommended back");
    }
    // The same dialogue streamed gets the same answer shape, not a broken stream.
    let (code, r) = post(&s, "/v1/chat/completions", &json!({"messages": messages, "stream": false}));
    assert_eq!(code, 200, "{r}");
    let (code, health) = get(&s, "/healthz");
    assert_eq!((code, health["worker_alive"].as_bool()), (200, Some(true)), "{health}");
}
