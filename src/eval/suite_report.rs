//! Markdown and SVG for suite runs: one page per run ([`run_markdown`]) and the combined report
//! of every run under `evals/results/` ([`write_report`]): every protocol's table beside the
//! published anchors of DESIGN.md §4 (marked as published, with their source) and Recall@K
//! curves (K = 1..50) drawn with `plotters` (SVG backend: no font or system dependency).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

mod own_catalog;
use own_catalog::{own_catalog_section, read_catalog_runs};

use crate::eval::suite::{Dataset, SuiteReport};
use crate::eval::{report, Protocol};
use crate::{Error, Result};

/// A published figure quoted from DESIGN.md §4; never measured here.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PublishedAnchor {
    /// Benchmark.
    pub dataset: Dataset,
    /// "standard", "dedup" or "he" (He et al. protocol).
    pub protocol: String,
    /// Model (and who ran it).
    pub model: String,
    /// (cut-off K, Recall@K) pairs as published.
    pub recall: Vec<(usize, f64)>,
    /// Where the figure comes from.
    pub source: String,
}

fn anchor(dataset: Dataset, protocol: &str, model: &str, recall: &[(usize, f64)], source: &str) -> PublishedAnchor {
    PublishedAnchor {
        dataset,
        protocol: protocol.to_string(),
        model: model.to_string(),
        recall: recall.to_vec(),
        source: source.to_string(),
    }
}

/// Every published anchor of DESIGN.md §4.
pub fn published_anchors() -> Vec<PublishedAnchor> {
    let mut out: Vec<PublishedAnchor> = super::REDIAL_ANCHORS
        .iter()
        .map(|a| {
            anchor(
                Dataset::Redial,
                a.protocol.id(),
                a.model,
                &[(1, a.recall_at_1), (10, a.recall_at_10), (50, a.recall_at_50)],
                if a.protocol == Protocol::Dedup {
                    "Kostric & Balog (SIGIR '26) re-runs, via DESIGN.md §4"
                } else {
                    "the model's paper (KBRD/KGSF/UniCRS lineage), via DESIGN.md §4"
                },
            )
        })
        .collect();
    let src = "the model's paper, via DESIGN.md §4";
    out.push(anchor(Dataset::Inspired, "standard", "Popularity", &[(1, 0.032), (10, 0.155), (50, 0.323)], src));
    out.push(anchor(Dataset::Inspired, "standard", "C2-CRS", &[(1, 0.090), (10, 0.242), (50, 0.399)], src));
    out.push(anchor(Dataset::Inspired, "standard", "MCCRS", &[(1, 0.104), (10, 0.275), (50, 0.497)], src));
    let he = "He et al. (CIKM '23), via DESIGN.md §4";
    out.push(anchor(
        Dataset::Redial,
        "he",
        "GPT-4 zero-shot (raw)",
        &[(1, 0.045), (5, 0.135), (10, 0.194), (20, 0.263)],
        he,
    ));
    out.push(anchor(
        Dataset::Redial,
        "he",
        "GPT-4 zero-shot (non-catalog and seen removed)",
        &[(1, 0.045), (5, 0.125), (10, 0.180), (20, 0.240)],
        he,
    ));
    out
}

fn f4(v: f64) -> String {
    format!("{v:.4}")
}

fn short(v: f64) -> String {
    let s = format!("{v:.3}");
    s.strip_prefix('0').map(str::to_string).unwrap_or(s)
}

/// The Markdown page of one run.
pub fn run_markdown(r: &SuiteReport) -> String {
    let t = report::thousands;
    let mut md = String::new();
    let _ = writeln!(md, "# {} {} — `{}` ({} mode)\n", r.dataset.label(), r.split, r.system, r.mode);
    let limit = match r.limit {
        Some(n) => format!("first {} of {} evaluation points (`--limit {n}`)", t(r.points), t(r.points_total)),
        None => format!("all {} evaluation points", t(r.points)),
    };
    let _ = writeln!(
        md,
        "Data: `{}` (sha256 `{}`), {} dialogues; {limit}; lists of up to {} items.\n",
        r.data_path,
        r.data_sha256,
        t(r.dialogues),
        r.list_length
    );
    protocol_table(&mut md, std::slice::from_ref(r));
    he_table(&mut md, std::slice::from_ref(r));
    dialogue_table(&mut md, std::slice::from_ref(r));
    if let Some(c) = &r.cross_check {
        cross_check_text(&mut md, r.dataset, c);
    }
    provenance_text(&mut md, r);
    md
}

fn protocol_table(md: &mut String, runs: &[SuiteReport]) {
    let t = report::thousands;
    let _ = writeln!(md, "## Standard and de-dup (measured)\n");
    let _ = writeln!(md, "| split | system | mode | protocol | instances | recommendations | R@1 | R@10 | R@50 | NDCG@10 | NDCG@50 | MRR@10 | MRR@50 |");
    let _ = writeln!(md, "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in runs {
        for p in &r.protocols {
            let _ = write!(
                md,
                "| {}{} | {} | {} | {} | {} | {} |",
                r.split,
                r.limit.map(|n| format!(" (first {n})")).unwrap_or_default(),
                r.system,
                r.mode,
                p.protocol,
                t(p.counts.instances),
                t(p.counts.recommendations)
            );
            for (_, v) in p.metrics.named() {
                let _ = write!(md, " {} |", f4(v));
            }
            md.push('\n');
        }
    }
    md.push('\n');
}

fn he_table(md: &mut String, runs: &[SuiteReport]) {
    let t = report::thousands;
    let _ = writeln!(
        md,
        "## He et al. protocol (measured)\n\nItems mentioned anywhere in the context are removed from each ranking; \
         \"recommendation\" = ground truth not mentioned before, \"discussion\" = repeated ground truth (which \
         the removal makes unreachable).\n"
    );
    let _ = writeln!(md, "| split | system | mode | subset | instances | recommendations | R@1 | R@5 | R@10 | R@20 |");
    let _ = writeln!(md, "|---|---|---|---|---:|---:|---:|---:|---:|---:|");
    for r in runs {
        for h in &r.he_et_al {
            let _ = writeln!(
                md,
                "| {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.split,
                r.limit.map(|n| format!(" (first {n})")).unwrap_or_default(),
                r.system,
                r.mode,
                h.subset,
                t(h.counts.instances),
                t(h.counts.recommendations),
                f4(h.recall[0]),
                f4(h.recall[1]),
                f4(h.recall[2]),
                f4(h.recall[3])
            );
        }
    }
    md.push('\n');
}

fn dialogue_table(md: &mut String, runs: &[SuiteReport]) {
    let t = report::thousands;
    let _ = writeln!(
        md,
        "## Dialogue level (measured)\n\nSuccess Rate / Reward per Dialogue Length (Kostric & Balog, SIGIR '26): top-1 item \
         liked (reward 1.0) or seen (0.5) per the ReDial questionnaires, any turn / mean reward per evaluation point, \
         averaged over dialogues (INSPIRED has no questionnaire: n/a). OOC = share of the top-10 outside the \
         catalog; GT OOC = share of ground-truth movies outside the catalog; repeat = share of points whose top-10 \
         repeats a context item; coverage = distinct top-10 items ÷ catalog size. Distinct-n: corpus level, \
         lowercase, alphanumeric/apostrophe tokens; item ratio = replies naming ≥ 1 catalog item.\n"
    );
    let _ = writeln!(md, "| split | system | mode | points | dialogues | success rate | reward/length | OOC | GT OOC | repeat | coverage | replies | Distinct-2 | Distinct-3 | Distinct-4 | item ratio |");
    let _ = writeln!(md, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in runs {
        let d = &r.dialogue;
        let opt = |v: Option<f64>| v.map(f4).unwrap_or_else(|| "n/a".to_string());
        let (n, d2, d3, d4, ir) = match &d.responses {
            Some(m) => (t(m.replies), f4(m.distinct_2), f4(m.distinct_3), f4(m.distinct_4), f4(m.item_ratio)),
            None => ("–".into(), "–".into(), "–".into(), "–".into(), "–".into()),
        };
        let _ = writeln!(
            md,
            "| {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {n} | {d2} | {d3} | {d4} | {ir} |",
            r.split,
            r.limit.map(|n| format!(" (first {n})")).unwrap_or_default(),
            r.system,
            r.mode,
            t(r.points),
            if d.dialogues > 0 { t(d.dialogues) } else { "n/a".into() },
            opt(d.success_rate),
            opt(d.reward_per_dialogue_length),
            f4(d.out_of_catalog_rate),
            f4(d.ground_truth_out_of_catalog_rate),
            f4(d.repeat_rate),
            f4(d.coverage),
        );
    }
    md.push('\n');
}

fn cross_check_text(md: &mut String, dataset: Dataset, c: &crate::eval::cikm23::CrossCheck) {
    let t = report::thousands;
    let _ = writeln!(
        md,
        "## Contexts vs He et al. (CIKM '23) `eval_cikm23/test.jsonl`\n\nOurs: {} evaluation points; theirs: {} \
         contexts; in both: {} (matched by dialogue and number of earlier utterances; {} matched contexts have \
         another ground-truth count{}).\n",
        t(c.ours),
        t(c.theirs),
        t(c.matched),
        t(c.matched_rec_count_differs),
        if dataset == Dataset::Redial {
            format!(
                ", of which {} exactly because some of our ground-truth movies are outside their item set",
                t(c.matched_rec_count_explained_by_item_set)
            )
        } else {
            String::new()
        }
    );
    for (cause, n) in &c.ours_only {
        let _ = writeln!(md, "- ours only, {cause}: {}", t(*n));
    }
    for (cause, n) in &c.theirs_only {
        let _ = writeln!(md, "- theirs only, {cause}: {}", t(*n));
    }
    let _ = writeln!(
        md,
        "\nCauses: He et al. keep only turns whose ground truth is in their DBpedia-linked item set{}, and \
         they keep a dialogue's opening recommender turn (context = one empty string), which DESIGN.md §4 \
         excludes (non-empty context).\n",
        if dataset == Dataset::Redial {
            " (checked per movie: ReDial id → KGSF DBpedia URI → their entity2id → item_ids)"
        } else {
            " (not checked per movie for INSPIRED: its names have no DBpedia mapping here)"
        }
    );
}

fn provenance_text(md: &mut String, r: &SuiteReport) {
    let p = &r.provenance;
    let _ = writeln!(md, "## Provenance\n");
    let _ = writeln!(md, "- git commit: `{}`", p.git_commit);
    let _ = writeln!(
        md,
        "- model: {}",
        match (&p.model_file, &p.model_sha256) {
            (Some(f), Some(h)) => format!("`{f}` sha256 `{h}`"),
            _ => "none".to_string(),
        }
    );
    let _ = writeln!(
        md,
        "- ranker config (`catalogs/movies/ranker.yaml`) sha256: `{}`",
        p.ranker_config_sha256.as_deref().unwrap_or("-")
    );
    let _ = writeln!(md, "- catalog manifest sha256: `{}`", p.catalog_manifest_sha256.as_deref().unwrap_or("-"));
    let _ = writeln!(md, "- data sha256: `{}`", r.data_sha256);
    let cfg: Vec<String> = p.config.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let _ = writeln!(md, "- config: {}", cfg.join(", "));
    let _ = writeln!(
        md,
        "- time: {:.2} s for {} points ({:.4} s per point; machine load not controlled)\n",
        r.seconds_total, r.points, r.seconds_per_point
    );
}

/// Reads every suite report (`"suite": 1`) in `dir`, sorted by file name.
///
/// # Errors
/// [`Error::Io`] when the folder cannot be read.
pub fn read_reports(dir: &Path) -> Result<Vec<SuiteReport>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    Ok(paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|s| serde_json::from_str::<SuiteReport>(&s).ok())
        .collect())
}

/// A simulator run's summary, as stored in `evals/results/simulate-*.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SimulationSummary {
    /// Always "simulate".
    pub kind: String,
    /// System evaluated.
    pub system: String,
    /// Simulator model file.
    pub sim_model: String,
    /// sha256 of the simulator model.
    pub sim_model_sha256: String,
    /// Targets simulated.
    pub dialogues: usize,
    /// Dialogues where the target appeared in a recommendation list.
    pub successes: usize,
    /// successes ÷ dialogues.
    pub success_rate: f64,
    /// Mean seeker turns per dialogue (a failed dialogue counts its turns, at most the maximum).
    pub mean_turns: f64,
    /// Seeker messages in which the catalog linker found the target (the simulator never sees the
    /// title; counted to show the leak-safety).
    pub leaked_messages: usize,
    /// Seeker messages replaced by a fixed message from the attributes (the simulator wrote
    /// nothing usable).
    #[serde(default)]
    pub templated_messages: usize,
    /// Turn limit.
    pub max_turns: usize,
    /// Git commit.
    pub git_commit: String,
    /// sha256 of the data file the targets came from.
    pub data_sha256: String,
    /// Wall-clock seconds of the invocation that wrote the summary (a resumed run counts only
    /// the dialogues it computed).
    pub seconds: f64,
}

fn read_simulations(dir: &Path) -> Vec<SimulationSummary> {
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    paths.sort();
    paths
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("simulate-")))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|s| serde_json::from_str::<SimulationSummary>(&s).ok())
        .filter(|s| s.kind == "simulate")
        .collect()
}

/// Draws Recall@K curves (K = 1..50) of `series` (name, 50 values) into an SVG at `path`.
///
/// # Errors
/// [`Error::Io`] when the file cannot be written or plotters fails.
pub fn plot_curves(path: &Path, title: &str, series: &[(String, Vec<f64>)]) -> Result<()> {
    let points: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(name, values)| (name.clone(), values.iter().enumerate().map(|(k, v)| ((k + 1) as f64, *v)).collect()))
        .collect();
    plot_lines(path, title, ("K", "Recall@K"), &points)
}

/// Draws line `series` (name, (x, y) points) into an SVG at `path`, with axis descriptions
/// `axes` = (x, y); x spans the points' range, y runs from 0 to 1.1 × the largest value.
///
/// # Errors
/// [`Error::Io`] when the file cannot be written or plotters fails.
pub fn plot_lines(path: &Path, title: &str, axes: (&str, &str), series: &[(String, Vec<(f64, f64)>)]) -> Result<()> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 500)).into_drawing_area();
        let fail = |e: String| Error::io(path, std::io::Error::other(e));
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let all = || series.iter().flat_map(|(_, v)| v.iter().copied());
        let ymax = all().map(|p| p.1).fold(0.05f64, f64::max) * 1.1;
        let xmin = all().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let xmax = all().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let (xmin, xmax) = if xmin < xmax { (xmin, xmax) } else { (0.0, 1.0) };
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(xmin..xmax, 0f64..ymax.min(1.0))
            .map_err(|e| fail(e.to_string()))?;
        chart.configure_mesh().x_desc(axes.0).y_desc(axes.1).draw().map_err(|e| fail(e.to_string()))?;
        for (i, (name, values)) in series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(values.iter().copied(), color.stroke_width(2)))
                .map_err(|e| fail(e.to_string()))?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| fail(e.to_string()))?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    crate::util::write_atomic(path, svg.as_bytes())
}

/// The combined report written by [`write_report`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CombinedReport {
    /// Every run, in file-name order.
    pub runs: Vec<SuiteReport>,
    /// Simulator runs.
    pub simulations: Vec<SimulationSummary>,
    /// Published anchors (not measured here).
    pub published: Vec<PublishedAnchor>,
    /// Plot files, relative to the report.
    pub plots: Vec<String>,
    /// Runs over other catalogs (`--catalog NAME`, `results/NAME/`), by catalog name.
    #[serde(default)]
    pub catalogs: std::collections::BTreeMap<String, Vec<SuiteReport>>,
}

/// Reads every run in `results_dir` and writes `<evals>/REPORT.md`, `<evals>/report.json` and
/// `<evals>/plots/*.svg` (one plot per dataset × protocol, one curve per full run). Returns the
/// Markdown path.
///
/// # Errors
/// [`Error::InvalidInput`] when there is no run; [`Error::Io`].
pub fn write_report(results_dir: &Path, evals_dir: &Path) -> Result<PathBuf> {
    let mut runs = read_reports(results_dir)?;
    sort_runs(&mut runs);
    if runs.is_empty() {
        return Err(Error::InvalidInput(format!(
            "no evaluation results in {}; run `curator eval all` first",
            results_dir.display()
        )));
    }
    let sims = read_simulations(results_dir);
    let anchors = published_anchors();
    let mut plots = Vec::new();
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Curator evaluation report\n\nRegenerate everything with `curator eval all` (or `make eval`). Every \
         figure is measured by this repository's code with the counts beside it, except the rows marked \
         **published**, which are quoted from other papers (DESIGN.md §4) and use their own extraction. \
         Never tuned on a test split: the ranker's weights come from training dialogues (`curator tune`); \
         INSPIRED dev is the split for tuning.\n"
    );
    for dataset in [Dataset::Redial, Dataset::Inspired] {
        let ds: Vec<SuiteReport> = runs.iter().filter(|r| r.dataset == dataset).cloned().collect();
        if ds.is_empty() {
            continue;
        }
        let _ = writeln!(md, "# {}\n", dataset.label());
        let first = &ds[0];
        let _ = writeln!(
            md,
            "Data: `{}` (sha256 `{}`); test split: {} dialogues, {} evaluation points.\n",
            first.data_path,
            first.data_sha256,
            report::thousands(first.dialogues),
            report::thousands(first.points_total)
        );
        if dataset == Dataset::Inspired {
            let _ = writeln!(
                md,
                "Item set: the catalog's 6,924 ReDial movies. INSPIRED movies are linked into it by title and \
                 year (`evals/inspired/*_items.tsv`); the rest keep ids outside the catalog and count as \
                 ground truth no system here can reach (GT OOC column).\n"
            );
        }
        protocol_table(&mut md, &ds);
        let pubs: Vec<&PublishedAnchor> = anchors.iter().filter(|a| a.dataset == dataset).collect();
        if !pubs.is_empty() {
            let _ = writeln!(md, "### Published anchors (not measured here)\n");
            let _ = writeln!(md, "| protocol | model | published Recall@K | source |");
            let _ = writeln!(md, "|---|---|---|---|");
            for a in pubs {
                let rec: Vec<String> = a.recall.iter().map(|(k, v)| format!("R@{k} {}", short(*v))).collect();
                let _ = writeln!(
                    md,
                    "| {} | **published**: {} | {} | {} |",
                    a.protocol,
                    a.model,
                    rec.join(" / "),
                    a.source
                );
            }
            md.push('\n');
        }
        he_table(&mut md, &ds);
        dialogue_table(&mut md, &ds);
        if let Some(c) = ds.iter().find_map(|r| r.cross_check.clone()) {
            cross_check_text(&mut md, dataset, &c);
        }
        // Plots: full runs (no limit) of the test split, plus agent runs labelled with their limit.
        let plotted: Vec<&SuiteReport> = ds.iter().filter(|r| r.split == "test").collect();
        // (file id, title, curves)
        type Plot = (String, String, Vec<(String, Vec<f64>)>);
        let mut curves: Vec<Plot> = Vec::new();
        for protocol in Protocol::ALL {
            let series = plotted
                .iter()
                .filter_map(|r| {
                    let p = r.protocols.iter().find(|p| p.protocol == protocol)?;
                    Some((label(r), p.recall_curve.clone()))
                })
                .collect();
            curves.push((protocol.id().to_string(), format!("{} test, {protocol}", dataset.label()), series));
        }
        let he = plotted
            .iter()
            .filter_map(|r| {
                let h = r.he_et_al.iter().find(|h| h.subset == "recommendation")?;
                Some((label(r), h.recall_curve.clone()))
            })
            .collect();
        curves.push(("he-recommendation".into(), format!("{} test, He et al. recommendation", dataset.label()), he));
        let _ = writeln!(md, "### Recall@K curves (K = 1..50)\n");
        for (id, title, series) in curves {
            if series.is_empty() {
                continue;
            }
            let file = format!("plots/{}-{id}.svg", dataset.id());
            plot_curves(&evals_dir.join(&file), &title, &series)?;
            let _ = writeln!(md, "![{title}]({file})\n");
            plots.push(file);
        }
        runs_list(&mut md, &ds);
    }
    let movies_inspired: Vec<SuiteReport> = runs
        .iter()
        .filter(|r| r.dataset == Dataset::Inspired && r.mode == "ranker" && r.limit.is_none())
        .cloned()
        .collect();
    let catalog_runs = read_catalog_runs(results_dir)?;
    for (catalog, own) in &catalog_runs {
        own_catalog_section(&mut md, catalog, own, &movies_inspired, evals_dir);
    }
    if !sims.is_empty() {
        let _ = writeln!(
            md,
            "# User simulator (iEvaLM style, leak-safe)\n\nThe simulated seeker sees the target's genres, people \
             and plot keywords, never its title; at most the turn limit; success = the target appears in a \
             recommendation list. Simulator and system are small local models: the figures measure this setup, \
             not a human.\n"
        );
        let _ = writeln!(md, "| system | simulator model | dialogues | successes | success rate | mean turns | max turns | leaked messages | templated messages | seconds (last invocation; a resumed run counts only its own work) |");
        let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for s in &sims {
            let _ = writeln!(
                md,
                "| {} | `{}` | {} | {} | {} | {:.2} | {} | {} | {} | {:.1} |",
                s.system,
                s.sim_model,
                s.dialogues,
                s.successes,
                f4(s.success_rate),
                s.mean_turns,
                s.max_turns,
                s.leaked_messages,
                s.templated_messages,
                s.seconds
            );
        }
        md.push('\n');
    }
    let md_path = evals_dir.join("REPORT.md");
    crate::util::write_atomic(&md_path, md.as_bytes())?;
    let combined = CombinedReport {
        runs,
        simulations: sims,
        published: anchors,
        plots,
        catalogs: catalog_runs.into_iter().collect(),
    };
    let mut json = serde_json::to_string_pretty(&combined).map_err(|e| Error::InvalidInput(e.to_string()))?;
    json.push('\n');
    crate::util::write_atomic(&evals_dir.join("report.json"), json.as_bytes())?;
    Ok(md_path)
}

/// Full ranker runs first, then limited and agent runs; test before dev; by system within.
fn sort_runs(runs: &mut [SuiteReport]) {
    runs.sort_by(|a, b| {
        (a.mode != "ranker", a.limit.is_some(), b.split.as_str(), &a.system).cmp(&(
            b.mode != "ranker",
            b.limit.is_some(),
            a.split.as_str(),
            &b.system,
        ))
    });
}

/// The "Runs" list: each run's provenance (commit, model, ranker config, catalog manifest, data).
fn runs_list(md: &mut String, runs: &[SuiteReport]) {
    let _ = writeln!(md, "### Runs\n");
    for r in runs {
        let _ = writeln!(
            md,
            "- {} {} [{}] `{}`: commit `{}`, model {}, ranker config sha256 `{}`, catalog manifest sha256 `{}`, \
             data sha256 `{}`, {:.2} s ({:.4} s per point)",
            r.dataset.label(),
            r.split,
            r.mode,
            label(r),
            r.provenance.git_commit,
            r.provenance.model_sha256.as_deref().map_or("none".to_string(), |h| format!("sha256 `{h}`")),
            r.provenance.ranker_config_sha256.as_deref().unwrap_or("-"),
            r.provenance.catalog_manifest_sha256.as_deref().unwrap_or("-"),
            r.data_sha256,
            r.seconds_total,
            r.seconds_per_point
        );
    }
    md.push('\n');
}

/// The first cells of a run's table row: split (with its limit), system, mode.
fn run_cells(r: &SuiteReport) -> String {
    let limit = r.limit.map(|n| format!(" (first {n})")).unwrap_or_default();
    format!("{}{limit} | {} | {}", r.split, r.system, r.mode)
}

fn label(r: &SuiteReport) -> String {
    match r.limit {
        Some(n) => format!("{} [{}, first {n}]", r.system, r.mode),
        None => format!("{} [{}]", r.system, r.mode),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The committed results: the generator writes the own-catalog INSPIRED section from
    /// `results/inspired/` (figures as stored in the run files, with counts), beside the ReDial
    /// catalog's rows and the He et al. reconciliation.
    #[test]
    fn own_catalog_runs_get_their_section() {
        let results = crate::paths::evals_dir().join("results");
        let out = tempfile::tempdir().unwrap();
        let evals = out.path().join("evals");
        std::fs::create_dir_all(&evals).unwrap();
        let md = std::fs::read_to_string(write_report(&results, &evals).unwrap()).unwrap();
        let section = md.split("# INSPIRED on its own catalog (`--catalog inspired`)").nth(1).unwrap();
        let own: SuiteReport = serde_json::from_str(
            &std::fs::read_to_string(results.join("inspired/inspired-test-agent-tools.json")).unwrap(),
        )
        .unwrap();
        let p = own.protocols.iter().find(|p| p.protocol == Protocol::Standard).unwrap();
        let m = &p.metrics;
        let row = format!(
            "| test | agent-tools | ranker | standard | {} | {} | {} | {} | {} |",
            report::thousands(p.counts.instances),
            report::thousands(p.counts.recommendations),
            f4(m.recall_at_1),
            f4(m.recall_at_10),
            f4(m.recall_at_50)
        );
        assert!(section.contains(&row), "{row} missing from:\n{section}");
        assert!(section.contains("| movies (ReDial) | test | agent-tools | ranker | standard |"), "{section}");
        assert!(section.contains("theirs: 228 contexts"), "{section}");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(evals.join("report.json")).unwrap()).unwrap();
        assert!(json["catalogs"]["inspired"].as_array().is_some_and(|a| !a.is_empty()));
    }
}
