//! Command-line glue (clap): one function per subcommand, each a thin call into the library.

mod backend;
mod chat;
mod eval;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

/// Curator: a conversational movie recommender that runs on a laptop CPU.
#[derive(Debug, Parser)]
#[command(name = "curator", version, about)]
struct Cli {
    /// The catalog to use (a folder under catalogs/; see catalogs/README.md). Read by chat,
    /// serve, eval, bench and link.
    #[arg(long, global = true, default_value = curator::paths::DEFAULT_CATALOG)]
    catalog: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Chat with Curator: a full-screen terminal UI, or line mode with --plain or without a terminal.
    Chat(chat::ChatArgs),
    /// Speed figures as JSON: model tokens/s, time to first token over a 5-turn dialogue, tool ms.
    Bench {
        /// A GGUF model file (default: SmolLM2-135M-Instruct Q4_1, fetched if absent).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Skip the model (tool timings only).
        #[arg(long, conflicts_with = "model")]
        no_model: bool,
        /// Timed throughput runs.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Repetitions of the 5-turn script for the tool timing.
        #[arg(long, default_value_t = 20)]
        repeats: usize,
        /// The engine (`--backend`, `--base-url`, `--server-kind`, `--config`).
        #[command(flatten)]
        backend: backend::BackendArgs,
    },
    /// Check the set-up: compiled-in backends, the chosen backend's model, whether it loads and
    /// answers, and its capabilities (stream, constrain, score).
    Doctor {
        /// llama: a GGUF file (default: the default model); openai: the served model's name.
        #[arg(long)]
        model: Option<PathBuf>,
        /// The engine (`--backend`, `--base-url`, `--server-kind`, `--config`).
        #[command(flatten)]
        backend: backend::BackendArgs,
    },
    /// Manage the language model.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Build a catalog of your own items (the format: catalogs/README.md).
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Build the committed data (catalog, statistics, eval split) from the raw sources.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Choose the ranker's fusion weights on a validation split of the ReDial training
    /// dialogues; writes catalogs/movies/ranker.yaml.
    Tune {
        /// The raw data folder (e.g. ../shared/data); required unless --inspired-dev.
        #[arg(long, required_unless_present = "inspired_dev")]
        source: Option<PathBuf>,
        /// Tune the selected catalog (`--catalog NAME`, not movies) on INSPIRED dev
        /// (evals/inspired/NAME/dev.jsonl); writes catalogs/sources/NAME/ranker.yaml, which the
        /// next `curator catalog build catalogs/sources/NAME --name NAME` installs.
        #[arg(long, conflicts_with_all = ["from", "score_only"])]
        inspired_dev: bool,
        /// Start from the weights in this YAML file (a `ranker.yaml`) instead of the defaults.
        #[arg(long)]
        from: Option<PathBuf>,
        /// Only score the starting weights on validation; write nothing.
        #[arg(long)]
        score_only: bool,
        /// Search only these weights (comma-separated, e.g. `kg,attribute`); the others keep
        /// their starting values.
        #[arg(long, value_delimiter = ',')]
        only: Option<Vec<String>>,
    },
    /// Train models from the raw data (`curator train recommender`).
    Train(train::TrainArgs),
    /// Link free text to catalog items (debugging aid): prints title candidates and mentions.
    Link {
        /// The text to link.
        text: String,
    },
    /// Scripted evaluations.
    Eval {
        #[command(subcommand)]
        command: eval::EvalCommand,
    },
    /// Serve Curator over HTTP: OpenAI-compatible chat completions (streaming), /v1/recommend,
    /// /v1/feedback, sessions in SQLite.
    Serve {
        /// Address to bind; 127.0.0.1 keeps the server local (put a reverse proxy in front to expose it).
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// Port (0: the OS picks one; the bound address is printed).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// A GGUF model file (default: SmolLM2-135M-Instruct Q4_1, fetched if absent).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Run without a language model (fixed opening sentences; same recommendations).
        #[arg(long, conflicts_with = "model")]
        no_model: bool,
        /// SQLite session database (default: <cache>/sessions.sqlite).
        #[arg(long)]
        db: Option<PathBuf>,
        /// Require `Authorization: Bearer <KEY>` on /v1/* (default: $CURATOR_API_KEY if set).
        #[arg(long)]
        api_key: Option<String>,
        /// Chat requests that may wait for generation; beyond it requests get 429.
        #[arg(long, default_value_t = 32)]
        queue: usize,
        /// Per-request timeout for chat completions, in seconds (queue wait included).
        #[arg(long, default_value_t = 60)]
        timeout_secs: u64,
        /// Largest request body, in bytes.
        #[arg(long, default_value_t = 65536)]
        max_body_bytes: usize,
        /// Items recommended per chat turn.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=20))]
        recommendations: u16,
        /// A session with no turn or feedback for this many seconds expires (its data is deleted).
        #[arg(long, default_value_t = 7 * 24 * 3600, value_parser = clap::value_parser!(u64).range(1..))]
        session_idle_secs: u64,
        /// Most sessions kept; beyond it the least recently active are deleted.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
        max_sessions: u64,
        /// Most client connections open at once; more wait to be accepted.
        #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=65536))]
        max_connections: u32,
        /// Seconds a client has to send a request's headers (and an idle keep-alive connection
        /// stays open); then the connection is closed.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
        header_timeout_secs: u64,
        /// Seconds a client has to send a request's body once its headers are in; then the
        /// request is answered 408 and the connection closed.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
        body_timeout_secs: u64,
        /// An origin (scheme://host[:port]) whose web pages may call the API (CORS); repeat for
        /// more. None by default: browsers keep other origins out.
        #[arg(long = "cors-origin", value_name = "ORIGIN")]
        cors_origins: Vec<String>,
        /// CPU threads for the model (default: all cores but one, at least 1, so that HTTP
        /// traffic does not stall generation).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
        threads: Option<u16>,
        /// The engine (`--backend`, `--base-url`, `--server-kind`, `--config`).
        #[command(flatten)]
        backend: backend::BackendArgs,
    },
    /// A person's stored data in the server's session database: export it as JSON, or erase it.
    Sessions {
        /// SQLite session database (default: <cache>/sessions.sqlite, as `curator serve`).
        #[arg(long, global = true)]
        db: Option<PathBuf>,
        #[command(subcommand)]
        command: SessionsCommand,
    },
}

#[derive(Debug, Subcommand)]
enum SessionsCommand {
    /// Print everything stored about session ID (state, messages, recommendations, feedback,
    /// times in ms) as JSON on stdout.
    Export {
        /// The session id.
        id: String,
    },
    /// Erase session ID: its state, messages and feedback (overwritten, not just unlinked).
    Delete {
        /// The session id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
enum ModelCommand {
    /// Download the default model (SmolLM2-135M-Instruct Q4_1) into the cache, if absent.
    Fetch,
}

#[derive(Debug, Subcommand)]
enum CatalogCommand {
    /// Validate SRC (catalog.yaml, items.jsonl, optional interactions.jsonl and knowledge.tsv)
    /// and write catalogs/NAME/ and knowledge/NAME/ with manifests.
    Build {
        /// The source folder.
        src: PathBuf,
        /// The catalog's name (folder under catalogs/ and knowledge/).
        #[arg(long)]
        name: String,
        /// Root to write into (default: the repository root).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum DataCommand {
    /// Write catalogs/movies/ and evals/redial/ from a folder laid out like ../shared/data.
    Build {
        /// The raw data folder (e.g. ../shared/data).
        #[arg(long)]
        source: PathBuf,
        /// Root to write into (default: the repository root).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Runs the command line; errors are printed with their causes and give exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // A panic is a bug: after Rust's message (thread, file:line, what), say so plainly. The
    // process then exits with status 101 (or the front end turns it into an error exit).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        eprintln!("curator: internal error (a bug in curator); please report it with the input that caused it");
    }));
    // Logs go to stderr; `RUST_LOG=curator=debug` shows more.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .without_time()
        .try_init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if cli.catalog != curator::paths::DEFAULT_CATALOG {
        match &cli.command {
            Command::Chat(_)
            | Command::Serve { .. }
            | Command::Eval { .. }
            | Command::Bench { .. }
            | Command::Link { .. }
            | Command::Tune { inspired_dev: true, .. }
            | Command::Train(_) => {}
            _ => {
                anyhow::bail!("--catalog is read by chat, serve, eval, bench, link, train and tune --inspired-dev only")
            }
        }
        curator::paths::select_catalog(&cli.catalog)?;
    }
    match cli.command {
        Command::Catalog { command: CatalogCommand::Build { src, name, out } } => {
            let out = out.unwrap_or_else(curator::paths::project_root);
            let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let m = curator::data::catalog_build::build_catalog(&src, &name, &out, progress)
                .with_context(|| format!("catalog build of {} failed", src.display()))?;
            let edges: usize = m.edges.values().sum();
            curator::outln!(
                "wrote catalog {}: {} items, {} sessions, {} co-mentioned pairs, {} graph edges into {}",
                m.name,
                m.items,
                m.sessions,
                m.comention_pairs,
                edges,
                out.display()
            );
            Ok(())
        }
        Command::Chat(args) => chat::run(args),
        Command::Doctor { model, backend } => backend::doctor(&backend, model),
        Command::Bench { model, no_model, runs, repeats, backend } => {
            let model =
                if no_model { None } else { Some(backend::open_model(&backend, model, None, Default::default())?) };
            let build = |m| curator::agent::Agent::from_project(m, Default::default());
            let report = curator::bench::run(model, &build, runs, repeats)?;
            curator::outln!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Model { command: ModelCommand::Fetch } => {
            let path = curator::llm::fetch::fetch_default_model(true)?;
            curator::outln!("{}", path.display());
            Ok(())
        }
        Command::Data { command: DataCommand::Build { source, out } } => {
            let out = out.unwrap_or_else(curator::paths::project_root);
            let m = curator::data::build(&source, &out).context("data build failed")?;
            curator::outln!(
                "wrote {} items ({} with metadata), {} co-mentioned pairs from {} training dialogues ({} used), {} test dialogues into {}",
                m.items,
                m.items_with_metadata,
                m.comention_pairs,
                m.train_dialogues,
                m.train_dialogues_used,
                m.test_dialogues,
                out.display()
            );
            Ok(())
        }
        Command::Tune { inspired_dev: true, only, .. } => {
            let name = curator::paths::catalog_name();
            if name == curator::paths::DEFAULT_CATALOG {
                anyhow::bail!("--inspired-dev tunes another catalog than movies: add --catalog NAME (movies is tuned with --source)");
            }
            let root = curator::paths::project_root();
            let sources = root.join("catalogs").join("sources").join(&name);
            if !sources.is_dir() {
                anyhow::bail!(
                    "{} does not exist: the tuned weights go into the catalog's source folder",
                    sources.display()
                );
            }
            let dev = curator::paths::evals_dir().join("inspired").join(&name).join("dev.jsonl");
            let tuned = curator::tune::tune_on_dev(&curator::paths::catalog_dir(), &dev, only.as_deref())?;
            let path = sources.join(curator::rank::RANKER_FILE);
            let header = format!(
                "Fusion weights of the {name} catalog, chosen by `curator --catalog {name} tune --inspired-dev` on\nINSPIRED dev (never test), starting from the weights `curator catalog build` chose on\nheld-out training sessions."
            );
            curator::rank::config::save(&path, &tuned, &header)?;
            curator::outln!(
                "wrote {}; install it with `curator catalog build catalogs/sources/{name} --name {name}`",
                path.display()
            );
            Ok(())
        }
        Command::Tune { source, from, score_only, only, .. } => {
            let Some(source) = source else { anyhow::bail!("--source is required") };
            let dir = curator::paths::catalog_dir();
            let test = curator::paths::evals_dir().join("redial").join("test.jsonl");
            let start = match from {
                Some(p) => Some(curator::rank::config::load(&p)?.weights),
                None => None,
            };
            let tuned = curator::tune::tune_only(&source, &dir, &test, start, !score_only, only.as_deref())?;
            if score_only {
                return Ok(());
            }
            let path = dir.join(curator::rank::RANKER_FILE);
            curator::rank::config::save(&path, &tuned, curator::rank::config::TUNED_HEADER)?;
            curator::outln!("wrote {}", path.display());
            Ok(())
        }
        Command::Train(args) => train::run(args),
        Command::Link { text } => {
            let catalog = load_catalog()?;
            for c in catalog.link_title(&text, 5) {
                let name = catalog.get(c.id).map(|i| i.display_name()).unwrap_or_default();
                curator::outln!("title {:>7}  score {:6.2}  sim {:.2}  {name}", c.id, c.score, c.similarity);
            }
            for m in catalog.link_text(&text) {
                let name = catalog.get(m.id).map(|i| i.display_name()).unwrap_or_default();
                curator::outln!("mention {:?} -> {} {name}", &text[m.start..m.end], m.id);
            }
            Ok(())
        }
        Command::Eval { command } => eval::run(command),
        Command::Serve {
            host,
            port,
            model,
            no_model,
            db,
            api_key,
            queue,
            timeout_secs,
            max_body_bytes,
            recommendations,
            session_idle_secs,
            max_sessions,
            max_connections,
            header_timeout_secs,
            body_timeout_secs,
            cors_origins,
            threads,
            backend,
        } => {
            let defaults = curator::server::ServerOptions::default();
            let options = curator::server::ServerOptions {
                addr: std::net::SocketAddr::new(host, port),
                db_path: db.unwrap_or(defaults.db_path),
                api_key: api_key.or_else(|| std::env::var("CURATOR_API_KEY").ok()).filter(|k| !k.is_empty()),
                queue_capacity: queue.max(1),
                request_timeout: std::time::Duration::from_secs(timeout_secs.max(1)),
                max_body_bytes,
                recommendations: usize::from(recommendations),
                sessions: curator::server::sessions::SessionLimits {
                    idle: std::time::Duration::from_secs(session_idle_secs),
                    max_sessions: usize::try_from(max_sessions).unwrap_or(usize::MAX),
                },
                connections: curator::server::listen::ConnectionLimits {
                    max_connections: usize::try_from(max_connections).unwrap_or(usize::MAX),
                    header_timeout: std::time::Duration::from_secs(header_timeout_secs),
                    body_timeout: std::time::Duration::from_secs(body_timeout_secs),
                },
                cors_origins,
                model_opening: backend::free_opening(&backend)?,
                catalogs_dir: defaults.catalogs_dir,
                default_catalog: defaults.default_catalog,
            };
            // Like `chat::load_model`, with all cores but one for the model by default: with every
            // core, HTTP traffic on the same cores stalls llama.cpp's threads (turns measured at
            // 60 s instead of 3.6 s under load).
            let model = if no_model {
                None
            } else {
                let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
                let llama =
                    curator::llm::LlamaOptions { n_threads: cores.saturating_sub(1).max(1), ..Default::default() };
                Some(backend::open_model(&backend, model, threads.map(usize::from), llama)?)
            };
            curator::server::run(options, model)?;
            Ok(())
        }
        Command::Sessions { db, command } => sessions(db, command),
    }
}

/// `curator sessions export|delete ID`: exit 1 naming the session when it does not exist.
fn sessions(db: Option<PathBuf>, command: SessionsCommand) -> anyhow::Result<()> {
    use curator::server::sessions::{validate_session_id, SessionLimits, SessionStore};
    let db = db.unwrap_or_else(|| curator::server::ServerOptions::default().db_path);
    anyhow::ensure!(db.exists(), "the session database {} does not exist (--db names another)", db.display());
    let store = SessionStore::open_with(&db, SessionLimits::UNBOUNDED)?;
    let missing = |id: &str| anyhow::anyhow!("session {id:?} does not exist in {}", db.display());
    match command {
        SessionsCommand::Export { id } => {
            validate_session_id(&id)?;
            let export = store.export(&id)?.ok_or_else(|| missing(&id))?;
            curator::outln!("{}", serde_json::to_string_pretty(&export)?);
        }
        SessionsCommand::Delete { id } => {
            validate_session_id(&id)?;
            let erased = store.delete(&id)?.ok_or_else(|| missing(&id))?;
            curator::outln!(
                "erased session {id:?}: {} messages, {} feedback from {}",
                erased.messages,
                erased.feedback,
                db.display()
            );
        }
    }
    Ok(())
}

fn load_catalog() -> anyhow::Result<curator::catalog::Catalog> {
    let dir = curator::paths::catalog_dir();
    curator::catalog::Catalog::load(&dir).with_context(|| format!("cannot load the catalog from {}", dir.display()))
}
