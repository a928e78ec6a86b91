//! `curator data build`: turns the raw research data (a folder laid out like `../shared/data`)
//! into the files Curator commits and loads at run time.
//!
//! Inputs (paths relative to `--source`):
//! - `redial/movies_with_mentions.csv` — the 6,924 ReDial movies (`movieId,movieName`; the
//!   corpus-wide `nbMentions` column is ignored because it counts the test split);
//! - `redial/kg/cfcrs/id2info.json` — CFCRS metadata (genre, director, writer, star, plot, imdb_id);
//! - `redial/train_movie_level/train_movie_sequences_compact.jsonl` — the ReDial *train* split at
//!   movie level, the only source of popularity and co-mention counts;
//! - `redial/train_partial/train_subset_original_format.jsonl` — ReDial training dialogues with
//!   text, the source of the frequent words that entity linking never links alone;
//! - `redial/test_data.jsonl` — the ReDial test split, copied unchanged to `evals/redial/`.
//!
//! Outputs (paths relative to `--out`, the repository root by default):
//! - `catalogs/movies/items.jsonl` — one [`Item`] per line, sorted by id;
//! - `catalogs/movies/comentions.tsv` — `item_a \t item_b \t dialogues` for a < b: the number of
//!   training dialogues mentioning both items;
//! - `catalogs/movies/common_words.txt` — the 1,000 words used in most messages of the training
//!   dialogues with text, one a line, sorted;
//! - `catalogs/movies/manifest.json` — counts and the sha256 of every input and output;
//! - `evals/redial/test.jsonl` — the ReDial test split, byte-identical to the source.
//! - `knowledge/movies/{nodes.tsv, edges.tsv, manifest.json}` — the knowledge graph, see
//!   [`knowledge`] and `knowledge/README.md`.
//!
//! The build is deterministic: the same input gives byte-identical output (no timestamps, sorted
//! keys, integer statistics only).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::catalog::{Item, ItemId};
use crate::util::{for_each_jsonl_bytes, sha256_hex, write_atomic};
use crate::{Error, Result};

pub mod audit;
pub mod catalog_build;
pub mod catalog_train;
pub mod knowledge;

/// Number of movies in ReDial's `movies_with_mentions.csv`.
pub const REDIAL_MOVIE_COUNT: usize = 6924;

/// What a build produced, also written to `catalogs/movies/manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Number of catalog items written.
    pub items: usize,
    /// Items that keep CFCRS metadata (`id2info.json`) after the audit, repaired ones included.
    pub items_with_metadata: usize,
    /// Training dialogues read from `train_movie_level` (lines of the file).
    pub train_dialogues: usize,
    /// Training dialogues that mention at least one catalog item.
    pub train_dialogues_used: usize,
    /// Distinct co-mentioned pairs written to `comentions.tsv`.
    pub comention_pairs: usize,
    /// Dialogues in the copied ReDial test split.
    pub test_dialogues: usize,
    /// What the catalog audit ([`audit`]) changed.
    #[serde(default)]
    pub audit: audit::AuditCounts,
    /// sha256 (hex) of each input, keyed by its path relative to the source folder.
    pub inputs: BTreeMap<String, String>,
    /// sha256 (hex) of each output, keyed by its path relative to the output root.
    pub outputs: BTreeMap<String, String>,
}

/// CFCRS `id2info.json` record.
#[derive(Debug, Deserialize)]
struct Info {
    #[serde(default)]
    name: String,
    #[serde(default)]
    genre: Vec<String>,
    #[serde(default)]
    plot: String,
    #[serde(default)]
    director: Vec<String>,
    #[serde(default)]
    writer: Vec<String>,
    #[serde(default)]
    star: Vec<String>,
    #[serde(default)]
    imdb_id: Option<String>,
}

/// One line of `train_movie_sequences_compact.jsonl`.
#[derive(Debug, Deserialize)]
pub(crate) struct TrainDialogue {
    /// ReDial conversationId.
    #[serde(default)]
    pub(crate) id: String,
    /// Ordered `[movieId, liked]` pairs; ids may be null.
    #[serde(default)]
    pub(crate) v: Option<Vec<(Option<String>, serde_json::Value)>>,
    /// Ordered `[movieId, "S"|"R", polarity]`; unresolved ids look like "I12".
    #[serde(default)]
    pub(crate) u: Option<Vec<(Option<String>, String, serde_json::Value)>>,
}

const MOVIES_CSV: &str = "redial/movies_with_mentions.csv";
const ID2INFO: &str = "redial/kg/cfcrs/id2info.json";
const TRAIN: &str = "redial/train_movie_level/train_movie_sequences_compact.jsonl";
const TEST: &str = "redial/test_data.jsonl";
const TRAIN_TEXT: &str = "redial/train_partial/train_subset_original_format.jsonl";
const MOVIELENS_LINKS: &str = "links/redial_to_movielens_small.csv";

/// Alternative titles from MovieLens (GroupLens ml-latest-small, via the ReDial → MovieLens link
/// table `links/redial_to_movielens_small.csv`, column `ml_title`): for every linked item, the
/// MovieLens title with its trailing article restored ("Godfather: Part II, The" → "The
/// Godfather: Part II") and each "a.k.a." title ("Seven (a.k.a. Se7en)" → "Se7en"), kept where
/// its normalised form differs from the item's title; none for the items in `rejected` (whose
/// IMDb id the audit found to be another film's, step 5 of [`audit`]). Returns `aliases.tsv` ([`crate::catalog::read_aliases`]:
/// alias, item id, `movielens`), rows in link-table order.
///
/// Errors: a row of the link table that is not valid CSV (named by line).
pub fn movielens_aliases(path: &Path, bytes: &[u8], items: &[Item], rejected: &HashSet<ItemId>) -> Result<String> {
    use crate::catalog::text::normalize;
    let known: HashMap<ItemId, &Item> = items.iter().filter(|i| !rejected.contains(&i.id)).map(|i| (i.id, i)).collect();
    let mut out = String::from("alias\ttitle\tnote\n");
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    for (k, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| Error::parse(path, k + 2, e.to_string()))?;
        let (Some(id), Some(ml)) = (rec.get(0).and_then(|s| s.parse::<ItemId>().ok()), rec.get(5)) else {
            continue;
        };
        let Some(item) = known.get(&id) else { continue };
        let own = normalize(&item.title);
        let mut seen = vec![own.clone(), crate::catalog::text::strip_article(&own).to_string()];
        for alias in movielens_titles(ml) {
            let n = normalize(&alias);
            if n.chars().count() < 3 || seen.contains(&n) {
                continue;
            }
            // One word links only as an abbreviation in capitals ("MIB") or with a digit
            // ("Se7en", "ID4"), never as a year ("2012") or an ordinary word ("Love").
            let note = if n.contains(' ') {
                "movielens"
            } else if alias.chars().all(|c| c.is_ascii_uppercase()) {
                "caps"
            } else if n.chars().any(|c| c.is_ascii_digit()) && n.chars().any(char::is_alphabetic) {
                "movielens"
            } else {
                continue;
            };
            seen.push(n);
            let _ = writeln!(out, "{alias}\t{id}\t{note}");
        }
    }
    Ok(out)
}

/// The `ml_title` of every linked row of the ReDial → MovieLens link table (column 0 the ReDial
/// id, column 5 the MovieLens title of the item's CFCRS IMDb id), by item id.
///
/// Errors: a row that is not valid CSV (named by line).
fn movielens_link_titles(path: &Path, bytes: &[u8]) -> Result<HashMap<ItemId, String>> {
    let mut out = HashMap::new();
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    for (k, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| Error::parse(path, k + 2, e.to_string()))?;
        if let (Some(id), Some(ml)) = (rec.get(0).and_then(|s| s.parse::<ItemId>().ok()), rec.get(5)) {
            if !ml.trim().is_empty() {
                out.insert(id, ml.to_string());
            }
        }
    }
    Ok(out)
}

/// The year of a MovieLens title: its last "(YYYY)" ("Heat (1995)" → 1995).
fn movielens_year(ml: &str) -> Option<u16> {
    let t = ml.trim().strip_suffix(')')?;
    let y = &t[t.rfind('(')? + 1..];
    (y.len() == 4).then(|| y.parse().ok()).flatten()
}

/// The titles in a MovieLens title: the main title (trailing ", The" / ", A" / ", An" moved to
/// the front) and every "(a.k.a. …)" title; the year and other parentheses (original-language
/// titles) dropped.
fn movielens_titles(ml: &str) -> Vec<String> {
    movielens_title_parts(ml, false)
}

/// [`movielens_titles`] and the other parenthesised titles too, original-language ones ("Hate
/// (Haine, La) (1995)" → "Hate", "La Haine"; "Dead Alive (Braindead) (1992)" → "Dead Alive",
/// "Braindead"): what the audit compares with a ReDial title (step 5 of [`audit`]), too loose for
/// aliases.
fn movielens_all_titles(ml: &str) -> Vec<String> {
    movielens_title_parts(ml, true)
}

/// A title with its trailing article put back in front ("Godfather: Part II, The" → "The
/// Godfather: Part II"; "Lord of the Rings: The Two Towers, The" likewise).
fn restore_article(main: &str) -> String {
    ["The", "A", "An", "Les", "La", "Le", "El", "Il", "Das", "Der", "Die"]
        .iter()
        .find_map(|a| {
            let suffix = format!(", {a}");
            main.strip_suffix(&suffix).map(|m| format!("{a} {m}")).or_else(|| {
                main.find(&format!("{suffix}:")).map(|at| format!("{a} {}{}", &main[..at], &main[at + suffix.len()..]))
            })
        })
        .unwrap_or_else(|| main.to_string())
}

fn movielens_title_parts(ml: &str, originals: bool) -> Vec<String> {
    let mut main = String::new();
    let mut akas = Vec::new();
    let mut rest = ml.trim();
    while let Some(open) = rest.find(" (") {
        main.push_str(&rest[..open]);
        let Some(close) = rest[open..].find(')').map(|c| c + open) else {
            rest = "";
            break;
        };
        let inner = rest[open + 2..close].trim();
        if let Some(aka) = inner.strip_prefix("a.k.a. ") {
            akas.push(aka.trim().to_string());
        } else if originals && !inner.is_empty() && !(inner.len() == 4 && inner.bytes().all(|b| b.is_ascii_digit())) {
            akas.push(restore_article(inner));
        }
        rest = &rest[close + 1..];
    }
    main.push_str(rest);
    let main = main.trim();
    let mut titles = Vec::new();
    if !main.is_empty() {
        // "Birdman: Or (The Unexpected Virtue of Ignorance)": the parentheses were part of it.
        if main.ends_with(':') || main.ends_with(" Or") {
            return akas;
        }
        titles.push(restore_article(main));
    }
    titles.extend(akas);
    titles
}

/// How many of the training dialogues' most frequent words go to `common_words.txt`.
pub const COMMON_WORDS: usize = 1000;

/// The `COMMON_WORDS` words used in the most messages of the ReDial training dialogues with text
/// (`train_partial/train_subset_original_format.jsonl`, field `messages[].text`; `@id`
/// placeholders removed, text normalised), ties broken alphabetically, returned sorted.
fn common_words(path: &Path, bytes: &[u8]) -> Result<Vec<String>> {
    let mut df: HashMap<String, u32> = HashMap::new();
    for_each_jsonl_bytes(bytes, path, |line_no, v: serde_json::Value| {
        let Some(msgs) = v.get("messages").and_then(|m| m.as_array()) else {
            return Err(Error::parse(path, line_no, "expected a `messages` array"));
        };
        for m in msgs {
            let text = m.get("text").and_then(|t| t.as_str()).unwrap_or("");
            let words: BTreeSet<&str> = text.split_whitespace().filter(|w| !w.starts_with('@')).collect();
            let norm = crate::catalog::text::normalize(&words.into_iter().collect::<Vec<_>>().join(" "));
            let uniq: BTreeSet<&str> = norm.split(' ').filter(|w| !w.is_empty()).collect();
            for w in uniq {
                *df.entry(w.to_string()).or_insert(0) += 1;
            }
        }
        Ok(())
    })?;
    let mut ranked: Vec<(String, u32)> = df.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut top: Vec<String> = ranked.into_iter().take(COMMON_WORDS).map(|(w, _)| w).collect();
    top.sort();
    Ok(top)
}

pub use crate::catalog::text::split_title_year;

pub use crate::assets::manifest::{verify_catalog, verify_outputs};

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

fn parse_movies(path: &Path, bytes: &[u8]) -> Result<Vec<(ItemId, String)>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().map_err(|e| Error::parse(path, 1, e.to_string()))?.clone();
    let id_col = headers.iter().position(|h| h == "movieId");
    let name_col = headers.iter().position(|h| h == "movieName");
    let (Some(id_col), Some(name_col)) = (id_col, name_col) else {
        return Err(Error::parse(path, 1, "expected columns movieId and movieName"));
    };
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| Error::parse(path, line, e.to_string()))?;
        let id_text = rec.get(id_col).unwrap_or("");
        let id: ItemId = id_text
            .trim()
            .parse()
            .map_err(|_| Error::parse(path, line, format!("movieId {id_text:?} is not an integer")))?;
        let name = rec.get(name_col).unwrap_or("").to_string();
        if name.trim().is_empty() {
            return Err(Error::parse(path, line, format!("movie {id} has an empty movieName")));
        }
        out.push((id, name));
    }
    out.sort_by_key(|(id, _)| *id);
    if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::parse(path, 0, format!("movieId {} appears twice", w[0].0)));
    }
    Ok(out)
}

/// Popularity and co-mention counts of the ReDial training dialogues.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainStats {
    /// Per item: training dialogues mentioning it.
    pub popularity: HashMap<ItemId, u32>,
    /// Per item pair (a < b): training dialogues mentioning both.
    pub pairs: BTreeMap<(ItemId, ItemId), u32>,
    /// Dialogues read (after exclusion).
    pub dialogues: usize,
    /// Dialogues mentioning at least one known item.
    pub used: usize,
}

/// Counts popularity and co-mentions over `train_movie_sequences_compact.jsonl` at `path`,
/// counting only items in `known` and skipping dialogues whose `id` (ReDial conversationId) is in
/// `exclude` (a validation split held out for tuning).
///
/// Errors: unreadable file; a malformed line (named by number).
pub fn train_statistics(path: &Path, known: &HashSet<ItemId>, exclude: &HashSet<String>) -> Result<TrainStats> {
    let bytes = read(path)?;
    train_statistics_from(path, &bytes, known, exclude)
}

fn train_statistics_from(
    path: &Path,
    bytes: &[u8],
    known: &HashSet<ItemId>,
    exclude: &HashSet<String>,
) -> Result<TrainStats> {
    let mut stats = TrainStats::default();
    for_each_jsonl_bytes(bytes, path, |_, d: TrainDialogue| {
        if exclude.contains(&d.id) {
            return Ok(());
        }
        stats.dialogues += 1;
        let ids = dialogue_items(&d, known);
        if ids.is_empty() {
            return Ok(());
        }
        stats.used += 1;
        for id in &ids {
            *stats.popularity.entry(*id).or_insert(0) += 1;
        }
        let sorted: Vec<ItemId> = ids.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
        for (a_i, a) in sorted.iter().enumerate() {
            for b in &sorted[a_i + 1..] {
                *stats.pairs.entry((*a, *b)).or_insert(0) += 1;
            }
        }
        Ok(())
    })?;
    Ok(stats)
}

/// Distinct catalog items of one training dialogue, in order of first mention.
fn dialogue_items(d: &TrainDialogue, known: &HashSet<ItemId>) -> Vec<ItemId> {
    let mut ids: Vec<ItemId> = Vec::new();
    let mut push = |raw: &Option<String>| {
        if let Some(id) = raw.as_deref().and_then(|s| s.parse::<ItemId>().ok()) {
            if known.contains(&id) && !ids.contains(&id) {
                ids.push(id);
            }
        }
    };
    // `u` keeps every mention with its speaker; `v` exists for more dialogues. Use both.
    if let Some(u) = &d.u {
        for (id, _, _) in u {
            push(id);
        }
    }
    if let Some(v) = &d.v {
        for (id, _) in v {
            push(id);
        }
    }
    ids
}

/// Builds the catalog, trained statistics and evaluation copy from `source` into `out`.
///
/// Errors name the file (and line, for line-oriented inputs) that is missing or malformed.
pub fn build(source: &Path, out: &Path) -> Result<Manifest> {
    if !source.is_dir() {
        return Err(Error::InvalidInput(format!(
            "--source {} is not a folder (expected a folder laid out like ../shared/data)",
            source.display()
        )));
    }
    let mut inputs = BTreeMap::new();
    let movies_path = source.join(MOVIES_CSV);
    let movies_bytes = read(&movies_path)?;
    inputs.insert(MOVIES_CSV.to_string(), sha256_hex(&movies_bytes));
    let movies = parse_movies(&movies_path, &movies_bytes)?;

    let info_path = source.join(ID2INFO);
    let info_bytes = read(&info_path)?;
    inputs.insert(ID2INFO.to_string(), sha256_hex(&info_bytes));
    let infos: HashMap<String, Info> = serde_json::from_slice(&info_bytes)
        .map_err(|e| Error::parse(&info_path, e.line(), format!("not a map of movieId to metadata: {e}")))?;

    let train_path = source.join(TRAIN);
    let train_bytes = read(&train_path)?;
    inputs.insert(TRAIN.to_string(), sha256_hex(&train_bytes));
    let known: HashSet<ItemId> = movies.iter().map(|(id, _)| *id).collect();
    let stats = train_statistics_from(&train_path, &train_bytes, &known, &HashSet::new())?;
    let (popularity, pairs) = (stats.popularity, stats.pairs);
    let (train_dialogues, train_used) = (stats.dialogues, stats.used);

    let text_path = source.join(TRAIN_TEXT);
    let text_bytes = read(&text_path)?;
    inputs.insert(TRAIN_TEXT.to_string(), sha256_hex(&text_bytes));
    let mut words = common_words(&text_path, &text_bytes)?.join("\n");
    words.push('\n');

    let test_path = source.join(TEST);
    let test_bytes = read(&test_path)?;
    inputs.insert(TEST.to_string(), sha256_hex(&test_bytes));
    let test_dialogues = test_bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count();

    // KECRS (TMDB) edges of each item, for the audit's people check (absent in small fixtures).
    let known_set: BTreeSet<ItemId> = known.iter().copied().collect();
    let tmdb = if source.join(knowledge::KECRS_KG).is_file() {
        let (ep, kp) = (source.join(knowledge::KECRS_ENTITIES), source.join(knowledge::KECRS_KG));
        let (eb, kb) = (read(&ep)?, read(&kp)?);
        inputs.insert(knowledge::KECRS_ENTITIES.to_string(), sha256_hex(&eb));
        inputs.insert(knowledge::KECRS_KG.to_string(), sha256_hex(&kb));
        knowledge::kecrs_edges(&ep, &eb, &kp, &kb, &known_set, true)?
    } else {
        BTreeMap::new()
    };

    // The MovieLens film of each item's IMDb id (audit step 5 and the aliases).
    let links_path = source.join(MOVIELENS_LINKS);
    let links_bytes = if links_path.is_file() { Some(read(&links_path)?) } else { None };
    let ml_titles = match &links_bytes {
        Some(b) => movielens_link_titles(&links_path, b)?,
        None => HashMap::new(),
    };
    let catalog_keys: HashSet<(String, u16)> = movies
        .iter()
        .filter_map(|(_, raw)| {
            let (t, y) = split_title_year(&audit::decode_title(raw).unwrap_or_else(|| raw.clone()));
            let n = crate::catalog::text::normalize(&t);
            y.map(|y| (crate::catalog::text::strip_article(&n).to_string(), y))
        })
        .collect();
    let mut ml_rejected: HashSet<ItemId> = HashSet::new();

    let mut items_jsonl = String::new();
    let mut with_meta = 0;
    let mut counts = audit::AuditCounts::default();
    let mut built: Vec<Item> = Vec::with_capacity(movies.len());
    let clean = |v: &Vec<String>| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in v {
            let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
            if !s.is_empty() && !out.contains(&s) {
                out.push(s);
            }
        }
        out
    };
    for (id, raw_name) in &movies {
        let name = match audit::decode_title(raw_name) {
            Some(decoded) => {
                counts.titles_decoded += 1;
                decoded
            }
            None => {
                if audit::has_escape(raw_name) {
                    counts.titles_undecodable += 1;
                }
                raw_name.clone()
            }
        };
        let (mut title, year) = split_title_year(&name);
        let year = audit::hand_year(*id).or(year);
        let ml = ml_titles.get(id);
        let ml_year = ml.and_then(|m| movielens_year(m));
        if title.trim().is_empty() && matches!((year, ml_year), (Some(a), Some(b)) if a.abs_diff(b) <= 1) {
            if let Some(t) = ml.and_then(|m| movielens_titles(m).into_iter().next()) {
                title = t;
                counts.titles_recovered += 1;
            }
        }
        let mut item =
            Item { id: *id, title, year, popularity: popularity.get(id).copied().unwrap_or(0), ..Item::default() };
        if let Some(info) = infos.get(&id.to_string()) {
            item.genres = clean(&info.genre).into_iter().map(|g| g.to_lowercase()).collect();
            item.directors = clean(&info.director);
            item.writers = clean(&info.writer);
            item.stars = clean(&info.star);
            item.plot = info.plot.split_whitespace().collect::<Vec<_>>().join(" ");
            item.imdb_id = info.imdb_id.clone().filter(|s| !s.trim().is_empty());
            let edges = tmdb.get(id).map(Vec::as_slice).unwrap_or(&[]);
            let mut verdict = audit::audit_item(&mut item, &name, &info.name, edges, &mut counts);
            let checked = !audit::HAND_SAME_FILM.contains(id);
            if let (audit::Verdict::Keep | audit::Verdict::Confirmed, Some(m), true) = (verdict, ml, checked) {
                let has = |t: &str, y: u16| catalog_keys.contains(&(t.to_string(), y));
                let confirmed = verdict == audit::Verdict::Confirmed;
                let ml_names = movielens_all_titles(m);
                if audit::movielens_disagrees(&item.title, item.year, &ml_names, ml_year, confirmed, has) {
                    ml_rejected.insert(*id);
                    if audit::take_tmdb(&mut item, edges) {
                        counts.movielens_mismatch_repaired += 1;
                        verdict = audit::Verdict::Repaired;
                    } else {
                        audit::strip_metadata(&mut item);
                        counts.movielens_mismatch_dropped += 1;
                        verdict = audit::Verdict::Dropped;
                    }
                }
            }
            if verdict != audit::Verdict::Dropped {
                with_meta += 1;
            }
        }
        let line = serde_json::to_string(&item)
            .map_err(|e| Error::InvalidInput(format!("cannot serialise item {id}: {e}")))?;
        items_jsonl.push_str(&line);
        items_jsonl.push('\n');
        built.push(item);
    }
    tracing::info!(?counts, "catalog audit");

    // Alternative titles for linking, where the source has the MovieLens link table.
    let aliases = match &links_bytes {
        Some(bytes) => {
            inputs.insert(MOVIELENS_LINKS.to_string(), sha256_hex(bytes));
            Some(movielens_aliases(&links_path, bytes, &built, &ml_rejected)?)
        }
        None => None,
    };

    let mut comentions = String::from("item_a\titem_b\tdialogues\n");
    for ((a, b), n) in &pairs {
        let _ = writeln!(comentions, "{a}\t{b}\t{n}");
    }

    let outputs_list: Vec<(PathBuf, &[u8])> = vec![
        (PathBuf::from("catalogs/movies/items.jsonl"), items_jsonl.as_bytes()),
        (PathBuf::from("catalogs/movies/comentions.tsv"), comentions.as_bytes()),
        (PathBuf::from("catalogs/movies/common_words.txt"), words.as_bytes()),
        (PathBuf::from("evals/redial/test.jsonl"), test_bytes.as_slice()),
    ];
    let mut outputs_list = outputs_list;
    if let Some(a) = &aliases {
        outputs_list.push((PathBuf::from("catalogs/movies/aliases.tsv"), a.as_bytes()));
    }
    let mut outputs = BTreeMap::new();
    for (rel, bytes) in &outputs_list {
        write_atomic(&out.join(rel), bytes)?;
        outputs.insert(rel.display().to_string(), sha256_hex(bytes));
    }
    // The trained collaborative model is written by `curator train recommender`, not here; keep
    // it covered by the start-up check (retrain it after a catalog change).
    let model_rel = PathBuf::from("catalogs/movies").join(crate::recommender::MODEL_FILE);
    let model_path = out.join(&model_rel);
    if model_path.is_file() {
        let bytes = std::fs::read(&model_path).map_err(|e| Error::io(&model_path, e))?;
        outputs.insert(model_rel.display().to_string(), sha256_hex(&bytes));
    }
    let manifest = Manifest {
        items: movies.len(),
        items_with_metadata: with_meta,
        train_dialogues,
        train_dialogues_used: train_used,
        comention_pairs: pairs.len(),
        test_dialogues,
        audit: counts,
        inputs,
        outputs,
    };
    let mut text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| Error::InvalidInput(format!("cannot serialise manifest: {e}")))?;
    text.push('\n');
    write_atomic(&out.join("catalogs/movies/manifest.json"), text.as_bytes())?;
    // The knowledge graph (`knowledge/movies/`, its own manifest) over the items just written. A
    // source without the KG folders (e.g. the small test fixture) builds the catalog only.
    if source.join("redial/kg/kecrs_tmdb").is_dir() {
        knowledge::build(source, out, &built)?;
    } else {
        tracing::warn!("{} has no redial/kg/kecrs_tmdb: knowledge/movies not rebuilt", source.display());
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_compares_original_titles_too() {
        assert_eq!(movielens_all_titles("Hate (Haine, La) (1995)"), ["Hate", "La Haine"]);
        assert_eq!(movielens_all_titles("Dead Alive (Braindead) (1992)"), ["Dead Alive", "Braindead"]);
        assert_eq!(movielens_titles("Dead Alive (Braindead) (1992)"), ["Dead Alive"]);
        assert_eq!(movielens_year("Hate (Haine, La) (1995)"), Some(1995));
        assert_eq!(movielens_year("Hate"), None);
    }

    #[test]
    fn movielens_titles_give_articles_back_and_aka_titles() {
        assert_eq!(movielens_titles("Seven (a.k.a. Se7en) (1995)"), ["Seven", "Se7en"]);
        assert_eq!(movielens_titles("Godfather: Part II, The (1974)"), ["The Godfather: Part II"]);
        assert_eq!(
            movielens_titles("Lord of the Rings: The Two Towers, The (2002)"),
            ["The Lord of the Rings: The Two Towers"]
        );
        assert_eq!(movielens_titles("Woman in the Dunes (Suna no onna) (1964)"), ["Woman in the Dunes"]);
        assert_eq!(
            movielens_titles("Star Wars: Episode IV - A New Hope (1977)"),
            ["Star Wars: Episode IV - A New Hope"]
        );
    }

    #[test]
    fn splits_names_with_double_spaces_and_missing_years() {
        assert_eq!(split_title_year("Heat  (1995)"), ("Heat".to_string(), Some(1995)));
        assert_eq!(split_title_year("The Mummy "), ("The Mummy".to_string(), None));
        assert_eq!(split_title_year("Mission: Impossible (1996)"), ("Mission: Impossible".to_string(), Some(1996)));
        assert_eq!(split_title_year("1917 (2019)"), ("1917".to_string(), Some(2019)));
        assert_eq!(split_title_year("Se7en (abcd)"), ("Se7en (abcd)".to_string(), None));
    }
}
