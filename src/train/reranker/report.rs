//! The test side of `curator train reranker --ablation`: every system scored on ReDial and
//! INSPIRED test after selection, and the report `evals/results/reranker.{json,md}` with the
//! learning-curve plots in `evals/plots/`.

use super::{
    candidate_sets, metrics_of, CandidateRecall, EpochStat, RerankerOptions, RerankerReport, TestFigures, Variant,
};
use crate::catalog::ItemId;
use crate::eval::metrics::{paired_bootstrap, paired_bootstrap_at, Metrics, PairedDifference, MAX_K};
use crate::eval::{extract_points, EvalPoint, Protocol};
use crate::rank::policy::Policy;
use crate::{Error, Result};

/// Scores the fusion and every policy on ReDial test and, when given, INSPIRED test (standard
/// and de-dup each) with the catalog's own models (fitted on all training dialogues).
pub(super) fn evaluate_test(
    opts: &RerankerOptions,
    policies: &[(String, Policy)],
) -> Result<(Vec<TestFigures>, Vec<CandidateRecall>)> {
    let assets = crate::assets::Assets::load(&opts.catalog_dir, None)?;
    let mut sets: Vec<(&str, Vec<EvalPoint>)> = Vec::new();
    if opts.inspired_dev.is_none() {
        sets.push(("ReDial test", extract_points(&crate::eval::load_redial(&opts.test_path)?)));
    }
    if let Some(path) = &opts.inspired_test {
        let dialogues = crate::eval::inspired::load_inspired(path)?;
        sets.push(("INSPIRED test", crate::eval::inspired::extract_inspired_points(&dialogues)));
    }
    let mut figures = Vec::new();
    let mut recall = Vec::new();
    for (dataset, points) in &sets {
        let (f, r) = evaluate_points(opts, &assets, policies, dataset, points)?;
        figures.extend(f);
        recall.extend(r);
    }
    Ok((figures, recall))
}

/// [`evaluate_test`] on one test set's `points`.
fn evaluate_points(
    opts: &RerankerOptions,
    assets: &crate::assets::Assets,
    policies: &[(String, Policy)],
    dataset: &str,
    points: &[EvalPoint],
) -> Result<(Vec<TestFigures>, Vec<CandidateRecall>)> {
    let sets = candidate_sets(
        &assets.tracker,
        &assets.ranker,
        opts.candidates,
        points,
        opts.progress,
        &format!("features ({dataset})"),
    );
    let catalog = assets.catalog.as_ref();
    // Per system (fusion first) and point: the top MAX_K item ids.
    let mut lists: Vec<Vec<Vec<ItemId>>> = vec![Vec::with_capacity(points.len()); policies.len() + 1];
    let mut inside: Vec<Vec<bool>> = Vec::with_capacity(points.len());
    let mut cands = 0usize;
    let ids = |v: Vec<usize>| -> Vec<ItemId> { v.into_iter().map(|p| catalog.items()[p].id).collect() };
    for (p, set) in points.iter().zip(&sets) {
        let set = set.clone().unwrap_or_default();
        cands += set.len();
        lists[0].push(ids(set.fusion_order.iter().copied().take(MAX_K).collect()));
        for (i, (_, pol)) in policies.iter().enumerate() {
            lists[i + 1].push(ids(pol.ranking(&set, MAX_K)));
        }
        inside.push(
            p.targets.iter().map(|t| catalog.position(t.item).is_some_and(|q| set.positions.contains(&q))).collect(),
        );
    }
    let mut figures = Vec::new();
    let mut recall = Vec::new();
    for protocol in Protocol::ALL {
        let chosen: Vec<usize> = (0..points.len()).filter(|&i| !points[i].targets_for(protocol).is_empty()).collect();
        let ranks_of = |sys: usize| -> Vec<Vec<Option<usize>>> {
            chosen
                .iter()
                .map(|&i| {
                    points[i]
                        .targets_for(protocol)
                        .iter()
                        .map(|&t| crate::eval::metrics::rank_of(&lists[sys][i], t))
                        .collect()
                })
                .collect()
        };
        let fusion = ranks_of(0);
        for sys in 0..=policies.len() {
            let ranks = ranks_of(sys);
            let name = if sys == 0 { "fusion (ranker.yaml)".to_string() } else { policies[sys - 1].0.clone() };
            figures.push(TestFigures {
                dataset: dataset.to_string(),
                system: name,
                protocol,
                instances: chosen.len(),
                samples: ranks.iter().map(Vec::len).sum(),
                metrics: metrics_of(&ranks),
                versus_fusion: if sys == 0 { None } else { Some(paired_bootstrap(&ranks, &fusion, 1000, 17)?) },
                versus_fusion_per_metric: if sys == 0 {
                    Vec::new()
                } else {
                    [1, 10, 50]
                        .iter()
                        .map(|&k| paired_bootstrap_at(&ranks, &fusion, &[k], 1000, 17))
                        .collect::<Result<_>>()?
                },
            });
        }
        let (mut hit, mut n) = (0usize, 0usize);
        for &i in &chosen {
            for (t, &ins) in points[i].targets.iter().zip(&inside[i]) {
                if protocol == Protocol::Standard || !t.mentioned_before {
                    n += 1;
                    hit += usize::from(ins);
                }
            }
        }
        recall.push(CandidateRecall {
            split: format!("{dataset} ({protocol})"),
            inside: hit,
            samples: n,
            instances: chosen.len(),
            mean_candidates: cands as f64 / points.len().max(1) as f64,
        });
    }
    Ok((figures, recall))
}

/// `R@1 | R@10 | R@50 | NDCG@10 | NDCG@50 | MRR@10` cells of a Markdown row.
fn metric_cells(m: &Metrics) -> String {
    [m.recall_at_1, m.recall_at_10, m.recall_at_50, m.ndcg_at_10, m.ndcg_at_50, m.mrr_at_10]
        .iter()
        .map(|v| format!("{v:.4}"))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A paired difference as "+d [low, high]" (empty for none).
fn difference_cell(d: Option<PairedDifference>) -> String {
    d.map(|d| format!("{:+.4} [{:+.4}, {:+.4}]", d.difference, d.low, d.high)).unwrap_or_default()
}

pub(super) fn write_report(opts: &RerankerOptions, report: &RerankerReport) -> Result<()> {
    std::fs::create_dir_all(&opts.results_dir).map_err(|e| Error::io(&opts.results_dir, e))?;
    let json = serde_json::to_string_pretty(report).map_err(|e| Error::InvalidInput(e.to_string()))?;
    crate::util::write_atomic(&opts.results_dir.join("reranker.json"), json.as_bytes())?;
    // An INSPIRED catalog's run (`--inspired`): its name, for the headings and plot files.
    let own = opts
        .inspired_dev
        .as_ref()
        .map(|_| opts.catalog_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
    let mut md = match &own {
        None => String::from(
            "# Learned reranker: Rank-GRPO and baselines (ReDial; INSPIRED test on the movies catalog)\n\n",
        ),
        Some(name) => format!("# Learned reranker of the {name} catalog: Rank-GRPO and baselines (INSPIRED)\n\n"),
    };
    let mut sizes = match opts.candidates.is_default() {
        true => String::new(),
        false => format!(" --candidates {}", opts.candidates),
    };
    if opts.ensemble > 1 {
        sizes.push_str(&format!(" --ensemble {}", opts.ensemble));
    }
    md.push_str(&match &own {
        None => format!(
            "Regenerate: `curator train reranker --source ../shared/data --epochs {} --seed {} --ablation{sizes}`\n(ReDial test is read only after selection; selection on reranker-validation).\n\n",
            opts.epochs, opts.seed
        ),
        Some(name) => format!(
            "Regenerate: `curator --catalog {name} train reranker --inspired --source ../shared/data --epochs {} --seed {} --ablation{sizes}`\n(INSPIRED test is read only after selection; early stopping and selection on INSPIRED dev, \"validation\" below).\n\n",
            opts.epochs, opts.seed
        ),
    });
    md.push_str(&format!(
        "Candidate generators' sizes (`--candidates`; saved with the policy): {}.\n\n",
        opts.candidates
    ));
    md.push_str("## Candidate recall (ground truth inside the candidate union)\n\n| split | recall | inside / samples | instances | candidates per instance |\n|---|---|---|---|---|\n");
    for r in &report.candidate_recall {
        md.push_str(&format!(
            "| {} | {:.4} | {} / {} | {} | {:.0} |\n",
            r.split,
            r.rate(),
            r.inside,
            r.samples,
            r.instances,
            r.mean_candidates
        ));
    }
    md.push_str(&format!(
        "\n## Validation (reranker-validation, de-dup; {} instances)\n\n| system | R@1 | R@10 | R@50 | NDCG@10 | NDCG@50 | MRR@10 | objective | Δ objective vs fusion [95 % CI] | best epoch |\n|---|---|---|---|---|---|---|---|---|---|\n",
        report.instances[1]
    ));
    for v in &report.validation {
        md.push_str(&format!(
            "| {} | {} | {:.4} | {} | {} |\n",
            v.system,
            metric_cells(&v.metrics),
            v.objective,
            difference_cell(v.versus_fusion),
            v.best_epoch.map(|e| e.to_string()).unwrap_or_default()
        ));
    }
    md.push_str(&format!(
        "\nSelected for the agent: {}.\n",
        report.selected.as_deref().unwrap_or("none (the fusion stays)")
    ));
    let datasets: Vec<&str> = report.test.iter().fold(Vec::new(), |mut v, t| {
        if !v.contains(&t.dataset.as_str()) {
            v.push(t.dataset.as_str());
        }
        v
    });
    for (dataset, protocol) in datasets.iter().flat_map(|d| Protocol::ALL.map(|p| (*d, p))) {
        md.push_str(&format!(
            "\n## {dataset}, {protocol}\n\n| system | instances / samples | R@1 | R@10 | R@50 | NDCG@10 | NDCG@50 | MRR@10 | Δ objective vs fusion [95 % CI] | ΔR@1 | ΔR@10 | ΔR@50 |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        ));
        for t in report.test.iter().filter(|t| t.protocol == protocol && t.dataset == dataset) {
            let per: Vec<String> =
                (0..3).map(|i| difference_cell(t.versus_fusion_per_metric.get(i).copied())).collect();
            md.push_str(&format!(
                "| {} | {} / {} | {} | {} | {} |\n",
                t.system,
                t.instances,
                t.samples,
                metric_cells(&t.metrics),
                difference_cell(t.versus_fusion),
                per.join(" | ")
            ));
        }
    }
    md.push_str("\nΔ objective: mean of R@1, R@10, R@50 minus the fusion's, paired bootstrap over instances (1,000 resamples, seed 17; `eval::metrics::paired_bootstrap`).\n");
    md.push_str(
        "\n## Setup and limits\n\n\
- Same candidates, features (28, `rank::policy` module doc; 5 of them context-level, usable only \
through the MLP's hidden units), standardisation (training means and standard deviations), \
initial/reference policy (the fusion's order as a PL policy) and seed for every variant; linear \
scores, and (g) each variant again with a 16-unit ReLU hidden layer started from its linear \
weights (also its KL reference). G = 8 lists of N = 20 per context (Gumbel \
top-N), ε_low 0.06, ε_high 0.08, β (KL, k3) 0.01, μ = 2, Adam 0.01, batch 32, early stopping \
(patience 4) on the validation objective.\n",
    );
    md.push_str(match &own {
        None => {
            "- Contexts: 3,047 full-text ReDial training dialogues (the 2,263 of `curator tune` and 784 more \
from CFCRS's processed copy, `eval::validation::reranker_dialogues`), 80/20 by conversation id; \
their CF, co-mention and popularity features come from statistics with all 3,047 held out; at \
test the catalog's models (all 9,996 training dialogues) supply them.\n\
- INSPIRED test: its dialogues linked into the movies catalog (`evals/inspired/test.jsonl`), \
scored by the policies trained on ReDial (no INSPIRED training context; the INSPIRED catalog's \
own policy: `evals/results/inspired/reranker.md`).\n\
"
        }
        Some(_) => {
            "- Contexts: INSPIRED's training dialogues (UniCRS's `train_data_dbpedia.jsonl`, names linked \
by `eval::inspired::link_movie`), every recommender turn with a new movie; their CF, co-mention \
and popularity features come from statistics and a model fitted on the other four of five folds \
(`train::reranker::inspired`); on dev and test the catalog's models (every training dialogue) \
supply them. Validation is INSPIRED dev, which also chose the catalog's fusion weights.\n"
        }
    });
    md.push_str(
        "\
- Not included: the LLM rank-level score feature log π̄, so (f) \"without the LLM feature\" is \
every row here: the default model scores the ranker's top 100 at 6.7 s a context on the 2 cores \
(`curator eval llm --parts rank`, README), ≈ 18 h for the 9,915 training, validation and ReDial test \
contexts, and no GPU was lent; contexts from the movie-level training dialogues without text.\n\
- The candidate union bounds every ranker over it (recall above): the rankers reorder it, and \
R@50 stays well below the union's recall.\n",
    );
    md.push_str("\n## Learning curves (validation NDCG@10 per epoch; epoch 0 = reference policy)\n\n");
    for v in report.validation.iter().filter(|v| v.curve.is_some()) {
        let curve = v.curve.as_deref().unwrap_or(&[]);
        md.push_str(&format!(
            "- {}: {}\n",
            v.system,
            curve
                .iter()
                .map(|e| format!("{}:{:.4}/{:.4}", e.epoch, e.reward, e.val_ndcg10))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    md.push_str("\n(epoch:reward/validation NDCG@10; reward = mean DCG@20 of the sampled lists for GRPO, mean log-likelihood for the supervised variant.)\n");
    let curves = |f: fn(&EpochStat) -> f64| -> Vec<(String, Vec<(f64, f64)>)> {
        report
            .validation
            .iter()
            .filter_map(|v| {
                v.curve.as_ref().map(|c| (v.system.clone(), c.iter().map(|e| (e.epoch as f64, f(e))).collect()))
            })
            .collect()
    };
    // `evals/plots`, beside `evals/results` (an INSPIRED catalog's results are one level deeper).
    let up = if own.is_some() { opts.results_dir.join("..").join("..") } else { opts.results_dir.join("..") };
    let plots = up.join("plots");
    let stem = match &own {
        None => "reranker".to_string(),
        Some(name) => format!("reranker-{name}"),
    };
    let what = if own.is_some() { "INSPIRED dev" } else { "ReDial, de-dup" };
    std::fs::create_dir_all(&plots).map_err(|e| Error::io(&plots, e))?;
    crate::eval::suite_report::plot_lines(
        &plots.join(format!("{stem}-val-ndcg10.svg")),
        &format!("Reranker: validation NDCG@10 per epoch ({what})"),
        ("epoch", "NDCG@10"),
        &curves(|e| e.val_ndcg10),
    )?;
    let grpo_only: Vec<(String, Vec<(f64, f64)>)> = curves(|e| e.reward)
        .into_iter()
        .filter(|(n, _)| n != Variant::Supervised.name())
        .map(|(n, v)| (n, v.into_iter().filter(|p| p.0 > 0.0).collect()))
        .collect();
    crate::eval::suite_report::plot_lines(
        &plots.join(format!("{stem}-reward.svg")),
        "Reranker: mean DCG@20 of the sampled lists per epoch",
        ("epoch", "reward"),
        &grpo_only,
    )?;
    md.push_str(&format!("\nPlots: `evals/plots/{stem}-val-ndcg10.svg`, `evals/plots/{stem}-reward.svg`.\n"));
    crate::util::write_atomic(&opts.results_dir.join("reranker.md"), md.as_bytes())
}
