//! Attribute-linking accuracy on INSPIRED (Hayati et al., 2020): precision and recall of the
//! genres and people [`AttributeLinker`] finds in each utterance.
//!
//! Gold labels: INSPIRED `dialog_data/{dev,test}.tsv` mark each mention in
//! `text_with_placeholder` as `[MOVIE_GENRE_i]`, `[MOVIE_P_ACTOR_i]` or `[MOVIE_P_DIRECTOR_i]`;
//! `i` is the value of the mention's key in the dialogue's `genre_dict`, `actor_dict` or
//! `director_dict` column (Python-literal dicts, parsed here without evaluating anything).
//! The gold of an utterance is the set of keys its placeholders point to; the prediction is the
//! set of genres and people linked in its `text` (polarity ignored). A predicted person matches a
//! gold one when their normalised names are equal or have normalised Levenshtein similarity ≥ 0.8
//! (the labels keep the seekers' typos: "Emilia Clark"). Micro-averaged over utterances.
//! Tune on `dev.tsv` only; `test.tsv` is for reporting.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use crate::agent::attributes::AttributeLinker;
use crate::catalog::text::normalize;
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
    /// People (actors and directors together).
    pub people: PrecisionRecall,
    /// Up to 200 utterances with a miss or a false alarm: (kind, text, gold, predicted).
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

/// Evaluates `linker` on one INSPIRED `dialog_data` TSV file (module doc).
///
/// Errors: [`Error::Io`] for an unreadable file; [`Error::Parse`] naming the file and line of a
/// row without the needed columns or with a malformed dict.
pub fn evaluate(path: &Path, linker: &AttributeLinker) -> Result<AttributeReport> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .quoting(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| Error::parse(path, 0, e.to_string()))?;
    let headers = reader.headers().map_err(|e| Error::parse(path, 1, e.to_string()))?.clone();
    let col = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| Error::parse(path, 1, format!("no column {name}")))
    };
    let (c_text, c_ph) = (col("text")?, col("text_with_placeholder")?);
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
        report.utterances += 1;
        let text = get(c_text);
        let mut pred_genres: BTreeSet<String> = BTreeSet::new();
        let mut pred_cued: BTreeSet<String> = BTreeSet::new();
        let mut pred_people: BTreeSet<String> = BTreeSet::new();
        for m in linker.link(text) {
            match m.attribute {
                Attribute::Genre { name } => {
                    if m.explicit {
                        pred_genres.insert(name.clone());
                    }
                    pred_cued.insert(name);
                }
                Attribute::Person { name, .. } => {
                    pred_people.insert(name);
                }
                _ => {}
            }
        }
        let g_ok = pred_genres.intersection(&gold_genres).count();
        report.genres_with_cues.gold += gold_genres.len();
        report.genres_with_cues.predicted += pred_cued.len();
        report.genres_with_cues.correct += pred_cued.intersection(&gold_genres).count();
        report.genres.gold += gold_genres.len();
        report.genres.predicted += pred_genres.len();
        report.genres.correct += g_ok;
        let p_ok = pred_people.iter().filter(|p| gold_people.iter().any(|g| person_match(p, g))).count();
        report.people.gold += gold_people.len();
        report.people.predicted += pred_people.len();
        report.people.correct += p_ok.min(gold_people.len());
        let miss = g_ok < gold_genres.len().max(pred_genres.len()) || p_ok < gold_people.len().max(pred_people.len());
        if miss && report.examples.len() < 200 {
            let gold: Vec<String> = gold_genres.iter().chain(&gold_people).cloned().collect();
            let pred: Vec<String> = pred_genres.iter().chain(&pred_people).cloned().collect();
            report.examples.push(("utterance".into(), text.chars().take(160).collect(), gold, pred));
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

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
