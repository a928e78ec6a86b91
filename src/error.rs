//! The library's error type. Every variant names what was wrong (a file and line, a field, an
//! id) so that the front ends can print it as is.

use std::path::PathBuf;

/// Errors from the Curator library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The operating-system error (shown in the message, not repeated as a source).
        error: std::io::Error,
    },
    /// A data file is malformed; `line` is 1-based (0 when the whole file is at fault).
    #[error("{}{}: {message}", path.display(), if *line > 0 { format!(":{line}") } else { String::new() })]
    Parse {
        /// The file that failed to parse.
        path: PathBuf,
        /// 1-based line number, 0 if unknown.
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// Input from a user, a config file or a caller is invalid.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A required resource (model file, catalog, index) is missing; the message says how to get it.
    #[error("{0}")]
    Missing(String),
    /// The language model failed to load, tokenize, decode or sample.
    #[error("language model: {0}")]
    Model(String),
    /// The caller cancelled the operation (e.g. Esc in the chat UI, a client disconnect).
    #[error("cancelled")]
    Cancelled,
    /// The search index failed.
    #[error("search index: {0}")]
    Index(String),
    /// A prompt (with its continuation or reply) needs more tokens than the model's context
    /// holds; callers can drop older turns and retry.
    #[error("language model: the prompt needs {needed} tokens but the context holds {n_ctx}")]
    ContextOverflow {
        /// Tokens the request needs (prompt, plus continuation or at least one reply token).
        needed: usize,
        /// The context window in tokens.
        n_ctx: usize,
    },
}

impl Error {
    /// Builds an [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), error: source }
    }

    /// Builds an [`Error::Parse`] for `path` at 1-based `line`.
    pub fn parse(path: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        Error::Parse { path: path.into(), line, message: message.into() }
    }
}

/// `Result` with the library's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
