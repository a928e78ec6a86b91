//! One server, every catalog: `GET /v1/models` lists `curator` (the default catalog) and one
//! `curator-NAME` per built catalog; `model` or `catalog` picks the catalog of a chat turn or a
//! ranking; unknown names and contradictions are refused naming the value; a session keeps its
//! catalog; `curator serve --catalog NAME` sets the default. Real `curator serve` processes on
//! 127.0.0.1 over the committed `catalogs/movies` and `catalogs/inspired` (no language model:
//! the recommendations are the same with one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::process::Stdio;

use common::{get_json, post_json, Server};
use serde_json::{json, Value};

/// `id → "Title (Year)"` of a committed catalog.
fn titles(name: &str) -> HashMap<u64, String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogs").join(name).join("items.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let title = v["title"].as_str().unwrap().to_string();
            let shown = match v["year"].as_u64() {
                Some(y) => format!("{title} ({y})"),
                None => title,
            };
            (v["id"].as_u64().unwrap(), shown)
        })
        .collect()
}

fn start(dir: &std::path::Path, extra: &[&str]) -> Server {
    let mut args: Vec<std::ffi::OsString> = vec!["--no-model".into(), "--db".into(), dir.join("s.db").into()];
    args.extend(extra.iter().map(Into::into));
    Server::spawn(args, Stdio::inherit())
}

/// Every item of a response list is the catalog's own (id and shown title).
fn assert_from(items: &Value, catalog: &HashMap<u64, String>, what: &str) {
    let items = items.as_array().unwrap_or_else(|| panic!("{what}: no list"));
    assert!(!items.is_empty(), "{what}: empty list");
    for it in items {
        let id = it["id"].as_u64().unwrap();
        assert_eq!(catalog.get(&id), it["title"].as_str().map(str::to_string).as_ref(), "{what}: {it}");
    }
}

#[test]
fn models_list_every_catalog_and_requests_pick_one() {
    let (movies, inspired) = (titles("movies"), titles("inspired"));
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), &[]);
    let (code, v) = get_json(&s, "/v1/models");
    assert_eq!(code, 200, "{v}");
    let ids: Vec<&str> = v["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    for want in ["curator", "curator-movies", "curator-inspired"] {
        assert!(ids.contains(&want), "{want} not in {ids:?}");
    }
    assert_eq!(ids[0], "curator");
    assert_eq!(v["data"][0]["catalog"], "movies", "the default catalog is movies");
    let card = v["data"].as_array().unwrap().iter().find(|m| m["id"] == "curator-inspired").unwrap();
    assert_eq!((card["catalog"].as_str(), card["items"].as_str()), (Some("inspired"), Some("movies")));

    // The same dialogue ranked over each catalog: ids and titles are that catalog's.
    let dialogue =
        json!([{"role": "user", "content": "I loved The Avengers and Iron Man, more superhero movies please"}]);
    let (code, r) = post_json(&s, "/v1/recommend", &json!({"model": "curator-inspired", "messages": dialogue}));
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["model"], "curator-inspired");
    assert_from(&r["items"], &inspired, "recommend model=curator-inspired");
    assert_from(&r["liked"], &inspired, "liked, inspired");
    let (code, r2) = post_json(&s, "/v1/recommend", &json!({"catalog": "inspired", "messages": dialogue}));
    assert_eq!(code, 200, "{r2}");
    assert_eq!(r2["items"], r["items"], "catalog=inspired is model=curator-inspired");
    let (code, m) = post_json(&s, "/v1/recommend", &json!({"messages": dialogue}));
    assert_eq!((code, m["model"].as_str()), (200, Some("curator-movies")), "{m}");
    assert_from(&m["items"], &movies, "recommend, default catalog");

    // Unknown or contradicting names are refused, naming the value.
    let (code, e) = post_json(&s, "/v1/recommend", &json!({"model": "curator-books", "messages": dialogue}));
    assert_eq!(code, 404, "{e}");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.contains("curator-books") && msg.contains("curator-inspired"), "{msg}");
    assert_eq!(e["error"]["code"], "model_not_found");
    let (code, e) = post_json(&s, "/v1/chat/completions", &json!({"catalog": "books", "messages": dialogue}));
    assert_eq!(code, 400, "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("\"books\""), "{e}");
    assert_eq!(e["error"]["param"], "catalog");
    let body = json!({"model": "curator-movies", "catalog": "inspired", "messages": dialogue});
    let (code, e) = post_json(&s, "/v1/chat/completions", &body);
    assert_eq!((code, e["error"]["code"].as_str()), (400, Some("catalog_mismatch")), "{e}");
    let (code, e) = post_json(&s, "/v1/recommend", &json!({"modle": "curator-inspired", "messages": dialogue}));
    assert_eq!(code, 400, "a misspelt field is not ignored: {e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("modle"), "{e}");

    // A chat turn over INSPIRED's catalog; its session keeps that catalog.
    let (code, c) = post_json(&s, "/v1/chat/completions", &json!({"model": "curator-inspired", "messages": dialogue}));
    assert_eq!(code, 200, "{c}");
    assert_eq!(c["model"], "curator-inspired");
    assert_from(&c["recommendations"], &inspired, "chat model=curator-inspired");
    let content = c["choices"][0]["message"]["content"].as_str().unwrap();
    for rec in c["recommendations"].as_array().unwrap() {
        assert!(content.contains(rec["title"].as_str().unwrap()), "{content}");
    }
    let sid = c["session_id"].as_str().unwrap();
    let next = json!([{"role": "user", "content": "something funnier"}]);
    let (code, c2) = post_json(&s, "/v1/chat/completions", &json!({"session_id": sid, "messages": next}));
    assert_eq!((code, c2["model"].as_str()), (200, Some("curator-inspired")), "{c2}");
    assert_from(&c2["recommendations"], &inspired, "the session's next turn");
    let (code, e) =
        post_json(&s, "/v1/chat/completions", &json!({"session_id": sid, "model": "curator-movies", "messages": next}));
    assert_eq!((code, e["error"]["code"].as_str()), (400, Some("catalog_mismatch")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("inspired"), "{e}");
    let (code, view) = get_json(&s, &format!("/v1/sessions/{sid}"));
    assert_eq!((code, view["model"].as_str()), (200, Some("curator-inspired")), "{view}");
    assert_from(&view["recommended"], &inspired, "the session view");
    let (code, r) = post_json(&s, "/v1/recommend", &json!({"session_id": sid, "k": 5}));
    assert_eq!((code, r["model"].as_str()), (200, Some("curator-inspired")), "{r}");
    assert_from(&r["items"], &inspired, "recommend over the session");
    // Feedback names items of the session's catalog.
    let liked_id = r["items"][0]["id"].as_u64().unwrap();
    let (code, f) = post_json(&s, "/v1/feedback", &json!({"session_id": sid, "item_id": liked_id, "rating": "like"}));
    assert_eq!(code, 200, "{f}");
    assert_eq!(f["item"]["title"].as_str(), inspired.get(&liked_id).map(String::as_str));
}

#[test]
fn serve_catalog_sets_the_default_model() {
    let inspired = titles("inspired");
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), &["--catalog", "inspired"]);
    let (_, v) = get_json(&s, "/v1/models");
    assert_eq!((v["data"][0]["id"].as_str(), v["data"][0]["catalog"].as_str()), (Some("curator"), Some("inspired")));
    let dialogue = json!([{"role": "user", "content": "I loved The Avengers"}]);
    for model in [None, Some("curator"), Some("curator-inspired")] {
        let mut body = json!({"messages": dialogue});
        if let Some(m) = model {
            body["model"] = json!(m);
        }
        let (code, c) = post_json(&s, "/v1/chat/completions", &body);
        assert_eq!((code, c["model"].as_str()), (200, Some("curator-inspired")), "{model:?}: {c}");
        assert_from(&c["recommendations"], &inspired, "default inspired");
    }
}

/// A server's catalogs come with their PPR hub vectors computed (the first `/v1/recommend` does
/// not pay for them), the default at open and any other at its first use.
#[test]
fn served_catalogs_are_warm() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalogs = curator::server::catalogs::Catalogs::open(root.join("catalogs"), "movies", None).unwrap();
    for name in ["movies", "inspired"] {
        let assets = catalogs.assets(name).unwrap();
        let kt = assets.knowledge.as_ref().expect("the committed catalogs have a knowledge graph");
        assert!(kt.graph.walk().is_prepared(), "{name}");
    }
    // A graph loaded without a server is cold until its first query.
    let cold = curator::assets::Assets::load(&root.join("catalogs/movies"), None).unwrap();
    assert!(!cold.knowledge.as_ref().unwrap().graph.walk().is_prepared());
}
