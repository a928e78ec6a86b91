//! A trie of catalog titles in token ids: the data structure behind catalog-constrained decoding
//! (DESIGN.md §5).
//!
//! Each allowed title is tokenized once with the model's own tokenizer, exactly as it appears in a
//! reply (`"Title (Year)"`, by default in the leading-space form `" Title (Year)"` that the
//! tokenizer produces after a list marker `"1."` or mid-sentence), and its token ids become a path
//! from the root. A node whose path spells a whole title is *terminal* and carries the title's key
//! (a catalog id, or any `u32` the caller chooses). Titles that are prefixes of others ("Alien
//! (1979)" and "Aliens (1986)" share " Alien") are both reachable: the shared node has children
//! and may also be terminal.
//!
//! The trie knows nothing of any backend: it takes a tokenizer as a closure. The whole catalog's
//! trie is built once and cached on disk ([`TitleTrie::load_or_build`]); a shortlist's trie is cut
//! from it without tokenizing again ([`TitleTrie::restrict`]).
//!
//! Invariants: children of a node are sorted by token id and unique; every terminal node's path
//! is the tokenization of its title; every stored title is a terminal path.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::LanguageModel;
#[cfg(test)]
use crate::Error;
use crate::Result;

/// How a title is written before it is tokenized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TitleForm {
    /// `"Title (Year)"`, as at the very start of a text.
    Plain,
    /// `" Title (Year)"`, as after a list marker (`"1."`) or mid-sentence: the form byte-pair
    /// tokenizers give a word that follows a space. The default form of list slots.
    LeadingSpace,
}

impl TitleForm {
    /// The text tokenized for `title` in this form.
    pub fn render(self, title: &str) -> String {
        match self {
            TitleForm::Plain => title.to_string(),
            TitleForm::LeadingSpace => format!(" {title}"),
        }
    }
}

/// One title of a trie: its key, its text (without the form's leading space) and its token ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrieEntry {
    /// The caller's key (a catalog item id).
    pub key: u32,
    /// `"Title (Year)"`.
    pub title: String,
    /// Token ids of the title in the trie's [`TitleForm`]; never empty.
    pub tokens: Vec<i32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Node {
    /// `(token, child node)`, sorted by token.
    children: Vec<(i32, u32)>,
    /// Index into `entries` of the title ending here.
    entry: Option<u32>,
}

/// A trie of title token ids. Node 0 is the root (the empty prefix).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TitleTrie {
    form: TitleForm,
    nodes: Vec<Node>,
    entries: Vec<TrieEntry>,
}

/// Identifies a node of a [`TitleTrie`]; [`TitleTrie::ROOT`] is the empty prefix.
pub type NodeId = u32;

impl TitleTrie {
    /// The root node: no token written yet.
    pub const ROOT: NodeId = 0;

    /// Builds a trie of `titles` (`(key, "Title (Year)")`) in `form`, tokenizing each with
    /// `tokenize` (the model's tokenizer, no BOS). Titles whose tokenization is empty are skipped;
    /// when two titles tokenize identically, the first keeps the path (its key is found there).
    ///
    /// Errors: those of `tokenize`.
    pub fn build(
        titles: impl IntoIterator<Item = (u32, String)>,
        form: TitleForm,
        mut tokenize: impl FnMut(&str) -> Result<Vec<i32>>,
    ) -> Result<Self> {
        let mut entries = Vec::new();
        for (key, title) in titles {
            let tokens = tokenize(&form.render(&title))?;
            if !tokens.is_empty() {
                entries.push(TrieEntry { key, title, tokens });
            }
        }
        Ok(Self::from_entries(form, entries))
    }

    /// Builds a trie of already tokenized entries (empty token lists are skipped).
    pub fn from_entries(form: TitleForm, entries: Vec<TrieEntry>) -> Self {
        let mut trie = TitleTrie { form, nodes: vec![Node::default()], entries: Vec::with_capacity(entries.len()) };
        for e in entries {
            if e.tokens.is_empty() {
                continue;
            }
            let mut node = Self::ROOT;
            for &t in &e.tokens {
                node = trie.child_or_insert(node, t);
            }
            let slot = &mut trie.nodes[node as usize].entry;
            if slot.is_none() {
                *slot = Some(trie.entries.len() as u32);
                trie.entries.push(e);
            }
        }
        trie
    }

    fn child_or_insert(&mut self, node: NodeId, token: i32) -> NodeId {
        let next = self.nodes.len() as u32;
        let children = &mut self.nodes[node as usize].children;
        match children.binary_search_by_key(&token, |&(t, _)| t) {
            Ok(i) => children[i].1,
            Err(i) => {
                children.insert(i, (token, next));
                self.nodes.push(Node::default());
                next
            }
        }
    }

    /// The trie of the entries whose key is in `keys`, cut from this one without tokenizing again.
    /// Keys not in this trie are ignored.
    pub fn restrict(&self, keys: &[u32]) -> Self {
        let wanted: std::collections::HashSet<u32> = keys.iter().copied().collect();
        let picked = self.entries.iter().filter(|e| wanted.contains(&e.key)).cloned().collect();
        Self::from_entries(self.form, picked)
    }

    /// The form the titles were tokenized in.
    pub fn form(&self) -> TitleForm {
        self.form
    }

    /// Number of titles.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the trie holds no title.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of nodes, the root included (1 + the number of distinct title prefixes in tokens).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// All titles, in insertion order.
    pub fn entries(&self) -> &[TrieEntry] {
        &self.entries
    }

    /// The entry with `key`, if any (a linear scan).
    pub fn entry_by_key(&self, key: u32) -> Option<&TrieEntry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// `(token, child)` pairs of `node`, sorted by token; empty for a leaf or an unknown node.
    pub fn children(&self, node: NodeId) -> &[(i32, NodeId)] {
        self.nodes.get(node as usize).map(|n| n.children.as_slice()).unwrap_or(&[])
    }

    /// The child of `node` reached by `token` (binary search: O(log children)).
    pub fn child(&self, node: NodeId, token: i32) -> Option<NodeId> {
        let children = self.children(node);
        children.binary_search_by_key(&token, |&(t, _)| t).ok().map(|i| children[i].1)
    }

    /// The title completed at `node`, if its path spells a whole title.
    pub fn terminal(&self, node: NodeId) -> Option<&TrieEntry> {
        let e = self.nodes.get(node as usize)?.entry?;
        self.entries.get(e as usize)
    }

    /// Index (into [`entries`](Self::entries)) of the title completed at `node`.
    pub fn terminal_index(&self, node: NodeId) -> Option<usize> {
        self.nodes.get(node as usize)?.entry.map(|e| e as usize)
    }

    /// The node reached from the root by `tokens`, if it is a prefix of some title.
    pub fn walk(&self, tokens: &[i32]) -> Option<NodeId> {
        tokens.iter().try_fold(Self::ROOT, |n, &t| self.child(n, t))
    }

    /// Every root-to-terminal path with its entry index, depth first (for tests and scoring).
    pub fn paths(&self) -> Vec<(Vec<i32>, usize)> {
        let mut out = Vec::new();
        let mut stack: Vec<(NodeId, Vec<i32>)> = vec![(Self::ROOT, Vec::new())];
        while let Some((node, path)) = stack.pop() {
            if let Some(e) = self.terminal_index(node) {
                out.push((path.clone(), e));
            }
            for &(t, c) in self.children(node).iter().rev() {
                let mut p = path.clone();
                p.push(t);
                stack.push((c, p));
            }
        }
        out
    }

    /// Loads the trie cached at `<cache_dir>/trie-<key>.json`, where the key hashes `model_key`
    /// (anything that identifies the tokenizer: model file name, size, vocabulary size), the form
    /// and the titles; builds and writes it when absent or unreadable. A cache write failure is
    /// only logged.
    ///
    /// Errors: those of `tokenize`.
    pub fn load_or_build(
        cache_dir: &Path,
        model_key: &str,
        titles: &[(u32, String)],
        form: TitleForm,
        tokenize: impl FnMut(&str) -> Result<Vec<i32>>,
    ) -> Result<Self> {
        let path = Self::cache_path(cache_dir, model_key, titles, form);
        if let Ok(bytes) = std::fs::read(&path) {
            match serde_json::from_slice::<TitleTrie>(&bytes) {
                Ok(t) if t.form == form && t.len() <= titles.len() => return Ok(t),
                Ok(_) => tracing::warn!("{}: cached trie does not match; rebuilding", path.display()),
                Err(e) => tracing::warn!("{}: unreadable cached trie ({e}); rebuilding", path.display()),
            }
        }
        let trie = Self::build(titles.iter().cloned(), form, tokenize)?;
        let write = || -> Result<()> {
            let bytes = serde_json::to_vec(&trie).map_err(|e| crate::Error::InvalidInput(e.to_string()))?;
            crate::util::write_atomic(&path, &bytes)
        };
        if let Err(e) = write() {
            tracing::warn!("cannot cache the title trie at {}: {e}", path.display());
        }
        Ok(trie)
    }

    /// The trie of `titles` in `model`'s tokenizer, cached under `cache_dir` (see
    /// [`load_or_build`](Self::load_or_build); the key is [`LanguageModel::tokenizer_key`]).
    ///
    /// Errors: [`crate::Error::Model`] when the model does not expose its tokenizer.
    pub fn for_model(
        model: &dyn LanguageModel,
        titles: &[(u32, String)],
        form: TitleForm,
        cache_dir: &Path,
    ) -> Result<Self> {
        Self::load_or_build(cache_dir, &model.tokenizer_key(), titles, form, |s| model.token_ids(s))
    }

    /// Where [`load_or_build`](Self::load_or_build) caches a trie: `<cache_dir>/trie-<sha256
    /// prefix of model key, form and titles>.json`.
    pub fn cache_path(cache_dir: &Path, model_key: &str, titles: &[(u32, String)], form: TitleForm) -> PathBuf {
        let mut h = Sha256::new();
        h.update(model_key.as_bytes());
        h.update([0u8, form as u8]);
        for (k, t) in titles {
            h.update(k.to_le_bytes());
            h.update(t.as_bytes());
            h.update([0u8]);
        }
        let hex = crate::util::hex(&h.finalize()[..12]);
        cache_dir.join(format!("trie-{hex}.json"))
    }
}

/// Which titles may still be written: a [`TitleTrie`] with a count, per node, of the titles below
/// it that are still allowed. Using a title (no repeats in a list) costs O(its length); listing
/// the allowed children of a node costs O(its children).
#[derive(Debug, Clone)]
pub struct TrieBudget {
    remaining: Vec<u32>,
    used: Vec<bool>,
}

impl TrieBudget {
    /// Every title of `trie` allowed once.
    pub fn new(trie: &TitleTrie) -> Self {
        let mut remaining = vec![0u32; trie.node_count()];
        for e in &trie.entries {
            let mut node = TitleTrie::ROOT;
            remaining[node as usize] += 1;
            for &t in &e.tokens {
                match trie.child(node, t) {
                    Some(c) => node = c,
                    None => break,
                }
                remaining[node as usize] += 1;
            }
        }
        TrieBudget { remaining, used: vec![false; trie.entries.len()] }
    }

    /// Whether some allowed title passes through `node`.
    pub fn open(&self, node: NodeId) -> bool {
        self.remaining.get(node as usize).is_some_and(|&r| r > 0)
    }

    /// Whether the title ending at `node` exists and is still allowed.
    pub fn complete(&self, trie: &TitleTrie, node: NodeId) -> bool {
        trie.terminal_index(node).is_some_and(|e| !self.used.get(e).copied().unwrap_or(true))
    }

    /// Marks title `entry` (an index into [`TitleTrie::entries`]) as used. No effect if it was
    /// already used or does not exist.
    pub fn use_entry(&mut self, trie: &TitleTrie, entry: usize) {
        if self.used.get(entry).copied().unwrap_or(true) {
            return;
        }
        self.used[entry] = true;
        let mut node = TitleTrie::ROOT;
        self.remaining[node as usize] = self.remaining[node as usize].saturating_sub(1);
        for &t in &trie.entries[entry].tokens {
            match trie.child(node, t) {
                Some(c) => node = c,
                None => break,
            }
            self.remaining[node as usize] = self.remaining[node as usize].saturating_sub(1);
        }
    }

    /// Whether title `entry` (an index into [`TitleTrie::entries`]) was used or does not exist.
    pub fn is_used(&self, entry: usize) -> bool {
        self.used.get(entry).copied().unwrap_or(true)
    }

    /// Titles still allowed.
    pub fn left(&self) -> usize {
        self.remaining.first().copied().unwrap_or(0) as usize
    }
}

/// A toy tokenizer for tests and examples: greedy longest match over `vocab` (strings), falling
/// back to one token per byte (ids `vocab.len() + byte`). Not a model tokenizer.
#[derive(Debug, Clone)]
pub struct GreedyTokenizer {
    vocab: Vec<String>,
    index: HashMap<String, i32>,
    longest: usize,
}

impl GreedyTokenizer {
    /// A tokenizer over `vocab` (duplicates and empty strings are ignored).
    pub fn new(vocab: impl IntoIterator<Item = String>) -> Self {
        let mut v = Vec::new();
        let mut index = HashMap::new();
        for w in vocab {
            if !w.is_empty() && !index.contains_key(&w) {
                index.insert(w.clone(), v.len() as i32);
                v.push(w);
            }
        }
        let longest = v.iter().map(String::len).max().unwrap_or(0);
        GreedyTokenizer { vocab: v, index, longest }
    }

    /// Token ids of `text`.
    pub fn tokenize(&self, text: &str) -> Vec<i32> {
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let mut matched = None;
            for len in (1..=self.longest.min(bytes.len() - i)).rev() {
                if let Ok(s) = std::str::from_utf8(&bytes[i..i + len]) {
                    if let Some(&id) = self.index.get(s) {
                        matched = Some((id, len));
                        break;
                    }
                }
            }
            match matched {
                Some((id, len)) => {
                    out.push(id);
                    i += len;
                }
                None => {
                    out.push(self.vocab.len() as i32 + i32::from(bytes[i]));
                    i += 1;
                }
            }
        }
        out
    }

    /// The bytes of token `id`.
    pub fn bytes(&self, id: i32) -> Vec<u8> {
        let n = self.vocab.len() as i32;
        if (0..n).contains(&id) {
            self.vocab[id as usize].as_bytes().to_vec()
        } else if (n..n + 256).contains(&id) {
            vec![(id - n) as u8]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok() -> GreedyTokenizer {
        GreedyTokenizer::new([" Alien", "s", " (", ")", "19", "79", "86", " The", " Thing"].map(String::from))
    }

    #[test]
    fn prefix_titles_are_both_reachable() -> Result<()> {
        let t = tok();
        let titles = vec![(1, "Alien (1979)".to_string()), (2, "Aliens (1986)".to_string())];
        let trie = TitleTrie::build(titles, TitleForm::LeadingSpace, |s| Ok(t.tokenize(s)))?;
        let a = trie.walk(&t.tokenize(" Alien (1979)")).and_then(|n| trie.terminal(n)).map(|e| e.key);
        let b = trie.walk(&t.tokenize(" Aliens (1986)")).and_then(|n| trie.terminal(n)).map(|e| e.key);
        assert_eq!((a, b), (Some(1), Some(2)));
        // " Alien" is shared: one child at the root, two below it.
        assert_eq!(trie.children(TitleTrie::ROOT).len(), 1);
        let alien = trie.walk(&t.tokenize(" Alien")).unwrap_or(u32::MAX);
        assert_eq!(trie.children(alien).len(), 2);
        let sub = trie.restrict(&[2]);
        assert_eq!(sub.len(), 1);
        assert_eq!(sub.entries()[0].title, "Aliens (1986)");
        Ok(())
    }

    #[test]
    fn budget_closes_used_titles() -> Result<()> {
        let t = tok();
        let titles = vec![(1, "Alien (1979)".to_string()), (2, "Aliens (1986)".to_string())];
        let trie = TitleTrie::build(titles, TitleForm::LeadingSpace, |s| Ok(t.tokenize(s)))?;
        let mut b = TrieBudget::new(&trie);
        assert_eq!(b.left(), 2);
        let end1 = trie.walk(&t.tokenize(" Alien (1979)")).unwrap_or(0);
        assert!(b.complete(&trie, end1));
        b.use_entry(&trie, 0);
        assert!(!b.complete(&trie, end1) && !b.open(end1));
        let alien = trie.walk(&t.tokenize(" Alien")).unwrap_or(0);
        assert!(b.open(alien), "Aliens is still open");
        b.use_entry(&trie, 0);
        assert_eq!(b.left(), 1);
        b.use_entry(&trie, 1);
        assert!(!b.open(TitleTrie::ROOT));
        Ok(())
    }

    #[test]
    fn cache_round_trips() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("curator-trie-{}", std::process::id()));
        let t = tok();
        let titles = vec![(1, "Alien (1979)".to_string()), (7, "The Thing (1982)".to_string())];
        let a = TitleTrie::load_or_build(&dir, "toy", &titles, TitleForm::LeadingSpace, |s| Ok(t.tokenize(s)))?;
        assert!(TitleTrie::cache_path(&dir, "toy", &titles, TitleForm::LeadingSpace).is_file());
        let b = TitleTrie::load_or_build(&dir, "toy", &titles, TitleForm::LeadingSpace, |_| {
            Err(Error::Model("must not tokenize again".into()))
        })?;
        assert_eq!(a.entries(), b.entries());
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
