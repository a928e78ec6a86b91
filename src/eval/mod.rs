//! Offline evaluation of recommenders on conversational benchmarks (DESIGN.md §4).
//!
//! The evaluation exists so that every quality claim is a number with its counts: a
//! [`Ranker`] sees the context of each evaluation point and returns its top-[`metrics::MAX_K`]
//! items; [`metrics`] scores each ground-truth movie against that list; [`run_redial`] evaluates
//! the chosen protocols, prints the figures with their instance and recommendation counts and
//! writes JSON and Markdown reports.
//!
//! - [`redial`]: the ReDial loader and evaluation-point extraction (standard and de-dup).
//! - [`metrics`]: Recall@K, NDCG@K, MRR@K.
//! - [`PopularityRanker`]: the popularity baseline, counted on training dialogues only.
//!
//! Invariants: rankers see only [`Turn`]s of the context, never the ground truth or the
//! questionnaire labels; the test split is read, never trained on; reports are written through
//! a temporary file and a rename.

pub mod attributes;
pub mod cikm23;
pub mod dialogue_metrics;
pub mod inspired;
pub mod linking;
pub mod metrics;
mod popularity;
pub mod redial;
mod report;
pub mod simulate;
pub mod suite;
pub mod suite_report;
pub mod surface;
pub mod tracking;
pub mod validation;
pub mod weights;
pub mod zero_shot;

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::catalog::ItemId;
use crate::dialogue::Turn;
use crate::{Error, Result};

pub use metrics::{Metrics, MetricsAccumulator};
pub use popularity::PopularityRanker;
pub use redial::{count_points, extract_points, load_redial, Counts, EvalPoint};
pub use report::{Anchor, REDIAL_ANCHORS};

/// Something that ranks catalog items for a dialogue context.
///
/// Implementations decide what to exclude (items already mentioned, items outside their model);
/// the evaluation only reads the returned order. Ties must be broken by the implementation: the
/// list order is the ranking.
pub trait Ranker {
    /// A short, stable name used in reports and result file names ("popularity").
    fn name(&self) -> String;

    /// The best `k` items (at most; fewer is allowed) for a seeker after `context`, best first.
    /// The evaluation asks for `k` = [`metrics::MAX_K`] = 50.
    fn rank(&self, context: &[Turn], k: usize) -> Vec<ItemId>;
}

/// The agent's ranker without the model, scored like any other ranker.
impl Ranker for crate::agent::ToolRanker {
    fn name(&self) -> String {
        "agent-tools".to_string()
    }

    fn rank(&self, context: &[Turn], k: usize) -> Vec<ItemId> {
        self.rank_context(context, k).unwrap_or_else(|e| {
            tracing::warn!("ranking failed: {e}");
            Vec::new()
        })
    }
}

/// An evaluation protocol: which ground-truth movies of a point count (DESIGN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Every movie of the recommender's utterance, repeats of earlier mentions kept
    /// (KBRD/KGSF/UniCRS lineage).
    Standard,
    /// Movies mentioned earlier in the dialogue dropped, then points left without ground truth
    /// dropped (Kostric & Balog "fresh-only"; the headline protocol).
    Dedup,
}

impl Protocol {
    /// Both protocols, standard first.
    pub const ALL: [Protocol; 2] = [Protocol::Standard, Protocol::Dedup];

    /// The identifier used in file names and JSON: "standard" or "dedup".
    pub fn id(self) -> &'static str {
        match self {
            Protocol::Standard => "standard",
            Protocol::Dedup => "dedup",
        }
    }
}

impl std::fmt::Display for Protocol {
    /// "standard" or "de-dup".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Protocol::Standard => "standard",
            Protocol::Dedup => "de-dup",
        })
    }
}

impl std::str::FromStr for Protocol {
    type Err = Error;

    /// Parses "standard", "dedup" or "de-dup" (case-insensitive).
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "standard" => Ok(Protocol::Standard),
            "dedup" | "de-dup" => Ok(Protocol::Dedup),
            other => Err(Error::InvalidInput(format!("unknown protocol {other:?} (expected standard or dedup)"))),
        }
    }
}

/// The outcome of one protocol for one ranker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalResult {
    /// [`Ranker::name`].
    pub ranker: String,
    /// The protocol evaluated.
    pub protocol: Protocol,
    /// Instances (points) and recommendations (samples) scored.
    #[serde(flatten)]
    pub counts: Counts,
    /// Means over the recommendations.
    pub metrics: Metrics,
}

impl std::fmt::Display for EvalResult {
    /// One line: protocol, ranker, counts, then every metric to four decimals.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ReDial {:<8} {}: {} instances / {} recommendations |",
            self.protocol.to_string(),
            self.ranker,
            report::thousands(self.counts.instances),
            report::thousands(self.counts.recommendations)
        )?;
        for (name, v) in self.metrics.named() {
            write!(f, " {name} {v:.4}")?;
        }
        Ok(())
    }
}

fn progress_bar(len: usize, message: String, progress: bool) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    crate::util::progress_bar(len, message)
}

/// Asks `ranker` for its top [`metrics::MAX_K`] at every point that `needed` selects; `None`
/// elsewhere.
fn rank_points(
    points: &[EvalPoint],
    ranker: &dyn Ranker,
    needed: impl Fn(&EvalPoint) -> bool,
    progress: bool,
) -> Vec<Option<Vec<ItemId>>> {
    let todo = points.iter().filter(|p| needed(p)).count();
    let bar = progress_bar(todo, format!("ranking with {}", ranker.name()), progress);
    let rankings = points
        .iter()
        .map(|p| {
            if !needed(p) {
                return None;
            }
            let ranking = ranker.rank(&p.context, metrics::MAX_K);
            bar.inc(1);
            Some(ranking)
        })
        .collect();
    bar.finish_and_clear();
    rankings
}

/// The ground-truth samples of `points` under `protocol`, each as its 1-based rank in its point's
/// ranking (`rankings`, parallel to `points`; `None`: absent), with the instance and
/// recommendation counts. Points without ground truth under the protocol are skipped. Shared by
/// [`evaluate_redial`] and the evaluation suite (`suite::score::score_protocols`).
pub(crate) fn protocol_ranks<'a>(
    points: &[EvalPoint],
    rankings: impl IntoIterator<Item = &'a [ItemId]>,
    protocol: Protocol,
) -> (Counts, Vec<Option<usize>>) {
    let mut counts = Counts::default();
    let mut ranks = Vec::new();
    for (p, ranking) in points.iter().zip(rankings) {
        let targets = p.targets_for(protocol);
        if targets.is_empty() {
            continue;
        }
        counts.instances += 1;
        counts.recommendations += targets.len();
        ranks.extend(targets.into_iter().map(|t| metrics::rank_of(ranking, t)));
    }
    (counts, ranks)
}

/// Scores precomputed `rankings` (parallel to `points`) under `protocol`.
fn score(points: &[EvalPoint], rankings: &[Option<Vec<ItemId>>], protocol: Protocol, ranker: String) -> EvalResult {
    let (counts, ranks) = protocol_ranks(points, rankings.iter().map(|r| r.as_deref().unwrap_or(&[])), protocol);
    let mut acc = MetricsAccumulator::new();
    ranks.into_iter().for_each(|r| acc.add_rank(r));
    EvalResult { ranker, protocol, counts, metrics: acc.mean() }
}

/// Evaluates `ranker` on ReDial evaluation `points` (from [`extract_points`]) under `protocol`:
/// for each point with ground truth under the protocol, the ranker ranks the context once
/// (asked for 50 items) and every ground-truth movie is one sample. Shows an indicatif progress
/// bar on a terminal when `progress` is true.
pub fn evaluate_redial(points: &[EvalPoint], protocol: Protocol, ranker: &dyn Ranker, progress: bool) -> EvalResult {
    let rankings = rank_points(points, ranker, |p| !p.targets_for(protocol).is_empty(), progress);
    score(points, &rankings, protocol, ranker.name())
}

/// What [`run_redial`] evaluates and where it writes.
#[derive(Debug, Clone, PartialEq)]
pub struct RedialEvalOptions {
    /// The ReDial JSONL file; by default `<root>/evals/redial/test.jsonl`.
    pub data_path: PathBuf,
    /// Evaluate only the first N evaluation points (file order, standard extraction); the
    /// de-dup protocol then scores those of the N that keep a ground-truth movie. `None`: all.
    pub limit: Option<usize>,
    /// Protocols to evaluate, in report order; repeats are ignored. Must not be empty.
    pub protocols: Vec<Protocol>,
    /// Folder for the reports; by default `<root>/evals/results`.
    pub out_dir: PathBuf,
}

impl Default for RedialEvalOptions {
    /// The committed test split, all points, both protocols, `evals/results/`.
    fn default() -> Self {
        let evals = crate::paths::evals_dir();
        RedialEvalOptions {
            data_path: evals.join("redial").join("test.jsonl"),
            limit: None,
            protocols: Protocol::ALL.to_vec(),
            out_dir: evals.join("results"),
        }
    }
}

/// The outcome of [`run_redial`]; serialized as the JSON report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Always "redial".
    pub benchmark: String,
    /// [`Ranker::name`].
    pub ranker: String,
    /// The data file, relative to the project root when it lies inside it.
    pub data_path: String,
    /// sha256 of the data file's bytes, lower-case hex.
    pub data_sha256: String,
    /// Dialogues in the data file.
    pub dialogues: usize,
    /// The `--limit` applied (first N evaluation points), if any.
    pub limit: Option<usize>,
    /// Evaluation points considered (standard extraction, after the limit).
    pub points: usize,
    /// How many items each ranking was asked for (50).
    pub k: usize,
    /// One result per protocol, in the order asked.
    pub results: Vec<EvalResult>,
    /// Where the JSON report was written.
    #[serde(skip)]
    pub json_path: PathBuf,
    /// Where the Markdown report was written.
    #[serde(skip)]
    pub markdown_path: PathBuf,
}

fn display_path(path: &Path) -> String {
    let root = crate::paths::project_root();
    let rel = path.strip_prefix(&root).unwrap_or(path);
    rel.to_string_lossy().replace('\\', "/")
}

/// Evaluates `ranker` on the ReDial file in `opts` under each chosen protocol, prints one line
/// per protocol with its instance and recommendation counts, and writes
/// `<out_dir>/redial-<ranker>.json` (the [`EvalReport`]) and the Markdown table beside it
/// (`.md`, with the published anchors in their own section). With a limit the files are named
/// `redial-<ranker>-first<N>.*`. The ranker ranks each point once for all protocols.
///
/// # Errors
/// [`Error::InvalidInput`] when no protocol is chosen; the errors of [`load_redial`]; and
/// [`Error::Io`] when a report cannot be written.
pub fn run_redial(opts: &RedialEvalOptions, ranker: &dyn Ranker) -> Result<EvalReport> {
    let mut protocols: Vec<Protocol> = Vec::new();
    for p in &opts.protocols {
        if !protocols.contains(p) {
            protocols.push(*p);
        }
    }
    if protocols.is_empty() {
        return Err(Error::InvalidInput("no evaluation protocol chosen".to_string()));
    }
    let bytes = std::fs::read(&opts.data_path).map_err(|e| Error::io(&opts.data_path, e))?;
    let data_sha256 = crate::util::sha256_hex(&bytes);
    let text = String::from_utf8(bytes).map_err(|e| Error::parse(&opts.data_path, 0, format!("not UTF-8: {e}")))?;
    let dialogues = redial::parse_redial(&text, &opts.data_path)?;
    let mut points = extract_points(&dialogues);
    if let Some(n) = opts.limit {
        if n == 0 {
            return Err(Error::InvalidInput("--limit must be at least 1".to_string()));
        }
        points.truncate(n);
    }
    if points.is_empty() {
        return Err(Error::InvalidInput(format!(
            "{} has no evaluation points (recommender utterances that mention a movie after some context)",
            opts.data_path.display()
        )));
    }
    let rankings = rank_points(&points, ranker, |p| protocols.iter().any(|&pr| !p.targets_for(pr).is_empty()), true);
    let name = ranker.name();
    let results: Vec<EvalResult> = protocols.iter().map(|&pr| score(&points, &rankings, pr, name.clone())).collect();
    for r in &results {
        crate::outln!("{r}");
    }

    let mut stem = format!("redial-{}", report::slug(&name));
    // Another data file never overwrites the committed test-split reports.
    let file_stem = opts.data_path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if opts.data_path != RedialEvalOptions::default().data_path {
        stem.push_str(&format!("-{}", report::slug(&file_stem)));
    }
    if let Some(n) = opts.limit {
        stem.push_str(&format!("-first{n}"));
    }
    let report = EvalReport {
        benchmark: "redial".to_string(),
        ranker: name,
        data_path: display_path(&opts.data_path),
        data_sha256,
        dialogues: dialogues.len(),
        limit: opts.limit,
        points: points.len(),
        k: metrics::MAX_K,
        results,
        json_path: opts.out_dir.join(format!("{stem}.json")),
        markdown_path: opts.out_dir.join(format!("{stem}.md")),
    };
    let mut json = serde_json::to_string_pretty(&report)
        .map_err(|e| Error::InvalidInput(format!("cannot serialize the report: {e}")))?;
    json.push('\n');
    crate::util::write_atomic(&report.json_path, json.as_bytes())?;
    crate::util::write_atomic(&report.markdown_path, report::markdown(&report).as_bytes())?;
    crate::outln!("wrote {} and {}", report.json_path.display(), report.markdown_path.display());
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_names_round_trip() -> Result<()> {
        for p in Protocol::ALL {
            assert_eq!(p.id().parse::<Protocol>()?, p);
            assert_eq!(p.to_string().parse::<Protocol>()?, p);
        }
        assert!("fresh".parse::<Protocol>().is_err());
        assert_eq!(serde_json::to_string(&Protocol::Dedup).ok().as_deref(), Some("\"dedup\""));
        Ok(())
    }
}
