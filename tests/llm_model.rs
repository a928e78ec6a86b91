//! Integration tests of the llama.cpp backend against the real default model
//! (SmolLM2-135M-Instruct Q4_1): `$CURATOR_MODEL` if set, else `default_model_path()`.
//!
//! A missing model is a failure, never a silent pass: run `cargo run --release -- model fetch`
//! (or `make model`) first. The model is loaded once; each check is small (≤ 32 generated tokens).
//! Timings (`-- --ignored --nocapture`): `throughput_on_the_bench_dialogue` and
//! `five_turn_chat_with_and_without_kv_reuse`.

use curator::llm::{
    default_model_path, generate_text, measure_throughput, ChatMessage, GenerationParams, LanguageModel, LlamaCppModel,
    LlamaOptions, StopReason,
};
use curator::{Error, Result};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

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

/// Prompt and generation speed on the bench dialogue (`-- --ignored --nocapture`).
#[test]
#[ignore = "timing; run with --ignored --nocapture"]
fn throughput_on_the_bench_dialogue() -> Result<()> {
    let t0 = Instant::now();
    model()?;
    let first_load_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let t1 = Instant::now();
    let _second = LlamaCppModel::load(&model_path(), &LlamaOptions::default())?;
    let context_only_ms = t1.elapsed().as_secs_f64() * 1000.0;
    with_model(|m| {
        let t = measure_throughput(m, 3)?;
        println!("{}", serde_json::to_string_pretty(&t).unwrap_or_default());
        println!(
            "threads {} | first load {first_load_ms:.0} ms | reload (new context only) {context_only_ms:.1} ms",
            LlamaOptions::default().n_threads
        );
        Ok(())
    })
}

/// A 5-turn chat: one persistent context with prefix reuse (the default) against processing the
/// whole dialogue every turn (what a context per call costs, plus its creation).
#[test]
#[ignore = "timing; run with --ignored --nocapture"]
fn five_turn_chat_with_and_without_kv_reuse() -> Result<()> {
    let turns = [
        "Hi! Can you recommend a science-fiction movie?",
        "I have seen that one. Something older, maybe from the 1980s?",
        "Nice. Is it scary? I don't like horror much.",
        "What about something funny instead?",
        "Thanks! One last one for a family evening?",
    ];
    let params = GenerationParams { max_tokens: 48, ..Default::default() };
    with_model(|m| {
        for reuse in [true, false] {
            m.reset_cache();
            let mut dialogue = vec![ChatMessage::system("You are Curator, a friendly movie recommender.")];
            let t = Instant::now();
            let (mut prefilled, mut generated) = (0, 0);
            for turn in turns {
                dialogue.push(ChatMessage::user(turn));
                if !reuse {
                    m.reset_cache();
                }
                let (reply, s) = generate_text(m, &dialogue, &params)?;
                prefilled += s.prompt_tokens - s.cached_prompt_tokens;
                generated += s.generated_tokens;
                dialogue.push(ChatMessage::assistant(reply.trim()));
            }
            println!(
                "kv reuse {reuse}: {:.0} ms for 5 turns, {prefilled} prompt tokens processed, {generated} generated",
                t.elapsed().as_secs_f64() * 1000.0
            );
        }
        Ok(())
    })
}

/// Per-title scoring cost with the shared prompt cached against re-reading it for every title.
#[test]
#[ignore = "timing; run with --ignored --nocapture"]
fn scoring_titles_after_a_cached_prompt() -> Result<()> {
    let titles = [
        "Alien (1979)",
        "Aliens (1986)",
        "The Thing (1982)",
        "Arrival (2016)",
        "Blade Runner (1982)",
        "The Fly (1986)",
        "Predator (1987)",
        "Moon (2009)",
        "Sunshine (2007)",
        "Event Horizon (1997)",
    ];
    with_model(|m| {
        let prompt = m.apply_chat_template(&curator::llm::bench_messages())? + "1. ";
        for cached in [true, false] {
            m.continuation_logprobs(&prompt, " warm-up")?;
            let t = Instant::now();
            for title in titles {
                if !cached {
                    m.reset_cache();
                }
                m.continuation_logprobs(&prompt, &format!("{title}\n"))?;
            }
            let per_title = t.elapsed().as_secs_f64() * 1000.0 / titles.len() as f64;
            println!("prompt cached {cached}: {per_title:.1} ms per title");
        }
        Ok(())
    })
}
