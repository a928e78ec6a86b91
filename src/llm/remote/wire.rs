//! The wire formats of the remote backend that need no connection: structured-output
//! constraints (a regex or a GBNF alternation of the allowed titles), the prompt log-probs of
//! vLLM and SGLang, and the list lines of a free reply. Pure functions, tested on the shapes the
//! servers document.

use serde_json::Value;

use super::quote;
use crate::{Error, Result};

/// `s` with every regex metacharacter escaped (Rust `regex` / Python `re` / llguidance syntax).
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~/\"".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A GBNF grammar whose only sentences are `options`: `root ::= "a" | "b" | …`, each a quoted
/// GBNF string literal (`\\`, `"`, newlines and tabs escaped).
pub fn gbnf_alternation(options: &[String]) -> String {
    let lit = |s: &str| {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    };
    format!("root ::= {}", options.iter().map(|o| lit(o)).collect::<Vec<_>>().join(" | "))
}

/// vLLM's `choices[0].prompt_logprobs` as (token text, log-prob) pairs: a list with `null` for
/// the first token, then one `{token_id: {"logprob", "rank", "decoded_token"}}` map per token.
/// Requested with `prompt_logprobs: 0`, each map holds only the prompt's own token; a map with
/// several entries (alternatives) is ambiguous and gives no log-prob.
pub fn parse_vllm_prompt_logprobs(v: &Value) -> Option<Vec<(String, Option<f32>)>> {
    let list = v["choices"][0]["prompt_logprobs"].as_array()?;
    Some(
        list.iter()
            .map(|e| match e.as_object().and_then(|m| if m.len() == 1 { m.values().next() } else { None }) {
                Some(t) => (
                    t["decoded_token"].as_str().unwrap_or_default().to_string(),
                    t["logprob"].as_f64().map(|l| l as f32),
                ),
                None => (String::new(), None),
            })
            .collect(),
    )
}

/// SGLang's `meta_info.input_token_logprobs` (`[[logprob or null, token_id, text], …]`, with
/// `return_text_in_logprobs`) as (token text, log-prob) pairs.
pub fn parse_sglang_input_logprobs(v: &Value) -> Option<Vec<(String, Option<f32>)>> {
    let root = if v.is_array() { &v[0] } else { v };
    let list = root["meta_info"]["input_token_logprobs"].as_array()?;
    Some(
        list.iter().map(|e| (e[2].as_str().unwrap_or_default().to_string(), e[0].as_f64().map(|l| l as f32))).collect(),
    )
}

/// The log-probs of the shortest run of final tokens whose texts cover `continuation`'s bytes
/// (a token that straddles the prompt/continuation boundary is included).
///
/// Errors: [`Error::InvalidInput`] for an empty continuation; [`Error::Model`] when the tokens'
/// texts do not end with `continuation` or a covering token has no log-prob.
pub fn tail_logprobs(tokens: &[(String, Option<f32>)], continuation: &str) -> Result<Vec<f32>> {
    if continuation.is_empty() {
        return Err(Error::InvalidInput("empty continuation".into()));
    }
    let mut text = String::new();
    let mut out = Vec::new();
    for (t, lp) in tokens.iter().rev() {
        let lp = lp.ok_or_else(|| Error::Model("the server gave a covering token no log-prob".into()))?;
        out.push(lp);
        text.insert_str(0, t);
        if text.len() >= continuation.len() {
            if !text.ends_with(continuation) {
                return Err(Error::Model(format!(
                    "the server's prompt tokens end with {:?}, not the continuation {continuation:?}",
                    quote(&text)
                )));
            }
            out.reverse();
            return Ok(out);
        }
    }
    Err(Error::Model(format!("the server returned too few prompt tokens to cover {continuation:?}")))
}

/// The list lines of a free reply (`"3. Title (Year) — reason"`) as the titles they name: the
/// text after the number and before the first `" — "` or `" - "`, trimmed. Lines that are not
/// numbered are skipped; the first line (the opening) too.
pub fn list_titles(reply: &str) -> Vec<String> {
    reply
        .lines()
        .skip(1)
        .filter_map(|l| {
            let l = l.trim();
            let digits = l.find(|c: char| !c.is_ascii_digit())?;
            if digits == 0 {
                return None;
            }
            let rest = l[digits..].strip_prefix('.').or_else(|| l[digits..].strip_prefix(')'))?;
            let title = rest.split(" — ").next().unwrap_or(rest);
            let title = title.split(" - ").next().unwrap_or(title);
            Some(title.trim().trim_matches('*').trim().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn grammars_quote_and_escape_titles() {
        let opts = vec![" Heat (1995)".to_string(), " \"Crocodile\" Dundee (1986)".to_string()];
        assert_eq!(gbnf_alternation(&opts), r#"root ::= " Heat (1995)" | " \"Crocodile\" Dundee (1986)""#);
        assert_eq!(regex_escape(" Se7en? (1995)"), r" Se7en\? \(1995\)");
        assert_eq!(regex_escape("a.b*c"), r"a\.b\*c");
    }

    #[test]
    fn list_lines_become_titles() {
        let reply = "Sure, here you go.\n1. Heat (1995) — a reason\n2) Seven (1995) - other\nnot a line\n3. **Alien (1979)**\nBye";
        assert_eq!(list_titles(reply), vec!["Heat (1995)", "Seven (1995)", "Alien (1979)"]);
        assert!(list_titles("1. only an opening line").is_empty());
    }

    #[test]
    fn vllm_and_sglang_prompt_logprobs_give_the_continuation_tail() -> Result<()> {
        // The shapes documented by vLLM (prompt_logprobs, one map per token) and SGLang
        // (input_token_logprobs with return_text_in_logprobs).
        let v = json!({"choices": [{"prompt_logprobs": [
            null,
            {"11": {"logprob": -1.5, "rank": 3, "decoded_token": " liked"}},
            {"12": {"logprob": -0.25, "rank": 1, "decoded_token": " Heat"}},
            {"13": {"logprob": -0.5, "rank": 1, "decoded_token": " (1995)"}}
        ]}]});
        let t = parse_vllm_prompt_logprobs(&v).unwrap_or_default();
        assert_eq!(tail_logprobs(&t, " Heat (1995)")?, vec![-0.25, -0.5]);
        let s =
            json!({"meta_info": {"input_token_logprobs": [[null, 1, "I"], [-2.0, 2, " liked"], [-0.75, 3, " Heat"]]}});
        let t = parse_sglang_input_logprobs(&s).unwrap_or_default();
        assert_eq!(tail_logprobs(&t, " Heat")?, vec![-0.75]);
        assert!(tail_logprobs(&t, " Cold").is_err(), "a tail that spells something else is an error");
        assert!(tail_logprobs(&t, "").is_err());
        let short = vec![(" Heat".to_string(), Some(-1.0))];
        assert!(tail_logprobs(&short, "I liked Heat").is_err());
        Ok(())
    }
}
