//! Linking the way people type, on the committed catalog: every hand-written variant of
//! `evals/linking/variants.tsv` (typos, alternative titles, abbreviations, numbered sequels, "the
//! new …", people picking the entry, sequels the catalog lacks), and requests that are not
//! titles ("a funny superhero movie", "a war movie", ordinary chat words).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use curator::assets::Assets;
use curator::eval::surface::{evaluate_variants, read_variants};

fn assets() -> &'static Assets {
    static A: OnceLock<Assets> = OnceLock::new();
    A.get_or_init(|| Assets::from_project(None).unwrap())
}

/// The catalog ids `text` links to.
fn ids(text: &str) -> Vec<u32> {
    assets().tracker.link_items(text).iter().map(|m| m.id).collect()
}

fn linked(text: &str) -> Vec<String> {
    let a = assets();
    a.tracker.link_items(text).iter().map(|m| a.catalog.get(m.id).unwrap().display_name()).collect()
}

#[test]
fn every_hand_written_variant_links_as_expected() {
    let a = assets();
    let path = curator::paths::evals_dir().join("linking").join("variants.tsv");
    let variants = read_variants(&path, &a.catalog).unwrap();
    assert!(variants.len() >= 60, "{} variants", variants.len());
    let failed: Vec<_> = evaluate_variants(&variants, &a.tracker).into_iter().filter(|o| !o.ok).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn the_issue_transcript_titles_link() {
    assert_eq!(linked("I liked Inceptoin and Intersteller"), ["Inception (2010)", "Interstellar (2014)"]);
    assert_eq!(linked("Se7en is my favourite film"), ["Seven (1995)"]);
}

#[test]
fn people_named_pick_the_entry() {
    // Since the catalog audit (issue 19) both ReDial "Heat" entries (176314, 199038) carry Michael
    // Mann's film with Pacino and De Niro, both shown as "Heat (1995)"; the people keep it off
    // every other "Heat" (2006's, for one).
    assert_eq!(ids("Heat with Al Pacino and Robert De Niro"), [199038]);
    assert_eq!(linked("Heat with Al Pacino and Robert De Niro"), ["Heat (1995)"]);
    // Without people, the most discussed entry.
    assert_eq!(ids("I loved Heat"), [199038]);
}

#[test]
fn sequels_by_number_or_part() {
    assert_eq!(linked("Godfather 2"), ["The Godfather Part II (1974)"]);
    assert_eq!(linked("I loved back to the future two"), ["Back to the Future Part II (1989)"]);
    // Not in the catalog: reported missing, never linked to the original.
    let a = assets();
    assert!(linked("Gladiator II").is_empty());
    let missing = a.catalog.missing_titles("Gladiator II");
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0].said, "Gladiator II");
    assert_eq!(a.catalog.get(missing[0].series).unwrap().display_name(), "Gladiator (2000)");
    // A count is not a sequel.
    assert_eq!(ids("I saw Heat 2 times"), [199038]);
}

#[test]
fn requests_and_chat_words_are_not_titles() {
    for text in [
        "a funny superhero movie",
        "I want a war movie",
        "something for the holiday season",
        "I like documentaries, true crime mostly",
        "thanks for taking the time to talk to me!",
        "I LOVE David Tennant",
        "It is on Amazon Prime",
        "I would say either Drama or Comedy",
        "Zombieland Double Tap was bad",
    ] {
        assert!(linked(text).is_empty(), "{text:?} linked {:?}", linked(text));
    }
}
