//! The catalog loaders on arbitrary bytes: `items.jsonl` records (parsed and checked as
//! `Catalog::load` does before indexing), alias tables against the real catalog, common words.
#![no_main]

mod common;

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz/items.jsonl");
    if let Ok(items) = curator::catalog::Catalog::parse_items(data, path) {
        for it in &items {
            let _ = it.display_name();
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let catalog = common::catalog();
        let _ = curator::catalog::parse_aliases(text, Path::new("fuzz/aliases.tsv"), &catalog);
        let _ = curator::catalog::parse_common_words(text);
        let _ = curator::catalog::text::split_title_year(text);
    }
});
