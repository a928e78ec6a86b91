//! The opening line of a reply, true to the dialogue state. [`OpeningPlan`] decides it before
//! anything is decoded: what this turn changed ([`noted`]: "Noted: you've seen Deadpool (2016)
//! and didn't like it.") and what the recommendations rest on ([`lead`]: "Since you like
//! Interstellar (2014) and want comedy, without Adam Sandler, try these:"), a question after a
//! vague first message, or the prompt's fixed lines — never the same line twice in a row. A
//! model's free line is used only when the configuration says the model can write one
//! ([`crate::agent::AgentConfig::model_opening`]) and [`accept_opening`] finds it true to the
//! state (no item named except with the polarity the state holds, no refusal, no invented
//! title).
use crate::catalog::{Catalog, ItemId, MissingTitle};
use crate::dialogue::{DialogueState, ItemQuestion, Observed, Polarity, Reaction, Role, Tracker, Utterance};

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

/// The one opening-line check: the line the model wrote (`raw`), as it will be shown (cut to
/// complete sentences), or `None` when it must not be shown — it is empty; it names a catalog
/// item whose polarity, read by the same `tracker` that reads the seeker, is not the one `state`
/// holds for it (only items the seeker liked or disliked may be named, and only as such: "Since
/// you loved Heat" passes, "You'll love Titanic" does not); it looks like it names a title the
/// catalog may not have (quotes, digits, capitalised words; words of the named items' titles
/// are allowed); or it declines, apologises or hedges. The raw line is checked, so a title in a
/// sentence that the cut drops still rejects it.
pub fn accept_opening(raw: &str, state: &DialogueState, tracker: &Tracker) -> Option<String> {
    let catalog = tracker.catalog();
    let line = raw.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let shown = clean_intro(line);
    if shown.is_empty() || refuses(&shown) {
        tracing::debug!("model opening replaced (empty or refuses): {raw:?}");
        return None;
    }
    // The model's line read as if the seeker had said it: each item it names, with the polarity
    // its clause gives.
    let mut scratch = DialogueState::new();
    let read = tracker.observe(&mut scratch, Utterance::said(Role::Seeker, line));
    let liked = state.items_with(Polarity::Liked);
    let disliked = state.items_with(Polarity::Disliked);
    let true_to_state = read.mentions.iter().all(|m| match m.polarity {
        Polarity::Liked => liked.contains(&m.id),
        Polarity::Disliked => disliked.contains(&m.id),
        Polarity::Neutral => false,
    });
    let named_words: Vec<String> = liked
        .iter()
        .chain(&disliked)
        .filter_map(|id| catalog.get(*id))
        .flat_map(|it| it.title.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .collect();
    if !true_to_state || looks_like_a_title(line, &named_words) {
        tracing::debug!("model opening replaced (names an item against the state, or looks like a title): {raw:?}");
        return None;
    }
    Some(shown)
}

/// The opening that says what the seeker's reactions to the last list changed ("Noted: you've
/// seen Deadpool (2016) and didn't like it."), or `None` without reactions. Built from the
/// state's own record, so it never contradicts it.
pub fn acknowledge(reactions: &[Reaction], catalog: &Catalog) -> Option<String> {
    let (verb, seen) = (catalog.config().verb(), catalog.config().verb_past());
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
                (Some(true), Some(false), _) => format!("you've {seen} {title} and didn't like it"),
                (Some(true), Some(true), _) => format!("you've {seen} {title} and liked it"),
                (Some(true), None, _) => format!("you've {seen} {title}"),
                (_, _, true) => format!("you'll {verb} {title}"),
                (Some(false), Some(true), _) => format!("you haven't {seen} {title} but it appeals to you"),
                (Some(false), _, _) => format!("you haven't {seen} {title}"),
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

/// The most titles the catalog lacks that one opening names ([`noted`]).
const MAX_MISSING: usize = 3;

/// What the seeker's turn changed in the state, said back ("Noted: you like Inception (2010) and
/// Interstellar (2014); you want comedy; no Adam Sandler."): the reactions to the last list
/// ("you've seen X and didn't like it"), the items the turn named with their polarity, and the attributes it
/// asked for or ruled out; then, for each numbered entry the seeker named that the catalog lacks
/// (`missing`, [`Catalog::missing_titles`]), a sentence saying so ("I don't have Gladiator II in
/// my catalog.": each title once, at most three), and for a list position the last list lacks,
/// that it had fewer ("My last list had 3, so there is no #7.") rather than silently linking the
/// original. `None`
/// when the turn changed none of these. Built from `observed` (the tracker's record of the turn)
/// and the state after it, so it never contradicts the state.
pub fn noted(
    observed: &Observed,
    state: &DialogueState,
    catalog: &Catalog,
    missing: &[MissingTitle],
) -> Option<String> {
    // Each missing title once, however often the turn repeats it, and at most three.
    let mut said: Vec<String> = Vec::new();
    for m in missing {
        let name = m.said.split_whitespace().collect::<Vec<_>>().join(" ");
        if said.len() < MAX_MISSING && !said.iter().any(|s| s.eq_ignore_ascii_case(&name)) {
            said.push(name);
        }
    }
    let missing: Vec<String> = said.iter().map(|m| format!("I don't have {m} in my catalog.")).collect();
    let noted = noted_changes(observed, state, catalog);
    // "#7" after a list of three.
    let beyond = observed.beyond_list.as_ref().map(|(positions, len)| {
        let names: Vec<String> = positions.iter().map(|p| format!("#{p}")).collect();
        format!("My last list had {len}, so there is no {}.", joined(&names, "or"))
    });
    let answers = observed.questions.iter().take(MAX_ANSWERS).filter_map(|q| answer(q, catalog));
    let all: Vec<String> = answers.chain(noted).chain(beyond).chain(missing).collect();
    (!all.is_empty()).then(|| all.join(" "))
}

/// The most item questions one opening answers ([`answer`]).
const MAX_ANSWERS: usize = 2;

/// The answer to a yes/no question about an item, from the catalog's genres and directors and
/// the knowledge graph's keywords: "Toy Story 2 (1999) is listed as animation, comedy and family,
/// not horror; directed by John Lasseter." / "Heat (1995) is listed as action, crime and drama;
/// directed by Michael Mann; it is tagged \"violence\"." `None` for an item the catalog lacks.
pub fn answer(q: &ItemQuestion, catalog: &Catalog) -> Option<String> {
    let item = catalog.get(q.id)?;
    let title = item.display_name();
    let not: Vec<String> = q.genres.iter().filter(|g| !item.genres.contains(g)).cloned().collect();
    let mut line = if item.genres.is_empty() {
        format!("{title} has no genres listed")
    } else {
        format!("{title} is listed as {}", and_list(&item.genres))
    };
    if !not.is_empty() {
        line.push_str(&format!(", not {}", or_list(&not)));
    }
    // The people asked about: in it (in the role the catalog lists), or not listed in it.
    let (mut in_it, mut not_in): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for p in &q.people {
        let role = [&item.directors, &item.writers, &item.stars].iter().position(|r| r.contains(p));
        match role {
            Some(r) => in_it.push(format!("{} {p}", catalog.config().by(r))),
            None => not_in.push(p.clone()),
        }
    }
    match item.directors.first() {
        _ if !in_it.is_empty() => line.push_str(&format!("; {}", and_list(&in_it))),
        Some(d) => line.push_str(&format!("; {} {d}", catalog.config().by(0))),
        None => {}
    }
    if !not_in.is_empty() {
        let verb = if not_in.len() == 1 { "is" } else { "are" };
        line.push_str(&format!("; {} {verb} not listed in it", and_list(&not_in)));
    }
    // The keywords asked about ("is Heat violent?"): those of the family the item is tagged with.
    for (asked, listed) in &q.keywords {
        if listed.is_empty() {
            line.push_str(&format!("; it has no \"{asked}\" keyword"));
        } else {
            let tags: Vec<String> = listed.iter().map(|k| format!("\"{k}\"")).collect();
            line.push_str(&format!("; it is tagged {}", and_list(&tags)));
        }
    }
    line.push('.');
    Some(line)
}

/// [`noted`] without the missing titles.
fn noted_changes(observed: &Observed, state: &DialogueState, catalog: &Catalog) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    if let Some(ack) = acknowledge(&observed.reactions, catalog) {
        parts.push(ack.trim_start_matches("Noted: ").trim_end_matches('.').to_string());
    }
    let reacted: Vec<ItemId> = observed.reactions.iter().map(|r| r.id).collect();
    // "sorry, I meant Heat": "Heat (1995), not Ronin (1998)"; what follows says the new one's polarity.
    for (now, back) in &observed.corrected {
        parts.push(format!("{now}, not {back}"));
    }
    // Titles named with a seen statement ("I've seen Inception"): said as that, not as a like
    // the seeker did not say; a dislike said with it is kept.
    let seen_past = catalog.config().verb_past();
    let mut told: Vec<ItemId> = Vec::new();
    for &(id, seen) in observed.seen.iter().filter(|(id, _)| !reacted.contains(id)) {
        let Some(name) = catalog.get(id).map(|i| i.display_name()) else { continue };
        if told.contains(&id) {
            continue;
        }
        told.push(id);
        let disliked = state.mentions.iter().rev().find(|x| x.id == id).map(|x| x.polarity) == Some(Polarity::Disliked);
        parts.push(match (seen, disliked) {
            (true, true) => format!("you've {seen_past} {name} and didn't like it"),
            (true, false) => format!("you've {seen_past} {name}"),
            (false, _) => format!("you haven't {seen_past} {name}"),
        });
    }
    // A title asked about ("is Heat violent?") is answered ([`answer`]), not said back as a like.
    let asked: Vec<ItemId> = observed.questions.iter().map(|q| q.id).collect();
    let named = |p: Polarity| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in &observed.mentions {
            let quiet = reacted.contains(&m.id) || told.contains(&m.id) || asked.contains(&m.id);
            if m.role == Role::Seeker && m.polarity == p && !quiet {
                // The state's latest word on the item wins (a later clause may have changed it).
                let latest = state.mentions.iter().rev().find(|x| x.id == m.id).map(|x| x.polarity);
                let name = catalog.get(m.id).map(|i| i.display_name());
                if let (Some(name), true) = (name, latest == Some(p)) {
                    if !out.contains(&name) {
                        out.push(name);
                    }
                }
            }
        }
        out
    };
    let liked = named(Polarity::Liked);
    if !liked.is_empty() {
        parts.push(format!("you like {}", and_list(&liked)));
    }
    let disliked = named(Polarity::Disliked);
    if !disliked.is_empty() {
        parts.push(format!("you don't like {}", and_list(&disliked)));
    }
    let turn = state.turns.iter().rposition(|t| t.role == Role::Seeker);
    let this_turn = |wanted: bool| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (m, t) in &state.attributes {
            if Some(*t) == turn && m.wanted == wanted && (m.explicit || wanted) {
                let d = m.attribute.describe();
                if !out.contains(&d) {
                    out.push(d);
                }
            }
        }
        out
    };
    let wants = this_turn(true);
    if !wants.is_empty() {
        parts.push(format!("you want {}", and_list(&wants)));
    }
    // "no horror or Adam Sandler"; a ruled-out span of years reads "nothing before 2015".
    let (spans, rejects): (Vec<String>, Vec<String>) =
        this_turn(false).into_iter().partition(|d| d.starts_with("before ") || d.starts_with("after "));
    if !rejects.is_empty() {
        parts.push(format!("no {}", or_list(&rejects)));
    }
    for d in spans {
        parts.push(format!("nothing {d}"));
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!("Noted: {}.", parts.join("; ")))
}

/// What the recommendations rest on, from the state: the (at most two) latest items the seeker
/// liked, the attributes the latest turn asked for (at most three) and those ruled out (at most
/// three) —
/// "Since you like Heat (1995) and want the 1990s, without horror, try these:" — leaving out what
/// `noted` (this turn's [`noted`] line, if any) already says; `None` when nothing is left.
pub fn lead(state: &DialogueState, catalog: &Catalog, noted: Option<&str>) -> Option<String> {
    let new = |x: &String| !noted.is_some_and(|n| n.contains(x.as_str()));
    let liked: Vec<String> = last_n(
        state
            .items_with(Polarity::Liked)
            .iter()
            .filter(|id| state.mentions.iter().any(|m| m.id == **id && m.role == Role::Seeker))
            .filter_map(|id| catalog.get(*id).map(|i| i.display_name()))
            .filter(new)
            .collect(),
        2,
    );
    // Only the requests that filter this list (the latest turn's, [`DialogueState::latest_requests`]):
    // an earlier "funny" is kept in the state but no longer restricts the list.
    let wants: Vec<String> = last_n(state.latest_requests().iter().map(|a| a.describe()).filter(new).collect(), 3);
    let rejects: Vec<String> = state.rejected_attributes().iter().map(|a| a.describe()).filter(new).take(3).collect();
    let mut basis: Vec<String> = Vec::new();
    if !liked.is_empty() {
        basis.push(format!("like {}", and_list(&liked)));
    }
    if !wants.is_empty() {
        basis.push(format!("want {}", and_list(&wants)));
    }
    match (basis.is_empty(), rejects.is_empty()) {
        (true, true) => None,
        (true, false) => Some(format!("Leaving out {}, try these:", or_list(&rejects))),
        (false, true) => Some(format!("Since you {}, try these:", basis.join(" and "))),
        (false, false) => Some(format!("Since you {}, without {}, try these:", basis.join(" and "), or_list(&rejects))),
    }
}

/// True when nothing in `state` says what the seeker wants: no item liked, no attribute asked
/// for or ruled out, no reaction to a list ("hi", "recommend something").
pub fn is_vague(state: &DialogueState) -> bool {
    state.items_with(Polarity::Liked).is_empty()
        && state.items_with(Polarity::Disliked).is_empty()
        && state.attributes.is_empty()
        && state.seen.is_empty()
        && state.accepted.is_empty()
}

/// The last `n` of `xs`, in order.
fn last_n(mut xs: Vec<String>, n: usize) -> Vec<String> {
    let cut = xs.len().saturating_sub(n);
    xs.drain(..cut);
    xs
}

/// "A", "A and B", "A, B and C".
fn and_list(xs: &[String]) -> String {
    joined(xs, "and")
}

/// "A", "A or B", "A, B or C".
fn or_list(xs: &[String]) -> String {
    joined(xs, "or")
}

fn joined(xs: &[String], word: &str) -> String {
    match xs {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {word} {last}", init.join(", ")),
    }
}

/// How this turn's opening line is chosen, decided before anything is decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningPlan {
    /// The line to show without asking the model (the model then writes none): what the turn
    /// changed, a question after a vague message, or — when the model may not write openings —
    /// the first candidate not said last time.
    pub fixed: Option<String>,
    /// Lines to fall back on when the model's line is rejected, in order of preference; the
    /// first that differs from `previous` is used.
    pub candidates: Vec<String>,
    /// The previous reply's opening, never said twice in a row.
    pub previous: Option<String>,
}

impl OpeningPlan {
    /// The plan for one turn: `noted` (what the turn changed, [`noted`]) and `lead` (what the
    /// list rests on, [`lead`]) joined into one line; `question` (set after a vague message,
    /// [`is_vague`]); the prompt's `fallback` and `alternate` lines; the `previous` reply's
    /// opening; whether the model may write an opening (`model_writes`). A turn that changed the
    /// state, and a vague one, always get the fixed line: the model cannot know what changed.
    pub fn new(
        noted: Option<String>,
        lead: Option<String>,
        question: Option<String>,
        lines: [&str; 2],
        previous: Option<String>,
        model_writes: bool,
    ) -> Self {
        let [fallback, alternate] = lines;
        let differs = |l: &String| Some(l.as_str()) != previous.as_deref();
        // After a vague message the question stands where the lead would (the state holds no
        // basis for one); what the turn changed (a title the catalog lacks) still comes first.
        let lead = question.clone().or(lead);
        let state_line = match (&noted, &lead) {
            (Some(n), Some(l)) => Some(format!("{n} {l}")),
            (Some(n), None) => Some(n.clone()),
            (None, Some(l)) => Some(l.clone()),
            (None, None) => None,
        };
        let mut candidates: Vec<String> = Vec::new();
        for line in [state_line.clone(), question.clone(), Some(fallback.to_string()), Some(alternate.to_string())]
            .into_iter()
            .flatten()
        {
            if !candidates.contains(&line) {
                candidates.push(line);
            }
        }
        let first_new = candidates.iter().find(|l| differs(l)).cloned();
        let fixed = if question.is_some() || noted.is_some() || !model_writes {
            first_new.or_else(|| candidates.last().cloned())
        } else {
            None
        };
        OpeningPlan { fixed, candidates, previous }
    }

    /// The line shown and whether it is the model's: the fixed line if there is one; else the
    /// model's checked line (`model`, from [`accept_opening`]) unless it repeats the previous
    /// opening; else the first candidate that does not.
    pub fn choose(&self, model: Option<String>) -> (String, bool) {
        if let Some(f) = &self.fixed {
            return (f.clone(), false);
        }
        let previous = self.previous.as_deref();
        if let Some(m) = model.filter(|m| Some(m.as_str()) != previous) {
            return (m, true);
        }
        let line = self.candidates.iter().find(|l| Some(l.as_str()) != previous).or(self.candidates.last());
        (line.cloned().unwrap_or_default(), false)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{clean_intro, joined, last_n, looks_like_a_title, refuses, OpeningPlan};

    const LINES: [&str; 2] = ["Here you go:", "A few more:"];

    fn plan(noted: Option<&str>, lead: Option<&str>, vague: bool, previous: Option<&str>, model: bool) -> OpeningPlan {
        let s = |x: Option<&str>| x.map(str::to_string);
        let question = vague.then(|| "What do you like?".to_string());
        OpeningPlan::new(s(noted), s(lead), question, LINES, s(previous), model)
    }

    #[test]
    fn a_turn_that_changed_the_state_says_so_first_and_the_model_writes_nothing() {
        let p = plan(Some("Noted: you like Heat (1995)."), Some("Since you like X, try these:"), false, None, true);
        assert_eq!(p.fixed.as_deref(), Some("Noted: you like Heat (1995). Since you like X, try these:"));
        assert_eq!(p.choose(Some("Great picks!".into())), (p.fixed.clone().unwrap_or_default(), false));
    }

    #[test]
    fn without_a_change_a_model_that_may_write_does_and_a_rejected_line_falls_back() {
        let p = plan(None, Some("Since you like X, try these:"), false, None, true);
        assert_eq!(p.fixed, None);
        assert_eq!(p.choose(Some("Great picks!".into())), ("Great picks!".into(), true));
        assert_eq!(p.choose(None), ("Since you like X, try these:".into(), false));
        // The model's line is not said twice in a row either.
        let p = plan(None, None, false, Some("Great picks!"), true);
        assert_eq!(p.choose(Some("Great picks!".into())), ("Here you go:".into(), false));
    }

    #[test]
    fn a_model_not_marked_able_never_writes_and_no_line_repeats() {
        let p = plan(None, Some("Since you like X, try these:"), false, None, false);
        assert_eq!(p.fixed.as_deref(), Some("Since you like X, try these:"));
        assert!(!p.choose(Some("I'm glad you enjoyed the latest installment.".into())).1);
        let p = plan(None, Some("Since you like X, try these:"), false, Some("Since you like X, try these:"), false);
        assert_eq!(p.fixed.as_deref(), Some("Here you go:"));
        let p = plan(None, None, false, Some("Here you go:"), false);
        assert_eq!(p.fixed.as_deref(), Some("A few more:"));
        // Even when every line was just said, one is chosen (the last resort).
        let p = OpeningPlan::new(None, None, None, ["Same", "Same"], Some("Same".into()), false);
        assert_eq!(p.fixed.as_deref(), Some("Same"));
    }

    #[test]
    fn a_vague_message_gets_the_question_once() {
        let p = plan(None, None, true, None, true);
        assert_eq!(p.fixed.as_deref(), Some("What do you like?"));
        let p = plan(None, None, true, Some("What do you like?"), false);
        assert_eq!(p.fixed.as_deref(), Some("Here you go:"));
    }

    /// Found by a newcomer: 4,000 bytes of repeated titles gave "I don't have Collateral Seven in
    /// my catalog." once per repeat, until the reply's token limit.
    #[test]
    fn a_missing_title_is_said_once_and_at_most_three() {
        use crate::catalog::Catalog;
        use crate::dialogue::{DialogueState, Observed};
        let catalog = Catalog::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogs/movies")).unwrap();
        let text = "Gladiator II, ".repeat(50) + "gladiator  ii, Rocky 9, Godfather 7, Saw 20";
        let missing = catalog.missing_titles(&text);
        assert_eq!(missing.len(), 54, "{missing:?}");
        let said = super::noted(&Observed::default(), &DialogueState::default(), &catalog, &missing).unwrap();
        assert_eq!(
            said,
            "I don't have Gladiator II in my catalog. I don't have Rocky 9 in my catalog. \
             I don't have Godfather 7 in my catalog."
        );
    }

    #[test]
    fn lists_are_joined_the_english_way() {
        let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(joined(&v(&[]), "and"), "");
        assert_eq!(joined(&v(&["A"]), "and"), "A");
        assert_eq!(joined(&v(&["A", "B"]), "or"), "A or B");
        assert_eq!(joined(&v(&["A", "B", "C"]), "and"), "A, B and C");
        assert_eq!(last_n(v(&["A", "B", "C"]), 2), v(&["B", "C"]));
        assert_eq!(last_n(v(&["A"]), 2), v(&["A"]));
    }

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
