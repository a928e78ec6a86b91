//! `curator serve` with the real default model (SmolLM2-135M-Instruct Q4_1): one chat turn whose
//! opening the model writes, a streaming client that disconnects (the turn is cancelled and not
//! stored; meanwhile its session answers other requests with 409), and a burst larger than the
//! queue (every request completes or gets 429), the per-request timeout (504), the saved
//! model caches (files) removed on SIGTERM, and a clean exit on SIGTERM right after a turn.
//!
//! A missing model is a failure, never a silent pass: run `cargo run --release -- model fetch`
//! (or `make model`) first, or point `CURATOR_MODEL` at a GGUF file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};

mod common;

use common::{model_path, Server};

fn start(db: &std::path::Path, queue: &str, timeout_secs: &str) -> Server {
    let args: Vec<std::ffi::OsString> = vec![
        "--timeout-secs".into(),
        timeout_secs.into(),
        "--queue".into(),
        queue.into(),
        "--db".into(),
        db.into(),
        "--model".into(),
        model_path().into(),
    ];
    Server::spawn(args, Stdio::inherit())
}

/// Waits (at most 10 minutes) until the worker has no turn running and none queued.
fn wait_idle(s: &Server) {
    for _ in 0..6000 {
        let h: Value =
            serde_json::from_str(&client().get(format!("http://{}/readyz", s.addr)).send().unwrap().text().unwrap())
                .unwrap();
        if h["generating"] == false && h["queue_depth"] == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the worker never became idle");
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(120)).build().unwrap()
}

#[test]
fn real_model_turn_disconnect_and_burst() {
    let dir = tempfile::tempdir().unwrap();
    // A long timeout: on a loaded 2-core machine a turn can take many seconds.
    let s = start(&dir.path().join("s.db"), "1", "600");
    let url = format!("http://{}/v1/chat/completions", s.addr);

    // One turn with the model.
    let body = json!({"model": "curator", "messages": [{"role": "user", "content": "I loved Heat and Collateral"}]});
    let r = client().post(&url).body(body.to_string()).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    let content = v["choices"][0]["message"]["content"].as_str().unwrap();
    assert_eq!(v["recommendations"].as_array().unwrap().len(), 3, "{v}");
    assert!(content.lines().count() >= 5, "opening, three items, closing: {content}");
    // Usage counts the model's tokens: a prompt of chat template, dialogue and tool results, and
    // at least the three decoded titles ("Heat (1995)" alone is several tokens).
    let (p, c, t) = (
        v["usage"]["prompt_tokens"].as_u64().unwrap(),
        v["usage"]["completion_tokens"].as_u64().unwrap(),
        v["usage"]["total_tokens"].as_u64().unwrap(),
    );
    assert!(p >= 50 && c >= 9 && t == p + c, "{}", v["usage"]);

    // A streaming client that leaves after the first event: the turn is cancelled, not stored.
    let mut raw = TcpStream::connect(&s.addr).unwrap();
    let body = json!({"stream": true, "session_id": "left-early", "messages": [{"role": "user", "content": "I loved Alien and Aliens, and Predator too"}]}).to_string();
    write!(
        raw,
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut first = [0u8; 64];
    let n = raw.read(&mut first).unwrap();
    assert!(std::str::from_utf8(&first[..n]).unwrap().starts_with("HTTP/1.1 200"));
    // While that turn holds its session, other requests for the session get 409 + Retry-After.
    let fb = json!({"session_id": "left-early", "item_id": 176314, "rating": "like"});
    let r = client().post(format!("http://{}/v1/feedback", s.addr)).body(fb.to_string()).send().unwrap();
    assert_eq!(r.status().as_u16(), 409);
    assert!(r.headers().get("retry-after").is_some());
    assert!(r.text().unwrap().contains("busy"));
    drop(raw);
    std::thread::sleep(Duration::from_millis(300));
    wait_idle(&s);
    let r = client().get(format!("http://{}/v1/sessions/left-early", s.addr)).send().unwrap();
    assert_eq!(r.status().as_u16(), 404, "a turn whose client left is not stored: {}", r.text().unwrap());

    // A burst of 8 against a queue of 1: each completes or is refused with 429.
    let handles: Vec<_> = (0..8u32)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let body = json!({"stream": i.is_multiple_of(2), "messages": [{"role": "user", "content": format!("a scary movie please, {i}")}]});
                let r = client().post(&url).body(body.to_string()).send().unwrap();
                (r.status().as_u16(), r.text().unwrap())
            })
        })
        .collect();
    let (mut ok, mut refused) = (0, 0);
    for h in handles {
        let (status, text) = h.join().unwrap();
        match status {
            200 => {
                assert!(text.contains("\"finish_reason\":\"stop\""), "{text}");
                ok += 1;
            }
            429 => {
                assert!(text.contains("queue_full"), "{text}");
                refused += 1;
            }
            other => panic!("status {other}: {text}"),
        }
    }
    eprintln!("burst of 8 against queue 1: {ok} completed, {refused} refused with 429");
    assert!(ok >= 1 && refused >= 1, "{ok} ok, {refused} refused");

    drop(s);

    // A 1 s per-request timeout with 10 turns queued: the late ones get 504 with a JSON error
    // (generation cancelled or never started); none hangs. The session of a turn that timed
    // out is free when the client hears it: the next turn of the session is never 409 (the
    // timed-out job may still be queued; it no longer holds the session).
    let s = start(&dir.path().join("t.db"), "16", "1");
    let url = format!("http://{}/v1/chat/completions", s.addr);
    let handles: Vec<_> = (0..10u32)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let body = json!({"session_id": format!("t-{i}"), "messages": [{"role": "user", "content": format!("I loved Alien, {i}")}]});
                let r = client().post(&url).body(body.to_string()).send().unwrap();
                let first = (r.status().as_u16(), r.text().unwrap());
                let again = (first.0 == 504).then(|| {
                    let body = json!({"session_id": format!("t-{i}"), "messages": [{"role": "user", "content": "more please"}]});
                    let r = client().post(&url).body(body.to_string()).send().unwrap();
                    (r.status().as_u16(), r.text().unwrap())
                });
                (first, again)
            })
        })
        .collect();
    let mut timed_out = 0;
    for h in handles {
        let ((status, text), again) = h.join().unwrap();
        if let Some((code, body)) = again {
            assert!(matches!(code, 200 | 429 | 504), "the turn after a timeout got {code}: {body}");
        }
        match status {
            200 => {}
            504 => {
                let v: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["error"]["code"], "timeout", "{text}");
                assert!(v["error"]["message"].as_str().unwrap().contains("within 1 s"), "{text}");
                timed_out += 1;
            }
            other => panic!("status {other}: {text}"),
        }
    }
    assert!(timed_out >= 1, "10 turns cannot all finish within 1 s");

    // The sessions' saved model caches are files of the server's own folder, removed when it
    // stops on SIGTERM.
    wait_idle(&s);
    let prefix = format!("curator-kv-{}-", s.pid());
    let folders = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| e.path())
            .collect()
    };
    let saved: usize = folders().iter().map(|d| std::fs::read_dir(d).unwrap().count()).sum();
    assert!(saved >= 1, "no saved cache in {}/{prefix}*", std::env::temp_dir().display());
    assert!(s.terminate().success());
    assert!(folders().is_empty(), "left behind: {:?}", folders());

    // SIGTERM right after a turn's reply, while the worker caches the dialogue inside llama.cpp
    // (a long message makes that take a while): the server waits for it and exits cleanly (it
    // used to end with a segmentation fault).
    let s = start(&dir.path().join("t.db"), "1", "600");
    let long = format!("I loved Heat. {}", "I like slow crime dramas with moody night photography. ".repeat(40));
    let body = json!({"session_id": "late", "messages": [{"role": "user", "content": long}]});
    let r = client().post(format!("http://{}/v1/chat/completions", s.addr)).body(body.to_string()).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let status = s.terminate();
    assert!(status.success(), "exit after SIGTERM: {status:?}");
}
