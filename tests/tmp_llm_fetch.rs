#[test]
fn fetch() {
    let t = std::time::Instant::now();
    let r = curator::llm::fetch_default_model(true);
    eprintln!("FETCH {r:?} in {:.1}s", t.elapsed().as_secs_f64());
    let t = std::time::Instant::now();
    let r2 = curator::llm::fetch_default_model(true);
    eprintln!("FETCH2 {r2:?} in {:.3}s", t.elapsed().as_secs_f64());
    assert!(r.is_ok());
}
