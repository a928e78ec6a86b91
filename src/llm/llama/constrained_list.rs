//! The llama.cpp backend's constrained list loop ([`LanguageModel::generate_constrained`](super::super::LanguageModel::generate_constrained)):
//! markers decoded in batches before the next choice, shown text never decoded in the call,
//! single title paths decoded in one batch with each token's log-probability.

use std::time::Instant;

use llama_cpp_2::token::LlamaToken;

use super::super::constrained::{pick, Choice, ListConstraint, SplitMix64, Step};
use super::super::utf8::Utf8Stream;
use super::super::{ChatMessage, GenerationParams, GenerationStats, StopReason};
use super::score_trie::{log_prob, log_sum_exp};
use super::{elapsed_ms, nanos, sampler, LlamaCppModel, Prefilled};
use crate::{Error, Result};

impl LlamaCppModel {
    /// [`LanguageModel::generate_constrained`](super::super::LanguageModel::generate_constrained)
    /// for llama.cpp (same contract and errors).
    pub(super) fn constrained_list(
        &mut self,
        messages: &[ChatMessage],
        params: &GenerationParams,
        constraint: &mut ListConstraint<'_>,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<GenerationStats> {
        let start = Instant::now();
        let mut sampler = sampler(params)?;
        let mut rng = SplitMix64::new(u64::from(params.seed));
        let end_item = match self.tokens("\n", false).as_slice() {
            [t] => *t,
            other => {
                return Err(Error::Model(format!(
                    "{}: a newline is {} tokens; constrained lists need it to be one",
                    self.name,
                    other.len()
                )))
            }
        };
        // The prompt is processed when the model is first needed: text shown before that (the
        // caller's fixed opening) reaches the seeker at once, while the prompt is read.
        let mut pre: Option<Prefilled> = None;
        let mut idx = 0;
        let mut gen_start = start;
        // Milliseconds to the first text of the model's part (a forced marker, a sampled or
        // chosen token): shown text does not count.
        let mut ttft = None;
        let mut generated = 0usize;
        let mut utf8 = Utf8Stream::default();
        let mut piece = Vec::new();
        let mut cancelled = false;
        // Forced text (list markers) is shown at once and decoded, in one batch, only when the
        // model next has to choose (`pending`); shown text (the caller's opening, reasons and
        // closing) is never decoded here: `prefill_only` decodes the reply as shown while the
        // seeker reads, or the next turn's prompt does.
        let mut pending: Vec<LlamaToken> = Vec::new();
        let emit = |bytes: &[u8], utf8: &mut Utf8Stream, on_text: &mut dyn FnMut(&str) -> bool| -> bool {
            let text = utf8.push(bytes);
            text.is_empty() || on_text(&text)
        };
        let stop_reason = loop {
            if generated >= params.max_tokens {
                break StopReason::MaxTokens;
            }
            if pre.is_some() && self.cached.len() + pending.len() >= self.n_ctx {
                break StopReason::ContextFull;
            }
            let mut t_step = Instant::now();
            let step = constraint.step();
            if pre.is_none() && !matches!(step, Step::Show(_) | Step::Stop) {
                let p = self.prefill(messages)?;
                idx = p.idx;
                pre = Some(p);
                gen_start = Instant::now();
                t_step = gen_start;
            }
            if !pending.is_empty() && matches!(step, Step::Free | Step::Choose { .. }) {
                let t_decode = Instant::now();
                idx = self.decode(&pending, pending.len() - 1, |_, _| ())?;
                constraint.timing.forced_decoded_tokens += pending.len() as u64;
                constraint.timing.forced_decode_ns += nanos(t_decode);
                pending.clear();
                t_step = Instant::now();
            }
            let decode = matches!(step, Step::Force(_));
            match step {
                Step::Stop => break StopReason::EndOfTurn,
                Step::Force(text) | Step::Show(text) => {
                    let mut toks = self.tokens(&text, false);
                    if toks.is_empty() {
                        continue;
                    }
                    if decode && self.cached.len() + pending.len() + toks.len() >= self.n_ctx {
                        break StopReason::ContextFull;
                    }
                    // Forced and shown text count against `max_tokens` too: only the tokens that
                    // fit are shown (and, forced, decoded; the loop then ends with `MaxTokens`).
                    let mut bytes = text.into_bytes();
                    let left = params.max_tokens - generated;
                    if toks.len() > left {
                        toks.truncate(left);
                        bytes.clear();
                        for &t in &toks {
                            self.model.vocab().token_to_piece_into(t, &mut bytes, false, None);
                        }
                    }
                    if decode {
                        ttft.get_or_insert_with(|| elapsed_ms(start));
                    }
                    if !emit(&bytes, &mut utf8, on_text) {
                        cancelled = true;
                        break StopReason::Cancelled;
                    }
                    generated += toks.len();
                    if decode {
                        pending.extend(toks);
                    }
                }
                Step::Free => {
                    let t_sample = Instant::now();
                    let token = sampler.sample(&self.ctx, idx);
                    constraint.timing.free_tokens += 1;
                    constraint.timing.free_sample_ns += nanos(t_sample);
                    ttft.get_or_insert_with(|| elapsed_ms(start));
                    let eog = self.model.vocab().is_eog(token);
                    piece.clear();
                    if !eog {
                        self.model.vocab().token_to_piece_into(token, &mut piece, false, None);
                    }
                    if !constraint.free_token(&String::from_utf8_lossy(&piece), eog) {
                        continue;
                    }
                    generated += 1;
                    if !emit(&piece, &mut utf8, on_text) {
                        cancelled = true;
                        break StopReason::Cancelled;
                    }
                    let t_decode = Instant::now();
                    idx = self.decode(&[token], 0, |_, _| ())?;
                    constraint.timing.decoded_tokens += 1;
                    constraint.timing.decode_ns += nanos(t_decode);
                }
                // One way on (the shortlist leaves a single title on this branch): the rest of
                // the path is decoded in one batch, each token's log-probability read from the
                // position before it, as if chosen one by one.
                Step::Choose { tokens: allowed, end_allowed } if allowed.len() == 1 && !end_allowed => {
                    let mut path = constraint.single_path();
                    if path.first() != allowed.first() {
                        path = allowed;
                    }
                    path.truncate(params.max_tokens - generated);
                    if self.cached.len() + path.len() >= self.n_ctx {
                        break StopReason::ContextFull;
                    }
                    let toks: Vec<LlamaToken> = path.iter().map(|&t| LlamaToken(t)).collect();
                    let mut lps = vec![log_prob(self.ctx.get_logits_ith(idx), toks[0])];
                    constraint.timing.select_ns += nanos(t_step);
                    ttft.get_or_insert_with(|| elapsed_ms(start));
                    let t_decode = Instant::now();
                    idx = self.decode(&toks, 0, |i, logits| {
                        if let Some(&next) = toks.get(i + 1) {
                            lps.push(log_prob(logits, next));
                        }
                    })?;
                    constraint.timing.decoded_tokens += toks.len() as u64;
                    constraint.timing.decode_ns += nanos(t_decode);
                    piece.clear();
                    for (&t, &lp) in path.iter().zip(&lps) {
                        constraint.choose(Choice::Token(t), lp);
                        self.model.vocab().token_to_piece_into(LlamaToken(t), &mut piece, false, None);
                    }
                    constraint.timing.slot_tokens += toks.len() as u64;
                    generated += toks.len();
                    if !emit(&piece, &mut utf8, on_text) {
                        cancelled = true;
                        break StopReason::Cancelled;
                    }
                }
                Step::Choose { tokens: allowed, end_allowed } => {
                    let logits = self.ctx.get_logits_ith(idx);
                    let at = |t: i32| usize::try_from(t).ok().and_then(|i| logits.get(i)).copied();
                    let mut options: Vec<f32> = allowed.iter().map(|&t| at(t).unwrap_or(f32::NEG_INFINITY)).collect();
                    if end_allowed {
                        options.push(at(end_item.0).unwrap_or(f32::NEG_INFINITY));
                    }
                    let i = pick(&options, params.temperature, params.top_p, &mut rng);
                    let lp =
                        (f64::from(options.get(i).copied().unwrap_or(f32::NEG_INFINITY)) - log_sum_exp(logits)) as f32;
                    ttft.get_or_insert_with(|| elapsed_ms(start));
                    match allowed.get(i) {
                        Some(&t) => {
                            constraint.choose(Choice::Token(t), lp);
                            constraint.timing.slot_tokens += 1;
                            constraint.timing.select_ns += nanos(t_step);
                            generated += 1;
                            piece.clear();
                            self.model.vocab().token_to_piece_into(LlamaToken(t), &mut piece, false, None);
                            if !emit(&piece, &mut utf8, on_text) {
                                cancelled = true;
                                break StopReason::Cancelled;
                            }
                            let t_decode = Instant::now();
                            idx = self.decode(&[LlamaToken(t)], 0, |_, _| ())?;
                            constraint.timing.decoded_tokens += 1;
                            constraint.timing.decode_ns += nanos(t_decode);
                        }
                        // The end-of-item newline is not decoded: the forced newline and next
                        // marker that follow the item's (shown) suffix are.
                        None => {
                            constraint.choose(Choice::End, lp);
                            constraint.timing.slot_tokens += 1;
                            constraint.timing.select_ns += nanos(t_step);
                        }
                    }
                }
            }
        };
        let rest = utf8.finish();
        if !rest.is_empty() && !cancelled {
            on_text(&rest);
        }
        tracing::debug!(timing = ?constraint.timing, total_ms = elapsed_ms(start), "constrained list");
        // Ended before the model was needed (cancelled, or the budget spent on shown text): the
        // prompt is read all the same unless the call was cancelled, so the next turn starts warm.
        let pre = match pre {
            Some(p) => p,
            None if cancelled => self.unread(messages)?,
            None => {
                let p = self.prefill(messages)?;
                gen_start = Instant::now();
                p
            }
        };
        Ok(pre.stats(generated, start, gen_start, ttft, stop_reason))
    }
}
