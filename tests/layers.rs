//! The crate's layers run one way (ARCHITECTURE.md, "Layers"): no module imports a module of a
//! higher layer, and the top-level modules form no import cycle. Every `crate::…` path in the
//! library's code (comments and strings stripped; `use crate::{a, b::c}` groups expanded; a
//! top-level file's `super::x` read as `crate::x`) is an import of its first segment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may import modules of its own layer or below.
const LAYERS: &[&[&str]] = &[
    &["error", "paths", "util"],
    &["catalog", "llm", "knowledge"],
    &["dialogue"],
    &["recommender"],
    &["rank"],
    &["assets"],
    &["agent"],
    &["eval", "server", "tui"],
    &["data", "train", "tune", "llm_eval", "bench"],
];

/// Names at the crate root that are not modules (`crate::Error` is `error`'s re-export).
fn root_alias(name: &str) -> Option<&'static str> {
    match name {
        "Error" | "Result" => Some("error"),
        "outln" => Some("util"),
        _ => None,
    }
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// `text` with comments, string and char literals blanked (newlines kept, so lines still count).
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |s: &str, out: &mut String| out.extend(s.chars().map(|c| if c == '\n' { '\n' } else { ' ' }));
    while i < b.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            blank(&rest[..end], &mut out);
            i += end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map(|e| e + 2).unwrap_or(rest.len());
            blank(&rest[..end], &mut out);
            i += end;
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = rest[1..].bytes().take_while(|&c| c == b'#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let body = 2 + hashes;
            let end = rest[body..].find(&close).map(|e| body + e + close.len()).unwrap_or(rest.len());
            blank(&rest[..end], &mut out);
            i += end;
        } else if rest.starts_with('"') {
            let mut j = 1;
            while j < rest.len() {
                match rest.as_bytes()[j] {
                    b'\\' => j += 2,
                    b'"' => {
                        j += 1;
                        break;
                    }
                    _ => j += 1,
                }
            }
            let j = j.min(rest.len());
            let j = (j..=rest.len()).find(|&k| rest.is_char_boundary(k)).unwrap_or(rest.len());
            blank(&rest[..j], &mut out);
            i += j;
        } else if rest.starts_with('\'') && char_literal_len(rest).is_some() {
            let n = char_literal_len(rest).unwrap();
            blank(&rest[..n], &mut out);
            i += n;
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Length of a char literal at the start of `s` (`'a'`, `'\n'`, `'\u{1F600}'`), or `None` for a
/// lifetime (`'a`).
fn char_literal_len(s: &str) -> Option<usize> {
    let mut chars = s.char_indices().skip(1);
    let (_, c) = chars.next()?;
    if c == '\\' {
        let end = s[2..].find('\'')?;
        return Some(2 + end + 1);
    }
    let (j, close) = chars.next()?;
    (close == '\'').then_some(j + 1)
}

/// The first segments of every `crate::…` path in `code` (already stripped), with 1-based lines.
/// `use crate::{a, b::c}` gives `a` and `b`. In a top-level module file (`top_file`), `super::x`
/// is `crate::x` when `x` is a module of the layer list (else it is an item of the file's own
/// parent, as in its `mod tests`).
fn imports(code: &str, top_file: bool) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    let mut prefixes = vec!["crate::"];
    if top_file {
        prefixes.push("super::");
    }
    for prefix in prefixes {
        for (at, _) in code.match_indices(prefix) {
            // Not the tail of a longer path (`foo::crate::` cannot happen; `my_crate::` can).
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &code[at + prefix.len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // A group: the first segment of each comma-separated path at depth 0.
                let mut depth = 0usize;
                let mut start = true;
                for (k, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => start = true,
                        c if start && (c.is_alphanumeric() || c == '_') => {
                            out.push((ident(&group[k..]), line_of(at)));
                            start = false;
                        }
                        _ => {}
                    }
                }
            } else {
                let name = ident(rest);
                let known = prefix == "crate::" || layer_of(&name).is_some();
                if !name.is_empty() && known {
                    out.push((name, line_of(at)));
                }
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Module of each library file: `src/agent/engine.rs` → `agent`; the binary (`main.rs`, `cli/`)
/// and the crate root are skipped.
fn module_of(src: &Path, file: &Path) -> Option<(String, bool)> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy().into_owned();
    let top_file = rel.components().count() == 1;
    let name = first.trim_end_matches(".rs").to_string();
    if matches!(name.as_str(), "lib" | "main" | "cli") {
        return None;
    }
    Some((name, top_file))
}

/// Upward imports (`file:line: a (layer i) imports b (layer j)`) and the module graph.
fn check(src: &Path) -> (Vec<String>, BTreeMap<String, BTreeSet<String>>, Vec<String>) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut upward = Vec::new();
    let mut unknown = Vec::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let Some((module, top_file)) = module_of(src, f) else { continue };
        let Some(from) = layer_of(&module) else {
            unknown.push(format!("{}: module {module:?} is in no layer", f.display()));
            continue;
        };
        let code = strip(&std::fs::read_to_string(f).unwrap());
        for (name, line) in imports(&code, top_file) {
            let target = root_alias(&name).map(str::to_string).unwrap_or(name);
            if target == module {
                continue;
            }
            let Some(to) = layer_of(&target) else {
                if !matches!(target.as_str(), "self" | "super") {
                    unknown.push(format!("{}:{line}: imports {target:?}, which is in no layer", f.display()));
                }
                continue;
            };
            graph.entry(module.clone()).or_default().insert(target.clone());
            if to > from {
                upward.push(format!("{}:{line}: {module} (layer {from}) imports {target} (layer {to})", f.display()));
            }
        }
    }
    (upward, graph, unknown)
}

/// A cycle of the module graph, if any (depth-first search).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let i = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut cycle = stack[i..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, graph, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn no_module_imports_a_higher_layer_and_there_is_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (upward, graph, unknown) = check(&src);
    assert!(unknown.is_empty(), "modules outside the layer list:\n{}", unknown.join("\n"));
    assert!(upward.is_empty(), "{} upward imports:\n{}", upward.len(), upward.join("\n"));
    assert!(graph.len() >= 15, "the check saw only {} importing modules: {graph:?}", graph.len());
    if let Some(c) = find_cycle(&graph) {
        panic!("import cycle: {}", c.join(" → "));
    }
    // Every module of the library is in the list, and every listed module exists.
    for layer in LAYERS {
        for m in *layer {
            assert!(
                src.join(format!("{m}.rs")).exists() || src.join(m).join("mod.rs").exists(),
                "{m} is listed but absent"
            );
        }
    }
}

#[test]
fn the_checker_sees_imports_in_every_form() {
    let code = strip(
        "use crate::{agent::Agent, catalog::{Catalog, ItemId}, Result};\n\
         // use crate::server::x;\n\
         let s = \"crate::tui\";\n\
         fn f<'a>(x: &'a str) -> char { 'c' }\n\
         let e = crate::eval::metrics::MAX_K;\n\
         use super::tune;\n",
    );
    let got: Vec<(String, usize)> = imports(&code, true);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["agent", "catalog", "Result", "eval", "tune"]);
    assert_eq!(got[3].1, 5, "line numbers survive the stripping");
    assert!(imports(&code, false).iter().all(|(n, _)| n != "tune"), "super:: is crate:: only at the top");
    // An upward import and a cycle are found.
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("rank".into()).or_default().insert("agent".into());
    g.entry("agent".into()).or_default().insert("rank".into());
    assert_eq!(find_cycle(&g).map(|c| c.len()), Some(3));
    assert!(layer_of("rank") < layer_of("agent"));
}
