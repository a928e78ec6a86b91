//! `curator data build` on a small real fixture (`tests/fixtures/data_source/`: 46 ReDial movies
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! with their CFCRS metadata, the first 6 training dialogues at movie level, the first 2 test
//! dialogues): determinism, hand-checked statistics, and clear errors.

use std::path::{Path, PathBuf};

use curator::catalog::Catalog;
use curator::data::build;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data_source")
}

fn read_all(root: &Path) -> Vec<(String, Vec<u8>)> {
    [
        "catalogs/movies/items.jsonl",
        "catalogs/movies/comentions.tsv",
        "catalogs/movies/manifest.json",
        "evals/redial/test.jsonl",
    ]
    .iter()
    .map(|p| (p.to_string(), std::fs::read(root.join(p)).unwrap_or_default()))
    .collect()
}

#[test]
fn build_is_byte_identical_across_runs() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let ma = build(&fixture(), a.path()).unwrap();
    let mb = build(&fixture(), b.path()).unwrap();
    assert_eq!(ma, mb);
    let (fa, fb) = (read_all(a.path()), read_all(b.path()));
    for ((name, x), (_, y)) in fa.iter().zip(&fb) {
        assert!(!x.is_empty(), "{name} was not written");
        assert_eq!(x, y, "{name} differs between two builds of the same input");
    }
}

#[test]
fn build_counts_training_mentions_only() {
    let out = tempfile::tempdir().unwrap();
    let m = build(&fixture(), out.path()).unwrap();
    assert_eq!(m.items, 46);
    assert_eq!(m.items_with_metadata, 46);
    assert_eq!(m.train_dialogues, 6);
    assert_eq!(m.test_dialogues, 2);
    let catalog = Catalog::load(&out.path().join("catalogs/movies")).unwrap();
    // 204292 is mentioned in training dialogues 395 and 397 (hand-checked in the fixture).
    assert_eq!(catalog.get(204292).unwrap().popularity, 2);
    // 84779 only in dialogue 391.
    assert_eq!(catalog.get(84779).unwrap().popularity, 1);
    let tsv = std::fs::read_to_string(out.path().join("catalogs/movies/comentions.tsv")).unwrap();
    assert!(tsv.lines().any(|l| l == "84779\t191602\t1"), "dialogue 391 co-mentions 84779 and 191602");
    // The test split is copied unchanged.
    assert_eq!(
        std::fs::read(out.path().join("evals/redial/test.jsonl")).unwrap(),
        std::fs::read(fixture().join("redial/test_data.jsonl")).unwrap()
    );
}

#[test]
fn build_reports_missing_and_malformed_inputs() {
    let out = tempfile::tempdir().unwrap();
    let err = build(Path::new("/no/such/folder"), out.path()).unwrap_err().to_string();
    assert!(err.contains("/no/such/folder"), "{err}");

    let src = tempfile::tempdir().unwrap();
    let copy = |rel: &str, text: Option<&str>| {
        let dst = src.path().join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        match text {
            Some(t) => std::fs::write(&dst, t).unwrap(),
            None => {
                std::fs::copy(fixture().join(rel), &dst).unwrap();
            }
        }
    };
    copy("redial/movies_with_mentions.csv", None);
    copy("redial/kg/cfcrs/id2info.json", None);
    copy("redial/test_data.jsonl", None);
    let err = build(src.path(), out.path()).unwrap_err().to_string();
    assert!(err.contains("train_movie_sequences_compact.jsonl"), "missing file not named: {err}");
    copy("redial/train_movie_level/train_movie_sequences_compact.jsonl", Some("{\"id\":\"1\",\"v\":[]}\nnot json\n"));
    let err = build(src.path(), out.path()).unwrap_err().to_string();
    assert!(err.contains("train_movie_sequences_compact.jsonl:2"), "bad line not named: {err}");
    copy("redial/movies_with_mentions.csv", Some("movieId,movieName,nbMentions\nabc,Heat (1995),3\n"));
    let err = build(src.path(), out.path()).unwrap_err().to_string();
    assert!(err.contains("movies_with_mentions.csv:2") && err.contains("abc"), "{err}");
}

#[test]
fn a_damaged_catalog_file_is_an_error_naming_it() {
    let out = tempfile::tempdir().unwrap();
    build(&fixture(), out.path()).unwrap();
    let dir = out.path().join("catalogs/movies");
    curator::data::verify_catalog(&dir).unwrap();
    let tsv = dir.join("comentions.tsv");
    let text = std::fs::read_to_string(&tsv).unwrap();
    std::fs::write(&tsv, text.lines().take(3).collect::<Vec<_>>().join("\n")).unwrap();
    let err = curator::data::verify_catalog(&dir).unwrap_err().to_string();
    assert!(err.contains("comentions.tsv") && err.contains("manifest.json"), "{err}");
    let err = curator::assets::Assets::load(&dir, None).unwrap_err().to_string();
    assert!(err.contains("comentions.tsv"), "{err}");
    // A listed file that is gone is named, with how to restore it.
    std::fs::remove_file(&tsv).unwrap();
    let err = curator::data::verify_catalog(&dir).unwrap_err().to_string();
    assert!(err.contains("comentions.tsv is listed in") && err.contains("git checkout"), "{err}");
}

/// The committed movies catalog after the audit (`data::audit`): no URL escape in any title or
/// graph node, and the hand-checked entries carry the metadata of the film the dialogues mean.
#[test]
fn the_committed_catalog_has_decoded_titles_and_audited_metadata() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = Catalog::load(&root.join("catalogs/movies")).unwrap();
    let escaped: Vec<String> = catalog
        .items()
        .iter()
        .filter(|i| curator::data::audit::has_escape(&i.title))
        .map(|i| i.display_name())
        .collect();
    assert!(escaped.is_empty(), "titles still URL-escaped: {escaped:?}");
    let nodes = std::fs::read_to_string(root.join("knowledge/movies/nodes.tsv")).unwrap();
    let bad: Vec<&str> =
        nodes.lines().filter(|l| l.contains("\titem\t") && curator::data::audit::has_escape(l)).collect();
    assert!(bad.is_empty(), "graph item names still URL-escaped: {bad:?}");
    assert_eq!(catalog.get(102513).unwrap().display_name(), "O Brother, Where Art Thou? (2000)");
    assert_eq!(catalog.get(121381).unwrap().display_name(), "\"Crocodile\" Dundee (1986)");
    // 300 (2007): Zack Snyder's, not the Hong Kong comedy of the same title and year.
    let three_hundred = catalog.get(136877).unwrap();
    assert_eq!(three_hundred.directors, vec!["Zack Snyder"]);
    assert!(three_hundred.stars.contains(&"Gerard Butler".to_string()), "{three_hundred:?}");
    // ReDial's "Heat (1996)": Michael Mann's, not the Alyssa Milano drama, and released in 1995
    // (`audit::HAND_YEARS`).
    let heat = catalog.get(199038).unwrap();
    assert_eq!(heat.directors, vec!["Michael Mann"]);
    assert_eq!(heat.display_name(), "Heat (1995)");
    assert!(!heat.stars.contains(&"Alyssa Milano".to_string()), "{heat:?}");
    // Wanted (2015): no documentary metadata left.
    assert!(catalog.get(180029).unwrap().genres.is_empty());
    // Step 5, MovieLens on the IMDb id: It (1990) no longer carries Goodfellas, The Mask (1988)
    // Halloween 4, Enigma (2009) the sixth Harry Potter; the sequels keep none of their
    // predecessor's; a film under another form of its title keeps its own (Braindead, La Haine).
    for (id, not) in [
        (204794, "Martin Scorsese"),
        (79851, "Dwight H. Little"),
        (128385, "David Yates"),
        (115406, "James Wan"),
        (95609, "Michael Bay"),
    ] {
        let it = catalog.get(id).unwrap();
        assert!(!it.directors.contains(&not.to_string()) && it.imdb_id.is_none(), "{it:?}");
    }
    assert_eq!(catalog.get(116784).unwrap().directors, ["Peter Jackson"]);
    assert_eq!(catalog.get(141432).unwrap().directors, ["Mathieu Kassovitz"]);
    // Empty ReDial titles (" (2015)") take MovieLens's; no title is empty.
    assert_eq!(catalog.get(103034).unwrap().display_name(), "Love (2015)");
    assert_eq!(catalog.get(182022).unwrap().display_name(), "Vicky Cristina Barcelona (2007)");
    assert!(catalog.items().iter().all(|i| !i.title.trim().is_empty()));
    // Another film's MovieLens title is no alias: "Halloween 4" does not link to The Mask.
    let linked: Vec<u32> =
        catalog.link_text("I loved Halloween 4: The Return of Michael Myers").iter().map(|m| m.id).collect();
    assert!(!linked.contains(&79851), "{linked:?}");
    let m: curator::data::Manifest =
        serde_json::from_str(&std::fs::read_to_string(root.join("catalogs/movies/manifest.json")).unwrap()).unwrap();
    assert_eq!(
        (m.audit.titles_recovered, m.audit.movielens_mismatch_repaired, m.audit.movielens_mismatch_dropped),
        (2, 4, 53)
    );
    // Where TMDB has the entry's cast and director, they replace the other film's: A Nightmare on
    // Elm Street (1984) is Wes Craven's, not the 2010 remake's.
    let nightmare = catalog.get(77161).unwrap();
    assert_eq!(
        (nightmare.directors.as_slice(), nightmare.genres.as_slice()),
        (&["Wes Craven".to_string()][..], &["horror".to_string()][..])
    );
}
