//! Approximate against exact personalized PageRank: accuracy and speed per query, and what the
//! approximation changes in the agent's top-10 lists (benchmarks, never timed tests). Run:
//!
//! ```sh
//! cargo bench --bench ppr                      # needs ../shared/data for the ReDial part
//! CURATOR_PPR_POINTS=2000 cargo bench --bench ppr
//! ```
//!
//! Seed sets:
//! - **validation**: the PPR seeds the ranker builds ([`CandidateRanker::ppr_seeds`]) for evenly
//!   spaced evaluation points of the ReDial *validation* dialogues
//!   (`redial/train_partial/train_subset_original_format.jsonl`, checked disjoint from test;
//!   `CURATOR_PPR_POINTS`, default 1 000, points with at least one seed);
//! - **synthetic**: the 1 000 seed sets of `cargo bench --bench knowledge` (1–3 items, a person
//!   or genre, every fourth set a disliked item).
//!
//! References: `exact` = the power iteration the ranker used before (10 iterations,
//! [`PprParams::exact`]) and `converged` = 100 iterations. For each forward-push ε: per seed set,
//! over the item nodes that are not seeds, top-100 recall (share of the reference's top 100 with
//! a positive score found in the approximation's top 100; ties by node index), L1 error Σ|a − e|
//! and L1 relative to Σ e, Kendall τ-b of the approximation over the reference's top 100; means
//! over seed sets, and the median time per query with its ratio to the exact one's median in the
//! same run; the same for the default solver, the seed sum at ε = 2·10⁻⁶ (`PprMethod::SeedSum`:
//! per-seed pushes kept in a memo; timed warm, every vector in the memo, and cold, the memo
//! emptied before the query: `cold_median_ms`); the push at ε = 2·10⁻⁶ and 10⁻⁶ with hubs from 50
//! and 200 entries and without hubs. Last, on the validation points, the agent's ranker (`rank`,
//! k = 10) with the push (1·10⁻⁶, 2·10⁻⁶, 3·10⁻⁶) and with the seed sum (2·10⁻⁶, the default)
//! against the same ranker with the exact PPR: top-10 lists that differ (as ordered lists and as
//! sets), mean overlap, and de-dup Recall@10 of both.
//!
//! Prints JSON. Other processes on the same cores inflate every time: rely on the ratios.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use curator::assets::Assets;
use curator::eval::Protocol;
use curator::knowledge::{KnowledgeGraph, PprMethod, PprParams, PprWalk, DEFAULT_PUSH_EPSILON, HUB_DEGREE};
use petgraph::graph::NodeIndex;

#[path = "common/seeds.rs"]
mod seeds;

const TOP: usize = 100;
const EPSILONS: [f32; 5] = [1e-5, 3e-6, 2e-6, 1e-6, 5e-7];

/// Item nodes that are not seeds, best first (ties by index), positive scores only, at most `k`.
fn top_items(scores: &[f32], seeds: &[(NodeIndex<u32>, f32)], k: usize) -> Vec<usize> {
    curator::util::top_indices_desc(scores, |i| scores[i] > 0.0 && !seeds.iter().any(|s| s.0.index() == i), k)
}

/// Kendall τ-b of `approx` against `reference` over the items `on`.
fn kendall_tau_b(reference: &[f32], approx: &[f32], on: &[usize]) -> f64 {
    let (mut concordant, mut discordant, mut ties_ref, mut ties_approx) = (0i64, 0i64, 0i64, 0i64);
    for (x, &i) in on.iter().enumerate() {
        for &j in &on[x + 1..] {
            let a = reference[i].total_cmp(&reference[j]) as i8;
            let b = approx[i].total_cmp(&approx[j]) as i8;
            match (a, b) {
                (0, 0) => {}
                (0, _) => ties_ref += 1,
                (_, 0) => ties_approx += 1,
                _ if a == b => concordant += 1,
                _ => discordant += 1,
            }
        }
    }
    let n1 = (concordant + discordant + ties_ref) as f64;
    let n2 = (concordant + discordant + ties_approx) as f64;
    if n1 == 0.0 || n2 == 0.0 {
        return 1.0;
    }
    (concordant - discordant) as f64 / (n1 * n2).sqrt()
}

#[derive(Default, Clone)]
struct Agreement {
    sets: usize,
    recall: f64,
    min_recall: f64,
    l1: f64,
    l1_relative: f64,
    tau: f64,
}

impl Agreement {
    fn add(&mut self, reference: &[f32], approx: &[f32], seeds: &[(NodeIndex<u32>, f32)]) {
        let r = top_items(reference, seeds, TOP);
        if r.is_empty() {
            return;
        }
        let a = top_items(approx, seeds, TOP);
        let found = r.iter().filter(|i| a.contains(i)).count() as f64 / r.len() as f64;
        let (mut l1, mut total) = (0f64, 0f64);
        for (i, (&e, &x)) in reference.iter().zip(approx).enumerate() {
            if !seeds.iter().any(|s| s.0.index() == i) {
                l1 += f64::from((e - x).abs());
                total += f64::from(e);
            }
        }
        if self.sets == 0 {
            self.min_recall = 1.0;
        }
        self.sets += 1;
        self.recall += found;
        self.min_recall = self.min_recall.min(found);
        self.l1 += l1;
        self.l1_relative += if total > 0.0 { l1 / total } else { 0.0 };
        self.tau += kendall_tau_b(reference, approx, &r);
    }

    fn json(&self) -> serde_json::Value {
        let n = self.sets.max(1) as f64;
        serde_json::json!({
            "seed_sets": self.sets,
            "top100_recall_mean": self.recall / n,
            "top100_recall_min": self.min_recall,
            "l1_mean": self.l1 / n,
            "l1_relative_mean": self.l1_relative / n,
            "kendall_tau_b_top100_mean": self.tau / n,
        })
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Accuracy and speed of every ε over `sets` with the graph's walk, then of a few ε with other hub
/// thresholds.
fn compare(kg: &KnowledgeGraph, sets: &[Vec<(NodeIndex<u32>, f32)>]) -> serde_json::Value {
    let exact = PprParams::exact();
    let converged = PprParams { iterations: 100, ..PprParams::exact() };
    // (hub threshold, walk, ε, seed sum): the forward push at every ε, the default seed sum
    // (memoized per-seed pushes), then the push at two ε with other hub thresholds.
    let mut configs: Vec<(usize, PprWalk, f32, bool)> = Vec::new();
    for &eps in &EPSILONS {
        configs.push((HUB_DEGREE, kg.walk().clone(), eps, false));
    }
    configs.push((HUB_DEGREE, kg.walk().clone(), DEFAULT_PUSH_EPSILON, true));
    for hub_degree in [50, 200, usize::MAX] {
        let walk = kg.walk_with_hub_degree(hub_degree);
        walk.prepare();
        for eps in [2e-6, 1e-6] {
            configs.push((hub_degree, walk.clone(), eps, false));
        }
    }
    let params = |eps: f32, sum: bool| if sum { PprParams::seed_sum(eps) } else { PprParams::push(eps) };
    let mut cold_ms = Vec::new();
    let mut exact_ms = Vec::new();
    let mut push_ms: Vec<Vec<f64>> = vec![Vec::new(); configs.len()];
    let mut entries: Vec<usize> = vec![0; configs.len()];
    let mut vs_exact: Vec<Agreement> = vec![Agreement::default(); configs.len()];
    let mut vs_converged: Vec<Agreement> = vec![Agreement::default(); configs.len()];
    let mut exact_vs_converged = Agreement::default();
    for seeds in sets {
        let t = Instant::now();
        let e = kg.ppr(seeds, &exact);
        exact_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let c = kg.ppr(seeds, &converged);
        exact_vs_converged.add(&c, &e, seeds);
        for (j, (_, walk, eps, sum)) in configs.iter().enumerate() {
            if *sum {
                // The cold case: every seed's vector computed (the memo emptied first); the warm
                // one (timed below) finds them all.
                walk.clear_seed_memo();
                let t = Instant::now();
                walk.run(seeds, &params(*eps, true));
                cold_ms.push(t.elapsed().as_secs_f64() * 1e3);
            }
            let t = Instant::now();
            let a = walk.run(seeds, &params(*eps, *sum));
            push_ms[j].push(t.elapsed().as_secs_f64() * 1e3);
            entries[j] += if *sum { 0 } else { walk.push(seeds, 0.3, *eps).entries };
            vs_exact[j].add(&e, &a, seeds);
            vs_converged[j].add(&c, &a, seeds);
        }
    }
    let exact_median = median(exact_ms);
    let push: Vec<serde_json::Value> = configs
        .iter()
        .enumerate()
        .map(|(j, (hub_degree, walk, eps, sum))| {
            let m = median(push_ms[j].clone());
            serde_json::json!({
                "method": if *sum { "seed sum" } else { "push" },
                "epsilon": eps,
                "hub_degree": if *hub_degree == usize::MAX { None } else { Some(hub_degree) },
                "hubs": walk.hub_count(),
                "default": *sum && *eps == DEFAULT_PUSH_EPSILON && *hub_degree == HUB_DEGREE,
                "median_ms": m,
                "cold_median_ms": if *sum { Some(median(cold_ms.clone())) } else { None },
                "speedup_vs_exact": exact_median / m,
                "entries_per_query": entries[j] as f64 / sets.len().max(1) as f64,
                "vs_exact": vs_exact[j].json(),
                "vs_converged": vs_converged[j].json(),
            })
        })
        .collect();
    serde_json::json!({
        "seed_sets": sets.len(),
        "exact_median_ms": exact_median,
        "exact_entries_per_query": exact.iterations * kg.walk().entry_count(),
        "exact_vs_converged": exact_vs_converged.json(),
        "push": push,
    })
}

fn main() {
    let assets = Assets::from_project(None).expect("load the project's assets");
    let kt = assets.knowledge.clone().expect("the knowledge graph (knowledge/movies)");
    let kg = &kt.graph;
    kg.walk().prepare();
    let mut report = serde_json::Map::new();
    report.insert("synthetic".into(), compare(kg, &seeds::synthetic_sets(kg)));

    let root = curator::paths::project_root();
    let source = std::env::var("CURATOR_DATA").map(Into::into).unwrap_or_else(|_| root.join("../shared/data"));
    let test = root.join("evals/redial/test.jsonl");
    match curator::eval::validation::validation_split(&source, &test) {
        Err(e) => {
            report.insert("validation".into(), format!("skipped: {e}").into());
        }
        Ok(dialogues) => {
            let wanted: usize = std::env::var("CURATOR_PPR_POINTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
            let points = curator::eval::redial::extract_points(&dialogues);
            let tools = curator::agent::ToolRanker::from_assets(&assets);
            let ranker = &assets.ranker;
            let step = (points.len() / wanted.max(1)).max(1);
            let mut sets = Vec::new();
            let mut states = Vec::new();
            for p in points.iter().step_by(step).take(wanted) {
                let state = tools.state_for(&p.context);
                let seeds = ranker.ppr_seeds(&state, &assets.catalog);
                if seeds.iter().any(|s| s.1 > 0.0) {
                    sets.push(seeds);
                    states.push((state, p.targets_for(Protocol::Dedup)));
                }
            }
            let mut v = compare(kg, &sets);
            // What the approximation changes in the agent's lists: the default and two larger ε.
            let exact_ranker = (**ranker).clone().with_ppr(PprParams::exact());
            let exact_lists: Vec<Vec<u32>> = states
                .iter()
                .map(|(state, _)| exact_ranker.rank(state, &assets.catalog, 10).unwrap().iter().map(|c| c.id).collect())
                .collect();
            let mut agent = Vec::new();
            let solvers = [
                ("push", PprParams::push(1e-6)),
                ("push", PprParams::push(DEFAULT_PUSH_EPSILON)),
                ("push", PprParams::push(3e-6)),
                ("seed sum", PprParams::seed_sum(DEFAULT_PUSH_EPSILON)),
            ];
            for (method, solver) in solvers {
                let eps = match solver.method {
                    PprMethod::ForwardPush { epsilon } | PprMethod::SeedSum { epsilon } => epsilon,
                    PprMethod::PowerIteration => 0.0,
                };
                let push_ranker = (**ranker).clone().with_ppr(solver);
                let (mut ordered, mut as_set, mut overlap) = (0usize, 0usize, 0usize);
                let (mut hits_push, mut hits_exact, mut targets) = (0usize, 0usize, 0usize);
                for ((state, truth), b) in states.iter().zip(&exact_lists) {
                    let a: Vec<u32> =
                        push_ranker.rank(state, &assets.catalog, 10).unwrap().iter().map(|c| c.id).collect();
                    ordered += usize::from(&a != b);
                    let common = a.iter().filter(|x| b.contains(x)).count();
                    as_set += usize::from(common != a.len().max(b.len()));
                    overlap += common;
                    for t in truth {
                        targets += 1;
                        hits_push += usize::from(a.contains(t));
                        hits_exact += usize::from(b.contains(t));
                    }
                }
                let n = states.len().max(1) as f64;
                agent.push(serde_json::json!({
                    "method": method,
                    "epsilon": eps,
                    "states": states.len(),
                    "lists_differing_in_order": ordered,
                    "lists_differing_as_sets": as_set,
                    "mean_overlap_at_10": overlap as f64 / n,
                    "dedup_targets": targets,
                    "recall_at_10_push": hits_push as f64 / targets.max(1) as f64,
                    "recall_at_10_exact": hits_exact as f64 / targets.max(1) as f64,
                }));
            }
            v["agent_top10"] = agent.into();
            v["points_total"] = points.len().into();
            v["dialogues"] = dialogues.len().into();
            report.insert("validation".into(), v);
        }
    }
    report.insert("default_epsilon".into(), f64::from(DEFAULT_PUSH_EPSILON).into());
    report.insert("cores".into(), std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0).into());
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
