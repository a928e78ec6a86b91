//! One evaluation run of one system on one benchmark split, under every protocol at once.
//!
//! [`run_suite`] loads ReDial or INSPIRED, extracts the evaluation points (DESIGN.md §4), asks the
//! system for a ranking at every point — a [`Ranker`] (`--mode ranker`, no LLM) or the whole
//! [`Agent`] (`--mode agent`: state tracking from the context text, tools, ranker, the LLM's
//! reply) — and scores:
//!
//! - **standard** and **de-dup**: Recall@1/10/50, NDCG@10/50, MRR@10/50 and the Recall@K curve
//!   (K = 1..50), with instance and recommendation counts;
//! - **He et al. (CIKM '23)**: the ranking with every item seen in the context removed,
//!   Recall@1/5/10/20 over all ground truth, "recommendation" (ground truth not mentioned before)
//!   and "discussion" (repeated ground truth);
//! - **dialogue level** ([`super::dialogue_metrics`]): Success Rate and Reward per Dialogue Length
//!   (ReDial only: INSPIRED has no per-movie questionnaire), out-of-catalog rate, repeat rate,
//!   coverage; in agent mode Distinct-2/3/4 and item ratio of the replies;
//! - the **cross-check** of the contexts against He et al.'s files (`cikm23_contexts.tsv`).
//!
//! Agent mode is **resumable**: each point's outcome is appended (and flushed) to
//! `<out>/runs/<stem>.progress.jsonl` as soon as it is computed, after a header line that names
//! the run's configuration. A killed run started again with the same configuration skips the
//! points already in the file (a torn last line is dropped) and, because every point starts from
//! a fresh agent and the model decodes greedily, produces the same results as an uninterrupted
//! run. Timings are stored but are not part of the results that must match.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

pub mod compare;
mod score;
pub use score::{score_dialogue, score_he, score_protocols, top1_reward};

use crate::agent::{Agent, AgentEvent};
use crate::catalog::{Catalog, ItemId};
use crate::dialogue::{DialogueState, Items, Role, Tracker, Turn};
use crate::eval::cikm23::{self, CrossCheck};
use crate::eval::dialogue_metrics::ResponseMetrics;
use crate::eval::metrics::{self, Metrics};
use crate::eval::redial::{EvalPoint, RedialDialogue};
use crate::eval::{report, Protocol, Ranker};
use crate::util::{sha256_file, sha256_hex, write_atomic};
use crate::{Error, Result};

/// Items of each list that count as "recommended" for the out-of-catalog rate, repeat rate and
/// coverage.
pub const SHOWN: usize = 10;

/// Cut-offs of the He et al. protocol.
pub const HE_KS: [usize; 4] = [1, 5, 10, 20];

/// A benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Dataset {
    /// ReDial (Li et al., NeurIPS 2018).
    Redial,
    /// INSPIRED (Hayati et al., EMNLP 2020).
    Inspired,
}

impl Dataset {
    /// "redial" or "inspired".
    pub fn id(self) -> &'static str {
        match self {
            Dataset::Redial => "redial",
            Dataset::Inspired => "inspired",
        }
    }
    /// "ReDial" or "INSPIRED".
    pub fn label(self) -> &'static str {
        match self {
            Dataset::Redial => "ReDial",
            Dataset::Inspired => "INSPIRED",
        }
    }
}

/// Loaded evaluation data: points plus, for ReDial, the dialogues (questionnaire labels).
#[derive(Debug, Clone)]
pub struct LoadedData {
    /// Dialogues in the file.
    pub dialogues: usize,
    /// ReDial dialogues (labels); empty for INSPIRED.
    pub redial: Vec<RedialDialogue>,
    /// Evaluation points, file order (standard extraction: every point with ≥ 1 movie).
    pub points: Vec<EvalPoint>,
    /// sha256 of the data file.
    pub sha256: String,
}

/// Loads `path` as `dataset` (ReDial JSONL or the derived INSPIRED JSONL).
///
/// # Errors
/// [`Error::Io`], [`Error::Parse`] from the loaders.
pub fn load_data(dataset: Dataset, path: &Path) -> Result<LoadedData> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let sha256 = sha256_hex(&bytes);
    let text = String::from_utf8(bytes).map_err(|e| Error::parse(path, 0, format!("not UTF-8: {e}")))?;
    Ok(match dataset {
        Dataset::Redial => {
            let redial = super::redial::parse_redial(&text, path)?;
            let points = super::redial::extract_points(&redial);
            LoadedData { dialogues: redial.len(), redial, points, sha256 }
        }
        Dataset::Inspired => {
            let d = super::inspired::parse_inspired(&text, path)?;
            let points = super::inspired::extract_inspired_points(&d);
            LoadedData { dialogues: d.len(), redial: Vec::new(), points, sha256 }
        }
    })
}

/// The system evaluated.
pub enum System<'a> {
    /// A ranker without the LLM.
    Ranker(&'a dyn Ranker),
    /// The whole agent; `model_path` names the GGUF for the provenance (None: no model).
    Agent {
        /// The agent (its `recommendations` setting is the list length).
        agent: &'a mut Agent,
        /// The model file, if any.
        model_path: Option<PathBuf>,
    },
}

impl System<'_> {
    fn name(&self) -> String {
        match self {
            System::Ranker(r) => r.name(),
            System::Agent { agent, .. } => format!("agent-{}", agent.model_name().unwrap_or("no-model")),
        }
    }
    fn mode(&self) -> &'static str {
        match self {
            System::Ranker(_) => "ranker",
            System::Agent { .. } => "agent",
        }
    }
}

/// What one point produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointOutcome {
    /// Index of the point in the (limited) point list.
    pub index: usize,
    /// The ranking, best first.
    pub ranking: Vec<ItemId>,
    /// The reply (agent mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<String>,
    /// Whether the LLM's sentence was used in the reply (agent mode).
    #[serde(default)]
    pub model_text_used: bool,
    /// Wall-clock seconds for the point (not part of the compared results).
    #[serde(default)]
    pub seconds: f64,
}

/// The whole-agent evaluation's view of a context: the turns before its last seeker turn (the
/// history, replayed by the tracker with items linked from the text, as a front end would) and
/// that turn's text, the message the agent answers ("Hi" when empty; cut to
/// [`crate::agent::MAX_INPUT_BYTES`]).
pub fn agent_context(tracker: &Tracker, context: &[Turn]) -> (DialogueState, String) {
    let last_seeker = context.iter().rposition(|t| t.role == Role::Seeker);
    let history: Vec<Turn> =
        context.iter().enumerate().filter(|(i, _)| Some(*i) != last_seeker).map(|(_, t)| t.clone()).collect();
    let state = tracker.replay(&history, Items::Linked);
    let text = last_seeker.map(|i| context[i].text.trim()).unwrap_or_default();
    let text = if text.is_empty() { "Hi" } else { text };
    (state, crate::util::cut_at_char_boundary(text, crate::agent::MAX_INPUT_BYTES).to_string())
}

/// Replays `point`'s context into a fresh conversation ([`agent_context`]), then answers the
/// last seeker utterance.
///
/// # Errors
/// Ranking errors of [`Agent::respond`].
pub fn agent_outcome(agent: &mut Agent, point: &EvalPoint, index: usize) -> Result<PointOutcome> {
    let t0 = Instant::now();
    let (state, text) = agent_context(&agent.engine().assets().tracker, &point.context);
    agent.replace_state(state);
    let mut reply = String::new();
    let mut used = false;
    let recs = agent.respond(&text, &mut |ev| match ev {
        AgentEvent::Text { text } => reply.push_str(&text),
        AgentEvent::Done { stats } => used = stats.model_text_used,
        AgentEvent::Recommendations { .. } => {}
    })?;
    Ok(PointOutcome {
        index,
        ranking: recs.iter().map(|r| r.id).collect(),
        reply: Some(reply),
        model_text_used: used,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// Computes outcomes for `points`, resuming from and appending to `progress` (a JSONL file whose
/// first line is `header`). Points already in the file are not recomputed. See
/// [`resume_jsonl`].
///
/// # Errors
/// Those of [`resume_jsonl`].
pub fn run_resumable(
    points: &[EvalPoint],
    progress: &Path,
    header: &serde_json::Value,
    show: bool,
    mut f: impl FnMut(&EvalPoint, usize) -> Result<PointOutcome>,
) -> Result<Vec<PointOutcome>> {
    resume_jsonl(points.len(), progress, header, show, |o: &PointOutcome| o.index, |i| f(&points[i], i))
}

/// Computes `f(0..n)` in order, resuming from and appending to the JSONL file `progress`: its
/// first line is `header`; each further line is one result, written and flushed as soon as it
/// is computed. Results already in the file (by `index_of`) are not recomputed; a torn last
/// line (a kill while writing) and anything after it are dropped and the file is truncated to
/// its valid part. Returns the `n` results in index order.
///
/// # Errors
/// [`Error::InvalidInput`] when the file's header differs from `header` (another run's
/// progress: delete the file to start over); [`Error::Io`]; errors of `f` (results computed
/// before the error stay in the file).
pub fn resume_jsonl<T: Serialize + serde::de::DeserializeOwned>(
    n: usize,
    progress: &Path,
    header: &serde_json::Value,
    show: bool,
    index_of: impl Fn(&T) -> usize,
    mut f: impl FnMut(usize) -> Result<T>,
) -> Result<Vec<T>> {
    let mut done: BTreeMap<usize, T> = BTreeMap::new();
    let header_line = serde_json::to_string(header).map_err(|e| Error::InvalidInput(e.to_string()))?;
    if let Ok(text) = std::fs::read_to_string(progress) {
        let mut valid_len = 0usize;
        let mut lines = text.split_inclusive('\n');
        match lines.next() {
            Some(first) if first.trim_end() == header_line => valid_len += first.len(),
            Some(first) if first.ends_with('\n') => {
                return Err(Error::InvalidInput(format!(
                    "{} holds the progress of another run configuration; delete it to start over",
                    progress.display()
                )))
            }
            _ => {}
        }
        if valid_len > 0 {
            for line in lines {
                // A line without its newline was torn by a kill: drop it and what follows.
                if !line.ends_with('\n') {
                    break;
                }
                match serde_json::from_str::<T>(line.trim_end()) {
                    Ok(o) if index_of(&o) < n => {
                        done.insert(index_of(&o), o);
                        valid_len += line.len();
                    }
                    _ => break,
                }
            }
        }
        let keep = &text.as_bytes()[..valid_len];
        std::fs::write(progress, keep).map_err(|e| Error::io(progress, e))?;
    }
    if let Some(dir) = progress.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let mut file =
        std::fs::OpenOptions::new().create(true).append(true).open(progress).map_err(|e| Error::io(progress, e))?;
    if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
        writeln!(file, "{header_line}").map_err(|e| Error::io(progress, e))?;
    }
    let todo = n - done.len().min(n);
    if !done.is_empty() {
        tracing::info!("{}: resuming, {} of {n} already done", progress.display(), done.len());
    }
    let bar = super::progress_bar(todo, "resumable run".to_string(), show);
    for i in 0..n {
        if done.contains_key(&i) {
            continue;
        }
        let o = f(i)?;
        let line = serde_json::to_string(&o).map_err(|e| Error::InvalidInput(e.to_string()))?;
        writeln!(file, "{line}").map_err(|e| Error::io(progress, e))?;
        file.flush().map_err(|e| Error::io(progress, e))?;
        done.insert(i, o);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(done.into_values().collect())
}

/// One protocol's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtocolResult {
    /// "standard" or "dedup".
    pub protocol: Protocol,
    /// Instances and recommendations.
    #[serde(flatten)]
    pub counts: super::Counts,
    /// Means over recommendations.
    pub metrics: Metrics,
    /// Recall@K for K = 1..=50 (index K-1).
    pub recall_curve: Vec<f64>,
}

/// One He et al. subset's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeResult {
    /// "all", "recommendation" (new ground truth) or "discussion" (repeated ground truth).
    pub subset: String,
    /// Instances and recommendations.
    #[serde(flatten)]
    pub counts: super::Counts,
    /// Recall@1, @5, @10, @20.
    pub recall: [f64; 4],
    /// Recall@K for K = 1..=50.
    pub recall_curve: Vec<f64>,
}

/// Dialogue-level figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DialogueResult {
    /// Dialogues with ≥ 1 point (Success Rate / RDL denominator); 0 when not applicable.
    pub dialogues: usize,
    /// Success Rate (None for INSPIRED: no questionnaire labels).
    pub success_rate: Option<f64>,
    /// Reward per Dialogue Length (None for INSPIRED).
    pub reward_per_dialogue_length: Option<f64>,
    /// Share of the top-10 recommended items outside the catalog.
    pub out_of_catalog_rate: f64,
    /// Share of ground-truth movies outside the catalog (standard targets).
    pub ground_truth_out_of_catalog_rate: f64,
    /// Share of points whose top-10 repeats an item of the context.
    pub repeat_rate: f64,
    /// Distinct top-10 items ÷ catalog size.
    pub coverage: f64,
    /// Replies (agent mode only).
    pub responses: Option<ResponseMetrics>,
    /// The LLM-written opening sentences only (agent mode with a model).
    pub model_sentences: Option<ResponseMetrics>,
}

/// Where, with what, and from which inputs a run was made.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `git rev-parse HEAD` of the project, "+dirty" when the tree differs; "unknown" without git.
    pub git_commit: String,
    /// sha256 of the GGUF model file, or None (no model).
    pub model_sha256: Option<String>,
    /// The model file name.
    pub model_file: Option<String>,
    /// sha256 of `catalogs/movies/ranker.yaml` (the ranker's configuration).
    pub ranker_config_sha256: Option<String>,
    /// sha256 of `catalogs/movies/manifest.json` (checksums of every catalog file).
    pub catalog_manifest_sha256: Option<String>,
    /// The run's options.
    pub config: BTreeMap<String, String>,
}

/// The JSON report of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteReport {
    /// Always 1 (marks suite reports among the result files).
    pub suite: u32,
    /// Benchmark.
    pub dataset: Dataset,
    /// "test" or "dev".
    pub split: String,
    /// "ranker" or "agent".
    pub mode: String,
    /// System name.
    pub system: String,
    /// Data file, relative to the project root.
    pub data_path: String,
    /// sha256 of the data file.
    pub data_sha256: String,
    /// Dialogues in the file.
    pub dialogues: usize,
    /// Points in the file (standard extraction).
    pub points_total: usize,
    /// The limit applied.
    pub limit: Option<usize>,
    /// Points evaluated.
    pub points: usize,
    /// Longest list returned by the system.
    pub list_length: usize,
    /// Standard and de-dup.
    pub protocols: Vec<ProtocolResult>,
    /// He et al. subsets.
    pub he_et_al: Vec<HeResult>,
    /// Dialogue-level metrics.
    pub dialogue: DialogueResult,
    /// Cross-check against He et al.'s contexts (all points of the file, not limited).
    pub cross_check: Option<CrossCheck>,
    /// Total wall-clock seconds of the ranking/agent loop of this invocation.
    pub seconds_total: f64,
    /// Mean seconds per point (from the stored per-point timings).
    pub seconds_per_point: f64,
    /// Provenance.
    pub provenance: Provenance,
    /// Per evaluation point (in order), the 1-based rank of each standard-protocol target in
    /// the ranking (`null`: not in the top 50): what a paired bootstrap between two runs on the
    /// same points resamples ([`crate::eval::metrics::paired_bootstrap`]). Absent in runs
    /// written before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub standard_ranks: Vec<Vec<Option<usize>>>,
}

/// The project's git commit (with "+dirty"), or "unknown".
pub fn git_commit() -> String {
    let root = crate::paths::project_root();
    let out = std::process::Command::new("git").arg("-C").arg(&root).args(["rev-parse", "HEAD"]).output();
    let Ok(out) = out.map_err(|_| ()).and_then(|o| if o.status.success() { Ok(o) } else { Err(()) }) else {
        return "unknown".to_string();
    };
    let mut commit = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let dirty = std::process::Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["status", "--porcelain", "--untracked-files=no", "--", "src", "catalogs", "prompts", "Cargo.toml"])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    if dirty {
        commit.push_str("+dirty");
    }
    commit
}

/// What [`run_suite`] evaluates.
#[derive(Debug, Clone)]
pub struct SuiteOptions {
    /// Benchmark.
    pub dataset: Dataset,
    /// "test" or "dev" (names the reports).
    pub split: String,
    /// Data file (ReDial JSONL or derived INSPIRED JSONL).
    pub data_path: PathBuf,
    /// First N points only.
    pub limit: Option<usize>,
    /// Output folder for reports (and `runs/` progress files).
    pub out_dir: PathBuf,
    /// Show a progress bar.
    pub progress: bool,
}

impl SuiteOptions {
    /// The committed split of `dataset` (`evals/<dataset>/<split>.jsonl`), all points, reports in
    /// `evals/results`.
    pub fn new(dataset: Dataset, split: &str) -> Self {
        let evals = crate::paths::evals_dir();
        // Another catalog than movies has its own linked copy of the data and its own results
        // folder: `evals/<dataset>/<catalog>/<split>.jsonl`, `evals/results/<catalog>/`.
        let catalog = crate::paths::catalog_name();
        let (data_dir, out_dir) = if catalog == crate::paths::DEFAULT_CATALOG {
            (evals.join(dataset.id()), evals.join("results"))
        } else {
            (evals.join(dataset.id()).join(&catalog), evals.join("results").join(&catalog))
        };
        SuiteOptions {
            dataset,
            split: split.to_string(),
            data_path: data_dir.join(format!("{split}.jsonl")),
            limit: None,
            out_dir,
            progress: true,
        }
    }
}

/// Runs `system` on the data of `opts` under every protocol, prints the figures with their
/// counts, writes `<out>/<dataset>-<split>-<system>[-first<N>].{json,md}`, and returns the
/// report.
///
/// # Errors
/// [`Error::InvalidInput`] for `--limit 0` or data without points; loader errors; agent errors;
/// [`Error::Io`] when a report cannot be written.
pub fn run_suite(opts: &SuiteOptions, mut system: System<'_>, catalog: &Catalog) -> Result<SuiteReport> {
    let data = load_data(opts.dataset, &opts.data_path)?;
    let mut points = data.points.clone();
    if let Some(n) = opts.limit {
        if n == 0 {
            return Err(Error::InvalidInput("--limit must be at least 1".to_string()));
        }
        points.truncate(n);
    }
    if points.is_empty() {
        return Err(Error::InvalidInput(format!("{} has no evaluation points", opts.data_path.display())));
    }
    let name = system.name();
    let mode = system.mode();
    let mut stem = format!("{}-{}-{}", opts.dataset.id(), report::slug(&opts.split), report::slug(&name));
    if let Some(n) = opts.limit {
        stem.push_str(&format!("-first{n}"));
    }
    let root = crate::paths::project_root();
    let catalog_dir = crate::paths::catalog_dir();
    let model_path = match &system {
        System::Agent { model_path, .. } => model_path.clone(),
        System::Ranker(_) => None,
    };
    let mut config = BTreeMap::new();
    config.insert("mode".to_string(), mode.to_string());
    config.insert("system".to_string(), name.clone());
    config.insert("limit".to_string(), opts.limit.map_or("none".to_string(), |n| n.to_string()));
    config.insert("k".to_string(), metrics::MAX_K.to_string());
    if let System::Agent { agent, .. } = &system {
        config.insert("recommendations".to_string(), agent.config().recommendations.to_string());
    }
    let provenance = Provenance {
        git_commit: git_commit(),
        model_sha256: model_path.as_deref().and_then(|p| sha256_file(p).ok()),
        model_file: model_path.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()),
        ranker_config_sha256: sha256_file(&catalog_dir.join("ranker.yaml")).ok(),
        catalog_manifest_sha256: sha256_file(&catalog_dir.join("manifest.json")).ok(),
        config,
    };
    let t0 = Instant::now();
    let outcomes: Vec<PointOutcome> = match &mut system {
        System::Ranker(r) => {
            let bar = super::progress_bar(points.len(), format!("ranking with {name}"), opts.progress);
            let out = points
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let t = Instant::now();
                    let ranking = r.rank(&p.context, metrics::MAX_K);
                    bar.inc(1);
                    PointOutcome {
                        index: i,
                        ranking,
                        reply: None,
                        model_text_used: false,
                        seconds: t.elapsed().as_secs_f64(),
                    }
                })
                .collect();
            bar.finish_and_clear();
            out
        }
        System::Agent { agent, .. } => {
            let header = serde_json::json!({
                "dataset": opts.dataset.id(), "split": opts.split, "data_sha256": data.sha256,
                "system": name, "limit": opts.limit, "model_sha256": provenance.model_sha256,
                "ranker_config_sha256": provenance.ranker_config_sha256,
                "catalog_manifest_sha256": provenance.catalog_manifest_sha256,
                "recommendations": agent.config().recommendations,
            });
            let progress = opts.out_dir.join("runs").join(format!("{stem}.progress.jsonl"));
            run_resumable(&points, &progress, &header, opts.progress, |p, i| agent_outcome(agent, p, i))?
        }
    };
    let seconds_total = t0.elapsed().as_secs_f64();
    let seconds_per_point = outcomes.iter().map(|o| o.seconds).sum::<f64>() / outcomes.len().max(1) as f64;
    let keys_path = opts.data_path.parent().map(|d| d.join("cikm23_contexts.tsv"));
    let cross_check = match keys_path {
        Some(k) if k.exists() && opts.split == "test" => {
            let keys = cikm23::load_keys(&k)?;
            let items_path = k.with_file_name("cikm23_items.txt");
            let items = if items_path.exists() { Some(cikm23::load_id_list(&items_path)?) } else { None };
            Some(cikm23::cross_check(&data.points, &keys, items.as_ref()))
        }
        _ => None,
    };
    let report = SuiteReport {
        suite: 1,
        dataset: opts.dataset,
        split: opts.split.clone(),
        mode: mode.to_string(),
        system: name,
        data_path: {
            let rel = opts.data_path.strip_prefix(&root).unwrap_or(&opts.data_path);
            rel.to_string_lossy().replace('\\', "/")
        },
        data_sha256: data.sha256.clone(),
        dialogues: data.dialogues,
        points_total: data.points.len(),
        limit: opts.limit,
        points: points.len(),
        list_length: outcomes.iter().map(|o| o.ranking.len()).max().unwrap_or(0),
        protocols: score_protocols(&points, &outcomes),
        he_et_al: score_he(&points, &outcomes),
        dialogue: score_dialogue(&points, &outcomes, &data.redial, catalog),
        cross_check,
        seconds_total,
        seconds_per_point,
        provenance,
        standard_ranks: points
            .iter()
            .zip(&outcomes)
            .map(|(p, o)| {
                p.targets_for(Protocol::Standard).into_iter().map(|t| metrics::rank_of(&o.ranking, t)).collect()
            })
            .collect(),
    };
    for line in summary_lines(&report) {
        crate::outln!("{line}");
    }
    let mut json = serde_json::to_string_pretty(&report).map_err(|e| Error::InvalidInput(e.to_string()))?;
    json.push('\n');
    let json_path = opts.out_dir.join(format!("{stem}.json"));
    write_atomic(&json_path, json.as_bytes())?;
    let md_path = opts.out_dir.join(format!("{stem}.md"));
    write_atomic(&md_path, super::suite_report::run_markdown(&report).as_bytes())?;
    crate::outln!("wrote {} and {}", json_path.display(), md_path.display());
    Ok(report)
}

/// Console lines of a report: one per protocol and He et al. subset, with counts, then the
/// dialogue metrics and timing.
pub fn summary_lines(r: &SuiteReport) -> Vec<String> {
    let t = report::thousands;
    let mut out = Vec::new();
    let head = format!("{} {} [{}] {}", r.dataset.label(), r.split, r.mode, r.system);
    for p in &r.protocols {
        let mut s = format!(
            "{head} {:<8}: {} instances / {} recommendations |",
            p.protocol.to_string(),
            t(p.counts.instances),
            t(p.counts.recommendations)
        );
        for (n, v) in p.metrics.named() {
            s.push_str(&format!(" {n} {v:.4}"));
        }
        out.push(s);
    }
    for h in &r.he_et_al {
        out.push(format!(
            "{head} He et al. {:<14}: {} instances / {} recommendations | R@1 {:.4} R@5 {:.4} R@10 {:.4} R@20 {:.4}",
            h.subset,
            t(h.counts.instances),
            t(h.counts.recommendations),
            h.recall[0],
            h.recall[1],
            h.recall[2],
            h.recall[3]
        ));
    }
    let d = &r.dialogue;
    let mut s = format!(
        "{head} dialogue: OOC rate {:.4} (ground truth OOC {:.4}), repeat rate {:.4}, coverage {:.4}",
        d.out_of_catalog_rate, d.ground_truth_out_of_catalog_rate, d.repeat_rate, d.coverage
    );
    if let (Some(sr), Some(rdl)) = (d.success_rate, d.reward_per_dialogue_length) {
        s.push_str(&format!(", success rate {sr:.4}, reward/length {rdl:.4} over {} dialogues", t(d.dialogues)));
    }
    out.push(s);
    if let Some(m) = &d.responses {
        out.push(format!(
            "{head} replies: {} | Distinct-2 {:.4} Distinct-3 {:.4} Distinct-4 {:.4} item ratio {:.4}",
            m.replies, m.distinct_2, m.distinct_3, m.distinct_4, m.item_ratio
        ));
    }
    if let Some(c) = &r.cross_check {
        out.push(format!(
            "{head} cross-check vs He et al.: ours {} / theirs {} / matched {}; ours only {:?}; theirs only {:?}",
            c.ours, c.theirs, c.matched, c.ours_only, c.theirs_only
        ));
    }
    out.push(format!(
        "{head} time: {:.2} s for {} points ({:.4} s per point)",
        r.seconds_total, r.points, r.seconds_per_point
    ));
    out
}
