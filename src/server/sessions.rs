//! Sessions in SQLite: each conversation's dialogue state (JSON), its answered turns and the
//! seeker's feedback.
//!
//! The database runs in WAL mode with `synchronous=FULL`: a turn is committed before its
//! response is sent, so a server killed at any moment (even `kill -9`) still has every turn it
//! answered. One connection behind a mutex serves the whole process (the writer is the single
//! generation worker; handlers only read and record feedback).

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::error::ApiError;
use super::wire::{SessionRecommendation, StoredMessage};
use crate::catalog::ItemId;
use crate::dialogue::{DialogueState, Rating, Tracker};

/// Longest session id accepted, in bytes.
pub const MAX_SESSION_ID_LEN: usize = 64;

/// Checks a client-supplied session id: 1–64 characters of `A-Z a-z 0-9 _ -`.
///
/// Errors: [`ApiError::InvalidRequest`] (`invalid_session_id`) naming the rule.
pub fn validate_session_id(id: &str) -> Result<(), ApiError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_SESSION_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "invalid_session_id",
            Some("session_id"),
            format!(
                "invalid session id {:?}: use 1-{MAX_SESSION_ID_LEN} characters of A-Z, a-z, 0-9, '_' and '-'",
                id.chars().take(80).collect::<String>()
            ),
        ))
    }
}

/// How long a session lives and how many are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session with no turn and no feedback for longer than this expires: its data is deleted
    /// and its id answers 404 `session_expired` (default 7 days).
    pub idle: Duration,
    /// Most sessions kept; storing a new one beyond it deletes the least recently active, whose
    /// id then answers 404 `session_evicted` (default 10,000).
    pub max_sessions: usize,
}

impl SessionLimits {
    /// No expiry and no maximum: for tools that read or erase a database without ending any
    /// session (`curator sessions`).
    pub const UNBOUNDED: SessionLimits = SessionLimits { idle: Duration::MAX, max_sessions: usize::MAX };
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits { idle: Duration::from_secs(7 * 24 * 3600), max_sessions: 10_000 }
    }
}

/// The schema version this build writes (`PRAGMA user_version`).
///
/// - 1: the first schema (`sessions`, `messages`, `feedback`; times in seconds); its files say
///   `user_version = 0`.
/// - 2: times in milliseconds, the `ended` table (ids of expired and evicted sessions, so their
///   404 says why), indexes for expiry and erasure, deletes cascade (`foreign_keys = ON`).
/// - 3: `sessions.catalog`, the catalog a session's item ids belong to (`NULL` for sessions
///   stored before: the server's default catalog).
pub const SCHEMA_VERSION: i32 = 3;

const SCHEMA_V1: &str = "CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        state TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS messages (
        session_id TEXT NOT NULL REFERENCES sessions(id),
        seq INTEGER NOT NULL,
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        recommendations TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, seq)
    );
    CREATE TABLE IF NOT EXISTS feedback (
        session_id TEXT NOT NULL REFERENCES sessions(id),
        item_id INTEGER NOT NULL,
        rating TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );";

/// Version 1 → 2: the child tables are rebuilt with `ON DELETE CASCADE`, every time becomes
/// milliseconds, and the `ended` table and the indexes are created.
const MIGRATE_1_TO_2: &str = "CREATE TABLE messages_v2 (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        role TEXT NOT NULL,
        content TEXT NOT NULL,
        recommendations TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (session_id, seq)
    );
    INSERT INTO messages_v2 SELECT session_id, seq, role, content, recommendations, created_at * 1000 FROM messages;
    DROP TABLE messages;
    ALTER TABLE messages_v2 RENAME TO messages;
    CREATE TABLE feedback_v2 (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        item_id INTEGER NOT NULL,
        rating TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    INSERT INTO feedback_v2 SELECT session_id, item_id, rating, created_at * 1000 FROM feedback;
    DROP TABLE feedback;
    ALTER TABLE feedback_v2 RENAME TO feedback;
    UPDATE sessions SET created_at = created_at * 1000, updated_at = updated_at * 1000;
    CREATE INDEX sessions_by_activity ON sessions(updated_at);
    CREATE INDEX feedback_by_session ON feedback(session_id);
    CREATE TABLE ended (
        id TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        ended_at INTEGER NOT NULL
    );
    CREATE INDEX ended_by_time ON ended(ended_at);";

/// Version 2 → 3: the catalog of each session (`NULL`: the server's default catalog).
const MIGRATE_2_TO_3: &str = "ALTER TABLE sessions ADD COLUMN catalog TEXT;";

/// One stored message with its time, as [`SessionStore::export`] gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportedMessage {
    /// Position in the session, from 0.
    pub seq: i64,
    /// `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
    /// An assistant message's recommended items (id, title, reason, score), as sent.
    pub recommendations: Option<serde_json::Value>,
    /// When it was stored, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// One feedback row, as [`SessionStore::export`] gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedFeedback {
    /// The catalog item id.
    pub item_id: i64,
    /// `like`, `dislike` or `seen`.
    pub rating: String,
    /// When it was given, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// Everything stored about one session (`curator sessions export ID`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionExport {
    /// The session id.
    pub id: String,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    /// Its last turn or feedback, in milliseconds since the Unix epoch.
    pub updated_at_ms: i64,
    /// The dialogue state as stored (the tracker's JSON).
    pub state: serde_json::Value,
    /// Every message, in order.
    pub messages: Vec<ExportedMessage>,
    /// Every feedback, in order.
    pub feedback: Vec<ExportedFeedback>,
}

/// The rows [`SessionStore::delete`] erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Erased {
    /// Messages deleted.
    pub messages: usize,
    /// Feedback rows deleted.
    pub feedback: usize,
}

/// One answered turn as [`SessionStore::save_turn_in`] stores it.
#[derive(Debug, Clone, Copy)]
pub struct Turn<'a> {
    /// The messages a stateless request sent before `user` (`user` and `assistant`, in order);
    /// empty for a stored session.
    pub earlier: &'a [StoredMessage],
    /// The seeker's message.
    pub user: &'a str,
    /// The reply as shown.
    pub reply: &'a str,
    /// The reply's recommendations as JSON.
    pub recommendations: &'a str,
}

/// The SQLite session store.
#[derive(Debug)]
pub struct SessionStore {
    conn: Mutex<Connection>,
    limits: SessionLimits,
}

fn db_err(e: rusqlite::Error) -> ApiError {
    ApiError::Internal(format!("session database: {e}"))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Brings the database on `conn` to [`SCHEMA_VERSION`], each step in one transaction.
///
/// Errors: a file written by a newer Curator (its version is named), or a failed step.
fn migrate(conn: &mut Connection) -> rusqlite::Result<std::result::Result<(), String>> {
    let mut version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Ok(Err(format!(
            "its schema version is {version}, newer than this Curator's {SCHEMA_VERSION}: use a newer curator or another --db"
        )));
    }
    if version == 0 {
        // A new file, or one of schema 1 (which set no version): both get the first tables.
        conn.execute_batch(SCHEMA_V1)?;
        version = 1;
    }
    for (from, step) in [(1, MIGRATE_1_TO_2), (2, MIGRATE_2_TO_3)] {
        if version == from {
            let tx = conn.transaction()?;
            tx.execute_batch(step)?;
            tx.pragma_update(None, "user_version", from + 1)?;
            tx.commit()?;
            version = from + 1;
        }
    }
    Ok(Ok(()))
}

/// Deletes session `id` (its messages and feedback cascade) and, for `reason` `expired` or
/// `evicted`, remembers the id in `ended` so that its 404 can say why.
fn end_session(conn: &Connection, id: &str, reason: Option<&str>, now: i64) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM sessions WHERE id = ?1", params![id])?;
    if let Some(reason) = reason {
        conn.execute(
            "INSERT INTO ended (id, reason, ended_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET reason = excluded.reason, ended_at = excluded.ended_at",
            params![id, reason, now],
        )?;
    }
    Ok(())
}

/// The time to stamp an activity with, in ms: now, or 1 ms after the latest stamp when that is
/// not earlier, so that stamps order activities exactly (eviction picks the least recent even
/// within one millisecond).
fn activity_time(conn: &Connection) -> rusqlite::Result<i64> {
    let latest: i64 = conn.query_row("SELECT COALESCE(MAX(updated_at), 0) FROM sessions", [], |r| r.get(0))?;
    Ok(now_ms().max(latest.saturating_add(1)))
}

impl SessionStore {
    /// [`SessionStore::open_with`] with the default [`SessionLimits`].
    ///
    /// Errors: those of [`SessionStore::open_with`].
    pub fn open(path: &Path) -> Result<Self, ApiError> {
        Self::open_with(path, SessionLimits::default())
    }

    /// Opens (creating if needed) the database at `path` in WAL mode, migrates it to
    /// [`SCHEMA_VERSION`] and ends the sessions beyond `limits`.
    ///
    /// Errors: [`ApiError::Internal`] naming the file when it cannot be opened, is not a
    /// Curator session database, or was written by a newer schema.
    pub fn open_with(path: &Path, limits: SessionLimits) -> Result<Self, ApiError> {
        let named = |e: rusqlite::Error| ApiError::Internal(format!("session database {}: {e}", path.display()));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| ApiError::Internal(format!("cannot create {}: {e}", dir.display())))?;
        }
        let mut conn = Connection::open(path).map_err(named)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(named)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(named)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(named)?;
        // Erased data is overwritten with zeros, not left in free pages.
        conn.pragma_update(None, "secure_delete", "ON").map_err(named)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(named)?;
        migrate(&mut conn)
            .map_err(named)?
            .map_err(|m| ApiError::Internal(format!("session database {}: {m}", path.display())))?;
        let store = SessionStore { conn: Mutex::new(conn), limits };
        store.sweep(None)?;
        Ok(store)
    }

    /// The limits this store enforces.
    pub fn limits(&self) -> SessionLimits {
        self.limits
    }

    /// The schema version of the open database (`PRAGMA user_version`).
    ///
    /// Errors: [`ApiError::Internal`] on a database failure.
    pub fn schema_version(&self) -> Result<i32, ApiError> {
        self.lock()?.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(db_err)
    }

    fn idle_ms(&self) -> i64 {
        i64::try_from(self.limits.idle.as_millis()).unwrap_or(i64::MAX)
    }

    /// Ends every session idle longer than the limit and, beyond the maximum count, the least
    /// recently active ones (never `keep`); forgets ended ids older than one idle period or
    /// beyond the maximum count.
    fn sweep(&self, keep: Option<&str>) -> Result<(), ApiError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(db_err)?;
        Self::sweep_in(&tx, self.limits, self.idle_ms(), keep).map_err(db_err)?;
        tx.commit().map_err(db_err)
    }

    fn sweep_in(conn: &Connection, limits: SessionLimits, idle_ms: i64, keep: Option<&str>) -> rusqlite::Result<()> {
        let now = now_ms();
        let cutoff = now.saturating_sub(idle_ms);
        let ids = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> rusqlite::Result<Vec<String>> {
            let mut stmt = conn.prepare(sql)?;
            let rows = stmt.query_map(p, |r| r.get(0))?;
            rows.collect()
        };
        for id in ids("SELECT id FROM sessions WHERE updated_at < ?1", &[&cutoff])? {
            end_session(conn, &id, Some("expired"), now)?;
        }
        let count: i64 = conn.query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))?;
        let max = i64::try_from(limits.max_sessions).unwrap_or(i64::MAX);
        if count > max {
            let keep = keep.unwrap_or("");
            let extra = count - max;
            for id in
                ids("SELECT id FROM sessions WHERE id != ?1 ORDER BY updated_at, rowid LIMIT ?2", &[&keep, &extra])?
            {
                end_session(conn, &id, Some("evicted"), now)?;
            }
        }
        conn.execute("DELETE FROM ended WHERE ended_at < ?1", params![cutoff])?;
        conn.execute(
            "DELETE FROM ended WHERE id IN (SELECT id FROM ended ORDER BY ended_at DESC, rowid DESC LIMIT -1 OFFSET ?1)",
            params![max],
        )?;
        Ok(())
    }

    /// The stored state (JSON) of a live session `id`; `None` if no such session ever was (or
    /// its end was forgotten). A session idle past the limit is ended here.
    ///
    /// Errors: [`ApiError::SessionEnded`] for an expired or evicted session.
    fn live_state(&self, conn: &Connection, id: &str) -> Result<Option<String>, ApiError> {
        let row: Option<(String, i64)> = conn
            .query_row("SELECT state, updated_at FROM sessions WHERE id = ?1", params![id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(db_err)?;
        let now = now_ms();
        if let Some((state, updated)) = row {
            if updated >= now.saturating_sub(self.idle_ms()) {
                return Ok(Some(state));
            }
            end_session(conn, id, Some("expired"), now).map_err(db_err)?;
        }
        let ended: Option<(String, i64)> = conn
            .query_row("SELECT reason, ended_at FROM ended WHERE id = ?1", params![id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(db_err)?;
        match ended {
            None => Ok(None),
            Some((reason, at)) => Err(self.ended_error(id, &reason, now.saturating_sub(at) / 1000)),
        }
    }

    fn ended_error(&self, id: &str, reason: &str, ago_s: i64) -> ApiError {
        let id = id.chars().take(80).collect::<String>();
        if reason == "evicted" {
            ApiError::SessionEnded {
                code: "session_evicted",
                message: format!(
                    "session {id:?} was evicted {ago_s} s ago: the server keeps at most {} sessions and removes the least recently active; start a new session",
                    self.limits.max_sessions
                ),
            }
        } else {
            ApiError::SessionEnded {
                code: "session_expired",
                message: format!(
                    "session {id:?} expired {ago_s} s ago after more than {} s without a turn or feedback; start a new session",
                    self.limits.idle.as_secs()
                ),
            }
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>, ApiError> {
        self.conn.lock().map_err(|_| ApiError::Internal("session database lock poisoned".into()))
    }

    /// The stored dialogue state of session `id`, or `None` if there is no such session.
    ///
    /// Errors: [`ApiError::SessionEnded`] when the session expired or was evicted (an idle one
    /// is ended by this call); [`ApiError::Internal`] on a database failure or an unreadable
    /// stored state.
    pub fn load(&self, id: &str) -> Result<Option<DialogueState>, ApiError> {
        let conn = self.lock()?;
        match self.live_state(&conn, id)? {
            None => Ok(None),
            Some(j) => serde_json::from_str(&j)
                .map(Some)
                .map_err(|e| ApiError::Internal(format!("stored state of session {id:?} is unreadable: {e}"))),
        }
    }

    /// The catalog session `id` belongs to: `None` when there is no such live session,
    /// `Some(None)` for a session stored without one (before schema 3: the server's default
    /// catalog), else `Some(Some(name))`.
    ///
    /// Errors: [`ApiError::SessionEnded`] when the session expired or was evicted;
    /// [`ApiError::Internal`] on a database failure.
    pub fn catalog_of(&self, id: &str) -> Result<Option<Option<String>>, ApiError> {
        let conn = self.lock()?;
        if self.live_state(&conn, id)?.is_none() {
            return Ok(None);
        }
        conn.query_row("SELECT catalog FROM sessions WHERE id = ?1", params![id], |r| r.get::<_, Option<String>>(0))
            .optional()
            .map_err(db_err)
    }

    /// [`SessionStore::save_turn`] for a session of catalog `catalog` (recorded when the session
    /// is created; `None` leaves it unset: the server's default catalog).
    ///
    /// Errors: those of [`SessionStore::save_turn`].
    pub fn save_turn_in(
        &self,
        catalog: Option<&str>,
        id: &str,
        state: &DialogueState,
        turn: &Turn<'_>,
    ) -> Result<(), ApiError> {
        let state_json =
            serde_json::to_string(state).map_err(|e| ApiError::Internal(format!("cannot encode the state: {e}")))?;
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(db_err)?;
        let now = activity_time(&tx).map_err(db_err)?;
        tx.execute("DELETE FROM ended WHERE id = ?1", params![id]).map_err(db_err)?;
        tx.execute(
            "INSERT INTO sessions (id, created_at, updated_at, state, catalog) VALUES (?1, ?2, ?2, ?3, ?4)
             ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, state = excluded.state",
            params![id, now, state_json, catalog],
        )
        .map_err(db_err)?;
        let mut seq: i64 = tx
            .query_row("SELECT COALESCE(MAX(seq), -1) + 1 FROM messages WHERE session_id = ?1", params![id], |r| {
                r.get(0)
            })
            .map_err(db_err)?;
        for m in turn.earlier {
            tx.execute(
                "INSERT INTO messages (session_id, seq, role, content, recommendations, created_at)
                 VALUES (?1, ?2, ?3, ?4, NULL, ?5)",
                params![id, seq, m.role, m.content, now],
            )
            .map_err(db_err)?;
            seq += 1;
        }
        tx.execute(
            "INSERT INTO messages (session_id, seq, role, content, recommendations, created_at)
             VALUES (?1, ?2, 'user', ?3, NULL, ?4)",
            params![id, seq, turn.user, now],
        )
        .map_err(db_err)?;
        tx.execute(
            "INSERT INTO messages (session_id, seq, role, content, recommendations, created_at)
             VALUES (?1, ?2, 'assistant', ?3, ?4, ?5)",
            params![id, seq + 1, turn.reply, turn.recommendations, now],
        )
        .map_err(db_err)?;
        Self::sweep_in(&tx, self.limits, self.idle_ms(), Some(id)).map_err(db_err)?;
        tx.commit().map_err(db_err)
    }

    /// Stores one answered turn in one transaction: the new `state`, the messages that came
    /// before it in the request (`earlier`: a stateless request's dialogue, in order; empty for a
    /// stored session, which holds them already), the user's message and the reply (with its
    /// recommendations as JSON). Creates the session if needed, and then ends the sessions
    /// beyond the store's [`SessionLimits`] (never this one).
    ///
    /// Errors: [`ApiError::Internal`] on a database failure (nothing is stored then).
    pub fn save_turn(
        &self,
        id: &str,
        state: &DialogueState,
        earlier: &[StoredMessage],
        user: &str,
        reply: &str,
        recommendations: &str,
    ) -> Result<(), ApiError> {
        self.save_turn_in(None, id, state, &Turn { earlier, user, reply, recommendations })
    }

    /// Records the seeker's like or dislike of `item` in session `id`: the feedback row and the
    /// updated state, in one transaction. The state is read and written under the store's lock,
    /// so no concurrent write is lost.
    ///
    /// The state changes through `tracker` ([`Tracker::feedback`]).
    ///
    /// Errors: [`ApiError::NotFound`] when the session does not exist, [`ApiError::SessionEnded`]
    /// when it expired or was evicted; an item not in the
    /// catalog ([`ApiError`] from [`crate::Error::InvalidInput`]); [`ApiError::Internal`] on a
    /// database failure.
    pub fn record_feedback(&self, id: &str, item: ItemId, rating: Rating, tracker: &Tracker) -> Result<(), ApiError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(db_err)?;
        let Some(json) = self.live_state(&tx, id)? else {
            return Err(ApiError::NotFound(format!("session {id:?} does not exist")));
        };
        let mut state: DialogueState = serde_json::from_str(&json)
            .map_err(|e| ApiError::Internal(format!("stored state of session {id:?} is unreadable: {e}")))?;
        tracker.rate(&mut state, item, rating)?;
        let state_json =
            serde_json::to_string(&state).map_err(|e| ApiError::Internal(format!("cannot encode the state: {e}")))?;
        let rating = match rating {
            Rating::Like => "like",
            Rating::Dislike => "dislike",
            Rating::Seen => "seen",
        };
        let now = activity_time(&tx).map_err(db_err)?;
        tx.execute("UPDATE sessions SET state = ?2, updated_at = ?3 WHERE id = ?1", params![id, state_json, now])
            .map_err(db_err)?;
        tx.execute(
            "INSERT INTO feedback (session_id, item_id, rating, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, item, rating, now],
        )
        .map_err(db_err)?;
        tx.commit().map_err(db_err)
    }

    /// The answered messages of session `id`, oldest first, or `None` if there is no such session.
    ///
    /// Errors: [`ApiError::SessionEnded`] when the session expired or was evicted;
    /// [`ApiError::Internal`] on a database failure.
    pub fn messages(&self, id: &str) -> Result<Option<Vec<StoredMessage>>, ApiError> {
        let conn = self.lock()?;
        if self.live_state(&conn, id)?.is_none() {
            return Ok(None);
        }
        let mut stmt =
            conn.prepare("SELECT role, content FROM messages WHERE session_id = ?1 ORDER BY seq").map_err(db_err)?;
        let rows = stmt
            .query_map(params![id], |r| Ok(StoredMessage { role: r.get(0)?, content: r.get(1)? }))
            .map_err(db_err)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r.map_err(db_err)?);
        }
        Ok(Some(out))
    }

    /// The items of session `id`'s latest reply as it stored them (id, title and reason; year
    /// and genres are left for the caller to fill from the catalog); empty when the session has
    /// no reply or does not exist.
    ///
    /// Errors: [`ApiError::Internal`] on a database failure or unreadable stored items.
    pub fn latest_recommendations(&self, id: &str) -> Result<Vec<SessionRecommendation>, ApiError> {
        let conn = self.lock()?;
        let json: Option<Option<String>> = conn
            .query_row(
                "SELECT recommendations FROM messages WHERE session_id = ?1 AND role = 'assistant'
                 ORDER BY seq DESC LIMIT 1",
                params![id],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        match json.flatten() {
            None => Ok(Vec::new()),
            Some(j) => serde_json::from_str(&j).map_err(|e| {
                ApiError::Internal(format!("stored recommendations of session {id:?} are unreadable: {e}"))
            }),
        }
    }

    /// Everything stored about session `id` (state, messages with their recommendations,
    /// feedback, times), or `None` if there is no such session. Ended sessions have no data
    /// left and give `None` too.
    ///
    /// Errors: [`ApiError::Internal`] on a database failure or unreadable stored JSON.
    pub fn export(&self, id: &str) -> Result<Option<SessionExport>, ApiError> {
        let conn = self.lock()?;
        let row: Option<(i64, i64, String)> = conn
            .query_row("SELECT created_at, updated_at, state FROM sessions WHERE id = ?1", params![id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
            .map_err(db_err)?;
        let Some((created_at_ms, updated_at_ms, state)) = row else {
            return Ok(None);
        };
        let unreadable = |what: &str, e: serde_json::Error| {
            ApiError::Internal(format!("stored {what} of session {id:?} is unreadable: {e}"))
        };
        let state = serde_json::from_str(&state).map_err(|e| unreadable("state", e))?;
        let mut stmt = conn
            .prepare(
                "SELECT seq, role, content, recommendations, created_at FROM messages WHERE session_id = ?1
                 ORDER BY seq",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, Option<String>>(3)?, r.get(4)?))
            })
            .map_err(db_err)?;
        let mut messages = Vec::new();
        for row in rows {
            let (seq, role, content, recs, created_at_ms) = row.map_err(db_err)?;
            let recommendations = match recs {
                None => None,
                Some(j) => Some(serde_json::from_str(&j).map_err(|e| unreadable("recommendations", e))?),
            };
            messages.push(ExportedMessage { seq, role, content, recommendations, created_at_ms });
        }
        let mut stmt = conn
            .prepare("SELECT item_id, rating, created_at FROM feedback WHERE session_id = ?1 ORDER BY rowid")
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![id], |r| {
                Ok(ExportedFeedback { item_id: r.get(0)?, rating: r.get(1)?, created_at_ms: r.get(2)? })
            })
            .map_err(db_err)?;
        let feedback = rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)?;
        Ok(Some(SessionExport { id: id.to_string(), created_at_ms, updated_at_ms, state, messages, feedback }))
    }

    /// Erases session `id`: its state, messages and feedback are deleted in one transaction
    /// (overwritten with zeros: `secure_delete`), and the write-ahead log is checkpointed so
    /// that no copy is left in it. `None` if there is no such session.
    ///
    /// Errors: [`ApiError::Internal`] on a database failure (nothing is deleted then).
    pub fn delete(&self, id: &str) -> Result<Option<Erased>, ApiError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(db_err)?;
        let count = |table: &str| -> rusqlite::Result<usize> {
            tx.query_row(&format!("SELECT COUNT(*) FROM {table} WHERE session_id = ?1"), params![id], |r| r.get(0))
        };
        let erased =
            Erased { messages: count("messages").map_err(db_err)?, feedback: count("feedback").map_err(db_err)? };
        let removed = tx.execute("DELETE FROM sessions WHERE id = ?1", params![id]).map_err(db_err)?;
        tx.execute("DELETE FROM ended WHERE id = ?1", params![id]).map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        if removed == 0 {
            return Ok(None);
        }
        // A server reading the file at the same time can hold back part of the checkpoint; the
        // deleted rows are still zeroed in the main file when the log is next checkpointed.
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).map_err(db_err)?;
        Ok(Some(erased))
    }
}
