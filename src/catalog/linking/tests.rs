//! Tests of the linker's private parts: word lists, query years, the tokenizer, and the
//! bounded candidate scan against the full sort.

use super::context::TITLE_CUES;
use super::*;

#[test]
fn bounded_scan_returns_the_full_sort() {
    let catalog =
        crate::catalog::Catalog::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogs/movies"))
            .unwrap();
    let (linker, items) = (&catalog.linker, catalog.items());
    let mut queries: Vec<String> =
        ["Inceptoin", "the matrix 1999", "Heat (1995)", "star wars 4", "a", "", "love story", "The The"]
            .iter()
            .map(|q| q.to_string())
            .collect();
    for (i, it) in items.iter().enumerate().step_by(11) {
        let mut t: Vec<char> = it.title.chars().collect();
        if t.len() > 3 && i % 2 == 0 {
            t.swap(1, 2);
        }
        let year = it.year.map(|y| format!(" {}", y + (i % 3) as u16)).unwrap_or_default();
        queries.push(t.iter().collect::<String>() + &year);
    }
    let mut compared = 0;
    for q in &queries {
        let (qnorm, year) = split_query_year(q);
        let (qnorm, year) = if qnorm.is_empty() { (normalize(q), None) } else { (qnorm, year) };
        if qnorm.is_empty() {
            continue;
        }
        let mut cands: Vec<usize> = Vec::new();
        for key in [qnorm.as_str(), strip_article(&qnorm)] {
            cands.extend(linker.aliases.get(key).into_iter().flatten());
        }
        cands.extend(catalog.index.fuzzy_cache().candidates(&qnorm, 64));
        cands.sort_unstable();
        cands.dedup();
        let mut all: Vec<LinkCandidate> = cands
            .iter()
            .map(|&p| {
                let (score, similarity) = linker.score(items, p, &qnorm, year);
                LinkCandidate { position: p, id: items[p].id, score, similarity }
            })
            .collect();
        all.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        for k in [1, 5] {
            let got = catalog.link_title(q, k);
            assert_eq!(got, all.iter().take(k).copied().collect::<Vec<_>>(), "{q:?}, k {k}");
            compared += usize::from(!got.is_empty());
        }
    }
    assert!(compared > 1_000, "{compared}");
}

#[test]
fn descriptive_words_are_sorted() {
    assert!(DESCRIPTIVE.windows(2).all(|w| w[0] < w[1]));
    assert!(TITLE_CUES.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn splits_years_off_queries() {
    assert_eq!(split_query_year("Black Panther (1977)"), ("black panther".into(), Some(1977)));
    assert_eq!(split_query_year("heat"), ("heat".into(), None));
    assert_eq!(split_query_year("2012"), ("2012".into(), None));
}

#[test]
fn tokenizer_keeps_offsets_and_case() {
    let t = tokenize("I loved Heat. the Matrix & Up!");
    let norms: Vec<&str> = t.iter().map(|t| t.norm.as_str()).collect();
    assert_eq!(norms, ["i", "loved", "heat", "the", "matrix", "and", "up"]);
    assert!(t[2].capitalized && !t[2].sentence_start);
    assert!(t[3].sentence_start);
    assert_eq!(&"I loved Heat. the Matrix & Up!"[t[4].start..t[4].end], "Matrix");
}
