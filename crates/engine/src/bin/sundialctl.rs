//! `sundialctl`: Sundial's command line over the engine.
//!
//! Exit status: 0 on success, 2 on bad input (one line on stderr) or an invalid job spec
//! (its field errors on stdout), 1 when a run or an operation failed, 3 when `daemon` finds
//! another scheduler holding the lease.

#[path = "sundialctl/cli.rs"]
mod cli;
#[path = "sundialctl/context.rs"]
mod context;
#[path = "sundialctl/daemon.rs"]
mod daemon;
#[path = "sundialctl/jobs.rs"]
mod jobs;
#[path = "sundialctl/logs.rs"]
mod logs;
#[path = "sundialctl/runs.rs"]
mod runs;
#[path = "sundialctl/status.rs"]
mod status;
#[path = "sundialctl/transfer.rs"]
mod transfer;

fn main() -> std::process::ExitCode {
    cli::main()
}
