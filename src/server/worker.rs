//! The generation worker: one thread owns the [`Engine`]s (one per catalog served, created on a
//! catalog's first turn) and the one model, which moves to the engine of the catalog each turn
//! is for; it answers chat turns one at a time from a bounded queue.
//!
//! Each job carries its session's dialogue state, which becomes a [`Conversation`] of the one
//! [`Engine`] for the turn and is stored (with the turn) in SQLite before the job reports
//! success. A full queue is refused
//! at once (the caller answers 429), so memory stays bounded whatever the load. A job's cancel
//! flag (set on client disconnect or timeout) stops generation promptly; a cancelled turn is not
//! stored.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use super::error::ApiError;
use super::sessions::SessionStore;
use super::sessions::Turn;
use super::wire::StoredMessage;
use crate::agent::{AgentEvent, Conversation, Engine, RecommendPrompts, Recommendation, TurnOptions};
use crate::assets::Assets;
use crate::dialogue::DialogueState;
use crate::llm::CacheSnapshot;

/// Budget for the saved model caches of recent sessions, in bytes (≈ 23 KB per token with
/// SmolLM2-135M: about ten 1,000-token conversations). The llama.cpp backend keeps them as
/// files, so this is disk in the system's temporary folder, not resident memory.
pub const KV_CACHE_BYTES: usize = 256 << 20;

/// The model caches of recent sessions, least recently used evicted first.
#[derive(Debug, Default)]
struct SessionCaches {
    entries: Vec<(String, CacheSnapshot)>,
}

impl SessionCaches {
    fn take(&mut self, id: &str) -> Option<CacheSnapshot> {
        let i = self.entries.iter().position(|(k, _)| k == id)?;
        Some(self.entries.remove(i).1)
    }

    fn put(&mut self, id: &str, snapshot: CacheSnapshot) {
        self.entries.retain(|(k, _)| k != id);
        if snapshot.bytes > KV_CACHE_BYTES {
            return;
        }
        self.entries.push((id.to_string(), snapshot));
        while self.entries.iter().map(|(_, s)| s.bytes).sum::<usize>() > KV_CACHE_BYTES && !self.entries.is_empty() {
            self.entries.remove(0);
        }
    }
}

/// What a job reports back, in order: agent events, then exactly one `Finished`.
#[derive(Debug)]
pub enum JobEvent {
    /// An event of the turn (text pieces, the recommendations, done).
    Agent(AgentEvent),
    /// The turn ended: stored and answered, or failed (nothing stored).
    Finished(Result<Vec<Recommendation>, ApiError>),
}

/// Marks a session as busy while a request for it is queued or running; dropping it frees the
/// session.
#[derive(Debug)]
pub struct SessionLease {
    id: String,
    busy: Arc<Mutex<HashSet<String>>>,
}

impl SessionLease {
    /// Takes session `id`, or fails with [`ApiError::SessionBusy`] if a request holds it.
    pub fn acquire(busy: &Arc<Mutex<HashSet<String>>>, id: &str) -> Result<Self, ApiError> {
        let mut set = busy.lock().map_err(|_| ApiError::Internal("session lock poisoned".into()))?;
        if !set.insert(id.to_string()) {
            return Err(ApiError::SessionBusy(id.to_string()));
        }
        Ok(SessionLease { id: id.to_string(), busy: Arc::clone(busy) })
    }
}

impl Drop for SessionLease {
    fn drop(&mut self) {
        if let Ok(mut set) = self.busy.lock() {
            set.remove(&self.id);
        }
    }
}

/// The session lease of a queued job, shared by the job and the request that queued it: the
/// worker takes it when it starts the job; a request that ends first (timeout, client gone)
/// releases it with the job still queued, so the session is free by the time the client hears
/// the request failed, and the worker then drops the job unanswered.
pub type LeaseSlot = Arc<Mutex<Option<SessionLease>>>;

/// Sets a cancel flag when dropped (a dropped response future or stream means the client left,
/// or the request timed out), then releases the job's session lease if the worker has not
/// started the job.
#[derive(Debug)]
pub struct CancelOnDrop {
    /// The job's cancel flag.
    pub cancel: Arc<AtomicBool>,
    /// The job's lease.
    pub lease: LeaseSlot,
}

impl CancelOnDrop {
    /// Stops the job now (what dropping does): sets the flag, and releases the lease if the
    /// worker has not started the job.
    pub fn cancel(&self) {
        // The flag first: a worker that takes the slot's lock after us sees it and skips the job.
        self.cancel.store(true, Ordering::SeqCst);
        if let Ok(mut slot) = self.lease.lock() {
            slot.take();
        }
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// One chat turn to answer.
#[derive(Debug)]
pub struct Job {
    /// The catalog the turn is for (its name) and its assets.
    pub catalog: (String, Assets),
    /// The session the turn is stored in.
    pub session_id: String,
    /// The session's state before the turn.
    pub state: DialogueState,
    /// The messages a stateless request sent before `text` (`user` and `assistant`, in order),
    /// stored with the turn; empty for a stored session.
    pub earlier: Vec<StoredMessage>,
    /// The seeker's message.
    pub text: String,
    /// The client's per-turn settings (sampling, `max_tokens`, `stop`).
    pub options: TurnOptions,
    /// Set to stop the turn (client gone, timeout).
    pub cancel: Arc<AtomicBool>,
    /// When the turn must be done; a job still queued at its deadline is answered with a timeout.
    pub deadline: Instant,
    /// The per-request timeout behind `deadline`, in seconds (for the 504 message).
    pub timeout_s: u64,
    /// Where events go.
    pub events: UnboundedSender<JobEvent>,
    /// The session's lease: taken by the worker when it starts the job and held until the job
    /// ends; released by the request instead if it ends before the job starts ([`LeaseSlot`]).
    pub lease: LeaseSlot,
}

/// Handle to the worker: a bounded queue and its counters.
#[derive(Debug, Clone)]
pub struct Worker {
    tx: SyncSender<Job>,
    depth: Arc<AtomicUsize>,
    alive: Arc<AtomicBool>,
    running: Arc<AtomicBool>,
    /// A job is in hand: from its dequeue to the end of its after-reply caching.
    busy: Arc<AtomicBool>,
    /// Set by [`Worker::shut_down`]: queued jobs are refused and nothing more is cached.
    stopping: Arc<AtomicBool>,
    /// Moving average of a turn's duration in milliseconds (for `Retry-After`).
    turn_ms: Arc<AtomicU64>,
    capacity: usize,
}

impl Worker {
    /// Starts the worker thread owning `engine` (the engine of catalog `catalog`, holding the
    /// model), with a queue of `capacity` waiting jobs (at least 1). A job for another catalog
    /// gets an engine of its own over `prompts` (as written; each engine puts them in its
    /// catalog's words) and the engine's settings, and the model moves to it. Answered turns
    /// are stored in `store`, with their catalog.
    ///
    /// Errors: [`ApiError::Internal`] if the thread cannot be spawned.
    pub fn start(
        engine: (String, Engine),
        prompts: RecommendPrompts,
        store: Arc<SessionStore>,
        capacity: usize,
    ) -> Result<Self, ApiError> {
        let capacity = capacity.max(1);
        let (tx, rx) = sync_channel::<Job>(capacity);
        let depth = Arc::new(AtomicUsize::new(0));
        let alive = Arc::new(AtomicBool::new(true));
        let running = Arc::new(AtomicBool::new(false));
        let turn_ms = Arc::new(AtomicU64::new(1000));
        let busy = Arc::new(AtomicBool::new(false));
        let stopping = Arc::new(AtomicBool::new(false));
        let (d, a, r, t) = (Arc::clone(&depth), Arc::clone(&alive), Arc::clone(&running), Arc::clone(&turn_ms));
        let flags = Flags { busy: Arc::clone(&busy), stopping: Arc::clone(&stopping) };
        std::thread::Builder::new()
            .name("curator-generation".into())
            .spawn(move || {
                let engines = Engines { current: engine.0.clone(), engines: vec![engine], prompts };
                run(engines, rx, &store, &d, &r, &t, &flags);
                a.store(false, Ordering::Relaxed);
            })
            .map_err(|e| ApiError::Internal(format!("cannot start the generation worker: {e}")))?;
        Ok(Worker { tx, depth, alive, running, busy, stopping, turn_ms, capacity })
    }

    /// Queues `job`, or refuses it at once: [`ApiError::QueueFull`] when `capacity` jobs are
    /// waiting, [`ApiError::Unavailable`] when the worker has stopped.
    pub fn submit(&self, job: Job) -> Result<(), ApiError> {
        if !self.alive() {
            return Err(ApiError::Unavailable("the worker has stopped".into()));
        }
        self.depth.fetch_add(1, Ordering::SeqCst);
        match self.tx.try_send(job) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.depth.fetch_sub(1, Ordering::SeqCst);
                match e {
                    TrySendError::Full(_) => {
                        Err(ApiError::QueueFull { capacity: self.capacity, retry_after_s: self.retry_after_s() })
                    }
                    TrySendError::Disconnected(_) => Err(ApiError::Unavailable("the worker has stopped".into())),
                }
            }
        }
    }

    /// Seconds until the queue has likely drained one place: the waiting jobs plus the running
    /// one times the moving average turn duration, between 1 and 60.
    pub fn retry_after_s(&self) -> u64 {
        let waiting = u64::try_from(self.depth()).unwrap_or(u64::MAX).saturating_add(1);
        let ms = waiting.saturating_mul(self.turn_ms.load(Ordering::Relaxed));
        ms.div_ceil(1000).clamp(1, 60)
    }

    /// Jobs waiting (not counting the one running).
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::SeqCst)
    }

    /// The queue's capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether the worker thread is running.
    pub fn alive(&self) -> bool {
        self.alive.load(Ordering::Relaxed)
    }

    /// Whether a turn is being answered right now.
    pub fn running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// Stops the worker for the process's exit: jobs still queued are refused (503), nothing
    /// more is cached, and this waits (at most `wait`) until the job in hand, if any, is done, so
    /// that the process does not end while the model is inside llama.cpp (which crashed
    /// `curator serve` on SIGTERM right after a turn). Returns whether the worker became idle.
    pub fn shut_down(&self, wait: std::time::Duration) -> bool {
        self.stopping.store(true, Ordering::SeqCst);
        let until = Instant::now() + wait;
        while self.busy.load(Ordering::SeqCst) {
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        true
    }
}

/// The worker thread's side of [`Worker::shut_down`].
struct Flags {
    busy: Arc<AtomicBool>,
    stopping: Arc<AtomicBool>,
}

/// Marks the worker busy while alive.
struct Busy<'a>(&'a AtomicBool);

impl<'a> Busy<'a> {
    fn new(flag: &'a AtomicBool) -> Self {
        flag.store(true, Ordering::SeqCst);
        Busy(flag)
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// The worker's engines, one per catalog that had a turn; the model is in `current`'s.
struct Engines {
    engines: Vec<(String, Engine)>,
    current: String,
    prompts: RecommendPrompts,
}

impl Engines {
    /// The engine of catalog `name` (created over `assets` on its first turn), holding the
    /// model.
    fn get(&mut self, name: &str, assets: &Assets) -> &mut Engine {
        let i = match self.engines.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                let config = self.engines.first().map(|(_, e)| e.config().clone()).unwrap_or_default();
                let engine = Engine::new(assets.clone(), self.prompts.clone(), None, config);
                self.engines.push((name.to_string(), engine));
                self.engines.len() - 1
            }
        };
        if self.current != name {
            let current = &self.current;
            let model = self.engines.iter_mut().find(|(n, _)| n == current).and_then(|(_, e)| e.take_model());
            self.engines[i].1.set_model(model);
            self.current = name.to_string();
        }
        &mut self.engines[i].1
    }
}

fn run(
    mut engines: Engines,
    rx: Receiver<Job>,
    store: &SessionStore,
    depth: &AtomicUsize,
    running: &AtomicBool,
    turn_ms: &AtomicU64,
    flags: &Flags,
) {
    let mut caches = SessionCaches::default();
    while let Ok(job) = rx.recv() {
        let _busy = Busy::new(&flags.busy);
        depth.fetch_sub(1, Ordering::SeqCst);
        if flags.stopping.load(Ordering::SeqCst) {
            job.cancel.store(true, Ordering::Relaxed);
            let _ = job.events.send(JobEvent::Finished(Err(ApiError::Unavailable("the server is stopping".into()))));
            continue;
        }
        // The session is free again before the client hears the turn ended. Under the slot's
        // lock: a request that gave up set the flag before releasing the lease (CancelOnDrop).
        let lease = match job.lease.lock() {
            Ok(mut slot) if !job.cancel.load(Ordering::SeqCst) => slot.take(),
            _ => None,
        };
        if lease.is_none() || job.cancel.load(Ordering::Relaxed) || job.events.is_closed() {
            drop(lease);
            let _ = job.events.send(JobEvent::Finished(Err(ApiError::Internal("cancelled".into()))));
            continue;
        }
        if Instant::now() >= job.deadline {
            job.cancel.store(true, Ordering::Relaxed);
            drop(lease);
            let _ = job.events.send(JobEvent::Finished(Err(ApiError::Timeout(job.timeout_s))));
            continue;
        }
        running.store(true, Ordering::SeqCst);
        let t0 = Instant::now();
        let mut conversation = Conversation::with_state(job.state.clone());
        conversation.cache = caches.take(&job.session_id);
        let engine = engines.get(&job.catalog.0, &job.catalog.1);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            answer(&mut *engine, &mut conversation, &job, store)
        }));
        running.store(false, Ordering::SeqCst);
        if matches!(result, Ok(Ok(_))) {
            // Moving average with weight 1/4 for the newest turn.
            let ms = u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX);
            let avg = turn_ms.load(Ordering::Relaxed);
            turn_ms.store(avg.saturating_mul(3).saturating_add(ms) / 4, Ordering::Relaxed);
        }
        let result = result.unwrap_or_else(|_| {
            tracing::error!("the agent panicked answering a turn; the turn is dropped");
            Err(ApiError::Internal("the agent failed on this input".into()))
        });
        drop(lease);
        let answered = result.is_ok();
        let _ = job.events.send(JobEvent::Finished(result));
        // While the client reads the reply: the dialogue as the next turn's prompt will begin
        // (the reply as shown) goes into the model's cache, which is saved for the session.
        if flags.stopping.load(Ordering::SeqCst) {
            continue;
        }
        let kept = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if answered {
                if let Err(e) = engine.prefill(&mut conversation) {
                    tracing::debug!("cannot prefill the dialogue for its next turn: {e}");
                }
            }
            if let Some(snapshot) = engine.save_cache(&conversation) {
                caches.put(&job.session_id, snapshot);
            }
        }));
        if kept.is_err() {
            tracing::error!("the model panicked caching a dialogue; its cache is dropped");
        }
    }
}

fn answer(
    engine: &mut Engine,
    conversation: &mut Conversation,
    job: &Job,
    store: &SessionStore,
) -> Result<Vec<Recommendation>, ApiError> {
    let mut reply = String::new();
    let result = engine.respond_with(conversation, &job.text, &job.options, &job.cancel, &mut |ev| {
        if let AgentEvent::Text { text } = &ev {
            reply.push_str(text);
        }
        let _ = job.events.send(JobEvent::Agent(ev));
    });
    let state = &conversation.state;
    let recs = match result {
        Ok(recs) => recs,
        Err(crate::Error::Cancelled) => return Err(ApiError::Internal("cancelled".into())),
        Err(e) => return Err(e.into()),
    };
    let recs_json = serde_json::to_string(&recs).unwrap_or_else(|_| "[]".into());
    let turn = Turn { earlier: &job.earlier, user: &job.text, reply: &reply, recommendations: &recs_json };
    store.save_turn_in(Some(&job.catalog.0), &job.session_id, state, &turn)?;
    Ok(recs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(bytes: usize) -> CacheSnapshot {
        CacheSnapshot { tokens: vec![1, 2, 3], bytes, state: Box::new(()) }
    }

    #[test]
    fn session_caches_evict_least_recently_used_within_the_budget() {
        let mut c = SessionCaches::default();
        c.put("a", snap(KV_CACHE_BYTES / 2));
        c.put("b", snap(KV_CACHE_BYTES / 2));
        assert!(c.take("a").is_some(), "both fit");
        c.put("a", snap(KV_CACHE_BYTES / 2));
        c.put("c", snap(KV_CACHE_BYTES / 2));
        assert!(c.take("b").is_none(), "b was the least recently used");
        assert!(c.take("a").is_some() && c.take("c").is_some());
        assert!(c.take("a").is_none(), "taken once");
        c.put("huge", snap(KV_CACHE_BYTES + 1));
        assert!(c.take("huge").is_none());
    }
}
