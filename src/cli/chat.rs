//! `curator chat`: the terminal UI (`curator::tui`) when stdin and stdout are terminals, else (or
//! with `--plain`) the line-mode REPL on stdin/stdout.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use curator::agent::{Agent, AgentConfig, AgentEvent};
use curator::llm::LanguageModel;

/// Options of `curator chat`.
#[derive(Debug, clap::Args)]
pub struct ChatArgs {
    /// A GGUF model file (default: SmolLM2-135M-Instruct Q4_1, fetched on first use).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Run without a language model (fixed opening sentences; same recommendations).
    #[arg(long, conflicts_with = "model")]
    pub no_model: bool,
    /// Items recommended per turn.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=20))]
    pub recommendations: u16,
    /// Line mode (a prompt on stdin/stdout) instead of the full-screen terminal UI; chosen
    /// automatically when stdin or stdout is not a terminal.
    #[arg(long)]
    pub plain: bool,
    /// CPU threads for the model (default: all; one fewer leaves a core to the terminal UI).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
    /// The engine (`--backend`, `--base-url`, `--server-kind`, `--config`).
    #[command(flatten)]
    pub backend: super::backend::BackendArgs,
}

/// The `/help` text of the line-mode chat in the catalog's words (`items`: "movies", "board games").
fn help(items: &str) -> String {
    format!(
        "Tell me {items} you like or dislike, or what you're in the mood for.\n\
Commands: /reset (start over), /state (what I know about you), /help, /quit (or Ctrl-D)."
    )
}

/// Loads the model named by `path`, or the default model (fetching it on first use).
pub fn load_model(path: Option<PathBuf>) -> anyhow::Result<Box<dyn LanguageModel>> {
    load_model_with(path, curator::llm::LlamaOptions::default())
}

/// [`load_model`] with explicit llama.cpp options (the llama.cpp backend).
pub fn load_model_with(
    path: Option<PathBuf>,
    options: curator::llm::LlamaOptions,
) -> anyhow::Result<Box<dyn LanguageModel>> {
    super::backend::open_model(&super::backend::BackendArgs::default(), path, None, options)
}

/// Runs the terminal UI, or the REPL (`--plain`, or stdin/stdout not a terminal), until the
/// person quits.
pub fn run(args: ChatArgs) -> anyhow::Result<()> {
    let threads = args.threads.map(usize::from);
    let model = if args.no_model {
        None
    } else {
        Some(super::backend::open_model(&args.backend, args.model, threads, Default::default())?)
    };
    let config = AgentConfig {
        recommendations: usize::from(args.recommendations),
        model_opening: super::backend::free_opening(&args.backend)?,
        ..AgentConfig::default()
    };
    let agent = Agent::from_project(model, config).context("cannot start the agent")?;
    if !args.plain && std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        return curator::tui::run(agent).context("the terminal UI failed");
    }
    match repl(agent) {
        // The reader went away (`curator chat | head`): a normal end, not an error.
        Err(e) if e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) => {
            Ok(())
        }
        other => other,
    }
}

/// The longest input line the plain REPL reads (bytes); the agent itself takes at most 4,000.
const MAX_LINE_BYTES: usize = 64 * 1024;

/// `line` with control characters written as escapes (`\u{1b}`), so that echoing piped input
/// cannot drive the terminal.
fn printable(line: &str) -> String {
    line.chars().map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

/// The line-mode REPL until `/quit` or end of input.
fn repl(mut agent: Agent) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout();
    let items = agent.catalog().config().items_noun();
    let help = help(&items);
    writeln!(
        out,
        "Curator — {} {items}, model {}.\n{help}",
        agent.catalog().len(),
        agent.model_name().unwrap_or("none")
    )?;
    // Piped input is not echoed by a terminal: echo it, so the output reads as a transcript.
    let echo = !stdin.is_terminal();
    let mut buf = Vec::new();
    loop {
        write!(out, "\nyou> ")?;
        out.flush()?;
        buf.clear();
        let n = std::io::Read::take(&mut input, MAX_LINE_BYTES as u64)
            .read_until(b'\n', &mut buf)
            .context("cannot read standard input")?;
        if n == 0 {
            writeln!(out)?;
            return Ok(());
        }
        if buf.len() == MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
            // The rest of an over-long line is skipped, not stored or echoed.
            loop {
                let chunk = input.fill_buf().context("cannot read standard input")?;
                if chunk.is_empty() {
                    break;
                }
                match chunk.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        input.consume(i + 1);
                        break;
                    }
                    None => {
                        let len = chunk.len();
                        input.consume(len);
                    }
                }
            }
            if echo {
                let head: String = String::from_utf8_lossy(&buf).chars().take(80).collect();
                writeln!(out, "{}…", printable(&head))?;
            }
            writeln!(out, "(that line is longer than {MAX_LINE_BYTES} bytes; please send a shorter message)")?;
            continue;
        }
        let Ok(line) = std::str::from_utf8(&buf) else {
            if echo {
                writeln!(out, "{}", printable(String::from_utf8_lossy(&buf).trim()))?;
            }
            writeln!(out, "(that line is not valid UTF-8 text; please type it again)")?;
            continue;
        };
        let line = line.trim();
        if echo {
            writeln!(out, "{}", printable(line))?;
        }
        // Commands in any case ("/STATE").
        let command = if line.starts_with('/') { line.to_lowercase() } else { String::new() };
        match if command.is_empty() { line } else { command.as_str() } {
            "" => continue,
            "/quit" | "/exit" => return Ok(()),
            "/help" => {
                writeln!(out, "{help}")?;
                continue;
            }
            "/reset" => {
                agent.reset();
                writeln!(out, "(new conversation)")?;
                continue;
            }
            "/state" => {
                writeln!(out, "{}", describe_state(&agent))?;
                continue;
            }
            l if l.starts_with('/') => {
                writeln!(out, "(unknown command {line:?}; try /help)")?;
                continue;
            }
            _ => {}
        }
        write!(out, "curator> ")?;
        out.flush()?;
        let result = agent.respond(line, &mut |ev| {
            if let AgentEvent::Text { text } = ev {
                let _ = write!(out, "{text}");
                let _ = out.flush();
            }
        });
        match result {
            Ok(_) => {
                writeln!(out)?;
                out.flush()?;
                // While the seeker reads and types: the dialogue, with the reply as shown, goes
                // into the model's cache so that the next message prefills only its own tokens.
                if let Err(e) = agent.prefill_dialogue() {
                    tracing::debug!("cannot prefill the dialogue for its next turn: {e}");
                }
            }
            Err(e) => writeln!(out, "(sorry: {e})")?,
        }
    }
}

fn describe_state(agent: &Agent) -> String {
    let taste = curator::tui::worker::taste(agent);
    let list = |v: &[String]| if v.is_empty() { "-".to_string() } else { v.join(", ") };
    let recommended: Vec<String> =
        agent.state().recommended.iter().filter_map(|id| agent.catalog().get(*id).map(|i| i.display_name())).collect();
    format!(
        "liked: {}\ndisliked: {}\nseen: {}\nasked for: {}\nruled out: {}\nrecommended so far: {}",
        list(&taste.liked),
        list(&taste.disliked),
        list(&taste.seen),
        list(&taste.wanted),
        list(&taste.rejected),
        list(&recommended)
    )
}
