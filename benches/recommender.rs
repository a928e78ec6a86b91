//! Speed of the collaborative recommender tool (DESIGN.md §7; issue: ≤ 200 ms to load at agent
//! start, ≤ 2 ms per `recommend_candidates(state, 200)`): loads the committed
//! `catalogs/movies/recommender.bin`, then times `recommend_candidates` for k = 200 on the
//! dialogue states of the ReDial test split's evaluation points (seeded like the agent). Prints
//! JSON. Run: `cargo bench --bench recommender` (release). A benchmark, not a test: figures taken
//! while other work shares the cores are contaminated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Instant;

use curator::recommender::Recommender;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("catalogs/movies");
    let t0 = Instant::now();
    let model = curator::recommender::ItemModel::load(&dir.join("recommender.bin")).unwrap();
    let load_model_ms = t0.elapsed().as_secs_f64() * 1e3;
    let t0 = Instant::now();
    let assets = curator::assets::Assets::load(&dir, None).unwrap();
    let (catalog, ranker) = (assets.catalog.clone(), assets.ranker.clone());
    let load_ranker_ms = t0.elapsed().as_secs_f64() * 1e3;
    let test = root.join("evals/redial/test.jsonl");
    let dialogues = curator::eval::load_redial(&test).unwrap();
    let points = curator::eval::extract_points(&dialogues);
    let tools = curator::agent::ToolRanker::from_assets(&assets);
    let states: Vec<_> = points.iter().map(|p| ranker.rec_state(&tools.state_for(&p.context), &catalog)).collect();
    // Warm-up, then timed calls.
    for s in states.iter().take(200) {
        std::hint::black_box(model.recommend_candidates(s, 200).unwrap());
    }
    let mut us: Vec<f64> = Vec::with_capacity(states.len());
    for s in &states {
        let t = Instant::now();
        std::hint::black_box(model.recommend_candidates(s, 200).unwrap());
        us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    us.sort_by(f64::total_cmp);
    let pct = |q: f64| us[((us.len() as f64 - 1.0) * q).round() as usize];
    let mean = us.iter().sum::<f64>() / us.len() as f64;
    println!(
        "{{\"model\": \"{}\", \"entries\": {}, \"load_model_ms\": {load_model_ms:.1}, \"load_ranker_ms\": {load_ranker_ms:.1}, \"calls\": {}, \"k\": 200, \"mean_us\": {mean:.1}, \"p50_us\": {:.1}, \"p99_us\": {:.1}, \"max_us\": {:.1}}}",
        model.info().spec.describe(),
        model.entries(),
        us.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}
