//! The recommender file loaders on arbitrary bytes: `recommender.bin` as given and with a valid
//! checksum appended (so the fuzzer gets past the sha256 to the record parser), and
//! `comentions.tsv` against the real catalog.
#![no_main]

mod common;

use std::path::Path;

use curator::recommender::{CoMentions, ItemModel};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz/recommender.bin");
    let _ = ItemModel::from_bytes(data, path);
    let mut sealed = data.to_vec();
    sealed.extend_from_slice(&Sha256::digest(data));
    if let Ok(model) = ItemModel::from_bytes(&sealed, path) {
        let _ = model.to_bytes();
        let _ = model.check_covers(&common::catalog(), path);
    }
    let catalog = common::catalog();
    if let Ok(cf) = CoMentions::from_reader(data, Path::new("fuzz/comentions.tsv"), &catalog) {
        let mut scores = vec![0.0f32; catalog.len()];
        cf.score_into(&[(0, 1.0), (1, -1.0)], 0.5, 1.0, &mut scores);
    }
});
