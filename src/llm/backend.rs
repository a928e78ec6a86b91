//! Choosing a backend: the `--backend llama|mistralrs|openai` flag and the same settings in a
//! YAML file (`--config FILE`), read in two phases — [`BackendConfig`] mirrors the file and the
//! flags and does no I/O; [`open_backend`] checks it and loads the model.
//!
//! ```yaml
//! backend: openai                     # llama (default) | mistralrs | openai
//! model: Qwen/Qwen2.5-7B-Instruct     # llama: a GGUF path; openai: the served model's name
//! base_url: http://127.0.0.1:8000/v1  # openai only
//! server_kind: vllm                   # vllm | llama-server | sglang | mistralrs | curator | generic
//! timeout_secs: 120                   # openai: longest wait for one request
//! retries: 3                          # openai: extra tries after 429 / 5xx / connection errors
//! threads: 2                          # llama: CPU threads
//! free_opening: true                  # the model may write each reply's opening sentence
//! ```
//!
//! A backend that this build does not contain is an error naming the cargo feature that would
//! bring it ([`BackendKind::feature`]), never a silent fallback. Invariant: an unknown field in the
//! file is an error naming the file, line and field.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[cfg(feature = "llama")]
use super::llama::LlamaCppModel;
use super::remote::{OpenAiModel, RemoteOptions, ServerKind};
use super::LanguageModel;
use crate::{Error, Result};

/// Which engine runs the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// llama.cpp in process (`llama-cpp-2`), a local GGUF file. The default.
    #[default]
    Llama,
    /// mistral.rs in process, a local GGUF file (cargo feature `mistralrs`).
    Mistralrs,
    /// An OpenAI-compatible server over HTTP ([`OpenAiModel`]).
    Openai,
}

impl BackendKind {
    /// Every backend Curator names, compiled in or not.
    pub const ALL: [BackendKind; 3] = [BackendKind::Llama, BackendKind::Mistralrs, BackendKind::Openai];

    /// The name on the command line and in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Llama => "llama",
            BackendKind::Mistralrs => "mistralrs",
            BackendKind::Openai => "openai",
        }
    }

    /// The cargo feature that compiles the backend in (`None`: always there).
    pub fn feature(self) -> Option<&'static str> {
        match self {
            BackendKind::Mistralrs => Some("mistralrs"),
            BackendKind::Llama => Some("llama"),
            BackendKind::Openai => None,
        }
    }

    /// Whether this build contains the backend: llama.cpp with the (default) cargo feature
    /// `llama`, mistral.rs with the cargo feature `mistralrs`, the remote backend always.
    pub fn compiled_in(self) -> bool {
        match self {
            BackendKind::Llama => cfg!(feature = "llama"),
            BackendKind::Mistralrs => cfg!(feature = "mistralrs"),
            BackendKind::Openai => true,
        }
    }
}

impl FromStr for BackendKind {
    type Err = Error;

    /// Parses `llama`, `mistralrs` or `openai`. Errors: [`Error::InvalidInput`] listing them.
    fn from_str(s: &str) -> Result<Self> {
        BackendKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::InvalidInput(format!("unknown backend {s:?}: use llama, mistralrs or openai")))
    }
}

/// The backends compiled into this build, in [`BackendKind::ALL`] order.
pub fn compiled_backends() -> Vec<BackendKind> {
    BackendKind::ALL.into_iter().filter(|k| k.compiled_in()).collect()
}

/// The backend settings as written in the YAML file or on the command line (no I/O, no checks
/// beyond types). Fields that do not apply to the chosen backend are an error in
/// [`open_backend`], not ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendConfig {
    /// The engine. Default `llama`.
    #[serde(default)]
    pub backend: BackendKind,
    /// llama / mistralrs: a GGUF file (default: the fetched SmolLM2-135M-Instruct Q4_1);
    /// openai: the served model's name (default `curator` for a `curator` server).
    pub model: Option<String>,
    /// openai: base URL up to `/v1`.
    pub base_url: Option<String>,
    /// openai: which server it is (default `generic`).
    pub server_kind: Option<ServerKind>,
    /// openai: longest wait for one request in seconds (default 120).
    pub timeout_secs: Option<u64>,
    /// openai: extra tries after a 429, 5xx or connection error (default 3).
    pub retries: Option<u32>,
    /// llama: CPU threads (default: the caller's choice).
    pub threads: Option<usize>,
    /// Whether the model can write a reply's opening sentence true to the dialogue (any
    /// backend; default `false`: the opening is built from the dialogue state, as a 135M model's
    /// lines contradict it). Even then a line is shown only when it passes the state check
    /// (`agent::accept_opening`).
    pub free_opening: Option<bool>,
}

impl BackendConfig {
    /// Reads a YAML file of this shape.
    ///
    /// Errors: [`Error::Io`](crate::Error) naming the file when it cannot be read;
    /// [`Error::InvalidInput`] naming the file, line and column, and the field, when it does not
    /// parse (an unknown field included).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(path, &text)
    }

    /// [`BackendConfig::load`] over the file's text; `path` only names it in errors.
    ///
    /// Errors: [`Error::InvalidInput`] as [`BackendConfig::load`].
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        serde_yaml::from_str(text).map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))
    }

    /// `self` with every field that `over` sets replaced by it (command-line flags over the
    /// file); `backend` is replaced when `over_backend` is set.
    pub fn overlay(mut self, over_backend: Option<BackendKind>, over: BackendConfig) -> Self {
        if let Some(b) = over_backend {
            self.backend = b;
        }
        self.model = over.model.or(self.model);
        self.base_url = over.base_url.or(self.base_url);
        self.server_kind = over.server_kind.or(self.server_kind);
        self.timeout_secs = over.timeout_secs.or(self.timeout_secs);
        self.retries = over.retries.or(self.retries);
        self.threads = over.threads.or(self.threads);
        self.free_opening = over.free_opening.or(self.free_opening);
        self
    }
}

/// How the llama.cpp backend loads a model and sizes its context (used when the cargo feature
/// `llama` compiles the backend in; [`open_backend`] takes it either way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlamaOptions {
    /// Context window in tokens (prompt plus reply). Always passed to llama.cpp, whose own
    /// default (512) is too small for a dialogue. Default 2048.
    pub n_ctx: u32,
    /// CPU threads for both generation and prompt processing. Default: the machine's available
    /// parallelism (llama.cpp's own default of 4 halves the speed on 2 cores).
    pub n_threads: usize,
    /// Most tokens sent to llama.cpp in one decode call while processing a prompt. Default 512.
    pub n_batch: u32,
    /// Use flash attention. Default `false`: on the CPU it shifts log-probabilities by up to
    /// ~0.15 nats (DESIGN.md §5), and scores must be reproducible.
    pub flash_attention: bool,
}

impl Default for LlamaOptions {
    fn default() -> Self {
        LlamaOptions {
            n_ctx: 2048,
            n_threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            n_batch: 512,
            flash_attention: false,
        }
    }
}

/// Opens the configured backend. `llama` holds the caller's llama.cpp defaults (`threads`
/// overrides its thread count).
///
/// Errors: [`Error::InvalidInput`] when the backend is not compiled in (naming its cargo
/// feature), when a field is given that the backend does not use (e.g. `base_url` for llama), or
/// when `openai` lacks `base_url`; otherwise the errors of [`LlamaCppModel::load`],
/// [`fetch_default_model`](super::fetch::fetch_default_model) and [`OpenAiModel::connect`].
pub fn open_backend(config: &BackendConfig, mut llama: LlamaOptions) -> Result<Box<dyn LanguageModel>> {
    let kind = config.backend;
    if kind == BackendKind::Llama && !kind.compiled_in() {
        return Err(Error::InvalidInput(
            "the llama backend (llama.cpp) is not compiled in: this build was made without the default cargo \
             feature `llama`; rebuild with `cargo build --release` (default features), or use --backend openai"
                .into(),
        ));
    }
    if !kind.compiled_in() {
        return Err(Error::InvalidInput(format!(
            "backend {} is not compiled in: build with `cargo build --release --features {}`, or use \
             --backend llama or --backend openai",
            kind.as_str(),
            kind.feature().unwrap_or("?")
        )));
    }
    let unused = |what: &str, set: bool| -> Result<()> {
        if set {
            Err(Error::InvalidInput(format!("{what} does not apply to the {} backend", kind.as_str())))
        } else {
            Ok(())
        }
    };
    match kind {
        BackendKind::Llama | BackendKind::Mistralrs => {
            unused("base_url (--base-url)", config.base_url.is_some())?;
            unused("server_kind (--server-kind)", config.server_kind.is_some())?;
            unused("timeout_secs", config.timeout_secs.is_some())?;
            unused("retries", config.retries.is_some())?;
            if kind == BackendKind::Mistralrs {
                // mistral.rs (candle) takes its CPU threads from RAYON_NUM_THREADS, not per model.
                unused("threads (--threads; set RAYON_NUM_THREADS instead)", config.threads.is_some())?;
            }
            if let Some(n) = config.threads {
                llama.n_threads = n;
            }
            let path = match &config.model {
                Some(p) => PathBuf::from(p),
                None => super::fetch::fetch_default_model(true)?,
            };
            let loaded = if kind == BackendKind::Llama { open_llama(&path, &llama) } else { open_mistralrs(&path) };
            loaded.map_err(|e| match e {
                Error::Model(m) if !m.contains(&path.display().to_string()) => {
                    Error::Model(format!("cannot load {}: {m}", path.display()))
                }
                other => other,
            })
        }
        BackendKind::Openai => {
            unused("threads (--threads)", config.threads.is_some())?;
            let base = config.base_url.as_deref().ok_or_else(|| {
                Error::InvalidInput("the openai backend needs a base URL (--base-url http://HOST:PORT/v1)".into())
            })?;
            let kind = config.server_kind.unwrap_or(ServerKind::Generic);
            let model = match (&config.model, kind) {
                (Some(m), _) => m.clone(),
                (None, ServerKind::Curator) => "curator".to_string(),
                (None, _) => {
                    return Err(Error::InvalidInput(
                        "the openai backend needs the served model's name (--model NAME)".into(),
                    ))
                }
            };
            let mut opts = RemoteOptions::new(base, &model, kind);
            if let Some(t) = config.timeout_secs {
                opts.timeout = Duration::from_secs(t.max(1));
            }
            if let Some(r) = config.retries {
                opts.retries = r;
            }
            Ok(Box::new(OpenAiModel::connect(opts)?))
        }
    }
}

/// The llama.cpp backend on the GGUF at `path`.
#[cfg(feature = "llama")]
fn open_llama(path: &Path, llama: &LlamaOptions) -> Result<Box<dyn LanguageModel>> {
    Ok(Box::new(LlamaCppModel::load(path, llama)?))
}

#[cfg(not(feature = "llama"))]
fn open_llama(_path: &Path, _llama: &LlamaOptions) -> Result<Box<dyn LanguageModel>> {
    Err(Error::InvalidInput("backend llama is not compiled in".into()))
}

/// The mistral.rs backend on the GGUF at `path`.
#[cfg(feature = "mistralrs")]
fn open_mistralrs(path: &Path) -> Result<Box<dyn LanguageModel>> {
    Ok(Box::new(super::mistralrs::MistralRsModel::load(path)?))
}

#[cfg(not(feature = "mistralrs"))]
fn open_mistralrs(_path: &Path) -> Result<Box<dyn LanguageModel>> {
    Err(Error::InvalidInput("backend mistralrs is not compiled in".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backend_not_compiled_in_names_its_feature() {
        let cfg = BackendConfig { backend: BackendKind::Mistralrs, ..BackendConfig::default() };
        if !cfg!(feature = "mistralrs") {
            let err = open_backend(&cfg, LlamaOptions::default()).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("not compiled in") && err.contains("--features mistralrs"), "{err}");
        }
        let want: Vec<BackendKind> = [
            (BackendKind::Llama, cfg!(feature = "llama")),
            (BackendKind::Mistralrs, cfg!(feature = "mistralrs")),
            (BackendKind::Openai, true),
        ]
        .into_iter()
        .filter_map(|(k, on)| on.then_some(k))
        .collect();
        assert_eq!(compiled_backends(), want);
        assert_eq!("openai".parse::<BackendKind>().ok(), Some(BackendKind::Openai));
        assert!("vllm".parse::<BackendKind>().is_err());
    }

    #[cfg(feature = "mistralrs")]
    #[test]
    fn mistralrs_refuses_a_thread_count_it_cannot_apply() {
        let cfg = BackendConfig { backend: BackendKind::Mistralrs, threads: Some(2), ..BackendConfig::default() };
        let err = open_backend(&cfg, LlamaOptions::default()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("threads") && err.contains("RAYON_NUM_THREADS"), "{err}");
    }

    #[test]
    fn fields_that_do_not_apply_are_refused() {
        let cfg = BackendConfig { base_url: Some("http://x/v1".into()), ..BackendConfig::default() };
        let err = open_backend(&cfg, LlamaOptions::default()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("base_url") && err.contains("llama backend"), "{err}");
        let cfg = BackendConfig { backend: BackendKind::Openai, ..BackendConfig::default() };
        let err = open_backend(&cfg, LlamaOptions::default()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("needs a base URL"), "{err}");
    }

    #[test]
    fn the_yaml_file_parses_and_names_a_bad_field_with_its_line() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io(Path::new("tmp"), e))?;
        let good = dir.path().join("good.yaml");
        std::fs::write(
            &good,
            "backend: openai\nbase_url: http://127.0.0.1:8000/v1\nserver_kind: llama-server\nmodel: m\n",
        )
        .map_err(|e| Error::io(&good, e))?;
        let cfg = BackendConfig::load(&good)?;
        assert_eq!(cfg.backend, BackendKind::Openai);
        assert_eq!(cfg.server_kind, Some(ServerKind::LlamaServer));
        let over = cfg.clone().overlay(None, BackendConfig { model: Some("other".into()), ..BackendConfig::default() });
        assert_eq!(over.model.as_deref(), Some("other"));
        assert_eq!(over.base_url, cfg.base_url);
        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, "backend: openai\nbase_ur: http://x\n").map_err(|e| Error::io(&bad, e))?;
        let err = BackendConfig::load(&bad).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("bad.yaml") && err.contains("base_ur") && err.contains("line 2"), "{err}");
        Ok(())
    }
}
