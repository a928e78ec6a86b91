//! The token trie of the continuations that [`LlamaCppModel`](super::LlamaCppModel) scores in
//! one pass ([`LanguageModel::score_continuations`](crate::llm::LanguageModel::score_continuations)),
//! and log-softmax helpers computed in f64.

use llama_cpp_2::token::LlamaToken;

/// The token trie of the continuations scored by [`LanguageModel::score_continuations`]. Node 0
/// is the end of the prompt; every other node is one token after its parent.
#[derive(Default)]
pub(super) struct ScoreTrie {
    pub(super) token: Vec<LlamaToken>,
    pub(super) depth: Vec<usize>,
    pub(super) parent: Vec<usize>,
    pub(super) children: Vec<Vec<(LlamaToken, usize)>>,
    /// Per node: log-probabilities of its children's tokens, in `children` order.
    pub(super) lps: Vec<Vec<f32>>,
}

impl ScoreTrie {
    /// Adds a continuation; returns the node of each of its tokens.
    pub(super) fn insert(&mut self, tokens: &[LlamaToken]) -> Vec<usize> {
        if self.token.is_empty() {
            self.token.push(LlamaToken(-1));
            self.depth.push(0);
            self.parent.push(0);
            self.children.push(Vec::new());
            self.lps.push(Vec::new());
        }
        let mut node = 0;
        let mut path = Vec::with_capacity(tokens.len());
        for (d, &t) in tokens.iter().enumerate() {
            node = match self.children[node].iter().find(|(x, _)| *x == t) {
                Some(&(_, c)) => c,
                None => {
                    let c = self.token.len();
                    self.token.push(t);
                    self.depth.push(d);
                    self.parent.push(node);
                    self.children.push(Vec::new());
                    self.lps.push(Vec::new());
                    self.children[node].push((t, c));
                    c
                }
            };
            path.push(node);
        }
        path
    }

    /// Log-probabilities of `node`'s children under `logits` (one normalizer).
    pub(super) fn next_logprobs(&self, node: usize, logits: &[f32]) -> Vec<f32> {
        let lse = log_sum_exp(logits);
        self.children[node].iter().map(|&(t, _)| log_prob_with(logits, lse, t)).collect()
    }

    /// The stored log-probability of `token` after `node` (NaN if it was not computed).
    pub(super) fn lp_of(&self, node: usize, token: LlamaToken) -> f32 {
        self.children[node]
            .iter()
            .position(|&(t, _)| t == token)
            .and_then(|i| self.lps[node].get(i))
            .copied()
            .unwrap_or(f32::NAN)
    }
}

/// `log softmax(logits)[token]`, computed in f64.
pub(super) fn log_prob(logits: &[f32], token: LlamaToken) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    let logit = usize::try_from(token.0).ok().and_then(|i| logits.get(i)).copied().unwrap_or(f32::NEG_INFINITY);
    (logit as f64 - max - sum.ln()) as f32
}

/// `log Σ exp(logits)`, computed in f64 (the normalizer of a log-softmax).
pub(super) fn log_sum_exp(logits: &[f32]) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    max + sum.ln()
}

/// `log softmax(logits)[token]` given the normalizer `lse` from [`log_sum_exp`].
fn log_prob_with(logits: &[f32], lse: f64, token: LlamaToken) -> f32 {
    let logit = usize::try_from(token.0).ok().and_then(|i| logits.get(i)).copied().unwrap_or(f32::NEG_INFINITY);
    (logit as f64 - lse) as f32
}
