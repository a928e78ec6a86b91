//! Sessions in SQLite: each conversation's dialogue state (JSON), its answered turns and the
//! seeker's feedback.
//!
//! The database runs in WAL mode with `synchronous=FULL`: a turn is committed before its
//! response is sent, so a server killed at any moment (even `kill -9`) still has every turn it
//! answered. One connection behind a mutex serves the whole process (the writer is the single
//! generation worker; handlers only read and record feedback).

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

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

/// The SQLite session store.
#[derive(Debug)]
pub struct SessionStore {
    conn: Mutex<Connection>,
}

fn db_err(e: rusqlite::Error) -> ApiError {
    ApiError::Internal(format!("session database: {e}"))
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl SessionStore {
    /// Opens (creating if needed) the database at `path` in WAL mode and creates the tables.
    ///
    /// Errors: [`ApiError::Internal`] naming the file when it cannot be opened or is not a
    /// Curator session database.
    pub fn open(path: &Path) -> Result<Self, ApiError> {
        let named = |e: rusqlite::Error| ApiError::Internal(format!("session database {}: {e}", path.display()));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| ApiError::Internal(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path).map_err(named)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(named)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(named)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(named)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS sessions (
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
            );",
        )
        .map_err(named)?;
        Ok(SessionStore { conn: Mutex::new(conn) })
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Connection>, ApiError> {
        self.conn.lock().map_err(|_| ApiError::Internal("session database lock poisoned".into()))
    }

    /// The stored dialogue state of session `id`, or `None` if there is no such session.
    ///
    /// Errors: [`ApiError::Internal`] on a database failure or an unreadable stored state.
    pub fn load(&self, id: &str) -> Result<Option<DialogueState>, ApiError> {
        let conn = self.lock()?;
        let json: Option<String> = conn
            .query_row("SELECT state FROM sessions WHERE id = ?1", params![id], |r| r.get(0))
            .optional()
            .map_err(db_err)?;
        match json {
            None => Ok(None),
            Some(j) => serde_json::from_str(&j)
                .map(Some)
                .map_err(|e| ApiError::Internal(format!("stored state of session {id:?} is unreadable: {e}"))),
        }
    }

    /// Stores one answered turn in one transaction: the new `state`, the messages that came
    /// before it in the request (`earlier`: a stateless request's dialogue, in order; empty for a
    /// stored session, which holds them already), the user's message and the reply (with its
    /// recommendations as JSON). Creates the session if needed.
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
        let state_json =
            serde_json::to_string(state).map_err(|e| ApiError::Internal(format!("cannot encode the state: {e}")))?;
        let now = now_s();
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(db_err)?;
        tx.execute(
            "INSERT INTO sessions (id, created_at, updated_at, state) VALUES (?1, ?2, ?2, ?3)
             ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, state = excluded.state",
            params![id, now, state_json],
        )
        .map_err(db_err)?;
        let mut seq: i64 = tx
            .query_row("SELECT COALESCE(MAX(seq), -1) + 1 FROM messages WHERE session_id = ?1", params![id], |r| {
                r.get(0)
            })
            .map_err(db_err)?;
        for m in earlier {
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
            params![id, seq, user, now],
        )
        .map_err(db_err)?;
        tx.execute(
            "INSERT INTO messages (session_id, seq, role, content, recommendations, created_at)
             VALUES (?1, ?2, 'assistant', ?3, ?4, ?5)",
            params![id, seq + 1, reply, recommendations, now],
        )
        .map_err(db_err)?;
        tx.commit().map_err(db_err)
    }

    /// Records the seeker's like or dislike of `item` in session `id`: the feedback row and the
    /// updated state, in one transaction. The state is read and written under the store's lock,
    /// so no concurrent write is lost.
    ///
    /// The state changes through `tracker` ([`Tracker::feedback`]).
    ///
    /// Errors: [`ApiError::NotFound`] when the session does not exist; an item not in the
    /// catalog ([`ApiError`] from [`crate::Error::InvalidInput`]); [`ApiError::Internal`] on a
    /// database failure.
    pub fn record_feedback(&self, id: &str, item: ItemId, rating: Rating, tracker: &Tracker) -> Result<(), ApiError> {
        let mut conn = self.lock()?;
        let tx = conn.transaction().map_err(db_err)?;
        let json: Option<String> = tx
            .query_row("SELECT state FROM sessions WHERE id = ?1", params![id], |r| r.get(0))
            .optional()
            .map_err(db_err)?;
        let Some(json) = json else {
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
        let now = now_s();
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
    /// Errors: [`ApiError::Internal`] on a database failure.
    pub fn messages(&self, id: &str) -> Result<Option<Vec<StoredMessage>>, ApiError> {
        let conn = self.lock()?;
        let exists: Option<i64> = conn
            .query_row("SELECT 1 FROM sessions WHERE id = ?1", params![id], |r| r.get(0))
            .optional()
            .map_err(db_err)?;
        if exists.is_none() {
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
}
