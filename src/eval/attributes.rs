//! Attribute-linking accuracy on INSPIRED (Hayati et al., 2020): precision and recall of the
//! genres and people [`AttributeLinker`] finds in each utterance.
//!
//! Gold labels: INSPIRED `dialog_data/{dev,test}.tsv` mark each mention in
//! `text_with_placeholder` as `[MOVIE_GENRE_i]`, `[MOVIE_P_ACTOR_i]`, `[MOVIE_P_DIRECTOR_i]` or
//! `[MOVIE_P_PEOPLE_i]` (other people: writers, "based on a story by Stephen King"); `i` is the
//! value of the mention's key in the dialogue's `genre_dict`, `actor_dict` or `director_dict`
//! column (Python-literal dicts, parsed here without evaluating anything). `others_dict` is empty
//! in the release, so the names of `MOVIE_P_PEOPLE` mentions are taken from the utterance's
//! `people_names` column (the names not already labelled actor or director).
//! The gold of an utterance is the set of keys its placeholders point to; the prediction is the
//! set of genres and people linked in its `text` (polarity ignored). A predicted person matches a
//! gold one when their normalised names are equal or have normalised Levenshtein similarity ≥ 0.8
//! (the labels keep the seekers' typos: "Emilia Clark"). Micro-averaged over utterances.
//!
//! Mentions INSPIRED could not have labelled. INSPIRED's labels come from automatic keyword and
//! pattern matching (Manzoor & Jannach, "INSPIRED2", KaRS 2022, who fix them by hand), and a
//! placeholder always replaces whole whitespace-separated tokens (up to edge punctuation): on
//! dev, all 386 genre and 220 person placeholders do (none is followed by "'s"), and each of the
//! 217 labelled people found in the text is written in full, with capitalised first and last
//! words (none as a surname alone: of the 72 person placeholders that align on dev, none covers
//! one word). So a prediction none of whose spans ([`AttributeLinker::link_spans`]) is
//! *annotatable* — whole tokens up to edge punctuation, not a possessive ("Tarantino's"), and for
//! a person two words or more with capitalised first and last words — can never be gold:
//! "drama/comedy", "crime-drama", "action,crime", "Quentin Tarantino's films", "yeah and joe
//! pesci", "a Kubrick movie". Such a
//! prediction, when wrong, is left out of precision and counted in
//! [`PrecisionRecall::unannotatable`]; recall is unaffected, and a correct one counts as usual.
//! The rule reads only the text at the span, so it applies to any linker that reports spans;
//! [`PrecisionRecall::strict_precision`] keeps the figure without it.
//! Tune on `dev.tsv` only; `test.tsv` is for reporting.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use serde::Serialize;

use crate::catalog::text::normalize;
use crate::dialogue::attributes::AttributeLinker;
use crate::knowledge::Attribute;
use crate::{Error, Result};

/// Counts and scores for one attribute type.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PrecisionRecall {
    /// Gold mentions (distinct per utterance).
    pub gold: usize,
    /// Predicted mentions (distinct per utterance).
    pub predicted: usize,
    /// Predicted mentions that match a gold one.
    pub correct: usize,
    /// Wrong predictions INSPIRED could not have labelled (module doc), not in `predicted`.
    pub unannotatable: usize,
}

impl PrecisionRecall {
    /// correct / predicted (1 when nothing was predicted).
    pub fn precision(&self) -> f64 {
        if self.predicted == 0 {
            1.0
        } else {
            self.correct as f64 / self.predicted as f64
        }
    }

    /// correct / (predicted + unannotatable): precision counting every prediction (1 when
    /// nothing was predicted).
    pub fn strict_precision(&self) -> f64 {
        let all = self.predicted + self.unannotatable;
        if all == 0 {
            1.0
        } else {
            self.correct as f64 / all as f64
        }
    }

    /// correct / gold (1 when there is no gold mention).
    pub fn recall(&self) -> f64 {
        if self.gold == 0 {
            1.0
        } else {
            self.correct as f64 / self.gold as f64
        }
    }
}

/// The result of [`evaluate`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AttributeReport {
    /// Utterances read.
    pub utterances: usize,
    /// Genres named ("horror", "rom-com"): what INSPIRED labels.
    pub genres: PrecisionRecall,
    /// Genres named or suggested by a cue word ("scary", "funny"), which INSPIRED leaves unlabeled.
    pub genres_with_cues: PrecisionRecall,
    /// People (actors, directors and the other people INSPIRED labels).
    pub people: PrecisionRecall,
    /// `genres` on the seekers' utterances only (the agent links seeker turns).
    pub seeker_genres: PrecisionRecall,
    /// `people` on the seekers' utterances only.
    pub seeker_people: PrecisionRecall,
    /// The part of `people` linked from a misspelling (the text at no span of the prediction
    /// normalises to its name: "Seth Rogan" → Seth Rogen); `gold` is 0.
    pub people_typos: PrecisionRecall,
    /// Up to 200 utterances with a miss or a false alarm: (kind, text, gold, predicted); a
    /// prediction left out of precision as unannotatable is suffixed " (unannotatable)".
    pub examples: Vec<(String, String, Vec<String>, Vec<String>)>,
}

/// Parses a Python-literal dict of string keys to integers (`{'Tom Hanks': 0, "Ocean's 11": 1}`)
/// without evaluating anything. `None` for anything else. An empty field is an empty dict.
pub fn parse_index_dict(s: &str) -> Option<BTreeMap<i64, String>> {
    let s = s.trim();
    if s.is_empty() {
        return Some(BTreeMap::new());
    }
    let inner = s.strip_prefix('{')?.strip_suffix('}')?;
    let mut out = BTreeMap::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let Some(quote) = chars.next() else { break };
        if quote != '\'' && quote != '"' {
            return None;
        }
        let mut key = String::new();
        loop {
            match chars.next()? {
                '\\' => key.push(chars.next()?),
                c if c == quote => break,
                c => key.push(c),
            }
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next()? != ':' {
            return None;
        }
        let mut num = String::new();
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_ascii_digit() || *c == '-') {
            num.extend(chars.next());
        }
        out.insert(num.parse().ok()?, key);
    }
    Some(out)
}

/// The placeholders `[<prefix>i]` in `text`, as indices.
fn placeholders(text: &str, prefix: &str) -> Vec<i64> {
    let pat = format!("[{prefix}");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(&pat) {
        rest = &rest[at + pat.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if rest[digits.len()..].starts_with(']') {
            if let Ok(i) = digits.parse() {
                out.push(i);
            }
        }
    }
    out
}

fn person_match(a: &str, b: &str) -> bool {
    let (a, b) = (normalize(a), normalize(b));
    a == b || strsim::normalized_levenshtein(&a, &b) >= 0.8
}

/// Whether INSPIRED's annotation could have labelled `span` of `text` (module doc): whole
/// whitespace-separated tokens up to edge punctuation, not a possessive, and for a person
/// (`person`) two words or more with capitalised first and last words.
pub fn annotatable(text: &str, span: &Range<usize>, person: bool) -> bool {
    let (Some(said), Some(head), Some(tail)) = (text.get(span.clone()), text.get(..span.start), text.get(span.end..))
    else {
        return false;
    };
    let opens = head.chars().rev().take_while(|c| !c.is_whitespace()).all(|c| "([\"'“‘".contains(c));
    let closes = tail.chars().take_while(|c| !c.is_whitespace()).all(|c| ".,;:!?)]\"'”’…".contains(c));
    let possessive = ["'s", "’s", "'S", "’S"].iter().any(|p| said.ends_with(p));
    let words: Vec<&str> = said.split_whitespace().collect();
    let capital = |w: Option<&&str>| w.and_then(|w| w.chars().next()).is_some_and(char::is_uppercase);
    let capitals = !person || (words.len() >= 2 && capital(words.first()) && capital(words.last()));
    opens && closes && !possessive && capitals
}

/// Adds one utterance's predictions (name → annotatable) against `gold` gold mentions to `pr`;
/// true when a counted prediction is wrong or a gold mention is missed.
fn score(pred: &BTreeMap<String, bool>, is_gold: &dyn Fn(&str) -> bool, gold: usize, pr: &mut PrecisionRecall) -> bool {
    let mut wrong = false;
    let mut correct = 0;
    for (name, ok) in pred {
        if is_gold(name) {
            correct += 1;
            pr.predicted += 1;
        } else if *ok {
            pr.predicted += 1;
            wrong = true;
        } else {
            pr.unannotatable += 1;
        }
    }
    let correct = correct.min(gold);
    pr.gold += gold;
    pr.correct += correct;
    wrong || correct < gold
}

/// A column lookup of [`open_inspired_tsv`]: the column's index, or an error naming it.
pub(crate) type ColumnOf = Box<dyn Fn(&str) -> Result<usize>>;

/// Opens an INSPIRED `dialog_data` TSV file (tab-separated, no quoting) and returns its reader
/// with a lookup of columns by name.
///
/// Errors: [`Error::Parse`] naming the file when it cannot be opened or has no header; the
/// lookup's error names a missing column.
pub(crate) fn open_inspired_tsv(path: &Path) -> Result<(csv::Reader<std::fs::File>, ColumnOf)> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .quoting(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| Error::parse(path, 0, e.to_string()))?;
    let headers = reader.headers().map_err(|e| Error::parse(path, 1, e.to_string()))?.clone();
    let owned = path.to_path_buf();
    let col = move |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| Error::parse(&owned, 1, format!("no column {name}")))
    };
    Ok((reader, Box::new(col)))
}

/// Evaluates `linker` on one INSPIRED `dialog_data` TSV file (module doc).
///
/// Errors: [`Error::Io`] for an unreadable file; [`Error::Parse`] naming the file and line of a
/// row without the needed columns or with a malformed dict.
pub fn evaluate(path: &Path, linker: &AttributeLinker) -> Result<AttributeReport> {
    let (mut reader, col) = open_inspired_tsv(path)?;
    let (c_text, c_ph, c_names) = (col("text")?, col("text_with_placeholder")?, col("people_names")?);
    let c_speaker = col("speaker")?;
    let (c_genre, c_actor, c_director) = (col("genre_dict")?, col("actor_dict")?, col("director_dict")?);
    let mut report = AttributeReport::default();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| Error::parse(path, line, e.to_string()))?;
        let get = |c: usize| row.get(c).unwrap_or("");
        let dict = |c: usize| {
            parse_index_dict(get(c)).ok_or_else(|| Error::parse(path, line, format!("malformed dict {:?}", get(c))))
        };
        let (genres, actors, directors) = (dict(c_genre)?, dict(c_actor)?, dict(c_director)?);
        let ph = get(c_ph);
        let gold_genres: BTreeSet<String> =
            placeholders(ph, "MOVIE_GENRE_").iter().filter_map(|i| genres.get(i)).map(|g| g.to_lowercase()).collect();
        let mut gold_people: BTreeSet<String> =
            placeholders(ph, "MOVIE_P_ACTOR_").iter().filter_map(|i| actors.get(i)).cloned().collect();
        gold_people.extend(placeholders(ph, "MOVIE_P_DIRECTOR_").iter().filter_map(|i| directors.get(i)).cloned());
        let others: Vec<String> = get(c_names)
            .split(';')
            .map(str::trim)
            .filter(|n| !n.is_empty() && !gold_people.iter().any(|g| person_match(n, g)))
            .map(str::to_string)
            .collect();
        gold_people.extend(others.into_iter().take(placeholders(ph, "MOVIE_P_PEOPLE_").len()));
        report.utterances += 1;
        let text = get(c_text);
        // Each prediction with whether INSPIRED could have labelled it.
        let mut pred_genres: BTreeMap<String, bool> = BTreeMap::new();
        let mut pred_cued: BTreeMap<String, bool> = BTreeMap::new();
        let mut pred_people: BTreeMap<String, bool> = BTreeMap::new();
        let mut pred_typos: BTreeMap<String, bool> = BTreeMap::new();
        for m in linker.link_spans(text) {
            let person = matches!(m.mention.attribute, Attribute::Person { .. });
            let ok = m.spans.iter().any(|s| annotatable(text, s, person));
            match m.mention.attribute {
                Attribute::Genre { name } => {
                    if m.mention.explicit {
                        pred_genres.insert(name.clone(), ok);
                    }
                    pred_cued.insert(name, ok);
                }
                Attribute::Person { name, .. } => {
                    let said = |r: &Range<usize>| text.get(r.clone()).map(normalize);
                    if !m.spans.iter().any(|r| said(r).as_deref() == Some(normalize(&name).as_str())) {
                        pred_typos.insert(name.clone(), ok);
                    }
                    pred_people.insert(name, ok);
                }
                _ => {}
            }
        }
        let genre_gold = |g: &str| gold_genres.contains(g);
        let person_gold = |p: &str| gold_people.iter().any(|g| person_match(p, g));
        let wrong_genre = score(&pred_genres, &genre_gold, gold_genres.len(), &mut report.genres);
        let wrong_person = score(&pred_people, &person_gold, gold_people.len(), &mut report.people);
        if get(c_speaker).eq_ignore_ascii_case("seeker") {
            score(&pred_genres, &genre_gold, gold_genres.len(), &mut report.seeker_genres);
            score(&pred_people, &person_gold, gold_people.len(), &mut report.seeker_people);
        }
        score(&pred_cued, &genre_gold, gold_genres.len(), &mut report.genres_with_cues);
        for (name, ok) in &pred_typos {
            let t = &mut report.people_typos;
            match (person_gold(name), ok) {
                (true, _) => (t.correct, t.predicted) = (t.correct + 1, t.predicted + 1),
                (false, true) => t.predicted += 1,
                (false, false) => t.unannotatable += 1,
            }
        }
        if (wrong_genre || wrong_person) && report.examples.len() < 200 {
            let gold: Vec<String> = gold_genres.iter().chain(&gold_people).cloned().collect();
            let pred: Vec<String> = pred_genres
                .iter()
                .chain(&pred_people)
                .map(|(n, ok)| if *ok { n.clone() } else { format!("{n} (unannotatable)") })
                .collect();
            report.examples.push(("utterance".into(), text.chars().take(160).collect(), gold, pred));
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, said: &str, person: bool) -> bool {
        let start = text.find(said).unwrap_or(text.len());
        annotatable(text, &(start..start + said.len()), person)
    }

    #[test]
    fn only_whole_tokens_and_capitalised_names_are_annotatable() {
        assert!(at("I love Tom Hanks.", "Tom Hanks", true));
        assert!(at("Best Friends (Goldie Hawn & Burt Reynolds)", "Goldie Hawn", true));
        assert!(at("with Ana de Armas, too", "Ana de Armas", true));
        assert!(!at("yeah and joe pesci", "joe pesci", true));
        assert!(!at("she(Emilia Clarke) just", "Emilia Clarke", true));
        assert!(at("Tom Hanks", "Tom Hanks", true));
        assert!(!at("I am a fan of Quentin Tarantino's films", "Quentin Tarantino's", true));
        assert!(!at("it was a Kubrick movie", "Kubrick", true));
        assert!(at("I am a fan of horror, comedy", "horror", false));
        assert!(!at("it was a drama/comedy", "drama", false));
        assert!(!at("it was a drama/comedy", "comedy", false));
        assert!(!at("a crime-drama type film", "crime", false));
        assert!(at("I like sci-fi!", "sci-fi", false));
        assert!(!at("short", "longer than the text", false));
    }

    #[test]
    fn python_dicts_parse_without_evaluation() {
        let d = parse_index_dict("{'Tom Hanks': 0, \"Ocean's 11\": 1, 'a\\'b': 2}").unwrap_or_default();
        assert_eq!(d.get(&0).map(String::as_str), Some("Tom Hanks"));
        assert_eq!(d.get(&1).map(String::as_str), Some("Ocean's 11"));
        assert_eq!(d.get(&2).map(String::as_str), Some("a'b"));
        assert_eq!(parse_index_dict("{}"), Some(BTreeMap::new()));
        assert_eq!(parse_index_dict("__import__('os')"), None);
        assert_eq!(
            placeholders("I like [MOVIE_GENRE_0] and [MOVIE_GENRE_12] [MOVIE_GENRE_x]", "MOVIE_GENRE_"),
            [0, 12]
        );
    }
}
