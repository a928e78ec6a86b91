//! Entity linking on arbitrary UTF-8 against the real movie catalog: `link_text` (mentions in
//! free text), `missing_titles` (sequels the catalog lacks) and `link_title` (one title).
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let catalog = common::catalog();
    for m in catalog.link_text(text) {
        // A mention's span must lie on character boundaries of the input.
        assert!(text.get(m.start..m.end).is_some(), "span {}..{} of {text:?}", m.start, m.end);
        assert!(catalog.get(m.id).is_some());
    }
    let _ = catalog.missing_titles(text);
    let _ = catalog.link_title(text, 5);
    let _ = curator::catalog::text::normalize(text);
});
