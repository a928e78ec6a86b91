//! Reading the words around a span: the tokenizer, the word lists that make a lowercase word
//! an attribute or a title, and the context tests (a cue before a word, a span inside a longer
//! capitalised name, a genre run, a year).

use super::super::text::normalize;

/// Descriptive words that are also single-word titles ("Mystery", "Alien"); in lowercase they
/// are read as attributes, not items. Sorted (checked by a test).
pub(super) const DESCRIPTIVE: &[&str] = &[
    "action",
    "adventure",
    "alien",
    "aliens",
    "animated",
    "animation",
    "anime",
    "biography",
    "cartoon",
    "cartoons",
    "comedies",
    "comedy",
    "crime",
    "dark",
    "darker",
    "disney",
    "documentaries",
    "documentary",
    "drama",
    "dramas",
    "family",
    "fantasy",
    "funnier",
    "gore",
    "gory",
    "heist",
    "history",
    "horror",
    "kids",
    "marvel",
    "musical",
    "musicals",
    "mystery",
    "recent",
    "romance",
    "romantic",
    "scifi",
    "similar",
    "space",
    "sport",
    "sports",
    "superhero",
    "suspense",
    "thriller",
    "thrillers",
    "vampire",
    "vampires",
    "violent",
    "war",
    "western",
    "westerns",
    "zombie",
    "zombies",
];

pub(super) const MIN_YEAR: u16 = 1870;
pub(super) const MAX_YEAR: u16 = 2035;

/// Words after which a lowercase single word may be a title (normalised, sorted): verbs of
/// watching and opinion, and comparisons ("something like heat").
pub(super) const TITLE_CUES: &[&str] = &[
    "adore",
    "adored",
    "disliked",
    "enjoy",
    "enjoyed",
    "hate",
    "hated",
    "like",
    "liked",
    "likes",
    "love",
    "loved",
    "loves",
    "rewatched",
    "saw",
    "see",
    "seen",
    "watch",
    "watched",
    "watching",
];

/// "Favourite" and its forms (normalised): "my favorite is jaws", "jaws is my fav".
const FAVOURITE: &[&str] = &["fav", "fave", "favorite", "favorites", "favourite", "favourites", "favs"];

/// Words saying what the seeker thought of a film, after "is" / "was" ("shrek is hilarious",
/// "the godfather was too slow"): a weak cue that a title stands before them.
const VERDICTS: &[&str] = &[
    "amazing",
    "awesome",
    "beautiful",
    "better",
    "boring",
    "brilliant",
    "funnier",
    "great",
    "hilarious",
    "masterpiece",
    "overrated",
    "so",
    "terrible",
    "too",
    "underrated",
    "worse",
];

/// Whether the word at `i` is a form of "favourite".
fn favourite_at(toks: &[Token], i: usize) -> bool {
    toks.get(i).is_some_and(|t| FAVOURITE.contains(&t.norm.as_str()))
}

/// The [`Cue`] the words after a span ending before token `j` give: "is my favorite", "was one of
/// my favourites", "made me cry" are strong; "is hilarious", "was too slow", "is the best", "is a
/// masterpiece" weak ("inception is my favorite movie", "titanic made me cry").
pub(super) fn cue_after(toks: &[Token], j: usize) -> Cue {
    let at = |k: usize| toks.get(k).map_or("", |t| t.norm.as_str());
    if at(j) == "made" && at(j + 1) == "me" {
        return Cue::Strong;
    }
    if !matches!(at(j), "is" | "was" | "are" | "were") {
        return Cue::None;
    }
    let k = j + 1;
    if (at(k) == "my" && favourite_at(toks, k + 1)) || (at(k) == "one" && at(k + 1) == "of" && at(k + 2) == "my") {
        return Cue::Strong;
    }
    if VERDICTS.contains(&at(k))
        || (at(k) == "the" && at(k + 1) == "best")
        || (matches!(at(k), "a" | "an") && VERDICTS.contains(&at(k + 1)))
        || (at(k) == "a" && at(k + 1) == "classic")
    {
        return Cue::Weak;
    }
    Cue::None
}

/// How strongly the words before a word say that a title stands there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Cue {
    /// Nothing before it expects a title.
    None,
    /// A topic or a list: "about society", "better than heat", "Heat and collateral", "Heat,
    /// jaws": as often a word as a title.
    Weak,
    /// A verb of watching or opinion ("I loved heat", "have you seen the first frozen"), a
    /// comparison ("similar to grease", "what about jaws"), or quotes ("the movie 'Her'").
    Strong,
}

/// Words that announce a title right after them ("the movie Her", "a film called Queen").
const TITLE_NOUNS: &[&str] = &["called", "film", "movie", "named", "titled"];

/// Words that may stand between a cue and the title it announces ("seen the first frozen").
const BETWEEN_CUE_AND_TITLE: &[&str] = &["a", "an", "first", "last", "latest", "new", "original", "the"];

/// The [`Cue`] for the word at `i`: a [`TITLE_CUES`] or [`TITLE_NOUNS`] word, "similar to",
/// "compared to", "what about" or "how about" right before it, or a quote mark, is strong (across
/// one or two [`BETWEEN_CUE_AND_TITLE`] words, weak: "seen the first frozen", "like the
/// airport"); "about" or "than" right before it, or "and" / "or" / a comma right after a linked
/// title (`covered`), is weak.
pub(super) fn cue(text: &str, toks: &[Token], i: usize, covered: &[bool]) -> Cue {
    let Some(word) = toks.get(i) else { return Cue::None };
    let before = i.checked_sub(1).and_then(|j| toks.get(j));
    let gap_start = before.map_or(0, |p| p.end);
    let gap = text.get(gap_start..word.start).unwrap_or("");
    if gap.ends_with(['"', '\'', '‘', '“']) {
        return Cue::Strong;
    }
    let mut j = i;
    for skipped in 0..3 {
        let Some(k) = j.checked_sub(1) else { return Cue::None };
        let prev = toks[k].norm.as_str();
        let prev2 = k.checked_sub(1).map(|k2| toks[k2].norm.as_str());
        // "my favorite is jaws", "my favourite movie is the matrix", "my favorites are …".
        let favourite_is = matches!(prev, "is" | "are" | "was" | "were")
            && k.checked_sub(1).is_some_and(|k2| {
                favourite_at(toks, k2)
                    || (matches!(toks[k2].norm.as_str(), "movie" | "movies" | "film" | "films" | "one")
                        && k2.checked_sub(1).is_some_and(|k3| favourite_at(toks, k3)))
            });
        let fan_of = prev == "of" && matches!(prev2, Some("fan" | "fans"));
        if TITLE_CUES.binary_search(&prev).is_ok()
            || favourite_is
            || fan_of
            || (prev == "to" && matches!(prev2, Some("similar" | "compared")))
            || (prev == "about" && matches!(prev2, Some("what" | "how")))
            // "the movie Her", not "a Wes Anderson movie, it follows …".
            || (TITLE_NOUNS.contains(&prev)
                && text.get(toks[k].end..toks[k + 1].start).is_some_and(|g| !g.contains([',', '.', ';', ':', '!', '?'])))
        {
            // "like the airport": with words between, as often a word as a title; after a verb of
            // watching or opinion in the past, an article alone between changes nothing ("loved
            // the godfaher").
            let articles_only = toks[k + 1..i].iter().all(|t| matches!(t.norm.as_str(), "the" | "a" | "an"));
            let past = matches!(prev, "loved" | "liked" | "enjoyed" | "hated" | "watched" | "saw" | "seen" | "adored");
            return if skipped == 0 || (articles_only && past) { Cue::Strong } else { Cue::Weak };
        }
        if skipped == 0 && matches!(prev, "about" | "than") {
            return Cue::Weak;
        }
        if !BETWEEN_CUE_AND_TITLE.contains(&prev) {
            break;
        }
        j = k;
    }
    let after_title = |k: usize| covered.get(k).copied().unwrap_or(false);
    match before {
        Some(p) if matches!(p.norm.as_str(), "and" | "or") && i >= 2 && after_title(i - 2) => Cue::Weak,
        Some(_) if gap.contains(',') && after_title(i - 1) => Cue::Weak,
        _ => Cue::None,
    }
}

/// Whether the word at `i` opens a clause after a comma, semicolon or colon ("So, It seems"),
/// where people capitalise as at a sentence start.
pub(super) fn clause_start(text: &str, toks: &[Token], i: usize) -> bool {
    let (Some(prev), Some(word)) = (i.checked_sub(1).and_then(|j| toks.get(j)), toks.get(i)) else { return false };
    text.get(prev.end..word.start).is_some_and(|g| g.contains([',', ';', ':']))
}

/// Month and weekday names: always capitalised, so their capital says nothing about a title
/// ("in May 2020").
const CALENDAR: &[&str] = &[
    "april",
    "august",
    "december",
    "february",
    "friday",
    "january",
    "july",
    "june",
    "march",
    "may",
    "monday",
    "november",
    "october",
    "saturday",
    "september",
    "sunday",
    "thursday",
    "tuesday",
    "wednesday",
];

/// Whether `word` (normalised) is a month or weekday name.
pub(super) fn is_calendar(word: &str) -> bool {
    CALENDAR.contains(&word)
}

/// Whether the span ending at token `last` goes on with a subtitle after a colon, so it is the
/// start of a longer title ("Jumanji: The Next Level", "Jumanji:next level", "Spider-Man: Into
/// the Spiderverse"): a colon right after it, then a capitalised word or no space.
pub(super) fn subtitle_after(text: &str, toks: &[Token], last: usize) -> bool {
    let (Some(end), Some(next)) = (toks.get(last), toks.get(last + 1)) else { return false };
    let Some(gap) = text.get(end.end..next.start) else { return false };
    gap.starts_with(':') && gap.trim() == ":" && (gap == ":" || next.capitalized)
}

pub(super) struct Token {
    pub(super) norm: String,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) capitalized: bool,
    pub(super) sentence_start: bool,
    /// Written in capitals in text that has lowercase letters ("I LOVE it").
    pub(super) shouted: bool,
}

pub(super) fn tokenize(text: &str) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    let mut cap = false;
    let mut sentence_start = true;
    let mut next_sentence_start = true;
    let flush = |cur: &mut String, start: usize, end: usize, cap: bool, ss: bool, out: &mut Vec<Token>| {
        if !cur.is_empty() {
            let shouted = cur.chars().count() > 1 && !cur.chars().any(char::is_lowercase);
            out.push(Token { norm: normalize(cur), start, end, capitalized: cap, sentence_start: ss, shouted });
            cur.clear();
        }
    };
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            if cur.is_empty() {
                start = i;
                cap = c.is_uppercase();
                sentence_start = next_sentence_start;
                next_sentence_start = false;
            }
            cur.push(c);
        } else if matches!(c, '\'' | '’') && !cur.is_empty() {
            // inside a word: "schindler's"
        } else {
            flush(&mut cur, start, i, cap, sentence_start, &mut out);
            if matches!(c, '.' | '!' | '?' | '\n') {
                next_sentence_start = true;
            }
            if c == '&' {
                out.push(Token {
                    norm: "and".into(),
                    start: i,
                    end: i + 1,
                    capitalized: false,
                    sentence_start: false,
                    shouted: false,
                });
            }
        }
    }
    flush(&mut cur, start, text.len(), cap, sentence_start, &mut out);
    // In text written in capitals ("I LOVED HEAT"), capitals say nothing about titles.
    if !text.chars().any(char::is_lowercase) {
        for t in &mut out {
            t.capitalized = false;
            t.shouted = false;
        }
    }
    out
}

pub(super) fn parse_year(tok: &str) -> Option<u16> {
    if tok.len() != 4 {
        return None;
    }
    tok.parse::<u16>().ok().filter(|y| (MIN_YEAR..=MAX_YEAR).contains(y))
}

/// Words after a title that name what it is ("the Toy Story Movies"), not a longer name.
pub(super) const KIND_WORDS: &[&str] = &["film", "films", "franchise", "movie", "movies", "saga", "series", "trilogy"];

/// Whether the span of tokens `i..=last` sits inside a longer capitalised name: a capitalised
/// word (not "I", not the first of a sentence, not a possessive such as "Marvel's") right before
/// it, or right after it a capitalised word other than [`KIND_WORDS`] or digits run into letters
/// ("Happy Death Day 2U"), with only spaces between.
pub(super) fn embedded(text: &str, toks: &[Token], i: usize, last: usize) -> bool {
    let gap = |a: &Token, b: &Token| text.get(a.end..b.start).is_some_and(|g| !g.is_empty() && g.trim().is_empty());
    // "Marvel's Black Panther", "Spielberg's Jaws": a possessive before a title is its maker.
    let possessive = |p: &Token| text.get(p.start..p.end).is_some_and(|w| w.ends_with("'s") || w.ends_with("’s"));
    let before = i.checked_sub(1).and_then(|j| toks.get(j)).is_some_and(|p| {
        // A shouted word ("I LOVED Old School") is emphasis, not part of a name.
        p.capitalized && !p.sentence_start && !p.shouted && p.norm != "i" && !possessive(p) && gap(p, &toks[i])
    });
    // A capitalised word, or digits run into letters ("Happy Death Day 2U"; not "3D" or "4K").
    // The pronoun "I" after a capitalised title ("I Am Legend I'll probably watch") extends no
    // name; after lowercase words it still ends a phrase that is no title ("go old school I
    // would suggest").
    let pronoun_i = |t: &Token| {
        toks.get(last).is_some_and(|l| l.capitalized)
            && text.get(t.start..t.end).is_some_and(|w| w == "I" || w.starts_with("I'") || w.starts_with("I’"))
    };
    let longer = |nx: &Token| {
        (nx.capitalized && !KIND_WORDS.contains(&nx.norm.as_str()) && !pronoun_i(nx))
            || (nx.norm.starts_with(|c: char| c.is_ascii_digit())
                && nx.norm.chars().any(char::is_alphabetic)
                && !matches!(nx.norm.as_str(), "3d" | "4k" | "2d")
                && parse_ordinal(&nx.norm).is_none())
    };
    let after = toks.get(last + 1).is_some_and(|nx| longer(nx) && gap(&toks[last], nx));
    // "the Knights of Ren", "Star Wars of Ren": "of" (and "the") then a capitalised word.
    let of_name = toks.get(last + 1).is_some_and(|o| o.norm == "of" && gap(&toks[last], o)) && {
        let k = if toks.get(last + 2).is_some_and(|t| t.norm == "the") { last + 3 } else { last + 2 };
        toks.get(k).is_some_and(|nx| nx.capitalized && !nx.shouted && gap(&toks[k - 1], nx))
    };
    before || after || of_name
}

/// The number of an ordinal written in digits ("2nd", "3rd", "21st", "4th").
fn parse_ordinal(tok: &str) -> Option<u32> {
    let digits = tok.trim_end_matches(|c: char| c.is_alphabetic());
    let suffix = &tok[digits.len()..];
    matches!(suffix, "st" | "nd" | "rd" | "th").then(|| digits.parse().ok()).flatten()
}

/// Whether a one-word span of a [`DESCRIPTIVE`] word stands next to another descriptive or
/// genre word ("Romantic Comedy", "Noir, Action, Comedy", "Thriller category").
pub(super) fn genre_run(toks: &[Token], i: usize, last: usize) -> bool {
    let descriptive = |t: &Token| DESCRIPTIVE.binary_search(&t.norm.as_str()).is_ok();
    if i != last || !descriptive(&toks[i]) {
        return false;
    }
    let genre_like = |t: &Token| {
        descriptive(t)
            || KIND_WORDS.contains(&t.norm.as_str())
            || matches!(
                t.norm.as_str(),
                "noir" | "category" | "genre" | "genres" | "type" | "fans" | "fan" | "romantic" | "drama"
            )
    };
    // Across "or" / "and": "Drama or Comedy".
    // A word and its own plural are two titles, never a genre pair ("Alien and Aliens").
    let same_stem = |t: &Token| {
        let (a, b) = (toks[i].norm.as_str(), t.norm.as_str());
        a.strip_suffix('s') == Some(b) || b.strip_suffix('s') == Some(a)
    };
    let joined = |j: Option<usize>, step: fn(usize) -> Option<usize>| {
        let t = j.and_then(|j| toks.get(j));
        match t.map(|t| t.norm.as_str()) {
            Some("or" | "and") => {
                j.and_then(step).and_then(|k| toks.get(k)).is_some_and(|t| genre_like(t) && !same_stem(t))
            }
            _ => t.is_some_and(|t| genre_like(t) && !same_stem(t)),
        }
    };
    joined(i.checked_sub(1), |j| j.checked_sub(1)) || joined(Some(i + 1), |j| Some(j + 1))
}

/// Whether the title at token `i` follows "the new", "the latest" or "the newest".
pub(super) fn latest_cue(toks: &[Token], i: usize) -> bool {
    i >= 1 && matches!(toks[i - 1].norm.as_str(), "new" | "latest" | "newest")
}

/// Whether the title at token `i` follows "the original" or "the old" ("the original Jumanji").
pub(super) fn original_cue(toks: &[Token], i: usize) -> bool {
    i >= 1 && matches!(toks[i - 1].norm.as_str(), "original" | "old" | "older")
}
