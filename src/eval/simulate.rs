//! User-simulator evaluation in the style of iEvaLM (Wang et al., EMNLP 2023), made leak-safe as
//! "How Reliable is Your Simulation?" (Zhu et al., 2024) recommends: the simulated seeker is an
//! LLM that knows its target movie only by **attributes** — genres, people (directors, stars) and
//! plot keywords — never by title, so it cannot simply name the answer.
//!
//! One simulated dialogue: the simulator writes the seeker's opening message from the attributes;
//! the agent answers with a recommendation list; if the target is in it (its id, or a catalog
//! entry with the same normalised title) the dialogue succeeds; otherwise the simulator reads the
//! reply and writes the next seeker message, up to `max_turns` seeker messages. Reported: success
//! rate and mean seeker turns (a failed dialogue counts `max_turns`).
//!
//! Targets: the first ground-truth movie of each de-dup evaluation point of the ReDial test split,
//! in file order, distinct, restricted to catalog items with genres or people, first `limit`.
//! Plot keywords: the 5 most frequent words of ≥ 4 letters of the plot that are not stop words
//! and not words of the title (ties: first occurrence).

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::agent::Agent;
use crate::catalog::text::normalize;
use crate::catalog::{Catalog, Item, ItemId};
use crate::eval::redial::EvalPoint;
use crate::eval::suite_report::SimulationSummary;
use crate::eval::Protocol;
use crate::llm::{ChatMessage, GenerationParams, LanguageModel};
use crate::Result;

/// The recommender's opening line in the simulator's chat.
const OPENING: &str = "Hi! What kind of movie are you looking for today?";

/// Default most seeker messages per simulated dialogue.
pub const MAX_TURNS: usize = 5;

const STOP: &[&str] = &[
    "about", "after", "again", "against", "also", "along", "among", "another", "around", "away", "back", "become",
    "becomes", "been", "before", "being", "between", "both", "comes", "could", "does", "down", "during", "each",
    "even", "ever", "every", "find", "finds", "first", "from", "gets", "have", "help", "here", "himself", "herself",
    "into", "just", "life", "like", "made", "make", "makes", "many", "more", "most", "much", "must", "never", "only",
    "other", "over", "own", "same", "some", "soon", "such", "take", "takes", "than", "that", "their", "them", "then",
    "there", "these", "they", "this", "those", "through", "time", "together", "turn", "turns", "under", "upon", "very",
    "what", "when", "where", "which", "while", "whose", "with", "within", "without", "world", "would", "year", "years",
    "young", "your",
];

/// What the simulator knows about its target: no title, no year.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetAttributes {
    /// Genres.
    pub genres: Vec<String>,
    /// Directors (at most 2) and stars (at most 3).
    pub people: Vec<String>,
    /// Plot keywords (at most 5).
    pub keywords: Vec<String>,
}

/// The attributes of `item` (see the module documentation); never its title or year.
pub fn attributes(item: &Item) -> TargetAttributes {
    let title_words: Vec<String> = normalize(&item.title).split(' ').map(str::to_string).collect();
    let mut counts: Vec<(String, usize, usize)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (pos, w) in normalize(&item.plot).split(' ').enumerate() {
        if w.chars().count() < 4 || STOP.contains(&w) || title_words.iter().any(|t| t == w) {
            continue;
        }
        if w.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        match index.get(w) {
            Some(&k) => counts[k].1 += 1,
            None => {
                index.insert(w.to_string(), counts.len());
                counts.push((w.to_string(), 1, pos));
            }
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    let mut people: Vec<String> = item.directors.iter().take(2).cloned().collect();
    people.extend(item.stars.iter().take(3).cloned());
    TargetAttributes {
        genres: item.genres.clone(),
        people,
        keywords: counts.into_iter().take(5).map(|(w, _, _)| w).collect(),
    }
}

/// The targets of a simulation run: see the module documentation.
pub fn targets(points: &[EvalPoint], catalog: &Catalog, limit: usize) -> Vec<ItemId> {
    let mut out: Vec<ItemId> = Vec::new();
    for p in points {
        let Some(&t) = p.targets_for(Protocol::Dedup).first() else { continue };
        let Some(item) = catalog.get(t) else { continue };
        if out.contains(&t) || (item.genres.is_empty() && item.directors.is_empty() && item.stars.is_empty()) {
            continue;
        }
        out.push(t);
        if out.len() == limit {
            break;
        }
    }
    out
}

/// The simulator's system prompt for `a`.
pub fn system_prompt(a: &TargetAttributes) -> String {
    let list = |v: &[String]| if v.is_empty() { "-".to_string() } else { v.join(", ") };
    format!(
        "You are a person chatting with a movie recommender. You want one specific movie but you do not know \
         its title. What you know about it: genres: {}; people in it: {}; it is about: {}. Write only your own \
         short message (one or two sentences) describing what you want. Never make up a movie title.",
        list(&a.genres),
        list(&a.people),
        list(&a.keywords)
    )
}

/// A seeker message from the simulator's raw output: first non-empty line, quotes and a leading
/// "User:" removed, at most 300 bytes; `None` when nothing is left.
pub fn clean_message(raw: &str) -> Option<String> {
    let line = raw.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line = line.trim_start_matches("User:").trim_start_matches("Seeker:").trim();
    let line = line.trim_matches(|c| c == '"' || c == '“' || c == '”').trim();
    let s = crate::util::cut_at_char_boundary(line, 300).trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// A fixed message from the attributes, used when the simulator writes nothing usable.
pub fn template_message(a: &TargetAttributes) -> String {
    let mut s = String::from("I'm looking for a");
    if let Some(g) = a.genres.first() {
        s.push(' ');
        s.push_str(g);
    }
    s.push_str(" movie");
    if let Some(p) = a.people.first() {
        s.push_str(&format!(" with {p}"));
    }
    if !a.keywords.is_empty() {
        s.push_str(&format!(
            ", something about {}",
            a.keywords.iter().take(2).cloned().collect::<Vec<_>>().join(" and ")
        ));
    }
    s.push('.');
    s
}

/// One simulated dialogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimDialogue {
    /// Index of the target in the run.
    #[serde(default)]
    pub index: usize,
    /// Target id (never shown to the simulator).
    pub target: ItemId,
    /// What the simulator saw.
    pub attributes: TargetAttributes,
    /// (seeker message, agent reply) pairs.
    pub turns: Vec<(String, String)>,
    /// Whether the target appeared in a recommendation list.
    pub success: bool,
    /// Seeker messages whose linked items include the target (or its title group).
    pub leaked: usize,
    /// Seeker messages replaced by [`template_message`].
    pub templated: usize,
}

fn same_film(catalog: &Catalog, a: ItemId, b: ItemId) -> bool {
    if a == b {
        return true;
    }
    match (catalog.position(a), catalog.position(b)) {
        (Some(pa), Some(pb)) => catalog.same_title(pa).contains(&pb),
        _ => false,
    }
}

/// Simulates one dialogue for `target` between `sim` and `agent` (reset first).
///
/// # Errors
/// Agent errors. A simulator failure is not an error: the template message is used.
pub fn simulate_one(
    sim: &mut dyn LanguageModel,
    agent: &mut Agent,
    target: ItemId,
    max_turns: usize,
) -> Result<SimDialogue> {
    agent.reset();
    sim.reset_cache();
    let attrs = agent.catalog().get(target).map(attributes).unwrap_or_default();
    let system = system_prompt(&attrs);
    let params = GenerationParams { max_tokens: 48, ..GenerationParams::default() };
    let mut d = SimDialogue {
        index: 0,
        target,
        attributes: attrs.clone(),
        turns: Vec::new(),
        success: false,
        leaked: 0,
        templated: 0,
    };
    // The simulator's chat, iEvaLM style: the recommender speaks as "user", the simulator's own
    // messages are "assistant" turns. Only the last two exchanges are kept, each reply cut to its
    // first 4 lines, so that the prompt fits a small model's context.
    let mut history: Vec<(String, String)> = Vec::new();
    for _ in 0..max_turns.max(1) {
        let mut messages = vec![ChatMessage::system(system.clone())];
        messages.push(ChatMessage::user(OPENING));
        let keep = history.len().saturating_sub(2);
        for (i, (seeker, reply)) in history.iter().enumerate() {
            if i < keep {
                continue;
            }
            messages.push(ChatMessage::assistant(seeker.clone()));
            let short: Vec<&str> = reply.lines().take(4).collect();
            messages.push(ChatMessage::user(format!("{}\nIs it one of these?", short.join("\n"))));
        }
        let raw = crate::llm::generate_text(sim, &messages, &params).map(|(t, _)| t).unwrap_or_default();
        // A message that repeats the prompt or the previous message carries nothing new.
        let msg = match clean_message(&raw) {
            Some(m) if !history.iter().any(|(s, _)| *s == m) && !m.contains("Is it one of these") && m != OPENING => m,
            _ => {
                d.templated += 1;
                template_message(&attrs)
            }
        };
        if agent.catalog().link_text(&msg).iter().any(|m| same_film(agent.catalog(), m.id, target)) {
            d.leaked += 1;
        }
        let mut reply = String::new();
        let recs = agent.respond(&msg, &mut |ev| {
            if let crate::agent::AgentEvent::Text { text } = ev {
                reply.push_str(&text);
            }
        })?;
        d.turns.push((msg.clone(), reply.clone()));
        if recs.iter().any(|r| same_film(agent.catalog(), r.id, target)) {
            d.success = true;
            break;
        }
        history.push((msg, reply));
    }
    Ok(d)
}

/// Summarises dialogues: (successes, success rate, mean seeker turns).
pub fn summarise(dialogues: &[SimDialogue]) -> (usize, f64, f64) {
    if dialogues.is_empty() {
        return (0, 0.0, 0.0);
    }
    let s = dialogues.iter().filter(|d| d.success).count();
    let turns = dialogues.iter().map(|d| d.turns.len()).sum::<usize>() as f64;
    (s, s as f64 / dialogues.len() as f64, turns / dialogues.len() as f64)
}

/// Runs the simulation on the first `limit` targets of the ReDial data at `data_path`, writes
/// `<out>/simulate-<system>-first<limit>.json` (a [`SimulationSummary`]) and the transcripts
/// beside it (`.transcripts.jsonl`), prints the summary and returns it.
///
/// # Errors
/// Loader and agent errors; [`crate::Error::Io`] on write.
#[allow(clippy::too_many_arguments)]
pub fn run_simulation(
    data_path: &Path,
    sim: &mut dyn LanguageModel,
    sim_model_path: &Path,
    agent: &mut Agent,
    limit: usize,
    max_turns: usize,
    out_dir: &Path,
) -> Result<SimulationSummary> {
    let t0 = Instant::now();
    let data = super::suite::load_data(super::suite::Dataset::Redial, data_path)?;
    let ids = targets(&data.points, agent.catalog(), limit);
    let system = format!("agent-{}", agent.model_name().unwrap_or("no-model"));
    let stem = format!("simulate-{}-first{limit}", super::report::slug(&system));
    let sim_sha = crate::util::sha256_file(sim_model_path).unwrap_or_default();
    // Resumable like agent-mode runs: one transcript a line, written as soon as it ends.
    let header = serde_json::json!({
        "kind": "simulate", "version": 2, "system": system, "sim_model_sha256": sim_sha, "limit": limit,
        "max_turns": max_turns, "data_sha256": data.sha256,
        "recommendations": agent.config().recommendations,
    });
    let progress = out_dir.join("runs").join(format!("{stem}.progress.jsonl"));
    let dialogues = super::suite::resume_jsonl(
        ids.len(),
        &progress,
        &header,
        true,
        |d: &SimDialogue| d.index,
        |i| {
            let mut d = simulate_one(sim, agent, ids[i], max_turns)?;
            d.index = i;
            Ok(d)
        },
    )?;
    let (successes, success_rate, mean_turns) = summarise(&dialogues);
    let summary = SimulationSummary {
        kind: "simulate".to_string(),
        system: system.clone(),
        sim_model: sim_model_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        sim_model_sha256: sim_sha,
        dialogues: dialogues.len(),
        successes,
        success_rate,
        mean_turns,
        leaked_messages: dialogues.iter().map(|d| d.leaked).sum(),
        templated_messages: dialogues.iter().map(|d| d.templated).sum(),
        max_turns,
        git_commit: super::suite::git_commit(),
        data_sha256: data.sha256,
        seconds: t0.elapsed().as_secs_f64(),
    };
    let mut json = serde_json::to_string_pretty(&summary).map_err(|e| crate::Error::InvalidInput(e.to_string()))?;
    json.push('\n');
    crate::util::write_atomic(&out_dir.join(format!("{stem}.json")), json.as_bytes())?;
    let mut lines = String::new();
    for d in &dialogues {
        lines.push_str(&serde_json::to_string(d).map_err(|e| crate::Error::InvalidInput(e.to_string()))?);
        lines.push('\n');
    }
    crate::util::write_atomic(&out_dir.join(format!("{stem}.transcripts.jsonl")), lines.as_bytes())?;
    crate::outln!(
        "simulated {} dialogues (ReDial test targets, ≤ {max_turns} seeker turns): success rate {:.4} ({} / {}), mean turns {:.2}, leaked messages {}, templated messages {}",
        summary.dialogues,
        summary.success_rate,
        summary.successes,
        summary.dialogues,
        summary.mean_turns,
        summary.leaked_messages,
        summary.templated_messages
    );
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> Item {
        Item {
            id: 1,
            title: "Heat".into(),
            year: Some(1995),
            genres: vec!["crime".into(), "drama".into()],
            directors: vec!["Michael Mann".into()],
            writers: vec![],
            stars: vec!["Al Pacino".into(), "Robert De Niro".into(), "Val Kilmer".into(), "Jon Voight".into()],
            plot: "A group of thieves plans a heist; a detective hunts the thieves while heat rises. Thieves!".into(),
            imdb_id: None,
            popularity: 0,
        }
    }

    #[test]
    fn attributes_never_hold_the_title() {
        let a = attributes(&item());
        assert_eq!(a.people, vec!["Michael Mann", "Al Pacino", "Robert De Niro", "Val Kilmer"]);
        assert_eq!(a.keywords[0], "thieves");
        assert!(!a.keywords.iter().any(|k| k == "heat"));
        let p = system_prompt(&a);
        assert!(!p.to_lowercase().contains("heat"));
        assert!(!p.contains("1995"));
    }

    #[test]
    fn messages_are_cleaned() {
        assert_eq!(
            clean_message("\n  User: \"I want a crime movie.\"\nmore").as_deref(),
            Some("I want a crime movie.")
        );
        assert_eq!(clean_message("   \n "), None);
        assert_eq!(
            template_message(&attributes(&item())),
            "I'm looking for a crime movie with Michael Mann, something about thieves and group."
        );
    }
}
