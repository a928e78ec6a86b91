//! The deterministic PPR seed sets shared by `benches/knowledge.rs` and `benches/ppr.rs`.

use curator::knowledge::{KnowledgeGraph, NodeKind};
use petgraph::graph::NodeIndex;

/// 1 000 seed sets drawn with a linear congruential generator (no external randomness) from the
/// items with at least 5 edges: 1–3 liked items (weight 1), then a person with at least 3 edges
/// (0.8, even sets) or a genre (0.5, odd sets), and every fourth set a disliked item (−0.5).
pub fn synthetic_sets(kg: &KnowledgeGraph) -> Vec<Vec<(NodeIndex<u32>, f32)>> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |m: usize| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % m.max(1)
    };
    let items: Vec<usize> = (0..kg.item_count()).filter(|&i| kg.degree(NodeIndex::new(i)) >= 5).collect();
    let people: Vec<NodeIndex<u32>> =
        kg.nodes_of(NodeKind::Person).map(|(ix, _)| ix).filter(|&ix| kg.degree(ix) >= 3).collect();
    let genres: Vec<NodeIndex<u32>> = kg.nodes_of(NodeKind::Genre).map(|(ix, _)| ix).collect();
    (0..1000)
        .map(|q| {
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
            seeds
        })
        .collect()
}
