//! The whole terminal UI without a terminal: the real event loop, the real agent (no model) on its
//! worker thread, keys sent as crossterm events, the screen drawn on ratatui's `TestBackend`.
//! A script thread types like a person and waits for each reply to finish before going on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

use curator::agent::{Agent, AgentConfig};
use curator::dialogue::state::Polarity;
use curator::tui::app::{App, Focus, Speaker};
use curator::tui::run::{event_loop, Incoming};
use curator::tui::worker::Worker;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use ratatui::Terminal;

fn key(code: KeyCode, modifiers: KeyModifiers) -> Incoming {
    Incoming::Terminal(Event::Key(KeyEvent { code, modifiers, kind: KeyEventKind::Press, state: KeyEventState::NONE }))
}

fn typed(tx: &Sender<Incoming>, text: &str) {
    for c in text.chars() {
        tx.send(key(KeyCode::Char(c), KeyModifiers::NONE)).unwrap();
    }
}

/// What the script sees after each frame.
#[derive(Debug, Clone)]
struct Seen {
    generating: bool,
    replies: usize,
    recommendations: usize,
    liked: usize,
    details: bool,
    focus: Focus,
}

fn wait_for(frames: &Receiver<Seen>, what: &str, pred: impl Fn(&Seen) -> bool) -> Seen {
    loop {
        match frames.recv_timeout(Duration::from_secs(60)) {
            Ok(s) if pred(&s) => return s,
            Ok(_) => {}
            Err(e) => panic!("waiting for {what}: {e}"),
        }
    }
}

#[test]
fn a_conversation_with_feedback_details_resize_and_quit() {
    let agent = Agent::from_project(None, AgentConfig::default()).unwrap();
    let (tx, rx) = channel();
    let worker = Worker::spawn(agent, tx.clone(), Incoming::Agent).unwrap();
    let mut terminal = Terminal::new(TestBackend::new(120, 32)).unwrap();
    let mut app = App::new("none", 6924, (120, 32));
    let (seen_tx, seen_rx) = channel();

    let script = std::thread::spawn(move || {
        let none = KeyModifiers::NONE;
        typed(&tx, "I loved Heat and Collateral");
        tx.send(key(KeyCode::Enter, KeyModifiers::ALT)).unwrap();
        typed(&tx, "what else?");
        tx.send(key(KeyCode::Enter, none)).unwrap();
        wait_for(&seen_rx, "the first reply", |s| s.replies == 1 && !s.generating && s.recommendations == 3);
        // Like the second recommendation, then open its details.
        tx.send(key(KeyCode::Tab, none)).unwrap();
        tx.send(key(KeyCode::Down, none)).unwrap();
        tx.send(key(KeyCode::Char('l'), none)).unwrap();
        tx.send(key(KeyCode::Enter, none)).unwrap();
        wait_for(&seen_rx, "the details", |s| s.details && s.liked == 3);
        tx.send(key(KeyCode::Esc, none)).unwrap();
        tx.send(key(KeyCode::Esc, none)).unwrap();
        tx.send(Incoming::Terminal(Event::Resize(40, 12))).unwrap();
        wait_for(&seen_rx, "focus back on the editor", |s| s.focus == Focus::Input && !s.details);
        typed(&tx, "something funny for my kids 🎈");
        tx.send(key(KeyCode::Enter, none)).unwrap();
        wait_for(&seen_rx, "the second reply", |s| s.replies == 2 && !s.generating);
        tx.send(Incoming::Terminal(Event::Resize(100, 30))).unwrap();
        tx.send(key(KeyCode::Char('c'), KeyModifiers::CONTROL)).unwrap();
    });

    event_loop(&mut terminal, &mut app, &rx, &worker, &mut |app, _| {
        let _ = seen_tx.send(Seen {
            generating: app.generating,
            replies: app.latency.is_some() as usize
                * app.messages.iter().filter(|m| m.speaker == Speaker::Curator && !m.text.is_empty()).count(),
            recommendations: app.recommendations.len(),
            liked: app.taste.liked.len(),
            details: app.details,
            focus: app.focus,
        });
    })
    .unwrap();
    script.join().unwrap();
    worker.shutdown();

    assert!(app.quit);
    let you: Vec<&str> = app.messages.iter().filter(|m| m.speaker == Speaker::You).map(|m| m.text.as_str()).collect();
    assert_eq!(you, ["I loved Heat and Collateral\nwhat else?", "something funny for my kids 🎈"]);
    let replies: Vec<&str> =
        app.messages.iter().filter(|m| m.speaker == Speaker::Curator).map(|m| m.text.as_str()).collect();
    assert_eq!(replies.len(), 2);
    assert!(replies[0].contains("\n1. ") && replies[0].contains("\n3. "), "{}", replies[0]);
    assert!(app.taste.liked.iter().any(|t| t == "Heat (1995)"), "{:?}", app.taste);
    // The liked recommendation is in the state the second turn used.
    assert_eq!(app.taste.liked.len(), 3, "{:?}", app.taste);
    let liked_first = app.history.entries().len();
    assert_eq!(liked_first, 2);
    // The second turn's recommendations are family comedies, shown in the side panel.
    assert_eq!(app.recommendations.len(), 3);
    assert!(app.recommendations.iter().all(|c| c.item.genres.iter().any(|g| g == "family" || g == "comedy")));
    assert!(app.recommendations.iter().all(|c| c.feedback != Some(Polarity::Disliked)));
    let screen = terminal.backend().to_string();
    let first = &app.recommendations[0].title;
    let short: String = first.chars().take(12).collect();
    assert!(screen.contains(&short), "side panel shows {short:?}:\n{screen}");
    assert!(screen.contains("What I know about you"), "{screen}");
}

/// A model whose generation panics: the agent thread dies mid-turn.
struct Panics;

impl curator::llm::LanguageModel for Panics {
    fn name(&self) -> &str {
        "panics"
    }
    fn apply_chat_template(&self, _: &[curator::llm::ChatMessage]) -> curator::Result<String> {
        Ok(String::new())
    }
    fn generate(
        &mut self,
        _: &[curator::llm::ChatMessage],
        _: &curator::llm::GenerationParams,
        _: &mut dyn FnMut(&str) -> bool,
    ) -> curator::Result<curator::llm::GenerationStats> {
        panic!("the test model panics on purpose")
    }
    // The default model is not asked for a turn's opening (it is built from the state), so the
    // model's first use is the prefill of the dialogue after the reply: it panics there too.
    fn prefill_only(&mut self, _: &[curator::llm::ChatMessage], _: usize) -> curator::Result<usize> {
        panic!("the test model panics on purpose")
    }
}

/// A panic on the agent thread ends the UI, and the front end learns it (so `curator chat` exits
/// with an error and the panic's message, not with status 0).
#[test]
fn an_agent_panic_quits_the_ui_and_reports_the_message() {
    let agent = Agent::from_project(Some(Box::new(Panics)), AgentConfig::default()).unwrap();
    let (tx, rx) = channel();
    let worker = Worker::spawn(agent, tx.clone(), Incoming::Agent).unwrap();
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut app = App::new("panics", 6924, (80, 24));
    typed(&tx, "I loved Heat");
    tx.send(key(KeyCode::Enter, KeyModifiers::NONE)).unwrap();
    event_loop(&mut terminal, &mut app, &rx, &worker, &mut |_, _| {}).unwrap();
    assert!(app.quit, "the UI quits when its agent stops");
    assert_eq!(worker.shutdown().as_deref(), Some("the test model panics on purpose"));
}
