//! Fitting the item-to-item models of [`crate::recommender::model`] from sessions.

pub mod softmax;

use std::collections::HashMap;

use faer::linalg::solvers::DenseSolveCore;

use super::model::{ItemModel, ModelInfo, ModelSpec};
use super::sessions::{Session, Source};
use crate::catalog::{Catalog, ItemId};
use crate::{Error, Result};

pub use softmax::SoftmaxTrainer;

/// The weighted co-occurrence (Gram) matrix of a set of sessions, dense over the items that occur.
#[derive(Debug, Clone)]
pub struct Gram {
    /// Catalog ids of all items (the model's item set), ascending.
    ids: Vec<ItemId>,
    /// Per item: sessions containing it (weighted by the session's source weight).
    popularity: Vec<f32>,
    /// Item indices that occur in some session.
    active: Vec<usize>,
    /// Row-major `active.len()²` Gram matrix `XᵀX` over active items (candidate columns
    /// weighted by `seeker` where only the seeker mentioned them).
    g: Vec<f64>,
    /// Per active item: `Σ_sessions x²` without role weighting (item-kNN row normalisation).
    self_weight: Vec<f64>,
    bm25: bool,
    backward: f32,
    seeker: f32,
    movielens_weight: f32,
    sessions: usize,
}

impl Gram {
    /// Builds `G = XᵀX` for the sessions over `catalog`'s items. MovieLens sessions count with
    /// weight `movielens_weight` (0 drops them); with `bm25`, entries are BM25-weighted (module
    /// doc). Sessions hold catalog positions.
    pub fn new(catalog: &Catalog, sessions: &[Session], movielens_weight: f32, bm25: bool) -> Self {
        Gram::with_order(catalog, sessions, movielens_weight, bm25, 1.0)
    }

    /// Like [`Gram::new`], with the co-occurrences where the candidate (column) comes *before*
    /// the seed (row) in a session's mention order weighted by `backward` (1: symmetric). Only
    /// item-kNN accepts `backward` < 1 (EASE needs a symmetric Gram matrix).
    pub fn with_order(
        catalog: &Catalog,
        sessions: &[Session],
        movielens_weight: f32,
        bm25: bool,
        backward: f32,
    ) -> Self {
        Gram::with_roles(catalog, sessions, movielens_weight, bm25, backward, 1.0)
    }

    /// Like [`Gram::with_order`], with a session's seeker-only items ([`Session::seeker_only`])
    /// counting `seeker` as the candidate (column) of a pair (1: roles ignored). Only item-kNN
    /// accepts `seeker` < 1.
    pub fn with_roles(
        catalog: &Catalog,
        sessions: &[Session],
        movielens_weight: f32,
        bm25: bool,
        backward: f32,
        seeker: f32,
    ) -> Self {
        let mut ids: Vec<ItemId> = catalog.items().iter().map(|i| i.id).collect();
        ids.sort_unstable();
        // Catalog position → model index.
        let mut pos_to_idx = vec![0usize; catalog.len()];
        for (p, item) in catalog.items().iter().enumerate() {
            pos_to_idx[p] = ids.binary_search(&item.id).unwrap_or(0);
        }
        let sw = |s: &Session| if s.source == Source::Movielens { movielens_weight } else { 1.0 };
        let used: Vec<&Session> = sessions.iter().filter(|s| sw(s) > 0.0).collect();
        let n = ids.len();
        let mut df = vec![0f32; n];
        let mut popularity = vec![0f32; n];
        let mut total_len = 0f64;
        for s in &used {
            total_len += s.items.len() as f64;
            for &(p, _) in &s.items {
                let i = pos_to_idx[p as usize];
                df[i] += 1.0;
                popularity[i] += sw(s);
            }
        }
        let avg_len = if used.is_empty() { 1.0 } else { total_len / used.len() as f64 };
        let big_n = used.len() as f32;
        let mut active: Vec<usize> = (0..n).filter(|&i| df[i] > 0.0).collect();
        active.sort_unstable();
        let mut act_idx: HashMap<usize, usize> = HashMap::with_capacity(active.len());
        for (a, &i) in active.iter().enumerate() {
            act_idx.insert(i, a);
        }
        let m = active.len();
        let mut g = vec![0f64; m * m];
        let mut self_weight = vec![0f64; m];
        let (k1, b) = (1.2f64, 0.75f64);
        let mut row: Vec<(usize, f64)> = Vec::new();
        let mut column: Vec<f64> = Vec::new();
        for s in &used {
            row.clear();
            column.clear();
            let len_norm = k1 * (1.0 - b + b * s.items.len() as f64 / avg_len) + 1.0;
            for &(p, w) in &s.items {
                let i = pos_to_idx[p as usize];
                let Some(&a) = act_idx.get(&i) else { continue };
                let x = if bm25 {
                    let idf = (1.0 + (big_n - df[i] + 0.5) / (df[i] + 0.5)).ln() as f64;
                    idf * (k1 + 1.0) / len_norm * w as f64
                } else {
                    w as f64
                };
                row.push((a, x));
                column.push(if s.seeker_only.contains(&p) { seeker as f64 } else { 1.0 });
            }
            let scale = sw(s) as f64;
            for (ia, &(a, xa)) in row.iter().enumerate() {
                let base = a * m;
                self_weight[a] += scale * xa * xa;
                for (ic, &(c, xc)) in row.iter().enumerate() {
                    let order = if ic < ia { backward as f64 } else { 1.0 };
                    g[base + c] += scale * order * xa * xc * column[ic];
                }
            }
        }
        Gram { ids, popularity, active, g, self_weight, bm25, backward, seeker, movielens_weight, sessions: used.len() }
    }

    /// Items that occur in some session.
    pub fn active_items(&self) -> usize {
        self.active.len()
    }

    /// Per catalog position of `catalog` (the one the Gram was built over): its active index.
    fn active_of_positions(&self, catalog: &Catalog) -> Vec<Option<usize>> {
        let mut act_of: HashMap<usize, usize> = HashMap::with_capacity(self.active.len());
        for (a, &i) in self.active.iter().enumerate() {
            act_of.insert(i, a);
        }
        catalog
            .items()
            .iter()
            .map(|it| self.ids.binary_search(&it.id).ok().and_then(|i| act_of.get(&i).copied()))
            .collect()
    }

    fn finish(&self, spec: ModelSpec, neighbours: usize, rows: Vec<Vec<(u32, f32)>>) -> ItemModel {
        ItemModel {
            info: ModelInfo {
                spec,
                movielens_weight: self.movielens_weight,
                neighbours,
                sessions: self.sessions,
                provenance: serde_json::Value::Null,
            },
            ids: self.ids.clone(),
            popularity: self.popularity.clone(),
            neighbours: rows,
        }
    }

    /// Keeps the `neighbours` largest positive weights of each active row (`weight(a, c)` over
    /// active indices), mapped to model indices.
    fn top_rows(&self, neighbours: usize, weight: impl Fn(usize, usize) -> f64) -> Vec<Vec<(u32, f32)>> {
        let m = self.active.len();
        let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); self.ids.len()];
        let mut buf: Vec<(u32, f32)> = Vec::with_capacity(m);
        for a in 0..m {
            buf.clear();
            for c in 0..m {
                if c == a {
                    continue;
                }
                let w = weight(a, c) as f32;
                if w > 0.0 && w.is_finite() {
                    buf.push((self.active[c] as u32, w));
                }
            }
            let order = |x: &(u32, f32), y: &(u32, f32)| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0));
            if buf.len() > neighbours && neighbours > 0 {
                buf.select_nth_unstable_by(neighbours - 1, order);
                buf.truncate(neighbours);
            } else if neighbours == 0 {
                buf.clear();
            }
            buf.sort_unstable_by(order);
            rows[self.active[a]] = buf.clone();
        }
        rows
    }

    /// The popularity model.
    pub fn popularity_model(&self) -> ItemModel {
        self.finish(ModelSpec::Popularity, 0, vec![Vec::new(); self.ids.len()])
    }

    /// Item-kNN with candidate exponent `beta` and `shrink` (module doc), `neighbours` per item.
    pub fn item_knn(&self, beta: f32, shrink: f32, neighbours: usize) -> ItemModel {
        let rows = self.top_rows(neighbours, self.knn_weight(beta, shrink));
        let spec = ModelSpec::ItemKnn { bm25: self.bm25, beta, shrink, backward: self.backward, seeker: self.seeker };
        self.finish(spec, neighbours, rows)
    }

    /// The item-kNN weight `B[a, c]` (module doc) over active indices, for exponent `beta` and
    /// `shrink`.
    fn knn_weight(&self, beta: f32, shrink: f32) -> impl Fn(usize, usize) -> f64 + '_ {
        let m = self.active.len();
        let row: Vec<f64> = self.self_weight.iter().map(|x| x.max(1e-12).sqrt()).collect();
        let diag: Vec<f64> = (0..m).map(|a| self.g[a * m + a].max(1e-12).powf(beta as f64)).collect();
        move |a, c| self.g[a * m + c] / (row[a] * diag[c] + shrink as f64)
    }

    /// EASE^R with regularisation `lambda` (module doc), `neighbours` per item.
    ///
    /// Errors: [`Error::InvalidInput`] if `lambda` ≤ 0 or `G + λI` is not positive definite.
    pub fn ease(&self, lambda: f32, neighbours: usize) -> Result<ItemModel> {
        let p = self.ease_inverse(lambda)?;
        let rows = self.top_rows(neighbours, |i, j| -p[(i, j)] / p[(j, j)]);
        Ok(self.finish(ModelSpec::Ease { lambda, bm25: self.bm25 }, neighbours, rows))
    }

    /// The normalised blend of item-kNN (`beta`, `shrink`) and EASE^R (`lambda`) with EASE share
    /// `ease_share` ([`ModelSpec::Blend`]), `neighbours` per item.
    ///
    /// Errors: those of [`Gram::ease`]; [`Error::InvalidInput`] if `ease_share` is not in
    /// [0, 1] or the Gram matrix is BM25-weighted.
    pub fn blend(&self, beta: f32, shrink: f32, lambda: f32, ease_share: f32, neighbours: usize) -> Result<ItemModel> {
        if !(0.0..=1.0).contains(&ease_share) {
            return Err(Error::InvalidInput(format!("the EASE share must be in [0, 1], got {ease_share}")));
        }
        if self.bm25 {
            return Err(Error::InvalidInput("the blend is trained on the binary Gram matrix".to_string()));
        }
        let p = self.ease_inverse(lambda)?;
        let m = self.active.len();
        let diag: Vec<f64> = (0..m).map(|a| self.g[a * m + a].max(1e-12)).collect();
        let knn = |a: usize, c: usize| self.g[a * m + c] / (diag[a].sqrt() * diag[c].powf(beta as f64) + shrink as f64);
        let ease = |i: usize, j: usize| -p[(i, j)] / p[(j, j)];
        // Mean over rows of the largest off-diagonal weight.
        let row_scale = |w: &dyn Fn(usize, usize) -> f64| {
            let total: f64 = (0..m).map(|a| (0..m).filter(|&c| c != a).map(|c| w(a, c)).fold(0f64, f64::max)).sum();
            if m == 0 || total <= 0.0 {
                1.0
            } else {
                total / m as f64
            }
        };
        let (sk, se) = (row_scale(&knn), row_scale(&ease));
        let s = ease_share as f64;
        let rows = self.top_rows(neighbours, |a, c| (1.0 - s) * knn(a, c) / sk + s * ease(a, c) / se);
        Ok(self.finish(ModelSpec::Blend { beta, shrink, lambda, ease_share }, neighbours, rows))
    }

    /// `(G + λI)⁻¹` over the active items (EASE^R, Steck 2019, eq. 8).
    fn ease_inverse(&self, lambda: f32) -> Result<faer::Mat<f64>> {
        if self.backward != 1.0 || self.seeker != 1.0 {
            return Err(Error::InvalidInput(
                "EASE needs a symmetric Gram matrix (backward = 1, seeker = 1)".to_string(),
            ));
        }
        if lambda <= 0.0 || !lambda.is_finite() {
            return Err(Error::InvalidInput(format!("EASE needs λ > 0, got {lambda}")));
        }
        let m = self.active.len();
        let a = faer::Mat::<f64>::from_fn(m, m, |i, j| self.g[i * m + j] + if i == j { lambda as f64 } else { 0.0 });
        let llt = a
            .llt(faer::Side::Lower)
            .map_err(|e| Error::InvalidInput(format!("G + λI is not positive definite (λ = {lambda}): {e:?}")))?;
        Ok(llt.inverse())
    }

    /// The SLIT transition model (module doc) fitted on the ordered sessions of `sessions`
    /// (MovieLens users are skipped: their order is not a dialogue's) over this Gram's item set,
    /// `neighbours` per item. `sessions` must be those the Gram was built from.
    ///
    /// Errors: [`Error::InvalidInput`] if `lambda` ≤ 0, `decay` ∉ (0, 1], or `S + λI` is not
    /// positive definite.
    pub fn transition(
        &self,
        catalog: &Catalog,
        sessions: &[Session],
        lambda: f32,
        decay: f32,
        neighbours: usize,
    ) -> Result<ItemModel> {
        if lambda <= 0.0 || !lambda.is_finite() {
            return Err(Error::InvalidInput(format!("the transition model needs λ > 0, got {lambda}")));
        }
        if !(decay > 0.0 && decay <= 1.0) {
            return Err(Error::InvalidInput(format!("the transition model needs a decay in (0, 1], got {decay}")));
        }
        let m = self.active.len();
        let mut s = faer::Mat::<f64>::zeros(m, m);
        let mut t: HashMap<(u32, u32), f64> = HashMap::new();
        self.for_each_instance(catalog, sessions, decay, |context, target| {
            for &(a, xa) in context {
                *t.entry((a as u32, target as u32)).or_insert(0.0) += xa;
                for &(b, xb) in context {
                    s[(a, b)] += xa * xb;
                }
            }
        });
        for a in 0..m {
            s[(a, a)] += lambda as f64;
        }
        let p = s
            .llt(faer::Side::Lower)
            .map_err(|e| Error::InvalidInput(format!("S + λI is not positive definite (λ = {lambda}): {e:?}")))?
            .inverse();
        // B = P·T, column by column (T is sparse): B[:, c] += T[b, c] · P[:, b].
        let mut b = vec![0f64; m * m];
        let mut entries: Vec<((u32, u32), f64)> = t.into_iter().collect();
        entries.sort_unstable_by_key(|e| (e.0 .1, e.0 .0));
        for ((from, to), v) in entries {
            let col = &mut b[to as usize * m..(to as usize + 1) * m];
            for (a, x) in col.iter_mut().enumerate() {
                *x += v * p[(a, from as usize)];
            }
        }
        let rows = self.top_rows(neighbours, |a, c| b[c * m + a]);
        Ok(self.finish(ModelSpec::Transition { lambda, decay }, neighbours, rows))
    }

    /// Calls `f(context, target)` for each next-recommendation instance of the ordered sessions
    /// (module doc, transition model): every item a recommender mentioned, except a session's
    /// first item, with the earlier items as `(active index, weight · decay^age)` context.
    /// MovieLens sessions (unordered) and items outside this Gram's active set are skipped.
    fn for_each_instance(
        &self,
        catalog: &Catalog,
        sessions: &[Session],
        decay: f32,
        mut f: impl FnMut(&[(usize, f64)], usize),
    ) {
        let pos_to_act = self.active_of_positions(catalog);
        let mut context: Vec<(usize, f64)> = Vec::new();
        for session in sessions.iter().filter(|s| s.source != Source::Movielens) {
            context.clear();
            for (k, &(p, w)) in session.items.iter().enumerate() {
                let Some(target) = pos_to_act.get(p as usize).copied().flatten() else { continue };
                if k > 0 && !context.is_empty() && !session.seeker_only.contains(&p) {
                    f(&context, target);
                }
                for c in context.iter_mut() {
                    c.1 *= decay as f64;
                }
                context.push((target, w as f64));
            }
        }
    }

    /// Trains `spec` (its `bm25` must match this Gram's weighting); `catalog` and `sessions` are
    /// those the Gram was built from (the transition model reads the sessions' order).
    ///
    /// Errors: those of [`Gram::ease`] and [`Gram::transition`]; [`Error::InvalidInput`] on a
    /// weighting mismatch.
    pub fn train(
        &self,
        spec: ModelSpec,
        neighbours: usize,
        catalog: &Catalog,
        sessions: &[Session],
    ) -> Result<ItemModel> {
        match spec {
            ModelSpec::Transition { lambda, decay } if !self.bm25 => {
                self.transition(catalog, sessions, lambda, decay, neighbours)
            }
            ModelSpec::KnnTransition { beta, shrink, lambda, decay, share } if !self.bm25 => {
                let knn = self.item_knn(beta, shrink, neighbours);
                let transition = self.transition(catalog, sessions, lambda, decay, neighbours)?;
                knn.mixed(&transition, share, spec, neighbours)
            }
            ModelSpec::Softmax { beta, decay, lr, l2, epochs } => {
                self.softmax(catalog, sessions, beta, decay, lr, l2, epochs, neighbours)
            }
            ModelSpec::Popularity => Ok(self.popularity_model()),
            ModelSpec::ItemKnn { bm25, beta, shrink, backward, seeker }
                if bm25 == self.bm25 && backward == self.backward && seeker == self.seeker =>
            {
                Ok(self.item_knn(beta, shrink, neighbours))
            }
            ModelSpec::Ease { lambda, bm25 } if bm25 == self.bm25 => self.ease(lambda, neighbours),
            ModelSpec::Blend { beta, shrink, lambda, ease_share } if !self.bm25 => {
                self.blend(beta, shrink, lambda, ease_share, neighbours)
            }
            _ => Err(Error::InvalidInput(format!(
                "{} does not match this Gram matrix (bm25 = {}, backward = {}, seeker = {})",
                spec.describe(),
                self.bm25,
                self.backward,
                self.seeker
            ))),
        }
    }
}

/// The `seeker` column weight of the Gram matrix `spec` is trained on (1: roles ignored).
pub fn seeker_of(spec: &ModelSpec) -> f32 {
    match spec {
        ModelSpec::ItemKnn { seeker, .. } => *seeker,
        _ => 1.0,
    }
}

/// The `backward` weight of the Gram matrix `spec` is trained on (1: symmetric).
pub fn backward_of(spec: &ModelSpec) -> f32 {
    match spec {
        ModelSpec::ItemKnn { backward, .. } => *backward,
        _ => 1.0,
    }
}

/// Whether `spec` is trained on a BM25-weighted Gram matrix.
pub fn uses_bm25(spec: &ModelSpec) -> bool {
    match spec {
        ModelSpec::Popularity
        | ModelSpec::Blend { .. }
        | ModelSpec::Transition { .. }
        | ModelSpec::KnnTransition { .. }
        | ModelSpec::Softmax { .. } => false,
        ModelSpec::ItemKnn { bm25, .. } | ModelSpec::Ease { bm25, .. } => *bm25,
    }
}
