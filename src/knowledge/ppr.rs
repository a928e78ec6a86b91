//! Personalized PageRank (random walk with restart) over the knowledge graph, on a compressed
//! sparse row (CSR) copy of the undirected graph with per-relation edge weights.
//!
//! `p = α·r + (1−α)·Pᵀp`, `P(u→v) = w(rel(u,v)) / W(u)` with `W(u) = Σ_v' w(rel(u,v'))` the
//! weighted degree, where `r` is the seed vector (positive seeds normalised to sum 1; negative
//! seeds scaled by the same factor). Mass at nodes with no weighted edge is dropped, so for
//! non-negative seeds every score is ≥ 0 and the scores sum to at most 1. Three solvers
//! ([`PprMethod`]):
//!
//! - **Power iteration** (the exact reference): `p₀ = α·r`, `p ← α·r + (1−α)·Pᵀp`, `iterations`
//!   times (the mass of walks longer than `iterations` steps, (1−α)^(iterations+1) ≈ 2 % at the
//!   defaults, is left out). O(edges × iterations): about 220 k transition entries (languages
//!   excluded) × 10 per query.
//! - **Forward push with hub vectors** (the default). The push of Andersen, Chung & Lang
//!   ("Local graph partitioning using PageRank vectors", FOCS 2006, §3), here on the weighted
//!   graph, keeps an estimate `p` and a residual `ρ` (starting at `r`) with the invariant
//!   `ppr(r) = p + ppr(ρ)`; pushing `u` moves `α·ρ(u)` into `p(u)` and spreads
//!   `(1−α)·ρ(u)·P(u→v)` to its neighbours. Alone it is slow and inaccurate on this graph: the
//!   genre, company and keyword hubs (up to 3 000 items each) collect much of the mass, and a hub
//!   is either pushed (touching thousands of entries) or left holding mass that decides the
//!   order of the top 100. So, as in the hub decomposition of Jeh & Widom ("Scaling
//!   personalized web search", WWW 2003), the PPR vector of every node with at least
//!   [`HUB_DEGREE`] entries (62 here) is precomputed (power iteration, [`HUB_ITERATIONS`], once
//!   per process at the first push, 0.1–0.4 s); the push never pushes a hub, and at the end
//!   `Σ_h ρ(h)·ppr(e_h)` is added exactly (linearity), then the first term `α·ρ(v)` of every
//!   other item's leftover `ppr(ρ(v)·e_v)`. Every non-hub node with `|ρ(u)| ≥ ε·W(u)` is pushed,
//!   so at the end `|ρ(u)| < ε·W(u)` there and, by the symmetry `ppr(e_u)(v)/W(v) =
//!   ppr(e_v)(u)/W(u)` of PPR on an undirected graph, the error at every item is
//!   `|ppr(r)(v) − p̂(v)| < ε·W(v)` (item nodes: W ≈ 5–40) plus the hub vectors' truncation,
//!   (1−α)^31 < 2·10⁻⁵ of the hub mass. Each push removes at least `α·ε·W(u)` of residual mass
//!   and reads deg(u) < [`HUB_DEGREE`] entries, so a query costs at most `Σ|r| / (0.3·α·ε)`
//!   entry updates plus one pass over the touched hub vectors, and far fewer in practice.
//!
//! - **Seed sum** ([`PprMethod::SeedSum`], the default): the forward push of each seed node
//!   alone, memoized per process (`seed_memo` module doc), summed with the seeds' weights. The
//!   same error bound; a query whose seeds were seen before does no push at all.
//!
//! The default ε = [`DEFAULT_PUSH_EPSILON`] = 2·10⁻⁶ was chosen on the ReDial *validation*
//! dialogues (`cargo bench --bench ppr`, `docs/speed.md`): over the PPR seeds of 929 validation
//! states, the top 100 items (seeds left out) have a mean recall of 0.993 (minimum 0.91) against
//! the power iteration, Kendall τ-b 0.985 over them, relative L1 error 0.074, at 2.4–2.8× less
//! time; ε = 10⁻⁶ gives 0.995 at 1.6–1.8×, ε = 10⁻⁵ 0.983 at 5–6×.
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use super::seed_memo::SeedMemo;
use super::{Node, Relation};

/// Nodes with at least this many transition entries are hubs (62 in the movies graph: genres,
/// the largest companies and keywords): their PPR vectors are precomputed and the push never
/// pushes them (module doc).
pub const HUB_DEGREE: usize = 100;

/// The restart probability the hub vectors are computed for (the default α); a push at any other
/// α pushes hubs like every other node.
pub const HUB_RESTART: f32 = 0.3;

/// Power iterations of the hub vectors: the mass left out, (1−α)^(HUB_ITERATIONS+1), is below
/// 2·10⁻⁵ of each hub's residual.
pub const HUB_ITERATIONS: usize = 30;

/// Residual threshold ε of the default forward push (module doc): a node is pushed while its
/// residual is at least ε times its weighted degree. 2·10⁻⁶: top-100 recall 0.993 against the
/// power iteration on ReDial validation seeds (`docs/speed.md`).
pub const DEFAULT_PUSH_EPSILON: f32 = 2e-6;

/// How [`PprWalk::run`] solves the PPR equation (module doc).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PprMethod {
    /// `iterations` power iterations (the exact reference; [`PprParams::exact`]).
    PowerIteration,
    /// Forward push until every residual is below `epsilon` × the node's weighted degree;
    /// `epsilon` is clamped to [1e-9, 1].
    ForwardPush {
        /// The residual threshold ε per unit of weighted degree.
        epsilon: f32,
    },
    /// The default: the forward push of each seed node alone (unit seed, at `epsilon`, hubs
    /// resolved), kept in a bounded per-process memo, and the seeds' weighted sum (linearity:
    /// `ppr(r) = Σ_i r_i·ppr(e_i)`; `seed_memo` module doc). Per item the same error bound as
    /// `ForwardPush` at `epsilon`; a seed seen before costs one pass over the item vector.
    SeedSum {
        /// The residual threshold ε of each seed's push.
        epsilon: f32,
    },
}

/// Parameters of [`PprWalk::run`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PprParams {
    /// Restart probability α per step (default 0.3), the same for both methods.
    pub restart: f32,
    /// Power iterations (default 10; the remaining mass after n steps is (1−α)^(n+1)); unused by
    /// the forward push.
    pub iterations: usize,
    /// The solver (default: memoized per-seed forward pushes with ε = [`DEFAULT_PUSH_EPSILON`],
    /// [`PprMethod::SeedSum`]).
    pub method: PprMethod,
}

impl Default for PprParams {
    fn default() -> Self {
        PprParams { restart: 0.3, iterations: 10, method: PprMethod::SeedSum { epsilon: DEFAULT_PUSH_EPSILON } }
    }
}

impl PprParams {
    /// The exact reference: 10 power iterations, α = 0.3.
    pub fn exact() -> Self {
        PprParams { method: PprMethod::PowerIteration, ..PprParams::default() }
    }

    /// The forward push with residual threshold `epsilon`, α = 0.3.
    pub fn push(epsilon: f32) -> Self {
        PprParams { method: PprMethod::ForwardPush { epsilon }, ..PprParams::default() }
    }

    /// The memoized per-seed pushes ([`PprMethod::SeedSum`]) with threshold `epsilon`, α = 0.3.
    pub fn seed_sum(epsilon: f32) -> Self {
        PprParams { method: PprMethod::SeedSum { epsilon }, ..PprParams::default() }
    }
}

/// The restart probability actually used for `restart` (clamped to [1e-3, 1]).
fn alpha_of(restart: f32) -> f32 {
    restart.clamp(1e-3, 1.0)
}

/// The full state of a forward push ([`PprWalk::push`]), per graph node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PushState {
    /// The estimate p (length: node count).
    pub estimate: Vec<f32>,
    /// The residual ρ left (length: node count); `|ρ(u)| < ε·W(u)` for every node.
    pub residual: Vec<f32>,
    /// Seed mass lost at nodes without weighted edges ((1−α)·ρ(u) of each push there).
    pub dropped: f64,
    /// Pushes done.
    pub pushes: usize,
    /// Transition entries touched by the pushes.
    pub entries: usize,
}

/// Walk weight of an edge of `rel`: people and sequels carry the most taste signal; genres,
/// companies and keywords connect many items; languages (one value covers 83 % of the
/// catalog) are left out.
pub fn relation_weight(rel: Relation) -> f32 {
    match rel {
        Relation::Sequel => 3.0,
        Relation::Director => 2.0,
        Relation::Writer => 1.5,
        Relation::Actor => 1.0,
        Relation::Keyword => 0.5,
        Relation::Genre => 0.3,
        Relation::Company => 0.3,
        Relation::Language => 0.0,
    }
}

/// The CSR transition matrix of the undirected, relation-weighted graph, stored by target
/// (pull form): row `v` lists every `u` with an edge to `v` and `P(u → v)`, so an iteration is a
/// sequential pass with gathers and no scattered writes.
#[derive(Debug, Clone, Default)]
pub struct PprWalk {
    /// `offsets[v]..offsets[v+1]` are `v`'s entries in `sources` / `probs`.
    offsets: Vec<u32>,
    sources: Vec<u32>,
    /// Transition probabilities P(source → v); each source's outgoing probabilities sum to 1.
    probs: Vec<f32>,
    /// The same entries read as out-edges (the graph is undirected: row `u` lists `u`'s
    /// neighbours): (sources[i], P(u → sources[i])) for the forward push.
    out_entries: Vec<(u32, f32)>,
    /// Weighted degree W(u) per node.
    weighted_degree: Vec<f32>,
    items: usize,
    /// Hub index per node (`u32::MAX`: not a hub); hubs are the nodes with at least
    /// `HUB_DEGREE` entries.
    hub_of: Vec<u32>,
    /// The hub nodes, in index order.
    hubs: Vec<usize>,
    /// Per hub, its converged PPR vector over the item nodes at restart [`HUB_RESTART`]
    /// (`hubs × items`, row-major); computed by the first forward push that needs it (about
    /// 0.1–0.4 s for the movies graph), so loading the graph stays cheap.
    hub_vectors: std::sync::OnceLock<Vec<f32>>,
    /// Single-seed vectors of [`PprMethod::SeedSum`] (bounded; empty in a clone).
    seed_memo: SeedMemo,
}

impl PprWalk {
    /// Builds the CSR from `graph` (both directions of every edge of non-zero weight) and the hub
    /// vectors of the nodes with at least [`HUB_DEGREE`] entries (module doc).
    pub fn new(graph: &DiGraph<Node, Relation, u32>, items: usize) -> Self {
        Self::with_hub_degree(graph, items, HUB_DEGREE)
    }

    /// [`PprWalk::new`] with hubs from `hub_degree` entries up (`usize::MAX`: no hub).
    pub fn with_hub_degree(graph: &DiGraph<Node, Relation, u32>, items: usize, hub_degree: usize) -> Self {
        let n = graph.node_count();
        let mut adj: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
        for e in graph.edge_references() {
            let w = relation_weight(*e.weight());
            if w <= 0.0 {
                continue;
            }
            let (s, t) = (e.source().index(), e.target().index());
            adj[s].push((t as u32, w));
            adj[t].push((s as u32, w));
        }
        let totals: Vec<f32> = adj.iter().map(|l| l.iter().map(|x| x.1).sum()).collect();
        let mut offsets = Vec::with_capacity(n + 1);
        let mut sources = Vec::new();
        let mut probs = Vec::new();
        let mut out_entries = Vec::new();
        offsets.push(0u32);
        for (v, list) in adj.iter_mut().enumerate() {
            list.sort_by_key(|x| x.0);
            // The graph is undirected: v's neighbours are exactly the sources of edges into v.
            for &(u, w) in list.iter() {
                sources.push(u);
                probs.push(w / totals[u as usize]);
                out_entries.push((u, w / totals[v]));
            }
            offsets.push(sources.len() as u32);
        }
        let mut walk = PprWalk {
            offsets,
            sources,
            probs,
            out_entries,
            weighted_degree: totals,
            items,
            hub_of: vec![u32::MAX; n],
            hubs: Vec::new(),
            hub_vectors: std::sync::OnceLock::new(),
            seed_memo: SeedMemo::new(items),
        };
        let hubs: Vec<usize> =
            (0..n).filter(|&u| (walk.offsets[u + 1] - walk.offsets[u]) as usize >= hub_degree.max(1)).collect();
        for (j, &u) in hubs.iter().enumerate() {
            walk.hub_of[u] = j as u32;
        }
        walk.hubs = hubs;
        walk
    }

    /// The converged PPR vectors (restart [`HUB_RESTART`], [`HUB_ITERATIONS`] power iterations)
    /// of every node of `hubs` over the item nodes, `hubs × items` row-major: one power
    /// iteration over all of them at once (each transition entry read once per iteration for
    /// every hub, so the inner loop runs over contiguous hub columns).
    fn hub_vectors_of(&self, hubs: &[usize]) -> Vec<f32> {
        let (n, h) = (self.node_count(), hubs.len());
        if h == 0 {
            return Vec::new();
        }
        let alpha = HUB_RESTART;
        let keep = 1.0 - alpha;
        let mut p = vec![0f32; n * h];
        for (j, &u) in hubs.iter().enumerate() {
            p[u * h + j] = alpha;
        }
        let mut next = vec![0f32; n * h];
        for _ in 0..HUB_ITERATIONS {
            for (v, row) in next.chunks_exact_mut(h).enumerate() {
                row.fill(0.0);
                let (a, b) = (self.offsets[v] as usize, self.offsets[v + 1] as usize);
                for (&u, &pr) in self.sources[a..b].iter().zip(&self.probs[a..b]) {
                    let src = &p[u as usize * h..(u as usize + 1) * h];
                    for (x, &y) in row.iter_mut().zip(src) {
                        *x += y * pr;
                    }
                }
                row.iter_mut().for_each(|x| *x *= keep);
            }
            for (j, &u) in hubs.iter().enumerate() {
                next[u * h + j] += alpha;
            }
            std::mem::swap(&mut p, &mut next);
        }
        let mut out = vec![0f32; h * self.items];
        for i in 0..self.items.min(n) {
            for j in 0..h {
                out[j * self.items + i] = p[i * h + j];
            }
        }
        out
    }

    /// Computes the hub vectors now if no push has yet (what the first default PPR query would
    /// otherwise pay; the benchmarks time it apart).
    pub fn prepare(&self) {
        self.hub_vectors.get_or_init(|| self.hub_vectors_of(&self.hubs));
    }

    /// True once the hub vectors exist ([`PprWalk::prepare`] or a first default query).
    pub fn is_prepared(&self) -> bool {
        self.hub_vectors.get().is_some()
    }

    /// The [`PprMethod::SeedSum`] memo: (vectors held, lookups that found their vector, lookups
    /// that computed it).
    pub fn seed_memo_stats(&self) -> (usize, u64, u64) {
        self.seed_memo.stats()
    }

    /// Most single-seed vectors the memo holds (`seed_memo` module doc).
    pub fn seed_memo_capacity(&self) -> usize {
        self.seed_memo.capacity()
    }

    /// Empties the [`PprMethod::SeedSum`] memo (what a fresh process starts with; benchmarks of
    /// the cold case). Results never depend on it.
    pub fn clear_seed_memo(&self) {
        self.seed_memo.clear();
    }

    /// Number of hubs (nodes whose residual is resolved by a precomputed vector).
    pub fn hub_count(&self) -> usize {
        self.hubs.len()
    }

    /// Bytes held by the CSR arrays, the hub vectors and the seed memo's vectors.
    pub fn heap_bytes(&self) -> usize {
        (self.offsets.capacity()
            + self.sources.capacity()
            + self.probs.capacity()
            + self.out_entries.capacity() * 2
            + self.weighted_degree.capacity()
            + self.hub_of.capacity()
            + self.hubs.capacity() * 2
            + self.hub_vectors.get().map_or(0, Vec::capacity)
            + self.seed_memo.stats().0 * self.items)
            * 4
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Number of transition entries (twice the edges of non-zero weight); a power iteration reads
    /// each once.
    pub fn entry_count(&self) -> usize {
        self.sources.len()
    }

    /// The weighted degree W(u) of node `u` (module doc; 0 out of range or without weighted edges).
    pub fn weighted_degree(&self, u: usize) -> f32 {
        self.weighted_degree.get(u).copied().unwrap_or(0.0)
    }

    /// The restart vector of `seeds` over `n` nodes: (node, scale × weight / positive total);
    /// `None` when no seed is positive (see [`PprWalk::run`]).
    fn restart_vector(seeds: &[(NodeIndex<u32>, f32)], n: usize, scale: f32) -> Option<Vec<(usize, f32)>> {
        let valid = |s: &&(NodeIndex<u32>, f32)| s.0.index() < n && s.1.is_finite() && s.1 != 0.0;
        let pos: f32 = seeds.iter().filter(valid).filter(|s| s.1 > 0.0).map(|s| s.1).sum();
        if pos <= 0.0 || n == 0 {
            return None;
        }
        Some(seeds.iter().filter(valid).map(|&(ix, w)| (ix.index(), scale * w / pos)).collect())
    }

    /// The forward push of the module doc over every node, from `seeds` (as in
    /// [`PprWalk::run`]) with restart probability `restart` (clamped to [1e-3, 1]) and residual
    /// threshold `epsilon` (clamped to [1e-9, 1]). No positive seed: all zeros, no push. When
    /// `restart` is [`HUB_RESTART`], hubs are never pushed: their residual stays in
    /// [`PushState::residual`] for [`PprWalk::run`] to resolve with the hub vectors.
    pub fn push(&self, seeds: &[(NodeIndex<u32>, f32)], restart: f32, epsilon: f32) -> PushState {
        let n = self.node_count();
        let mut st = PushState { estimate: vec![0f32; n], residual: vec![0f32; n], ..PushState::default() };
        let Some(restart_vec) = Self::restart_vector(seeds, n, 1.0) else { return st };
        let alpha = restart.clamp(1e-3, 1.0);
        let eps = if epsilon.is_finite() { epsilon.clamp(1e-9, 1.0) } else { DEFAULT_PUSH_EPSILON };
        let keep = 1.0 - alpha;
        let hubs = alpha == HUB_RESTART && !self.hubs.is_empty();
        // Per node (residual, threshold ε·W(u)) side by side, so an entry update reads one cache
        // line; the threshold is +∞ while the node is queued, and for good at a hub (its residual
        // accumulates and is never pushed).
        let threshold = |u: usize| eps * self.weighted_degree[u];
        let mut cell: Vec<[f32; 2]> = (0..n)
            .map(|u| [0.0, if hubs && self.hub_of[u] != u32::MAX { f32::INFINITY } else { threshold(u) }])
            .collect();
        let mut queue: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
        for &(i, w) in &restart_vec {
            cell[i][0] += w;
        }
        for &(i, _) in &restart_vec {
            let c = &mut cell[i];
            if c[0] != 0.0 && c[0].abs() >= c[1] {
                c[1] = f32::INFINITY;
                queue.push_back(i);
            }
        }
        let p = &mut st.estimate;
        while let Some(u) = queue.pop_front() {
            let t = threshold(u);
            cell[u][1] = t;
            let ru = cell[u][0];
            if ru == 0.0 || ru.abs() < t {
                continue;
            }
            p[u] += alpha * ru;
            cell[u][0] = 0.0;
            st.pushes += 1;
            let (a, b) = (self.offsets[u] as usize, self.offsets[u + 1] as usize);
            if a == b {
                st.dropped += f64::from(keep * ru);
                continue;
            }
            st.entries += b - a;
            let spread = keep * ru;
            for &(v, pr) in &self.out_entries[a..b] {
                let c = &mut cell[v as usize];
                c[0] += spread * pr;
                if c[0].abs() >= c[1] {
                    c[1] = f32::INFINITY;
                    queue.push_back(v as usize);
                }
            }
        }
        st.residual = cell.iter().map(|c| c[0]).collect();
        st
    }

    /// Scores per item node (`0..items`), clamped at 0, for `seeds` (node, weight), by
    /// `params.method` (module doc). Seeds outside the graph, non-finite and zero weights are
    /// ignored; no positive seed gives all zeros.
    pub fn run(&self, seeds: &[(NodeIndex<u32>, f32)], params: &PprParams) -> Vec<f32> {
        match params.method {
            PprMethod::PowerIteration => self.power_iteration(seeds, params),
            PprMethod::SeedSum { epsilon } => {
                let mut out = vec![0f32; self.items];
                let Some(restart) = Self::restart_vector(seeds, self.node_count(), 1.0) else { return out };
                let single = PprParams { method: PprMethod::ForwardPush { epsilon }, ..*params };
                for (u, w) in restart {
                    let v = self
                        .seed_memo
                        .get_or_compute(u, params.restart, epsilon, || self.run(&[(NodeIndex::new(u), 1.0)], &single));
                    for (o, &x) in out.iter_mut().zip(v.iter()) {
                        *o += w * x;
                    }
                }
                out.iter_mut().for_each(|x| *x = x.max(0.0));
                out
            }
            PprMethod::ForwardPush { epsilon } => {
                let st = self.push(seeds, params.restart, epsilon);
                let mut out = vec![0f32; self.items];
                for (o, x) in out.iter_mut().zip(&st.estimate) {
                    *o = *x;
                }
                if params.restart.clamp(1e-3, 1.0) == HUB_RESTART {
                    // ppr(ρ) = Σ_u ρ(u)·ppr(e_u): the hubs' share, exactly (up to the hub vectors'
                    // truncation).
                    let vectors = self.hub_vectors.get_or_init(|| self.hub_vectors_of(&self.hubs));
                    for (j, &u) in self.hubs.iter().enumerate() {
                        let rho = st.residual[u];
                        if rho == 0.0 {
                            continue;
                        }
                        let Some(row) = vectors.get(j * self.items..(j + 1) * self.items) else { continue };
                        for (o, &x) in out.iter_mut().zip(row) {
                            *o += rho * x;
                        }
                    }
                }
                // The first term of the rest, α·ρ(v) at each non-hub item (ppr(e_v) ≥ α·e_v): the
                // estimate only moves towards ppr(r) (for non-negative residuals) at the cost of
                // one pass over the items.
                for (v, o) in out.iter_mut().enumerate() {
                    if self.hub_of.get(v).is_some_and(|&j| j == u32::MAX) {
                        *o += alpha_of(params.restart) * st.residual[v];
                    }
                }
                out.iter_mut().for_each(|x| *x = x.max(0.0));
                out
            }
        }
    }

    fn power_iteration(&self, seeds: &[(NodeIndex<u32>, f32)], params: &PprParams) -> Vec<f32> {
        let n = self.node_count();
        let mut out = vec![0f32; self.items];
        let alpha = params.restart.clamp(1e-3, 1.0);
        let Some(restart) = Self::restart_vector(seeds, n, alpha) else { return out };
        let mut p = vec![0f32; n];
        for &(i, r) in &restart {
            p[i] += r;
        }
        let mut next = vec![0f32; n];
        let keep = 1.0 - alpha;
        for _ in 0..params.iterations {
            for (v, slot) in next.iter_mut().enumerate() {
                let (a, b) = (self.offsets[v] as usize, self.offsets[v + 1] as usize);
                let mut acc = 0f32;
                for (&u, &pr) in self.sources[a..b].iter().zip(&self.probs[a..b]) {
                    acc += p[u as usize] * pr;
                }
                *slot = keep * acc;
            }
            for &(i, r) in &restart {
                next[i] += r;
            }
            std::mem::swap(&mut p, &mut next);
        }
        for (o, x) in out.iter_mut().zip(&p) {
            *o = x.max(0.0);
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::knowledge::{NodeKind, SEED_MEMO_BYTES};
    use proptest::prelude::*;

    const RELATIONS: [Relation; 8] = [
        Relation::Sequel,
        Relation::Director,
        Relation::Writer,
        Relation::Actor,
        Relation::Keyword,
        Relation::Genre,
        Relation::Company,
        Relation::Language,
    ];

    /// A graph of `items` item nodes then `attributes` attribute nodes with the edges `edges`
    /// (item, attribute or item, relation index), as the knowledge build writes them.
    fn graph(items: usize, attributes: usize, edges: &[(usize, usize, usize)]) -> DiGraph<Node, Relation, u32> {
        let mut g = DiGraph::<Node, Relation, u32>::new();
        for i in 0..items {
            g.add_node(Node { kind: NodeKind::Item, name: format!("item {i}"), item: Some(i as u32), year: None });
        }
        for a in 0..attributes {
            g.add_node(Node { kind: NodeKind::Keyword, name: format!("attribute {a}"), item: None, year: None });
        }
        for &(i, t, r) in edges {
            let rel = RELATIONS[r % RELATIONS.len()];
            let target = if rel == Relation::Sequel { t % items } else { items + t % attributes };
            if target != i % items {
                g.add_edge(NodeIndex::new(i % items), NodeIndex::new(target), rel);
            }
        }
        g
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// On random graphs, with and without hubs, the push terminates, conserves mass
        /// (Σ p + Σ ρ + dropped = 1 for non-negative seeds), leaves every non-hub residual below
        /// ε·W(u), and [`PprWalk::run`] is within ε·W(v) (plus the hub vectors' truncation) of the
        /// converged power iteration at every item.
        #[test]
        fn push_terminates_conserves_mass_and_meets_its_bound(
            items in 1usize..40,
            attributes in 1usize..15,
            edges in proptest::collection::vec((0usize..40, 0usize..40, 0usize..8), 0..160),
            seeds in proptest::collection::vec((0usize..60, 0.01f32..2.0), 1..4),
            eps_exp in 2i32..7,
            hub_degree in prop_oneof![Just(usize::MAX), 2usize..12],
        ) {
            let g = graph(items, attributes, &edges);
            let walk = PprWalk::with_hub_degree(&g, items, hub_degree);
            let n = g.node_count();
            let seeds: Vec<(NodeIndex<u32>, f32)> = seeds.iter().map(|&(s, w)| (NodeIndex::new(s % n), w)).collect();
            let eps = 10f32.powi(-eps_exp);
            let st = walk.push(&seeds, 0.3, eps);
            let mass: f64 = st.estimate.iter().chain(&st.residual).map(|&x| f64::from(x)).sum::<f64>() + st.dropped;
            prop_assert!((mass - 1.0).abs() < 1e-4, "mass {}", mass);
            for u in 0..n {
                let hub = walk.hub_of[u] != u32::MAX;
                prop_assert!(hub || st.residual[u].abs() < eps * walk.weighted_degree[u] || st.residual[u] == 0.0);
                prop_assert!(st.estimate[u] >= 0.0);
            }
            let exact = walk.run(&seeds, &PprParams { iterations: 300, ..PprParams::exact() });
            let approx = walk.run(&seeds, &PprParams::push(eps));
            // The seed sum, twice: computing its vectors, then finding them in the memo.
            let cold = walk.run(&seeds, &PprParams::seed_sum(eps));
            let warm = walk.run(&seeds, &PprParams::seed_sum(eps));
            prop_assert_eq!(&cold, &warm);
            for v in 0..items {
                let bound = eps * walk.weighted_degree[v] + 5e-5;
                prop_assert!((exact[v] - approx[v]).abs() <= bound, "item {}: {} vs {} (bound {})", v, exact[v], approx[v], bound);
                prop_assert!((exact[v] - cold[v]).abs() <= bound, "seed sum, item {}: {} vs {} (bound {})", v, exact[v], cold[v], bound);
            }
        }
    }

    #[test]
    fn the_seed_memo_is_bounded_and_never_changes_a_result() {
        // 30 items sharing 7 attributes; a memo of 8 vectors, filled past its capacity below.
        let edges: Vec<(usize, usize, usize)> = (0..30).flat_map(|i| [(i, i % 7, 1), (i, (i + 3) % 7, 3)]).collect();
        let g = graph(30, 7, &edges);
        let mut walk = PprWalk::new(&g, 30);
        assert_eq!(walk.seed_memo_capacity(), SEED_MEMO_BYTES / (4 * 30));
        walk.seed_memo = SeedMemo::with_capacity(8);
        let seeds = [(NodeIndex::new(4), 1.0), (NodeIndex::new(9), 0.5), (NodeIndex::new(31), 0.25)];
        let first = walk.run(&seeds, &PprParams::default());
        assert_eq!(walk.seed_memo_stats(), (3, 0, 3));
        assert_eq!(walk.run(&seeds, &PprParams::default()), first);
        assert_eq!(walk.seed_memo_stats(), (3, 3, 3));
        let cap = walk.seed_memo_capacity();
        assert_eq!(cap, 8);
        for k in 0..cap + 40 {
            let eps = 1e-6 * (1.0 + k as f32);
            walk.run(&[(NodeIndex::new(k % 37), 1.0)], &PprParams::seed_sum(eps));
        }
        assert_eq!(walk.seed_memo_stats().0, cap);
        walk.clear_seed_memo();
        assert_eq!(walk.seed_memo_stats(), (0, 0, 0));
        assert_eq!(walk.run(&seeds, &PprParams::default()), first);
        // A clone starts with an empty memo and computes the same scores.
        let clone = walk.clone();
        assert_eq!(clone.seed_memo_stats().0, 0);
        assert_eq!(clone.run(&seeds, &PprParams::default()), first);
    }

    #[test]
    fn no_positive_seed_pushes_nothing() {
        let g = graph(3, 2, &[(0, 0, 1), (1, 0, 1), (2, 1, 3)]);
        let walk = PprWalk::new(&g, 3);
        let st = walk.push(&[(NodeIndex::new(0), -1.0), (NodeIndex::new(99), 1.0)], 0.3, 1e-6);
        assert_eq!((st.pushes, st.estimate.iter().sum::<f32>()), (0, 0.0));
        assert_eq!(walk.run(&[(NodeIndex::new(1), f32::NAN)], &PprParams::default()), vec![0.0; 3]);
    }

    #[test]
    fn a_seed_without_edges_keeps_alpha_and_drops_the_rest() {
        // Item 2 has only a language edge (weight 0): a dangling node.
        let g = graph(3, 2, &[(0, 0, 1), (1, 0, 1), (2, 1, 7)]);
        let walk = PprWalk::new(&g, 3);
        let st = walk.push(&[(NodeIndex::new(2), 1.0)], 0.3, 1e-6);
        assert_eq!(st.pushes, 1);
        assert!((st.estimate[2] - 0.3).abs() < 1e-6 && (st.dropped - 0.7).abs() < 1e-6);
        let exact = walk.run(&[(NodeIndex::new(2), 1.0)], &PprParams::exact());
        assert!((exact[2] - 0.3).abs() < 1e-6);
    }
}
