//! A development check of title linking on INSPIRED's *training* dialogues (never dev or test):
//! every utterance of `train_unicrs/train_data_dbpedia.jsonl` (Hayati et al., EMNLP 2020, as
//! UniCRS prepared it: one dialogue per line, a JSON array of utterances with `text`, `movie`
//! ("Title (Year)") and `movie_name`) is linked by the tracker ([`Tracker::link_items`], what a
//! front end gets), and each link is compared with the utterance's own movie list:
//!
//! - `IN`: the linked item's title opens one of the utterance's `movie` names, or equals one of
//!   its `movie_name`s;
//! - `OUT`: neither. Those lists come from automatic matching and miss many mentions (lists of
//!   titles, lowercase titles), so `OUT` is a place to look for wrong links, not a count of them;
//! - `MISS`: a `movie` name that is a catalog item's display name and that no link's title opens.
//!
//! One tab-separated line per case (kind, dialogue, utterance, words linked, item, the
//! utterance's movies, its text) on stdout; the counts on stderr. The linking rules of
//! a6df91e and later were written from these lines and the dev split only.
//!
//! `cargo run --release --example inspired_train_links -- ../shared/data/inspired/train_unicrs/train_data_dbpedia.jsonl`
//!
//! Errors: a missing or unreadable file, a line that is not a JSON array (naming the line), and
//! the errors of loading the project's assets.

use anyhow::Context;
use curator::assets::Assets;
use curator::dialogue::Tracker;

/// The lowercase strings of the JSON array `v` (empty when it is not one).
fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_lowercase)).collect()).unwrap_or_default()
}

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .context("usage: inspired_train_links PATH (../shared/data/inspired/train_unicrs/train_data_dbpedia.jsonl)")?;
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let assets = Assets::from_project(None)?;
    let tracker: &Tracker = &assets.tracker;
    let catalog = tracker.catalog();
    let in_catalog: std::collections::HashSet<String> =
        catalog.items().iter().map(|it| it.display_name().to_lowercase()).collect();
    let (mut inside, mut outside, mut missed, mut utterances) = (0usize, 0usize, 0usize, 0usize);
    for (d, line) in text.lines().enumerate() {
        let turns: Vec<serde_json::Value> =
            serde_json::from_str(line).with_context(|| format!("{path}:{}: not a JSON array of utterances", d + 1))?;
        for (t, u) in turns.iter().enumerate() {
            utterances += 1;
            let said = u["text"].as_str().unwrap_or("");
            let flat = said.replace(['\t', '\n'], " ");
            let movies = strings(&u["movie"]);
            let names = strings(&u["movie_name"]);
            let links = tracker.link_items(said);
            let titles: Vec<String> =
                links.iter().filter_map(|m| catalog.get(m.id)).map(|it| it.title.to_lowercase()).collect();
            for l in &movies {
                if in_catalog.contains(l) && !titles.iter().any(|t| l.starts_with(t.as_str())) {
                    missed += 1;
                    println!("MISS\t{d}\t{t}\t\t{l}\t{}\t{flat}", movies.join("|"));
                }
            }
            for m in &links {
                let Some(item) = catalog.get(m.id) else { continue };
                let title = item.title.to_lowercase();
                let ok = movies.iter().any(|l| l.starts_with(&title)) || names.contains(&title);
                if ok {
                    inside += 1;
                } else {
                    outside += 1;
                }
                println!(
                    "{}\t{d}\t{t}\t{}\t{}\t{}\t{flat}",
                    if ok { "IN" } else { "OUT" },
                    said.get(m.start..m.end).unwrap_or(""),
                    item.display_name(),
                    movies.join("|")
                );
            }
        }
    }
    eprintln!(
        "INSPIRED train ({utterances} utterances): {} links, {inside} inside the utterance's movie list, {outside} outside it; {missed} listed catalog movies not linked",
        inside + outside
    );
    Ok(())
}
