//! The candidate set of a turn and its raw features: the fusion parts, every title group that
//! the state does not exclude (in fusion order), and the features of the policy's candidates
//! ([`super::policy`] module doc). Split from `rank/mod.rs`; [`CandidateRanker::rank`] and
//! [`CandidateRanker::candidate_set`] call it.

use super::*;

impl CandidateRanker {
    /// The fusion parts, every non-excluded title group in fusion order (as [`Candidate`]s), and
    /// the candidate set with features.
    pub(super) fn scored_candidates(
        &self,
        state: &DialogueState,
        catalog: &Catalog,
        k: usize,
    ) -> Result<(FusionParts, Vec<Candidate>, CandidateSet)> {
        let n = catalog.len();
        let items = catalog.items();
        let parts = self.fusion_parts(state, catalog, k)?;
        let cf = self.cf_scores(state, catalog, &parts.seeds)?;
        let all = parts.candidates(catalog, &self.weights, &cf, n);
        let keep: Vec<bool> = parts.excluded.iter().map(|e| !e).collect();
        let mut comention = vec![0f32; n];
        self.cf.score_into(&parts.seeds, self.weights.beta, self.weights.shrink, &mut comention);
        let norm = |v: &mut Vec<f32>| {
            let m = v.iter().fold(0f32, |m, &x| m.max(x.abs()));
            if m > 0.0 {
                v.iter_mut().for_each(|x| *x /= m);
            }
        };
        let mut cf_n = cf;
        norm(&mut cf_n);
        norm(&mut comention);
        let ppr = if parts.kg.ppr.len() == n { parts.kg.ppr.clone() } else { vec![0f32; n] };
        let cf_rank = policy::ranks_desc(&cf_n, &keep);
        let co_rank = policy::ranks_desc(&comention, &keep);
        let ppr_rank = policy::ranks_desc(&ppr, &keep);
        // Title group → the member the fusion ranks first (its representative), and fusion ranks.
        // (`all` holds one member per title group; indexed by title group id.)
        let mut rep = vec![usize::MAX; n];
        let mut fusion_rank = vec![u32::MAX; n];
        for (r, c) in all.iter().enumerate() {
            if let Some(slot) = rep.get_mut(catalog.title_group_id(c.position)) {
                *slot = c.position;
            }
            fusion_rank[c.position] = r as u32;
        }
        let mut chosen = vec![false; n];
        let push = |p: usize, chosen: &mut Vec<bool>| {
            if let Some(&r) = rep.get(catalog.title_group_id(p)) {
                if r != usize::MAX {
                    chosen[r] = true;
                }
            }
        };
        let top = |values: &[f32], m: usize, positive: bool| -> Vec<usize> {
            match values.get(..n) {
                Some(v) if m > 0 => crate::util::top_indices_desc(v, |p| keep[p] && (!positive || v[p] > 0.0), m),
                _ => Vec::new(),
            }
        };
        let sizes = &self.sizes;
        for p in top(&cf_n, sizes.cf, false) {
            push(p, &mut chosen);
        }
        for (v, m) in
            [(&comention, sizes.comention), (&ppr, sizes.ppr), (&parts.text, sizes.text), (&parts.genre, sizes.genre)]
        {
            for p in top(v, m, true) {
                push(p, &mut chosen);
            }
        }
        for p in top(&parts.popularity, sizes.popularity, false) {
            push(p, &mut chosen);
        }
        let attribute = |p: usize| parts.kg.attribute.get(p).copied().unwrap_or(0.0);
        for c in all.iter().filter(|c| attribute(c.position) > 0.0).take(sizes.attribute) {
            push(c.position, &mut chosen);
        }
        for c in all.iter().take(sizes.fusion) {
            push(c.position, &mut chosen);
        }
        // Seed facts: sequels/prequels, people and years of the positively seeded items.
        let positive: Vec<usize> = parts.seeds.iter().filter(|(_, w)| *w > 0.0).map(|&(p, _)| p).collect();
        let mut linked = vec![false; n];
        if let Some(kt) = &self.knowledge {
            for &s in &positive {
                let id = items[s].id;
                for f in kt.graph.sequels(id).into_iter().chain(kt.graph.prequels(id)) {
                    if let Some(q) = catalog.position(f) {
                        linked[q] = true;
                        if keep[q] {
                            push(q, &mut chosen);
                        }
                    }
                }
            }
        }
        // The seeds' directors, writers and stars as interned ids, sorted (when the ranker's
        // people table fits the catalog), else as names.
        let people_ids: Option<Vec<u32>> =
            positive.iter().map(|&s| self.people_of(s, n).map(<[u32]>::to_vec)).collect::<Option<Vec<Vec<u32>>>>().map(
                |v| {
                    let mut ids: Vec<u32> = v.into_iter().flatten().collect();
                    ids.sort_unstable();
                    ids.dedup();
                    ids
                },
            );
        let people: rustc_hash::FxHashSet<&str> = match people_ids {
            Some(_) => Default::default(),
            None => positive
                .iter()
                .flat_map(|&s| items[s].directors.iter().chain(&items[s].writers).chain(&items[s].stars))
                .map(|x| x.as_str())
                .collect(),
        };
        let seed_years: Vec<f32> = positive.iter().filter_map(|&s| items[s].year).map(f32::from).collect();
        let log_seeds = (1.0 + positive.len() as f32).ln();
        let log_turns = (1.0 + state.turns.len() as f32).ln();
        let no_seeds = if positive.is_empty() { 1.0 } else { 0.0 };
        // Closeness to what the seeker rejected: co-mentions from the disliked seeds alone.
        let negative: Vec<(usize, f32)> = parts.seeds.iter().filter(|(_, w)| *w < 0.0).map(|&(p, w)| (p, -w)).collect();
        let mut neg_comention = vec![0f32; n];
        if !negative.is_empty() {
            self.cf.score_into(&negative, self.weights.beta, self.weights.shrink, &mut neg_comention);
            norm(&mut neg_comention);
        }
        let seed_genres: rustc_hash::FxHashSet<&str> =
            positive.iter().flat_map(|&s| items[s].genres.iter()).map(|g| g.as_str()).collect();
        let seed_keywords: rustc_hash::FxHashSet<NodeIndex<u32>> = match &self.knowledge {
            Some(kt) => positive.iter().flat_map(|&s| kt.graph.linked(items[s].id, Relation::Keyword)).collect(),
            None => Default::default(),
        };
        let log_disliked = (1.0 + negative.len() as f32).ln();
        let text_len = state.turns.iter().rev().find(|t| t.role == Role::Seeker).map_or(0, |t| t.text.chars().count());
        let log_text_len = (1.0 + text_len as f32).ln();
        let last_turn = state.turns.len().saturating_sub(1);
        let seed_age = state
            .mentions
            .iter()
            .filter(|m| m.polarity != Polarity::Disliked)
            .map(|m| last_turn.saturating_sub(m.turn))
            .min()
            .map_or(10.0, |a| a.min(10) as f32);
        let tiers = parts.tiers();
        let mut set = CandidateSet {
            positions: Vec::new(),
            features: Vec::new(),
            fusion_order: all.iter().map(|c| c.position).collect(),
        };
        for c in all.iter().filter(|c| chosen[c.position]) {
            let p = c.position;
            let item = &items[p];
            let shared = match (&people_ids, self.people_of(p, n)) {
                (Some(seed_ids), Some(ids)) => {
                    let mut seen: Vec<u32> = Vec::new();
                    for &x in ids {
                        if seed_ids.binary_search(&x).is_ok() && !seen.contains(&x) {
                            seen.push(x);
                        }
                    }
                    seen.len().min(5) as f32
                }
                _ => {
                    let mut seen: Vec<&str> = Vec::new();
                    for x in item.directors.iter().chain(&item.writers).chain(&item.stars) {
                        if people.contains(x.as_str()) && !seen.contains(&x.as_str()) {
                            seen.push(x.as_str());
                        }
                    }
                    seen.len().min(5) as f32
                }
            };
            let year_gap = match item.year {
                Some(y) if !seed_years.is_empty() => {
                    seed_years.iter().map(|s| (f32::from(y) - s).abs()).fold(f32::MAX, f32::min) / 10.0
                }
                _ => 5.0,
            }
            .min(5.0);
            let ln1 = |r: u32| (1.0 + r as f32).ln();
            let shared_genres = if item.genres.is_empty() {
                0.0
            } else {
                item.genres.iter().filter(|g| seed_genres.contains(g.as_str())).count() as f32
                    / item.genres.len() as f32
            };
            let shared_keywords = match &self.knowledge {
                Some(kt) if !seed_keywords.is_empty() => {
                    kt.graph.linked(item.id, Relation::Keyword).filter(|k| seed_keywords.contains(k)).take(5).count()
                        as f32
                }
                _ => 0.0,
            };
            let year = item.year.map_or(0.0, |y| ((f32::from(y) - 2000.0) / 10.0).clamp(-8.0, 2.0));
            let row: [f32; policy::D] = [
                cf_n[p],
                ln1(cf_rank[p]),
                comention[p],
                ln1(co_rank[p]),
                ppr[p],
                ln1(ppr_rank[p]),
                parts.text[p],
                parts.popularity[p],
                parts.genre[p],
                attribute(p),
                tiers.get(p).copied().unwrap_or(0) as f32,
                c.score,
                ln1(fusion_rank[p]),
                if linked[p] { 1.0 } else { 0.0 },
                shared,
                year_gap,
                parts.popularity[p] * no_seeds,
                cf_n[p] * log_seeds,
                parts.popularity[p] * log_turns,
                shared_genres,
                shared_keywords,
                neg_comention[p],
                year,
                log_seeds,
                log_disliked,
                log_turns,
                log_text_len,
                seed_age,
            ];
            set.positions.push(p);
            set.features.extend_from_slice(&row);
        }
        Ok((parts, all, set))
    }
}
