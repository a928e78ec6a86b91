//! Lists and article twins: whether a title follows in a list ("Alien, Heat, Jaws", "inception and
//! the matrix"), and whether a candidate is the same title with an article ("Heat" / "The Heat").

use super::context::{Token, DESCRIPTIVE};
use super::Linker;
use crate::catalog::text::strip_article;

impl Linker {
    /// Whether `positions` hold a title that is `bare` (canonical, no article) with an article
    /// before it ("the heat" for "heat").
    pub(super) fn article_twin(&self, positions: &[usize], bare: &str) -> bool {
        positions.iter().any(|&q| self.canon[q] != bare && strip_article(&self.canon[q]) == bare)
    }

    /// Whether "and" / "or" at token `j` is followed by a title with a word that is neither common
    /// nor a genre ("inception and the matrix", not "action and comedy").
    pub(super) fn title_follows(&self, toks: &[Token], j: usize) -> bool {
        if !toks.get(j).is_some_and(|t| matches!(t.norm.as_str(), "and" | "or")) {
            return false;
        }
        let k = j + 1;
        self.alias_lengths_at(toks, k).any(|len| {
            toks[k..k + len].iter().any(|w| {
                !matches!(w.norm.as_str(), "the" | "a" | "an")
                    && !self.is_common(&w.norm)
                    && DESCRIPTIVE.binary_search(&w.norm.as_str()).is_err()
            })
        })
    }

    /// Whether another title follows token `j - 1` in a list: a comma or "and" / "or" after it,
    /// then a capitalised word that starts an alias ("Alien, Heat, Jaws"; "Alien and Heat").
    pub(super) fn title_follows_in_list(&self, text: &str, toks: &[Token], j: usize) -> bool {
        let (Some(prev), Some(next)) = (j.checked_sub(1).and_then(|k| toks.get(k)), toks.get(j)) else {
            return false;
        };
        let k = if text.get(prev.end..next.start).is_some_and(|g| g.contains(',')) {
            j
        } else if matches!(next.norm.as_str(), "and" | "or") {
            j + 1
        } else {
            return false;
        };
        toks.get(k).is_some_and(|t| t.capitalized && !t.shouted) && self.alias_lengths_at(toks, k).next().is_some()
    }

    /// The lengths, shortest first, of the aliases that start at token `k`.
    fn alias_lengths_at<'a>(&'a self, toks: &'a [Token], k: usize) -> impl Iterator<Item = usize> + 'a {
        let mut key = String::new();
        (1..=self.max_words.min(toks.len().saturating_sub(k))).filter(move |&len| {
            if len > 1 {
                key.push(' ');
            }
            key.push_str(&toks[k + len - 1].norm);
            self.aliases.contains_key(&key)
        })
    }
}
