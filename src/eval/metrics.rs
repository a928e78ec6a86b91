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

pub use crate::util::splitmix64;

/// A paired comparison of two systems on the same evaluation instances.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedDifference {
    /// Objective of `a` minus objective of `b` (objective: mean of R@1, R@10, R@50 over samples).
    pub difference: f64,
    /// 2.5th percentile of the bootstrap differences.
    pub low: f64,
    /// 97.5th percentile of the bootstrap differences.
    pub high: f64,
    /// Share of bootstrap resamples where `a` does not beat `b` (difference ≤ 0): a one-sided
    /// bootstrap p-value for "a is better".
    pub p_not_better: f64,
    /// Instances (resampling units).
    pub instances: usize,
    /// Samples (ground-truth items) over all instances.
    pub samples: usize,
    /// Bootstrap resamples.
    pub resamples: usize,
}

/// Paired bootstrap over instances (Efron and Tibshirani, "An Introduction to the Bootstrap",
/// 1993, ch. 16; as used for IR significance by Sakai, SIGIR 2006) of the objective difference
/// of two systems. `a[i]` and `b[i]` are the 1-based ranks (`None`: absent) of instance `i`'s
/// samples under each system; an instance is resampled with all its samples. Deterministic
/// (`seed`).
///
/// Errors: [`crate::Error::InvalidInput`] if `a` and `b` differ in shape, are empty, or
/// `resamples` is 0.
pub fn paired_bootstrap(
    a: &[Vec<Option<usize>>],
    b: &[Vec<Option<usize>>],
    resamples: usize,
    seed: u64,
) -> crate::Result<PairedDifference> {
    paired_bootstrap_at(a, b, &[1, 10, 50], resamples, seed)
}

/// [`paired_bootstrap`] of the mean of Recall@K over the cut-offs `ks` instead of the objective
/// (`&[10]`: R@10 alone; `&[1, 10, 50]`: the objective).
///
/// Errors: those of [`paired_bootstrap`], and an empty `ks`.
pub fn paired_bootstrap_at(
    a: &[Vec<Option<usize>>],
    b: &[Vec<Option<usize>>],
    ks: &[usize],
    resamples: usize,
    seed: u64,
) -> crate::Result<PairedDifference> {
    if ks.is_empty() {
        return Err(crate::Error::InvalidInput("a paired comparison needs at least one cut-off K".to_string()));
    }
    if a.len() != b.len() || a.iter().zip(b).any(|(x, y)| x.len() != y.len()) {
        return Err(crate::Error::InvalidInput(
            "a paired comparison needs the same instances and samples on both sides".to_string(),
        ));
    }
    if a.is_empty() || resamples == 0 {
        return Err(crate::Error::InvalidInput(
            "a paired comparison needs at least one instance and one resample".to_string(),
        ));
    }
    // Per instance: (samples, Σ over samples of the mean of hit@K over `ks`, for a − for b).
    let hits = |r: &Option<usize>| ks.iter().map(|&k| recall_at(*r, k)).sum::<f64>() / ks.len() as f64;
    let per: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x.len() as f64, x.iter().map(hits).sum::<f64>() - y.iter().map(hits).sum::<f64>()))
        .collect();
    let ratio = |n: f64, d: f64| if n > 0.0 { d / n } else { 0.0 };
    let (n, d) = per.iter().fold((0.0, 0.0), |acc, p| (acc.0 + p.0, acc.1 + p.1));
    let difference = ratio(n, d);
    let mut state = seed;
    let mut diffs: Vec<f64> = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        let (mut n, mut d) = (0.0, 0.0);
        for _ in 0..per.len() {
            let i = (splitmix64(&mut state) % per.len() as u64) as usize;
            n += per[i].0;
            d += per[i].1;
        }
        diffs.push(ratio(n, d));
    }
    diffs.sort_unstable_by(f64::total_cmp);
    let at = |q: f64| diffs[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    Ok(PairedDifference {
        difference,
        low: at(0.025),
        high: at(0.975),
        p_not_better: diffs.iter().filter(|&&x| x <= 0.0).count() as f64 / resamples as f64,
        instances: per.len(),
        samples: n as usize,
        resamples,
    })
}

impl std::fmt::Display for PairedDifference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:+.4} (95% paired bootstrap interval {:+.4} … {:+.4}; p(not better) {:.3}; {} instances / {} samples, {} resamples)",
            self.difference, self.low, self.high, self.p_not_better, self.instances, self.samples, self.resamples
        )
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
    #[allow(clippy::unwrap_used)]
    fn paired_bootstrap_of_identical_and_dominating_systems() {
        let a = vec![vec![Some(1)], vec![Some(1), None], vec![Some(20)]];
        // Identical systems: difference 0 in every resample, so "not better" is certain.
        let same = paired_bootstrap(&a, &a, 200, 7).unwrap();
        assert_eq!((same.difference, same.low, same.high, same.p_not_better), (0.0, 0.0, 0.0, 1.0));
        assert_eq!((same.instances, same.samples, same.resamples), (3, 4, 200));
        // a hits @1 on every sample, b never ranks anything: difference 1 everywhere.
        let all = vec![vec![Some(1)], vec![Some(1), Some(1)], vec![Some(1)]];
        let none = vec![vec![None], vec![None, None], vec![None]];
        let d = paired_bootstrap(&all, &none, 200, 7).unwrap();
        assert_eq!((d.difference, d.low, d.high, d.p_not_better), (1.0, 1.0, 1.0, 0.0));
        // Sample-weighted: a gains 1 on the first instance only (1 of 4 samples) → ¼; b wins the
        // rank-20 sample (⅔ of the objective's cut-offs) → a − b = (1 − ⅔)/4.
        let b = vec![vec![None], vec![Some(1), None], vec![Some(1)]];
        let d = paired_bootstrap(&a, &b, 500, 7).unwrap();
        assert!((d.difference - (1.0 - 2.0 / 3.0) / 4.0).abs() < 1e-12, "{d}");
        assert!(d.low <= d.difference && d.difference <= d.high, "{d}");
        assert_eq!(d, paired_bootstrap(&a, &b, 500, 7).unwrap());
        assert!(paired_bootstrap(&a, &b[..2], 10, 7).is_err());
        assert!(paired_bootstrap(&a, &vec![vec![None]; 3], 10, 7).is_err());
        assert!(paired_bootstrap(&[], &[], 10, 7).is_err());
        assert!(paired_bootstrap(&a, &a, 0, 7).is_err());
        // One cut-off: at K = 10 both systems hit 2 of the 4 samples (a's rank 20 misses);
        // at K = 50 a hits 3 and b 2, so a − b = ¼.
        let at10 = paired_bootstrap_at(&a, &b, &[10], 200, 7).unwrap();
        assert!(at10.difference.abs() < 1e-12, "{at10}");
        let at50 = paired_bootstrap_at(&a, &b, &[50], 200, 7).unwrap();
        assert!((at50.difference - 0.25).abs() < 1e-12, "{at50}");
        assert!(paired_bootstrap_at(&a, &b, &[], 200, 7).is_err());
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
