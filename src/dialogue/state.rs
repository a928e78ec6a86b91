//! The explicit dialogue state: every item mentioned, with who mentioned it and the seeker's
//! polarity, plus the items Curator already recommended. Every tool reads it; only the
//! [`super::Tracker`] writes it.

use serde::{Deserialize, Serialize};

use super::attributes::{AttributeMention, GenreMention};
use crate::catalog::{Catalog, ItemId};
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
    /// Attributes (genres, and with a knowledge graph people, years, keywords) the seeker asked
    /// for or rejected, with the 0-based turn index, in order. Genres live here only
    /// ([`DialogueState::genres`] reads them).
    #[serde(default)]
    pub attributes: Vec<(AttributeMention, usize)>,
    /// What the seeker said about having seen items: (item, seen, 0-based turn), in order
    /// (reactions to Curator's lists, [`super::reactions`]).
    #[serde(default)]
    pub seen: Vec<(ItemId, bool, usize)>,
    /// Items the seeker accepted ("I'll watch the second"), in order.
    #[serde(default)]
    pub accepted: Vec<ItemId>,
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

    /// Appends `turn` and its item `mentions` (whose `turn` fields are its index); a recommender
    /// turn's items are also recorded as recommended. Only the [`super::Tracker`] calls it.
    pub(super) fn record(&mut self, turn: Turn, mentions: &[ItemMention]) {
        if turn.role == Role::Recommender {
            self.recommended.extend(turn.items.iter().copied());
        }
        self.mentions.extend_from_slice(mentions);
        self.turns.push(turn);
    }

    /// Per catalog position, whether the item may not be recommended: it (or an item with the
    /// same normalised title, see [`Catalog::same_title`]) was mentioned by anyone, already
    /// recommended, or said to be seen.
    pub fn excluded_positions(&self, catalog: &Catalog) -> Vec<bool> {
        let mut excluded = vec![false; catalog.len()];
        let seen = self.seen.iter().filter(|(_, s, _)| *s).map(|(id, _, _)| *id);
        for id in self.mentions.iter().map(|m| m.id).chain(self.recommended.iter().copied()).chain(seen) {
            if let Some(p) = catalog.position(id) {
                for &q in catalog.same_title(p) {
                    excluded[q] = true;
                }
            }
        }
        excluded
    }

    /// Whether the seeker said they have seen `id` (latest statement), `None` when not said.
    pub fn seen_status(&self, id: ItemId) -> Option<bool> {
        self.seen.iter().rev().find(|(i, _, _)| *i == id).map(|(_, s, _)| *s)
    }

    /// Items whose latest seen statement is `seen`, in order of first statement.
    pub fn items_seen(&self, seen: bool) -> Vec<ItemId> {
        let mut out: Vec<ItemId> = Vec::new();
        for (id, _, _) in &self.seen {
            if !out.contains(id) && self.seen_status(*id) == Some(seen) {
                out.push(*id);
            }
        }
        out
    }

    /// The items of the latest turn when it is the recommender's (the list a seeker's next turn
    /// reacts to); empty otherwise.
    pub fn last_listed(&self) -> &[ItemId] {
        match self.turns.last() {
            Some(t) if t.role == Role::Recommender => &t.items,
            _ => &[],
        }
    }

    /// Text of the last `n` seeker turns, oldest first, joined by newlines.
    pub fn recent_seeker_text(&self, n: usize) -> String {
        let mut v: Vec<&str> =
            self.turns.iter().rev().filter(|t| t.role == Role::Seeker).take(n).map(|t| t.text.as_str()).collect();
        v.reverse();
        v.join("\n")
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

    /// The requests of the latest seeker turn: the ranker's attribute filter, and what reasons
    /// cite. Its attributes asked for; a genre only a cue word suggested ("funny") only beside
    /// one of them said outright ("a funny horror movie from the 80s" asks for comedy too; "yes
    /// very funny" asks for nothing).
    pub fn latest_requests(&self) -> Vec<&Attribute> {
        let last_seeker = self.turns.iter().rposition(|t| t.role == Role::Seeker);
        let latest: Vec<_> = self.requested_attributes().into_iter().filter(|(_, t)| Some(*t) == last_seeker).collect();
        let outright = |m: &AttributeMention| m.explicit || !matches!(m.attribute, Attribute::Genre { .. });
        if !latest.iter().any(|(m, _)| outright(m)) {
            return Vec::new();
        }
        latest.into_iter().map(|(m, _)| &m.attribute).collect()
    }

    /// What the ranker's attribute filter keeps to: the latest seeker turn's requests
    /// ([`latest_requests`](Self::latest_requests)) and, unless that turn asks for other release
    /// years, the latest years asked for earlier and not taken back ("a movie from the 90s" …
    /// "something funny please" … "seen the first one": still the 1990s).
    pub fn filter_requests(&self) -> Vec<&Attribute> {
        let mut out = self.latest_requests();
        if !out.iter().any(|a| matches!(a, Attribute::Years { .. })) {
            let years = self
                .requested_attributes()
                .into_iter()
                .filter(|(m, _)| matches!(m.attribute, Attribute::Years { .. }))
                .max_by_key(|(_, t)| *t);
            if let Some((m, _)) = years {
                out.push(&m.attribute);
            }
        }
        out
    }

    /// The genre mentions among [`DialogueState::attributes`], with their turn, in order.
    pub fn genres(&self) -> Vec<(GenreMention, usize)> {
        self.attributes
            .iter()
            .filter_map(|(m, t)| match &m.attribute {
                Attribute::Genre { name } => {
                    Some((GenreMention { genre: name.clone(), wanted: m.wanted, explicit: m.explicit }, *t))
                }
                _ => None,
            })
            .collect()
    }

    /// Genres whose latest mention is a rejection ("no horror"): hard constraints.
    pub fn rejected_genres(&self) -> Vec<String> {
        let genres = self.genres();
        let mut out: Vec<String> = Vec::new();
        for (g, _) in &genres {
            let latest = genres.iter().rev().find(|(h, _)| h.genre == g.genre).map(|(h, _)| h.wanted);
            if latest == Some(false) && !out.contains(&g.genre) {
                out.push(g.genre.clone());
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
