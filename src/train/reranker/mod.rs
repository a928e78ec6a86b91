//! `curator train reranker`: trains the listwise Plackett–Luce reranker (`rank::policy`) with
//! Rank-GRPO (Zhu et al., ICLR 2026, arXiv 2510.20150; DESIGN.md §6) and its baselines, selects
//! on validation, saves the best policy beside `ranker.yaml` when it beats the fusion there, and
//! (with `--ablation`) scores every variant on the ReDial test split.
//!
//! **Contexts.** The 2,263 full-text ReDial *training* dialogues of `curator tune`
//! (`eval::validation`, checked disjoint from test). Each recommender utterance with a movie not
//! mentioned before is one context (de-dup protocol); its state comes from the one dialogue
//! tracker (`ToolRanker::state_for` semantics: annotated items). The dialogues are split by a
//! hash of their conversation id into reranker-train (80 %) and reranker-validation (20 %).
//!
//! **Cross-fitting.** Every feature that counts dialogues (the CF model, co-mentions, popularity)
//! comes from models fitted with *all* 2,263 text dialogues held out (the tune protocol): a
//! two-fold split of the 9,996 training dialogues whose second fold supplies no contexts, so no
//! context ever gets features from its own dialogue. At inference (test, the agent) the models
//! of `catalogs/movies` (fitted on every training dialogue) supply them. The features are
//! computed once and cached under `~/.cache/curator/reranker/` (keyed by the inputs' hashes).
//!
//! **Variants** (same candidates, features, initial policy and seed): (b) supervised listwise
//! softmax, (c) vanilla GRPO with a sequence-level DCG@N reward, (d) Rank-GRPO exp∞, (e)
//! Rank-GRPO causal DCG. All start from the reference policy π_ref: the fusion's order as a PL
//! policy, s = −a · standardised ln(1 + fusion rank), `a` chosen by training likelihood. Early
//! stopping and selection on reranker-validation by the objective of `curator tune` (mean of
//! R@1, R@10, R@50); the test split is read only by `--ablation`, after selection.

pub mod grpo;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, ItemId};
use crate::dialogue::{Items, Tracker};
use crate::eval::metrics::{paired_bootstrap, Metrics, PairedDifference, MAX_K};
use crate::eval::{extract_points, EvalPoint, MetricsAccumulator, Protocol};
use crate::rank::policy::{self, CandidateSet, Policy, D, FUSION_LOG_RANK};
use crate::rank::CandidateRanker;
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
    /// Use only the first this many validation dialogues (smoke runs).
    pub limit: Option<usize>,
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
}

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
        .filter(|c| c.config == *cfg && c.theta.len() == D);
    let mut ck = match resumed {
        Some(c) => c,
        None => {
            let (ndcg, obj, _) = validate(val, theta0);
            Checkpoint {
                config: *cfg,
                theta: theta0.to_vec(),
                adam: Adam::new(D, cfg.lr),
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
    let pb = bar(cfg.epochs, progress, cfg.variant.name());
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
                    let mut grad = [0f64; D];
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
                                    logp_old: grpo::list_log_probs(ctx, &s_old, &list, None),
                                    logp_ref: grpo::list_log_probs(ctx, &s_ref, &list, None),
                                    list,
                                    advantage,
                                })
                                .collect();
                            (c, samples)
                        })
                        .collect();
                    for _ in 0..cfg.mu.max(1) {
                        let mut grad = [0f64; D];
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
        pb.set_message(format!("{} reward {reward:.4} val NDCG@10 {ndcg:.4} objective {obj:.4}", cfg.variant.name()));
        if let Some(path) = checkpoint {
            let text = serde_json::to_string(&ck)
                .map_err(|e| Error::InvalidInput(format!("cannot serialise a checkpoint: {e}")))?;
            crate::util::write_atomic(path, text.as_bytes())?;
        }
    }
    pb.finish_and_clear();
    Ok(ck.best)
}

/// One context's cached features and targets.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedPoint {
    /// 0: reranker-train, 1: reranker-validation.
    pub fold: u8,
    /// Raw features, row-major `C × D`.
    pub raw: Vec<f32>,
    /// Per ground-truth item (de-dup): its candidate index, if a candidate.
    pub target_candidate: Vec<Option<u32>>,
    /// Per ground-truth item: its 1-based rank in the fusion's order (None: excluded).
    pub target_fusion_rank: Vec<Option<u32>>,
}

const MAGIC: &[u8; 8] = b"CRRRK001";

fn write_cache(path: &Path, points: &[CachedPoint]) -> Result<()> {
    let mut out: Vec<u8> = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(D as u32).to_le_bytes());
    out.extend_from_slice(&(points.len() as u32).to_le_bytes());
    for p in points {
        out.push(p.fold);
        out.extend_from_slice(&((p.raw.len() / D) as u32).to_le_bytes());
        out.extend_from_slice(&(p.target_candidate.len() as u32).to_le_bytes());
        for (c, f) in p.target_candidate.iter().zip(&p.target_fusion_rank) {
            out.extend_from_slice(&c.unwrap_or(u32::MAX).to_le_bytes());
            out.extend_from_slice(&f.unwrap_or(u32::MAX).to_le_bytes());
        }
        for x in &p.raw {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    crate::util::write_atomic(path, &out)
}

/// A cursor over the cache's bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let s = self
            .bytes
            .get(self.at..self.at + n)
            .ok_or_else(|| Error::parse(self.path, 0, "feature cache: truncated".to_string()))?;
        self.at += n;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
}

fn read_cache(path: &Path) -> Result<Vec<CachedPoint>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |m: &str| Error::parse(path, 0, format!("feature cache: {m}"));
    let mut r = Reader { bytes: &bytes, at: 0, path };
    if r.take(8)? != MAGIC {
        return Err(bad("wrong magic"));
    }
    if r.u32()? as usize != D {
        return Err(bad("feature count differs from this build"));
    }
    let n = r.u32()? as usize;
    let opt = |v: u32| if v == u32::MAX { None } else { Some(v) };
    let mut points = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let fold = r.take(1)?[0];
        let c = r.u32()? as usize;
        let t = r.u32()? as usize;
        let mut target_candidate = Vec::new();
        let mut target_fusion_rank = Vec::new();
        for _ in 0..t {
            target_candidate.push(opt(r.u32()?));
            target_fusion_rank.push(opt(r.u32()?));
        }
        let raw = r.take(c * D * 4)?.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        points.push(CachedPoint { fold, raw, target_candidate, target_fusion_rank });
    }
    Ok(points)
}

/// The cached form of one point: candidate indices and fusion ranks of `targets`.
fn cached(set: &CandidateSet, catalog: &Catalog, targets: &[ItemId], fold: u8) -> CachedPoint {
    let index_of = |p: usize, v: &[usize]| v.iter().position(|&q| q == p).map(|i| i as u32);
    let pos: Vec<Option<usize>> = targets.iter().map(|&t| catalog.position(t)).collect();
    CachedPoint {
        fold,
        raw: set.features.clone(),
        target_candidate: pos.iter().map(|p| p.and_then(|p| index_of(p, &set.positions))).collect(),
        target_fusion_rank: pos.iter().map(|p| p.and_then(|p| index_of(p, &set.fusion_order)).map(|r| r + 1)).collect(),
    }
}

/// Candidate sets of `points` (two threads; order kept), each with its state replayed by
/// `tracker` (annotated items) and `k` = [`MAX_K`].
fn candidate_sets(
    tracker: &Tracker,
    ranker: &CandidateRanker,
    points: &[EvalPoint],
    progress: bool,
    msg: &str,
) -> Vec<Option<CandidateSet>> {
    let pb = bar(points.len(), progress, msg);
    let catalog = tracker.catalog();
    let run = |chunk: &[EvalPoint]| -> Vec<Option<CandidateSet>> {
        chunk
            .iter()
            .map(|p| {
                let state = tracker.replay(&p.context, Items::Annotated);
                let set = ranker.candidate_set(&state, catalog, MAX_K);
                pb.inc(1);
                match set {
                    Ok(s) => Some(s),
                    Err(e) => {
                        tracing::warn!("candidates failed: {e}");
                        None
                    }
                }
            })
            .collect()
    };
    let half = points.len() / 2;
    let (a, b) = std::thread::scope(|s| {
        let h = s.spawn(|| run(&points[..half]));
        let b = run(&points[half..]);
        (h.join(), b)
    });
    pb.finish_and_clear();
    let mut out = a.unwrap_or_else(|_| vec![None; half]);
    out.extend(b);
    out
}

/// 0 (reranker-train) or 1 (reranker-validation) for a conversation id: 20 % validation.
fn fold_of(conversation_id: &str) -> u8 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in conversation_id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    u8::from(splitmix64(&mut h).is_multiple_of(5))
}

/// The validation contexts' features, from the cache when its key matches, else computed
/// (models refit without the validation dialogues) and cached.
fn training_points(opts: &RerankerOptions) -> Result<Vec<CachedPoint>> {
    let mut val = crate::eval::validation::validation_split(&opts.source, &opts.test_path)?;
    if let Some(l) = opts.limit {
        val.truncate(l);
    }
    let mut key = format!("{}|{:?}|{}|", policy::FEATURES.join(","), opts.limit, String::from_utf8_lossy(MAGIC));
    for f in ["manifest.json", crate::rank::RANKER_FILE] {
        key.push_str(&std::fs::read_to_string(opts.catalog_dir.join(f)).unwrap_or_default());
    }
    let key = crate::util::sha256_hex(key.as_bytes());
    let path = opts.cache_dir.join(format!("features-{}.bin", &key[..16]));
    if path.exists() {
        crate::outln!("features: cached at {}", path.display());
        return read_cache(&path);
    }
    let val_ids: HashSet<String> = val.iter().map(|d| d.conversation_id.clone()).collect();
    let base = Catalog::load(&opts.catalog_dir)?;
    let (catalog, cf) = crate::train::catalog_without(&opts.source, &base, &val_ids)?;
    let catalog = Arc::new(catalog);
    let weights = crate::rank::config::load_weights(&opts.catalog_dir)?;
    let mut ranker = CandidateRanker::new(&catalog, cf, weights);
    if let Some(m) = crate::train::refit_saved_model(&opts.source, &opts.catalog_dir, &catalog, &val_ids)? {
        ranker = ranker.with_model(Arc::new(m));
    }
    let knowledge = crate::assets::load_knowledge(&opts.catalog_dir)?;
    if let Some(kt) = &knowledge {
        ranker = ranker.with_knowledge(&catalog, Arc::clone(kt));
    }
    let tracker = Tracker::with_graph(Arc::clone(&catalog), knowledge.as_ref().map(|kt| &kt.graph));
    let points: Vec<EvalPoint> =
        extract_points(&val).into_iter().filter(|p| !p.targets_for(Protocol::Dedup).is_empty()).collect();
    let sets = candidate_sets(&tracker, &ranker, &points, opts.progress, "features (validation dialogues)");
    let out: Vec<CachedPoint> = points
        .iter()
        .zip(sets)
        .filter_map(|(p, s)| {
            s.map(|s| cached(&s, &catalog, &p.targets_for(Protocol::Dedup), fold_of(&p.conversation_id)))
        })
        .collect();
    write_cache(&path, &out)?;
    crate::outln!("features: {} contexts cached at {}", out.len(), path.display());
    Ok(out)
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
            r.inside as f64 / r.samples.max(1) as f64,
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
    let mut trained: Vec<(Variant, Trained)> = Vec::new();
    for variant in Variant::ALL {
        let cfg = TrainConfig::new(variant, opts.epochs, opts.seed);
        let ck = opts.cache_dir.join(format!("checkpoint-{}.json", variant.slug()));
        if !opts.resume && ck.exists() {
            std::fs::remove_file(&ck).map_err(|e| Error::io(&ck, e))?;
        }
        let t = train_policy(&train, &val, &theta0, &cfg, Some(&ck), opts.progress)?;
        let (_, _, ranks) = validate(&val, &t.theta);
        let m = metrics_of(&ranks);
        let diff = paired_bootstrap(&ranks, &fusion_ranks, 1000, 17)?;
        crate::outln!(
            "{:<28} validation R@1 {:.4} R@10 {:.4} R@50 {:.4} NDCG@10 {:.4} objective {:.4} (best epoch {}); vs fusion {diff}",
            variant.name(),
            m.recall_at_1,
            m.recall_at_10,
            m.recall_at_50,
            m.ndcg_at_10,
            objective_of(&m),
            t.best_epoch
        );
        validation.push(ValidationFigures {
            system: variant.name().to_string(),
            metrics: m,
            objective: objective_of(&m),
            versus_fusion: Some(diff),
            curve: Some(t.curve.clone()),
            best_epoch: Some(t.best_epoch),
        });
        trained.push((variant, t));
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
    let make_policy = |i: usize| -> Policy {
        let (variant, t) = &trained[i];
        let mut p = Policy::new(
            standardiser.mean.clone(),
            standardiser.std.clone(),
            t.theta.iter().map(|&x| x as f32).collect(),
        );
        p.provenance = serde_json::json!({
            "trained_by": "curator train reranker --source <data>",
            "variant": variant.name(),
            "config": TrainConfig::new(*variant, opts.epochs, opts.seed),
            "best_epoch": t.best_epoch,
            "reference_scale": scale,
            "contexts": "ReDial train dialogues with full text (redial/train_partial/train_subset_original_format.jsonl), 80/20 split by conversation id; features from models fitted without them",
            "instances": [train_pts.len(), val_pts.len()],
            "validation": validation[i + 1].metrics,
            "validation_fusion": fusion_m,
        });
        p
    };
    let mut policy_path = None;
    match selected {
        Some(i) => {
            crate::outln!("selected: {} (beats the fusion on validation)", trained[i].0.name());
            if opts.write {
                let path = opts.catalog_dir.join(crate::rank::RERANKER_FILE);
                make_policy(i).save(&path)?;
                crate::outln!("wrote {}", path.display());
                policy_path = Some(path.display().to_string());
            }
        }
        None => crate::outln!("no variant beats the fusion on validation; the fusion stays the agent's ranker"),
    }
    let mut test = Vec::new();
    if opts.ablation {
        let policies: Vec<(String, Policy)> =
            (0..trained.len()).map(|i| (trained[i].0.name().to_string(), make_policy(i))).collect();
        let (figures, recall) = evaluate_test(opts, &policies)?;
        test = figures;
        candidate_recall.extend(recall);
    }
    let report = RerankerReport {
        instances: [train_pts.len(), val_pts.len()],
        candidate_recall,
        reference_scale: scale,
        validation,
        selected: selected.map(|i| trained[i].0.name().to_string()),
        test,
        policy_path,
    };
    if opts.ablation {
        write_report(opts, &report)?;
    }
    Ok(report)
}

/// Scores the fusion and every policy on ReDial test (standard and de-dup) with the catalog's
/// own models (fitted on all training dialogues).
fn evaluate_test(
    opts: &RerankerOptions,
    policies: &[(String, Policy)],
) -> Result<(Vec<TestFigures>, Vec<CandidateRecall>)> {
    let assets = crate::assets::Assets::load(&opts.catalog_dir, None)?;
    let test = crate::eval::load_redial(&opts.test_path)?;
    let points = extract_points(&test);
    let sets = candidate_sets(&assets.tracker, &assets.ranker, &points, opts.progress, "features (ReDial test)");
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
                system: name,
                protocol,
                instances: chosen.len(),
                samples: ranks.iter().map(Vec::len).sum(),
                metrics: metrics_of(&ranks),
                versus_fusion: if sys == 0 { None } else { Some(paired_bootstrap(&ranks, &fusion, 1000, 17)?) },
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
            split: format!("ReDial test ({protocol})"),
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

fn write_report(opts: &RerankerOptions, report: &RerankerReport) -> Result<()> {
    std::fs::create_dir_all(&opts.results_dir).map_err(|e| Error::io(&opts.results_dir, e))?;
    let json = serde_json::to_string_pretty(report).map_err(|e| Error::InvalidInput(e.to_string()))?;
    crate::util::write_atomic(&opts.results_dir.join("reranker.json"), json.as_bytes())?;
    let mut md = String::from("# Learned reranker: Rank-GRPO and baselines (ReDial)\n\n");
    md.push_str(&format!(
        "Regenerate: `curator train reranker --source ../shared/data --epochs {} --seed {} --ablation`\n(ReDial test is read only after selection; selection on reranker-validation).\n\n",
        opts.epochs, opts.seed
    ));
    md.push_str("## Candidate recall (ground truth inside the candidate union)\n\n| split | recall | inside / samples | instances | candidates per instance |\n|---|---|---|---|---|\n");
    for r in &report.candidate_recall {
        md.push_str(&format!(
            "| {} | {:.4} | {} / {} | {} | {:.0} |\n",
            r.split,
            r.inside as f64 / r.samples.max(1) as f64,
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
    for protocol in Protocol::ALL {
        md.push_str(&format!(
            "\n## ReDial test, {protocol}\n\n| system | instances / samples | R@1 | R@10 | R@50 | NDCG@10 | NDCG@50 | MRR@10 | Δ objective vs fusion [95 % CI] |\n|---|---|---|---|---|---|---|---|---|\n"
        ));
        for t in report.test.iter().filter(|t| t.protocol == protocol) {
            md.push_str(&format!(
                "| {} | {} / {} | {} | {} |\n",
                t.system,
                t.instances,
                t.samples,
                metric_cells(&t.metrics),
                difference_cell(t.versus_fusion)
            ));
        }
    }
    md.push_str("\nΔ objective: mean of R@1, R@10, R@50 minus the fusion's, paired bootstrap over instances (1,000 resamples, seed 17; `eval::metrics::paired_bootstrap`).\n");
    md.push_str(
        "\n## Setup and limits\n\n\
- Same candidates, features (19, `rank::policy` module doc), standardisation (training means and \
standard deviations), initial/reference policy (the fusion's order as a PL policy) and seed for \
every variant; linear scores. G = 8 lists of N = 20 per context (Gumbel top-N), ε_low 0.06, \
ε_high 0.08, β (KL, k3) 0.01, μ = 2, Adam 0.01, batch 32, early stopping (patience 4) on the \
validation objective.\n\
- Contexts: 2,263 full-text ReDial training dialogues, 80/20 by conversation id; their CF, \
co-mention and popularity features come from statistics with all 2,263 held out; at test the \
catalog's models (all 9,996 training dialogues) supply them.\n\
- Not included: the LLM rank-level score feature (the policy works without it), an MLP, \
INSPIRED, contexts from the movie-level training dialogues without text.\n\
- The candidate union bounds every ranker over it (recall above); R@50 of the fusion over the \
whole catalog is the first rows' figure, so most of the gap to the union's recall is ordering \
inside it, and the linear re-weighting of the fusion's own signals moves it only a little.\n",
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
    let plots = opts.results_dir.join("..").join("plots");
    std::fs::create_dir_all(&plots).map_err(|e| Error::io(&plots, e))?;
    crate::eval::suite_report::plot_lines(
        &plots.join("reranker-val-ndcg10.svg"),
        "Reranker: validation NDCG@10 per epoch (ReDial, de-dup)",
        ("epoch", "NDCG@10"),
        &curves(|e| e.val_ndcg10),
    )?;
    let grpo_only: Vec<(String, Vec<(f64, f64)>)> = curves(|e| e.reward)
        .into_iter()
        .filter(|(n, _)| n != Variant::Supervised.name())
        .map(|(n, v)| (n, v.into_iter().filter(|p| p.0 > 0.0).collect()))
        .collect();
    crate::eval::suite_report::plot_lines(
        &plots.join("reranker-reward.svg"),
        "Reranker: mean DCG@20 of the sampled lists per epoch",
        ("epoch", "reward"),
        &grpo_only,
    )?;
    md.push_str("\nPlots: `evals/plots/reranker-val-ndcg10.svg`, `evals/plots/reranker-reward.svg`.\n");
    crate::util::write_atomic(&opts.results_dir.join("reranker.md"), md.as_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Contexts whose one relevant candidate is drawn from a PL policy with weights `truth`.
    fn synthetic(truth: &[f64], contexts: usize, candidates: usize, seed: u64) -> Vec<Context> {
        let mut rng = seed;
        let mut unif = || ((splitmix64(&mut rng) >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        (0..contexts)
            .map(|_| {
                let x: Vec<f32> = (0..candidates * D).map(|_| (unif() * 2.0 - 1.0) as f32).collect();
                let mut ctx = Context { x, relevant: vec![false; candidates], targets: 1 };
                let s: Vec<f64> = grpo::scores(&ctx, truth).into_iter().map(|v| v - (-unif().ln()).ln()).collect();
                let best = (0..candidates).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap();
                ctx.relevant[best] = true;
                ctx
            })
            .collect()
    }

    fn truth() -> Vec<f64> {
        (0..D).map(|j| if j < 3 { [3.0, -2.0, 1.5][j] } else { 0.0 }).collect()
    }

    fn quick(variant: Variant, epochs: usize) -> TrainConfig {
        TrainConfig { list_len: 5, batch: 16, lr: 0.05, patience: epochs, ..TrainConfig::new(variant, epochs, 3) }
    }

    #[test]
    fn rank_grpo_learns_a_known_weight_vector() {
        let truth = truth();
        let train = synthetic(&truth, 300, 20, 1);
        let val = synthetic(&truth, 150, 20, 2);
        let zero = vec![0.0; D];
        let (_, start, _) = validate(&val, &zero);
        let (_, oracle, _) = validate(&val, &truth);
        let t = train_policy(&train, &val, &zero, &quick(Variant::Grpo(Reward::ExpInf), 25), None, false).unwrap();
        let (_, learned, _) = validate(&val, &t.theta);
        let dot: f64 = t.theta.iter().zip(&truth).map(|(a, b)| a * b).sum();
        let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
        let cosine = dot / (norm(&t.theta) * norm(&truth));
        assert!(cosine > 0.9, "cosine {cosine}, θ {:?}", t.theta);
        assert!(learned > start + 0.5 * (oracle - start), "objective {learned} (start {start}, oracle {oracle})");
        // The supervised baseline learns it too.
        let s = train_policy(&train, &val, &zero, &quick(Variant::Supervised, 25), None, false).unwrap();
        let dot: f64 = s.theta.iter().zip(&truth).map(|(a, b)| a * b).sum();
        assert!(dot / (norm(&s.theta) * norm(&truth)) > 0.9);
    }

    #[test]
    fn the_same_seed_gives_the_same_weights_and_a_resumed_run_matches() {
        let truth = truth();
        let train = synthetic(&truth, 60, 12, 5);
        let val = synthetic(&truth, 30, 12, 6);
        let zero = vec![0.0; D];
        let cfg = quick(Variant::Grpo(Reward::CausalDcg), 4);
        let a = train_policy(&train, &val, &zero, &cfg, None, false).unwrap();
        let b = train_policy(&train, &val, &zero, &cfg, None, false).unwrap();
        assert_eq!(a, b);
        let other = train_policy(&train, &val, &zero, &TrainConfig { seed: 4, ..cfg }, None, false).unwrap();
        assert_ne!(a.curve, other.curve);
        // Two epochs, then resume to four: the same curve as four at once.
        let dir = tempfile::tempdir().unwrap();
        let ck = dir.path().join("ck.json");
        train_policy(&train, &val, &zero, &TrainConfig { epochs: 2, ..cfg }, Some(&ck), false).unwrap();
        let text = std::fs::read_to_string(&ck).unwrap().replace("\"epochs\":2", "\"epochs\":4");
        std::fs::write(&ck, text).unwrap();
        let resumed = train_policy(&train, &val, &zero, &cfg, Some(&ck), false).unwrap();
        assert_eq!(resumed.curve, a.curve);
    }

    #[test]
    fn the_feature_cache_round_trips() {
        let p = CachedPoint {
            fold: 1,
            raw: (0..2 * D).map(|i| i as f32 * 0.5).collect(),
            target_candidate: vec![Some(1), None],
            target_fusion_rank: vec![Some(7), None],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        write_cache(&path, std::slice::from_ref(&p)).unwrap();
        assert_eq!(read_cache(&path).unwrap(), vec![p]);
        std::fs::write(&path, b"CRRRK001\x01").unwrap();
        assert!(read_cache(&path).unwrap_err().to_string().contains("truncated"));
    }

    /// Cross-fitting: the statistics behind the training contexts' features hold out every
    /// validation dialogue, so a pair of movies that only one held-out dialogue mentions
    /// together has no co-mention count there (raw data at `../shared/data`; without it the
    /// test says so and checks nothing).
    #[test]
    fn a_dialogue_never_feeds_its_own_features() {
        let source = crate::paths::project_root().join("../shared/data");
        let test = crate::paths::evals_dir().join("redial/test.jsonl");
        if !source.join(crate::eval::validation::VALIDATION).exists() {
            eprintln!("no raw data at {}; skipped", source.display());
            return;
        }
        let val = crate::eval::validation::validation_split(&source, &test).unwrap();
        let held: HashSet<String> = val.iter().map(|d| d.conversation_id.clone()).collect();
        let path = source.join(crate::train::interactions::REDIAL_TRAIN);
        let base = Catalog::load(&crate::paths::catalog_dir()).unwrap();
        let known: HashSet<ItemId> = base.items().iter().map(|i| i.id).collect();
        let full = crate::data::train_statistics(&path, &known, &HashSet::new()).unwrap();
        let out = crate::data::train_statistics(&path, &known, &held).unwrap();
        assert!(full.dialogues - out.dialogues > 2000, "{} vs {}", full.dialogues, out.dialogues);
        // Pairs of a held-out dialogue's annotated movies that one training dialogue co-mentions
        // (that dialogue, unless its movie-level record lacks one of them): gone once held out.
        let (mut checked, mut kept) = (0usize, 0usize);
        for d in &val {
            let ids: Vec<ItemId> = d.movie_mentions.keys().copied().filter(|i| known.contains(i)).collect();
            for (i, &a) in ids.iter().enumerate() {
                for &b in &ids[i + 1..] {
                    let key = (a.min(b), a.max(b));
                    if full.pairs.get(&key) == Some(&1) {
                        checked += 1;
                        kept += usize::from(out.pairs.contains_key(&key));
                    }
                }
            }
        }
        assert!(checked > 100, "{checked} pairs checked");
        assert!((kept as f64) < 0.02 * checked as f64, "{kept} of {checked} single-dialogue pairs survived");
        // And the feature builder uses exactly this held-out set (`catalog_without`).
        let (catalog, _) = crate::train::catalog_without(&source, &base, &held).unwrap();
        for it in catalog.items().iter().take(500) {
            assert_eq!(it.popularity, out.popularity.get(&it.id).copied().unwrap_or(0));
        }
    }

    /// The agent's ranker with the committed policy orders the candidate set by the policy
    /// (filling past it in fusion order), never returns an excluded item, and without the policy
    /// falls back to the fusion's order.
    #[test]
    fn the_agent_ranks_with_the_policy_and_falls_back_to_the_fusion() {
        let assets = crate::assets::Assets::from_project(None).unwrap();
        let Some(policy) = assets.ranker.policy().cloned() else {
            eprintln!("no reranker.json in the catalog; skipped");
            return;
        };
        let catalog = assets.catalog.as_ref();
        let turns = vec![crate::dialogue::Turn {
            role: crate::dialogue::Role::Seeker,
            text: "I loved The Matrix (1999) and Alien (1979), something scary but not a comedy".to_string(),
            items: Vec::new(),
        }];
        let state = assets.tracker.replay(&turns, Items::Linked);
        assert!(!state.mentions.is_empty(), "the titles link");
        let ranked = assets.ranker.rank(&state, catalog, 20).unwrap();
        let set = assets.ranker.candidate_set(&state, catalog, 20).unwrap();
        assert!(set.len() >= 100, "{} candidates", set.len());
        let want: Vec<ItemId> = policy.ranking(&set, 20).into_iter().map(|p| catalog.items()[p].id).collect();
        assert_eq!(ranked.iter().map(|c| c.id).collect::<Vec<_>>(), want);
        assert!(ranked.windows(2).all(|w| w[0].score >= w[1].score && w[1].score.is_finite()));
        let excluded = state.excluded_positions(catalog);
        assert!(ranked.iter().all(|c| !excluded[c.position]));
        // Without the policy: the fusion, whose order the candidate set records.
        let no_policy = fusion_only(&assets);
        let ids: Vec<usize> = no_policy.rank(&state, catalog, 20).unwrap().into_iter().map(|c| c.position).collect();
        assert_eq!(ids, set.fusion_order[..20].to_vec());
        assert_ne!(ids, ranked.iter().map(|c| c.position).collect::<Vec<_>>(), "the policy reorders");
    }

    /// The catalog's ranker rebuilt without its policy.
    fn fusion_only(assets: &crate::assets::Assets) -> CandidateRanker {
        let dir = crate::paths::catalog_dir();
        let cf = crate::recommender::CoMentions::load(&dir.join("comentions.tsv"), &assets.catalog).unwrap();
        let mut r = CandidateRanker::new(&assets.catalog, cf, assets.ranker.weights());
        if let Some(m) = crate::assets::load_model(&dir).unwrap() {
            r = r.with_model(m);
        }
        if let Some(kt) = &assets.knowledge {
            r = r.with_knowledge(&assets.catalog, Arc::clone(kt));
        }
        r
    }
}
