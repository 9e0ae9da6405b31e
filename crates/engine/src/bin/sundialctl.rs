//! `sundialctl`: Sundial's command line over the engine.
//!
//! Exit status: 0 on success, 2 on bad input (one line on stderr) or an invalid job spec
//! (its field errors on stdout).

#[path = "sundialctl/cli.rs"]
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
