//! A bounded memo of single-seed personalized PageRank vectors, the store behind
//! [`PprMethod::SeedSum`](super::PprMethod::SeedSum).
//!
//! PPR is linear in its restart vector: `ppr(r) = Σ_i r_i · ppr(e_i)`. A dialogue's seeds change
//! little from turn to turn (each turn adds one or two items to the ones before) and popular
//! items are everybody's seeds, so the vector of one seed node, computed once, serves every
//! later query that has that seed: a query then costs one pass over the item vector per seed
//! (6,924 multiply-adds for the movies graph) instead of a forward push (≈ 70 k entry updates).
//!
//! Each vector is the item part (`items` f32, one per item node) of the forward push from the
//! unit seed at `(restart, ε)`, hubs resolved (module doc of `ppr`), so it meets the push's error
//! bound `ε·W(v)` per item; a weighted sum of vectors whose positive weights sum to 1 meets the
//! same bound. Keyed by (node, restart, ε); the value never depends on what else is in the memo,
//! so results are identical whether a query finds its vectors or computes them.
//!
//! Memory is bounded by [`SEED_MEMO_BYTES`]: at most `SEED_MEMO_BYTES / (4 · items)` vectors
//! (1,211 for the movies graph's 6,924 items, ≥ 16 for any graph); inserting into a full memo
//! evicts one arbitrary vector. Shared by every session of the process (behind the graph's
//! `Arc`); a poisoned lock is recovered, never a panic.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Upper bound of the memo's vector storage: 32 MiB.
pub const SEED_MEMO_BYTES: usize = 32 << 20;

/// (seed node, restart bits, ε bits).
type Key = (u32, u32, u32);

/// The memo (module doc).
pub(super) struct SeedMemo {
    map: RwLock<HashMap<Key, Arc<[f32]>>>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl SeedMemo {
    /// An empty memo for vectors of `items` entries (capacity from [`SEED_MEMO_BYTES`]).
    pub(super) fn new(items: usize) -> Self {
        let capacity = (SEED_MEMO_BYTES / (4 * items.max(1))).max(16);
        SeedMemo { map: RwLock::new(HashMap::new()), capacity, hits: AtomicU64::new(0), misses: AtomicU64::new(0) }
    }

    /// An empty memo holding at most `capacity` vectors (at least 1).
    #[cfg(test)]
    pub(super) fn with_capacity(capacity: usize) -> Self {
        SeedMemo { capacity: capacity.max(1), ..SeedMemo::new(1) }
    }

    /// Most vectors held at once.
    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The vector of `node` at `(restart, epsilon)`, computing it with `compute` when absent.
    pub(super) fn get_or_compute(
        &self,
        node: usize,
        restart: f32,
        epsilon: f32,
        compute: impl FnOnce() -> Vec<f32>,
    ) -> Arc<[f32]> {
        let key = (node as u32, restart.to_bits(), epsilon.to_bits());
        if let Some(v) = self.map.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Arc::clone(v);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        // Computed outside the lock: two sessions may compute the same vector at once; both get
        // the same values and one is kept.
        let v: Arc<[f32]> = compute().into();
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.capacity && !map.contains_key(&key) {
            if let Some(old) = map.keys().next().copied() {
                map.remove(&old);
            }
        }
        Arc::clone(map.entry(key).or_insert(v))
    }

    /// (vectors held, lookups that found their vector, lookups that computed it).
    pub(super) fn stats(&self) -> (usize, u64, u64) {
        let len = self.map.read().unwrap_or_else(|e| e.into_inner()).len();
        (len, self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// Drops every vector and zeroes the counters (benchmarks of the cold case).
    pub(super) fn clear(&self) {
        self.map.write().unwrap_or_else(|e| e.into_inner()).clear();
        self.hits.store(0, Ordering::Relaxed);
        self.misses.store(0, Ordering::Relaxed);
    }
}

impl Clone for SeedMemo {
    /// A clone starts empty (the vectors are a cache of the walk, not part of its value).
    fn clone(&self) -> Self {
        SeedMemo {
            map: RwLock::new(HashMap::new()),
            capacity: self.capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

impl Default for SeedMemo {
    fn default() -> Self {
        SeedMemo::new(1)
    }
}

impl std::fmt::Debug for SeedMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (len, hits, misses) = self.stats();
        f.debug_struct("SeedMemo")
            .field("vectors", &len)
            .field("capacity", &self.capacity)
            .field("hits", &hits)
            .field("misses", &misses)
            .finish()
    }
}
