//! The committed catalog (`catalogs/movies/`): search, entity linking, and load errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use curator::catalog::{Catalog, SearchFilters};
use std::sync::OnceLock;

fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(|| Catalog::load(&curator::paths::catalog_dir()).expect("the committed catalog loads"))
}

fn top(text: &str) -> String {
    let c = catalog();
    c.link_title(text, 1).first().and_then(|x| c.get(x.id)).map(|i| i.display_name()).unwrap_or_default()
}

#[test]
fn catalog_has_every_redial_movie() {
    assert_eq!(catalog().len(), 6924);
    let heat = catalog().get(176314).unwrap();
    assert_eq!(heat.display_name(), "Heat (1995)");
    assert_eq!(heat.directors, ["Michael Mann"]);
}

#[test]
fn link_title_handles_exact_case_year_typos_and_articles() {
    let cases = [
        ("The Dark Knight (2008)", "The Dark Knight (2008)"),
        ("the dark knight", "The Dark Knight (2008)"),
        ("dark knight", "The Dark Knight (2008)"),
        ("THE SHAWSHANK REDEMPTION", "The Shawshank Redemption (1994)"),
        ("shawshank redemption", "The Shawshank Redemption (1994)"),
        ("colateral", "Collateral (2004)"),
        ("jurasic park 1993", "Jurassic Park (1993)"),
        ("Schindlers List", "Schindler's List (1993)"),
        ("Black Panther", "Black Panther (2018)"),
        ("black panther 1977", "The Black Panther (1977)"),
        ("The Black Panther (1921)", "The Black Panther (1921)"),
    ];
    for (q, want) in cases {
        assert_eq!(top(q), want, "query {q:?}");
    }
}

#[test]
fn link_title_rescores_fuzzy_matches_below_exact_ones() {
    let c = catalog();
    let cands = c.link_title("alien", 5);
    let names: Vec<String> = cands.iter().filter_map(|x| c.get(x.id)).map(|i| i.display_name()).collect();
    assert_eq!(names[0], "Alien (1979)", "{names:?}");
    assert!(cands[0].similarity > cands[1].similarity || cands[1].similarity == 1.0, "{cands:?}");
    assert!(c.link_title("", 5).is_empty());
    assert!(c.link_title("!!!", 5).is_empty());
}

#[test]
fn link_text_finds_titles_in_free_text() {
    let c = catalog();
    let text = "I loved Heat and Collateral, what else should I watch?";
    let found: Vec<u32> = c.link_text(text).iter().map(|m| m.id).collect();
    // Heat is disambiguated toward Michael Mann's film by the other mention (Collateral). Since
    // the catalog audit both ReDial entries "Heat (1995)" and "Heat (1996)" carry Michael Mann's
    // film (ReDial's seekers mean it by the 1996 entry, 44 training mentions against 8; shown as
    // "Heat (1995)" since `audit::HAND_YEARS`), and
    // training popularity picks the one the dialogues use.
    assert_eq!(found, [199038, 182301]);
    let m = &c.link_text(text)[0];
    assert_eq!(&text[m.start..m.end], "Heat");

    let found: Vec<String> = c
        .link_text("my kids liked the lion king and toy story 2 but not up")
        .iter()
        .filter_map(|m| c.get(m.id))
        .map(|i| i.title.clone())
        .collect();
    assert_eq!(found, ["The Lion King", "Toy Story 2"], "lowercase 'up' must not link");

    let found: Vec<Option<u16>> =
        c.link_text("Have you seen Black Panther (1977)?").iter().map(|m| c.get(m.id).and_then(|i| i.year)).collect();
    assert_eq!(found, [Some(1977)]);
    assert!(c.link_text("I want a scary horror movie, something funny").is_empty());
    assert!(c.link_text("").is_empty());
    // A lowercase word one edit from a one-word title is not that title; the capitalised typo is.
    assert!(c.link_text("something lighter please").is_empty(), "{:?}", c.link_text("something lighter please"));
    let typo: Vec<String> =
        c.link_text("I loved Inseption").iter().filter_map(|m| c.get(m.id)).map(|i| i.title.clone()).collect();
    assert_eq!(typo, ["Inception"]);
    // A lowercase single word is a title only where a title is expected.
    let titles = |text: &str| -> Vec<String> {
        c.link_text(text).iter().filter_map(|m| c.get(m.id)).map(|i| i.display_name()).collect()
    };
    assert!(titles("something with robots").is_empty(), "{:?}", titles("something with robots"));
    assert!(titles("not a fan of serial killers").is_empty(), "{:?}", titles("not a fan of serial killers"));
    assert!(titles("i want ghosts and aliens").is_empty(), "{:?}", titles("i want ghosts and aliens"));
    assert_eq!(titles("i loved robots"), ["Robots (2005)"]);
    assert_eq!(titles("have you seen jaws"), ["Jaws (1975)"]);
    assert_eq!(titles("jaws"), ["Jaws (1975)"], "a whole message that is a title");
    assert_eq!(titles("robots 2005"), ["Robots (2005)"]);
    assert_eq!(titles("I loved Heat and collateral").len(), 2, "{:?}", titles("I loved Heat and collateral"));
}

#[test]
fn search_uses_people_genres_and_filters() {
    let c = catalog();
    let hits = c.search("Michael Mann", &SearchFilters::default(), 20).unwrap();
    let names: Vec<&str> = hits.iter().map(|h| c.items()[h.position].title.as_str()).collect();
    assert!(names.contains(&"Heat") && names.contains(&"Collateral"), "{names:?}");
    let f = SearchFilters { genres: vec!["horror".into()], year_min: Some(1990), year_max: Some(1999) };
    let hits = c.search("haunted house ghost", &f, 10).unwrap();
    assert!(!hits.is_empty());
    for h in &hits {
        let it = &c.items()[h.position];
        assert!(it.genres.iter().any(|g| g == "horror") && (1990..=1999).contains(&it.year.unwrap()), "{it:?}");
    }
    assert!(c.search("", &SearchFilters::default(), 10).unwrap().is_empty());
    // Query syntax in user text is not an error.
    assert!(c.search("title:(( \"unbalanced AND -", &SearchFilters::default(), 5).is_ok());
}

#[test]
fn load_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let err = Catalog::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("items.jsonl") && err.contains("curator data build"), "{err}");
    std::fs::write(dir.path().join("items.jsonl"), "{\"id\": 1}\n").unwrap();
    let err = Catalog::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("items.jsonl:1"), "{err}");
}
