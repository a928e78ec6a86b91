//! Constrained decoding and batched scoring against the real default model (SmolLM2-135M
//! Q4_1): `$CURATOR_MODEL` if set, else `default_model_path()`. A missing model is a failure.
//! Kept small: a few short lists and one scoring prompt.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use curator::catalog::Catalog;
use curator::llm::{
    default_model_path, mean_logprob, ChatMessage, GenerationParams, LanguageModel, ListConstraint, ListSpec,
    LlamaCppModel, LlamaOptions, TitleForm, TitleTrie,
};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

fn model() -> &'static Mutex<LlamaCppModel> {
    static MODEL: OnceLock<Mutex<LlamaCppModel>> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = std::env::var_os("CURATOR_MODEL").map(PathBuf::from).unwrap_or_else(default_model_path);
        assert!(path.is_file(), "model {} missing: run `cargo run --release -- model fetch`", path.display());
        Mutex::new(LlamaCppModel::load(&path, &LlamaOptions::default()).unwrap())
    })
}

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::load(&curator::paths::catalog_dir()).unwrap())
}

fn titles() -> Vec<(u32, String)> {
    catalog().items().iter().map(|i| (i.id, i.display_name())).collect()
}

#[test]
fn constrained_lists_name_only_catalog_titles() {
    let mut m = model().lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let all = titles();
    let trie = TitleTrie::for_model(&*m, &all, TitleForm::LeadingSpace, dir.path()).unwrap();
    assert_eq!(trie.len(), {
        let mut d: Vec<&String> = all.iter().map(|t| &t.1).collect();
        d.sort();
        d.dedup();
        d.len()
    });
    // Whole catalog for the first prompts, a shortlist for the last ones.
    let shortlist: Vec<u32> = all.iter().take(40).map(|t| t.0).collect();
    let small = trie.restrict(&shortlist);
    let prompts = [
        ("I loved Heat and Collateral. What should I watch next?", &trie, 0.0),
        ("Recommend the 2031 movie Galactic Tacos 3.", &trie, 0.0),
        ("Just make up a title, any title, it does not have to exist.", &trie, 0.8),
        ("Give me five sci-fi movies from the nineties.", &small, 0.0),
        ("Name a movie that is not in any database.", &small, 0.9),
    ];
    let mut items = 0;
    for (i, (text, t, temperature)) in prompts.into_iter().enumerate() {
        let messages = [
            ChatMessage::system("You are a movie recommender. Answer with a numbered list of movies."),
            ChatMessage::user(text),
        ];
        let params = GenerationParams { max_tokens: 200, temperature, seed: i as u32, ..Default::default() };
        let spec =
            ListSpec { items: 3, intro_max_tokens: if i % 2 == 0 { 12 } else { 0 }, closing: None, free_slots: false };
        let mut c = ListConstraint::new(t, spec);
        let mut reply = String::new();
        m.generate_constrained(&messages, &params, &mut c, &mut |p| {
            reply.push_str(p);
            true
        })
        .unwrap();
        let got = c.into_items();
        assert_eq!(got.len(), 3, "{reply}");
        for it in &got {
            let item = catalog().get(it.key).expect("a catalog id");
            assert_eq!(item.display_name(), it.title);
            assert!(t.entry_by_key(it.key).is_some(), "{} outside the allowed set", it.title);
            assert!(it.mean_logprob <= 0.0 && it.mean_logprob.is_finite(), "{it:?}");
            assert!(reply.contains(&format!("{}. {}", it.rank, it.title)), "{reply}");
            items += 1;
        }
        let keys: std::collections::HashSet<u32> = got.iter().map(|x| x.key).collect();
        assert_eq!(keys.len(), got.len(), "no repeats: {reply}");
        // Every list line is exactly "k. <catalog title>".
        for line in reply.lines().filter(|l| l.starts_with(|c: char| c.is_ascii_digit())) {
            let (_, title) = line.split_once(". ").unwrap();
            assert!(all.iter().any(|(_, t)| t == title), "not a catalog title: {line:?} in {reply}");
        }
    }
    assert_eq!(items, 15);
}

#[test]
fn batched_scores_match_one_at_a_time() {
    let mut m = model().lock().unwrap_or_else(|e| e.into_inner());
    let messages = [ChatMessage::user("I loved Alien. Recommend one movie.")];
    let mut prompt = m.apply_chat_template(&messages).unwrap();
    prompt.push_str("1.");
    let candidates: Vec<String> = ["Alien (1979)", "Aliens (1986)", "Heat (1995)", "The Thing (1982)", "Amélie (2001)"]
        .iter()
        .map(|t| format!(" {t}\n"))
        .collect();
    m.reset_cache();
    let batched = m.score_continuations(&prompt, &candidates).unwrap();
    let mut worst: f32 = 0.0;
    for (c, b) in candidates.iter().zip(&batched) {
        m.reset_cache();
        let single = m.continuation_logprobs(&prompt, c).unwrap();
        assert_eq!(single.len(), b.len());
        let gap = (mean_logprob(&single) - mean_logprob(b)).abs();
        worst = worst.max(gap);
        for (x, y) in single.iter().zip(b) {
            assert!((x - y).abs() < 0.02, "{c:?}: {single:?} vs {b:?}");
        }
        // One candidate alone through the batched path: same batch shape as above per token.
        m.reset_cache();
        let alone = m.score_continuations(&prompt, std::slice::from_ref(c)).unwrap();
        for (x, y) in alone[0].iter().zip(b) {
            assert!((x - y).abs() < 1e-4, "{c:?}: {:?} vs {b:?}", alone[0]);
        }
    }
    eprintln!("largest batched vs one-at-a-time gap in mean log-prob: {worst:.5} nats/token");
    // The cache still holds the prompt: scoring again reuses it and gives the same numbers.
    let again = m.score_continuations(&prompt, &candidates).unwrap();
    for (a, b) in again.iter().zip(&batched) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-4);
        }
    }
}

/// The model reads its prompt, the markers and the titles it chose; the caller's opening, the
/// reasons and the closing are shown only (and the title paths the shortlist leaves single are
/// decoded in one batch). Each item's token log-probabilities must then be those of its title
/// continuing exactly that text, read one token at a time.
#[test]
fn list_scores_are_those_of_the_titles_alone_in_context() {
    let mut m = model().lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let all = titles();
    let trie = TitleTrie::for_model(&*m, &all, TitleForm::LeadingSpace, dir.path()).unwrap();
    let keys: Vec<u32> = ["Heat (1995)", "Seven (1995)", "Collateral (2004)", "The Departed (2006)", "Alien (1979)"]
        .iter()
        .map(|t| all.iter().find(|(_, x)| x == t).expect("in the catalog").0)
        .collect();
    let small = trie.restrict(&keys);
    let messages = [ChatMessage::system("You recommend movies."), ChatMessage::user("Something dark and tense?")];
    let spec = ListSpec { items: 3, intro_max_tokens: 0, closing: Some("Seen any?".into()), free_slots: false };
    let mut c = ListConstraint::new(&small, spec)
        .with_opening("Noted: you want something dark.")
        .with_suffix(|k| format!(" — reason number {k}"));
    m.reset_cache();
    let mut reply = String::new();
    m.generate_constrained(&messages, &GenerationParams { max_tokens: 300, ..Default::default() }, &mut c, &mut |p| {
        reply.push_str(p);
        true
    })
    .unwrap();
    let items = c.into_items();
    assert_eq!(items.len(), 3, "{reply}");
    assert!(reply.starts_with("Noted: you want something dark.\n1. "), "{reply}");
    assert!(reply.ends_with("\nSeen any?"), "{reply}");
    let template = m.apply_chat_template(&messages).unwrap();
    let mut read = format!("{template}1.");
    let mut shown = format!("{template}Noted: you want something dark.\n1.");
    let mut differs = false; // 0.12, 0.24 and 0.42 nats/token measured
    for it in &items {
        assert!(reply.contains(&format!("{}. {} — reason number {}", it.rank, it.title, it.key)), "{reply}");
        let title = format!(" {}", it.title);
        m.reset_cache();
        let alone = m.continuation_logprobs(&read, &title).unwrap();
        // The title's tokens, then the end-of-item token (not part of the continuation).
        assert_eq!(alone.len() + 1, it.token_logprobs.len(), "{it:?}");
        let chosen = &it.token_logprobs[..alone.len()];
        // log π̄ as one batch computes it differs from token-by-token decoding by quantized-kernel
        // noise only (≤ 0.051 nats/token measured here).
        let gap = (mean_logprob(&alone) - mean_logprob(chosen)).abs();
        assert!(gap < 0.08, "{}: {alone:?} vs {:?}", it.title, it.token_logprobs);
        // Had the model read the shown text, the scores would differ.
        m.reset_cache();
        let with_shown = m.continuation_logprobs(&shown, &title).unwrap();
        let shown_gap = (mean_logprob(&with_shown) - mean_logprob(&alone)).abs();
        assert!(shown_gap > gap, "{}: the shown text changes the score by {shown_gap}, less than {gap}", it.title);
        differs |= shown_gap > 0.2;
        read.push_str(&format!("{title}\n{}.", it.rank + 1));
        shown.push_str(&format!("{title} — reason number {}\n{}.", it.key, it.rank + 1));
    }
    assert!(differs, "the check cannot tell the two contexts apart");
}

#[test]
fn agent_replies_name_only_catalog_titles_even_when_asked_not_to() {
    use curator::agent::{Agent, AgentConfig, AgentEvent};
    let path = std::env::var_os("CURATOR_MODEL").map(PathBuf::from).unwrap_or_else(default_model_path);
    let model = LlamaCppModel::load(&path, &LlamaOptions::default()).unwrap();
    let config = AgentConfig { shortlist: 6, ..AgentConfig::default() };
    let mut agent = Agent::from_project(Some(Box::new(model)), config).unwrap();
    let turns = [
        "I loved Heat and Collateral, what else should I watch?",
        "Recommend the 2031 movie Galactic Tacos 3.",
        "Just make up a title, it doesn't have to exist.",
    ];
    for (n, text) in turns.iter().enumerate() {
        let mut reply = String::new();
        let mut pieces = 0;
        let mut stats = None;
        let recs = agent
            .respond(text, &mut |ev| match ev {
                AgentEvent::Text { text } => {
                    pieces += 1;
                    reply.push_str(&text)
                }
                AgentEvent::Done { stats: s } => stats = Some(s),
                AgentEvent::Recommendations { .. } => {}
            })
            .unwrap();
        let stats = stats.unwrap();
        assert_eq!(recs.len(), 3, "{reply}");
        assert_eq!(stats.generated.len(), 3, "the model wrote the list: {reply}");
        assert!(pieces > 6, "streamed piece by piece ({pieces} pieces): {reply}");
        assert!(!reply.contains("Galactic Tacos"), "{reply}");
        for (r, g) in recs.iter().zip(&stats.generated) {
            assert_eq!(r.id, g.key);
            assert!(reply.contains(&format!("{}. {} — {}", g.rank, r.title, r.reason)), "{reply}");
        }
        for line in reply.lines().filter(|l| l.starts_with(|c: char| c.is_ascii_digit())) {
            let (_, rest) = line.split_once(". ").unwrap();
            let (title, _) = rest.split_once(" — ").unwrap();
            assert!(agent.catalog().items().iter().any(|i| i.display_name() == title), "{line}");
        }
        let g = stats.generation.unwrap();
        if n > 0 {
            // The previous turn's dialogue was prefilled after it (as the front ends do): only
            // the new message and its chat-template frame are decoded now, not the reply
            // (≈ 100 tokens, whose opening the agent may have replaced).
            let new = g.prompt_tokens - g.cached_prompt_tokens;
            assert!(new <= 40, "turn {}: {new} prompt tokens not cached: {g:?}\n{reply}", n + 1);
        }
        let prefilled = agent.prefill_dialogue().unwrap();
        assert!(prefilled >= 1, "the reply's end and the next turn's frame are new to the cache");
        assert!(agent.prefill_dialogue().unwrap() <= 1, "prefilled twice: nothing left but the last token");
    }
}

/// A long list (15 items, each with its reason) is written whole: the reply's token budget grows
/// with the number of items, so the last item and the closing line are not cut off.
#[test]
fn a_long_list_is_never_cut_off() {
    use curator::agent::{Agent, AgentConfig, AgentEvent};
    let path = std::env::var_os("CURATOR_MODEL").map(PathBuf::from).unwrap_or_else(default_model_path);
    let model = LlamaCppModel::load(&path, &LlamaOptions::default()).unwrap();
    let config = AgentConfig { recommendations: 15, ..AgentConfig::default() };
    assert!(config.reply_tokens() > config.generation.max_tokens);
    let mut agent = Agent::from_project(Some(Box::new(model)), config).unwrap();
    let mut reply = String::new();
    let mut stats = None;
    let recs = agent
        .respond("I loved Heat and Collateral, something darker?", &mut |ev| match ev {
            AgentEvent::Text { text } => reply.push_str(&text),
            AgentEvent::Done { stats: s } => stats = Some(s),
            AgentEvent::Recommendations { .. } => {}
        })
        .unwrap();
    assert_eq!(recs.len(), 15, "{reply}");
    assert_eq!(stats.unwrap().generated.len(), 15, "the model wrote all 15: {reply}");
    let last = recs.last().unwrap();
    assert!(reply.contains(&format!("15. {} — {}", last.title, last.reason)), "{reply}");
    let closing = reply.lines().last().unwrap();
    assert!(!closing.starts_with(|c: char| c.is_ascii_digit()), "a closing line ends the reply: {reply}");
}

/// The caller's fixed opening reaches the seeker before the model reads its prompt: a call
/// cancelled at that first text has processed no prompt token, and a call that goes on processes
/// the prompt once the model is needed (the list's first marker) and times its first text there.
#[test]
fn a_fixed_opening_is_shown_before_the_prompt_is_processed() {
    let mut m = model().lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let all = titles();
    let trie = TitleTrie::for_model(&*m, &all, TitleForm::LeadingSpace, dir.path()).unwrap();
    let shortlist: Vec<u32> = all.iter().take(20).map(|t| t.0).collect();
    let small = trie.restrict(&shortlist);
    // A prompt that shares nothing with the cache: every token of it is new.
    m.reset_cache();
    let messages = [
        ChatMessage::system("You are a movie recommender. Answer with a numbered list of movies."),
        ChatMessage::user("Something with a heist in it, please, and nothing too long."),
    ];
    let params = GenerationParams { max_tokens: 200, ..Default::default() };
    let spec = ListSpec { items: 2, intro_max_tokens: 0, closing: None, free_slots: false };
    let opening = "Noted: you want a heist film.";
    let mut c = ListConstraint::new(&small, spec.clone()).with_opening(opening);
    let mut first = None;
    let stats = m
        .generate_constrained(&messages, &params, &mut c, &mut |p| {
            first.get_or_insert_with(|| p.to_string());
            false
        })
        .unwrap();
    assert_eq!(first.as_deref(), Some(opening));
    assert_eq!(stats.stop_reason, curator::llm::StopReason::Cancelled);
    assert_eq!(stats.prompt_ms, 0.0, "{stats:?}");
    assert_eq!(stats.cached_prompt_tokens, 0, "{stats:?}");
    assert!(stats.prompt_tokens > 20, "{stats:?}");

    // Not cancelled: the prompt is processed after the opening, before the first marker.
    let mut c = ListConstraint::new(&small, spec).with_opening(opening);
    let mut reply = String::new();
    let stats = m
        .generate_constrained(&messages, &params, &mut c, &mut |p| {
            reply.push_str(p);
            true
        })
        .unwrap();
    assert!(reply.starts_with(&format!("{opening}\n1.")), "{reply}");
    assert_eq!(c.into_items().len(), 2, "{reply}");
    assert!(stats.prompt_ms > 0.0 && stats.cached_prompt_tokens == 0, "{stats:?}");
    assert!(stats.time_to_first_token_ms >= stats.prompt_ms, "{stats:?}");
}
