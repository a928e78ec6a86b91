//! The raw mistral.rs benchmark: the `mistralrs` SDK called directly (its own streaming chat
//! request, none of Curator's wrapper), on the same GGUF and the same dialogue as `curator bench`
//! (`curator::llm::bench_messages`), loaded as Curator's backend loads it (CPU, prefix cache off):
//! one warm-up run, then `RUNS` timed runs of up to 64 greedy tokens. Prompt speed is the prompt
//! tokens over the time to the first streamed chunk; decode speed is the chunks over the time from
//! the first chunk to the end of the stream: the definitions of Curator's mistral.rs backend
//! (where the end of prompt processing cannot be seen apart from the first token). Prints one JSON line
//! in `curator bench`'s field names, with mistral.rs's own engine-side figures (`usage`) beside.
//!
//! `cargo run --release --features mistralrs --example raw_mistralrs -- [MODEL.gguf] [RUNS]`
//! (defaults: the default model, 3). `scripts/bench_engines.sh` runs it beside `curator bench
//! --backend mistralrs` and prints their ratio.

use std::time::Instant;

use mistralrs::{GgufModelBuilder, RequestBuilder, Response, TextMessageRole};

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).map(std::path::PathBuf::from).unwrap_or_else(curator::llm::default_model_path);
    let runs: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(3).max(1);
    let path = path.canonicalize()?;
    let dir = path.parent().ok_or("the model path has no folder")?.to_string_lossy().into_owned();
    let file = path.file_name().ok_or("the model path has no file name")?.to_string_lossy().into_owned();
    let model = GgufModelBuilder::new(dir, vec![file])
        .with_token_source(mistralrs::core::TokenSource::None)
        .with_prefix_cache_n(None)
        .with_force_cpu()
        .build()
        .await?;

    let (mut prompt_s, mut gen_s, mut generated, mut prompt_tokens) = (0.0f64, 0.0f64, 0usize, 0usize);
    let (mut engine_prompt, mut engine_decode) = (0.0f64, 0.0f64);
    for run in 0..=runs {
        let mut request = RequestBuilder::new().set_deterministic_sampler().set_sampler_max_len(64);
        for m in curator::llm::bench_messages() {
            let role = match m.role {
                curator::llm::ChatRole::System => TextMessageRole::System,
                curator::llm::ChatRole::User => TextMessageRole::User,
                curator::llm::ChatRole::Assistant => TextMessageRole::Assistant,
            };
            request = request.add_message(role, m.content);
        }
        let t0 = Instant::now();
        let mut stream = model.stream_chat_request(request).await?;
        let (mut first, mut chunks) = (None, 0usize);
        while let Some(answer) = stream.next().await {
            match answer {
                Response::Chunk(c) => {
                    let now = t0.elapsed().as_secs_f64();
                    for choice in &c.choices {
                        if choice.delta.content.as_deref().is_some_and(|t| !t.is_empty()) {
                            first.get_or_insert(now);
                            chunks += 1;
                        }
                    }
                    if let Some(u) = &c.usage {
                        if run > 0 {
                            prompt_tokens = u.prompt_tokens;
                            engine_prompt += f64::from(u.avg_prompt_tok_per_sec) / runs as f64;
                            engine_decode += f64::from(u.avg_compl_tok_per_sec) / runs as f64;
                        }
                    }
                    if c.choices.iter().any(|ch| ch.finish_reason.is_some()) {
                        break;
                    }
                }
                Response::InternalError(e) | Response::ValidationError(e) => return Err(e.to_string().into()),
                Response::ModelError(e, _) => return Err(e.into()),
                _ => return Err("unexpected response kind".into()),
            }
        }
        let end = t0.elapsed().as_secs_f64();
        if run > 0 {
            let first = first.unwrap_or(end);
            prompt_s += first;
            gen_s += end - first;
            generated += chunks;
        }
    }
    println!(
        "{{\"engine\":\"mistralrs raw\",\"runs\":{runs},\"prompt_tokens\":{prompt_tokens},\"prompt_tokens_per_second\":{:.2},\"generated_tokens\":{},\"generation_tokens_per_second\":{:.2},\"engine_prompt_tokens_per_second\":{engine_prompt:.2},\"engine_generation_tokens_per_second\":{engine_decode:.2}}}",
        (prompt_tokens * runs) as f64 / prompt_s,
        generated / runs,
        generated as f64 / gen_s,
    );
    Ok(())
}
