//! Command-line glue (clap): one function per subcommand, each a thin call into the library.

mod chat;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

/// Curator: a conversational movie recommender that runs on a laptop CPU.
#[derive(Debug, Parser)]
#[command(name = "curator", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Chat with Curator in the terminal (line mode).
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
    },
    /// Manage the language model.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Build the committed data (catalog, statistics, eval split) from the raw sources.
    Data {
        #[command(subcommand)]
        command: DataCommand,
    },
    /// Choose the ranker's fusion weights on a validation split of the ReDial training
    /// dialogues; writes catalogs/movies/ranker.yaml.
    Tune {
        /// The raw data folder (e.g. ../shared/data).
        #[arg(long)]
        source: PathBuf,
        /// Start from the weights in this YAML file (a `ranker.yaml`) instead of the defaults.
        #[arg(long)]
        from: Option<PathBuf>,
        /// Only score the starting weights on validation; write nothing.
        #[arg(long)]
        score_only: bool,
    },
    /// Link free text to catalog items (debugging aid): prints title candidates and mentions.
    Link {
        /// The text to link.
        text: String,
    },
    /// Scripted evaluations.
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
    },
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// Top-1 entity-linking accuracy on all ReDial test mentions (lowercase titles, no year).
    Linking {
        /// ReDial dialogues (default: evals/redial/test.jsonl).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// ReDial test: standard and de-dup protocols, Recall/NDCG/MRR, counts printed.
    Redial {
        /// Evaluate only the first N evaluation points.
        #[arg(long)]
        limit: Option<usize>,
        /// Which ranker: the agent's candidate ranker or the popularity baseline.
        #[arg(long, value_enum, default_value_t = RankerChoice::Agent)]
        ranker: RankerChoice,
        /// ReDial dialogues (default: evals/redial/test.jsonl).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Output folder (default: evals/results).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum RankerChoice {
    /// Co-mention CF + BM25 + popularity fusion (the agent without the LLM).
    Agent,
    /// Training-dialogue popularity.
    Popularity,
}

#[derive(Debug, Subcommand)]
enum ModelCommand {
    /// Download the default model (SmolLM2-135M-Instruct Q4_1) into the cache, if absent.
    Fetch,
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
    // Logs go to stderr; `RUST_LOG=curator=debug` shows more.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).without_time().try_init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Chat(args) => chat::run(args),
        Command::Bench { model, no_model, runs, repeats } => {
            let model = if no_model { None } else { Some(chat::load_model(model)?) };
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
        Command::Tune { source, from, score_only } => {
            let dir = curator::paths::catalog_dir();
            let test = curator::paths::evals_dir().join("redial").join("test.jsonl");
            let start = match from {
                Some(p) => Some(curator::rank::tune::load_weights(&p)?.weights),
                None => None,
            };
            let tuned = curator::rank::tune::tune(&source, &dir, &test, start, !score_only)?;
            if score_only {
                return Ok(());
            }
            let path = dir.join("ranker.yaml");
            let yaml = format!(
                "# Fusion weights of the candidate ranker, chosen by `curator tune --source <data>` on a\n# validation split of the ReDial training dialogues (never the test split).\n{}",
                serde_yaml::to_string(&tuned)?
            );
            std::fs::write(&path, yaml).with_context(|| format!("cannot write {}", path.display()))?;
            curator::outln!("wrote {}", path.display());
            Ok(())
        }
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
        Command::Eval { command: EvalCommand::Redial { limit, ranker, data, out } } => {
            let mut opts = curator::eval::RedialEvalOptions { limit, ..Default::default() };
            if let Some(d) = data {
                opts.data_path = d;
            }
            if let Some(o) = out {
                opts.out_dir = o;
            }
            let (catalog, tools) = curator::agent::load_ranker(&curator::paths::catalog_dir(), None)?;
            match ranker {
                RankerChoice::Agent => {
                    curator::eval::run_redial(&opts, &curator::agent::ToolRanker::new(catalog, tools))?;
                }
                RankerChoice::Popularity => {
                    let counts = catalog.items().iter().map(|i| (i.id, i.popularity)).collect();
                    curator::eval::run_redial(&opts, &curator::eval::PopularityRanker::new(counts))?;
                }
            }
            Ok(())
        }
        Command::Eval { command: EvalCommand::Linking { data } } => {
            let catalog = load_catalog()?;
            let data = data.unwrap_or_else(|| curator::paths::evals_dir().join("redial").join("test.jsonl"));
            let r = curator::eval::linking::linking_accuracy(&data, &catalog)?;
            curator::outln!(
                "entity linking, ReDial test mentions as lowercase titles without year: top-1 accuracy {:.4} ({} / {} mentions; {} errors are a same-title duplicate id)",
                r.accuracy, r.correct, r.mentions, r.same_title_other_id
            );
            for (q, gold, got) in &r.examples {
                let name = |id: Option<u32>| {
                    id.and_then(|i| catalog.get(i)).map(|i| i.display_name()).unwrap_or_else(|| "-".into())
                };
                curator::outln!("  miss: {q:?} gold {} got {}", name(Some(*gold)), name(*got));
            }
            Ok(())
        }
    }
}

fn load_catalog() -> anyhow::Result<curator::catalog::Catalog> {
    let dir = curator::paths::catalog_dir();
    curator::catalog::Catalog::load(&dir).with_context(|| format!("cannot load the catalog from {}", dir.display()))
}
