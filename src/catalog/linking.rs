//! Entity linking: free text → catalog items.
//!
//! Two entry points share one scoring rule:
//! - [`Linker::link_title`] treats the whole text as one title: candidates are exact alias hits
//!   plus tantivy fuzzy matches on the normalised title field, then **rescored here** by
//!   character edit distance (tantivy's fuzzy query scores a distance-2 match like an exact one),
//!   year agreement and training popularity;
//! - [`Linker::link_text`] scans an utterance for title spans: greedy longest exact alias match
//!   (with or without a leading article, with an optional year after it), then a fuzzy pass over
//!   the words left uncovered. Lowercase common words and genre words are never linked alone;
//!   a one-word title that is also a word of the language ("society", "Max", "California")
//!   needs evidence (a meaningful capital, a cue before it, a year or sequel number after it,
//!   the whole message: `linking/evidence.rs`, with word facts drawn from the catalog's plots,
//!   titles and people in `linking/lexicon.rs`), and a misspelling must not be a correctly spelt
//!   word ("21 Bridges" is not *Brides*); a title that stands for a person ("he and the Rock",
//!   "The Rock and Kevin Hart", "one with Iron Man") or starts a longer name ("the Knights of
//!   Ren") is not linked.

use std::collections::{HashMap, HashSet};

use super::index::{CatalogIndex, FuzzyCache};
use super::text::{self, canonical_form, is_common_word, normalize, strip_article};
use super::{Item, ItemId};
use crate::Result;

mod context;
mod sequels;

mod evidence;
mod fuzzy;
mod lexicon;
mod lists;

use context::{
    cue, cue_after, embedded, genre_run, latest_cue, original_cue, parse_year, subtitle_after, tokenize, Cue, Token,
    DESCRIPTIVE,
};
use evidence::KINDS;
use lexicon::Lexicon;
use sequels::sequel_number;

/// The exact-form bonus of [`Linker::pick`] for a span typed without an article when a title
/// with the article is among the candidates (1 otherwise; popularity weighs 0.12 per unit of
/// ln(1 + mentions)).
const ARTICLE_LESS_EXACT: f32 = 0.15;

/// Subject pronouns that are also titles ("It", "Us", "Her", "Them!"): a verdict after one is
/// said of the pronoun.
const PRONOUNS: &[&str] = &["he", "her", "it", "she", "that", "them", "these", "they", "this", "those", "us", "we"];

/// Training dialogues (item `popularity`) that make a title well known: a well-known title
/// links from weaker evidence ("black panther", "Frozen was great").
const WELL_KNOWN: u32 = 20;

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
    /// query and title, in [0, 1]; the distance is optimal string alignment (Levenshtein with
    /// adjacent transpositions at cost 1).
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

pub(crate) struct Linker {
    /// Normalised title per item position.
    norm: Vec<String>,
    /// [`canonical_form`] of `norm` per item position: "oceans 11" for *Ocean's Eleven*.
    canon: Vec<String>,
    /// Alias keys that only a title's [`canonical_form`] gives, no title as spelt ("the last 5
    /// years" for *The Last Five Years*).
    canonical_only: HashSet<String>,
    /// Article-stripped normalised title per item position.
    bare: Vec<String>,
    /// alias (normalised, with and without article) → item positions.
    aliases: HashMap<String, Vec<usize>>,
    /// Most words in any alias.
    max_words: usize,
    /// Frequent words of the training dialogues, never linked alone in lowercase.
    common: HashSet<String>,
    /// Per position: the article-stripped normalised forms of its extra aliases
    /// ([`super::Alias`]), for sequel lookups.
    alias_forms: Vec<Vec<String>>,
    /// Aliases that link only when written in capitals ("HP", not "hp").
    caps_only: HashSet<String>,
    /// What the catalog's plots, titles and people say about words.
    lexicon: Lexicon,
}

/// A title the text asks for that the catalog lacks: a numbered sequel of a catalog title
/// ("Gladiator II" when only *Gladiator* (2000) is there).
#[derive(Debug, Clone, PartialEq)]
pub struct MissingTitle {
    /// Byte offset where the span starts in the input text.
    pub start: usize,
    /// Byte offset one past its end (the number included).
    pub end: usize,
    /// The span as written ("Gladiator II").
    pub said: String,
    /// The catalog item of the series the number was read against (the linked base title).
    pub series: ItemId,
    /// The entry number asked for (1-based).
    pub number: u32,
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

/// The subtitle of a title, normalised: the words after its last ": " or " – " ("the last jedi"
/// of "Star Wars: Episode VIII – The Last Jedi"), when they are two words or more without the
/// article, not a numbered part ("Part 2", "Chapter 4", "Volume 1") and not only common words.
fn subtitle(title: &str) -> Option<String> {
    let at = [": ", " – ", " — "].iter().filter_map(|sep| title.rfind(sep).map(|a| a + sep.len())).max()?;
    let sub = normalize(&title[at..]);
    let bare = strip_article(&sub);
    let words: Vec<&str> = bare.split(' ').collect();
    let numbered = matches!(words[0], "part" | "chapter" | "volume" | "episode" | "vol")
        || words.iter().any(|w| w.bytes().all(|b| b.is_ascii_digit()));
    let ordinary = words.iter().all(|w| is_common_word(w));
    (words.len() >= 2 && !numbered && !ordinary).then_some(sub)
}

fn similarity(a: &str, b: &str) -> f32 {
    let la = a.chars().count();
    let lb = b.chars().count();
    let longer = la.max(lb);
    if longer == 0 {
        return 1.0;
    }
    // Optimal string alignment: a transposition ("Inceptoin") costs one edit, as people type.
    1.0 - strsim::osa_distance(a, b) as f32 / longer as f32
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
    pub(crate) fn new(items: &[Item], common: HashSet<String>, extra: &[super::Alias]) -> Result<Self> {
        let mut norm = Vec::with_capacity(items.len());
        let mut bare = Vec::with_capacity(items.len());
        let mut aliases: HashMap<String, Vec<usize>> = HashMap::new();
        let mut max_words = 1;
        let add = |aliases: &mut HashMap<String, Vec<usize>>, key: String, k: usize| {
            if key.is_empty() {
                return;
            }
            let e = aliases.entry(key).or_default();
            if !e.contains(&k) {
                e.push(k);
            }
        };
        let mut canon = Vec::with_capacity(items.len());
        let mut canonical_keys: HashSet<String> = HashSet::new();
        for (k, it) in items.iter().enumerate() {
            let n = normalize(&it.title);
            let b = strip_article(&n).to_string();
            max_words = max_words.max(n.split(' ').count());
            add(&mut aliases, n.clone(), k);
            add(&mut aliases, b.clone(), k);
            // The same title with its numbers and "versus" spelt the other way.
            let c = canonical_form(&n).into_owned();
            if c != n {
                canonical_keys.insert(strip_article(&c).to_string());
                canonical_keys.insert(c.clone());
            }
            add(&mut aliases, c.clone(), k);
            add(&mut aliases, strip_article(&c).to_string(), k);
            norm.push(n);
            bare.push(b);
            canon.push(c);
        }
        // Subtitles people say alone ("The Last Jedi", "The Two Towers", "Fury Road"): of two
        // words or more, one title's only, not a part or chapter number, and no other title.
        let mut subtitles: HashMap<String, Vec<usize>> = HashMap::new();
        for (k, it) in items.iter().enumerate() {
            if let Some(sub) = subtitle(&it.title) {
                subtitles.entry(sub).or_default().push(k);
            }
        }
        for (sub, ks) in subtitles {
            if let [k] = ks[..] {
                if !aliases.contains_key(&sub) && !aliases.contains_key(strip_article(&sub)) {
                    add(&mut aliases, strip_article(&sub).to_string(), k);
                    add(&mut aliases, sub, k);
                }
            }
        }
        let by_id: HashMap<ItemId, usize> = items.iter().enumerate().map(|(k, it)| (it.id, k)).collect();
        let mut alias_forms = vec![Vec::new(); items.len()];
        let mut caps_only = HashSet::new();
        for a in extra {
            let Some(&k) = by_id.get(&a.id) else {
                return Err(crate::Error::InvalidInput(format!(
                    "alias {:?} names item {}, not in the catalog",
                    a.alias, a.id
                )));
            };
            let n = normalize(&a.alias);
            let b = strip_article(&n).to_string();
            if n.is_empty() {
                continue;
            }
            max_words = max_words.max(n.split(' ').count());
            if a.caps_only {
                caps_only.insert(n.clone());
            }
            add(&mut aliases, n.clone(), k);
            add(&mut aliases, b.clone(), k);
            let c = canonical_form(&n).into_owned();
            add(&mut aliases, strip_article(&c).to_string(), k);
            add(&mut aliases, c, k);
            alias_forms[k].push(b);
        }
        let lexicon = Lexicon::new(items);
        // Keys that only the other spelling of a number gives ("the last 5 years").
        for (n, b) in norm.iter().zip(&bare) {
            canonical_keys.remove(n);
            canonical_keys.remove(b);
        }
        Ok(Linker {
            norm,
            canon,
            canonical_only: canonical_keys,
            bare,
            aliases,
            max_words,
            common,
            alias_forms,
            caps_only,
            lexicon,
        })
    }

    fn score(&self, items: &[Item], pos: usize, qnorm: &str, year: Option<u16>) -> (f32, f32) {
        let qbare = strip_article(qnorm);
        let sim = similarity(qbare, &self.bare[pos]);
        let exact = if canonical_form(qnorm) == self.canon[pos] { 0.5 } else { 0.0 };
        let item = &items[pos];
        (10.0 * sim + exact + year_term(item, year) + popularity_term(item), sim)
    }

    pub(crate) fn link_title(&self, items: &[Item], index: &CatalogIndex, text: &str, k: usize) -> Vec<LinkCandidate> {
        self.link_title_cached(items, &mut index.fuzzy_cache(), text, k)
    }

    /// [`Linker::link_title`] with fuzzy token matches shared across lookups of one text.
    fn link_title_cached(
        &self,
        items: &[Item],
        fuzzy: &mut FuzzyCache<'_>,
        text: &str,
        k: usize,
    ) -> Vec<LinkCandidate> {
        let (qnorm, year) = split_query_year(text);
        let (qnorm, year) = if qnorm.is_empty() { (normalize(text), None) } else { (qnorm, year) };
        if qnorm.is_empty() || k == 0 {
            return Vec::new();
        }
        let mut cands: Vec<usize> = Vec::new();
        let qcanon = canonical_form(&qnorm);
        for key in [qnorm.as_str(), strip_article(&qnorm), &qcanon, strip_article(&qcanon)] {
            if let Some(v) = self.aliases.get(key) {
                cands.extend(v);
            }
        }
        cands.extend(fuzzy.candidates(&qnorm, 64));
        cands.sort_unstable();
        cands.dedup();
        cands.retain(|&p| p < items.len());
        self.top_scored(items, cands, &qnorm, year, k)
    }

    /// The `k` best of `cands` by [`Linker::score`] (ties: smaller id first). The edit distance
    /// is at least the length difference, so `10 · (1 − |la − lb| / longer)` bounds the
    /// similarity term from above; candidates are scored in order of that bound and the scan
    /// stops once the bound falls below the k-th best score (the result is the full sort's).
    fn top_scored(
        &self,
        items: &[Item],
        cands: Vec<usize>,
        qnorm: &str,
        year: Option<u16>,
        k: usize,
    ) -> Vec<LinkCandidate> {
        let qlen = strip_article(qnorm).chars().count();
        let qcanon = canonical_form(qnorm);
        let exact = |p: usize| if qcanon == self.canon[p] { 0.5 } else { 0.0 };
        let mut bounded: Vec<(f32, usize)> = cands
            .into_iter()
            .map(|p| {
                let blen = self.bare[p].chars().count();
                let longer = qlen.max(blen);
                let sim = if longer == 0 { 1.0 } else { 1.0 - qlen.abs_diff(blen) as f32 / longer as f32 };
                let item = &items[p];
                (10.0 * sim + exact(p) + year_term(item, year) + popularity_term(item), p)
            })
            .collect();
        bounded.sort_by(|a, b| b.0.total_cmp(&a.0));
        let order = |a: &LinkCandidate, b: &LinkCandidate| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id));
        let mut out: Vec<LinkCandidate> = Vec::with_capacity(k + 1);
        let qchars: Vec<char> = strip_article(qnorm).chars().collect();
        for (bound, p) in bounded {
            let worst = if out.len() == k { out.last().map(|w| w.score) } else { None };
            if worst.is_some_and(|w| bound < w) {
                break;
            }
            if let Some(w) = worst {
                // Only a distance whose score reaches the k-th best can enter the list: find the
                // largest such (the same f32 arithmetic as `score`) and stop the alignment there.
                let bchars: Vec<char> = self.bare[p].chars().collect();
                let longer = qchars.len().max(bchars.len());
                let item = &items[p];
                let at = |d: usize| {
                    let sim = if longer == 0 { 1.0 } else { 1.0 - d as f32 / longer as f32 };
                    10.0 * sim + exact(p) + year_term(item, year) + popularity_term(item)
                };
                let max = (qchars.len().abs_diff(bchars.len())..=longer).take_while(|&d| at(d) >= w).last();
                if max.is_none_or(|m| text::osa_within(&qchars, &bchars, m).is_none()) {
                    continue;
                }
            }
            let (score, similarity) = self.score(items, p, qnorm, year);
            out.push(LinkCandidate { position: p, id: items[p].id, score, similarity });
            out.sort_by(order);
            out.truncate(k);
        }
        out
    }

    /// The best alias hit among `positions` for a span, preferring the year hint, then the exact
    /// (article-included) form `span_norm` when given (numbers and "versus" spelt either way,
    /// [`canonical_form`]), then training popularity.
    fn pick(&self, items: &[Item], positions: &[usize], span_norm: Option<&str>, year: Option<u16>) -> Option<usize> {
        let span_canon = span_norm.map(canonical_form);
        positions.iter().copied().max_by(|&a, &b| {
            let s = |p: usize| {
                let it = &items[p];
                let y = match (year, it.year) {
                    (Some(q), Some(v)) if q == v => 10.0,
                    _ => 0.0,
                };
                // People drop the article: typed without one, the exact form ("Heat" for *Heat*
                // over *The Heat*) counts for less, so a title with the article wins when it is
                // mentioned more than e^(0.15 / 0.12) ≈ 3.5 times as often ("Godfather" is *The
                // Godfather*, "Hangover" *The Hangover*).
                let exact = match span_canon.as_deref() {
                    Some(c) if c == self.canon[p] => {
                        if c == strip_article(c) && self.article_twin(positions, c) {
                            ARTICLE_LESS_EXACT
                        } else {
                            1.0
                        }
                    }
                    _ => 0.0,
                };
                y + exact + popularity_term(it)
            };
            s(a).total_cmp(&s(b)).then(b.cmp(&a))
        })
    }

    pub(crate) fn link_text(
        &self,
        items: &[Item],
        index: &CatalogIndex,
        text: &str,
    ) -> (Vec<Mention>, Vec<MissingTitle>) {
        let toks = tokenize(text);
        let n = toks.len();
        let mut covered = vec![false; n];
        let mut found: Vec<Mention> = Vec::new();
        let mut missing: Vec<MissingTitle> = Vec::new();
        let year_after = |j: usize| -> Option<u16> { toks.get(j).and_then(|t| parse_year(&t.norm)) };
        let mut i = 0;
        while i < n {
            let mut hit = None;
            for len in (1..=self.max_words.min(n - i)).rev() {
                let span = &toks[i..i + len];
                let key = span.iter().map(|t| t.norm.as_str()).collect::<Vec<_>>().join(" ");
                let via_canonical = !self.aliases.contains_key(&key) || self.canonical_only.contains(&key);
                let Some(pos) = self.aliases.get(&key).or_else(|| self.aliases.get(canonical_form(&key).as_ref()))
                else {
                    continue;
                };
                // An abbreviation such as "HP" is one only in capitals.
                if self.caps_only.contains(&key)
                    && text[span[0].start..span[len - 1].end].chars().any(char::is_lowercase)
                {
                    continue;
                }
                // Items whose bare title equals this span's bare form, e.g. both
                // "Black Panther" and "The Black Panther" for the span "black panther".
                let mut all: Vec<usize> = pos.clone();
                let canon = canonical_form(&key);
                for k in [strip_article(&key), &canon, strip_article(&canon)] {
                    if let Some(more) = self.aliases.get(k) {
                        all.extend(more);
                    }
                }
                all.sort_unstable();
                all.dedup();
                // A year that no entry of this title has (±1) is not this title's ("May 2020").
                let year = year_after(i + len)
                    .filter(|&y| all.iter().any(|&q| items[q].year.is_some_and(|v| v.abs_diff(y) <= 1)));
                // Common words need a meaningful capital, or a year of this title ("IT (2017)").
                // A capital opening the message counts for a well-known title that is the whole
                // message ("Alien"), heads a list of titles ("Alien, Heat, Jaws") or gets a verdict
                // ("Up made me cry"); checked once the entry is picked.
                // ... or, for one lowercase word that is no word of the plots, of a well-known
                // title (a name people type in lowercase, frequent in dialogues only as a title:
                // "batman"), a strong cue before it ("I loved batman"; not "love stuff").
                let named_after_cue = len == 1
                    && span[0].norm.chars().all(char::is_alphabetic)
                    && !is_common_word(&span[0].norm)
                    && !self.lexicon.is_ordinary(&span[0].norm)
                    && all.iter().any(|&q| items[q].popularity >= WELL_KNOWN)
                    && cue(text, &toks, i, &covered) == Cue::Strong;
                let deferred = year.is_none() && !self.span_allowed(span) && !named_after_cue;
                let opening = span[0].capitalized && span[0].sentence_start && !span[0].shouted;
                // "… is my favorite", "… made me cry", "… is hilarious" after the span; not after
                // a pronoun, which is what such a verdict is most often said of ("It was great").
                let pronoun = len == 1 && PRONOUNS.contains(&span[0].norm.as_str());
                let verdict = if pronoun { Cue::None } else { cue_after(&toks, i + len) };
                if deferred
                    && !(opening
                        && (n == len || verdict != Cue::None || self.title_follows_in_list(text, &toks, i + len)))
                {
                    continue;
                }
                // A lowercase article before a capitalised title may or may not be part of it
                // ("the Alien movies" are *Alien*'s, "the Notebook" is *The Notebook*): then the
                // exact form does not count, only popularity.
                let article = |t: &Token| matches!(t.norm.as_str(), "the" | "a" | "an");
                let article_said = !(len > 1 && article(&span[0]) && !span[0].capitalized && span[1].capitalized);
                let Some(p) = self.pick(items, &all, article_said.then_some(key.as_str()), year) else { continue };
                if deferred && items[p].popularity < WELL_KNOWN {
                    continue;
                }
                // "inception and the matrix": a lowercase head of a list of titles (capitalised
                // lists are as often names: "Max and Annie").
                let list_head = if span.iter().all(|t| !t.capitalized) && self.title_follows(&toks, i + len) {
                    Cue::Weak
                } else {
                    Cue::None
                };
                // The cue before the span's last word, past any article ("love the actors" is a
                // weak cue, "seen the accountant" a strong one).
                let last_word_cue = cue(text, &toks, i + len - 1, &covered);
                let cue = cue(text, &toks, i, &covered).max(verdict).max(list_head);
                let well_known = items[p].popularity >= WELL_KNOWN;
                // Digits for a number word in lowercase ("the last 5 years" is no *The Last Five
                // Years*): only for a well-known title.
                if via_canonical && !well_known && span.iter().all(|t| !t.capitalized) {
                    continue;
                }
                // A year after a comparison or preposition is a year ("newer than 2010").
                if len == 1
                    && parse_year(&span[0].norm).is_some()
                    && i.checked_sub(1).is_some_and(|k| {
                        matches!(toks[k].norm.as_str(), "than" | "after" | "before" | "since" | "from" | "in" | "until")
                    })
                {
                    continue;
                }
                // One word needs evidence that it is a title (`single_word_ok`), unless a year
                // or a sequel number follows it ("Godfather 2") or it is the whole message.
                if len == 1
                    && year.is_none()
                    && n > 1
                    && sequel_number(text, &toks, i + 1).is_none()
                    && !self.single_word_ok(text, &toks, i, cue, well_known)
                {
                    continue;
                }
                // Lowercase words that are also everyday phrases ("the judge", "true crime", "talk
                // to me", "road trip") are a title only where one is expected, or as the whole
                // message; an article plus one word reads like one word, and a phrase of common or
                // ordinary words needs a well-known title ("black panther"), even after a cue when
                // a kind of film follows ("I enjoy true crime docs"). The capital of an article
                // opening a sentence says nothing ("The actors are key").
                let lowercase = span.iter().all(|t| !t.capitalized || (t.sentence_start && article(t)));
                if len > 1 && lowercase && year.is_none() && n > len {
                    let content: Vec<&Token> = span.iter().filter(|t| !article(t)).collect();
                    let everyday = content.iter().all(|t| {
                        self.is_common(&t.norm)
                            || self.lexicon.is_ordinary(&t.norm)
                            || DESCRIPTIVE.binary_search(&t.norm.as_str()).is_ok()
                    });
                    let kind_after = toks.get(i + len).is_some_and(|t| KINDS.contains(&t.norm.as_str()));
                    if cue == Cue::None && (content.len() < 2 || (everyday && !well_known)) {
                        continue;
                    }
                    // "love the actors", "the actors are hilarious", "like the fighter pilots":
                    // an article and one everyday word, lowercase, of a title that is not well
                    // known is that word unless a strong cue comes before it ("have you seen the
                    // accountant?"); a verdict after it or an opinion in the present is not enough.
                    if content.len() == 1
                        && !well_known
                        && last_word_cue != Cue::Strong
                        && self.lexicon.is_everyday(&content[0].norm)
                    {
                        continue;
                    }
                    if everyday && !well_known && kind_after {
                        continue;
                    }
                }
                // "after a Zombie apocalypse", "It was called Like a Boss", "on her bucket list":
                // everyday words right after "a" / "an" (capitalised, of a title that is not well
                // known: "More of a Toy Story or a Joker?" names films) or lowercase after "for",
                // or lowercase words after a possessive, are a noun phrase, not a title (a title that opens with the article
                // spans it).
                let everyday_span = span.iter().all(|t| {
                    article(t)
                        || self.is_common(&t.norm)
                        || self.lexicon.is_ordinary(&t.norm)
                        || DESCRIPTIVE.binary_search(&t.norm.as_str()).is_ok()
                });
                let determiner = i.checked_sub(1).map(|k| toks[k].norm.as_str());
                let noun_phrase = match determiner {
                    Some("a" | "an") => everyday_span && (lowercase || !well_known),
                    Some("my" | "your" | "his" | "her" | "our" | "their") => lowercase,
                    // "something romantic for date night".
                    Some("for") => lowercase && everyday_span,
                    _ => false,
                };
                if noun_phrase && year.is_none() && !article(&span[0]) {
                    continue;
                }
                // "the Toy Story movies": a leading article must not take the first word of a
                // longer title that starts right after it.
                if len > 1 && matches!(span[0].norm.as_str(), "the" | "a" | "an") && self.longer_after(&toks, i, len) {
                    break;
                }
                hit = Some((len, p, year.is_some(), key));
                break;
            }
            match hit {
                Some((len, p, has_year, key)) => {
                    // In bounds: `len <= n - i`, and `has_year` means `year_after(i + len)` found
                    // a token at `i + len`; a token's `end` is a character boundary of `text`.
                    let mut last = if has_year { i + len } else { i + len - 1 };
                    let mut end = toks[last].end;
                    if has_year && text[end..].starts_with(')') {
                        end += 1;
                    }
                    // A title inside a longer capitalised name is part of that name ("Amazon
                    // Prime", "Jojo Rabbit", "Zombieland Double Tap", "Vietnam War"), and a
                    // capitalised genre word next to another is a genre ("Drama or Comedy" is
                    // not, but "Romantic Comedy" and "Noir, Action, Comedy" are).
                    // The words stay open to the misspelling pass ("Shawshank Redmeption").
                    // A sequel number, with the entry it asks for (`None`: the catalog lacks it).
                    // "Collateral Seven": a capitalised number word that is a title of its own,
                    // after a title with no series, is no sequel number (nor a missing title).
                    let base = strip_article(&key);
                    let sequel = if has_year { None } else { sequel_number(text, &toks, i + len) }
                        .map(|(number, at)| (number, at, self.sequel(items, base, p, number)))
                        .filter(|&(_, at, entry)| {
                            entry.is_some() || !self.number_is_title(items, text, &toks[at], base, p)
                        });
                    // So is a title followed by a colon and a subtitle ("Jumanji: The Next Level").
                    if !has_year
                        && sequel.is_none()
                        && (embedded(text, &toks, i, last)
                            || self.names_a_person(&toks, i, last)
                            || genre_run(&toks, i, last)
                            || subtitle_after(text, &toks, last)
                            || self.subtitle_of_title(text, &toks, i, p))
                    {
                        i += 1;
                        continue;
                    }
                    let mut p = p;
                    let base_hit = p;
                    let mut extra: Vec<(usize, usize)> = Vec::new();
                    let mut skip_to = last;
                    // "Toy Story 2 and 3" with the numbered title matched whole: the further
                    // entries of its series.
                    if !has_year && sequel.is_none() {
                        if let Some((series_key, _)) = base.rsplit_once(' ') {
                            let numbered = base.rsplit(' ').next().and_then(|w| sequels::parse_number(w, true));
                            if numbered.is_some() {
                                for (n, k) in sequels::more_numbers(&toks, last) {
                                    match self.sequel(items, series_key, base_hit, n) {
                                        Some(q) => extra.push((q, k)),
                                        // "Ocean's 11 and 12": a number of the series, not the
                                        // film *12*; unread, but not linked elsewhere.
                                        None => skip_to = skip_to.max(k),
                                    }
                                }
                            }
                        }
                    }
                    if !has_year {
                        if let Some((number, number_tok, entry)) = sequel {
                            // "toy story 2 and 3": the further entries the catalog has.
                            for (n, k) in sequels::more_numbers(&toks, number_tok) {
                                if let Some(q) = self.sequel(items, base, base_hit, n) {
                                    extra.push((q, k));
                                }
                            }
                            // "Godfather 2", "Harry Potter 3", "Gladiator II": the series entry,
                            // or a title the catalog lacks (never the original).
                            last = number_tok;
                            end = toks[last].end;
                            match entry {
                                Some(q) => p = q,
                                None => {
                                    missing.push(MissingTitle {
                                        start: toks[i].start,
                                        end,
                                        said: text[toks[i].start..end].to_string(),
                                        series: items[p].id,
                                        number,
                                    });
                                    for c in covered.iter_mut().take(last + 1).skip(i) {
                                        *c = true;
                                    }
                                    i = last + 1;
                                    continue;
                                }
                            }
                        } else if latest_cue(&toks, i) {
                            // "the new Dune": the latest entry of the series, or of the films of
                            // this very title ("the new Lion King" is the 2019 remake).
                            let remakes = (0..items.len()).filter(|&q| self.bare[q] == self.bare[p]);
                            let series = self.series(items, strip_article(&key), p);
                            if let Some(q) = series
                                .iter()
                                .copied()
                                .chain(remakes)
                                .filter(|&q| items[q].year.is_some())
                                .max_by_key(|&q| (items[q].year, std::cmp::Reverse(q)))
                            {
                                p = q;
                            }
                        } else if original_cue(&toks, i) {
                            // "the original Jumanji": the oldest film of this title.
                            if let Some(q) = (0..items.len())
                                .filter(|&q| self.bare[q] == self.bare[p] && items[q].year.is_some())
                                .min_by_key(|&q| (items[q].year, q))
                            {
                                p = q;
                            }
                        }
                    }
                    found.push(Mention { start: toks[i].start, end, id: items[p].id, position: p, similarity: 1.0 });
                    for &(q, k) in &extra {
                        found.push(Mention {
                            start: toks[k].start,
                            end: toks[k].end,
                            id: items[q].id,
                            position: q,
                            similarity: 1.0,
                        });
                        last = last.max(k);
                    }
                    last = last.max(skip_to);
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
        (found, missing)
    }

    /// Whether an alias starts at token `i + 1` and ends after token `i + len - 1`.
    fn longer_after(&self, toks: &[Token], i: usize, len: usize) -> bool {
        let n = toks.len();
        (len..=self.max_words.min(n.saturating_sub(i + 1))).any(|l| {
            let key = toks[i + 1..i + 1 + l].iter().map(|t| t.norm.as_str()).collect::<Vec<_>>().join(" ");
            self.aliases.contains_key(&key)
        })
    }

    /// Re-picks ambiguous mentions (several items with the same bare title and no year in the
    /// text) toward the item sharing the most directors, writers and stars with the other
    /// mentions of the same text and the people the text names: "Heat and Collateral" and "Heat
    /// with Al Pacino" → Michael Mann's *Heat*.
    fn cohere(&self, items: &[Item], text: &str, found: &mut [Mention]) {
        if found.is_empty() {
            return;
        }
        let padded = format!(" {} ", normalize(text));
        let named = |name: &str| {
            let n = normalize(name);
            n.contains(' ') && padded.contains(&format!(" {n} "))
        };
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
            // Another mention of the same bare title says nothing about which entry this is ("the
            // movie Zodiac, about the zodiac killer" must not pull *Zodiac* to *The Zodiac*).
            let others: Vec<&str> = found
                .iter()
                .enumerate()
                .filter(|(j, o)| *j != k && self.bare[o.position] != self.bare[m.position])
                .flat_map(|(_, o)| people(o.position))
                .collect();
            let overlap = |p: usize| people(p).iter().filter(|x| others.contains(x) || named(x)).count();
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
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
