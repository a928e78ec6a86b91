//! The one negation model of the understanding layer, over one clause splitter (`clauses`):
//!
//! - an **item**'s polarity ([`item_polarity`]): disliked when a negator ("not", "no",
//!   "except", "without", "besides", "nor") stands right before its title in the same sentence,
//!   or a negative cue ("hated", "not a fan", "boring", …) is said in its stretch of the sentence
//!   (sentences end at `.;!?` and newlines; "but" starts a new stretch: "I loved Heat but hated
//!   Titanic"); liked otherwise;
//! - an **attribute**'s negation (`negated_at`): a negator ("not", "no", "nothing", "except",
//!   "without", "avoid", "hate", …) within the three words before it, in the same clause (clauses
//!   also end at commas: "no horror, a funny movie" wants comedy).
//!
//! "anything but X" is read as "anything not X" by the splitter, for items and attributes alike.

use std::ops::Range;

use super::state::Polarity;
use crate::catalog::text::normalize;

/// Words that negate an attribute named within the next three words.
const NEGATORS: &[&str] = &["avoid", "dont", "except", "hate", "never", "no", "nor", "not", "nothing", "without"];

/// Words that negate the item whose title follows them directly ("not Titanic").
const ITEM_NEGATORS: &[&str] = &["besides", "except", "no", "nor", "not", "without"];

/// Phrases (normalised, word-bounded) that mark the seeker's dislike within a clause.
const NEGATIVE_CUES: &[&str] = &[
    "anything not",
    "awful",
    "bored me",
    "boring",
    "couldnt stand",
    "did not care for",
    "did not enjoy",
    "did not like",
    "didnt care for",
    "didnt enjoy",
    "didnt like",
    "disappointing",
    "dislike",
    "disliked",
    "dislikes",
    "do not like",
    "dont like",
    "except",
    "fell asleep",
    "hate",
    "hated",
    "hates",
    "horrible",
    "is bad",
    "meh",
    "no more",
    "not a big fan",
    "not a fan",
    "not for me",
    "not good",
    "not great",
    "not into",
    "not like",
    "not my cup of tea",
    "not my kind",
    "not my thing",
    "not my type",
    "not really into",
    "overrated",
    "pretty bad",
    "really bad",
    "so bad",
    "sucked",
    "terrible",
    "too long",
    "too scary",
    "too slow",
    "was bad",
    "wasnt a fan",
    "wasnt good",
    "wasnt great",
    "waste of time",
    "worst",
];

/// Whether `text` corrects which film the seeker meant ("I meant the original Jumanji", "no, I
/// mean the 1995 one", "I was talking about …").
pub(super) fn is_correction(text: &str) -> bool {
    let norm = format!(" {} ", normalize(text));
    [" i meant ", " i mean ", " meant the ", " i was talking about ", " i was thinking of "]
        .iter()
        .any(|p| norm.contains(p))
}

/// Whether a stretch of normalised words (space-padded: `" i hated it "`) says a negative cue.
pub(super) fn is_negative_cue(stretch: &str) -> bool {
    NEGATIVE_CUES.iter().any(|c| stretch.contains(&format!(" {c} ")))
}

/// The seeker's polarity toward the item whose title starts at byte `at` of `text` (module doc).
/// An `at` past the end reads the last sentence.
pub fn item_polarity(text: &str, at: usize) -> Polarity {
    let words: Vec<Word> = clauses(text).concat();
    let Some(target) = words.iter().find(|w| w.span.end > at).or(words.last()) else {
        return Polarity::Liked;
    };
    let (sentence, segment) = (target.sentence, target.segment);
    let before = words.iter().rfind(|w| w.span.end <= at && w.sentence == sentence);
    if before.is_some_and(|w| ITEM_NEGATORS.contains(&w.norm.as_str())) {
        return Polarity::Disliked;
    }
    let stretch = format!(" {} ", own_stretch(&words, target, segment, text).join(" "));
    if is_negative_cue(&stretch) {
        Polarity::Disliked
    } else {
        Polarity::Liked
    }
}

/// Subjects after which "and" starts a new statement ("I hated Heat and I have seen Inception").
const NEW_SUBJECTS: &[&str] = &["i", "id", "ill", "im", "ive", "my", "we"];

/// The words of `segment` around `target` (module doc), cut where "and" starts a new statement
/// with its own subject ([`NEW_SUBJECTS`]): the scope of the target's cues.
fn own_stretch<'a>(words: &'a [Word], target: &Word, segment: usize, text: &str) -> Vec<&'a str> {
    let seg: Vec<&Word> = words.iter().filter(|w| w.segment == segment).collect();
    let at = seg.iter().position(|w| w.span == target.span).unwrap_or(0);
    // "and" before a new subject, or a comma before a verb opening a new statement ("I hated It
    // and Get Out, seen Hereditary"): the word starts a stretch of its own.
    let opens = |k: usize| {
        let and_subject =
            seg[k].norm == "and" && seg.get(k + 1).is_some_and(|n| NEW_SUBJECTS.contains(&n.norm.as_str()));
        let comma_verb = k > 0
            && STATEMENT_VERBS.contains(&seg[k].norm.as_str())
            && text.get(seg[k - 1].span.end..seg[k].span.start).is_some_and(|g| g.contains(','));
        and_subject || comma_verb
    };
    let start = (1..=at).rev().find(|&k| opens(k)).map_or(0, |k| if seg[k].norm == "and" { k + 1 } else { k });
    let end = (at + 1..seg.len()).find(|&k| opens(k)).unwrap_or(seg.len());
    seg[start..end].iter().map(|w| w.norm.as_str()).collect()
}

/// Verbs that open a statement of their own after a comma ("…, seen Hereditary", "…, loved Heat").
const STATEMENT_VERBS: &[&str] = &["enjoyed", "hated", "liked", "loved", "saw", "seen", "watched"];

/// Words that make a seen cue someone else's, or a wish ("have you seen X?", "I want to see X").
const NOT_THE_SEEKERS: &[&str] = &["you", "want", "wanna", "will", "gonna", "going", "planning"];

/// What the seeker says of having seen the item whose title starts at byte `at` of `text`, from
/// the cues of its clause (clauses end at `,.;!?`, "but", and "and" before a new subject; the
/// cue lists are those of the reactions to a list, `reactions::NOT_SEEN` and `SEEN`): not
/// seen ("I haven't seen Inception", "never saw it"), seen ("I've seen Inception", "already
/// watched Heat"), or nothing (`None`; also when the clause asks the other person, "have you seen
/// X", or says a wish, "I want to see X").
pub fn item_seen(text: &str, at: usize) -> Option<bool> {
    let clauses = clauses(text);
    let clause = clauses.iter().find(|c| c.iter().any(|w| w.span.end > at && w.span.start <= at))?;
    let target = clause.iter().find(|w| w.span.end > at)?;
    let stretch = own_stretch(clause, target, target.segment, text);
    let padded = format!(" {} ", stretch.join(" "));
    if super::reactions::NOT_SEEN.iter().any(|c| padded.contains(&format!(" {c} "))) {
        return Some(false);
    }
    // The title's own first word is no cue ("is Saw gory?"; "I saw Saw" still is).
    let own = usize::from(super::reactions::SEEN.contains(&target.norm.as_str()));
    let seen = stretch.iter().filter(|w| super::reactions::SEEN.contains(w)).count() > own;
    (seen && !stretch.iter().any(|w| NOT_THE_SEEKERS.contains(w))).then_some(true)
}

/// Whether a negator stands within the three words before `words[i]`.
pub(super) fn negated_at(words: &[Word], i: usize) -> bool {
    if words[i.saturating_sub(3)..i].iter().any(|w| NEGATORS.contains(&w.norm.as_str())) {
        return true;
    }
    // A longer negative lead ending at most four words before ("I'm not a fan of Ryan Gosling",
    // "I don't want anything by Michael Bay", "not in the mood for action tonight").
    let before: Vec<&str> = words[..i.min(words.len())].iter().map(|w| w.norm.as_str()).collect();
    NEGATIVE_LEADS.iter().any(|lead| {
        let lead: Vec<&str> = lead.split(' ').collect();
        (0..before.len().saturating_sub(lead.len() - 1))
            .any(|s| before[s..s + lead.len()] == lead[..] && i - (s + lead.len()) <= 4)
    })
}

/// Phrases (normalised) that rule out what follows them within a few words.
const NEGATIVE_LEADS: &[&str] = &[
    "do not want",
    "dont care for",
    "dont feel like",
    "dont want",
    "not a big fan of",
    "not a fan of",
    "not in the mood for",
    "not interested in",
    "not into",
    "not really into",
    "rather not",
    "sick of",
    "tired of",
];

/// A word of the text: its normalised form, whether the original starts with a capital, and the
/// byte range in the text it comes from: a run of letters, digits and apostrophes, less a
/// possessive "'s" ("Tarantino's" gives "tarantino" with the range of "Tarantino"); each part of
/// a hyphenated run has its own ("crime-drama" gives "crime" and "drama").
#[derive(Debug, Clone)]
pub(super) struct Word {
    /// The normalised word.
    pub(super) norm: String,
    /// Starts with a capital.
    pub(super) capital: bool,
    /// Written all in capitals, two letters or more ("LOVE"): shouting, not a name.
    pub(super) upper: bool,
    /// Byte range in the text.
    pub(super) span: Range<usize>,
    /// Index of the sentence (sentences end at `.;!?` and newlines).
    pub(super) sentence: usize,
    /// Index of the stretch between two "but"s or sentence ends (the scope of an item's
    /// negative cues).
    pub(super) segment: usize,
}

/// Splits `text` into clauses of words for negation scope: clauses end at `,.;!?`, newlines and
/// "but" ("anything but X" keeps its clause, its "but" read as the negator "not"). Words are runs
/// of letters, digits, apostrophes and hyphens, normalised with [`normalize`].
pub(super) fn clauses(text: &str) -> Vec<Vec<Word>> {
    let mut out: Vec<Vec<Word>> = vec![Vec::new()];
    let mut run: Option<usize> = None;
    let (mut sentence, mut segment) = (0usize, 0usize);
    for (at, c) in text.char_indices().chain(std::iter::once((text.len(), '\n'))) {
        if c.is_alphanumeric() || matches!(c, '\'' | '’' | '‘' | '`' | '-') {
            run.get_or_insert(at);
            continue;
        }
        if let Some(start) = run.take() {
            let raw = &text[start..at];
            let capital = raw.chars().next().is_some_and(char::is_uppercase);
            let upper = raw.chars().filter(|c| c.is_alphabetic()).count() > 1
                && raw.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase);
            // A possessive "'s" is not part of the word ("Tarantino's" is "tarantino").
            let stem = ["'s", "’s", "'S", "’S"].iter().find_map(|p| raw.strip_suffix(p)).unwrap_or(raw);
            // Each part of a hyphenated run keeps its own span ("crime" in "crime-drama").
            let mut from = start;
            for piece in stem.split('-') {
                let span = from..from + piece.len();
                from += piece.len() + 1;
                for part in normalize(piece).split(' ').filter(|x| !x.is_empty()) {
                    let clause = out.last_mut().filter(|_| part != "but");
                    match clause {
                        Some(words) => words.push(Word {
                            norm: part.to_string(),
                            capital,
                            upper,
                            span: span.clone(),
                            sentence,
                            segment,
                        }),
                        None => {
                            let last = out.last_mut().and_then(|w| w.last());
                            if last.is_some_and(|w| w.norm == "anything") {
                                if let Some(words) = out.last_mut() {
                                    words.push(Word {
                                        norm: "not".into(),
                                        capital: false,
                                        upper: false,
                                        span: span.clone(),
                                        sentence,
                                        segment,
                                    });
                                }
                            } else {
                                out.push(Vec::new());
                                segment += 1;
                            }
                        }
                    }
                }
            }
        }
        if matches!(c, ',' | '.' | ';' | '!' | '?' | '\n') && out.last().is_some_and(|w| !w.is_empty()) {
            out.push(Vec::new());
        }
        if matches!(c, '.' | ';' | '!' | '?' | '\n') {
            sentence += 1;
            segment += 1;
        }
    }
    out.retain(|w| !w.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_cues_mark_only_their_clause() {
        let t = "I loved Heat but I hated Titanic.";
        assert_eq!(item_polarity(t, t.find("Heat").unwrap_or(0)), Polarity::Liked);
        assert_eq!(item_polarity(t, t.find("Titanic").unwrap_or(0)), Polarity::Disliked);
        let t = "Not a fan of Cats. Loved Alien!";
        assert_eq!(item_polarity(t, t.find("Cats").unwrap_or(0)), Polarity::Disliked);
        assert_eq!(item_polarity(t, t.find("Alien").unwrap_or(0)), Polarity::Liked);
        assert_eq!(item_polarity("", 10), Polarity::Liked);
        let t = "something darker, not Titanic";
        assert_eq!(item_polarity(t, t.find("Titanic").unwrap_or(0)), Polarity::Disliked);
    }

    /// Found by a newcomer: "I hated The Dark Knight and I have seen Inception" disliked both,
    /// and "I've seen Inception" / "I never saw Inception" were read as liking it.
    #[test]
    fn and_with_a_new_subject_ends_a_cue_and_seen_is_read() {
        let t = "I hated The Dark Knight and I have seen Inception";
        assert_eq!(item_polarity(t, t.find("The Dark").unwrap_or(0)), Polarity::Disliked);
        assert_eq!(item_polarity(t, t.find("Inception").unwrap_or(0)), Polarity::Liked);
        assert_eq!(item_seen(t, t.find("Inception").unwrap_or(0)), Some(true));
        assert_eq!(item_seen(t, t.find("The Dark").unwrap_or(0)), None);
        // Without a new subject the cue still reaches both ("hated Heat and Titanic").
        let t = "I hated Heat and Titanic";
        assert_eq!(item_polarity(t, t.find("Titanic").unwrap_or(0)), Polarity::Disliked);
        let seen = |t: &str, title: &str| item_seen(t, t.find(title).unwrap_or(0));
        assert_eq!(seen("I never saw Inception", "Inception"), Some(false));
        assert_eq!(seen("I haven't seen Inception yet", "Inception"), Some(false));
        assert_eq!(seen("already watched Heat", "Heat"), Some(true));
        assert_eq!(seen("I've seen Heat, loved Collateral", "Collateral"), None);
        assert_eq!(seen("Have you seen Heat?", "Heat"), None);
        assert_eq!(seen("I want to see Heat", "Heat"), None);
        assert_eq!(seen("I loved Heat", "Heat"), None);
        // A title that is a cue word is not a cue of itself.
        assert_eq!(seen("is Saw gory?", "Saw"), None);
        assert_eq!(seen("I saw Saw last year", "Saw last"), Some(true));
    }

    #[test]
    fn cues_are_sorted_for_readability() {
        assert!(NEW_SUBJECTS.windows(2).all(|w| w[0] < w[1]));
        assert!(NEGATIVE_CUES.windows(2).all(|w| w[0] < w[1]));
        assert!(ITEM_NEGATORS.windows(2).all(|w| w[0] < w[1]));
        assert!(NEGATORS.windows(2).all(|w| w[0] < w[1]));
    }
}
