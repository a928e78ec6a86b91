//! When one word, or one misspelt word, is evidence enough for a title. Most one-word titles
//! are also words of the language ("Society", "Closer", "Max", "California"): the word links as
//! a title only with a capital that means something, a cue before it, a year after it, or as
//! the whole message; and a misspelling must not be a correctly spelt word ("21 Bridges" is not
//! *Brides*).

use super::super::text::is_common_word;
use super::context::{clause_start, is_calendar, Cue, Token, DESCRIPTIVE};
use super::{Linker, PRONOUNS};

/// Plural nouns after which an ordinary word or phrase names a kind of film, not a title ("I
/// like monster movies", "I enjoy true crime docs").
pub(super) const KINDS: &[&str] = &["docs", "documentaries", "films", "flicks", "movies", "shows"];

impl Linker {
    /// A common word: in the built-in list or in the catalog's `common_words.txt` (the most
    /// frequent words of its training dialogues).
    pub(super) fn is_common(&self, word: &str) -> bool {
        is_common_word(word) || self.common.contains(word)
    }

    /// Whether a span without a year may be a title by its words alone: one word (or a
    /// lowercase article and one word) that is not common or descriptive, or has a meaningful
    /// capital; several words with one that is not a function or descriptive word.
    pub(super) fn span_allowed(&self, tokens: &[Token]) -> bool {
        // A capital says "title" mid-sentence, unless a common word is shouted ("I LOVE it", "LOL").
        let informative = |t: &Token| t.capitalized && !t.sentence_start && !(t.shouted && self.is_common(&t.norm));
        // A lowercase article and one word ("check out the trailer" for *The Trailer*) are that
        // word: a common one needs its capital.
        if let [a, t] = tokens {
            if matches!(a.norm.as_str(), "the" | "a" | "an") && !a.capitalized {
                return self.span_allowed(std::slice::from_ref(t));
            }
        }
        if tokens.len() == 1 {
            let t = &tokens[0];
            if t.norm == "i" || t.norm.chars().count() < 2 {
                return false;
            }
            let weak = self.is_common(&t.norm) || DESCRIPTIVE.binary_search(&t.norm.as_str()).is_ok();
            return !weak || informative(t);
        }
        // Several words: the built-in function-word list and descriptive words only ("black
        // panther" links even though both words are frequent in dialogues; "get out of here" and
        // "a funny superhero movie" do not).
        tokens.iter().any(|t| {
            informative(t) || !(is_common_word(&t.norm) || DESCRIPTIVE.binary_search(&t.norm.as_str()).is_ok())
        })
    }

    /// Whether the one-word alias hit at token `i` (no year after it, not the whole message) is
    /// a title, given the [`Cue`] before it and whether the title is well known.
    ///
    /// - Read as lowercase: a lowercase word, a month or weekday name ("in May"), and a
    ///   sentence-initial everyday word of a title that is not well known ("Waiting on a part
    ///   two."). Such a word needs a cue ("I loved heat"); a weak cue ("about society", "Suicide
    ///   Squad, or closer") is not enough for an ordinary word unless the title is well known;
    ///   and an ordinary word before "movies" / "films" names a kind ("I like monster movies").
    /// - Capitalised, of a title that is not well known: a genre word is a genre ("You also like
    ///   Comedy?"); a function word ("oh Yes!!!") or a name or place ("Max and Annie", "I live
    ///   in California") needs a cue. Of a well-known title: a function word capitalised after
    ///   a comma ("So, It seems") opens a clause, unless a cue (a list of titles) says otherwise;
    ///   a pronoun title ("It", "Us", "Her") capitalised mid-sentence needs a cue ("Got It" is the
    ///   pronoun, "I loved It" the film).
    pub(super) fn single_word_ok(&self, text: &str, toks: &[Token], i: usize, cue: Cue, well_known: bool) -> bool {
        let Some(t) = toks.get(i) else { return false };
        let word = t.norm.as_str();
        // "Have you seen To all the boys…": a function word other than a pronoun is a title
        // that is not well known (*To* (1964)) only with a year or as the whole message,
        // whatever the cue (pronoun titles, "the movie Her", follow the rules below).
        if !well_known && is_common_word(word) && !PRONOUNS.contains(&word) {
            return false;
        }
        let ordinary = self.lexicon.is_ordinary(word);
        let everyday_start = t.sentence_start && self.lexicon.is_everyday(word) && !well_known;
        let lower = !t.capitalized || is_calendar(word) || everyday_start;
        if lower {
            let kind_after = toks.get(i + 1).is_some_and(|nx| KINDS.contains(&nx.norm.as_str()));
            return match cue {
                Cue::None => false,
                _ if ordinary && kind_after => false,
                Cue::Weak => !ordinary || well_known,
                Cue::Strong => true,
            };
        }
        if well_known {
            // A pronoun title capitalised mid-sentence ("Got It", "an It was") is the pronoun
            // unless a cue says otherwise ("I loved It").
            if PRONOUNS.contains(&word) {
                return cue != Cue::None;
            }
            // "So, It seems": a function word capitalised after a comma opens a clause.
            return cue != Cue::None || !(is_common_word(word) && clause_start(text, toks, i));
        }
        // A genre capitalised ("You also like Comedy?") is a genre.
        if DESCRIPTIVE.binary_search(&word).is_ok() {
            return false;
        }
        // A capitalised function word ("oh Yes!!!", "They end up") or name needs a cue.
        cue != Cue::None || !(is_common_word(word) || self.lexicon.is_name(word))
    }

    /// Whether a misspelling match changes only correctly spelt words: every word of `typed`
    /// that differs from the word at its place in `title` (both normalised, article-stripped,
    /// as many words) is a word of the catalog's plots or titles, and not the singular or
    /// plural of it ("Bridges" for *Brides*, "California" for *Kalifornia*, but not "guys" for
    /// "guy"). Such a match is another word, not a typo.
    pub(super) fn changes_only_real_words(&self, typed: &str, title: &str) -> bool {
        // Regular plurals, and "-man"/"-men" in a longer title ("Wonder Women" for *Wonder
        // Woman*; "Gentlemen" is not *A Gentleman*).
        let several = title.contains(' ');
        let plural = |a: &str, b: &str| {
            let (long, short) = if a.len() > b.len() { (a, b) } else { (b, a) };
            long.strip_prefix(short).is_some_and(|rest| matches!(rest, "s" | "es"))
                || (several && a.strip_suffix("men").is_some_and(|s| b.strip_suffix("man") == Some(s)))
                || (several && a.strip_suffix("man").is_some_and(|s| b.strip_suffix("men") == Some(s)))
        };
        let mut changed = typed.split(' ').zip(title.split(' ')).filter(|(a, b)| a != b).peekable();
        changed.peek().is_some() && changed.all(|(a, b)| self.lexicon.is_word(a) && !plural(a, b))
    }

    /// Whether the span starting at token `i` (or the article before it), linked to the item at
    /// position `p`, is the subtitle of a longer title that is not `p`'s: a colon right before
    /// it, after a capitalised word or two that are a catalog title or series, whose last word
    /// `p`'s title lacks ("Avengers: End Game" is *Avengers: Endgame*, not *End Game* (2006);
    /// "Insidious: Last Key" is still *Insidious: The Last Key*). A span the exact pass matched
    /// whole ("Star Wars: The Last Jedi") never gets here.
    pub(super) fn subtitle_of_title(&self, text: &str, toks: &[Token], i: usize, p: usize) -> bool {
        let i = if i > 0 && matches!(toks[i - 1].norm.as_str(), "the" | "a" | "an") { i - 1 } else { i };
        let Some(before) = i.checked_sub(1) else { return false };
        if !toks[before].capitalized
            || !super::context::subtitle_after(text, toks, before)
            || self.norm[p].split(' ').any(|w| w == toks[before].norm)
        {
            return false;
        }
        (1..=3.min(before + 1)).any(|len| {
            let key = toks[before + 1 - len..=before].iter().map(|t| t.norm.as_str()).collect::<Vec<_>>().join(" ");
            self.aliases.contains_key(&key) || self.aliases.contains_key(&format!("the {key}"))
        })
    }

    /// Whether the span of tokens `i..=last` names a person, not a film: coordinated with a
    /// pronoun or a catalog person ("he and the Rock act together", "The Rock and Kevin Hart",
    /// "You mentioned The Rock and he's in it"), or after "with" following a word for a film
    /// ("the remake with The Rock", "one with Iron Man").
    pub(super) fn names_a_person(&self, toks: &[Token], i: usize, last: usize) -> bool {
        let at = |k: Option<usize>| k.and_then(|k| toks.get(k)).map_or("", |t| t.norm.as_str());
        let pronoun = |w: &str| matches!(w, "he" | "she" | "him" | "her" | "hes" | "shes");
        // "he and the Rock": the article the span left out counts as its start.
        let i = if i > 0 && matches!(at(Some(i - 1)), "the" | "a" | "an") { i - 1 } else { i };
        let before = at(i.checked_sub(1));
        let before2 = at(i.checked_sub(2));
        if before == "and" && pronoun(before2) {
            return true;
        }
        if at(Some(last + 1)) == "and" {
            if pronoun(at(Some(last + 2))) {
                return true;
            }
            let name = |len: usize| (last + 2..last + 2 + len).map(|k| at(Some(k))).collect::<Vec<_>>().join(" ");
            if toks.get(last + 2).is_some_and(|t| t.capitalized)
                && (2..=3).any(|len| self.lexicon.is_person(&name(len)))
            {
                return true;
            }
        }
        before == "with"
            && matches!(
                before2,
                "one" | "remake" | "movie" | "movies" | "film" | "films" | "version" | "something" | "anything"
            )
    }
}
