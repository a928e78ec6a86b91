//! Integration tests of the llama.cpp backend against the real default model
//! (SmolLM2-135M-Instruct Q4_1): `$CURATOR_MODEL` if set, else `default_model_path()`.
//!
//! A missing model is a failure, never a silent pass: run `cargo run --release -- model fetch`
//! (or `make model`) first. The model is loaded once; each check is small (≤ 32 generated tokens).
//! Speed figures are not tests: `curator bench` measures them.

use curator::llm::{
    default_model_path, generate_text, ChatMessage, GenerationParams, LanguageModel, LlamaCppModel, LlamaOptions,
    StopReason,
};
use curator::{Error, Result};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

fn model_path() -> PathBuf {
    std::env::var_os("CURATOR_MODEL").map(PathBuf::from).unwrap_or_else(default_model_path)
}

/// The shared model, loaded once for all tests of this file.
fn model() -> Result<&'static Mutex<LlamaCppModel>> {
    static MODEL: OnceLock<std::result::Result<Mutex<LlamaCppModel>, String>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let path = model_path();
            if !path.is_file() {
                return Err(format!(
                    "the model file {} is missing: run `cargo run --release -- model fetch` (or \
                     `make model`), or point CURATOR_MODEL at a GGUF file",
                    path.display()
                ));
            }
            LlamaCppModel::load(&path, &LlamaOptions::default()).map(Mutex::new).map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Missing(e.clone()))
}

fn with_model<T>(f: impl FnOnce(&mut LlamaCppModel) -> Result<T>) -> Result<T> {
    let lock = model()?;
    let mut guard = lock.lock().map_err(|_| Error::Model("a previous test panicked holding the model".into()))?;
    f(&mut guard)
}

#[test]
fn chat_template_and_greedy_generation() -> Result<()> {
    with_model(|m| {
        let messages = [ChatMessage::user("What is the capital of France? Answer in one word.")];
        let prompt = m.apply_chat_template(&messages)?;
        assert!(
            prompt.contains("<|im_start|>user\nWhat is the capital of France?")
                && prompt.ends_with("<|im_start|>assistant\n"),
            "unexpected template output: {prompt:?}"
        );
        assert!(m.is_end_of_generation(2), "<|im_end|> (id 2) must end a turn");

        let params = GenerationParams { max_tokens: 32, ..Default::default() };
        m.reset_cache();
        let mut pieces: Vec<String> = Vec::new();
        let stats = m.generate(&messages, &params, &mut |p| {
            pieces.push(p.to_string());
            true
        })?;
        let streamed = pieces.concat();
        assert!(!streamed.trim().is_empty(), "empty reply; stats {stats:?}");
        assert!(pieces.iter().all(|p| !p.is_empty()));
        assert!(!streamed.contains("<|im_end|>") && !streamed.contains("<|im_start|>"), "{streamed:?}");
        assert!((1..=32).contains(&stats.generated_tokens), "{stats:?}");
        assert!(matches!(stats.stop_reason, StopReason::EndOfTurn | StopReason::MaxTokens));
        assert_eq!(stats.cached_prompt_tokens, 0);
        assert!(stats.prompt_tokens > 10 && stats.prompt_tokens_per_second() > 0.0, "{stats:?}");

        // Same request again: the prompt comes from the cache and greedy decoding repeats itself.
        let (again, stats2) = generate_text(m, &messages, &params)?;
        assert_eq!(again, streamed);
        assert_eq!(stats2.cached_prompt_tokens, stats2.prompt_tokens - 1, "{stats2:?}");

        // Stopping from the callback.
        let mut n = 0;
        let stats3 = m.generate(&messages, &params, &mut |_| {
            n += 1;
            false
        })?;
        assert_eq!((n, stats3.stop_reason), (1, StopReason::Cancelled));
        Ok(())
    })
}

#[test]
fn continuation_logprobs_prefer_sensible_text() -> Result<()> {
    with_model(|m| {
        assert!(m.supports_logprobs());
        let prompt = "The capital of France is";
        m.reset_cache();
        let paris_cold = m.continuation_logprobs(prompt, " Paris")?;
        let banana = m.continuation_logprobs(prompt, " Banana")?;
        let paris_warm = m.continuation_logprobs(prompt, " Paris")?;
        for (what, lps) in [("Paris", &paris_cold), ("Banana", &banana)] {
            assert_eq!(lps.len(), m.tokenize(&format!(" {what}"), false).len());
            assert!(lps.iter().all(|x| x.is_finite() && *x < 0.0), "{what}: {lps:?}");
        }
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!(mean(&paris_cold) > mean(&banana), "Paris {paris_cold:?} vs Banana {banana:?}");
        // Reusing the cached prompt does not change the scores beyond float rounding.
        for (a, b) in paris_cold.iter().zip(&paris_warm) {
            assert!((a - b).abs() < 1e-3, "cold {paris_cold:?} vs warm {paris_warm:?}");
        }
        // Multi-token continuation with an end-of-item token: one value per token.
        let lps = m.continuation_logprobs("My favourite film is", " Alien (1979)<|im_end|>")?;
        assert_eq!(lps.len(), m.tokenize(" Alien (1979)<|im_end|>", false).len());
        assert!(matches!(m.continuation_logprobs(prompt, ""), Err(Error::InvalidInput(_))));
        Ok(())
    })
}

#[test]
fn prompts_longer_than_the_context_are_errors() -> Result<()> {
    // A second, small context on the same (already loaded) weights; llama.cpp rounds the
    // size up (to 256), so the prompt is made well longer than that. Holding the shared model's
    // lock keeps model tests from competing for the CPU.
    with_model(|_| {
        let mut small = LlamaCppModel::load(&model_path(), &LlamaOptions { n_ctx: 64, ..Default::default() })?;
        let n_ctx = small.n_ctx();
        assert!((64..=256).contains(&n_ctx), "{n_ctx}");
        let long = "movies ".repeat(600);
        match small.generate(&[ChatMessage::user(long.clone())], &GenerationParams::default(), &mut |_| true) {
            Err(Error::ContextOverflow { needed, n_ctx: reported }) => {
                assert!(needed > n_ctx && reported == n_ctx, "{needed} {reported}")
            }
            other => return Err(Error::Model(format!("expected a context overflow, got {other:?}"))),
        }
        let err = small.continuation_logprobs(&long, " x").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(&n_ctx.to_string()), "{err}");
        // The model still works after the errors.
        let params = GenerationParams { max_tokens: 8, ..Default::default() };
        let (text, stats) = generate_text(&mut small, &[ChatMessage::user("Hi")], &params)?;
        assert!(stats.generated_tokens > 0 && !text.is_empty(), "{stats:?}");
        Ok(())
    })
}

#[test]
fn bad_model_paths_are_errors_naming_the_path() {
    let dir = tempfile::tempdir().ok();
    let base = dir.as_ref().map(|d| d.path().to_path_buf()).unwrap_or_else(std::env::temp_dir);
    let missing = base.join("no-such-model.gguf");
    let err = LlamaCppModel::load(&missing, &LlamaOptions::default()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("no-such-model.gguf"), "{err}");
    let not_gguf = base.join("notes.gguf");
    assert!(std::fs::write(&not_gguf, "just text, not weights").is_ok());
    let err = LlamaCppModel::load(&not_gguf, &LlamaOptions::default()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("notes.gguf") && err.contains("not a GGUF"), "{err}");
    // A GGUF header followed by garbage: llama.cpp itself rejects it, and we still get an error.
    let truncated = base.join("truncated.gguf");
    assert!(std::fs::write(&truncated, b"GGUF\x03\x00\x00\x00garbage").is_ok());
    let err =
        LlamaCppModel::load(&truncated, &LlamaOptions::default()).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("truncated.gguf"), "{err}");
}

#[test]
fn a_saved_cache_is_a_file_restored_after_another_dialogue() -> Result<()> {
    with_model(|m| {
        let params = GenerationParams { max_tokens: 8, ..Default::default() };
        let a = [ChatMessage::user("Name one film by Christopher Nolan.")];
        let b = [ChatMessage::user("What colour is the sky on a clear day?")];
        m.reset_cache();
        let (reply_a, _) = generate_text(m, &a, &params)?;
        let snapshot = m.save_cache().ok_or_else(|| Error::Model("no snapshot of a non-empty cache".into()))?;
        assert!(!snapshot.tokens.is_empty() && snapshot.bytes > 10_000, "{snapshot:?}");

        // Another dialogue takes the context; restoring gives dialogue A's cache back.
        let (_, stats_b) = generate_text(m, &b, &params)?;
        assert!(stats_b.cached_prompt_tokens < stats_b.prompt_tokens - 1, "{stats_b:?}");
        assert!(m.restore_cache(&snapshot));
        let (again, stats) = generate_text(m, &a, &params)?;
        assert_eq!(again, reply_a, "greedy decoding from the restored cache");
        assert_eq!(stats.cached_prompt_tokens, stats.prompt_tokens - 1, "{stats:?}");

        // The snapshot is a file of this process's cache folder, removed with the snapshot.
        let files = snapshot_files();
        assert!(!files.is_empty(), "no file in {}/curator-kv-{}-*", std::env::temp_dir().display(), std::process::id());
        assert!(files.iter().any(|(_, len)| *len == snapshot.bytes as u64), "{files:?} vs {snapshot:?}");
        drop(snapshot);
        assert_eq!(snapshot_files().len(), files.len() - 1);
        Ok(())
    })
}

/// The snapshot files (path, bytes) of this process's cache folders (`<temp>/curator-kv-<pid>-<n>/`).
fn snapshot_files() -> Vec<(PathBuf, u64)> {
    let prefix = format!("curator-kv-{}-", std::process::id());
    let mut files = Vec::new();
    for dir in std::fs::read_dir(std::env::temp_dir()).into_iter().flatten().flatten() {
        if !dir.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        for f in std::fs::read_dir(dir.path()).into_iter().flatten().flatten() {
            files.push((f.path(), f.metadata().map(|m| m.len()).unwrap_or(0)));
        }
    }
    files
}

#[test]
fn a_moved_dialogue_window_is_shifted_in_the_cache_and_scores_stay_exact() -> Result<()> {
    with_model(|m| {
        let params = GenerationParams { max_tokens: 8, ..Default::default() };
        let sys = ChatMessage::system("You are a helpful movie expert.");
        let turns = [
            ChatMessage::user("I loved Heat and Collateral, what else should I watch tonight with my friends?"),
            ChatMessage::assistant("Try Thief (1981): another Michael Mann crime story with a careful, quiet heist."),
            ChatMessage::user("I have seen Thief already. Something like The Departed, with a big cast, maybe?"),
            ChatMessage::assistant(
                "Then The Town (2010): Boston robbers, an FBI agent on their trail, and a bank job.",
            ),
        ];
        let new = ChatMessage::user("Any good heist movies from the nineties, nothing too long?");
        // The whole dialogue, then the window without its first exchange (what `agent::window`
        // does when the context fills up).
        let whole: Vec<ChatMessage> = std::iter::once(sys.clone()).chain(turns.iter().cloned()).collect();
        let moved: Vec<ChatMessage> =
            [sys.clone()].into_iter().chain(turns[2..].iter().cloned()).chain([new.clone()]).collect();
        m.reset_cache();
        generate_text(m, &whole, &params)?;
        let (reply, stats) = generate_text(m, &moved, &params)?;
        // Only the new message (and its template) is decoded: the kept turns were shifted back.
        let system_only = m.token_ids(&m.apply_chat_template(std::slice::from_ref(&sys))?)?.len();
        assert!(stats.cached_prompt_tokens > system_only + 32, "{stats:?}");
        assert!(stats.prompt_tokens - stats.cached_prompt_tokens < 40, "{stats:?}");
        assert!(!reply.trim().is_empty(), "no reply after the shift");

        // Scores never reuse shifted keys: the same scores as from an empty cache.
        let prompt = m.apply_chat_template(&moved)?;
        let shifted = m.continuation_logprobs(&prompt, "Heat")?;
        m.reset_cache();
        let fresh = m.continuation_logprobs(&prompt, "Heat")?;
        assert_eq!(shifted, fresh);
        Ok(())
    })
}
