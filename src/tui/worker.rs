//! The agent's own thread. The UI sends [`Request`]s over a channel and receives
//! [`WorkerEvent`]s; a cancel flag shared with the UI stops a reply promptly (the agent checks it
//! between model tokens). The agent is never touched by the UI thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crate::agent::{Agent, AgentEvent, TurnStats};
use crate::catalog::{Item, ItemId};
use crate::dialogue::state::Polarity;
use crate::Error;

/// A recommended item as the UI shows it: the reply's title and reason, and the catalog item
/// (year, genres, people, plot) for the details view.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemCard {
    /// The catalog's item (a clone); when the catalog does not know the id, an item with only
    /// the id and the reply's title.
    pub item: Item,
    /// "Title (Year)", as the reply names it.
    pub title: String,
    /// Knowledge-graph facts beyond the fields above (`kg_lookup`): (relation, names) for
    /// keywords, companies, languages, sequels ("sequel" = items following it) and prequels, at
    /// most [`MAX_FACT_NAMES`] names each.
    pub facts: Vec<(String, Vec<String>)>,
    /// The agent's grounded reason for recommending it.
    pub reason: String,
    /// The seeker's feedback given in the UI, if any.
    pub feedback: Option<Polarity>,
}

/// What the agent believes about the seeker, as names for the side panel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Taste {
    /// Liked items ("Title (Year)"), in order of first mention.
    pub liked: Vec<String>,
    /// Disliked items.
    pub disliked: Vec<String>,
    /// Constraints asked for (latest mention wanted): genres, people, decades, keywords.
    pub wanted: Vec<String>,
    /// Constraints rejected (hard constraints: no item having one is recommended).
    pub rejected: Vec<String>,
    /// Items the seeker said they have seen ("Title (Year)").
    pub seen: Vec<String>,
}

/// A request from the UI to the agent thread.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Answer a seeker message.
    Message(String),
    /// The seeker likes or dislikes an item.
    Feedback(ItemId, Polarity),
    /// Start a new conversation.
    Reset,
}

/// What the agent thread reports, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkerEvent {
    /// A piece of the reply being written.
    Text(String),
    /// This turn's recommendations.
    Recommendations(Vec<ItemCard>),
    /// The reply is complete.
    Done {
        /// The agent's timings.
        stats: TurnStats,
        /// Wall time of the whole turn, milliseconds.
        total_ms: f64,
    },
    /// The reply was cancelled.
    Cancelled,
    /// The request failed; the message says why.
    Failed(String),
    /// The dialogue state after a turn, a feedback or a reset.
    Taste(Taste),
    /// The agent thread has stopped (it is gone; nothing more will come).
    Stopped,
}

/// Builds the card of item `id` with `reason`, from the agent's catalog.
pub fn card(agent: &Agent, id: ItemId, title: &str, reason: &str) -> ItemCard {
    let item =
        agent.catalog().get(id).cloned().unwrap_or_else(|| Item { id, title: title.to_string(), ..Item::default() });
    let mut card = ItemCard { item, title: title.to_string(), reason: reason.to_string(), ..ItemCard::default() };
    if let Some(facts) = agent.knowledge().and_then(|kt| kt.kg_lookup(id)) {
        // Genres, directors, writers and actors are shown from the catalog already.
        card.facts = facts
            .facts
            .into_iter()
            .filter(|(rel, names)| {
                !matches!(rel.as_str(), "genre" | "director" | "writer" | "actor") && !names.is_empty()
            })
            .map(|(rel, mut names)| {
                names.truncate(MAX_FACT_NAMES);
                (rel, names)
            })
            .collect();
    }
    card
}

/// The most names shown per knowledge-graph relation in the details view.
pub const MAX_FACT_NAMES: usize = 8;

/// The agent's dialogue state as names.
pub fn taste(agent: &Agent) -> Taste {
    let state = agent.state();
    let names = |p: Polarity| -> Vec<String> {
        state.items_with(p).iter().filter_map(|id| agent.catalog().get(*id).map(|i| i.display_name())).collect()
    };
    let rejected: Vec<String> = state.rejected_genres();
    let mut wanted: Vec<String> = Vec::new();
    for (g, _) in &state.genres() {
        if g.wanted && !rejected.contains(&g.genre) && !wanted.contains(&g.genre) {
            wanted.push(g.genre.clone());
        }
    }
    let mut rejected = rejected;
    for a in state.rejected_attributes() {
        // Keywords implied by a rejected one ("violence" → "gore") are not listed.
        if !state.attributes.iter().any(|(m, _)| &m.attribute == a && m.explicit) {
            continue;
        }
        let d = a.describe();
        if !rejected.contains(&d) {
            rejected.push(d);
        }
    }
    for (m, _) in state.requested_attributes() {
        let d = m.attribute.describe();
        if !wanted.contains(&d) && !rejected.contains(&d) {
            wanted.push(d);
        }
    }
    let seen =
        state.items_seen(true).iter().filter_map(|id| agent.catalog().get(*id).map(|i| i.display_name())).collect();
    Taste { liked: names(Polarity::Liked), disliked: names(Polarity::Disliked), wanted, rejected, seen }
}

/// Handle on the agent thread.
#[derive(Debug)]
pub struct Worker {
    requests: Sender<Request>,
    cancel: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    /// Moves `agent` to a new thread that serves requests until the [`Worker`] is dropped;
    /// `events` receives what it reports, each wrapped by `wrap` (so one channel can carry
    /// terminal and agent events together).
    pub fn spawn<T: Send + 'static>(
        agent: Agent,
        events: Sender<T>,
        wrap: fn(WorkerEvent) -> T,
    ) -> std::io::Result<Worker> {
        let (requests, rx) = std::sync::mpsc::channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        let handle = std::thread::Builder::new()
            .name("curator-agent".into())
            .spawn(move || serve(agent, rx, flag, events, wrap))?;
        Ok(Worker { requests, cancel, handle: Some(handle) })
    }

    /// Queues a request; false when the thread has stopped.
    pub fn send(&self, request: Request) -> bool {
        self.requests.send(request).is_ok()
    }

    /// Asks the reply being generated to stop (no effect when none is).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// Cancels any reply, closes the request channel and waits for the thread to end. Returns
    /// the panic message when the agent thread ended by a panic (`None`: it ended normally), so
    /// that the front end can exit with an error instead of success.
    pub fn shutdown(mut self) -> Option<String> {
        self.cancel();
        let (dead, _) = std::sync::mpsc::channel();
        self.requests = dead;
        let payload = self.handle.take()?.join().err()?;
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        Some(message)
    }
}

/// Sends [`WorkerEvent::Stopped`] when the thread ends, even by a panic.
struct StopGuard<T: Send + 'static> {
    events: Sender<T>,
    wrap: fn(WorkerEvent) -> T,
}

impl<T: Send + 'static> Drop for StopGuard<T> {
    fn drop(&mut self) {
        let _ = self.events.send((self.wrap)(WorkerEvent::Stopped));
    }
}

fn serve<T: Send + 'static>(
    mut agent: Agent,
    requests: Receiver<Request>,
    cancel: Arc<AtomicBool>,
    events: Sender<T>,
    wrap: fn(WorkerEvent) -> T,
) {
    let guard = StopGuard { events: events.clone(), wrap };
    let send = |e: WorkerEvent| events.send(wrap(e)).is_ok();
    while let Ok(request) = requests.recv() {
        let ok = match request {
            Request::Message(text) => {
                cancel.store(false, Ordering::SeqCst);
                let t0 = Instant::now();
                let mut stats = None;
                let mut recs = Vec::new();
                let result = {
                    let mut on_event = |ev: AgentEvent| match ev {
                        AgentEvent::Text { text } => {
                            send(WorkerEvent::Text(text));
                        }
                        AgentEvent::Recommendations { items } => recs = items,
                        AgentEvent::Done { stats: s } => stats = Some(s),
                    };
                    agent.respond_cancellable(&text, &cancel, &mut on_event)
                };
                let cards: Vec<ItemCard> = recs.iter().map(|r| card(&agent, r.id, &r.title, &r.reason)).collect();
                let answered = result.is_ok();
                let end = match result {
                    Ok(_) => {
                        if !cards.is_empty() {
                            send(WorkerEvent::Recommendations(cards));
                        }
                        WorkerEvent::Done {
                            stats: stats.unwrap_or_default(),
                            total_ms: t0.elapsed().as_secs_f64() * 1e3,
                        }
                    }
                    Err(Error::Cancelled) => WorkerEvent::Cancelled,
                    Err(e) => WorkerEvent::Failed(e.to_string()),
                };
                let sent = send(WorkerEvent::Taste(taste(&agent))) && send(end);
                // While the seeker reads: the dialogue, with the reply as shown, goes into the
                // model's cache so that the next message prefills only its own tokens.
                if sent && answered {
                    if let Err(e) = agent.prefill_dialogue() {
                        tracing::debug!("cannot prefill the dialogue for its next turn: {e}");
                    }
                }
                sent
            }
            Request::Feedback(id, polarity) => match agent.feedback(id, polarity) {
                Ok(()) => send(WorkerEvent::Taste(taste(&agent))),
                Err(e) => send(WorkerEvent::Failed(e.to_string())),
            },
            Request::Reset => {
                agent.reset();
                send(WorkerEvent::Taste(taste(&agent)))
            }
        };
        if !ok {
            break;
        }
    }
    drop(guard);
}
