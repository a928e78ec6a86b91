//! The library API of the server: `AppState::start` + `router(state)` served in-process on
//! 127.0.0.1 (port 0), without the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use curator::server::{router, AppState, ServerOptions};

#[test]
fn router_serves_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let options = ServerOptions { db_path: dir.path().join("s.db"), queue_capacity: 2, ..ServerOptions::default() };
    let state = AppState::start(options, None).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, router(state)).await });

    let client = reqwest::blocking::Client::new();
    let r = client
        .post(format!("http://{addr}/v1/chat/completions"))
        .body(r#"{"messages":[{"role":"user","content":"I loved Heat and Collateral"}]}"#)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: serde_json::Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    assert_eq!(v["recommendations"].as_array().unwrap().len(), 3, "{v}");
    let r = client.get(format!("http://{addr}/readyz")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let doc = curator::server::openapi_document();
    assert_eq!(doc["openapi"], "3.1.0");
    rt.shutdown_background();
}
