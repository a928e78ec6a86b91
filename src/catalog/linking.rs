//! Entity linking: free text → catalog items.
//!
//! Two entry points share one scoring rule:
//! - [`Linker::link_title`] treats the whole text as one title: candidates are exact alias hits
//!   plus tantivy fuzzy matches on the normalised title field, then **rescored here** by
//!   character edit distance (tantivy's fuzzy query scores a distance-2 match like an exact one),
//!   year agreement and training popularity;
//! - [`Linker::link_text`] scans an utterance for title spans: greedy longest exact alias match
//!   (with or without a leading article, with an optional year after it), then a fuzzy pass over
//!   the words left uncovered. Lowercase common words and genre words are never linked alone.

use std::collections::{HashMap, HashSet};

use super::index::CatalogIndex;
use super::text::{is_common_word, normalize, strip_article};
use super::{Item, ItemId};
use crate::Result;

/// A scored candidate for a title query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkCandidate {
    /// Dense position in [`super::Catalog::items`].
    pub position: usize,
    /// The item's id.
    pub id: ItemId,
    /// Combined score: 10 × similarity + year term + popularity term (higher is better).
    pub score: f32,
    /// 1 − (character edit distance ÷ longer length) between the article-stripped normalised
    /// query and title, in [0, 1].
    pub similarity: f32,
}

/// An item mention found in free text.
#[derive(Debug, Clone, PartialEq)]
pub struct Mention {
    /// Byte offset where the span starts in the input text.
    pub start: usize,
    /// Byte offset one past the end of the span (a following year is included).
    pub end: usize,
    /// The linked item's id.
    pub id: ItemId,
    /// Dense position in [`super::Catalog::items`].
    pub position: usize,
    /// Similarity of span and title (1.0 for exact alias matches).
    pub similarity: f32,
}

/// Descriptive words that are also single-word titles ("Mystery", "Alien"); in lowercase they
/// are read as attributes, not items. Sorted (checked by a test).
const DESCRIPTIVE: &[&str] = &[
    "action",
    "adventure",
    "alien",
    "aliens",
    "animated",
    "animation",
    "anime",
    "biography",
    "cartoon",
    "cartoons",
    "comedies",
    "comedy",
    "crime",
    "dark",
    "darker",
    "disney",
    "documentaries",
    "documentary",
    "drama",
    "dramas",
    "family",
    "fantasy",
    "funnier",
    "gore",
    "gory",
    "heist",
    "history",
    "horror",
    "kids",
    "marvel",
    "musical",
    "musicals",
    "mystery",
    "recent",
    "romance",
    "romantic",
    "scifi",
    "similar",
    "space",
    "sport",
    "sports",
    "superhero",
    "suspense",
    "thriller",
    "thrillers",
    "vampire",
    "vampires",
    "violent",
    "war",
    "western",
    "westerns",
    "zombie",
    "zombies",
];

const MIN_YEAR: u16 = 1870;
const MAX_YEAR: u16 = 2035;

pub(crate) struct Linker {
    /// Normalised title per item position.
    norm: Vec<String>,
    /// Article-stripped normalised title per item position.
    bare: Vec<String>,
    /// alias (normalised, with and without article) → item positions.
    aliases: HashMap<String, Vec<usize>>,
    /// Most words in any alias.
    max_words: usize,
    /// Frequent words of the training dialogues, never linked alone in lowercase.
    common: HashSet<String>,
}

/// Words after which a lowercase single word may be a title (normalised, sorted): verbs of
/// watching and opinion, and comparisons ("something like heat").
const TITLE_CUES: &[&str] = &[
    "about",
    "adore",
    "adored",
    "disliked",
    "enjoy",
    "enjoyed",
    "hate",
    "hated",
    "like",
    "liked",
    "likes",
    "love",
    "loved",
    "loves",
    "rewatched",
    "saw",
    "see",
    "seen",
    "than",
    "watch",
    "watched",
    "watching",
];

/// Whether the word at `i` stands where a title is expected: after a [`TITLE_CUES`] word, or
/// after "and" / "or" that follows a linked title (`covered`).
fn title_context(toks: &[Token], i: usize, covered: &[bool]) -> bool {
    let Some(prev) = i.checked_sub(1).and_then(|j| toks.get(j)) else { return false };
    if TITLE_CUES.binary_search(&prev.norm.as_str()).is_ok() {
        return true;
    }
    matches!(prev.norm.as_str(), "and" | "or") && i >= 2 && covered.get(i - 2).copied().unwrap_or(false)
}

struct Token {
    norm: String,
    start: usize,
    end: usize,
    capitalized: bool,
    sentence_start: bool,
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    let mut cap = false;
    let mut sentence_start = true;
    let mut next_sentence_start = true;
    let flush = |cur: &mut String, start: usize, end: usize, cap: bool, ss: bool, out: &mut Vec<Token>| {
        if !cur.is_empty() {
            out.push(Token { norm: normalize(cur), start, end, capitalized: cap, sentence_start: ss });
            cur.clear();
        }
    };
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            if cur.is_empty() {
                start = i;
                cap = c.is_uppercase();
                sentence_start = next_sentence_start;
                next_sentence_start = false;
            }
            cur.push(c);
        } else if matches!(c, '\'' | '’') && !cur.is_empty() {
            // inside a word: "schindler's"
        } else {
            flush(&mut cur, start, i, cap, sentence_start, &mut out);
            if matches!(c, '.' | '!' | '?' | '\n') {
                next_sentence_start = true;
            }
            if c == '&' {
                out.push(Token { norm: "and".into(), start: i, end: i + 1, capitalized: false, sentence_start: false });
            }
        }
    }
    flush(&mut cur, start, text.len(), cap, sentence_start, &mut out);
    // In text written in capitals ("I LOVED HEAT"), capitals say nothing about titles.
    if !text.chars().any(char::is_lowercase) {
        for t in &mut out {
            t.capitalized = false;
        }
    }
    out
}

fn parse_year(tok: &str) -> Option<u16> {
    if tok.len() != 4 {
        return None;
    }
    tok.parse::<u16>().ok().filter(|y| (MIN_YEAR..=MAX_YEAR).contains(y))
}

/// Splits a trailing year ("Heat (1995)", "heat 1995") off a title query.
fn split_query_year(text: &str) -> (String, Option<u16>) {
    let norm = normalize(text);
    if let Some((head, last)) = norm.rsplit_once(' ') {
        if let Some(y) = parse_year(last) {
            return (head.to_string(), Some(y));
        }
    }
    (norm, None)
}

fn similarity(a: &str, b: &str) -> f32 {
    let la = a.chars().count();
    let lb = b.chars().count();
    let longer = la.max(lb);
    if longer == 0 {
        return 1.0;
    }
    1.0 - strsim::levenshtein(a, b) as f32 / longer as f32
}

fn popularity_term(item: &Item) -> f32 {
    0.12 * (1.0 + item.popularity as f32).ln()
}

fn year_term(item: &Item, year: Option<u16>) -> f32 {
    match (year, item.year) {
        (Some(q), Some(y)) if q == y => 3.0,
        (Some(q), Some(y)) if q.abs_diff(y) <= 1 => 1.0,
        (Some(_), _) => -1.5,
        (None, _) => 0.0,
    }
}

impl Linker {
    pub(crate) fn new(items: &[Item], common: HashSet<String>) -> Result<Self> {
        let mut norm = Vec::with_capacity(items.len());
        let mut bare = Vec::with_capacity(items.len());
        let mut aliases: HashMap<String, Vec<usize>> = HashMap::new();
        let mut max_words = 1;
        for (k, it) in items.iter().enumerate() {
            let n = normalize(&it.title);
            let b = strip_article(&n).to_string();
            max_words = max_words.max(n.split(' ').count());
            for key in [n.clone(), b.clone()] {
                if key.is_empty() {
                    continue;
                }
                let e = aliases.entry(key).or_default();
                if !e.contains(&k) {
                    e.push(k);
                }
            }
            norm.push(n);
            bare.push(b);
        }
        Ok(Linker { norm, bare, aliases, max_words, common })
    }

    fn score(&self, items: &[Item], pos: usize, qnorm: &str, year: Option<u16>) -> (f32, f32) {
        let qbare = strip_article(qnorm);
        let sim = similarity(qbare, &self.bare[pos]);
        let exact = if qnorm == self.norm[pos] { 0.5 } else { 0.0 };
        let item = &items[pos];
        (10.0 * sim + exact + year_term(item, year) + popularity_term(item), sim)
    }

    pub(crate) fn link_title(&self, items: &[Item], index: &CatalogIndex, text: &str, k: usize) -> Vec<LinkCandidate> {
        let (qnorm, year) = split_query_year(text);
        let (qnorm, year) = if qnorm.is_empty() { (normalize(text), None) } else { (qnorm, year) };
        if qnorm.is_empty() || k == 0 {
            return Vec::new();
        }
        let mut cands: Vec<usize> = Vec::new();
        for key in [qnorm.as_str(), strip_article(&qnorm)] {
            if let Some(v) = self.aliases.get(key) {
                cands.extend(v);
            }
        }
        // A tantivy failure only loses fuzzy candidates; exact aliases still answer.
        if let Ok(fuzzy) = index.fuzzy_title_candidates(&qnorm, 64) {
            cands.extend(fuzzy);
        }
        cands.sort_unstable();
        cands.dedup();
        let mut out: Vec<LinkCandidate> = cands
            .into_iter()
            .filter(|&p| p < items.len())
            .map(|p| {
                let (score, similarity) = self.score(items, p, &qnorm, year);
                LinkCandidate { position: p, id: items[p].id, score, similarity }
            })
            .collect();
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        out.truncate(k);
        out
    }

    /// A common word: in the built-in list or among the most frequent words of the ReDial
    /// training dialogues (`common_words.txt`).
    fn is_common(&self, word: &str) -> bool {
        is_common_word(word) || self.common.contains(word)
    }

    fn span_allowed(&self, tokens: &[Token]) -> bool {
        let informative = |t: &Token| t.capitalized && !t.sentence_start;
        if tokens.len() == 1 {
            let t = &tokens[0];
            if t.norm == "i" || t.norm.chars().count() < 2 {
                return false;
            }
            let weak = self.is_common(&t.norm) || DESCRIPTIVE.binary_search(&t.norm.as_str()).is_ok();
            return !weak || informative(t);
        }
        // Several words: the built-in function-word list only ("black panther" links even though
        // both words are frequent in dialogues; "get out of here" does not).
        tokens.iter().any(|t| !is_common_word(&t.norm) || informative(t))
    }

    /// The best alias hit among `positions` for a span, preferring the year hint, then the exact
    /// (article-included) form, then training popularity.
    fn pick(&self, items: &[Item], positions: &[usize], span_norm: &str, year: Option<u16>) -> Option<usize> {
        positions.iter().copied().max_by(|&a, &b| {
            let s = |p: usize| {
                let it = &items[p];
                let y = match (year, it.year) {
                    (Some(q), Some(v)) if q == v => 10.0,
                    _ => 0.0,
                };
                let exact = if self.norm[p] == span_norm { 1.0 } else { 0.0 };
                y + exact + popularity_term(it)
            };
            s(a).total_cmp(&s(b)).then(b.cmp(&a))
        })
    }

    pub(crate) fn link_text(&self, items: &[Item], index: &CatalogIndex, text: &str) -> Vec<Mention> {
        let toks = tokenize(text);
        let n = toks.len();
        let mut covered = vec![false; n];
        let mut found: Vec<Mention> = Vec::new();
        let year_after = |j: usize| -> Option<u16> { toks.get(j).and_then(|t| parse_year(&t.norm)) };
        let mut i = 0;
        while i < n {
            let mut hit = None;
            for len in (1..=self.max_words.min(n - i)).rev() {
                let span = &toks[i..i + len];
                let key = span.iter().map(|t| t.norm.as_str()).collect::<Vec<_>>().join(" ");
                let Some(pos) = self.aliases.get(&key) else {
                    continue;
                };
                if !self.span_allowed(span) {
                    continue;
                }
                let year = year_after(i + len);
                // A lowercase single word is a title only where a title is expected: "I loved
                // heat", "have you seen jaws", "heat and collateral", "heat 1995", or the whole
                // message; not "something with robots" or "serial killers".
                if len == 1 && !span[0].capitalized && year.is_none() && n > 1 && !title_context(&toks, i, &covered) {
                    continue;
                }
                // Items whose bare title equals this span's bare form, e.g. both
                // "Black Panther" and "The Black Panther" for the span "black panther".
                let mut all: Vec<usize> = pos.clone();
                if let Some(more) = self.aliases.get(strip_article(&key)) {
                    all.extend(more);
                }
                all.sort_unstable();
                all.dedup();
                if let Some(p) = self.pick(items, &all, &key, year) {
                    hit = Some((len, p, year.is_some()));
                    break;
                }
            }
            match hit {
                Some((len, p, has_year)) => {
                    // In bounds: `len <= n - i`, and `has_year` means `year_after(i + len)` found
                    // a token at `i + len`; a token's `end` is a character boundary of `text`.
                    let last = if has_year { i + len } else { i + len - 1 };
                    let mut end = toks[last].end;
                    if has_year && text[end..].starts_with(')') {
                        end += 1;
                    }
                    found.push(Mention { start: toks[i].start, end, id: items[p].id, position: p, similarity: 1.0 });
                    for c in covered.iter_mut().take(last + 1).skip(i) {
                        *c = true;
                    }
                    i = last + 1;
                }
                None => i += 1,
            }
        }
        self.fuzzy_pass(items, index, text, &toks, &mut covered, &mut found);
        found.sort_by_key(|m| m.start);
        self.cohere(items, text, &mut found);
        found
    }

    /// Re-picks ambiguous mentions (several items with the same bare title and no year in the
    /// text) toward the item sharing the most directors, writers and stars with the other
    /// mentions of the same text: "Heat and Collateral" → Michael Mann's *Heat*.
    fn cohere(&self, items: &[Item], text: &str, found: &mut [Mention]) {
        if found.len() < 2 {
            return;
        }
        let people = |p: usize| -> Vec<&str> {
            let it = &items[p];
            it.directors.iter().chain(&it.writers).chain(&it.stars).map(String::as_str).collect()
        };
        for k in 0..found.len() {
            let m = &found[k];
            let span = &text[m.start..m.end];
            if split_query_year(span).1.is_some() {
                continue;
            }
            let Some(alts) = self.aliases.get(&self.bare[m.position]) else {
                continue;
            };
            if alts.len() < 2 {
                continue;
            }
            let others: Vec<&str> =
                found.iter().enumerate().filter(|(j, _)| *j != k).flat_map(|(_, o)| people(o.position)).collect();
            let overlap = |p: usize| people(p).iter().filter(|x| others.contains(x)).count();
            let current = overlap(m.position);
            if let Some(best) = alts
                .iter()
                .copied()
                .filter(|&p| overlap(p) > current)
                .max_by_key(|&p| (overlap(p), items[p].popularity))
            {
                found[k].position = best;
                found[k].id = items[best].id;
            }
        }
    }

    /// Links misspelt titles among the words no exact alias covered. Bounded: at most 64 fuzzy
    /// lookups per text.
    fn fuzzy_pass(
        &self,
        items: &[Item],
        index: &CatalogIndex,
        text: &str,
        toks: &[Token],
        covered: &mut [bool],
        found: &mut Vec<Mention>,
    ) {
        let n = toks.len();
        let content = |t: &Token| {
            !self.is_common(&t.norm)
                && DESCRIPTIVE.binary_search(&t.norm.as_str()).is_err()
                && parse_year(&t.norm).is_none()
        };
        let mut budget = 64;
        let mut i = 0;
        while i < n && budget > 0 {
            if covered[i] || !content(&toks[i]) {
                i += 1;
                continue;
            }
            let mut accepted = None;
            for len in (1..=6.min(n - i)).rev() {
                let span = &toks[i..i + len];
                if span.iter().enumerate().any(|(j, _)| covered[i + j]) || !content(&span[len - 1]) {
                    continue;
                }
                let chars: usize = span.iter().map(|t| t.norm.chars().count()).sum();
                // One misspelt word is a title only when written like one: a lowercase word
                // within edit distance 1 of a one-word title is usually another word
                // ("something lighter" is not The Fighter).
                if len == 1 && (chars < 6 || !span[0].capitalized) {
                    continue;
                }
                budget -= 1;
                let query = &text[span[0].start..span[len - 1].end];
                let year = toks.get(i + len).and_then(|t| parse_year(&t.norm));
                let q = match year {
                    Some(y) => format!("{query} {y}"),
                    None => query.to_string(),
                };
                let best = self.link_title(items, index, &q, 1);
                if let Some(c) = best.first() {
                    let words = |s: &str| s.split(' ').count();
                    let span_norm = span.iter().map(|t| t.norm.as_str()).collect::<Vec<_>>().join(" ");
                    let same_len = words(strip_article(&span_norm)) == words(&self.bare[c.position]);
                    let need = if len == 1 { 0.85 } else { 0.8 };
                    if same_len && c.similarity >= need {
                        accepted = Some((len, *c, year.is_some()));
                        break;
                    }
                }
                if budget == 0 {
                    break;
                }
            }
            match accepted {
                Some((len, c, has_year)) => {
                    // In bounds: `len <= n - i`, and `has_year` means `year_after(i + len)` found
                    // a token at `i + len`; a token's `end` is a character boundary of `text`.
                    let last = if has_year { i + len } else { i + len - 1 };
                    found.push(Mention {
                        start: toks[i].start,
                        end: toks[last].end,
                        id: c.id,
                        position: c.position,
                        similarity: c.similarity,
                    });
                    for c in covered.iter_mut().take(last + 1).skip(i) {
                        *c = true;
                    }
                    i = last + 1;
                }
                None => i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptive_words_are_sorted() {
        assert!(DESCRIPTIVE.windows(2).all(|w| w[0] < w[1]));
        assert!(TITLE_CUES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn splits_years_off_queries() {
        assert_eq!(split_query_year("Black Panther (1977)"), ("black panther".into(), Some(1977)));
        assert_eq!(split_query_year("heat"), ("heat".into(), None));
        assert_eq!(split_query_year("2012"), ("2012".into(), None));
    }

    #[test]
    fn tokenizer_keeps_offsets_and_case() {
        let t = tokenize("I loved Heat. the Matrix & Up!");
        let norms: Vec<&str> = t.iter().map(|t| t.norm.as_str()).collect();
        assert_eq!(norms, ["i", "loved", "heat", "the", "matrix", "and", "up"]);
        assert!(t[2].capitalized && !t[2].sentence_start);
        assert!(t[3].sentence_start);
        assert_eq!(&"I loved Heat. the Matrix & Up!"[t[4].start..t[4].end], "Matrix");
    }
}
