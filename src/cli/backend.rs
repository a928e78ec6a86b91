//! The backend flags shared by `chat`, `serve`, `bench`, `eval` and `doctor` (`--backend`,
//! `--base-url`, `--server-kind`, `--config`), and `curator doctor`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use curator::llm::backend::compiled_backends;
use curator::llm::{
    BackendConfig, BackendKind, ChatMessage, GenerationParams, LanguageModel, LlamaOptions, ServerKind,
};

/// Which engine runs the model, and where.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BackendArgs {
    /// Engine: `llama` (llama.cpp in process, the default), `mistralrs` (cargo feature
    /// `mistralrs`), `openai` (an OpenAI-compatible server; `--model` is then the served name).
    #[arg(long, value_parser = |s: &str| s.parse::<BackendKind>().map_err(|e| e.to_string()))]
    pub backend: Option<BackendKind>,
    /// openai: the server's base URL up to `/v1` (e.g. http://127.0.0.1:8000/v1). The API key
    /// comes from $CURATOR_API_KEY or $OPENAI_API_KEY.
    #[arg(long)]
    pub base_url: Option<String>,
    /// openai: the server, for structured output and scores: vllm, llama-server, sglang,
    /// mistralrs, curator, generic (default generic: free lists resolved to the catalog).
    #[arg(long, value_parser = |s: &str| s.parse::<ServerKind>().map_err(|e| e.to_string()))]
    pub server_kind: Option<ServerKind>,
    /// A YAML file with the backend settings (backend, model, base_url, server_kind,
    /// timeout_secs, retries, threads); flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Let the model write each reply's opening sentence (a model able to; the line is still
    /// checked against the dialogue state). Default: the opening is built from the state.
    #[arg(long)]
    pub free_opening: bool,
}

impl BackendArgs {
    /// The settings of the file (if any) with the flags, `model` and `threads` over them.
    pub fn resolve(&self, model: Option<PathBuf>, threads: Option<usize>) -> anyhow::Result<BackendConfig> {
        let file = match &self.config {
            Some(p) => BackendConfig::load(p)?,
            None => BackendConfig::default(),
        };
        let flags = BackendConfig {
            model: model.map(|p| p.to_string_lossy().into_owned()),
            base_url: self.base_url.clone(),
            server_kind: self.server_kind,
            threads,
            free_opening: self.free_opening.then_some(true),
            ..BackendConfig::default()
        };
        Ok(file.overlay(self.backend, flags))
    }
}

/// Whether the model may write reply openings (`--free-opening`, or `free_opening` in the file).
///
/// Errors: an unreadable or malformed `--config` file.
pub fn free_opening(args: &BackendArgs) -> anyhow::Result<bool> {
    Ok(args.resolve(None, None)?.free_opening.unwrap_or(false))
}

/// Opens the model that `args`, `model` and `threads` describe, with `llama` as the llama.cpp
/// defaults.
pub fn open_model(
    args: &BackendArgs,
    model: Option<PathBuf>,
    threads: Option<usize>,
    llama: LlamaOptions,
) -> anyhow::Result<Box<dyn LanguageModel>> {
    let config = args.resolve(model, threads)?;
    let what = config.model.clone().unwrap_or_else(|| "the default model".into());
    curator::llm::open_backend(&config, llama)
        .with_context(|| format!("cannot open {what} on the {} backend", config.backend.as_str()))
}

/// `curator doctor`: the compiled-in backends, then the chosen backend's model, whether it loads
/// and answers, and its capabilities. Errors when the model does not load.
pub fn doctor(args: &BackendArgs, model: Option<PathBuf>) -> anyhow::Result<()> {
    let compiled: Vec<&str> = compiled_backends().iter().map(|b| b.as_str()).collect();
    let missing: Vec<String> = BackendKind::ALL
        .iter()
        .filter(|b| !b.compiled_in())
        .map(|b| format!("{} (cargo feature `{}`)", b.as_str(), b.feature().unwrap_or("?")))
        .collect();
    curator::outln!("backends compiled in: {}", compiled.join(", "));
    if !missing.is_empty() {
        curator::outln!("backends not compiled in: {}", missing.join(", "));
    }
    let engines = if cfg!(feature = "mistralrs") { "llama.cpp and mistral.rs" } else { "llama.cpp" };
    if cfg!(feature = "cuda") {
        curator::outln!("{engines} GPU offload (cargo feature `cuda`): compiled in");
    } else {
        curator::outln!("{engines} GPU offload (cargo feature `cuda`): not in this build (CPU only)");
    }
    let config = args.resolve(model, None)?;
    curator::outln!("backend: {}", config.backend.as_str());
    if let Some(url) = &config.base_url {
        curator::outln!("server: {url} ({})", config.server_kind.unwrap_or(ServerKind::Generic).as_str());
    }
    let t0 = Instant::now();
    let mut m = match open_model(args, config.model.as_ref().map(PathBuf::from), None, LlamaOptions::default()) {
        Ok(m) => m,
        Err(e) => {
            curator::outln!("model loads: no (the error follows)");
            return Err(e);
        }
    };
    curator::outln!("model: {}", m.name());
    curator::outln!("model loads: yes ({:.0} ms)", t0.elapsed().as_secs_f64() * 1e3);
    let params = GenerationParams { max_tokens: 8, ..GenerationParams::default() };
    let mut pieces = 0usize;
    let mut text = String::new();
    match m.generate(&[ChatMessage::user("Say hello.")], &params, &mut |p| {
        pieces += 1;
        text.push_str(p);
        true
    }) {
        Ok(s) => curator::outln!(
            "generates: yes ({} tokens, {pieces} pieces, first after {:.0} ms): {:?}",
            s.generated_tokens,
            s.time_to_first_token_ms,
            text
        ),
        Err(e) => curator::outln!("generates: no — {e}"),
    }
    curator::outln!(
        "capability stream: {}",
        if m.supports_streaming() { "yes (text handed over piece by piece)" } else { "no" }
    );
    match m.constraint_method() {
        Some(how) => curator::outln!("capability constrain: yes — {how}"),
        None => curator::outln!("capability constrain: no — the list comes from the ranker's order"),
    }
    if m.supports_logprobs() {
        match m.continuation_logprobs("I liked Heat. You might like", " Collateral") {
            Ok(lp) => curator::outln!("capability score: yes ({} continuation tokens scored: {lp:?})", lp.len()),
            Err(e) => curator::outln!("capability score: claimed, but failed — {e}"),
        }
    } else {
        curator::outln!(
            "capability score: no — this backend returns no prompt log-probabilities; rank-level scores \
             (`eval llm --parts scoring,rank`) are unavailable and the agent keeps the ranker's order"
        );
    }
    Ok(())
}
