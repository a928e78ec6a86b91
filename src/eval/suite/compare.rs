//! `curator eval compare A.json B.json`: a paired bootstrap between two saved evaluation runs
//! ([`super::SuiteReport`] files under `evals/results/`) on the same points — e.g. a policy
//! before and after a change, read from the committed result and the one a rerun wrote
//! (`git show REV:evals/results/… > old.json`). Resamples the runs' `standard_ranks` (standard
//! protocol) with [`crate::eval::metrics::paired_bootstrap_at`].

use std::path::Path;

use super::SuiteReport;
use crate::eval::metrics::{paired_bootstrap_at, PairedDifference};
use crate::{Error, Result};

/// One compared figure: its name ("objective", "R@1", …) and the difference A − B.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparedFigure {
    /// "objective" (mean of R@1, R@10, R@50) or "R@K".
    pub name: String,
    /// A − B with its paired bootstrap interval.
    pub difference: PairedDifference,
}

/// Reads one saved run.
///
/// Errors: [`Error::Io`] if unreadable; [`Error::Parse`] (with the line) if it is not an
/// evaluation result.
pub fn read_run(path: &Path) -> Result<SuiteReport> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::parse(path, e.line(), format!("not an evaluation result: {e}")))
}

/// The paired differences A − B (objective, R@1, R@10, R@50) of two runs of the same split and
/// data, `resamples` bootstrap resamples from `seed`.
///
/// Errors: [`Error::InvalidInput`] naming what differs when the runs are not on the same points
/// (dataset, split, data checksum, limit, point count), or when a run has no per-point ranks
/// (written before they were saved, or an agent run cut short); those of
/// [`paired_bootstrap_at`] (`resamples` 0).
pub fn compare(a: &SuiteReport, b: &SuiteReport, resamples: usize, seed: u64) -> Result<Vec<ComparedFigure>> {
    let same = [
        ("dataset", a.dataset.id().to_string(), b.dataset.id().to_string()),
        ("split", a.split.clone(), b.split.clone()),
        ("data sha256", a.data_sha256.clone(), b.data_sha256.clone()),
        ("limit", format!("{:?}", a.limit), format!("{:?}", b.limit)),
        ("points", a.points.to_string(), b.points.to_string()),
    ];
    for (what, x, y) in same {
        if x != y {
            return Err(Error::InvalidInput(format!(
                "the runs are not on the same points: {what} is {x} in A and {y} in B"
            )));
        }
    }
    for (name, r) in [("A", a), ("B", b)] {
        if r.standard_ranks.len() != r.points || r.standard_ranks.is_empty() {
            return Err(Error::InvalidInput(format!(
                "run {name} ({} {} {}) holds {} per-point ranks for {} points; rerun it to save them",
                r.dataset.id(),
                r.split,
                r.system,
                r.standard_ranks.len(),
                r.points
            )));
        }
    }
    [("objective", &[1usize, 10, 50][..]), ("R@1", &[1][..]), ("R@10", &[10][..]), ("R@50", &[50][..])]
        .into_iter()
        .map(|(name, ks)| {
            let difference = paired_bootstrap_at(&a.standard_ranks, &b.standard_ranks, ks, resamples, seed)?;
            Ok(ComparedFigure { name: name.to_string(), difference })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn committed() -> SuiteReport {
        let path = crate::paths::evals_dir().join("results").join("inspired").join("inspired-test-agent-tools.json");
        read_run(&path).unwrap()
    }

    #[test]
    fn a_run_against_itself_differs_by_nothing_and_a_better_one_wins() {
        let a = committed();
        let same = compare(&a, &a, 200, 7).unwrap();
        assert_eq!(same.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["objective", "R@1", "R@10", "R@50"]);
        for f in &same {
            assert_eq!((f.difference.difference, f.difference.low, f.difference.high), (0.0, 0.0, 0.0), "{}", f.name);
            assert_eq!(f.difference.instances, a.points);
        }
        // B: every target pushed out of the list; A then wins on every figure it had hits in.
        let mut b = a.clone();
        b.standard_ranks.iter_mut().flatten().for_each(|r| *r = None);
        let won = compare(&a, &b, 200, 7).unwrap();
        let samples: usize = a.standard_ranks.iter().map(Vec::len).sum();
        let hits50 = a.standard_ranks.iter().flatten().filter(|r| matches!(r, Some(k) if *k <= 50)).count();
        let r50 = won.iter().find(|f| f.name == "R@50").unwrap();
        assert!((r50.difference.difference - hits50 as f64 / samples as f64).abs() < 1e-9);
        assert!(r50.difference.low > 0.0);
    }

    #[test]
    fn runs_on_other_points_or_without_ranks_are_refused() {
        let a = committed();
        let mut b = a.clone();
        b.split = "dev".into();
        let e = compare(&a, &b, 100, 1).unwrap_err().to_string();
        assert!(e.contains("split is test in A and dev in B"), "{e}");
        let mut b = a.clone();
        b.standard_ranks.clear();
        let e = compare(&a, &b, 100, 1).unwrap_err().to_string();
        assert!(e.contains("run B") && e.contains("holds 0 per-point ranks"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, "{\"suite\": 1}").unwrap();
        let e = read_run(&path).unwrap_err().to_string();
        assert!(e.contains("x.json") && e.contains("not an evaluation result"), "{e}");
    }
}
