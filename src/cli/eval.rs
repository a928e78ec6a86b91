//! `curator eval …`: the scripted evaluation suite (thin glue over `curator::eval`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Subcommand;
use curator::agent::{Agent, AgentConfig, RecommendPrompts, ToolRanker};
use curator::assets::Assets;
use curator::catalog::Catalog;
use curator::eval::suite::{run_suite, Dataset, SuiteOptions, System};

/// The `eval` subcommands.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// LLM figures: out-of-catalog rate constrained vs free, constraint overhead,
    /// shared-prompt scoring vs naive and the prompt bound, R@K of the LLM alone, TTFT with and
    /// without the conversation cache. Prints one line per figure and a JSON report.
    Llm {
        /// ReDial points (file order) for the out-of-catalog part.
        #[arg(long, default_value_t = 30)]
        limit: usize,
        /// De-dup points for the LLM-as-ranker part.
        #[arg(long, default_value_t = 50)]
        rank_limit: usize,
        /// Items per generated list.
        #[arg(long, default_value_t = 10)]
        items: usize,
        /// Parts to run (default: all): ooc, scoring, rank, ttft.
        #[arg(long, value_delimiter = ',')]
        parts: Vec<String>,
        /// A GGUF model file (default: SmolLM2-135M-Instruct Q4_1, fetched if absent).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Write the JSON report here too.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Attribute linking (genres, people) on INSPIRED: precision and recall against the
    /// utterances' genre/actor/director placeholders. Tune on dev only.
    Attributes {
        /// The raw data folder holding inspired/dialog_data/ (e.g. ../shared/data).
        #[arg(long, default_value = "../shared/data")]
        source: PathBuf,
        /// Which INSPIRED split: dev (for tuning) or test (for reporting).
        #[arg(long, value_enum, default_value_t = Split::Test)]
        split: Split,
        /// Print the first misses.
        #[arg(long)]
        examples: bool,
    },
    /// Top-1 entity-linking accuracy on all ReDial test mentions (lowercase titles, no year).
    /// The tracker's reading of liked / seen against the seekers' ReDial questionnaires (test,
    /// and the validation split when `--source` is given); writes evals/results/tracking.md.
    Tracking {
        /// Raw data folder (like ../shared/data) for the validation split; without it, test only.
        #[arg(long)]
        source: Option<PathBuf>,
    },
    Linking {
        /// ReDial dialogues (default: evals/redial/test.jsonl).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Instead: the surface-form benchmark (evals/linking/: INSPIRED dev and test mentions
        /// as people typed them, and the hand-written variants), span precision / recall / F1
        /// and top-1 accuracy with counts.
        #[arg(long)]
        variants: bool,
        /// Print the benchmark's misses and wrong links (with --variants).
        #[arg(long)]
        examples: bool,
        /// Only this INSPIRED split's figures and examples (with --variants; default both). Tune
        /// with `--split dev`: the test split's errors are not to be read while tuning.
        #[arg(long, value_enum)]
        split: Option<Split>,
        /// Rebuild evals/linking/inspired.jsonl from this raw data folder (e.g. ../shared/data)
        /// first (with --variants).
        #[arg(long)]
        build: Option<PathBuf>,
    },
    /// ReDial test: standard, de-dup and He et al. protocols, dialogue metrics, counts printed.
    Redial(RunArgs),
    /// INSPIRED (test, or dev for tuning): the same protocols on the derived split in evals/inspired/.
    Inspired {
        /// Which split.
        #[arg(long, value_enum, default_value_t = Split::Test)]
        split: Split,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Derive evals/inspired/ (INSPIRED dev/test linked into the catalog) and the He et al.
    /// cross-check keys from the raw data.
    Build {
        /// The raw data folder (e.g. ../shared/data).
        #[arg(long)]
        source: PathBuf,
    },
    /// LLM user simulator (iEvaLM style, leak-safe: it sees the target's attributes, never its title).
    Simulate {
        /// Simulated dialogues (targets from the ReDial test split, in order).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// GGUF model of the simulator (default: the default model).
        #[arg(long)]
        sim_model: Option<PathBuf>,
        /// GGUF model of the agent (default: the default model).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Run the agent without a language model.
        #[arg(long, conflicts_with = "model")]
        no_model: bool,
        /// Most seeker messages per dialogue.
        #[arg(long, default_value_t = curator::eval::simulate::MAX_TURNS)]
        max_turns: usize,
        /// Items the agent recommends per turn.
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=50))]
        recommendations: u16,
    },
    /// Write evals/REPORT.md, evals/report.json and evals/plots/*.svg from evals/results/.
    Report,
    /// Paired bootstrap between two saved runs on the same points (A − B: objective, R@1, R@10,
    /// R@50, standard protocol), e.g. a committed result (`git show REV:evals/results/… >
    /// old.json`) against the one a rerun wrote.
    Compare {
        /// Run A (a JSON result from evals/results/).
        a: PathBuf,
        /// Run B, on the same split and data.
        b: PathBuf,
        /// Bootstrap resamples.
        #[arg(long, default_value_t = 2000)]
        resamples: usize,
        /// Seed of the resampling.
        #[arg(long, default_value_t = 19)]
        seed: u64,
    },
    /// Regenerate everything: every protocol on ReDial and INSPIRED (ranker mode, full), agent
    /// mode (first --agent-limit points), the simulator, then the report.
    All {
        /// Evaluation points per dataset in agent mode.
        #[arg(long, default_value_t = 20)]
        agent_limit: usize,
        /// Simulated dialogues.
        #[arg(long, default_value_t = 5)]
        sim_limit: usize,
        /// Agent mode without a language model; skips the simulator (which needs one).
        #[arg(long)]
        no_model: bool,
        /// Delete evals/results/runs/ first: recompute agent-mode and simulator runs instead of
        /// resuming them (needed after a code change, which the progress header does not name).
        #[arg(long)]
        fresh: bool,
    },
}

/// Options shared by `eval redial` and `eval inspired`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Evaluate only the first N evaluation points.
    #[arg(long)]
    limit: Option<usize>,
    /// `ranker`: the candidate ranker alone (no LLM); `agent`: the whole agent per point
    /// (resumable: progress in <out>/runs/).
    #[arg(long, value_enum, default_value_t = Mode::Ranker)]
    mode: Mode,
    /// Ranker mode: the agent's candidate ranker or the popularity baseline.
    #[arg(long, value_enum, default_value_t = RankerChoice::Agent)]
    ranker: RankerChoice,
    /// Agent and zero-shot modes: a GGUF model (default: SmolLM2-135M-Instruct Q4_1), or with
    /// `--backend openai` the served model's name.
    #[arg(long)]
    model: Option<PathBuf>,
    /// The engine of agent and zero-shot modes (`--backend`, `--base-url`, `--server-kind`,
    /// `--config`).
    #[command(flatten)]
    backend: super::backend::BackendArgs,
    /// Agent mode without a language model.
    #[arg(long, conflicts_with = "model")]
    no_model: bool,
    /// Agent mode: items per reply (the list the metrics score).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=50))]
    recommendations: u16,
    /// Data file (default: evals/<dataset>/<split>.jsonl).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Output folder (default: evals/results).
    #[arg(long)]
    out: Option<PathBuf>,
}

impl RunArgs {
    fn ranker(mode: Mode, ranker: RankerChoice, limit: Option<usize>) -> Self {
        RunArgs {
            limit,
            mode,
            ranker,
            model: None,
            backend: Default::default(),
            no_model: false,
            recommendations: 10,
            data: None,
            out: None,
        }
    }
}

/// Evaluation mode.
#[derive(Debug, Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum Mode {
    /// The candidate ranker without the LLM.
    Ranker,
    /// The whole agent (state tracking from text, tools, ranker, LLM reply).
    Agent,
    /// The LLM alone, zero-shot (He et al., CIKM '23): it names titles freely, the linker maps
    /// them to the catalog; the out-of-catalog rate is printed.
    ZeroShot,
}

/// Which ranker in ranker mode.
#[derive(Debug, Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum RankerChoice {
    /// The agent's candidate ranker without the LLM: the trained collaborative model
    /// (catalogs/movies/recommender.bin, else co-mentions), BM25, popularity, genre and the
    /// knowledge graph (PPR proximity, attribute match and filter).
    Agent,
    /// Training-dialogue popularity.
    Popularity,
}

/// INSPIRED split.
#[derive(Debug, Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum Split {
    /// Test (reported).
    Test,
    /// Dev (for tuning).
    Dev,
}

struct Loaded {
    assets: Assets,
    catalog: Arc<Catalog>,
}

fn load() -> anyhow::Result<Loaded> {
    let assets = Assets::from_project(None)?;
    Ok(Loaded { catalog: Arc::clone(&assets.catalog), assets })
}

fn model_path(path: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    match path {
        Some(p) => Ok(p),
        None => curator::llm::fetch::fetch_default_model(true).context("cannot get the default model"),
    }
}

fn agent(
    loaded: &Loaded,
    backend: &super::backend::BackendArgs,
    model: Option<PathBuf>,
    no_model: bool,
    recommendations: u16,
) -> anyhow::Result<(Agent, Option<PathBuf>)> {
    let config = backend.resolve(model.clone(), None)?;
    let (model, path) = if no_model {
        (None, None)
    } else if config.backend == curator::llm::BackendKind::Llama {
        let path = model_path(config.model.map(PathBuf::from))?;
        (Some(super::backend::open_model(backend, Some(path.clone()), None, Default::default())?), Some(path))
    } else {
        let m = super::backend::open_model(backend, model, None, Default::default())?;
        let name = PathBuf::from(m.name());
        (Some(m), Some(name))
    };
    let prompts = RecommendPrompts::load(&curator::paths::prompts_dir())?;
    let config = AgentConfig {
        recommendations: usize::from(recommendations),
        model_opening: super::backend::free_opening(backend)?,
        ..AgentConfig::default()
    };
    Ok((Agent::new(loaded.assets.clone(), prompts, model, config), path))
}

fn run_one(loaded: &Loaded, dataset: Dataset, split: &str, args: RunArgs) -> anyhow::Result<()> {
    let mut opts = SuiteOptions::new(dataset, split);
    opts.limit = args.limit;
    if let Some(d) = args.data {
        opts.data_path = d;
    }
    if let Some(o) = args.out {
        opts.out_dir = o;
    }
    match (args.mode, args.ranker) {
        (Mode::Ranker, RankerChoice::Agent) => {
            let r = ToolRanker::from_assets(&loaded.assets);
            run_suite(&opts, System::Ranker(&r), &loaded.catalog)?;
        }
        (Mode::Ranker, RankerChoice::Popularity) => {
            let counts = loaded.catalog.items().iter().map(|i| (i.id, i.popularity)).collect();
            let r = curator::eval::PopularityRanker::new(counts);
            run_suite(&opts, System::Ranker(&r), &loaded.catalog)?;
        }
        (Mode::Agent, _) => {
            let (mut a, model_path) = agent(loaded, &args.backend, args.model, args.no_model, args.recommendations)?;
            run_suite(&opts, System::Agent { agent: &mut a, model_path }, &loaded.catalog)?;
        }
        (Mode::ZeroShot, _) => {
            anyhow::ensure!(!args.no_model, "zero-shot mode needs a model (drop --no-model)");
            let model = super::backend::open_model(&args.backend, args.model, None, Default::default())?;
            let r = curator::eval::zero_shot::ZeroShotRanker::new(model, &loaded.catalog);
            run_suite(&opts, System::Ranker(&r), &loaded.catalog)?;
            let c = r.counts();
            curator::outln!(
                "zero-shot: {} points, {} list lines, {} linked to the catalog, {} out of catalog (OOC rate {:.4}), \
                 {} points where the model failed",
                c.points,
                c.lines,
                c.linked,
                c.out_of_catalog,
                c.ooc_rate(),
                c.failures
            );
        }
    }
    Ok(())
}

fn simulate(
    loaded: &Loaded,
    limit: usize,
    sim_model: Option<PathBuf>,
    model: Option<PathBuf>,
    no_model: bool,
    max_turns: usize,
    recommendations: u16,
) -> anyhow::Result<()> {
    let sim_path = model_path(sim_model)?;
    let mut sim = super::chat::load_model_with(Some(sim_path.clone()), Default::default())?;
    let (mut a, _) = agent(loaded, &Default::default(), model, no_model, recommendations)?;
    let evals = curator::paths::evals_dir();
    curator::eval::simulate::run_simulation(
        &evals.join("redial").join("test.jsonl"),
        sim.as_mut(),
        &sim_path,
        &mut a,
        limit,
        max_turns,
        &evals.join("results"),
    )?;
    Ok(())
}

fn report() -> anyhow::Result<()> {
    let evals = curator::paths::evals_dir();
    let path = curator::eval::suite_report::write_report(&evals.join("results"), &evals)?;
    curator::outln!("wrote {}", path.display());
    Ok(())
}

fn build(source: PathBuf) -> anyhow::Result<()> {
    use curator::eval::{cikm23, inspired};
    let catalog = Catalog::load(&curator::paths::catalog_dir())?;
    let evals = curator::paths::evals_dir();
    // INSPIRED linked into another catalog (`--catalog inspired`) goes to its own folder.
    let name = curator::paths::catalog_name();
    let out = match name.as_str() {
        curator::paths::DEFAULT_CATALOG => evals.join("inspired"),
        other => evals.join("inspired").join(other),
    };
    for split in ["test", "dev"] {
        let s = inspired::build_split(&source, split, &catalog, &out)?;
        curator::outln!(
            "INSPIRED {split}: {} dialogues, {} sentences; {} movie names: {} linked exactly, {} by similar title or a year off, {} outside the catalog",
            s.dialogues, s.sentences, s.movies, s.exact, s.fuzzy, s.unlinked
        );
    }
    let n = cikm23::build_keys(&source.join("redial/eval_cikm23/test.jsonl"), &[], &evals.join("redial"))?;
    let items = cikm23::redial_item_set(&source)?;
    let list: String = items.iter().map(|i| format!("{i}\n")).collect();
    std::fs::write(evals.join("redial/cikm23_items.txt"), list)?;
    curator::outln!("He et al. ReDial: {n} contexts; {} ReDial movies in their item set", items.len());
    let dialogues = inspired::load_inspired(&out.join("test.jsonl"))?;
    let ids: Vec<String> = dialogues.iter().map(|d| d.dialog_id.clone()).collect();
    let n = cikm23::build_keys(&source.join("inspired/eval_cikm23/test.jsonl"), &ids, &out)?;
    curator::outln!("He et al. INSPIRED: {n} contexts");
    Ok(())
}

/// Runs one `eval` subcommand.
pub fn run(command: EvalCommand) -> anyhow::Result<()> {
    match command {
        EvalCommand::Llm { limit, rank_limit, items, parts, model, out } => {
            llm(limit, rank_limit, items, parts, model, out)
        }
        EvalCommand::Attributes { source, split, examples } => attributes(source, split, examples),
        EvalCommand::Tracking { source } => {
            let assets = Assets::from_project(None)?;
            let test_path = curator::paths::evals_dir().join("redial").join("test.jsonl");
            let test = curator::eval::load_redial(&test_path)?;
            let mut md = String::from(
                "# Dialogue tracking against the seekers' questionnaires

Command: `curator eval tracking --source ../shared/data`. Module doc of `src/eval/tracking.rs` for the rules.

",
            );
            let mut reports = vec![curator::eval::tracking::evaluate("ReDial test", &test, &assets.tracker)];
            if let Some(source) = source {
                let val = curator::eval::validation::validation_split(&source, &test_path)?;
                reports.push(curator::eval::tracking::evaluate(
                    "ReDial validation (train text)",
                    &val,
                    &assets.tracker,
                ));
            }
            for r in &reports {
                for (system, liked, seen) in &r.systems {
                    curator::outln!(
                        "{} {system}: liked accuracy {:.4} macro-F1 {:.4} ({} movies, {} dialogues); seen accuracy {:.4} macro-F1 {:.4}",
                        r.split,
                        liked.accuracy,
                        liked.macro_f1,
                        liked.movies,
                        liked.dialogues,
                        seen.accuracy,
                        seen.macro_f1
                    );
                }
                for (m, d) in &r.versus_before {
                    curator::outln!(
                        "{} tracker minus tracker without reactions, {m}: {:+.4} [{:+.4}, {:+.4}]",
                        r.split,
                        d.difference,
                        d.low,
                        d.high
                    );
                }
                md.push_str(&r.markdown());
                md.push('\n');
            }
            let out = curator::paths::evals_dir().join("results").join("tracking.md");
            curator::util::write_atomic(&out, md.as_bytes())?;
            curator::outln!("wrote {}", out.display());
            Ok(())
        }
        EvalCommand::Linking { variants: true, examples, build, split, .. } => surface(build, examples, split),
        EvalCommand::Linking { data, .. } => {
            let catalog = Catalog::load(&curator::paths::catalog_dir())?;
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
        EvalCommand::Redial(args) => run_one(&load()?, Dataset::Redial, "test", args),
        EvalCommand::Inspired { split, run } => {
            let split = if split == Split::Dev { "dev" } else { "test" };
            run_one(&load()?, Dataset::Inspired, split, run)?;
            // The figures go into evals/REPORT.md through the generator (own catalogs included).
            report()
        }
        EvalCommand::Build { source } => build(source),
        EvalCommand::Simulate { limit, sim_model, model, no_model, max_turns, recommendations } => {
            simulate(&load()?, limit, sim_model, model, no_model, max_turns, recommendations)
        }
        EvalCommand::Report => report(),
        EvalCommand::Compare { a, b, resamples, seed } => {
            use curator::eval::suite::compare;
            let (ra, rb) = (compare::read_run(&a)?, compare::read_run(&b)?);
            curator::outln!(
                "A: {} ({} {} {}, {} points)\nB: {} ({} {} {}, {} points)",
                a.display(),
                ra.dataset.id(),
                ra.split,
                ra.system,
                ra.points,
                b.display(),
                rb.dataset.id(),
                rb.split,
                rb.system,
                rb.points
            );
            for f in compare::compare(&ra, &rb, resamples, seed)? {
                curator::outln!("A − B {:<9} {}", f.name, f.difference);
            }
            Ok(())
        }
        EvalCommand::All { agent_limit, sim_limit, no_model, fresh } => {
            let runs = curator::paths::evals_dir().join("results").join("runs");
            if fresh && runs.exists() {
                std::fs::remove_dir_all(&runs).with_context(|| format!("cannot delete {}", runs.display()))?;
            }
            let loaded = load()?;
            for (dataset, split) in [(Dataset::Redial, "test"), (Dataset::Inspired, "test"), (Dataset::Inspired, "dev")]
            {
                for r in [RankerChoice::Agent, RankerChoice::Popularity] {
                    run_one(&loaded, dataset, split, RunArgs::ranker(Mode::Ranker, r, None))?;
                }
            }
            for dataset in [Dataset::Redial, Dataset::Inspired] {
                let mut args = RunArgs::ranker(Mode::Agent, RankerChoice::Agent, Some(agent_limit));
                args.no_model = no_model;
                run_one(&loaded, dataset, "test", args)?;
            }
            if sim_limit > 0 && !no_model {
                simulate(&loaded, sim_limit, None, None, no_model, curator::eval::simulate::MAX_TURNS, 10)?;
            }
            report()
        }
    }
}

/// `curator eval linking --variants`: the surface-form benchmark (`curator::eval::surface`).
fn surface(build: Option<PathBuf>, examples: bool, only: Option<Split>) -> anyhow::Result<()> {
    use curator::eval::surface;
    let shown = |split: &str| match only {
        None => true,
        Some(Split::Dev) => split == "dev",
        Some(Split::Test) => split == "test",
    };
    let dir = curator::paths::evals_dir().join("linking");
    let bench = dir.join("inspired.jsonl");
    if let Some(source) = build {
        let mut all = Vec::new();
        for split in ["dev", "test"] {
            let items = surface::read_item_table(
                &curator::paths::evals_dir().join("inspired").join(format!("{split}_items.tsv")),
            )?;
            let tsv = source.join("inspired").join("dialog_data").join(format!("{split}.tsv"));
            all.extend(surface::build_inspired(&tsv, split, &items)?);
        }
        let mut out = String::new();
        for u in &all {
            out.push_str(&serde_json::to_string(u)?);
            out.push('\n');
        }
        std::fs::create_dir_all(&dir)?;
        curator::util::write_atomic(&bench, out.as_bytes())?;
        curator::outln!("wrote {} ({} utterances)", bench.display(), all.len());
    }
    let assets = Assets::from_project(None)?;
    let utterances: Vec<surface::SurfaceUtterance> = curator::util::read_jsonl(&bench)?;
    let (labelled, _) = surface::evaluate(&utterances, &assets.tracker);
    let mut checked = utterances;
    let review = surface::apply_review(&mut checked, &dir.join("inspired_rejected.tsv"))?;
    let added = surface::add_hand_mentions(&mut checked, &dir.join("inspired_added.tsv"), &assets.catalog)?;
    let (figures, errors) = surface::evaluate(&checked, &assets.tracker);
    let line = |what: &str, split: &str, f: &surface::SpanFigures| {
        curator::outln!(
            "INSPIRED {split}, {what} ({} utterances): span precision {:.4} ({} / {} predicted; {} on titles outside the catalog left out)  recall {:.4} ({} / {} gold)  F1 {:.4}  top-1 {:.4} ({} / {})",
            f.utterances, f.precision(), f.correct, f.predicted, f.ignored, f.recall(), f.found, f.gold, f.f1(),
            f.top1_accuracy(), f.top1, f.gold
        );
    };
    for (split, f) in labelled.iter().filter(|(s, _)| shown(s)) {
        line("INSPIRED's labels", split, f);
    }
    for (split, f) in figures.iter().filter(|(s, _)| shown(s)) {
        let what = format!(
            "labels reviewed by hand (both splits: {} naming another film or a series made outside the catalog, {} naming no film removed, {added} mentions added)",
            review.outside, review.removed
        );
        line(&what, split, f);
    }
    if examples {
        for e in errors.iter().filter(|e| shown(&e.split)) {
            curator::outln!(
                "  {} {}\t{}\t{}\t{}\t{}\t{:?}",
                e.kind,
                e.split,
                e.dialog_id,
                e.utt_id,
                e.said,
                e.item,
                e.text
            );
        }
    }
    let variants = surface::read_variants(&dir.join("variants.tsv"), &assets.catalog)?;
    let outcomes = surface::evaluate_variants(&variants, &assets.tracker);
    let ok = outcomes.iter().filter(|o| o.ok).count();
    curator::outln!("hand-written variants: {ok} / {} linked as expected", outcomes.len());
    for o in outcomes.iter().filter(|o| !o.ok || examples) {
        let mark = if o.ok { "ok  " } else { "FAIL" };
        curator::outln!("  {mark} [{}] {:?}: expected {}, got {:?}", o.kind, o.text, o.expected, o.got);
    }
    Ok(())
}

/// `curator eval attributes`: attribute-linking precision and recall on an INSPIRED split.
fn attributes(source: PathBuf, split: Split, examples: bool) -> anyhow::Result<()> {
    let split = match split {
        Split::Test => "test",
        Split::Dev => "dev",
    };
    let kg = curator::knowledge::KnowledgeGraph::load(&curator::knowledge::default_dir())?;
    let linker = curator::dialogue::attributes::AttributeLinker::new(&kg);
    let path = source.join("inspired").join("dialog_data").join(format!("{split}.tsv"));
    let r = curator::eval::attributes::evaluate(&path, &linker)?;
    let line = |what: &str, p: &curator::eval::attributes::PrecisionRecall| {
        curator::outln!(
            "{what:13} precision {:.4} ({} / {} predicted)  recall {:.4} ({} / {} gold)  strict precision {:.4} \
             (+{} unannotatable)",
            p.precision(),
            p.correct,
            p.predicted,
            p.recall(),
            p.correct,
            p.gold,
            p.strict_precision(),
            p.unannotatable
        );
    };
    curator::outln!("attribute linking, INSPIRED {split} ({} utterances, {}):", r.utterances, path.display());
    line("genres", &r.genres);
    line("+cues", &r.genres_with_cues);
    line("people", &r.people);
    line("seeker genres", &r.seeker_genres);
    line("seeker people", &r.seeker_people);
    let t = &r.people_typos;
    curator::outln!(
        "  of which from misspellings: {} / {} predicted correct, +{} unannotatable",
        t.correct,
        t.predicted,
        t.unannotatable
    );
    if examples {
        for (_, text, gold, pred) in &r.examples {
            curator::outln!("  {text:?}\n    gold {gold:?}\n    got  {pred:?}");
        }
    }
    Ok(())
}

/// `curator eval llm`: the constrained-decoding and rank-level-score figures.
fn llm(
    limit: usize,
    rank_limit: usize,
    items: usize,
    parts: Vec<String>,
    model: Option<PathBuf>,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    use curator::llm_eval::{LlmEvalOptions, LlmPart};
    let mut chosen = Vec::new();
    for p in &parts {
        chosen.push(match p.as_str() {
            "ooc" => LlmPart::Ooc,
            "scoring" => LlmPart::Scoring,
            "rank" => LlmPart::Rank,
            "ttft" => LlmPart::Ttft,
            other => anyhow::bail!("unknown part {other:?}: use ooc, scoring, rank, ttft"),
        });
    }
    let opts = LlmEvalOptions {
        limit,
        rank_limit,
        items,
        parts: if chosen.is_empty() { LlmPart::ALL.to_vec() } else { chosen },
        ..LlmEvalOptions::default()
    };
    let load = || -> curator::Result<Box<dyn curator::llm::LanguageModel>> {
        super::chat::load_model(model.clone()).map_err(|e| curator::Error::Model(format!("{e:#}")))
    };
    let report = curator::llm_eval::run(&opts, &load)?;
    let json = serde_json::to_string_pretty(&report)?;
    curator::outln!("{json}");
    if let Some(path) = out {
        std::fs::write(&path, json).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}
