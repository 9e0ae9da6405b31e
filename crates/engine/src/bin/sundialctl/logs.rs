//! `sundialctl logs show|follow RUN` and `sundialctl logs search JOB PATTERN`.
//!
//! `follow` reads the log file as it grows, whichever process (the daemon, the app) writes
//! it, and ends when the run has ended and its last line was printed.

use std::io::Write;
use std::time::Duration;

use clap::Subcommand;
use sundial_engine::LogStore;
use sundial_engine::domain::RunId;
use sundial_engine::logs::{JobLogSearch, LogError, LogLine, MAX_SEARCH_MATCHES, search_job_logs};
use sundial_engine::store::Store;
use tokio_util::sync::CancellationToken;

use crate::cli::Failure;
use crate::context::{Context, engine_failure, failed, find_job};

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
    /// Search every run log of a job, newest run first: each run with matches, then its
    /// matching lines as `LINE: text`. Exits 1 when nothing matched (like grep).
    Search {
        /// The job (id or name).
        job: String,
        pattern: String,
        /// Read the pattern as a regular expression (Rust regex syntax).
        #[arg(long)]
        regex: bool,
        /// Ignore case.
        #[arg(short = 'i', long = "ignore-case")]
        ignore_case: bool,
        /// Print at most this many lines in all (1 to 10000); every match is counted.
        #[arg(long, default_value_t = 1000, value_name = "N")]
        max: u32,
    },
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
        LogsCommand::Search {
            job,
            pattern,
            regex,
            ignore_case,
            max,
        } => {
            if !(1..=MAX_SEARCH_MATCHES).contains(&max) {
                return Err(Failure::FieldErrors(vec![
                    sundial_engine::domain::FieldError::new(
                        "max",
                        format!("must be between 1 and {MAX_SEARCH_MATCHES}"),
                    ),
                ]));
            }
            let search = JobLogSearch {
                pattern,
                regex,
                case_sensitive: !ignore_case,
                max_matches: max,
            };
            let engine = ctx.engine().await?;
            let result = search_job(ctx, &engine, &job, &search).await;
            engine.shutdown(false).await;
            result
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

/// Prints runs as they are found (a search over many logs takes a while), then the counts.
async fn search_job(
    ctx: &Context,
    engine: &sundial_engine::Engine,
    which: &str,
    search: &JobLogSearch,
) -> Result<String, Failure> {
    let job = find_job(engine, which).await?;
    let mut stdout = std::io::stdout();
    let mut last_run = String::new();
    let cancel = CancellationToken::new();
    let summary = search_job_logs(
        engine.store(),
        &ctx.logs(),
        job.id,
        search,
        &cancel,
        |run| {
            let mut out = String::new();
            if ctx.json {
                for m in &run.matches {
                    let line = serde_json::json!({
                        "run_id": run.run_id,
                        "run_time": run.time,
                        "status": run.status,
                        "line": m.line,
                        "time": m.time,
                        "stream": m.stream,
                        "text": m.text,
                    });
                    out.push_str(&line.to_string());
                    out.push('\n');
                }
            } else {
                if run.run_id != last_run {
                    out.push_str(&format!(
                        "run {}  {}  {}  {} matching line{}\n",
                        run.run_id,
                        run.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        format!("{:?}", run.status).to_lowercase(),
                        run.total,
                        if run.total == 1 { "" } else { "s" },
                    ));
                }
                for m in &run.matches {
                    out.push_str(&format!("  {}: {}\n", m.line, m.text));
                }
            }
            last_run.clone_from(&run.run_id);
            // A closed pipe (`| head`) ends the search.
            stdout.write_all(out.as_bytes()).is_ok()
        },
    )
    .await
    .map_err(|e| match e {
        sundial_engine::EngineError::Log(LogError::Pattern(reason)) => {
            Failure::FieldErrors(vec![sundial_engine::domain::FieldError::new(
                "pattern",
                format!("{reason} (a literal text, or with --regex a Rust regular expression)"),
            )])
        }
        e => engine_failure(e),
    })?;
    let _ = stdout.flush();
    let mut tail = if ctx.json {
        format!("{}\n", serde_json::json!({ "summary": summary }))
    } else {
        format!(
            "{} matching line{} in {} of {} runs ({} shown, {} MB searched){}\n",
            summary.total,
            if summary.total == 1 { "" } else { "s" },
            summary.runs_matched,
            summary.runs,
            summary.shown,
            summary.bytes / 1_000_000,
            if summary.unreadable > 0 {
                format!("; {} logs could not be read", summary.unreadable)
            } else {
                String::new()
            },
        )
    };
    if summary.total == 0 {
        return Err(Failure::Failed {
            out: std::mem::take(&mut tail),
            message: "no line matched".into(),
            code: 1,
        });
    }
    Ok(tail)
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
