//! Argument handling for `sundialctl`. Each subcommand is a function from its arguments to the
//! text it prints, so the output and the exit status are decided in one place.
//!
//! The pure subcommands (`next`, `describe`, `validate`) are here; the ones that open the
//! database have a module each (`jobs`, `runs`, `logs`, `transfer`, `daemon`), over a
//! [`context::Context`].

use std::io::{Read, Write};
use std::process::ExitCode;

use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Args, Parser, Subcommand};
use sundial_engine::domain::JobSpec;
use sundial_engine::domain::validate::validate_spec;
use sundial_engine::schedule::{CronSchedule, resolve_zone};

/// Most fire times `next` prints.
const MAX_COUNT: usize = 10_000;

#[derive(Debug, Parser)]
#[command(name = "sundialctl", version, about = "Sundial from the command line")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Sundial's data folder (database, run logs); default: $SUNDIAL_DATA_DIR, else the
    /// per-user folder the desktop app uses.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// Print JSON for programs instead of text for people.
    #[arg(long, global = true)]
    json: bool,
}

// Parsed once per process: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Print the next fire times of a cron expression, one per line (RFC 3339).
    Next(NextArgs),
    /// Print a cron expression in plain words.
    Describe(DescribeArgs),
    /// Check a job spec (JSON); print each problem as `field: message`.
    Validate(ValidateArgs),
    /// List, show, add, edit, remove, enable, disable and run jobs.
    #[command(subcommand)]
    Jobs(super::jobs::JobsCommand),
    /// Run history.
    #[command(subcommand)]
    Runs(super::runs::RunsCommand),
    /// Show or follow a run's log.
    #[command(subcommand)]
    Logs(super::logs::LogsCommand),
    /// Import jobs from a job file (TOML/JSON) or a crontab.
    Import(super::transfer::ImportArgs),
    /// Export jobs as a job file, systemd units or Kubernetes CronJobs.
    Export(super::transfer::ExportArgs),
    /// Run the scheduler without a window until SIGINT/SIGTERM.
    Daemon(super::daemon::DaemonArgs),
    /// Who schedules this database, whether it is paused, how many runs are going.
    Status,
    /// Pause every schedule (runs going are not touched); the scheduler applies it at once.
    Pause,
    /// Resume every schedule from now.
    Resume,
}

#[derive(Debug, Args)]
struct NextArgs {
    /// A cron expression: 5 fields, 6 with seconds first, or @hourly..@yearly.
    expr: String,
    /// IANA time zone the expression runs in (default: the system's).
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Print fire times strictly after this RFC 3339 instant (default: now).
    #[arg(long, value_name = "RFC3339")]
    after: Option<String>,
    /// How many fire times to print (1 to 10000).
    #[arg(long, value_name = "N", default_value_t = 5)]
    count: usize,
}

#[derive(Debug, Args)]
struct DescribeArgs {
    /// A cron expression.
    expr: String,
}

#[derive(Debug, Args)]
struct ValidateArgs {
    /// Path of a job spec in JSON, or `-` for standard input.
    file: String,
}

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// Bad input: one line for stderr (exit 2).
    BadInput(String),
    /// The job spec is invalid: `field: message` lines for stdout (exit 2).
    Invalid(String),
    /// Field errors of a job (exit 2): `field: message` lines, or JSON with --json.
    FieldErrors(Vec<sundial_engine::domain::FieldError>),
    /// Problems of a file, each with its position (exit 2): one line per problem on stdout
    /// (JSON with --json) and a summary line on stderr.
    Problems {
        source: String,
        problems: Vec<sundial_engine::files::ImportProblem>,
    },
    /// The command ran but did not succeed (a failed run, an I/O error): stdout text, one
    /// stderr line, and the exit status.
    Failed {
        out: String,
        message: String,
        code: u8,
    },
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => return fail(&usage_line(&e)),
    };
    let json = cli.json;
    let ctx = super::context::Context::new(cli.data_dir, cli.json);
    let result = match cli.command {
        Command::Next(args) => next(&args, Utc::now()),
        Command::Describe(args) => describe(&args),
        Command::Validate(args) => validate(&args, Utc::now()),
        Command::Jobs(cmd) => ctx.block_on(super::jobs::run(&ctx, cmd)),
        Command::Runs(cmd) => ctx.block_on(super::runs::run(&ctx, cmd)),
        Command::Logs(cmd) => ctx.block_on(super::logs::run(&ctx, cmd)),
        Command::Import(args) => ctx.block_on(super::transfer::import(&ctx, args)),
        Command::Export(args) => ctx.block_on(super::transfer::export(&ctx, args)),
        Command::Daemon(args) => ctx.block_on(super::daemon::run(&ctx, args)),
        Command::Status => ctx.block_on(super::status::status(&ctx)),
        Command::Pause => ctx.block_on(super::status::set_paused(&ctx, true)),
        Command::Resume => ctx.block_on(super::status::set_paused(&ctx, false)),
    };
    match result {
        Ok(out) => {
            print_out(&out);
            ExitCode::SUCCESS
        }
        Err(Failure::Invalid(out)) => {
            print_out(&out);
            ExitCode::from(2)
        }
        Err(Failure::BadInput(message)) => fail(&message),
        Err(Failure::FieldErrors(errors)) => {
            if json {
                print_out(&format!(
                    "{}\n",
                    serde_json::json!({ "field_errors": errors })
                ));
            } else {
                print_out(
                    &errors
                        .iter()
                        .map(|e| format!("{}: {}\n", e.field, one_line(&e.message)))
                        .collect::<String>(),
                );
            }
            ExitCode::from(2)
        }
        Err(Failure::Problems { source, problems }) => {
            if json {
                print_out(&format!(
                    "{}\n",
                    serde_json::json!({ "source": source, "problems": problems })
                ));
            } else {
                print_out(
                    &problems
                        .iter()
                        .map(|p| format!("{source}: {}\n", one_line(&p.to_string())))
                        .collect::<String>(),
                );
            }
            eprintln!(
                "sundialctl: {source:?} has {} problem(s); nothing was changed",
                problems.len()
            );
            ExitCode::from(2)
        }
        Err(Failure::Failed { out, message, code }) => {
            print_out(&out);
            eprintln!("sundialctl: {}", one_line(&message));
            ExitCode::from(code)
        }
    }
}

/// Writes to stdout; a closed pipe (`sundialctl next … | head -1`) is not an error.
pub fn print_out(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn fail(message: &str) -> ExitCode {
    eprintln!("sundialctl: {}", one_line(message));
    ExitCode::from(2)
}

/// The message with line breaks turned into spaces (quoted input keeps its own spacing).
pub fn one_line(message: &str) -> String {
    message.trim().replace(['\r', '\n'], " ")
}

/// Clap's error message in one line, without its `error: ` prefix and usage block.
fn usage_line(e: &clap::Error) -> String {
    if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return "a command is required: next, describe or validate, or jobs, runs, logs, import, export, daemon (see sundialctl --help)".into();
    }
    let rendered = e.render().to_string();
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    format!("{message} (see sundialctl --help)")
}

fn next(args: &NextArgs, now: DateTime<Utc>) -> Result<String, Failure> {
    if args.count == 0 || args.count > MAX_COUNT {
        return Err(Failure::BadInput(format!(
            "--count {}: must be from 1 to {MAX_COUNT}",
            args.count
        )));
    }
    let cron = parse_expr(&args.expr)?;
    let zone =
        resolve_zone(args.tz.as_deref()).map_err(|e| Failure::BadInput(format!("--tz: {e}")))?;
    let after = match &args.after {
        Some(text) => DateTime::parse_from_rfc3339(text.trim())
            .map_err(|e| {
                Failure::BadInput(format!(
                    "--after {text:?}: is not an RFC 3339 date-time such as 2021-03-27T00:00:00+02:00 ({e})"
                ))
            })?
            .with_timezone(&Utc),
        None => now,
    };
    let mut out = String::new();
    let mut cursor = after;
    for _ in 0..args.count {
        let Some(at) = cron.next_after(zone, cursor) else {
            break;
        };
        out.push_str(
            &at.with_timezone(&zone)
                .to_rfc3339_opts(SecondsFormat::Secs, false),
        );
        out.push('\n');
        cursor = at;
    }
    if out.is_empty() {
        return Err(Failure::BadInput(format!(
            "expression {:?}: never fires after {}: no date matches it (such as February 31st)",
            args.expr,
            after
                .with_timezone(&zone)
                .to_rfc3339_opts(SecondsFormat::Secs, false)
        )));
    }
    Ok(out)
}

fn describe(args: &DescribeArgs) -> Result<String, Failure> {
    let cron = parse_expr(&args.expr)?;
    Ok(format!("{}\n", cron.describe()))
}

fn parse_expr(expr: &str) -> Result<CronSchedule, Failure> {
    CronSchedule::parse(expr).map_err(|e| Failure::BadInput(format!("expression {expr:?}: {e}")))
}

fn validate(args: &ValidateArgs, now: DateTime<Utc>) -> Result<String, Failure> {
    let (source, text) = if args.file == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::BadInput(format!("cannot read standard input: {e}")))?;
        ("standard input".to_string(), text)
    } else {
        let text = std::fs::read_to_string(&args.file)
            .map_err(|e| Failure::BadInput(format!("cannot read {:?}: {e}", args.file)))?;
        (format!("{:?}", args.file), text)
    };
    let spec: JobSpec = serde_json::from_str(&text)
        .map_err(|e| Failure::BadInput(format!("{source} is not a job spec: {e}")))?;
    match validate_spec(&spec, now, None) {
        Ok(()) => Ok("ok\n".to_string()),
        Err(errors) => Err(Failure::Invalid(
            errors
                .0
                .iter()
                .map(|e| format!("{}: {}\n", e.field, one_line(&e.message)))
                .collect(),
        )),
    }
}
