//! The tool part of a turn, piece by piece (benchmarks, never timed tests). Run:
//!
//! ```sh
//! cargo bench --bench turn
//! ```
//!
//! Over the 5 scripted seeker turns of `curator bench` ([`curator::bench::SCRIPT`]), the states
//! the agent (no model) reaches, each timed `CURATOR_TURN_REPEATS` times (default 40):
//!
//! - `track`: the tracker's `observe` of the seeker message (linking, state update);
//! - `fusion_parts`: seeds, exclusions, BM25, genre and knowledge-graph terms (PPR included);
//! - `cf_scores`: the collaborative model over every catalog item;
//! - `candidate_set`: candidates and features (`fusion_parts` and `cf_scores` again inside);
//! - `rank`: the ranker's whole order (candidates, features, policy);
//! - `recommend`: `rank` plus the reasons (what `/v1/recommend` and a chat turn call);
//! - `agent_turn`: the tool part of the agent's own turn (`TurnStats::tools_ms`, once per turn);
//! - `ppr_exact`, `ppr_default`: the ranker's PPR seeds of the state by the power iteration and
//!   by the default solver (memoized per-seed pushes, `PprMethod::SeedSum`; its vectors found in
//!   the memo after the first repeat), `ppr_default_cold` the same with the memo emptied first
//!   (every seed pushed), `rank_cold` the ranker's `rank` with the memo emptied first, and
//!   `ppr_push_eps_*` one forward push from all the seeds at four ε (2e-6: the previous
//!   default);
//! - `policy_300`: the learned policy's scores and order over 300 candidates (a real candidate set,
//!   its rows repeated if it has fewer), 2 000 times.
//!
//! The PPR hub vectors are computed first and timed apart (`hub_vectors_ms_once`).
//!
//! Milliseconds: median, p99 and mean per piece over all turns and repeats. Prints JSON. Other
//! processes on the same cores inflate every figure: compare pieces within one run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use curator::agent::Agent;
use curator::dialogue::{Role, Utterance};
use curator::knowledge::PprParams;
use curator::rank::CandidateSet;

fn summary(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    serde_json::json!({ "n": v.len(), "p50": q(0.5), "p99": q(0.99), "mean": mean })
}

fn time<T>(out: &mut Vec<f64>, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    out.push(t.elapsed().as_secs_f64() * 1e3);
    r
}

fn main() {
    let repeats: usize = std::env::var("CURATOR_TURN_REPEATS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    let mut agent = Agent::from_project(None, Default::default()).expect("load the project's assets");
    let assets = agent.engine().assets().clone();
    let (catalog, ranker) = (&assets.catalog, &assets.ranker);
    let k = 10;
    let names = [
        "track",
        "fusion_parts",
        "cf_scores",
        "candidate_set",
        "rank",
        "recommend",
        "agent_turn",
        "ppr_exact",
        "ppr_default",
        "ppr_default_cold",
        "rank_cold",
        "ppr_push_eps_2e-6",
        "ppr_push_eps_1e-6",
        "ppr_push_eps_3e-6",
        "ppr_push_eps_1e-5",
    ];
    let kg = &assets.knowledge.as_ref().expect("the knowledge graph").graph;
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut sets: Vec<CandidateSet> = Vec::new();
    let t = Instant::now();
    kg.walk().prepare();
    let hub_vectors_ms = t.elapsed().as_secs_f64() * 1e3;
    for text in curator::bench::SCRIPT {
        let before = agent.state().clone();
        let mut state = before.clone();
        for _ in 0..repeats {
            let mut s = before.clone();
            time(&mut times[0], || assets.tracker.observe(&mut s, Utterance::said(Role::Seeker, text)));
            state = s;
        }
        for _ in 0..repeats {
            let parts = time(&mut times[1], || ranker.fusion_parts(&state, catalog, k).unwrap());
            time(&mut times[2], || ranker.cf_scores(&state, catalog, &parts.seeds).unwrap());
            let set = time(&mut times[3], || ranker.candidate_set(&state, catalog, k).unwrap());
            time(&mut times[4], || ranker.rank(&state, catalog, k).unwrap());
            time(&mut times[5], || curator::agent::recommend(&assets, &state, k).unwrap());
            let seeds = ranker.ppr_seeds(&state, catalog);
            time(&mut times[7], || kg.ppr(&seeds, &PprParams::exact()));
            time(&mut times[8], || kg.ppr(&seeds, &PprParams::default()));
            kg.walk().clear_seed_memo();
            time(&mut times[9], || kg.ppr(&seeds, &PprParams::default()));
            kg.walk().clear_seed_memo();
            time(&mut times[10], || ranker.rank(&state, catalog, k).unwrap());
            for (j, eps) in [2e-6, 1e-6, 3e-6, 1e-5].into_iter().enumerate() {
                time(&mut times[11 + j], || kg.ppr(&seeds, &PprParams::push(eps)));
            }
            if sets.len() < curator::bench::SCRIPT.len() && sets.iter().all(|s| s.len() != set.len()) {
                sets.push(set);
            }
        }
        let mut tools = 0.0;
        agent
            .respond(text, &mut |ev| {
                if let curator::agent::AgentEvent::Done { stats } = ev {
                    tools = stats.tools_ms;
                }
            })
            .unwrap();
        times[6].push(tools);
    }
    let mut report = serde_json::Map::new();
    for (name, v) in names.iter().zip(times) {
        report.insert((*name).to_string(), summary(v));
    }
    if let Some(policy) = ranker.policy() {
        let big = sets.iter().max_by_key(|s| s.len()).unwrap();
        let mut set =
            CandidateSet { positions: Vec::new(), features: Vec::new(), fusion_order: big.fusion_order.clone() };
        while set.len() < 300 {
            let i = set.len() % big.len();
            set.positions.push(big.positions[i]);
            set.features.extend_from_slice(big.row(i));
        }
        let mut t = Vec::new();
        let mut checksum = 0usize;
        for _ in 0..2000 {
            let order = time(&mut t, || policy.ranking(&set, k));
            checksum += order[0];
        }
        report.insert("policy_300".into(), summary(t));
        report.insert("policy_300_checksum".into(), checksum.into());
        report.insert("candidate_set_sizes".into(), sets.iter().map(|s| s.len()).collect::<Vec<_>>().into());
    }
    report.insert("hub_vectors_ms_once".into(), hub_vectors_ms.into());
    report.insert("repeats".into(), repeats.into());
    report.insert("cores".into(), std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0).into());
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
