//! What `curator train recommender` writes besides the model: the re-tuned fusion weights in
//! `ranker.yaml`, the model's manifest entry, and the ablation table.

use std::fmt::Write as _;
use std::path::Path;

use super::{AblationRow, TrainReport, TunedFusion};
use crate::{Error, Result};

/// Writes the re-tuned `cf` and `popularity` weights of the selected model into
/// `<catalog_dir>/ranker.yaml` (the other weights kept), with its validation figures as the
/// tuned objective. No `ranker.yaml`: nothing to do.
///
/// Errors: unreadable or malformed `ranker.yaml`; a failed write.
pub(super) fn update_fusion(catalog_dir: &Path, tuned: &TunedFusion) -> Result<()> {
    let path = catalog_dir.join("ranker.yaml");
    if !path.exists() {
        return Ok(());
    }
    let mut t = crate::rank::config::load(&path)?;
    t.weights.cf = tuned.cf;
    t.weights.popularity = tuned.popularity;
    t.provenance.objective_tuned = tuned.score.objective;
    t.provenance.tuned_metrics = tuned.score.metrics;
    crate::rank::config::save(&path, &t, crate::rank::config::RETUNED_HEADER)?;
    crate::outln!("wrote {} (cf {}, popularity {})", path.display(), tuned.cf, tuned.popularity);
    Ok(())
}

/// Adds (or updates) `catalogs/movies/<name>`'s sha256 in the catalog's `manifest.json`, so that
/// the agent's start-up check covers the model file. No manifest: nothing to do.
///
/// Errors: unreadable or malformed manifest; a failed write.
pub fn record_in_manifest(catalog_dir: &Path, name: &str) -> Result<()> {
    let path = catalog_dir.join("manifest.json");
    if !path.exists() {
        return Ok(());
    }
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let mut manifest: crate::data::Manifest =
        serde_json::from_slice(&bytes).map_err(|e| Error::parse(&path, e.line(), e.to_string()))?;
    let file = catalog_dir.join(name);
    manifest.outputs.insert(format!("catalogs/movies/{name}"), crate::util::sha256_file(&file)?);
    let mut text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| Error::InvalidInput(format!("cannot serialise manifest: {e}")))?;
    text.push('\n');
    crate::util::write_atomic(&path, text.as_bytes())
}

pub(super) fn write_ablation(dir: &Path, report: &TrainReport) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut json = serde_json::to_string_pretty(report)
        .map_err(|e| Error::InvalidInput(format!("cannot serialise the ablation: {e}")))?;
    json.push('\n');
    let path = dir.join("ablation.json");
    std::fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
    let mut md = String::new();
    let _ = writeln!(md, "# Collaborative recommenders: ablation on ReDial test\n");
    let _ = writeln!(
        md,
        "Produced by `curator train recommender --source ../shared/data --ablation`. Hyperparameters chosen on \
         validation ({} ReDial train dialogues, {} instances / {} recommendations, de-dup), held out of training. \
         Validation objective = mean of de-dup R@1/10/50: of the model alone; of the agent's candidate ranker \
         (text, genre, popularity, knowledge graph) with the model as its collaborative part, with the fusion \
         weights of `ranker.yaml`; and with `cf` and `popularity` re-tuned for that model (shown as cf/popularity). \
         Test figures: each model alone (no fusion), refit on all training data, seeded from the dialogue state \
         like the agent; ReDial test `evals/redial/test.jsonl` and INSPIRED dev `evals/inspired/dev.jsonl` (a \
         tuning split), top-50 over the 6,924 movies.\n",
        report.validation_dialogues, report.selected.validation.instances, report.selected.validation.recommendations
    );
    let _ = writeln!(md, "## Validation (ReDial train split held out, de-dup)\n");
    let _ = writeln!(
        md,
        "| model | data | hyperparameters | alone | in agent | in agent, re-tuned (cf/pop) | R@1 / R@10 / R@50 re-tuned |"
    );
    let _ = writeln!(md, "|---|---|---|---:|---:|---:|---|");
    let mix_of = |r: &AblationRow| {
        if r.movielens_weight > 0.0 {
            format!("{} (×{})", r.mix, r.movielens_weight)
        } else {
            r.mix.clone()
        }
    };
    for r in &report.rows {
        let agent = r.validation_agent.as_ref().map(|v| format!("{:.4}", v.objective)).unwrap_or_else(|| "-".into());
        let (tuned, detail) = match &r.validation_agent_tuned {
            Some(t) => (
                format!("{:.4} ({}/{})", t.score.objective, t.cf, t.popularity),
                format!("{:.4} / {:.4} / {:.4}", t.score.metrics[0], t.score.metrics[1], t.score.metrics[2]),
            ),
            None => ("-".into(), "-".into()),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.4} | {agent} | {tuned} | {detail} |",
            r.model,
            mix_of(r),
            r.spec.describe(),
            r.validation.objective
        );
    }
    let _ = writeln!(md, "\n## Test (model alone)\n");
    let _ = writeln!(md, "| model | data | split | protocol | instances / recs | R@1 | R@10 | R@50 | NDCG@10 |");
    let _ = writeln!(md, "|---|---|---|---|---:|---:|---:|---:|---:|");
    for r in &report.rows {
        for (split, t) in
            r.test.iter().map(|t| ("ReDial test", t)).chain(r.inspired_dev.iter().map(|t| ("INSPIRED dev", t)))
        {
            let _ = writeln!(
                md,
                "| {} | {} | {split} | {} | {} / {} | {:.4} | {:.4} | {:.4} | {:.4} |",
                r.model,
                mix_of(r),
                t.protocol,
                t.counts.instances,
                t.counts.recommendations,
                t.metrics.recall_at_1,
                t.metrics.recall_at_10,
                t.metrics.recall_at_50,
                t.metrics.ndcg_at_10
            );
        }
    }
    let s = &report.selected;
    let _ = writeln!(
        md,
        "\nSelected (best agent objective on validation with re-tuned cf and popularity): **{}** on {} (MovieLens \
         weight {}), {} neighbours per item.\n",
        s.spec.describe(),
        s.mix,
        s.movielens_weight,
        s.neighbours
    );
    let _ = writeln!(
        md,
        "The whole agent (knowledge graph included) with the selected model against the agent with co-mentions, \
         each with its own cf and popularity weights, de-dup protocol:\n"
    );
    let _ = writeln!(md, "| split | instances / recs | agent with | R@1 | R@10 | R@50 | NDCG@10 | objective |");
    let _ = writeln!(md, "|---|---:|---|---:|---:|---:|---:|---:|");
    let splits = [
        ("validation", &report.versus_co_mentions_validation),
        ("ReDial test (reported only)", &report.versus_co_mentions_test),
    ];
    for (split, c) in splits {
        let Some(c) = c else { continue };
        for (who, v) in [("selected model", &c.selected), ("co-mentions", &c.co_mentions)] {
            let _ = writeln!(
                md,
                "| {split} | {} / {} | {who} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} |",
                v.instances, v.recommendations, v.metrics[0], v.metrics[1], v.metrics[2], v.metrics[3], v.objective
            );
        }
    }
    for (split, c) in splits {
        if let Some(c) = c {
            let _ = writeln!(
                md,
                "\nObjective (mean of R@1, R@10, R@50), selected minus co-mentions, {split}: {}.",
                c.difference
            );
        }
    }
    let _ = writeln!(md);
    let _ = writeln!(md, "Interactions of the final fit: {}.", report.interactions);
    let path = dir.join("ablation.md");
    std::fs::write(&path, md).map_err(|e| Error::io(&path, e))?;
    crate::outln!("wrote {} and {}", dir.join("ablation.json").display(), path.display());
    Ok(())
}
