//! `curator train reranker`: trains the listwise Plackett–Luce reranker (`rank::policy`) with
//! Rank-GRPO (Zhu et al., ICLR 2026, arXiv 2510.20150; DESIGN.md §6) and its baselines, selects
//! on validation, saves the best policy beside `ranker.yaml` when it beats the fusion there, and
//! (with `--ablation`) scores every variant on the ReDial test split.
//!
//! **Contexts.** The full-text ReDial *training* dialogues: the 2,263 of `curator tune`
//! (`eval::validation`, checked disjoint from test) and the 784 more of CFCRS's processed copy
//! (`eval::validation::reranker_dialogues`; 3,047 in all). Each recommender utterance with a
//! movie not mentioned before is one context (de-dup protocol); its state comes from the one
//! dialogue tracker (`ToolRanker::state_for` semantics: annotated items). The dialogues are split
//! by a hash of their conversation id into reranker-train (80 %) and reranker-validation (20 %).
//!
//! **Cross-fitting.** Every feature that counts dialogues (the CF model, co-mentions, popularity)
//! comes from models fitted with *all* 3,047 text dialogues held out: a two-fold split of the
//! 9,996 training dialogues whose second fold supplies no contexts, so no context ever gets
//! features from its own dialogue. At inference (test, the agent) the models of `catalogs/movies`
//! (fitted on every training dialogue) supply them. The features are computed once and cached
//! under `~/.cache/curator/reranker/` (keyed by the inputs' hashes and the dialogue count).
//!
//! **Variants** (same candidates, features, initial policy and seed): (b) supervised listwise
//! softmax, (c) vanilla GRPO with a sequence-level DCG@N reward, (d) Rank-GRPO exp∞, (e)
//! Rank-GRPO causal DCG. All start from the reference policy π_ref: the fusion's order as a PL
//! policy, s = −a · standardised ln(1 + fusion rank), `a` chosen by training likelihood. Early
//! stopping and selection on reranker-validation by the objective of `curator tune` (mean of
//! R@1, R@10, R@50); the test split is read only by `--ablation`, after selection. With
//! `--ensemble K` the best variant on validation is trained again from seeds `seed + 1` …
//! `seed + K − 1` and the mean-score ensemble of the K policies ([`grpo::ensemble`], one policy
//! with K times the hidden units) is one more candidate for selection.

mod cache;
mod contexts;
pub mod grpo;
pub mod inspired;
mod report;
pub use cache::CachedPoint;
use contexts::{candidate_sets, training_points};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::eval::metrics::{paired_bootstrap, Metrics, PairedDifference};
use crate::eval::{MetricsAccumulator, Protocol};
use crate::rank::policy::{CandidateSizes, Policy, D, FUSION_LOG_RANK};
use crate::train::bar;
use crate::util::splitmix64;
use crate::{Error, Result};
use grpo::{Adam, Clip, Context, Reward, Sampled};

/// What `curator train reranker` does.
#[derive(Debug, Clone, PartialEq)]
pub struct RerankerOptions {
    /// Raw data folder (laid out like `../shared/data`).
    pub source: PathBuf,
    /// Catalog folder (`catalogs/movies`).
    pub catalog_dir: PathBuf,
    /// ReDial test split: read to refuse overlap and, with `ablation`, to evaluate.
    pub test_path: PathBuf,
    /// INSPIRED test split linked into the catalog (`evals/inspired/test.jsonl`): with
    /// `ablation`, evaluated too when given.
    pub inspired_test: Option<PathBuf>,
    /// Folder of the ablation report (`evals/results`).
    pub results_dir: PathBuf,
    /// Feature cache and checkpoints (`~/.cache/curator/reranker`).
    pub cache_dir: PathBuf,
    /// Training epochs per variant (upper bound; early stopping).
    pub epochs: usize,
    /// Seed of sampling and shuffling.
    pub seed: u64,
    /// Continue from the variants' checkpoints when present.
    pub resume: bool,
    /// Score every variant on ReDial test and write `reranker.{json,md}`.
    pub ablation: bool,
    /// Save the selected policy as `<catalog>/reranker.json` when it beats the fusion on
    /// validation.
    pub write: bool,
    /// Progress bars.
    pub progress: bool,
    /// Use only the first this many validation dialogues (smoke runs; with `inspired_dev`, the
    /// first this many INSPIRED training dialogues).
    pub limit: Option<usize>,
    /// An INSPIRED catalog's dev split (`evals/inspired/NAME/dev.jsonl`): the contexts are then
    /// INSPIRED's training dialogues, cross-fitted, and this file is the validation
    /// ([`inspired`] module doc); `inspired_test` is the only test set of the ablation.
    pub inspired_dev: Option<PathBuf>,
    /// With `inspired_dev`: also ReDial's full-text training dialogues mapped into the catalog
    /// as training contexts ([`inspired`] module doc).
    pub redial_contexts: bool,
    /// The candidate generators' sizes of every candidate set built (training, validation,
    /// test); saved with the policy (`candidates` in `reranker.json`) so the agent builds the
    /// same sets. Default: [`CandidateSizes::default`].
    pub candidates: CandidateSizes,
    /// Seeds of the seed ensemble of the best variant on validation (≥ 2: that variant is
    /// trained again with seeds `seed + 1` … `seed + K − 1`, and the ensemble
    /// ([`grpo::ensemble`]) joins the variants selection chooses from); 0 or 1: none.
    pub ensemble: usize,
}

/// A training variant (module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// Supervised listwise softmax (Plackett–Luce likelihood of each ground-truth item first).
    Supervised,
    /// GRPO with the given reward ([`Reward::SequenceDcg`]: vanilla GRPO).
    Grpo(Reward),
}

impl Variant {
    /// The variants in report order: (b), (c), (d), (e).
    pub const ALL: [Variant; 4] = [
        Variant::Supervised,
        Variant::Grpo(Reward::SequenceDcg),
        Variant::Grpo(Reward::ExpInf),
        Variant::Grpo(Reward::CausalDcg),
    ];

    /// Report name.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Supervised => "supervised PL softmax",
            Variant::Grpo(Reward::SequenceDcg) => "vanilla GRPO (sequence DCG)",
            Variant::Grpo(Reward::ExpInf) => "Rank-GRPO exp∞",
            Variant::Grpo(Reward::CausalDcg) => "Rank-GRPO causal DCG",
        }
    }

    fn slug(self) -> &'static str {
        match self {
            Variant::Supervised => "supervised",
            Variant::Grpo(Reward::SequenceDcg) => "grpo-dcg",
            Variant::Grpo(Reward::ExpInf) => "rank-grpo-expinf",
            Variant::Grpo(Reward::CausalDcg) => "rank-grpo-causal-dcg",
        }
    }
}

/// Hyperparameters of one training run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// What is trained.
    pub variant: Variant,
    /// Lists sampled per context, G.
    pub groups: usize,
    /// List length, N.
    pub list_len: usize,
    /// Clipping and KL.
    pub clip: Clip,
    /// Optimisation steps per sampled batch, μ.
    pub mu: usize,
    /// Adam step size.
    pub lr: f64,
    /// Contexts per batch.
    pub batch: usize,
    /// Epochs (upper bound).
    pub epochs: usize,
    /// Epochs without a validation gain before stopping.
    pub patience: usize,
    /// Seed.
    pub seed: u64,
    /// Hidden ReLU units of the policy (0: linear; `rank::policy` module doc).
    #[serde(default)]
    pub hidden: usize,
    /// Seeds of a seed ensemble ([`grpo::ensemble`]; seeds `seed`, `seed + 1`, …); 0 and 1: a
    /// single policy.
    #[serde(default, skip_serializing_if = "single")]
    pub ensemble: usize,
}

fn single(k: &usize) -> bool {
    *k <= 1
}

/// Hidden units of the MLP variant (g): small enough for ≤ 1 ms over 300 candidates.
pub const MLP_HIDDEN: usize = 16;

impl TrainConfig {
    /// The defaults of `curator train reranker` for `variant` (G 8, N 20, ε_low 0.06,
    /// ε_high 0.08, β 0.01, μ 2, Adam 0.01, batch 32, patience 4).
    pub fn new(variant: Variant, epochs: usize, seed: u64) -> Self {
        TrainConfig {
            variant,
            groups: 8,
            list_len: 20,
            clip: Clip { eps_low: 0.06, eps_high: 0.08, beta: 0.01 },
            mu: 2,
            lr: 0.01,
            batch: 32,
            epochs,
            patience: 4,
            seed,
            hidden: 0,
            ensemble: 0,
        }
    }

    /// Report name: the variant's, with the hidden layer when there is one and the seeds of an
    /// ensemble.
    pub fn name(&self) -> String {
        let base = match self.hidden {
            0 => self.variant.name().to_string(),
            h => format!("{} + MLP ({h} ReLU)", self.variant.name()),
        };
        match self.ensemble {
            0 | 1 => base,
            k => format!("{base}, ensemble of {k} seeds"),
        }
    }

    fn slug(&self) -> String {
        match self.hidden {
            0 => self.variant.slug().to_string(),
            h => format!("{}-mlp{h}", self.variant.slug()),
        }
    }
}

/// One epoch of a learning curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochStat {
    /// Epoch (1-based; 0: the initial policy).
    pub epoch: usize,
    /// Mean training reward: DCG@N of the sampled lists (GRPO) or the mean log-likelihood
    /// (supervised).
    pub reward: f64,
    /// Validation NDCG@10.
    pub val_ndcg10: f64,
    /// Validation objective (mean of R@1, R@10, R@50).
    pub val_objective: f64,
}

/// A trained policy's weights (on standardised features) and its curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trained {
    /// θ of the best validation epoch.
    pub theta: Vec<f64>,
    /// Its epoch (0: the initial policy was best).
    pub best_epoch: usize,
    /// Per epoch.
    pub curve: Vec<EpochStat>,
}

/// Resumable state of a run, saved after each epoch.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Checkpoint {
    config: TrainConfig,
    theta: Vec<f64>,
    adam: Adam,
    rng: u64,
    best: Trained,
    best_objective: f64,
    since_best: usize,
}

/// Per-target 1-based ranks of a validation context under scores `s` (None: not a candidate).
fn target_ranks(ctx: &Context, s: &[f64]) -> Vec<Option<usize>> {
    let mut order: Vec<usize> = (0..ctx.len()).collect();
    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]).then(a.cmp(&b)));
    let mut ranks: Vec<Option<usize>> =
        order.iter().enumerate().filter(|(_, &i)| ctx.relevant[i]).map(|(r, _)| Some(r + 1)).collect();
    ranks.resize(ctx.targets.max(ranks.len()), None);
    ranks
}

/// Validation figures of θ: (NDCG@10, objective, per-instance ranks).
fn validate(val: &[Context], theta: &[f64]) -> (f64, f64, Vec<Vec<Option<usize>>>) {
    let mut acc = MetricsAccumulator::new();
    let mut all = Vec::with_capacity(val.len());
    for ctx in val {
        let ranks = target_ranks(ctx, &grpo::scores(ctx, theta));
        for r in &ranks {
            acc.add_rank(*r);
        }
        all.push(ranks);
    }
    let m = acc.mean();
    (m.ndcg_at_10, (m.recall_at_1 + m.recall_at_10 + m.recall_at_50) / 3.0, all)
}

/// Trains one variant from `theta0` (also the reference policy π_ref) on `train`, early-stopped
/// on `val`; deterministic for a seed; resumes from `checkpoint` when it exists and holds the
/// same configuration (written after every epoch when given).
///
/// Errors: a checkpoint that cannot be written.
pub fn train_policy(
    train: &[Context],
    val: &[Context],
    theta0: &[f64],
    cfg: &TrainConfig,
    checkpoint: Option<&Path>,
    progress: bool,
) -> Result<Trained> {
    let train: Vec<&Context> = train.iter().filter(|c| c.relevant.iter().any(|&r| r)).collect();
    let resumed: Option<Checkpoint> = checkpoint
        .filter(|p| p.exists())
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|s| serde_json::from_str::<Checkpoint>(&s).ok())
        .filter(|c| c.config == *cfg && c.theta.len() == theta0.len());
    let mut ck = match resumed {
        Some(c) => c,
        None => {
            let (ndcg, obj, _) = validate(val, theta0);
            Checkpoint {
                config: *cfg,
                theta: theta0.to_vec(),
                adam: Adam::new(theta0.len(), cfg.lr),
                rng: cfg.seed,
                best: Trained {
                    theta: theta0.to_vec(),
                    best_epoch: 0,
                    curve: vec![EpochStat { epoch: 0, reward: 0.0, val_ndcg10: ndcg, val_objective: obj }],
                },
                best_objective: obj,
                since_best: 0,
            }
        }
    };
    let start = ck.best.curve.last().map(|e| e.epoch).unwrap_or(0);
    let name = cfg.name();
    let pb = bar(cfg.epochs, progress, &name);
    pb.set_position(start as u64);
    for epoch in start + 1..=cfg.epochs {
        if ck.since_best >= cfg.patience {
            break;
        }
        let mut order: Vec<usize> = (0..train.len()).collect();
        for i in (1..order.len()).rev() {
            let j = (splitmix64(&mut ck.rng) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let (mut reward_sum, mut reward_n) = (0.0, 0usize);
        for batch in order.chunks(cfg.batch.max(1)) {
            match cfg.variant {
                Variant::Supervised => {
                    let mut grad = vec![0f64; ck.theta.len()];
                    for &c in batch {
                        let (v, g) = grpo::softmax_likelihood(train[c], &ck.theta);
                        reward_sum += v;
                        reward_n += 1;
                        grad.iter_mut().zip(g).for_each(|(a, b)| *a += b / batch.len() as f64);
                    }
                    ck.adam.step(&mut ck.theta, &grad);
                }
                Variant::Grpo(reward) => {
                    let sampled: Vec<(usize, Vec<Sampled>)> = batch
                        .iter()
                        .map(|&c| {
                            let ctx = train[c];
                            let s_old = grpo::scores(ctx, &ck.theta);
                            let s_ref = grpo::scores(ctx, theta0);
                            let lists: Vec<Vec<u32>> = (0..cfg.groups)
                                .map(|_| grpo::gumbel_top_n(&s_old, cfg.list_len, &mut ck.rng))
                                .collect();
                            let rel: Vec<Vec<bool>> =
                                lists.iter().map(|l| l.iter().map(|&i| ctx.relevant[i as usize]).collect()).collect();
                            for r in &rel {
                                reward_sum +=
                                    grpo::rank_rewards(r, Reward::SequenceDcg).first().copied().unwrap_or(0.0);
                                reward_n += 1;
                            }
                            let rewards: Vec<Vec<f64>> = rel.iter().map(|r| grpo::rank_rewards(r, reward)).collect();
                            let adv = grpo::advantages(&rewards);
                            let samples = lists
                                .into_iter()
                                .zip(adv)
                                .map(|(list, advantage)| Sampled {
                                    logp_old: grpo::list_log_probs(&s_old, &list, None),
                                    logp_ref: grpo::list_log_probs(&s_ref, &list, None),
                                    list,
                                    advantage,
                                })
                                .collect();
                            (c, samples)
                        })
                        .collect();
                    for _ in 0..cfg.mu.max(1) {
                        let mut grad = vec![0f64; ck.theta.len()];
                        for (c, samples) in &sampled {
                            let (_, g) = grpo::clipped_objective(train[*c], &ck.theta, samples, cfg.clip);
                            grad.iter_mut().zip(g).for_each(|(a, b)| *a += b / sampled.len() as f64);
                        }
                        ck.adam.step(&mut ck.theta, &grad);
                    }
                }
            }
        }
        let (ndcg, obj, _) = validate(val, &ck.theta);
        let reward = if reward_n > 0 { reward_sum / reward_n as f64 } else { 0.0 };
        ck.best.curve.push(EpochStat { epoch, reward, val_ndcg10: ndcg, val_objective: obj });
        if obj > ck.best_objective + 1e-9 {
            ck.best_objective = obj;
            ck.best.theta = ck.theta.clone();
            ck.best.best_epoch = epoch;
            ck.since_best = 0;
        } else {
            ck.since_best += 1;
        }
        pb.set_position(epoch as u64);
        pb.set_message(format!("{name} reward {reward:.4} val NDCG@10 {ndcg:.4} objective {obj:.4}"));
        if let Some(path) = checkpoint {
            let text = serde_json::to_string(&ck)
                .map_err(|e| Error::InvalidInput(format!("cannot serialise a checkpoint: {e}")))?;
            crate::util::write_atomic(path, text.as_bytes())?;
        }
    }
    pb.finish_and_clear();
    Ok(ck.best)
}

/// Mean and standard deviation per feature over the rows of `points`.
fn moments(points: &[&CachedPoint]) -> (Vec<f32>, Vec<f32>) {
    let mut sum = [0f64; D];
    let mut sq = [0f64; D];
    let mut n = 0f64;
    for p in points {
        for row in p.raw.chunks_exact(D) {
            for j in 0..D {
                let x = f64::from(row[j]);
                sum[j] += x;
                sq[j] += x * x;
            }
            n += 1.0;
        }
    }
    let n = n.max(1.0);
    let mean: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
    let std: Vec<f32> = (0..D).map(|j| ((sq[j] / n - (sum[j] / n).powi(2)).max(0.0).sqrt()) as f32).collect();
    (mean, std)
}

fn context_of(p: &CachedPoint, pol: &Policy) -> Context {
    let c = p.raw.len() / D;
    let mut x = vec![0f32; p.raw.len()];
    for i in 0..c {
        pol.standardise(&p.raw[i * D..(i + 1) * D], &mut x[i * D..(i + 1) * D]);
    }
    let mut relevant = vec![false; c];
    for t in p.target_candidate.iter().flatten() {
        if let Some(r) = relevant.get_mut(*t as usize) {
            *r = true;
        }
    }
    Context { x, relevant, targets: p.target_candidate.len() }
}

/// Validation figures of one system on reranker-validation (de-dup).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationFigures {
    /// System name.
    pub system: String,
    /// R@1, R@10, R@50, NDCG@10, NDCG@50, MRR@10, MRR@50.
    pub metrics: Metrics,
    /// Objective (mean of R@1, R@10, R@50).
    pub objective: f64,
    /// Minus the fusion, paired bootstrap over instances (None for the fusion itself).
    pub versus_fusion: Option<PairedDifference>,
    /// Training curve (None for the fusion).
    pub curve: Option<Vec<EpochStat>>,
    /// The best epoch.
    pub best_epoch: Option<usize>,
}

/// Test figures of one system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestFigures {
    /// Test set ("ReDial test", "INSPIRED test").
    #[serde(default)]
    pub dataset: String,
    /// System name.
    pub system: String,
    /// Protocol.
    pub protocol: Protocol,
    /// Instances and samples.
    pub instances: usize,
    /// Ground-truth samples scored.
    pub samples: usize,
    /// Means.
    pub metrics: Metrics,
    /// Minus the fusion, paired bootstrap (objective: mean of R@1/10/50).
    pub versus_fusion: Option<PairedDifference>,
    /// Minus the fusion per metric, paired bootstrap: R@1, R@10, R@50 (empty for the fusion).
    #[serde(default)]
    pub versus_fusion_per_metric: Vec<PairedDifference>,
}

/// Candidate recall: the share of ground-truth samples inside the candidate set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateRecall {
    /// Which split and protocol.
    pub split: String,
    /// Samples inside the candidates.
    pub inside: usize,
    /// Samples.
    pub samples: usize,
    /// Instances.
    pub instances: usize,
    /// Mean candidate count per instance.
    pub mean_candidates: f64,
}

impl CandidateRecall {
    /// The share of samples inside the candidates (0 without samples).
    pub fn rate(&self) -> f64 {
        self.inside as f64 / self.samples.max(1) as f64
    }
}

/// The outcome of `curator train reranker`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RerankerReport {
    /// Reranker-train and reranker-validation instances.
    pub instances: [usize; 2],
    /// Candidate recall on the splits seen.
    pub candidate_recall: Vec<CandidateRecall>,
    /// The reference policy's scale `a`.
    pub reference_scale: f64,
    /// Validation figures: the fusion first, then each variant.
    pub validation: Vec<ValidationFigures>,
    /// The selected variant (best validation objective), if it beats the fusion.
    pub selected: Option<String>,
    /// Test figures (with `--ablation`).
    pub test: Vec<TestFigures>,
    /// Where the policy was written.
    pub policy_path: Option<String>,
}

fn recall_of(split: &str, pts: &[&CachedPoint]) -> CandidateRecall {
    let samples: usize = pts.iter().map(|p| p.target_candidate.len()).sum();
    let inside: usize = pts.iter().map(|p| p.target_candidate.iter().filter(|c| c.is_some()).count()).sum();
    let cands: usize = pts.iter().map(|p| p.raw.len() / D).sum();
    CandidateRecall {
        split: split.to_string(),
        inside,
        samples,
        instances: pts.len(),
        mean_candidates: cands as f64 / pts.len().max(1) as f64,
    }
}

fn metrics_of(ranks: &[Vec<Option<usize>>]) -> Metrics {
    let mut acc = MetricsAccumulator::new();
    ranks.iter().flatten().for_each(|r| acc.add_rank(*r));
    acc.mean()
}

fn objective_of(m: &Metrics) -> f64 {
    (m.recall_at_1 + m.recall_at_10 + m.recall_at_50) / 3.0
}

/// Trains every variant, selects on validation, optionally saves and evaluates (module doc).
///
/// Errors: missing or malformed inputs; validation overlapping test; failed writes.
pub fn train_reranker(opts: &RerankerOptions) -> Result<RerankerReport> {
    let points = training_points(opts)?;
    let train_pts: Vec<&CachedPoint> = points.iter().filter(|p| p.fold == 0).collect();
    let val_pts: Vec<&CachedPoint> = points.iter().filter(|p| p.fold == 1).collect();
    if train_pts.is_empty() || val_pts.is_empty() {
        return Err(Error::InvalidInput("the reranker needs training and validation contexts".to_string()));
    }
    let mut candidate_recall =
        vec![recall_of("reranker-train (de-dup)", &train_pts), recall_of("reranker-validation (de-dup)", &val_pts)];
    for r in &candidate_recall {
        crate::outln!(
            "candidate recall {}: {:.4} ({} / {} samples, {} instances, {:.0} candidates each)",
            r.split,
            r.rate(),
            r.inside,
            r.samples,
            r.instances,
            r.mean_candidates
        );
    }
    let (mean, std) = moments(&train_pts);
    let standardiser = Policy::new(mean, std, vec![0.0; D]);
    let train: Vec<Context> = train_pts.iter().map(|p| context_of(p, &standardiser)).collect();
    let val: Vec<Context> = val_pts.iter().map(|p| context_of(p, &standardiser)).collect();
    // The reference policy: the fusion's order, s = −a · z(ln(1 + fusion rank)).
    let reference = |a: f64| {
        let mut t = vec![0.0; D];
        t[FUSION_LOG_RANK] = -a;
        t
    };
    let likelihood = |theta: &[f64]| -> f64 { train.iter().map(|c| grpo::softmax_likelihood(c, theta).0).sum() };
    let scale = [0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0]
        .into_iter()
        .max_by(|&a, &b| likelihood(&reference(a)).total_cmp(&likelihood(&reference(b))))
        .unwrap_or(2.0);
    let theta0 = reference(scale);
    crate::outln!("reference policy: fusion rank, scale {scale} (training likelihood)");
    // The fusion on validation: its own ranks (over the whole catalog).
    let fusion_ranks: Vec<Vec<Option<usize>>> =
        val_pts.iter().map(|p| p.target_fusion_rank.iter().map(|r| r.map(|r| r as usize)).collect()).collect();
    let fusion_m = metrics_of(&fusion_ranks);
    let mut validation = vec![ValidationFigures {
        system: "fusion (ranker.yaml)".to_string(),
        metrics: fusion_m,
        objective: objective_of(&fusion_m),
        versus_fusion: None,
        curve: None,
        best_epoch: None,
    }];
    let mut trained: Vec<(TrainConfig, Trained)> = Vec::new();
    // A trained policy's validation figures (printed); `single`: one training run, whose best
    // epoch and learning curve are reported (an ensemble has neither).
    let judge = |cfg: &TrainConfig, t: &Trained, single: bool| -> Result<ValidationFigures> {
        let (_, _, ranks) = validate(&val, &t.theta);
        let m = metrics_of(&ranks);
        let diff = paired_bootstrap(&ranks, &fusion_ranks, 1000, 17)?;
        let epoch = if single { format!(" (best epoch {})", t.best_epoch) } else { String::new() };
        crate::outln!(
            "{:<28} validation R@1 {:.4} R@10 {:.4} R@50 {:.4} NDCG@10 {:.4} objective {:.4}{epoch}; vs fusion {diff}",
            cfg.name(),
            m.recall_at_1,
            m.recall_at_10,
            m.recall_at_50,
            m.ndcg_at_10,
            objective_of(&m),
        );
        Ok(ValidationFigures {
            system: cfg.name(),
            metrics: m,
            objective: objective_of(&m),
            versus_fusion: Some(diff),
            curve: single.then(|| t.curve.clone()),
            best_epoch: single.then_some(t.best_epoch),
        })
    };
    let run = |cfg: TrainConfig, init: &[f64]| -> Result<(ValidationFigures, Trained)> {
        let ck = opts.cache_dir.join(match opts.candidates.is_default() {
            true => format!("checkpoint-{}.json", cfg.slug()),
            false => format!(
                "checkpoint-{}-{}.json",
                cfg.slug(),
                &crate::util::sha256_hex(opts.candidates.to_string().as_bytes())[..8]
            ),
        });
        if !opts.resume && ck.exists() {
            std::fs::remove_file(&ck).map_err(|e| Error::io(&ck, e))?;
        }
        let t = train_policy(&train, &val, init, &cfg, Some(&ck), opts.progress)?;
        Ok((judge(&cfg, &t, true)?, t))
    };
    for variant in Variant::ALL {
        let cfg = TrainConfig::new(variant, opts.epochs, opts.seed);
        let (v, t) = run(cfg, &theta0)?;
        validation.push(v);
        trained.push((cfg, t));
    }
    // (g): each variant again with a hidden layer, started from its linear weights (same scores
    // at the start; the reference policy of its KL term is that start).
    for i in 0..trained.len() {
        let (cfg, t) = trained[i].clone();
        let mlp = TrainConfig { hidden: MLP_HIDDEN, ..cfg };
        let (v, t) = run(mlp, &grpo::with_hidden(&t.theta, MLP_HIDDEN, opts.seed))?;
        validation.push(v);
        trained.push((mlp, t));
    }
    // The seed ensemble of the best variant so far (`opts.ensemble`), one more candidate for
    // selection: each member trained as that variant was (a hidden layer on its own linear
    // start), from its own seed.
    let best_so_far =
        (1..validation.len()).max_by(|&a, &b| validation[a].objective.total_cmp(&validation[b].objective));
    if let (true, Some(best)) = (opts.ensemble > 1, best_so_far) {
        let (cfg, t) = trained[best - 1].clone();
        let mut members = vec![t.theta.clone()];
        for k in 1..opts.ensemble {
            let seed = opts.seed.wrapping_add(k as u64);
            let linear =
                train_policy(&train, &val, &theta0, &TrainConfig { seed, hidden: 0, ..cfg }, None, opts.progress)?;
            members.push(match cfg.hidden {
                0 => linear.theta,
                h => {
                    let init = grpo::with_hidden(&linear.theta, h, seed);
                    train_policy(&train, &val, &init, &TrainConfig { seed, ..cfg }, None, opts.progress)?.theta
                }
            });
        }
        let t = Trained { theta: grpo::ensemble(&members).map_err(Error::InvalidInput)?, ..t };
        let cfg = TrainConfig { ensemble: opts.ensemble, ..cfg };
        validation.push(judge(&cfg, &t, false)?);
        trained.push((cfg, t));
    }
    crate::outln!(
        "fusion validation R@1 {:.4} R@10 {:.4} R@50 {:.4} NDCG@10 {:.4} objective {:.4} ({} instances / {} samples)",
        fusion_m.recall_at_1,
        fusion_m.recall_at_10,
        fusion_m.recall_at_50,
        fusion_m.ndcg_at_10,
        objective_of(&fusion_m),
        val_pts.len(),
        fusion_ranks.iter().map(Vec::len).sum::<usize>()
    );
    let best = (1..validation.len()).max_by(|&a, &b| validation[a].objective.total_cmp(&validation[b].objective));
    let selected = best.filter(|&i| validation[i].objective > validation[0].objective).map(|i| i - 1);
    let make_policy = |i: usize| -> Result<Policy> {
        let (cfg, t) = &trained[i];
        let mut p = Policy::from_params(standardiser.mean.clone(), standardiser.std.clone(), &t.theta)
            .map_err(Error::InvalidInput)?;
        p.candidates = opts.candidates;
        p.provenance = serde_json::json!({
            "trained_by": "curator train reranker --source <data>",
            "variant": cfg.name(),
            "config": cfg,
            "best_epoch": t.best_epoch,
            "reference_scale": scale,
            "contexts": if opts.inspired_dev.is_some() {
                "INSPIRED train dialogues (inspired/train_unicrs/train_data_dbpedia.jsonl), features cross-fitted over 5 folds; validation INSPIRED dev"
            } else {
                "ReDial train dialogues with full text (train_partial: train_subset_original_format.jsonl and cfcrs_valid_data_annotated.jsonl), 80/20 split by conversation id; features from models fitted without them"
            },
            "instances": [train_pts.len(), val_pts.len()],
            "validation": validation[i + 1].metrics,
            "validation_fusion": fusion_m,
        });
        Ok(p)
    };
    let mut policy_path = None;
    match selected {
        Some(i) => {
            crate::outln!("selected: {} (beats the fusion on validation)", trained[i].0.name());
            if opts.write {
                let path = opts.catalog_dir.join(crate::rank::RERANKER_FILE);
                make_policy(i)?.save(&path)?;
                crate::outln!("wrote {}", path.display());
                policy_path = Some(path.display().to_string());
            }
        }
        None => crate::outln!("no variant beats the fusion on validation; the fusion stays the agent's ranker"),
    }
    let mut test = Vec::new();
    if opts.ablation {
        let policies: Vec<(String, Policy)> =
            (0..trained.len()).map(|i| Ok((trained[i].0.name(), make_policy(i)?))).collect::<Result<_>>()?;
        let (figures, recall) = report::evaluate_test(opts, &policies)?;
        test = figures;
        candidate_recall.extend(recall);
    }
    let report = RerankerReport {
        instances: [train_pts.len(), val_pts.len()],
        candidate_recall,
        reference_scale: scale,
        validation,
        selected: selected.map(|i| trained[i].0.name()),
        test,
        policy_path,
    };
    if opts.ablation {
        report::write_report(opts, &report)?;
    }
    Ok(report)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
