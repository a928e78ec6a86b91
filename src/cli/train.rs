//! `curator train …`: training commands (thin glue over [`curator::train`]).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use curator::rank::policy::CandidateSizes;

/// `curator train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(subcommand)]
    command: TrainCommand,
}

#[derive(Debug, Subcommand)]
enum TrainCommand {
    /// Train the collaborative recommenders (popularity, item-kNN and its session- and
    /// role-aware variants, EASE^R, the SLIT transition model, the softmax item-kNN model, and
    /// blends) on the training
    /// interactions, choose one on the validation split of `curator tune`, and save it as
    /// catalogs/movies/recommender.bin.
    Recommender {
        /// The raw data folder (e.g. ../shared/data).
        #[arg(long)]
        source: PathBuf,
        /// Also evaluate each model × data mix on ReDial test and write
        /// evals/results/ablation.{json,md}.
        #[arg(long)]
        ablation: bool,
        /// Choose and report only; write no model.
        #[arg(long)]
        no_write: bool,
        /// A smaller search grid (smoke runs).
        #[arg(long)]
        quick: bool,
        /// Search only these model families (comma-separated: popularity, item-knn, ease,
        /// session-knn, role-knn, knn+ease, transition, knn+transition, softmax-knn). The co-mention baseline
        /// and its trained item-kNN form are always scored, and the selection is among all
        /// scored rows. Default: all.
        #[arg(long, value_delimiter = ',', value_parser = family_name)]
        families: Vec<String>,
    },
    /// Train the learned listwise reranker (Plackett–Luce policy over the candidate union) with
    /// Rank-GRPO and its baselines on the ReDial train dialogues with text, select on
    /// validation, and save catalogs/movies/reranker.json when it beats the fusion there.
    Reranker {
        /// The raw data folder (e.g. ../shared/data).
        #[arg(long)]
        source: PathBuf,
        /// Epochs per variant (upper bound; early stopping on validation).
        #[arg(long, default_value_t = 12)]
        epochs: usize,
        /// Seed of sampling and shuffling.
        #[arg(long, default_value_t = 17)]
        seed: u64,
        /// Continue from the checkpoints in ~/.cache/curator/reranker.
        #[arg(long)]
        resume: bool,
        /// Also score every variant on ReDial test and write evals/results/reranker.{json,md}.
        #[arg(long)]
        ablation: bool,
        /// Choose and report only; write no policy.
        #[arg(long)]
        no_write: bool,
        /// Use only the first N validation dialogues (smoke runs; with --inspired, the first N
        /// INSPIRED training dialogues).
        #[arg(long)]
        limit: Option<usize>,
        /// For an INSPIRED catalog (`curator --catalog inspired train reranker --inspired`):
        /// contexts from INSPIRED's training dialogues, cross-fitted over 5 folds, selection on
        /// evals/inspired/NAME/dev.jsonl, the ablation on its test.jsonl; results in
        /// evals/results/NAME/.
        #[arg(long)]
        inspired: bool,
        /// With --inspired: also ReDial's full-text training dialogues, their movies mapped into
        /// the catalog by title and year, as training contexts.
        #[arg(long, requires = "inspired")]
        with_redial: bool,
        /// The candidate generators' sizes, comma-separated name=N pairs changing the defaults
        /// (cf=200, comention=100, ppr=100, text=100, genre=0, popularity=50, attribute=100,
        /// fusion=100), e.g. "popularity=200,genre=100,ppr=200"; saved with the policy.
        #[arg(long, default_value = "", value_parser = parse_candidates)]
        candidates: CandidateSizes,
        /// Also train the best variant on validation with K − 1 more seeds and offer their
        /// ensemble (mean score) to selection; 1: no ensemble.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
        ensemble: u16,
    },
}

/// `--candidates`' value ([`CandidateSizes::parse`]).
fn parse_candidates(spec: &str) -> Result<CandidateSizes, String> {
    CandidateSizes::parse(spec)
}

/// Runs `curator train …`.
pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    match args.command {
        TrainCommand::Recommender { source, ablation, no_write, quick, families } => {
            if curator::paths::catalog_name() != curator::paths::DEFAULT_CATALOG {
                anyhow::bail!(
                    "`train recommender` trains the {} catalog on ReDial; another catalog's model is trained by `curator catalog build` from its interactions",
                    curator::paths::DEFAULT_CATALOG
                );
            }
            let opts = curator::train::TrainOptions {
                source,
                catalog_dir: curator::paths::catalog_dir(),
                test_path: curator::paths::evals_dir().join("redial").join("test.jsonl"),
                ablation,
                results_dir: curator::paths::evals_dir().join("results"),
                write: !no_write,
                progress: true,
                quick,
                families,
            };
            let report = curator::train::train(&opts)?;
            curator::outln!("interactions (final fit): {}", report.interactions);
            Ok(())
        }
        TrainCommand::Reranker {
            source,
            epochs,
            seed,
            resume,
            ablation,
            no_write,
            limit,
            inspired,
            with_redial,
            candidates,
            ensemble,
        } => {
            let name = curator::paths::catalog_name();
            if inspired == (name == curator::paths::DEFAULT_CATALOG) {
                anyhow::bail!(
                    "--inspired trains an INSPIRED catalog's reranker (`curator --catalog inspired train reranker --inspired`); the {} catalog takes ReDial's contexts (no --inspired)",
                    curator::paths::DEFAULT_CATALOG
                );
            }
            let evals = curator::paths::evals_dir();
            let (inspired_test, inspired_dev, results_dir) = if inspired {
                let dir = evals.join("inspired").join(&name);
                (Some(dir.join("test.jsonl")), Some(dir.join("dev.jsonl")), evals.join("results").join(&name))
            } else {
                (Some(evals.join("inspired").join("test.jsonl")), None, evals.join("results"))
            };
            let opts = curator::train::reranker::RerankerOptions {
                source,
                catalog_dir: curator::paths::catalog_dir(),
                test_path: evals.join("redial").join("test.jsonl"),
                inspired_test,
                results_dir,
                cache_dir: if inspired {
                    curator::paths::cache_dir().join("reranker").join(&name)
                } else {
                    curator::paths::cache_dir().join("reranker")
                },
                epochs,
                seed,
                resume,
                ablation,
                write: !no_write,
                progress: true,
                limit,
                inspired_dev,
                redial_contexts: with_redial,
                candidates,
                ensemble: usize::from(ensemble),
            };
            curator::train::reranker::train_reranker(&opts)?;
            Ok(())
        }
    }
}

/// A `--families` entry as written, trimmed and lower-cased ("softmax-knn, Transition" works); an
/// empty entry (a trailing comma) is refused.
fn family_name(raw: &str) -> Result<String, String> {
    let name = raw.trim().to_lowercase();
    if name.is_empty() {
        return Err("an empty family name (a stray comma?)".to_string());
    }
    Ok(name)
}
