//! INSPIRED (Hayati et al., EMNLP 2020) dialogues and their evaluation points.
//!
//! # Raw format
//! `dialog_data/{dev,test}.tsv` (99 dialogues each): one row per *sentence* with the columns
//! `dialog_id, utt_id, speaker (SEEKER|RECOMMENDER), turn_id, text, text_with_placeholder, movies,
//! genres, people_names, movie_dict, …`. `text` writes quotation marks as the token
//! `QUOTATION_MARK`; `movies` lists the titles named in the sentence ("Title (Year)"), separated by
//! `;`; `movie_dict` is a Python-literal dict (`{'Hustlers (2019)': 0, …}`) of every movie of the
//! dialogue, parsed here by [`parse_python_dict`] (a small literal parser: no code is evaluated).
//!
//! # Derived split (`evals/inspired/{test,dev}.jsonl`)
//! [`build_split`] writes one dialogue a line: `{"dialog_id", "utterances": [{"role", "text",
//! "movies": [{"name", "id", "in_catalog"}]}]}` — the sentences in file order, `QUOTATION_MARK`
//! rendered as `"`, and each movie linked into the catalog (see [`link_movie`]). Movies that do
//! not link keep a stable id of their own, [`OUT_OF_CATALOG_BASE`] + their index among the
//! split's unlinked names (sorted), so that they count as ground truth no ranker can reach.
//!
//! # Evaluation points (DESIGN.md §4)
//! Consecutive sentences of one speaker are merged into one utterance (texts joined by a space);
//! a point is a RECOMMENDER utterance with ≥ 1 movie and a non-empty context; its targets are its
//! distinct movies in order of first mention, each flagged when an earlier utterance named it
//! (by name). Counts on the test split: 264 instances / 304 recommendations (standard) and
//! 229 / 261 (de-dup); dev: 282 / 320 and 231 / 252.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, ItemId};
use crate::dialogue::{Role, Turn};
use crate::eval::redial::EvalPoint;
use crate::{Error, Result};

/// First id given to INSPIRED movies that are not in the catalog (far above every ReDial id).
pub const OUT_OF_CATALOG_BASE: ItemId = 1_000_000_000;

/// One movie named in a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspiredMovie {
    /// The name as INSPIRED writes it ("Hustlers (2019)").
    pub name: String,
    /// Catalog id, or an id ≥ [`OUT_OF_CATALOG_BASE`] for a movie outside the catalog.
    pub id: ItemId,
    /// Whether `id` is a catalog item.
    pub in_catalog: bool,
}

/// One sentence (row) of a dialogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspiredUtterance {
    /// Seeker or recommender.
    pub role: Role,
    /// `text`, with `QUOTATION_MARK` rendered as `"`.
    pub text: String,
    /// The `movies` column, linked.
    pub movies: Vec<InspiredMovie>,
}

/// One INSPIRED dialogue of the derived split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspiredDialogue {
    /// `dialog_id` (e.g. `20191127-224739_530_live.pkl`).
    pub dialog_id: String,
    /// The sentences, in file order.
    pub utterances: Vec<InspiredUtterance>,
}

/// Parses a Python-literal dict of string keys and integer values, as INSPIRED's `*_dict` columns
/// write them: `{'Hustlers (2019)': 0, "Ocean's Eleven (2001)": 1}`. An empty or blank string is
/// an empty dict. Single- and double-quoted strings with backslash escapes (`\\ \' \" \n \t \r
/// \xNN \uNNNN`) are accepted. Nothing is evaluated.
///
/// # Errors
/// A message naming the byte offset of the first character that does not fit the grammar.
pub fn parse_python_dict(text: &str) -> std::result::Result<Vec<(String, i64)>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
    };
    skip_ws(&mut i);
    if i == chars.len() {
        return Ok(Vec::new());
    }
    let err = |i: usize, what: &str| format!("character {i}: expected {what}");
    if chars[i] != '{' {
        return Err(err(i, "'{'"));
    }
    i += 1;
    let mut out = Vec::new();
    loop {
        skip_ws(&mut i);
        match chars.get(i) {
            Some('}') => {
                i += 1;
                break;
            }
            Some(&q) if q == '\'' || q == '"' => {
                i += 1;
                let mut key = String::new();
                loop {
                    match chars.get(i) {
                        None => return Err(err(i, "a closing quote")),
                        Some(&c) if c == q => {
                            i += 1;
                            break;
                        }
                        Some('\\') => {
                            let e = chars.get(i + 1).copied().ok_or_else(|| err(i + 1, "an escape"))?;
                            i += 2;
                            match e {
                                'n' => key.push('\n'),
                                't' => key.push('\t'),
                                'r' => key.push('\r'),
                                '\\' | '\'' | '"' => key.push(e),
                                'x' | 'u' => {
                                    let n = if e == 'x' { 2 } else { 4 };
                                    let hex: String =
                                        chars.get(i..i + n).ok_or_else(|| err(i, "hex digits"))?.iter().collect();
                                    let code = u32::from_str_radix(&hex, 16).map_err(|_| err(i, "hex digits"))?;
                                    key.push(char::from_u32(code).ok_or_else(|| err(i, "a valid code point"))?);
                                    i += n;
                                }
                                other => {
                                    key.push('\\');
                                    key.push(other);
                                }
                            }
                        }
                        Some(&c) => {
                            key.push(c);
                            i += 1;
                        }
                    }
                }
                skip_ws(&mut i);
                if chars.get(i) != Some(&':') {
                    return Err(err(i, "':'"));
                }
                i += 1;
                skip_ws(&mut i);
                let start = i;
                if chars.get(i) == Some(&'-') {
                    i += 1;
                }
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                let num: String = chars[start..i].iter().collect();
                let value = num.parse::<i64>().map_err(|_| err(start, "an integer"))?;
                out.push((key, value));
                skip_ws(&mut i);
                match chars.get(i) {
                    Some(',') => i += 1,
                    Some('}') => {}
                    _ => return Err(err(i, "',' or '}'")),
                }
            }
            _ => return Err(err(i, "a quoted key or '}'")),
        }
    }
    skip_ws(&mut i);
    if i != chars.len() {
        return Err(err(i, "the end of the dict"));
    }
    Ok(out)
}

/// One raw row of `dialog_data/*.tsv` (only the columns used).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRow {
    /// `dialog_id`.
    pub dialog_id: String,
    /// `speaker`.
    pub role: Role,
    /// `text`, `QUOTATION_MARK` rendered.
    pub text: String,
    /// `movies`, split on `;`, trimmed, empty names dropped.
    pub movies: Vec<String>,
    /// Keys of `movie_dict` (all movies of the dialogue).
    pub movie_dict: Vec<String>,
}

/// Reads `dialog_data/{dev,test}.tsv`.
///
/// # Errors
/// [`Error::Io`] for an unreadable file; [`Error::Parse`] (with the 1-based line) for a missing
/// column or an unknown speaker. A malformed `movie_dict` is logged and read as empty (the
/// column only adds names to the item set).
pub fn read_tsv(path: &Path) -> Result<Vec<RawRow>> {
    let mut reader =
        csv::ReaderBuilder::new().delimiter(b'\t').flexible(true).from_path(path).map_err(|e| csv_error(path, e))?;
    let headers = reader.headers().map_err(|e| csv_error(path, e))?.clone();
    let col = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| Error::parse(path, 1, format!("no `{name}` column")))
    };
    let (c_id, c_speaker, c_text, c_movies, c_dict) =
        (col("dialog_id")?, col("speaker")?, col("text")?, col("movies")?, col("movie_dict")?);
    let mut out = Vec::new();
    let mut last_bad: Option<String> = None;
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| csv_error(path, e))?;
        let line = rec.position().map_or(i + 2, |p| p.line() as usize);
        let get = |c: usize| rec.get(c).unwrap_or("");
        let role = match get(c_speaker) {
            "SEEKER" => Role::Seeker,
            "RECOMMENDER" => Role::Recommender,
            other => return Err(Error::parse(path, line, format!("unknown speaker {other:?}"))),
        };
        // The published files hold a few malformed dicts (dev.tsv line 2896 lacks a closing
        // quote, which Python's own literal parser rejects too): warn and keep the row.
        let movie_dict = match parse_python_dict(get(c_dict)) {
            Ok(d) => d.into_iter().map(|(k, _)| k).collect(),
            Err(m) => {
                // The column repeats on every row of a dialogue: warn once per distinct value.
                if last_bad.as_deref() != Some(get(c_dict)) {
                    tracing::warn!("{}:{line}: movie_dict is not a valid literal ({m}); ignored", path.display());
                    last_bad = Some(get(c_dict).to_string());
                }
                Vec::new()
            }
        };
        out.push(RawRow {
            dialog_id: get(c_id).to_string(),
            role,
            text: render_quotes(get(c_text)),
            movies: get(c_movies).split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
            movie_dict,
        });
    }
    Ok(out)
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line() as usize);
    Error::parse(path, line, e.to_string())
}

/// `QUOTATION_MARK` → `"`, whitespace runs collapsed.
fn render_quotes(text: &str) -> String {
    text.replace("QUOTATION_MARK", "\"").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A normalised title as one movie's key (as `scripts/inspired_catalog.py` merges names): Roman
/// sequel numbers as digits ("frozen ii" → "frozen 2"; "i", "v" and "x" stay words: "malcolm
/// x"), a leading article dropped ("the matrix" → "matrix") and the words joined ("spider man" and
/// "spiderman"). Compared only with the same year, or a year off.
fn same_movie_key(norm: &str) -> String {
    let mut words: Vec<&str> = norm
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "ii" => "2",
            "iii" => "3",
            "iv" => "4",
            "vi" => "6",
            "vii" => "7",
            "viii" => "8",
            "ix" => "9",
            w => w,
        })
        .collect();
    if words.len() > 1 && matches!(words[0], "the" | "a" | "an") {
        words.remove(0);
    }
    words.concat()
}

/// How an INSPIRED name was linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// Same normalised title and the same year.
    Exact,
    /// Title similarity ≥ 0.9 after the linker's normalisation (or the same movie key: Roman
    /// numerals as digits, no leading article, words joined) and the same year, or the same key
    /// with the year one off.
    Fuzzy,
    /// Not in the catalog.
    None,
}

/// Links an INSPIRED movie name ("Title (Year)", sometimes "(2012 film)" or "()") to the catalog:
/// the linker's title candidates ([`Catalog::link_title`], top 10) are accepted when the year is
/// equal (both known) and the normalised title is equal ([`LinkKind::Exact`]) or similar ≥ 0.9
/// ([`LinkKind::Fuzzy`], also for the same movie key: "Frozen 2" for "Frozen II", "Matrix" for
/// "The Matrix", "Spiderman" for "Spider-Man"); failing those, the same key with the year one
/// off ([`LinkKind::Fuzzy`]: one film, two release years). A name without a year links only on an
/// equal title with a catalog item that has no year either. Returns the catalog id, or `None`.
pub fn link_movie(catalog: &Catalog, name: &str) -> (Option<ItemId>, LinkKind) {
    let collapsed = name.split_whitespace().collect::<Vec<_>>().join(" ");
    // "(2012 film)" → "(2012)"; "()" dropped.
    let cleaned = collapsed.replace(" film)", ")").replace("()", "");
    let (title, year) = crate::catalog::text::split_title_year(cleaned.trim());
    let norm = crate::catalog::text::normalize(&title);
    let key = same_movie_key(&norm);
    let candidates = catalog.link_title(&title, 10);
    for c in &candidates {
        let Some(item) = catalog.get(c.id) else { continue };
        if item.year != year {
            continue;
        }
        if crate::catalog::text::normalize(&item.title) == norm {
            return (Some(c.id), LinkKind::Exact);
        }
        if year.is_some() && c.similarity >= 0.9 {
            return (Some(c.id), LinkKind::Fuzzy);
        }
    }
    // The same movie key (the linker's candidates need not hold "Spider-Man" for "Spiderman"),
    // first with the same year, then a year off: one film under two release years (festival
    // and wide release), e.g. "Ex Machina (2014)" for the catalog's Ex Machina (2015).
    let Some(y) = year else { return (None, LinkKind::None) };
    for off in [0, 1] {
        let hit = catalog.items().iter().find(|item| {
            item.year.is_some_and(|iy| iy.abs_diff(y) == off)
                && same_movie_key(&crate::catalog::text::normalize(&item.title)) == key
        });
        if let Some(item) = hit {
            return (Some(item.id), LinkKind::Fuzzy);
        }
    }
    (None, LinkKind::None)
}

/// The item set of one split: every movie name of the `movies` and `movie_dict` columns with
/// its link.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemSet {
    /// name → (id, how linked), sorted by name.
    pub movies: BTreeMap<String, (ItemId, LinkKind)>,
}

impl ItemSet {
    /// Links every name of `rows`; unlinked names get ids from [`OUT_OF_CATALOG_BASE`] in name
    /// order.
    pub fn link(rows: &[RawRow], catalog: &Catalog) -> Self {
        let names: BTreeSet<&str> =
            rows.iter().flat_map(|r| r.movies.iter().chain(r.movie_dict.iter())).map(String::as_str).collect();
        let mut movies = BTreeMap::new();
        let mut next = OUT_OF_CATALOG_BASE;
        for name in names {
            let (id, kind) = link_movie(catalog, name);
            let id = id.unwrap_or_else(|| {
                next += 1;
                next - 1
            });
            movies.insert(name.to_string(), (id, kind));
        }
        ItemSet { movies }
    }

    /// (names, exact links, fuzzy links, unlinked).
    pub fn summary(&self) -> (usize, usize, usize, usize) {
        let count = |k: LinkKind| self.movies.values().filter(|(_, kind)| *kind == k).count();
        (self.movies.len(), count(LinkKind::Exact), count(LinkKind::Fuzzy), count(LinkKind::None))
    }
}

/// Groups `rows` into dialogues (file order) with linked movies.
pub fn dialogues_from_rows(rows: &[RawRow], items: &ItemSet) -> Vec<InspiredDialogue> {
    let mut out: Vec<InspiredDialogue> = Vec::new();
    for r in rows {
        if out.last().is_none_or(|d| d.dialog_id != r.dialog_id) {
            out.push(InspiredDialogue { dialog_id: r.dialog_id.clone(), utterances: Vec::new() });
        }
        let movies = r
            .movies
            .iter()
            .map(|name| {
                let (id, kind) = items.movies.get(name).copied().unwrap_or((OUT_OF_CATALOG_BASE, LinkKind::None));
                InspiredMovie { name: name.clone(), id, in_catalog: kind != LinkKind::None }
            })
            .collect();
        if let Some(d) = out.last_mut() {
            d.utterances.push(InspiredUtterance { role: r.role, text: r.text.clone(), movies });
        }
    }
    out
}

/// What [`build_split`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitSummary {
    /// Dialogues.
    pub dialogues: usize,
    /// Sentences.
    pub sentences: usize,
    /// Distinct movie names (movies and movie_dict columns).
    pub movies: usize,
    /// Names linked with the same title and year.
    pub exact: usize,
    /// Names linked by similar title and the same year.
    pub fuzzy: usize,
    /// Names outside the catalog.
    pub unlinked: usize,
}

/// Reads `<source>/inspired/dialog_data/<split>.tsv`, links its movies and writes
/// `<out>/<split>.jsonl` (one [`InspiredDialogue`] a line) and `<out>/<split>_items.tsv`
/// (`name, id, link` sorted by name). Deterministic.
///
/// # Errors
/// Those of [`read_tsv`]; [`Error::Io`] when a file cannot be written.
pub fn build_split(source: &Path, split: &str, catalog: &Catalog, out: &Path) -> Result<SplitSummary> {
    let path = source.join("inspired").join("dialog_data").join(format!("{split}.tsv"));
    let rows = read_tsv(&path)?;
    let items = ItemSet::link(&rows, catalog);
    let dialogues = dialogues_from_rows(&rows, &items);
    let mut jsonl = String::new();
    for d in &dialogues {
        jsonl.push_str(&serde_json::to_string(d).map_err(|e| Error::InvalidInput(e.to_string()))?);
        jsonl.push('\n');
    }
    crate::util::write_atomic(&out.join(format!("{split}.jsonl")), jsonl.as_bytes())?;
    let mut tsv = String::from("name\tid\tlink\n");
    for (name, (id, kind)) in &items.movies {
        let kind = match kind {
            LinkKind::Exact => "exact",
            LinkKind::Fuzzy => "fuzzy",
            LinkKind::None => "none",
        };
        tsv.push_str(&format!("{name}\t{id}\t{kind}\n"));
    }
    crate::util::write_atomic(&out.join(format!("{split}_items.tsv")), tsv.as_bytes())?;
    let (movies, exact, fuzzy, unlinked) = items.summary();
    Ok(SplitSummary { dialogues: dialogues.len(), sentences: rows.len(), movies, exact, fuzzy, unlinked })
}

/// Loads a derived split written by [`build_split`].
///
/// # Errors
/// [`Error::Io`] for an unreadable file, [`Error::Parse`] naming the line of a malformed dialogue.
pub fn load_inspired(path: &Path) -> Result<Vec<InspiredDialogue>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_inspired(&text, path)
}

/// Parses the text of a derived split; `path` only names the source in errors.
///
/// # Errors
/// [`Error::Parse`] naming the 1-based line of a malformed dialogue.
pub fn parse_inspired(text: &str, path: &Path) -> Result<Vec<InspiredDialogue>> {
    let mut out = Vec::new();
    crate::util::for_each_jsonl_bytes(text.as_bytes(), path, |_, dialogue| {
        out.push(dialogue);
        Ok(())
    })?;
    Ok(out)
}

impl InspiredDialogue {
    /// The dialogue as utterances: consecutive sentences of one speaker merged (texts joined by a
    /// space), items = distinct movie ids in order of first mention.
    pub fn turns(&self) -> Vec<Turn> {
        let mut out: Vec<Turn> = Vec::new();
        for u in &self.utterances {
            match out.last_mut() {
                Some(t) if t.role == u.role => {
                    if !u.text.is_empty() {
                        if !t.text.is_empty() {
                            t.text.push(' ');
                        }
                        t.text.push_str(&u.text);
                    }
                }
                _ => out.push(Turn { role: u.role, text: u.text.clone(), items: Vec::new() }),
            }
            if let Some(t) = out.last_mut() {
                for m in &u.movies {
                    if !t.items.contains(&m.id) {
                        t.items.push(m.id);
                    }
                }
            }
        }
        out
    }
}

/// Evaluation points of INSPIRED `dialogues` (see the module documentation), in file order then
/// utterance order. `EvalPoint::conversation_id` is the `dialog_id`.
pub fn extract_inspired_points(dialogues: &[InspiredDialogue]) -> Vec<EvalPoint> {
    let mut points = Vec::new();
    for (d_index, d) in dialogues.iter().enumerate() {
        crate::eval::redial::push_points(&mut points, d_index, &d.dialog_id, &d.turns());
    }
    points
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::catalog::Item;

    #[test]
    fn names_link_by_title_and_year_or_a_year_off() {
        let item = |id: ItemId, title: &str, year: u16| Item {
            id,
            title: title.into(),
            year: Some(year),
            ..Default::default()
        };
        let catalog = Catalog::from_items(vec![
            item(1, "Ex Machina", 2015),
            item(2, "Halloween", 1978),
            item(3, "Halloween", 2018),
            item(4, "The Lion King", 1994),
        ])
        .unwrap();
        assert_eq!(link_movie(&catalog, "Ex Machina (2015)"), (Some(1), LinkKind::Exact));
        assert_eq!(link_movie(&catalog, "Ex Machina (2014)"), (Some(1), LinkKind::Fuzzy));
        assert_eq!(link_movie(&catalog, "Ex Machina (2013)"), (None, LinkKind::None));
        // An exact year wins over a year off; remakes decades apart stay apart.
        assert_eq!(link_movie(&catalog, "Halloween (2018)"), (Some(3), LinkKind::Exact));
        assert_eq!(link_movie(&catalog, "Halloween (2019)"), (Some(3), LinkKind::Fuzzy));
        assert_eq!(link_movie(&catalog, "The Lion King (2019)"), (None, LinkKind::None));
        // A year off needs the same title, not a similar one.
        assert_eq!(link_movie(&catalog, "Ex Machine (2014)"), (None, LinkKind::None));
        // Roman sequel numbers read as digits, both ways; "X" stays a word.
        let catalog = Catalog::from_items(vec![
            item(1, "Frozen II", 2019),
            item(2, "Bad Boys 2", 2003),
            item(3, "Malcolm X", 1992),
        ])
        .unwrap();
        assert_eq!(link_movie(&catalog, "Frozen 2 (2019)"), (Some(1), LinkKind::Fuzzy));
        assert_eq!(link_movie(&catalog, "Bad Boys II (2003)"), (Some(2), LinkKind::Fuzzy));
        assert_eq!(link_movie(&catalog, "Frozen 2 (2020)"), (Some(1), LinkKind::Fuzzy));
        assert_eq!(link_movie(&catalog, "Malcolm 10 (1992)"), (None, LinkKind::None));
        // A leading article and the spaces inside a title do not tell movies apart.
        let catalog = Catalog::from_items(vec![
            item(1, "The Matrix", 1999),
            item(2, "Spider-Man", 2002),
            item(3, "Superbad", 2007),
        ])
        .unwrap();
        assert_eq!(link_movie(&catalog, "Matrix (1999)"), (Some(1), LinkKind::Fuzzy));
        assert_eq!(link_movie(&catalog, "Spiderman (2002)"), (Some(2), LinkKind::Fuzzy));
        assert_eq!(link_movie(&catalog, "Super Bad (2007)"), (Some(3), LinkKind::Fuzzy));
        assert_eq!(link_movie(&catalog, "Matrix (2003)"), (None, LinkKind::None));
    }

    #[test]
    fn python_dicts_parse_without_evaluation() {
        assert_eq!(parse_python_dict(""), Ok(vec![]));
        assert_eq!(parse_python_dict("{}"), Ok(vec![]));
        assert_eq!(
            parse_python_dict("{'Hustlers (2019)': 0, \"Ocean's Eleven (2001)\": 1}"),
            Ok(vec![("Hustlers (2019)".to_string(), 0), ("Ocean's Eleven (2001)".to_string(), 1)])
        );
        assert_eq!(parse_python_dict("{'a\\'b': -2,}"), Ok(vec![("a'b".to_string(), -2)]));
        assert_eq!(parse_python_dict("{'caf\\xe9': 3}"), Ok(vec![("café".to_string(), 3)]));
        assert!(parse_python_dict("{'a': __import__('os')}").is_err());
        assert!(parse_python_dict("{'a': 1").is_err());
        assert!(parse_python_dict("{'a: 1}").is_err());
        assert!(parse_python_dict("[1]").is_err());
        assert!(parse_python_dict("{'a': 1} x").is_err());
    }

    #[test]
    fn quotes_are_rendered() {
        assert_eq!(render_quotes("saw QUOTATION_MARKHustlersQUOTATION_MARK  ."), "saw \"Hustlers\" .");
    }
}
