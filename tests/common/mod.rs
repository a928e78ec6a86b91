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
        let mut child = Command::new(env!("CARGO_BIN_EXE_curator"))
            .args(["serve", "--port", "0"])
            .args(args)
            .env_remove("CURATOR_API_KEY")
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
