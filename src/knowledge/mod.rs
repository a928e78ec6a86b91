//! The knowledge graph: typed nodes (items, people, genres, keywords, companies, languages) and
//! typed edges (item → attribute, item → its sequel) in a `petgraph` graph, loaded from
//! `knowledge/movies/{nodes,edges}.tsv` (written by `curator data build`, see
//! `knowledge/README.md`).
//!
//! Queries: a node by kind and name; neighbours by relation; the facts of an item; items
//! matching a conjunction of attribute constraints with negations ([`KnowledgeGraph::filter`]);
//! personalized PageRank from a weighted seed set ([`KnowledgeGraph::ppr`]); the shortest typed path between two
//! items rendered as a short reason ([`KnowledgeGraph::explain`]).
//!
//! Invariants: item nodes come first and in catalog id order, so item node `i` is catalog
//! position `i` when the graph was built from the same catalog; loading never panics (errors
//! name file and line); no network I/O.

mod ppr;
mod seed_memo;
pub mod tools;

pub use ppr::{
    PprMethod, PprParams, PprWalk, PushState, DEFAULT_PUSH_EPSILON, HUB_DEGREE, HUB_ITERATIONS, HUB_RESTART,
};
pub use seed_memo::SEED_MEMO_BYTES;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use serde::{Deserialize, Serialize};

use crate::catalog::text::normalize;
use crate::catalog::ItemId;
use crate::{Error, Result};

/// The committed graph's folder: `<project root>/knowledge/movies` (see
/// [`crate::paths::project_root`]).
pub fn default_dir() -> std::path::PathBuf {
    crate::paths::project_root().join("knowledge").join("movies")
}

/// The kind of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// A catalog item (a movie).
    Item,
    /// A person (director, writer or actor; the role is on the edge).
    Person,
    /// A genre (the catalog's CFCRS vocabulary).
    Genre,
    /// A TMDB keyword (KECRS relation 14).
    Keyword,
    /// A production company (KECRS relation 15).
    Company,
    /// An original language (KECRS relation 16).
    Language,
}

impl NodeKind {
    /// The name used in `nodes.tsv`.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Item => "item",
            NodeKind::Person => "person",
            NodeKind::Genre => "genre",
            NodeKind::Keyword => "keyword",
            NodeKind::Company => "company",
            NodeKind::Language => "language",
        }
    }

    /// Parses [`NodeKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "item" => NodeKind::Item,
            "person" => NodeKind::Person,
            "genre" => NodeKind::Genre,
            "keyword" => NodeKind::Keyword,
            "company" => NodeKind::Company,
            "language" => NodeKind::Language,
            _ => return None,
        })
    }
}

/// The type of an edge. Every edge goes from an item to an attribute, except [`Relation::Sequel`]
/// (item → the item that follows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// Item → genre (CFCRS `genre`).
    Genre,
    /// Item → person who directed it (CFCRS `director`).
    Director,
    /// Item → person who wrote it (CFCRS `writer`).
    Writer,
    /// Item → person in its cast (CFCRS `star`, KECRS relation 1).
    Actor,
    /// Item → TMDB keyword (KECRS relation 14).
    Keyword,
    /// Item → production company (KECRS relation 15).
    Company,
    /// Item → original language (KECRS relation 16).
    Language,
    /// Item → its sequel (DBpedia `subsequentWork`/`previousWork`, or the title rule).
    Sequel,
}

impl Relation {
    /// Every relation, in a fixed order.
    pub const ALL: [Relation; 8] = [
        Relation::Genre,
        Relation::Director,
        Relation::Writer,
        Relation::Actor,
        Relation::Keyword,
        Relation::Company,
        Relation::Language,
        Relation::Sequel,
    ];

    /// The name used in `edges.tsv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Genre => "genre",
            Relation::Director => "director",
            Relation::Writer => "writer",
            Relation::Actor => "actor",
            Relation::Keyword => "keyword",
            Relation::Company => "company",
            Relation::Language => "language",
            Relation::Sequel => "sequel",
        }
    }

    /// Parses [`Relation::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Relation::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// One node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// Its kind.
    pub kind: NodeKind,
    /// Display name: the title for items, the source's spelling otherwise.
    pub name: String,
    /// The catalog id, for items.
    pub item: Option<ItemId>,
    /// Release year, for items that have one.
    pub year: Option<u16>,
}

impl Node {
    /// "Title (Year)" for items; company names (lower case in KECRS) in title case ("Warner
    /// Bros. Pictures", [`company_display`]); the name otherwise.
    pub fn display(&self) -> String {
        match (self.kind, self.year) {
            (NodeKind::Item, Some(y)) => format!("{} ({y})", self.name),
            (NodeKind::Company, _) => company_display(&self.name),
            _ => self.name.clone(),
        }
    }
}

/// A lower-case company name (KECRS relation 15, TMDB production companies) for display: each
/// word capitalised ("20th century fox" → "20th Century Fox"), "and", "of", "the", "de", "a",
/// "in", "for", "on" kept lower case inside the name, and short marks written in capitals: a
/// word with "&" ("a&m" → "A&M"), dotted initials ("l.p." → "L.P."), a parenthesised word of at
/// most four letters ("(ace)" → "(ACE)"). Names with a capital letter are returned unchanged.
pub fn company_display(name: &str) -> String {
    if name.chars().any(char::is_uppercase) {
        return name.to_string();
    }
    const SMALL: [&str; 8] = ["and", "of", "the", "de", "a", "in", "for", "on"];
    let words: Vec<String> = name
        .split(' ')
        .enumerate()
        .map(|(i, w)| {
            let letters = w.chars().filter(|c| c.is_alphabetic()).count();
            let dotted = w.contains('.') && w.trim_end_matches('.').split('.').all(|p| p.chars().count() == 1);
            let parenthesised = w.starts_with('(') && w.ends_with(')') && letters <= 4;
            if w.contains('&') || (dotted && letters > 1) || parenthesised {
                w.to_uppercase()
            } else if i > 0 && SMALL.contains(&w) {
                w.to_string()
            } else {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().chain(c).collect(),
                    None => String::new(),
                }
            }
        })
        .collect();
    words.join(" ")
}

/// The earliest year an open-ended range reaches ("before 1980" is 1900–1979).
pub const FIRST_YEAR: u16 = 1900;
/// The latest year an open-ended range reaches ("after 2015" is 2016–2030).
pub const LAST_YEAR: u16 = 2030;

/// An attribute a seeker can ask for or reject.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Attribute {
    /// A genre by its catalog name ("thriller").
    Genre {
        /// The genre.
        name: String,
    },
    /// A person, optionally in one role (`director`, `writer`, `actor`); any role when `None`.
    Person {
        /// The person's name as in the graph.
        name: String,
        /// The role, if the seeker named one.
        role: Option<Relation>,
    },
    /// Release years, inclusive.
    Years {
        /// First year.
        from: u16,
        /// Last year.
        to: u16,
    },
    /// A TMDB keyword ("violence", "zombie").
    Keyword {
        /// The keyword.
        name: String,
    },
    /// A studio: every production company (KECRS relation 15) whose name contains `name`,
    /// case-insensitively ("Disney": Walt Disney Pictures, Walt Disney Animation Studios, …).
    Company {
        /// The studio as said back ("Disney", "DreamWorks").
        name: String,
    },
}

impl Attribute {
    /// A short phrase for replies: "thriller", "Denzel Washington", "the 1990s", "after 2015"
    /// (an open range, [`LAST_YEAR`] / [`FIRST_YEAR`]), "\"violence\"".
    pub fn describe(&self) -> String {
        match self {
            Attribute::Genre { name } => name.clone(),
            Attribute::Person { name, .. } => name.clone(),
            Attribute::Years { from, to } if to.checked_sub(*from) == Some(9) && from.is_multiple_of(10) => {
                format!("the {from}s")
            }
            Attribute::Years { from, to } if from == to => format!("{from}"),
            Attribute::Years { from, to } if *to == LAST_YEAR => format!("after {}", from.saturating_sub(1)),
            Attribute::Years { from, to } if *from == FIRST_YEAR => format!("before {}", to.saturating_add(1)),
            Attribute::Years { from, to } => format!("{from}–{to}"),
            Attribute::Keyword { name } => format!("\"{name}\""),
            Attribute::Company { name } => name.clone(),
        }
    }
}

/// One constraint of [`KnowledgeGraph::filter`]: the item must have (or, negated, must not have)
/// the attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    /// The attribute.
    pub attribute: Attribute,
    /// True: the item must not have it.
    pub negated: bool,
}

/// A path between two items, from the liked item to the candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// Node indices from the liked item to the candidate (2 or 3 nodes).
    pub nodes: Vec<usize>,
    /// The relation of each step (`nodes.len() - 1` entries).
    pub relations: Vec<Relation>,
    /// The reason in words: "both directed by Michael Mann, like Heat (1995)".
    pub text: String,
}

/// The loaded graph.
#[derive(Debug, Clone)]
pub struct KnowledgeGraph {
    graph: DiGraph<Node, Relation, u32>,
    by_name: HashMap<(NodeKind, String), NodeIndex<u32>>,
    by_item: HashMap<ItemId, NodeIndex<u32>>,
    items: usize,
    walk: PprWalk,
    /// Edges touching each node (both directions), so [`KnowledgeGraph::degree`] is O(1).
    degrees: Vec<u32>,
}

fn field<'a>(cols: &[&'a str], i: usize, path: &Path, line: usize, what: &str) -> Result<&'a str> {
    cols.get(i).copied().ok_or_else(|| Error::parse(path, line, format!("missing column {} ({what})", i + 1)))
}

impl KnowledgeGraph {
    /// Loads `dir/nodes.tsv` and `dir/edges.tsv` (e.g. `knowledge/movies`).
    ///
    /// Errors: [`Error::Io`] for a missing file; [`Error::Parse`] naming the file and 1-based line
    /// of a malformed row (wrong column count, unknown kind or relation, a node index out of
    /// order or out of range, an item node after a non-item node).
    pub fn load(dir: &Path) -> Result<Self> {
        let nodes_path = dir.join("nodes.tsv");
        let edges_path = dir.join("edges.tsv");
        let open = |p: &Path| std::fs::File::open(p).map(BufReader::new).map_err(|e| Error::io(p, e));
        Self::from_readers(open(&nodes_path)?, &nodes_path, open(&edges_path)?, &edges_path)
    }

    /// [`KnowledgeGraph::load`] from the contents of a `nodes.tsv` and an `edges.tsv` (readers
    /// of any source); the paths only name them in errors.
    ///
    /// Errors: [`Error::Io`] for a failed read (or text that is not UTF-8); [`Error::Parse`] as
    /// [`KnowledgeGraph::load`].
    pub fn from_readers(
        nodes: impl BufRead,
        nodes_path: &Path,
        edges: impl BufRead,
        edges_path: &Path,
    ) -> Result<Self> {
        let mut graph: DiGraph<Node, Relation, u32> = DiGraph::default();
        let mut items = 0usize;
        for (i, line) in nodes.lines().enumerate() {
            let line = line.map_err(|e| Error::io(nodes_path, e))?;
            let ln = i + 1;
            if i == 0 || line.is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() != 5 {
                return Err(Error::parse(nodes_path, ln, format!("expected 5 columns, found {}", cols.len())));
            }
            let index: usize = field(&cols, 0, nodes_path, ln, "node")?
                .parse()
                .map_err(|e| Error::parse(nodes_path, ln, format!("node index: {e}")))?;
            if index != graph.node_count() {
                return Err(Error::parse(
                    nodes_path,
                    ln,
                    format!("node {index} out of order (expected {})", graph.node_count()),
                ));
            }
            let kind = NodeKind::parse(cols[1])
                .ok_or_else(|| Error::parse(nodes_path, ln, format!("unknown kind {:?}", cols[1])))?;
            let item = match cols[3] {
                "" => None,
                s => Some(s.parse::<ItemId>().map_err(|e| Error::parse(nodes_path, ln, format!("item id: {e}")))?),
            };
            let year = match cols[4] {
                "" => None,
                s => Some(s.parse::<u16>().map_err(|e| Error::parse(nodes_path, ln, format!("year: {e}")))?),
            };
            if (kind == NodeKind::Item) != item.is_some() {
                return Err(Error::parse(nodes_path, ln, "item nodes (and only they) carry an item id"));
            }
            if kind == NodeKind::Item {
                if items != graph.node_count() {
                    return Err(Error::parse(nodes_path, ln, "item nodes must come before every other node"));
                }
                items += 1;
            }
            graph.add_node(Node { kind, name: cols[2].to_string(), item, year });
        }
        let n = graph.node_count();
        for (i, line) in edges.lines().enumerate() {
            let line = line.map_err(|e| Error::io(edges_path, e))?;
            let ln = i + 1;
            if i == 0 || line.is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if cols.len() != 3 {
                return Err(Error::parse(edges_path, ln, format!("expected 3 columns, found {}", cols.len())));
            }
            let node = |s: &str| -> Result<NodeIndex<u32>> {
                let v: usize = s.parse().map_err(|e| Error::parse(edges_path, ln, format!("node index {s:?}: {e}")))?;
                if v >= n {
                    return Err(Error::parse(edges_path, ln, format!("node {v} out of range ({n} nodes)")));
                }
                Ok(NodeIndex::new(v))
            };
            let (h, t) = (node(cols[0])?, node(cols[2])?);
            let rel = Relation::parse(cols[1])
                .ok_or_else(|| Error::parse(edges_path, ln, format!("unknown relation {:?}", cols[1])))?;
            if h.index() >= items {
                return Err(Error::parse(edges_path, ln, "an edge's head must be an item node"));
            }
            graph.add_edge(h, t, rel);
        }
        Ok(Self::from_graph(graph, items))
    }

    /// Wraps a graph whose first `items` nodes are the item nodes (tests, tools).
    fn from_graph(graph: DiGraph<Node, Relation, u32>, items: usize) -> Self {
        let mut by_name = HashMap::new();
        let mut by_item = HashMap::new();
        for ix in graph.node_indices() {
            let node = &graph[ix];
            if let Some(id) = node.item {
                by_item.insert(id, ix);
            } else {
                by_name.entry((node.kind, normalize(&node.name))).or_insert(ix);
            }
        }
        let walk = PprWalk::new(&graph, items);
        let mut degrees = vec![0u32; graph.node_count()];
        for e in graph.edge_references() {
            degrees[e.source().index()] += 1;
            degrees[e.target().index()] += 1;
        }
        KnowledgeGraph { graph, by_name, by_item, items, walk, degrees }
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Bytes held by the PPR transition matrix (CSR arrays), for the benchmark.
    pub fn walk_bytes(&self) -> usize {
        self.walk.heap_bytes()
    }

    /// Number of item nodes (they are nodes `0..items`).
    pub fn item_count(&self) -> usize {
        self.items
    }

    /// The node at `ix`, if any.
    pub fn node(&self, ix: NodeIndex<u32>) -> Option<&Node> {
        self.graph.node_weight(ix)
    }

    /// The non-item node of `kind` whose normalised name is `name`'s ("denzel washington").
    pub fn find(&self, kind: NodeKind, name: &str) -> Option<NodeIndex<u32>> {
        self.by_name.get(&(kind, normalize(name))).copied()
    }

    /// The node of catalog item `id`.
    pub fn item_node(&self, id: ItemId) -> Option<NodeIndex<u32>> {
        self.by_item.get(&id).copied()
    }

    /// All nodes of `kind`, in index order.
    pub fn nodes_of(&self, kind: NodeKind) -> impl Iterator<Item = (NodeIndex<u32>, &Node)> + '_ {
        self.graph.node_indices().map(move |ix| (ix, &self.graph[ix])).filter(move |(_, n)| n.kind == kind)
    }

    /// Number of edges touching `ix` (both directions).
    pub fn degree(&self, ix: NodeIndex<u32>) -> usize {
        self.degrees.get(ix.index()).map_or(0, |&d| d as usize)
    }

    /// Neighbours of `ix` through edges of `relation` in `direction` (outgoing: from an item to its
    /// attributes or sequel; incoming: from an attribute to its items, from an item to its
    /// prequel), sorted by index.
    pub fn neighbours(&self, ix: NodeIndex<u32>, relation: Relation, direction: Direction) -> Vec<NodeIndex<u32>> {
        let mut v: Vec<NodeIndex<u32>> = self
            .graph
            .edges_directed(ix, direction)
            .filter(|e| *e.weight() == relation)
            .map(|e| if direction == Direction::Outgoing { e.target() } else { e.source() })
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The facts of item `id`: (relation, attribute or sequel node), outgoing then prequels
    /// (reported with [`Relation::Sequel`] and the prequel node), sorted by relation then name.
    /// Empty for an unknown id.
    pub fn facts(&self, id: ItemId) -> Vec<(Relation, NodeIndex<u32>)> {
        let Some(ix) = self.item_node(id) else { return Vec::new() };
        let mut v: Vec<(Relation, NodeIndex<u32>)> =
            self.graph.edges_directed(ix, Direction::Outgoing).map(|e| (*e.weight(), e.target())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| self.graph[a.1].name.cmp(&self.graph[b.1].name)));
        v
    }

    /// The nodes item `id` links to by `relation` (outgoing edges, graph order, unsorted: the
    /// cheap form of [`KnowledgeGraph::facts`] for per-candidate features). Empty for an unknown id.
    pub fn linked(&self, id: ItemId, relation: Relation) -> impl Iterator<Item = NodeIndex<u32>> + '_ {
        self.item_node(id)
            .into_iter()
            .flat_map(move |ix| self.graph.edges_directed(ix, Direction::Outgoing))
            .filter(move |e| *e.weight() == relation)
            .map(|e| e.target())
    }

    /// The items following `id` (its sequels).
    pub fn sequels(&self, id: ItemId) -> Vec<ItemId> {
        self.item_node(id)
            .map(|ix| self.neighbours(ix, Relation::Sequel, Direction::Outgoing))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|n| self.graph[n].item)
            .collect()
    }

    /// The items `id` follows (its prequels).
    pub fn prequels(&self, id: ItemId) -> Vec<ItemId> {
        self.item_node(id)
            .map(|ix| self.neighbours(ix, Relation::Sequel, Direction::Incoming))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|n| self.graph[n].item)
            .collect()
    }

    /// Per item node (index `0..item_count()`), whether the item has `attribute`. An attribute
    /// absent from the graph matches no item.
    pub fn items_with(&self, attribute: &Attribute) -> Vec<bool> {
        let mut out = vec![false; self.items];
        let mut mark = |ix: Option<NodeIndex<u32>>, rels: &[Relation]| {
            let Some(ix) = ix else { return };
            for e in self.graph.edges_directed(ix, Direction::Incoming) {
                if rels.contains(e.weight()) && e.source().index() < self.items {
                    out[e.source().index()] = true;
                }
            }
        };
        match attribute {
            Attribute::Genre { name } => mark(self.find(NodeKind::Genre, name), &[Relation::Genre]),
            Attribute::Keyword { name } => mark(self.find(NodeKind::Keyword, name), &[Relation::Keyword]),
            Attribute::Company { name } => {
                for c in self.companies(name) {
                    mark(Some(c), &[Relation::Company]);
                }
            }
            Attribute::Person { name, role } => {
                let roles: &[Relation] = match role {
                    Some(Relation::Director) => &[Relation::Director],
                    Some(Relation::Writer) => &[Relation::Writer],
                    Some(Relation::Actor) => &[Relation::Actor],
                    _ => &[Relation::Director, Relation::Writer, Relation::Actor],
                };
                mark(self.find(NodeKind::Person, name), roles);
            }
            Attribute::Years { from, to } => {
                for (i, slot) in out.iter_mut().enumerate() {
                    *slot = self.graph[NodeIndex::new(i)].year.is_some_and(|y| y >= *from && y <= *to);
                }
            }
        }
        out
    }

    /// The company nodes whose name contains `studio`, case-insensitively ([`Attribute::Company`]).
    /// O(company nodes).
    pub fn companies(&self, studio: &str) -> Vec<NodeIndex<u32>> {
        self.nodes_of(NodeKind::Company)
            .filter(|(_, n)| contains_ignoring_case(&n.name, studio))
            .map(|(ix, _)| ix)
            .collect()
    }

    /// Whether item `id` has `attribute` (false for an unknown item or attribute).
    pub fn item_has(&self, id: ItemId, attribute: &Attribute) -> bool {
        let Some(ix) = self.item_node(id) else { return false };
        let target = |kind: NodeKind, name: &str, rels: &[Relation]| {
            self.find(kind, name).is_some_and(|t| self.graph.edges_connecting(ix, t).any(|e| rels.contains(e.weight())))
        };
        match attribute {
            Attribute::Genre { name } => target(NodeKind::Genre, name, &[Relation::Genre]),
            Attribute::Keyword { name } => target(NodeKind::Keyword, name, &[Relation::Keyword]),
            Attribute::Company { name } => self
                .graph
                .edges_directed(ix, Direction::Outgoing)
                .filter(|e| *e.weight() == Relation::Company)
                .any(|e| contains_ignoring_case(&self.graph[e.target()].name, name)),
            Attribute::Person { name, role: Some(r) } => target(NodeKind::Person, name, &[*r]),
            Attribute::Person { name, role: None } => {
                target(NodeKind::Person, name, &[Relation::Director, Relation::Writer, Relation::Actor])
            }
            Attribute::Years { from, to } => self.graph[ix].year.is_some_and(|y| y >= *from && y <= *to),
        }
    }

    /// Items (catalog ids, ascending) matching every constraint: having each non-negated
    /// attribute and none of the negated ones. No constraint: every item.
    pub fn filter(&self, constraints: &[Constraint]) -> Vec<ItemId> {
        let mut keep = vec![true; self.items];
        for c in constraints {
            let has = self.items_with(&c.attribute);
            for (k, h) in keep.iter_mut().zip(has) {
                *k &= h != c.negated;
            }
        }
        let mut ids: Vec<ItemId> =
            (0..self.items).filter(|&i| keep[i]).filter_map(|i| self.graph[NodeIndex::new(i)].item).collect();
        ids.sort_unstable();
        ids
    }

    /// Personalized PageRank from weighted seeds (node, weight; negative weights push scores
    /// down), returned per item node (`0..item_count()`), clamped at 0. See [`PprWalk::run`].
    pub fn ppr(&self, seeds: &[(NodeIndex<u32>, f32)], params: &PprParams) -> Vec<f32> {
        self.walk.run(seeds, params)
    }

    /// The PPR transition matrix: the forward push's full state ([`PprWalk::push`]) and the
    /// weighted degrees its error bound is stated in.
    pub fn walk(&self) -> &PprWalk {
        &self.walk
    }

    /// A PPR walk over this graph with hubs from `hub_degree` entries up (the benchmark's
    /// comparison of hub thresholds; the graph's own walk uses [`HUB_DEGREE`]).
    pub fn walk_with_hub_degree(&self, hub_degree: usize) -> PprWalk {
        PprWalk::with_hub_degree(&self.graph, self.items, hub_degree)
    }

    /// The shortest typed path from `liked` to `candidate`, as a reason. Length 1: one is the
    /// other's sequel. Length 2: a shared attribute, preferring director, writer, actor, keyword,
    /// company, then genre, and within a relation the attribute with the fewest items (the most
    /// specific). Languages never explain. `None` when the items share nothing or are unknown.
    pub fn explain(&self, liked: ItemId, candidate: ItemId) -> Option<Explanation> {
        let (a, b) = (self.item_node(liked)?, self.item_node(candidate)?);
        let an = &self.graph[a];
        if self.neighbours(a, Relation::Sequel, Direction::Outgoing).contains(&b) {
            return Some(Explanation {
                nodes: vec![a.index(), b.index()],
                relations: vec![Relation::Sequel],
                text: format!("the sequel to {}.", an.display()),
            });
        }
        if self.neighbours(a, Relation::Sequel, Direction::Incoming).contains(&b) {
            return Some(Explanation {
                nodes: vec![a.index(), b.index()],
                relations: vec![Relation::Sequel],
                text: format!("the film {} follows.", an.display()),
            });
        }
        for rel in [
            Relation::Director,
            Relation::Writer,
            Relation::Actor,
            Relation::Keyword,
            Relation::Company,
            Relation::Genre,
        ] {
            let na = self.neighbours(a, rel, Direction::Outgoing);
            let nb = self.neighbours(b, rel, Direction::Outgoing);
            let best = na
                .iter()
                .filter(|x| nb.binary_search(x).is_ok())
                .min_by(|x, y| {
                    self.degree(**x)
                        .cmp(&self.degree(**y))
                        .then_with(|| self.graph[**x].name.cmp(&self.graph[**y].name))
                })
                .copied();
            if let Some(x) = best {
                let name = &self.graph[x].display();
                let like = an.display();
                let text = match rel {
                    Relation::Director => format!("both directed by {name}, like {like}."),
                    Relation::Writer => format!("both written by {name}, like {like}."),
                    Relation::Actor => format!("{name} is in both this and {like}."),
                    Relation::Keyword => format!("both tagged \"{name}\" on TMDB, like {like}."),
                    Relation::Company => format!("both produced by {name}, like {like}."),
                    _ => format!("both {name}, like {like}."),
                };
                return Some(Explanation {
                    nodes: vec![a.index(), x.index(), b.index()],
                    relations: vec![rel, rel],
                    text,
                });
            }
        }
        None
    }
}

/// Whether `haystack` contains `needle`, ASCII case ignored (studio names in the graph are lowercase).
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    !needle.is_empty() && haystack.to_ascii_lowercase().contains(&needle.to_ascii_lowercase())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn company_names_are_title_cased_for_display() {
        for (raw, shown) in [
            ("warner bros. pictures", "Warner Bros. Pictures"),
            ("20th century fox", "20th Century Fox"),
            ("a&m films", "A&M Films"),
            ("american entertainment partners l.p.", "American Entertainment Partners L.P."),
            ("anton capital entertainment (ace)", "Anton Capital Entertainment (ACE)"),
            ("40 acres & a mule filmworks", "40 Acres & a Mule Filmworks"),
            ("a band apart", "A Band Apart"),
            ("alfred j. hitchcock productions", "Alfred J. Hitchcock Productions"),
            ("a24", "A24"),
            ("DreamWorks", "DreamWorks"),
            ("", ""),
        ] {
            assert_eq!(company_display(raw), shown, "{raw}");
        }
        let node = Node { kind: NodeKind::Company, name: "universal pictures".into(), item: None, year: None };
        assert_eq!(node.display(), "Universal Pictures");
    }

    #[test]
    fn kinds_and_relations_round_trip() {
        for r in Relation::ALL {
            assert_eq!(Relation::parse(r.as_str()), Some(r));
        }
        for k in [
            NodeKind::Item,
            NodeKind::Person,
            NodeKind::Genre,
            NodeKind::Keyword,
            NodeKind::Company,
            NodeKind::Language,
        ] {
            assert_eq!(NodeKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Attribute::Years { from: 1990, to: 1999 }.describe(), "the 1990s");
    }

    #[test]
    fn load_errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("nodes.tsv"),
            "node\tkind\tname\titem\tyear\n0\titem\tHeat\t1\t1995\n1\tgenre\tcrime\t\t\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("edges.tsv"), "head\trelation\ttail\n0\tgenre\t1\n0\tfoo\t1\n").unwrap();
        let e = KnowledgeGraph::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("edges.tsv:3") && e.contains("unknown relation"), "{e}");
        std::fs::write(dir.path().join("edges.tsv"), "head\trelation\ttail\n0\tgenre\t7\n").unwrap();
        let e = KnowledgeGraph::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("edges.tsv:2") && e.contains("out of range"), "{e}");
        std::fs::write(dir.path().join("nodes.tsv"), "node\tkind\tname\titem\tyear\n0\titem\tHeat\tx\t1995\n").unwrap();
        let e = KnowledgeGraph::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("nodes.tsv:2") && e.contains("item id"), "{e}");
    }
}
