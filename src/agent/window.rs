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
        for t in &history[start..] {
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
    // grows the chosen start stays put until the window is full, then jumps a whole step.
    let advance = |start: usize| -> usize {
        let mut next = (start / WINDOW_STEP + 1) * WINDOW_STEP;
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
    use super::{model_messages, NEXT_MESSAGE_TOKENS};
    use crate::agent::prompts::RecommendPrompts;
    use crate::agent::AgentConfig;
    use crate::dialogue::{Role, Turn};
    use crate::llm::{ChatMessage, GenerationParams, GenerationStats, LanguageModel};

    /// A model whose template joins the messages and whose tokens are words, with a 1000-token
    /// context: enough to exercise the dialogue window.
    struct Words;

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
            Some(1000)
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
            let alone = model_messages(&Words, &prompts, &config, &history, None);
            let next = model_messages(&Words, &prompts, &config, &history, Some(&seeker));
            // The prompt of the next turn is the prefilled dialogue plus the new message.
            assert_eq!(next.len(), alone.len() + 1, "turn {n}");
            assert_eq!(next[..alone.len()], alone[..], "turn {n}");
            let len = Words.token_ids(&Words.apply_chat_template(&next).unwrap()).unwrap().len();
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
        let fitted = model_messages(&Words, &prompts, &config, &history, Some(&long));
        let len = Words.token_ids(&Words.apply_chat_template(&fitted).unwrap()).unwrap().len();
        assert!(len <= budget, "a message longer than the reserve still fits: {len}");
    }
}
