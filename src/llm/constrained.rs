//! Catalog-constrained list decoding (DESIGN.md §5): the state machine that tells a backend, step
//! by step, whether decoding is free, restricted to the tokens that continue an allowed title, or
//! forced to a fixed text.
//!
//! The reply format marks the item slots: a numbered list, one item per line, `"1. Title (Year)"`.
//! The list markers (`"1."`, `"\n2."`, …) are forced, so the model cannot leave the format; text
//! the caller wrote (a fixed opening, the reason from data after each title, the closing line) is
//! shown without entering the model's context during the call ([`Step::Show`]): the model reads
//! its prompt, its own opening and the list of titles so far, and the front end's prefill
//! decodes the reply as shown while the seeker reads. Inside a slot only children of the current
//! [`TitleTrie`] node that still lead to an unused title may be chosen, and at a complete title the
//! end-of-item token (a newline) is allowed too. Outside the slots — the opening line — decoding
//! is free. A title is never written twice in one list ([`TrieBudget`]).
//!
//! Each generated item carries its rank-level score log π̄ (Rank-GRPO's geometric-mean unit): the
//! mean over the title's tokens and the end-of-item token of their log-probabilities under the
//! model's *unconstrained* next-token distribution.
//!
//! The per-step work of the constraint is O(children of the node); the backend adds one
//! log-sum-exp over the vocabulary per slot token for the score.

use serde::Serialize;

use super::trie::{NodeId, TitleTrie, TrieBudget};

/// What the backend must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Sample freely from the model, then report the token with [`ListConstraint::free_token`].
    Free,
    /// Choose among `tokens` (children of the current title node), or the end-of-item token when
    /// `end_allowed`; report the choice with [`ListConstraint::choose`].
    Choose {
        /// Allowed continuation tokens, sorted by id.
        tokens: Vec<i32>,
        /// Whether the title written so far is complete (the end-of-item token is allowed).
        end_allowed: bool,
    },
    /// Decode this text as given (tokenized by the backend, no BOS) and show it.
    Force(String),
    /// Show this text without decoding it: text the caller wrote (a fixed opening, an item's
    /// suffix, the closing line) that the model does not read before its next choice. It counts
    /// against the reply's token budget like forced text.
    Show(String),
    /// The list is complete.
    Stop,
}

/// A choice in a [`Step::Choose`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Choice {
    /// A continuation token of the title.
    Token(i32),
    /// The end-of-item token: the title is complete.
    End,
}

/// One item the model wrote, with its rank-level score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeneratedItem {
    /// 1-based position in the list.
    pub rank: usize,
    /// The title's key in the trie (a catalog id).
    pub key: u32,
    /// `"Title (Year)"`.
    pub title: String,
    /// Natural-log probability of each title token, then of the end-of-item token, under the
    /// unconstrained model.
    pub token_logprobs: Vec<f32>,
    /// log π̄: the mean of `token_logprobs` (nats per token, `<= 0`).
    pub mean_logprob: f32,
}

/// Settings of a constrained list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListSpec {
    /// Items to write (stops earlier if the allowed titles run out). Default 10.
    pub items: usize,
    /// Free tokens allowed for an opening line before the list; 0 starts the list at once.
    /// The opening ends at the first token containing a newline or at the end of the model's turn.
    /// Default 0.
    pub intro_max_tokens: usize,
    /// Text forced after the last item (e.g. a closing question), if any.
    pub closing: Option<String>,
    /// Leave the slots unconstrained (the baseline of the out-of-catalog measurement): inside a
    /// slot decoding is free until a newline, the end of the turn or 32 tokens, and the item's
    /// title is whatever was written (key `u32::MAX`, no score). Default `false`.
    pub free_slots: bool,
}

impl Default for ListSpec {
    fn default() -> Self {
        ListSpec { items: 10, intro_max_tokens: 0, closing: None, free_slots: false }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// An opening line fixed by the caller ([`ListConstraint::with_opening`]), forced first.
    Opening(String),
    Intro {
        used: usize,
    },
    Marker,
    Slot {
        node: NodeId,
        logprobs: Vec<f32>,
    },
    Done,
}

/// Where the time of a constrained generation went, filled in by the backend (nanoseconds,
/// wall clock). The constraint's own cost per slot token is `select_ns / slot_tokens`; compare it
/// with `decode_ns / decoded_tokens` (a decode step, batched paths averaged in) and with
/// `free_sample_ns / free_tokens` (the backend's own sampler over the whole vocabulary).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SlotTiming {
    /// Tokens chosen inside item slots (the end-of-item choices included).
    pub slot_tokens: u64,
    /// Time from having the logits to having the choice, over all slot tokens: listing the
    /// allowed children, picking among them, and the log-sum-exp of the score.
    pub select_ns: u64,
    /// Tokens sampled freely (the opening line).
    pub free_tokens: u64,
    /// Time the backend's sampler took over all free tokens.
    pub free_sample_ns: u64,
    /// Chosen and free tokens decoded: one by one, or a slot's single path
    /// ([`ListConstraint::single_path`]) in one batch; forced text is counted apart.
    pub decoded_tokens: u64,
    /// Time spent decoding them.
    pub decode_ns: u64,
    /// Forced tokens decoded in the call, in batches before the model's next choice (forced text
    /// after the last choice is shown but left to the next prefill; backends that decode forced
    /// text otherwise leave this 0).
    pub forced_decoded_tokens: u64,
    /// Time spent decoding those batches.
    pub forced_decode_ns: u64,
}

/// The state machine of one constrained list over a [`TitleTrie`].
pub struct ListConstraint<'t> {
    /// Timings filled in by the backend during generation.
    pub timing: SlotTiming,
    trie: &'t TitleTrie,
    budget: TrieBudget,
    spec: ListSpec,
    phase: Phase,
    items: Vec<GeneratedItem>,
    suffix: Box<dyn Fn(u32) -> String + 't>,
    pending_suffix: String,
    /// Text and token count of the current free slot (with `free_slots`).
    free_title: (String, usize),
    /// The opening line's text so far.
    intro_text: String,
    /// Titles a backend without token-level control produced that name no allowed title.
    unresolved: Vec<String>,
    /// Whether an opening line (free or fixed) comes before the list (its first marker then
    /// starts a new line).
    opened: bool,
    /// Whether that opening is the caller's fixed line (shown, not decoded: the newline before
    /// the first marker is shown only too).
    fixed_opening: bool,
    /// Steps already decided, returned before the phase is looked at again.
    queued: Option<Step>,
}

/// An opening line ends at the first sentence end (`.`, `!`, `?` closing a token) once it holds at
/// least this many bytes: one or two short sentences, never a paragraph (a small model otherwise
/// repeats itself until the token budget runs out).
pub const INTRO_MIN_BYTES: usize = 40;

impl std::fmt::Debug for ListConstraint<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListConstraint")
            .field("titles", &self.trie.len())
            .field("spec", &self.spec)
            .field("phase", &self.phase)
            .field("items", &self.items)
            .finish()
    }
}

impl<'t> ListConstraint<'t> {
    /// A list of `spec.items` titles from `trie` (in its [`TitleForm`](super::trie::TitleForm),
    /// normally the leading-space form that follows `"1."`).
    pub fn new(trie: &'t TitleTrie, spec: ListSpec) -> Self {
        let phase = if spec.intro_max_tokens > 0 { Phase::Intro { used: 0 } } else { Phase::Marker };
        let opened = spec.intro_max_tokens > 0;
        ListConstraint {
            trie,
            budget: TrieBudget::new(trie),
            spec,
            phase,
            timing: SlotTiming::default(),
            items: Vec::new(),
            suffix: Box::new(|_| String::new()),
            pending_suffix: String::new(),
            free_title: (String::new(), 0),
            intro_text: String::new(),
            unresolved: Vec::new(),
            opened,
            fixed_opening: false,
            queued: None,
        }
    }

    /// The list opens with `line`, shown (the model writes no opening of its own and does not
    /// read this one during the call): the caller wrote it, e.g. from the dialogue state. An
    /// empty `line` leaves the spec's opening as it is.
    pub fn with_opening(mut self, line: &str) -> Self {
        if !line.is_empty() {
            self.phase = Phase::Opening(line.replace('\n', " "));
            self.opened = true;
            self.fixed_opening = true;
        }
        self
    }

    /// Text forced right after each item's title (before its line ends), by key: e.g. `" — "` and
    /// a reason from data. Default: nothing.
    pub fn with_suffix(mut self, suffix: impl Fn(u32) -> String + 't) -> Self {
        self.suffix = Box::new(suffix);
        self
    }

    /// Whether the model's free opening line is still being written (the next [`Self::step`] is
    /// [`Step::Free`] for it). Asks without advancing the machine.
    pub fn in_opening(&self) -> bool {
        matches!(self.phase, Phase::Intro { .. })
    }

    /// The next step. Never returns `Choose` with no option: a slot with nothing left to write
    /// ends the list.
    pub fn step(&mut self) -> Step {
        if let Some(step) = self.queued.take() {
            return step;
        }
        loop {
            match &self.phase {
                Phase::Opening(line) => {
                    let line = line.clone();
                    self.intro_text.push_str(&line);
                    self.phase = Phase::Marker;
                    return Step::Show(line);
                }
                Phase::Intro { .. } => return Step::Free,
                Phase::Marker => {
                    let k = self.items.len();
                    let mut shown = std::mem::take(&mut self.pending_suffix);
                    if k >= self.spec.items || self.budget.left() == 0 {
                        self.phase = Phase::Done;
                        if let Some(c) = &self.spec.closing {
                            shown.push('\n');
                            shown.push_str(c);
                        }
                        if !shown.is_empty() {
                            return Step::Show(shown);
                        }
                        continue;
                    }
                    // The newline ending the previous line is decoded (the model's list goes on),
                    // except after a fixed opening, which the model did not read.
                    let mut forced = String::new();
                    if k == 0 && self.fixed_opening {
                        shown.push('\n');
                    } else if k > 0 || self.opened {
                        forced.push('\n');
                    }
                    forced.push_str(&format!("{}.", k + 1));
                    self.phase = Phase::Slot { node: TitleTrie::ROOT, logprobs: Vec::new() };
                    if shown.is_empty() {
                        return Step::Force(forced);
                    }
                    self.queued = Some(Step::Force(forced));
                    return Step::Show(shown);
                }
                Phase::Slot { .. } if self.spec.free_slots => return Step::Free,
                Phase::Slot { node, .. } => {
                    let node = *node;
                    let tokens: Vec<i32> = self
                        .trie
                        .children(node)
                        .iter()
                        .filter(|&&(_, c)| self.budget.open(c))
                        .map(|&(t, _)| t)
                        .collect();
                    let end_allowed = self.budget.complete(self.trie, node);
                    if tokens.is_empty() && !end_allowed {
                        // Unreachable with a consistent budget; end the list rather than loop.
                        self.phase = Phase::Done;
                        continue;
                    }
                    return Step::Choose { tokens, end_allowed };
                }
                Phase::Done => return Step::Stop,
            }
        }
    }

    /// Reports a freely sampled token of the opening line (`piece`: its text; `end_of_turn`: the
    /// model ended its turn). Returns `true` when the backend should decode and show the token,
    /// `false` when the opening is over and the token must be dropped (a newline, the end of the
    /// turn, or the opening's token budget is spent).
    pub fn free_token(&mut self, piece: &str, end_of_turn: bool) -> bool {
        if self.spec.free_slots && matches!(self.phase, Phase::Slot { .. }) {
            let (text, n) = &mut self.free_title;
            if end_of_turn || piece.contains('\n') || *n >= 32 {
                let title = std::mem::take(text).trim().to_string();
                *n = 0;
                self.items.push(GeneratedItem {
                    rank: self.items.len() + 1,
                    key: u32::MAX,
                    title,
                    token_logprobs: Vec::new(),
                    mean_logprob: 0.0,
                });
                self.phase = if end_of_turn { Phase::Done } else { Phase::Marker };
                return false;
            }
            text.push_str(piece);
            *n += 1;
            return true;
        }
        let Phase::Intro { used } = &mut self.phase else {
            return false;
        };
        if end_of_turn || piece.contains('\n') || *used >= self.spec.intro_max_tokens {
            self.phase = Phase::Marker;
            return false;
        }
        *used += 1;
        self.intro_text.push_str(piece);
        let sentence_end = piece.trim_end().ends_with(['.', '!', '?']) && piece.ends_with(['.', '!', '?', ' ']);
        if *used >= self.spec.intro_max_tokens || (sentence_end && self.intro_text.trim().len() >= INTRO_MIN_BYTES) {
            self.phase = Phase::Marker;
        }
        true
    }

    /// Reports the choice made at a [`Step::Choose`], with its log-probability under the
    /// unconstrained model. A choice that was not offered ends the list (the backend's bug, not a
    /// panic). Returns the completed item when `choice` is [`Choice::End`].
    pub fn choose(&mut self, choice: Choice, logprob: f32) -> Option<&GeneratedItem> {
        let Phase::Slot { node, logprobs } = &mut self.phase else {
            return None;
        };
        logprobs.push(logprob);
        match choice {
            Choice::Token(t) => match self.trie.child(*node, t).filter(|&c| self.budget.open(c)) {
                Some(c) => {
                    *node = c;
                    None
                }
                None => {
                    self.phase = Phase::Done;
                    None
                }
            },
            Choice::End => {
                let node = *node;
                let logprobs = std::mem::take(logprobs);
                let Some(entry) = self.trie.terminal_index(node).filter(|_| self.budget.complete(self.trie, node))
                else {
                    self.phase = Phase::Done;
                    return None;
                };
                self.budget.use_entry(self.trie, entry);
                let e = &self.trie.entries()[entry];
                let mean = if logprobs.is_empty() { 0.0 } else { logprobs.iter().sum::<f32>() / logprobs.len() as f32 };
                self.items.push(GeneratedItem {
                    rank: self.items.len() + 1,
                    key: e.key,
                    title: e.title.clone(),
                    token_logprobs: logprobs,
                    mean_logprob: mean,
                });
                self.pending_suffix = (self.suffix)(e.key);
                self.phase = Phase::Marker;
                self.items.last()
            }
        }
    }

    /// Inside a slot, the tokens of the only way on: from the current node, while it is not a
    /// complete title and has exactly one open child, that child's token (so the first is the
    /// only option of the pending [`Step::Choose`]). Empty outside a slot or at a branch. A
    /// backend may decode them in one batch (the logits of each position give the next token's
    /// log-probability) and report each with [`Self::choose`], in order. O(path length ×
    /// children).
    pub fn single_path(&self) -> Vec<i32> {
        let Phase::Slot { node, .. } = &self.phase else {
            return Vec::new();
        };
        let mut node = *node;
        let mut path = Vec::new();
        while !self.budget.complete(self.trie, node) {
            let mut open = self.trie.children(node).iter().filter(|&&(_, c)| self.budget.open(c));
            match (open.next(), open.next()) {
                (Some(&(t, c)), None) => {
                    path.push(t);
                    node = c;
                }
                _ => break,
            }
        }
        path
    }

    /// The items written so far, in order.
    pub fn items(&self) -> &[GeneratedItem] {
        &self.items
    }

    /// Consumes the constraint, returning its items.
    pub fn into_items(self) -> Vec<GeneratedItem> {
        self.items
    }

    /// The titles still allowed, as `(key, text in the trie's form)` (e.g. `" Heat (1995)"`), in
    /// trie order: what a backend without token-level control offers its server at a slot.
    /// O(titles).
    pub fn open_titles(&self) -> Vec<(u32, String)> {
        let form = self.trie.form();
        self.trie
            .entries()
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.budget.is_used(*i))
            .map(|(_, e)| (e.key, form.render(&e.title)))
            .collect()
    }

    /// The key of the still-allowed title whose text (trimmed, in either form) is exactly `text`
    /// (trimmed); `None` when there is none.
    pub fn resolve_open(&self, text: &str) -> Option<u32> {
        let text = text.trim();
        self.trie
            .entries()
            .iter()
            .enumerate()
            .find(|(i, e)| !self.budget.is_used(*i) && e.title.trim() == text)
            .map(|(_, e)| e.key)
    }

    /// Writes the whole allowed title `key` into the current slot at once (a backend whose
    /// server chose it): the item is recorded without token log-probabilities (`token_logprobs`
    /// empty, `mean_logprob` 0) and the slot ends. Returns the title's text in the trie's form,
    /// to be shown; `None` (and nothing changes) outside a slot at its start or when `key` is not
    /// an allowed title.
    pub fn choose_title(&mut self, key: u32) -> Option<String> {
        if !matches!(&self.phase, Phase::Slot { node, logprobs } if *node == TitleTrie::ROOT && logprobs.is_empty()) {
            return None;
        }
        let (entry, e) =
            self.trie.entries().iter().enumerate().find(|(i, e)| e.key == key && !self.budget.is_used(*i))?;
        let text = self.trie.form().render(&e.title);
        self.budget.use_entry(self.trie, entry);
        self.items.push(GeneratedItem {
            rank: self.items.len() + 1,
            key: e.key,
            title: e.title.clone(),
            token_logprobs: Vec::new(),
            mean_logprob: 0.0,
        });
        self.pending_suffix = (self.suffix)(e.key);
        self.phase = Phase::Marker;
        Some(text)
    }

    /// Ends the list now (no closing text). For a backend whose server named no allowed title.
    pub fn end_list(&mut self) {
        self.phase = Phase::Done;
    }

    /// Writes at most `n` more items: the list ends (with its closing text) once `items().len()`
    /// reaches the current count plus `n`. Only ever lowers the item count.
    pub fn limit_items(&mut self, n: usize) {
        self.spec.items = self.spec.items.min(self.items.len() + n);
    }

    /// Records a title a backend produced that resolves to no allowed title (counted, not shown).
    pub fn record_unresolved(&mut self, title: String) {
        self.unresolved.push(title);
    }

    /// The titles recorded by [`record_unresolved`](Self::record_unresolved), in order.
    pub fn unresolved(&self) -> &[String] {
        &self.unresolved
    }

    /// Whether the model is inside an item slot (writing a title).
    pub fn in_slot(&self) -> bool {
        matches!(self.phase, Phase::Slot { .. })
    }
}

/// How a backend picks among the allowed options of a [`Step::Choose`]: greedy at temperature 0,
/// else a softmax at `temperature` over the allowed options only, cut to the nucleus `top_p`, and
/// drawn with `rng`. `logits[i]` is the raw logit of option `i`. Returns the index of the pick
/// (0 for an empty slice). O(options · log options).
pub fn pick(logits: &[f32], temperature: f32, top_p: f32, rng: &mut SplitMix64) -> usize {
    if logits.is_empty() {
        return 0;
    }
    let argmax = logits.iter().enumerate().fold(0, |best, (i, &l)| if l > logits[best] { i } else { best });
    if temperature.is_nan() || temperature <= 0.0 || logits.len() == 1 {
        return argmax;
    }
    let max = logits[argmax];
    let mut probs: Vec<(usize, f64)> =
        logits.iter().enumerate().map(|(i, &l)| (i, (((l - max) / temperature) as f64).exp())).collect();
    let z: f64 = probs.iter().map(|p| p.1).sum();
    probs.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut kept = 0;
    let mut mass = 0.0;
    for p in &probs {
        kept += 1;
        mass += p.1 / z;
        if mass >= f64::from(top_p) {
            break;
        }
    }
    probs.truncate(kept.max(1));
    let total: f64 = probs.iter().map(|p| p.1).sum();
    let mut r = rng.next_f64() * total;
    for &(i, p) in &probs {
        if r < p {
            return i;
        }
        r -= p;
    }
    probs.last().map(|p| p.0).unwrap_or(argmax)
}

/// A small seeded random generator (SplitMix64) for sampling inside slots: the same seed gives the
/// same choices.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform draw in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The mean of `logprobs` (the rank-level score log π̄ of one title); `f32::NEG_INFINITY` for an
/// empty slice.
pub fn mean_logprob(logprobs: &[f32]) -> f32 {
    if logprobs.is_empty() {
        f32::NEG_INFINITY
    } else {
        logprobs.iter().sum::<f32>() / logprobs.len() as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::trie::{GreedyTokenizer, TitleForm};

    fn setup() -> (GreedyTokenizer, TitleTrie) {
        let t = GreedyTokenizer::new([" Alien", "s", " (", ")", "1979", "1986"].map(String::from));
        let trie = TitleTrie::build(
            vec![(1, "Alien (1979)".to_string()), (2, "Aliens (1986)".to_string())],
            TitleForm::LeadingSpace,
            |s| Ok(t.tokenize(s)),
        )
        .unwrap_or_else(|_| TitleTrie::from_entries(TitleForm::LeadingSpace, Vec::new()));
        (t, trie)
    }

    #[test]
    fn the_opening_ends_at_a_sentence_end_once_long_enough() {
        let (_, trie) = setup();
        let spec = ListSpec { items: 2, intro_max_tokens: 40, closing: None, free_slots: false };
        let mut c = ListConstraint::new(&trie, spec);
        assert_eq!(c.step(), Step::Free);
        // A short first sentence does not end the opening…
        assert!(c.free_token("I'm glad to hear that.", false));
        assert_eq!(c.step(), Step::Free);
        // …a sentence end past INTRO_MIN_BYTES does (the token itself is still shown).
        assert!(c.free_token(" Here are some picks.", false));
        assert_ne!(c.step(), Step::Free);
    }

    #[test]
    fn a_fixed_opening_is_shown_first_and_the_list_starts_on_a_new_line() {
        let (_, trie) = setup();
        // The spec's free opening is replaced: the model writes none.
        let spec = ListSpec { items: 1, intro_max_tokens: 40, closing: None, free_slots: false };
        let mut c = ListConstraint::new(&trie, spec).with_opening("Noted: you like Heat.\nSneaky");
        assert_eq!(c.step(), Step::Show("Noted: you like Heat. Sneaky".into()), "one line, newlines flattened");
        assert!(!c.free_token("free", false), "no free token after a fixed opening");
        // The newline after the opening is shown, not decoded: the model never read the opening.
        assert_eq!(c.step(), Step::Show("\n".into()));
        assert_eq!(c.step(), Step::Force("1.".into()));
        // An empty line keeps the spec's own behaviour.
        let spec = ListSpec { items: 1, intro_max_tokens: 0, closing: None, free_slots: false };
        let mut c = ListConstraint::new(&trie, spec).with_opening("");
        assert_eq!(c.step(), Step::Force("1.".into()));
    }

    /// Walks the machine choosing, in each slot, the first allowed token (or the end when allowed
    /// and `prefer_end`), and returns the text it forced/wrote in token terms.
    #[test]
    fn list_is_forced_markers_and_constrained_titles_without_repeats() {
        let (t, trie) = setup();
        let spec = ListSpec { items: 5, intro_max_tokens: 3, closing: Some("Bye".into()), free_slots: false };
        let mut c = ListConstraint::new(&trie, spec).with_suffix(|k| format!(" — reason {k}"));
        let mut text = String::new();
        let mut decoded = String::new();
        assert_eq!(c.step(), Step::Free);
        assert!(c.free_token("Hi", false));
        text.push_str("Hi");
        decoded.push_str("Hi");
        assert!(!c.free_token(".\n", false), "a newline ends the opening");
        let mut guard = 0;
        loop {
            guard += 1;
            assert!(guard < 100);
            match c.step() {
                Step::Stop => break,
                Step::Force(s) => {
                    text.push_str(&s);
                    decoded.push_str(&s);
                }
                Step::Show(s) => text.push_str(&s),
                Step::Free => break,
                Step::Choose { tokens, end_allowed } => {
                    if end_allowed {
                        c.choose(Choice::End, -0.5);
                        continue;
                    }
                    let tok = tokens[tokens.len() - 1];
                    text.push_str(&String::from_utf8(t.bytes(tok)).unwrap_or_default());
                    decoded.push_str(&String::from_utf8(t.bytes(tok)).unwrap_or_default());
                    c.choose(Choice::Token(tok), -1.0);
                }
            }
        }
        assert_eq!(text, "Hi\n1. Alien (1979) — reason 1\n2. Aliens (1986) — reason 2\nBye", "{text}");
        // The model reads its opening, the markers and the titles; the reasons and the closing are
        // only shown.
        assert_eq!(decoded, "Hi\n1. Alien (1979)\n2. Aliens (1986)", "{decoded}");
        let items = c.into_items();
        assert_eq!(items.len(), 2, "only two titles exist; no repeats");
        assert_eq!(items[0].token_logprobs.len(), 5);
        assert!((items[0].mean_logprob - (-4.5 / 5.0)).abs() < 1e-6);
    }

    #[test]
    fn the_single_path_runs_to_the_next_branch_or_complete_title() {
        let (t, trie) = setup();
        let id = |piece: &str| (0..6).find(|&i| t.bytes(i) == piece.as_bytes()).unwrap_or(-1);
        let mut c = ListConstraint::new(&trie, ListSpec { items: 2, ..ListSpec::default() });
        assert!(c.single_path().is_empty(), "outside a slot");
        assert_eq!(c.step(), Step::Force("1.".into()));
        // " Alien" then a branch: " (" (Alien (1979)) or "s" (Aliens).
        assert_eq!(c.single_path(), vec![id(" Alien")]);
        c.choose(Choice::Token(id(" Alien")), -0.1);
        assert!(c.single_path().is_empty(), "a branch");
        c.choose(Choice::Token(id("s")), -0.1);
        assert_eq!(c.single_path(), vec![id(" ("), id("1986"), id(")")], "one title left on this branch");
        for tok in c.single_path() {
            c.choose(Choice::Token(tok), -0.1);
        }
        assert!(c.single_path().is_empty(), "a complete title: the end is a choice");
        assert!(c.choose(Choice::End, -0.1).is_some());
        assert_eq!(c.step(), Step::Force("\n2.".into()));
        // Aliens is used: the whole of Alien (1979) is one path.
        assert_eq!(c.single_path(), vec![id(" Alien"), id(" ("), id("1979"), id(")")]);
    }

    #[test]
    fn bad_choices_end_the_list_instead_of_panicking() {
        let (_, trie) = setup();
        let mut c = ListConstraint::new(&trie, ListSpec::default());
        assert!(matches!(c.step(), Step::Force(s) if s == "1."));
        assert!(c.choose(Choice::End, 0.0).is_none(), "nothing written yet");
        assert_eq!(c.step(), Step::Stop);
    }

    #[test]
    fn pick_is_greedy_at_zero_temperature_and_stays_in_range() {
        let mut rng = SplitMix64::new(7);
        assert_eq!(pick(&[0.1, 3.0, 2.0], 0.0, 1.0, &mut rng), 1);
        for _ in 0..200 {
            let i = pick(&[0.1, 3.0, 2.0], 1.0, 0.9, &mut rng);
            assert!(i < 3);
        }
        // top_p small keeps only the most likely option.
        assert_eq!(pick(&[0.1, 3.0, 2.0], 1.0, 0.01, &mut rng), 1);
        assert_eq!(pick(&[], 1.0, 1.0, &mut rng), 0);
    }
}
