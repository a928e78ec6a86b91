//! `curator eval tracking`: the dialogue tracker's reading of what the seeker liked and saw,
//! against the seekers' own ReDial questionnaire (`initiatorQuestions`: per movie `liked` and
//! `seen`, each yes / no / did not say).
//!
//! Every dialogue is replayed by the tracker with ReDial's item annotations (as the ranker-level
//! protocols replay it); then, for every movie of the questionnaire:
//! - liked: the polarity of the seeker's latest mention of it (liked → yes, disliked → no; never
//!   mentioned by the seeker → did not say);
//! - seen: what the seeker said about having seen it (reactions to the recommender's lists),
//!   else yes when the seeker mentioned it with a polarity, else did not say.
//!
//! Reported per task: accuracy and per-class precision / recall / F1 with macro-F1, with counts,
//! for the tracker, the tracker without reactions to lists (the tracker before them), and the
//! baseline that answers "yes" for every movie; and the tracker minus the tracker without
//! reactions with a paired bootstrap over dialogues (2,000 resamples, 95 % interval).

use serde::Serialize;

use super::redial::{Answer, RedialDialogue};
use crate::dialogue::{DialogueState, Items, Polarity, Role, Tracker};

/// The three answers, in report order.
const CLASSES: [Answer; 3] = [Answer::Yes, Answer::No, Answer::DidNotSay];

/// Bootstrap resamples of [`compare`].
const RESAMPLES: usize = 2000;

/// One prediction against its label.
type Pair = (Answer, Answer);

/// Per-class figures of one task.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassFigures {
    /// The class ("yes", "no", "did not say").
    pub class: &'static str,
    /// Labels of this class.
    pub support: usize,
    /// Predictions of this class.
    pub predicted: usize,
    /// Precision (0 when nothing was predicted).
    pub precision: f64,
    /// Recall (0 without support).
    pub recall: f64,
    /// F1 (0 when precision + recall is 0).
    pub f1: f64,
}

/// The figures of one system on one task (liked or seen).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TaskFigures {
    /// Labelled movies scored.
    pub movies: usize,
    /// Dialogues they come from.
    pub dialogues: usize,
    /// Share of movies whose prediction equals the label.
    pub accuracy: f64,
    /// Mean F1 over the three classes.
    pub macro_f1: f64,
    /// Per class.
    pub classes: Vec<ClassFigures>,
}

/// A paired difference (system a minus system b) with its bootstrap interval.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Difference {
    /// a minus b on all dialogues.
    pub difference: f64,
    /// 2.5th percentile of the resampled differences.
    pub low: f64,
    /// 97.5th percentile.
    pub high: f64,
}

/// The whole evaluation of one split.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrackingReport {
    /// The split's name ("ReDial test").
    pub split: String,
    /// (system, liked figures, seen figures), in order: tracker, tracker without reactions,
    /// everything "yes".
    pub systems: Vec<(String, TaskFigures, TaskFigures)>,
    /// Tracker minus tracker without reactions: liked macro-F1, liked accuracy, seen macro-F1,
    /// seen accuracy.
    pub versus_before: Vec<(String, Difference)>,
}

fn answer_name(a: Answer) -> &'static str {
    match a {
        Answer::Yes => "yes",
        Answer::No => "no",
        Answer::DidNotSay => "did not say",
    }
}

/// The (liked, seen) predictions for `id` in `state` (module doc).
fn predict(state: &DialogueState, id: crate::catalog::ItemId) -> (Answer, Answer) {
    let polarity = state.mentions.iter().rev().find(|m| m.id == id && m.role == Role::Seeker).map(|m| m.polarity);
    let liked = match polarity {
        Some(Polarity::Liked) => Answer::Yes,
        Some(Polarity::Disliked) => Answer::No,
        _ => Answer::DidNotSay,
    };
    let seen = match state.seen_status(id) {
        Some(true) => Answer::Yes,
        Some(false) => Answer::No,
        None if polarity.is_some_and(|p| p != Polarity::Neutral) => Answer::Yes,
        None => Answer::DidNotSay,
    };
    (liked, seen)
}

/// Per dialogue, the (prediction, label) pairs of each task: `(liked, seen)`.
fn pairs(dialogues: &[RedialDialogue], tracker: &Tracker) -> Vec<(Vec<Pair>, Vec<Pair>)> {
    dialogues
        .iter()
        .map(|d| {
            let state = tracker.replay(&d.turns(), Items::Annotated);
            let mut liked = Vec::new();
            let mut seen = Vec::new();
            for (&id, labels) in &d.seeker_labels {
                let (l, s) = predict(&state, id);
                liked.push((l, labels.liked));
                seen.push((s, labels.seen));
            }
            (liked, seen)
        })
        .collect()
}

/// Accuracy and macro-F1 of `pairs`, with per-class figures.
fn figures(pairs: &[&Pair], dialogues: usize) -> TaskFigures {
    let n = pairs.len();
    let correct = pairs.iter().filter(|(p, l)| p == l).count();
    let classes: Vec<ClassFigures> = CLASSES
        .iter()
        .map(|&c| {
            let support = pairs.iter().filter(|(_, l)| *l == c).count();
            let predicted = pairs.iter().filter(|(p, _)| *p == c).count();
            let hit = pairs.iter().filter(|(p, l)| *p == c && *l == c).count();
            let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
            let (precision, recall) = (ratio(hit, predicted), ratio(hit, support));
            let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
            ClassFigures { class: answer_name(c), support, predicted, precision, recall, f1 }
        })
        .collect();
    let macro_f1 = classes.iter().map(|c| c.f1).sum::<f64>() / classes.len() as f64;
    TaskFigures {
        movies: n,
        dialogues,
        accuracy: if n == 0 { 0.0 } else { correct as f64 / n as f64 },
        macro_f1,
        classes,
    }
}

/// Figures of per-dialogue pairs `per` (task `task`: 0 liked, 1 seen) over dialogues `pick`.
fn task(per: &[(Vec<Pair>, Vec<Pair>)], task: usize, pick: &[usize]) -> TaskFigures {
    let all: Vec<&Pair> =
        pick.iter().flat_map(|&i| if task == 0 { per[i].0.iter() } else { per[i].1.iter() }).collect();
    figures(&all, pick.len())
}

/// `a` minus `b` on `measure` over all dialogues, with a paired bootstrap over dialogues.
fn compare(
    a: &[(Vec<Pair>, Vec<Pair>)],
    b: &[(Vec<Pair>, Vec<Pair>)],
    measure: impl Fn(&[(Vec<Pair>, Vec<Pair>)], &[usize]) -> f64,
) -> Difference {
    let all: Vec<usize> = (0..a.len()).collect();
    let difference = measure(a, &all) - measure(b, &all);
    let mut seed = 0x0072_6163_6b69_6e67_u64;
    let mut diffs: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let pick: Vec<usize> =
                (0..a.len()).map(|_| (crate::util::splitmix64(&mut seed) % a.len().max(1) as u64) as usize).collect();
            measure(a, &pick) - measure(b, &pick)
        })
        .collect();
    diffs.sort_by(f64::total_cmp);
    let at = |q: f64| diffs.get(((diffs.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or(0.0);
    Difference { difference, low: at(0.025), high: at(0.975) }
}

/// Evaluates `tracker` on `dialogues` (module doc); `split` names them in the report. Dialogues
/// without a seeker questionnaire are skipped.
pub fn evaluate(split: &str, dialogues: &[RedialDialogue], tracker: &Tracker) -> TrackingReport {
    let labelled: Vec<RedialDialogue> = dialogues.iter().filter(|d| !d.seeker_labels.is_empty()).cloned().collect();
    let now = pairs(&labelled, tracker);
    let before = pairs(&labelled, &tracker.clone().without_reactions());
    let yes: Vec<(Vec<Pair>, Vec<Pair>)> = now
        .iter()
        .map(|(l, s)| {
            (l.iter().map(|&(_, y)| (Answer::Yes, y)).collect(), s.iter().map(|&(_, y)| (Answer::Yes, y)).collect())
        })
        .collect();
    let all: Vec<usize> = (0..labelled.len()).collect();
    let systems = [("tracker", &now), ("tracker without reactions", &before), ("everything yes", &yes)]
        .into_iter()
        .map(|(name, per)| (name.to_string(), task(per, 0, &all), task(per, 1, &all)))
        .collect();
    let versus_before = vec![
        ("liked macro-F1".to_string(), compare(&now, &before, |p, i| task(p, 0, i).macro_f1)),
        ("liked accuracy".to_string(), compare(&now, &before, |p, i| task(p, 0, i).accuracy)),
        ("seen macro-F1".to_string(), compare(&now, &before, |p, i| task(p, 1, i).macro_f1)),
        ("seen accuracy".to_string(), compare(&now, &before, |p, i| task(p, 1, i).accuracy)),
    ];
    TrackingReport { split: split.to_string(), systems, versus_before }
}

impl TrackingReport {
    /// The report as Markdown: one table per task, then the paired differences.
    pub fn markdown(&self) -> String {
        let mut md = format!("## {}\n\n", self.split);
        for (t, name) in ["liked", "seen"].iter().enumerate() {
            md.push_str(&format!(
                "### {name}\n\n| system | dialogues | movies | accuracy | macro-F1 | yes P/R/F1 (support) | no P/R/F1 (support) | did not say P/R/F1 (support) |\n|---|---:|---:|---:|---:|---|---|---|\n"
            ));
            for (system, liked, seen) in &self.systems {
                let f = if t == 0 { liked } else { seen };
                let c = |k: usize| {
                    let c = &f.classes[k];
                    format!("{:.3} / {:.3} / {:.3} ({})", c.precision, c.recall, c.f1, c.support)
                };
                md.push_str(&format!(
                    "| {system} | {} | {} | {:.4} | {:.4} | {} | {} | {} |\n",
                    f.dialogues,
                    f.movies,
                    f.accuracy,
                    f.macro_f1,
                    c(0),
                    c(1),
                    c(2)
                ));
            }
            md.push('\n');
        }
        md.push_str("### Tracker minus tracker without reactions (paired bootstrap over dialogues, 2,000 resamples)\n\n| measure | difference | 95 % interval |\n|---|---:|---|\n");
        for (m, d) in &self.versus_before {
            md.push_str(&format!("| {m} | {:+.4} | [{:+.4}, {:+.4}] |\n", d.difference, d.low, d.high));
        }
        md
    }
}
