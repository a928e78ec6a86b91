//! The UI state and `update`: every input (a key, a paste, the wheel, a piece of the reply) is an
//! [`Action`]; [`update`] changes the [`App`] and returns the [`Effect`]s the event loop must carry
//! out (talk to the agent, write a file, quit). No I/O happens here, so every behaviour is a unit
//! test.

use std::fmt::Write as _;

use crate::agent::TurnStats;
use crate::dialogue::state::Polarity;

use super::input::{History, Input};
use super::worker::{ItemCard, Taste, WorkerEvent};

/// Who wrote a message of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    /// The person.
    You,
    /// The recommender.
    Curator,
    /// A note from the UI (help, errors, "saved to …").
    Notice,
}

/// One message of the conversation pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its author.
    pub speaker: Speaker,
    /// Its text so far (a reply grows piece by piece).
    pub text: String,
}

/// Which part of the screen receives keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Focus {
    /// The message editor.
    #[default]
    Input,
    /// The recommendations list (like, dislike, details).
    Recommendations,
}

/// Timings of the last completed reply, for the footer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Latency {
    /// Wall time of the turn, milliseconds.
    pub total_ms: f64,
    /// The tool part (linking, ranking, reasons), milliseconds.
    pub tools_ms: f64,
    /// The model's time to first token, when a model ran.
    pub first_token_ms: Option<f64>,
    /// Tokens the model generated.
    pub tokens: usize,
}

/// Everything the screen shows. `draw` reads it; only [`update`] changes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct App {
    /// The conversation, oldest first.
    pub messages: Vec<Message>,
    /// The message being typed.
    pub input: Input,
    /// Sent messages for Up/Down.
    pub history: History,
    /// The latest recommendations, best first.
    pub recommendations: Vec<ItemCard>,
    /// Index of the selected recommendation.
    pub selected: usize,
    /// What the agent believes about the seeker.
    pub taste: Taste,
    /// Where keys go.
    pub focus: Focus,
    /// Whether the details view of the selected recommendation is open.
    pub details: bool,
    /// Conversation rows scrolled up from the bottom (0: follow the newest text).
    pub scroll: usize,
    /// Whether a reply is being generated.
    pub generating: bool,
    /// Animation frame of the "thinking" indicator.
    pub spinner: usize,
    /// The model's name ("none" without one).
    pub model: String,
    /// Items in the catalog.
    pub catalog_size: usize,
    /// The catalog's item noun, singular and plural ("movie", "movies"; `catalog.yaml`).
    pub nouns: (String, String),
    /// Timings of the last reply.
    pub latency: Option<Latency>,
    /// A short note in the footer (cleared by the next key).
    pub status: Option<String>,
    /// Terminal size (columns, rows), for scrolling limits.
    pub size: (u16, u16),
    /// Set when the person asked to quit.
    pub quit: bool,
}

/// Everything that can happen to the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Type a character.
    Insert(char),
    /// Paste text (may hold newlines).
    Paste(String),
    /// New line in the message (Shift+Enter, Alt+Enter, Ctrl+J).
    Newline,
    /// Delete before the cursor.
    Backspace,
    /// Delete after the cursor.
    Delete,
    /// Cursor left.
    Left,
    /// Cursor right.
    Right,
    /// Start of line.
    Home,
    /// End of line.
    End,
    /// Previous line, else the previous history entry.
    Up,
    /// Next line, else the next history entry.
    Down,
    /// Send the message (Enter).
    Submit,
    /// Stop the reply being generated (Esc).
    Cancel,
    /// Leave the side panel or close the details view (Esc when nothing is generated).
    Back,
    /// Quit (Ctrl+C, Ctrl+D on an empty message, `/quit`).
    Quit,
    /// Scroll the conversation up by rows.
    ScrollUp(usize),
    /// Scroll the conversation down by rows.
    ScrollDown(usize),
    /// Move keys between the message editor and the recommendations (Tab).
    ToggleFocus,
    /// Select the previous recommendation.
    SelectPrev,
    /// Select the next recommendation.
    SelectNext,
    /// Select recommendation `n` (0-based).
    Select(usize),
    /// Like the selected recommendation.
    Like,
    /// Dislike the selected recommendation.
    Dislike,
    /// Open the details of the selected recommendation.
    OpenDetails,
    /// The terminal has a new size (columns, rows).
    Resize(u16, u16),
    /// A timer tick (animates the indicator).
    Tick,
    /// The agent thread reported something.
    Agent(WorkerEvent),
    /// The transcript was written (`Ok(path)`) or not (`Err(why)`).
    Saved(Result<String, String>),
}

/// What the event loop must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send a message to the agent.
    Send(String),
    /// Cancel the reply being generated.
    Cancel,
    /// Record feedback on an item.
    Feedback(crate::catalog::ItemId, Polarity),
    /// Start a new conversation.
    Reset,
    /// Write the transcript (Markdown) to a file: the path given, or a fresh name when `None`.
    Save {
        /// Where, if the person named a file.
        path: Option<String>,
        /// The transcript.
        transcript: String,
    },
    /// Leave the UI.
    Quit,
}

/// Text of `/help`.
pub const HELP: &str = "Tell me movies you like or dislike, or what you're in the mood for.\n\
Keys: Enter send · Alt+Enter or Shift+Enter or Ctrl+J new line · ↑/↓ history · PgUp/PgDn or the wheel scroll · \
Esc stop a reply · Tab go to the recommendations (↑/↓ or 1-9 select, l like, d dislike, Enter details, \
Esc back; other letters go back to typing) · Ctrl+C quit.\n\
Commands: /like N, /dislike N, /details N, /reset (start over), /save [FILE] (transcript), /help, /quit.";

const SPINNER_FRAMES: usize = 10;
const STOPPING: &str = "stopping…";

impl App {
    /// A fresh UI for a model named `model` over `catalog_size` items, on a `size` terminal.
    pub fn new(model: &str, catalog_size: usize, size: (u16, u16)) -> Self {
        Self::with_nouns(model, catalog_size, size, ("movie", "movies"))
    }

    /// [`App::new`] for a catalog whose items are called `nouns` (singular, plural).
    pub fn with_nouns(model: &str, catalog_size: usize, size: (u16, u16), nouns: (&str, &str)) -> Self {
        let plural = nouns.1;
        App {
            model: model.to_string(),
            catalog_size,
            nouns: (nouns.0.to_string(), plural.to_string()),
            size,
            messages: vec![Message {
                speaker: Speaker::Notice,
                text: format!(
                    "Curator — {catalog_size} {plural}, model {model}. Tell me what you like; /help for keys."
                ),
            }],
            ..App::default()
        }
    }

    /// The `/help` text in the catalog's words ([`HELP`] for movies).
    pub fn help(&self) -> String {
        let plural = if self.nouns.1.is_empty() { "movies" } else { self.nouns.1.as_str() };
        HELP.replacen("movies", plural, 1)
    }

    /// The selected recommendation.
    pub fn selected_card(&self) -> Option<&ItemCard> {
        self.recommendations.get(self.selected)
    }

    /// The transcript as Markdown.
    pub fn transcript(&self) -> String {
        let mut out = String::from("# Curator conversation\n\n");
        for m in &self.messages {
            let who = match m.speaker {
                Speaker::You => "**you**",
                Speaker::Curator => "**curator**",
                Speaker::Notice => continue,
            };
            let _ = writeln!(out, "{who}: {}\n", m.text.replace('\n', "  \n"));
        }
        out
    }

    fn clear_stopping(&mut self) {
        if self.status.as_deref() == Some(STOPPING) {
            self.status = None;
        }
    }

    fn notice(&mut self, text: impl Into<String>) {
        self.messages.push(Message { speaker: Speaker::Notice, text: text.into() });
        self.scroll = 0;
    }

    fn curator_text(&mut self, piece: &str) {
        match self.messages.last_mut() {
            Some(m) if m.speaker == Speaker::Curator => m.text.push_str(piece),
            _ => self.messages.push(Message { speaker: Speaker::Curator, text: piece.to_string() }),
        }
    }

    /// Rows of the whole conversation at the current size.
    fn conversation_len(&self) -> usize {
        let layout = super::draw::screen_layout(self, self.size.0, self.size.1);
        super::draw::conversation_rows(self, layout.conversation_inner.width).len()
    }

    /// The largest useful scroll offset for the current size.
    fn max_scroll(&self) -> usize {
        let layout = super::draw::screen_layout(self, self.size.0, self.size.1);
        self.conversation_len().saturating_sub(usize::from(layout.conversation_inner.height))
    }

    fn feedback(&mut self, polarity: Polarity) -> Option<Effect> {
        let card = self.recommendations.get_mut(self.selected)?;
        card.feedback = Some(polarity);
        let verb = if polarity == Polarity::Liked { "liked" } else { "disliked" };
        self.status = Some(format!("{verb} {} — the next reply takes it into account", card.title));
        Some(Effect::Feedback(card.item.id, polarity))
    }

    /// A slash command; `None` when `text` is not one.
    fn command(&mut self, text: &str) -> Option<Vec<Effect>> {
        let text = text.trim();
        let rest = text.strip_prefix('/')?;
        let (name, arg) = rest.split_once(char::is_whitespace).map_or((rest, ""), |(n, a)| (n, a.trim()));
        let index = |arg: &str, app: &App| -> Result<usize, String> {
            match arg.parse::<usize>() {
                Ok(n) if n >= 1 && n <= app.recommendations.len() => Ok(n - 1),
                _ if app.recommendations.is_empty() => Err("there are no recommendations yet".into()),
                _ => Err(format!("give a number from 1 to {}", app.recommendations.len())),
            }
        };
        let effects = match name {
            "quit" | "exit" | "q" => {
                self.quit = true;
                vec![Effect::Quit]
            }
            "help" | "?" => {
                let help = self.help();
                self.notice(&help);
                vec![]
            }
            "reset" => {
                self.messages.clear();
                self.recommendations.clear();
                self.selected = 0;
                self.details = false;
                self.focus = Focus::Input;
                self.taste = Taste::default();
                self.notice("New conversation. Tell me what you like.");
                vec![Effect::Reset]
            }
            "save" => vec![Effect::Save {
                path: if arg.is_empty() { None } else { Some(arg.to_string()) },
                transcript: self.transcript(),
            }],
            "like" | "dislike" | "details" | "info" => match index(arg, self) {
                Ok(i) => {
                    self.selected = i;
                    match name {
                        "like" => self.feedback(Polarity::Liked).into_iter().collect(),
                        "dislike" => self.feedback(Polarity::Disliked).into_iter().collect(),
                        _ => {
                            self.details = true;
                            vec![]
                        }
                    }
                }
                Err(why) => {
                    self.notice(format!("/{name}: {why}"));
                    vec![]
                }
            },
            _ => {
                self.notice(format!("Unknown command /{name}; try /help."));
                vec![]
            }
        };
        Some(effects)
    }

    fn submit(&mut self) -> Vec<Effect> {
        let text = self.input.text().trim().to_string();
        if text.is_empty() {
            return vec![];
        }
        if self.generating {
            self.status = Some("wait for the reply, or press Esc to stop it".into());
            return vec![];
        }
        self.input.take();
        self.history.push(&text);
        if let Some(effects) = self.command(&text) {
            return effects;
        }
        self.messages.push(Message { speaker: Speaker::You, text: text.clone() });
        self.messages.push(Message { speaker: Speaker::Curator, text: String::new() });
        self.generating = true;
        self.scroll = 0;
        vec![Effect::Send(text)]
    }

    fn agent_event(&mut self, event: WorkerEvent) -> Vec<Effect> {
        match event {
            WorkerEvent::Text(piece) => {
                if self.scroll == 0 {
                    self.curator_text(&piece);
                } else {
                    // Scrolled back: keep the rows in view where they are while the reply grows.
                    let before = self.conversation_len();
                    self.curator_text(&piece);
                    self.scroll += self.conversation_len().saturating_sub(before);
                }
            }
            WorkerEvent::Recommendations(cards) => {
                self.recommendations = cards;
                self.selected = 0;
                self.details = false;
            }
            WorkerEvent::Done { stats, total_ms } => {
                self.generating = false;
                self.clear_stopping();
                self.latency = Some(latency(&stats, total_ms));
            }
            WorkerEvent::Cancelled => {
                self.generating = false;
                self.clear_stopping();
                self.curator_text("(stopped)");
            }
            WorkerEvent::Failed(why) => {
                self.generating = false;
                if self.messages.last().is_some_and(|m| m.speaker == Speaker::Curator && m.text.is_empty()) {
                    self.messages.pop();
                }
                self.notice(format!("Sorry: {why}"));
            }
            WorkerEvent::Taste(t) => self.taste = t,
            WorkerEvent::Stopped => {
                self.generating = false;
                self.notice("The agent stopped; quitting.");
                self.quit = true;
                return vec![Effect::Quit];
            }
        }
        vec![]
    }
}

fn latency(stats: &TurnStats, total_ms: f64) -> Latency {
    Latency {
        total_ms,
        tools_ms: stats.tools_ms,
        first_token_ms: stats.generation.as_ref().map(|g| g.time_to_first_token_ms),
        tokens: stats.generation.as_ref().map_or(0, |g| g.generated_tokens),
    }
}

/// Applies `action` to `app`; returns what the event loop must do.
pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    if !matches!(action, Action::Tick | Action::Agent(_) | Action::Resize(..) | Action::Saved(_)) {
        app.status = None;
    }
    match action {
        Action::Insert(c) => {
            app.focus = Focus::Input;
            app.details = false;
            if !app.input.insert_char(c) {
                app.status = Some("the message is at its length limit".into());
            }
        }
        Action::Paste(text) => {
            app.focus = Focus::Input;
            if !app.input.insert_str(&text) {
                app.status = Some("the paste was cut at the message length limit".into());
            }
        }
        Action::Newline => {
            app.input.insert_char('\n');
        }
        Action::Backspace => app.input.backspace(),
        Action::Delete => app.input.delete(),
        Action::Left => app.input.left(),
        Action::Right => app.input.right(),
        Action::Home => app.input.home(),
        Action::End => app.input.end(),
        Action::Up => {
            if !app.input.up() {
                let current = app.input.text().to_string();
                if let Some(entry) = app.history.older(&current).map(str::to_string) {
                    app.input.set(&entry);
                }
            }
        }
        Action::Down => {
            if !app.input.down() {
                if let Some(entry) = app.history.newer().map(str::to_string) {
                    app.input.set(&entry);
                }
            }
        }
        Action::Submit => return app.submit(),
        Action::Cancel => {
            if app.generating {
                app.status = Some(STOPPING.into());
                return vec![Effect::Cancel];
            }
        }
        Action::Back => {
            if app.details {
                app.details = false;
            } else {
                app.focus = Focus::Input;
            }
        }
        Action::Quit => {
            app.quit = true;
            let mut effects = vec![];
            if app.generating {
                effects.push(Effect::Cancel);
            }
            effects.push(Effect::Quit);
            return effects;
        }
        Action::ScrollUp(n) => app.scroll = (app.scroll + n).min(app.max_scroll()),
        Action::ScrollDown(n) => app.scroll = app.scroll.saturating_sub(n).min(app.max_scroll()),
        Action::ToggleFocus => {
            app.focus = match app.focus {
                Focus::Input if !app.recommendations.is_empty() => Focus::Recommendations,
                Focus::Input => {
                    app.status = Some("no recommendations yet".into());
                    Focus::Input
                }
                Focus::Recommendations => Focus::Input,
            };
        }
        Action::SelectPrev => app.selected = app.selected.saturating_sub(1),
        Action::SelectNext => {
            if app.selected + 1 < app.recommendations.len() {
                app.selected += 1;
            }
        }
        Action::Select(i) => {
            if i < app.recommendations.len() {
                app.selected = i;
            }
        }
        Action::Like => return app.feedback(Polarity::Liked).into_iter().collect(),
        Action::Dislike => return app.feedback(Polarity::Disliked).into_iter().collect(),
        Action::OpenDetails => app.details = app.selected_card().is_some(),
        Action::Resize(w, h) => {
            app.size = (w, h);
            app.scroll = app.scroll.min(app.max_scroll());
        }
        Action::Tick => {
            if app.generating {
                app.spinner = (app.spinner + 1) % SPINNER_FRAMES;
            }
        }
        Action::Agent(event) => return app.agent_event(event),
        Action::Saved(Ok(path)) => app.notice(format!("Transcript saved to {path}.")),
        Action::Saved(Err(why)) => app.notice(format!("Could not save the transcript: {why}")),
    }
    vec![]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(id: u32, title: &str) -> ItemCard {
        let item = crate::catalog::Item { id, title: title.into(), ..Default::default() };
        ItemCard { item, title: title.into(), reason: "because".into(), ..ItemCard::default() }
    }

    fn typed(app: &mut App, text: &str) {
        for c in text.chars() {
            update(app, Action::Insert(c));
        }
    }

    #[test]
    fn a_turn_streams_into_one_reply_and_fills_the_panel() {
        let mut app = App::new("none", 10, (100, 30));
        typed(&mut app, "I loved Heat");
        assert_eq!(update(&mut app, Action::Submit), vec![Effect::Send("I loved Heat".into())]);
        assert!(app.generating && app.input.is_empty());
        assert_eq!(update(&mut app, Action::Submit), vec![], "an empty message sends nothing");
        typed(&mut app, "more");
        assert_eq!(update(&mut app, Action::Submit), vec![], "no second message while generating");
        assert!(app.status.is_some());
        update(&mut app, Action::Agent(WorkerEvent::Text("Here you go.".into())));
        update(&mut app, Action::Agent(WorkerEvent::Text("\n1. Seven (1995) — because".into())));
        update(&mut app, Action::Agent(WorkerEvent::Recommendations(vec![card(1, "Seven (1995)"), card(2, "Ronin")])));
        update(&mut app, Action::Agent(WorkerEvent::Done { stats: TurnStats::default(), total_ms: 5.0 }));
        assert!(!app.generating);
        let last = app.messages.last().cloned().unwrap_or(Message { speaker: Speaker::Notice, text: String::new() });
        assert_eq!(last, Message { speaker: Speaker::Curator, text: "Here you go.\n1. Seven (1995) — because".into() });
        assert_eq!(app.recommendations.len(), 2);
        assert_eq!(app.latency.as_ref().map(|l| l.total_ms), Some(5.0));
        assert_eq!(app.history.entries(), ["I loved Heat".to_string()]);
    }

    #[test]
    fn keys_like_dislike_and_open_details() {
        let mut app = App::new("none", 10, (100, 30));
        assert_eq!(update(&mut app, Action::Like), vec![]);
        update(&mut app, Action::ToggleFocus);
        assert_eq!(app.focus, Focus::Input, "nothing to focus yet");
        app.recommendations = vec![card(7, "A"), card(8, "B")];
        update(&mut app, Action::ToggleFocus);
        assert_eq!(app.focus, Focus::Recommendations);
        update(&mut app, Action::SelectNext);
        update(&mut app, Action::SelectNext);
        assert_eq!(app.selected, 1);
        assert_eq!(update(&mut app, Action::Dislike), vec![Effect::Feedback(8, Polarity::Disliked)]);
        assert_eq!(app.recommendations[1].feedback, Some(Polarity::Disliked));
        update(&mut app, Action::SelectPrev);
        assert_eq!(update(&mut app, Action::Like), vec![Effect::Feedback(7, Polarity::Liked)]);
        update(&mut app, Action::OpenDetails);
        assert!(app.details);
        update(&mut app, Action::Back);
        assert!(!app.details);
        assert_eq!(app.focus, Focus::Recommendations);
        update(&mut app, Action::Back);
        assert_eq!(app.focus, Focus::Input);
        update(&mut app, Action::ToggleFocus);
        update(&mut app, Action::OpenDetails);
        update(&mut app, Action::Insert('s'));
        assert_eq!((app.focus, app.details, app.input.text()), (Focus::Input, false, "s"), "typing goes to the editor");
    }

    #[test]
    fn commands() {
        let mut app = App::new("none", 10, (100, 30));
        app.recommendations = vec![card(7, "A"), card(8, "B")];
        typed(&mut app, "/like 2");
        assert_eq!(update(&mut app, Action::Submit), vec![Effect::Feedback(8, Polarity::Liked)]);
        typed(&mut app, "/dislike 9");
        assert_eq!(update(&mut app, Action::Submit), vec![]);
        assert!(app.messages.last().is_some_and(|m| m.text.contains("from 1 to 2")));
        typed(&mut app, "/details 1");
        update(&mut app, Action::Submit);
        assert!(app.details && app.selected == 0);
        typed(&mut app, "/save out.md");
        let effects = update(&mut app, Action::Submit);
        assert!(matches!(&effects[..], [Effect::Save { path: Some(p), .. }] if p == "out.md"));
        typed(&mut app, "/bogus");
        update(&mut app, Action::Submit);
        assert!(app.messages.last().is_some_and(|m| m.text.contains("Unknown command /bogus")));
        typed(&mut app, "/reset");
        assert_eq!(update(&mut app, Action::Submit), vec![Effect::Reset]);
        assert!(app.recommendations.is_empty() && !app.details);
        typed(&mut app, "/help");
        update(&mut app, Action::Submit);
        assert!(app.messages.last().is_some_and(|m| m.text.contains("Commands:")));
        typed(&mut app, "/quit");
        assert_eq!(update(&mut app, Action::Submit), vec![Effect::Quit]);
        assert!(app.quit);
    }

    #[test]
    fn cancel_and_quit_while_generating() {
        let mut app = App::new("none", 10, (100, 30));
        assert_eq!(update(&mut app, Action::Cancel), vec![], "Esc with nothing running does nothing");
        typed(&mut app, "hi");
        update(&mut app, Action::Submit);
        assert_eq!(update(&mut app, Action::Cancel), vec![Effect::Cancel]);
        assert_eq!(app.status.as_deref(), Some(STOPPING));
        update(&mut app, Action::Agent(WorkerEvent::Cancelled));
        assert!(!app.generating);
        assert_eq!(app.status, None);
        assert!(app.messages.last().is_some_and(|m| m.text == "(stopped)"));
        typed(&mut app, "again");
        update(&mut app, Action::Submit);
        assert_eq!(update(&mut app, Action::Quit), vec![Effect::Cancel, Effect::Quit]);
    }

    #[test]
    fn failures_and_a_stopped_agent_are_reported() {
        let mut app = App::new("none", 10, (100, 30));
        typed(&mut app, "x");
        update(&mut app, Action::Submit);
        update(&mut app, Action::Agent(WorkerEvent::Failed("the message is empty".into())));
        assert!(!app.generating);
        assert!(app.messages.iter().all(|m| !(m.speaker == Speaker::Curator && m.text.is_empty())));
        assert_eq!(update(&mut app, Action::Agent(WorkerEvent::Stopped)), vec![Effect::Quit]);
    }

    #[test]
    fn history_and_multiline_editing() {
        let mut app = App::new("none", 10, (100, 30));
        typed(&mut app, "first");
        update(&mut app, Action::Submit);
        update(&mut app, Action::Agent(WorkerEvent::Done { stats: TurnStats::default(), total_ms: 1.0 }));
        typed(&mut app, "a");
        update(&mut app, Action::Newline);
        typed(&mut app, "b");
        update(&mut app, Action::Up);
        assert_eq!(app.input.text(), "a\nb", "Up first moves within the message");
        update(&mut app, Action::Up);
        assert_eq!(app.input.text(), "first");
        update(&mut app, Action::Down);
        assert_eq!(app.input.text(), "a\nb", "the draft comes back");
        update(&mut app, Action::Paste("x\r\ny".into()));
        assert_eq!(app.input.text(), "a\nbx\ny");
    }

    #[test]
    fn scrolling_is_clamped_to_the_conversation() {
        let mut app = App::new("none", 10, (40, 12));
        update(&mut app, Action::ScrollUp(5));
        assert_eq!(app.scroll, 0, "nothing to scroll");
        for i in 0..30 {
            app.messages.push(Message { speaker: Speaker::You, text: format!("message {i}") });
        }
        update(&mut app, Action::ScrollUp(1000));
        let max = app.scroll;
        assert!(max > 0);
        update(&mut app, Action::ScrollDown(3));
        assert_eq!(app.scroll, max - 3);
        update(&mut app, Action::Resize(200, 60));
        assert!(app.scroll <= max);
        // While scrolled back, a growing reply does not move the rows in view.
        let mut app = App::new("none", 10, (40, 12));
        for i in 0..30 {
            app.messages.push(Message { speaker: Speaker::You, text: format!("message {i}") });
        }
        update(&mut app, Action::ScrollUp(5));
        update(&mut app, Action::Agent(WorkerEvent::Text("a reply".into())));
        assert_eq!(app.scroll, 5 + 3, "a separator, the speaker line and one text row were added below");
    }
}
