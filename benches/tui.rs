//! Responsiveness benchmark of the terminal UI (speed figures are benchmarks, never timed tests).
//! Run:
//!
//! ```sh
//! cargo bench --bench tui
//! ```
//!
//! 1. **Redraw cost per token**: a 120×40 screen with a 200-message conversation, then 40 replies
//!    of 60 pieces, one piece appended per frame (`update` + `draw` + the escape codes written to a sink, as a real
//!    terminal would receive them).
//! 2. **Input latency while a reply streams**: the real event loop and agent (the default model
//!    when it is in the cache, else none; `CURATOR_BENCH_NO_MODEL=1` forces none) answer five
//!    messages while a script presses a key every 2 ms (`CURATOR_BENCH_THREADS=N`: model threads); latency is from the key entering the
//!    channel to the frame that shows it being written. Then Esc 100 ms into three replies: time
//!    from the key to the frame where the reply has stopped. Prints JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io;
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use curator::agent::{Agent, AgentConfig, TurnStats};
use curator::tui::app::{update, Action, App};
use curator::tui::draw::draw;
use curator::tui::run::{event_loop, Incoming};
use curator::tui::worker::{Worker, WorkerEvent};
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

fn sink_terminal(w: u16, h: u16) -> Terminal<CrosstermBackend<io::Sink>> {
    Terminal::with_options(
        CrosstermBackend::new(io::sink()),
        TerminalOptions { viewport: Viewport::Fixed(Rect::new(0, 0, w, h)) },
    )
    .unwrap()
}

fn quantiles(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v.get(((v.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(0.0);
    serde_json::json!({ "n": v.len(), "p50_ms": q(0.5), "p95_ms": q(0.95), "p99_ms": q(0.99), "max_ms": q(1.0) })
}

fn key(c: char) -> Incoming {
    Incoming::Terminal(Event::Key(KeyEvent {
        code: if c == '\r' { KeyCode::Enter } else { KeyCode::Char(c) },
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    }))
}

fn redraw_per_token() -> serde_json::Value {
    let mut app = App::new("bench", 6924, (120, 40));
    for i in 0..100 {
        update(&mut app, Action::Paste(format!("message {i}: I loved Heat and Collateral, what else should I watch?")));
        update(&mut app, Action::Submit);
        update(&mut app, Action::Agent(WorkerEvent::Text("I'm glad you enjoyed Heat and Collateral. ".repeat(4))));
        update(&mut app, Action::Agent(WorkerEvent::Done { stats: TurnStats::default(), total_ms: 1.0 }));
    }
    let mut terminal = sink_terminal(120, 40);
    let mut costs = Vec::new();
    // 40 more replies of 60 pieces each (a long reply: ~400 bytes), one frame per piece.
    for turn in 0..40 {
        update(&mut app, Action::Paste(format!("one more, number {turn}")));
        update(&mut app, Action::Submit);
        for i in 0..60 {
            let t = Instant::now();
            update(&mut app, Action::Agent(WorkerEvent::Text(format!(" word{i}"))));
            terminal.draw(|f| draw(f, &app)).unwrap();
            costs.push(t.elapsed().as_secs_f64() * 1e3);
        }
        update(&mut app, Action::Agent(WorkerEvent::Done { stats: TurnStats::default(), total_ms: 1.0 }));
    }
    serde_json::json!({ "screen": "120x40", "messages": app.messages.len(), "per_token": quantiles(costs) })
}

fn input_latency() -> serde_json::Value {
    let default_model = curator::paths::cache_dir().join("models").join("SmolLM2-135M-Instruct.Q4_1.gguf");
    let use_model = default_model.exists() && std::env::var_os("CURATOR_BENCH_NO_MODEL").is_none();
    let model: Option<Box<dyn curator::llm::LanguageModel>> = if use_model {
        let mut options = curator::llm::llama::LlamaOptions::default();
        if let Some(n) = std::env::var("CURATOR_BENCH_THREADS").ok().and_then(|v| v.parse().ok()) {
            options.n_threads = n;
        }
        let m = curator::llm::llama::LlamaCppModel::load(&default_model, &options).unwrap();
        Some(Box::new(m))
    } else {
        None
    };
    let agent = Agent::from_project(model, AgentConfig::default()).unwrap();
    let model_name = agent.model_name().unwrap_or("none").to_string();
    let (tx, rx) = channel();
    let worker = Worker::spawn(agent, tx.clone(), Incoming::Agent).unwrap();
    let mut terminal = sink_terminal(120, 40);
    let mut app = App::new(&model_name, 6924, (120, 40));
    // Send times of every terminal event, in channel order, and whether a reply was streaming.
    let sent: Arc<Mutex<Vec<(Instant, bool)>>> = Arc::default();
    let (idle_tx, idle_rx) = channel::<bool>();
    let sent_script = Arc::clone(&sent);
    let cancel_at: Arc<Mutex<Option<Instant>>> = Arc::default();
    let cancel_script = Arc::clone(&cancel_at);
    let script = std::thread::spawn(move || {
        let send = |c: char, streaming: bool| {
            let mut s = sent_script.lock().unwrap();
            s.push((Instant::now(), streaming));
            tx.send(key(c)).unwrap();
        };
        let messages = [
            "I loved Heat and Collateral",
            "not a fan of Seven, something lighter?",
            "a funny animated movie for my kids",
            "no horror please, maybe a romance",
            "I liked Titanic and The Notebook",
        ];
        for m in messages {
            for c in m.chars() {
                send(c, false);
            }
            send('\r', false);
            // Type while the reply streams, until the loop reports it idle.
            let mut typed = 0;
            loop {
                send('x', true);
                typed += 1;
                std::thread::sleep(Duration::from_millis(2));
                if idle_rx.try_iter().any(|idle| idle) {
                    break;
                }
            }
            // Clear what was typed meanwhile.
            for _ in 0..typed {
                sent_script.lock().unwrap().push((Instant::now(), false));
                tx.send(Incoming::Terminal(Event::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)))).unwrap();
            }
        }
        // Esc 100 ms into a reply: how long until the reply has stopped on screen.
        for m in ["I loved Alien and Aliens", "a western with Clint Eastwood", "something scary but not gory"] {
            for c in m.chars() {
                send(c, false);
            }
            send('\r', false);
            std::thread::sleep(Duration::from_millis(100));
            *cancel_script.lock().unwrap() = Some(Instant::now());
            sent_script.lock().unwrap().push((Instant::now(), false));
            tx.send(Incoming::Terminal(Event::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)))).unwrap();
            while !idle_rx.recv().unwrap() {}
        }
        sent_script.lock().unwrap().push((Instant::now(), false));
        tx.send(Incoming::Terminal(Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)))).unwrap();
    });
    let mut handled = 0usize;
    let mut latencies = Vec::new();
    let mut frame_costs = Vec::new();
    let mut cancel_latencies = Vec::new();
    let mut was_generating = false;
    event_loop(&mut terminal, &mut app, &rx, &worker, &mut |app, report| {
        let sent = sent.lock().unwrap();
        for (at, streaming) in sent.iter().skip(handled).take(report.terminal_events) {
            if *streaming {
                latencies.push(report.drawn_at.duration_since(*at).as_secs_f64() * 1e3);
            }
        }
        handled += report.terminal_events;
        if report.agent_events > 0 {
            frame_costs.push((report.update + report.draw).as_secs_f64() * 1e3);
        }
        if was_generating && !app.generating {
            if let Some(t) = cancel_at.lock().unwrap().take() {
                cancel_latencies.push(report.drawn_at.duration_since(t).as_secs_f64() * 1e3);
            }
            let _ = idle_tx.send(true);
        }
        was_generating = app.generating;
    })
    .unwrap();
    script.join().unwrap();
    worker.shutdown();
    serde_json::json!({
        "model": model_name,
        "keys_while_streaming": quantiles(latencies),
        "frames_with_agent_events": quantiles(frame_costs),
        "esc_to_stopped": quantiles(cancel_latencies),
    })
}

fn main() {
    let report = serde_json::json!({
        "redraw": redraw_per_token(),
        "input_latency": input_latency(),
        "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
