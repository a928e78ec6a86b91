//! The committed movie catalog and knowledge graph, loaded once per fuzzing process.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use curator::catalog::Catalog;
use curator::knowledge::KnowledgeGraph;

/// The repository root (the fuzz crate lives in `fuzz/`).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `catalogs/movies`, loaded on first use (a load failure ends the run: the fixture is broken,
/// not the input).
#[allow(dead_code)]
pub fn catalog() -> Arc<Catalog> {
    static CATALOG: OnceLock<Arc<Catalog>> = OnceLock::new();
    CATALOG
        .get_or_init(|| match Catalog::load(&root().join("catalogs/movies")) {
            Ok(c) => Arc::new(c),
            Err(e) => {
                eprintln!("cannot load catalogs/movies: {e}");
                std::process::exit(2)
            }
        })
        .clone()
}

/// `knowledge/movies`, loaded on first use.
#[allow(dead_code)]
pub fn graph() -> &'static KnowledgeGraph {
    static GRAPH: OnceLock<KnowledgeGraph> = OnceLock::new();
    GRAPH.get_or_init(|| match KnowledgeGraph::load(&root().join("knowledge/movies")) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("cannot load knowledge/movies: {e}");
            std::process::exit(2)
        }
    })
}
