//! Turns a stream of token byte pieces into valid UTF-8 text.
//!
//! A byte-level BPE token can end in the middle of a multi-byte character (an emoji is often two
//! or three tokens). [`Utf8Stream`] holds back an incomplete tail until the next piece completes
//! it, and replaces bytes that can never be valid with U+FFFD, so every emitted piece is a `&str`
//! and the pieces concatenate to the lossy decoding of all bytes.

/// Incremental UTF-8 decoder over byte pieces.
#[derive(Debug, Default)]
pub(crate) struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// Appends `bytes` and returns the text that is now complete (possibly empty).
    pub(crate) fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    out.push_str(s);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    // The prefix was just checked to be valid UTF-8.
                    out.push_str(&String::from_utf8_lossy(&self.pending[..valid]));
                    match e.error_len() {
                        // An incomplete character at the end: wait for more bytes.
                        None => {
                            self.pending.drain(..valid);
                            return out;
                        }
                        // Bytes that no continuation can make valid.
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid + bad);
                        }
                    }
                }
            }
        }
    }

    /// Returns whatever is still held back (an incomplete character, as U+FFFD) and empties the
    /// buffer.
    pub(crate) fn finish(&mut self) -> String {
        let s = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(pieces: &[&[u8]]) -> Vec<String> {
        let mut s = Utf8Stream::default();
        let mut out: Vec<String> = pieces.iter().map(|p| s.push(p)).collect();
        out.push(s.finish());
        out
    }

    #[test]
    fn ascii_passes_through_piece_by_piece() {
        assert_eq!(feed(&[b"Hel", b"lo"]), vec!["Hel", "lo", ""]);
    }

    #[test]
    fn multibyte_character_split_across_pieces_is_held_back() {
        let smile = "😀".as_bytes(); // 4 bytes
        let out = feed(&[b"a", &smile[..1], &smile[1..3], &smile[3..], b"!"]);
        assert_eq!(out, vec!["a", "", "", "😀", "!", ""]);
        let e_acute = "é".as_bytes(); // 2 bytes
        let mut first = b"caf".to_vec();
        first.push(e_acute[0]);
        assert_eq!(feed(&[&first, &e_acute[1..]]), vec!["caf", "é", ""]);
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        assert_eq!(feed(&[b"a\xffb"]), vec!["a\u{fffd}b", ""]);
        // A lone continuation byte is invalid whatever follows.
        assert_eq!(feed(&[b"\x80", b"x"]), vec!["\u{fffd}", "x", ""]);
    }

    #[test]
    fn truncated_tail_is_flushed_lossily() {
        let smile = "😀".as_bytes();
        assert_eq!(feed(&[b"ok", &smile[..2]]), vec!["ok", "", "\u{fffd}"]);
    }

    #[test]
    fn pieces_concatenate_to_lossy_decoding() {
        let text = "Amélie (2001) — 🎬 ok";
        let bytes = text.as_bytes();
        for split in 1..bytes.len() {
            let mut s = Utf8Stream::default();
            let mut joined = s.push(&bytes[..split]);
            joined.push_str(&s.push(&bytes[split..]));
            joined.push_str(&s.finish());
            assert_eq!(joined, text, "split at {split}");
        }
    }
}
