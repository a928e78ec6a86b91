//! The tantivy index over the catalog: BM25 over title, people, genres and plot, plus a field of
//! normalised titles used by the linker's fuzzy candidate generation.

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, FuzzyTermQuery, Occur, Query, QueryParser};
use tantivy::schema::{Field, Schema, FAST, STORED, TEXT};
use tantivy::{Index, IndexReader, TantivyDocument, Term};

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
    title_norm: Field,
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
        Ok(CatalogIndex { reader, parser, title_norm })
    }

    fn collect(&self, query: &dyn Query, limit: usize) -> Result<Vec<(usize, f32)>> {
        let searcher = self.reader.searcher();
        let top = searcher.search(query, &TopDocs::with_limit(limit.max(1))).map_err(tantivy_err)?;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let col = searcher.segment_reader(addr.segment_ord).fast_fields().u64("pos").map_err(tantivy_err)?;
            if let Some(p) = col.first(addr.doc_id) {
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

    /// Fuzzy candidates for a normalised title: every token may be misspelt by up to 1 edit
    /// (2 for tokens of 8+ characters); tokens of ≤ 3 characters must match exactly.
    pub(crate) fn fuzzy_title_candidates(&self, norm: &str, limit: usize) -> Result<Vec<usize>> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for tok in norm.split(' ').filter(|t| !t.is_empty()).take(16) {
            let term = Term::from_field_text(self.title_norm, tok);
            let n = tok.chars().count();
            let dist = if n <= 3 {
                0
            } else if n < 8 {
                1
            } else {
                2
            };
            clauses.push((Occur::Should, Box::new(FuzzyTermQuery::new(term, dist, true))));
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let q = BooleanQuery::new(clauses);
        Ok(self.collect(&q, limit)?.into_iter().map(|(p, _)| p).collect())
    }
}
