//! Interaction data for the collaborative models: every source becomes sessions (a dialogue or a
//! user) × catalog items with an implicit weight.
//!
//! Sources (paths relative to the raw data folder, laid out like `../shared/data`):
//! - `redial/train_movie_level/train_movie_sequences_compact.jsonl` — the ReDial *train* split at
//!   movie level (9,996 dialogues, fields `u` then `v`): one session per dialogue, every
//!   mentioned catalog item with weight 1 (a mention is what a recommender is asked to predict;
//!   the liked label is counted, not used as a weight).
//! - `redial/train_text_extra/train_fulltext_joined_vachonni_sa_val.jsonl` — train text with
//!   `@movieId` placeholders (`text_joined`); only dialogues missing from the movie-level file are
//!   added (the other text subsets hold no dialogue missing there: checked by conversation id).
//! - `inspired/train_unicrs/train_data_dbpedia.jsonl` — INSPIRED train (801 dialogues, UniCRS
//!   form): the turns' `movie` lists ("Title (Year)") linked to catalog items on exact
//!   (normalised title, year).
//! - `movielens/ml-latest-small/ratings.csv` with `links/redial_to_movielens_small.csv` — one
//!   session per MovieLens user, items rated ≥ 4 (weight 1), mapped to ReDial ids.
//!
//! The ReDial **test** split (`redial/test_data.jsonl`, `evals/redial/test.jsonl`) is never read
//! here. Dialogues whose conversation id is in the caller's exclusion set (a validation split)
//! are skipped.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, ItemId};
use crate::data::TrainDialogue;
pub use crate::recommender::sessions::{Session, Source};
use crate::util::for_each_jsonl;
use crate::{Error, Result};

/// ReDial train split at movie level.
pub const REDIAL_TRAIN: &str = "redial/train_movie_level/train_movie_sequences_compact.jsonl";
/// ReDial train text with `@id` placeholders, speakers lost.
pub const REDIAL_TEXT_JOINED: &str = "redial/train_text_extra/train_fulltext_joined_vachonni_sa_val.jsonl";
/// INSPIRED train in UniCRS's processed form.
pub const INSPIRED_TRAIN: &str = "inspired/train_unicrs/train_data_dbpedia.jsonl";
/// MovieLens ml-latest-small ratings.
pub const MOVIELENS_RATINGS: &str = "movielens/ml-latest-small/ratings.csv";
/// ReDial movieId → MovieLens movieId.
pub const MOVIELENS_LINKS: &str = "links/redial_to_movielens_small.csv";

/// Counts of one load, for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InteractionCounts {
    /// ReDial train dialogues read from the movie-level file (after exclusion).
    pub redial_dialogues: usize,
    /// Of those, dialogues with ≥ 1 catalog item (sessions kept).
    pub redial_sessions: usize,
    /// (dialogue, item) interactions from ReDial.
    pub redial_interactions: usize,
    /// Of the ReDial interactions, items the seeker liked (label 1 in `v`).
    pub redial_liked: usize,
    /// Sessions added from the text subsets (dialogues missing from the movie-level file).
    pub redial_text_sessions: usize,
    /// INSPIRED train dialogues read / kept (≥ 1 linked movie).
    pub inspired_dialogues: usize,
    /// INSPIRED sessions kept.
    pub inspired_sessions: usize,
    /// INSPIRED (dialogue, item) interactions linked to the catalog.
    pub inspired_interactions: usize,
    /// INSPIRED movie mentions that did not link to a catalog item.
    pub inspired_unlinked: usize,
    /// MovieLens users with ≥ 1 linked rating ≥ 4.
    pub movielens_sessions: usize,
    /// MovieLens (user, item) interactions (rating ≥ 4, linked).
    pub movielens_interactions: usize,
    /// MovieLens ratings ≥ 4 of movies without a ReDial link.
    pub movielens_unlinked: usize,
}

impl std::fmt::Display for InteractionCounts {
    /// One line: "ReDial S sessions / I interactions (L liked) from D dialogues (+T from the text
    /// subsets); INSPIRED …; MovieLens …".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ReDial {} sessions / {} interactions ({} liked) from {} dialogues (+{} from the text subsets); \
             INSPIRED {} sessions / {} interactions ({} mentions unlinked) from {} dialogues; MovieLens {} users / \
             {} ratings ≥ 4 ({} unlinked)",
            self.redial_sessions,
            self.redial_interactions,
            self.redial_liked,
            self.redial_dialogues,
            self.redial_text_sessions,
            self.inspired_sessions,
            self.inspired_interactions,
            self.inspired_unlinked,
            self.inspired_dialogues,
            self.movielens_sessions,
            self.movielens_interactions,
            self.movielens_unlinked
        )
    }
}

/// All sessions of a load plus its counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interactions {
    /// The sessions, sources in the order ReDial, INSPIRED, MovieLens.
    pub sessions: Vec<Session>,
    /// What was read.
    pub counts: InteractionCounts,
}

/// Which sources to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataMix {
    /// ReDial train dialogues plus INSPIRED train dialogues.
    pub dialogues: bool,
    /// MovieLens users.
    pub movielens: bool,
}

impl DataMix {
    /// Dialogues only (ReDial + INSPIRED train).
    pub const DIALOGUES: DataMix = DataMix { dialogues: true, movielens: false };
    /// Dialogues plus MovieLens.
    pub const WITH_MOVIELENS: DataMix = DataMix { dialogues: true, movielens: true };

    /// "dialogues" or "dialogues+movielens".
    pub fn name(self) -> &'static str {
        match (self.dialogues, self.movielens) {
            (true, true) => "dialogues+movielens",
            (true, false) => "dialogues",
            (false, true) => "movielens",
            (false, false) => "none",
        }
    }
}

fn push_item(items: &mut Vec<(u32, f32)>, position: usize, weight: f32) {
    if !items.iter().any(|(p, _)| *p as usize == position) {
        items.push((position as u32, weight));
    }
}

/// Loads the sources of `mix` from `source` for `catalog`, skipping ReDial dialogues whose
/// conversation id is in `exclude`.
///
/// Errors: a missing or unreadable file; a malformed line (named by file and line).
pub fn load(source: &Path, catalog: &Catalog, mix: DataMix, exclude: &HashSet<String>) -> Result<Interactions> {
    let mut out = Interactions::default();
    if mix.dialogues {
        load_redial(source, catalog, exclude, &mut out)?;
        load_inspired(&source.join(INSPIRED_TRAIN), catalog, &mut out)?;
    }
    if mix.movielens {
        load_movielens(&source.join(MOVIELENS_RATINGS), &source.join(MOVIELENS_LINKS), catalog, &mut out)?;
    }
    Ok(out)
}

fn load_redial(source: &Path, catalog: &Catalog, exclude: &HashSet<String>, out: &mut Interactions) -> Result<()> {
    let path = source.join(REDIAL_TRAIN);
    let mut seen_ids: HashSet<String> = HashSet::new();
    for_each_jsonl(&path, |_, d: TrainDialogue| {
        seen_ids.insert(d.id.clone());
        if exclude.contains(&d.id) {
            return Ok(());
        }
        out.counts.redial_dialogues += 1;
        let mut items: Vec<(u32, f32)> = Vec::new();
        let position = |raw: &Option<String>| {
            raw.as_deref().and_then(|s| s.parse::<ItemId>().ok()).and_then(|id| catalog.position(id))
        };
        let mut by_recommender: Vec<u32> = Vec::new();
        let mut by_seeker: Vec<u32> = Vec::new();
        for (id, role, _) in d.u.iter().flatten() {
            if let Some(p) = position(id) {
                push_item(&mut items, p, 1.0);
                if role == "R" {
                    by_recommender.push(p as u32);
                } else {
                    by_seeker.push(p as u32);
                }
            }
        }
        let mut seeker_only: Vec<u32> = by_seeker.into_iter().filter(|p| !by_recommender.contains(p)).collect();
        seeker_only.sort_unstable();
        seeker_only.dedup();
        for (id, liked) in d.v.iter().flatten() {
            if let Some(p) = position(id) {
                push_item(&mut items, p, 1.0);
                if liked.as_i64() == Some(1) {
                    out.counts.redial_liked += 1;
                }
            }
        }
        if !items.is_empty() {
            out.counts.redial_sessions += 1;
            out.counts.redial_interactions += items.len();
            out.sessions.push(Session { source: Source::Redial, items, seeker_only });
        }
        Ok(())
    })?;
    let path = source.join(REDIAL_TEXT_JOINED);
    for_each_jsonl(&path, |line_no, v: serde_json::Value| {
        let id = match v.get("conversationId") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => return Err(Error::parse(&path, line_no, "expected a `conversationId`")),
        };
        if seen_ids.contains(&id) || exclude.contains(&id) {
            return Ok(());
        }
        let joined = v.get("text_joined").and_then(|t| t.as_str()).unwrap_or("");
        let mut items: Vec<(u32, f32)> = Vec::new();
        for word in joined.split(|c: char| !(c.is_ascii_digit() || c == '@')) {
            if let Some(p) =
                word.strip_prefix('@').and_then(|n| n.parse::<ItemId>().ok()).and_then(|id| catalog.position(id))
            {
                push_item(&mut items, p, 1.0);
            }
        }
        if !items.is_empty() {
            out.counts.redial_text_sessions += 1;
            out.counts.redial_interactions += items.len();
            out.sessions.push(Session { source: Source::Redial, items, seeker_only: Vec::new() });
        }
        Ok(())
    })
}

/// Catalog lookup on exact (lower-case title with collapsed spaces, year).
fn title_index(catalog: &Catalog) -> HashMap<(String, Option<u16>), usize> {
    let mut index: HashMap<(String, Option<u16>), usize> = HashMap::new();
    for (p, item) in catalog.items().iter().enumerate() {
        let key = (normalise_title(&item.title), item.year);
        // Same (title, year) twice: keep the one more often mentioned in training.
        match index.get(&key) {
            Some(&q) if catalog.items()[q].popularity >= item.popularity => {}
            _ => {
                index.insert(key, p);
            }
        }
    }
    index
}

fn normalise_title(title: &str) -> String {
    title.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

fn load_inspired(path: &Path, catalog: &Catalog, out: &mut Interactions) -> Result<()> {
    let index = title_index(catalog);
    for_each_jsonl(path, |_, turns: Vec<serde_json::Value>| {
        out.counts.inspired_dialogues += 1;
        let mut items: Vec<(u32, f32)> = Vec::new();
        for t in &turns {
            for m in t.get("movie").and_then(|m| m.as_array()).into_iter().flatten() {
                let Some(name) = m.as_str() else { continue };
                let (title, year) = crate::catalog::text::split_title_year(name);
                match index.get(&(normalise_title(&title), year)) {
                    Some(&p) => push_item(&mut items, p, 1.0),
                    None => out.counts.inspired_unlinked += 1,
                }
            }
        }
        if !items.is_empty() {
            out.counts.inspired_sessions += 1;
            out.counts.inspired_interactions += items.len();
            out.sessions.push(Session { source: Source::Inspired, items, seeker_only: Vec::new() });
        }
        Ok(())
    })
}

fn load_movielens(ratings: &Path, links: &Path, catalog: &Catalog, out: &mut Interactions) -> Result<()> {
    // MovieLens movieId → catalog positions (a MovieLens movie may link several ReDial ids).
    let mut ml_to_pos: HashMap<u32, Vec<usize>> = HashMap::new();
    let mut reader = csv::Reader::from_path(links).map_err(|e| Error::parse(links, 0, e.to_string()))?;
    let headers = reader.headers().map_err(|e| Error::parse(links, 1, e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(rid), Some(mid)) = (col("redial_movieId"), col("ml_movieId")) else {
        return Err(Error::parse(links, 1, "expected columns redial_movieId and ml_movieId"));
    };
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| Error::parse(links, i + 2, e.to_string()))?;
        let (Some(r), Some(m)) = (rec.get(rid), rec.get(mid)) else { continue };
        if m.trim().is_empty() {
            continue;
        }
        let r: ItemId =
            r.trim().parse().map_err(|_| Error::parse(links, i + 2, format!("bad redial_movieId {r:?}")))?;
        let m: u32 = m.trim().parse().map_err(|_| Error::parse(links, i + 2, format!("bad ml_movieId {m:?}")))?;
        if let Some(p) = catalog.position(r) {
            ml_to_pos.entry(m).or_default().push(p);
        }
    }
    let file = std::fs::File::open(ratings).map_err(|e| Error::io(ratings, e))?;
    let mut users: Vec<(u32, Vec<(u32, f32)>)> = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| Error::io(ratings, e))?;
        if i == 0 || line.trim().is_empty() {
            continue;
        }
        let mut f = line.split(',');
        let (Some(u), Some(m), Some(r)) = (f.next(), f.next(), f.next()) else {
            return Err(Error::parse(ratings, i + 1, "expected userId,movieId,rating,timestamp"));
        };
        let bad = || Error::parse(ratings, i + 1, format!("malformed rating row {line:?}"));
        let u: u32 = u.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        let r: f32 = r.parse().map_err(|_| bad())?;
        if r < 4.0 {
            continue;
        }
        if users.last().map(|(last, _)| *last) != Some(u) {
            users.push((u, Vec::new()));
        }
        let Some((_, items)) = users.last_mut() else { continue };
        match ml_to_pos.get(&m) {
            Some(ps) => {
                for &p in ps {
                    push_item(items, p, 1.0);
                }
            }
            None => out.counts.movielens_unlinked += 1,
        }
    }
    for (_, items) in users {
        if !items.is_empty() {
            out.counts.movielens_sessions += 1;
            out.counts.movielens_interactions += items.len();
            out.sessions.push(Session { source: Source::Movielens, items, seeker_only: Vec::new() });
        }
    }
    Ok(())
}
