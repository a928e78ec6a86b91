//! Throughput of a [`LanguageModel`] on a fixed dialogue, for `curator bench`.
//!
//! One warm-up call (it pages the weights in), then `runs` timed calls, each with the cache reset
//! so that the whole prompt is processed. Greedy decoding makes every run produce the same tokens.

use super::{per_second, ChatMessage, GenerationParams, GenerationStats, LanguageModel};
use crate::{Error, Result};
use serde::Serialize;

/// The fixed benchmark dialogue: a system prompt and a seeker's request (≈ 150 tokens with
/// SmolLM2's template).
pub fn bench_messages() -> Vec<ChatMessage> {
    vec![
        ChatMessage::system(
            "You are Curator, a friendly movie recommender. Recommend films that exist, give the \
             year in parentheses after each title, and explain in one short sentence why the \
             seeker would like each one. Ask a follow-up question when the request is vague.",
        ),
        ChatMessage::user(
            "Hi! Last weekend I watched Alien (1979) and The Thing (1982) and loved how tense and \
             claustrophobic they were. I also enjoyed Arrival (2016), but I found Interstellar \
             (2014) a bit too long. I don't like gore for its own sake, and I prefer practical \
             effects to CGI. Could you suggest five movies I should watch next, with a sentence \
             on each?",
        ),
    ]
}

/// Tokens generated per timed run (greedy; fewer if the model ends its turn earlier).
const BENCH_MAX_TOKENS: usize = 64;

/// Result of [`measure_throughput`]; rates are means over the timed runs, times in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Throughput {
    /// The model's [`LanguageModel::name`].
    pub model: String,
    /// Timed runs (the warm-up run is not counted).
    pub runs: usize,
    /// Prompt tokens processed per run.
    pub prompt_tokens: usize,
    /// Tokens generated per run (at most 64).
    pub generated_tokens: usize,
    /// Prompt processing speed, tokens per second (total prompt tokens over total prompt time).
    pub prompt_tokens_per_second: f64,
    /// Generation speed, tokens per second (total generated tokens over total generation time).
    pub generation_tokens_per_second: f64,
    /// Mean time from the start of a call to its first sampled token.
    pub time_to_first_token_ms: f64,
}

/// Measures prompt and generation speed of `model` on [`bench_messages`]: one warm-up call and
/// `runs` timed calls (at least 1), each generating up to 64 tokens greedily after
/// [`LanguageModel::reset_cache`].
///
/// Errors: [`Error::InvalidInput`] if `runs` is 0; any error of [`LanguageModel::generate`].
pub fn measure_throughput(model: &mut dyn LanguageModel, runs: usize) -> Result<Throughput> {
    if runs == 0 {
        return Err(Error::InvalidInput("measure_throughput needs at least one run".into()));
    }
    let messages = bench_messages();
    let params = GenerationParams { max_tokens: BENCH_MAX_TOKENS, temperature: 0.0, ..Default::default() };

    let mut timed: Vec<GenerationStats> = Vec::with_capacity(runs);
    for run in 0..=runs {
        model.reset_cache();
        let stats = model.generate(&messages, &params, &mut |_| true)?;
        if run > 0 {
            timed.push(stats);
        }
    }
    let sum = |f: fn(&GenerationStats) -> f64| timed.iter().map(f).sum::<f64>();
    let prompt_new: usize = timed.iter().map(|s| s.prompt_tokens - s.cached_prompt_tokens).sum();
    let generated: usize = timed.iter().map(|s| s.generated_tokens).sum();
    Ok(Throughput {
        model: model.name().to_string(),
        runs,
        prompt_tokens: timed.first().map(|s| s.prompt_tokens).unwrap_or(0),
        generated_tokens: timed.first().map(|s| s.generated_tokens).unwrap_or(0),
        prompt_tokens_per_second: per_second(prompt_new, sum(|s| s.prompt_ms)),
        generation_tokens_per_second: per_second(generated, sum(|s| s.generation_ms)),
        time_to_first_token_ms: sum(|s| s.time_to_first_token_ms) / runs as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::StopReason;

    /// Reports fixed timings; checks that the bench resets the cache before every call.
    struct Fixed {
        resets: usize,
        calls: usize,
    }

    impl LanguageModel for Fixed {
        fn name(&self) -> &str {
            "fixed"
        }
        fn apply_chat_template(&self, _: &[ChatMessage]) -> Result<String> {
            Ok(String::new())
        }
        fn generate(
            &mut self,
            messages: &[ChatMessage],
            params: &GenerationParams,
            _: &mut dyn FnMut(&str) -> bool,
        ) -> Result<GenerationStats> {
            assert_eq!(messages.len(), 2);
            assert_eq!(params.temperature, 0.0);
            self.calls += 1;
            assert_eq!(self.resets, self.calls, "cache reset before each call");
            Ok(GenerationStats {
                prompt_tokens: 150,
                cached_prompt_tokens: 0,
                generated_tokens: 64,
                prompt_ms: 750.0,
                generation_ms: 800.0,
                time_to_first_token_ms: 760.0,
                stop_reason: StopReason::MaxTokens,
            })
        }
        fn reset_cache(&mut self) {
            self.resets += 1;
        }
    }

    #[test]
    fn rates_come_from_timed_runs_only() -> Result<()> {
        let mut m = Fixed { resets: 0, calls: 0 };
        let t = measure_throughput(&mut m, 3)?;
        assert_eq!(m.calls, 4, "one warm-up and three timed runs");
        assert_eq!((t.runs, t.prompt_tokens, t.generated_tokens), (3, 150, 64));
        assert!((t.prompt_tokens_per_second - 200.0).abs() < 1e-9);
        assert!((t.generation_tokens_per_second - 80.0).abs() < 1e-9);
        assert!((t.time_to_first_token_ms - 760.0).abs() < 1e-9);
        assert!(serde_json::to_string(&t).is_ok_and(|j| j.contains("\"prompt_tokens_per_second\"")));
        assert!(measure_throughput(&mut m, 0).is_err());
        Ok(())
    }
}
