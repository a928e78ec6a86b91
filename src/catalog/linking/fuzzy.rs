//! The misspelling pass: titles typed with errors ("Inceptoin", "Shawshank Redmeption") among the
//! words no exact alias covered.

use super::super::index::CatalogIndex;
use super::super::Item;
use super::context::{cue, embedded, parse_year, Cue, Token, DESCRIPTIVE};
use super::sequels::sequel_number;
use super::{Linker, Mention, WELL_KNOWN};
use crate::catalog::text::{is_common_word, strip_article};

impl Linker {
    /// Links misspelt titles among the words no exact alias covered. Bounded: at most 64 fuzzy
    /// lookups per text.
    pub(super) fn fuzzy_pass(
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
        let mut fuzzy = index.fuzzy_cache();
        let mut i = 0;
        // A span may open with a descriptive word when a content word ends it ("the dark
        // knigt"): many titles start with one ("Dark Knight", "War Horse", "Family Man").
        // So may a capitalised word that is not a function word ("American Ganster": "American"
        // is frequent in dialogues, yet opens *American Gangster*).
        let opens = |t: &Token| {
            content(t)
                || DESCRIPTIVE.binary_search(&t.norm.as_str()).is_ok()
                || (t.capitalized && !t.shouted && !is_common_word(&t.norm) && parse_year(&t.norm).is_none())
        };
        while i < n && budget > 0 {
            if covered[i] || !opens(&toks[i]) {
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
                // Lowercase, it may still be the whole message ("inceptoin") or follow a verb
                // of watching or opinion ("loved interstelar").
                if len == 1
                    && (chars < 6 || !(span[0].capitalized || n == 1 || cue(text, toks, i, covered) == Cue::Strong))
                {
                    continue;
                }
                budget -= 1;
                let query = &text[span[0].start..span[len - 1].end];
                let year = toks.get(i + len).and_then(|t| parse_year(&t.norm));
                let q = match year {
                    Some(y) => format!("{query} {y}"),
                    None => query.to_string(),
                };
                let best = self.link_title_cached(items, &mut fuzzy, &q, 1);
                if let Some(c) = best.first() {
                    let words = |s: &str| s.split(' ').count();
                    let span_norm = span.iter().map(|t| t.norm.as_str()).collect::<Vec<_>>().join(" ");
                    let same_len = words(strip_article(&span_norm)) == words(&self.bare[c.position]);
                    // A span spelt exactly like the title was weighed by the exact pass; and a
                    // misspelling of a title that is not well known must not be a real word.
                    let typed = strip_article(&span_norm);
                    let exact = typed == self.bare[c.position];
                    // One word spelt as another real word is that word whatever the title
                    // ("martial arts" is not *The Martian*, "the movie selection" not
                    // *Election*).
                    // So is any misspelling of a span opened by a capitalised word frequent in
                    // dialogues ("World War II" is not *World War Z*).
                    let by_capital = !content(&span[0]) && DESCRIPTIVE.binary_search(&span[0].norm.as_str()).is_err();
                    let real_words = same_len
                        && (items[c.position].popularity < WELL_KNOWN || words(typed) == 1 || by_capital)
                        && self.changes_only_real_words(typed, &self.bare[c.position]);
                    // A title's plural is a noun ("haunted houses", "Hustlers" is not *The
                    // Hustler*); a title typed without its plural ending ("the Avenger") is not
                    // rejected.
                    // A possessive ("Batman's") or a plural capitalised over several words ("all
                    // the Pitch Perfects") still names the films.
                    let possessive = text[span[len - 1].start..span[len - 1].end].contains(['\'', '’']);
                    let plural = same_len
                        && !possessive
                        && (len == 1 || span.iter().all(|t| !t.capitalized))
                        && is_plural_of(typed, &self.bare[c.position]);
                    // One misspelt word for a title that is a name or a place ("NOT a Hollyood
                    // production" is no *Hollywood* (1923)) needs a strong cue before it.
                    let name_title = len == 1
                        && !possessive
                        && self.lexicon.is_name(&self.bare[c.position])
                        && cue(text, toks, i, covered) != Cue::Strong;
                    // One word: at most one edit in seven letters, two in ten or more
                    // ("Interstaller").
                    let need = if len == 1 && chars < 10 { 0.85 } else { 0.8 };
                    let last = if year.is_some() { i + len } else { i + len - 1 };
                    // An article right before the span is the title's ("The Dark Knigt"), not a
                    // longer name around it.
                    let from = if i > 0 && matches!(toks[i - 1].norm.as_str(), "the" | "a" | "an") { i - 1 } else { i };
                    if same_len
                        && !exact
                        && !real_words
                        && !plural
                        && !name_title
                        && c.similarity >= need
                        && (year.is_some()
                            || !(embedded(text, toks, from, last) || self.subtitle_of_title(text, toks, i, c.position)))
                    {
                        accepted = Some((len, *c, year.is_some()));
                        break;
                    }
                }
                if budget == 0 {
                    break;
                }
            }
            match accepted {
                Some((len, mut c, has_year)) => {
                    // In bounds: `len <= n - i`, and `has_year` means `year_after(i + len)` found
                    // a token at `i + len`; a token's `end` is a character boundary of `text`.
                    let mut last = if has_year { i + len } else { i + len - 1 };
                    // "The Conjouring 2": the series entry the number asks for; a number the
                    // catalog lacks links nothing (never the original).
                    if !has_year {
                        if let Some((number, at)) = sequel_number(text, toks, last + 1) {
                            match self.sequel(items, &self.bare[c.position], c.position, number) {
                                Some(q) => {
                                    c = super::LinkCandidate { position: q, id: items[q].id, ..c };
                                    last = at;
                                }
                                None => {
                                    i = at + 1;
                                    continue;
                                }
                            }
                        }
                    }
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

/// Whether `typed` is `title` (both normalised, as many words) with its last word in the plural
/// ("haunted houses" of "haunted house", "hustlers" of "hustler", "comedys" of "comedy").
fn is_plural_of(typed: &str, title: &str) -> bool {
    let (Some((t_head, t_last)), Some((b_head, b_last))) = (split_last(typed), split_last(title)) else {
        return false;
    };
    let stem = b_last.strip_suffix('y');
    t_head == b_head
        && (t_last.strip_suffix('s').is_some_and(|w| w == b_last)
            || t_last.strip_suffix("es").is_some_and(|w| w == b_last)
            || stem
                .is_some_and(|st| t_last.strip_suffix("ies").is_some_and(|w| w == st) || t_last == format!("{st}ys")))
}

/// A text's words before its last one, and its last word.
fn split_last(s: &str) -> Option<(&str, &str)> {
    match s.rsplit_once(' ') {
        Some((head, last)) => Some((head, last)),
        None if !s.is_empty() => Some(("", s)),
        None => None,
    }
}
