//! The explicit dialogue state: every item mentioned, with who mentioned it and the seeker's
//! polarity, plus the items Curator already recommended. Every tool reads it.

use serde::{Deserialize, Serialize};

use crate::agent::attributes::{genre_mentions, AttributeLinker, AttributeMention, GenreMention};
use crate::catalog::{text::normalize, Catalog, ItemId};
use crate::dialogue::{Role, Turn};
use crate::knowledge::Attribute;

/// The seeker's attitude toward a mentioned item, read from the clause that mentions it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    /// Liked or asked for more like it ("I loved Heat").
    Liked,
    /// Disliked ("I hated Titanic", "not a fan of Cats").
    Disliked,
    /// Mentioned without a clear attitude (e.g. a recommender suggestion not yet answered).
    Neutral,
}

/// One mention of a catalog item in the dialogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemMention {
    /// The item.
    pub id: ItemId,
    /// Who mentioned it.
    pub role: Role,
    /// Polarity read from the mentioning clause (seeker mentions default to liked).
    pub polarity: Polarity,
    /// Index of the turn (0-based) in [`DialogueState::turns`].
    pub turn: usize,
}

/// Dialogue state shared by the agent's tools and the evaluation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DialogueState {
    /// All turns so far, oldest first.
    pub turns: Vec<Turn>,
    /// Every item mention, in dialogue order (an item may appear more than once).
    pub mentions: Vec<ItemMention>,
    /// Items Curator recommended, in order.
    pub recommended: Vec<ItemId>,
    /// Genres the seeker asked for or rejected, with the 0-based turn index, in order.
    pub genres: Vec<(GenreMention, usize)>,
    /// Knowledge-graph attributes (genres, people, years, keywords) the seeker asked for or
    /// rejected, with the 0-based turn index, in order (filled when a knowledge graph is loaded).
    #[serde(default)]
    pub attributes: Vec<(AttributeMention, usize)>,
}

/// Phrases (normalised, word-bounded) that mark the seeker's dislike within a clause.
const NEGATIVE_CUES: &[&str] = &[
    "anything but",
    "awful",
    "boring",
    "couldnt stand",
    "did not enjoy",
    "did not like",
    "didnt enjoy",
    "didnt like",
    "dislike",
    "disliked",
    "dislikes",
    "do not like",
    "dont like",
    "except",
    "hate",
    "hated",
    "hates",
    "meh",
    "no more",
    "not a big fan",
    "not a fan",
    "not good",
    "not into",
    "not like",
    "not really into",
    "overrated",
    "sucked",
    "terrible",
    "too scary",
    "wasnt a fan",
    "wasnt good",
    "worst",
];

/// Reads the polarity of a mention from the clause of `text` around byte offset `at`.
/// Clauses end at `.`, `!`, `?`, `;`, a newline or the word "but". Defaults to liked.
pub fn clause_polarity(text: &str, at: usize) -> Polarity {
    let at = at.min(text.len());
    let (mut start, mut end) = (0, text.len());
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '!' | '?' | ';' | '\n') {
            if i < at {
                start = i + 1;
            } else if i >= at && i < end {
                end = i;
                break;
            }
        }
    }
    let mut clause = &text[start..end];
    // Split on " but ": keep the part holding the mention.
    let lower = clause.to_lowercase();
    if lower.len() == clause.len() {
        let rel = at - start;
        let mut cut_start = 0;
        let mut cut_end = clause.len();
        for (i, _) in lower.match_indices(" but ") {
            if i < rel {
                cut_start = i + 5;
            } else if cut_end == clause.len() {
                cut_end = i;
            }
        }
        if cut_start <= cut_end {
            clause = &clause[cut_start..cut_end];
        }
    }
    // A negation right before the title: "not Titanic", "no Twilight", "except Cats".
    let before = normalize(&text[start..at]);
    if let Some(last) = before.rsplit(' ').next() {
        if matches!(last, "not" | "no" | "except" | "without" | "besides" | "nor") {
            return Polarity::Disliked;
        }
    }
    let norm = format!(" {} ", normalize(clause));
    if NEGATIVE_CUES.iter().any(|c| norm.contains(&format!(" {c} "))) {
        Polarity::Disliked
    } else {
        Polarity::Liked
    }
}

impl DialogueState {
    /// Empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets everything (the `/reset` command).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Adds a seeker utterance: links item mentions in `text` with the catalog, reads each
    /// mention's polarity, records the turn. Returns the mentions added.
    pub fn observe_seeker_text(&mut self, text: &str, catalog: &Catalog) -> Vec<ItemMention> {
        let turn = self.turns.len();
        let mentions = catalog.link_text(text);
        let mut added = Vec::new();
        for m in &mentions {
            let polarity = clause_polarity(text, m.start);
            added.push(ItemMention { id: m.id, role: Role::Seeker, polarity, turn });
        }
        self.genres.extend(genre_mentions(text).into_iter().map(|g| (g, turn)));
        self.turns.push(Turn {
            role: Role::Seeker,
            text: text.to_string(),
            items: mentions.iter().map(|m| m.id).collect(),
        });
        self.mentions.extend(added.iter().cloned());
        added
    }

    /// Forgets the items linked in the latest seeker turn whose title lies inside one of `spans`
    /// (byte ranges of that turn's text, e.g. the people [`AttributeLinker::link_spans`] found:
    /// "Keanu" in "with Keanu Reeves" is the actor, not Keanu (2016)). Nothing happens when the
    /// latest turn is not the seeker's.
    pub fn forget_items_within(&mut self, spans: &[std::ops::Range<usize>], catalog: &Catalog) {
        let Some(turn) = self.turns.len().checked_sub(1) else { return };
        if self.turns[turn].role != Role::Seeker || spans.is_empty() {
            return;
        }
        let inside: Vec<ItemId> = catalog
            .link_text(&self.turns[turn].text)
            .iter()
            .filter(|m| spans.iter().any(|s| s.start <= m.start && m.end <= s.end))
            .map(|m| m.id)
            .collect();
        if inside.is_empty() {
            return;
        }
        self.turns[turn].items.retain(|id| !inside.contains(id));
        self.mentions.retain(|m| m.turn != turn || !inside.contains(&m.id));
    }

    /// Adds a turn whose items are already known (ReDial `@id` placeholders, or Curator's own
    /// reply). Seeker mentions get the polarity of their clause (located by title in the text);
    /// recommender mentions are neutral.
    pub fn observe_turn(&mut self, turn: Turn, catalog: &Catalog) {
        let index = self.turns.len();
        for &id in &turn.items {
            let polarity = match turn.role {
                Role::Recommender => Polarity::Neutral,
                Role::Seeker => {
                    let at = catalog.get(id).and_then(|it| turn.text.find(&it.title)).unwrap_or(0);
                    clause_polarity(&turn.text, at)
                }
            };
            self.mentions.push(ItemMention { id, role: turn.role, polarity, turn: index });
        }
        if turn.role == Role::Recommender {
            self.recommended.extend(turn.items.iter().copied());
        } else {
            self.genres.extend(genre_mentions(&turn.text).into_iter().map(|g| (g, index)));
        }
        self.turns.push(turn);
    }

    /// Per catalog position, whether the item may not be recommended: it (or an item with the
    /// same normalised title, see [`Catalog::same_title`]) was mentioned by anyone or already
    /// recommended.
    pub fn excluded_positions(&self, catalog: &Catalog) -> Vec<bool> {
        let mut excluded = vec![false; catalog.len()];
        for id in self.mentions.iter().map(|m| m.id).chain(self.recommended.iter().copied()) {
            if let Some(p) = catalog.position(id) {
                for &q in catalog.same_title(p) {
                    excluded[q] = true;
                }
            }
        }
        excluded
    }

    /// Text of the last `n` seeker turns, oldest first, joined by newlines.
    pub fn recent_seeker_text(&self, n: usize) -> String {
        let mut v: Vec<&str> =
            self.turns.iter().rev().filter(|t| t.role == Role::Seeker).take(n).map(|t| t.text.as_str()).collect();
        v.reverse();
        v.join("\n")
    }

    /// Records the seeker's explicit feedback on an item (a like or dislike button, not text): a
    /// seeker mention with that polarity in the latest turn, which the ranker and the reasons read
    /// like any other mention.
    pub fn record_feedback(&mut self, id: ItemId, polarity: Polarity) {
        let turn = self.turns.len().saturating_sub(1);
        self.mentions.push(ItemMention { id, role: Role::Seeker, polarity, turn });
    }

    /// Links the attributes of the latest turn, if it is the seeker's, and records them.
    pub fn link_attributes(&mut self, linker: &AttributeLinker) {
        let Some(turn) = self.turns.len().checked_sub(1) else { return };
        if self.turns[turn].role != Role::Seeker {
            return;
        }
        let found = linker.link(&self.turns[turn].text);
        self.attributes.extend(found.into_iter().map(|m| (m, turn)));
    }

    /// Attributes whose latest mention is a rejection ("not horror", "nothing too violent"):
    /// hard constraints, in order of first mention.
    pub fn rejected_attributes(&self) -> Vec<&Attribute> {
        let mut out: Vec<&Attribute> = Vec::new();
        for (m, _) in &self.attributes {
            let latest = self.attributes.iter().rev().find(|(h, _)| h.attribute == m.attribute).map(|(h, _)| h.wanted);
            if latest == Some(false) && !out.contains(&&m.attribute) {
                out.push(&m.attribute);
            }
        }
        out
    }

    /// Attributes asked for (latest mention not a rejection), with the turn of the latest
    /// request, in order of first mention. Genres suggested only by cue words are included.
    pub fn requested_attributes(&self) -> Vec<(&AttributeMention, usize)> {
        let mut out: Vec<(&AttributeMention, usize)> = Vec::new();
        for (m, _) in &self.attributes {
            if out.iter().any(|(o, _)| o.attribute == m.attribute) {
                continue;
            }
            if let Some((h, t)) = self.attributes.iter().rev().find(|(h, _)| h.attribute == m.attribute) {
                if h.wanted {
                    out.push((h, *t));
                }
            }
        }
        out
    }

    /// Genres whose latest mention is a rejection ("no horror"): hard constraints.
    pub fn rejected_genres(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (g, _) in &self.genres {
            let latest = self.genres.iter().rev().find(|(h, _)| h.genre == g.genre).map(|(h, _)| h.wanted);
            if latest == Some(false) && !out.contains(&g.genre.as_str()) {
                out.push(&g.genre);
            }
        }
        out
    }

    /// Items by polarity, latest polarity winning, in order of first mention.
    pub fn items_with(&self, polarity: Polarity) -> Vec<ItemId> {
        let mut out: Vec<ItemId> = Vec::new();
        for m in &self.mentions {
            if out.contains(&m.id) {
                continue;
            }
            let last = self.mentions.iter().rev().find(|x| x.id == m.id).map(|x| x.polarity);
            if last == Some(polarity) {
                out.push(m.id);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_cues_mark_only_their_clause() {
        let t = "I loved Heat but I hated Titanic.";
        assert_eq!(clause_polarity(t, t.find("Heat").unwrap_or(0)), Polarity::Liked);
        assert_eq!(clause_polarity(t, t.find("Titanic").unwrap_or(0)), Polarity::Disliked);
        let t = "Not a fan of Cats. Loved Alien!";
        assert_eq!(clause_polarity(t, t.find("Cats").unwrap_or(0)), Polarity::Disliked);
        assert_eq!(clause_polarity(t, t.find("Alien").unwrap_or(0)), Polarity::Liked);
        assert_eq!(clause_polarity("", 10), Polarity::Liked);
        let t = "something darker, not Titanic";
        assert_eq!(clause_polarity(t, t.find("Titanic").unwrap_or(0)), Polarity::Disliked);
    }

    #[test]
    fn cues_are_sorted_for_readability() {
        assert!(NEGATIVE_CUES.windows(2).all(|w| w[0] < w[1]));
    }
}
