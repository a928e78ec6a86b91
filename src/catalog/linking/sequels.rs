//! Numbered sequels and series: "Godfather 2", "Gladiator II" (a title the catalog lacks),
//! "the new Dune".

use std::collections::HashSet;

use super::super::Item;
use super::context::Token;
use super::Linker;

/// Words of a numbered sequel's title between the series name and the number.
pub(super) const SEQUEL_WORDS: &[&str] = &["chapter", "episode", "part", "vol", "volume"];

/// Words after a number that make it a count, not a sequel number ("Heat 2 times").
pub(super) const COUNT_WORDS: &[&str] = &[
    "and", "episodes", "film", "films", "hour", "hours", "minutes", "mins", "more", "movie", "movies", "of", "or",
    "out", "parts", "seasons", "stars", "times", "years",
];

/// A sequel number: "2", "ii", "two" (and after "part"/"episode", also "1", "i", "one").
pub(super) fn parse_number(word: &str, after_part: bool) -> Option<u32> {
    const ROMAN: &[&str] = &["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"];
    const WORDS: &[&str] = &["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];
    let n = if word.len() <= 2 && word.bytes().all(|b| b.is_ascii_digit()) {
        word.parse::<u32>().ok().filter(|n| (1..=20).contains(n))?
    } else if let Some(k) = ROMAN.iter().position(|r| *r == word) {
        k as u32 + 1
    } else {
        WORDS.iter().position(|w| *w == word)? as u32 + 1
    };
    (n > 1 || after_part).then_some(n)
}

/// The number right after the series name `key` in a normalised title form ("godfather part ii"
/// → 2 for "godfather"), if any.
pub(super) fn numeral_after(form: &str, key: &str) -> Option<u32> {
    let rest = form.strip_prefix(key)?.strip_prefix(' ')?;
    let mut words = rest.split(' ');
    let first = words.next()?;
    if SEQUEL_WORDS.contains(&first) {
        return parse_number(words.next()?, true);
    }
    parse_number(first, true)
}

/// A sequel number written right after a title ending before token `j`: the number and the
/// index of its token. Only spaces may separate them ("Heat, 2 times" is not a sequel), and a
/// number followed by a counted word ("Heat 2 times") is a count.
pub(super) fn sequel_number(text: &str, toks: &[Token], j: usize) -> Option<(u32, usize)> {
    let spaced = |k: usize| k >= 1 && text.get(toks[k - 1].end..toks[k].start).is_some_and(|g| g.trim().is_empty());
    let first = toks.get(j)?;
    if !spaced(j) {
        return None;
    }
    let (number, at) = if SEQUEL_WORDS.contains(&first.norm.as_str()) {
        let next = toks.get(j + 1)?;
        if !spaced(j + 1) {
            return None;
        }
        (parse_number(&next.norm, true)?, j + 1)
    } else {
        (parse_number(&first.norm, false)?, j)
    };
    // "toy story 2 and 3" names two entries; "Heat 2 or 3 times" counts.
    let more = more_numbers(toks, at);
    let after = more.last().map_or(at, |&(_, k)| k) + 1;
    if toks.get(after).is_some_and(|t| COUNT_WORDS.contains(&t.norm.as_str()))
        || (more.is_empty() && toks.get(at + 1).is_some_and(|t| COUNT_WORDS.contains(&t.norm.as_str())))
    {
        return None;
    }
    Some((number, at))
}

/// The further entry numbers joined to a sequel number at token `at` by "and" / "or" ("toy story
/// 2 and 3", "Godfather 2 or 3"): each number and its token.
pub(super) fn more_numbers(toks: &[Token], at: usize) -> Vec<(u32, usize)> {
    let mut out = Vec::new();
    let mut k = at;
    while toks.get(k + 1).is_some_and(|t| matches!(t.norm.as_str(), "and" | "or")) {
        let Some(n) = toks.get(k + 2).and_then(|t| parse_number(&t.norm, true)) else { break };
        out.push((n, k + 2));
        k += 2;
    }
    out
}

impl Linker {
    /// The entries of the series `key` names, oldest first: items with a year whose bare title
    /// or alias is `key` or starts with `key` and a space, connected to the most popular of them
    /// through shared stars or directors (so *Gladiator* (1992) is not a *Gladiator* (2000)
    /// sequel); one entry per normalised title. When `key` gives none (an abbreviation such as
    /// "lotr"), the bare title of `hit` is the key.
    pub(super) fn series(&self, items: &[Item], key: &str, hit: usize) -> Vec<usize> {
        let found = self.series_of(items, key);
        if found.is_empty() && key != self.bare[hit] {
            return self.series_of(items, &self.bare[hit]);
        }
        found
    }

    fn series_of(&self, items: &[Item], key: &str) -> Vec<usize> {
        let prefix = format!("{key} ");
        let starts = |f: &str| f == key || f.starts_with(&prefix);
        let cands: Vec<usize> = (0..items.len())
            .filter(|&p| items[p].year.is_some())
            .filter(|&p| starts(&self.bare[p]) || self.alias_forms[p].iter().any(|f| starts(f)))
            .collect();
        let Some(&anchor) =
            cands.iter().max_by(|&&a, &&b| items[a].popularity.cmp(&items[b].popularity).then(b.cmp(&a)))
        else {
            return Vec::new();
        };
        let people = |p: usize| items[p].stars.iter().chain(&items[p].directors);
        let mut members = vec![anchor];
        let mut grew = true;
        while grew {
            grew = false;
            for &c in &cands {
                if !members.contains(&c) && members.iter().any(|&m| people(m).any(|x| people(c).any(|y| x == y))) {
                    members.push(c);
                    grew = true;
                }
            }
        }
        members.sort_by_key(|&p| (items[p].year, items[p].id));
        let mut seen = HashSet::new();
        members.retain(|&p| seen.insert(self.norm[p].clone()));
        members
    }

    /// Whether the number word `number` after the title `key` (linked to `hit`) is rather a
    /// title of its own: a capitalised word, not digits, that the catalog has as a title
    /// ("Seven", "Nine"), after a title that has no other entry ("Collateral Seven" is two films;
    /// "Rocky Seven" still asks for a seventh *Rocky*).
    pub(super) fn number_is_title(&self, items: &[Item], text: &str, number: &Token, key: &str, hit: usize) -> bool {
        let word = &text[number.start..number.end];
        number.capitalized
            && word.chars().all(char::is_alphabetic)
            && self.aliases.contains_key(&number.norm)
            && self.series(items, key, hit).len() <= 1
    }

    /// Entry `number` of the series `key` names ([`Linker::series`]): the entry whose title
    /// carries that number right after the series name ("godfather part ii", "toy story 2",
    /// the alias "star wars episode iv a new hope"); where no entry carries a number, the
    /// `number`-th by year. Number 1 in a numbered series is its oldest unnumbered entry.
    /// `None`: the catalog lacks it.
    pub(super) fn sequel(&self, items: &[Item], key: &str, hit: usize, number: u32) -> Option<usize> {
        let members = self.series(items, key, hit);
        let key = if self.series_of(items, key).is_empty() { self.bare[hit].as_str() } else { key };
        let numbered: Vec<(usize, u32)> = members
            .iter()
            .filter_map(|&p| {
                std::iter::once(&self.bare[p])
                    .chain(&self.alias_forms[p])
                    .find_map(|f| numeral_after(f, key))
                    .map(|n| (p, n))
            })
            .collect();
        if numbered.is_empty() {
            return members.get(number.checked_sub(1)? as usize).copied();
        }
        if let Some(&(p, _)) = numbered.iter().find(|(_, n)| *n == number) {
            return Some(p);
        }
        if number == 1 {
            return members.iter().copied().find(|p| !numbered.iter().any(|(q, _)| q == p));
        }
        None
    }
}
