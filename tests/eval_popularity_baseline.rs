//! The popularity baseline on the full ReDial test split, with popularity counted from the
//! ReDial *training* dialogues (never from `nbMentions`, which counts test too).
//!
//! Ignored by default: it needs the raw training file, which is not committed. Run it with
//! `cargo test --release --test eval_popularity_baseline -- --ignored --nocapture`; the raw data
//! folder is `$CURATOR_SHARED_DATA`, else `../shared/data` beside the repository.

use std::path::PathBuf;

use curator::eval::{run_redial, train_popularity, PopularityRanker, Protocol, RedialEvalOptions, TrainCount};
use curator::{Error, Result};

fn shared_data() -> PathBuf {
    match std::env::var_os("CURATOR_SHARED_DATA") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
    }
}

#[test]
#[ignore = "needs ../shared/data (the raw training file); prints the baseline figures"]
fn popularity_baseline_from_training_dialogues() -> Result<()> {
    let train = shared_data().join("redial/train_movie_level/train_movie_sequences_compact.jsonl");
    let out = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    for count in [TrainCount::DialoguesV, TrainCount::MentionsU, TrainCount::DialoguesUV] {
        let counts = train_popularity(&train, count)?;
        println!("popularity from {count:?}: {} movies", counts.len());
        let ranker = PopularityRanker::new(counts);
        let opts = RedialEvalOptions {
            out_dir: out.path().to_path_buf(),
            protocols: Protocol::ALL.to_vec(),
            ..RedialEvalOptions::default()
        };
        let report = run_redial(&opts, &ranker)?;
        assert_eq!(report.results[0].counts.instances, 3617);
        assert_eq!(report.results[0].counts.recommendations, 4897);
        assert_eq!(report.results[1].counts.instances, 3372);
        assert_eq!(report.results[1].counts.recommendations, 4426);
        let md = std::fs::read_to_string(&report.markdown_path).map_err(|e| Error::io(&report.markdown_path, e))?;
        println!("{md}");
    }
    Ok(())
}
