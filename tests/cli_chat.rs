//! `curator chat --no-model` driven through stdin/stdout like a person at a terminal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Stdio};

#[allow(dead_code)] // only `model_path` is used here
mod common;

fn chat(input: &[u8]) -> (String, String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_curator"))
        .args(["chat", "--no-model"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn chat_answers_resets_and_exits_cleanly_on_eof() {
    let (out, err, code) =
        chat(b"I loved Heat and Collateral, a thriller, nothing too violent\n/state\n/reset\n/STATE\n/bogus\n\n");
    assert_eq!(code, 0, "stderr: {err}");
    assert!(out.contains("1. ") && out.contains("2. ") && out.contains("3. "), "{out}");
    // Both ReDial "Heat" entries carry Michael Mann's film since the catalog audit (issue 19);
    // the linker picks the one ReDial's seekers use, 199038 (ReDial's "Heat (1996)", shown with its
    // release year since `audit::HAND_YEARS`).
    assert!(out.contains("liked: Heat (1995), Collateral (2004)"), "{out}");
    // Attributes asked for and ruled out are part of the state, as in the TUI.
    assert!(out.contains("asked for: thriller\nruled out: \"violence\""), "{out}");
    assert!(out.contains("asked for: -\nruled out: -"), "state is empty after /reset: {out}");
    assert!(out.contains("(new conversation)"));
    // Commands in any case: "/STATE" is /state.
    assert!(out.contains("liked: -"), "state is empty after /reset: {out}");
    assert!(out.contains("unknown command \"/bogus\""), "{out}");
    // Piped input is echoed after the prompt, so the output reads as a transcript.
    assert!(out.contains("you> I loved Heat and Collateral, a thriller, nothing too violent\ncurator> "), "{out}");
}

#[test]
fn chat_echoes_control_characters_as_escapes() {
    let (out, _, code) = chat(b"I loved \x1b[2J Heat\n");
    assert_eq!(code, 0);
    assert!(out.contains("you> I loved \\u{1b}[2J Heat\n"), "{out}");
    assert!(!out.contains('\u{1b}'), "no raw escape reaches the terminal: {out:?}");
}

#[test]
fn an_over_long_line_is_skipped_without_echoing_it() {
    let mut input = vec![b'a'; 200_000];
    input.extend_from_slice(b"\nI loved Heat\n");
    let (out, _, code) = chat(&input);
    assert_eq!(code, 0);
    assert!(out.contains("longer than 65536 bytes"), "{}", &out[..out.len().min(2000)]);
    assert!(out.len() < 20_000, "the long line is not echoed: {} bytes of output", out.len());
    assert!(out.contains("you> I loved Heat\ncurator> "), "the next line is read: {out}");
}

#[test]
fn chat_survives_invalid_utf8_and_quits_on_command() {
    let (out, _, code) = chat(b"\xff\xfe broken\n/quit\nI loved Heat\n");
    assert_eq!(code, 0);
    assert!(out.contains("you> \u{fffd}\u{fffd} broken\n(that line is not valid UTF-8"), "{out}");
    assert!(!out.contains("1. "), "nothing is answered after /quit: {out}");
}

/// Issue 20: `curator chat --plain --recommendations 10` with the real model panicked on the third
/// "more please" (the dialogue window's start jumped past the end of the history; exit 101).
#[test]
fn plain_chat_with_ten_recommendations_answers_every_more_please() {
    let model = std::env::var_os("CURATOR_MODEL")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(curator::llm::fetch::default_model_path);
    assert!(model.exists(), "the model file {} is missing: run `cargo run --release -- model fetch`", model.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_curator"))
        .args(["chat", "--plain", "--recommendations", "10", "--model"])
        .arg(&model)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"I loved Heat\nmore please\nmore please\nmore please\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}\nstdout: {stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Four replies, each a numbered list of ten.
    assert_eq!(stdout.matches("curator> ").count(), 4, "{stdout}");
    assert_eq!(stdout.matches("\n10. ").count(), 4, "{stdout}");
}
