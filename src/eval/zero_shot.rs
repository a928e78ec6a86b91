//! Zero-shot LLM recommendation (He et al., "Large Language Models as Zero-Shot Conversational
//! Recommenders", CIKM '23): the model reads the dialogue and names titles freely, one per line;
//! Curator's title linker maps each line to the catalog. Lines that do not link are out of the
//! catalog and counted (the OOC rate), so any served model can be put through the same
//! protocols as the agent.
//!
//! A line links when the linker's best candidate has similarity ≥ [`LINK_SIMILARITY`] (1 − edit
//! distance ÷ longer length, article-stripped and normalised: `catalog::linking`). Linked items
//! already in the ranking are dropped (a repeat is not a new recommendation); items the seeker
//! mentioned are kept, as He et al. report raw lists (the suite's He et al. protocol removes them).

use std::cell::RefCell;

use crate::catalog::{Catalog, ItemId};
use crate::dialogue::{Role, Turn};
use crate::llm::{generate_text, ChatMessage, GenerationParams, LanguageModel};

/// Least linker similarity for a named title to count as a catalog item.
pub const LINK_SIMILARITY: f32 = 0.8;

/// Titles asked of the model per point (He et al. ask for 20).
pub const ZERO_SHOT_ITEMS: usize = 20;

/// Counts of a zero-shot run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ZeroShotCounts {
    /// Points ranked.
    pub points: usize,
    /// List lines the model wrote (numbered or bulleted lines, or every line if none is).
    pub lines: usize,
    /// Lines linked to a catalog item.
    pub linked: usize,
    /// Lines that linked to no catalog item (out of catalog).
    pub out_of_catalog: usize,
    /// Points where the model failed (its error is logged; the ranking is empty).
    pub failures: usize,
}

impl ZeroShotCounts {
    /// `out_of_catalog / lines` (0 when there are no lines).
    pub fn ooc_rate(&self) -> f64 {
        if self.lines == 0 {
            0.0
        } else {
            self.out_of_catalog as f64 / self.lines as f64
        }
    }
}

/// The model as a zero-shot ranker ([`super::Ranker`]).
pub struct ZeroShotRanker<'a> {
    model: RefCell<Box<dyn LanguageModel>>,
    catalog: &'a Catalog,
    counts: RefCell<ZeroShotCounts>,
    name: String,
}

impl<'a> ZeroShotRanker<'a> {
    /// Ranks with `model`, linking into `catalog`.
    pub fn new(model: Box<dyn LanguageModel>, catalog: &'a Catalog) -> Self {
        let name = format!("zero-shot-{}", model.name());
        ZeroShotRanker { model: RefCell::new(model), catalog, counts: RefCell::new(ZeroShotCounts::default()), name }
    }

    /// The counts so far.
    pub fn counts(&self) -> ZeroShotCounts {
        *self.counts.borrow()
    }
}

/// The He et al. style prompt: the dialogue as "User:" / "Recommender:" lines, then the request
/// for `n` titles with years, one per line, no explanations.
pub fn zero_shot_messages(context: &[Turn], n: usize) -> Vec<ChatMessage> {
    let dialogue: Vec<String> = context
        .iter()
        .map(|t| format!("{}: {}", if t.role == Role::Seeker { "User" } else { "Recommender" }, t.text))
        .collect();
    vec![
        ChatMessage::system(
            "Pretend you are a movie recommender system. Read the conversation and recommend movies the user will \
             like.",
        ),
        ChatMessage::user(format!(
            "Conversation:\n{}\n\nRecommend {n} movies for the user. Answer with a numbered list of titles with their \
             release year, one per line, like \"1. Heat (1995)\", and nothing else.",
            dialogue.join("\n")
        )),
    ]
}

/// The titles of a free list: numbered (`"3. X"`, `"3) X"`) or bulleted (`"- X"`, `"* X"`) lines
/// with the marker removed and anything after `" — "`, `" - "` or `": "` dropped; when no line
/// has a marker, every non-empty line.
pub fn free_list_titles(text: &str) -> Vec<String> {
    let strip = |l: &str| -> Option<String> {
        let l = l.trim();
        let digits = l.find(|c: char| !c.is_ascii_digit()).unwrap_or(l.len());
        let rest = if digits > 0 {
            l[digits..].strip_prefix('.').or_else(|| l[digits..].strip_prefix(')'))?
        } else {
            l.strip_prefix("- ").or_else(|| l.strip_prefix("* ")).or_else(|| l.strip_prefix("• "))?
        };
        let t = rest.split(" — ").next().unwrap_or(rest);
        let t = t.split(" - ").next().unwrap_or(t);
        let t = t.split(": ").next().unwrap_or(t);
        let t = t.trim().trim_matches(|c: char| matches!(c, '"' | '*' | '“' | '”' | '_')).trim();
        (!t.is_empty()).then(|| t.to_string())
    };
    let marked: Vec<String> = text.lines().filter_map(strip).collect();
    if !marked.is_empty() {
        return marked;
    }
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
}

impl super::Ranker for ZeroShotRanker<'_> {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn rank(&self, context: &[Turn], k: usize) -> Vec<ItemId> {
        let messages = zero_shot_messages(context, ZERO_SHOT_ITEMS.min(k.max(1)));
        let params = GenerationParams { max_tokens: 400, ..GenerationParams::default() };
        let result = match self.model.try_borrow_mut() {
            Ok(mut m) => generate_text(m.as_mut(), &messages, &params).map(|(t, _)| t),
            Err(_) => Err(crate::Error::Model("the zero-shot model is busy".into())),
        };
        let mut counts = self.counts.borrow_mut();
        counts.points += 1;
        let text = match result {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!("zero-shot generation failed: {e}");
                counts.failures += 1;
                return Vec::new();
            }
        };
        let mut ranking = Vec::new();
        for title in free_list_titles(&text) {
            counts.lines += 1;
            match self.catalog.link_title(&title, 1).first().filter(|c| c.similarity >= LINK_SIMILARITY) {
                Some(c) => {
                    counts.linked += 1;
                    if !ranking.contains(&c.id) && ranking.len() < k {
                        ranking.push(c.id);
                    }
                }
                None => counts.out_of_catalog += 1,
            }
        }
        ranking
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_lists_become_titles() {
        let text = "Here you go:\n1. Heat (1995) - a heist\n2) **Collateral (2004)**\n- Alien: a classic\n";
        assert_eq!(free_list_titles(text), vec!["Heat (1995)", "Collateral (2004)", "Alien"]);
        assert_eq!(free_list_titles("Heat\n\nSeven\n"), vec!["Heat", "Seven"]);
    }

    #[test]
    fn the_prompt_holds_the_dialogue_and_the_count() {
        let ctx = vec![Turn { role: Role::Seeker, text: "I loved Heat".into(), items: vec![] }];
        let m = zero_shot_messages(&ctx, 20);
        assert_eq!(m.len(), 2);
        assert!(m[1].content.contains("User: I loved Heat") && m[1].content.contains("Recommend 20 movies"));
        let c = ZeroShotCounts { lines: 4, out_of_catalog: 1, ..ZeroShotCounts::default() };
        assert!((c.ooc_rate() - 0.25).abs() < 1e-12);
    }
}
