//! Screens of the terminal UI drawn on ratatui's `TestBackend` and compared with the snapshots in
//! `tests/snapshots/` (insta; review changes with `cargo insta review`, or rerun with
//! `INSTA_UPDATE=always` and read the diff). The states are built with `update`, as the event loop
//! would, from fixed agent events, so the screens do not depend on the ranker's weights.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use curator::agent::TurnStats;
use curator::catalog::Item;
use curator::dialogue::state::Polarity;
use curator::tui::app::{update, Action, App};
use curator::tui::draw::draw;
use curator::tui::worker::{ItemCard, Taste, WorkerEvent};
use proptest::prelude::*;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn screen(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| draw(f, app)).unwrap();
    terminal
}

fn cards() -> Vec<ItemCard> {
    vec![
        ItemCard {
            item: Item {
                id: 1,
                title: "Law Abiding Citizen".into(),
                year: Some(2009),
                genres: vec!["action".into(), "crime".into(), "drama".into()],
                directors: vec!["F. Gary Gray".into()],
                writers: vec!["Kurt Wimmer".into()],
                stars: vec!["Gerard Butler".into(), "Jamie Foxx".into(), "Leslie Bibb".into()],
                plot: "A frustrated man decides to take justice into his own hands after a plea bargain sets one \
                       of his family's killers free."
                    .into(),
                ..Item::default()
            },
            title: "Law Abiding Citizen (2009)".into(),
            // Knowledge-graph facts of Law Abiding Citizen (2009) in knowledge/movies (KECRS TMDB).
            facts: vec![
                (
                    "keyword".into(),
                    [
                        "assassin",
                        "baseball bat",
                        "bomb",
                        "courtroom",
                        "criminal mastermind",
                        "deal",
                        "district attorney",
                        "explosion",
                    ]
                    .map(String::from)
                    .to_vec(),
                ),
                ("language".into(), vec!["English".into()]),
            ],
            reason: "stars Jamie Foxx, as does Collateral (2004).".into(),
            feedback: None,
        },
        ItemCard {
            item: Item {
                id: 2,
                title: "Seven".into(),
                year: Some(1995),
                genres: vec!["crime".into(), "drama".into(), "mystery".into()],
                directors: vec!["David Fincher".into()],
                writers: vec!["Andrew Kevin Walker".into()],
                stars: vec!["Morgan Freeman".into(), "Brad Pitt".into()],
                plot: "Two detectives hunt a serial killer who uses the seven deadly sins as his motives.".into(),
                ..Item::default()
            },
            title: "Seven (1995)".into(),
            facts: vec![],
            reason: "people who talked about Heat (1995) also brought it up (5 ReDial dialogues).".into(),
            feedback: None,
        },
    ]
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        update(app, Action::Insert(c));
    }
}

/// A finished first turn: "I loved Heat and Collateral" answered with two recommendations.
fn after_one_turn(size: (u16, u16)) -> App {
    let mut app = App::new("SmolLM2-135M-Instruct.Q4_1", 6924, size);
    type_text(&mut app, "I loved Heat and Collateral");
    update(&mut app, Action::Submit);
    for piece in [
        "I'm glad you enjoyed Heat and Collateral.",
        "\n1. Law Abiding Citizen (2009) — stars Jamie Foxx, as does Collateral (2004).",
        "\n2. Seven (1995) — people who talked about Heat (1995) also brought it up (5 ReDial dialogues).",
        "\nSeen any of these? Tell me what you think, or what you'd like more (or less) of.",
    ] {
        update(&mut app, Action::Agent(WorkerEvent::Text(piece.into())));
    }
    update(&mut app, Action::Agent(WorkerEvent::Recommendations(cards())));
    update(
        &mut app,
        Action::Agent(WorkerEvent::Taste(Taste {
            liked: vec!["Heat (1995)".into(), "Collateral (2004)".into()],
            disliked: vec![],
            wanted: vec![],
            rejected: vec!["horror".into()],
            seen: vec![],
        })),
    );
    update(&mut app, Action::Agent(WorkerEvent::Done { stats: TurnStats::default(), total_ms: 84.0 }));
    app
}

#[test]
fn empty_screen() {
    let app = App::new("SmolLM2-135M-Instruct.Q4_1", 6924, (100, 24));
    insta::assert_snapshot!("empty", screen(&app, 100, 24).backend());
}

#[test]
fn streaming_reply() {
    let mut app = App::new("SmolLM2-135M-Instruct.Q4_1", 6924, (100, 24));
    type_text(&mut app, "something funny for my kids");
    update(&mut app, Action::Submit);
    update(&mut app, Action::Agent(WorkerEvent::Text("Here are some fun picks for the family.".into())));
    update(&mut app, Action::Agent(WorkerEvent::Text("\n1. Sing (2016) — animation, comedy, family".into())));
    update(&mut app, Action::Tick);
    type_text(&mut app, "and no h");
    insta::assert_snapshot!("streaming", screen(&app, 100, 24).backend());
}

#[test]
fn with_recommendations_and_feedback() {
    let mut app = after_one_turn((120, 30));
    update(&mut app, Action::ToggleFocus);
    update(&mut app, Action::SelectNext);
    update(&mut app, Action::Like);
    insta::assert_snapshot!("recommendations", screen(&app, 120, 30).backend());
}

#[test]
fn details_view() {
    let mut app = after_one_turn((120, 30));
    update(&mut app, Action::ToggleFocus);
    update(&mut app, Action::Dislike);
    update(&mut app, Action::OpenDetails);
    assert!(app.details);
    assert_eq!(app.recommendations[0].feedback, Some(Polarity::Disliked));
    insta::assert_snapshot!("details", screen(&app, 120, 30).backend());
}

#[test]
fn tiny_terminal() {
    let mut app = after_one_turn((40, 12));
    type_text(&mut app, "héllo 👨‍👩‍👧 日本語 and a long line that wraps");
    update(&mut app, Action::Newline);
    type_text(&mut app, "second line");
    insta::assert_snapshot!("tiny", screen(&app, 40, 12).backend());
    update(&mut app, Action::ToggleFocus);
    insta::assert_snapshot!("tiny_recommendations", screen(&app, 40, 12).backend());
}

#[test]
fn below_the_minimum_size_the_screen_says_terminal_too_small() {
    use curator::tui::draw::{MIN_HEIGHT, MIN_WIDTH};
    let mut app = after_one_turn((19, 4));
    type_text(&mut app, "hello");
    insta::assert_snapshot!("too_small", screen(&app, 19, 4).backend());
    let text = |w: u16, h: u16| {
        let t = screen(&app, w, h);
        t.backend().buffer().content().iter().map(|c| c.symbol()).collect::<String>()
    };
    for (w, h) in [(MIN_WIDTH - 1, 40), (120, MIN_HEIGHT - 1), (40, 2), (1, 1)] {
        assert!(text(w, h).starts_with(&"Terminal too small"[..usize::from(w).min(8)]), "{w}x{h}: {}", text(w, h));
    }
    assert!(text(60, 2).contains(&format!("60×2: need {MIN_WIDTH}×{MIN_HEIGHT}")), "{}", text(60, 2));
    for (w, h) in [(MIN_WIDTH, MIN_HEIGHT), (80, 24)] {
        assert!(!text(w, h).contains("too small"), "{w}x{h} is large enough");
    }
}

#[test]
fn scrolled_back() {
    let mut app = after_one_turn((80, 16));
    update(&mut app, Action::ScrollUp(4));
    assert_eq!(app.scroll, 4);
    insta::assert_snapshot!("scrolled", screen(&app, 80, 16).backend());
}

fn arb_app() -> impl Strategy<Value = (App, u16, u16)> {
    (
        1u16..160,
        1u16..60,
        proptest::collection::vec("[a-zA-Z 🎬日é\u{301}\n]{0,60}", 0..6),
        "[a-z 👨‍👩‍👧\n日]{0,40}",
        0usize..200,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(w, h, pieces, typed, scroll, focus, details, generating)| {
            let mut app = after_one_turn((w, h));
            for p in pieces {
                update(&mut app, Action::Agent(WorkerEvent::Text(p)));
            }
            update(&mut app, Action::Paste(typed));
            update(&mut app, Action::ScrollUp(scroll));
            if focus {
                update(&mut app, Action::ToggleFocus);
            }
            if details {
                update(&mut app, Action::OpenDetails);
            }
            app.generating = generating;
            (app, w, h)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    /// Any size, any text, any mode: drawing never panics and the cursor stays on screen.
    #[test]
    fn draw_never_panics((app, w, h) in arb_app()) {
        let mut terminal = screen(&app, w, h);
        let pos = terminal.get_cursor_position().unwrap();
        prop_assert!(pos.x < w.max(1) && pos.y < h.max(1), "cursor {pos:?} outside {w}x{h}");
    }
}
