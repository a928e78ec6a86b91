//! Unit tests of the llama.cpp backend that need no model file.

use super::*;

#[test]
fn log_prob_is_log_softmax() {
    let logits = [1.0f32, 2.0, 3.0];
    let z: f64 = logits.iter().map(|&l| (l as f64).exp()).sum();
    for (i, &l) in logits.iter().enumerate() {
        let want = (l as f64 - z.ln()) as f32;
        assert!((log_prob(&logits, LlamaToken(i as i32)) - want).abs() < 1e-6);
    }
    assert_eq!(log_prob(&logits, LlamaToken(7)), f32::NEG_INFINITY);
}

#[test]
fn bad_paths_are_errors_naming_the_path() {
    let dir = std::env::temp_dir().join(format!("curator-llama-test-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let missing = dir.join("nope.gguf");
    let err = check_gguf(&missing).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("nope.gguf") && err.contains("model fetch"), "{err}");
    let text = dir.join("text.gguf");
    let _ = std::fs::write(&text, b"hello world");
    let err = check_gguf(&text).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("text.gguf") && err.contains("not a GGUF"), "{err}");
    let tiny = dir.join("tiny.gguf");
    let _ = std::fs::write(&tiny, b"GG");
    let err = check_gguf(&tiny).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("tiny.gguf"), "{err}");
    let err = check_gguf(&dir).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("directory"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sampler_rejects_bad_parameters() {
    let bad_t = GenerationParams { temperature: -1.0, ..Default::default() };
    assert!(matches!(sampler(&bad_t), Err(Error::InvalidInput(_))));
    let bad_p = GenerationParams { temperature: 0.7, top_p: 0.0, ..Default::default() };
    assert!(matches!(sampler(&bad_p), Err(Error::InvalidInput(_))));
    assert!(sampler(&GenerationParams::default()).is_ok());
}
