//! The catalog audit of `curator data build`: every ReDial title is shown decoded, and CFCRS
//! metadata that belongs to another film is repaired or dropped before the catalog is written.
//!
//! Why: ReDial's `movies_with_mentions.csv` keeps 21 names URL-escaped ("O Brother, Where Art
//! Thou%3F (2000)"), which users would read and the linker could not match; and CFCRS
//! `id2info.json` was joined to ReDial by title and year, so an entry whose ReDial year is wrong
//! ("300 (2007)", "Heat (1996)") carries the metadata of the obscure film that really has that
//! title and year (a Hong Kong comedy; an Alyssa Milano drama) while the dialogues mean the
//! famous one.
//!
//! The checks, in order, each counted in [`AuditCounts`]:
//! 1. **titles**: `%XX` escapes decoded (UTF-8; an undecodable name is kept as is and counted);
//! 2. **name**: CFCRS `name` against the ReDial name — title (normalised) and year must agree, else
//!    the metadata is dropped;
//! 3. **people**: where KECRS (TMDB) knows the item's cast and directing crew, CFCRS's directors,
//!    writers and stars must share at least one person with TMDB's cast and crew (relations
//!    1–13); when none is shared the metadata is another film's and is replaced by TMDB's (genres:
//!    relation 0, director: the first of 7, writers: 8, stars: the first 3 of cast 1, in billing order); the
//!    plot and IMDb id are dropped (they describe the other film). KECRS's ids are unnamed; 7 =
//!    directing and 8 = writing were measured: of the CFCRS directors, 1,879 of 2,421 items share
//!    one with relation 7 against 906 of 2,001 with relation 8, and the writers the reverse
//!    (1,748 with 8, 878 with 7);
//! 4. **hand-checked**: [`HAND_CHECKED`], entries the rule above cannot decide, with the evidence
//!    from the training dialogues: repaired from TMDB, or dropped when every source describes
//!    the wrong film.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::catalog::text::{normalize, split_title_year};
use crate::catalog::{Item, ItemId};

/// What to do with a hand-checked entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandFix {
    /// TMDB describes the film the dialogues mean: take its metadata (as the people check does).
    FromTmdb,
    /// Every source describes another film: drop the metadata (and its KECRS edges).
    Drop,
}

/// Entries checked by hand against the ReDial training dialogues, with the evidence.
///
/// - 199038 "Heat (1996)" (44 training mentions): CFCRS describes a 1996 Alyssa Milano drama; the
///   dialogues mean Michael Mann's Heat ("@199038 is deniro/hoffman as cops and robbers", "like
///   Donnie Brasco or Heat"), which TMDB describes. The people check misses it because Xander
///   Berkeley is in both casts.
/// - 180029 "Wanted (2015)": CFCRS and TMDB both describe a 2015 documentary on the sex trade; the
///   training dialogues that mention it mean the 2008 Angelina Jolie film ("The Angelina Jolie
///   ones… My husband showed me wanted", `train_partial`), and as a documentary with 7 mentions it
///   topped every request for "a documentary".
pub const HAND_CHECKED: &[(ItemId, HandFix)] = &[(199038, HandFix::FromTmdb), (180029, HandFix::Drop)];

/// Release years corrected by hand, with the evidence: ReDial's name gives another year.
///
/// - 199038 "Heat (1996)": the entry the dialogues mean by Michael Mann's *Heat* (see
///   [`HAND_CHECKED`]; 31 training mentions against 7 for 176314 "Heat (1995)", the same film),
///   released in December 1995 (TMDB, IMDb tt0113277). Shown as "Heat (1996)" it read as another
///   film; both entries stay (ReDial's ground truth uses both ids) and form one title group.
pub const HAND_YEARS: &[(ItemId, u16)] = &[(199038, 1995)];

/// The year [`HAND_YEARS`] gives `id`, if any.
pub fn hand_year(id: ItemId) -> Option<u16> {
    HAND_YEARS.iter().find(|(h, _)| *h == id).map(|(_, y)| *y)
}

/// Whether every source's metadata of `id` is dropped ([`HandFix::Drop`]).
pub fn dropped_by_hand(id: ItemId) -> bool {
    HAND_CHECKED.iter().any(|(h, fix)| *h == id && *fix == HandFix::Drop)
}

/// How many items each audit step changed (`catalogs/movies/manifest.json`, field `audit`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditCounts {
    /// Titles whose `%XX` escapes were decoded.
    pub titles_decoded: usize,
    /// Titles with a `%` escape that is not valid UTF-8, kept unchanged.
    pub titles_undecodable: usize,
    /// Items whose CFCRS `name` disagrees with the ReDial title or year: metadata dropped.
    pub name_mismatch_dropped: usize,
    /// Items with CFCRS metadata that TMDB could check (TMDB has cast and director).
    pub people_checked: usize,
    /// Of those, items whose CFCRS people share no one with TMDB's: metadata replaced by TMDB's.
    pub people_mismatch_repaired: usize,
    /// Items in [`HAND_CHECKED`] repaired from TMDB.
    pub hand_checked_repaired: usize,
    /// Items in [`HAND_CHECKED`]: metadata dropped.
    pub hand_checked_dropped: usize,
}

/// Decodes `%XX` escapes of a ReDial name ("Why Him%3F (2016)" → "Why Him? (2016)"). Returns
/// `None` when there is nothing to decode or the decoded bytes are not UTF-8.
pub fn decode_title(name: &str) -> Option<String> {
    if !has_escape(name) {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(name).decode_utf8().ok()?;
    (decoded != name).then(|| decoded.into_owned())
}

/// Whether `s` holds a `%` followed by two hex digits.
pub fn has_escape(s: &str) -> bool {
    s.as_bytes().windows(3).any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// What the audit decided for one item's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Kept as given.
    Keep,
    /// Replaced by TMDB's (people check or hand check).
    Repaired,
    /// Dropped (name mismatch or hand-checked).
    Dropped,
}

fn same_person(a: &str) -> String {
    // "Kar-Wai Wong" vs "Wong Kar-wai": compare the sorted words of the normalised name.
    let mut w: Vec<String> = normalize(a).split(' ').filter(|w| !w.is_empty()).map(str::to_string).collect();
    w.sort();
    w.join(" ")
}

/// Audits one item whose metadata fields hold CFCRS's, in place: `redial_name` (decoded), the
/// CFCRS `name`, and the item's KECRS edges `(relation, name)` (empty when KECRS has none or is
/// absent). A repaired item gets TMDB's metadata; a dropped one none.
pub fn audit_item(
    item: &mut Item,
    redial_name: &str,
    cfcrs_name: &str,
    tmdb: &[(u32, String)],
    counts: &mut AuditCounts,
) -> Verdict {
    let id = item.id;
    let drop = |item: &mut Item| {
        *item = Item {
            id: item.id,
            title: item.title.clone(),
            year: item.year,
            popularity: item.popularity,
            ..Item::default()
        };
    };
    let hand = HAND_CHECKED.iter().find(|(h, _)| *h == id).map(|(_, fix)| *fix);
    if hand == Some(HandFix::Drop) {
        counts.hand_checked_dropped += 1;
        drop(item);
        return Verdict::Dropped;
    }
    let cfcrs_name = decode_title(cfcrs_name).unwrap_or_else(|| cfcrs_name.to_string());
    let (rt, ry) = split_title_year(redial_name);
    let (ct, cy) = split_title_year(&cfcrs_name);
    if normalize(&rt) != normalize(&ct) || (ry.is_some() && cy.is_some() && ry != cy) {
        counts.name_mismatch_dropped += 1;
        drop(item);
        return Verdict::Dropped;
    }
    let of = |rel: u32| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (r, n) in tmdb {
            if *r == rel && !out.contains(n) {
                out.push(n.clone());
            }
        }
        out
    };
    // Relation 7 is TMDB's directing department (assistant directors too); its first name in
    // billing order is the director.
    let (cast, directors) = (of(1), of(7).into_iter().take(1).collect::<Vec<_>>());
    let ours: HashSet<String> =
        item.directors.iter().chain(&item.writers).chain(&item.stars).map(|p| same_person(p)).collect();
    if cast.is_empty() || directors.is_empty() || ours.is_empty() {
        return Verdict::Keep;
    }
    counts.people_checked += 1;
    let theirs: HashSet<String> =
        tmdb.iter().filter(|(r, _)| (1..=13).contains(r)).map(|(_, n)| same_person(n)).collect();
    if hand == Some(HandFix::FromTmdb) {
        counts.hand_checked_repaired += 1;
    } else if ours.iter().any(|p| theirs.contains(p)) {
        return Verdict::Keep;
    } else {
        counts.people_mismatch_repaired += 1;
    }
    let mut genres: Vec<String> = of(0).iter().filter_map(|g| catalog_genre(g)).collect();
    genres.dedup();
    item.genres = genres;
    item.directors = directors;
    item.writers = of(8);
    item.stars = cast.into_iter().take(3).collect();
    item.plot = String::new();
    item.imdb_id = None;
    Verdict::Repaired
}

/// A TMDB genre in the catalog's (CFCRS, IMDb-style) vocabulary: lowercase, "science fiction" →
/// "sci-fi"; "tv movie" is a format, not a genre, and is left out.
fn catalog_genre(tmdb: &str) -> Option<String> {
    match tmdb.to_lowercase().as_str() {
        "science fiction" => Some("sci-fi".into()),
        "tv movie" => None,
        g => Some(g.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(id: ItemId, directors: &[&str], stars: &[&str]) -> Item {
        Item {
            id,
            directors: directors.iter().map(|s| s.to_string()).collect(),
            stars: stars.iter().map(|s| s.to_string()).collect(),
            genres: vec!["comedy".into()],
            ..Item::default()
        }
    }

    #[test]
    fn decodes_escaped_titles_only() {
        assert_eq!(decode_title("Why Him%3F (2016)").as_deref(), Some("Why Him? (2016)"));
        assert_eq!(decode_title("%22Crocodile%22 Dundee (1986)").as_deref(), Some("\"Crocodile\" Dundee (1986)"));
        assert_eq!(decode_title("100% Love (2012)"), None);
        assert_eq!(decode_title("Heat (1995)"), None);
        assert!(has_escape("a%3Fb") && !has_escape("100% x") && !has_escape("%G1"));
    }

    #[test]
    fn another_films_people_are_replaced_by_tmdb() {
        let mut c = AuditCounts::default();
        let tmdb = vec![
            (0, "Action".to_string()),
            (0, "Science Fiction".to_string()),
            (0, "TV Movie".to_string()),
            (1, "Gerard Butler".to_string()),
            (1, "Lena Headey".to_string()),
            (7, "Zack Snyder".to_string()),
            (8, "Frank Miller".to_string()),
        ];
        let mut m = meta(136877, &["Joe Ma"], &["Shawn Yue"]);
        assert_eq!(audit_item(&mut m, "300 (2007)", "300 (2007)", &tmdb, &mut c), Verdict::Repaired);
        assert_eq!(m.directors, vec!["Zack Snyder"]);
        assert_eq!(m.writers, vec!["Frank Miller"]);
        assert_eq!(m.stars, vec!["Gerard Butler", "Lena Headey"]);
        assert_eq!(m.genres, vec!["action", "sci-fi"]);
        assert_eq!((c.people_checked, c.people_mismatch_repaired), (1, 1));
        // One shared person (name order aside) keeps the metadata.
        let tmdb = vec![(1, "X".to_string()), (7, "Wong Kar-wai".to_string())];
        let mut m = meta(1, &["Kar-Wai Wong"], &[]);
        assert_eq!(audit_item(&mut m, "2046 (2004)", "2046 (2004)", &tmdb, &mut c), Verdict::Keep);
        assert_eq!(m.directors, ["Kar-Wai Wong"]);
        // Without TMDB cast and director nothing is checked.
        let mut m = meta(2, &["Y"], &[]);
        assert_eq!(audit_item(&mut m, "A (2000)", "A (2000)", &[(1, "X".into())], &mut c), Verdict::Keep);
        assert_eq!(c.people_checked, 2);
    }

    #[test]
    fn a_name_or_year_mismatch_and_hand_checked_entries_drop_metadata() {
        let mut c = AuditCounts::default();
        let mut m = meta(1, &["X"], &[]);
        assert_eq!(audit_item(&mut m, "Heat (1995)", "Heat (1996)", &[], &mut c), Verdict::Dropped);
        assert!(m.directors.is_empty() && m.genres.is_empty());
        assert_eq!(audit_item(&mut meta(2, &[], &[]), "Heat (1995)", "Hot (1995)", &[], &mut c), Verdict::Dropped);
        assert_eq!(c.name_mismatch_dropped, 2);
        let v = audit_item(&mut meta(3, &[], &[]), "Why Him? (2016)", "Why Him%3F (2016)", &[], &mut c);
        assert_eq!(v, Verdict::Keep);
        let v = audit_item(&mut meta(180029, &[], &[]), "Wanted (2015)", "Wanted (2015)", &[], &mut c);
        assert_eq!(v, Verdict::Dropped);
        assert_eq!(c.hand_checked_dropped, 1);
        // Heat (1996): one shared actor, yet the hand check takes TMDB's Heat.
        let tmdb =
            vec![(1, "Al Pacino".to_string()), (1, "Xander Berkeley".to_string()), (7, "Michael Mann".to_string())];
        let mut m = meta(199038, &["Anne Goursaud"], &["Xander Berkeley"]);
        assert_eq!(audit_item(&mut m, "Heat (1996)", "Heat (1996)", &tmdb, &mut c), Verdict::Repaired);
        assert_eq!(m.directors, vec!["Michael Mann"]);
        assert_eq!(c.hand_checked_repaired, 1);
    }
}
