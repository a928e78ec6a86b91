//! Connection safety of `curator serve` over real sockets on 127.0.0.1: a slow-loris client of
//! 200 connections sending one byte a second does not stop a normal client (the header deadline
//! closes them, the connection cap bounds what they hold), request ids reach the response and
//! the log, and CORS is closed unless origins are allowed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

mod common;

use common::Server;

const LORIS: usize = 200;
const CAP: usize = 32;

/// Sockets the process `pid` holds open (Linux `/proc`).
fn open_sockets(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter(|l| l.to_string_lossy().starts_with("socket:"))
                .count()
        })
        .unwrap_or(0)
}

/// 200 connections that each send one byte of an endless request head per second, reconnecting
/// when the server closes them, until `stop` (or 120 s). Returns how many the server closed.
fn slow_loris(addr: String, stop: Arc<AtomicBool>, closed: Arc<AtomicUsize>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let connect = || {
            let s = TcpStream::connect(&addr).unwrap();
            s.set_nonblocking(true).unwrap();
            s
        };
        let mut conns: Vec<(TcpStream, usize)> = (0..LORIS).map(|_| (connect(), 0)).collect();
        let started = Instant::now();
        while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(120) {
            for (s, pos) in &mut conns {
                let byte = head[(*pos).min(head.len() - 1)];
                match s.write(&[byte]) {
                    Ok(_) => *pos += 1,
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(_) => {
                        closed.fetch_add(1, Ordering::Relaxed);
                        *s = connect();
                        *pos = 0;
                    }
                }
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    })
}

#[test]
fn a_slow_loris_does_not_stop_a_normal_client_and_requests_carry_ids() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let s = Server::spawn_with_env(
        [
            "--no-model",
            "--db",
            dir.path().join("s.db").to_str().unwrap(),
            "--max-connections",
            &CAP.to_string(),
            "--header-timeout-secs",
            "2",
            "--cors-origin",
            "http://app.example",
        ],
        Stdio::from(log),
        &[("RUST_LOG", "info")],
    );

    let stop = Arc::new(AtomicBool::new(false));
    let closed = Arc::new(AtomicUsize::new(0));
    let loris = slow_loris(s.addr.clone(), Arc::clone(&stop), Arc::clone(&closed));
    std::thread::sleep(Duration::from_secs(3));

    // A normal client, while the 200 slow connections keep trickling.
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(90)).build().unwrap();
    let r = client.get(s.url("/healthz")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = client
        .post(s.url("/v1/recommend"))
        .header("x-request-id", "test-req-42")
        .header("content-type", "application/json")
        .body(json!({"messages": [{"role": "user", "content": "I loved Heat"}], "k": 3}).to_string())
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["x-request-id"], "test-req-42", "the client's id comes back");
    let sockets_during = open_sockets(s.pid());

    // Every slow connection is closed by the header deadline (none is ever answered).
    let waited = Instant::now();
    while closed.load(Ordering::Relaxed) < LORIS && waited.elapsed() < Duration::from_secs(90) {
        std::thread::sleep(Duration::from_millis(500));
    }
    let sockets_late = open_sockets(s.pid());
    stop.store(true, Ordering::Relaxed);
    loris.join().unwrap();
    assert!(
        closed.load(Ordering::Relaxed) >= LORIS,
        "the server closed {} slow connections",
        closed.load(Ordering::Relaxed)
    );
    // The cap: the listener, the slots and the client's connection; the rest wait in the backlog.
    for n in [sockets_during, sockets_late] {
        assert!(n <= CAP + 4, "the server held {n} sockets with a cap of {CAP}");
    }

    // A request without an id gets a new one (a UUID), and the log names it.
    let r = client.get(s.url("/v1/models")).send().unwrap();
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!((id.len(), id.matches('-').count()), (36, 4), "{id}");
    // CORS for the allowed origin only.
    let preflight = |origin: &str| {
        client
            .request(reqwest::Method::OPTIONS, s.url("/v1/chat/completions"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type, authorization")
            .send()
            .unwrap()
    };
    let r = preflight("http://app.example");
    assert_eq!(r.headers().get("access-control-allow-origin").unwrap(), "http://app.example");
    let r = preflight("http://evil.example");
    assert!(r.headers().get("access-control-allow-origin").is_none(), "{:?}", r.headers());
    drop(s);
    let log = std::fs::read_to_string(&log_path).unwrap();
    for needle in ["test-req-42", id.as_str()] {
        assert!(
            log.lines().any(|l| l.contains(needle) && l.contains("status=200")),
            "a log line names request {needle} with its status:\n{log}"
        );
    }
}

#[test]
fn cors_is_closed_by_default_and_a_bad_origin_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::spawn(["--no-model", "--db", dir.path().join("s.db").to_str().unwrap()], Stdio::inherit());
    let client = reqwest::blocking::Client::new();
    let r = client
        .request(reqwest::Method::OPTIONS, s.url("/v1/chat/completions"))
        .header("origin", "http://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none(), "{:?}", r.headers());
    assert_ne!(r.status().as_u16(), 200, "no preflight succeeds");
    let r = client.get(s.url("/healthz")).header("origin", "http://app.example").send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    drop(s);

    let out = Command::new(env!("CARGO_BIN_EXE_curator"))
        .args(["serve", "--no-model", "--port", "0", "--cors-origin", "app.example/"])
        .args(["--db", dir.path().join("t.db").to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("\"app.example/\"") && err.contains("scheme://host"), "{err}");
}

/// Connections that send their headers at once and then trickle the body (one byte a second of
/// a declared 200-byte body) are answered 408 `body_timeout` at the body deadline and closed,
/// so they cannot hold the connection slots past it (a normal client queued behind them is
/// served once they are closed), and a body
/// over the limit is still a 413.
#[test]
fn a_slow_body_is_answered_408_at_the_body_deadline() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let s = Server::spawn(
        [
            "--no-model",
            "--db",
            dir.path().join("s.db").to_str().unwrap(),
            "--max-connections",
            "8",
            "--body-timeout-secs",
            "2",
            "--max-body-bytes",
            "1000",
        ],
        Stdio::null(),
    );
    let head = "POST /v1/recommend HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n";
    // As many slow bodies as the cap: without the deadline they would hold every slot.
    let slow: Vec<std::thread::JoinHandle<(String, Duration)>> = (0..8)
        .map(|_| {
            let addr = s.addr.clone();
            std::thread::spawn(move || {
                let mut c = TcpStream::connect(&addr).unwrap();
                c.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
                c.write_all(head.as_bytes()).unwrap();
                let started = Instant::now();
                let mut answer = Vec::new();
                // One byte a second until the server answers and closes (or 20 s).
                while started.elapsed() < Duration::from_secs(20) {
                    let _ = c.write_all(b"{");
                    let mut buf = [0u8; 4096];
                    match c.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            answer.extend_from_slice(&buf[..n]);
                            continue;
                        }
                        Err(_) => {}
                    }
                    std::thread::sleep(Duration::from_millis(800));
                }
                (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let ok = client
        .post(s.url("/v1/recommend"))
        .header("content-type", "application/json")
        .body(json!({"messages": [{"role": "user", "content": "I loved Heat"}], "k": 3}).to_string())
        .send()
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200, "a normal client is served while the slow bodies wait");
    for h in slow {
        let (answer, took) = h.join().unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
        assert!(
            answer.contains("body_timeout") && answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
        assert!(took >= Duration::from_millis(1500) && took < Duration::from_secs(15), "answered after {took:?}");
    }
    let big = client
        .post(s.url("/v1/recommend"))
        .header("content-type", "application/json")
        .body(format!("{{\"messages\": [{{\"role\": \"user\", \"content\": \"{}\"}}]}}", "a".repeat(2000)))
        .send()
        .unwrap();
    assert_eq!(big.status().as_u16(), 413);
    assert!(big.text().unwrap().contains("payload_too_large"));
}
