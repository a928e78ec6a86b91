//! Linking the way people type: `curator eval linking --variants`.
//!
//! Two committed benchmarks (`evals/linking/`):
//! - `inspired.jsonl`: every utterance of INSPIRED (Hayati et al., EMNLP 2020) `dialog_data/dev.tsv`
//!   and `test.tsv` with its raw `text` and the movie mentions INSPIRED marks in
//!   `text_with_placeholder` (`[MOVIE_TITLE_i]`, `i` the value of the title's key in the
//!   dialogue's `movie_dict`). Each mention's span in `text` comes from aligning the placeholder
//!   text with the raw text (the literal pieces between placeholders are found in order; a
//!   mention that cannot be placed gets the whole utterance as its span, `aligned: false`). Its
//!   item is the catalog id the derived split gave that title (`evals/inspired/{split}_items.tsv`,
//!   written by `curator eval build`), or none for a title outside the catalog. Utterances without
//!   any mention are kept: a link there is a false one, so precision measures what typo
//!   tolerance does to ordinary chat. Built by `curator eval linking --build --source
//!   ../shared/data`.
//! - `variants.tsv` (hand-written for Curator): `text`, the expected item as "Title (Year)" or
//!   `missing` (a numbered sequel the catalog lacks, which must be reported missing and not
//!   linked), and what the case tests (transpositions, alternative titles, abbreviations,
//!   numbered sequels, "the new …").
//!
//! Scoring of the INSPIRED set, per split. Predictions are the tracker's item links of the
//! utterance ([`crate::dialogue::Tracker::link_items`], what a front end gets). A prediction is
//! correct when its span overlaps a gold mention with the same item or an item of the same
//! normalised title (ReDial lists some films twice); a prediction overlapping only a mention of
//! a title outside the catalog is left out (`ignored`); any other prediction is wrong. Span
//! precision = correct / (correct + wrong), recall = gold mentions with a correct overlapping
//! prediction / gold mentions in the catalog, F1 their harmonic mean. Top-1 accuracy: the gold
//! mention's surface form as one title query ([`Catalog::link_title`]), its best candidate
//! against the gold item (same rule). INSPIRED's labels come from automatic matching, so many
//! true mentions are unlabelled ("A Clockwork Orange, I think.", lists such as "Cinema Paradiso,
//! Raging Bull, Asphalt Jungle"): against the labels alone they count as wrong predictions.
//! The labels are then reviewed by hand, and the report gives the figures against INSPIRED's
//! labels alone and against the reviewed labels:
//! - `inspired_rejected.tsv` (split, dialog id, utterance id, the span's words, the labelled
//!   name, reason, note): every one of INSPIRED's in-catalog labels of both splits (468 then,
//!   471 after the build below) was read in its dialogue, without the linker's output, and
//!   142 were judged wrong. `other-film` (60: "the new Star Wars" labelled *Star Wars* (1977),
//!   "John Wick" of "John Wick 3") and `series` (35: "all the Terminator movies") become mentions
//!   of a title outside the catalog; `person` (23: "Emma" of "Emma Thompson"), `not-a-title`
//!   (21: "Hi there" labelled *Being There*, the pronoun "It"), `tv` (1) and `span` (2: a span
//!   on other words) are removed ([`apply_review`]).
//! - `inspired_added.tsv` (split, dialog id, utterance id, the words, the item or
//!   [`SERIES`]) lists the mentions added by hand: the film an `other-film` label meant, when the
//!   catalog has it ("the new Lion King" is *The Lion King* (2019)); and every prediction the
//!   labels called wrong, read in its utterance (dev and test, three times: after the linker was
//!   first tuned on dev, after the review, and after the rules tuned on the reviewed dev), added
//!   when the words name a catalog film — not
//!   a person ("The Rock"), a character ("Max") or a title outside the catalog ("Zombieland
//!   Double Tap") — and added as [`SERIES`] when they name a series in general ("the Saw
//!   movies"), as the review treats INSPIRED's own series labels.
//!
//! The additions can only find mentions the linker or INSPIRED found, never one both missed.
//! Some utterances number their placeholders against `movie_dict` in another order than the
//! titles appear; the build repairs them from the utterance's words (`unswap_titles`).

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, ItemId};
use crate::dialogue::Tracker;
use crate::{Error, Result};

/// One gold movie mention of an utterance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldMention {
    /// Byte offset of the span in `text`.
    pub start: usize,
    /// Byte offset one past its end.
    pub end: usize,
    /// INSPIRED's name of the movie ("Title (Year)", a `movie_dict` key).
    pub name: String,
    /// Its catalog id; `None` for a title outside the catalog.
    pub id: Option<ItemId>,
    /// False when the span could not be placed (then it is the whole utterance).
    pub aligned: bool,
}

/// One utterance of the benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurfaceUtterance {
    /// `dev` or `test`.
    pub split: String,
    /// INSPIRED `dialog_id`.
    pub dialog_id: String,
    /// INSPIRED `utt_id`.
    pub utt_id: String,
    /// Whether the seeker said it.
    pub seeker: bool,
    /// The raw `text`, `QUOTATION_MARK` rendered as `"`.
    pub text: String,
    /// Its movie mentions, in text order.
    pub mentions: Vec<GoldMention>,
}

/// Reads a derived INSPIRED item table (`evals/inspired/{split}_items.tsv`: name, id, link kind):
/// name → catalog id, `None` where the kind is `none`.
///
/// Errors: unreadable file; a row without three fields or with a non-numeric id (named by line).
pub fn read_item_table(path: &Path) -> Result<HashMap<String, Option<ItemId>>> {
    let mut out = HashMap::new();
    for (line, row) in crate::util::read_tsv_rows(path, 3, "name, id, link")? {
        let id: ItemId = row[1].parse().map_err(|_| Error::parse(path, line, format!("bad id {:?}", row[1])))?;
        out.insert(row[0].clone(), (row[2] != "none").then_some(id));
    }
    Ok(out)
}

/// A placeholder of `text_with_placeholder`: its byte range there, and for a title its index.
fn placeholders(ph: &str) -> Vec<(Range<usize>, Option<i64>)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = ph[from..].find("[MOVIE_").map(|a| a + from) {
        let Some(close) = ph[at..].find(']').map(|c| c + at) else { break };
        let inner = &ph[at + 1..close];
        let title = inner.strip_prefix("MOVIE_TITLE_").and_then(|d| d.parse::<i64>().ok());
        let well_formed =
            inner.rsplit('_').next().is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        if well_formed {
            out.push((at..close + 1, title));
        }
        from = close + 1;
    }
    out
}

/// Places the title placeholders of `ph` in `text` (module doc): (span, title index, placed).
pub fn align(text: &str, ph: &str) -> Vec<(Range<usize>, i64, bool)> {
    let marks = placeholders(ph);
    let mut out = Vec::new();
    // The first literal must open the text; every later one is searched from the cursor.
    let first_end = marks.first().map_or(ph.len(), |(r, _)| r.start);
    let mut pos = if text.starts_with(&ph[..first_end]) { first_end } else { usize::MAX };
    for (k, (r, title)) in marks.iter().enumerate() {
        let next_start = marks.get(k + 1).map_or(ph.len(), |(n, _)| n.start);
        let literal = &ph[r.end..next_start];
        let end = if pos == usize::MAX {
            None
        } else if literal.trim().is_empty() && k + 1 == marks.len() {
            Some((text.len(), text.len()))
        } else {
            find_literal(text, pos, literal)
        };
        match (end, title) {
            (Some((span_end, after)), Some(t)) => {
                let span = trim_span(text, pos..span_end);
                out.push((span, *t, true));
                pos = after;
            }
            (Some((_, after)), None) => pos = after,
            (None, Some(t)) => {
                out.push((0..text.len(), *t, false));
                pos = usize::MAX;
            }
            (None, None) => pos = usize::MAX,
        }
    }
    out
}

/// Finds `literal` in `text` at or after `from`: (its start, its end). The placeholder text
/// spaces out punctuation next to a placeholder (`[MOVIE_TITLE_0] , [MOVIE_TITLE_1]` for "The
/// Princess Bride, The Breakfast Club"), so a literal not found as written is looked for
/// without its edge spaces; a placeholder sometimes swallows the punctuation or words that
/// follow it, so leading characters of the literal are dropped one word at a time until the
/// rest is found.
fn find_literal(text: &str, from: usize, literal: &str) -> Option<(usize, usize)> {
    let mut lit = literal;
    loop {
        if lit.trim().is_empty() {
            return Some((text.len(), text.len()));
        }
        let rest = text.get(from..)?;
        if let Some(at) = rest.find(lit) {
            return Some((from + at, from + at + lit.len()));
        }
        let bare = lit.trim();
        if let Some(at) = rest.find(bare) {
            return Some((from + at, from + at + bare.len()));
        }
        let cut = lit.trim_start().find(' ').map(|c| c + (lit.len() - lit.trim_start().len()))?;
        lit = &lit[cut..];
    }
}

/// Trims whitespace and edge punctuation off a span.
fn trim_span(text: &str, r: Range<usize>) -> Range<usize> {
    let Some(s) = text.get(r.clone()) else { return r };
    let lead = s.len() - s.trim_start_matches(|c: char| !c.is_alphanumeric()).len();
    let body = s.trim_end_matches(|c: char| !c.is_alphanumeric());
    if body.len() <= lead {
        return r;
    }
    r.start + lead..r.start + body.len()
}

/// The lowercase alphanumeric words of `s`, a title's trailing "(Year)" left out.
fn title_words(s: &str) -> Vec<String> {
    let s = match s.rfind(" (") {
        Some(at) if s.ends_with(')') && s[at + 2..s.len() - 1].bytes().all(|b| b.is_ascii_digit()) => &s[..at],
        _ => s,
    };
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Share of `name`'s title words that `said` contains (0 to 1; 0 for a name without words).
fn words_shared(said: &str, name: &str) -> f64 {
    let (said, name) = (title_words(said), title_words(name));
    if name.is_empty() {
        return 0.0;
    }
    name.iter().filter(|w| said.contains(w)).count() as f64 / name.len() as f64
}

/// Repairs INSPIRED's swapped placeholder numbers: in some utterances the placeholders are
/// numbered against `movie_dict` in another order than the titles appear ("Just Friends or
/// Elf?" is `[MOVIE_TITLE_4] or [MOVIE_TITLE_0]` with 0 = Just Friends, 4 = Elf; dev has 2 such
/// utterances). Two placed mentions exchange titles when together they share more title words
/// with the exchanged titles and neither span shares fewer, so only the utterance's words decide;
/// a swap never adds or drops a mention.
fn unswap_titles(text: &str, mentions: &mut [GoldMention]) {
    let said = |m: &GoldMention| text.get(m.start..m.end).unwrap_or("").to_string();
    for i in 0..mentions.len() {
        for j in i + 1..mentions.len() {
            let (a, b) = (&mentions[i], &mentions[j]);
            if !a.aligned || !b.aligned {
                continue;
            }
            let (sa, sb) = (said(a), said(b));
            let own = words_shared(&sa, &a.name) + words_shared(&sb, &b.name);
            let crossed = words_shared(&sa, &b.name) + words_shared(&sb, &a.name);
            let neither_loses = words_shared(&sa, &b.name) >= words_shared(&sa, &a.name)
                && words_shared(&sb, &a.name) >= words_shared(&sb, &b.name);
            if crossed > own && neither_loses {
                let (na, ia) = (mentions[i].name.clone(), mentions[i].id);
                mentions[i].name = mentions[j].name.clone();
                mentions[i].id = mentions[j].id;
                mentions[j].name = na;
                mentions[j].id = ia;
            }
        }
    }
}

/// Reads INSPIRED `dialog_data/{split}.tsv` into benchmark utterances, titles resolved with
/// `items` (see [`read_item_table`]).
///
/// Errors: unreadable file; a row without the needed columns (named by line).
pub fn build_inspired(
    path: &Path,
    split: &str,
    items: &HashMap<String, Option<ItemId>>,
) -> Result<Vec<SurfaceUtterance>> {
    let (mut reader, col) = super::attributes::open_inspired_tsv(path)?;
    let (c_id, c_utt, c_speaker) = (col("dialog_id")?, col("utt_id")?, col("speaker")?);
    let (c_text, c_ph, c_dict) = (col("text")?, col("text_with_placeholder")?, col("movie_dict")?);
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| Error::parse(path, i + 2, e.to_string()))?;
        let get = |c: usize| row.get(c).unwrap_or("");
        let clean = |s: &str| s.replace("QUOTATION_MARK", "\"").split_whitespace().collect::<Vec<_>>().join(" ");
        let (text, ph) = (clean(get(c_text)), clean(get(c_ph)));
        // A malformed dict (one in dev) leaves its mentions unresolved: they are dropped.
        let names = super::attributes::parse_index_dict(get(c_dict)).unwrap_or_default();
        let mut mentions: Vec<GoldMention> = align(&text, &ph)
            .into_iter()
            .filter_map(|(r, t, aligned)| {
                let name = names.get(&t)?.clone();
                let id = items.get(&name).copied().flatten();
                Some(GoldMention { start: r.start, end: r.end, name, id, aligned })
            })
            .collect();
        unswap_titles(&text, &mut mentions);
        out.push(SurfaceUtterance {
            split: split.to_string(),
            dialog_id: get(c_id).to_string(),
            utt_id: get(c_utt).to_string(),
            seeker: get(c_speaker).eq_ignore_ascii_case("seeker"),
            text,
            mentions,
        });
    }
    Ok(out)
}

/// The item of an `inspired_added.tsv` row whose words name a series of films in general ("the
/// Saw movies", "the Bad Boys trilogy"): a mention outside the catalog, as INSPIRED's own labels
/// on series become after the review ([`apply_review`]).
pub const SERIES: &str = "(series)";

/// Adds the hand-checked mentions of `path` (module doc) to `utterances`: each row's words are
/// found in its utterance (first occurrence) and its item resolved by display name ([`SERIES`]:
/// a mention outside the catalog). Returns how many were added.
///
/// Errors: unreadable file; a row without five fields, naming an utterance that is not in the
/// benchmark, words not in its text, an item the catalog lacks or one already labelled on those
/// words (named by line).
pub fn add_hand_mentions(utterances: &mut [SurfaceUtterance], path: &Path, catalog: &Catalog) -> Result<usize> {
    let by_name = catalog.ids_by_display_name();
    let mut added = 0;
    for (line, row) in crate::util::read_tsv_rows(path, 5, "split, dialog_id, utt_id, said, item")? {
        let [split, dialog, utt, said, item] = [&row[0], &row[1], &row[2], &row[3], &row[4]];
        let id = if item == SERIES {
            None
        } else {
            Some(
                *by_name
                    .get(item)
                    .ok_or_else(|| Error::parse(path, line, format!("{item:?} is not in the catalog")))?,
            )
        };
        let u = utterances
            .iter_mut()
            .find(|u| &u.split == split && &u.dialog_id == dialog && &u.utt_id == utt)
            .ok_or_else(|| Error::parse(path, line, "no such utterance in the benchmark"))?;
        let start = u
            .text
            .find(said.as_str())
            .ok_or_else(|| Error::parse(path, line, format!("{said:?} is not in the utterance")))?;
        let end = start + said.len();
        if id.is_some() && u.mentions.iter().any(|g| g.id == id && g.start < end && start < g.end) {
            return Err(Error::parse(path, line, format!("{item:?} is already a label on these words")));
        }
        u.mentions.push(GoldMention { start, end, name: format!("{item} (added by hand)"), id, aligned: true });
        added += 1;
    }
    Ok(added)
}

/// What the hand review of INSPIRED's labels did (module doc).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Review {
    /// Labels that name another film or a whole series: kept as a mention outside the catalog.
    pub outside: usize,
    /// Labels on words that name no film (a person, ordinary words, a TV show, a misplaced span):
    /// removed.
    pub removed: usize,
}

/// Applies the hand review `path` (module doc; `split, dialog_id, utt_id, said, item, reason,
/// note`) to INSPIRED's labels in `utterances`. `reason` `other-film` or `series` turns the
/// label into a mention of a title outside the catalog (a link there is neither right nor
/// wrong, as for any title the catalog lacks; the film meant, when the catalog has it, is a row
/// of `inspired_added.tsv`); `person`, `not-a-title`, `tv` and `span` remove it (a link there
/// is wrong).
///
/// Errors: unreadable file; a row without seven fields, an unknown reason, or one that
/// matches no label of the benchmark (split, dialogue, utterance, the span's words and the
/// labelled name), named by line.
pub fn apply_review(utterances: &mut [SurfaceUtterance], path: &Path) -> Result<Review> {
    let mut review = Review::default();
    for (line, row) in crate::util::read_tsv_rows(path, 7, "split, dialog_id, utt_id, said, item, reason, note")? {
        let [split, dialog, utt, said, item, reason] = [&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]];
        let outside = match reason.as_str() {
            "other-film" | "series" => true,
            "person" | "not-a-title" | "tv" | "span" => false,
            other => {
                return Err(Error::parse(
                    path,
                    line,
                    format!("unknown reason {other:?} (other-film, series, person, not-a-title, tv or span)"),
                ))
            }
        };
        let u = utterances
            .iter_mut()
            .find(|u| &u.split == split && &u.dialog_id == dialog && &u.utt_id == utt)
            .ok_or_else(|| Error::parse(path, line, "no such utterance in the benchmark"))?;
        let text = &u.text;
        let k = u
            .mentions
            .iter()
            .position(|g| g.id.is_some() && &g.name == item && text.get(g.start..g.end) == Some(said.as_str()))
            .ok_or_else(|| Error::parse(path, line, format!("no label {item:?} on the words {said:?} there")))?;
        if outside {
            let g = &mut u.mentions[k];
            g.id = None;
            g.name = format!("{} (reviewed: {reason})", g.name);
            review.outside += 1;
        } else {
            u.mentions.remove(k);
            review.removed += 1;
        }
    }
    Ok(review)
}

/// Span and top-1 figures of one split (module doc).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SpanFigures {
    /// Utterances.
    pub utterances: usize,
    /// Gold mentions of catalog titles.
    pub gold: usize,
    /// Gold mentions of titles outside the catalog (their predictions are ignored).
    pub gold_outside: usize,
    /// Counted predictions (correct + wrong).
    pub predicted: usize,
    /// Correct predictions.
    pub correct: usize,
    /// Predictions overlapping only a title outside the catalog.
    pub ignored: usize,
    /// Gold mentions found.
    pub found: usize,
    /// Gold mentions whose surface form's best title candidate is right.
    pub top1: usize,
}

impl SpanFigures {
    /// correct / predicted (1 when nothing was predicted).
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.predicted)
    }

    /// found / gold (1 without gold).
    pub fn recall(&self) -> f64 {
        ratio(self.found, self.gold)
    }

    /// Harmonic mean of precision and recall (0 when both are 0).
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    /// top1 / gold (1 without gold).
    pub fn top1_accuracy(&self) -> f64 {
        ratio(self.top1, self.gold)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// A miss or a wrong link, for reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanError {
    /// `dev` or `test`.
    pub split: String,
    /// INSPIRED `dialog_id`.
    pub dialog_id: String,
    /// INSPIRED `utt_id`.
    pub utt_id: String,
    /// `missed` (a gold mention not found) or `wrong` (a prediction no gold mention supports).
    pub kind: &'static str,
    /// The utterance.
    pub text: String,
    /// The span's text.
    pub said: String,
    /// The gold or predicted item.
    pub item: String,
}

/// Most errors [`evaluate`] lists.
pub const MAX_ERRORS: usize = 2000;

/// Whether two items are the same film for scoring: the same id, the same normalised title, or
/// the same IMDb id (ReDial lists "Conjuring" and "The Conjuring (2013)", both tt1457767).
fn same_film(catalog: &Catalog, a: ItemId, b: ItemId) -> bool {
    a == b
        || match (catalog.position(a), catalog.position(b)) {
            (Some(pa), Some(pb)) => catalog.same_title(pa).contains(&pb),
            _ => false,
        }
        || match (catalog.get(a).and_then(|i| i.imdb_id.as_ref()), catalog.get(b).and_then(|i| i.imdb_id.as_ref())) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
}

/// Scores the tracker's links on `utterances` (module doc), keyed by split, and lists up to
/// [`MAX_ERRORS`] errors.
pub fn evaluate(utterances: &[SurfaceUtterance], tracker: &Tracker) -> (Vec<(String, SpanFigures)>, Vec<SpanError>) {
    let catalog = tracker.catalog();
    let mut by_split: Vec<(String, SpanFigures)> = Vec::new();
    let mut errors = Vec::new();
    let name = |id: ItemId| catalog.get(id).map(|i| i.display_name()).unwrap_or_else(|| id.to_string());
    for u in utterances {
        let k = match by_split.iter().position(|(s, _)| *s == u.split) {
            Some(k) => k,
            None => {
                by_split.push((u.split.clone(), SpanFigures::default()));
                by_split.len() - 1
            }
        };
        let f = &mut by_split[k].1;
        f.utterances += 1;
        let overlaps = |a: &Range<usize>, g: &GoldMention| a.start < g.end && g.start < a.end;
        let preds: Vec<(Range<usize>, ItemId)> =
            tracker.link_items(&u.text).into_iter().map(|m| (m.start..m.end, m.id)).collect();
        for (r, id) in &preds {
            let hits: Vec<&GoldMention> = u.mentions.iter().filter(|g| overlaps(r, g)).collect();
            if hits.iter().any(|g| g.id.is_some_and(|g| same_film(catalog, g, *id))) {
                f.correct += 1;
                f.predicted += 1;
            } else if !hits.is_empty() && hits.iter().all(|g| g.id.is_none()) {
                f.ignored += 1;
            } else {
                f.predicted += 1;
                if errors.len() < MAX_ERRORS {
                    let said = u.text.get(r.clone()).unwrap_or("").to_string();
                    errors.push(SpanError {
                        split: u.split.clone(),
                        dialog_id: u.dialog_id.clone(),
                        utt_id: u.utt_id.clone(),
                        kind: "wrong",
                        text: u.text.clone(),
                        said,
                        item: name(*id),
                    });
                }
            }
        }
        for g in &u.mentions {
            let Some(gid) = g.id else {
                f.gold_outside += 1;
                continue;
            };
            f.gold += 1;
            if preds.iter().any(|(r, id)| overlaps(r, g) && same_film(catalog, gid, *id)) {
                f.found += 1;
            } else if errors.len() < MAX_ERRORS {
                let said = u.text.get(g.start..g.end).unwrap_or("").to_string();
                errors.push(SpanError {
                    split: u.split.clone(),
                    dialog_id: u.dialog_id.clone(),
                    utt_id: u.utt_id.clone(),
                    kind: "missed",
                    text: u.text.clone(),
                    said,
                    item: name(gid),
                });
            }
            let said = u.text.get(g.start..g.end).unwrap_or("");
            if g.aligned && catalog.link_title(said, 1).first().is_some_and(|c| same_film(catalog, gid, c.id)) {
                f.top1 += 1;
            }
        }
    }
    (by_split, errors)
}

/// What a hand-written variant must give.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// This item linked.
    Item(ItemId),
    /// Nothing linked; the title reported missing from the catalog.
    Missing,
}

/// One hand-written case of `variants.tsv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// What the seeker types.
    pub text: String,
    /// The expected result.
    pub expected: Expected,
    /// What the case tests ("transposition", "alternative title", …).
    pub kind: String,
}

/// Reads `variants.tsv` (header `text  expected  kind`; `expected` a catalog display name
/// "Title (Year)" or `missing`; lines starting with `#` are comments).
///
/// Errors: unreadable file; a row without three fields, or an expected title the catalog lacks
/// (named by line).
pub fn read_variants(path: &Path, catalog: &Catalog) -> Result<Vec<Variant>> {
    let by_name = catalog.ids_by_display_name();
    let mut out = Vec::new();
    for (line, row) in crate::util::read_tsv_rows(path, 3, "text, expected, kind")? {
        let expected = if row[1] == "missing" {
            Expected::Missing
        } else {
            Expected::Item(
                *by_name
                    .get(&row[1])
                    .ok_or_else(|| Error::parse(path, line, format!("{:?} is not in the catalog", row[1])))?,
            )
        };
        out.push(Variant { text: row[0].clone(), expected, kind: row[2].clone() });
    }
    Ok(out)
}

/// The outcome of one variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantOutcome {
    /// The text.
    pub text: String,
    /// What the case tests.
    pub kind: String,
    /// What was expected ("Title (Year)" or "missing").
    pub expected: String,
    /// What the tracker linked (display names), and "missing: …" for titles reported missing.
    pub got: Vec<String>,
    /// Whether the expected result came out: the item among the links, or for `missing` no
    /// link and a title reported missing.
    pub ok: bool,
}

/// Runs every variant through the tracker's linking ([`Tracker::link_items`] and
/// [`Catalog::missing_titles`]).
pub fn evaluate_variants(variants: &[Variant], tracker: &Tracker) -> Vec<VariantOutcome> {
    let catalog = tracker.catalog();
    variants
        .iter()
        .map(|v| {
            let links: Vec<ItemId> = tracker.link_items(&v.text).into_iter().map(|m| m.id).collect();
            let missing = catalog.missing_titles(&v.text);
            let mut got: Vec<String> =
                links.iter().map(|&id| catalog.get(id).map(|i| i.display_name()).unwrap_or_default()).collect();
            got.extend(missing.iter().map(|m| format!("missing: {}", m.said)));
            let (expected, ok) = match v.expected {
                Expected::Item(id) => {
                    (catalog.get(id).map(|i| i.display_name()).unwrap_or_default(), links.contains(&id))
                }
                Expected::Missing => ("missing".to_string(), links.is_empty() && !missing.is_empty()),
            };
            VariantOutcome { text: v.text.clone(), kind: v.kind.clone(), expected, got, ok }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_placed_in_the_raw_text() {
        let t = "Also Braveheart, Saving Private Ryan (big Tom Hanks fan)";
        let a = align(t, "Also [MOVIE_TITLE_6], [MOVIE_TITLE_7] (big [MOVIE_P_ACTOR_0]");
        let said: Vec<&str> = a.iter().map(|(r, _, _)| &t[r.clone()]).collect();
        assert_eq!(said, ["Braveheart", "Saving Private Ryan"]);
        assert_eq!(a.iter().map(|x| x.1).collect::<Vec<_>>(), [6, 7]);
        let t = "It may be Raising Arizona.";
        let a = align(t, "It may be [MOVIE_TITLE_5].");
        assert_eq!(&t[a[0].0.clone()], "Raising Arizona");
        // The placeholder swallowed the final "?" and the words after the first title.
        let t = "Have you seen Game Night with Jason Bateman and Rachel McAdams?";
        let a = align(t, "Have you seen [MOVIE_TITLE_1] with [MOVIE_P_ACTOR_1] [MOVIE_P_ACTOR_2]?");
        assert_eq!(&t[a[0].0.clone()], "Game Night");
        let t = "Frozen 2";
        assert_eq!(align(t, "[MOVIE_TITLE_0]"), vec![(0..8, 0, true)]);
        // Punctuation spaced out in the placeholder text: every title of the list is placed.
        let t = "Favourites: The Princess Bride, The Breakfast Club, IT, and Little Women.";
        let a = align(t, "Favourites: [MOVIE_TITLE_0] , [MOVIE_TITLE_1] , [MOVIE_TITLE_2] , and [MOVIE_TITLE_3]");
        let said: Vec<&str> = a.iter().map(|(r, _, _)| &t[r.clone()]).collect();
        assert_eq!(said, ["The Princess Bride", "The Breakfast Club", "IT", "Little Women"]);
        // A literal that is not in the text: the mention is kept, unplaced.
        let a = align("Totally different", "Nothing [MOVIE_TITLE_0] alike");
        assert_eq!(a, vec![(0..17, 0, false)]);
    }

    fn mention(text: &str, said: &str, name: &str) -> GoldMention {
        let start = text.find(said).unwrap_or(0);
        GoldMention { start, end: start + said.len(), name: name.into(), id: None, aligned: true }
    }

    #[test]
    fn swapped_placeholder_numbers_are_repaired() {
        // INSPIRED dev: "Just Friends or Elf?" numbered [MOVIE_TITLE_4] or [MOVIE_TITLE_0].
        let t = "Just Friends or Elf?";
        let mut m = vec![mention(t, "Just Friends", "Elf (2003)"), mention(t, "Elf", "Just Friends (2005)")];
        unswap_titles(t, &mut m);
        assert_eq!(m[0].name, "Just Friends (2005)");
        assert_eq!(m[1].name, "Elf (2003)");
        // Right as given, or a typo that shares no word with either title: left alone.
        let t = "Raging Bull, Asphalt Jungle";
        let mut m = vec![
            mention(t, "Raging Bull", "Raging Bull (1980)"),
            mention(t, "Asphalt Jungle", "The Asphalt Jungle (1950)"),
        ];
        let before = m.clone();
        unswap_titles(t, &mut m);
        assert_eq!(m, before);
        let t = "Frozzen and Moana";
        let mut m = vec![mention(t, "Frozzen", "Moana (2016)"), mention(t, "Moana", "Frozen (2013)")];
        unswap_titles(t, &mut m);
        assert_eq!(m[1].name, "Moana (2016)", "the span that names a title takes it");
    }
}
