//! Sessions that last and are bounded: the schema migrates from the previous version's file,
//! sessions expire after the idle time and the least recently active are evicted beyond the
//! maximum (their 404s say which and why), and `curator sessions export|delete` give a person's
//! data back and erase it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};
use std::time::Duration;

use curator::dialogue::state::Polarity;
use curator::dialogue::{DialogueState, Rating};
use curator::server::sessions::{SessionLimits, SessionStore, SCHEMA_VERSION};
use curator::server::ApiError;
use rusqlite::{params, Connection};
use serde_json::{json, Value};

mod common;

use common::{get_json, post_json, Server};

/// A session database written by the previous release (schema 1: no `user_version`, times in
/// seconds): `curator serve --no-model` at commit b85f7b4 answered one stateless request
/// (`I loved Heat` / `Did you like Ronin?` / `Yes! Something like Collateral please`) and one
/// feedback (like 176314, Heat (1995)); then its log was checkpointed into the file.
const SCHEMA_1_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sessions_v1.sqlite");
const SCHEMA_1_SESSION: &str = "dbe96ec14b4cf2b539fbbc30c7771d06";
/// When that session was written, in seconds since the Unix epoch.
const SCHEMA_1_AT_S: i64 = 1_796_571_604;

fn limits(idle_s: u64, max: usize) -> SessionLimits {
    SessionLimits { idle: Duration::from_secs(idle_s), max_sessions: max }
}

fn save(store: &SessionStore, id: &str, text: &str) {
    store.save_turn(id, &DialogueState::new(), &[], text, "a reply", "[]").unwrap();
}

fn ended_code(e: ApiError) -> (&'static str, String) {
    match e {
        ApiError::SessionEnded { code, message } => (code, message),
        other => panic!("expected SessionEnded, got {other:?}"),
    }
}

#[test]
fn a_schema_1_database_migrates_to_the_current_schema_keeping_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v1.sqlite");
    std::fs::copy(SCHEMA_1_FILE, &db).unwrap();
    let conn = Connection::open(&db).unwrap();
    assert_eq!(conn.pragma_query_value(None, "user_version", |r| r.get::<_, i32>(0)).unwrap(), 0);
    drop(conn);
    let forever = limits(100 * 365 * 24 * 3600, 100);
    let id = SCHEMA_1_SESSION;

    let store = SessionStore::open_with(&db, forever).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 3);
    let state = store.load(id).unwrap().expect("the old state is still readable");
    assert!(state.items_with(Polarity::Liked).contains(&176314), "the feedback's like is in the state");
    let messages = store.messages(id).unwrap().unwrap();
    assert_eq!(
        messages.iter().map(|m| m.role.as_str()).collect::<Vec<_>>(),
        ["user", "assistant", "user", "assistant"]
    );
    assert_eq!(messages[2].content, "Yes! Something like Collateral please");
    assert_eq!(store.latest_recommendations(id).unwrap().len(), 3);
    let export = store.export(id).unwrap().unwrap();
    let at = SCHEMA_1_AT_S * 1000;
    assert_eq!((export.created_at_ms, export.updated_at_ms), (at, at), "seconds became ms");
    assert!(export.messages.iter().all(|m| m.created_at_ms == at));
    assert_eq!(export.messages[3].recommendations.as_ref().unwrap().as_array().unwrap().len(), 3);
    assert_eq!(export.feedback.len(), 1);
    assert_eq!((export.feedback[0].item_id, export.feedback[0].rating.as_str()), (176314, "like"));
    assert_eq!(export.feedback[0].created_at_ms, at);
    // The migrated file works as a new one: a turn appends, and erasing cascades to every table.
    save(&store, id, "more please");
    assert_eq!(store.messages(id).unwrap().unwrap().len(), 6);
    drop(store);

    // Opening again changes nothing.
    let store = SessionStore::open_with(&db, forever).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.messages(id).unwrap().unwrap().len(), 6);
    let erased = store.delete(id).unwrap().unwrap();
    assert_eq!((erased.messages, erased.feedback), (6, 1));
    drop(store);
    let conn = Connection::open(&db).unwrap();
    for table in ["sessions", "messages", "feedback"] {
        let n: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "{table} is empty after the erase");
    }
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn a_newer_or_foreign_file_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.sqlite");
    Connection::open(&newer).unwrap().pragma_update(None, "user_version", 7).unwrap();
    let e = SessionStore::open(&newer).unwrap_err().to_string();
    assert!(e.contains("newer.sqlite") && e.contains("schema version is 7"), "{e}");
    let junk = dir.path().join("junk.sqlite");
    std::fs::write(&junk, b"this is not a database, just some text that is long enough to be a header..").unwrap();
    let e = SessionStore::open(&junk).unwrap_err().to_string();
    assert!(e.contains("junk.sqlite"), "{e}");
}

#[test]
fn the_least_recently_active_session_is_evicted_beyond_the_maximum() {
    let dir = tempfile::tempdir().unwrap();
    let store = SessionStore::open_with(&dir.path().join("s.db"), limits(3600, 2)).unwrap();
    save(&store, "a", "one");
    save(&store, "b", "two");
    save(&store, "a", "a again"); // a is now the most recently active
    save(&store, "c", "three");
    assert!(store.load("a").unwrap().is_some());
    assert!(store.load("c").unwrap().is_some());
    let (code, message) = ended_code(store.load("b").unwrap_err());
    assert_eq!(code, "session_evicted");
    assert!(message.contains("\"b\"") && message.contains("at most 2 sessions"), "{message}");
    let (code, _) = ended_code(store.messages("b").unwrap_err());
    assert_eq!(code, "session_evicted");
    assert_eq!(store.export("b").unwrap(), None, "nothing of b is left");
    // An id that never existed is simply unknown.
    assert_eq!(store.load("never").unwrap(), None);
}

#[test]
fn an_idle_session_expires_and_answers_404_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let store = SessionStore::open_with(&db, limits(3600, 100)).unwrap();
    save(&store, "idle", "hello");
    save(&store, "busy", "hello");
    // Two hours pass for "idle" only (written by a second connection, as another process would).
    Connection::open(&db)
        .unwrap()
        .execute("UPDATE sessions SET updated_at = updated_at - 7200000 WHERE id = 'idle'", [])
        .unwrap();
    let tracker = curator::assets::Assets::from_project(Default::default()).unwrap().tracker;
    let (code, message) = ended_code(store.record_feedback("idle", 176314, Rating::Like, &tracker).unwrap_err());
    assert_eq!(code, "session_expired");
    assert!(message.contains("\"idle\"") && message.contains("3600 s"), "{message}");
    let (code, _) = ended_code(store.load("idle").unwrap_err());
    assert_eq!(code, "session_expired");
    assert!(store.load("busy").unwrap().is_some());
    assert_eq!(store.export("idle").unwrap(), None, "an expired session's data is deleted");
    // A new turn under the same id starts a new session.
    save(&store, "idle", "back again");
    assert_eq!(store.messages("idle").unwrap().unwrap().len(), 2);
}

fn curator(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_curator")).args(args).stdin(Stdio::null()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_server_answers_ended_sessions_with_404_and_the_cli_exports_and_erases() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let s = Server::spawn(
        ["--no-model", "--db", db.to_str().unwrap(), "--max-sessions", "2", "--session-idle-secs", "3600"],
        Stdio::inherit(),
    );
    let chat = |text: &str, session: Option<&str>| {
        let mut body = json!({"messages": [{"role": "user", "content": text}]});
        if let Some(id) = session {
            body["session_id"] = json!(id);
        }
        post_json(&s, "/v1/chat/completions", &body)
    };
    let marker = "Zanzibar-marker-7731 I loved Heat";
    let (code, first) = chat(marker, None);
    assert_eq!(code, 200, "{first}");
    let first = first["session_id"].as_str().unwrap().to_string();
    let (_, second) = chat("I loved Alien", None);
    let second = second["session_id"].as_str().unwrap().to_string();
    let (code, r) = post_json(&s, "/v1/feedback", &json!({"session_id": second, "item_id": 176314, "rating": "like"}));
    assert_eq!(code, 200, "{r}");
    let (_, third) = chat("I loved Ronin", None);
    let third = third["session_id"].as_str().unwrap().to_string();

    // `first` was the least recently active of three with a maximum of two.
    let (code, v) = get_json(&s, &format!("/v1/sessions/{first}"));
    assert_eq!(code, 404, "{v}");
    assert_eq!(v["error"]["code"], "session_evicted");
    assert!(v["error"]["message"].as_str().unwrap().contains(&first), "{v}");
    let (code, v) = chat("more please", Some(&first));
    assert_eq!((code, v["error"]["code"].as_str()), (404, Some("session_evicted")), "{v}");

    // `third` goes idle for two hours.
    Connection::open(&db)
        .unwrap()
        .execute("UPDATE sessions SET updated_at = updated_at - 7200000 WHERE id = ?1", params![third])
        .unwrap();
    let (code, v) = get_json(&s, &format!("/v1/sessions/{third}"));
    assert_eq!((code, v["error"]["code"].as_str()), (404, Some("session_expired")), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains(&third), "{v}");
    let (code, v) = post_json(&s, "/v1/feedback", &json!({"session_id": third, "item_id": 176314, "rating": "like"}));
    assert_eq!((code, v["error"]["code"].as_str()), (404, Some("session_expired")), "{v}");
    let (code, _) = get_json(&s, &format!("/v1/sessions/{second}"));
    assert_eq!(code, 200);
    let (_, fourth) = chat(marker, None);
    let fourth = fourth["session_id"].as_str().unwrap().to_string();
    s.kill9();

    // Export: everything stored about the session.
    let dbs = db.to_str().unwrap();
    let (code, out, err) = curator(&["sessions", "--db", dbs, "export", &second]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["id"], second.as_str());
    assert_eq!(v["messages"][0]["content"], "I loved Alien");
    assert_eq!(v["messages"][1]["role"], "assistant");
    assert_eq!(v["messages"][1]["recommendations"].as_array().unwrap().len(), 3, "{v}");
    assert_eq!(
        v["feedback"],
        json!([{"item_id": 176314, "rating": "like", "created_at_ms": v["feedback"][0]["created_at_ms"]}])
    );
    assert!(v["state"].is_object());

    // Delete: gone from the tables and from the file's bytes.
    let file_has = |needle: &str| {
        ["", "-wal"].iter().any(|ext| {
            std::fs::read(format!("{dbs}{ext}")).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        })
    };
    assert!(file_has("Zanzibar-marker-7731"), "the text is stored before the erase");
    let (code, out, err) = curator(&["sessions", "--db", dbs, "delete", &fourth]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&fourth) && out.contains("2 messages, 0 feedback"), "{out}");
    assert!(!file_has("Zanzibar-marker-7731"), "no copy of the erased text is left in the database files");
    let (code, _, err) = curator(&["sessions", "--db", dbs, "export", &fourth]);
    assert_eq!(code, 1);
    assert!(err.contains(&fourth) && err.contains("does not exist"), "{err}");
    let (code, _, err) = curator(&["sessions", "--db", dbs, "delete", "no such id!"]);
    assert_eq!(code, 1);
    assert!(err.contains("invalid session id"), "{err}");
    let (code, _, err) = curator(&["sessions", "--db", &format!("{dbs}.absent"), "export", "x"]);
    assert_eq!(code, 1);
    assert!(err.contains("does not exist"), "{err}");
    let conn = Connection::open(&db).unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}
