//! Knowledge-graph benchmark (speed figures are benchmarks, never timed tests). Run:
//!
//! ```sh
//! cargo bench --bench knowledge
//! ```
//!
//! 1. **Load**: `KnowledgeGraph::load(knowledge/movies)` (parse both TSVs, build the petgraph and
//!    the CSR walk), best and median of 5.
//! 2. **Memory**: resident-set growth over the load (`/proc/self/statm`, Linux) and the CSR bytes.
//! 3. **PPR per query**: personalized PageRank (default parameters) from 1 000 seed sets drawn
//!    deterministically from the items with metadata: 1–3 liked items, one requested person or
//!    genre, every fourth set a disliked item. Median, p90, max, mean in milliseconds.
//! 4. **Attribute linking per utterance** on a fixed request.
//!
//! Prints JSON. Other processes on the same cores (e.g. a compile) inflate every figure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use curator::dialogue::attributes::AttributeLinker;
use curator::knowledge::{KnowledgeGraph, NodeKind, PprParams};
use petgraph::graph::NodeIndex;

fn rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = s.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn main() {
    let dir = curator::knowledge::default_dir();
    let before = rss_bytes();
    let kg = KnowledgeGraph::load(&dir).expect("load knowledge/movies (run `curator data build`)");
    let after = rss_bytes();
    let mut loads = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let g = KnowledgeGraph::load(&dir).unwrap();
        loads.push(t.elapsed().as_secs_f64() * 1e3);
        drop(g);
    }
    loads.sort_by(f64::total_cmp);

    // Deterministic seed sets (a linear congruential generator; no external randomness).
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |m: usize| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % m.max(1)
    };
    let items: Vec<usize> = (0..kg.item_count()).filter(|&i| kg.degree(NodeIndex::new(i)) >= 5).collect();
    let people: Vec<NodeIndex<u32>> =
        kg.nodes_of(NodeKind::Person).map(|(ix, _)| ix).filter(|&ix| kg.degree(ix) >= 3).collect();
    let genres: Vec<NodeIndex<u32>> = kg.nodes_of(NodeKind::Genre).map(|(ix, _)| ix).collect();
    let params = PprParams::default();
    let mut times = Vec::new();
    let mut checksum = 0f64;
    for q in 0..1000 {
        let mut seeds: Vec<(NodeIndex<u32>, f32)> = Vec::new();
        for _ in 0..1 + next(3) {
            seeds.push((NodeIndex::new(items[next(items.len())]), 1.0));
        }
        if q % 2 == 0 {
            seeds.push((people[next(people.len())], 0.8));
        } else {
            seeds.push((genres[next(genres.len())], 0.5));
        }
        if q % 4 == 0 {
            seeds.push((NodeIndex::new(items[next(items.len())]), -0.5));
        }
        let t = Instant::now();
        let scores = kg.ppr(&seeds, &params);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        checksum += scores.iter().map(|&x| f64::from(x)).sum::<f64>();
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    times.sort_by(f64::total_cmp);

    let linker = AttributeLinker::new(&kg);
    let text = "a 90s thriller with Denzel Washington, nothing too violent";
    let mut link_times = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let found = linker.link(text);
        link_times.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(!found.is_empty());
    }
    link_times.sort_by(f64::total_cmp);

    let report = serde_json::json!({
        "graph": { "nodes": kg.node_count(), "edges": kg.edge_count(), "items": kg.item_count() },
        "load_ms": { "best": loads[0], "median": quantile(&loads, 0.5) },
        "memory": {
            "rss_growth_bytes": match (before, after) { (Some(b), Some(a)) => Some(a.saturating_sub(b)), _ => None },
            "ppr_csr_bytes": kg.walk_bytes(),
        },
        "ppr_ms": {
            "queries": times.len(),
            "iterations": params.iterations,
            "restart": params.restart,
            "median": quantile(&times, 0.5),
            "p90": quantile(&times, 0.9),
            "max": times[times.len() - 1],
            "mean": mean,
            "checksum": checksum,
        },
        "link_ms": { "median": quantile(&link_times, 0.5), "max": link_times[link_times.len() - 1] },
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
