//! Word wrapping by display width (Unicode graphemes, wide characters and emoji count as the
//! terminal draws them). The conversation, the side panel and the details view wrap their text
//! here, so the number of rows is known before drawing (scrolling needs it).

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Display width of `s` in terminal columns.
pub fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// Wraps `text` into rows of at most `max` columns: `\n` starts a new row, words move whole to the
/// next row when they do not fit, a word wider than a row is cut between graphemes, and spaces at
/// a cut are dropped. A grapheme wider than `max` (an emoji in a 1-column row) gets a row of its
/// own. `max == 0` is treated as 1. An empty line gives one empty row.
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(1);
    let mut rows = Vec::new();
    for line in text.split('\n') {
        wrap_line(line.trim_end_matches('\r'), max, &mut rows);
    }
    rows
}

fn wrap_line(line: &str, max: usize, rows: &mut Vec<String>) {
    let mut row = String::new();
    let mut row_w = 0usize;
    for word in runs(line) {
        let w = width(word);
        let is_space = word.chars().all(char::is_whitespace);
        if row_w + w <= max {
            row.push_str(word);
            row_w += w;
            continue;
        }
        if is_space {
            // A cut: the spaces are dropped.
            rows.push(std::mem::take(&mut row).trim_end().to_string());
            row_w = 0;
            continue;
        }
        if w <= max {
            // The word fits on a row of its own.
            if !row.trim().is_empty() {
                rows.push(std::mem::take(&mut row).trim_end().to_string());
            } else {
                row.clear();
            }
            row.push_str(word);
            row_w = w;
            continue;
        }
        // A word longer than a row: cut between graphemes.
        for g in word.graphemes(true) {
            let gw = width(g);
            if row_w + gw > max && !row.is_empty() {
                rows.push(std::mem::take(&mut row).trim_end().to_string());
                row_w = 0;
            }
            row.push_str(g);
            row_w += gw;
        }
    }
    rows.push(row.trim_end().to_string());
}

/// `line` cut into maximal runs of whitespace and of other characters, in order.
fn runs(line: &str) -> impl Iterator<Item = &str> {
    let mut rest = line;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let space = first.is_whitespace();
        let end = rest.char_indices().find(|&(_, c)| c.is_whitespace() != space).map_or(rest.len(), |(i, _)| i);
        let (run, tail) = rest.split_at(end);
        rest = tail;
        Some(run)
    })
}

/// Cuts `s` to at most `max` columns, ending with "…" when something was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for g in s.graphemes(true) {
        let gw = width(g);
        if w + gw + 1 > max {
            break;
        }
        out.push_str(g);
        w += gw;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wraps_words_and_cuts_long_ones() {
        assert_eq!(wrap("the quick brown fox", 9), vec!["the quick", "brown fox"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("a\n\nb", 5), vec!["a", "", "b"]);
        assert_eq!(wrap("", 5), vec![""]);
        assert_eq!(wrap("日本語のテキスト", 5), vec!["日本", "語の", "テキ", "スト"]);
        assert_eq!(wrap("🎬🎬🎬", 1), vec!["🎬", "🎬", "🎬"]);
        assert_eq!(wrap("as does Collateral (2004).", 20), vec!["as does Collateral", "(2004)."]);
    }

    #[test]
    fn truncates_with_ellipsis() {
        assert_eq!(truncate("Heat (1995)", 20), "Heat (1995)");
        assert_eq!(truncate("Heat (1995)", 6), "Heat …");
        assert_eq!(truncate("日本語", 4), "日…");
        assert_eq!(truncate("abc", 0), "");
    }

    proptest! {
        #[test]
        fn rows_fit_and_keep_every_word(text in "[a-z🎬日 \n]{0,80}", max in 0usize..30) {
            let rows = wrap(&text, max);
            for r in &rows {
                prop_assert!(width(r) <= max.max(2), "{r:?} wider than {max}");
            }
            let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            prop_assert_eq!(squash(&rows.join("")), squash(&text));
        }
    }
}
