//! What a client may ask of one turn besides its message — sampling, a bound on the reply's
//! tokens, stop sequences (the HTTP API's OpenAI fields) — and the filter that ends a streamed
//! reply at a stop sequence.

use serde::Serialize;

use crate::llm::GenerationParams;

/// Per-turn settings of [`super::Engine::respond_with`] (the HTTP API's `temperature`, `top_p`,
/// `seed`, `max_tokens` and `stop`). The default changes nothing: the engine's
/// [`super::AgentConfig`] applies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnOptions {
    /// Sampling of the model's text in this turn (`temperature`, `top_p`, `seed`; the same seed
    /// and dialogue give the same reply); its `max_tokens` is not read. `None`: the engine's
    /// [`super::AgentConfig::generation`].
    pub sampling: Option<GenerationParams>,
    /// Most tokens the model decodes in this turn: its own (the opening line, the titles) and the
    /// text the agent feeds through it (list markers, reasons, the closing line), i.e. the
    /// `completion_tokens` of the turn's usage. When it is reached the reply ends there: a title
    /// not complete is not listed, and the turn's [`FinishReason`] is `MaxTokens`. `None`:
    /// [`super::AgentConfig::reply_tokens`]. Without a model no token is decoded and nothing is
    /// cut.
    pub max_tokens: Option<usize>,
    /// Stop sequences: the reply ends just before the first occurrence of any of them, which is
    /// neither shown nor stored, and only the items listed before it count as recommended.
    /// Empty strings are ignored.
    pub stop: Vec<String>,
}

/// Why a reply ended ([`super::TurnStats::finish`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The reply is complete (OpenAI `finish_reason: "stop"`).
    #[default]
    Complete,
    /// The model reached [`TurnOptions::max_tokens`] (OpenAI `"length"`).
    MaxTokens,
    /// A stop sequence of [`TurnOptions::stop`] ended it (OpenAI `"stop"`).
    StopSequence,
}

/// Passes a reply through piece by piece, holding back only text that may be the start of a stop
/// sequence, and ends it at the first stop sequence.
#[derive(Debug)]
pub(super) struct StopFilter<'a> {
    stops: Vec<&'a str>,
    held: String,
    hit: bool,
}

impl<'a> StopFilter<'a> {
    /// A filter for `stops` (empty strings dropped; none: every piece passes unchanged).
    pub(super) fn new(stops: &'a [String]) -> Self {
        StopFilter {
            stops: stops.iter().map(String::as_str).filter(|s| !s.is_empty()).collect(),
            held: String::new(),
            hit: false,
        }
    }

    /// Whether a stop sequence was seen (everything after it is dropped).
    pub(super) fn hit(&self) -> bool {
        self.hit
    }

    /// Takes the next `piece` and returns the text that can be shown now (possibly empty).
    pub(super) fn push(&mut self, piece: &str) -> String {
        if self.hit {
            return String::new();
        }
        if self.stops.is_empty() {
            return piece.to_string();
        }
        self.held.push_str(piece);
        if let Some(at) = self.stops.iter().filter_map(|s| self.held.find(s)).min() {
            self.hit = true;
            // `find` returns a character boundary.
            let shown = self.held.get(..at).unwrap_or_default().to_string();
            self.held.clear();
            return shown;
        }
        // Hold back the longest end of the text that is a proper prefix of a stop sequence; it
        // ends on a character boundary because it equals a prefix cut at one.
        let keep = self.stops.iter().map(|s| prefix_at_end(&self.held, s)).max().unwrap_or(0);
        let cut = self.held.len() - keep;
        let rest = self.held.split_off(cut);
        std::mem::replace(&mut self.held, rest)
    }

    /// The text still held back, once the reply is complete.
    pub(super) fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

/// Length in bytes of the longest proper prefix of `stop` that `text` ends with (0: none).
fn prefix_at_end(text: &str, stop: &str) -> usize {
    (1..stop.len()).rev().find(|&k| stop.is_char_boundary(k) && text.ends_with(&stop[..k])).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::StopFilter;

    fn run(pieces: &[&str], stops: &[&str]) -> (String, bool) {
        let stops: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
        let mut f = StopFilter::new(&stops);
        let mut out: String = pieces.iter().map(|p| f.push(p)).collect();
        out.push_str(&f.finish());
        (out, f.hit())
    }

    #[test]
    fn the_reply_ends_before_the_first_stop_sequence_even_across_pieces() {
        assert_eq!(run(&["Here are ", "some:\n1", ". Heat"], &["\n1."]), ("Here are some:".to_string(), true));
        assert_eq!(run(&["a", "b", "c"], &["x"]), ("abc".to_string(), false));
        assert_eq!(run(&["ab", "c"], &[]), ("abc".to_string(), false));
        assert_eq!(run(&["ab", "c"], &[""]), ("abc".to_string(), false));
        assert_eq!(run(&["one. two", ". three"], &["three", "two."]), ("one. ".to_string(), true));
        // A held-back prefix that does not become a stop sequence is shown.
        assert_eq!(run(&["café", " é"], &["é!"]), ("café é".to_string(), false));
    }

    proptest::proptest! {
        /// Whatever the split into pieces, the shown text is the reply up to the first stop.
        #[test]
        fn any_split_shows_the_text_before_the_first_stop(
            text in "[ab é\n]{0,40}",
            stop in "[ab é\n]{1,4}",
            cuts in proptest::collection::vec(0usize..40, 0..8),
        ) {
            let mut bounds: Vec<usize> = cuts.into_iter().filter(|&c| c <= text.len() && text.is_char_boundary(c)).collect();
            bounds.extend([0, text.len()]);
            bounds.sort_unstable();
            bounds.dedup();
            let pieces: Vec<&str> = bounds.windows(2).map(|w| &text[w[0]..w[1]]).collect();
            let (shown, hit) = run(&pieces, &[stop.as_str()]);
            let expected = text.find(&stop).map_or(text.as_str(), |at| &text[..at]);
            proptest::prop_assert_eq!(shown.as_str(), expected);
            proptest::prop_assert_eq!(hit, text.contains(&stop));
        }
    }
}
