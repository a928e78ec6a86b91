//! The attribute linker (genres, people, keywords of the real knowledge graph) and the genre
//! matcher on arbitrary UTF-8.
#![no_main]

mod common;

use std::sync::OnceLock;

use curator::dialogue::attributes::{genre_mentions, AttributeLinker};
use libfuzzer_sys::fuzz_target;

fn linker() -> &'static AttributeLinker {
    static LINKER: OnceLock<AttributeLinker> = OnceLock::new();
    LINKER.get_or_init(|| AttributeLinker::new(common::graph()))
}

fuzz_target!(|text: &str| {
    let linker = linker();
    for m in linker.link_spans(text) {
        for span in m.spans {
            assert!(text.get(span.clone()).is_some(), "span {span:?} of {text:?}");
        }
    }
    let _ = linker.link(text);
    for r in linker.person_spans(text) {
        assert!(text.get(r.clone()).is_some(), "person span {r:?} of {text:?}");
    }
    let _ = genre_mentions(text);
});
