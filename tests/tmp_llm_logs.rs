#[test]
fn logs() {
    tracing_subscriber::fmt().with_env_filter("info").with_writer(std::io::stderr).init();
    let p = std::path::PathBuf::from(std::env::var("CURATOR_MODEL").unwrap_or_default());
    let m = curator::llm::LlamaCppModel::load(&p, &Default::default());
    assert!(m.is_ok());
}
