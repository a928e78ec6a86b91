//! The OpenAI-compatible client's response parsers on arbitrary bytes: the chat-completions
//! event stream (server-sent events), the log-prob answers of vLLM and SGLang, the tail of
//! log-probs covering a continuation, and list titles of a free reply.
#![no_main]

use std::time::Instant;

use curator::llm::remote::{
    list_titles, parse_sglang_input_logprobs, parse_vllm_prompt_logprobs, read_chat_stream, tail_logprobs,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut text = String::new();
    let _ = read_chat_stream(data, "http://127.0.0.1:1/v1/chat/completions", Instant::now(), &mut |t| {
        text.push_str(t);
        text.len() < 4096
    });
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        for tokens in [parse_vllm_prompt_logprobs(&v), parse_sglang_input_logprobs(&v)].into_iter().flatten() {
            let _ = tail_logprobs(&tokens, " Heat (1995)");
            if let Some((t, _)) = tokens.last() {
                let _ = tail_logprobs(&tokens, t);
            }
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = list_titles(s);
    }
});
