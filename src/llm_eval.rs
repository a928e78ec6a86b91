//! `curator eval llm`: the measurements of catalog-constrained decoding and rank-level scores
//! (DESIGN.md §5, §7), each printed with its counts and written as one JSON report.
//!
//! - **out-of-catalog rate** of generated list items over the first `limit` ReDial test
//!   evaluation points: constrained over the whole catalog trie, and the same model unconstrained
//!   (its list lines fuzzy-matched to catalog titles at edit distance ≤ 2, He et al.);
//! - **constraint overhead per token**: time to list the allowed children and choose among them
//!   (with the score's log-sum-exp), against one decode step and against the backend's own sampler;
//! - **scoring 50 candidates** for one prompt: shared-prompt scoring against the naive way (one
//!   full prompt per candidate) and against the prompt-processing bound (decoded candidate tokens
//!   ÷ measured prompt tokens/s); batched vs one-at-a-time agreement;
//! - **the LLM alone as a ranker**: the top 100 of the agent's ranker reordered by rank-level
//!   score, R@K on ReDial test de-dup (first `rank_limit` points), next to the ranker's own order;
//! - **time to first token** over a 10-turn scripted dialogue through the agent, with the
//!   conversation's cache reused and with a full re-prefill every turn.
//!
//! Speed figures depend on the machine and on what else runs on it: they are benchmarks, never
//! tests.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::agent::{Agent, AgentConfig, AgentEvent, ToolRanker};
use crate::catalog::{Catalog, ItemId};
use crate::dialogue::{Role, Turn};
use crate::eval::{EvalPoint, MetricsAccumulator, Protocol, Ranker};
use crate::llm::constrained::SlotTiming;
use crate::llm::{
    mean_logprob, CacheSnapshot, ChatMessage, GenerationParams, GenerationStats, LanguageModel, ListConstraint,
    ListSpec, TitleForm, TitleTrie,
};
use crate::{Error, Result};

/// Which measurements to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LlmPart {
    /// Out-of-catalog rate, constrained vs free, and the constraint's per-token overhead.
    Ooc,
    /// Shared-prompt scoring vs naive and vs the prompt-processing bound.
    Scoring,
    /// R@K of the LLM alone as a ranker of the ranker's top 100.
    Rank,
    /// Time to first token over a scripted 10-turn dialogue, cache reused vs re-prefilled.
    Ttft,
}

impl LlmPart {
    /// Every part, in report order.
    pub const ALL: [LlmPart; 4] = [LlmPart::Ooc, LlmPart::Scoring, LlmPart::Rank, LlmPart::Ttft];
}

/// Settings of [`run`].
#[derive(Debug, Clone)]
pub struct LlmEvalOptions {
    /// ReDial test dialogues (default `evals/redial/test.jsonl`).
    pub data_path: PathBuf,
    /// Evaluation points (file order) for the out-of-catalog part. Default 30.
    pub limit: usize,
    /// Items per generated list. Default 10.
    pub items: usize,
    /// Evaluation points with a de-dup target for the ranking part. Default 50.
    pub rank_limit: usize,
    /// Candidates reordered by the LLM (the ranker's top N). Default 100.
    pub rank_candidates: usize,
    /// Prompts of the scoring part (the naive way runs on the first only). Default 3.
    pub scoring_prompts: usize,
    /// Candidates per scoring prompt. Default 50.
    pub scoring_candidates: usize,
    /// Parts to run.
    pub parts: Vec<LlmPart>,
}

impl Default for LlmEvalOptions {
    fn default() -> Self {
        LlmEvalOptions {
            data_path: crate::paths::evals_dir().join("redial").join("test.jsonl"),
            limit: 30,
            items: 10,
            rank_limit: 50,
            rank_candidates: 100,
            scoring_prompts: 3,
            scoring_candidates: 50,
            parts: LlmPart::ALL.to_vec(),
        }
    }
}

/// The out-of-catalog part.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OocReport {
    /// Evaluation points used.
    pub points: usize,
    /// Items generated under the constraint.
    pub constrained_items: usize,
    /// Of those, items whose title is not a catalog title (must be 0).
    pub constrained_out_of_catalog: usize,
    /// Items the model wrote with the same prompt and list markers but free slots.
    pub free_items: usize,
    /// Of those, lines whose title is more than 2 edits from every catalog title (with or
    /// without its year).
    pub free_out_of_catalog: usize,
    /// `free_out_of_catalog / free_items`.
    pub free_out_of_catalog_rate: f64,
    /// Summed slot timings of the constrained runs.
    pub timing: SlotTiming,
    /// Milliseconds per slot token spent choosing (constraint + pick + log-sum-exp).
    pub select_ms_per_slot_token: f64,
    /// Milliseconds per decoded token.
    pub decode_ms_per_token: f64,
    /// Milliseconds per free token in the backend's own sampler.
    pub sampler_ms_per_free_token: f64,
    /// `(select - sampler) / (decode + sampler)`: the extra cost of a constrained step over a free
    /// one, as a fraction of a free step.
    pub overhead_per_token: f64,
    /// Generated tokens per second, constrained runs (forced text included in the count).
    pub constrained_tokens_per_second: f64,
    /// Generated tokens per second, free runs.
    pub free_tokens_per_second: f64,
}

/// One prompt of the scoring part.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScoringPrompt {
    /// Prompt tokens.
    pub prompt_tokens: usize,
    /// Candidates scored.
    pub candidates: usize,
    /// Candidate tokens in all (end-of-item token included).
    pub candidate_tokens: usize,
    /// Candidate tokens that had to be decoded: distinct title prefixes, last tokens excluded.
    pub decoded_tokens: usize,
    /// Prompt tokens per second measured on this prompt (cache empty).
    pub prompt_tokens_per_second: f64,
    /// Milliseconds: all candidates after the cached prompt.
    pub shared_ms: f64,
    /// Milliseconds: the bound `decoded_tokens / prompt_tokens_per_second`.
    pub bound_ms: f64,
    /// `shared_ms / bound_ms` (target ≤ 1.2).
    pub ratio_to_bound: f64,
    /// Tokens per second processing text whose every token's log-probability is needed (all the
    /// candidates' tokens as one continuation after the cached prompt): prompt processing plus the
    /// output layer (49,152 × 576 on SmolLM2) and its log-softmax for each token, which a prompt
    /// computes for its last token only and scoring cannot skip.
    pub scored_tokens_per_second: f64,
    /// Milliseconds: `decoded_tokens / scored_tokens_per_second`, the bound with that cost in.
    pub scored_bound_ms: f64,
    /// `shared_ms / scored_bound_ms`.
    pub ratio_to_scored_bound: f64,
    /// Milliseconds: prompt and candidates, cache empty.
    pub shared_cold_ms: f64,
    /// Milliseconds: one full prompt per candidate (first prompt only).
    pub naive_ms: Option<f64>,
    /// Largest |batched − one-at-a-time| over tokens (first prompt only), nats.
    pub max_token_gap: Option<f64>,
    /// Largest |batched − one-at-a-time| over mean log-probs (first prompt only), nats/token.
    pub max_mean_gap: Option<f64>,
}

/// The ranking part.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RankReport {
    /// Points scored (de-dup targets present).
    pub points: usize,
    /// Ground-truth samples.
    pub samples: usize,
    /// Samples whose target was among the candidates at all.
    pub in_candidates: usize,
    /// `(metric, value)` of the LLM's order.
    pub llm: Vec<(String, f64)>,
    /// `(metric, value)` of the ranker's own order over the same candidates.
    pub ranker: Vec<(String, f64)>,
    /// Mean seconds per point (prompt and candidates).
    pub seconds_per_point: f64,
}

/// One turn of the time-to-first-token part.
#[derive(Debug, Clone, Serialize)]
pub struct TtftTurn {
    /// 1-based.
    pub turn: usize,
    /// Templated prompt tokens.
    pub prompt_tokens: usize,
    /// Of those, reused from the cache.
    pub cached_tokens: usize,
    /// Time to first token, cache reused and the previous turn's dialogue prefilled after that
    /// turn ([`Agent::prefill_dialogue`], as the front ends do while the seeker reads) (ms): the
    /// model's first text ([`GenerationStats::time_to_first_token_ms`](crate::llm::GenerationStats::time_to_first_token_ms)),
    /// the prompt of the turn processed.
    pub ttft_ms: f64,
    /// In the same run, from `respond` being called to the reply's first text event (ms): the
    /// agent's opening, written from the dialogue state, is shown before the model reads its prompt.
    pub first_text_ms: f64,
    /// Tokens [`Agent::prefill_dialogue`] decoded after this turn (the reply as shown, where it
    /// differs from what the model decoded, and the turn's end).
    pub prefilled_after_tokens: usize,
    /// Milliseconds that prefill took (off the seeker's wait unless they answer within it).
    pub prefill_after_ms: f64,
    /// Time to first token, cache reused but nothing prefilled between turns (ms).
    pub ttft_cache_only_ms: f64,
    /// Time to first token with a full re-prefill (ms).
    pub ttft_reprefill_ms: f64,
}

/// The time-to-first-token part.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TtftReport {
    /// Per turn.
    pub turns: Vec<TtftTurn>,
    /// Median time to first token from turn 2 on, cache reused and the dialogue prefilled
    /// between turns (ms).
    pub p50_from_turn_2_ms: f64,
    /// Median over the same turns of the time to the reply's first text event ([`TtftTurn::first_text_ms`]).
    pub p50_first_text_from_turn_2_ms: f64,
    /// Median from turn 2 on, cache reused, nothing prefilled between turns (ms).
    pub p50_cache_only_from_turn_2_ms: f64,
    /// Median over turns 1–9 of the prefill between turns (ms).
    pub p50_prefill_after_ms: f64,
    /// Median from turn 2 on with a full re-prefill (ms).
    pub p50_reprefill_from_turn_2_ms: f64,
}

/// Everything [`run`] measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LlmEvalReport {
    /// The model's name.
    pub model: String,
    /// CPU threads available (speed figures depend on them and on other load).
    pub threads: usize,
    /// Out-of-catalog part.
    pub ooc: Option<OocReport>,
    /// Scoring part.
    pub scoring: Vec<ScoringPrompt>,
    /// Ranking part.
    pub rank: Option<RankReport>,
    /// Time-to-first-token part.
    pub ttft: Option<TtftReport>,
}

const SYSTEM: &str = "You are a movie recommender. Reply with a numbered list of movies, one per line, \
                      each as \"Title (Year)\".";

/// The model's messages for an evaluation point: the system prompt and the last 6 turns, each cut
/// to 400 bytes, starting with a seeker turn.
fn context_messages(context: &[Turn]) -> Vec<ChatMessage> {
    let cut = |t: &str| crate::util::cut_at_char_boundary(t, 400).to_string();
    let mut start = context.len().saturating_sub(6);
    while start < context.len() && context[start].role != Role::Seeker {
        start += 1;
    }
    let mut out = vec![ChatMessage::system(SYSTEM)];
    for t in &context[start..] {
        out.push(match t.role {
            Role::Seeker => ChatMessage::user(cut(&t.text)),
            Role::Recommender => ChatMessage::assistant(cut(&t.text)),
        });
    }
    if out.len() == 1 {
        out.push(ChatMessage::user("Recommend me some movies."));
    }
    out
}

/// Fuzzy membership in the catalog: a title (with or without its year) within 2 edits of a
/// catalog title, case-insensitive.
struct FuzzyCatalog {
    names: Vec<String>,
    exact: HashSet<String>,
}

impl FuzzyCatalog {
    fn new(catalog: &Catalog) -> Self {
        let mut names = Vec::new();
        for i in catalog.items() {
            names.push(i.display_name().to_lowercase());
            names.push(i.title.to_lowercase());
        }
        let exact = names.iter().cloned().collect();
        FuzzyCatalog { names, exact }
    }

    fn contains(&self, title: &str) -> bool {
        let t = title.trim().trim_matches(|c: char| matches!(c, '"' | '*' | '“' | '”' | '_')).trim().to_lowercase();
        if t.is_empty() {
            return false;
        }
        if self.exact.contains(&t) {
            return true;
        }
        let n = t.chars().count();
        self.names.iter().any(|name| {
            let m = name.chars().count();
            m.abs_diff(n) <= 2 && strsim::levenshtein(name, &t) <= 2
        })
    }
}

/// The title part of a free list item: `"Title (Year) - why"` or `"Title: why"` gives the text
/// before the separator.
fn clean_title(item: &str) -> String {
    let t = item.split([':', '—', '–']).next().unwrap_or(item);
    t.split(" - ").next().unwrap_or(t).trim().to_string()
}

/// A model that forgets its cache before every call: the "full re-prefill" baseline.
struct NoReuse(Box<dyn LanguageModel>);

impl LanguageModel for NoReuse {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn apply_chat_template(&self, messages: &[ChatMessage]) -> Result<String> {
        self.0.apply_chat_template(messages)
    }
    fn generate(
        &mut self,
        messages: &[ChatMessage],
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<GenerationStats> {
        self.0.reset_cache();
        self.0.generate(messages, params, on_text)
    }
    fn context_size(&self) -> Option<usize> {
        self.0.context_size()
    }
    fn token_ids(&self, text: &str) -> Result<Vec<i32>> {
        self.0.token_ids(text)
    }
    fn tokenizer_key(&self) -> String {
        self.0.tokenizer_key()
    }
    fn supports_constrained(&self) -> bool {
        self.0.supports_constrained()
    }
    fn generate_constrained(
        &mut self,
        messages: &[ChatMessage],
        params: &GenerationParams,
        constraint: &mut ListConstraint<'_>,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<GenerationStats> {
        self.0.reset_cache();
        self.0.generate_constrained(messages, params, constraint, on_text)
    }
    fn reset_cache(&mut self) {
        self.0.reset_cache();
    }
    fn save_cache(&mut self) -> Option<CacheSnapshot> {
        None
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The scripted 10-turn dialogue of the time-to-first-token part.
pub const TTFT_SCRIPT: [&str; 10] = [
    "Hi! I loved Heat and Collateral, what else should I watch?",
    "I've seen Seven already. Something like The Departed maybe?",
    "I didn't like Fight Club. Any good heist movies?",
    "What about something with Denzel Washington?",
    "Great, one more like Inception please.",
    "Something funny now, I need a break from thrillers.",
    "I loved The Grand Budapest Hotel.",
    "No horror please. Maybe an animated movie?",
    "Toy Story was great. Anything similar?",
    "Thanks! Last one: a classic from the seventies.",
];

/// Runs the chosen parts with the model from `load` (called once, plus once more for the
/// re-prefill baseline of the time-to-first-token part), prints a summary line per figure with
/// its counts, and returns the report.
///
/// Errors: those of loading the catalog, the ranker, the ReDial file and the model;
/// [`Error::InvalidInput`] for a zero limit; model errors.
pub fn run(opts: &LlmEvalOptions, load: &dyn Fn() -> Result<Box<dyn LanguageModel>>) -> Result<LlmEvalReport> {
    if opts.limit == 0 || opts.items == 0 || opts.rank_limit == 0 || opts.scoring_candidates == 0 {
        return Err(Error::InvalidInput("limits and counts must be at least 1".into()));
    }
    let assets = crate::assets::Assets::from_project(None)?;
    let catalog = Arc::clone(&assets.catalog);
    let tools = ToolRanker::from_assets(&assets);
    let dialogues = crate::eval::load_redial(&opts.data_path)?;
    let points = crate::eval::extract_points(&dialogues);
    let mut model = load()?;
    let mut report = LlmEvalReport {
        model: model.name().to_string(),
        threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        ..LlmEvalReport::default()
    };
    for part in &opts.parts {
        match part {
            LlmPart::Ooc => report.ooc = Some(ooc(opts, &mut *model, &catalog, &points)?),
            LlmPart::Scoring => report.scoring = scoring(opts, &mut *model, &catalog, &tools, &points)?,
            LlmPart::Rank => report.rank = Some(rank(opts, &mut *model, &catalog, &tools, &points)?),
            LlmPart::Ttft => {}
        }
    }
    if opts.parts.contains(&LlmPart::Ttft) {
        report.ttft = Some(ttft(model, load()?, load()?)?);
    }
    Ok(report)
}

fn ooc(
    opts: &LlmEvalOptions,
    model: &mut dyn LanguageModel,
    catalog: &Catalog,
    points: &[EvalPoint],
) -> Result<OocReport> {
    let titles: Vec<(u32, String)> = catalog.items().iter().map(|i| (i.id, i.display_name())).collect();
    let trie =
        TitleTrie::for_model(&*model, &titles, TitleForm::LeadingSpace, &crate::paths::cache_dir().join("tries"))?;
    let fuzzy = FuzzyCatalog::new(catalog);
    let params = GenerationParams { max_tokens: opts.items * 24, ..GenerationParams::default() };
    let mut r = OocReport::default();
    let (mut c_tokens, mut c_ms, mut f_tokens, mut f_ms) = (0usize, 0.0, 0usize, 0.0);
    for (n, p) in points.iter().take(opts.limit).enumerate() {
        let messages = context_messages(&p.context);
        let mut c = ListConstraint::new(&trie, ListSpec { items: opts.items, ..ListSpec::default() });
        let stats = model.generate_constrained(&messages, &params, &mut c, &mut |_| true)?;
        c_tokens += stats.generated_tokens;
        c_ms += stats.generation_ms;
        let t = c.timing;
        r.timing.slot_tokens += t.slot_tokens;
        r.timing.select_ns += t.select_ns;
        r.timing.free_tokens += t.free_tokens;
        r.timing.free_sample_ns += t.free_sample_ns;
        r.timing.decoded_tokens += t.decoded_tokens;
        r.timing.decode_ns += t.decode_ns;
        for it in c.items() {
            r.constrained_items += 1;
            if catalog.get(it.key).map(|i| i.display_name()) != Some(it.title.clone()) {
                r.constrained_out_of_catalog += 1;
            }
        }
        // The same model, prompt and list markers with the slots left free.
        let mut free =
            ListConstraint::new(&trie, ListSpec { items: opts.items, free_slots: true, ..ListSpec::default() });
        let stats = model.generate_constrained(&messages, &params, &mut free, &mut |_| true)?;
        f_tokens += stats.generated_tokens;
        f_ms += stats.generation_ms;
        for it in free.items() {
            r.free_items += 1;
            if !fuzzy.contains(&clean_title(&it.title)) {
                r.free_out_of_catalog += 1;
            }
        }
        r.points = n + 1;
    }
    r.free_out_of_catalog_rate =
        if r.free_items == 0 { 0.0 } else { r.free_out_of_catalog as f64 / r.free_items as f64 };
    let per = |ns: u64, n: u64| if n == 0 { 0.0 } else { ns as f64 / n as f64 / 1e6 };
    r.select_ms_per_slot_token = per(r.timing.select_ns, r.timing.slot_tokens);
    r.decode_ms_per_token = per(r.timing.decode_ns, r.timing.decoded_tokens);
    r.constrained_tokens_per_second = crate::llm::per_second(c_tokens, c_ms);
    r.free_tokens_per_second = crate::llm::per_second(f_tokens, f_ms);
    // The backend's own (greedy) sampler, for comparison: free opening tokens of one run.
    r.sampler_ms_per_free_token = sampler_ms(model, &trie)?;
    let free_step = r.decode_ms_per_token + r.sampler_ms_per_free_token;
    r.overhead_per_token =
        if free_step > 0.0 { (r.select_ms_per_slot_token - r.sampler_ms_per_free_token) / free_step } else { 0.0 };
    crate::outln!(
        "out-of-catalog: constrained {}/{} items over {} points; free {}/{} list lines ({:.3}, edit distance <= 2)",
        r.constrained_out_of_catalog,
        r.constrained_items,
        r.points,
        r.free_out_of_catalog,
        r.free_items,
        r.free_out_of_catalog_rate
    );
    crate::outln!(
        "constraint per slot token: select {:.4} ms (n={}), greedy sampler {:.4} ms, decode {:.2} ms (n={}): overhead {:.2} % of a free step",
        r.select_ms_per_slot_token,
        r.timing.slot_tokens,
        r.sampler_ms_per_free_token,
        r.decode_ms_per_token,
        r.timing.decoded_tokens,
        r.overhead_per_token * 100.0
    );
    Ok(r)
}

/// Milliseconds per step of the backend's greedy sampler over the whole vocabulary, measured on
/// 32 free opening tokens.
fn sampler_ms(model: &mut dyn LanguageModel, trie: &TitleTrie) -> Result<f64> {
    let messages = [ChatMessage::user("Tell me about your favourite film in a few words.")];
    let mut c = ListConstraint::new(trie, ListSpec { items: 1, intro_max_tokens: 32, ..ListSpec::default() });
    let params = GenerationParams { max_tokens: 64, ..GenerationParams::default() };
    model.generate_constrained(&messages, &params, &mut c, &mut |_| true)?;
    let t = c.timing;
    Ok(if t.free_tokens == 0 { 0.0 } else { t.free_sample_ns as f64 / t.free_tokens as f64 / 1e6 })
}

fn scoring(
    opts: &LlmEvalOptions,
    model: &mut dyn LanguageModel,
    catalog: &Catalog,
    tools: &ToolRanker,
    points: &[EvalPoint],
) -> Result<Vec<ScoringPrompt>> {
    let mut out = Vec::new();
    for (n, p) in points.iter().take(opts.scoring_prompts).enumerate() {
        let mut prompt = model.apply_chat_template(&context_messages(&p.context))?;
        prompt.push_str("1.");
        let ids = tools.rank(&p.context, opts.scoring_candidates);
        let cands: Vec<String> =
            ids.iter().filter_map(|id| catalog.get(*id)).map(|i| format!(" {}\n", i.display_name())).collect();
        let mut s = ScoringPrompt { candidates: cands.len(), ..ScoringPrompt::default() };
        s.prompt_tokens = model.token_ids(&prompt)?.len() + 1;
        let mut prefixes = HashSet::new();
        for c in &cands {
            let t = model.token_ids(c)?;
            s.candidate_tokens += t.len();
            for j in 1..t.len() {
                prefixes.insert(t[..j].to_vec());
            }
        }
        s.decoded_tokens = prefixes.len();
        // Prompt speed: the prompt alone, cache empty (scoring one one-token continuation).
        model.reset_cache();
        let t0 = Instant::now();
        model.score_continuations(&prompt, &[" a".to_string()])?;
        let prompt_ms = ms(t0);
        s.prompt_tokens_per_second = crate::llm::per_second(s.prompt_tokens, prompt_ms);
        model.reset_cache();
        let t0 = Instant::now();
        let batched = model.score_continuations(&prompt, &cands)?;
        s.shared_cold_ms = ms(t0);
        let t0 = Instant::now();
        model.score_continuations(&prompt, &cands)?;
        s.shared_ms = ms(t0);
        s.bound_ms = if s.prompt_tokens_per_second > 0.0 {
            s.decoded_tokens as f64 * 1000.0 / s.prompt_tokens_per_second
        } else {
            0.0
        };
        s.ratio_to_bound = if s.bound_ms > 0.0 { s.shared_ms / s.bound_ms } else { 0.0 };
        // The same speed when every token's log-probability is needed (prompt cached).
        let all: String = cands.concat();
        let t0 = Instant::now();
        let scored = model.continuation_logprobs(&prompt, &all)?.len();
        s.scored_tokens_per_second = crate::llm::per_second(scored, ms(t0));
        s.scored_bound_ms = if s.scored_tokens_per_second > 0.0 {
            s.decoded_tokens as f64 * 1000.0 / s.scored_tokens_per_second
        } else {
            0.0
        };
        s.ratio_to_scored_bound = if s.scored_bound_ms > 0.0 { s.shared_ms / s.scored_bound_ms } else { 0.0 };
        if n == 0 {
            let t0 = Instant::now();
            let mut token_gap: f64 = 0.0;
            let mut mean_gap: f64 = 0.0;
            for (c, b) in cands.iter().zip(&batched) {
                model.reset_cache();
                let single = model.continuation_logprobs(&prompt, c)?;
                for (x, y) in single.iter().zip(b) {
                    token_gap = token_gap.max(f64::from((x - y).abs()));
                }
                mean_gap = mean_gap.max(f64::from((mean_logprob(&single) - mean_logprob(b)).abs()));
            }
            s.naive_ms = Some(ms(t0));
            s.max_token_gap = Some(token_gap);
            s.max_mean_gap = Some(mean_gap);
        }
        crate::outln!(
            "scoring prompt {}: {} candidates ({} tokens, {} decoded) after {} prompt tokens: shared {:.0} ms (cold {:.0} ms), bound {:.0} ms at {:.0} prompt tok/s: {:.2}x the bound; {:.2}x the bound at {:.0} tok/s with every token's log-prob{}",
            n + 1,
            s.candidates,
            s.candidate_tokens,
            s.decoded_tokens,
            s.prompt_tokens,
            s.shared_ms,
            s.shared_cold_ms,
            s.bound_ms,
            s.prompt_tokens_per_second,
            s.ratio_to_bound,
            s.ratio_to_scored_bound,
            s.scored_tokens_per_second,
            match (s.naive_ms, s.max_token_gap, s.max_mean_gap) {
                (Some(nv), Some(g), Some(mg)) => format!(
                    "; naive (one full prompt each) {nv:.0} ms; batched vs one-at-a-time gap max {g:.2e} nats/token, {mg:.2e} in the mean"
                ),
                _ => String::new(),
            }
        );
        out.push(s);
    }
    Ok(out)
}

fn rank(
    opts: &LlmEvalOptions,
    model: &mut dyn LanguageModel,
    catalog: &Catalog,
    tools: &ToolRanker,
    points: &[EvalPoint],
) -> Result<RankReport> {
    let mut llm = MetricsAccumulator::new();
    let mut base = MetricsAccumulator::new();
    let mut r = RankReport::default();
    let t0 = Instant::now();
    for p in points.iter().filter(|p| !p.targets_for(Protocol::Dedup).is_empty()).take(opts.rank_limit) {
        let ids: Vec<ItemId> = tools.rank(&p.context, opts.rank_candidates);
        let mut prompt = model.apply_chat_template(&context_messages(&p.context))?;
        prompt.push_str("1.");
        let kept: Vec<ItemId> = ids.iter().copied().filter(|id| catalog.get(*id).is_some()).collect();
        let cands: Vec<String> =
            kept.iter().filter_map(|id| catalog.get(*id)).map(|i| format!(" {}\n", i.display_name())).collect();
        let scores = model.score_continuations(&prompt, &cands)?;
        let mut order: Vec<(f32, ItemId)> = scores.iter().map(|s| mean_logprob(s)).zip(kept.iter().copied()).collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0));
        let llm_ranking: Vec<ItemId> = order.into_iter().map(|(_, id)| id).collect();
        for target in p.targets_for(Protocol::Dedup) {
            llm.add(&llm_ranking, target);
            base.add(&kept, target);
            r.samples += 1;
            if kept.contains(&target) {
                r.in_candidates += 1;
            }
        }
        r.points += 1;
    }
    r.seconds_per_point = if r.points > 0 { t0.elapsed().as_secs_f64() / r.points as f64 } else { 0.0 };
    r.llm = llm.mean().named().iter().map(|(k, v)| (k.to_string(), *v)).collect();
    r.ranker = base.mean().named().iter().map(|(k, v)| (k.to_string(), *v)).collect();
    let fmt = |v: &[(String, f64)]| v.iter().take(3).map(|(k, x)| format!("{k} {x:.3}")).collect::<Vec<_>>().join(", ");
    crate::outln!(
        "LLM alone as ranker of the top {}: {} de-dup points, {} samples ({} in the candidates): LLM {}; ranker {} ({:.1} s/point)",
        opts.rank_candidates,
        r.points,
        r.samples,
        r.in_candidates,
        fmt(&r.llm),
        fmt(&r.ranker),
        r.seconds_per_point
    );
    Ok(r)
}

fn ttft(
    model: Box<dyn LanguageModel>,
    cache_only: Box<dyn LanguageModel>,
    reprefill: Box<dyn LanguageModel>,
) -> Result<TtftReport> {
    struct Measured {
        prompt_tokens: usize,
        cached_tokens: usize,
        ttft_ms: f64,
        first_text_ms: f64,
        prefilled: usize,
        prefill_ms: f64,
    }
    let run = |mut model: Box<dyn LanguageModel>, prefill: bool| -> Result<Vec<Measured>> {
        model.reset_cache();
        let mut agent = Agent::from_project(Some(model), AgentConfig::default())?;
        let mut out = Vec::new();
        for text in TTFT_SCRIPT {
            let mut stats = None;
            let mut first_text = None;
            let t0 = Instant::now();
            agent.respond(text, &mut |ev| match ev {
                AgentEvent::Done { stats: s } => stats = Some(s),
                AgentEvent::Text { .. } => {
                    first_text.get_or_insert_with(|| ms(t0));
                }
                _ => {}
            })?;
            let g = stats.and_then(|s| s.generation).ok_or_else(|| Error::Model("the model did not run".into()))?;
            let t = Instant::now();
            let prefilled = if prefill { agent.prefill_dialogue()? } else { 0 };
            out.push(Measured {
                prompt_tokens: g.prompt_tokens,
                cached_tokens: g.cached_prompt_tokens,
                ttft_ms: g.time_to_first_token_ms,
                first_text_ms: first_text.unwrap_or_else(|| ms(t0)),
                prefilled,
                prefill_ms: if prefill { ms(t) } else { 0.0 },
            });
        }
        Ok(out)
    };
    let with_prefill = run(model, true)?;
    let only = run(cache_only, false)?;
    let full = run(Box::new(NoReuse(reprefill)), false)?;
    let turns: Vec<TtftTurn> = with_prefill
        .iter()
        .zip(&only)
        .zip(&full)
        .enumerate()
        .map(|(i, ((a, b), c))| TtftTurn {
            turn: i + 1,
            prompt_tokens: a.prompt_tokens,
            cached_tokens: a.cached_tokens,
            ttft_ms: a.ttft_ms,
            first_text_ms: a.first_text_ms,
            prefilled_after_tokens: a.prefilled,
            prefill_after_ms: a.prefill_ms,
            ttft_cache_only_ms: b.ttft_ms,
            ttft_reprefill_ms: c.ttft_ms,
        })
        .collect();
    let from_2 = |f: fn(&TtftTurn) -> f64| median(turns.iter().skip(1).map(f).collect());
    let r = TtftReport {
        p50_from_turn_2_ms: from_2(|t| t.ttft_ms),
        p50_first_text_from_turn_2_ms: from_2(|t| t.first_text_ms),
        p50_cache_only_from_turn_2_ms: from_2(|t| t.ttft_cache_only_ms),
        p50_reprefill_from_turn_2_ms: from_2(|t| t.ttft_reprefill_ms),
        p50_prefill_after_ms: median(
            turns.iter().take(turns.len().saturating_sub(1)).map(|t| t.prefill_after_ms).collect(),
        ),
        turns,
    };
    for t in &r.turns {
        crate::outln!(
            "turn {}: {} prompt tokens, {} cached: first text {:.0} ms, model TTFT {:.0} ms, then {} tokens \
             prefilled in {:.0} ms (cache only: TTFT {:.0} ms; full re-prefill {:.0} ms)",
            t.turn,
            t.prompt_tokens,
            t.cached_tokens,
            t.first_text_ms,
            t.ttft_ms,
            t.prefilled_after_tokens,
            t.prefill_after_ms,
            t.ttft_cache_only_ms,
            t.ttft_reprefill_ms
        );
    }
    crate::outln!(
        "p50 over turns 2-{}: first reply text {:.0} ms (the opening, shown while the model reads its \
         prompt); model time to first token {:.0} ms with the conversation cache and the dialogue \
         prefilled between turns (p50 {:.0} ms per prefill, while the seeker reads); {:.0} ms with the cache \
         only; {:.0} ms re-prefilling",
        r.turns.len(),
        r.p50_first_text_from_turn_2_ms,
        r.p50_from_turn_2_ms,
        r.p50_prefill_after_ms,
        r.p50_cache_only_from_turn_2_ms,
        r.p50_reprefill_from_turn_2_ms
    );
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_titles_are_cut_at_separators() {
        assert_eq!(clean_title(" Alien (1979) - a classic"), "Alien (1979)");
        assert_eq!(clean_title("Heat: great"), "Heat");
        assert_eq!(clean_title("Se7en — dark"), "Se7en");
    }

    #[test]
    fn median_of_even_and_odd() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(Vec::new()), 0.0);
    }
}
