//! `curator catalog build SRC --name NAME`: turns a catalog folder in the documented format
//! (`catalogs/README.md`: `catalog.yaml`, `items.jsonl`, optional `interactions.jsonl`,
//! `knowledge.tsv` and `common_words.txt`) into the files Curator loads: `catalogs/NAME/` and `knowledge/NAME/`, each
//! with a `manifest.json` of counts and checksums.
//!
//! Validation comes first and stops at the first problem, naming the file, the 1-based line and
//! the field ("items.jsonl:12: field `people.designer[0]`: expected a string"). The build is
//! deterministic: the same folder gives byte-identical files (sorted, no timestamps).
//!
//! Defaults without interactions: popularity 0, no co-mentions, no trained model and the default
//! fusion weights, so the ranker uses content (BM25), the knowledge graph and attributes; with
//! interactions, popularity and co-mention counts come from the sessions, and the collaborative
//! model (`recommender.bin`) and the fusion weights (`ranker.yaml`) are trained on them
//! ([`super::catalog_train`]; a source `ranker.yaml` is used as given).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalog::config::{CatalogConfig, CONFIG_FILE};
use crate::catalog::{Item, ItemId};
use crate::knowledge::{NodeKind, Relation};
use crate::util::{for_each_jsonl_bytes, sha256_hex, write_atomic};
use crate::{Error, Result};

use super::knowledge::{write_graph, Graph};
use super::read;

/// Items file of a source folder.
pub const ITEMS_FILE: &str = "items.jsonl";
/// Optional sessions file of a source folder.
pub const INTERACTIONS_FILE: &str = "interactions.jsonl";
/// Optional knowledge triples of a source folder (`item \t relation \t name`).
pub const TRIPLES_FILE: &str = "knowledge.tsv";
/// Optional frequent words of the domain's conversations, one a line, which the entity linker
/// never links alone in lowercase or at a sentence start (`catalog::Catalog::load`); copied to
/// `catalogs/NAME/` sorted and deduplicated.
pub const COMMON_WORDS_FILE: &str = "common_words.txt";

/// The words of a source `common_words.txt`, sorted and deduplicated, one a line.
///
/// Errors: [`Error::Parse`] for a file that is not UTF-8, or naming the 1-based line of an entry
/// that is not one word in the linker's normal form (lowercase letters and digits:
/// `catalog::text::normalize` leaves it unchanged and it has no space).
fn read_common_words(path: &Path, bytes: &[u8]) -> Result<String> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::parse(path, 0, "not UTF-8"))?;
    let mut words = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let word = line.trim();
        if word.is_empty() {
            continue;
        }
        let norm = crate::catalog::text::normalize(word);
        if norm != word || norm.contains(' ') {
            return Err(Error::parse(
                path,
                i + 1,
                format!("{word:?} is not one word in normal form (lowercase letters and digits; normalised: {norm:?})"),
            ));
        }
        words.insert(word);
    }
    Ok(words.into_iter().fold(String::new(), |mut out, w| {
        out.push_str(w);
        out.push('\n');
        out
    }))
}

/// One line of `items.jsonl` (the source format; see `catalogs/README.md`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceItem {
    id: ItemId,
    title: String,
    #[serde(default)]
    year: Option<u16>,
    #[serde(default)]
    people: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    text: String,
}

/// One entry of a session: an item id, or an object with the id and optional labels.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum SessionEntry {
    Id(ItemId),
    Labelled(LabelledEntry),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelledEntry {
    id: ItemId,
    #[serde(default)]
    #[allow(dead_code)] // validated now; read by the collaborative training of a later build
    liked: Option<bool>,
    #[serde(default)]
    #[allow(dead_code)]
    role: Option<String>,
}

/// One line of `interactions.jsonl`: a session of items in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Session {
    #[serde(default)]
    #[allow(dead_code)]
    id: Option<String>,
    items: Vec<SessionEntry>,
}

/// What `curator catalog build` wrote (`catalogs/NAME/manifest.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CatalogBuildManifest {
    /// Catalog name.
    pub name: String,
    /// Items written.
    pub items: usize,
    /// Sessions read from `interactions.jsonl` (0 without the file).
    pub sessions: usize,
    /// Distinct co-mentioned pairs written to `comentions.tsv`.
    pub comention_pairs: usize,
    /// Knowledge-graph edges per relation.
    pub edges: BTreeMap<String, usize>,
    /// sha256 (hex) of each input, keyed by its file name in the source folder.
    pub inputs: BTreeMap<String, String>,
    /// sha256 (hex) of each output, keyed by its path relative to the output root.
    pub outputs: BTreeMap<String, String>,
    /// What was trained on the interactions (absent without them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training: Option<super::catalog_train::Training>,
}

fn field_error(path: &Path, line: usize, e: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let field = e.path().to_string();
    let msg = e.inner().to_string();
    // serde_json's message ends with "at line 1 column N" of the one-line value: drop it.
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    if field == "." {
        Error::parse(path, line, msg)
    } else {
        Error::parse(path, line, format!("field `{field}`: {msg}"))
    }
}

fn typed<T: serde::de::DeserializeOwned>(path: &Path, line: usize, v: serde_json::Value) -> Result<T> {
    serde_path_to_error::deserialize(v).map_err(|e| field_error(path, line, e))
}

fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn clean_list(v: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in v {
        let s = clean(s);
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Reads and validates `items.jsonl`; returns the items sorted by id.
fn read_items(path: &Path, bytes: &[u8], config: &CatalogConfig, bar: &indicatif::ProgressBar) -> Result<Vec<Item>> {
    let mut seen: BTreeMap<ItemId, usize> = BTreeMap::new();
    let mut items = Vec::new();
    for_each_jsonl_bytes(bytes, path, |line, v: serde_json::Value| {
        bar.inc(1);
        let s: SourceItem = typed(path, line, v)?;
        if let Some(first) = seen.insert(s.id, line) {
            return Err(Error::parse(path, line, format!("field `id`: {} already used on line {first}", s.id)));
        }
        let title = clean(&s.title);
        if title.is_empty() {
            return Err(Error::parse(path, line, "field `title`: must not be empty"));
        }
        if s.year == Some(0) {
            return Err(Error::parse(path, line, "field `year`: must be a year such as 1995, not 0"));
        }
        let mut slots: [Vec<String>; 3] = Default::default();
        for (role, names) in &s.people {
            let Some(k) = config.people.iter().position(|r| &r.role == role) else {
                let known: Vec<&str> = config.people.iter().map(|r| r.role.as_str()).collect();
                return Err(Error::parse(
                    path,
                    line,
                    format!("field `people.{role}`: role not declared in {CONFIG_FILE} `people` (declared: {known:?})"),
                ));
            };
            slots[k] = clean_list(names);
        }
        let [directors, writers, stars] = slots;
        items.push(Item {
            id: s.id,
            title,
            year: s.year,
            genres: clean_list(&s.categories).into_iter().map(|g| g.to_lowercase()).collect(),
            directors,
            writers,
            stars,
            plot: clean(&s.text),
            imdb_id: None,
            popularity: 0,
        });
        Ok(())
    })?;
    if items.is_empty() {
        return Err(Error::parse(path, 0, "no items"));
    }
    items.sort_by_key(|i| i.id);
    Ok(items)
}

/// Reads and validates `interactions.jsonl`: each session's distinct item ids in order.
fn read_sessions(path: &Path, bytes: &[u8], known: &BTreeSet<ItemId>) -> Result<Vec<Vec<ItemId>>> {
    let mut sessions = Vec::new();
    for_each_jsonl_bytes(bytes, path, |line, v: serde_json::Value| {
        let s: Session = typed(path, line, v)?;
        let mut ids: Vec<ItemId> = Vec::new();
        for (k, e) in s.items.iter().enumerate() {
            let id = match e {
                SessionEntry::Id(id) => *id,
                SessionEntry::Labelled(l) => l.id,
            };
            if !known.contains(&id) {
                return Err(Error::parse(
                    path,
                    line,
                    format!("field `items[{k}]`: item id {id} is not in {ITEMS_FILE}"),
                ));
            }
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        sessions.push(ids);
        Ok(())
    })?;
    Ok(sessions)
}

/// Item → attribute triples `(item, relation, kind, name)`.
type Triples = BTreeSet<(ItemId, Relation, NodeKind, String)>;
/// Item → item sequel pairs `(earlier, later)`.
type Sequels = BTreeSet<(ItemId, ItemId)>;

/// Reads `knowledge.tsv` (`item \t relation \t name`, optional header line starting `item\t`):
/// relation is a role of `catalog.yaml` `people`, `category`, `keyword`, `company`, `language`,
/// or `sequel` (name = the later item's id).
fn read_triples(
    path: &Path,
    text: &str,
    config: &CatalogConfig,
    known: &BTreeSet<ItemId>,
) -> Result<(Triples, Sequels)> {
    let mut triples = BTreeSet::new();
    let mut sequels = BTreeSet::new();
    let person_rel = [Relation::Director, Relation::Writer, Relation::Actor];
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() || (line == 1 && raw.starts_with("item\t")) {
            continue;
        }
        let cols: Vec<&str> = raw.split('\t').collect();
        let [item, rel, name] = cols[..] else {
            return Err(Error::parse(path, line, format!("expected 3 tab-separated columns, got {}", cols.len())));
        };
        let id: ItemId = item
            .trim()
            .parse()
            .map_err(|_| Error::parse(path, line, format!("column `item`: {item:?} is not an id")))?;
        if !known.contains(&id) {
            return Err(Error::parse(path, line, format!("column `item`: item id {id} is not in {ITEMS_FILE}")));
        }
        let name = clean(name);
        if name.is_empty() {
            return Err(Error::parse(path, line, "column `name`: must not be empty"));
        }
        let rel = rel.trim();
        let (r, k) = match rel {
            "category" => (Relation::Genre, NodeKind::Genre),
            "keyword" => (Relation::Keyword, NodeKind::Keyword),
            "company" => (Relation::Company, NodeKind::Company),
            "language" => (Relation::Language, NodeKind::Language),
            "sequel" => {
                let later: ItemId = name
                    .parse()
                    .ok()
                    .filter(|l| known.contains(l))
                    .ok_or_else(|| Error::parse(path, line, format!("column `name`: sequel {name:?} is not an item id")))?;
                sequels.insert((id, later));
                continue;
            }
            role => match config.people.iter().position(|p| p.role == role) {
                Some(slot) => (person_rel[slot], NodeKind::Person),
                None => {
                    return Err(Error::parse(
                        path,
                        line,
                        format!("column `relation`: {role:?} is neither a declared role nor category/keyword/company/language/sequel"),
                    ))
                }
            },
        };
        let name = if k == NodeKind::Genre { name.to_lowercase() } else { name };
        triples.insert((id, r, k, name));
    }
    Ok((triples, sequels))
}

/// Builds catalog `name` from the source folder `src` into `out` (`catalogs/<name>/`,
/// `knowledge/<name>/`), with a progress bar on stderr when `progress`.
///
/// Errors: an invalid `name`; a missing `catalog.yaml` or `items.jsonl`; the first validation
/// problem of any file, naming file, line and field; an unwritable output (named).
pub fn build_catalog(src: &Path, name: &str, out: &Path, progress: bool) -> Result<CatalogBuildManifest> {
    if !crate::catalog::config::valid_name(name) {
        return Err(Error::InvalidInput(format!(
            "--name {name:?}: a catalog name is 1–40 lowercase letters, digits, '-' or '_'"
        )));
    }
    if !src.is_dir() {
        return Err(Error::InvalidInput(format!(
            "{} is not a folder (expected {CONFIG_FILE} and {ITEMS_FILE} in it)",
            src.display()
        )));
    }
    let mut inputs = BTreeMap::new();
    let config_path = src.join(CONFIG_FILE);
    let config_bytes = read(&config_path)?;
    inputs.insert(CONFIG_FILE.to_string(), sha256_hex(&config_bytes));
    let config_text = String::from_utf8(config_bytes).map_err(|_| Error::parse(&config_path, 0, "not UTF-8"))?;
    let mut config = CatalogConfig::parse(&config_path, &config_text)?;
    config.name = name.to_string();

    let items_path = src.join(ITEMS_FILE);
    let items_bytes = read(&items_path)?;
    inputs.insert(ITEMS_FILE.to_string(), sha256_hex(&items_bytes));
    let lines = items_bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();
    let bar = if progress {
        crate::util::progress_bar(lines, format!("catalog {name}"))
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut items = read_items(&items_path, &items_bytes, &config, &bar)?;
    bar.finish_and_clear();
    let known: BTreeSet<ItemId> = items.iter().map(|i| i.id).collect();

    let inter_path = src.join(INTERACTIONS_FILE);
    let sessions = if inter_path.exists() {
        let bytes = read(&inter_path)?;
        inputs.insert(INTERACTIONS_FILE.to_string(), sha256_hex(&bytes));
        read_sessions(&inter_path, &bytes, &known)?
    } else {
        Vec::new()
    };
    let (popularity, pairs) = super::catalog_train::count_sessions(&sessions);
    for it in &mut items {
        it.popularity = popularity.get(&it.id).copied().unwrap_or(0);
    }

    let triples_path = src.join(TRIPLES_FILE);
    let (mut triples, sequels) = if triples_path.exists() {
        let bytes = read(&triples_path)?;
        inputs.insert(TRIPLES_FILE.to_string(), sha256_hex(&bytes));
        let text = String::from_utf8(bytes).map_err(|_| Error::parse(&triples_path, 0, "not UTF-8"))?;
        read_triples(&triples_path, &text, &config, &known)?
    } else {
        (BTreeSet::new(), BTreeSet::new())
    };
    // The items' own fields become graph edges too.
    let keywords = keyword_map(&items_bytes, &items_path)?;
    for it in &items {
        for g in &it.genres {
            triples.insert((it.id, Relation::Genre, NodeKind::Genre, g.clone()));
        }
        for (rel, people) in
            [(Relation::Director, &it.directors), (Relation::Writer, &it.writers), (Relation::Actor, &it.stars)]
        {
            for p in people {
                triples.insert((it.id, rel, NodeKind::Person, p.clone()));
            }
        }
        for k in keywords.get(&it.id).into_iter().flatten() {
            triples.insert((it.id, Relation::Keyword, NodeKind::Keyword, k.clone()));
        }
    }

    let mut items_jsonl = String::new();
    for it in &items {
        let line = serde_json::to_string(it)
            .map_err(|e| Error::InvalidInput(format!("cannot serialise item {}: {e}", it.id)))?;
        items_jsonl.push_str(&line);
        items_jsonl.push('\n');
    }
    let mut comentions = String::from("item_a\titem_b\tdialogues\n");
    for ((a, b), n) in &pairs {
        let _ = writeln!(comentions, "{a}\t{b}\t{n}");
    }
    let words_path = src.join(COMMON_WORDS_FILE);
    let common_words = if words_path.exists() {
        let bytes = read(&words_path)?;
        inputs.insert(COMMON_WORDS_FILE.to_string(), sha256_hex(&bytes));
        Some(read_common_words(&words_path, &bytes)?)
    } else {
        None
    };
    let config_out =
        serde_yaml::to_string(&config).map_err(|e| Error::InvalidInput(format!("cannot write {CONFIG_FILE}: {e}")))?;
    let dir = format!("catalogs/{name}");
    let mut outputs = BTreeMap::new();
    for (file, bytes) in [
        (ITEMS_FILE, items_jsonl.as_bytes()),
        ("comentions.tsv", comentions.as_bytes()),
        (CONFIG_FILE, config_out.as_bytes()),
    ] {
        let rel = format!("{dir}/{file}");
        write_atomic(&out.join(&rel), bytes)?;
        outputs.insert(rel, sha256_hex(bytes));
    }
    if let Some(words) = &common_words {
        let rel = format!("{dir}/{COMMON_WORDS_FILE}");
        write_atomic(&out.join(&rel), words.as_bytes())?;
        outputs.insert(rel, sha256_hex(words.as_bytes()));
    }
    // A stale trained model, weights or word list of an earlier build would not match these
    // items or this source.
    let stale_words = common_words.is_none().then_some(COMMON_WORDS_FILE);
    for file in [crate::recommender::MODEL_FILE, crate::rank::RANKER_FILE].into_iter().chain(stale_words) {
        let stale = out.join(&dir).join(file);
        if stale.exists() {
            std::fs::remove_file(&stale).map_err(|e| Error::io(&stale, e))?;
        }
    }
    let graph = Graph { items: &items, triples: &triples, sequels: &sequels };
    let kg = write_graph(out, name, &graph, Vec::new(), inputs.clone())?;
    // With interactions: the collaborative model and the fusion weights (module
    // `catalog_train`); a source `ranker.yaml` is used as given.
    let ranker_path = src.join(crate::rank::RANKER_FILE);
    let source_ranker = if ranker_path.exists() {
        let bytes = read(&ranker_path)?;
        inputs.insert(crate::rank::RANKER_FILE.to_string(), sha256_hex(&bytes));
        Some(ranker_path.as_path())
    } else {
        None
    };
    let training = if sessions.is_empty() {
        if let Some(p) = source_ranker {
            crate::rank::config::load(p)?;
            let bytes = read(p)?;
            let rel = format!("{dir}/{}", crate::rank::RANKER_FILE);
            write_atomic(&out.join(&rel), &bytes)?;
            outputs.insert(rel, sha256_hex(&bytes));
        }
        None
    } else {
        let bar = if progress {
            crate::util::progress_bar(super::catalog_train::GRID.len(), format!("training {name}"))
        } else {
            indicatif::ProgressBar::hidden()
        };
        let (training, files) = super::catalog_train::train(&out.join(&dir), &sessions, source_ranker, &bar)?;
        bar.finish_and_clear();
        for (file, bytes) in files {
            outputs.insert(format!("{dir}/{file}"), sha256_hex(&bytes));
        }
        Some(training)
    };
    let manifest = CatalogBuildManifest {
        name: name.to_string(),
        items: items.len(),
        sessions: sessions.len(),
        comention_pairs: pairs.len(),
        edges: kg.edges,
        inputs,
        outputs,
        training,
    };
    let mut text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| Error::InvalidInput(format!("cannot serialise the manifest: {e}")))?;
    text.push('\n');
    write_atomic(&out.join(&dir).join("manifest.json"), text.as_bytes())?;
    Ok(manifest)
}

/// The `keywords` of each item (kept out of [`Item`], which has no such field; they live in the
/// graph).
fn keyword_map(bytes: &[u8], path: &Path) -> Result<BTreeMap<ItemId, Vec<String>>> {
    let mut out = BTreeMap::new();
    for_each_jsonl_bytes(bytes, path, |line, v: serde_json::Value| {
        let s: SourceItem = typed(path, line, v)?;
        out.insert(s.id, clean_list(&s.keywords).into_iter().map(|k| k.to_lowercase()).collect());
        Ok(())
    })?;
    Ok(out)
}
