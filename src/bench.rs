//! `curator bench`: speed figures as JSON (benchmarks, never timed tests).
//!
//! - model throughput on a fixed prompt ([`crate::llm::bench::measure_throughput`]);
//! - a scripted 5-turn dialogue through the whole agent: per turn, the tool part (linking, state,
//!   ranking, reasons), the model's time to first token, the time until the first and the last
//!   reply text reach the front end (a model-written opening is checked before it is shown, so
//!   the first includes its whole generation), and the dialogue prefill that the front ends run
//!   after each reply while the seeker reads (timed apart);
//! - the tool part alone over the same turns repeated (after one untimed pass), for a stable
//!   per-turn figure: mean, median and 99th percentile.

use std::time::Instant;

use serde::Serialize;

use crate::agent::{Agent, AgentEvent};
use crate::llm::bench::{measure_throughput, Throughput};
use crate::llm::LanguageModel;
use crate::Result;

/// The scripted seeker turns of the dialogue benchmark.
pub const SCRIPT: [&str; 5] = [
    "Hi! I loved Heat and Collateral, what else should I watch?",
    "I've seen Seven already. Something like The Departed maybe?",
    "I didn't like Fight Club. Any good heist movies?",
    "What about something with Denzel Washington?",
    "Great, one more like Inception please.",
];

/// Figures of one scripted turn (milliseconds, wall clock).
#[derive(Debug, Clone, Serialize)]
pub struct TurnFigures {
    /// 1-based turn number.
    pub turn: usize,
    /// Linking, state update, ranking and reasons.
    pub tools_ms: f64,
    /// The model's time to first token (templating and prompt processing included).
    pub model_ttft_ms: Option<f64>,
    /// Prompt tokens the model processed this turn (after any prefix reuse).
    pub model_new_prompt_tokens: Option<usize>,
    /// From `respond` being called to the first text event.
    pub first_text_ms: f64,
    /// From `respond` being called to the last text event: the whole reply on screen.
    pub last_text_ms: f64,
    /// The whole call (the reply on screen plus any work after its last text).
    pub total_ms: f64,
    /// After the reply, the dialogue prefill the front ends run while the seeker reads
    /// ([`Agent::prefill_dialogue`]): milliseconds, not part of the turn.
    pub prefill_ms: f64,
    /// Tokens that prefill decoded (the reply as shown, where the model did not read all of it).
    pub prefill_tokens: usize,
}

/// The `curator bench` report.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Model throughput on the fixed prompt.
    pub throughput: Option<Throughput>,
    /// The 5 scripted turns through the agent.
    pub dialogue: Vec<TurnFigures>,
    /// Median model time to first token over turns 2–5.
    pub model_ttft_p50_from_turn2_ms: Option<f64>,
    /// Median over turns 2–5 of the whole reply (call to last text event,
    /// [`TurnFigures::last_text_ms`]), milliseconds; the turn-1 prompt is processed from scratch.
    pub turn_p50_from_turn2_ms: Option<f64>,
    /// Median over turns 2–5 of the call to the first text event, milliseconds (the opening is
    /// written from the state and shown before the model reads its prompt).
    pub first_text_p50_from_turn2_ms: Option<f64>,
    /// Median over turns 2–5 of first text event to last text event, milliseconds.
    pub first_to_last_text_p50_from_turn2_ms: Option<f64>,
    /// Tool part alone: mean milliseconds per turn over `tool_turns` turns.
    pub tools_ms_per_turn: f64,
    /// Tool part alone: median milliseconds per turn.
    pub tools_ms_p50: f64,
    /// Tool part alone: 99th percentile (nearest rank) in milliseconds per turn.
    pub tools_ms_p99: f64,
    /// Turns timed for `tools_ms_per_turn`.
    pub tool_turns: usize,
    /// Threads available to the process.
    pub threads: usize,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// Runs the benchmark. With a `model`: its throughput (`runs` timed runs), then the scripted
/// dialogue through `build(Some(model))`. Always: the tool part alone through `build(None)`,
/// `repeats` × 5 turns.
///
/// Errors: those of `build`, the agent and the model.
pub fn run(
    model: Option<Box<dyn LanguageModel>>,
    build: &dyn Fn(Option<Box<dyn LanguageModel>>) -> Result<Agent>,
    runs: usize,
    repeats: usize,
) -> Result<BenchReport> {
    let mut throughput = None;
    let mut dialogue = Vec::new();
    if let Some(mut model) = model {
        throughput = Some(measure_throughput(model.as_mut(), runs)?);
        let mut agent = build(Some(model))?;
        for (i, text) in SCRIPT.iter().enumerate() {
            let t0 = Instant::now();
            let mut first: Option<f64> = None;
            let mut last: Option<f64> = None;
            let mut stats = None;
            agent.respond(text, &mut |ev| match ev {
                AgentEvent::Text { .. } => {
                    let now = t0.elapsed().as_secs_f64() * 1e3;
                    first.get_or_insert(now);
                    last = Some(now);
                }
                AgentEvent::Done { stats: s } => stats = Some(s),
                _ => {}
            })?;
            let total_ms = t0.elapsed().as_secs_f64() * 1e3;
            let t1 = Instant::now();
            let prefill_tokens = agent.prefill_dialogue()?;
            let prefill_ms = t1.elapsed().as_secs_f64() * 1e3;
            let s = stats.unwrap_or_default();
            dialogue.push(TurnFigures {
                turn: i + 1,
                tools_ms: s.tools_ms,
                model_ttft_ms: s.generation.as_ref().map(|g| g.time_to_first_token_ms),
                model_new_prompt_tokens: s.generation.as_ref().map(|g| g.prompt_tokens - g.cached_prompt_tokens),
                first_text_ms: first.unwrap_or(total_ms),
                last_text_ms: last.unwrap_or(total_ms),
                total_ms,
                prefill_ms,
                prefill_tokens,
            });
        }
    }
    let ttft = median(dialogue.iter().skip(1).filter_map(|t| t.model_ttft_ms).collect());
    let turn = median(dialogue.iter().skip(1).map(|t| t.last_text_ms).collect());
    let first_text = median(dialogue.iter().skip(1).map(|t| t.first_text_ms).collect());
    let first_to_last = median(dialogue.iter().skip(1).map(|t| t.last_text_ms - t.first_text_ms).collect());
    let mut tool_ms: Vec<f64> = Vec::new();
    let mut tools_agent = build(None)?;
    // One untimed pass: one-off costs (the PPR hub vectors, first allocations) are not per turn.
    for text in SCRIPT {
        tools_agent.respond(text, &mut |_| {})?;
    }
    for _ in 0..repeats.max(1) {
        tools_agent.reset();
        for text in SCRIPT {
            tools_agent.respond(text, &mut |ev| {
                if let AgentEvent::Done { stats } = ev {
                    tool_ms.push(stats.tools_ms);
                }
            })?;
        }
    }
    let tool_turns = tool_ms.len();
    let mean = tool_ms.iter().sum::<f64>() / tool_turns.max(1) as f64;
    tool_ms.sort_by(f64::total_cmp);
    let p99 = tool_ms.get(((tool_turns as f64 * 0.99).ceil() as usize).saturating_sub(1)).copied().unwrap_or(0.0);
    Ok(BenchReport {
        throughput,
        dialogue,
        model_ttft_p50_from_turn2_ms: ttft,
        turn_p50_from_turn2_ms: turn,
        first_text_p50_from_turn2_ms: first_text,
        first_to_last_text_p50_from_turn2_ms: first_to_last,
        tools_ms_per_turn: mean,
        tools_ms_p50: median(tool_ms).unwrap_or(0.0),
        tools_ms_p99: p99,
        tool_turns,
        threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    })
}
