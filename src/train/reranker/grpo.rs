//! The maths of the listwise policy's training, with hand-derived gradients (checked against
//! finite differences in the tests): Plackett–Luce log-probabilities per rank, Gumbel top-N
//! sampling, the per-rank rewards and group-normalised advantages of Rank-GRPO (Zhu et al.,
//! ICLR 2026, arXiv 2510.20150, §3; DESIGN.md §6), the clipped rank-level objective with a KL
//! penalty to the reference policy, the supervised Plackett–Luce likelihood, and Adam
//! (Kingma and Ba, ICLR 2015, Algorithm 1).
//!
//! Shapes: a context's standardised features are `x`, row-major `C × D` ([`D`] from
//! `rank::policy`); θ is the policy's flat parameter vector (`rank::policy::params_len`: `D`
//! entries for a linear policy, more with a hidden layer); a list holds `N` candidate indices in
//! `0..C`.

use crate::rank::policy::{hidden_of, D};
use crate::util::splitmix64;

/// One training context: standardised candidate features and which candidates are relevant.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    /// Standardised features, row-major `C × D`.
    pub x: Vec<f32>,
    /// Per candidate: a ground-truth item of the point (de-dup protocol).
    pub relevant: Vec<bool>,
    /// Ground-truth items of the point, including those outside the candidates.
    pub targets: usize,
}

impl Context {
    /// Candidate count C.
    pub fn len(&self) -> usize {
        self.relevant.len()
    }

    /// Whether the context has no candidate.
    pub fn is_empty(&self) -> bool {
        self.relevant.is_empty()
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.x[i * D..(i + 1) * D]
    }
}

/// ∂s_i/∂θ for every candidate i: row-major `C × P`, P = the parameter count.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Jacobian {
    /// Parameters P (columns).
    pub p: usize,
    /// Rows, `C × P`.
    pub rows: Vec<f64>,
}

impl Jacobian {
    fn row(&self, i: usize) -> &[f64] {
        &self.rows[i * self.p..(i + 1) * self.p]
    }
}

/// Scores of every candidate under the flat parameters `theta` (linear, or with a ReLU hidden
/// layer when its length says so: `rank::policy` module doc), and, when `jac` is given, their
/// Jacobian: ∂s/∂θ = z, ∂s/∂W_hj = v_h·1(a_h > 0)·z_j, ∂s/∂b_h = v_h·1(a_h > 0),
/// ∂s/∂v_h = max(0, a_h), with a_h = W_h·z + b_h.
pub fn forward(ctx: &Context, theta: &[f64], jac: Option<&mut Jacobian>) -> Vec<f64> {
    let h = hidden_of(theta.len()).unwrap_or(0);
    let p = theta.len();
    let (lin, rest) = theta.split_at(D.min(p));
    let (w, rest) = rest.split_at((h * D).min(rest.len()));
    let (b, v) = rest.split_at(h.min(rest.len()));
    let c = ctx.len();
    let mut jac = jac;
    if let Some(j) = jac.as_deref_mut() {
        j.p = p;
        j.rows.clear();
        j.rows.resize(c * p, 0.0);
    }
    let mut out = Vec::with_capacity(c);
    for i in 0..c {
        let x = ctx.row(i);
        let mut s: f64 = x.iter().zip(lin).map(|(a, b)| f64::from(*a) * b).sum();
        let mut row = jac.as_deref_mut().map(|j| &mut j.rows[i * p..(i + 1) * p]);
        if let Some(r) = row.as_deref_mut() {
            for (o, a) in r.iter_mut().zip(x) {
                *o = f64::from(*a);
            }
        }
        for u in 0..h {
            let a: f64 = w[u * D..(u + 1) * D].iter().zip(x).map(|(w, x)| w * f64::from(*x)).sum::<f64>() + b[u];
            if a > 0.0 {
                s += v[u] * a;
                if let Some(r) = row.as_deref_mut() {
                    for (o, x) in r[D + u * D..D + (u + 1) * D].iter_mut().zip(x) {
                        *o = v[u] * f64::from(*x);
                    }
                    r[D + h * D + u] = v[u];
                    r[D + h * D + h + u] = a;
                }
            }
        }
        out.push(s);
    }
    out
}

/// Scores of every candidate under `theta` ([`forward`] without the Jacobian).
pub fn scores(ctx: &Context, theta: &[f64]) -> Vec<f64> {
    forward(ctx, theta, None)
}

/// Flat parameters of a policy with `hidden` ReLU units whose scores equal the linear `theta`'s:
/// the linear part copied, W drawn uniformly in ±1/√D (seeded), b and v zero.
pub fn with_hidden(theta: &[f64], hidden: usize, seed: u64) -> Vec<f64> {
    let mut rng = seed;
    let mut out: Vec<f64> = theta.iter().copied().take(D).collect();
    out.resize(D, 0.0);
    let scale = 1.0 / (D as f64).sqrt();
    out.extend((0..hidden * D).map(|_| (uniform(&mut rng) * 2.0 - 1.0) * scale));
    out.extend(std::iter::repeat_n(0.0, 2 * hidden));
    out
}

/// Flat parameters of the seed ensemble of `members` (policies of one layout, over the same
/// standardised features): its score is the mean of the members' scores, a product of their
/// Plackett–Luce policies renormalised (log-linear pooling) — θ averaged, the hidden units of
/// all members side by side with their output weights divided by K. K members with H units
/// each give one policy with K·H units (`rank::policy` layout).
///
/// Errors: no member, or members of other lengths or of a length no layout fits (a message
/// naming the lengths).
pub fn ensemble(members: &[Vec<f64>]) -> Result<Vec<f64>, String> {
    let first = members.first().ok_or("an ensemble needs at least one member")?;
    let h = hidden_of(first.len()).ok_or_else(|| format!("{} parameters fit no policy layout", first.len()))?;
    if let Some(m) = members.iter().find(|m| m.len() != first.len()) {
        return Err(format!("ensemble members have {} and {} parameters", first.len(), m.len()));
    }
    let k = members.len() as f64;
    let mut out: Vec<f64> = (0..D).map(|i| members.iter().map(|m| m[i]).sum::<f64>() / k).collect();
    let (w0, b0, v0) = (D, D + h * D, D + h * D + h);
    out.extend(members.iter().flat_map(|m| m[w0..b0].iter().copied()));
    out.extend(members.iter().flat_map(|m| m[b0..v0].iter().copied()));
    out.extend(members.iter().flat_map(|m| m[v0..v0 + h].iter().map(|v| v / k)));
    Ok(out)
}

/// A uniform number in (0, 1) from `rng` (53 random bits, never 0).
fn uniform(rng: &mut u64) -> f64 {
    ((splitmix64(rng) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// Samples a list of `n` distinct candidates from the Plackett–Luce policy with `scores`, by
/// the Gumbel top-N trick (the top `n` of s + Gumbel noise is a PL sample without replacement;
/// Yellott 1977, Kool et al., ICML 2019). `n` is capped at the candidate count.
pub fn gumbel_top_n(scores: &[f64], n: usize, rng: &mut u64) -> Vec<u32> {
    let mut keyed: Vec<(f64, u32)> =
        scores.iter().enumerate().map(|(i, s)| (s - (-uniform(rng).ln()).ln(), i as u32)).collect();
    let n = n.min(keyed.len());
    let order = |a: &(f64, u32), b: &(f64, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    if n > 0 && n < keyed.len() {
        keyed.select_nth_unstable_by(n - 1, order);
        keyed.truncate(n);
    }
    keyed.sort_unstable_by(order);
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// log π(y_k | y_<k) for every rank k of `list` under the PL policy with `scores`, and, when
/// `grads` is given (the scores' [`Jacobian`] and an output), their gradients with respect to θ
/// (row-major `N × P`): ∇ log π(y_k | y_<k) = J_{y_k} − Σ_{j not placed} p_j J_j.
pub fn list_log_probs(scores: &[f64], list: &[u32], grads: Option<(&Jacobian, &mut Vec<f64>)>) -> Vec<f64> {
    let c = scores.len();
    let m = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
    let (jac, mut out_grads) = match grads {
        Some((j, g)) => (Some(j), Some(g)),
        None => (None, None),
    };
    let p = jac.map_or(0, |j| j.p);
    let mut removed = vec![false; c];
    let exact = |removed: &[bool], s_acc: &mut Vec<f64>| {
        let mut z = 0.0;
        s_acc.clear();
        s_acc.resize(p, 0.0);
        for i in (0..c).filter(|&i| !removed[i]) {
            z += e[i];
            if let Some(j) = jac {
                for (a, x) in s_acc.iter_mut().zip(j.row(i)) {
                    *a += e[i] * x;
                }
            }
        }
        z
    };
    let mut s_acc = Vec::new();
    let mut z = exact(&removed, &mut s_acc);
    let z0 = z;
    if let Some(g) = out_grads.as_deref_mut() {
        g.clear();
        g.reserve(list.len() * p);
    }
    let mut out = Vec::with_capacity(list.len());
    for &y in list {
        let y = y as usize;
        if z < 1e-9 * z0 {
            // Cancellation guard: recompute the remaining mass exactly.
            z = exact(&removed, &mut s_acc);
        }
        out.push(scores[y] - m - z.ln());
        if let (Some(g), Some(j)) = (out_grads.as_deref_mut(), jac) {
            for (a, x) in s_acc.iter().zip(j.row(y)) {
                g.push(x - a / z);
            }
        }
        z -= e[y];
        if let Some(j) = jac {
            for (a, x) in s_acc.iter_mut().zip(j.row(y)) {
                *a -= e[y] * x;
            }
        }
        removed[y] = true;
    }
    out
}

/// The reward of Rank-GRPO and its baselines (DESIGN.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reward {
    /// Per rank: r_k = rel_k (Rank-GRPO "exp∞", the default).
    ExpInf,
    /// Per rank: r_k = Σ_{j ≥ k} rel_j / log2(j + 1) (Rank-GRPO causal DCG; k 1-based).
    CausalDcg,
    /// Vanilla GRPO: one reward per list, DCG@N = Σ_k rel_k / log2(k + 1), its group-normalised
    /// advantage given to every rank.
    SequenceDcg,
}

/// Per-rank rewards of one list with relevance `rel` (1-based rank k at index k−1). For
/// [`Reward::SequenceDcg`] every entry holds the list's DCG.
pub fn rank_rewards(rel: &[bool], reward: Reward) -> Vec<f64> {
    let gain: Vec<f64> =
        rel.iter().enumerate().map(|(k, &r)| if r { 1.0 / ((k + 2) as f64).log2() } else { 0.0 }).collect();
    match reward {
        Reward::ExpInf => rel.iter().map(|&r| f64::from(u8::from(r))).collect(),
        Reward::CausalDcg => {
            let mut out = vec![0.0; rel.len()];
            let mut acc = 0.0;
            for k in (0..rel.len()).rev() {
                acc += gain[k];
                out[k] = acc;
            }
            out
        }
        Reward::SequenceDcg => vec![gain.iter().sum(); rel.len()],
    }
}

/// Group-normalised advantages: Â_{i,k} = (r_{i,k} − mean_g r_{g,k}) / (std_g r_{g,k} + 1e-4)
/// over the G lists of one context (`rewards[i][k]`; population standard deviation).
pub fn advantages(rewards: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let g = rewards.len() as f64;
    let n = rewards.iter().map(Vec::len).max().unwrap_or(0);
    let mut out: Vec<Vec<f64>> = rewards.iter().map(|r| vec![0.0; r.len()]).collect();
    for k in 0..n {
        let col: Vec<f64> = rewards.iter().map(|r| r.get(k).copied().unwrap_or(0.0)).collect();
        let mean = col.iter().sum::<f64>() / g;
        let std = (col.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / g).sqrt();
        for (i, o) in out.iter_mut().enumerate() {
            if let Some(a) = o.get_mut(k) {
                *a = (col[i] - mean) / (std + 1e-4);
            }
        }
    }
    out
}

/// One sampled list with what the clipped objective needs, per rank.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampled {
    /// Candidate indices, best first.
    pub list: Vec<u32>,
    /// log π_θ_old(y_k | y_<k).
    pub logp_old: Vec<f64>,
    /// log π_ref(y_k | y_<k).
    pub logp_ref: Vec<f64>,
    /// Â_{i,k}.
    pub advantage: Vec<f64>,
}

/// Clipping and KL settings of the objective.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Clip {
    /// Lower clip ε_low (ratio floor 1 − ε_low).
    pub eps_low: f64,
    /// Upper clip ε_high (ratio ceiling 1 + ε_high).
    pub eps_high: f64,
    /// KL penalty β (k3 estimator of KL(π_θ ‖ π_ref) per rank; Schulman 2020).
    pub beta: f64,
}

/// The clipped rank-level objective of one context and its gradient (ascent direction):
/// J = (1/ΣN_i) Σ_i Σ_k [min(w Â, clip(w, 1−ε_low, 1+ε_high) Â) − β (e^{l_ref−l} − (l_ref−l) − 1)],
/// with w = exp(l − l_old), l = log π_θ(y_{i,k} | y_{i,<k}).
pub fn clipped_objective(ctx: &Context, theta: &[f64], samples: &[Sampled], clip: Clip) -> (f64, Vec<f64>) {
    let mut jac = Jacobian::default();
    let s = forward(ctx, theta, Some(&mut jac));
    let p = theta.len();
    let mut grad = vec![0f64; p];
    let mut value = 0.0;
    let mut count = 0usize;
    let mut g = Vec::new();
    for smp in samples {
        let l = list_log_probs(&s, &smp.list, Some((&jac, &mut g)));
        for k in 0..l.len() {
            let w = (l[k] - smp.logp_old[k]).exp();
            let a = smp.advantage[k];
            let clipped = w.clamp(1.0 - clip.eps_low, 1.0 + clip.eps_high);
            let (surrogate, active) = if w * a <= clipped * a { (w * a, true) } else { (clipped * a, false) };
            let d = smp.logp_ref[k] - l[k];
            let kl = d.exp() - d - 1.0;
            value += surrogate - clip.beta * kl;
            // d/dl: surrogate → a·w when active; KL → (1 − e^{d}) (so −β(1 − e^d)).
            let coef = if active { a * w } else { 0.0 } - clip.beta * (1.0 - d.exp());
            for (gj, x) in grad.iter_mut().zip(&g[k * p..(k + 1) * p]) {
                *gj += coef * x;
            }
            count += 1;
        }
    }
    if count > 0 {
        value /= count as f64;
        grad.iter_mut().for_each(|x| *x /= count as f64);
    }
    (value, grad)
}

/// The supervised listwise objective of one context (ascent direction): the mean over its
/// relevant candidates t of log softmax(s)_t = s_t − log Σ_j e^{s_j} (the Plackett–Luce
/// likelihood of t first; ListNet-style), and its gradient J_t − E_p(J). (0, 0) without a
/// relevant candidate.
pub fn softmax_likelihood(ctx: &Context, theta: &[f64]) -> (f64, Vec<f64>) {
    let rel: Vec<usize> = (0..ctx.len()).filter(|&i| ctx.relevant[i]).collect();
    let p = theta.len();
    let mut grad = vec![0f64; p];
    if rel.is_empty() {
        return (0.0, grad);
    }
    let mut jac = Jacobian::default();
    let s = forward(ctx, theta, Some(&mut jac));
    let m = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let z: f64 = s.iter().map(|v| (v - m).exp()).sum();
    let mut mean_j = vec![0f64; p];
    for (i, v) in s.iter().enumerate() {
        let q = (v - m).exp() / z;
        for (a, x) in mean_j.iter_mut().zip(jac.row(i)) {
            *a += q * x;
        }
    }
    let mut value = 0.0;
    for &t in &rel {
        value += s[t] - m - z.ln();
        for ((gj, x), mj) in grad.iter_mut().zip(jac.row(t)).zip(&mean_j) {
            *gj += x - mj;
        }
    }
    let r = rel.len() as f64;
    grad.iter_mut().for_each(|x| *x /= r);
    (value / r, grad)
}

/// Adam (ascent) with bias correction (Kingma and Ba 2015, Algorithm 1).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Adam {
    /// Step size α.
    pub lr: f64,
    /// First-moment estimate.
    pub m: Vec<f64>,
    /// Second-moment estimate.
    pub v: Vec<f64>,
    /// Steps taken.
    pub t: u64,
}

impl Adam {
    /// A fresh optimiser for `dim` parameters with step size `lr` (β1 0.9, β2 0.999, ε 1e-8).
    pub fn new(dim: usize, lr: f64) -> Self {
        Adam { lr, m: vec![0.0; dim], v: vec![0.0; dim], t: 0 }
    }

    /// Moves `theta` up the gradient `grad`.
    pub fn step(&mut self, theta: &mut [f64], grad: &[f64]) {
        self.t += 1;
        let (b1, b2) = (0.9f64, 0.999f64);
        let c1 = 1.0 - b1.powi(self.t as i32);
        let c2 = 1.0 - b2.powi(self.t as i32);
        for j in 0..theta.len() {
            self.m[j] = b1 * self.m[j] + (1.0 - b1) * grad[j];
            self.v[j] = b2 * self.v[j] + (1.0 - b2) * grad[j] * grad[j];
            theta[j] += self.lr * (self.m[j] / c1) / ((self.v[j] / c2).sqrt() + 1e-8);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tiny(seed: u64, c: usize) -> Context {
        let mut rng = seed;
        let x = (0..c * D).map(|_| (uniform(&mut rng) * 2.0 - 1.0) as f32).collect();
        let relevant = (0..c).map(|i| i % 3 == 0).collect();
        Context { x, relevant, targets: c.div_ceil(3) }
    }

    /// Central finite differences (step 1e-6) of `f` at `theta` against `analytic`, within
    /// `tol` × (1 + |numeric|) per coordinate.
    fn assert_gradient(f: impl Fn(&[f64]) -> f64, theta: &[f64], analytic: &[f64], tol: f64) {
        let h = 1e-6;
        for j in 0..theta.len() {
            let mut up = theta.to_vec();
            up[j] += h;
            let mut down = theta.to_vec();
            down[j] -= h;
            let fd = (f(&up) - f(&down)) / (2.0 * h);
            assert!(
                (fd - analytic[j]).abs() < tol * (1.0 + fd.abs()),
                "θ_{j}: analytic {} vs numeric {fd}",
                analytic[j]
            );
        }
    }

    /// Random flat parameters of a policy with `hidden` ReLU units (0: linear).
    fn random_theta(seed: u64, hidden: usize) -> Vec<f64> {
        let mut rng = seed;
        (0..crate::rank::policy::params_len(hidden)).map(|_| uniform(&mut rng) - 0.5).collect()
    }

    #[test]
    fn an_ensemble_scores_the_mean_of_its_members() {
        let ctx = tiny(5, 40);
        for hidden in [0, 4] {
            let members: Vec<Vec<f64>> = (0..3).map(|k| random_theta(11 + k, hidden)).collect();
            let joint = ensemble(&members).unwrap();
            assert_eq!(joint.len(), crate::rank::policy::params_len(3 * hidden));
            let each: Vec<Vec<f64>> = members.iter().map(|m| scores(&ctx, m)).collect();
            for (i, s) in scores(&ctx, &joint).into_iter().enumerate() {
                let mean = each.iter().map(|e| e[i]).sum::<f64>() / 3.0;
                assert!((s - mean).abs() < 1e-9, "candidate {i}: {s} vs {mean}");
            }
        }
        assert_eq!(ensemble(&[random_theta(1, 2)]).unwrap(), random_theta(1, 2));
        assert!(ensemble(&[]).unwrap_err().contains("at least one"));
        assert!(ensemble(&[random_theta(1, 0), random_theta(1, 2)]).unwrap_err().contains("28 and 88"));
    }

    #[test]
    fn clipped_objective_gradient_matches_finite_differences() {
        // Linear, and with 3 hidden ReLU units (every parameter block checked).
        for hidden in [0, 3] {
            let ctx = tiny(7, 9);
            let theta_old = random_theta(1, hidden);
            let theta_ref = random_theta(2, hidden);
            let mut rng = 3u64;
            let s_old = scores(&ctx, &theta_old);
            let s_ref = scores(&ctx, &theta_ref);
            let lists: Vec<Vec<u32>> = (0..4).map(|_| gumbel_top_n(&s_old, 5, &mut rng)).collect();
            let rewards: Vec<Vec<f64>> = lists
                .iter()
                .map(|l| {
                    rank_rewards(&l.iter().map(|&i| ctx.relevant[i as usize]).collect::<Vec<_>>(), Reward::CausalDcg)
                })
                .collect();
            let adv = advantages(&rewards);
            let samples: Vec<Sampled> = lists
                .iter()
                .zip(adv)
                .map(|(l, a)| Sampled {
                    list: l.clone(),
                    logp_old: list_log_probs(&s_old, l, None),
                    logp_ref: list_log_probs(&s_ref, l, None),
                    advantage: a,
                })
                .collect();
            // A wide clip (every term active) and the default narrow one (some terms clipped).
            for clip in
                [Clip { eps_low: 0.5, eps_high: 0.5, beta: 0.1 }, Clip { eps_low: 0.06, eps_high: 0.08, beta: 0.1 }]
            {
                // A point near θ_old (ratios within the clip range where the slope is non-zero).
                let theta: Vec<f64> =
                    theta_old.iter().enumerate().map(|(j, t)| t + 0.01 * ((j % 5) as f64 - 2.0)).collect();
                let (_, g) = clipped_objective(&ctx, &theta, &samples, clip);
                assert_gradient(|t| clipped_objective(&ctx, t, &samples, clip).0, &theta, &g, 1e-5);
            }
        }
    }

    #[test]
    fn list_log_probs_are_normalised_and_their_gradient_is_right() {
        for hidden in [0, 2] {
            let ctx = tiny(11, 4);
            let theta = random_theta(5, hidden);
            let s = scores(&ctx, &theta);
            // All 4! orders of a 4-candidate PL policy sum to probability 1.
            let mut total = 0.0;
            let perms = [[0u32, 1, 2, 3], [0, 1, 3, 2], [0, 2, 1, 3], [0, 2, 3, 1], [0, 3, 1, 2], [0, 3, 2, 1]];
            for p in perms {
                for first in 0..4u32 {
                    let l: Vec<u32> = p.iter().map(|&v| (v + first) % 4).collect();
                    total += list_log_probs(&s, &l, None).iter().sum::<f64>().exp();
                }
            }
            assert!((total - 1.0).abs() < 1e-9, "{total}");
            let list = [2u32, 0, 3];
            let mut g = Vec::new();
            let mut jac = Jacobian::default();
            forward(&ctx, &theta, Some(&mut jac));
            list_log_probs(&s, &list, Some((&jac, &mut g)));
            let p = theta.len();
            let analytic: Vec<f64> = (0..p).map(|j| (0..3).map(|k| g[k * p + j]).sum()).collect();
            let total = |t: &[f64]| list_log_probs(&scores(&ctx, t), &list, None).iter().sum::<f64>();
            assert_gradient(total, &theta, &analytic, 1e-6);
        }
    }

    #[test]
    fn softmax_likelihood_gradient_matches_finite_differences() {
        for hidden in [0, 4] {
            let ctx = tiny(13, 7);
            let theta = random_theta(9, hidden);
            let (_, g) = softmax_likelihood(&ctx, &theta);
            assert_gradient(|t| softmax_likelihood(&ctx, t).0, &theta, &g, 1e-6);
        }
    }

    #[test]
    fn advantages_are_zero_mean_per_rank() {
        let rel = [
            vec![true, false, false, true],
            vec![false, false, true, false],
            vec![false, true, false, false],
            vec![false, false, false, false],
        ];
        for reward in [Reward::ExpInf, Reward::CausalDcg, Reward::SequenceDcg] {
            let r: Vec<Vec<f64>> = rel.iter().map(|l| rank_rewards(l, reward)).collect();
            let a = advantages(&r);
            for k in 0..4 {
                let mean: f64 = a.iter().map(|row| row[k]).sum::<f64>() / 4.0;
                assert!(mean.abs() < 1e-12, "{reward:?} rank {k}: mean {mean}");
            }
            // A rank where a single list is relevant: that list's advantage is positive.
            assert!(a[0][0] > 1.0 && a[1][0] < 0.0, "{reward:?}: {a:?}");
        }
        // Causal DCG: credit only from the rank on (rank 4 of list 0 is 1/log2 5).
        let c = rank_rewards(&rel[0], Reward::CausalDcg);
        assert!((c[3] - 1.0 / 5f64.log2()).abs() < 1e-12 && (c[0] - 1.0 - 1.0 / 5f64.log2()).abs() < 1e-12);
        // Equal rewards in a column: zero advantage, not a division by zero.
        assert_eq!(advantages(&[vec![1.0], vec![1.0]]), vec![vec![0.0], vec![0.0]]);
    }

    #[test]
    fn gumbel_top_n_follows_the_policy() {
        // Two candidates with scores ln 3 and 0: the first comes first 3/4 of the time.
        let s = [3f64.ln(), 0.0];
        let mut rng = 42u64;
        let first = (0..20_000).filter(|_| gumbel_top_n(&s, 2, &mut rng)[0] == 0).count() as f64 / 20_000.0;
        assert!((first - 0.75).abs() < 0.015, "{first}");
        let l = gumbel_top_n(&[0.0; 30], 20, &mut rng);
        let mut d = l.clone();
        d.sort_unstable();
        d.dedup();
        assert_eq!((l.len(), d.len()), (20, 20));
    }
}
