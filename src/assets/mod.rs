//! Runtime loading of a catalog's assets, in one place: the catalog, its knowledge graph, the
//! trained collaborative model, the ranker's configuration (`ranker.yaml`), the learned
//! reranker (`reranker.json`, when present), each checked against
//! its `manifest.json` ([`manifest`]), and the dialogue [`Tracker`] and [`CandidateRanker`] built
//! over them. Live chat, the server, the evaluations, tuning and training all start here.
//!
//! Layout: `<root>/catalogs/<name>/` (items, co-mentions, `recommender.bin`, `ranker.yaml`) and
//! `<root>/knowledge/<name>/` (the graph; optional).

pub mod manifest;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalog::Catalog;
use crate::dialogue::Tracker;
use crate::knowledge::tools::KgTools;
use crate::rank::{CandidateRanker, FusionWeights};
use crate::recommender::{CoMentions, ItemModel, MODEL_FILE};
use crate::Result;

/// Everything a conversation needs from disk: catalog, knowledge graph, tracker and ranker.
/// Cheap to clone (`Arc`s).
#[derive(Debug, Clone)]
pub struct Assets {
    /// The catalog.
    pub catalog: Arc<Catalog>,
    /// The knowledge graph's tools, when `knowledge/<name>/` exists.
    pub knowledge: Option<Arc<KgTools>>,
    /// The one dialogue tracker (with the graph's attribute linker when there is a graph).
    pub tracker: Tracker,
    /// The candidate ranker (trained model, graph and weights attached).
    pub ranker: Arc<CandidateRanker>,
}

impl Assets {
    /// Loads the assets of `catalog_dir` (e.g. `catalogs/movies`): the catalog, the co-mention
    /// counts, the trained model `recommender.bin` when present, the knowledge graph when
    /// present, and the ranker with `weights` (`None`: the catalog's `ranker.yaml`, or the
    /// defaults when it has none).
    ///
    /// Errors: those of [`manifest::verify_catalog`] (files that differ from `manifest.json`),
    /// [`Catalog::load`], [`CoMentions::load`], [`load_model`], [`ItemModel::check_covers`],
    /// [`load_knowledge`] and [`crate::rank::config::load`].
    pub fn load(catalog_dir: &Path, weights: Option<FusionWeights>) -> Result<Self> {
        let weights = match weights {
            Some(w) => w,
            None => crate::rank::config::load_weights(catalog_dir)?,
        };
        manifest::verify_catalog(catalog_dir)?;
        let catalog = Arc::new(Catalog::load(catalog_dir)?);
        let cf = CoMentions::load(&catalog_dir.join("comentions.tsv"), &catalog)?;
        let mut ranker = CandidateRanker::new(&catalog, cf, weights);
        if let Some(model) = load_model(catalog_dir)? {
            model.check_covers(&catalog, &catalog_dir.join(MODEL_FILE))?;
            ranker = ranker.with_model(model);
        }
        let knowledge = load_knowledge(catalog_dir)?;
        if let Some(kt) = &knowledge {
            ranker = ranker.with_knowledge(&catalog, Arc::clone(kt));
        }
        if let Some(policy) = load_policy(catalog_dir)? {
            ranker = ranker.with_policy(policy);
        }
        Ok(Assets::from_parts(catalog, Arc::new(ranker)))
    }

    /// Precomputes what the first ranking would otherwise pay: the knowledge graph's PPR hub
    /// vectors (150–260 ms on 2 cores, docs/speed.md). A server calls it at start, so that its
    /// first `/v1/recommend` is as fast as the rest; a no-op without a graph or when done.
    pub fn warm(&self) {
        if let Some(kt) = &self.knowledge {
            kt.graph.walk().prepare();
        }
    }

    /// The assets of the project's default catalog ([`crate::paths::catalog_dir`]).
    ///
    /// Errors: those of [`Assets::load`].
    pub fn from_project(weights: Option<FusionWeights>) -> Result<Self> {
        Assets::load(&crate::paths::catalog_dir(), weights)
    }

    /// Assets over an already loaded catalog and ranker (the ranker's knowledge graph, if any,
    /// gives the tracker its attribute linker).
    pub fn from_parts(catalog: Arc<Catalog>, ranker: Arc<CandidateRanker>) -> Self {
        let knowledge = ranker.knowledge().cloned();
        let tracker = Tracker::with_graph(Arc::clone(&catalog), knowledge.as_ref().map(|kt| &kt.graph));
        Assets { catalog, knowledge, tracker, ranker }
    }
}

/// The knowledge-graph folder that goes with `catalog_dir` (`<root>/catalogs/movies` →
/// `<root>/knowledge/movies`), or `None` when the path has no such parent.
pub fn knowledge_dir(catalog_dir: &Path) -> Option<PathBuf> {
    let root = catalog_dir.parent()?.parent()?;
    Some(root.join("knowledge").join(catalog_dir.file_name()?))
}

/// The knowledge graph that goes with `catalog_dir` ([`knowledge_dir`]), or `None` when that
/// folder has no `nodes.tsv` (e.g. a test catalog).
///
/// Errors: a file that does not match the graph's `manifest.json` ([`manifest::verify_outputs`]);
/// those of [`KgTools::load`].
pub fn load_knowledge(catalog_dir: &Path) -> Result<Option<Arc<KgTools>>> {
    let Some(dir) = knowledge_dir(catalog_dir) else { return Ok(None) };
    if !dir.join("nodes.tsv").exists() {
        return Ok(None);
    }
    let name = catalog_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    manifest::verify_outputs(&dir, &format!("knowledge/{name}/"))?;
    Ok(Some(Arc::new(KgTools::load(&dir)?)))
}

/// The learned reranker `<catalog_dir>/reranker.json` (`curator train reranker`), if present;
/// without it the fusion orders the catalog.
///
/// Errors: those of [`crate::rank::Policy::load`] for a present but malformed file.
pub fn load_policy(catalog_dir: &Path) -> Result<Option<Arc<crate::rank::Policy>>> {
    let path = catalog_dir.join(crate::rank::RERANKER_FILE);
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(Arc::new(crate::rank::Policy::load(&path)?)))
}

/// The trained collaborative model `<catalog_dir>/recommender.bin`, if present.
///
/// Errors: those of [`ItemModel::load`] for a present but damaged file.
pub fn load_model(catalog_dir: &Path) -> Result<Option<Arc<ItemModel>>> {
    let path = catalog_dir.join(MODEL_FILE);
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(Arc::new(ItemModel::load(&path)?)))
}
