//! `sundialctl logs show|follow RUN`.
//!
//! `follow` reads the log file as it grows, whichever process (the daemon, the app) writes
//! it, and ends when the run has ended and its last line was printed.

use std::io::Write;
use std::time::Duration;

use clap::Subcommand;
use sundial_engine::LogStore;
use sundial_engine::domain::RunId;
use sundial_engine::logs::LogLine;
use sundial_engine::store::Store;

use crate::cli::Failure;
use crate::context::{Context, failed};

#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// Print a run's log: `time stream text` per line.
    Show {
        run: String,
        /// Only the last N lines.
        #[arg(long, value_name = "N")]
        tail: Option<usize>,
    },
    /// Print a run's log and then its new lines until the run ends.
    Follow { run: String },
}

/// How often `follow` looks at a log written by another process.
const FOLLOW_POLL: Duration = Duration::from_millis(200);

fn parse_run(text: &str) -> Result<RunId, Failure> {
    LogStore::parse_run_id(text).map_err(|e| Failure::BadInput(format!("run {text:?}: {e}")))
}

fn line_text(ctx: &Context, line: &LogLine) -> String {
    if ctx.json {
        let mut s = serde_json::to_string(line).unwrap_or_default();
        s.push('\n');
        s
    } else {
        format!(
            "{} {:<7} {}\n",
            line.time,
            format!("{:?}", line.stream).to_lowercase(),
            line.text
        )
    }
}

pub async fn run(ctx: &Context, cmd: LogsCommand) -> Result<String, Failure> {
    let logs = ctx.logs();
    match cmd {
        LogsCommand::Show { run, tail } => {
            let id = parse_run(&run)?;
            let log = logs
                .open(id)
                .map_err(|e| Failure::BadInput(format!("run {run}: {e}")))?;
            let lines = match tail {
                Some(n) => log.tail(n),
                None => {
                    let count = log.line_count().map_err(|e| failed(e.to_string()))?;
                    log.read_lines(0, usize::try_from(count).unwrap_or(usize::MAX))
                }
            }
            .map_err(|e| failed(e.to_string()))?;
            Ok(lines.iter().map(|l| line_text(ctx, l)).collect())
        }
        LogsCommand::Follow { run } => {
            let id = parse_run(&run)?;
            let store = Store::open(&ctx.paths.database())
                .await
                .map_err(|e| failed(e.to_string()))?;
            let result = follow(ctx, &logs, &store, id, &run).await;
            store.close().await;
            result
        }
    }
}

async fn follow(
    ctx: &Context,
    logs: &LogStore,
    store: &Store,
    id: RunId,
    run: &str,
) -> Result<String, Failure> {
    let mut next = 0u64;
    let mut stdout = std::io::stdout();
    loop {
        // Read the status first: lines written before it ended are then all in the file.
        let status = store
            .get_run(id)
            .await
            .map_err(|e| failed(e.to_string()))?
            .map(|r| r.status);
        if let Ok(log) = logs.open(id) {
            loop {
                let lines = log
                    .read_lines(next, 1000)
                    .map_err(|e| failed(e.to_string()))?;
                if lines.is_empty() {
                    break;
                }
                next += lines.len() as u64;
                for l in &lines {
                    if stdout.write_all(line_text(ctx, l).as_bytes()).is_err() {
                        return Ok(String::new());
                    }
                }
                let _ = stdout.flush();
            }
        }
        match status {
            None => {
                return Err(Failure::BadInput(format!("there is no run {run}")));
            }
            Some(s) if s.is_terminal() => return Ok(String::new()),
            Some(_) => tokio::time::sleep(FOLLOW_POLL).await,
        }
    }
}
