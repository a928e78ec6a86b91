//! Property tests of the title trie (DESIGN.md §5): every path spells a title, every title is a
//! path, and titles that are prefixes of others stay reachable. A toy greedy tokenizer stands in
//! for the model's (the trie only sees token ids).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use curator::llm::trie::{GreedyTokenizer, TitleForm, TitleTrie, TrieBudget};
use proptest::prelude::*;

fn tokenizer() -> GreedyTokenizer {
    GreedyTokenizer::new(
        [" A", " Al", " Alien", "s", " (", ")", "19", "20", " The", " T", "h", "e", "ing", " 2", "é"].map(String::from),
    )
}

/// Titles over a tiny alphabet, so that shared prefixes and prefix titles are common.
fn titles() -> impl Strategy<Value = Vec<String>> {
    let word = prop::sample::select(vec!["Al", "Alien", "Aliens", "The", "Thing", "A", "2", "Amélie", "T"]);
    let title =
        (prop::collection::vec(word, 1..4), 1970u32..1975).prop_map(|(ws, y)| format!("{} ({y})", ws.join(" ")));
    prop::collection::vec(title, 1..40)
}

fn decode(t: &GreedyTokenizer, tokens: &[i32]) -> String {
    let bytes: Vec<u8> = tokens.iter().flat_map(|&id| t.bytes(id)).collect();
    String::from_utf8(bytes).unwrap()
}

proptest! {
    #[test]
    fn paths_spell_titles_and_titles_are_paths(list in titles(), plain in any::<bool>()) {
        let t = tokenizer();
        let form = if plain { TitleForm::Plain } else { TitleForm::LeadingSpace };
        let keyed: Vec<(u32, String)> = list.iter().cloned().enumerate().map(|(i, s)| (i as u32, s)).collect();
        let trie = TitleTrie::build(keyed.clone(), form, |s| Ok(t.tokenize(s))).unwrap();
        // Every root-to-terminal path spells the rendered title stored there, and that title is in
        // the list.
        let paths = trie.paths();
        for (path, e) in &paths {
            let entry = &trie.entries()[*e];
            prop_assert_eq!(decode(&t, path), form.render(&entry.title));
            prop_assert!(list.contains(&entry.title));
        }
        // Every title is a path ending at a terminal with the same text (duplicates share it).
        for (_, title) in &keyed {
            let node = trie.walk(&t.tokenize(&form.render(title)));
            let found = node.and_then(|n| trie.terminal(n)).map(|e| e.title.clone());
            prop_assert_eq!(found.as_deref(), Some(title.as_str()));
        }
        let mut distinct = list.clone();
        distinct.sort();
        distinct.dedup();
        prop_assert_eq!(paths.len(), distinct.len());
        // A shortlist's trie holds exactly the shortlisted titles.
        let keys: Vec<u32> = keyed.iter().step_by(2).map(|(k, _)| *k).collect();
        let sub = trie.restrict(&keys);
        for e in sub.entries() {
            prop_assert!(keys.contains(&e.key));
        }
    }

    #[test]
    fn prefix_titles_are_both_reachable(stem in "[A-Z][a-z]{0,6}", tail in "[a-z]{1,3}") {
        let t = tokenizer();
        let short = format!("{stem} (1979)");
        let long = format!("{stem}{tail} (1986)");
        let bare = stem.clone();
        let trie = TitleTrie::build(
            vec![(1, short.clone()), (2, long.clone()), (3, bare.clone())],
            TitleForm::LeadingSpace,
            |s| Ok(t.tokenize(s)),
        ).unwrap();
        for (key, title) in [(1u32, &short), (2, &long), (3, &bare)] {
            let node = trie.walk(&t.tokenize(&format!(" {title}"))).unwrap();
            prop_assert_eq!(trie.terminal(node).map(|e| e.key), Some(key));
        }
        // The budget never closes a node that still leads to an unused title.
        let mut budget = TrieBudget::new(&trie);
        budget.use_entry(&trie, 2);
        let node = trie.walk(&t.tokenize(&format!(" {bare}"))).unwrap();
        prop_assert!(budget.open(node));
        prop_assert!(!budget.complete(&trie, node));
    }
}
