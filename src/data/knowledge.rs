//! The knowledge-graph part of `curator data build`: writes `knowledge/movies/` from the catalog
//! just built and the raw KGs of `../shared/data`.
//!
//! Sources (paths relative to `--source`; licenses in `knowledge/README.md`):
//! - `catalogs/movies/items.jsonl` (already built from CFCRS `redial/kg/cfcrs/id2info.json`): item
//!   nodes, years, and the `genre`, `director`, `writer` and `actor` (CFCRS `star`) edges;
//! - `redial/kg/kecrs_tmdb/{entity2entity_id4,movie_kg4}.json` (KECRS, TMDB-derived): more `actor`
//!   edges (relation 1, TMDB cast), `keyword` (14), `company` (15) and `language` (16). The ids are
//!   unnamed upstream; [`verify_kecrs`] checks each meaning against the data and the build fails
//!   when a check does not hold;
//! - `redial/kg/dbpedia_unicrs/{entity2id,dbpedia_subkg,relation2id}.json` (UniCRS DBpedia,
//!   named relations) with `redial/kg/dbpedia_kgsf/id2entity.json` (movieId → DBpedia URI):
//!   `sequel` edges from `subsequentWork` / `previousWork` where both ends are catalog items;
//! - a title rule over the catalog for `sequel` edges DBpedia lacks: "Shrek 2" follows "Shrek"
//!   when the later title is the earlier one plus a numeral (2–9, II–V), the year is later, and the
//!   two share a director, writer or star (of several such, the one sharing the most people).
//!
//! Outputs (`knowledge/movies/`, deterministic, sorted):
//! - `nodes.tsv`: `node \t kind \t name \t item \t year` (dense node index; `item` and `year` only
//!   for items);
//! - `edges.tsv`: `head \t relation \t tail` node indices, item → attribute (or item → its sequel);
//! - `manifest.json`: counts, the relation checks, sha256 of inputs and outputs.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalog::{Item, ItemId};
use crate::knowledge::{NodeKind, Relation};
use crate::{Error, Result};

use super::read;
use crate::util::{sha256_hex, write_atomic};

pub(crate) const KECRS_ENTITIES: &str = "redial/kg/kecrs_tmdb/entity2entity_id4.json";
pub(crate) const KECRS_KG: &str = "redial/kg/kecrs_tmdb/movie_kg4.json";
const UNICRS_ENTITIES: &str = "redial/kg/dbpedia_unicrs/entity2id.json";
const UNICRS_KG: &str = "redial/kg/dbpedia_unicrs/dbpedia_subkg.json";
const UNICRS_RELATIONS: &str = "redial/kg/dbpedia_unicrs/relation2id.json";
const KGSF_ID2ENTITY: &str = "redial/kg/dbpedia_kgsf/id2entity.json";

/// What the knowledge build wrote (`knowledge/movies/manifest.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KnowledgeManifest {
    /// Node count per kind.
    pub nodes: BTreeMap<String, usize>,
    /// Edge count per relation.
    pub edges: BTreeMap<String, usize>,
    /// The checks that name KECRS's unnamed relation ids, with the measured values.
    pub checks: Vec<String>,
    /// sha256 (hex) of each input, keyed by its path relative to the source folder.
    pub inputs: BTreeMap<String, String>,
    /// sha256 (hex) of each output, keyed by its path relative to the output root.
    pub outputs: BTreeMap<String, String>,
}

fn json<T: serde::de::DeserializeOwned>(path: &Path, bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::parse(path, e.line(), format!("expected {what}: {e}")))
}

/// KECRS edges of each catalog item: (relation id, other entity's name), both directions of the
/// published graph folded onto the item, in a deterministic order: heads by entity id, then each
/// head's list in file order (for an item's own list that is TMDB's billing order).
///
/// KECRS gives one entity id to several ReDial ids of the same film (188 ids: "Heat (1995)" and
/// "Heat (1996)"). With `every_alias` each of them gets the entity's edges; without, only the
/// smallest movieId (the graph's long-standing choice).
///
/// Errors: a file that is not the expected JSON map (named, with its line).
pub(crate) fn kecrs_edges(
    ent_path: &Path,
    ent_bytes: &[u8],
    kg_path: &Path,
    kg_bytes: &[u8],
    known: &BTreeSet<ItemId>,
    every_alias: bool,
) -> Result<BTreeMap<ItemId, Vec<(u32, String)>>> {
    let entities: HashMap<String, u32> = json(ent_path, ent_bytes, "a map of entity name to id")?;
    let kg: HashMap<String, Vec<(u32, u32)>> = json(kg_path, kg_bytes, "a map of entity id to [relation, tail]")?;
    let as_item = |name: &str| name.parse::<ItemId>().ok().filter(|id| known.contains(id));
    // Some ids carry several names; pick one deterministically: a catalog movieId if any, else
    // the smallest name (HashMap order would make the build differ between runs).
    let mut sorted: Vec<(&String, &u32)> = entities.iter().collect();
    sorted.sort();
    let mut name_of: HashMap<u32, &str> = HashMap::with_capacity(entities.len());
    let mut items_of: HashMap<u32, Vec<ItemId>> = HashMap::new();
    for (name, id) in sorted {
        if let Some(item) = as_item(name) {
            let list = items_of.entry(*id).or_default();
            if every_alias || list.is_empty() {
                list.push(item);
            }
        }
        match name_of.get(id) {
            Some(old) if as_item(old).is_some() || as_item(name).is_none() => {}
            _ => {
                name_of.insert(*id, name.as_str());
            }
        }
    }
    let mut heads: Vec<(u32, &Vec<(u32, u32)>)> =
        kg.iter().filter_map(|(h, e)| h.parse::<u32>().ok().map(|h| (h, e))).collect();
    heads.sort_by_key(|(h, _)| *h);
    let mut out: BTreeMap<ItemId, Vec<(u32, String)>> = BTreeMap::new();
    for (head, edges) in heads {
        let Some(head_name) = name_of.get(&head).copied() else { continue };
        for &(rel, tail) in edges {
            let Some(tail_name) = name_of.get(&tail).copied() else { continue };
            let (items, other) = match (items_of.get(&head), items_of.get(&tail)) {
                (Some(i), None) => (i, tail_name),
                (None, Some(i)) => (i, head_name),
                _ => continue,
            };
            let other = other.split_whitespace().collect::<Vec<_>>().join(" ");
            if other.is_empty() {
                continue;
            }
            for item in items {
                out.entry(*item).or_default().push((rel, other.clone()));
            }
        }
    }
    Ok(out)
}

/// KECRS triples with a catalog item as head: (item, relation id, tail entity name); see
/// [`kecrs_edges`].
fn kecrs_triples(
    ent_path: &Path,
    ent_bytes: &[u8],
    kg_path: &Path,
    kg_bytes: &[u8],
    known: &BTreeSet<ItemId>,
) -> Result<BTreeSet<(ItemId, u32, String)>> {
    let edges = kecrs_edges(ent_path, ent_bytes, kg_path, kg_bytes, known, false)?;
    Ok(edges.into_iter().flat_map(|(item, e)| e.into_iter().map(move |(r, n)| (item, r, n))).collect())
}

/// Checks the meaning of the KECRS relation ids used (1 cast, 14 keyword, 15 production company,
/// 16 language) against the data; returns one line per check, or an error naming the failed one.
///
/// - 1 (cast): ≥ 60 % of the CFCRS stars of items with relation-1 edges are among them;
/// - 16 (language): ≤ 100 distinct tails, "English" the most frequent, ≥ 80 % of items covered;
/// - 15 (company): "warner bros. pictures" and "universal pictures" among the 5 most frequent tails;
/// - 14 (keyword): no tail is also a relation-1 (person) tail, and "based on novel or book" is one.
pub fn verify_kecrs(triples: &BTreeSet<(ItemId, u32, String)>, items: &[Item]) -> Result<Vec<String>> {
    let mut checks = Vec::new();
    let fail = |m: String| Err(Error::InvalidInput(format!("{KECRS_KG}: relation check failed: {m}")));
    let by_rel = |r: u32| triples.iter().filter(move |t| t.1 == r);
    // Cast.
    let cast: BTreeSet<(ItemId, &str)> = by_rel(1).map(|t| (t.0, t.2.as_str())).collect();
    let with_cast: BTreeSet<ItemId> = cast.iter().map(|c| c.0).collect();
    let (mut hit, mut total) = (0usize, 0usize);
    for it in items.iter().filter(|i| with_cast.contains(&i.id)) {
        for s in &it.stars {
            total += 1;
            hit += usize::from(cast.contains(&(it.id, s.as_str())));
        }
    }
    let share = hit as f64 / total.max(1) as f64;
    if share < 0.6 {
        return fail(format!("relation 1 holds only {hit}/{total} CFCRS stars"));
    }
    checks.push(format!(
        "relation 1 = cast: holds {hit}/{total} ({:.1} %) of the CFCRS stars of its items",
        100.0 * share
    ));
    // Language.
    let mut langs: BTreeMap<&str, usize> = BTreeMap::new();
    for t in by_rel(16) {
        *langs.entry(t.2.as_str()).or_insert(0) += 1;
    }
    let top = langs.iter().max_by_key(|(n, c)| (**c, std::cmp::Reverse(**n))).map(|(n, _)| *n);
    let covered: BTreeSet<ItemId> = by_rel(16).map(|t| t.0).collect();
    let cov = covered.len() as f64 / items.len().max(1) as f64;
    if langs.len() > 100 || top != Some("English") || cov < 0.8 {
        return fail(format!("relation 16: {} tails, top {top:?}, coverage {cov:.3}", langs.len()));
    }
    checks.push(format!(
        "relation 16 = language: {} distinct tails, most frequent \"English\", {} of {} items",
        langs.len(),
        covered.len(),
        items.len()
    ));
    // Company.
    let mut comp: BTreeMap<&str, usize> = BTreeMap::new();
    for t in by_rel(15) {
        *comp.entry(t.2.as_str()).or_insert(0) += 1;
    }
    let mut ranked: Vec<(&str, usize)> = comp.iter().map(|(n, c)| (*n, *c)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let top5: Vec<&str> = ranked.iter().take(5).map(|r| r.0).collect();
    if !top5.contains(&"warner bros. pictures") || !top5.contains(&"universal pictures") {
        return fail(format!("relation 15: top tails {top5:?}"));
    }
    checks.push(format!("relation 15 = production company: {} distinct tails, top five {top5:?}", ranked.len()));
    // Keyword.
    let people: BTreeSet<&str> = by_rel(1).map(|t| t.2.as_str()).collect();
    let kw: BTreeSet<&str> = by_rel(14).map(|t| t.2.as_str()).collect();
    let overlap = kw.intersection(&people).count();
    if overlap > 0 || !kw.contains("based on novel or book") {
        return fail(format!("relation 14: {overlap} tails are also cast names"));
    }
    checks.push(format!("relation 14 = keyword: {} distinct tails, none a cast name", kw.len()));
    Ok(checks)
}

/// DBpedia `subsequentWork` / `previousWork` links between catalog items, as (earlier, later).
fn dbpedia_sequels(
    source: &Path,
    inputs: &mut BTreeMap<String, String>,
    known: &BTreeSet<ItemId>,
) -> Result<BTreeSet<(ItemId, ItemId)>> {
    let mut load = |rel: &str| -> Result<(std::path::PathBuf, Vec<u8>)> {
        let p = source.join(rel);
        let b = read(&p)?;
        inputs.insert(rel.to_string(), sha256_hex(&b));
        Ok((p, b))
    };
    let (rp, rb) = load(UNICRS_RELATIONS)?;
    let relations: HashMap<String, u32> = json(&rp, &rb, "a map of relation URI to id")?;
    let rel = |name: &str| {
        relations
            .get(&format!("<http://dbpedia.org/ontology/{name}>"))
            .copied()
            .ok_or_else(|| Error::parse(&rp, 0, format!("no relation {name}")))
    };
    let (next, prev) = (rel("subsequentWork")?, rel("previousWork")?);
    let (ep, eb) = load(UNICRS_ENTITIES)?;
    let entities: HashMap<String, u32> = json(&ep, &eb, "a map of DBpedia URI to id")?;
    let (ip, ib) = load(KGSF_ID2ENTITY)?;
    let id2uri: HashMap<String, Option<String>> = json(&ip, &ib, "a map of movieId to DBpedia URI")?;
    let (kp, kb) = load(UNICRS_KG)?;
    let kg: HashMap<String, Vec<(u32, u32)>> = json(&kp, &kb, "a map of entity id to [relation, tail]")?;
    let mut item_of: HashMap<u32, ItemId> = HashMap::new();
    for (mid, uri) in &id2uri {
        let (Ok(mid), Some(uri)) = (mid.parse::<ItemId>(), uri) else { continue };
        if let (true, Some(e)) = (known.contains(&mid), entities.get(uri)) {
            // Several movieIds may share a URI; keep the smallest for determinism.
            let slot = item_of.entry(*e).or_insert(mid);
            *slot = (*slot).min(mid);
        }
    }
    let mut out = BTreeSet::new();
    for (head, edges) in &kg {
        let Some(h) = head.parse::<u32>().ok().and_then(|h| item_of.get(&h).copied()) else { continue };
        for &(r, t) in edges {
            let Some(t) = item_of.get(&t).copied() else { continue };
            if h == t {
                continue;
            }
            if r == next {
                out.insert((h, t));
            } else if r == prev {
                out.insert((t, h));
            }
        }
    }
    Ok(out)
}

/// The numeral suffix of a sequel title: "Shrek 2" → ("shrek", 2); "Rocky II" → ("rocky", 2).
fn sequel_number(norm_title: &str) -> Option<(&str, u8)> {
    let (base, last) = norm_title.rsplit_once(' ')?;
    let n = match last {
        "2" | "ii" => 2,
        "3" | "iii" => 3,
        "4" | "iv" => 4,
        "5" | "v" => 5,
        "6" => 6,
        "7" => 7,
        "8" => 8,
        "9" => 9,
        _ => return None,
    };
    Some((base, n))
}

/// Sequel pairs (earlier, later) from the title rule (module doc).
pub fn title_sequels(items: &[Item]) -> BTreeSet<(ItemId, ItemId)> {
    let norm: Vec<String> = items.iter().map(|i| crate::catalog::text::normalize(&i.title)).collect();
    let mut by_title: HashMap<&str, Vec<usize>> = HashMap::new();
    for (p, t) in norm.iter().enumerate() {
        by_title.entry(t.as_str()).or_default().push(p);
    }
    let shares = |a: &Item, b: &Item| {
        a.directors.iter().filter(|x| b.directors.contains(x)).count()
            + a.writers.iter().filter(|x| b.writers.contains(x)).count()
            + a.stars.iter().filter(|x| b.stars.contains(x)).count()
    };
    let mut out = BTreeSet::new();
    for (p, t) in norm.iter().enumerate() {
        let Some((base, n)) = sequel_number(t) else { continue };
        let later = &items[p];
        // The predecessor: "base" for part 2, "base n-1" otherwise.
        let prev_title = if n == 2 { base.to_string() } else { format!("{base} {}", n - 1) };
        let mut cands: Vec<usize> = by_title.get(prev_title.as_str()).cloned().unwrap_or_default();
        if n == 2 {
            cands.extend(by_title.get(format!("{base} 1").as_str()).cloned().unwrap_or_default());
        }
        // One predecessor: the earlier item sharing the most people, then the latest year.
        let best = cands
            .into_iter()
            .map(|q| &items[q])
            .filter(|e| matches!((e.year, later.year), (Some(a), Some(b)) if a < b))
            .map(|e| (shares(e, later), e.year, std::cmp::Reverse(e.id), e.id))
            .filter(|c| c.0 > 0)
            .max();
        if let Some((_, _, _, earlier)) = best {
            out.insert((earlier, later.id));
        }
    }
    out
}

/// Builds `knowledge/movies/` under `out` from `items` (the catalog just written) and the raw KGs
/// under `source`. Errors name the file (and line) that is missing or malformed, or the KECRS
/// relation check that failed.
pub fn build(source: &Path, out: &Path, items: &[Item]) -> Result<KnowledgeManifest> {
    let mut inputs = BTreeMap::new();
    let known: BTreeSet<ItemId> = items.iter().map(|i| i.id).collect();
    let ent_path = source.join(KECRS_ENTITIES);
    let ent_bytes = read(&ent_path)?;
    inputs.insert(KECRS_ENTITIES.to_string(), sha256_hex(&ent_bytes));
    let kg_path = source.join(KECRS_KG);
    let kg_bytes = read(&kg_path)?;
    inputs.insert(KECRS_KG.to_string(), sha256_hex(&kg_bytes));
    let kecrs = kecrs_triples(&ent_path, &ent_bytes, &kg_path, &kg_bytes, &known)?;
    let checks = verify_kecrs(&kecrs, items)?;
    let mut sequels = dbpedia_sequels(source, &mut inputs, &known)?;
    sequels.extend(title_sequels(items));

    // Attribute triples: (item, relation, kind, name).
    let mut triples: BTreeSet<(ItemId, Relation, NodeKind, String)> = BTreeSet::new();
    for it in items {
        for g in &it.genres {
            triples.insert((it.id, Relation::Genre, NodeKind::Genre, g.clone()));
        }
        for d in &it.directors {
            triples.insert((it.id, Relation::Director, NodeKind::Person, d.clone()));
        }
        for w in &it.writers {
            triples.insert((it.id, Relation::Writer, NodeKind::Person, w.clone()));
        }
        for s in &it.stars {
            triples.insert((it.id, Relation::Actor, NodeKind::Person, s.clone()));
        }
    }
    for (item, rel, name) in &kecrs {
        if super::audit::dropped_by_hand(*item) {
            continue; // every source describes another film (see `audit::HAND_CHECKED`)
        }
        let (r, k) = match rel {
            1 => (Relation::Actor, NodeKind::Person),
            14 => (Relation::Keyword, NodeKind::Keyword),
            15 => (Relation::Company, NodeKind::Company),
            16 => (Relation::Language, NodeKind::Language),
            _ => continue,
        };
        triples.insert((*item, r, k, name.clone()));
    }
    let graph = Graph { items, triples: &triples, sequels: &sequels };
    write_graph(out, "movies", &graph, checks, inputs)
}

/// A graph to write: items (the catalog, in id order) and their attribute triples
/// `(item, relation, kind, name)` and sequel pairs `(earlier, later)`.
pub(crate) struct Graph<'a> {
    /// The catalog's items in id order; they become nodes `0..items.len()`.
    pub items: &'a [Item],
    /// Item → attribute triples.
    pub triples: &'a BTreeSet<(ItemId, Relation, NodeKind, String)>,
    /// Item → item sequel pairs.
    pub sequels: &'a BTreeSet<(ItemId, ItemId)>,
}

/// Writes `knowledge/<name>/{nodes.tsv, edges.tsv, manifest.json}` under `out` (the formats in
/// `knowledge/README.md`), deterministic and sorted, and returns the manifest written.
///
/// Errors: a file that cannot be written (named).
pub(crate) fn write_graph(
    out: &Path,
    name: &str,
    graph: &Graph<'_>,
    checks: Vec<String>,
    inputs: BTreeMap<String, String>,
) -> Result<KnowledgeManifest> {
    let Graph { items, triples, sequels } = *graph;
    // Nodes: items first (id order), then attributes sorted by (kind, name).
    let mut node_of_item: HashMap<ItemId, usize> = HashMap::new();
    let mut nodes = String::from("node\tkind\tname\titem\tyear\n");
    let mut node_counts: BTreeMap<String, usize> = BTreeMap::new();
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    for (n, it) in items.iter().enumerate() {
        node_of_item.insert(it.id, n);
        let year = it.year.map(|y| y.to_string()).unwrap_or_default();
        let _ = writeln!(nodes, "{n}\titem\t{}\t{}\t{year}", clean(&it.title), it.id);
    }
    node_counts.insert("item".into(), items.len());
    let attrs: BTreeSet<(NodeKind, &str)> = triples.iter().map(|t| (t.2, t.3.as_str())).collect();
    let mut node_of_attr: HashMap<(NodeKind, &str), usize> = HashMap::new();
    for (k, attr) in &attrs {
        let n = items.len() + node_of_attr.len();
        node_of_attr.insert((*k, attr), n);
        let _ = writeln!(nodes, "{n}\t{}\t{}\t\t", k.as_str(), clean(attr));
        *node_counts.entry(k.as_str().to_string()).or_insert(0) += 1;
    }
    let mut edges: BTreeSet<(usize, Relation, usize)> = BTreeSet::new();
    for (item, rel, kind, attr) in triples {
        if let (Some(h), Some(t)) = (node_of_item.get(item), node_of_attr.get(&(*kind, attr.as_str()))) {
            edges.insert((*h, *rel, *t));
        }
    }
    for (a, b) in sequels {
        if let (Some(h), Some(t)) = (node_of_item.get(a), node_of_item.get(b)) {
            edges.insert((*h, Relation::Sequel, *t));
        }
    }
    let mut edge_counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut edges_tsv = String::from("head\trelation\ttail\n");
    for (h, r, t) in &edges {
        let _ = writeln!(edges_tsv, "{h}\t{}\t{t}", r.as_str());
        *edge_counts.entry(r.as_str().to_string()).or_insert(0) += 1;
    }
    let mut outputs = BTreeMap::new();
    for (file, bytes) in [("nodes.tsv", nodes.as_bytes()), ("edges.tsv", edges_tsv.as_bytes())] {
        let rel = format!("knowledge/{name}/{file}");
        write_atomic(&out.join(&rel), bytes)?;
        outputs.insert(rel, sha256_hex(bytes));
    }
    let manifest = KnowledgeManifest { nodes: node_counts, edges: edge_counts, checks, inputs, outputs };
    let mut text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| Error::InvalidInput(format!("cannot serialise the knowledge manifest: {e}")))?;
    text.push('\n');
    write_atomic(&out.join(format!("knowledge/{name}/manifest.json")), text.as_bytes())?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequel_numbers_read_arabic_and_roman_numerals() {
        assert_eq!(sequel_number("shrek 2"), Some(("shrek", 2)));
        assert_eq!(sequel_number("rocky iv"), Some(("rocky", 4)));
        assert_eq!(sequel_number("heat"), None);
        assert_eq!(sequel_number("ocean s 11"), None);
    }
}
