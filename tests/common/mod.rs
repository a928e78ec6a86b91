//! A `curator serve` child process for the server tests and the load benchmark (included with
//! `mod common;`, or `#[path]` from `benches/`): started on port 0, its address read from the
//! first line it prints, killed (SIGKILL) when dropped.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Stdio};

/// A running `curator serve`.
pub struct Server {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    /// Runs `curator serve --port 0 ARGS…` (with `CURATOR_API_KEY` unset) and waits until it
    /// listens; `stderr` is where the server's log goes.
    pub fn spawn<I, S>(args: I, stderr: Stdio) -> Server
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Self::spawn_with_env(args, stderr, &[])
    }

    /// [`Server::spawn`] with extra environment variables (e.g. `RUST_LOG`).
    pub fn spawn_with_env<I, S>(args: I, stderr: Stdio, env: &[(&str, &str)]) -> Server
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Self::spawn_program(env!("CARGO_BIN_EXE_curator").as_ref(), args, stderr, env)
    }

    /// [`Server::spawn_with_env`] of another `curator` binary `program` (the load benchmark's
    /// reference build).
    #[allow(dead_code)]
    pub fn spawn_program<I, S>(program: &OsStr, args: I, stderr: Stdio, env: &[(&str, &str)]) -> Server
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut child = Command::new(program)
            .args(["serve", "--port", "0"])
            .args(args)
            .env_remove("CURATOR_API_KEY")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("curator serve: listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line from curator serve: {line:?}"))
            .to_string();
        Server { child, addr, _stdout: stdout }
    }

    /// `http://ADDR{path}`.
    #[allow(dead_code)]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The server's process id.
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM (`kill -TERM`), then waits (at most 30 s) for a clean exit; returns its status.
    #[allow(dead_code)]
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success(), "kill -TERM failed");
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the server did not exit within 30 s of SIGTERM");
    }

    /// SIGKILL, no clean shutdown.
    #[allow(dead_code)]
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The model file the tests run: `CURATOR_MODEL`, else the default model in the cache. A missing
/// file fails the test with how to get it, never a silent pass.
#[allow(dead_code)]
pub fn model_path() -> std::path::PathBuf {
    let p = std::env::var_os("CURATOR_MODEL")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(curator::llm::fetch::default_model_path);
    assert!(
        p.exists(),
        "the model file {} is missing: run `cargo run --release -- model fetch` (or `make model`), or point \
         CURATOR_MODEL at a GGUF file",
        p.display()
    );
    p
}

/// A blocking HTTP client with a generous timeout (a turn with the model on a loaded 2-core
/// machine can take long).
#[allow(dead_code)]
pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(std::time::Duration::from_secs(300)).build().unwrap()
}

/// `GET path` on `server`: the status and the body as JSON (a body that is not JSON fails).
#[allow(dead_code)]
pub fn get_json(server: &Server, path: &str) -> (u16, serde_json::Value) {
    let r = http().get(server.url(path)).send().unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
}

/// `POST path` on `server` with a JSON `body`: the status and the body as JSON.
#[allow(dead_code)]
pub fn post_json(server: &Server, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let r =
        http().post(server.url(path)).header("content-type", "application/json").body(body.to_string()).send().unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")))
}
