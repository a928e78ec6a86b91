//! Candidate generation and ranking: fuses the collaborative co-mention score, BM25 of the
//! seeker's recent text against item text, and training popularity into one listwise score.
//!
//! `s(c) = w_cf · cf(c)/max cf + w_text · bm25(c)/max bm25 + w_pop · ln(1+pop c)/ln(1+max pop)`
//! over every catalog item not excluded by the dialogue state. The seeds of `cf` are the state's
//! mentions: seeker-liked items (weight 1), recommender mentions (0.5), disliked items (−0.5),
//! each multiplied by `recency^(turns ago)`.
//!
//! When a trained collaborative model is attached ([`CandidateRanker::with_model`], the
//! `catalogs/movies/recommender.bin` of `curator train recommender`), `cf(c)` is that model's
//! score from [`Recommender::recommend_candidates`] for the same weighted seeds, asked for every
//! catalog item (a top-200 cut lost 0.003 of validation objective: items with a small CF score
//! still gain from popularity and text) instead of the co-mention formula; the co-mention counts
//! still ground the reasons ("because of").
//!
//! With a knowledge graph ([`CandidateRanker::with_knowledge`]) two more terms and two filters:
//! `+ w_kg · ppr(c)/max ppr + w_attribute · attr(c)`, where `ppr` is personalized PageRank from
//! the same seeds plus the requested attribute nodes (`knowledge::ppr`), and `attr` the
//! recency-weighted share of requested people, years and keywords the item has. Rejected
//! attributes ("not horror", "nothing too violent", "no Tom Cruise") exclude every item that has
//! them (hard constraints); with `attribute_filter`, the latest seeker turn's requests (genres
//! named, people, years, keywords) and the release years asked for earlier
//! ([`DialogueState::filter_requests`]) keep only the items meeting as many of them as at least
//! `k` items meet.

mod candidates;
pub mod config;
pub mod policy;
mod weights;

pub use config::{TuneProvenance, TunedWeights, RANKER_FILE};
pub use policy::{CandidateSet, Policy, RERANKER_FILE};
pub use weights::FusionWeights;

use std::sync::Arc;

use serde::Serialize;

use petgraph::graph::NodeIndex;

use crate::catalog::{Catalog, ItemId, SearchFilters};
use crate::dialogue::Role;
use crate::dialogue::{DialogueState, Polarity};
use crate::knowledge::tools::KgTools;
use crate::knowledge::{Attribute, NodeKind, PprParams, Relation};
use crate::recommender::{CoMentions, Feedback, RecState, Recommender};
use crate::Result;

/// One ranked candidate with the signals that produced its score (for reasons and features).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// The item.
    pub id: ItemId,
    /// Dense catalog position.
    pub position: usize,
    /// Fused score (higher is better).
    pub score: f32,
    /// Normalised collaborative score in [−1, 1].
    pub cf: f32,
    /// Normalised BM25 score in [0, 1].
    pub text: f32,
    /// Normalised log popularity in [0, 1].
    pub popularity: f32,
    /// Share of the requested genres the item has, in [0, 1].
    pub genre: f32,
    /// The liked seed item that contributes most to `cf`, with its co-mention count.
    pub because_of: Option<(ItemId, u32)>,
    /// Normalised knowledge-graph proximity in [0, 1] (0 without a graph).
    pub kg: f32,
    /// Share of the requested people, years and keywords the item has, in [0, 1].
    pub attribute: f32,
}

fn last_turn_of(state: &DialogueState) -> usize {
    state.turns.len().saturating_sub(1)
}

/// What [`CandidateRanker::knowledge_terms`] computed for one ranking.
#[derive(Debug, Default)]
struct KgTerms {
    /// Normalised PPR per catalog position (empty when not computed).
    ppr: Vec<f32>,
    /// Attribute match per catalog position (empty without a graph).
    attribute: Vec<f32>,
    /// Whether the attribute filter ran (the genre filter is then skipped).
    filtered: bool,
    /// Per catalog position, how many of the latest requests the item meets (a sequel asked for
    /// counts as all of them); empty when the filter did not run.
    tier: Vec<usize>,
    /// Per catalog position, the summed specificity of the latest requests the item meets:
    /// `Σ ln(n / n_a)` over met requests `a`, with `n` the items not excluded before the filter
    /// and `n_a` those of them meeting `a` (a named actor is rarer, so more specific, than a
    /// genre or a decade). Orders items within a tier; empty when the filter did not run.
    specificity: Vec<f32>,
}

/// The terms of the fusion score of one dialogue state other than the collaborative one
/// ([`CandidateRanker::fusion_parts`]); vectors are per catalog position.
#[derive(Debug, Default)]
pub struct FusionParts {
    /// Weighted collaborative seeds: (catalog position, weight).
    pub seeds: Vec<(usize, f32)>,
    /// Items that cannot be recommended (in the state, rejected, filtered out).
    pub excluded: Vec<bool>,
    /// Normalised BM25 of the recent seeker text, in [0, 1].
    pub text: Vec<f32>,
    /// Normalised log training popularity, in [0, 1].
    pub popularity: Vec<f32>,
    /// Recency-weighted share of requested genres, in [0, 1].
    pub genre: Vec<f32>,
    kg: KgTerms,
}

impl FusionParts {
    /// Per catalog position, how many of the latest requests the item meets (the attribute
    /// filter's tiers; empty when the filter did not run).
    pub fn tiers(&self) -> &[usize] {
        &self.kg.tier
    }

    /// The order the latest requests impose on catalog position `p` before any score: its tier
    /// ([`FusionParts::tiers`]), then the summed specificity of the requests it meets (`KgTerms`);
    /// `(0, 0.0)` when the attribute filter did not run. Higher comes first.
    pub fn request_key(&self, p: usize) -> (usize, f32) {
        (self.kg.tier.get(p).copied().unwrap_or(0), self.kg.specificity.get(p).copied().unwrap_or(0.0))
    }

    /// The fused score of position `p` without its collaborative and popularity terms:
    /// `w_text·text + w_genre·genre + w_kg·kg + w_attribute·attribute` (0 for `p` out of range).
    pub fn base_score(&self, p: usize, weights: &FusionWeights) -> f32 {
        let at = |v: &[f32]| v.get(p).copied().unwrap_or(0.0);
        weights.text * at(&self.text)
            + weights.genre * at(&self.genre)
            + weights.kg * at(&self.kg.ppr)
            + weights.attribute * at(&self.kg.attribute)
    }

    /// The best `k` candidates for the raw collaborative scores `cf` (per catalog position,
    /// normalised here by their largest magnitude) under `weights`, best first: items meeting
    /// more of the latest requests first, then by fused score, then by position; one entry per
    /// title group. `because_of` is left empty.
    pub fn candidates(&self, catalog: &Catalog, weights: &FusionWeights, cf: &[f32], k: usize) -> Vec<Candidate> {
        let n = catalog.len();
        let items = catalog.items();
        let cf_max = cf.iter().fold(0f32, |m, &x| m.max(x.abs()));
        let mut out: Vec<Candidate> = Vec::with_capacity(n);
        for (p, item) in items.iter().enumerate() {
            if self.excluded.get(p).copied().unwrap_or(true) {
                continue;
            }
            let c = if cf_max > 0.0 { cf.get(p).copied().unwrap_or(0.0) / cf_max } else { 0.0 };
            let (text, pop, genre) = (self.text[p], self.popularity[p], self.genre[p]);
            let (kg, attribute) =
                (self.kg.ppr.get(p).copied().unwrap_or(0.0), self.kg.attribute.get(p).copied().unwrap_or(0.0));
            let score = weights.cf * c
                + weights.text * text
                + weights.popularity * pop
                + weights.genre * genre
                + weights.kg * kg
                + weights.attribute * attribute;
            out.push(Candidate {
                id: item.id,
                position: p,
                score,
                cf: c,
                text,
                popularity: pop,
                genre,
                because_of: None,
                kg,
                attribute,
            });
        }
        // Items meeting more of the latest requests come first (the attribute filter's tiers; all
        // zero without it), the more specific requests first within a tier, then by score, then
        // by position: one integer key per candidate (`out` is in position order, so its index
        // breaks ties as the position does).
        // Only the head can reach the top k after removing same-title duplicates.
        let head = (k + 64).min(out.len());
        let order: Vec<usize> = if self.kg.tier.is_empty() && self.kg.specificity.is_empty() {
            // No request filter ran: every request key is (0, 0), the score alone orders.
            let scores: Vec<f32> = out.iter().map(|c| c.score).collect();
            crate::util::top_indices_desc(&scores, |_| true, head)
        } else {
            // Bits 96–127: the inverted tier, 64–95: the specificity, 32–63: the score, 0–31: the
            // index into `out`.
            let key = |(i, c): (usize, &Candidate)| {
                let (tier, specificity) = self.request_key(c.position);
                let tier = tier.min(u32::MAX as usize) as u32;
                (u128::from(!tier) << 96)
                    | (u128::from(crate::util::descending_key(specificity)) << 64)
                    | (u128::from(crate::util::descending_key(c.score)) << 32)
                    | i as u128
            };
            let mut keys: Vec<u128> = out.iter().enumerate().map(key).collect();
            if head > 0 && head.saturating_mul(8) < keys.len() {
                keys.select_nth_unstable(head - 1);
                keys.truncate(head);
                keys.sort_unstable();
            } else {
                crate::util::radix_sort_from(&mut keys, 32);
                keys.truncate(head);
            }
            keys.iter().map(|&key| (key & 0xFFFF_FFFF) as usize).collect()
        };
        // One entry per title group: "The Notebook (2004)" and "(2013)" are not two picks.
        let mut taken = vec![false; n];
        let mut kept: Vec<Candidate> = Vec::with_capacity(k.min(order.len()));
        for i in order {
            let c = &out[i];
            match taken.get_mut(catalog.title_group_id(c.position)) {
                Some(t) if !*t => *t = true,
                _ => continue,
            }
            kept.push(c.clone());
            if kept.len() == k {
                break;
            }
        }
        kept
    }
}

/// Writes `model`'s score for `state` of every catalog item into `cf` (per catalog position;
/// items the model omits keep their value).
///
/// Errors: the model's, for a state item it does not know.
pub fn model_scores_into(model: &dyn Recommender, state: &RecState, catalog: &Catalog, cf: &mut [f32]) -> Result<()> {
    for c in model.score_all(state)? {
        if let Some(x) = catalog.position(c.id).and_then(|p| cf.get_mut(p)) {
            *x = c.score;
        }
    }
    Ok(())
}

/// The agent's candidate ranker (no LLM): co-mention CF + BM25 + popularity.
#[derive(Debug, Clone)]
pub struct CandidateRanker {
    cf: CoMentions,
    model: Option<Arc<dyn Recommender>>,
    weights: FusionWeights,
    log_max_pop: f32,
    /// ln(1 + popularity) / ln(1 + max popularity) per catalog position of the catalog the ranker
    /// was built for (the `popularity` term, computed once).
    popularity: Arc<[f32]>,
    /// The directors, writers and stars of each catalog position as interned ids (people CSR:
    /// position `p`'s are `people_ids[people_offsets[p]..people_offsets[p + 1]]`; one id per
    /// distinct name), for the `shared_people` feature without string hashing.
    people_offsets: Arc<[u32]>,
    people_ids: Arc<[u32]>,
    knowledge: Option<Arc<KgTools>>,
    /// Catalog position → knowledge-graph node (`u32::MAX`: the graph lacks the item).
    node_of: Vec<u32>,
    /// The learned reranker over the candidate set; `None`: the fusion orders the catalog.
    policy: Option<Arc<Policy>>,
    /// The candidate generators' sizes ([`policy::CandidateSizes`]; the policy's when one is
    /// attached).
    sizes: policy::CandidateSizes,
    /// How the `kg` term's personalized PageRank is computed (default: the memoized per-seed
    /// forward pushes, `PprMethod::SeedSum`).
    ppr: PprParams,
}

impl CandidateRanker {
    /// A ranker over `catalog` with co-mention statistics `cf`.
    pub fn new(catalog: &Catalog, cf: CoMentions, weights: FusionWeights) -> Self {
        let max_pop = catalog.items().iter().map(|it| it.popularity).max().unwrap_or(0);
        let log_max_pop = (1.0 + max_pop as f32).ln().max(1e-6);
        let mut names: rustc_hash::FxHashMap<&str, u32> = rustc_hash::FxHashMap::default();
        let mut people_offsets = vec![0u32];
        let mut people_ids = Vec::new();
        for it in catalog.items() {
            for x in it.directors.iter().chain(&it.writers).chain(&it.stars) {
                let next = names.len() as u32;
                people_ids.push(*names.entry(x.as_str()).or_insert(next));
            }
            people_offsets.push(people_ids.len() as u32);
        }
        CandidateRanker {
            cf,
            model: None,
            weights,
            log_max_pop,
            popularity: catalog.items().iter().map(|it| (1.0 + it.popularity as f32).ln() / log_max_pop).collect(),
            people_offsets: people_offsets.into(),
            people_ids: people_ids.into(),
            knowledge: None,
            node_of: Vec::new(),
            policy: None,
            sizes: policy::CandidateSizes::default(),
            ppr: PprParams::default(),
        }
    }

    /// The interned people ids of catalog position `p` (`people_ids` field), `None` when the
    /// ranker was built for a catalog of another size than `n`.
    pub(crate) fn people_of(&self, p: usize, n: usize) -> Option<&[u32]> {
        if self.people_offsets.len() != n + 1 {
            return None;
        }
        let (a, b) = (*self.people_offsets.get(p)? as usize, *self.people_offsets.get(p + 1)? as usize);
        self.people_ids.get(a..b)
    }

    /// The same ranker ordering its candidates with the learned `policy` ([`policy`] module
    /// doc); the fusion still generates the candidates and fills the list past them.
    /// The candidate set is then built with the sizes the policy was trained with.
    pub fn with_policy(mut self, policy: Arc<Policy>) -> Self {
        self.sizes = policy.candidates;
        self.policy = Some(policy);
        self
    }

    /// The same ranker building its candidate sets with `sizes` (training a policy on other
    /// sizes than an attached policy's; [`CandidateRanker::with_policy`] sets them too).
    pub fn with_candidate_sizes(mut self, sizes: policy::CandidateSizes) -> Self {
        self.sizes = sizes;
        self
    }

    /// The candidate generators' sizes in use.
    pub fn candidate_sizes(&self) -> policy::CandidateSizes {
        self.sizes
    }

    /// The same ranker computing personalized PageRank with `params` (default
    /// [`PprParams::default`], the memoized per-seed pushes; [`PprParams::exact`] for the power iteration
    /// it approximates).
    pub fn with_ppr(mut self, params: PprParams) -> Self {
        self.ppr = params;
        self
    }

    /// The learned reranker, when attached.
    pub fn policy(&self) -> Option<&Arc<Policy>> {
        self.policy.as_ref()
    }

    /// The same ranker with its collaborative score taken from `model` (module doc).
    pub fn with_model(mut self, model: Arc<dyn Recommender>) -> Self {
        self.model = Some(model);
        self
    }

    /// The attached collaborative model's name, if any.
    pub fn model_name(&self) -> Option<String> {
        self.model.as_ref().map(|m| m.name())
    }

    /// The dialogue state as the collaborative model sees it: the weighted seeds of the module
    /// doc (same-title duplicates sharing a seed), then every other mentioned or recommended item
    /// with weight 0 (excluded, no vote). Items not in `catalog` are skipped.
    pub fn rec_state(&self, state: &DialogueState, catalog: &Catalog) -> RecState {
        let mut rs = RecState::new();
        let items = catalog.items();
        for (p, w) in self.seeds(state, catalog) {
            let feedback = match w {
                w if w < 0.0 => Feedback::Disliked,
                w if w > 0.0 => Feedback::Liked,
                _ => Feedback::Mentioned,
            };
            rs.push(items[p].id, feedback, w);
        }
        let excluded = state.excluded_positions(catalog);
        for (p, ex) in excluded.iter().enumerate() {
            if *ex && !rs.items.iter().any(|s| s.id == items[p].id) {
                rs.push(items[p].id, Feedback::Mentioned, 0.0);
            }
        }
        rs
    }

    /// Adds the knowledge graph: hard constraints, the attribute filter and the `kg` and
    /// `attribute` terms (module doc).
    pub fn with_knowledge(mut self, catalog: &Catalog, tools: Arc<KgTools>) -> Self {
        self.node_of = catalog
            .items()
            .iter()
            .map(|it| tools.graph.item_node(it.id).map(|n| n.index() as u32).unwrap_or(u32::MAX))
            .collect();
        self.knowledge = Some(tools);
        self
    }

    /// The knowledge-graph tools, when loaded.
    pub fn knowledge(&self) -> Option<&Arc<KgTools>> {
        self.knowledge.as_ref()
    }

    /// The seeds of the `kg` term's personalized PageRank for `state` (module doc): graph node and
    /// weight of each collaborative seed the graph has, then each requested explicit genre,
    /// person and keyword with its recency weight. Empty without a graph.
    pub fn ppr_seeds(&self, state: &DialogueState, catalog: &Catalog) -> Vec<(NodeIndex<u32>, f32)> {
        self.ppr_seed_nodes(state, &self.seeds(state, catalog))
    }

    fn ppr_seed_nodes(&self, state: &DialogueState, seeds: &[(usize, f32)]) -> Vec<(NodeIndex<u32>, f32)> {
        let Some(kt) = &self.knowledge else { return Vec::new() };
        let last = last_turn_of(state);
        let mut nodes: Vec<(NodeIndex<u32>, f32)> = seeds
            .iter()
            .filter_map(|&(p, w)| {
                self.node_of.get(p).filter(|&&x| x != u32::MAX).map(|&x| (NodeIndex::new(x as usize), w))
            })
            .collect();
        for (m, t) in &state.requested_attributes() {
            let w = self.weights.recency.powi(last.saturating_sub(*t) as i32);
            let node = match &m.attribute {
                Attribute::Genre { name } if m.explicit => kt.graph.find(NodeKind::Genre, name),
                Attribute::Person { name, .. } => kt.graph.find(NodeKind::Person, name),
                Attribute::Keyword { name } => kt.graph.find(NodeKind::Keyword, name),
                _ => None,
            };
            nodes.extend(node.map(|x| (x, w)));
        }
        nodes
    }

    /// Per catalog position, whether the item has `a` (all false without a graph).
    fn positions_with(&self, a: &Attribute, n: usize) -> Vec<bool> {
        let Some(kt) = &self.knowledge else { return vec![false; n] };
        let by_node = kt.graph.items_with(a);
        (0..n).map(|p| self.node_of.get(p).and_then(|&x| by_node.get(x as usize)).copied().unwrap_or(false)).collect()
    }

    /// The fusion weights in use.
    pub fn weights(&self) -> FusionWeights {
        self.weights
    }

    /// Weighted CF seeds from the state: (catalog position, weight).
    fn seeds(&self, state: &DialogueState, catalog: &Catalog) -> Vec<(usize, f32)> {
        let last_turn = state.turns.len().saturating_sub(1);
        let mut seeds: Vec<(usize, f32)> = Vec::new();
        for m in &state.mentions {
            let Some(p) = catalog.position(m.id) else {
                continue;
            };
            let base = match (m.polarity, m.role) {
                (Polarity::Disliked, _) => self.weights.disliked_seed,
                (_, Role::Recommender) => self.weights.recommender_seed,
                (_, Role::Seeker) => 1.0,
            };
            let age = last_turn.saturating_sub(m.turn) as i32;
            let w = base * self.weights.recency.powi(age);
            // Same-title duplicates share the seed in proportion to their training popularity:
            // ReDial's annotators often picked another year's entry of the same title ("Heat"
            // is mostly annotated as the 1996 entry), so the evidence is split between them.
            let group = catalog.same_title(p);
            let total: f32 = group.iter().map(|&q| catalog.items()[q].popularity as f32 + 1.0).sum();
            for &q in group {
                let share = if group.len() == 1 { 1.0 } else { (catalog.items()[q].popularity as f32 + 1.0) / total };
                match seeds.iter_mut().find(|(r, _)| *r == q) {
                    // A later mention overrides the weight of an earlier one (polarity can change).
                    Some(s) => s.1 = w * share,
                    None => seeds.push((q, w * share)),
                }
            }
        }
        seeds
    }

    /// Ranks every catalog item not excluded by `state`; returns the best `k`, best first. With
    /// a learned policy ([`CandidateRanker::with_policy`]) the candidate set is ordered by the
    /// policy's score (`score` is then the policy's) and the fusion's order fills the list past
    /// it; without one, by the fusion score.
    /// Ties break by catalog position (lower id first), so the order is deterministic.
    ///
    /// Errors if the search index fails, or the collaborative model refuses the state.
    pub fn rank(&self, state: &DialogueState, catalog: &Catalog, k: usize) -> Result<Vec<Candidate>> {
        let (parts, mut out) = match &self.policy {
            None => {
                let parts = self.fusion_parts(state, catalog, k)?;
                let cf = self.cf_scores(state, catalog, &parts.seeds)?;
                let out = parts.candidates(catalog, &self.weights, &cf, k);
                (parts, out)
            }
            Some(policy) => {
                let (parts, all, set) = self.scored_candidates(state, catalog, k)?;
                let scores = policy.scores(&set);
                // The latest requests order first (as in the fusion), the policy within.
                let order = policy::ranking_by_key(&set, &scores, |p| parts.request_key(p), k);
                let mut at = vec![usize::MAX; catalog.len()];
                for (i, c) in all.iter().enumerate() {
                    at[c.position] = i;
                }
                // Items past the candidates (filled in fusion order) score below every candidate.
                let floor = scores.iter().copied().fold(0f32, f32::min) - 1.0;
                let mut score_of = vec![floor; catalog.len()];
                for (i, &p) in set.positions.iter().enumerate() {
                    score_of[p] = scores[i];
                }
                let out = order
                    .into_iter()
                    .filter_map(|p| all.get(at[p]).cloned())
                    .map(|mut c| {
                        c.score = score_of[c.position];
                        c
                    })
                    .collect();
                (parts, out)
            }
        };
        let items = catalog.items();
        for c in &mut out {
            c.because_of = parts
                .seeds
                .iter()
                .filter(|(_, w)| *w > 0.0)
                .map(|&(s, w)| (s, w * self.cf.count(s, c.position) as f32, self.cf.count(s, c.position)))
                .filter(|(_, _, n)| *n > 0)
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(s, _, n)| (items[s].id, n));
        }
        Ok(out)
    }

    /// The candidate set of `state` with its raw features ([`policy`] module doc); `k` is the
    /// list length the filters aim for (as in [`CandidateRanker::rank`]).
    ///
    /// Errors: those of [`CandidateRanker::rank`].
    pub fn candidate_set(&self, state: &DialogueState, catalog: &Catalog, k: usize) -> Result<CandidateSet> {
        Ok(self.scored_candidates(state, catalog, k)?.2)
    }

    /// The raw collaborative score per catalog position for `state`: the attached model's
    /// (every catalog item asked for; items in the state score 0), else the co-mention formula
    /// over `seeds` ([`CandidateRanker::fusion_parts`]).
    ///
    /// Errors: the model's, for a state item it does not know.
    pub fn cf_scores(&self, state: &DialogueState, catalog: &Catalog, seeds: &[(usize, f32)]) -> Result<Vec<f32>> {
        let n = catalog.len();
        let mut cf = vec![0f32; n];
        match &self.model {
            Some(model) => model_scores_into(model.as_ref(), &self.rec_state(state, catalog), catalog, &mut cf)?,
            None => self.cf.score_into(seeds, self.weights.beta, self.weights.shrink, &mut cf),
        }
        Ok(cf)
    }

    /// Everything [`CandidateRanker::rank`] computes for `state` except the collaborative score:
    /// seeds, exclusions and filters, text, genre and knowledge-graph terms. With
    /// [`FusionParts::candidates`] and a collaborative score it gives `rank`'s order, so one
    /// state can be ranked with several collaborative models at the cost of one.
    ///
    /// Errors if the search index fails.
    pub fn fusion_parts(&self, state: &DialogueState, catalog: &Catalog, k: usize) -> Result<FusionParts> {
        let n = catalog.len();
        let seeds = self.seeds(state, catalog);
        let mut text = vec![0f32; n];
        // Common words ("hi", "movie", "something") carry no content; BM25 sees only the rest.
        let query: String = crate::catalog::text::normalize(&state.recent_seeker_text(2))
            .split(' ')
            .filter(|w| !crate::catalog::text::is_common_word(w))
            .collect::<Vec<_>>()
            .join(" ");
        if self.weights.text != 0.0 && !query.trim().is_empty() {
            let hits = catalog.search(&query, &SearchFilters::default(), 200)?;
            let top = hits.first().map(|h| h.score).unwrap_or(0.0);
            if top > 0.0 {
                for h in hits {
                    text[h.position] = h.score / top;
                }
            }
        }
        let items = catalog.items();
        let mut excluded = state.excluded_positions(catalog);
        // Genres: rejected ones are hard constraints; requested ones a soft match (and a filter
        // when the latest seeker turn asks for them and `genre_filter` is on).
        let rejected = state.rejected_genres();
        let genres = state.genres();
        let last_seeker = state.turns.iter().rposition(|t| t.role == Role::Seeker);
        let mut wanted: Vec<(&str, f32)> = Vec::new();
        for (g, turn) in &genres {
            if !g.wanted || rejected.contains(&g.genre) {
                continue;
            }
            let w = self.weights.recency.powi(last_turn_of(state).saturating_sub(*turn) as i32);
            match wanted.iter_mut().find(|(h, _)| *h == g.genre) {
                Some(e) => e.1 = e.1.max(w),
                None => wanted.push((&g.genre, w)),
            }
        }
        let wanted_total: f32 = wanted.iter().map(|(_, w)| w).sum();
        let latest: Vec<&str> = genres
            .iter()
            .filter(|(g, t)| g.wanted && Some(*t) == last_seeker && !rejected.contains(&g.genre))
            .map(|(g, _)| g.genre.as_str())
            .collect();
        let has = |p: usize, g: &str| catalog.items()[p].genres.iter().any(|h| h == g);
        for (p, ex) in excluded.iter_mut().enumerate() {
            if rejected.iter().any(|g| has(p, g)) {
                *ex = true;
            }
        }
        let kg = self.knowledge_terms(state, catalog, &seeds, &mut excluded, k);
        if !kg.filtered && self.weights.genre_filter && !latest.is_empty() {
            // Items having every genre the latest turn asked for ("funny animated" → comedy and
            // animation) when at least k such items remain, else items having any of them.
            let all = (0..n).filter(|&p| !excluded[p] && latest.iter().all(|g| has(p, g))).count();
            let need_all = all >= k;
            for (p, ex) in excluded.iter_mut().enumerate() {
                let ok = if need_all { latest.iter().all(|g| has(p, g)) } else { latest.iter().any(|g| has(p, g)) };
                if !ok {
                    *ex = true;
                }
            }
        }
        let genre = items
            .iter()
            .map(|item| {
                if wanted_total > 0.0 {
                    wanted.iter().filter(|(g, _)| item.genres.iter().any(|h| h == g)).map(|(_, w)| w).sum::<f32>()
                        / wanted_total
                } else {
                    0.0
                }
            })
            .collect();
        let popularity = if self.popularity.len() == n {
            self.popularity.to_vec()
        } else {
            items.iter().map(|item| (1.0 + item.popularity as f32).ln() / self.log_max_pop).collect()
        };
        Ok(FusionParts { seeds, excluded, text, popularity, genre, kg })
    }

    /// The knowledge-graph part of [`CandidateRanker::rank`]: excludes items with a rejected
    /// attribute, applies the attribute filter, computes the `kg` and `attribute` terms.
    fn knowledge_terms(
        &self,
        state: &DialogueState,
        catalog: &Catalog,
        seeds: &[(usize, f32)],
        excluded: &mut [bool],
        k: usize,
    ) -> KgTerms {
        let n = catalog.len();
        let mut terms = KgTerms::default();
        let Some(kt) = &self.knowledge else { return terms };
        for a in state.rejected_attributes() {
            for (p, h) in self.positions_with(a, n).into_iter().enumerate() {
                if h {
                    excluded[p] = true;
                }
            }
        }
        let last_seeker = state.turns.iter().rposition(|t| t.role == Role::Seeker);
        let last = last_turn_of(state);
        let requested = state.requested_attributes();
        // The latest turn's requests and standing release years: the filter's constraints.
        let latest: Vec<&Attribute> = state.filter_requests();
        // "the sequel to Shrek": the sequels (or prequels) of the items of the latest seeker turn.
        let mut follow: Vec<usize> = Vec::new();
        if let Some(t) = last_seeker {
            let words = crate::catalog::text::normalize(&state.turns[t].text);
            let words: Vec<&str> = words.split(' ').collect();
            let sequel = words.iter().any(|w| matches!(*w, "sequel" | "sequels"));
            let prequel = words.iter().any(|w| matches!(*w, "prequel" | "prequels"));
            for &id in &state.turns[t].items {
                let found = match (sequel, prequel) {
                    (true, _) => kt.graph.sequels(id),
                    (false, true) => kt.graph.prequels(id),
                    _ => Vec::new(),
                };
                follow.extend(found.into_iter().filter_map(|f| catalog.position(f)));
            }
        }
        if (self.weights.attribute_filter && !latest.is_empty()) || !follow.is_empty() {
            // Per request: the items meeting it (the tier counts them) and its specificity among
            // the items not excluded so far.
            let available = excluded.iter().filter(|e| !**e).count().max(1) as f32;
            let mut met = vec![0usize; n];
            let mut specificity = vec![0f32; n];
            for a in &latest {
                let has = self.positions_with(a, n);
                let count = (0..n).filter(|&p| has[p] && !excluded[p]).count();
                let idf = if count > 0 { (available / count as f32).ln().max(0.0) } else { 0.0 };
                for p in (0..n).filter(|&p| has[p]) {
                    met[p] += 1;
                    specificity[p] += idf;
                }
            }
            for &p in &follow {
                met[p] = latest.len() + 1;
            }
            // The most constraints that at least k remaining items meet.
            let threshold = (1..=latest.len() + usize::from(!follow.is_empty()))
                .rev()
                .find(|&t| (0..n).filter(|&p| !excluded[p] && met[p] >= t).count() >= k.max(1));
            if let Some(t) = threshold {
                for p in 0..n {
                    if met[p] < t {
                        excluded[p] = true;
                    }
                }
                terms.filtered = true;
            }
            terms.tier = met;
            terms.specificity = specificity;
        }
        // Attribute match over every requested person, year range and keyword, recency-weighted.
        let mut total = 0f32;
        terms.attribute = vec![0f32; n];
        for (m, t) in &requested {
            if matches!(m.attribute, Attribute::Genre { .. }) {
                continue;
            }
            let w = self.weights.recency.powi(last.saturating_sub(*t) as i32);
            total += w;
            for (p, h) in self.positions_with(&m.attribute, n).into_iter().enumerate() {
                if h {
                    terms.attribute[p] += w;
                }
            }
        }
        if total > 0.0 {
            terms.attribute.iter_mut().for_each(|x| *x /= total);
        }
        // Personalized PageRank from the item seeds and the requested attribute nodes.
        if self.weights.kg != 0.0 {
            let nodes = self.ppr_seed_nodes(state, seeds);
            let by_node = kt.graph.ppr(&nodes, &self.ppr);
            let mut ppr: Vec<f32> = (0..n)
                .map(|p| self.node_of.get(p).and_then(|&x| by_node.get(x as usize)).copied().unwrap_or(0.0))
                .collect();
            let max = ppr.iter().fold(0f32, |m, &x| m.max(x));
            if max > 0.0 {
                ppr.iter_mut().for_each(|x| *x /= max);
            }
            terms.ppr = ppr;
        }
        terms
    }
}
