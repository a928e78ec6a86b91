//! The softmax item-kNN model: item-kNN weights fine-tuned for the agent's task, predicting the
//! item a recommender brings up next from what was said before.
//!
//! The co-occurrence models score what else a *session* mentions; the agent must rank what a
//! recommender says *next*. This model keeps item-kNN's form (`s(c) = Σ_a w_a · B[a, c]`, stored
//! as top-N rows) and trains `B` on the ordered training dialogues with the listwise softmax
//! (cross-entropy) loss of the next recommendation, the objective of sampled-softmax
//! recommenders (Covington et al., "Deep Neural Networks for YouTube Recommendations",
//! RecSys 2016, §3.1) with a full softmax over the catalog:
//!
//! - **instances**: as for the transition model, every item of an ordered dialogue that a
//!   recommender mentioned, except the first item, is a target `t`; its context weights are
//!   `w_a = d^{k−1−j}` for the item `a` said at step `j` before step `k` (the agent's recency
//!   decay `d`). Context items are left out of the softmax (the agent never re-recommends them).
//! - **loss** of one instance: `−ln softmax(z)_t` with `z_c = Σ_a w_a B[a, c]`, plus
//!   `½ λ ‖B_a − P_a‖²` on each context row, where `P = s · B_knn` is the prior: binary item-kNN
//!   (β, shrink 0) over every co-occurring pair, scaled by the `s` ∈ {2^−2 … 2^8} that gives the
//!   lowest training loss before any update (on ≈ 5,000 evenly spaced instances).
//! - **training**: plain stochastic gradient descent in a fixed pseudo-random order per epoch
//!   (seeded, so runs are reproducible), projected onto `B ≥ 0` so that the stored top-N
//!   positive weights are the model that was trained. `B` starts at `P`.
//!
//! `B` is dense over the items that occur in training (m² f32, ≈ 150 MB for ReDial's ≈ 6,000
//! items, twice with the prior) only while training.

use super::Gram;
use crate::catalog::Catalog;
use crate::recommender::sessions::Session;
use crate::recommender::{ItemModel, ModelSpec};
use crate::util::splitmix64;
use crate::{Error, Result};

/// One training instance: a slice of the flat context buffer and the target (active indices).
#[derive(Debug, Clone, Copy)]
struct Instance {
    start: u32,
    len: u32,
    target: u32,
}

/// Trains the softmax item-kNN model ([module doc](self)) epoch by epoch, so that a caller can
/// score every epoch on validation data.
#[derive(Debug)]
pub struct SoftmaxTrainer<'g> {
    gram: &'g Gram,
    beta: f32,
    decay: f32,
    /// Prior `P` (row-major m × m over active items).
    prior: Vec<f32>,
    /// Current `B` (row-major m × m over active items).
    b: Vec<f32>,
    context: Vec<(u32, f32)>,
    instances: Vec<Instance>,
    scale: f32,
    epochs: u32,
}

impl<'g> SoftmaxTrainer<'g> {
    /// A trainer over `gram`'s items with item-kNN exponent `beta` and context decay `decay`;
    /// `catalog` and `sessions` are those `gram` was built from (MovieLens sessions are skipped:
    /// they have no order).
    ///
    /// Errors: [`Error::InvalidInput`] if `gram` is BM25-weighted or order/role-weighted, if
    /// `beta` is negative or not finite, if `decay` ∉ (0, 1], or if the sessions give no
    /// instance.
    pub fn new(gram: &'g Gram, catalog: &Catalog, sessions: &[Session], beta: f32, decay: f32) -> Result<Self> {
        if gram.bm25 || gram.backward != 1.0 || gram.seeker != 1.0 {
            return Err(Error::InvalidInput(
                "the softmax item-kNN model starts from the binary, symmetric Gram matrix".to_string(),
            ));
        }
        if !(beta >= 0.0 && beta.is_finite()) {
            return Err(Error::InvalidInput(format!("the softmax item-kNN model needs β ≥ 0, got {beta}")));
        }
        if !(decay > 0.0 && decay <= 1.0) {
            return Err(Error::InvalidInput(format!(
                "the softmax item-kNN model needs a decay in (0, 1], got {decay}"
            )));
        }
        let m = gram.active.len();
        let mut context: Vec<(u32, f32)> = Vec::new();
        let mut instances: Vec<Instance> = Vec::new();
        gram.for_each_instance(catalog, sessions, decay, |said, target| {
            let start = context.len() as u32;
            context.extend(said.iter().map(|&(a, w)| (a as u32, w as f32)));
            instances.push(Instance { start, len: said.len() as u32, target: target as u32 });
        });
        if instances.is_empty() {
            return Err(Error::InvalidInput(
                "the sessions give no training instance (no ordered dialogue)".to_string(),
            ));
        }
        let knn = gram.knn_weight(beta, 0.0);
        let mut prior = vec![0f32; m * m];
        for a in 0..m {
            for c in 0..m {
                if c != a && gram.g[a * m + c] > 0.0 {
                    prior[a * m + c] = knn(a, c) as f32;
                }
            }
        }
        let mut t =
            SoftmaxTrainer { gram, beta, decay, b: Vec::new(), prior, context, instances, scale: 1.0, epochs: 0 };
        // The prior's scale: the lowest training loss over ≈ 5,000 evenly spaced instances.
        let mut best = (f64::INFINITY, 1.0f32);
        let mut z = vec![0f32; m];
        let step = (t.instances.len() / 5000).max(1);
        for k in -2..=8 {
            let s = 2f32.powi(k);
            let mut loss = 0f64;
            for inst in t.instances.iter().step_by(step) {
                loss += t.forward(&t.prior, s, inst, &mut z);
            }
            if loss < best.0 {
                best = (loss, s);
            }
        }
        t.scale = best.1;
        t.b = t.prior.iter().map(|x| x * t.scale).collect();
        t.prior.iter_mut().for_each(|x| *x *= best.1);
        Ok(t)
    }

    /// Mean training loss (nats per instance) of the current weights, without updating them.
    pub fn loss(&self) -> f64 {
        let mut z = vec![0f32; self.gram.active.len()];
        let total: f64 = self.instances.iter().map(|inst| self.forward(&self.b, 1.0, inst, &mut z)).sum();
        total / self.instances.len() as f64
    }

    /// Training instances.
    pub fn instances(&self) -> usize {
        self.instances.len()
    }

    /// The prior's scale `s` ([module doc](self)).
    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// Epochs run so far.
    pub fn epochs(&self) -> u32 {
        self.epochs
    }

    /// Writes `p = softmax(z)` for `inst` into `z` (context items get 0) and returns `−ln p_t`;
    /// `weights` scaled by `s`.
    fn forward(&self, weights: &[f32], s: f32, inst: &Instance, z: &mut [f32]) -> f64 {
        let m = self.gram.active.len();
        z.iter_mut().for_each(|x| *x = 0.0);
        let ctx = &self.context[inst.start as usize..(inst.start + inst.len) as usize];
        for &(a, w) in ctx {
            let row = &weights[a as usize * m..(a as usize + 1) * m];
            let w = w * s;
            for (x, &b) in z.iter_mut().zip(row) {
                *x += w * b;
            }
        }
        for &(a, _) in ctx {
            z[a as usize] = f32::NEG_INFINITY;
        }
        let max = z.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
        let mut sum = 0f64;
        for x in z.iter_mut() {
            let e = (*x - max).exp();
            *x = e;
            sum += e as f64;
        }
        let inv = (1.0 / sum) as f32;
        z.iter_mut().for_each(|x| *x *= inv);
        -(z[inst.target as usize].max(1e-30) as f64).ln()
    }

    /// Runs one epoch of projected SGD with learning rate `lr` and L2 weight `l2` toward the
    /// prior; returns the epoch's running mean training loss (nats per instance, each instance
    /// scored just before its own step; [`SoftmaxTrainer::loss`] scores the weights as they are).
    ///
    /// Errors: [`Error::InvalidInput`] if `lr` ≤ 0, `l2` < 0 (or either is not finite), or
    /// `lr · l2` ≥ 1 (each step would overshoot the prior and the weights diverge).
    pub fn epoch(&mut self, lr: f32, l2: f32) -> Result<f64> {
        if !(lr > 0.0 && lr.is_finite() && l2 >= 0.0 && l2.is_finite()) {
            return Err(Error::InvalidInput(format!(
                "the softmax item-kNN model needs a learning rate > 0 and an L2 weight ≥ 0, got {lr} and {l2}"
            )));
        }
        if lr * l2 >= 1.0 {
            return Err(Error::InvalidInput(format!(
                "the softmax item-kNN model needs learning rate × L2 weight < 1 (else it diverges), got {lr} × {l2}"
            )));
        }
        let m = self.gram.active.len();
        let mut order: Vec<(u64, u32)> = Vec::with_capacity(self.instances.len());
        let mut seed = 0x5EED_u64 ^ (self.epochs as u64).wrapping_mul(0x1000_0001);
        for i in 0..self.instances.len() as u32 {
            order.push((splitmix64(&mut seed), i));
        }
        order.sort_unstable();
        let mut z = vec![0f32; m];
        let mut loss = 0f64;
        let b = std::mem::take(&mut self.b);
        let mut b = b;
        for &(_, i) in &order {
            let inst = self.instances[i as usize];
            loss += self.forward(&b, 1.0, &inst, &mut z);
            // dz_c = p_c − [c = t]; context columns have p = 0 and are not candidates.
            z[inst.target as usize] -= 1.0;
            let ctx = &self.context[inst.start as usize..(inst.start + inst.len) as usize];
            for &(a, w) in ctx {
                let a = a as usize;
                let row = &mut b[a * m..(a + 1) * m];
                let prior = &self.prior[a * m..(a + 1) * m];
                for ((x, &p), &g) in row.iter_mut().zip(prior).zip(z.iter()) {
                    let grad = w * g + l2 * (*x - p);
                    *x = (*x - lr * grad).max(0.0);
                }
                row[a] = 0.0;
            }
        }
        self.b = b;
        self.epochs += 1;
        Ok(loss / self.instances.len() as f64)
    }

    /// The model as trained so far: each item's `neighbours` largest positive weights of `B`,
    /// labelled with `lr`, `l2` and the epochs run.
    pub fn model(&self, lr: f32, l2: f32, neighbours: usize) -> ItemModel {
        let m = self.gram.active.len();
        let rows = self.gram.top_rows(neighbours, |a, c| self.b[a * m + c] as f64);
        let spec = ModelSpec::Softmax { beta: self.beta, decay: self.decay, lr, l2, epochs: self.epochs };
        self.gram.finish(spec, neighbours, rows)
    }
}

impl Gram {
    /// The softmax item-kNN model ([`ModelSpec::Softmax`], [module doc](self)): `epochs` epochs of
    /// [`SoftmaxTrainer`] with learning rate `lr` and L2 weight `l2`, `neighbours` per item.
    /// `catalog` and `sessions` are those the Gram was built from.
    ///
    /// Errors: those of [`SoftmaxTrainer::new`] and [`SoftmaxTrainer::epoch`].
    #[allow(clippy::too_many_arguments)]
    pub fn softmax(
        &self,
        catalog: &Catalog,
        sessions: &[Session],
        beta: f32,
        decay: f32,
        lr: f32,
        l2: f32,
        epochs: u32,
        neighbours: usize,
    ) -> Result<ItemModel> {
        let mut t = SoftmaxTrainer::new(self, catalog, sessions, beta, decay)?;
        for _ in 0..epochs {
            t.epoch(lr, l2)?;
        }
        Ok(t.model(lr, l2, neighbours))
    }
}
