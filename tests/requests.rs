//! Requests read exactly by the one tracker on the committed catalog and graph: year bounds
//! ("after 2015" excludes 2015), genre phrases that are not titles ("a war movie", "a funny
//! superhero movie"), the people a seeker names choosing between same-title entries, and
//! sequels asked by number (the entry, or nothing when the catalog lacks it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use curator::assets::Assets;
use curator::dialogue::{DialogueState, Polarity, Role, Utterance};
use curator::knowledge::Attribute;

fn assets() -> &'static Assets {
    static A: OnceLock<Assets> = OnceLock::new();
    A.get_or_init(|| Assets::from_project(None).unwrap())
}

fn said(text: &str) -> DialogueState {
    let mut s = DialogueState::new();
    assets().tracker.observe(&mut s, Utterance::said(Role::Seeker, text));
    s
}

fn years(s: &DialogueState) -> Vec<(u16, u16)> {
    s.attributes
        .iter()
        .filter_map(|(a, _)| match a.attribute {
            Attribute::Years { from, to } => Some((from, to)),
            _ => None,
        })
        .collect()
}

fn liked(s: &DialogueState) -> Vec<String> {
    s.mentions
        .iter()
        .filter(|m| m.polarity == Polarity::Liked)
        .map(|m| assets().catalog.get(m.id).unwrap().display_name())
        .collect()
}

fn genres(s: &DialogueState) -> Vec<String> {
    s.attributes
        .iter()
        .filter_map(|(a, _)| match &a.attribute {
            Attribute::Genre { name } if a.wanted => Some(name.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn after_and_before_exclude_the_year_since_includes_it() {
    let after = years(&said("something after 2015"));
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].0, 2016);
    let before = years(&said("a comedy from before 1980"));
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].1, 1979);
    let since = years(&said("anything since 2015"));
    assert_eq!(since[0].0, 2015);
    assert_eq!(years(&said("a film from 1995")), [(1995, 1995)]);
}

/// Found by a newcomer: "Alien and Aliens" was read as a genre pair (the keyword "alien"), and
/// Alien (1979) was then recommended to the person who named it.
#[test]
fn a_title_and_its_plural_sequel_are_two_titles() {
    assert_eq!(liked(&said("I loved Alien and Aliens")), ["Alien (1979)", "Aliens (1986)"]);
    // Genre words joined by "and" stay genres.
    let s = said("I want Horror and Comedy");
    assert!(s.mentions.is_empty(), "{:?}", s.mentions);
}

#[test]
fn a_war_movie_is_the_genre_not_a_film() {
    let s = said("I want a war movie");
    assert!(s.mentions.is_empty(), "{:?}", s.mentions);
    assert_eq!(genres(&s), ["war"]);
}

#[test]
fn a_funny_superhero_movie_likes_no_film() {
    let s = said("I'd love a funny superhero movie");
    assert!(liked(&s).is_empty(), "{:?}", liked(&s));
    assert!(genres(&s).iter().any(|g| g == "comedy"), "{:?}", genres(&s));
}

#[test]
fn the_people_named_pick_the_entry() {
    let s = said("I loved Heat with Al Pacino and Robert De Niro");
    assert_eq!(liked(&s), ["Heat (1995)"]);
    assert_eq!(s.mentions.iter().map(|m| m.id).collect::<Vec<_>>(), [199038]);
}

#[test]
fn sequels_by_number() {
    assert_eq!(liked(&said("I loved Godfather 2")), ["The Godfather Part II (1974)"]);
    assert_eq!(liked(&said("I liked back to the future two")), ["Back to the Future Part II (1989)"]);
    // Not in the catalog: no film is liked in its place, and the catalog says it is missing.
    let text = "I loved Gladiator II";
    assert!(liked(&said(text)).is_empty());
    assert_eq!(assets().catalog.missing_titles(text).len(), 1);
    // A capitalised number word that is a title of its own, after a title with no series, is
    // that title (found by a newcomer: "Collateral Seven" was said to be missing).
    // Like any title inside a longer capitalised name ("Amazon Prime"), neither is linked then;
    // with a comma both are.
    for text in ["I loved Collateral Seven", "Heat Collateral Seven Zodiac Alien Aliens Jaws Rocky Up Her"] {
        assert!(assets().catalog.missing_titles(text).is_empty(), "{text}");
    }
    assert_eq!(liked(&said("I loved Collateral, Seven")), ["Collateral (2004)", "Seven (1995)"]);
    // A series with entries still reads it as a number: the seventh Rocky is missing.
    assert_eq!(assets().catalog.missing_titles("I loved Rocky Seven").len(), 1);
}

fn people(s: &DialogueState) -> Vec<(String, bool)> {
    s.attributes
        .iter()
        .filter_map(|(a, _)| match &a.attribute {
            Attribute::Person { name, .. } => Some((name.clone(), a.wanted)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_prominent_surname_alone_names_the_person() {
    assert_eq!(people(&said("I want more Nolan")), [("Christopher Nolan".to_string(), true)]);
    assert_eq!(people(&said("something by Tarantino")), [("Quentin Tarantino".to_string(), true)]);
    assert_eq!(people(&said("a Kubrick movie, but no Spielberg")).len(), 2);
    assert!(!people(&said("a Kubrick movie, but no Spielberg"))[1].1, "no Spielberg is ruled out");
    // Not a surname: a first name, a title ("Shakespeare in Love", "The Rock"), a longer name,
    // shouting, a number's name ("21 Bridges").
    for text in [
        "I'm not so sure about David.",
        "have you seen Shakespeare in Love?",
        "something with the Rock",
        "I like Nolan North",
        "I LOVE NOLAN",
        "I just saw 21 Bridges",
    ] {
        assert!(people(&said(text)).is_empty(), "{text:?}: {:?}", people(&said(text)));
    }
}

/// Found by a newcomer run: "nothing older than 2015" was not read; "Heat was too long" was a like.
#[test]
fn older_and_newer_than_and_verdicts_of_length() {
    let s = said("nothing older than 2015 please");
    let ruled: Vec<_> = s
        .attributes
        .iter()
        .filter_map(|(a, _)| match a.attribute {
            Attribute::Years { from, to } => Some((from, to, a.wanted)),
            _ => None,
        })
        .collect();
    assert_eq!(ruled, [(curator::knowledge::FIRST_YEAR, 2014, false)]);
    assert_eq!(years(&said("something newer than 2010")), [(2011, curator::knowledge::LAST_YEAR)]);
    let s = said("Heat was too long for me but I liked Collateral");
    assert_eq!(liked(&s), ["Collateral (2004)"]);
}

/// Found by a newcomer run: "I meant the original Jumanji" kept Jumanji (2017) liked beside 1995.
#[test]
fn a_correction_takes_back_the_other_film_of_the_title() {
    let tracker = &assets().tracker;
    let mut s = DialogueState::new();
    tracker.observe(&mut s, Utterance::said(Role::Seeker, "I loved Jumanji"));
    assert_eq!(liked(&s), ["Jumanji (2017)"]);
    tracker.observe(&mut s, Utterance::said(Role::Seeker, "I meant the original Jumanji with Robin Williams"));
    assert_eq!(liked(&s), ["Jumanji (1995)"]);
    // Without a correction, both stay.
    let mut s = DialogueState::new();
    tracker.observe(&mut s, Utterance::said(Role::Seeker, "I loved Jumanji"));
    tracker.observe(&mut s, Utterance::said(Role::Seeker, "and the original Jumanji too"));
    assert_eq!(liked(&s).len(), 2);
}

/// Found by newcomer runs: "no Marvel movies" and "not slashers" ruled nothing out, then "no
/// Marvel" let Deadpool through (Marvel Entertainment, not the MCU keyword) and "animated but
/// not Disney" ruled nothing out.
#[test]
fn studios_and_subgenres() {
    let ruled = |text: &str| -> Vec<String> {
        said(text)
            .attributes
            .iter()
            .filter(|(a, _)| !a.wanted)
            .filter_map(|(a, _)| match &a.attribute {
                Attribute::Keyword { name } | Attribute::Company { name } => Some(name.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(ruled("no Marvel movies please"), ["Marvel"]);
    assert_eq!(ruled("nothing from the MCU"), ["marvel cinematic universe"]);
    assert_eq!(ruled("I like horror but not slashers"), ["slasher"]);
    assert_eq!(ruled("animated but not Disney"), ["Disney"]);
    // Asked for, "Marvel" is the MCU keyword and other studios no request (module doc).
    let wanted = |text: &str| -> Vec<Attribute> {
        said(text).attributes.iter().filter(|(a, _)| a.wanted).map(|(a, _)| a.attribute.clone()).collect()
    };
    assert_eq!(wanted("I love Marvel movies"), [Attribute::Keyword { name: "marvel cinematic universe".into() }]);
    assert!(wanted("a Pixar movie").is_empty());
    let kg = &assets().knowledge.as_ref().expect("the movies graph").graph;
    let marvel = Attribute::Company { name: "Marvel".into() };
    let deadpool = assets().catalog.items().iter().find(|i| i.display_name() == "Deadpool (2016)").expect("Deadpool");
    assert!(kg.item_has(deadpool.id, &marvel), "Deadpool is a Marvel film");
    let heat = assets().catalog.items().iter().find(|i| i.display_name() == "Heat (1995)").expect("Heat");
    assert!(!kg.item_has(heat.id, &marvel));
    // Every item the studio marks has a company naming it, and the MCU keyword's films are among them.
    let mcu = kg.items_with(&Attribute::Keyword { name: "marvel cinematic universe".into() });
    let studio = kg.items_with(&marvel);
    assert!(mcu.iter().any(|&m| m), "the graph has MCU films");
    assert!(mcu.iter().zip(&studio).all(|(&m, &s)| !m || s), "an MCU film without a Marvel company");
}

/// Found by a second newcomer run: negative leads a few words before a person or genre, complaint
/// verdicts, and numbers of time that are no titles.
#[test]
fn negative_leads_complaints_and_spans_of_time() {
    let ruled = |text: &str| -> Vec<String> {
        said(text)
            .attributes
            .iter()
            .filter(|(a, _)| !a.wanted)
            .map(|(a, _)| match &a.attribute {
                Attribute::Person { name, .. } => name.clone(),
                Attribute::Genre { name } => name.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(ruled("I'm not a fan of Ryan Gosling"), ["Ryan Gosling"]);
    assert_eq!(ruled("I don't want anything by Michael Bay"), ["Michael Bay"]);
    assert_eq!(ruled("not in the mood for action tonight"), ["action"]);
    let disliked = |text: &str| -> Vec<String> {
        said(text)
            .mentions
            .iter()
            .filter(|m| m.polarity == Polarity::Disliked)
            .map(|m| assets().catalog.get(m.id).unwrap().display_name())
            .collect()
    };
    assert_eq!(disliked("Taxi Driver bored me"), ["Taxi Driver (1976)"]);
    assert_eq!(disliked("Titanic was not my thing"), ["Titanic (1997)"]);
    let s = said("I want something recent, like the last 5 years");
    assert!(s.mentions.is_empty(), "{:?}", s.mentions);
    let s = said("newer than 2010 please");
    assert!(s.mentions.is_empty(), "{:?}", s.mentions);
}

/// Found by a second newcomer run: a dislike reached past a comma into a new statement.
#[test]
fn a_comma_before_a_verb_starts_a_new_statement() {
    let s = said("I hated It and Get Out, seen Hereditary");
    let disliked: Vec<String> = s
        .mentions
        .iter()
        .filter(|m| m.polarity == Polarity::Disliked)
        .map(|m| assets().catalog.get(m.id).unwrap().display_name())
        .collect();
    assert_eq!(disliked, ["It (2017)", "Get Out (2017)"]);
    assert_eq!(liked(&s), ["Hereditary (2018)"]);
}

/// Found by a second newcomer run: the opening read "Noted: no before 2015".
#[test]
fn a_ruled_out_span_of_years_is_said_back_in_words() {
    let tracker = &assets().tracker;
    let mut s = DialogueState::new();
    let observed =
        tracker.observe(&mut s, Utterance::said(Role::Seeker, "no horror, and nothing older than 2015 please"));
    let noted = curator::agent::noted(&observed, &s, &assets().catalog, &[]).unwrap();
    assert_eq!(noted, "Noted: no horror; nothing before 2015.");
}
