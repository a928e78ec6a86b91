//! The raw engine benchmark: llama.cpp through `llama-cpp-2` directly, with none of Curator's
//! wrapper (no UTF-8 stream, no cache bookkeeping, no stats), on the same static libraries and the
//! same prompt as `curator bench` (`curator::llm::bench_messages`, SmolLM2's chat template):
//! one warm-up run, then `RUNS` timed runs, each from an empty KV cache — the whole prompt in
//! one batch, then up to 64 greedy tokens one at a time. Prints one JSON line with the prompt and
//! decode tokens per second (total tokens over total time) in `curator bench`'s field names.
//!
//! `cargo run --release --example raw_llama -- [MODEL.gguf] [THREADS] [RUNS]` (defaults: the
//! default model, the available parallelism, 3). `scripts/bench_engines.sh` runs it beside
//! `curator bench` and prints their ratio.

use std::num::NonZeroU32;
use std::time::Instant;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).map(std::path::PathBuf::from).unwrap_or_else(curator::llm::default_model_path);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let threads: i32 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(cores as i32);
    let runs: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(3).max(1);

    let mut backend = LlamaBackend::init()?;
    backend.void_logs();
    let model = LlamaModel::load_from_file(&backend, &path, &LlamaModelParams::default())?;
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(2048))
        .with_n_batch(512)
        .with_n_ubatch(512)
        .with_n_threads(threads)
        .with_n_threads_batch(threads)
        .with_flash_attention_policy(0);
    let mut ctx = model.new_context(&backend, params)?;
    let template = model.chat_template(None)?;
    let chat = curator::llm::bench_messages()
        .iter()
        .map(|m| LlamaChatMessage::new(m.role.as_str().to_string(), m.content.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let prompt = model.apply_chat_template(&template, &chat, true)?;
    let tokens = model.vocab().tokenize(prompt.as_bytes(), true, true);

    let (mut prompt_s, mut gen_s, mut generated) = (0.0f64, 0.0f64, 0usize);
    for run in 0..=runs {
        ctx.clear_kv_cache();
        let mut batch = LlamaBatch::new(512, 1);
        let last = tokens.len() - 1;
        for (i, &t) in tokens.iter().enumerate() {
            batch.add(t, i as i32, &[0], i == last)?;
        }
        let t0 = Instant::now();
        ctx.decode(&mut batch)?;
        let p = t0.elapsed().as_secs_f64();
        let mut sampler = LlamaSampler::greedy();
        let mut idx = batch.n_tokens() - 1;
        let mut pos = tokens.len() as i32;
        let mut n = 0;
        let t1 = Instant::now();
        while n < 64 {
            let tok = sampler.sample(&ctx, idx);
            if model.vocab().is_eog(tok) {
                break;
            }
            n += 1;
            if n == 64 {
                break;
            }
            batch.clear();
            batch.add(tok, pos, &[0], true)?;
            pos += 1;
            ctx.decode(&mut batch)?;
            idx = 0;
        }
        let g = t1.elapsed().as_secs_f64();
        if run > 0 {
            prompt_s += p;
            gen_s += g;
            generated += n;
        }
    }
    println!(
        "{{\"engine\":\"llama-cpp-2 raw\",\"threads\":{threads},\"runs\":{runs},\"prompt_tokens\":{},\"prompt_tokens_per_second\":{:.2},\"generated_tokens\":{},\"generation_tokens_per_second\":{:.2}}}",
        tokens.len(),
        (tokens.len() * runs) as f64 / prompt_s,
        generated / runs,
        generated as f64 / gen_s
    );
    Ok(())
}
