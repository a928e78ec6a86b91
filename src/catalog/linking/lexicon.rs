//! What the catalog's own text says about a word, for telling a title from the same word used
//! as a word: whether the plots write it in lowercase (an ordinary word: "society", "closer"),
//! capitalised mid-sentence (a name or place: "California", "Hollywood"), or whether it is the
//! first name of many of the catalog's people ("Max", "Joe"). Built once from the items' `plot`,
//! `title`, `directors`, `writers` and `stars` (CFCRS `id2info.json` plots, ReDial titles); a
//! catalog without plots or people gives empty sets and every rule that asks is then silent.

use std::collections::{HashMap, HashSet};

use super::super::Item;
use super::context::tokenize;

/// Plots that must write a word in lowercase for it to be an ordinary word.
const ORDINARY_PLOTS: u32 = 1;
/// Plots that must write a word in lowercase for it to be an everyday word, read as that word
/// even when capitalised at a sentence start ("Waiting on a part two.").
const EVERYDAY_PLOTS: u32 = 5;
/// Plots that must write a word capitalised mid-sentence, more often than in lowercase, for
/// it to be a name or a place.
const PROPER_PLOTS: u32 = 10;
/// Distinct catalog people who must share a first name for it to be a common first name.
const FIRST_NAME_PEOPLE: u32 = 5;

/// Word facts drawn from the catalog (module doc).
#[derive(Default)]
pub(super) struct Lexicon {
    /// Word → plots that write it in lowercase (normalised).
    lower: HashMap<String, u32>,
    /// Words written capitalised mid-sentence in at least [`PROPER_PLOTS`] plots, and in more
    /// plots so than in lowercase (normalised).
    proper: HashSet<String>,
    /// Every word of at least two plots (any case) or of any title (normalised).
    words: HashSet<String>,
    /// First word of a person's name → distinct people of the catalog with it.
    first_names: HashMap<String, u32>,
    /// Every person's whole name of two words or more (normalised: "kevin hart").
    people: HashSet<String>,
}

impl Lexicon {
    /// Counts the words of every plot and title and the first names of every person.
    pub(super) fn new(items: &[Item]) -> Self {
        let mut lower: HashMap<String, u32> = HashMap::new();
        let mut upper: HashMap<String, u32> = HashMap::new();
        let mut any: HashMap<String, u32> = HashMap::new();
        for it in items {
            let toks = tokenize(&it.plot);
            let mut seen_lower = HashSet::new();
            let mut seen_upper = HashSet::new();
            let mut seen_any = HashSet::new();
            for t in &toks {
                let first = it.plot.get(t.start..).and_then(|s| s.chars().next());
                if first.is_some_and(char::is_lowercase) {
                    seen_lower.insert(t.norm.as_str());
                } else if t.capitalized && !t.sentence_start {
                    seen_upper.insert(t.norm.as_str());
                }
                seen_any.insert(t.norm.as_str());
            }
            for (set, counts) in [(seen_lower, &mut lower), (seen_upper, &mut upper), (seen_any, &mut any)] {
                for w in set {
                    *counts.entry(w.to_string()).or_insert(0) += 1;
                }
            }
        }
        let proper = upper
            .iter()
            .filter(|(w, &c)| c >= PROPER_PLOTS && c > lower.get(*w).copied().unwrap_or(0))
            .map(|(w, _)| w.clone())
            .collect();
        let mut words: HashSet<String> = any.into_iter().filter(|(_, c)| *c >= 2).map(|(w, _)| w).collect();
        for it in items {
            words.extend(tokenize(&it.title).into_iter().map(|t| t.norm));
        }
        let mut people: HashSet<&str> = HashSet::new();
        for it in items {
            people.extend(it.directors.iter().chain(&it.writers).chain(&it.stars).map(String::as_str));
        }
        let mut first_names: HashMap<String, u32> = HashMap::new();
        let mut names = HashSet::new();
        for p in people {
            let toks = tokenize(p);
            if toks.len() >= 2 {
                *first_names.entry(toks[0].norm.clone()).or_insert(0) += 1;
                names.insert(toks.iter().map(|t| t.norm.as_str()).collect::<Vec<_>>().join(" "));
            }
        }
        Lexicon { lower, proper, words, first_names, people: names }
    }

    /// An ordinary word: written in lowercase in a plot ("society", "closer", "frozen").
    pub(super) fn is_ordinary(&self, word: &str) -> bool {
        self.lower.get(word).is_some_and(|&c| c >= ORDINARY_PLOTS)
    }

    /// An everyday word: written in lowercase in several plots ("waiting", "release"; not
    /// "handmaiden").
    pub(super) fn is_everyday(&self, word: &str) -> bool {
        self.lower.get(word).is_some_and(|&c| c >= EVERYDAY_PLOTS)
    }

    /// A name or place whose capital says nothing about a title ("California", "Hollywood"), or
    /// the first name of several of the catalog's people ("Max", "Joe").
    pub(super) fn is_name(&self, word: &str) -> bool {
        self.proper.contains(word) || self.first_names.get(word).is_some_and(|&c| c >= FIRST_NAME_PEOPLE)
    }

    /// A person of the catalog, by whole name of two or more words (normalised: "kevin hart").
    pub(super) fn is_person(&self, name: &str) -> bool {
        self.people.contains(name)
    }

    /// A correctly spelt word: in two or more plots or in a title ("bridges", "california").
    pub(super) fn is_word(&self, word: &str) -> bool {
        self.words.contains(word)
    }
}
