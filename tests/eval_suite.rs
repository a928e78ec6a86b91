//! The evaluation suite on committed real fixtures: INSPIRED points, He et al. protocol and
//! cross-check, dialogue-level metrics, resumable agent runs and the report.
//!
//! Fixtures (copied unchanged from ../shared/data):
//! - `tests/fixtures/inspired_dialogues.tsv`: the header and every row of three INSPIRED dialogues —
//!   test dialogues 0 (`20191127-224739_530_live.pkl`: Hustlers named by the seeker, then by the
//!   recommender) and 7 (`20191130-191410_752_live.pkl`: "Joker (2019); Joker (2019);  Arthur (2011)"
//!   in one sentence), and dev dialogue `20200305-072858_888_live.pkl`, whose `movie_dict` lacks a
//!   closing quote (`'Office Space (1999): 1}`).
//! - `tests/fixtures/cikm23_redial.jsonl`: He et al.'s (CIKM '23) 15 ReDial contexts of the five
//!   dialogues of `redial_dialogues.jsonl`; `tests/fixtures/cikm23_inspired.jsonl`: their 7
//!   INSPIRED contexts of test dialogues 0 and 7.
//!
//! Every expected number below was counted by hand from these files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use curator::catalog::{Catalog, ItemId};
use curator::dialogue::Turn;
use curator::eval::cikm23::{cross_check, load_id_list, read_cikm23};
use curator::eval::inspired::{dialogues_from_rows, extract_inspired_points, read_tsv, ItemSet};
use curator::eval::suite::{
    run_resumable, run_suite, score_dialogue, score_he, Dataset, PointOutcome, SuiteOptions, System,
};
use curator::eval::{count_points, extract_points, load_redial, Counts, EvalPoint, Protocol, Ranker};
use curator::Result;

fn manifest_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn catalog() -> Catalog {
    Catalog::load(&manifest_path("catalogs/movies")).unwrap()
}

fn redial_points() -> Vec<EvalPoint> {
    extract_points(&load_redial(&manifest_path("tests/fixtures/redial_dialogues.jsonl")).unwrap())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn inspired_fixture_points_match_hand_count() -> Result<()> {
    let catalog = catalog();
    let rows = read_tsv(&manifest_path("tests/fixtures/inspired_dialogues.tsv"))?;
    assert_eq!(rows.len(), 34 + 37 + 41);
    // The malformed movie_dict of the dev dialogue is read as empty; the rows are kept.
    assert!(rows[71..].iter().all(|r| r.movie_dict.is_empty()));
    assert_eq!(rows[0].movie_dict.len(), 3);
    // QUOTATION_MARK is rendered.
    assert!(rows.iter().any(|r| r.text.contains("\"Hustlers\"")));
    let items = ItemSet::link(&rows, &catalog);
    let dialogues = dialogues_from_rows(&rows, &items);
    assert_eq!(dialogues.len(), 3);
    let points = extract_inspired_points(&dialogues);
    // (dialogue, utterance after merging, [mentioned before?] per distinct movie)
    let got: Vec<(usize, usize, Vec<bool>)> = points
        .iter()
        .map(|p| (p.dialogue, p.utterance, p.targets.iter().map(|t| t.mentioned_before).collect()))
        .collect();
    let expected: Vec<(usize, usize, Vec<bool>)> = vec![
        (0, 4, vec![true]),         // Hustlers, named by the seeker first
        (0, 8, vec![false]),        // Deadpool
        (0, 12, vec![false]),       // A Beautiful Day in the Neighborhood
        (1, 2, vec![false]),        // Atomic Blonde
        (1, 4, vec![false]),        // Mission: Impossible
        (1, 12, vec![false]),       // Joker
        (1, 14, vec![true, false]), // Joker twice in one sentence (once), Arthur
        (2, 14, vec![false]),       // Murder Mystery
        (2, 20, vec![false]),       // Office Space
    ];
    assert_eq!(got, expected);
    assert_eq!(count_points(&points, Protocol::Standard), Counts { instances: 9, recommendations: 10 });
    assert_eq!(count_points(&points, Protocol::Dedup), Counts { instances: 8, recommendations: 8 });
    // Deadpool (2016) is a catalog item; Hustlers (2019) is not and gets an id of its own.
    let deadpool = items.movies["Deadpool (2016)"].0;
    assert!(catalog.get(deadpool).is_some_and(|i| i.title == "Deadpool"));
    let hustlers = items.movies["Hustlers (2019)"].0;
    assert!(hustlers >= curator::eval::inspired::OUT_OF_CATALOG_BASE && catalog.get(hustlers).is_none());
    Ok(())
}

/// Each point's ranking: its context items (seen), then its targets in order.
fn seen_then_targets(points: &[EvalPoint]) -> Vec<PointOutcome> {
    points
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let mut ranking: Vec<ItemId> = p.context.iter().flat_map(|t| t.items.iter().copied()).collect();
            ranking.extend(p.targets.iter().map(|t| t.item));
            PointOutcome { index, ranking, reply: None, model_text_used: false, seconds: 0.0 }
        })
        .collect()
}

#[test]
fn he_et_al_protocol_by_hand_on_redial_fixture() {
    let points = redial_points();
    let he = score_he(&points, &seen_then_targets(&points));
    // Seen items removed, the fresh targets sit at ranks 1..n of their point: 14 points put one at
    // rank 1; 21629/4 and 21629/6 have one at rank 2, 22954/1 at ranks 2, 3, 4. Repeated targets
    // (discussion) are seen items, so they are removed and never hit.
    let (all, rec, disc) = (&he[0], &he[1], &he[2]);
    assert_eq!((all.subset.as_str(), all.counts), ("all", Counts { instances: 15, recommendations: 23 }));
    assert_eq!(rec.counts, Counts { instances: 14, recommendations: 19 });
    assert_eq!(disc.counts, Counts { instances: 4, recommendations: 4 });
    assert!(close(rec.recall[0], 14.0 / 19.0));
    assert!(close(rec.recall[1], 1.0));
    assert!(close(all.recall[0], 14.0 / 23.0));
    assert!(close(all.recall[3], 19.0 / 23.0));
    assert_eq!(disc.recall, [0.0; 4]);
    assert_eq!(rec.recall_curve.len(), 50);
    assert!(close(rec.recall_curve[2], 18.0 / 19.0));
}

#[test]
fn cross_check_counts_and_causes_on_fixtures() -> Result<()> {
    let points = redial_points();
    let keys = read_cikm23(&manifest_path("tests/fixtures/cikm23_redial.jsonl"), &[])?;
    assert_eq!(keys.len(), 15);
    let items = load_id_list(&manifest_path("evals/redial/cikm23_items.txt"))?;
    let c = cross_check(&points, &keys, Some(&items));
    // Ours 15, theirs 15, 14 in both. Ours only: 22954/3, whose only movie (206092) has no
    // entity in their item set. Theirs only: 23188/0, the recommender's opening turn (empty
    // context). 21376/3 has two movies for us and one for them (191200 is not in their set).
    assert_eq!((c.ours, c.theirs, c.matched), (15, 15, 14));
    assert_eq!(c.ours_only.get("no ground-truth movie in their DBpedia-linked item set"), Some(&1));
    assert_eq!(c.theirs_only.get("empty context (dialogue-opening turn)"), Some(&1));
    assert_eq!(c.matched_rec_count_differs, 1);

    let catalog = catalog();
    let rows = read_tsv(&manifest_path("tests/fixtures/inspired_dialogues.tsv"))?;
    let dialogues = dialogues_from_rows(&rows, &ItemSet::link(&rows, &catalog));
    let test_points: Vec<EvalPoint> =
        extract_inspired_points(&dialogues).into_iter().filter(|p| p.dialogue < 2).collect();
    // Their ids index the whole test file: fixture dialogues are test dialogues 0 and 7.
    let mut ids = vec![String::new(); 8];
    ids[0] = dialogues[0].dialog_id.clone();
    ids[7] = dialogues[1].dialog_id.clone();
    let keys = read_cikm23(&manifest_path("tests/fixtures/cikm23_inspired.jsonl"), &ids)?;
    let c = cross_check(&test_points, &keys, None);
    assert_eq!((c.ours, c.theirs, c.matched, c.matched_rec_count_differs), (7, 7, 7, 0));
    assert!(c.ours_only.is_empty() && c.theirs_only.is_empty());
    Ok(())
}

#[test]
fn success_rate_and_reward_by_hand_on_redial_fixture() {
    let dialogues = load_redial(&manifest_path("tests/fixtures/redial_dialogues.jsonl")).unwrap();
    let points = extract_points(&dialogues);
    let catalog = catalog();
    // Top-1 = the point's first ground-truth movie. Rewards per dialogue (seeker's labels, else
    // the recommender's): 20001 [1, 1, 0, 0, 0] (101794, 91481, 124771 unanswered) → 0.4;
    // 21376 [1, 1, 1, 0] (161723 not in the questionnaire) → 0.75; 21629 [1, 0] → 0.5;
    // 22954 [1, 1] → 1; 23188 [1, 1] → 1.
    let outcomes: Vec<PointOutcome> = points
        .iter()
        .enumerate()
        .map(|(index, p)| PointOutcome {
            index,
            ranking: vec![p.targets[0].item],
            reply: None,
            model_text_used: false,
            seconds: 0.0,
        })
        .collect();
    let d = score_dialogue(&points, &outcomes, &dialogues, &catalog);
    assert_eq!(d.dialogues, 5);
    assert!(close(d.success_rate.unwrap(), 1.0));
    assert!(close(d.reward_per_dialogue_length.unwrap(), (0.4 + 0.75 + 0.5 + 1.0 + 1.0) / 5.0));
    assert_eq!(d.repeat_rate, 4.0 / 15.0); // the four points whose first movie is a repeat
    assert_eq!(d.out_of_catalog_rate, 0.0);
    // An empty ranking earns nothing.
    let empty: Vec<PointOutcome> = outcomes.iter().map(|o| PointOutcome { ranking: vec![], ..o.clone() }).collect();
    let d = score_dialogue(&points, &empty, &dialogues, &catalog);
    assert_eq!((d.success_rate, d.reward_per_dialogue_length), (Some(0.0), Some(0.0)));
}

#[test]
fn resume_after_interruption_gives_identical_outcomes() -> Result<()> {
    let points = redial_points();
    let dir = tempfile::tempdir().unwrap();
    let progress = dir.path().join("runs").join("p.jsonl");
    let header = serde_json::json!({"run": "test"});
    let f = |p: &EvalPoint, i: usize| -> Result<PointOutcome> {
        Ok(PointOutcome {
            index: i,
            ranking: p.targets.iter().map(|t| t.item + 1).collect(),
            reply: Some(format!("reply {i}")),
            model_text_used: i.is_multiple_of(2),
            seconds: 0.0,
        })
    };
    let full = run_resumable(&points, &progress, &header, false, f)?;
    assert_eq!(full.len(), 15);
    // A kill after 6 points, in the middle of writing the 7th line.
    let text = std::fs::read_to_string(&progress).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut cut = lines[..7].join("\n");
    cut.push('\n');
    cut.push_str(&lines[7][..lines[7].len() / 2]);
    std::fs::write(&progress, cut).unwrap();
    let mut calls = Vec::new();
    let resumed = run_resumable(&points, &progress, &header, false, |p, i| {
        calls.push(i);
        f(p, i)
    })?;
    assert_eq!(calls, (6..15).collect::<Vec<_>>());
    assert_eq!(resumed, full);
    // The file is whole again: a second resume computes nothing.
    let again = run_resumable(&points, &progress, &header, false, |_, _| panic!("nothing left to compute"))?;
    assert_eq!(again, full);
    // Another configuration refuses the file instead of mixing runs.
    assert!(run_resumable(&points, &progress, &serde_json::json!({"run": "other"}), false, f).is_err());
    Ok(())
}

#[test]
fn agent_mode_resumes_to_identical_results() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let opts = SuiteOptions {
        dataset: Dataset::Redial,
        split: "fixture".to_string(),
        data_path: manifest_path("tests/fixtures/redial_dialogues.jsonl"),
        limit: None,
        out_dir: dir.path().to_path_buf(),
        progress: false,
    };
    let catalog = catalog();
    let config = curator::agent::AgentConfig { recommendations: 10, ..Default::default() };
    let mut agent = curator::agent::Agent::from_project(None, config.clone())?;
    let full = run_suite(&opts, System::Agent { agent: &mut agent, model_path: None }, &catalog)?;
    assert_eq!(full.points, 15);
    assert_eq!(full.protocols[0].counts, Counts { instances: 15, recommendations: 23 });
    assert!(full.dialogue.responses.is_some_and(|r| r.replies == 15));
    // Interrupt: keep the header and 5 outcomes plus a torn line, then run again.
    let progress = dir.path().join("runs").join("redial-fixture-agent-no-model.progress.jsonl");
    let text = std::fs::read_to_string(&progress).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 16);
    std::fs::write(&progress, format!("{}\n{}", lines[..6].join("\n"), &lines[6][..10])).unwrap();
    let mut agent = curator::agent::Agent::from_project(None, config)?;
    let resumed = run_suite(&opts, System::Agent { agent: &mut agent, model_path: None }, &catalog)?;
    assert_eq!(resumed.protocols, full.protocols);
    assert_eq!(resumed.he_et_al, full.he_et_al);
    assert_eq!(resumed.dialogue, full.dialogue);
    assert_eq!(std::fs::read_to_string(&progress).unwrap().lines().count(), 16);
    Ok(())
}

struct FirstContextItem;

impl Ranker for FirstContextItem {
    fn name(&self) -> String {
        "scripted".to_string()
    }
    fn rank(&self, context: &[Turn], _k: usize) -> Vec<ItemId> {
        vec![151656, 94688, 101794].into_iter().filter(|id| !context.iter().any(|t| t.items.contains(id))).collect()
    }
}

#[test]
fn report_writes_markdown_json_and_svg_plots() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let opts = SuiteOptions {
        dataset: Dataset::Redial,
        split: "test".to_string(),
        data_path: manifest_path("tests/fixtures/redial_dialogues.jsonl"),
        limit: None,
        out_dir: results.clone(),
        progress: false,
    };
    let r = run_suite(&opts, System::Ranker(&FirstContextItem), &catalog())?;
    // 20001/1: 151656 at rank 1 (hit); 20001/3: 151656 is in the context, so 94688 is first.
    assert_eq!(r.protocols[0].recall_curve.len(), 50);
    assert!(results.join("redial-test-scripted.json").is_file());
    assert!(results.join("redial-test-scripted.md").is_file());
    let md_path = curator::eval::suite_report::write_report(&results, dir.path())?;
    let md = std::fs::read_to_string(md_path).unwrap();
    assert!(md.contains("**published**: UniCRS"));
    assert!(md.contains("| test | scripted | ranker | standard | 15 | 23 |"));
    let svg = std::fs::read_to_string(dir.path().join("plots/redial-standard.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Recall@K"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(json["runs"].as_array().map(Vec::len), Some(1));
    assert!(json["runs"][0]["provenance"]["git_commit"].is_string());
    Ok(())
}
