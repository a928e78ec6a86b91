//! The report section of INSPIRED runs over a catalog of their own (`--catalog NAME`): item set,
//! ground-truth coverage, figures beside the movies catalog's, published targets, the He et al.
//! protocol and paired bootstrap comparisons (part of [`super::write_report`]).

use std::fmt::Write as _;
use std::path::Path;

use super::*;

/// The runs over other catalogs than movies: `<results>/<catalog>/*.json` for every sub-folder
/// named like a catalog (not `runs/`), sorted by catalog; each catalog's runs ordered like the
/// main ones (full ranker runs first; test before dev; by system).
///
/// # Errors
/// [`Error::Io`] when a folder cannot be read.
pub(super) fn read_catalog_runs(results_dir: &Path) -> Result<Vec<(String, Vec<SuiteReport>)>> {
    let mut names: Vec<String> = std::fs::read_dir(results_dir)
        .map_err(|e| Error::io(results_dir, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n != "runs" && crate::paths::valid_catalog_name(n))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let mut runs = read_reports(&results_dir.join(&name))?;
        sort_runs(&mut runs);
        if !runs.is_empty() {
            out.push((name, runs));
        }
    }
    Ok(out)
}

/// `(names linked into the catalog, names)` of an `evals/inspired/<catalog>/<split>_items.tsv`
/// (columns name, id, link; link `none` = outside the catalog); `None` when absent or unreadable.
fn linked_names(path: &Path) -> Option<(usize, usize)> {
    let text = std::fs::read_to_string(path).ok()?;
    let rows: Vec<&str> = text.lines().skip(1).filter(|l| !l.is_empty()).collect();
    let linked = rows.iter().filter(|l| l.rsplit('\t').next() != Some("none")).count();
    Some((linked, rows.len()))
}

/// The section of INSPIRED runs over catalog `catalog` (`--catalog NAME`): the item set (from
/// its build manifest and, when present, `catalogs/sources/NAME/sources.json`), ground-truth
/// coverage, the standard/de-dup figures beside the movies catalog's full ranker runs
/// (`movies`), the published targets, the He et al. protocol, the context cross-check and the
/// runs' provenance.
pub(super) fn own_catalog_section(
    md: &mut String,
    catalog: &str,
    own: &[SuiteReport],
    movies: &[SuiteReport],
    evals: &Path,
) {
    let t = report::thousands;
    let own: Vec<SuiteReport> = own.iter().filter(|r| r.dataset == Dataset::Inspired).cloned().collect();
    if own.is_empty() {
        return;
    }
    let root = evals.parent().unwrap_or(evals);
    let read_json = |p: PathBuf| -> Option<serde_json::Value> {
        std::fs::read_to_string(p).ok().and_then(|s| serde_json::from_str(&s).ok())
    };
    let manifest = read_json(root.join("catalogs").join(catalog).join("manifest.json"));
    let count = |key: &str| manifest.as_ref().and_then(|m| m[key].as_u64()).map_or("?".to_string(), |n| t(n as usize));
    let items = count("items");
    let _ = writeln!(md, "# INSPIRED on its own catalog (`--catalog {catalog}`)\n");
    let _ = writeln!(
        md,
        "Item set: the {items} items of `catalogs/{catalog}/` (built by `curator catalog build \
         catalogs/sources/{catalog} --name {catalog}`; manifest: {items} items, {} training sessions, {} \
         co-mentioned pairs). Interactions come from INSPIRED **train** only; dev and test are never trained on.",
        count("sessions"),
        count("comention_pairs")
    );
    if let Some(src) = read_json(root.join("catalogs/sources").join(catalog).join("sources.json")) {
        if let Some(obj) = src.as_object() {
            let parts: Vec<String> = obj.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let _ = writeln!(
                md,
                "What each source contributed (`catalogs/sources/{catalog}/sources.json`, written by \
                 `scripts/inspired_catalog.py`): {}.",
                parts.join(", ")
            );
        }
    }
    let mut coverage = Vec::new();
    for split in ["test", "dev"] {
        if let Some((linked, names)) =
            linked_names(&evals.join("inspired").join(catalog).join(format!("{split}_items.tsv")))
        {
            coverage.push(format!("{split} {} of {}", t(linked), t(names)));
        }
    }
    if !coverage.is_empty() {
        let _ = writeln!(
            md,
            "Ground-truth movie names linked into the catalog (`evals/inspired/{catalog}/*_items.tsv`): {}.",
            coverage.join(", ")
        );
    }
    let weights = root.join("catalogs").join(catalog).join("ranker.yaml");
    let _ = writeln!(
        md,
        "Ranker weights: {}.\n",
        if weights.exists() {
            format!("`catalogs/{catalog}/ranker.yaml` (chosen on INSPIRED dev only)")
        } else {
            "the defaults (no `ranker.yaml`)".to_string()
        }
    );
    let reranker = root.join("catalogs").join(catalog).join(crate::rank::RERANKER_FILE);
    if reranker.exists() {
        // The options the committed policy was trained with: its candidate sizes, and the
        // seeds of an ensemble (its provenance's `config.ensemble`).
        let sizes = match crate::rank::policy::Policy::load(&reranker) {
            Ok(p) => {
                let mut o = String::new();
                if !p.candidates.is_default() {
                    o.push_str(&format!(" --candidates {}", p.candidates));
                }
                if let Some(k) = p.provenance.pointer("/config/ensemble").and_then(|v| v.as_u64()).filter(|&k| k > 1) {
                    o.push_str(&format!(" --ensemble {k}"));
                }
                o
            }
            Err(_) => String::new(),
        };
        let _ = writeln!(
            md,
            "Learned reranker: `catalogs/{catalog}/reranker.json`, the agent's ranker over the fusion's candidates, trained on INSPIRED train (cross-fitted), selected on INSPIRED dev (`curator --catalog {catalog} train reranker --inspired --source ../shared/data --ablation{sizes}`; variants and the fusion on test: `evals/results/{catalog}/reranker.md`).\n"
        );
    }
    let _ = writeln!(
        md,
        "Commands: `curator --catalog {catalog} eval build --source ../shared/data`, then `curator --catalog \
         {catalog} eval inspired [--split dev] [--ranker popularity]` (results in `evals/results/{catalog}/`; each \
         run regenerates this report).\n"
    );
    let _ = writeln!(md, "## Standard and de-dup (measured), beside the ReDial catalog\n");
    let _ = writeln!(
        md,
        "| catalog | split | system | mode | protocol | instances | recommendations | R@1 | R@10 | R@50 |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---:|---:|---:|---:|---:|");
    let rows = own.iter().map(|r| (format!("{catalog} ({items})"), r));
    let beside =
        movies.iter().filter(|m| own.iter().any(|o| o.split == m.split)).map(|r| ("movies (ReDial)".to_string(), r));
    for (cat, r) in rows.chain(beside) {
        for p in r.protocols.iter().filter(|p| matches!(p.protocol, Protocol::Standard | Protocol::Dedup)) {
            let m = &p.metrics;
            let recall = [m.recall_at_1, m.recall_at_10, m.recall_at_50].map(f4).join(" | ");
            let (n, recs) = (t(p.counts.instances), t(p.counts.recommendations));
            let _ = writeln!(md, "| {cat} | {} | {} | {n} | {recs} | {recall} |", run_cells(r), p.protocol);
        }
    }
    let _ = writeln!(
        md,
        "| **published** MCCRS (INSPIRED's own items) | test | | | standard | | | .104 | .275 | .497 |\n\
         | **published** GCRS (2026, INSPIRED's own items) | test | | | standard | | | .1456 | .2945 | |\n"
    );
    let best = own.iter().find(|r| r.split == "test" && r.mode == "ranker" && r.limit.is_none());
    if let Some(p) = best.and_then(|r| r.protocols.iter().find(|p| p.protocol == Protocol::Standard)) {
        let m = &p.metrics;
        let met = m.recall_at_1 >= 0.104 && m.recall_at_10 >= 0.275 && m.recall_at_50 >= 0.497;
        let _ = writeln!(
            md,
            "Targets (MCCRS standard R@1/10/50 ≥ .104/.275/.497, GCRS R@1/10 ≥ .1456/.2945): {} by `{}` \
             (test, standard, {} points: {} / {} / {}).\n",
            if met { "met" } else { "**not met**" },
            best.map(|r| r.system.as_str()).unwrap_or("-"),
            t(p.counts.instances),
            f4(m.recall_at_1),
            f4(m.recall_at_10),
            f4(m.recall_at_50)
        );
    }
    paired_comparisons(md, catalog, &own, movies);
    he_table(md, &own);
    if let Some(c) = own.iter().find_map(|r| r.cross_check.clone()) {
        cross_check_text(md, Dataset::Inspired, &c);
    }
    runs_list(md, &own);
}

/// Paired bootstrap (2,000 resamples over evaluation points, seed 19;
/// [`crate::eval::metrics::paired_bootstrap`]) of the standard-protocol objective (mean of
/// R@1/10/50) of the own catalog's full agent-tools ranker runs against the same split's
/// popularity run and the movies catalog's agent-tools run, where both runs stored their ranks
/// for the same points and samples.
fn paired_comparisons(md: &mut String, catalog: &str, own: &[SuiteReport], movies: &[SuiteReport]) {
    let full = |r: &&SuiteReport| r.mode == "ranker" && r.limit.is_none() && !r.standard_ranks.is_empty();
    let mut lines = Vec::new();
    for a in own.iter().filter(full).filter(|r| r.system == "agent-tools") {
        let others = own
            .iter()
            .filter(full)
            .filter(|b| b.split == a.split && b.system != a.system)
            .map(|b| (format!("{catalog} {}", b.system), b))
            .chain(
                movies
                    .iter()
                    .filter(full)
                    .filter(|b| b.split == a.split && b.system == a.system)
                    .map(|b| (format!("movies (ReDial) {}", b.system), b)),
            );
        for (name, b) in others {
            match crate::eval::metrics::paired_bootstrap(&a.standard_ranks, &b.standard_ranks, 2000, 19) {
                Ok(d) => lines.push(format!(
                    "| {} | {catalog} {} − {name} | {} | {} | {:+.4} | [{:+.4}, {:+.4}] | {:.4} |",
                    a.split,
                    a.system,
                    report::thousands(d.instances),
                    report::thousands(d.samples),
                    d.difference,
                    d.low,
                    d.high,
                    d.p_not_better
                )),
                Err(e) => {
                    lines.push(format!("| {} | {catalog} {} − {name} | not paired: {e} | | | | |", a.split, a.system))
                }
            }
        }
    }
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "Paired bootstrap of the standard-protocol objective (mean of R@1/10/50; 2,000 resamples over \
         evaluation points, seed 19; share of resamples where the first is not better):\n"
    );
    let _ = writeln!(
        md,
        "| split | difference | instances | recommendations | Δ objective | 95 % interval | p(not better) |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|---:|---|---:|");
    for l in lines {
        let _ = writeln!(md, "{l}");
    }
    md.push('\n');
}
