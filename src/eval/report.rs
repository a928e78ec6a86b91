//! Writing evaluation reports: the JSON result file, its Markdown table with the published
//! anchors beside our figures, and the small helpers both need (file-name slugs, number
//! formats).

use std::fmt::Write as _;

use crate::eval::{EvalReport, Protocol};

/// A published result on ReDial test (DESIGN.md §4), quoted for comparison; never measured here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anchor {
    /// The protocol the figure belongs to.
    pub protocol: Protocol,
    /// The model, with who ran it where that matters.
    pub model: &'static str,
    /// Recall@1 as published.
    pub recall_at_1: f64,
    /// Recall@10 as published.
    pub recall_at_10: f64,
    /// Recall@50 as published.
    pub recall_at_50: f64,
}

const fn anchor(protocol: Protocol, model: &'static str, r1: f64, r10: f64, r50: f64) -> Anchor {
    Anchor { protocol, model, recall_at_1: r1, recall_at_10: r10, recall_at_50: r50 }
}

/// Published ReDial test anchors (R@1 / R@10 / R@50) from DESIGN.md §4. Standard: the
/// KBRD/KGSF/UniCRS lineage; de-dup: Kostric & Balog's "fresh-only" re-runs (SIGIR '26).
pub const REDIAL_ANCHORS: &[Anchor] = &[
    anchor(Protocol::Standard, "Popularity", 0.012, 0.061, 0.179),
    anchor(Protocol::Standard, "KBRD", 0.031, 0.150, 0.336),
    anchor(Protocol::Standard, "KGSF", 0.039, 0.183, 0.378),
    anchor(Protocol::Standard, "UniCRS", 0.051, 0.224, 0.428),
    anchor(Protocol::Standard, "MESE", 0.056, 0.256, 0.455),
    anchor(Protocol::Standard, "MCCRS", 0.057, 0.250, 0.473),
    anchor(Protocol::Standard, "ReFICR", 0.061, 0.305, 0.532),
    anchor(Protocol::Dedup, "UniCRS (Kostric & Balog re-run)", 0.024, 0.180, 0.335),
    anchor(Protocol::Dedup, "ECR (Kostric & Balog re-run)", 0.026, 0.181, 0.337),
    anchor(Protocol::Dedup, "ReFICR (Kostric & Balog re-run)", 0.018, 0.213, 0.465),
];

/// A file-name-safe form of `name`: lower case, `[a-z0-9._-]` kept, every other run of
/// characters turned into one `-`; "ranker" when nothing is left.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "ranker".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Thousands separators: 4897 → "4,897".
pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A metric as published: three decimals without the leading zero (".061").
fn short(v: f64) -> String {
    let s = format!("{v:.3}");
    s.strip_prefix('0').map(str::to_string).unwrap_or(s)
}

/// The Markdown report: our measured figures with their counts, then the published anchors in
/// their own, clearly marked section.
pub(crate) fn markdown(report: &EvalReport) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# ReDial test — `{}`\n", report.ranker);
    let limit = match report.limit {
        Some(n) => format!("first {} evaluation points only (`--limit {n}`)", thousands(n)),
        None => "all evaluation points".to_string(),
    };
    let _ = writeln!(
        md,
        "Data: `{}` (sha256 `{}`), {} dialogues; {limit}. The ranker is asked for its top {} of \
         the catalog after each context.\n",
        report.data_path,
        report.data_sha256,
        thousands(report.dialogues),
        report.k,
    );
    let _ = writeln!(md, "## Measured\n");
    let _ = writeln!(
        md,
        "Instances = evaluation points, recommendations = ground-truth movies (one sample each); \
         every metric is a mean over recommendations.\n"
    );
    let _ = writeln!(
        md,
        "| protocol | instances | recommendations | R@1 | R@10 | R@50 | NDCG@10 | NDCG@50 | MRR@10 | MRR@50 |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &report.results {
        let _ = write!(
            md,
            "| {} | {} | {} |",
            r.protocol,
            thousands(r.counts.instances),
            thousands(r.counts.recommendations)
        );
        for (_, v) in r.metrics.named() {
            let _ = write!(md, " {v:.4} |");
        }
        md.push('\n');
    }
    let _ = writeln!(md, "\n## Published (other papers' figures, not measured here)\n");
    let _ = writeln!(
        md,
        "Quoted from DESIGN.md §4 for comparison. Their extraction differs from ours: for the \
         standard protocol Kostric & Balog count 4,198 instances / 4,975 recommendations and \
         CRSLab 3,477 / 4,048; the de-dup re-runs use Kostric & Balog's fresh-only set of \
         3,838 / 4,472.\n"
    );
    let _ = writeln!(md, "| protocol | model | R@1 | R@10 | R@50 |");
    let _ = writeln!(md, "|---|---|---:|---:|---:|");
    for a in REDIAL_ANCHORS {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} |",
            a.protocol,
            a.model,
            short(a.recall_at_1),
            short(a.recall_at_10),
            short(a.recall_at_50)
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(4897), "4,897");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(short(0.061), ".061");
        assert_eq!(slug("Popularity (train v)"), "popularity-train-v");
        assert_eq!(slug("///"), "ranker");
    }
}
