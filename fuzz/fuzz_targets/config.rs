//! The YAML configuration loaders on arbitrary text, the first byte choosing which:
//! `catalog.yaml`, `ranker.yaml`, the backend config (`--config`), `prompts/recommend.yaml`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    match which % 4 {
        0 => {
            if let Ok(c) = curator::catalog::config::CatalogConfig::parse(Path::new("fuzz/catalog.yaml"), text) {
                let _ = (c.items_noun(), c.prompt_vars(), c.by(0), c.by(7));
            }
        }
        1 => {
            let _ = curator::rank::config::parse(Path::new("fuzz/ranker.yaml"), text);
        }
        2 => {
            let _ = curator::llm::BackendConfig::parse(Path::new("fuzz/backend.yaml"), text);
        }
        _ => {
            if let Ok(p) = curator::agent::prompts::RecommendPrompts::parse(Path::new("fuzz/recommend.yaml"), text) {
                let _ = p.for_catalog(&curator::catalog::config::CatalogConfig::movies());
            }
        }
    }
});
