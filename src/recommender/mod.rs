//! Collaborative signals learned from real interactions.
//!
//! - [`CoMentions`]: co-mention counts from the ReDial *training* dialogues
//!   (`redial/train_movie_level/`), written by `curator data build` to
//!   `catalogs/movies/comentions.tsv`; they ground the agent's "because of" reasons.
//! - [`model`]: the [`Recommender`] trait and the trained models (popularity, item-kNN and its
//!   session- and role-aware variants, EASE^R, the SLIT transition model, blends, softmax
//!   item-kNN), stored as top-N neighbour lists in `catalogs/movies/recommender.bin`
//!   ([`MODEL_FILE`], format in `model/file.rs`).
//! - [`sessions`]: training sessions × items with implicit weights, the input of [`fit`].
//! - [`fit`]: the fitting maths of each model family (Gram matrices, EASE^R, SLIT, SGD).
//!
//! The training pipeline (data loading, selection on validation, the ablation table) is the
//! offline wing's `crate::train`.
//!
//! Co-mention score of a candidate c for a weighted seed set S (liked items positive, disliked
//! negative): `cf(c) = Σ_{a∈S} w_a · n(a,c) / (pop(a)^½ · (pop(c) + shrink)^β)`, where n(a,c) is
//! the number of training dialogues mentioning both and pop(x) the number mentioning x. β = ½ is
//! cosine similarity; smaller β favours popular items.

pub mod fit;
pub mod model;
pub mod sessions;

/// File name of the trained collaborative model inside a catalog folder.
pub const MODEL_FILE: &str = "recommender.bin";

pub use model::{Feedback, ItemModel, ModelInfo, ModelSpec, RecState, Recommender, ScoredItem, StateItem};

use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::catalog::{Catalog, ItemId};
use crate::{Error, Result};

/// Item–item co-mention counts over dense catalog positions.
#[derive(Debug, Clone)]
pub struct CoMentions {
    /// Per catalog position: (neighbour position, dialogues mentioning both), sorted by position.
    neighbours: Vec<Vec<(u32, u32)>>,
    /// Per catalog position: training dialogues mentioning the item.
    popularity: Vec<u32>,
}

impl CoMentions {
    /// Loads `comentions.tsv` (header `item_a\titem_b\tdialogues`) for `catalog`.
    ///
    /// Errors: [`Error::Missing`] if the file is absent; [`Error::Parse`] naming the line of a
    /// malformed row or of an id not in the catalog.
    pub fn load(path: &Path, catalog: &Catalog) -> Result<Self> {
        if !path.exists() {
            return Err(Error::Missing(format!(
                "{} not found; build it with `curator data build --source ../shared/data`",
                path.display()
            )));
        }
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Self::from_reader(BufReader::new(file), path, catalog)
    }

    /// [`CoMentions::load`] from the contents of a `comentions.tsv` (a reader of any source);
    /// `path` only names it in errors.
    ///
    /// Errors: [`Error::Io`] for a failed read (or text that is not UTF-8); [`Error::Parse`] as
    /// [`CoMentions::load`].
    pub fn from_reader(reader: impl BufRead, path: &Path, catalog: &Catalog) -> Result<Self> {
        let mut neighbours: Vec<Vec<(u32, u32)>> = vec![Vec::new(); catalog.len()];
        for (i, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| Error::io(path, e))?;
            if i == 0 || line.is_empty() {
                continue;
            }
            let mut f = line.split('\t');
            let (Some(a), Some(b), Some(n), None) = (f.next(), f.next(), f.next(), f.next()) else {
                return Err(Error::parse(path, i + 1, "expected 3 tab-separated fields"));
            };
            let parse_id = |s: &str| -> Result<usize> {
                let id: ItemId = s.parse().map_err(|_| Error::parse(path, i + 1, format!("bad item id {s:?}")))?;
                catalog
                    .position(id)
                    .ok_or_else(|| Error::parse(path, i + 1, format!("item id {id} is not in the catalog")))
            };
            let (pa, pb) = (parse_id(a)?, parse_id(b)?);
            let n: u32 = n.parse().map_err(|_| Error::parse(path, i + 1, format!("bad count {n:?}")))?;
            neighbours[pa].push((pb as u32, n));
            neighbours[pb].push((pa as u32, n));
        }
        for v in &mut neighbours {
            v.sort_unstable();
        }
        let popularity = catalog.items().iter().map(|it| it.popularity).collect();
        Ok(CoMentions { neighbours, popularity })
    }

    /// Builds the counts from `(item_a, item_b) → dialogues` pairs (ids not in `catalog` are
    /// skipped); popularity is taken from the catalog's items.
    pub fn from_pairs<'a>(catalog: &Catalog, pairs: impl IntoIterator<Item = (&'a (ItemId, ItemId), &'a u32)>) -> Self {
        let mut neighbours: Vec<Vec<(u32, u32)>> = vec![Vec::new(); catalog.len()];
        for (&(a, b), &n) in pairs {
            if let (Some(pa), Some(pb)) = (catalog.position(a), catalog.position(b)) {
                neighbours[pa].push((pb as u32, n));
                neighbours[pb].push((pa as u32, n));
            }
        }
        for v in &mut neighbours {
            v.sort_unstable();
        }
        let popularity = catalog.items().iter().map(|it| it.popularity).collect();
        CoMentions { neighbours, popularity }
    }

    /// Dialogues mentioning both items at positions `a` and `b` (0 if never, or out of range).
    pub fn count(&self, a: usize, b: usize) -> u32 {
        self.neighbours
            .get(a)
            .and_then(|v| v.binary_search_by_key(&(b as u32), |(p, _)| *p).ok().map(|k| v[k].1))
            .unwrap_or(0)
    }

    /// Neighbours of position `a`: (position, co-mention count), sorted by position.
    pub fn neighbours(&self, a: usize) -> &[(u32, u32)] {
        self.neighbours.get(a).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Accumulates `cf(c)` (module doc) for the weighted seeds `(position, weight)` into
    /// `scores` (length = catalog size). `beta` is the candidate popularity exponent and
    /// `shrink` is added to the candidate's popularity before the power (damping rare items).
    pub fn score_into(&self, seeds: &[(usize, f32)], beta: f32, shrink: f32, scores: &mut [f32]) {
        for &(a, w) in seeds {
            let pa = self.popularity.get(a).copied().unwrap_or(0).max(1) as f32;
            let norm_a = w / pa.sqrt();
            for &(c, n) in self.neighbours(a) {
                let pc = self.popularity.get(c as usize).copied().unwrap_or(0).max(1) as f32 + shrink;
                if let Some(s) = scores.get_mut(c as usize) {
                    *s += norm_a * n as f32 / pc.powf(beta);
                }
            }
        }
    }
}
