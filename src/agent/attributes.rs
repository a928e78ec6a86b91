//! Genre requests in free text: "something funny" → comedy, "no horror" → not horror.
//!
//! A first, lexicon-based form of attribute linking over the catalog's genre vocabulary (CFCRS
//! `id2info.json` `genre` values). The knowledge graph will extend it to people, years and
//! keywords.

use serde::{Deserialize, Serialize};

use crate::catalog::text::normalize;

/// One genre mentioned by the seeker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenreMention {
    /// The catalog genre ("comedy", "sci-fi", …).
    pub genre: String,
    /// False when negated ("no horror", "nothing scary", "not a romance").
    pub wanted: bool,
}

/// Word or phrase (normalised) → catalog genre. Longest phrases are matched first.
const LEXICON: &[(&str, &str)] = &[
    ("action", "action"),
    ("adventure", "adventure"),
    ("adventures", "adventure"),
    ("animated", "animation"),
    ("animation", "animation"),
    ("anime", "animation"),
    ("biographical", "biography"),
    ("biography", "biography"),
    ("biopic", "biography"),
    ("cartoon", "animation"),
    ("cartoons", "animation"),
    ("chick flick", "romance"),
    ("children", "family"),
    ("comedic", "comedy"),
    ("comedies", "comedy"),
    ("comedy", "comedy"),
    ("cowboy", "western"),
    ("creepy", "horror"),
    ("crime", "crime"),
    ("documentaries", "documentary"),
    ("documentary", "documentary"),
    ("drama", "drama"),
    ("dramas", "drama"),
    ("dramatic", "drama"),
    ("family", "family"),
    ("fantasy", "fantasy"),
    ("frightening", "horror"),
    ("funny", "comedy"),
    ("gangster", "crime"),
    ("gangsters", "crime"),
    ("heist", "crime"),
    ("hilarious", "comedy"),
    ("historical", "history"),
    ("horror", "horror"),
    ("humor", "comedy"),
    ("kids", "family"),
    ("love story", "romance"),
    ("mafia", "crime"),
    ("magical", "fantasy"),
    ("musical", "musical"),
    ("musicals", "musical"),
    ("mysteries", "mystery"),
    ("mystery", "mystery"),
    ("rom com", "romance"),
    ("romance", "romance"),
    ("romantic", "romance"),
    ("scary", "horror"),
    ("sci fi", "sci-fi"),
    ("science fiction", "sci-fi"),
    ("scifi", "sci-fi"),
    ("slasher", "horror"),
    ("spooky", "horror"),
    ("sports", "sport"),
    ("suspense", "thriller"),
    ("suspenseful", "thriller"),
    ("thriller", "thriller"),
    ("thrillers", "thriller"),
    ("war", "war"),
    ("western", "western"),
    ("westerns", "western"),
    ("whodunit", "mystery"),
];

/// Words that negate a genre named within the next three words.
const NEGATORS: &[&str] = &["dont", "except", "hate", "nothing", "no", "not", "without"];

/// Genres mentioned in `text`, in order, each once (a later negation wins). "rom com" also
/// yields comedy.
pub fn genre_mentions(text: &str) -> Vec<GenreMention> {
    let mut out: Vec<GenreMention> = Vec::new();
    let push = |genre: &str, wanted: bool, out: &mut Vec<GenreMention>| match out.iter_mut().find(|m| m.genre == genre)
    {
        Some(m) => m.wanted = m.wanted && wanted,
        None => out.push(GenreMention { genre: genre.to_string(), wanted }),
    };
    // A negation reaches only within its clause: "no horror, a funny movie" wants comedy.
    for clause in text.split([',', '.', ';', '!', '?', '\n']).flat_map(|c| c.split(" but ")) {
        let norm = normalize(clause);
        let words: Vec<&str> = norm.split(' ').filter(|w| !w.is_empty()).collect();
        let mut i = 0;
        while i < words.len() {
            let mut matched = 0;
            for len in [2, 1] {
                if i + len > words.len() {
                    continue;
                }
                let phrase = words[i..i + len].join(" ");
                if let Some((_, genre)) = LEXICON.iter().find(|(w, _)| *w == phrase) {
                    let negated = words[i.saturating_sub(3)..i].iter().any(|w| NEGATORS.contains(w));
                    push(genre, !negated, &mut out);
                    if phrase == "rom com" {
                        push("comedy", !negated, &mut out);
                    }
                    matched = len;
                    break;
                }
            }
            i += matched.max(1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(text: &str) -> Vec<(&'static str, bool)> {
        // Map back to the lexicon's static names so the expectations read as plain literals.
        genre_mentions(text)
            .into_iter()
            .filter_map(|m| LEXICON.iter().find(|(_, g)| *g == m.genre).map(|(_, g)| (*g, m.wanted)))
            .collect()
    }

    #[test]
    fn finds_genres_synonyms_and_negations() {
        assert_eq!(
            g("I want a funny animated movie for my kids"),
            [("comedy", true), ("animation", true), ("family", true)]
        );
        assert_eq!(g("something scary, but no slasher gore"), [("horror", false)]);
        assert_eq!(g("a rom-com please"), [("romance", true), ("comedy", true)]);
        assert_eq!(g("Sci-Fi but nothing too romantic"), [("sci-fi", true), ("romance", false)]);
        assert_eq!(g("no horror, a funny animated movie"), [("horror", false), ("comedy", true), ("animation", true)]);
        assert_eq!(g("I loved Heat"), []);
        assert_eq!(g(""), []);
    }

    #[test]
    fn lexicon_is_sorted_and_maps_to_catalog_genres() {
        assert!(LEXICON.windows(2).all(|w| w[0].0 < w[1].0));
        let known = [
            "action",
            "adventure",
            "animation",
            "biography",
            "comedy",
            "crime",
            "documentary",
            "drama",
            "family",
            "fantasy",
            "history",
            "horror",
            "musical",
            "mystery",
            "romance",
            "sci-fi",
            "sport",
            "thriller",
            "war",
            "western",
        ];
        assert!(LEXICON.iter().all(|(_, g)| known.contains(g)));
    }
}
