//! Knowledge-graph benchmark (speed figures are benchmarks, never timed tests). Run:
//!
//! ```sh
//! cargo bench --bench knowledge
//! ```
//!
//! 1. **Load**: `KnowledgeGraph::load(knowledge/movies)` (parse both TSVs, build the petgraph and
//!    the CSR walk), best and median of 5.
//! 2. **Memory**: resident-set growth over the load (`/proc/self/statm`, Linux) and the CSR bytes.
//! 3. **PPR per query**: personalized PageRank from 1 000 seed sets drawn deterministically from
//!    the items with metadata (`benches/common/seeds.rs`: 1–3 liked items, one requested person
//!    or genre, every fourth set a disliked item), by the exact power iteration and by the
//!    default forward push (`cargo bench --bench ppr` measures its accuracy). Median, p90, max,
//!    mean in milliseconds, and the ratio of the medians; before them, the one-off computation of
//!    the push's hub vectors (paid by the first default query of a process).
//! 4. **Attribute linking per utterance** on a fixed request.
//!
//! Prints JSON. Other processes on the same cores (e.g. a compile) inflate every figure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use curator::dialogue::attributes::AttributeLinker;
use curator::knowledge::{KnowledgeGraph, PprParams};

#[path = "common/seeds.rs"]
mod seeds;

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

    let t = Instant::now();
    kg.walk().prepare();
    let hub_vectors_ms = t.elapsed().as_secs_f64() * 1e3;
    // Both solvers on the same seed sets, interleaved so that load from other processes hits both.
    let (exact, push) = (PprParams::exact(), PprParams::default());
    let (mut times, mut push_times) = (Vec::new(), Vec::new());
    let (mut checksum, mut push_checksum) = (0f64, 0f64);
    for seeds in seeds::synthetic_sets(&kg) {
        let t = Instant::now();
        let scores = kg.ppr(&seeds, &exact);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        checksum += scores.iter().map(|&x| f64::from(x)).sum::<f64>();
        let t = Instant::now();
        let scores = kg.ppr(&seeds, &push);
        push_times.push(t.elapsed().as_secs_f64() * 1e3);
        push_checksum += scores.iter().map(|&x| f64::from(x)).sum::<f64>();
    }
    let push_mean = push_times.iter().sum::<f64>() / push_times.len() as f64;
    push_times.sort_by(f64::total_cmp);
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
            "method": "power iteration (exact reference)",
            "queries": times.len(),
            "iterations": exact.iterations,
            "restart": exact.restart,
            "median": quantile(&times, 0.5),
            "p90": quantile(&times, 0.9),
            "max": times[times.len() - 1],
            "mean": mean,
            "checksum": checksum,
        },
        "ppr_push_ms": {
            "method": "forward push with hub vectors (default)",
            "epsilon": curator::knowledge::DEFAULT_PUSH_EPSILON,
            "hubs": kg.walk().hub_count(),
            "hub_vectors_ms_once": hub_vectors_ms,
            "queries": push_times.len(),
            "median": quantile(&push_times, 0.5),
            "p90": quantile(&push_times, 0.9),
            "max": push_times[push_times.len() - 1],
            "mean": push_mean,
            "checksum": push_checksum,
            "median_speedup_vs_exact": quantile(&times, 0.5) / quantile(&push_times, 0.5),
        },
        "link_ms": { "median": quantile(&link_times, 0.5), "max": link_times[link_times.len() - 1] },
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
