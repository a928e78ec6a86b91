//! End to end in a real terminal: `curator chat --no-model` runs inside a detached tmux session;
//! keys are sent with `tmux send-keys` and the screen is read with `tmux capture-pane`. Checks
//! that a reply and the side panel show catalog items, that like, details, resize and Ctrl+C
//! work, and that the program exits with status 0 after restoring the terminal.
//!
//! Skipped, with a message, only when tmux is not installed (`apt-get install -y tmux`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::{Duration, Instant};

struct Session(String);

impl Session {
    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").args(args).output().unwrap();
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.0];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    fn text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", &self.0, "-l", text]);
    }

    fn capture(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.0])
    }

    /// Waits until the screen satisfies `pred`; panics with the screen after 60 s.
    fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if pred(&screen) {
                return screen;
            }
            if start.elapsed() > Duration::from_secs(60) {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.0]).output();
    }
}

#[test]
fn chat_in_a_real_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("SKIPPED chat_in_a_real_terminal: tmux is not installed (apt-get install -y tmux)");
        return;
    }
    let name = format!("curator-tui-test-{}", std::process::id());
    let bin = env!("CARGO_BIN_EXE_curator");
    let cmd = format!("{bin} chat --no-model; echo CURATOR-EXIT=$?; sleep 60");
    let out = Command::new("tmux")
        .args(["new-session", "-d", "-s", &name, "-x", "120", "-y", "32", &cmd])
        .env("TERM", "xterm-256color")
        .output()
        .unwrap();
    assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
    let s = Session(name);
    s.wait("the welcome line", |t| t.contains("Curator — 6924 movies"));

    s.text("I loved Heat and Collateral");
    s.keys(&["Enter"]);
    let screen = s.wait("a reply with three recommendations", |t| t.contains("3. ") && t.contains("Seen any of these"));
    // The side panel lists the recommendations and what Curator knows.
    assert!(screen.contains("1. ") && screen.contains("↳"), "{screen}");
    assert!(screen.contains("Liked     Heat (1995), Collateral (2004)"), "{screen}");

    // Tab to the list, like the first item, open its details.
    s.keys(&["Tab"]);
    s.keys(&["l"]);
    s.wait("the like in the side panel", |t| t.contains("✓ liked"));
    s.keys(&["Enter"]);
    let details = s.wait("the details view", |t| t.contains("Director") && t.contains("Starring"));
    assert!(details.contains("Why"), "{details}");
    s.keys(&["Escape"]);
    s.keys(&["Escape"]);

    // A tiny window, then a second turn there.
    s.tmux(&["resize-window", "-t", &s.0, "-x", "40", "-y", "12"]);
    s.wait("the small layout", |t| t.lines().count() <= 12 && t.contains("Message"));
    s.text("no horror, something funny 🎈");
    s.keys(&["Enter"]);
    s.wait("the second reply", |t| t.contains("Seen any") || t.contains("less) of."));
    s.tmux(&["resize-window", "-t", &s.0, "-x", "120", "-y", "32"]);
    let wide = s.wait("the wide layout again", |t| t.contains("What I know about you") && t.contains("no horror"));
    assert!(wide.contains("comedy"), "{wide}");

    s.keys(&["C-c"]);
    let end = s.wait("the program to exit", |t| t.contains("CURATOR-EXIT="));
    assert!(end.contains("CURATOR-EXIT=0"), "{end}");
    assert!(!end.contains("Message"), "the alternate screen is left: {end}");
}

/// `kill -TERM` and `kill -HUP` of `curator chat` restore the terminal (main screen, cooked
/// mode) and end the program with a non-zero status and a message naming the signal.
#[test]
fn stop_signals_restore_the_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("SKIPPED stop_signals_restore_the_terminal: tmux is not installed (apt-get install -y tmux)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for signal in ["TERM", "HUP"] {
        let name = format!("curator-tui-signal-{signal}-{}", std::process::id());
        let pid_file = dir.path().join(format!("{signal}.pid"));
        let bin = env!("CARGO_BIN_EXE_curator");
        // The inner shell writes its pid and becomes curator; the outer one reports afterwards.
        let cmd = format!(
            "sh -c 'echo $$ > {}; exec {bin} chat --no-model'; echo CURATOR-EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon; sleep 60",
            pid_file.display()
        );
        let out = Command::new("tmux")
            .args(["new-session", "-d", "-s", &name, "-x", "100", "-y", "30", &cmd])
            .env("TERM", "xterm-256color")
            .output()
            .unwrap();
        assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
        let s = Session(name);
        s.wait("the welcome line", |t| t.contains("Curator — 6924 movies"));
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let kill = Command::new("kill").args([&format!("-{signal}"), pid.trim()]).output().unwrap();
        assert!(kill.status.success(), "kill -{signal} {pid}");
        let end = s.wait("the program to exit", |t| t.contains("CURATOR-EXIT=") && t.contains("icanon"));
        assert!(!end.contains("CURATOR-EXIT=0"), "SIG{signal} must end with a failure status: {end}");
        assert!(end.contains(&format!("stopped by SIG{signal}")), "{end}");
        assert!(!end.contains("Message"), "the alternate screen is left: {end}");
        assert!(end.lines().any(|l| l.trim() == "icanon"), "the terminal is back in cooked mode: {end}");
    }
}
