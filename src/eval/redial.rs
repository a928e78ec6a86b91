//! ReDial (Li et al., NeurIPS 2018; CC BY 4.0) dialogues and their evaluation points.
//!
//! The file format is one JSON object a line (`evals/redial/test.jsonl`, a byte-identical copy of
//! the official `test_data.jsonl`): `conversationId`, `initiatorWorkerId` (the seeker),
//! `respondentWorkerId` (the recommender), `messages` [{`senderWorkerId`, `text`, …}] whose text
//! marks movies with `@<movieId>` placeholders, `movieMentions` {movieId → "Title (Year)"}, and
//! the post-dialogue questionnaires `initiatorQuestions` / `respondentQuestions`
//! {movieId → {`suggested`, `seen`, `liked`}}. A questionnaire is sometimes the empty list `[]`
//! instead of an object (20 + 11 times in the test split); it loads as an empty questionnaire.
//!
//! # Evaluation points (DESIGN.md §4)
//!
//! The rules below reproduce the reference counts on the full test split exactly —
//! **3,617 instances / 4,897 recommendations** (standard) and **3,372 / 4,426** (de-dup), the
//! standardized test set of Kostric & Balog (SIGIR '26), Table 2:
//!
//! 1. **Utterances.** Consecutive messages of one sender are merged into one utterance (texts
//!    joined with a single space). The recommender is `respondentWorkerId`; every other sender
//!    speaks as the seeker.
//! 2. **Mentions.** A mention is `@` followed by ASCII digits (the id ends at the first
//!    non-digit, so `@90253.` is movie 90253). An utterance's items are its distinct mentioned
//!    ids in order of first mention: a movie named twice in one utterance counts **once**
//!    (one sample, not two; counting it twice gives 4,933 recommendations instead of 4,897).
//! 3. **Points.** A recommender utterance with at least one item and at least one earlier
//!    utterance (non-empty context) is an evaluation point. A recommender utterance that opens
//!    the dialogue is therefore never a point, but its movies still count as mentioned.
//! 4. **Context** = every earlier utterance as a [`Turn`], each `@id` replaced by the dialogue's
//!    `movieMentions` name with runs of whitespace collapsed to one space and the ends trimmed
//!    ("Police Academy  (1984)" → "Police Academy (1984)"; names without a year stay without).
//!    A placeholder whose id has no name in `movieMentions` is left as `@id` (none in the test
//!    split). [`Turn::items`] holds the turn's distinct ids in order of first mention.
//! 5. **Ground truth** = the utterance's items, one sample per movie.
//! 6. **De-dup.** A ground-truth movie is *mentioned earlier* when any earlier utterance — by the
//!    seeker or the recommender, including an opening utterance that is not itself a point —
//!    mentions it, i.e. when it is in some context turn's items. The de-dup protocol drops those
//!    movies and then drops points left without ground truth. (Counting only the seeker's earlier
//!    mentions would give 3,445 / 4,541.)
//!
//! The questionnaire labels are kept on [`RedialDialogue`] for dialogue-level metrics (success
//! rate); an [`EvalPoint`] carries only the context and targets, so a ranker never sees them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::catalog::ItemId;
use crate::dialogue::{Role, Turn};
use crate::eval::Protocol;
use crate::{Error, Result};

/// A seeker's or recommender's answer to "have you seen it?" / "did you like it?" in the ReDial
/// questionnaire (`seen` / `liked`: 0 = no, 1 = yes, 2 = did not say).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// 0: no.
    No,
    /// 1: yes.
    Yes,
    /// 2: did not say.
    DidNotSay,
}

impl Answer {
    fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(Answer::No),
            1 => Some(Answer::Yes),
            2 => Some(Answer::DidNotSay),
            _ => None,
        }
    }
}

/// Questionnaire labels for one movie of one dialogue, as answered by one participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MovieLabels {
    /// `suggested`: true (1) when the recommender suggested the movie, false (0) when the seeker
    /// mentioned it.
    pub suggested: bool,
    /// `seen`: whether the seeker has seen the movie.
    pub seen: Answer,
    /// `liked`: whether the seeker liked (or would like) the movie.
    pub liked: Answer,
}

/// One participant's questionnaire: movieId → labels. Empty when the source field is `[]`.
pub type Questionnaire = BTreeMap<ItemId, MovieLabels>;

/// One message as sent, before merging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedialMessage {
    /// `senderWorkerId`.
    pub sender_id: u64,
    /// `text`, with `@<movieId>` placeholders as in the source.
    pub text: String,
}

/// One ReDial dialogue, as loaded from a line of the JSONL file.
#[derive(Debug, Clone, PartialEq)]
pub struct RedialDialogue {
    /// `conversationId`.
    pub conversation_id: String,
    /// `initiatorWorkerId`: the seeker.
    pub seeker_id: u64,
    /// `respondentWorkerId`: the recommender.
    pub recommender_id: u64,
    /// `messages`, in order.
    pub messages: Vec<RedialMessage>,
    /// `movieMentions`: movieId → name as written in the source ("Title (Year)", possibly with
    /// double spaces or without a year); see [`RedialDialogue::title`] for the rendered form.
    pub movie_mentions: BTreeMap<ItemId, String>,
    /// `initiatorQuestions`: the seeker's questionnaire. Never shown to rankers.
    pub seeker_labels: Questionnaire,
    /// `respondentQuestions`: the recommender's questionnaire about the seeker. Never shown to
    /// rankers.
    pub recommender_labels: Questionnaire,
}

/// One ground-truth movie of an evaluation point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Target {
    /// The movie mentioned in the recommender's utterance.
    pub item: ItemId,
    /// Whether an earlier utterance of the dialogue (either speaker) mentions it; such targets
    /// are dropped by [`Protocol::Dedup`].
    pub mentioned_before: bool,
}

/// One evaluation point: a recommender utterance that mentions movies, with everything said
/// before it. The questionnaire labels are deliberately absent.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalPoint {
    /// Index of the dialogue in the slice given to [`extract_points`] (file order).
    pub dialogue: usize,
    /// `conversationId` of that dialogue.
    pub conversation_id: String,
    /// 0-based index of the utterance (after merging) within the dialogue; equals
    /// `context.len()`.
    pub utterance: usize,
    /// All earlier utterances, rendered (see the module documentation). Never empty.
    pub context: Vec<Turn>,
    /// The utterance's distinct movies in order of first mention. Never empty.
    pub targets: Vec<Target>,
}

impl EvalPoint {
    /// The ground-truth movies under `protocol`: all targets ([`Protocol::Standard`]) or those
    /// not mentioned earlier ([`Protocol::Dedup`]). Empty means the point is not evaluated.
    pub fn targets_for(&self, protocol: Protocol) -> Vec<ItemId> {
        self.targets.iter().filter(|t| protocol == Protocol::Standard || !t.mentioned_before).map(|t| t.item).collect()
    }
}

/// Number of evaluation points (instances) and ground-truth samples (recommendations).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// Evaluation points with at least one ground-truth movie under the protocol.
    pub instances: usize,
    /// Ground-truth movies summed over those points (one sample each).
    pub recommendations: usize,
}

/// Counts instances and recommendations of `points` under `protocol`.
pub fn count_points(points: &[EvalPoint], protocol: Protocol) -> Counts {
    let mut counts = Counts::default();
    for p in points {
        let n = p.targets_for(protocol).len();
        if n > 0 {
            counts.instances += 1;
            counts.recommendations += n;
        }
    }
    counts
}

/// Movie ids mentioned in `text` (`@` followed by ASCII digits that fit an [`ItemId`]), in
/// order, repeats kept.
pub fn mentions(text: &str) -> Vec<ItemId> {
    let mut out = Vec::new();
    scan(text, |piece| {
        if let Piece::Mention(id) = piece {
            out.push(id);
        }
    });
    out
}

enum Piece<'a> {
    Text(&'a str),
    Mention(ItemId),
}

/// Splits `text` into plain pieces and `@<digits>` mentions.
fn scan<'a>(text: &'a str, mut f: impl FnMut(Piece<'a>)) {
    let bytes = text.as_bytes();
    let mut plain_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'@' {
            let digits_end = bytes[i + 1..].iter().position(|b| !b.is_ascii_digit()).map_or(bytes.len(), |p| i + 1 + p);
            if digits_end > i + 1 {
                if let Ok(id) = text[i + 1..digits_end].parse::<ItemId>() {
                    if plain_start < i {
                        f(Piece::Text(&text[plain_start..i]));
                    }
                    f(Piece::Mention(id));
                    plain_start = digits_end;
                }
                i = digits_end;
                continue;
            }
        }
        i += 1;
    }
    if plain_start < bytes.len() {
        f(Piece::Text(&text[plain_start..]));
    }
}

/// Distinct values of `ids`, in order of first appearance.
fn distinct(ids: impl IntoIterator<Item = ItemId>) -> Vec<ItemId> {
    let mut out: Vec<ItemId> = Vec::new();
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

impl RedialDialogue {
    /// The role of `sender_id`: recommender if it is `respondentWorkerId`, else seeker.
    pub fn role_of(&self, sender_id: u64) -> Role {
        if sender_id == self.recommender_id {
            Role::Recommender
        } else {
            Role::Seeker
        }
    }

    /// The rendered name of movie `id` from `movieMentions` (whitespace runs collapsed, ends
    /// trimmed), or `None` when the dialogue does not name it.
    pub fn title(&self, id: ItemId) -> Option<String> {
        self.movie_mentions.get(&id).map(|name| name.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// Replaces every `@id` in `text` by [`RedialDialogue::title`] (kept as `@id` when unnamed).
    pub fn render(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 32);
        scan(text, |piece| match piece {
            Piece::Text(s) => out.push_str(s),
            Piece::Mention(id) => match self.title(id) {
                Some(t) => out.push_str(&t),
                None => {
                    out.push('@');
                    out.push_str(&id.to_string());
                }
            },
        });
        out
    }

    /// The dialogue as utterances: consecutive messages of one sender merged (texts joined with
    /// one space), placeholders rendered, items = distinct mentioned ids in order.
    pub fn turns(&self) -> Vec<Turn> {
        let mut merged: Vec<(Role, String)> = Vec::new();
        let mut last_sender: Option<u64> = None;
        for m in &self.messages {
            match merged.last_mut() {
                Some((_, text)) if last_sender == Some(m.sender_id) => {
                    text.push(' ');
                    text.push_str(&m.text);
                }
                _ => merged.push((self.role_of(m.sender_id), m.text.clone())),
            }
            last_sender = Some(m.sender_id);
        }
        merged
            .into_iter()
            .map(|(role, raw)| Turn { role, items: distinct(mentions(&raw)), text: self.render(&raw) })
            .collect()
    }
}

/// Extracts the evaluation points of `dialogues`, in file order then utterance order, following
/// the rules in the module documentation. Each point keeps all its targets, flagged with
/// [`Target::mentioned_before`], so one extraction serves both protocols.
pub fn extract_points(dialogues: &[RedialDialogue]) -> Vec<EvalPoint> {
    let mut points = Vec::new();
    for (d_index, dialogue) in dialogues.iter().enumerate() {
        push_points(&mut points, d_index, &dialogue.conversation_id, &dialogue.turns());
    }
    points
}

/// Appends the evaluation points of one dialogue (merged `turns`, dialogue `d_index` in its file,
/// id `conversation_id`): every recommender turn after the first utterance that mentions an item,
/// with the turns before it as context and each target flagged [`Target::mentioned_before`].
/// Shared by ReDial and INSPIRED (`eval::inspired`).
pub fn push_points(points: &mut Vec<EvalPoint>, d_index: usize, conversation_id: &str, turns: &[Turn]) {
    for (u, turn) in turns.iter().enumerate() {
        if turn.role != Role::Recommender || turn.items.is_empty() || u == 0 {
            continue;
        }
        let context = &turns[..u];
        let targets = turn
            .items
            .iter()
            .map(|&item| Target { item, mentioned_before: context.iter().any(|t| t.items.contains(&item)) })
            .collect();
        points.push(EvalPoint {
            dialogue: d_index,
            conversation_id: conversation_id.to_string(),
            utterance: u,
            context: context.to_vec(),
            targets,
        });
    }
}

/// Reads and parses a ReDial JSONL file (see [`parse_redial`]).
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::Parse`] naming the file and 1-based line
/// of the first malformed dialogue.
pub fn load_redial(path: &Path) -> Result<Vec<RedialDialogue>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_redial(&text, path)
}

/// Parses ReDial JSONL `text`; `path` only names the source in errors. Blank lines are skipped.
///
/// # Errors
/// [`Error::Parse`] with the 1-based line number when a line is not valid JSON, lacks a field,
/// has a field of the wrong type, a non-numeric movieId key, a questionnaire or `movieMentions`
/// that is neither an object nor `[]` (nor `null`), or a label outside its codes (`suggested` 0/1, `seen`/`liked` 0/1/2).
pub fn parse_redial(text: &str, path: &Path) -> Result<Vec<RedialDialogue>> {
    let mut out = Vec::new();
    crate::util::for_each_jsonl_bytes(text.as_bytes(), path, |line_no, raw: RawDialogue| {
        let bad = |msg: String| Error::parse(path, line_no, format!("conversation {}: {msg}", raw.conversation_id));
        let movie_mentions = parse_mentions(&raw.movie_mentions).map_err(&bad)?;
        let seeker_labels =
            parse_questionnaire(&raw.initiator_questions).map_err(|m| bad(format!("initiatorQuestions: {m}")))?;
        let recommender_labels =
            parse_questionnaire(&raw.respondent_questions).map_err(|m| bad(format!("respondentQuestions: {m}")))?;
        out.push(RedialDialogue {
            conversation_id: raw.conversation_id,
            seeker_id: raw.initiator_worker_id,
            recommender_id: raw.respondent_worker_id,
            messages: raw
                .messages
                .into_iter()
                .map(|m| RedialMessage { sender_id: m.sender_worker_id, text: m.text })
                .collect(),
            movie_mentions,
            seeker_labels,
            recommender_labels,
        });
        Ok(())
    })?;
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDialogue {
    conversation_id: String,
    initiator_worker_id: u64,
    respondent_worker_id: u64,
    messages: Vec<RawMessage>,
    movie_mentions: Value,
    initiator_questions: Value,
    respondent_questions: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage {
    sender_worker_id: u64,
    text: String,
}

fn parse_id(key: &str) -> std::result::Result<ItemId, String> {
    key.trim().parse::<ItemId>().map_err(|_| format!("movieId {key:?} is not an integer"))
}

/// An object, or the empty list that the source sometimes writes for an empty object.
fn as_map(value: &Value) -> std::result::Result<Option<&serde_json::Map<String, Value>>, String> {
    match value {
        Value::Object(map) => Ok(Some(map)),
        Value::Array(items) if items.is_empty() => Ok(None),
        Value::Null => Ok(None),
        other => Err(format!("expected an object or [], found {other}")),
    }
}

fn parse_mentions(value: &Value) -> std::result::Result<BTreeMap<ItemId, String>, String> {
    let mut out = BTreeMap::new();
    let Some(map) = as_map(value).map_err(|m| format!("movieMentions: {m}"))? else {
        return Ok(out);
    };
    for (key, name) in map {
        let id = parse_id(key).map_err(|m| format!("movieMentions: {m}"))?;
        match name {
            Value::String(s) => {
                out.insert(id, s.clone());
            }
            Value::Null => {}
            other => return Err(format!("movieMentions[{key}]: expected a name, found {other}")),
        }
    }
    Ok(out)
}

fn label(entry: &serde_json::Map<String, Value>, field: &str, max: u64) -> std::result::Result<u64, String> {
    match entry.get(field).and_then(Value::as_u64) {
        Some(code) if code <= max => Ok(code),
        Some(code) => Err(format!("`{field}` = {code} is outside 0..={max}")),
        None => Err(format!("`{field}` is missing or not an integer")),
    }
}

fn parse_questionnaire(value: &Value) -> std::result::Result<Questionnaire, String> {
    let mut out = Questionnaire::new();
    let Some(map) = as_map(value)? else {
        return Ok(out);
    };
    for (key, entry) in map {
        let id = parse_id(key)?;
        let Value::Object(entry) = entry else {
            return Err(format!("movie {key}: expected an object of labels, found {entry}"));
        };
        let err = |m: String| format!("movie {key}: {m}");
        let suggested = label(entry, "suggested", 1).map_err(err)? == 1;
        let answer = |field: &str| {
            let code = label(entry, field, 2).map_err(err)?;
            Answer::from_code(code).ok_or_else(|| err(format!("`{field}` = {code} is not an answer code")))
        };
        let (seen, liked) = (answer("seen")?, answer("liked")?);
        out.insert(id, MovieLabels { suggested, seen, liked });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_stop_at_the_first_non_digit() {
        assert_eq!(mentions("see @90253. or @127115, and @1?"), vec![90253, 127115, 1]);
        assert_eq!(mentions("email a@b.c, @ 12, @x, @@5"), vec![5]);
        assert_eq!(mentions("@99999999999999 too big"), Vec::<ItemId>::new());
        assert_eq!(mentions("@1 @1"), vec![1, 1]);
    }

    #[test]
    fn render_collapses_whitespace_and_keeps_unknown_ids() {
        let d = RedialDialogue {
            conversation_id: "x".into(),
            seeker_id: 1,
            recommender_id: 2,
            messages: vec![],
            movie_mentions: BTreeMap::from([(7, "Police Academy  (1984)".to_string()), (8, "American Pie ".into())]),
            seeker_labels: Questionnaire::new(),
            recommender_labels: Questionnaire::new(),
        };
        assert_eq!(d.render("@7, @8? and @9."), "Police Academy (1984), American Pie? and @9.");
        assert_eq!(d.render("é@7é"), "éPolice Academy (1984)é");
    }
}
