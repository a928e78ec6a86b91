//! The message editor: multi-line text with a cursor that moves by grapheme, and the history of
//! sent messages (Up/Down). Pure data; the terminal is not touched here.

use unicode_segmentation::UnicodeSegmentation;

use super::wrap::width;

/// Longest text the editor holds, in bytes (the agent refuses longer messages anyway).
pub const MAX_INPUT_BYTES: usize = crate::agent::MAX_INPUT_BYTES;

/// Multi-line text being typed, with the cursor as a byte offset that is always on a grapheme
/// boundary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Input {
    text: String,
    cursor: usize,
}

impl Input {
    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The cursor's byte offset into [`Input::text`].
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Whether nothing is typed.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Replaces the text; the cursor goes to its end.
    pub fn set(&mut self, text: &str) {
        self.text.clear();
        self.cursor = 0;
        self.insert_str(text);
    }

    /// Empties the editor, returning what was typed.
    pub fn take(&mut self) -> String {
        self.cursor = 0;
        std::mem::take(&mut self.text)
    }

    /// Inserts `text` at the cursor: `\r\n` and `\r` become `\n`, tabs become spaces, other
    /// control characters are dropped. Returns false when the text was cut at
    /// [`MAX_INPUT_BYTES`].
    pub fn insert_str(&mut self, text: &str) -> bool {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        let mut complete = true;
        for c in text.chars() {
            let c = if c == '\t' { ' ' } else { c };
            if c.is_control() && c != '\n' {
                continue;
            }
            if self.text.len() + c.len_utf8() > MAX_INPUT_BYTES {
                complete = false;
                break;
            }
            self.text.insert(self.cursor, c);
            self.cursor += c.len_utf8();
        }
        complete
    }

    /// Inserts one character (see [`Input::insert_str`]).
    pub fn insert_char(&mut self, c: char) -> bool {
        let mut buf = [0u8; 4];
        self.insert_str(c.encode_utf8(&mut buf))
    }

    fn prev_boundary(&self) -> Option<usize> {
        self.text[..self.cursor].grapheme_indices(true).next_back().map(|(i, _)| i)
    }

    fn next_boundary(&self) -> Option<usize> {
        self.text[self.cursor..].graphemes(true).next().map(|g| self.cursor + g.len())
    }

    /// Deletes the grapheme before the cursor.
    pub fn backspace(&mut self) {
        if let Some(i) = self.prev_boundary() {
            self.text.replace_range(i..self.cursor, "");
            self.cursor = i;
        }
    }

    /// Deletes the grapheme after the cursor.
    pub fn delete(&mut self) {
        if let Some(j) = self.next_boundary() {
            self.text.replace_range(self.cursor..j, "");
        }
    }

    /// Moves one grapheme left.
    pub fn left(&mut self) {
        if let Some(i) = self.prev_boundary() {
            self.cursor = i;
        }
    }

    /// Moves one grapheme right.
    pub fn right(&mut self) {
        if let Some(j) = self.next_boundary() {
            self.cursor = j;
        }
    }

    fn line_start(&self) -> usize {
        self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1)
    }

    fn line_end(&self) -> usize {
        self.text[self.cursor..].find('\n').map_or(self.text.len(), |i| self.cursor + i)
    }

    /// Moves to the start of the current line.
    pub fn home(&mut self) {
        self.cursor = self.line_start();
    }

    /// Moves to the end of the current line.
    pub fn end(&mut self) {
        self.cursor = self.line_end();
    }

    /// The byte offset in the line starting at `start` (ending at `end`) whose display column is
    /// the last one not beyond `col`.
    fn offset_at_column(&self, start: usize, end: usize, col: usize) -> usize {
        let mut w = 0;
        for (i, g) in self.text[start..end].grapheme_indices(true) {
            let gw = width(g);
            if w + gw > col {
                return start + i;
            }
            w += gw;
        }
        end
    }

    /// Moves to the previous line at the same display column; false when on the first line.
    pub fn up(&mut self) -> bool {
        let start = self.line_start();
        if start == 0 {
            return false;
        }
        let col = width(&self.text[start..self.cursor]);
        let prev_end = start - 1;
        let prev_start = self.text[..prev_end].rfind('\n').map_or(0, |i| i + 1);
        self.cursor = self.offset_at_column(prev_start, prev_end, col);
        true
    }

    /// Moves to the next line at the same display column; false when on the last line.
    pub fn down(&mut self) -> bool {
        let end = self.line_end();
        if end == self.text.len() {
            return false;
        }
        let col = width(&self.text[self.line_start()..self.cursor]);
        let next_start = end + 1;
        let next_end = self.text[next_start..].find('\n').map_or(self.text.len(), |i| next_start + i);
        self.cursor = self.offset_at_column(next_start, next_end, col);
        true
    }

    /// The text cut into rows of at most `max` columns (hard wrap between graphemes, `\n` starts
    /// a row) and the cursor's (row, column) in them. The cursor may sit at column `max` (after
    /// the last grapheme of a full row); the caller clamps it to the area.
    pub fn layout(&self, max: usize) -> (Vec<String>, (usize, usize)) {
        let max = max.max(1);
        let mut rows = vec![String::new()];
        let mut col = 0usize;
        let mut cursor = (0, 0);
        let mut offset = 0usize;
        for g in self.text.graphemes(true) {
            if offset == self.cursor {
                cursor = (rows.len() - 1, col);
            }
            offset += g.len();
            if g == "\n" || g == "\r\n" {
                rows.push(String::new());
                col = 0;
                continue;
            }
            let gw = width(g);
            if col + gw > max && col > 0 {
                rows.push(String::new());
                col = 0;
                if offset - g.len() == self.cursor {
                    cursor = (rows.len() - 1, 0);
                }
            }
            if let Some(last) = rows.last_mut() {
                last.push_str(g);
            }
            col += gw;
        }
        if offset == self.cursor {
            cursor = (rows.len() - 1, col);
        }
        (rows, cursor)
    }
}

/// Sent messages for Up/Down recall, oldest first. Browsing keeps the unsent draft, which comes
/// back after the newest entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    entries: Vec<String>,
    pos: Option<usize>,
    draft: String,
}

impl History {
    /// Records a sent message (not an empty one, nor a repeat of the newest) and stops browsing.
    pub fn push(&mut self, entry: &str) {
        self.pos = None;
        if entry.trim().is_empty() || self.entries.last().is_some_and(|e| e == entry) {
            return;
        }
        self.entries.push(entry.to_string());
    }

    /// The entries, oldest first.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// The entry before the one shown (the newest when not browsing); `current` is the editor's
    /// text, kept as the draft when browsing starts. `None` at the oldest entry or when empty.
    pub fn older(&mut self, current: &str) -> Option<&str> {
        let next = match self.pos {
            None if self.entries.is_empty() => return None,
            None => {
                self.draft = current.to_string();
                self.entries.len() - 1
            }
            Some(0) => return None,
            Some(p) => p - 1,
        };
        self.pos = Some(next);
        self.entries.get(next).map(String::as_str)
    }

    /// The entry after the one shown, then the draft; `None` when not browsing.
    pub fn newer(&mut self) -> Option<&str> {
        let p = self.pos?;
        if p + 1 < self.entries.len() {
            self.pos = Some(p + 1);
            self.entries.get(p + 1).map(String::as_str)
        } else {
            self.pos = None;
            Some(self.draft.as_str())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_by_grapheme_and_line() {
        let mut i = Input::default();
        i.insert_str("héllo 👨‍👩‍👧\nworld");
        assert_eq!(i.cursor(), i.text().len());
        assert!(i.up());
        assert_eq!(&i.text()[..i.cursor()], "héllo");
        assert!(!i.up());
        i.end();
        i.backspace(); // the family emoji is one grapheme
        assert_eq!(i.text(), "héllo \nworld");
        i.home();
        i.right();
        i.right();
        i.delete();
        assert_eq!(i.text(), "hélo \nworld");
        assert!(i.down());
        assert!(!i.down());
        i.insert_char('\t');
        i.insert_char('\u{7}');
        assert_eq!(i.text(), "hélo \nwo rld");
        assert_eq!(i.take(), "hélo \nwo rld");
        assert!(i.is_empty());
    }

    #[test]
    fn layout_places_the_cursor() {
        let mut i = Input::default();
        i.set("abcdef\n日本");
        assert_eq!(i.layout(4), (vec!["abcd".into(), "ef".into(), "日本".into()], (2, 4)));
        i.home();
        assert_eq!(i.layout(4).1, (2, 0));
        i.up();
        assert_eq!(i.layout(4).1, (0, 0));
        for _ in 0..4 {
            i.right();
        }
        assert_eq!(i.layout(4).1, (1, 0));
        assert_eq!(Input::default().layout(0), (vec![String::new()], (0, 0)));
    }

    #[test]
    fn input_is_capped() {
        let mut i = Input::default();
        assert!(!i.insert_str(&"x".repeat(MAX_INPUT_BYTES + 10)));
        assert_eq!(i.text().len(), MAX_INPUT_BYTES);
    }

    #[test]
    fn history_browses_and_restores_the_draft() {
        let mut h = History::default();
        assert_eq!(h.older("x"), None);
        h.push("one");
        h.push("two");
        h.push("two");
        h.push("  ");
        assert_eq!(h.entries().len(), 2);
        assert_eq!(h.older("draft"), Some("two"));
        assert_eq!(h.older("two"), Some("one"));
        assert_eq!(h.older("one"), None);
        assert_eq!(h.newer(), Some("two"));
        assert_eq!(h.newer(), Some("draft"));
        assert_eq!(h.newer(), None);
    }
}
