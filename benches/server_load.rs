//! Load figures for `curator serve` (benchmarks, not tests). A small load generator over
//! keep-alive HTTP/1.1 connections to 127.0.0.1 only, bounded in time and in request count; it
//! prints JSON lines.
//!
//! ```sh
//! cargo bench --bench server_load                  # both: recommend throughput, chat overload
//! cargo bench --bench server_load -- recommend     # one of them
//! CURATOR_LOAD_SECS=300 cargo bench --bench server_load -- chat_overload
//! ```
//!
//! Knobs: `CURATOR_LOAD_SECS` (duration, default 10 for recommend, 60 for chat),
//! `CURATOR_LOAD_CONNECTIONS` (default 4 for recommend, 16 for chat), `CURATOR_LOAD_NO_MODEL=1`
//! (chat overload without the model), `CURATOR_LOAD_RETRY_MS` (pause after a 429, default 50),
//! `CURATOR_LOAD_BIN` (serve with another `curator` binary, e.g. a build of `main` kept as the
//! reference of a speed change: run both in one session and compare the ratios).
//! Client and server share the machine's cores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Hard cap on requests per run, whatever the duration.
const MAX_REQUESTS: u64 = 2_000_000;

#[path = "../tests/common/mod.rs"]
mod common;

use common::Server;

fn start(args: &[&str]) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut all: Vec<std::ffi::OsString> = vec!["--db".into(), dir.path().join("load.db").into()];
    all.extend(args.iter().map(Into::into));
    let server = match std::env::var_os("CURATOR_LOAD_BIN") {
        Some(bin) => Server::spawn_program(&bin, all, Stdio::null(), &[]),
        None => Server::spawn(all, Stdio::null()),
    };
    assert!(server.addr.starts_with("127.0.0.1:"));
    (server, dir)
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One keep-alive connection.
struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let w = TcpStream::connect(addr).unwrap();
        w.set_nodelay(true).unwrap();
        w.set_read_timeout(Some(Duration::from_secs(900))).unwrap();
        Conn { r: BufReader::new(w.try_clone().unwrap()), w }
    }

    /// Sends a POST and reads the whole response (Content-Length or chunked). Returns the status
    /// and the body.
    fn post(&mut self, path: &str, body: &str) -> std::io::Result<(u16, Vec<u8>)> {
        write!(
            self.w,
            "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )?;
        let mut line = String::new();
        self.r.read_line(&mut line)?;
        let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let (mut len, mut chunked) = (None, false);
        loop {
            line.clear();
            if self.r.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            if line == "\r\n" {
                break;
            }
            let l = line.to_ascii_lowercase();
            if let Some(v) = l.strip_prefix("content-length:") {
                len = v.trim().parse::<usize>().ok();
            } else if l.starts_with("transfer-encoding:") && l.contains("chunked") {
                chunked = true;
            }
        }
        let mut out = Vec::new();
        if let Some(n) = len {
            out.resize(n, 0);
            self.r.read_exact(&mut out)?;
        } else if chunked {
            loop {
                line.clear();
                self.r.read_line(&mut line)?;
                let n = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
                let mut buf = vec![0u8; n + 2];
                self.r.read_exact(&mut buf)?;
                out.extend_from_slice(&buf[..n]);
                if n == 0 {
                    break;
                }
            }
        }
        Ok((status, out))
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn recommend_throughput() {
    let (server, _dir) = start(&["--no-model"]);
    let secs = env_or("CURATOR_LOAD_SECS", 10);
    let conns = env_or("CURATOR_LOAD_CONNECTIONS", 4);
    let body = r#"{"messages":[{"role":"user","content":"I loved Heat and Collateral, something like them"}],"k":10}"#;
    // Warm-up.
    let mut c = Conn::open(&server.addr);
    for _ in 0..200 {
        assert_eq!(c.post("/v1/recommend", body).unwrap().0, 200);
    }
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let handles: Vec<_> = (0..conns)
        .map(|_| {
            let (addr, count, stop) = (server.addr.clone(), Arc::clone(&count), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut c = Conn::open(&addr);
                let (mut lat, mut errors) = (Vec::new(), 0u64);
                while !stop.load(Ordering::Relaxed) && count.fetch_add(1, Ordering::Relaxed) < MAX_REQUESTS {
                    let t = Instant::now();
                    match c.post("/v1/recommend", body) {
                        Ok((200, _)) => lat.push(t.elapsed().as_secs_f64() * 1e3),
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    let (mut lat, mut errors) = (Vec::new(), 0);
    for h in handles {
        let (l, e) = h.join().unwrap();
        lat.extend(l);
        errors += e;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    println!(
        "{{\"bench\":\"recommend\",\"server\":{:?},\"connections\":{conns},\"seconds\":{elapsed:.1},\"ok\":{},\"errors\":{errors},\"req_per_s\":{:.0},\"p50_ms\":{:.2},\"p90_ms\":{:.2},\"p99_ms\":{:.2},\"max_ms\":{:.2},\"server_rss_mb\":{:.0}}}",
        std::env::var("CURATOR_LOAD_BIN").unwrap_or_else(|_| "this build".into()),
        lat.len(),
        lat.len() as f64 / elapsed,
        percentile(&lat, 50.0),
        percentile(&lat, 90.0),
        percentile(&lat, 99.0),
        lat.last().copied().unwrap_or(f64::NAN),
        rss_kb(server.pid()) as f64 / 1024.0
    );
    assert_eq!(errors, 0);
}

fn chat_overload() {
    let no_model = std::env::var("CURATOR_LOAD_NO_MODEL").is_ok_and(|v| v == "1");
    let mut args = vec!["--queue", "4", "--timeout-secs", "120"];
    if no_model {
        args.push("--no-model");
    }
    let (server, _dir) = start(&args);
    let secs = env_or("CURATOR_LOAD_SECS", 60);
    let conns = env_or("CURATOR_LOAD_CONNECTIONS", 16);
    let retry_ms = env_or("CURATOR_LOAD_RETRY_MS", 50);
    let pid = server.pid();
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = (0..conns)
        .map(|i| {
            let (addr, stop, count) = (server.addr.clone(), Arc::clone(&stop), Arc::clone(&count));
            std::thread::spawn(move || {
                let mut c = Conn::open(&addr);
                let (mut ok, mut refused, mut other, mut lat) = (0u64, 0u64, 0u64, Vec::new());
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) && count.fetch_add(1, Ordering::Relaxed) < MAX_REQUESTS {
                    n += 1;
                    let body = format!(
                        r#"{{"stream":{},"messages":[{{"role":"user","content":"I loved Heat and Alien, client {i} turn {n}"}}]}}"#,
                        n.is_multiple_of(2)
                    );
                    let t = Instant::now();
                    match c.post("/v1/chat/completions", &body) {
                        Ok((200, b)) if String::from_utf8_lossy(&b).contains("\"finish_reason\":\"stop\"") => {
                            ok += 1;
                            lat.push(t.elapsed().as_secs_f64() * 1e3);
                        }
                        Ok((429, _)) => {
                            refused += 1;
                            // A well-behaved client honours Retry-After (1 s); by default this one
                            // retries after 50 ms, to overload the server.
                            std::thread::sleep(Duration::from_millis(retry_ms));
                        }
                        Ok(_) => other += 1,
                        Err(_) => {
                            other += 1;
                            c = Conn::open(&addr);
                        }
                    }
                }
                (ok, refused, other, lat)
            })
        })
        .collect();
    let t0 = Instant::now();
    let mut rss = Vec::new();
    while t0.elapsed() < Duration::from_secs(secs) {
        rss.push(rss_kb(pid) / 1024);
        std::thread::sleep(Duration::from_secs(10).min(Duration::from_secs(secs).saturating_sub(t0.elapsed())));
    }
    rss.push(rss_kb(pid) / 1024);
    stop.store(true, Ordering::Relaxed);
    let (mut ok, mut refused, mut other, mut lat) = (0, 0, 0, Vec::new());
    for h in handles {
        let (o, r, x, l) = h.join().unwrap();
        ok += o;
        refused += r;
        other += x;
        lat.extend(l);
    }
    lat.sort_by(f64::total_cmp);
    let elapsed = t0.elapsed().as_secs_f64();
    println!(
        "{{\"bench\":\"chat_overload\",\"model\":{},\"queue\":4,\"connections\":{conns},\"seconds\":{elapsed:.0},\"retry_ms\":{retry_ms},\"completed\":{ok},\"refused_429\":{refused},\"other\":{other},\"completed_per_s\":{:.2},\"p50_ms\":{:.0},\"p99_ms\":{:.0},\"server_rss_mb_every_10s\":{rss:?}}}",
        !no_model,
        ok as f64 / elapsed,
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
    );
    assert_eq!(other, 0, "every request completes (finish_reason stop) or gets 429");
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument selects benchmarks by name.
    let wanted: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| name.contains(w.as_str()));
    if run("recommend_throughput") {
        recommend_throughput();
    }
    if run("chat_overload") {
        chat_overload();
    }
}
