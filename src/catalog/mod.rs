//! The item catalog: items with metadata, a tantivy index, and entity linking from free text.

use serde::{Deserialize, Serialize};

/// A catalog item id. For movies this is the ReDial `movieId` (`movies_with_mentions.csv`).
pub type ItemId = u32;

/// One catalog item (a movie), as stored in `catalogs/movies/items.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Item {
    /// ReDial `movieId`.
    pub id: ItemId,
    /// Title without the year, whitespace normalised ("Black Panther").
    pub title: String,
    /// Release year when the ReDial name carries one.
    pub year: Option<u16>,
    /// Genres, lowercase (CFCRS `id2info.json` `genre`).
    pub genres: Vec<String>,
    /// Directors (CFCRS `director`).
    pub directors: Vec<String>,
    /// Writers (CFCRS `writer`).
    pub writers: Vec<String>,
    /// Leading actors (CFCRS `star`).
    pub stars: Vec<String>,
    /// One-paragraph plot (CFCRS `plot`); empty when unknown.
    pub plot: String,
    /// IMDb id such as `tt0113277` (CFCRS `imdb_id`).
    pub imdb_id: Option<String>,
    /// Number of mentions in the ReDial *training* dialogues (`redial/train_movie_level/`).
    pub popularity: u32,
}

impl Item {
    /// The display name used in replies and in ReDial: "Title (Year)", or "Title" without a year.
    pub fn display_name(&self) -> String {
        match self.year {
            Some(y) => format!("{} ({y})", self.title),
            None => self.title.clone(),
        }
    }
}

pub mod config;
mod index;
mod linking;
pub mod text;

pub use index::{SearchFilters, SearchHit};
pub use linking::{LinkCandidate, Mention, MissingTitle};

use std::collections::HashMap;
use std::path::Path;

use crate::{Error, Result};

/// The loaded catalog: items in id order, an id → position map, a tantivy index over title,
/// people, genres and plot, and the entity linker.
///
/// Loading builds the index in RAM (≈ 7k documents); no network I/O, no panics on bad data.
pub struct Catalog {
    items: Vec<Item>,
    by_id: rustc_hash::FxHashMap<ItemId, usize>,
    index: index::CatalogIndex,
    linker: linking::Linker,
    /// Every position grouped by normalised title, groups in order of their first member (one
    /// contiguous array, read per item per turn), e.g. the ReDial duplicates "Heat (1995)" /
    /// "Heat (1996)" / "Heat (2006)" side by side.
    title_members: Vec<usize>,
    /// Per position: the range of its group (itself included) in `title_members`.
    title_group: Vec<(u32, u32)>,
    /// What the items are called and which people roles they have (`catalog.yaml`).
    config: config::CatalogConfig,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("items", &self.items.len()).finish()
    }
}

/// Another name of a catalog item, for entity linking: an alternative title ("Se7en" for
/// *Seven* (1995), from MovieLens' "a.k.a." titles) or a common abbreviation ("LOTR").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// The item.
    pub id: ItemId,
    /// The other name, as written.
    pub alias: String,
    /// Linked only when written in capitals ("HP" but not "hp").
    pub caps_only: bool,
}

/// Reads an alias file (`aliases.tsv`, built by `curator data build` from MovieLens titles, and
/// the hand-written `aliases_hand.tsv`): a header, then `alias<TAB>item<TAB>note` rows, the item
/// an id or its title as [`Item::display_name`] writes it; the note `caps` makes the alias
/// [`Alias::caps_only`]. A missing file is no aliases.
///
/// Errors: [`Error::Io`] for an unreadable file; [`Error::Parse`] naming the line of a row
/// without three fields or with a title the catalog lacks.
pub fn read_aliases(path: &Path, catalog: &Catalog) -> Result<Vec<Alias>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_aliases(&text, path, catalog)
}

/// [`read_aliases`] over the text of an alias file; `path` only names the source in errors.
///
/// Errors: [`Error::Parse`] as [`read_aliases`].
pub fn parse_aliases(text: &str, path: &Path, catalog: &Catalog) -> Result<Vec<Alias>> {
    // Built on the first row that names its item by title (ids need no map).
    let mut by_name = None;
    let mut out = Vec::new();
    for (line, row) in crate::util::parse_tsv_rows(text, path, 3, "alias, item, note")? {
        let [alias, title, note] = [&row[0], &row[1], &row[2]];
        let id = match title.parse::<ItemId>() {
            Ok(id) if catalog.by_id.contains_key(&id) => Some(id),
            Ok(_) => None,
            Err(_) => by_name.get_or_insert_with(|| catalog.ids_by_display_name()).get(title).copied(),
        }
        .ok_or_else(|| Error::parse(path, line, format!("{title:?} is not a catalog id or title")))?;
        out.push(Alias { id, alias: alias.clone(), caps_only: note == "caps" });
    }
    Ok(out)
}

/// The words of a `common_words.txt`: one per line, trimmed, blank lines skipped.
pub fn parse_common_words(text: &str) -> Vec<String> {
    text.lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect()
}

/// Why `items` cannot be a catalog: none, or an id twice.
fn check_items(items: &[Item]) -> std::result::Result<(), String> {
    if items.is_empty() {
        return Err("the catalog has no items".into());
    }
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    match items.iter().find(|it| !seen.insert(it.id)) {
        Some(it) => Err(format!("item id {} appears twice", it.id)),
        None => Ok(()),
    }
}

impl Catalog {
    /// Loads `items.jsonl` and `catalog.yaml` (if any) from `dir` (e.g. `catalogs/movies`) and
    /// builds the search index.
    ///
    /// Errors: [`Error::Missing`] when the file does not exist (with the command that builds it),
    /// [`Error::Parse`] naming the line of a malformed record or a duplicate id, and those of
    /// [`config::CatalogConfig::load`].
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("items.jsonl");
        if !path.exists() {
            return Err(Error::Missing(format!(
                "catalog file {} not found; build it with `curator data build --source ../shared/data`",
                path.display()
            )));
        }
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let items = Self::parse_items(&bytes, &path)?;
        // Optional: the frequent words of the training dialogues (see `data`), which the linker
        // never links alone in lowercase.
        let words_path = dir.join("common_words.txt");
        let common_words = if words_path.exists() {
            parse_common_words(&std::fs::read_to_string(&words_path).map_err(|e| Error::io(&words_path, e))?)
        } else {
            Vec::new()
        };
        let config = config::CatalogConfig::load(dir)?;
        let mut catalog = Self::with_common_words(items, Vec::new())?;
        let mut aliases = read_aliases(&dir.join("aliases.tsv"), &catalog)?;
        aliases.extend(read_aliases(&dir.join("aliases_hand.tsv"), &catalog)?);
        catalog.linker = linking::Linker::new(&catalog.items, common_words.into_iter().collect(), &aliases)?;
        catalog.config = config;
        Ok(catalog)
    }

    /// Parses and checks the text of an `items.jsonl` (one [`Item`] per line) without building
    /// the index: what [`Catalog::load`] does before indexing. `path` only names the source in
    /// errors. Returns the items in file order.
    ///
    /// Errors: [`Error::Parse`] naming `path` and the line of a malformed record, or (line 0) an
    /// empty file or a duplicate id.
    pub fn parse_items(bytes: &[u8], path: &Path) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        crate::util::for_each_jsonl_bytes(bytes, path, |_, item: Item| {
            items.push(item);
            Ok(())
        })?;
        check_items(&items).map_err(|m| Error::parse(path, 0, m))?;
        Ok(items)
    }

    /// The catalog's configuration (`catalog.yaml`; the movies defaults without one).
    pub fn config(&self) -> &config::CatalogConfig {
        &self.config
    }

    /// Builds a catalog from items (any order; stored sorted by id).
    ///
    /// Errors: [`Error::InvalidInput`] on an empty list or a duplicate id; [`Error::Index`] if
    /// tantivy fails.
    pub fn from_items(items: Vec<Item>) -> Result<Self> {
        Self::with_common_words(items, Vec::new())
    }

    /// Like [`Catalog::from_items`], with extra lowercase `common_words` that entity linking
    /// never links on their own (e.g. "help", "happy"; one word each, normalised).
    ///
    /// Errors: as [`Catalog::from_items`].
    pub fn with_common_words(mut items: Vec<Item>, common_words: Vec<String>) -> Result<Self> {
        check_items(&items).map_err(Error::InvalidInput)?;
        items.sort_by_key(|it| it.id);
        let by_id: rustc_hash::FxHashMap<ItemId, usize> = items.iter().enumerate().map(|(k, it)| (it.id, k)).collect();
        let index = index::CatalogIndex::build(&items)?;
        let linker = linking::Linker::new(&items, common_words.into_iter().collect(), &[])?;
        let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
        for (k, it) in items.iter().enumerate() {
            groups.entry(text::normalize(&it.title)).or_default().push(k);
        }
        let mut title_members: Vec<usize> = Vec::with_capacity(items.len());
        let mut title_group: Vec<(u32, u32)> = vec![(0, 0); items.len()];
        for it in &items {
            let Some(members) = groups.remove(&text::normalize(&it.title)) else { continue };
            let range = (title_members.len() as u32, (title_members.len() + members.len()) as u32);
            for &k in &members {
                title_group[k] = range;
            }
            title_members.extend(members);
        }
        Ok(Catalog { items, by_id, index, linker, title_members, title_group, config: config::CatalogConfig::movies() })
    }

    /// Display name ("Title (Year)", [`Item::display_name`]) → id; where ReDial lists one
    /// display name twice, the larger id.
    pub fn ids_by_display_name(&self) -> HashMap<String, ItemId> {
        self.items.iter().map(|i| (i.display_name(), i.id)).collect()
    }

    /// All items, sorted by id.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when the catalog has no items (never, for a loaded catalog).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The item with `id`, if any.
    pub fn get(&self, id: ItemId) -> Option<&Item> {
        self.by_id.get(&id).map(|&k| &self.items[k])
    }

    /// Position of `id` in [`Catalog::items`] (a dense index in `0..len`).
    pub fn position(&self, id: ItemId) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    /// Positions of every item sharing the normalised title of the item at `position` (itself
    /// included; empty if out of range). ReDial lists some films several times with different
    /// years, and its annotators often picked the wrong one, so the agent treats a title group
    /// as one film when excluding already-mentioned items.
    pub fn same_title(&self, position: usize) -> &[usize] {
        self.title_group.get(position).and_then(|&(a, b)| self.title_members.get(a as usize..b as usize)).unwrap_or(&[])
    }

    /// An id of the title group of the item at `position` ([`Catalog::same_title`]): equal for
    /// exactly the items with the same normalised title, below [`Catalog::len`]; `position`
    /// itself when out of range. Lets a per-turn pass mark a group with one write.
    pub fn title_group_id(&self, position: usize) -> usize {
        self.title_group.get(position).map_or(position, |&(a, _)| a as usize)
    }

    /// BM25 search over title, people, genres and plot (tantivy), keeping items that pass
    /// `filters`; at most `k` hits, best first. Query syntax errors are tolerated (lenient
    /// parsing); an empty query returns no hits.
    pub fn search(&self, query: &str, filters: &SearchFilters, k: usize) -> Result<Vec<SearchHit>> {
        self.index.search(&self.items, query, filters, k)
    }

    /// Ranks catalog items for a text that is meant to be one title ("black panther",
    /// "The Dark Knight (2008)", "colateral"): tantivy fuzzy candidates rescored by edit distance,
    /// year agreement and training popularity. At most `k` candidates, best first.
    pub fn link_title(&self, text: &str, k: usize) -> Vec<LinkCandidate> {
        self.linker.link_title(&self.items, &self.index, text, k)
    }

    /// Finds item mentions in free text ("I loved Heat and Collateral"): non-overlapping spans,
    /// each linked to its best item, in text order.
    pub fn link_text(&self, text: &str) -> Vec<Mention> {
        self.linker.link_text(&self.items, &self.index, text).0
    }

    /// The titles `text` asks for that the catalog lacks: numbered sequels of a catalog title
    /// past the entries it has ("Gladiator II", "Rocky 2"), which [`Catalog::link_text`] leaves
    /// unlinked rather than linking the original. In text order.
    pub fn missing_titles(&self, text: &str) -> Vec<MissingTitle> {
        self.linker.link_text(&self.items, &self.index, text).1
    }
}
