//! Ranking metrics for recommendation evaluation: Recall@K (hit@K), NDCG@K and MRR@K.
//!
//! Every metric is computed **per sample** — one ground-truth item scored against the ranked list
//! produced for its evaluation point — and aggregated as the mean over samples (DESIGN.md §4).
//! With a single relevant item per sample the formulas reduce to functions of its 1-based rank
//! `r` in the list:
//!
//! - Recall@K = hit@K = 1 if `r ≤ K`, else 0;
//! - NDCG@K = 1 / log2(r + 1) if `r ≤ K`, else 0 (the ideal DCG of one relevant item is 1);
//! - MRR@K = 1 / r if `r ≤ K`, else 0.
//!
//! **Ranks and ties.** The rank of an item is the 1-based position of its *first* occurrence in
//! the list exactly as the ranker returned it. Rankers that give several items the same score
//! must break the tie themselves; the order of the list is the tie-break, and no metric here
//! averages over tied positions. A repeated item in a list still occupies its later positions.
//! An item absent from the list, a K beyond the list's length that the item does not reach, and
//! an empty list all score 0.

use serde::{Deserialize, Serialize};

use crate::catalog::ItemId;

/// Cut-offs reported for Recall@K: 1, 10 and 50 (the published ReDial anchors' R@1/R@10/R@50).
pub const RECALL_KS: [usize; 3] = [1, 10, 50];

/// Cut-offs reported for NDCG@K and MRR@K: 10 and 50.
pub const RANK_KS: [usize; 2] = [10, 50];

/// The longest cut-off used by [`Metrics`]; evaluation asks rankers for this many items.
pub const MAX_K: usize = 50;

/// 1-based rank of the first occurrence of `item` in `ranking`, or `None` when it is absent.
pub fn rank_of(ranking: &[ItemId], item: ItemId) -> Option<usize> {
    ranking.iter().position(|&x| x == item).map(|i| i + 1)
}

/// Recall@K (hit@K) of one sample whose relevant item sits at 1-based `rank` (`None`: absent):
/// 1.0 if `rank ≤ k`, else 0.0.
pub fn recall_at(rank: Option<usize>, k: usize) -> f64 {
    match rank {
        Some(r) if r >= 1 && r <= k => 1.0,
        _ => 0.0,
    }
}

/// NDCG@K of one sample with a single relevant item at 1-based `rank` (`None`: absent):
/// 1 / log2(rank + 1) if `rank ≤ k`, else 0.0.
pub fn ndcg_at(rank: Option<usize>, k: usize) -> f64 {
    match rank {
        Some(r) if r >= 1 && r <= k => 1.0 / ((r as f64) + 1.0).log2(),
        _ => 0.0,
    }
}

/// MRR@K (reciprocal rank cut at K) of one sample whose relevant item sits at 1-based `rank`
/// (`None`: absent): 1 / rank if `rank ≤ k`, else 0.0.
pub fn mrr_at(rank: Option<usize>, k: usize) -> f64 {
    match rank {
        Some(r) if r >= 1 && r <= k => 1.0 / r as f64,
        _ => 0.0,
    }
}

/// The reported metric set: per-sample values, or their means over samples. Every value lies in
/// [0, 1]. Field names are the JSON keys of the evaluation reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Recall@1 (hit@1).
    pub recall_at_1: f64,
    /// Recall@10 (hit@10).
    pub recall_at_10: f64,
    /// Recall@50 (hit@50).
    pub recall_at_50: f64,
    /// NDCG@10.
    pub ndcg_at_10: f64,
    /// NDCG@50.
    pub ndcg_at_50: f64,
    /// MRR@10.
    pub mrr_at_10: f64,
    /// MRR@50.
    pub mrr_at_50: f64,
}

impl Metrics {
    /// The metrics of one sample whose relevant item sits at 1-based `rank` (`None`: absent).
    pub fn for_rank(rank: Option<usize>) -> Self {
        Metrics {
            recall_at_1: recall_at(rank, 1),
            recall_at_10: recall_at(rank, 10),
            recall_at_50: recall_at(rank, 50),
            ndcg_at_10: ndcg_at(rank, 10),
            ndcg_at_50: ndcg_at(rank, 50),
            mrr_at_10: mrr_at(rank, 10),
            mrr_at_50: mrr_at(rank, 50),
        }
    }

    /// The metrics of one sample: `target` scored against `ranking` (see [`rank_of`]).
    pub fn for_sample(ranking: &[ItemId], target: ItemId) -> Self {
        Metrics::for_rank(rank_of(ranking, target))
    }

    /// `(name, value)` pairs in reporting order: R@1, R@10, R@50, NDCG@10, NDCG@50, MRR@10,
    /// MRR@50.
    pub fn named(&self) -> [(&'static str, f64); 7] {
        [
            ("R@1", self.recall_at_1),
            ("R@10", self.recall_at_10),
            ("R@50", self.recall_at_50),
            ("NDCG@10", self.ndcg_at_10),
            ("NDCG@50", self.ndcg_at_50),
            ("MRR@10", self.mrr_at_10),
            ("MRR@50", self.mrr_at_50),
        ]
    }

    fn add(&mut self, other: &Metrics) {
        self.recall_at_1 += other.recall_at_1;
        self.recall_at_10 += other.recall_at_10;
        self.recall_at_50 += other.recall_at_50;
        self.ndcg_at_10 += other.ndcg_at_10;
        self.ndcg_at_50 += other.ndcg_at_50;
        self.mrr_at_10 += other.mrr_at_10;
        self.mrr_at_50 += other.mrr_at_50;
    }

    fn scaled(&self, factor: f64) -> Metrics {
        Metrics {
            recall_at_1: self.recall_at_1 * factor,
            recall_at_10: self.recall_at_10 * factor,
            recall_at_50: self.recall_at_50 * factor,
            ndcg_at_10: self.ndcg_at_10 * factor,
            ndcg_at_50: self.ndcg_at_50 * factor,
            mrr_at_10: self.mrr_at_10 * factor,
            mrr_at_50: self.mrr_at_50 * factor,
        }
    }
}

/// Sums per-sample [`Metrics`] and reports their means.
#[derive(Debug, Clone, Default)]
pub struct MetricsAccumulator {
    sums: Metrics,
    samples: usize,
}

impl MetricsAccumulator {
    /// An accumulator with no samples.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one sample whose relevant item sits at 1-based `rank` (`None`: absent).
    pub fn add_rank(&mut self, rank: Option<usize>) {
        self.sums.add(&Metrics::for_rank(rank));
        self.samples += 1;
    }

    /// Adds one sample: `target` scored against `ranking`.
    pub fn add(&mut self, ranking: &[ItemId], target: ItemId) {
        self.add_rank(rank_of(ranking, target));
    }

    /// Number of samples added so far.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Means over the samples added; all zeros when there are none.
    pub fn mean(&self) -> Metrics {
        if self.samples == 0 {
            return Metrics::default();
        }
        self.sums.scaled(1.0 / self.samples as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn rank_is_first_occurrence_and_one_based() {
        let ranking = [7, 3, 9, 3];
        assert_eq!(rank_of(&ranking, 7), Some(1));
        assert_eq!(rank_of(&ranking, 3), Some(2));
        assert_eq!(rank_of(&ranking, 9), Some(3));
        assert_eq!(rank_of(&ranking, 4), None);
        assert_eq!(rank_of(&[], 4), None);
    }

    #[test]
    fn hand_computed_values_at_rank_three() {
        // Item at rank 3: hit@1 = 0, hit@10 = 1, NDCG = 1/log2(4) = 0.5, MRR = 1/3.
        let m = Metrics::for_sample(&[10, 20, 30, 40], 30);
        assert_eq!(m.recall_at_1, 0.0);
        assert_eq!(m.recall_at_10, 1.0);
        assert_eq!(m.recall_at_50, 1.0);
        assert!(close(m.ndcg_at_10, 0.5));
        assert!(close(m.ndcg_at_50, 0.5));
        assert!(close(m.mrr_at_10, 1.0 / 3.0));
        assert!(close(m.mrr_at_50, 1.0 / 3.0));
    }

    #[test]
    fn rank_one_scores_one_everywhere() {
        let m = Metrics::for_sample(&[5], 5);
        for (name, v) in m.named() {
            assert!(close(v, 1.0), "{name} = {v}");
        }
    }

    #[test]
    fn rank_between_cutoffs() {
        // Rank 11: outside @10, inside @50. NDCG@50 = 1/log2(12), MRR@50 = 1/11.
        let ranking: Vec<ItemId> = (1..=60).collect();
        let m = Metrics::for_sample(&ranking, 11);
        assert_eq!(m.recall_at_10, 0.0);
        assert_eq!(m.ndcg_at_10, 0.0);
        assert_eq!(m.mrr_at_10, 0.0);
        assert_eq!(m.recall_at_50, 1.0);
        assert!(close(m.ndcg_at_50, 1.0 / 12f64.log2()));
        assert!(close(m.mrr_at_50, 1.0 / 11.0));
        // Rank 50 is the last one counted; rank 51 is out.
        assert_eq!(Metrics::for_sample(&ranking, 50).recall_at_50, 1.0);
        assert_eq!(Metrics::for_sample(&ranking, 51).recall_at_50, 0.0);
    }

    #[test]
    fn ties_are_broken_by_list_order() {
        // A ranker that scores 1 and 2 equally but lists 2 first: 2 has rank 1, 1 has rank 2.
        let ranking = [2, 1];
        assert_eq!(Metrics::for_sample(&ranking, 2).recall_at_1, 1.0);
        assert_eq!(Metrics::for_sample(&ranking, 1).recall_at_1, 0.0);
        assert!(close(Metrics::for_sample(&ranking, 1).mrr_at_10, 0.5));
    }

    #[test]
    fn k_beyond_list_length() {
        // A 3-item list asked at K = 10 and 50: the item at rank 2 counts, rank 4 does not exist.
        let ranking = [1, 2, 3];
        let m = Metrics::for_sample(&ranking, 2);
        assert_eq!(m.recall_at_10, 1.0);
        assert_eq!(m.recall_at_50, 1.0);
        assert!(close(m.ndcg_at_50, 1.0 / 3f64.log2()));
        assert!(close(m.mrr_at_50, 0.5));
        assert_eq!(Metrics::for_sample(&ranking, 4), Metrics::default());
    }

    #[test]
    fn absent_item_and_empty_ranking_score_zero() {
        assert_eq!(Metrics::for_sample(&[1, 2, 3], 9), Metrics::default());
        assert_eq!(Metrics::for_sample(&[], 9), Metrics::default());
        assert_eq!(recall_at(Some(1), 0), 0.0);
    }

    #[test]
    fn accumulator_means_over_samples() {
        let mut acc = MetricsAccumulator::new();
        assert_eq!(acc.mean(), Metrics::default());
        acc.add(&[1, 2, 3], 1); // rank 1
        acc.add(&[1, 2, 3], 3); // rank 3
        acc.add(&[], 3); // absent
        acc.add_rank(None); // absent
        assert_eq!(acc.samples(), 4);
        let m = acc.mean();
        assert!(close(m.recall_at_1, 0.25));
        assert!(close(m.recall_at_10, 0.5));
        assert!(close(m.ndcg_at_10, (1.0 + 0.5) / 4.0));
        assert!(close(m.mrr_at_50, (1.0 + 1.0 / 3.0) / 4.0));
    }

    proptest! {
        #[test]
        fn recall_is_monotone_in_k(rank in proptest::option::of(1usize..200), k in 0usize..200) {
            prop_assert!(recall_at(rank, k) <= recall_at(rank, k + 1));
            prop_assert!(ndcg_at(rank, k) <= ndcg_at(rank, k + 1));
            prop_assert!(mrr_at(rank, k) <= mrr_at(rank, k + 1));
        }

        #[test]
        fn ndcg_and_mrr_bounded_by_recall(rank in proptest::option::of(1usize..200), k in 0usize..200) {
            let (r, n, m) = (recall_at(rank, k), ndcg_at(rank, k), mrr_at(rank, k));
            for v in [r, n, m] {
                prop_assert!((0.0..=1.0).contains(&v));
            }
            prop_assert!(n <= r);
            prop_assert!(m <= n + 1e-15);
        }

        #[test]
        fn mean_metrics_lie_in_unit_interval(
            rankings in proptest::collection::vec(
                (proptest::collection::vec(0u32..80, 0..60), 0u32..80), 0..30)
        ) {
            let mut acc = MetricsAccumulator::new();
            for (ranking, target) in &rankings {
                acc.add(ranking, *target);
            }
            let m = acc.mean();
            for (name, v) in m.named() {
                prop_assert!((0.0..=1.0 + 1e-12).contains(&v), "{} = {}", name, v);
            }
            prop_assert!(m.recall_at_1 <= m.recall_at_10 + 1e-12);
            prop_assert!(m.recall_at_10 <= m.recall_at_50 + 1e-12);
            prop_assert!(m.ndcg_at_10 <= m.recall_at_10 + 1e-12);
            prop_assert!(m.ndcg_at_50 <= m.recall_at_50 + 1e-12);
        }
    }
}
