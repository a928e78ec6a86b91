//! The model's free opening line: cut to complete sentences, and refused (replaced by the
//! prompt's fixed opening) when it names or looks like a title, declines, apologises or hedges.
//! One check ([`accept_opening`]) for both ways a reply is written; [`choose_opening`] prefers
//! the acknowledgment of the seeker's reactions ([`acknowledge`]) and never repeats the previous
//! reply's opening.

use crate::catalog::{Catalog, ItemId};
use crate::dialogue::{Polarity, Reaction};

/// Phrases of a small model declining, apologising, hedging or answering another task ("I'm
/// not equipped to recommend movies.", "I'm not sure what to recommend", "Here's a revised
/// version of your text"), which would contradict the list that follows (lower case).
const REFUSALS: [&str; 22] = [
    "not equipped",
    "not able to",
    "unable to",
    "can't recommend",
    "cannot recommend",
    "can't help",
    "cannot help",
    "can't provide",
    "cannot provide",
    "as an ai",
    "language model",
    "sorry",
    "apologi",
    "not sure",
    "don't know",
    "do not know",
    "unfortunately",
    "something else",
    "your text",
    "revised version",
    "i don't have",
    "i do not have",
];

/// True when the opening `sentence` declines, apologises or hedges ([`REFUSALS`]): the list
/// below it would contradict it.
pub(super) fn refuses(sentence: &str) -> bool {
    let lower = sentence.to_lowercase().replace('’', "'");
    REFUSALS.iter().any(|p| lower.contains(p))
}

/// True when `sentence` has quotes, digits, or a capitalised word that is not at a sentence start,
/// not "I" or one of its contractions, and not in `allowed_words` (words of titles the seeker
/// liked): the marks of a title the catalog may not have.
pub(super) fn looks_like_a_title(sentence: &str, allowed_words: &[String]) -> bool {
    if sentence.chars().any(|c| c.is_ascii_digit() || matches!(c, '"' | '“' | '”' | '«' | '»')) {
        return true;
    }
    // Not prose: a replacement character (a cut multi-byte character) or mostly symbols/emoji.
    let letters = sentence.chars().filter(|c| c.is_alphabetic() || c.is_whitespace()).count();
    if sentence.contains('\u{FFFD}') || letters * 10 < sentence.chars().count() * 8 {
        return true;
    }
    let mut sentence_start = true;
    for word in sentence.split_whitespace() {
        let bare = word.trim_matches(|c: char| !c.is_alphanumeric());
        let capital = bare.chars().next().is_some_and(char::is_uppercase);
        let is_i = bare == "I" || bare.starts_with("I'") || bare.starts_with("I’");
        if capital
            && !sentence_start
            && !is_i
            && !allowed_words.iter().any(|w| w.trim_matches(|c: char| !c.is_alphanumeric()) == bare)
        {
            return true;
        }
        sentence_start = word.ends_with(['.', '!', '?']);
    }
    false
}

/// The opening the model wrote, reduced to its first sentence (two when the first is shorter
/// than 40 bytes) of its first non-empty line, quotes removed; an unfinished sentence gets "…".
pub(super) fn clean_intro(raw: &str) -> String {
    let line = raw.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let line = line.trim_matches(|c| c == '"' || c == '“' || c == '”').trim();
    if line.is_empty() {
        return String::new();
    }
    let ends: Vec<usize> = line
        .char_indices()
        .filter(|&(i, c)| {
            matches!(c, '.' | '!' | '?') && line[i + c.len_utf8()..].chars().next().is_none_or(char::is_whitespace)
        })
        .map(|(i, c)| i + c.len_utf8())
        .collect();
    match ends.as_slice() {
        [] if line.ends_with('…') => line.to_string(),
        [] => format!("{line}…"),
        [first, rest @ ..] => {
            let second = rest.first().copied().filter(|_| *first < 40);
            // A second sentence that repeats the first ("I'm glad. I'm glad.") is dropped.
            let end = match second {
                Some(end) if line[*first..end].trim() != line[..*first].trim() => end,
                _ => *first,
            };
            line[..end].to_string()
        }
    }
}

/// The one opening-line check: the line the model wrote (`raw`), as it will be shown
/// (cut to complete sentences), or `None` when it must be replaced by the fixed opening — it is empty,
/// links to a catalog item other than one the seeker liked (`liked`), looks like it names a
/// title (quotes, digits, capitalised words; words of the liked titles are allowed), or declines,
/// apologises or hedges. The raw line is checked for titles, so a title in a
/// sentence that the cut drops still rejects it.
pub fn accept_opening(raw: &str, liked: &[ItemId], catalog: &Catalog) -> Option<String> {
    let line = raw.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let liked_words: Vec<String> = liked
        .iter()
        .filter_map(|id| catalog.get(*id))
        .flat_map(|it| it.title.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect();
    let shown = clean_intro(line);
    let names_item = catalog.link_text(line).iter().any(|m| !liked.contains(&m.id));
    if shown.is_empty() || names_item || looks_like_a_title(line, &liked_words) || refuses(&shown) {
        tracing::debug!("model opening replaced (empty, names or looks like a title, or refuses): {raw:?}");
        return None;
    }
    Some(shown)
}

/// The opening that says what the seeker's reactions to the last list changed ("Noted: you've
/// seen Deadpool (2016) and didn't like it."), or `None` without reactions. Built from the
/// state's own record, so it never contradicts it.
pub fn acknowledge(reactions: &[Reaction], catalog: &Catalog) -> Option<String> {
    let parts: Vec<String> = reactions
        .iter()
        .filter_map(|r| {
            let title = catalog.get(r.id)?.display_name();
            let liked = match r.polarity {
                Some(Polarity::Liked) => Some(true),
                Some(Polarity::Disliked) => Some(false),
                _ => None,
            };
            Some(match (r.seen, liked, r.accepted) {
                (Some(true), Some(false), _) => format!("you've seen {title} and didn't like it"),
                (Some(true), Some(true), _) => format!("you've seen {title} and liked it"),
                (Some(true), None, _) => format!("you've seen {title}"),
                (_, _, true) => format!("you'll watch {title}"),
                (Some(false), Some(true), _) => format!("you haven't seen {title} but it appeals to you"),
                (Some(false), _, _) => format!("you haven't seen {title}"),
                (None, Some(false), _) => format!("you don't like {title}"),
                (None, Some(true), _) => format!("you like {title}"),
                (None, None, false) => return None,
            })
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    Some(format!("Noted: {}.", parts.join("; ")))
}

/// The opening line of a reply, in order of preference: the acknowledgment of this turn's
/// reactions (`ack`); the model's checked line (`model`, from [`accept_opening`]); the prompt's
/// `fallback`; its `alternate` — never the same line as the previous reply's opening
/// (`previous`). Returns the line and whether it is the model's.
pub fn choose_opening(
    ack: Option<&str>,
    model: Option<String>,
    previous: Option<&str>,
    fallback: &str,
    alternate: &str,
) -> (String, bool) {
    if let Some(a) = ack.filter(|a| Some(*a) != previous) {
        return (a.to_string(), false);
    }
    if let Some(m) = model.filter(|m| Some(m.as_str()) != previous) {
        return (m, true);
    }
    if Some(fallback) != previous {
        return (fallback.to_string(), false);
    }
    (alternate.to_string(), false)
}

#[cfg(test)]
mod tests {
    use super::{clean_intro, looks_like_a_title, refuses};

    #[test]
    fn sentences_that_look_like_titles_are_caught() {
        let liked = vec!["Heat".to_string(), "Collateral".to_string()];
        assert!(!looks_like_a_title("I'm glad you enjoyed Heat and Collateral.", &liked));
        assert!(looks_like_a_title("The 2031 movie Galactic Tacos 3 is a must-see.", &liked));
        assert!(looks_like_a_title("You might like Inception.", &liked));
        assert!(looks_like_a_title("Try \"something\" new.", &liked));
        assert!(!looks_like_a_title("Great picks! You'll like these.", &liked));
        assert!(looks_like_a_title("🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥🔥\u{FFFD}", &liked));
        assert!(looks_like_a_title("Great picks \u{FFFD}", &liked));
    }

    #[test]
    fn openings_that_decline_or_apologise_are_caught() {
        assert!(refuses("I'm not equipped to recommend movies."));
        assert!(refuses("I’m sorry, but I can’t recommend anything."));
        assert!(refuses("As an AI language model, I have no taste."));
        assert!(!refuses("Great picks! You'll like these."));
        assert!(!refuses("If you want something darker, try these."));
        // Found by a newcomer: hedges and another task's answer.
        assert!(refuses("I'm not sure what to recommend, but I'd recommend something else."));
        assert!(refuses("Sorry, here is a list."));
        assert!(refuses("Here's a revised version of your text with a focus on comedy:"));
        assert!(refuses("Unfortunately I don't know that one."));
    }

    #[test]
    fn intro_is_cut_to_complete_sentences() {
        assert_eq!(clean_intro("Great taste! You will love these. And then"), "Great taste! You will love these.");
        assert_eq!(
            clean_intro("I'm glad you enjoyed Heat and Collateral. You might enjoy The Dark Knight."),
            "I'm glad you enjoyed Heat and Collateral."
        );
        assert_eq!(clean_intro("\n\"Here you go!\"\nmore"), "Here you go!");
        assert_eq!(clean_intro("Movies like Ocean's 11 are fun"), "Movies like Ocean's 11 are fun…");
        assert_eq!(clean_intro("…"), "…", "an ellipsis is not doubled (the model's cache must match)");
        assert_eq!(clean_intro("Sure! Here you go. More."), "Sure! Here you go.");
        assert_eq!(clean_intro(""), "");
        assert_eq!(
            clean_intro("I'm glad to hear that. I'm glad to hear that. I'm glad to hear that."),
            "I'm glad to hear that."
        );
    }
}
