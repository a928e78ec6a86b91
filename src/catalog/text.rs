//! Text normalisation shared by the index and the linker.

/// Lowercases, maps `&` to "and", folds common Latin accents, turns every other
/// non-alphanumeric character into a space and collapses spaces. Apostrophes are dropped
/// (`"Schindler's"` → `"schindlers"`), so possessives match with or without them.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars() {
        let mapped: Option<char> = match c {
            '\'' | '’' | '‘' | '`' => continue,
            '&' => {
                if !space {
                    out.push(' ');
                }
                out.push_str("and ");
                space = true;
                continue;
            }
            c if c.is_alphanumeric() => Some(fold(c)),
            _ => None,
        };
        match mapped {
            Some(c) => {
                for l in c.to_lowercase() {
                    out.push(l);
                }
                space = false;
            }
            None => {
                if !space {
                    out.push(' ');
                    space = true;
                }
            }
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        other => other,
    }
}

/// Strips one leading English article ("the ", "a ", "an ") from a normalised title.
pub fn strip_article(norm: &str) -> &str {
    for a in ["the ", "a ", "an "] {
        if let Some(rest) = norm.strip_prefix(a) {
            if !rest.is_empty() {
                return rest;
            }
        }
    }
    norm
}

/// Number words that titles write either way ("Ocean's Eleven" / "Ocean's 11", "How to Lose a
/// Guy in 10 Days" / "… in Ten Days"), with their digits.
const NUMBER_WORDS: &[(&str, &str)] = &[
    ("eight", "8"),
    ("eighteen", "18"),
    ("eleven", "11"),
    ("fifteen", "15"),
    ("five", "5"),
    ("four", "4"),
    ("fourteen", "14"),
    ("nine", "9"),
    ("nineteen", "19"),
    ("one", "1"),
    ("seven", "7"),
    ("seventeen", "17"),
    ("six", "6"),
    ("sixteen", "16"),
    ("ten", "10"),
    ("thirteen", "13"),
    ("three", "3"),
    ("twelve", "12"),
    ("twenty", "20"),
    ("two", "2"),
];

/// The form of a normalised title under which spellings of numbers and of "versus" agree:
/// number words one to twenty become digits and "vs" / "v" become "versus" ("oceans eleven" and
/// "oceans 11" are both "oceans 11"; "joe vs the volcano" is "joe versus the volcano"). Only a
/// title of two or more words once its article is stripped changes ("The One" stays "the one",
/// so a lone "1" never names it); the rule depends on the string alone, so titles and typed text
/// meet in the same form.
pub fn canonical_form(norm: &str) -> std::borrow::Cow<'_, str> {
    if !strip_article(norm).contains(' ') {
        return std::borrow::Cow::Borrowed(norm);
    }
    let swap = |w: &str| -> Option<&'static str> {
        if matches!(w, "vs" | "v") {
            return Some("versus");
        }
        NUMBER_WORDS.binary_search_by(|(word, _)| (*word).cmp(w)).ok().map(|k| NUMBER_WORDS[k].1)
    };
    if !norm.split(' ').any(|w| swap(w).is_some()) {
        return std::borrow::Cow::Borrowed(norm);
    }
    std::borrow::Cow::Owned(norm.split(' ').map(|w| swap(w).unwrap_or(w)).collect::<Vec<_>>().join(" "))
}

/// Common English words that are never linked to a title on their own when written in
/// lowercase ("up", "her", "it" are titles too, but far more often just words).
pub fn is_common_word(word: &str) -> bool {
    COMMON.binary_search(&word).is_ok()
}

// Sorted; checked by a test.
const COMMON: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "all",
    "also",
    "always",
    "am",
    "an",
    "and",
    "another",
    "any",
    "anything",
    "are",
    "around",
    "as",
    "at",
    "away",
    "awesome",
    "back",
    "bad",
    "be",
    "because",
    "been",
    "before",
    "being",
    "best",
    "better",
    "big",
    "both",
    "but",
    "by",
    "can",
    "classic",
    "come",
    "cool",
    "could",
    "day",
    "did",
    "do",
    "does",
    "done",
    "down",
    "each",
    "else",
    "enjoy",
    "enjoyed",
    "even",
    "ever",
    "every",
    "family",
    "fan",
    "favorite",
    "few",
    "film",
    "films",
    "find",
    "first",
    "for",
    "found",
    "fun",
    "funny",
    "get",
    "give",
    "go",
    "going",
    "good",
    "got",
    "great",
    "had",
    "has",
    "have",
    "he",
    "hello",
    "her",
    "here",
    "hey",
    "hi",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "kind",
    "kinds",
    "know",
    "last",
    "let",
    "like",
    "liked",
    "likes",
    "little",
    "lol",
    "look",
    "looking",
    "lot",
    "love",
    "loved",
    "made",
    "make",
    "many",
    "maybe",
    "me",
    "mind",
    "more",
    "most",
    "movie",
    "movies",
    "much",
    "must",
    "my",
    "need",
    "never",
    "new",
    "nice",
    "no",
    "not",
    "now",
    "of",
    "off",
    "ok",
    "okay",
    "old",
    "on",
    "one",
    "ones",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "please",
    "pretty",
    "really",
    "recommend",
    "right",
    "said",
    "saw",
    "say",
    "scary",
    "see",
    "seen",
    "she",
    "should",
    "show",
    "so",
    "some",
    "something",
    "sounds",
    "still",
    "such",
    "sure",
    "than",
    "thank",
    "thanks",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "thing",
    "things",
    "think",
    "this",
    "those",
    "time",
    "to",
    "too",
    "try",
    "two",
    "up",
    "us",
    "very",
    "want",
    "was",
    "watch",
    "watched",
    "way",
    "we",
    "well",
    "went",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "why",
    "will",
    "with",
    "would",
    "yeah",
    "yes",
    "yet",
    "you",
    "your",
];

/// The optimal-string-alignment distance between two character sequences when it is at most
/// `max`, else `None`: insertions, deletions, substitutions and transpositions of neighbours cost
/// 1 each, no substring edited twice (`strsim::osa_distance`; the distance of tantivy's
/// Levenshtein automata with `transposition_cost_one`). Stops as soon as a whole row of the table
/// exceeds `max`: O(|a|·|b|) at worst, far less when the strings are far apart.
pub(crate) fn osa_within(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let w = b.len() + 1;
    let mut prev2 = vec![0usize; w];
    let mut prev: Vec<usize> = (0..w).collect();
    let mut cur = vec![0usize; w];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        // Every later cell descends from this row or the one before it (a transposition reaches
        // two rows back, but only to add 1), so once both rows exceed `max` the end does too.
        if row_min > max && prev.iter().min().is_some_and(|&m| m > max) {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev[b.len()]).filter(|&d| d <= max)
}

/// Splits a ReDial movie name such as `"Heat  (1995)"` into a whitespace-normalised title and a
/// year. Names without a trailing `(YYYY)` get `None`.
pub fn split_title_year(name: &str) -> (String, Option<u16>) {
    let collapsed = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(open) = collapsed.rfind('(') {
        let tail = &collapsed[open..];
        if tail.len() == 6 && tail.ends_with(')') {
            if let Ok(y) = tail[1..5].parse::<u16>() {
                return (collapsed[..open].trim_end().to_string(), Some(y));
            }
        }
    }
    (collapsed, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osa_within_agrees_with_strsim() {
        // Short strings over a 3-letter alphabet (plus one non-ASCII letter), from a fixed LCG.
        let mut x: u64 = 7;
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as usize
        };
        let alphabet = ['a', 'b', 'c', 'é'];
        let mut within = 0;
        for _ in 0..20_000 {
            let a: Vec<char> = (0..next() % 9).map(|_| alphabet[next() % 4]).collect();
            let b: Vec<char> = (0..next() % 9).map(|_| alphabet[next() % 4]).collect();
            let want = strsim::osa_distance(&a.iter().collect::<String>(), &b.iter().collect::<String>());
            for max in 0..5 {
                let got = osa_within(&a, &b, max);
                assert_eq!(got, Some(want).filter(|&d| d <= max), "{a:?} {b:?} max {max}");
                within += usize::from(got.is_some());
            }
        }
        assert!(within > 10_000, "{within}");
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(osa_within(&c("inception"), &c("inceptoin"), 1), Some(1));
        assert_eq!(osa_within(&c("ca"), &c("abc"), 3), Some(3));
        assert_eq!(osa_within(&c("kitten"), &c("sitting"), 2), None);
    }

    #[test]
    fn normalizes_case_punctuation_accents_and_ampersands() {
        assert_eq!(normalize("Schindler's List"), "schindlers list");
        assert_eq!(normalize("  Mission:   Impossible!! "), "mission impossible");
        assert_eq!(normalize("Fast & Furious"), "fast and furious");
        assert_eq!(normalize("Amélie"), "amelie");
        assert_eq!(normalize("WALL·E"), "wall e");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn strips_one_article() {
        assert_eq!(strip_article("the dark knight"), "dark knight");
        assert_eq!(strip_article("a quiet place"), "quiet place");
        assert_eq!(strip_article("the"), "the");
        assert_eq!(strip_article("there will be blood"), "there will be blood");
    }

    #[test]
    fn numbers_and_versus_meet_in_one_form() {
        assert!(NUMBER_WORDS.windows(2).all(|w| w[0].0 < w[1].0), "NUMBER_WORDS must stay sorted");
        assert_eq!(canonical_form("oceans eleven"), "oceans 11");
        assert_eq!(canonical_form("oceans 11"), "oceans 11");
        assert_eq!(canonical_form("how to lose a guy in ten days"), "how to lose a guy in 10 days");
        assert_eq!(canonical_form("joe vs the volcano"), "joe versus the volcano");
        assert_eq!(canonical_form("batman v superman dawn of justice"), "batman versus superman dawn of justice");
        // One word after the article: unchanged.
        assert_eq!(canonical_form("the one"), "the one");
        assert_eq!(canonical_form("seven"), "seven");
    }

    #[test]
    fn common_words_are_sorted_and_found() {
        assert!(COMMON.windows(2).all(|w| w[0] < w[1]), "COMMON must stay sorted and unique");
        assert!(is_common_word("up"));
        assert!(!is_common_word("heat"));
    }
}
