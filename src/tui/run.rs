//! The event loop and the terminal. One channel carries [`Incoming`] terminal events (read on an
//! input thread) and agent events (from the [`Worker`]); the loop turns each into an
//! [`Action`], applies [`update`], carries out the [`Effect`]s and draws once per batch. The
//! terminal is restored when the loop ends, on an error, and on a panic (a hook restores it before
//! the message is printed). Ctrl+C arrives as a key in raw mode and quits like `/quit`; SIGTERM,
//! SIGHUP and SIGINT sent to the process end the loop too, the terminal is restored, and
//! [`run`] returns an error naming the signal (the program exits non-zero).

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
    KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, supports_keyboard_enhancement, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::crossterm::{cursor, execute};
use ratatui::Terminal;

use crate::agent::Agent;

use super::action::action_for;
use super::app::{update, Action, App, Effect};
use super::draw::draw;
use super::worker::{Request, Worker, WorkerEvent};

/// What the event loop receives.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A terminal event (key, paste, mouse, resize).
    Terminal(Event),
    /// An agent event.
    Agent(WorkerEvent),
    /// A signal asking the program to stop (SIGTERM, SIGHUP, SIGINT): the loop ends with an
    /// error naming it.
    Signal(i32),
}

/// The name of a stop signal ([`Incoming::Signal`]).
fn signal_name(signal: i32) -> String {
    match signal {
        signal_hook::consts::SIGTERM => "SIGTERM".to_string(),
        signal_hook::consts::SIGHUP => "SIGHUP".to_string(),
        signal_hook::consts::SIGINT => "SIGINT".to_string(),
        other => format!("signal {other}"),
    }
}

/// Timings of one loop iteration, reported after its frame is drawn (the benchmark reads them).
#[derive(Debug, Clone, Copy)]
pub struct FrameReport {
    /// Terminal events handled in this iteration.
    pub terminal_events: usize,
    /// Agent events handled in this iteration.
    pub agent_events: usize,
    /// Time spent in `update` (and effects), including mapping events to actions.
    pub update: Duration,
    /// Time spent drawing and flushing the frame.
    pub draw: Duration,
    /// When the frame was on the terminal.
    pub drawn_at: Instant,
}

/// Animation period of the "thinking" indicator.
const TICK: Duration = Duration::from_millis(100);
/// Most events applied before a frame is drawn (a paste storm still gets frames).
const MAX_BATCH: usize = 256;

/// Runs the UI until the person quits: reads `rx`, updates `app`, talks to `worker`, draws on
/// `terminal`; `on_frame` sees the state and the timings of each frame drawn.
///
/// Errors: drawing failures of the backend; an [`Incoming::Signal`] (naming the signal).
pub fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    rx: &Receiver<Incoming>,
    worker: &Worker,
    on_frame: &mut dyn FnMut(&App, FrameReport),
) -> io::Result<()>
where
    B::Error: std::error::Error + Send + Sync + 'static,
{
    terminal.draw(|f| draw(f, app)).map_err(io::Error::other)?;
    let mut last_tick = Instant::now();
    while !app.quit {
        let first = match rx.recv_timeout(TICK) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let t0 = Instant::now();
        let mut batch: Vec<Incoming> = first.into_iter().collect();
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        let (mut terminal_events, mut agent_events) = (0, 0);
        let mut dirty = false;
        for m in batch {
            let action = match m {
                Incoming::Terminal(ev) => {
                    terminal_events += 1;
                    action_for(app, &ev)
                }
                Incoming::Agent(ev) => {
                    agent_events += 1;
                    Some(Action::Agent(ev))
                }
                Incoming::Signal(signal) => {
                    return Err(io::Error::other(format!("stopped by {}", signal_name(signal))));
                }
            };
            if let Some(action) = action {
                dirty = true;
                apply(app, action, worker);
            }
            if app.quit {
                return Ok(());
            }
        }
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            if app.generating {
                dirty = true;
                apply(app, Action::Tick, worker);
            }
        }
        if !dirty {
            continue;
        }
        let t1 = Instant::now();
        terminal.draw(|f| draw(f, app)).map_err(io::Error::other)?;
        let t2 = Instant::now();
        on_frame(app, FrameReport { terminal_events, agent_events, update: t1 - t0, draw: t2 - t1, drawn_at: t2 });
    }
    Ok(())
}

/// Applies `action` and carries out its effects.
fn apply(app: &mut App, action: Action, worker: &Worker) {
    for effect in update(app, action) {
        let delivered = match effect {
            Effect::Send(text) => worker.send(Request::Message(text)),
            Effect::Feedback(id, polarity) => worker.send(Request::Feedback(id, polarity)),
            Effect::Reset => worker.send(Request::Reset),
            Effect::Cancel => {
                worker.cancel();
                true
            }
            Effect::Save { path, transcript } => {
                let result = save(path, &transcript);
                apply(app, Action::Saved(result), worker);
                true
            }
            Effect::Quit => true,
        };
        if !delivered {
            apply(app, Action::Agent(WorkerEvent::Stopped), worker);
        }
    }
}

/// Writes `transcript` to `path`, or to `curator-transcript-<unix seconds>.md` in the current
/// folder; returns the path written or why not.
pub fn save(path: Option<String>, transcript: &str) -> Result<String, String> {
    let path = path.unwrap_or_else(|| {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        format!("curator-transcript-{secs}.md")
    });
    std::fs::write(&path, transcript).map_err(|e| format!("{path}: {e}"))?;
    Ok(path)
}

static KEYBOARD_FLAGS_PUSHED: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back as it was: raw mode off, main screen, mouse and paste reporting off,
/// cursor shown. Safe to call more than once.
pub fn restore_terminal() {
    let mut out = io::stdout();
    if KEYBOARD_FLAGS_PUSHED.swap(false, Ordering::SeqCst) {
        let _ = execute!(out, PopKeyboardEnhancementFlags);
    }
    let _ = execute!(out, DisableBracketedPaste, DisableMouseCapture, LeaveAlternateScreen, cursor::Show);
    let _ = disable_raw_mode();
}

/// Restores the terminal when dropped (normal exit and error returns).
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> io::Result<TerminalGuard> {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore_terminal();
                previous(info);
            }));
        });
        enable_raw_mode()?;
        let guard = TerminalGuard;
        let mut out = io::stdout();
        execute!(out, EnterAlternateScreen, EnableMouseCapture, EnableBracketedPaste)?;
        // Shift+Enter is only distinguishable from Enter with the keyboard enhancement protocol.
        if supports_keyboard_enhancement().unwrap_or(false)
            && execute!(out, PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)).is_ok()
        {
            KEYBOARD_FLAGS_PUSHED.store(true, Ordering::SeqCst);
        }
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Runs the terminal UI with `agent` until the person quits. Needs a terminal on stdin and stdout.
///
/// Errors: the terminal cannot be set up or drawn on, or a thread cannot be started.
pub fn run(agent: Agent) -> io::Result<()> {
    let model = agent.model_name().unwrap_or("none").to_string();
    let catalog_size = agent.catalog().len();
    let nouns = (agent.catalog().config().item.clone(), agent.catalog().config().items_noun());
    let guard = TerminalGuard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    let size = terminal.size()?;
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = Worker::spawn(agent, tx.clone(), Incoming::Agent)?;
    let stop = Arc::new(AtomicBool::new(false));
    let stop_input = Arc::clone(&stop);
    // A stop signal is noted here and turned into an event by the input thread (within 50 ms).
    let caught = Arc::new(AtomicUsize::new(0));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP, signal_hook::consts::SIGINT] {
        let value = usize::try_from(signal).unwrap_or(usize::MAX);
        signal_hook::flag::register_usize(signal, Arc::clone(&caught), value)?;
    }
    let input = std::thread::Builder::new().name("curator-input".into()).spawn(move || {
        while !stop_input.load(Ordering::SeqCst) {
            let signal = caught.load(Ordering::SeqCst);
            if signal != 0 {
                let _ = tx.send(Incoming::Signal(i32::try_from(signal).unwrap_or(-1)));
                break;
            }
            // A terminal that can no longer be read (its pseudo-terminal closed without a SIGHUP
            // reaching us, e.g. a killed tmux server) is a hangup: the UI must end, not run on
            // without input (found as an orphaned `curator chat` spinning for half an hour).
            let gone = || {
                let _ = tx.send(Incoming::Signal(signal_hook::consts::SIGHUP));
            };
            match event::poll(Duration::from_millis(50)) {
                Ok(true) => match event::read() {
                    Ok(ev) => {
                        if tx.send(Incoming::Terminal(ev)).is_err() {
                            break;
                        }
                    }
                    Err(_) => {
                        gone();
                        break;
                    }
                },
                Ok(false) => {}
                Err(_) => {
                    gone();
                    break;
                }
            }
        }
    })?;
    let mut app = App::with_nouns(&model, catalog_size, (size.width, size.height), (&nouns.0, &nouns.1));
    let result = event_loop(&mut terminal, &mut app, &rx, &worker, &mut |_, _| {});
    stop.store(true, Ordering::SeqCst);
    // The terminal comes back first; a reply being cancelled may take a moment to stop.
    drop(guard);
    let _ = input.join();
    // An agent that panicked made the UI quit; that is a failure, not a normal exit.
    if let Some(panic) = worker.shutdown() {
        return Err(io::Error::other(format!("the agent stopped on an internal error: {panic}")));
    }
    result
}
