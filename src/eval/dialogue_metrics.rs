//! Dialogue-level and response metrics (DESIGN.md §4), as pure functions over rankings and
//! replies so that each is tested against hand-computed values.
//!
//! - **Success Rate** and **Reward per Dialogue Length** follow Kostric & Balog (SIGIR '26): at
//!   each evaluation point of a dialogue the system's top-1 item earns a reward from the
//!   questionnaire labels of that dialogue — 1.0 if the seeker liked it, 0.5 if the seeker has
//!   seen it (and did not say they liked it), else 0. A dialogue succeeds when any of its points
//!   earns a reward > 0; its reward per length is the sum of its points' rewards divided by its
//!   number of points. Both are means over dialogues with ≥ 1 evaluation point. The labels are
//!   the seeker's questionnaire (`initiatorQuestions`), else the recommender's
//!   (`respondentQuestions`) when the seeker's has no answer for that movie. Items the
//!   questionnaires do not cover (movies never mentioned in the dialogue) earn 0.
//! - **Out-of-catalog rate**: share of recommended items (top-`n` of each list) that are not
//!   catalog items; **repeat rate**: share of points whose top-`n` contains an item already
//!   mentioned in the context; **coverage**: distinct recommended items (top-`n`, all points) ÷
//!   catalog size.
//! - **Distinct-n** (Li et al., NAACL 2016), corpus level: distinct n-grams ÷ all n-grams over all
//!   replies. Normalisation: lowercase, tokens are maximal runs of alphanumeric characters and
//!   apostrophes (punctuation dropped), n-grams do not cross replies.
//! - **Item ratio**: share of replies that name at least one catalog item.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::catalog::ItemId;

/// The reward of one top-1 item from its labels (`liked`, `seen`): 1.0 liked, 0.5 seen, else 0.
pub fn reward(liked: bool, seen: bool) -> f64 {
    if liked {
        1.0
    } else if seen {
        0.5
    } else {
        0.0
    }
}

/// Success Rate and Reward per Dialogue Length from per-dialogue lists of per-point rewards
/// (dialogues without points are skipped). Returns (success rate, reward per dialogue length,
/// dialogues counted).
pub fn success_and_reward(per_dialogue: &[Vec<f64>]) -> (f64, f64, usize) {
    let mut n = 0usize;
    let (mut success, mut rdl) = (0.0, 0.0);
    for rewards in per_dialogue.iter().filter(|r| !r.is_empty()) {
        n += 1;
        if rewards.iter().any(|&r| r > 0.0) {
            success += 1.0;
        }
        rdl += rewards.iter().sum::<f64>() / rewards.len() as f64;
    }
    if n == 0 {
        return (0.0, 0.0, 0);
    }
    (success / n as f64, rdl / n as f64, n)
}

/// Out-of-catalog rate: share of the first `n` items of each ranking for which `in_catalog` is
/// false; 0 when no item was recommended.
pub fn out_of_catalog_rate(rankings: &[&[ItemId]], n: usize, in_catalog: impl Fn(ItemId) -> bool) -> f64 {
    let (mut total, mut out) = (0usize, 0usize);
    for r in rankings {
        for &id in r.iter().take(n) {
            total += 1;
            if !in_catalog(id) {
                out += 1;
            }
        }
    }
    if total == 0 {
        0.0
    } else {
        out as f64 / total as f64
    }
}

/// Repeat rate: share of points whose first `n` items include one of that point's `seen` items
/// (items mentioned in the context). `points` pairs each ranking with its seen items.
pub fn repeat_rate(points: &[(&[ItemId], &[ItemId])], n: usize) -> f64 {
    if points.is_empty() {
        return 0.0;
    }
    let hits = points.iter().filter(|(r, seen)| r.iter().take(n).any(|id| seen.contains(id))).count();
    hits as f64 / points.len() as f64
}

/// Coverage: distinct items among the first `n` of every ranking ÷ `catalog_size` (0 for an
/// empty catalog).
pub fn coverage(rankings: &[&[ItemId]], n: usize, catalog_size: usize) -> f64 {
    if catalog_size == 0 {
        return 0.0;
    }
    let distinct: HashSet<ItemId> = rankings.iter().flat_map(|r| r.iter().take(n).copied()).collect();
    distinct.len() as f64 / catalog_size as f64
}

/// Tokens of `text` under the Distinct-n normalisation (see the module documentation).
pub fn tokens(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Corpus-level Distinct-n over `replies`: distinct n-grams ÷ n-grams (0 when there are none).
pub fn distinct_n(replies: &[&str], n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let mut all = 0usize;
    let mut seen: HashSet<Vec<String>> = HashSet::new();
    for r in replies {
        let t = tokens(r);
        for w in t.windows(n) {
            all += 1;
            seen.insert(w.to_vec());
        }
    }
    if all == 0 {
        0.0
    } else {
        seen.len() as f64 / all as f64
    }
}

/// Response metrics of the replies a system wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ResponseMetrics {
    /// Replies measured.
    pub replies: usize,
    /// Distinct-2.
    pub distinct_2: f64,
    /// Distinct-3.
    pub distinct_3: f64,
    /// Distinct-4.
    pub distinct_4: f64,
    /// Share of replies naming ≥ 1 catalog item.
    pub item_ratio: f64,
}

/// Distinct-2/3/4 of `replies` and the item ratio, given for each reply whether it names a
/// catalog item.
pub fn response_metrics(replies: &[&str], names_item: &[bool]) -> ResponseMetrics {
    let with_item = names_item.iter().filter(|&&b| b).count();
    ResponseMetrics {
        replies: replies.len(),
        distinct_2: distinct_n(replies, 2),
        distinct_3: distinct_n(replies, 3),
        distinct_4: distinct_n(replies, 4),
        item_ratio: if replies.is_empty() { 0.0 } else { with_item as f64 / replies.len() as f64 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn success_and_reward_by_hand() {
        // Dialogue A: rewards 0, 1 → success, RDL 0.5. B: 0.5, 0, 0 → success, RDL 1/6.
        // C: 0 → failure, RDL 0. D: no points (skipped).
        let (sr, rdl, n) = success_and_reward(&[vec![0.0, 1.0], vec![0.5, 0.0, 0.0], vec![0.0], vec![]]);
        assert_eq!(n, 3);
        assert!(close(sr, 2.0 / 3.0));
        assert!(close(rdl, (0.5 + 1.0 / 6.0) / 3.0));
        assert_eq!(reward(true, true), 1.0);
        assert_eq!(reward(false, true), 0.5);
        assert_eq!(reward(false, false), 0.0);
        assert_eq!(success_and_reward(&[]), (0.0, 0.0, 0));
    }

    #[test]
    fn list_metrics_by_hand() {
        let a: &[ItemId] = &[1, 2, 900];
        let b: &[ItemId] = &[2, 3];
        assert!(close(out_of_catalog_rate(&[a, b], 3, |id| id < 100), 1.0 / 5.0));
        assert!(close(out_of_catalog_rate(&[a, b], 1, |id| id < 100), 0.0));
        assert!(close(repeat_rate(&[(a, &[2][..]), (b, &[9][..])], 3), 0.5));
        assert!(close(repeat_rate(&[(a, &[2][..]), (b, &[9][..])], 1), 0.0));
        assert!(close(coverage(&[a, b], 2, 10), 3.0 / 10.0));
        assert_eq!(coverage(&[a], 2, 0), 0.0);
    }

    #[test]
    fn distinct_by_hand() {
        // "the cat the cat": tokens the cat the cat → bigrams (the cat)(cat the)(the cat): 2/3.
        assert!(close(distinct_n(&["The cat, the CAT!"], 2), 2.0 / 3.0));
        // Two replies, n-grams do not cross: "a b" + "a b" → 1 distinct of 2.
        assert!(close(distinct_n(&["a b", "a b"], 2), 0.5));
        assert_eq!(distinct_n(&["a"], 2), 0.0);
        assert_eq!(tokens("I'm here—Heat (1995)!"), vec!["i'm", "here", "heat", "1995"]);
        let m = response_metrics(&["a b c d", "a b c e"], &[true, false]);
        assert!(close(m.distinct_4, 1.0));
        assert!(close(m.distinct_3, 3.0 / 4.0));
        assert!(close(m.item_ratio, 0.5));
    }
}
