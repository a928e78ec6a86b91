//! Reactions to Curator's own lists, read by the one tracker on the committed catalog: every
//! reference form (ordinals, deixis, titles and parts of titles) and every reaction (seen, not
//! seen, liked, disliked, accepted, combined), and their use: a seen or disliked listed item is
//! never recommended again, a disliked one becomes a negative seed, and the next reply says what
//! changed without repeating its opening.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use curator::agent::{Agent, AgentConfig, RecommendPrompts};
use curator::assets::Assets;
use curator::catalog::ItemId;
use curator::dialogue::{DialogueState, Polarity, Role, Utterance};

fn assets() -> &'static Assets {
    static A: OnceLock<Assets> = OnceLock::new();
    A.get_or_init(|| Assets::from_project(None).unwrap())
}

fn id(title: &str) -> ItemId {
    let c = &assets().catalog.link_title(title, 1)[0];
    c.id
}

fn name(id: ItemId) -> String {
    assets().catalog.get(id).unwrap().display_name()
}

/// A state whose last turn is Curator's list of `titles`, then the seeker's `text`.
/// The state right after Curator listed `titles`, and their ids.
fn listed(titles: &[&str]) -> (DialogueState, Vec<ItemId>) {
    let tracker = &assets().tracker;
    let listed: Vec<ItemId> = titles.iter().map(|t| id(t)).collect();
    let mut s = DialogueState::new();
    tracker.observe(&mut s, Utterance::said(Role::Seeker, "I like science fiction"));
    let reply = Utterance { role: Role::Recommender, text: "Here you go.".into(), items: Some(listed.clone()) };
    tracker.observe(&mut s, reply);
    (s, listed)
}

fn after(titles: &[&str], text: &str) -> (DialogueState, Vec<ItemId>) {
    let (mut s, listed) = listed(titles);
    assets().tracker.observe(&mut s, Utterance::said(Role::Seeker, text));
    (s, listed)
}

fn polarity(s: &DialogueState, id: ItemId) -> Option<Polarity> {
    s.mentions.iter().rev().find(|m| m.id == id && m.role == Role::Seeker).map(|m| m.polarity)
}

const LIST: [&str; 3] = ["The Martian", "Inception", "Gravity"];

#[test]
fn ordinals_pick_their_item() {
    for (text, i) in [
        ("I have seen the first one", 0),
        ("seen the 1st", 0),
        ("I've seen number 2", 1),
        ("already watched #3", 2),
        ("seen the second", 1),
        ("I saw the last one", 2),
        ("number two, seen it", 1),
        ("I've seen the middle one", 1),
    ] {
        let (s, l) = after(&LIST, text);
        assert_eq!(s.items_seen(true), [l[i]], "{text:?}: {:?}", s.seen);
    }
    // Two items have no middle one.
    let (s, _) = after(&["Deadpool", "Inception"], "I've seen the middle one");
    assert!(s.seen.is_empty(), "{:?}", s.seen);
}

#[test]
fn seen_and_not_seen_are_told_apart() {
    let (s, l) = after(&LIST, "haven't seen the first one");
    assert_eq!(s.seen_status(l[0]), Some(false));
    let (s, l) = after(&LIST, "never saw the third");
    assert_eq!(s.seen_status(l[2]), Some(false));
    let (s, l) = after(&LIST, "I already watched the second one");
    assert_eq!(s.seen_status(l[1]), Some(true));
    assert_eq!(s.seen_status(l[0]), None, "only the second was mentioned");
}

#[test]
fn deixis_after_a_one_item_list_and_whole_lists() {
    let (s, l) = after(&["Deadpool"], "I've seen that one");
    assert_eq!(s.items_seen(true), [l[0]]);
    let (s, l) = after(&["Deadpool"], "haven't seen it, but it sounds good");
    assert_eq!(s.seen_status(l[0]), Some(false));
    assert_eq!(s.accepted, [l[0]], "sounds good continues the same item");
    assert_eq!(polarity(&s, l[0]), Some(Polarity::Liked));
    // "it" after three items is ambiguous: nothing is recorded.
    let (s, _) = after(&LIST, "I've seen it");
    assert!(s.seen.is_empty(), "{:?}", s.seen);
    let (s, l) = after(&["Deadpool", "Inception"], "I've seen both");
    assert_eq!(s.items_seen(true), l);
    let (s, l) = after(&LIST, "seen all of them");
    assert_eq!(s.items_seen(true), l);
    let (s, l) = after(&LIST, "none of those, sorry");
    assert!(l.iter().all(|&i| polarity(&s, i) == Some(Polarity::Disliked)), "{:?}", s.mentions);
}

#[test]
fn titles_and_parts_of_titles_are_references() {
    let (s, l) = after(&LIST, "seen Martian already");
    assert_eq!(s.items_seen(true), [l[0]]);
    let (s, l) = after(&["Deadpool", "Inception"], "Deadpool sounds good");
    assert_eq!(s.accepted, [l[0]]);
    assert_eq!(polarity(&s, l[0]), Some(Polarity::Liked));
    assert_eq!(polarity(&s, l[1]), None);
}

#[test]
fn combined_reactions_and_acceptance() {
    let (s, l) = after(&LIST, "I have seen the first one, hated it");
    assert_eq!(s.items_seen(true), [l[0]]);
    assert_eq!(polarity(&s, l[0]), Some(Polarity::Disliked));
    let (s, l) = after(&LIST, "seen the first one and loved it, but not the second");
    assert_eq!(polarity(&s, l[0]), Some(Polarity::Liked));
    let (s, l) = after(&LIST, "I'll watch the second");
    assert_eq!(s.accepted, [l[1]]);
    assert_eq!(polarity(&s, l[1]), Some(Polarity::Liked));
    let (s, l) = after(&LIST, "the third was boring");
    assert_eq!(polarity(&s, l[2]), Some(Polarity::Disliked));
    // No reference, no reaction: a new request is not about the list.
    let (s, _) = after(&LIST, "something funny with Jim Carrey");
    assert!(s.seen.is_empty() && s.accepted.is_empty());
}

#[test]
fn the_issue_transcript_is_understood_and_replies_change() {
    replay_transcript([
        "I liked Inception and Interstellar",
        "Seven is my favourite film",
        "I want something funny for tonight, no Adam Sandler",
        "I have seen the first one, hated it",
    ]);
}

/// The issue's transcript as typed: misspelt titles ("Inceptoin", "Intersteller") and the
/// alternative title "Se7en" are linked, so Inception and Seven are liked and never come back.
#[test]
fn the_issue_transcript_as_typed_replays() {
    let s = replay_transcript([
        "I liked Inceptoin and Intersteller",
        "Se7en is my favourite film",
        "I want something funny for tonight, no Adam Sandler",
        "I have seen the first one, hated it",
    ]);
    let liked: Vec<String> = s.items_with(Polarity::Liked).into_iter().map(name).collect();
    assert!(liked.iter().any(|l| l == "Seven (1995)"), "{liked:?}");
}

/// Replays four seeker turns through an agent without a model and checks what the issue asks;
/// returns the final state.
fn replay_transcript(turns: [&str; 4]) -> DialogueState {
    let prompts = RecommendPrompts::load(&curator::paths::prompts_dir()).unwrap();
    let mut agent = Agent::new(assets().clone(), prompts, None, AgentConfig::default());
    let mut openings: Vec<String> = Vec::new();
    let mut shown: Vec<ItemId> = Vec::new();
    let mut last = Vec::new();
    for text in turns {
        let mut reply = String::new();
        let recs = agent
            .respond(text, &mut |ev| {
                if let curator::agent::AgentEvent::Text { text } = ev {
                    reply.push_str(&text);
                }
            })
            .unwrap();
        openings.push(reply.lines().next().unwrap_or("").to_string());
        last = recs.iter().map(|r| r.id).collect::<Vec<_>>();
        shown.extend(&last);
    }
    let s = agent.state();
    let liked: Vec<String> = s.items_with(Polarity::Liked).into_iter().map(name).collect();
    for t in ["Inception (2010)", "Interstellar (2014)"] {
        assert!(liked.iter().any(|l| l == t), "{t} liked: {liked:?}");
    }
    assert!(s.genres().iter().any(|(g, _)| g.genre == "comedy" && g.wanted));
    assert!(s.rejected_attributes().iter().any(|a| a.describe() == "Adam Sandler"));
    // The first item of the third reply: seen and disliked, and said so.
    let third_first = shown[6];
    assert_eq!(s.seen_status(third_first), Some(true));
    assert_eq!(s.items_with(Polarity::Disliked), [third_first]);
    assert!(openings[3].starts_with("Noted: you've seen") && openings[3].contains("didn't like it"), "{openings:?}");
    assert!(openings[3].contains(&name(third_first)), "{openings:?}");
    assert!(openings.windows(2).all(|w| w[0] != w[1]), "an opening repeats: {openings:?}");
    // Nothing said or shown comes back.
    let mut seen_ids = shown.clone();
    seen_ids.truncate(shown.len() - last.len());
    assert!(last.iter().all(|i| !seen_ids.contains(i) && !s.items_with(Polarity::Liked).contains(i)));
    s.clone()
}

/// Positions past the end of the list, only where named outright.
#[test]
fn positions_beyond_the_list_are_found_only_when_named_outright() {
    use curator::dialogue::reactions::beyond_list;
    assert_eq!(beyond_list("#7 looks good", 3), [7]);
    assert_eq!(beyond_list("the fourth one or number 5?", 3), [4, 5]);
    assert_eq!(beyond_list("number 12, and #12 again", 3), [12]);
    assert!(beyond_list("the first one and #3", 3).is_empty());
    assert!(beyond_list("the Fourth of July movie", 3).is_empty());
    assert!(beyond_list("four stars, 5 hours", 3).is_empty());
}

/// Found by a newcomer run: parts of one sentence cut at commas say different things of
/// different items, "the others" / "them all" / bare positions refer to the list, and "the
/// others" after a list is not *The Others* (2001).
#[test]
fn commas_the_others_them_all_and_bare_positions() {
    let (s, l) = after(&LIST, "seen the first one, the second one sounds good");
    assert_eq!(s.items_seen(true), [l[0]]);
    assert_eq!(s.seen_status(l[1]), None, "the second was not said seen");
    assert_eq!(s.accepted, [l[1]]);
    let (s, l) = after(&LIST, "I loved the first, hated the second");
    assert_eq!((polarity(&s, l[0]), polarity(&s, l[1])), (Some(Polarity::Liked), Some(Polarity::Disliked)));
    // Without cues of its own a part takes its sentence's: all three seen.
    let (s, l) = after(&LIST, "I've seen the first, the second and the third");
    assert_eq!(s.items_seen(true), l);
    let (s, l) = after(&LIST, "hated the first one, never seen the others");
    assert_eq!(polarity(&s, l[0]), Some(Polarity::Disliked));
    assert_eq!(s.items_seen(false), [l[1], l[2]]);
    assert!(s.mentions.iter().all(|m| name(m.id) != "The Others (2001)"), "{:?}", s.mentions);
    let (s, l) = after(&LIST, "seen them all");
    assert_eq!(s.items_seen(true), l);
    let (s, l) = after(&LIST, "already watched 1 and 3");
    assert_eq!(s.items_seen(true), [l[0], l[2]]);
    // A number that is no position: nothing.
    let (s, _) = after(&LIST, "I watched it 2 times");
    assert!(s.seen.is_empty(), "{:?}", s.seen);
}

/// Found by a newcomer run: "is the first one scary? my kid is 6" asked for horror. A yes/no
/// question about an item asks: its genres are no request, its item keeps no polarity, and the
/// reply answers it from the catalog.
#[test]
fn questions_about_an_item_are_answered_not_requested() {
    let tracker = &assets().tracker;
    let (mut s, listed) = listed(&LIST);
    let seen = tracker.observe(&mut s, Utterance::said(Role::Seeker, "is the first one scary? my kid is 6"));
    let last = s.turns.len() - 1;
    assert!(s.attributes.iter().all(|(_, t)| *t != last), "{:?}", s.attributes);
    assert_eq!(seen.questions.len(), 1);
    assert_eq!(seen.questions[0].id, listed[0]);
    assert_eq!(seen.questions[0].genres, ["horror"]);
    let line = curator::agent::answer(&seen.questions[0], &assets().catalog).expect("an answer");
    assert!(line.starts_with("The Martian (2015) is listed as ") && line.contains(", not horror"), "{line}");
    // A title asked about is answered, not said back as liked (the state keeps its clause's
    // polarity: asking is interest, as ReDial's questionnaires read it).
    let seen = tracker.observe(&mut s, Utterance::said(Role::Seeker, "Is Heat violent?"));
    assert_eq!(seen.questions.len(), 1);
    let line = curator::agent::noted(&seen, &s, &assets().catalog, &[]).expect("a line");
    assert!(line.starts_with("Heat (1995) is listed as ") && !line.contains("you like"), "{line}");
    // A keyword the question names is answered from the graph's TMDB keywords, with the family
    // rejected with it ("violent" → violence, graphic violence, gore, …).
    let seen = tracker.observe(&mut s, Utterance::said(Role::Seeker, "Is Fight Club violent?"));
    assert_eq!(seen.questions.len(), 1);
    assert_eq!(seen.questions[0].keywords, [("violence".to_string(), vec!["graphic violence".to_string()])]);
    let line = curator::agent::answer(&seen.questions[0], &assets().catalog).expect("an answer");
    assert!(
        line.starts_with("Fight Club (1999) is listed as ") && line.contains("it is tagged \"graphic violence\""),
        "{line}"
    );
    let seen = tracker.observe(&mut s, Utterance::said(Role::Seeker, "is Toy Story violent?"));
    assert_eq!(seen.questions[0].keywords, [("violence".to_string(), Vec::<String>::new())]);
    let line = curator::agent::answer(&seen.questions[0], &assets().catalog).expect("an answer");
    assert!(line.contains("it has no \"violence\" keyword"), "{line}");
    // "is Saw gory?" asks; it says nothing of having seen Saw.
    let seen = tracker.observe(&mut s, Utterance::said(Role::Seeker, "is Saw gory?"));
    assert_eq!(seen.questions.len(), 1);
    assert!(seen.seen.is_empty(), "{:?}", seen.seen);
    // "Is there anything scary like Alien?" is a request, not a question about Alien.
    let seen = tracker.observe(&mut s, Utterance::said(Role::Seeker, "Is there anything scary like Alien?"));
    assert!(seen.questions.is_empty());
    let last = s.turns.len() - 1;
    assert!(s.attributes.iter().any(|(m, t)| *t == last && m.wanted && m.attribute.describe() == "horror"));
}

/// "seen 2 of those, not Jackie Brown": a count with its exception named marks the rest of the
/// list seen and the exception unseen, and says nothing of liking it; "2" before "of those" is a
/// count, never the list's second item.
#[test]
fn a_count_of_the_list_with_its_exception_marks_the_rest() {
    let list = ["Jackie Brown", "Pulp Fiction", "Reservoir Dogs"];
    let (s, ids) = after(&list, "seen 2 of those, not Jackie Brown");
    let (mut seen, unseen) = (s.items_seen(true), s.items_seen(false));
    seen.sort_unstable();
    let mut want = vec![ids[1], ids[2]];
    want.sort_unstable();
    assert_eq!(seen, want, "seen: {:?}", seen.iter().map(|&i| name(i)).collect::<Vec<_>>());
    assert_eq!(unseen, [ids[0]]);
    assert_eq!(polarity(&s, ids[0]), Some(Polarity::Neutral), "not said disliked");
    // The same with the count as a word, and the whole list counted.
    let (s, _) = after(&list, "I've watched two of them, but not Pulp Fiction");
    assert_eq!(s.items_seen(false), [ids[1]]);
    let (s, _) = after(&list, "I have seen 3 of those already");
    assert_eq!(s.items_seen(true).len(), 3);
    // A count without its exception names no item (which two is not said).
    let (s, _) = after(&list, "seen 2 of those");
    assert!(s.items_seen(true).is_empty(), "{:?}", s.items_seen(true));
}

/// "is the 9th one scary?" after three items asks about a position the list does not have: it
/// is said back, and "scary" is not read as a request for horror; ordinals in digits and up to
/// "tenth" are read.
#[test]
fn a_question_about_a_position_beyond_the_list_requests_nothing() {
    let (mut s, _) = listed(&LIST);
    let observed = assets().tracker.observe(&mut s, Utterance::said(Role::Seeker, "is the 9th one scary?"));
    assert_eq!(observed.beyond_list, Some((vec![9], 3)));
    let wanted = |s: &DialogueState| -> Vec<String> {
        s.requested_attributes().iter().map(|(m, _)| m.attribute.describe()).collect::<Vec<_>>()
    };
    // The first turn of `listed` asked for science fiction; nothing more.
    assert_eq!(wanted(&s), ["sci-fi"]);
    let (mut s, _) = listed(&LIST);
    let observed = assets().tracker.observe(&mut s, Utterance::said(Role::Seeker, "I loved the seventh one"));
    assert_eq!(observed.beyond_list, Some((vec![7], 3)));
    // A request after such a question still counts.
    let (mut s, _) = listed(&LIST);
    assert_eq!(
        assets()
            .tracker
            .observe(&mut s, Utterance::said(Role::Seeker, "is the 9th one scary? I want a comedy."))
            .beyond_list,
        Some((vec![9], 3))
    );
    let mut got = wanted(&s);
    got.sort();
    assert_eq!(got, ["comedy", "sci-fi"]);
}

/// A question naming a person is answered from the item's people: "is Heat with Al Pacino?" says
/// he stars in it; "does the first one have Tom Hanks?" says he is not listed in it. Neither asks
/// for the person.
#[test]
fn questions_naming_a_person_are_answered_from_the_items_people() {
    let tracker = &assets().tracker;
    let (mut s, listed) = listed(&LIST);
    let seen = tracker.observe(&mut s, Utterance::said(Role::Seeker, "does the first one have Tom Hanks?"));
    assert_eq!(seen.questions.len(), 1);
    assert_eq!(seen.questions[0].id, listed[0]);
    let line = curator::agent::answer(&seen.questions[0], &assets().catalog).expect("an answer");
    assert!(line.contains("Tom Hanks is not listed in it"), "{line}");
    assert!(s.requested_attributes().iter().all(|(m, _)| !m.attribute.describe().contains("Tom Hanks")));
    let seen = tracker.observe(&mut s, Utterance::said(Role::Seeker, "Is Heat with Al Pacino?"));
    assert_eq!(seen.questions.len(), 1);
    assert_eq!(seen.questions[0].people, ["Al Pacino"]);
    let line = curator::agent::answer(&seen.questions[0], &assets().catalog).expect("an answer");
    assert!(line.starts_with("Heat (1995) is listed as ") && line.contains("Al Pacino"), "{line}");
    assert!(!line.contains("not listed"), "{line}");
}
