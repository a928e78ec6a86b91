//! A prominent person's surname said alone ("more Nolan", "a Kubrick movie", "Tarantino's films").

use std::collections::{HashMap, HashSet};

use super::{AttributeLinker, Word, KEYWORDS, LEXICON, STOP_WORDS};
use crate::catalog::text::is_common_word;

/// Fewest items of a person whose surname alone names them ("Nolan", "Spielberg").
pub const SURNAME_MIN_ITEMS: usize = 8;

/// How many times more items that person must have than anyone else of the same surname ("Smith"
/// names nobody: Will Smith and Kevin Smith are both prominent).
pub const SURNAME_DOMINANCE: usize = 3;

impl AttributeLinker {
    /// The surnames that name one person alone: the person has [`SURNAME_MIN_ITEMS`] items or
    /// more and [`SURNAME_DOMINANCE`] times the items of anyone else of that surname, and the
    /// word is no common word, genre, keyword, catalog title ("Stone", "Hitchcock", "The Rock"
    /// stay out) or first name of two people or more ("David").
    pub(super) fn surnames(
        people: &HashMap<String, (String, usize)>,
        titles: &HashSet<String>,
        keywords: &HashMap<String, String>,
    ) -> HashMap<String, String> {
        // surname → (best full name, its items, the most items of anyone else).
        let mut best: HashMap<&str, (&str, usize, usize)> = HashMap::new();
        // How many people have the word as a first name ("David", "Rock"... said alone, a first
        // name is no surname).
        let mut first_names: HashMap<&str, usize> = HashMap::new();
        for full in people.keys() {
            if let Some(first) = full.split(' ').next() {
                *first_names.entry(first).or_default() += 1;
            }
        }
        let bare_titles: std::collections::HashSet<&str> =
            titles.iter().map(|t| crate::catalog::text::strip_article(t)).collect();
        for (full, (_, items)) in people {
            let Some(last) = full.rsplit(' ').next() else { continue };
            let e = best.entry(last).or_insert((full.as_str(), 0, 0));
            if *items > e.1 || (*items == e.1 && full.as_str() < e.0) {
                *e = (full.as_str(), *items, e.1.max(e.2));
            } else {
                e.2 = e.2.max(*items);
            }
        }
        best.into_iter()
            .filter(|(last, (_, items, other))| {
                last.len() >= 4
                    && *items >= SURNAME_MIN_ITEMS
                    && *items >= SURNAME_DOMINANCE * other.max(&1)
                    && !is_common_word(last)
                    && STOP_WORDS.binary_search(last).is_err()
                    && LEXICON.iter().all(|(w, _)| w != last)
                    && KEYWORDS.iter().all(|(w, _)| w != last)
                    && !bare_titles.contains(*last)
                    && !keywords.contains_key(*last)
                    && first_names.get(*last).copied().unwrap_or(0) < 2
            })
            .map(|(last, (full, _, _))| (last.to_string(), full.to_string()))
            .collect()
    }

    /// The person a capitalised surname alone at `w[i]` names ("more Nolan", "Tarantino's
    /// films"): not shouted, not beside another capitalised word or after a number (a longer name:
    /// "Nolan North", "21 Bridges"), not inside a catalog title ("Shakespeare in Love").
    pub(super) fn surname(&self, w: &[Word], i: usize) -> Option<String> {
        let x = w.get(i)?;
        if !x.capital || x.upper {
            return None;
        }
        let full = self.surnames.get(&x.norm)?;
        let prev = i.checked_sub(1).and_then(|k| w.get(k)).filter(|p| p.sentence == x.sentence);
        let capital = |y: &Word| y.capital && !y.upper;
        let number = |y: &Word| y.norm.bytes().all(|b| b.is_ascii_digit());
        if prev.is_some_and(|p| capital(p) || number(p)) || w.get(i + 1).is_some_and(capital) {
            return None;
        }
        let in_title = self.surname_titles.get(&x.norm).is_some_and(|titles| {
            titles.iter().any(|t| {
                t.iter().enumerate().filter(|(_, tw)| **tw == x.norm).any(|(j, _)| {
                    i.checked_sub(j).is_some_and(|from| {
                        w.get(from..from + t.len()).is_some_and(|span| span.iter().zip(t).all(|(a, b)| a.norm == *b))
                    })
                })
            })
        });
        if in_title {
            return None;
        }
        self.people.get(full).map(|(name, _)| name.clone())
    }
}
