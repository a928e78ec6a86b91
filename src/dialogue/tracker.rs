//! The dialogue tracker: the one way a turn enters a [`DialogueState`].
//!
//! Live chat, the terminal UI, the HTTP server (stateless and session requests, `/v1/recommend`,
//! `/v1/feedback`), every evaluation mode, `curator tune` and `curator train` build their states
//! here, so what is measured and tuned is what users get. A turn is an [`Utterance`]: who spoke,
//! the text, and — when they are known — the catalog items it mentions (ReDial `@movieId`
//! placeholders, or the items Curator itself listed). Without known items the tracker links them
//! from the text.
//!
//! For a seeker turn the tracker records, in order:
//! 1. the items (linked or given), each with the polarity of its clause
//!    ([`crate::dialogue::negation::item_polarity`]);
//! 2. the attributes of the text, asked for or ruled out: with an attribute linker (a knowledge
//!    graph is loaded) genres, people, decades and keywords, and a linked title inside a
//!    person's name is dropped ("with Keanu Reeves" is the actor, not *Keanu* (2016)); without
//!    one, genres only ([`crate::dialogue::attributes::genre_mentions`]).
//!
//! 3. after a recommender's list, the seeker's reactions to it ([`super::reactions`]): seen or
//!    not (`DialogueState::seen`), accepted (`DialogueState::accepted`), and a polarity said of
//!    a listed item by reference ("the first one", "that one") as a seeker mention.
//!
//! For a recommender turn the items are recorded as neutral mentions and as recommended. Linked
//! from text, a reply in Curator's own list format ("1. Title (Year) — reason") contributes the
//! listed titles only (the reasons name other films: "like Heat (1995)"), so a client replaying
//! Curator's transcript rebuilds the state live chat had; any other text (a human recommender)
//! is linked whole.

use std::collections::HashMap;
use std::sync::Arc;

use super::attributes::{AttributeLinker, AttributeMention};
use super::reactions::Reaction;
use super::state::{DialogueState, ItemMention, Polarity};
use super::{Role, Turn};
use crate::catalog::{Catalog, ItemId};
use crate::knowledge::KnowledgeGraph;
use crate::{Error, Result};

/// What one turn added to the state ([`Tracker::observe`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// The item mentions of the turn (reactions' mentions included), in order.
    pub mentions: Vec<ItemMention>,
    /// What a seeker turn said about the items of the recommender's last list.
    pub reactions: Vec<Reaction>,
    /// Seen statements about titles the seeker named outright (`(id, seen)`: "I've seen
    /// Inception", "I never saw Heat"), besides those in `reactions`
    /// ([`crate::dialogue::negation::item_seen`]).
    pub seen: Vec<(ItemId, bool)>,
    /// 1-based positions the seeker named that the last list does not have ("#7" after three
    /// items; [`super::reactions::beyond_list`]), with that list's length.
    pub beyond_list: Option<(Vec<usize>, usize)>,
    /// Yes/no questions about one item ("is the first one scary?", "is Heat violent?";
    /// [`item_questions`]): the genres such a question names are asked of the item, not
    /// requested.
    pub questions: Vec<ItemQuestion>,
    /// Corrections of the previous seeker turn ("sorry, I meant Heat", "I meant Chris Pratt"):
    /// `(now, taken back)` as said back ("Heat (1995)", "Ronin (1998)"; people by name). The
    /// thing taken back leaves the state and the new one takes its polarity.
    pub corrected: Vec<(String, String)>,
}

/// A seeker's yes/no question about one item ([`Observed::questions`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemQuestion {
    /// The item asked about: a title said in the question, else the listed item it refers to.
    pub id: ItemId,
    /// The catalog genres the question names ("scary" → horror), in order.
    pub genres: Vec<String>,
    /// The people the question names ("is Heat with Al Pacino?", "does the first one have Tom
    /// Hanks in it?"), as the knowledge graph writes them, in order (empty without a graph).
    pub people: Vec<String>,
    /// The TMDB keywords the question names ("is Heat violent?" → "violence"), each with the
    /// keywords of its family that the graph lists for the item or for its other entries of the
    /// same title and year ([`super::attributes::AttributeLinker::keywords_of`]; empty: none
    /// listed), in order (empty without a graph).
    pub keywords: Vec<(String, Vec<String>)>,
}

/// Words that open a yes/no question about an item ("is it scary?", "does the second one have
/// gore?"); the question must also refer to an item and not open with "is there" or "are
/// there" ("is there anything like Heat?" is a request).
const QUESTION_LEADS: &[&str] = &["are", "does", "did", "is", "was", "will", "would"];

/// The byte ranges of the yes/no question sentences of `text` ([`item_questions`]' form: ending
/// with '?', opening with a [`QUESTION_LEADS`] word not followed by "there", "anything",
/// "something" or "any"), whatever they refer to.
fn question_sentences(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (end, c) in text.char_indices() {
        if !matches!(c, '.' | '!' | '?' | '\n') {
            continue;
        }
        let range = start..end;
        start = end + c.len_utf8();
        if c != '?' {
            continue;
        }
        let words: Vec<String> =
            crate::catalog::text::normalize(&text[range.clone()]).split(' ').map(str::to_string).collect();
        let opens = words.first().is_some_and(|w| QUESTION_LEADS.contains(&w.as_str()))
            && !words.get(1).is_some_and(|w| matches!(w.as_str(), "there" | "anything" | "something" | "any"));
        if opens {
            out.push(range);
        }
    }
    out
}

/// The questions of `text` about one item each, with the byte ranges of their sentences:
/// sentences ending with '?' that open with "is", "are", "was", "does", "did", "will" or
/// "would" (not followed by "there", "anything", "something" or "any") and refer to an item — a title `linked` inside the
/// sentence (`(id, byte offset)`), else a reference to the `listed` items ("the first one",
/// "it" after a one-item list; [`super::reactions::reactions`]). `people`: the attribute linker
/// that finds the people and TMDB keywords a question names, and the item's keywords (none: no
/// people or keywords are read).
pub fn item_questions(
    text: &str,
    linked: &[(ItemId, usize)],
    listed: &[ItemId],
    catalog: &Catalog,
    people: Option<&AttributeLinker>,
) -> Vec<(ItemQuestion, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    for range in question_sentences(text) {
        let sentence = &text[range.clone()];
        let id = linked
            .iter()
            .find(|(_, at)| range.contains(at))
            .map(|(id, _)| *id)
            .or_else(|| super::reactions::references(sentence, listed, &[], catalog).first().copied());
        let Some(id) = id else { continue };
        let mut genres: Vec<String> = Vec::new();
        for g in super::attributes::genre_mentions(sentence) {
            if !genres.contains(&g.genre) {
                genres.push(g.genre);
            }
        }
        let mut named: Vec<String> = Vec::new();
        let mut keywords: Vec<(String, Vec<String>)> = Vec::new();
        for m in people.map(|l| l.link(sentence)).unwrap_or_default() {
            match m.attribute {
                crate::knowledge::Attribute::Person { name, .. } if !named.contains(&name) => named.push(name),
                crate::knowledge::Attribute::Keyword { name } if !keywords.iter().any(|(k, _)| *k == name) => {
                    // The film's other ReDial entries of the same title and year ("Heat", twice)
                    // may carry the keywords this one lacks.
                    let year = catalog.get(id).and_then(|i| i.year);
                    let entries = catalog.position(id).map(|p| catalog.same_title(p)).unwrap_or(&[]);
                    let mut listed: Vec<String> = people.map(|l| l.keywords_of(id, &name)).unwrap_or_default();
                    for it in
                        entries.iter().filter_map(|&p| catalog.items().get(p)).filter(|i| i.id != id && i.year == year)
                    {
                        for k in people.map(|l| l.keywords_of(it.id, &name)).unwrap_or_default() {
                            if !listed.contains(&k) {
                                listed.push(k);
                            }
                        }
                    }
                    keywords.push((name, listed));
                }
                _ => {}
            }
        }
        out.push((ItemQuestion { id, genres, people: named, keywords }, range));
    }
    out
}

/// A rating of an item outside the text: a button or an API call (`/v1/feedback`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rating {
    /// Liked.
    Like,
    /// Disliked.
    Dislike,
    /// Already seen (never recommended again).
    Seen,
}

/// One turn as it reaches the tracker.
#[derive(Debug, Clone, PartialEq)]
pub struct Utterance {
    /// Who spoke.
    pub role: Role,
    /// What was said (trimmed by the tracker).
    pub text: String,
    /// The catalog items the turn mentions, in order, when they are known: ReDial's `@movieId`
    /// placeholders, or the items of Curator's own reply. `None`: the tracker links them from
    /// `text` (what a person typed, or a transcript sent over HTTP).
    pub items: Option<Vec<ItemId>>,
}

impl Utterance {
    /// A turn whose items are linked from its text.
    pub fn said(role: Role, text: impl Into<String>) -> Self {
        Utterance { role, text: text.into(), items: None }
    }

    /// A turn whose items are known (`turn.items`, e.g. ReDial placeholders).
    pub fn annotated(turn: Turn) -> Self {
        Utterance { role: turn.role, text: turn.text, items: Some(turn.items) }
    }

    /// A turn of a dialogue replayed as a front end would see it: the text only, items linked
    /// (the annotations of `turn`, if any, are ignored).
    pub fn text_of(turn: &Turn) -> Self {
        Utterance::said(turn.role, turn.text.clone())
    }
}

/// How the items of a replayed dialogue are found ([`Tracker::replay`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Items {
    /// The turns' own item annotations (ReDial `@movieId` placeholders): the ranker-level
    /// evaluation protocols and training, which score against the same annotations.
    Annotated,
    /// Linked from the text, as every front end does (live chat, HTTP, the whole-agent
    /// evaluation).
    Linked,
}

/// Turns utterances into the dialogue state (module doc). Cheap to share (`Arc` inside).
#[derive(Debug, Clone)]
pub struct Tracker {
    catalog: Arc<Catalog>,
    linker: Option<Arc<AttributeLinker>>,
    /// "Title (Year)" → id, for Curator's own list lines (first id of a display name).
    by_display: Arc<HashMap<String, ItemId>>,
    /// Whether seeker turns are read as reactions to the last list (on unless
    /// [`Tracker::without_reactions`]).
    reactions: bool,
}

impl Tracker {
    /// A tracker over `catalog`, with the attribute linker of the knowledge graph when one is
    /// loaded (`None`: items, polarity and genres only).
    pub fn new(catalog: Arc<Catalog>, linker: Option<Arc<AttributeLinker>>) -> Self {
        let mut by_display = HashMap::with_capacity(catalog.len());
        for it in catalog.items() {
            by_display.entry(it.display_name()).or_insert(it.id);
        }
        Tracker { catalog, linker, by_display: Arc::new(by_display), reactions: true }
    }

    /// A tracker over `catalog` with the attribute linker of `graph` built here (`None`: no
    /// attributes).
    pub fn with_graph(catalog: Arc<Catalog>, graph: Option<&KnowledgeGraph>) -> Self {
        Tracker::new(catalog, graph.map(|g| Arc::new(AttributeLinker::new(g))))
    }

    /// The same tracker without reactions to lists (the tracker before them; `curator eval
    /// tracking` compares the two).
    pub fn without_reactions(mut self) -> Self {
        self.reactions = false;
        self
    }

    /// The catalog items are linked into.
    pub fn catalog(&self) -> &Arc<Catalog> {
        &self.catalog
    }

    /// The attribute linker, when a knowledge graph is loaded.
    pub fn linker(&self) -> Option<&Arc<AttributeLinker>> {
        self.linker.as_ref()
    }

    /// Records one turn in `state` (module doc) and returns what it added. Items given in
    /// `turn.items` that are not in the catalog are kept as they are (the ranker skips them); an
    /// empty text is recorded as an empty turn.
    pub fn observe(&self, state: &mut DialogueState, turn: Utterance) -> Observed {
        let index = state.turns.len();
        let text = turn.text.trim().to_string();
        let (mentions, at): (Vec<ItemMention>, Vec<usize>) = match turn.role {
            Role::Seeker => self.seeker_items(&text, turn.items).into_iter().unzip(),
            Role::Recommender => {
                let items = turn.items.unwrap_or_else(|| self.recommender_items(&text));
                items
                    .into_iter()
                    .map(|id| {
                        (ItemMention { id, role: Role::Recommender, polarity: Polarity::Neutral, turn: index }, 0)
                    })
                    .unzip()
            }
        };
        let (mut mentions, at): (Vec<ItemMention>, Vec<usize>) = mentions
            .into_iter()
            .zip(at)
            // After a list, lowercase "the others" is the rest of it, not *The Others* (2001).
            .filter(|(m, a)| {
                turn.role != Role::Seeker
                    || state.last_listed().is_empty()
                    || state.last_listed().contains(&m.id)
                    || !super::reactions::OTHERS.iter().any(|p| text.get(*a..).is_some_and(|t| t.starts_with(p)))
            })
            .map(|(m, a)| (ItemMention { turn: index, ..m }, a))
            .unzip();
        // Yes/no questions about an item ("is Heat violent?"): the genres the question names are
        // asked of the item, not requested (below). The item keeps the polarity of its clause:
        // asking about a film is interest, which ReDial's questionnaires mark as liked (ReDial
        // validation, liked accuracy .6583 -> .6564 and seen .6081 -> .6056 when it was made
        // neutral).
        let questions: Vec<(ItemQuestion, std::ops::Range<usize>)> = match turn.role {
            Role::Seeker if self.reactions => {
                let linked: Vec<(ItemId, usize)> = mentions.iter().map(|m| m.id).zip(at.iter().copied()).collect();
                item_questions(&text, &linked, state.last_listed(), &self.catalog, self.linker.as_deref())
            }
            _ => Vec::new(),
        };
        // "#7" after a list of three: said back to the seeker, not silently dropped.
        let beyond_list = match turn.role {
            Role::Seeker if self.reactions && !state.last_listed().is_empty() => {
                let len = state.last_listed().len();
                Some((super::reactions::beyond_list(&text, len), len)).filter(|(b, _)| !b.is_empty())
            }
            _ => None,
        };
        // A seeker's reactions to the list just shown ("seen the first one, hated it").
        let reactions = match turn.role {
            Role::Seeker if self.reactions => {
                let linked: Vec<(ItemId, usize)> = mentions.iter().map(|m| m.id).zip(at.iter().copied()).collect();
                super::reactions::reactions(&text, state.last_listed(), &linked, &self.catalog)
            }
            _ => Vec::new(),
        };
        // What the seeker says of having seen each title it names ("I haven't seen Inception"),
        // unless a reaction to the list says it. The polarity stays: ReDial's seekers mark a film
        // they have not seen as liked when it interests them (validation: liked accuracy .6557
        // → .6485 when an unseen title was made neutral).
        let mut title_seen: Vec<(ItemId, bool)> = Vec::new();
        if turn.role == Role::Seeker {
            for (m, &a) in mentions.iter().zip(&at) {
                let Some(seen) = super::negation::item_seen(&text, a) else { continue };
                if reactions.iter().any(|r| r.id == m.id && r.seen.is_some()) {
                    continue;
                }
                title_seen.push((m.id, seen));
            }
        }
        // "I meant the original Jumanji": a seeker correcting which film of a title they meant
        // takes back what was said of the others of that title.
        if turn.role == Role::Seeker && super::negation::is_correction(&text) {
            let same = |a: ItemId, b: ItemId| match (self.catalog.position(a), self.catalog.position(b)) {
                (Some(pa), Some(pb)) => pa != pb && self.catalog.same_title(pa).contains(&pb),
                _ => false,
            };
            state.mentions.retain(|old| old.role != Role::Seeker || !mentions.iter().any(|m| same(m.id, old.id)));
        }
        let mut corrected: Vec<(String, String)> = Vec::new();
        let correction = turn.role == Role::Seeker && super::negation::is_correction(&text);
        // "I liked Ronin" then "sorry, I meant Heat": another title than the previous seeker
        // turn's only one takes its place (and its polarity and seen statement), when this turn
        // names one title.
        let previous_seeker = state.turns.iter().rposition(|t| t.role == Role::Seeker);
        if let (true, Some(p), [new]) = (correction, previous_seeker, &mut mentions[..]) {
            let before: Vec<ItemMention> =
                state.mentions.iter().filter(|m| m.role == Role::Seeker && m.turn == p).cloned().collect();
            if let [old] = &before[..] {
                if old.id != new.id {
                    state.mentions.retain(|m| !(m.role == Role::Seeker && m.turn == p && m.id == old.id));
                    if new.polarity == Polarity::Liked {
                        new.polarity = old.polarity;
                    }
                    let old_seen: Vec<bool> =
                        state.seen.iter().filter(|(id, _, t)| *id == old.id && *t == p).map(|s| s.1).collect();
                    state.seen.retain(|(id, _, t)| !(*id == old.id && *t == p));
                    if let Some(&seen) = old_seen.last() {
                        if !title_seen.iter().any(|(id, _)| *id == new.id) {
                            title_seen.push((new.id, seen));
                        }
                    }
                    let name = |id: ItemId| self.catalog.get(id).map(|i| i.display_name());
                    if let (Some(a), Some(b)) = (name(new.id), name(old.id)) {
                        corrected.push((a, b));
                    }
                }
            }
        }
        state.record(Turn { role: turn.role, text, items: mentions.iter().map(|m| m.id).collect() }, &mentions);
        state.seen.extend(title_seen.iter().map(|&(id, seen)| (id, seen, index)));
        let mut added = mentions;
        for r in &reactions {
            if let Some(seen) = r.seen {
                state.seen.push((r.id, seen, index));
            }
            if r.accepted && !state.accepted.contains(&r.id) {
                state.accepted.push(r.id);
            }
            // An item excepted from a count ("seen 2 of those, not Jackie Brown") is said neither
            // liked nor disliked, whatever its clause's "not" read.
            if r.polarity == Some(Polarity::Neutral) {
                for m in state.mentions.iter_mut().chain(added.iter_mut()) {
                    if m.id == r.id && m.turn == index && m.role == Role::Seeker {
                        m.polarity = Polarity::Neutral;
                    }
                }
            }
            // A polarity said of a listed item by reference is a seeker mention (a title said
            // outright already has one, read from its clause).
            if let Some(polarity) = r.polarity.filter(|_| !added.iter().any(|m| m.id == r.id)) {
                let m = ItemMention { id: r.id, role: Role::Seeker, polarity, turn: index };
                state.mentions.push(m.clone());
                added.push(m);
            }
        }
        if turn.role == Role::Seeker {
            let mut text = state.turns[index].text.clone();
            // A question about an item asks, it does not request: its sentence is blanked
            // (offsets kept) before the attributes are read.
            for (_, range) in &questions {
                text.replace_range(range.clone(), &" ".repeat(range.len()));
            }
            // So is one about a position the list does not have ("is the 9th one scary?" after
            // three items): said back (`beyond_list`), not read as a request for horror.
            if let Some((positions, len)) = &beyond_list {
                for range in question_sentences(&text) {
                    let beyond = super::reactions::beyond_list(&text[range.clone()], *len);
                    if beyond.iter().any(|p| positions.contains(p)) {
                        text.replace_range(range.clone(), &" ".repeat(range.len()));
                    }
                }
            }
            // The linker reads genres too; without one, genres are the only attributes.
            let attributes = match &self.linker {
                Some(l) => l.link(&text),
                None => super::attributes::genre_mentions(&text).into_iter().map(AttributeMention::from).collect(),
            };
            // "I meant Chris Pratt": one person now takes the place of the previous seeker turn's
            // person sharing a name with them ("Chris Evans"), or of its only person, with its
            // wish (wanted or ruled out).
            let mut attributes = attributes;
            if let (true, Some(p)) = (correction, previous_seeker) {
                let person = |a: &AttributeMention| match &a.attribute {
                    crate::knowledge::Attribute::Person { name, .. } => Some(name.clone()),
                    _ => None,
                };
                let new_people: Vec<usize> =
                    (0..attributes.len()).filter(|&k| person(&attributes[k]).is_some()).collect();
                let old_people: Vec<usize> = (0..state.attributes.len())
                    .filter(|&k| state.attributes[k].1 == p && person(&state.attributes[k].0).is_some())
                    .collect();
                if let [k] = new_people[..] {
                    let name = person(&attributes[k]).unwrap_or_default();
                    let words: Vec<String> =
                        crate::catalog::text::normalize(&name).split(' ').map(str::to_string).collect();
                    let shares =
                        |o: &str| crate::catalog::text::normalize(o).split(' ').any(|w| words.iter().any(|x| x == w));
                    let taken = old_people
                        .iter()
                        .copied()
                        .rfind(|&o| person(&state.attributes[o].0).is_some_and(|n| n != name && shares(&n)))
                        .or(match old_people[..] {
                            [o] if person(&state.attributes[o].0).is_some_and(|n| n != name) => Some(o),
                            _ => None,
                        });
                    if let Some(o) = taken {
                        let (old, _) = state.attributes.remove(o);
                        if attributes[k].wanted {
                            attributes[k].wanted = old.wanted;
                        }
                        corrected.push((name, person(&old).unwrap_or_default()));
                    }
                }
            }
            state.attributes.extend(attributes.into_iter().map(|a| (a, index)));
        }
        let questions = questions.into_iter().map(|(q, _)| q).collect();
        Observed { mentions: added, reactions, seen: title_seen, beyond_list, questions, corrected }
    }

    /// The state after `turns`, oldest first, their items found as `items` says.
    pub fn replay(&self, turns: &[Turn], items: Items) -> DialogueState {
        let mut state = DialogueState::new();
        for t in turns {
            let u = match items {
                Items::Annotated => Utterance::annotated(t.clone()),
                Items::Linked => Utterance::text_of(t),
            };
            self.observe(&mut state, u);
        }
        state
    }

    /// Records the seeker's feedback on an item: like or dislike as in [`Tracker::feedback`],
    /// seen as a seen statement of the latest turn ([`DialogueState::seen`]).
    ///
    /// Errors: [`Error::InvalidInput`] when `id` is not in the catalog (the state is unchanged).
    pub fn rate(&self, state: &mut DialogueState, id: ItemId, rating: Rating) -> Result<()> {
        match rating {
            Rating::Like => self.feedback(state, id, Polarity::Liked),
            Rating::Dislike => self.feedback(state, id, Polarity::Disliked),
            Rating::Seen => {
                if self.catalog.get(id).is_none() {
                    return Err(Error::InvalidInput(format!("item {id} is not in the catalog")));
                }
                let turn = state.turns.len().saturating_sub(1);
                state.seen.push((id, true, turn));
                Ok(())
            }
        }
    }

    /// Records the seeker's explicit feedback on an item (a like or dislike button, not text):
    /// a seeker mention with that polarity in the latest turn, read by the ranker and the reasons
    /// like any other mention.
    ///
    /// Errors: [`Error::InvalidInput`] when `id` is not in the catalog (the state is unchanged).
    pub fn feedback(&self, state: &mut DialogueState, id: ItemId, polarity: Polarity) -> Result<()> {
        if self.catalog.get(id).is_none() {
            return Err(Error::InvalidInput(format!("item {id} is not in the catalog")));
        }
        let turn = state.turns.len().saturating_sub(1);
        state.mentions.push(ItemMention { id, role: Role::Seeker, polarity, turn });
        Ok(())
    }

    /// The seeker's item mentions in `text` (turn index 0; the caller sets it), each with the
    /// byte offset of its title: the given items located by title in the text, or the linked
    /// ones less those inside a person's name.
    fn seeker_items(&self, text: &str, given: Option<Vec<ItemId>>) -> Vec<(ItemMention, usize)> {
        let mention = |id, at| {
            (ItemMention { id, role: Role::Seeker, polarity: super::negation::item_polarity(text, at), turn: 0 }, at)
        };
        if let Some(items) = given {
            // Each item's clause: where its title is written, else where the linker finds it
            // (a typo, other case), else the start of the text.
            let mut linked: Option<Vec<crate::catalog::Mention>> = None;
            return items
                .into_iter()
                .map(|id| {
                    let at = self.catalog.get(id).and_then(|it| text.find(&it.title)).or_else(|| {
                        let found = linked.get_or_insert_with(|| self.catalog.link_text(text));
                        found.iter().find(|m| m.id == id).map(|m| m.start)
                    });
                    mention(id, at.unwrap_or(0))
                })
                .collect();
        }
        self.link_items(text).into_iter().map(|m| mention(m.id, m.start)).collect()
    }

    /// The catalog items a seeker's free text names, as the tracker reads them: the catalog's
    /// title mentions ([`Catalog::link_text`]) less those inside a person's name the attribute
    /// linker finds ("with Keanu Reeves" is the actor, not *Keanu* (2016)). Byte spans of `text`.
    pub fn link_items(&self, text: &str) -> Vec<crate::catalog::Mention> {
        let people = self.linker.as_ref().map(|l| l.person_spans(text)).unwrap_or_default();
        self.catalog
            .link_text(text)
            .into_iter()
            .filter(|m| !people.iter().any(|s| s.start <= m.start && m.end <= s.end))
            .collect()
    }

    /// The items of a recommender's text: the titles of its numbered list lines when it has any
    /// ("1. Title (Year) — reason"), else every item linked in it; each once, in order.
    fn recommender_items(&self, text: &str) -> Vec<ItemId> {
        let mut items: Vec<ItemId> = Vec::new();
        let listed: Vec<&str> = text.lines().filter_map(list_title).collect();
        if listed.is_empty() {
            for m in self.catalog.link_text(text) {
                if !items.contains(&m.id) {
                    items.push(m.id);
                }
            }
            return items;
        }
        for title in listed {
            let found = match self.by_display.get(title) {
                Some(&id) => Some(id),
                None => self.catalog.link_text(title).first().map(|m| m.id),
            };
            if let Some(id) = found.filter(|id| !items.contains(id)) {
                items.push(id);
            }
        }
        items
    }
}

/// The title of a list line in Curator's reply format, `N. Title (Year) — reason` (the reason
/// optional): `None` for any other line.
fn list_title(line: &str) -> Option<&str> {
    let line = line.trim();
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 2 {
        return None;
    }
    let rest = line[digits..].strip_prefix('.')?;
    if !rest.starts_with(' ') {
        return None;
    }
    let title = rest.split(" — ").next().unwrap_or("").trim();
    (!title.is_empty()).then_some(title)
}

#[cfg(test)]
mod tests {
    use super::list_title;

    #[test]
    fn list_lines_give_their_titles() {
        assert_eq!(list_title("1. Heat (1995) — because of Collateral (2004)."), Some("Heat (1995)"));
        assert_eq!(list_title("  12. Se7en (1995)"), Some("Se7en (1995)"));
        assert_eq!(list_title("Here are some movies you might enjoy:"), None);
        assert_eq!(list_title("1995. A year"), None);
        assert_eq!(list_title("3.5 stars"), None);
        assert_eq!(list_title("1. — nothing"), None);
        assert_eq!(list_title(""), None);
    }
}
