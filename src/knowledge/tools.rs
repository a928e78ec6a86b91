//! The knowledge-graph tools: `kg_lookup` (facts about an item), `kg_filter` (attribute
//! constraints → items), `kg_expand` (personalized PageRank scores as a candidate generator) and
//! `kg_explain` (a reason path between two items).
//!
//! Each tool has a name, typed arguments (serde, so a model can call it with JSON through
//! [`KgTools::call`]) and a typed result. The ranker uses `kg_filter`'s constraints and
//! `kg_expand`'s scores; the reasons use `kg_explain`. A failed call returns an error message, it
//! never panics.

use std::path::Path;

use petgraph::graph::NodeIndex;
use serde::{Deserialize, Serialize};

use crate::catalog::ItemId;
use crate::knowledge::{Constraint, KnowledgeGraph, NodeKind, PprParams, Relation};
use crate::{Error, Result};

/// The knowledge graph and its tools, shared by the ranker (filters, PPR), the agent's reasons
/// (explanation paths) and the front ends (item facts). The attribute linker over the same graph
/// lives in the understanding layer ([`crate::dialogue::attributes::AttributeLinker`]).
#[derive(Debug, Clone)]
pub struct KgTools {
    /// The graph.
    pub graph: KnowledgeGraph,
}

/// `kg_lookup` result: the facts of one item, grouped by relation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemFacts {
    /// The item.
    pub id: ItemId,
    /// "Title (Year)".
    pub title: String,
    /// (relation, names) in relation order; names sorted. `sequel` lists the items that follow
    /// it, `prequel` the items it follows.
    pub facts: Vec<(String, Vec<String>)>,
}

/// A seed of `kg_expand`: an item (liked: weight > 0, disliked: < 0) or a named attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Seed {
    /// A catalog item.
    Item {
        /// Its id.
        id: ItemId,
        /// Weight (negative for a disliked item).
        weight: f32,
    },
    /// A person, genre or keyword node by name.
    Attribute {
        /// Node kind.
        kind: NodeKind,
        /// Name as in the graph (matched after normalisation).
        name: String,
        /// Weight.
        weight: f32,
    },
}

/// A tool call by name with JSON arguments (what a model would emit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "tool", content = "args", rename_all = "snake_case")]
pub enum ToolCall {
    /// Facts about an item.
    KgLookup {
        /// The item.
        id: ItemId,
    },
    /// Items matching all constraints.
    KgFilter {
        /// The constraints.
        constraints: Vec<Constraint>,
        /// At most this many ids (ascending id order).
        limit: usize,
    },
    /// Items by PPR score from seeds.
    KgExpand {
        /// Seeds.
        seeds: Vec<Seed>,
        /// How many items to return.
        k: usize,
    },
    /// A reason path between two items.
    KgExplain {
        /// The liked item.
        from: ItemId,
        /// The candidate.
        to: ItemId,
    },
}

impl KgTools {
    /// Wraps a loaded graph.
    pub fn new(graph: KnowledgeGraph) -> Self {
        KgTools { graph }
    }

    /// Loads the graph of `dir` (e.g. `knowledge/movies`); errors of [`KnowledgeGraph::load`].
    pub fn load(dir: &Path) -> Result<Self> {
        Ok(Self::new(KnowledgeGraph::load(dir)?))
    }

    /// `kg_lookup`: the facts of item `id`, or `None` if the graph does not have it.
    pub fn kg_lookup(&self, id: ItemId) -> Option<ItemFacts> {
        let node = self.graph.node(self.graph.item_node(id)?)?;
        let mut facts: Vec<(String, Vec<String>)> = Vec::new();
        for (rel, ix) in self.graph.facts(id) {
            let name = self.graph.node(ix).map(|n| n.display()).unwrap_or_default();
            match facts.iter_mut().find(|(r, _)| r == rel.as_str()) {
                Some((_, v)) => v.push(name),
                None => facts.push((rel.as_str().to_string(), vec![name])),
            }
        }
        let prequels: Vec<String> = self
            .graph
            .prequels(id)
            .into_iter()
            .filter_map(|p| self.graph.item_node(p).and_then(|ix| self.graph.node(ix)).map(|n| n.display()))
            .collect();
        if !prequels.is_empty() {
            facts.push(("prequel".to_string(), prequels));
        }
        for (_, v) in &mut facts {
            v.sort();
        }
        Some(ItemFacts { id, title: node.display(), facts })
    }

    /// `kg_filter`: ids (ascending) of the items matching every constraint, at most `limit`.
    pub fn kg_filter(&self, constraints: &[Constraint], limit: usize) -> Vec<ItemId> {
        let mut v = self.graph.filter(constraints);
        v.truncate(limit);
        v
    }

    /// The graph nodes and weights of `seeds` (unknown items and names are skipped).
    pub fn seed_nodes(&self, seeds: &[Seed]) -> Vec<(NodeIndex<u32>, f32)> {
        seeds
            .iter()
            .filter_map(|s| match s {
                Seed::Item { id, weight } => self.graph.item_node(*id).map(|n| (n, *weight)),
                Seed::Attribute { kind, name, weight } => self.graph.find(*kind, name).map(|n| (n, *weight)),
            })
            .collect()
    }

    /// `kg_expand`: the `k` items with the highest PPR score from `seeds` (seed items excluded),
    /// best first, ties by id; only items with a positive score.
    pub fn kg_expand(&self, seeds: &[Seed], k: usize) -> Vec<(ItemId, f32)> {
        let nodes = self.seed_nodes(seeds);
        let scores = self.graph.ppr(&nodes, &PprParams::default());
        let mut v: Vec<(ItemId, f32)> = scores
            .iter()
            .enumerate()
            .filter(|(i, s)| **s > 0.0 && !nodes.iter().any(|(n, _)| n.index() == *i))
            .filter_map(|(i, s)| self.graph.node(NodeIndex::new(i)).and_then(|n| n.item).map(|id| (id, *s)))
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(k);
        v
    }

    /// `kg_explain`: the reason `to` fits someone who liked `from` (see
    /// [`KnowledgeGraph::explain`]).
    pub fn kg_explain(&self, from: ItemId, to: ItemId) -> Option<String> {
        self.graph.explain(from, to).map(|e| e.text)
    }

    /// Runs a tool call and returns its JSON result.
    ///
    /// Errors: [`Error::InvalidInput`] for an unknown item (lookup) or no path (explain).
    pub fn call(&self, call: &ToolCall) -> Result<serde_json::Value> {
        let to_json = |v: serde_json::Result<serde_json::Value>| v.map_err(|e| Error::InvalidInput(e.to_string()));
        match call {
            ToolCall::KgLookup { id } => match self.kg_lookup(*id) {
                Some(f) => to_json(serde_json::to_value(f)),
                None => Err(Error::InvalidInput(format!("item {id} is not in the knowledge graph"))),
            },
            ToolCall::KgFilter { constraints, limit } => {
                to_json(serde_json::to_value(self.kg_filter(constraints, *limit)))
            }
            ToolCall::KgExpand { seeds, k } => to_json(serde_json::to_value(self.kg_expand(seeds, *k))),
            ToolCall::KgExplain { from, to } => match self.kg_explain(*from, *to) {
                Some(t) => Ok(serde_json::Value::String(t)),
                None => Err(Error::InvalidInput(format!("no path between {from} and {to}"))),
            },
        }
    }

    /// How item `id` relates to `person` (director, writer, actor), best role first.
    pub fn roles_of(&self, id: ItemId, person: &str) -> Vec<Relation> {
        let Some(p) = self.graph.find(NodeKind::Person, person) else { return Vec::new() };
        let mut roles: Vec<Relation> =
            self.graph.facts(id).into_iter().filter(|(_, ix)| *ix == p).map(|(r, _)| r).collect();
        roles.sort();
        roles.dedup();
        roles
    }
}
