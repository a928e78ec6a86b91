//! The `curator` binary: parses the command line and hands each subcommand to the library.
//! Everything testable lives in the library (`curator::…`); this file is glue.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
