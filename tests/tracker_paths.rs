//! Every path builds its dialogue state through the one tracker, so the same dialogue gives the
//! same state and the same top 10 whichever way it comes in: live chat (the `Agent` the terminal
//! front ends drive), a stateless `POST /v1/chat/completions` to a real server on 127.0.0.1,
//! `POST /v1/recommend`, the whole-agent evaluation's replay (`eval::suite::agent_context`) and
//! the replay that tuning and training score (`ToolRanker::state_for`, items linked from text).
//!
//! Cases: hand-written multi-turn dialogues with constraints said in early turns, driven live
//! (each seeker message answered by the agent, its replies part of the transcript the other
//! paths receive), and 60 real test contexts (45 ReDial, 15 INSPIRED) ending in a seeker turn.
//! No model: the replies are the ranker's list with the fixed opening, so the transcript is the
//! same on every path.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use curator::agent::{Agent, AgentConfig, RecommendPrompts, ToolRanker};
use curator::assets::Assets;
use curator::catalog::ItemId;
use curator::dialogue::{DialogueState, Items, Polarity, Role, Turn};
use curator::server::sessions::SessionStore;
use curator::server::{router, AppState, ServerOptions};
use serde_json::{json, Value};

const K: usize = 10;

struct Paths {
    assets: Assets,
    prompts: RecommendPrompts,
    client: reqwest::blocking::Client,
    base: String,
    db: std::path::PathBuf,
    _rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Paths {
    fn start() -> Self {
        let assets = Assets::from_project(None).unwrap();
        assert!(
            assets.tracker.linker().is_some(),
            "the committed knowledge graph gives the tracker its attribute linker"
        );
        let prompts = RecommendPrompts::load(&curator::paths::prompts_dir()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sessions.sqlite");
        let options =
            ServerOptions { db_path: db.clone(), recommendations: K, queue_capacity: 4, ..ServerOptions::default() };
        let state = AppState::start(options, None).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        rt.spawn(async move { axum::serve(listener, router(state)).await });
        Paths {
            assets,
            prompts,
            client: reqwest::blocking::Client::new(),
            base: format!("http://{addr}"),
            db,
            _rt: rt,
            _dir: dir,
        }
    }

    fn agent(&self) -> Agent {
        let config = AgentConfig { recommendations: K, ..AgentConfig::default() };
        Agent::new(self.assets.clone(), self.prompts.clone(), None, config)
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().unwrap();
        assert_eq!(status, 200, "{path}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Stateless chat: the state the server stored for the session it created, and the ids it
    /// recommended.
    fn http_chat(&self, messages: &Value) -> (DialogueState, Vec<ItemId>) {
        let v = self.post("/v1/chat/completions", &json!({ "messages": messages }));
        let sid = v["session_id"].as_str().unwrap().to_string();
        let store = SessionStore::open(&self.db).unwrap();
        (store.load(&sid).unwrap().unwrap(), ids(&v["recommendations"]))
    }

    /// `/v1/recommend`: the ids, liked and disliked.
    fn http_recommend(&self, messages: &Value) -> (Vec<ItemId>, Vec<ItemId>, Vec<ItemId>) {
        let v = self.post("/v1/recommend", &json!({ "messages": messages, "k": K }));
        (ids(&v["items"]), ids(&v["liked"]), ids(&v["disliked"]))
    }
}

fn ids(v: &Value) -> Vec<ItemId> {
    v.as_array().unwrap().iter().map(|x| x["id"].as_u64().unwrap() as ItemId).collect()
}

fn messages(turns: &[Turn]) -> Value {
    Value::Array(
        turns
            .iter()
            .map(|t| {
                let role = if t.role == Role::Seeker { "user" } else { "assistant" };
                json!({ "role": role, "content": t.text })
            })
            .collect(),
    )
}

/// `state` without its last turn (the reply), as the ranker saw it.
fn before_reply(state: &DialogueState) -> DialogueState {
    let mut s = state.clone();
    let last = s.turns.len() - 1;
    assert_eq!(s.turns[last].role, Role::Recommender);
    s.turns.pop();
    s.mentions.retain(|m| m.turn != last);
    let shown = s.recommended.len() - state.turns[last].items.len();
    s.recommended.truncate(shown);
    s
}

/// Checks that every path agrees on `dialogue` (text turns ending with a seeker turn) given
/// the live agent's state `live` (after its reply) and top 10 `top`.
fn agree(p: &Paths, name: &str, dialogue: &[Turn], live: &DialogueState, top: &[ItemId]) {
    assert_eq!(top.len(), K, "{name}: the agent shows {K} items");
    let msgs = messages(dialogue);
    // Stateless HTTP: same state (the reply included: no model, same text) and same items.
    let (http, http_top) = p.http_chat(&msgs);
    assert_eq!(&http_top, top, "{name}: stateless chat recommends other items");
    assert_eq!(&http, live, "{name}: stateless chat builds another state");
    // /v1/recommend: same items, same likes and dislikes.
    let (rec, liked, disliked) = p.http_recommend(&msgs);
    assert_eq!(rec, top, "{name}: /v1/recommend ranks otherwise");
    assert_eq!(liked, live.items_with(Polarity::Liked), "{name}: /v1/recommend likes");
    assert_eq!(disliked, live.items_with(Polarity::Disliked), "{name}: /v1/recommend dislikes");
    // The whole-agent evaluation's replay, answered by an agent.
    let (state, text) = curator::eval::suite::agent_context(&p.assets.tracker, dialogue);
    let mut agent = p.agent();
    agent.replace_state(state);
    let recs = agent.respond(&text, &mut |_| {}).unwrap();
    assert_eq!(recs.iter().map(|r| r.id).collect::<Vec<_>>(), top, "{name}: evaluation replay ranks otherwise");
    assert_eq!(agent.state(), live, "{name}: evaluation replay builds another state");
    // The replay tuning and training score (items linked from text, as users' are).
    let tools = ToolRanker::from_assets(&p.assets).with_items(Items::Linked);
    assert_eq!(tools.state_for(dialogue), before_reply(live), "{name}: training replay builds another state");
    assert_eq!(tools.rank_context(dialogue, K).unwrap(), top, "{name}: training replay ranks otherwise");
}

#[test]
fn live_chat_http_recommend_evaluation_and_training_build_the_same_state() {
    let p = Paths::start();
    // Hand-written dialogues: constraints and reactions in early turns must survive to the last.
    let cases: [&[&str]; 6] = [
        &["no horror please, I loved Heat", "something like Collateral", "any 90s thrillers?"],
        &["I hate romantic comedies", "I liked The Matrix and Inception", "more like the first one"],
        &["something with Keanu Reeves please", "nothing too violent", "I loved John Wick"],
        &["anything but Titanic", "a funny animated movie", "not Shrek though"],
        &["I liked Inceptoin and Intersteller", "Se7en is my favourite film", "something funny, no Adam Sandler"],
        &["I loved Heat but hated Titanic.", "a 90s thriller with Denzel Washington, nothing too violent"],
    ];
    let mut constrained = 0;
    for (c, said) in cases.iter().enumerate() {
        let mut agent = p.agent();
        let mut transcript: Vec<Turn> = Vec::new();
        let mut top = Vec::new();
        for text in *said {
            let mut reply = String::new();
            let recs = agent
                .respond(text, &mut |ev| {
                    if let curator::agent::AgentEvent::Text { text } = ev {
                        reply.push_str(&text);
                    }
                })
                .unwrap();
            top = recs.iter().map(|r| r.id).collect();
            transcript.push(Turn { role: Role::Seeker, text: text.to_string(), items: Vec::new() });
            transcript.push(Turn { role: Role::Recommender, text: reply, items: Vec::new() });
        }
        let live = agent.state().clone();
        if !live.rejected_attributes().is_empty() || !live.rejected_genres().is_empty() {
            constrained += 1;
        }
        // The other paths get the transcript up to the last seeker message.
        transcript.pop();
        agree(&p, &format!("case {c}"), &transcript, &live, &top);
    }
    assert!(constrained >= 4, "the cases rule things out ({constrained} of {})", cases.len());

    // Real test contexts, ending in a seeker turn, as text.
    let root = curator::paths::project_root();
    let redial = curator::eval::load_redial(&root.join("evals/redial/test.jsonl")).unwrap();
    let inspired = curator::eval::inspired::load_inspired(&root.join("evals/inspired/test.jsonl")).unwrap();
    let usable = |pt: &&curator::eval::EvalPoint| {
        pt.context.len() >= 2
            && pt.context.last().is_some_and(|t| t.role == Role::Seeker)
            && pt.context.iter().all(|t| !t.text.trim().is_empty() && t.text.len() <= curator::agent::MAX_INPUT_BYTES)
    };
    let r_points = curator::eval::extract_points(&redial);
    let i_points = curator::eval::inspired::extract_inspired_points(&inspired);
    let chosen: Vec<&curator::eval::EvalPoint> = r_points
        .iter()
        .filter(usable)
        .step_by(37)
        .take(45)
        .chain(i_points.iter().filter(usable).step_by(11).take(15))
        .collect();
    assert_eq!(chosen.len(), 60);
    let mut with_items = 0;
    for (n, pt) in chosen.iter().enumerate() {
        let dialogue: Vec<Turn> =
            pt.context.iter().map(|t| Turn { role: t.role, text: t.text.clone(), items: Vec::new() }).collect();
        // Live: the history as the tracker reads text, then the agent answers the last message.
        let last = dialogue.len() - 1;
        let mut agent = p.agent();
        agent.replace_state(p.assets.tracker.replay(&dialogue[..last], Items::Linked));
        let top: Vec<ItemId> = agent.respond(&dialogue[last].text, &mut |_| {}).unwrap().iter().map(|r| r.id).collect();
        let live = agent.state().clone();
        if !live.mentions.is_empty() {
            with_items += 1;
        }
        agree(&p, &format!("{} point {n} ({})", pt.conversation_id, pt.utterance), &dialogue, &live, &top);
    }
    assert!(with_items >= 40, "most real contexts mention items ({with_items} of 60)");
}
