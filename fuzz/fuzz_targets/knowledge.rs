//! The knowledge-graph loader on arbitrary bytes: `nodes.tsv` before the first NUL byte,
//! `edges.tsv` after it. A graph that loads is queried (facts, sequels, explanations, PPR).
#![no_main]

use std::path::Path;

use curator::knowledge::{KnowledgeGraph, NodeKind, PprParams};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (nodes, edges) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(g) = KnowledgeGraph::from_readers(nodes, Path::new("fuzz/nodes.tsv"), edges, Path::new("fuzz/edges.tsv"))
    else {
        return;
    };
    let items: Vec<_> = g.nodes_of(NodeKind::Item).take(8).map(|(ix, n)| (ix, n.item, n.display())).collect();
    for (ix, id, _) in &items {
        let _ = g.degree(*ix);
        if let Some(id) = id {
            let _ = (g.facts(*id), g.sequels(*id), g.prequels(*id));
            for (_, other, _) in &items {
                if let Some(other) = other {
                    let _ = g.explain(*id, *other);
                }
            }
        }
    }
    if let Some((ix, _, _)) = items.first() {
        // Both solvers: a short power iteration and the default forward push.
        let _ = g.ppr(&[(*ix, 1.0)], &PprParams { restart: 0.3, iterations: 3, ..PprParams::exact() });
        let _ = g.ppr(&[(*ix, 1.0)], &PprParams::default());
    }
});
