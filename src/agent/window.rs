//! The dialogue the model sees: the system prompt, the turns so far and the new message, cut to
//! a window that fits the model's context and moves rarely (so its keys and values are reused).

use super::prompts::RecommendPrompts;
use super::AgentConfig;
use crate::dialogue::{Role, Turn};
use crate::llm::{ChatMessage, LanguageModel};

/// Longest seeker message the model sees, in bytes (the tools see all of it).
const MODEL_INPUT_BYTES: usize = 600;

/// Tokens kept free for the next seeker message when the dialogue's window is chosen
/// ([`model_messages`]): a message of [`MODEL_INPUT_BYTES`] English bytes is ≈ 150 tokens.
const NEXT_MESSAGE_TOKENS: usize = 200;

/// Turns dropped at a time from the start of a dialogue too long for the context
/// ([`model_messages`]): four exchanges.
const WINDOW_STEP: usize = 8;

/// The model's messages for a turn: the system prompt, the dialogue so far (seeker turns through
/// the `intro` template, Curator's replies as shown) and the new message (`None`: the dialogue
/// alone, as [`Agent::prefill_dialogue`] caches it).
///
/// When the dialogue would leave fewer than [`AgentConfig::reply_tokens`] tokens of the context plus
/// [`NEXT_MESSAGE_TOKENS`] for a message, its oldest turns are dropped, [`WINDOW_STEP`] at a time
/// (cutting at a seeker turn). The window depends on the dialogue only, not on the new message,
/// so the dialogue prefilled after a turn and the next turn's prompt start at the same turn, and
/// the window stays the same until it is full again: its keys and values are reused. Only a
/// message longer than the reserve moves the window further.
pub(super) fn model_messages(
    model: &dyn LanguageModel,
    prompts: &RecommendPrompts,
    config: &AgentConfig,
    history: &[Turn],
    user: Option<&str>,
) -> Vec<ChatMessage> {
    let render = |text: &str| {
        let text = crate::util::cut_at_char_boundary(text, MODEL_INPUT_BYTES);
        prompts.render_intro(minijinja::context! { user => text }).unwrap_or_else(|_| text.to_string())
    };
    let budget = model.context_size().unwrap_or(usize::MAX).saturating_sub(config.reply_tokens() + 8);
    let build = |start: usize, user: Option<&str>| -> (Vec<ChatMessage>, usize) {
        let mut messages = vec![ChatMessage::system(prompts.system.trim())];
        for t in history.get(start..).unwrap_or_default() {
            messages.push(match t.role {
                Role::Seeker => ChatMessage::user(render(&t.text)),
                Role::Recommender => ChatMessage::assistant(t.text.clone()),
            });
        }
        if let Some(user) = user {
            messages.push(ChatMessage::user(render(user)));
        }
        let len = model.apply_chat_template(&messages).and_then(|p| model.token_ids(&p)).map(|t| t.len()).unwrap_or(0);
        (messages, len)
    };
    // Fixed cut points (every WINDOW_STEP turns), not a fraction of the history: as the dialogue
    // grows the chosen start stays put until the window is full, then jumps a whole step. The
    // next cut point is clamped to the history's length (a dialogue of 2 turns whose first turn
    // is too long jumps to 8): `start <= history.len()` always holds, so `history[start..]` is
    // in bounds and the loops below end once the whole history is dropped.
    let advance = |start: usize| -> usize {
        let mut next = ((start / WINDOW_STEP + 1) * WINDOW_STEP).min(history.len());
        while next < history.len() && history[next].role != Role::Seeker {
            next += 1;
        }
        next
    };
    let mut start = 0;
    while start < history.len() && build(start, None).1 + NEXT_MESSAGE_TOKENS > budget {
        start = advance(start);
    }
    loop {
        let (messages, len) = build(start, user);
        if len <= budget || start >= history.len() {
            return messages;
        }
        start = advance(start);
    }
}

#[cfg(test)]
mod tests {
    use super::{model_messages, MODEL_INPUT_BYTES, NEXT_MESSAGE_TOKENS};
    use crate::agent::prompts::RecommendPrompts;
    use crate::agent::AgentConfig;
    use crate::dialogue::{Role, Turn};
    use crate::llm::{ChatMessage, ChatRole, GenerationParams, GenerationStats, LanguageModel};

    /// A model whose template joins the messages and whose tokens are words, with a context of
    /// the given size in tokens (1000: enough to exercise the dialogue window).
    struct Words(usize);

    impl LanguageModel for Words {
        fn name(&self) -> &str {
            "words"
        }
        fn apply_chat_template(&self, messages: &[ChatMessage]) -> crate::Result<String> {
            Ok(messages.iter().map(|m| m.content.as_str()).collect::<Vec<_>>().join(" "))
        }
        fn generate(
            &mut self,
            _: &[ChatMessage],
            _: &GenerationParams,
            _: &mut dyn FnMut(&str) -> bool,
        ) -> crate::Result<GenerationStats> {
            Err(crate::Error::Model("not used".into()))
        }
        fn context_size(&self) -> Option<usize> {
            Some(self.0)
        }
        fn token_ids(&self, text: &str) -> crate::Result<Vec<i32>> {
            Ok(text.split_whitespace().map(|_| 0).collect())
        }
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn the_dialogue_window_does_not_depend_on_the_new_message() {
        let prompts = RecommendPrompts::load(&crate::paths::prompts_dir()).unwrap();
        let config = AgentConfig::default();
        let budget = 1000 - config.generation.max_tokens - 8;
        let mut history = Vec::new();
        let mut moved = 0;
        let mut last_first = String::new();
        for n in 0..40 {
            let seeker = format!("turn {n}: I liked a movie with many words in this message");
            let reply = format!("reply {n}: here are three movies with their reasons and a closing line");
            let alone = model_messages(&Words(1000), &prompts, &config, &history, None);
            let next = model_messages(&Words(1000), &prompts, &config, &history, Some(&seeker));
            // The prompt of the next turn is the prefilled dialogue plus the new message.
            assert_eq!(next.len(), alone.len() + 1, "turn {n}");
            assert_eq!(next[..alone.len()], alone[..], "turn {n}");
            let len = Words(1000).token_ids(&Words(1000).apply_chat_template(&next).unwrap()).unwrap().len();
            assert!(len <= budget, "turn {n}: {len} tokens > {budget}");
            let first = alone.get(1).map(|m| m.content.clone()).unwrap_or_default();
            if first != last_first {
                moved += 1;
                last_first = first;
            }
            history.push(Turn { role: Role::Seeker, text: seeker, items: Vec::new() });
            history.push(Turn { role: Role::Recommender, text: reply, items: Vec::new() });
        }
        // The window moves now and then (by halves), not every turn.
        assert!((2..=12).contains(&moved), "the window moved {moved} times in 40 turns");
        let long = "word ".repeat(NEXT_MESSAGE_TOKENS * 2);
        let fitted = model_messages(&Words(1000), &prompts, &config, &history, Some(&long));
        let len = Words(1000).token_ids(&Words(1000).apply_chat_template(&fitted).unwrap()).unwrap().len();
        assert!(len <= budget, "a message longer than the reserve still fits: {len}");
    }

    /// A text of about `bytes` bytes: words of 1–12 characters, some of them two-byte letters
    /// (so cuts at [`MODEL_INPUT_BYTES`] meet character boundaries), from `seed`.
    fn text_of(bytes: usize, seed: u64) -> String {
        let mut out = String::with_capacity(bytes + 16);
        let mut x = seed;
        while out.len() < bytes {
            let r = crate::util::splitmix64(&mut x);
            let len = 1 + (r % 12) as usize;
            let letter = if r.is_multiple_of(7) { 'é' } else { 'a' };
            out.extend(std::iter::repeat_n(letter, len));
            out.push(' ');
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// The dialogue window never panics and always fits when anything can fit: whatever the
        /// history's length and its messages' sizes (a 6,000-byte reply after one short turn was
        /// the crash of issue 20), the number of recommendations (1–20, which sizes the reply's
        /// reserve) and the model's context. The window is the system prompt, a suffix of the
        /// history starting at a seeker turn (or empty), and the new message; it is over the
        /// budget only when no history is left in it.
        #[test]
        #[allow(clippy::unwrap_used)]
        fn the_window_fits_any_history_message_size_list_length_and_context(
            sizes in proptest::collection::vec(0usize..7000, 0..40),
            user_bytes in proptest::option::of(1usize..5000),
            recommendations in 1usize..=20,
            context in proptest::prop_oneof![16usize..512, 512usize..4096, 4096usize..16384],
            seed in proptest::prelude::any::<u64>(),
        ) {
            let prompts = RecommendPrompts::load(&crate::paths::prompts_dir()).unwrap();
            let config = AgentConfig { recommendations, ..AgentConfig::default() };
            let model = Words(context);
            let budget = context.saturating_sub(config.reply_tokens() + 8);
            let history: Vec<Turn> = sizes
                .iter()
                .enumerate()
                .map(|(i, &bytes)| Turn {
                    role: if i % 2 == 0 { Role::Seeker } else { Role::Recommender },
                    text: text_of(bytes, seed.wrapping_add(i as u64)),
                    items: Vec::new(),
                })
                .collect();
            let user = user_bytes.map(|b| text_of(b, seed ^ 0x5eed));
            let messages = model_messages(&model, &prompts, &config, &history, user.as_deref());
            proptest::prop_assert_eq!(messages[0].role, ChatRole::System);
            let dialogue = &messages[1..messages.len() - usize::from(user.is_some())];
            if let Some(user) = &user {
                let last = messages.last().unwrap();
                proptest::prop_assert_eq!(last.role, ChatRole::User);
                // The model sees at most MODEL_INPUT_BYTES of the message, through the template.
                let seen = crate::util::cut_at_char_boundary(user, MODEL_INPUT_BYTES);
                proptest::prop_assert!(last.content.contains(seen.trim()));
            }
            let start = history.len() - dialogue.len();
            proptest::prop_assert!(start == history.len() || history[start].role == Role::Seeker);
            for (m, t) in dialogue.iter().zip(&history[start..]) {
                match t.role {
                    Role::Seeker => proptest::prop_assert_eq!(m.role, ChatRole::User),
                    Role::Recommender => {
                        proptest::prop_assert_eq!(m.role, ChatRole::Assistant);
                        proptest::prop_assert_eq!(&m.content, &t.text);
                    }
                }
            }
            let len = model.token_ids(&model.apply_chat_template(&messages).unwrap()).unwrap().len();
            proptest::prop_assert!(len <= budget || dialogue.is_empty(), "{} tokens > {} with {} turns kept", len, budget, dialogue.len());
        }
    }
}
