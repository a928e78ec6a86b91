//! The tantivy index over the catalog: BM25 over title, people, genres and plot, plus a field of
//! normalised titles used by the linker's fuzzy candidate generation.

use std::collections::HashMap;

use tantivy::collector::TopDocs;
use tantivy::query::{Query, QueryParser};
use tantivy::schema::IndexRecordOption;
use tantivy::schema::{Field, Schema, FAST, STORED, TEXT};
use tantivy::{DocSet, Index, IndexReader, Searcher, TantivyDocument, TERMINATED};

use super::{text, Item};
use crate::{Error, Result};

/// Filters applied to [`super::Catalog::search`] results.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchFilters {
    /// Keep items having every one of these genres (lowercase, e.g. `"horror"`).
    pub genres: Vec<String>,
    /// Keep items released in or after this year (items without a year are dropped).
    pub year_min: Option<u16>,
    /// Keep items released in or before this year (items without a year are dropped).
    pub year_max: Option<u16>,
}

impl SearchFilters {
    /// True when `item` passes every filter.
    pub fn accepts(&self, item: &Item) -> bool {
        if !self.genres.iter().all(|g| item.genres.iter().any(|h| h.eq_ignore_ascii_case(g))) {
            return false;
        }
        if self.year_min.is_some() || self.year_max.is_some() {
            let Some(y) = item.year else { return false };
            if self.year_min.is_some_and(|m| y < m) || self.year_max.is_some_and(|m| y > m) {
                return false;
            }
        }
        true
    }

    fn is_empty(&self) -> bool {
        self.genres.is_empty() && self.year_min.is_none() && self.year_max.is_none()
    }
}

/// One search result: the item's position in the catalog and its BM25 score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchHit {
    /// Dense position of the item in [`super::Catalog::items`].
    pub position: usize,
    /// tantivy BM25 score (unitless, higher is better).
    pub score: f32,
}

pub(crate) struct CatalogIndex {
    reader: IndexReader,
    parser: QueryParser,
    /// Fuzzy matching over the `title_norm` terms.
    vocab: TitleVocab,
}

fn tantivy_err(e: impl std::fmt::Display) -> Error {
    Error::Index(e.to_string())
}

impl CatalogIndex {
    pub(crate) fn build(items: &[Item]) -> Result<Self> {
        let mut sb = Schema::builder();
        let pos = sb.add_u64_field("pos", FAST | STORED);
        let title = sb.add_text_field("title", TEXT);
        let title_norm = sb.add_text_field("title_norm", TEXT);
        let people = sb.add_text_field("people", TEXT);
        let genres = sb.add_text_field("genres", TEXT);
        let plot = sb.add_text_field("plot", TEXT);
        let schema = sb.build();
        let index = Index::create_in_ram(schema);
        let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 30_000_000).map_err(tantivy_err)?;
        for (k, it) in items.iter().enumerate() {
            let mut doc = TantivyDocument::default();
            doc.add_u64(pos, k as u64);
            doc.add_text(title, it.display_name());
            doc.add_text(title_norm, text::normalize(&it.title));
            let mut ppl = String::new();
            for p in it.directors.iter().chain(&it.writers).chain(&it.stars) {
                ppl.push_str(p);
                ppl.push_str(". ");
            }
            doc.add_text(people, &ppl);
            doc.add_text(genres, it.genres.join(" "));
            doc.add_text(plot, &it.plot);
            writer.add_document(doc).map_err(tantivy_err)?;
        }
        writer.commit().map_err(tantivy_err)?;
        let reader = index.reader().map_err(tantivy_err)?;
        let mut parser = QueryParser::for_index(&index, vec![title, people, genres, plot]);
        parser.set_field_boost(title, 2.0);
        parser.set_field_boost(people, 1.5);
        parser.set_field_boost(genres, 1.5);
        let vocab = TitleVocab::build(&reader.searcher(), title_norm)?;
        Ok(CatalogIndex { reader, parser, vocab })
    }

    fn collect(&self, query: &dyn Query, limit: usize) -> Result<Vec<(usize, f32)>> {
        let searcher = self.reader.searcher();
        let top = searcher.search(query, &TopDocs::with_limit(limit.max(1))).map_err(tantivy_err)?;
        let mut out = Vec::with_capacity(top.len());
        // The position column, opened once per segment (opening it per hit cost more than the
        // search itself).
        let mut columns: Vec<Option<tantivy::columnar::Column<u64>>> =
            (0..searcher.segment_readers().len()).map(|_| None).collect();
        for (score, addr) in top {
            let Some(slot) = columns.get_mut(addr.segment_ord as usize) else { continue };
            if slot.is_none() {
                *slot = Some(searcher.segment_reader(addr.segment_ord).fast_fields().u64("pos").map_err(tantivy_err)?);
            }
            if let Some(p) = slot.as_ref().and_then(|col| col.first(addr.doc_id)) {
                out.push((p as usize, score));
            }
        }
        Ok(out)
    }

    pub(crate) fn search(
        &self,
        items: &[Item],
        query: &str,
        filters: &SearchFilters,
        k: usize,
    ) -> Result<Vec<SearchHit>> {
        // Keep only word characters: the lenient parser would still read `-`, `:` or quotes as
        // syntax, and free user text is not a query language.
        let cleaned = text::normalize(query);
        if cleaned.is_empty() || k == 0 {
            return Ok(Vec::new());
        }
        let (q, _errors) = self.parser.parse_query_lenient(&cleaned);
        let limit = if filters.is_empty() { k } else { items.len() };
        let hits = self.collect(q.as_ref(), limit)?;
        Ok(hits
            .into_iter()
            .filter(|(p, _)| items.get(*p).is_some_and(|it| filters.accepts(it)))
            .take(k)
            .map(|(position, score)| SearchHit { position, score })
            .collect())
    }

    /// A cache of per-token fuzzy matches, for many title lookups within one text (the linker's
    /// fuzzy pass looks up overlapping spans, each word several times).
    pub(crate) fn fuzzy_cache(&self) -> FuzzyCache<'_> {
        FuzzyCache { vocab: &self.vocab, tokens: HashMap::new() }
    }
}

/// The edit distance a query token of `n` characters may be off by: 0 up to 3 characters, 1 up
/// to 7, 2 from 8 on (a transposition of neighbours counts as one edit).
fn max_edits(n: usize) -> usize {
    if n <= 3 {
        0
    } else if n < 8 {
        1
    } else {
        2
    }
}

/// A 64-bit FNV-1a hash of a character sequence (keys of the deletion table; a collision only
/// adds a candidate that the distance check then drops).
fn hash_chars(chars: impl Iterator<Item = char>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in chars {
        for b in (c as u32).to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Hashes of every string made by deleting at most `depth` characters from `word` (the word
/// itself included), deduplicated.
fn deletion_hashes(word: &[char], depth: usize) -> Vec<u64> {
    let mut out = vec![hash_chars(word.iter().copied())];
    let mut frontier: Vec<Vec<char>> = vec![word.to_vec()];
    for _ in 0..depth {
        let mut next = Vec::new();
        for w in &frontier {
            for i in 0..w.len() {
                let mut d = w.clone();
                d.remove(i);
                next.push(d);
            }
        }
        next.sort_unstable();
        next.dedup();
        out.extend(next.iter().map(|d| hash_chars(d.iter().copied())));
        frontier = next;
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The terms of the normalised-title field with their postings, and a symmetric-deletion table
/// (Garbe's SymSpell) over them: the terms within edit distance 2 of a token are found by
/// hashing the token's deletions instead of walking the term dictionary with a Levenshtein
/// automaton per lookup. Built from the index's own term dictionary, so the matches are exactly
/// those of tantivy's `FuzzyTermQuery` (a test checks the two agree).
struct TitleVocab {
    /// Each term's characters and its documents, as ranks in `DocAddress` order.
    terms: Vec<(Vec<char>, Vec<u32>)>,
    /// Deletion hash → indices into `terms`.
    deletes: HashMap<u64, Vec<u32>>,
    /// Document rank → catalog position (the `pos` fast field).
    positions: Vec<usize>,
}

impl TitleVocab {
    fn build(searcher: &Searcher, field: Field) -> Result<Self> {
        let mut terms: Vec<(Vec<char>, Vec<u32>)> = Vec::new();
        let mut positions = Vec::new();
        // Ranks follow `DocAddress` order: segments in order, documents in order within each.
        for segment in searcher.segment_readers() {
            let base = u32::try_from(positions.len()).map_err(tantivy_err)?;
            let col = segment.fast_fields().u64("pos").map_err(tantivy_err)?;
            for doc in 0..segment.max_doc() {
                positions.push(col.first(doc).map_or(usize::MAX, |p| p as usize));
            }
            let inverted = segment.inverted_index(field).map_err(tantivy_err)?;
            let mut stream = inverted.terms().stream().map_err(tantivy_err)?;
            while stream.advance() {
                let Ok(term) = std::str::from_utf8(stream.key()) else { continue };
                let mut postings = inverted
                    .read_postings_from_terminfo(stream.value(), IndexRecordOption::Basic)
                    .map_err(tantivy_err)?;
                let mut docs = Vec::new();
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    docs.push(base + doc);
                    doc = postings.advance();
                }
                terms.push((term.chars().collect(), docs));
            }
        }
        // One entry per term across segments (their documents merged in rank order).
        terms.sort_by(|a, b| a.0.cmp(&b.0));
        terms.dedup_by(|later, first| {
            if later.0 == first.0 {
                first.1.append(&mut later.1);
                first.1.sort_unstable();
                true
            } else {
                false
            }
        });
        let mut deletes: HashMap<u64, Vec<u32>> = HashMap::new();
        for (t, (chars, _)) in terms.iter().enumerate() {
            // A term is reached by any query token within that token's `max_edits`; a term of
            // length n is within 2 edits only of tokens of length ≥ n - 2, so it needs as many
            // deletions as the largest `max_edits` of a token of length ≤ n + 2.
            let depth = max_edits(chars.len() + 2).min(chars.len());
            for h in deletion_hashes(chars, depth) {
                deletes.entry(h).or_default().push(t as u32);
            }
        }
        Ok(TitleVocab { terms, deletes, positions })
    }

    /// The document ranks whose normalised title has a term within `max_edits` of `tok`, sorted.
    fn fuzzy_docs(&self, tok: &str) -> Vec<u32> {
        let chars: Vec<char> = tok.chars().collect();
        let d = max_edits(chars.len());
        let mut hits: Vec<u32> = Vec::new();
        for h in deletion_hashes(&chars, d) {
            if let Some(ts) = self.deletes.get(&h) {
                hits.extend(ts);
            }
        }
        hits.sort_unstable();
        hits.dedup();
        let mut docs: Vec<u32> = Vec::new();
        for t in hits {
            let (term, postings) = &self.terms[t as usize];
            if term.len().abs_diff(chars.len()) <= d && text::osa_within(term, &chars, d).is_some() {
                docs.extend(postings);
            }
        }
        docs.sort_unstable();
        docs.dedup();
        docs
    }
}

/// Per-token fuzzy matches of the normalised-title field, computed once per distinct token of a
/// text.
pub(crate) struct FuzzyCache<'a> {
    vocab: &'a TitleVocab,
    /// Token → its documents' ranks ([`TitleVocab::fuzzy_docs`]).
    tokens: HashMap<String, Vec<u32>>,
}

impl FuzzyCache<'_> {
    /// Fuzzy candidates for a normalised title: every token may be misspelt by up to 1 edit
    /// (2 for tokens of 8+ characters, a transposition counting as one); tokens of ≤ 3 characters
    /// must match exactly. At most `limit` catalog positions, most matched tokens first, ties in
    /// index order: the same list as tantivy's `TopDocs` over a `BooleanQuery` of
    /// `FuzzyTermQuery` clauses (constant scores that add up), which a test checks.
    pub(crate) fn candidates(&mut self, norm: &str, limit: usize) -> Vec<usize> {
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for tok in norm.split(' ').filter(|t| !t.is_empty()).take(16) {
            let vocab = self.vocab;
            let docs = self.tokens.entry(tok.to_string()).or_insert_with(|| vocab.fuzzy_docs(tok));
            for &d in docs.iter() {
                *counts.entry(d).or_insert(0) += 1;
            }
        }
        let mut top: Vec<(u32, u32)> = counts.into_iter().map(|(d, c)| (c, d)).collect();
        top.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        top.truncate(limit.max(1));
        top.into_iter()
            .filter_map(|(_, d)| self.vocab.positions.get(d as usize).copied())
            .filter(|&p| p != usize::MAX)
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tantivy::query::{BooleanQuery, FuzzyTermQuery, Occur};

    use super::*;
    use crate::catalog::Catalog;
    use tantivy::Term;

    /// The fuzzy candidates as one tantivy query: a `BooleanQuery` of `FuzzyTermQuery` clauses,
    /// top `limit` by `TopDocs` (the definition the cached path must reproduce).
    fn by_boolean_query(index: &CatalogIndex, norm: &str, limit: usize) -> Vec<usize> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for tok in norm.split(' ').filter(|t| !t.is_empty()).take(16) {
            let n = tok.chars().count();
            let dist = if n <= 3 {
                0
            } else if n < 8 {
                1
            } else {
                2
            };
            let field = index.reader.searcher().schema().get_field("title_norm").unwrap();
            let term = Term::from_field_text(field, tok);
            clauses.push((Occur::Should, Box::new(FuzzyTermQuery::new(term, dist, true))));
        }
        if clauses.is_empty() {
            return Vec::new();
        }
        index.collect(&BooleanQuery::new(clauses), limit).unwrap().into_iter().map(|(p, _)| p).collect()
    }

    #[test]
    fn deletion_table_matches_equal_tantivy_fuzzy_queries() {
        let catalog = Catalog::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogs/movies")).unwrap();
        let mut queries: Vec<String> = [
            "inceptoin",
            "intersteller",
            "the shawshank redemtion",
            "lord of the rings the return of the king",
            "star wars 4",
            "harry potter and the prisoner of azkaban",
            "the the the",
            "love love story",
            "a",
            "quantum frobnicator gigantic adventure",
            "back to the futur",
            "pokémon détective pikachu",
            "ab ba abc acb abcd abdc badc",
            "",
        ]
        .iter()
        .map(|q| q.to_string())
        .collect();
        // Every 7th catalog title with one edit of each kind in its longest word.
        for it in catalog.items().iter().step_by(7) {
            let norm = text::normalize(&it.title);
            let Some(long) = norm.split(' ').max_by_key(|w| w.chars().count()) else { continue };
            let w: Vec<char> = long.chars().collect();
            let n = w.len();
            let mut variants = vec![norm.clone()];
            if n >= 2 {
                let mut t = w.clone();
                t.swap(n / 2 - 1, n / 2);
                variants.push(t.iter().collect());
                let mut d = w.clone();
                d.remove(n / 2);
                variants.push(d.iter().collect());
                let mut i = w.clone();
                i.insert(n / 2, 'x');
                i.insert(0, 'q');
                variants.push(i.iter().collect());
            }
            for v in variants {
                queries.push(norm.replacen(long, &v, 1));
            }
        }
        let mut cache = catalog.index.fuzzy_cache();
        let mut nonempty = 0;
        for q in &queries {
            for limit in [1, 64] {
                let want = by_boolean_query(&catalog.index, q, limit);
                nonempty += usize::from(!want.is_empty());
                assert_eq!(cache.candidates(q, limit), want, "{q:?}, limit {limit}");
                assert_eq!(catalog.index.fuzzy_cache().candidates(q, limit), want, "{q:?}, limit {limit}");
            }
        }
        assert!(queries.len() > 3_000 && nonempty > 5_000, "{} queries, {nonempty} with candidates", queries.len());
    }
}
