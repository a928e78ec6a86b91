//! ReDial loading, evaluation-point extraction, scoring and reports.
//!
//! The fixture `tests/fixtures/redial_dialogues.jsonl` holds five real test dialogues, copied
//! unchanged from `test_data.jsonl` (lines 1, 462, 564, 1201, 1293): 20001 (consecutive messages
//! on both sides, a movie recommended twice, a name with a double space and one without a year),
//! 21376 (`respondentQuestions` is `[]`, the seeker's movie repeated by the recommender), 21629
//! (`initiatorQuestions` is `[]`, the recommender opens the dialogue), 22954 (two consecutive
//! recommender messages with four movies; a point whose only movie the seeker named first) and
//! 23188 (a recommender opening that names a movie, the same movie twice in one utterance).
//! Every expected value below was counted by hand from the file.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use curator::catalog::ItemId;
use curator::dialogue::{Role, Turn};
use curator::eval::redial::{parse_redial, Answer, MovieLabels, Target};
use curator::eval::{
    count_points, evaluate_redial, extract_points, load_redial, run_redial, Counts, EvalPoint, EvalReport,
    PopularityRanker, Protocol, Ranker, RedialEvalOptions,
};
use curator::{Error, Result};

fn manifest_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn fixture() -> PathBuf {
    manifest_path("tests/fixtures/redial_dialogues.jsonl")
}

fn fixture_points() -> Result<Vec<EvalPoint>> {
    Ok(extract_points(&load_redial(&fixture())?))
}

fn fresh(item: ItemId) -> Target {
    Target { item, mentioned_before: false }
}

fn repeat(item: ItemId) -> Target {
    Target { item, mentioned_before: true }
}

#[test]
fn fixture_points_match_hand_count() -> Result<()> {
    let points = fixture_points()?;
    // (conversation, utterance index after merging, targets)
    let expected: Vec<(&str, usize, Vec<Target>)> = vec![
        ("20001", 1, vec![fresh(151656)]),
        ("20001", 3, vec![repeat(151656), fresh(94688)]),
        ("20001", 7, vec![fresh(101794)]),
        ("20001", 9, vec![fresh(91481)]),
        ("20001", 11, vec![fresh(124771)]),
        ("21376", 3, vec![repeat(144347), fresh(191200)]),
        ("21376", 5, vec![fresh(175695)]),
        ("21376", 7, vec![repeat(144347), fresh(156802)]),
        ("21376", 9, vec![fresh(161723)]),
        ("21629", 4, vec![fresh(161313), fresh(101794)]),
        ("21629", 6, vec![fresh(205163), fresh(204870)]),
        ("22954", 1, vec![fresh(204863), fresh(178715), fresh(113972), fresh(135485)]),
        ("22954", 3, vec![repeat(206092)]),
        ("23188", 4, vec![fresh(164128)]),
        ("23188", 6, vec![fresh(128905)]),
    ];
    let got: Vec<(&str, usize, Vec<Target>)> =
        points.iter().map(|p| (p.conversation_id.as_str(), p.utterance, p.targets.clone())).collect();
    assert_eq!(got, expected);
    for p in &points {
        assert_eq!(p.context.len(), p.utterance, "{} {}", p.conversation_id, p.utterance);
        assert!(!p.context.is_empty());
    }
    Ok(())
}

#[test]
fn fixture_counts_for_both_protocols() -> Result<()> {
    let points = fixture_points()?;
    assert_eq!(count_points(&points, Protocol::Standard), Counts { instances: 15, recommendations: 23 });
    // De-dup drops 151656 (20001), 144347 twice (21376) and the whole point 22954/3.
    assert_eq!(count_points(&points, Protocol::Dedup), Counts { instances: 14, recommendations: 19 });
    let dedup: Vec<Vec<ItemId>> =
        points.iter().map(|p| p.targets_for(Protocol::Dedup)).filter(|t| !t.is_empty()).collect();
    assert_eq!(dedup[1], vec![94688]);
    assert_eq!(dedup[5], vec![191200]);
    assert_eq!(dedup[7], vec![156802]);
    assert_eq!(dedup[12], vec![164128]);
    Ok(())
}

#[test]
fn contexts_merge_render_and_list_items() -> Result<()> {
    let points = fixture_points()?;
    // 20001, point at utterance 3: the seeker's two messages are one turn; "American Pie " has no
    // year and "American Pie  (1999)" loses its double space.
    let p = &points[1];
    assert_eq!(
        p.context,
        vec![
            Turn {
                role: Role::Seeker,
                text: "Hi I am looking for a movie like Super Troopers (2001)".into(),
                items: vec![111776]
            },
            Turn {
                role: Role::Recommender,
                text: "You should watch Police Academy (1984)".into(),
                items: vec![151656]
            },
            Turn {
                role: Role::Seeker,
                text: "Is that a great one? I have never seen it. I have seen American Pie I mean American Pie (1999)"
                    .into(),
                items: vec![192131, 134643]
            },
        ]
    );
    // 20001, last point: "you are welcome" and "and also @124771" are one recommender utterance,
    // so the point sits at utterance 11 with 11 context turns.
    assert_eq!(points[4].context[10].text, "Thanks for the suggestions.");
    // 23188: the recommender's three opening messages are one turn that names Fight Club; it is
    // context, never a point.
    let p = &points[13];
    assert_eq!(
        p.context[0],
        Turn {
            role: Role::Recommender,
            text:
                "how are you tonight before you tell what kind of movies you like I just have to say Fight Club (1999)"
                    .into(),
            items: vec![120003]
        }
    );
    assert_eq!(p.context[3].text, "What about Kill Bill: Volume 1 (2003) or something similar?");
    // 21629: "Avengers: Infinity War (2018)  and" keeps the message's own double space.
    let dialogues = load_redial(&fixture())?;
    let turns = dialogues[2].turns();
    assert_eq!(
        turns[6].text,
        "I agree! You should see new movies like Avengers: Infinity War (2018)  and Deadpool 2 (2018)"
    );
    assert_eq!(turns[6].items, vec![205163, 204870]);
    // 23188: the same movie twice in one utterance is listed once.
    let turns = dialogues[4].turns();
    assert_eq!(turns[6].text, "From Dusk till Dawn (1996) From Dusk till Dawn (1996)");
    assert_eq!(turns[6].items, vec![128905]);
    Ok(())
}

#[test]
fn questionnaires_load_including_empty_lists() -> Result<()> {
    let d = load_redial(&fixture())?;
    assert_eq!(d.len(), 5);
    assert_eq!((d[0].seeker_id, d[0].recommender_id), (956, 957));
    assert_eq!(
        d[0].seeker_labels.get(&101794),
        Some(&MovieLabels { suggested: false, seen: Answer::DidNotSay, liked: Answer::DidNotSay })
    );
    assert_eq!(
        d[0].recommender_labels.get(&101794),
        Some(&MovieLabels { suggested: true, seen: Answer::No, liked: Answer::DidNotSay })
    );
    // 21376: respondentQuestions is [].
    assert_eq!(d[1].seeker_labels.len(), 4);
    assert!(d[1].recommender_labels.is_empty());
    // 21629: initiatorQuestions is [].
    assert!(d[2].seeker_labels.is_empty());
    assert_eq!(d[2].recommender_labels.len(), 6);
    assert_eq!(d[0].movie_mentions.get(&151656).map(String::as_str), Some("Police Academy  (1984)"));
    assert_eq!(d[0].title(151656).as_deref(), Some("Police Academy (1984)"));
    Ok(())
}

/// The full committed test split gives the reference counts (data README; Kostric & Balog,
/// SIGIR '26, Table 2).
#[test]
fn full_test_split_reference_counts() -> Result<()> {
    let dialogues = load_redial(&manifest_path("evals/redial/test.jsonl"))?;
    assert_eq!(dialogues.len(), 1342);
    assert_eq!(dialogues.iter().map(|d| d.messages.len()).sum::<usize>(), 23952);
    let empty_q = dialogues.iter().filter(|d| d.seeker_labels.is_empty()).count()
        + dialogues.iter().filter(|d| d.recommender_labels.is_empty()).count();
    assert_eq!(empty_q, 31);
    let points = extract_points(&dialogues);
    assert_eq!(count_points(&points, Protocol::Standard), Counts { instances: 3617, recommendations: 4897 });
    assert_eq!(count_points(&points, Protocol::Dedup), Counts { instances: 3372, recommendations: 4426 });
    Ok(())
}

/// A ranker that ignores the context and counts its calls.
struct Fixed {
    list: Vec<ItemId>,
    calls: Cell<usize>,
    asked_k: Cell<usize>,
}

impl Fixed {
    fn new(list: Vec<ItemId>) -> Self {
        Fixed { list, calls: Cell::new(0), asked_k: Cell::new(0) }
    }
}

impl Ranker for Fixed {
    fn name(&self) -> String {
        "Fixed list".to_string()
    }

    fn rank(&self, _context: &[Turn], k: usize) -> Vec<ItemId> {
        self.calls.set(self.calls.get() + 1);
        self.asked_k.set(k);
        self.list.iter().copied().take(k).collect()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn evaluate_fixed_ranker_hand_computed() -> Result<()> {
    let points = fixture_points()?;
    // 101794 is a target twice (rank 1), 144347 twice but both repeats (rank 2), 128905 once
    // (rank 3).
    let ranker = Fixed::new(vec![101794, 144347, 128905]);
    let std = evaluate_redial(&points, Protocol::Standard, &ranker, false);
    assert_eq!(ranker.calls.get(), 15);
    assert_eq!(ranker.asked_k.get(), 50);
    assert_eq!(std.counts, Counts { instances: 15, recommendations: 23 });
    assert_eq!(std.ranker, "Fixed list");
    let m = std.metrics;
    assert!(close(m.recall_at_1, 2.0 / 23.0));
    assert!(close(m.recall_at_10, 5.0 / 23.0));
    assert!(close(m.recall_at_50, 5.0 / 23.0));
    assert!(close(m.ndcg_at_10, (2.0 + 2.0 / 3f64.log2() + 0.5) / 23.0));
    assert!(close(m.mrr_at_50, (2.0 + 1.0 + 1.0 / 3.0) / 23.0));

    let dedup = evaluate_redial(&points, Protocol::Dedup, &ranker, false);
    assert_eq!(ranker.calls.get(), 15 + 14);
    assert_eq!(dedup.counts, Counts { instances: 14, recommendations: 19 });
    let m = dedup.metrics;
    assert!(close(m.recall_at_1, 2.0 / 19.0));
    assert!(close(m.recall_at_10, 3.0 / 19.0));
    assert!(close(m.ndcg_at_50, 2.5 / 19.0));
    assert!(close(m.mrr_at_10, (2.0 + 1.0 / 3.0) / 19.0));
    Ok(())
}

#[test]
fn popularity_ranker_excludes_context_items() -> Result<()> {
    let points = fixture_points()?;
    // 151656 is the most popular but already in the context of 20001's second point.
    let ranker = PopularityRanker::new(vec![(151656, 9), (94688, 5), (1, 3)]);
    assert_eq!(ranker.rank(&points[1].context, 50), vec![94688, 1]);
    assert_eq!(ranker.rank(&points[0].context, 2), vec![151656, 94688]);
    let r = evaluate_redial(&points[..2], Protocol::Standard, &ranker, false);
    // Samples: 151656 at rank 1 (point 0), 151656 absent and 94688 at rank 1 (point 1).
    assert_eq!(r.counts, Counts { instances: 2, recommendations: 3 });
    assert!(close(r.metrics.recall_at_1, 2.0 / 3.0));
    Ok(())
}

#[test]
fn run_redial_writes_json_and_markdown() -> Result<()> {
    let out = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let opts = RedialEvalOptions {
        data_path: fixture(),
        limit: None,
        protocols: vec![Protocol::Standard, Protocol::Dedup, Protocol::Standard],
        out_dir: out.path().join("results"),
    };
    let ranker = Fixed::new(vec![101794, 144347, 128905]);
    let report = run_redial(&opts, &ranker)?;
    // Ranked once per point for both protocols.
    assert_eq!(ranker.calls.get(), 15);
    assert_eq!(report.results.len(), 2);
    assert_eq!(report.results[0].counts, Counts { instances: 15, recommendations: 23 });
    assert_eq!(report.results[1].counts, Counts { instances: 14, recommendations: 19 });
    assert_eq!((report.dialogues, report.points, report.k), (5, 15, 50));
    assert_eq!(report.data_path, "tests/fixtures/redial_dialogues.jsonl");
    // A data file other than the committed test split is named in the report files.
    assert_eq!(report.json_path, out.path().join("results/redial-fixed-list-redial_dialogues.json"));

    let json = std::fs::read_to_string(&report.json_path).map_err(|e| Error::io(&report.json_path, e))?;
    let back: EvalReport =
        serde_json::from_str(&json).map_err(|e| Error::parse(&report.json_path, 0, e.to_string()))?;
    // JSON keeps counts exactly and metrics to within float printing.
    assert_eq!(back.results.len(), report.results.len());
    for (b, r) in back.results.iter().zip(&report.results) {
        assert_eq!((b.protocol, b.counts, &b.ranker), (r.protocol, r.counts, &r.ranker));
        for ((name, x), (_, y)) in b.metrics.named().into_iter().zip(r.metrics.named()) {
            assert!((x - y).abs() < 1e-12, "{name}: {x} vs {y}");
        }
    }
    assert_eq!(back.data_sha256.len(), 64);
    assert!(json.contains("\"instances\": 15"), "{json}");
    assert!(json.contains("\"recommendations\": 23"), "{json}");

    let md = std::fs::read_to_string(&report.markdown_path).map_err(|e| Error::io(&report.markdown_path, e))?;
    assert!(md.contains("| standard | 15 | 23 | 0.0870 |"), "{md}");
    assert!(md.contains("| de-dup | 14 | 19 |"), "{md}");
    assert!(md.contains("## Published"), "{md}");
    assert!(md.contains("| standard | Popularity | .012 | .061 | .179 |"), "{md}");
    // No temporary files left behind.
    let names: Vec<String> = std::fs::read_dir(out.path().join("results"))
        .map_err(|e| Error::io(out.path(), e))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    Ok(())
}

#[test]
fn run_redial_limit_takes_first_points() -> Result<()> {
    let out = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let opts = RedialEvalOptions {
        data_path: fixture(),
        limit: Some(3),
        protocols: Protocol::ALL.to_vec(),
        out_dir: out.path().to_path_buf(),
    };
    let report = run_redial(&opts, &Fixed::new(vec![]))?;
    // The first three points are all in 20001: 1 + 2 + 1 movies, one of them a repeat.
    assert_eq!(report.points, 3);
    assert_eq!(report.results[0].counts, Counts { instances: 3, recommendations: 4 });
    assert_eq!(report.results[1].counts, Counts { instances: 3, recommendations: 3 });
    assert_eq!(report.results[0].metrics, curator::eval::Metrics::default());
    assert!(report.json_path.ends_with("redial-fixed-list-redial_dialogues-first3.json"));
    assert!(report.markdown_path.exists());
    let empty = RedialEvalOptions { protocols: vec![], ..opts };
    assert!(matches!(run_redial(&empty, &Fixed::new(vec![])), Err(Error::InvalidInput(_))));
    Ok(())
}

/// Ok when `text` fails to parse with an [`Error::Parse`] naming the file and `line`.
fn expect_parse_error(text: &str, line: usize) -> Result<()> {
    let path = Path::new("some/file.jsonl");
    match parse_redial(text, path) {
        Err(e @ Error::Parse { .. }) => {
            assert!(matches!(&e, Error::Parse { path: p, line: l, .. } if p.as_path() == path && *l == line), "{e}");
            assert!(e.to_string().starts_with(&format!("some/file.jsonl:{line}:")), "{e}");
            Ok(())
        }
        other => Err(Error::InvalidInput(format!("expected a parse error on line {line}, got {other:?}"))),
    }
}

#[test]
fn malformed_lines_are_errors_naming_file_and_line() -> Result<()> {
    let good = std::fs::read_to_string(fixture()).map_err(|e| Error::io(fixture(), e))?;
    let first = good.lines().next().unwrap_or_default().to_string();
    // Not JSON at all, after a blank line (line numbers count every line).
    expect_parse_error(&format!("{first}\n\n{{not json\n"), 3)?;
    // Truncated object.
    expect_parse_error(&format!("{first}\n{}\n", &first[..first.len() / 2]), 2)?;
    // Missing field.
    expect_parse_error(&first.replace("\"respondentWorkerId\"", "\"someoneElse\""), 1)?;
    // A questionnaire that is a non-empty list.
    expect_parse_error(
        &format!(
            "{first}\n{}",
            first.replacen("\"respondentQuestions\": {", "\"respondentQuestions\": [1], \"x\": {", 1)
        ),
        2,
    )?;
    // A label outside its codes.
    expect_parse_error(&first.replacen("\"seen\": 1", "\"seen\": 7", 1), 1)?;
    // A non-numeric movieId.
    expect_parse_error(&first.replacen("\"111776\": \"Super", "\"abc\": \"Super", 1), 1)?;
    // A missing file is an I/O error naming the path.
    let missing = load_redial(Path::new("/nonexistent/redial.jsonl"));
    assert!(
        matches!(&missing, Err(e @ Error::Io { .. }) if e.to_string().contains("/nonexistent/redial.jsonl")),
        "{missing:?}"
    );
    // Blank lines alone are fine.
    assert!(parse_redial("\n\n", Path::new("x"))?.is_empty());
    Ok(())
}

#[test]
fn run_redial_refuses_empty_data_and_a_zero_limit() -> Result<()> {
    let out = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let empty = out.path().join("empty.jsonl");
    std::fs::write(&empty, "").map_err(|e| Error::io(&empty, e))?;
    let opts = RedialEvalOptions { data_path: empty, out_dir: out.path().join("results"), ..Default::default() };
    let err = run_redial(&opts, &Fixed::new(vec![])).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("empty.jsonl") && err.contains("no evaluation points"), "{err}");
    assert!(!out.path().join("results").exists(), "nothing is written");
    let opts = RedialEvalOptions {
        data_path: fixture(),
        limit: Some(0),
        out_dir: out.path().join("results"),
        ..Default::default()
    };
    let err = run_redial(&opts, &Fixed::new(vec![])).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("--limit"), "{err}");
    Ok(())
}
