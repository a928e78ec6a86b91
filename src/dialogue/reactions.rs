//! Reactions to the recommender's last list: which listed items a seeker turn refers to, and what
//! it says about each (seen or not, liked or not, accepted).
//!
//! References, in the seeker's words:
//! - ordinals: "the first one", "1st", "number 2", "#3", "the second", "the last one", and
//!   leading or trailing runs: "the first two", "the top 3", "the last two";
//! - deixis: "that one", "this one", "it", "that" (only after a one-item list), "both" (a
//!   two-item list), "all of them", "none of those" (the whole list, each not accepted);
//! - titles: a listed item linked in the text, or a distinctive word of its title ("seen
//!   Martian" for *The Martian*; common words never count).
//!
//! The reaction to a reference is read in its stretch of the sentence (up to a "but" or the end
//! of the sentence, [`super::negation`]); a stretch with cues and no reference of its own
//! continues the previous one ("haven't seen it, but it sounds good"):
//! - seen: "seen", "saw", "watched", "already"; not seen: "haven't seen", "never saw", "not
//!   seen", "new to me", "never heard of";
//! - disliked: the negative cues of [`super::negation`] ("hated", "didn't like", "boring");
//!   liked: "loved", "liked", "great", "good", "enjoyed", "favourite", "sounds good", …;
//! - accepted: "I'll watch", "will check it out", "add it to my list", "sounds good",
//!   "I'll try", "I'll give it a go".
//!
//! "none of those" and "neither" mark every referenced item disliked when no other cue is said.

use super::negation::{clauses, is_negative_cue, Word};
use super::state::Polarity;
use crate::catalog::{Catalog, ItemId};

/// What one seeker turn says about one item of the recommender's last list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    /// The listed item referred to.
    pub id: ItemId,
    /// Seen (`Some(true)`), not seen (`Some(false)`), or not said.
    pub seen: Option<bool>,
    /// Liked or disliked, when said; `Neutral` for an item excepted from a count ("seen 2 of
    /// those, not Jackie Brown": nothing is said of liking it, whatever "not" would say of a
    /// title alone).
    pub polarity: Option<Polarity>,
    /// The seeker will watch it ("I'll watch the second").
    pub accepted: bool,
}

/// Ordinal words (normalised) → 0-based index.
const ORDINALS: &[(&str, usize)] = &[
    ("1st", 0),
    ("2nd", 1),
    ("3rd", 2),
    ("4th", 3),
    ("5th", 4),
    ("fifth", 4),
    ("first", 0),
    ("fourth", 3),
    ("second", 1),
    ("third", 2),
];

/// The 0-based index an ordinal names: [`ORDINALS`]' words, "sixth" to "tenth", and any
/// ordinal in digits ("9th", "21st": 1 to 99).
fn ordinal_index(word: &str) -> Option<usize> {
    if let Some((_, i)) = ORDINALS.iter().find(|(o, _)| *o == word) {
        return Some(*i);
    }
    let words = [("sixth", 5), ("seventh", 6), ("eighth", 7), ("ninth", 8), ("tenth", 9)];
    if let Some((_, i)) = words.iter().find(|(o, _)| *o == word) {
        return Some(*i);
    }
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &word[digits.len()..];
    if !digits.is_empty() && matches!(suffix, "st" | "nd" | "rd" | "th") {
        return digits.parse::<usize>().ok().filter(|n| (1..=99).contains(n)).map(|n| n - 1);
    }
    None
}

/// Number words after "number" / "#" (normalised) → 0-based index.
const NUMBERS: &[(&str, usize)] = &[("five", 4), ("four", 3), ("one", 0), ("three", 2), ("two", 1)];

/// Phrases (normalised, word-bounded) saying the seeker has not seen an item.
pub(super) const NOT_SEEN: &[&str] = &[
    "did not see",
    "didnt see",
    "dont know it",
    "have not seen",
    "have not watched",
    "havent seen",
    "havent watched",
    "never heard",
    "never saw",
    "never seen",
    "never watched",
    "new to me",
    "not seen",
    "not watched",
];

/// Phrases saying the seeker has seen an item.
pub(super) const SEEN: &[&str] = &["already", "saw", "seen", "watched"];

/// Phrases saying the seeker likes an item (or would).
const LIKED: &[&str] = &[
    "amazing",
    "awesome",
    "enjoyed",
    "favorite",
    "favourite",
    "good",
    "great",
    "interesting",
    "like",
    "liked",
    "love",
    "loved",
    "nice",
];

/// Phrases saying the seeker will watch an item.
const ACCEPTED: &[&str] = &[
    "add it",
    "check it out",
    "check out",
    "give it a",
    "going to watch",
    "ill check",
    "ill give",
    "ill try",
    "ill watch",
    "sounds good",
    "sounds great",
    "sounds interesting",
    "will check",
    "will try",
    "will watch",
];

/// Whole-list references ("haven't seen any of them").
const ALL: &[&str] = &[
    "all of them",
    "all of those",
    "all of these",
    "all three",
    "all 3",
    "any of them",
    "any of those",
    "any of these",
    "each of them",
    "em all",
    "every one of them",
    "them all",
];

/// The rest of the list, after some items were named ("hated the first one, never seen the
/// others").
pub(super) const OTHERS: &[&str] =
    &["the others", "the other ones", "the other two", "the other one", "the rest", "others"];

/// Verbs after which a bare list position names an item ("already watched 1 and 3").
const POSITION_VERBS: &[&str] = &["disliked", "hated", "liked", "loved", "saw", "seen", "watched"];

/// Whole-list rejections.
const NONE: &[&str] = &["neither", "none of them", "none of those", "none of these"];

/// The 1-based list positions `text` names outright that a list of `len` items does not have
/// ("#7", "number 5", "the fourth one" after a 3-item list), each once, in order. Only these
/// explicit forms: "first" or "second" alone say too little to be a reference.
pub fn beyond_list(text: &str, len: usize) -> Vec<usize> {
    let words: Vec<Word> = clauses(text).concat();
    let mut out: Vec<usize> = Vec::new();
    for (k, w) in words.iter().enumerate() {
        let after_number = k > 0 && words[k - 1].norm == "number";
        let hashed = w.span.start > 0 && text[..w.span.start].ends_with('#');
        let index = if after_number || hashed {
            w.norm
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .filter(|&i| i < 99)
                .or_else(|| NUMBERS.iter().find(|(x, _)| *x == w.norm).map(|(_, i)| *i))
        } else if words.get(k + 1).is_some_and(|n| matches!(n.norm.as_str(), "one" | "movie" | "film")) {
            ordinal_index(&w.norm)
        } else {
            None
        };
        if let Some(i) = index.filter(|&i| i >= len) {
            if !out.contains(&(i + 1)) {
                out.push(i + 1);
            }
        }
    }
    out
}

/// Whether the phrase `p` (normalised words) occurs in `text` (normalised, space-padded).
fn has(text: &str, p: &str) -> bool {
    text.contains(&format!(" {p} "))
}

/// The reactions of the seeker's `text` to `listed` (the items of the recommender's last turn, in
/// order). `linked`: the items the catalog linker found in `text`, each with the byte offset where
/// its title starts (a listed one among them is a reference where it is said). Each listed item
/// appears at most once, in list order.
pub fn reactions(text: &str, listed: &[ItemId], linked: &[(ItemId, usize)], catalog: &Catalog) -> Vec<Reaction> {
    scan(text, listed, linked, catalog).0
}

/// The listed items `text` refers to, whatever it says of them ("is the first one scary?" →
/// the first; the forms of [`reactions`], cues or not), each once, in the order referred to.
pub fn references(text: &str, listed: &[ItemId], linked: &[(ItemId, usize)], catalog: &Catalog) -> Vec<ItemId> {
    scan(text, listed, linked, catalog).1
}

/// [`reactions`] and [`references`] in one pass.
fn scan(text: &str, listed: &[ItemId], linked: &[(ItemId, usize)], catalog: &Catalog) -> (Vec<Reaction>, Vec<ItemId>) {
    if listed.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let words: Vec<Word> = clauses(text).concat();
    // Parts: the stretches ([`super::negation`]) cut again at commas and semicolons, so "seen the
    // first one, the second one sounds good" says two things about two items.
    let part_of: Vec<(usize, usize)> = {
        let mut part = 0;
        words
            .iter()
            .enumerate()
            .map(|(k, w)| {
                if k > 0 && text.get(words[k - 1].span.end..w.span.start).is_some_and(|g| g.contains([',', ';'])) {
                    part += 1;
                }
                (w.segment, part)
            })
            .collect()
    };
    let units: Vec<(usize, usize)> = {
        let mut u = part_of.clone();
        u.dedup();
        u
    };
    // References and cues per part.
    struct Unit {
        segment: usize,
        found: Vec<usize>,
        cues: Option<Cues>,
        /// "seen 2 of those": how many listed items, not which.
        count: Option<usize>,
        /// Opens with "not" / "except" / "but not": "…, not Jackie Brown".
        except: bool,
    }
    let mut parts: Vec<Unit> = Vec::new();
    let mut taken: Vec<usize> = Vec::new();
    for &unit in &units {
        let ws: Vec<&Word> = words.iter().zip(&part_of).filter(|(_, u)| **u == unit).map(|(w, _)| w).collect();
        let norm = format!(" {} ", ws.iter().map(|w| w.norm.as_str()).collect::<Vec<_>>().join(" "));
        let mut found: Vec<usize> = Vec::new();
        let mut count: Option<usize> = None;
        let add = |i: usize, found: &mut Vec<usize>| {
            if i < listed.len() && !found.contains(&i) {
                found.push(i);
            }
        };
        for (k, w) in ws.iter().enumerate() {
            if let Some(i) = ordinal_index(&w.norm) {
                add(i, &mut found);
            }
            // "the first two", "the top 3", "the last two": a run from one end of the list.
            let run = ws.get(k + 1).and_then(|n| match n.norm.as_str() {
                "two" | "2" => Some(2),
                "three" | "3" => Some(3),
                "four" | "4" => Some(4),
                "five" | "5" => Some(5),
                _ => None,
            });
            // "the last 5 years" is a span of time, not the list's last five.
            let run = run.filter(|_| {
                !ws.get(k + 2).is_some_and(|t| {
                    matches!(t.norm.as_str(), "years" | "months" | "weeks" | "days" | "hours" | "minutes" | "times")
                })
            });
            match (w.norm.as_str(), run) {
                ("first" | "top", Some(r)) => (0..r).for_each(|i| add(i, &mut found)),
                ("last", Some(r)) => (listed.len().saturating_sub(r)..listed.len()).for_each(|i| add(i, &mut found)),
                _ => {}
            }
            if w.norm == "last" && ws.get(k + 1).is_none_or(|n| matches!(n.norm.as_str(), "one" | "movie" | "film")) {
                add(listed.len() - 1, &mut found);
            }
            // "the middle one" of an odd-length list (of an even one it names no single item).
            if w.norm == "middle"
                && listed.len() % 2 == 1
                && listed.len() >= 3
                && ws.get(k + 1).is_none_or(|n| matches!(n.norm.as_str(), "one" | "movie" | "film"))
            {
                add(listed.len() / 2, &mut found);
            }
            // "number 2", "number two", "#3" (the '#' is not a word character: a bare digit
            // after "number", or a one-digit word written right after '#'); and a bare position
            // right after a verb of watching or opinion, or joined to one ("already watched 1
            // and 3", "loved 2").
            let after_number = k > 0 && ws[k - 1].norm == "number";
            let hashed = w.span.start > 0 && text[..w.span.start].ends_with('#');
            let bare = w.norm.len() == 1
                && k > 0
                && (POSITION_VERBS.contains(&ws[k - 1].norm.as_str())
                    || (matches!(ws[k - 1].norm.as_str(), "and" | "or")
                        && k > 1
                        && ws[k - 2].norm.len() == 1
                        && ws[k - 2].norm.bytes().all(|b| b.is_ascii_digit())));
            // "seen 2 of those", "watched two of them": a count of listed items, not a position.
            let of_list = ws.get(k + 1).is_some_and(|n| n.norm == "of")
                && ws
                    .get(k + 2)
                    .is_some_and(|n| matches!(n.norm.as_str(), "those" | "them" | "these" | "the" | "your"));
            if of_list && !hashed && !after_number {
                let n = w
                    .norm
                    .parse::<usize>()
                    .ok()
                    .or_else(|| NUMBERS.iter().find(|(x, _)| *x == w.norm).map(|(_, i)| i + 1));
                if let Some(n) = n.filter(|&n| n >= 1) {
                    count = Some(n);
                }
                continue;
            }
            if after_number || hashed || bare {
                let n = w.norm.parse::<usize>().ok().and_then(|n| n.checked_sub(1));
                let n = n.or_else(|| NUMBERS.iter().find(|(x, _)| *x == w.norm).map(|(_, i)| *i).filter(|_| !bare));
                if let Some(i) = n {
                    add(i, &mut found);
                }
            }
        }
        if ALL.iter().chain(NONE).any(|p| has(&norm, p)) || (listed.len() == 2 && has(&norm, "both")) {
            (0..listed.len()).for_each(|i| add(i, &mut found));
        }
        if listed.len() == 1 && ["it", "that", "that one", "this one", "this", "them"].iter().any(|p| has(&norm, p)) {
            add(0, &mut found);
        }
        // Titles: linked in this part, or a distinctive word of a listed title said in it.
        let span_words: Vec<&str> = ws.iter().map(|w| w.norm.as_str()).collect();
        let (from, to) = (ws.first().map_or(0, |w| w.span.start), ws.last().map_or(0, |w| w.span.end));
        for (i, id) in listed.iter().enumerate() {
            let linked_here = linked.iter().any(|&(l, at)| l == *id && (from..to).contains(&at));
            let partial = catalog
                .get(*id)
                .is_some_and(|it| title_words(&it.title).iter().any(|t| span_words.contains(&t.as_str())));
            if linked_here || partial {
                add(i, &mut found);
            }
        }
        // "the others", "the rest": the listed items this turn has not referred to yet.
        if OTHERS.iter().any(|p| has(&norm, p)) {
            let named: Vec<usize> = taken.iter().chain(&found).copied().collect();
            (0..listed.len()).filter(|i| !named.contains(i)).for_each(|i| add(i, &mut found));
        }
        taken.extend(found.iter().copied());
        let except = norm.starts_with(" not ") || norm.starts_with(" except ") || norm.starts_with(" but not ");
        let cues = cues_in(&norm).then(|| Cues::read(&norm));
        if !found.is_empty() || cues.is_some() || count.is_some() {
            parts.push(Unit { segment: unit.0, found, cues, count, except });
        }
    }
    // "seen 2 of those, not Jackie Brown": a count with the exceptions named next makes the rest
    // of the list (the exceptions take the opposite seen statement and nothing else); a count
    // of the whole list is the whole list; any other count names no item.
    for k in 0..parts.len() {
        let Some(n) = parts[k].count.filter(|_| parts[k].found.is_empty()) else { continue };
        let next = parts.get(k + 1).filter(|p| p.except && !p.found.is_empty());
        let excepted: Vec<usize> = next.map(|p| p.found.clone()).unwrap_or_default();
        if n + excepted.len() != listed.len() {
            continue;
        }
        parts[k].found = (0..listed.len()).filter(|i| !excepted.contains(i)).collect();
        if let (Some(c), false) = (parts[k].cues, excepted.is_empty()) {
            // Neutral: "not Jackie Brown" there denies the seeing, not a liking.
            parts[k + 1].cues =
                c.seen.map(|seen| Cues { seen: Some(!seen), polarity: Some(Polarity::Neutral), accepted: false });
        }
    }
    // A part with references but no cues takes those of the nearest part of its stretch that
    // has some ("I've seen the first, the second and the third"), the earlier first; a part with
    // cues but no reference continues the references before it ("seen the first one, hated it").
    let cues_near = |k: usize| -> Option<Cues> {
        let same = |j: &usize| parts[*j].segment == parts[k].segment && parts[*j].cues.is_some();
        (0..k).rev().find(same).or_else(|| (k + 1..parts.len()).find(same)).and_then(|j| parts[j].cues)
    };
    let mut out: Vec<Reaction> = Vec::new();
    let mut last: Vec<usize> = Vec::new();
    for (k, part) in parts.iter().enumerate() {
        let found = if part.found.is_empty() { last.clone() } else { part.found.clone() };
        last = found.clone();
        let Some(c) = part.cues.or_else(|| cues_near(k)) else { continue };
        for i in found {
            let id = listed[i];
            let at = match out.iter().position(|r| r.id == id) {
                Some(at) => at,
                None => {
                    out.push(Reaction { id, seen: None, polarity: None, accepted: false });
                    out.len() - 1
                }
            };
            let r = &mut out[at];
            r.seen = c.seen.or(r.seen);
            r.polarity = c.polarity.or(r.polarity);
            r.accepted |= c.accepted && c.polarity != Some(Polarity::Disliked);
        }
    }
    out.retain(|r| r.seen.is_some() || r.polarity.is_some() || r.accepted);
    out.sort_by_key(|r| listed.iter().position(|&id| id == r.id));
    let mut referred: Vec<ItemId> = Vec::new();
    for &i in &taken {
        if !referred.contains(&listed[i]) {
            referred.push(listed[i]);
        }
    }
    (out, referred)
}

/// What a part of a turn says (seen, liked, accepted), whatever it refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cues {
    seen: Option<bool>,
    polarity: Option<Polarity>,
    accepted: bool,
}

impl Cues {
    /// The cues of a stretch (normalised, space-padded).
    fn read(norm: &str) -> Cues {
        let seen = if NOT_SEEN.iter().any(|p| has(norm, p)) {
            Some(false)
        } else if SEEN.iter().any(|p| has(norm, p)) {
            Some(true)
        } else {
            None
        };
        let accepted = ACCEPTED.iter().any(|p| has(norm, p));
        let polarity = if is_negative_cue(norm) || NONE.iter().any(|p| has(norm, p)) {
            Some(Polarity::Disliked)
        } else if accepted || LIKED.iter().any(|p| has(norm, p)) {
            Some(Polarity::Liked)
        } else {
            None
        };
        Cues { seen, polarity, accepted }
    }
}

/// Whether a stretch (normalised, space-padded) says anything a reaction reads.
fn cues_in(norm: &str) -> bool {
    NOT_SEEN.iter().chain(SEEN).chain(LIKED).chain(ACCEPTED).chain(NONE).any(|p| has(norm, p)) || is_negative_cue(norm)
}

/// The distinctive words of a title (normalised): not common English words, at least four
/// letters or a number ("martian" of *The Martian*, "deadpool", "2049").
fn title_words(title: &str) -> Vec<String> {
    crate::catalog::text::normalize(title)
        .split(' ')
        .filter(|w| {
            (w.len() >= 4 || (w.len() >= 2 && w.chars().all(|c| c.is_ascii_digit())))
                && !crate::catalog::text::is_common_word(w)
        })
        .map(str::to_string)
        .collect()
}
