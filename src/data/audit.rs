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
//!    the wrong film;
//! 5. **IMDb id**: where the ReDial → MovieLens link table (`links/redial_to_movielens_small.csv`,
//!    column `ml_title`: the MovieLens film with the item's CFCRS IMDb id) names the film, kept
//!    metadata must describe the ReDial entry ([`movielens_disagrees`]); else it is another
//!    film's ("It (1990)" carried *Goodfellas*, "The Mask (1988)" *Halloween 4*, "Enigma (2009)"
//!    *Harry Potter and the Half-Blood Prince*, "Insidious: Chapter 4" *Chapter 2*'s) and is
//!    replaced by TMDB's where TMDB has the item's cast and director ([`take_tmdb`]), else
//!    dropped; either way without the MovieLens aliases it would give (which linked "Halloween 4: The Return of
//!    Michael Myers" to *The Mask*). An empty ReDial title (" (2015)") takes the MovieLens title
//!    when the years agree within one ([`AuditCounts::titles_recovered`]).

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

/// Entries whose MovieLens film (by IMDb id) is the same film under a title with no word in
/// common, which step 5 would otherwise take for another film; checked by hand:
///
/// - 205931 "Bakemono no Ko (2015)": the Japanese title of *The Boy and the Beast* (2015), as
///   INSPIRED's dev dialogues call it ("The Boy and the Beast").
/// - 136190 "Monster (1980)": the UK title of *Humanoids from the Deep* (1980, Barbara Peeters).
/// - 109196 "What Happened to Monday?": released in the UK and France as *Seven Sisters* (2017).
pub const HAND_SAME_FILM: &[ItemId] = &[205931, 136190, 109196];

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
    /// Empty ReDial titles replaced by the MovieLens title of the item's IMDb id (step 5).
    #[serde(default)]
    pub titles_recovered: usize,
    /// Items whose kept metadata MovieLens names as another film's (step 5), replaced by TMDB's.
    #[serde(default)]
    pub movielens_mismatch_repaired: usize,
    /// Items whose kept metadata MovieLens names as another film's (step 5) and TMDB has none:
    /// metadata dropped.
    #[serde(default)]
    pub movielens_mismatch_dropped: usize,
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
    /// Kept as given, unchecked (TMDB has no cast and director for the item).
    Keep,
    /// Kept as given: TMDB's cast and crew share a person with it (step 3).
    Confirmed,
    /// Replaced by TMDB's (people check or hand check).
    Repaired,
    /// Dropped (name mismatch or hand-checked).
    Dropped,
}

/// Words that name no film on their own, left out when step 5 looks for a shared word.
const FUNCTION_WORDS: &[&str] =
    &["the", "a", "an", "of", "and", "in", "on", "to", "for", "with", "at", "from", "by", "or", "vs", "la", "le", "de"];

/// Step 5 of the audit: whether the film MovieLens names for an item's IMDb id (`ml_titles`, its
/// titles with articles restored and a.k.a. titles, and `ml_year`) is another film than the
/// ReDial entry `title` (`year`), so the metadata that came with the IMDb id is not the entry's.
///
/// - The same title (normalised, a leading article aside): another film only when both years are
///   known, differ by more than one, and `catalog_has(normalised title, ml_year)`: the catalog
///   holds that film as an entry of its own ("Meet the Parents (2004)" against the 2000 film).
///   Otherwise ReDial's year may be the wrong one ("Heat (1996)") and the metadata is kept.
/// - Another title: when both years are known and differ by more than one ("Insidious: Chapter 4"
///   (2018) against "Chapter 2" (2013), whose people TMDB confirms since sequels share them), or,
///   unless `people_confirmed` (the audit's step 3 found a person TMDB also names: an alternative
///   title, "Braindead" against "Dead Alive"), when the titles share no word but
///   `FUNCTION_WORDS` and are not the same letters spaced otherwise ("It" against "Goodfellas",
///   "The Mask" against "Halloween 4: The Return of Michael Myers"; "Oldboy" and "Old Boy"
///   agree). Shared words in the same year keep it ("Kill Bill: Volume 1" against "Vol. 1").
///   Alternative titles with no word in common that TMDB cannot vouch for are listed by hand
///   ([`HAND_SAME_FILM`]; the caller skips them).
///
/// An empty title or no MovieLens title never disagrees.
pub fn movielens_disagrees(
    title: &str,
    year: Option<u16>,
    ml_titles: &[String],
    ml_year: Option<u16>,
    people_confirmed: bool,
    catalog_has: impl Fn(&str, u16) -> bool,
) -> bool {
    let own = normalize(title);
    let own = crate::catalog::text::strip_article(&own).to_string();
    if own.is_empty() || ml_titles.is_empty() {
        return false;
    }
    let theirs: Vec<String> =
        ml_titles.iter().map(|t| crate::catalog::text::strip_article(&normalize(t)).to_string()).collect();
    let far = matches!((year, ml_year), (Some(a), Some(b)) if a.abs_diff(b) > 1);
    if theirs.contains(&own) {
        return far && ml_year.is_some_and(|y| catalog_has(&own, y));
    }
    let content = |s: &str| -> HashSet<String> {
        s.split(' ').filter(|w| !w.is_empty() && !FUNCTION_WORDS.contains(w)).map(str::to_string).collect()
    };
    let mine = content(&own);
    let squeeze = |s: &str| s.replace(' ', "");
    let shared = theirs.iter().any(|t| !content(t).is_disjoint(&mine) || squeeze(t) == squeeze(&own));
    far || (!people_confirmed && !mine.is_empty() && !shared)
}

fn same_person(a: &str) -> String {
    // "Kar-Wai Wong" vs "Wong Kar-wai": compare the sorted words of the normalised name.
    let mut w: Vec<String> = normalize(a).split(' ').filter(|w| !w.is_empty()).map(str::to_string).collect();
    w.sort();
    w.join(" ")
}

/// Clears an item's metadata (genres, people, plot, IMDb id), keeping its id, title, year and
/// popularity: what a dropping step of the audit leaves.
pub fn strip_metadata(item: &mut Item) {
    *item = Item {
        id: item.id,
        title: item.title.clone(),
        year: item.year,
        popularity: item.popularity,
        ..Item::default()
    };
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
    let drop = strip_metadata;
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
    let of = |rel: u32| tmdb_names(tmdb, rel);
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
        return Verdict::Confirmed;
    } else {
        counts.people_mismatch_repaired += 1;
    }
    take_tmdb(item, tmdb);
    Verdict::Repaired
}

/// The distinct names of KECRS edges of relation `rel`, in billing order.
fn tmdb_names(tmdb: &[(u32, String)], rel: u32) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (r, n) in tmdb {
        if *r == rel && !out.contains(n) {
            out.push(n.clone());
        }
    }
    out
}

/// Replaces an item's metadata by TMDB's (KECRS edges `(relation, name)`: genres from relation 0,
/// the director the first of 7, writers 8, stars the first 3 of cast 1, in billing order), plot
/// and IMDb id dropped (they came with the other film). Returns `false`, changing nothing, when
/// TMDB has no cast or no director for the item.
pub fn take_tmdb(item: &mut Item, tmdb: &[(u32, String)]) -> bool {
    let of = |rel: u32| tmdb_names(tmdb, rel);
    let (cast, directors) = (of(1), of(7).into_iter().take(1).collect::<Vec<_>>());
    if cast.is_empty() || directors.is_empty() {
        return false;
    }
    let mut genres: Vec<String> = of(0).iter().filter_map(|g| catalog_genre(g)).collect();
    genres.dedup();
    item.genres = genres;
    item.directors = directors;
    item.writers = of(8);
    item.stars = cast.into_iter().take(3).collect();
    item.plot = String::new();
    item.imdb_id = None;
    true
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
    fn movielens_names_another_film_only_when_title_or_year_says_so() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let none = |_: &str, _: u16| false;
        // Another title with no shared word, or a shared word but years apart.
        assert!(movielens_disagrees("It", Some(1990), &v(&["Goodfellas"]), Some(1990), false, none));
        assert!(movielens_disagrees(
            "The Mask",
            Some(1988),
            &v(&["Halloween 4: The Return of Michael Myers"]),
            Some(1988),
            false,
            none
        ));
        assert!(movielens_disagrees(
            "Insidious: Chapter 4",
            Some(2018),
            &v(&["Insidious: Chapter 2"]),
            Some(2013),
            true,
            none
        ));
        // The same film under another form of its title, or a year one off.
        assert!(!movielens_disagrees(
            "Kill Bill: Volume 1",
            Some(2003),
            &v(&["Kill Bill: Vol. 1"]),
            Some(2003),
            false,
            none
        ));
        assert!(!movielens_disagrees(
            "12 Monkeys",
            Some(1995),
            &v(&["Twelve Monkeys", "12 Monkeys"]),
            Some(1995),
            false,
            none
        ));
        assert!(!movielens_disagrees("Intouchables", Some(2011), &v(&["The Intouchables"]), Some(2012), false, none));
        assert!(!movielens_disagrees("Oldboy", Some(2003), &v(&["Old Boy"]), Some(2003), false, none));
        // An alternative title TMDB's people vouch for.
        assert!(!movielens_disagrees("Braindead", Some(1992), &v(&["Dead Alive"]), Some(1992), true, none));
        assert!(movielens_disagrees("Braindead", Some(1992), &v(&["Dead Alive"]), Some(1992), false, none));
        // The same title years apart: another film only when the catalog holds it.
        let has = |t: &str, y: u16| t == "meet the parents" && y == 2000;
        assert!(movielens_disagrees("Meet the Parents", Some(2004), &v(&["Meet the Parents"]), Some(2000), true, has));
        assert!(!movielens_disagrees("Ninja Scroll", Some(1993), &v(&["Ninja Scroll"]), Some(1995), false, has));
        // Nothing to compare.
        assert!(!movielens_disagrees("", Some(2015), &v(&["Love"]), Some(2015), false, none));
        assert!(!movielens_disagrees("Heat", Some(1995), &[], None, false, none));
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
        assert_eq!(audit_item(&mut m, "2046 (2004)", "2046 (2004)", &tmdb, &mut c), Verdict::Confirmed);
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
