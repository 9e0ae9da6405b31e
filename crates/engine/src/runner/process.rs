//! Command runs: a program or a script in its own process group, output captured to the log.

use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use chrono::SecondsFormat;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::capture::Capture;
use super::group::{Stopped, describe_exit, stop_group};
use super::{Inner, seconds};
use crate::domain::{CommandSpec, Interpreter, Program, RunStatus};
use crate::executor::{RunOutcome, RunRequest};
use crate::logs::{LogError, LogWriter, io_reason};

/// After a group is stopped, how long to wait for pipes held by processes outside it.
const DRAIN_AFTER_STOP: Duration = Duration::from_millis(500);

enum Ending {
    Exited,
    TimedOut(Duration),
    Cancelled,
}

pub(super) async fn run_command(
    inner: &Inner,
    request: &RunRequest,
    spec: &CommandSpec,
    mut log: LogWriter,
    cancel: CancellationToken,
) -> RunOutcome {
    let clock = &inner.clock;
    let prepared = match prepare(inner, request, spec) {
        Ok(p) => p,
        Err(message) => return failed_before_start(inner, log, message),
    };
    let Prepared {
        mut command,
        program,
        shown,
        working_dir,
        _script,
    } = prepared;
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            let message = spawn_error(&program, &e);
            return failed_before_start(inner, log, message);
        }
    };
    let pgid = child.id().unwrap_or(0);
    log.note(
        clock.now(),
        &format!(
            "[sundial] started {shown} in {} (process group {pgid}, attempt {})",
            working_dir.display(),
            request.run.attempt
        ),
    );
    log.flush();
    let mut capture = Capture::start(log, clock.clone(), child.stdout.take(), child.stderr.take());

    let timeout = request
        .job
        .spec
        .policies
        .timeout_secs
        .map(Duration::from_secs);
    let grace = inner.config.kill_grace;
    let ending = tokio::select! {
        biased;
        _ = cancel.cancelled() => Ending::Cancelled,
        _ = child.wait() => Ending::Exited,
        _ = sleep_for(timeout) => Ending::TimedOut(timeout.unwrap_or_default()),
    };
    let mut notes = Vec::new();
    if !matches!(ending, Ending::Exited) {
        let stopped = stop_group(&mut child, pgid, grace).await;
        notes.push(stop_note(stopped, grace));
    }
    let status = child.wait().await;
    if !capture.drained_within(inner.config.drain_after_exit).await
        && matches!(ending, Ending::Exited)
    {
        let stopped = stop_group(&mut child, pgid, grace).await;
        notes.push(format!(
            "a background process kept the output open {} after the command ended; {}",
            seconds(inner.config.drain_after_exit),
            stop_note(stopped, grace)
        ));
        capture.drained_within(DRAIN_AFTER_STOP).await;
    }
    let log = capture.finish().await;

    let exit_text = match &status {
        Ok(s) => describe_exit(*s),
        Err(e) => format!("could not wait for the process: {}", io_reason(e)),
    };
    let mut outcome = match ending {
        Ending::Cancelled => RunOutcome::with_status(
            RunStatus::Cancelled,
            Some("cancelled; process group stopped".into()),
        ),
        Ending::TimedOut(limit) => RunOutcome::with_status(
            RunStatus::TimedOut,
            Some(format!(
                "timed out after {}; process group stopped",
                seconds(limit)
            )),
        ),
        Ending::Exited if status.as_ref().is_ok_and(ExitStatus::success) => RunOutcome::succeeded(),
        Ending::Exited => RunOutcome::failed(exit_text.clone()),
    };
    outcome.exit_code = status.as_ref().ok().and_then(ExitStatus::code);
    notes.push(exit_text);
    finish_log(inner, log, &notes, &mut outcome);
    outcome
}

/// Writes the closing notes, ends the log and puts its size (or its failure) in the outcome.
pub(super) fn finish_log(
    inner: &Inner,
    log: Option<LogWriter>,
    notes: &[String],
    outcome: &mut RunOutcome,
) {
    let Some(mut log) = log else {
        outcome.status = RunStatus::Failed;
        outcome.error = Some("the run log writer stopped unexpectedly".into());
        return;
    };
    let now = inner.clock.now();
    for note in notes {
        log.note(now, &format!("[sundial] {note}"));
    }
    let written = log.stats();
    let result = log.finish(now);
    let stats = result.as_ref().map_or(written, |s| *s);
    outcome.log_bytes = stats.bytes;
    outcome.log_lines = stats.lines;
    if let Err(e) = result {
        fail_for_log(outcome, &e);
    }
}

fn fail_for_log(outcome: &mut RunOutcome, e: &LogError) {
    outcome.error = Some(match (outcome.status, outcome.error.take()) {
        (RunStatus::Succeeded, _) | (_, None) => e.to_string(),
        (_, Some(first)) => format!("{first}; {e}"),
    });
    if outcome.status == RunStatus::Succeeded {
        outcome.status = RunStatus::Failed;
    }
}

pub(super) fn failed_before_start(inner: &Inner, log: LogWriter, message: String) -> RunOutcome {
    let mut outcome = RunOutcome::failed(message.clone());
    finish_log(inner, Some(log), &[message], &mut outcome);
    outcome
}

fn stop_note(stopped: Stopped, grace: Duration) -> String {
    match stopped {
        Stopped::ByTerm => "the process group was stopped with SIGTERM".to_string(),
        Stopped::ByKill => format!(
            "the process group was killed with SIGKILL after a {} grace period",
            seconds(grace)
        ),
    }
}

async fn sleep_for(limit: Option<Duration>) {
    match limit {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

struct Prepared {
    command: Command,
    program: String,
    /// The command line as shown in the log.
    shown: String,
    working_dir: PathBuf,
    /// A script body's file, deleted when the run ends.
    _script: Option<tempfile::TempPath>,
}

fn prepare(inner: &Inner, request: &RunRequest, spec: &CommandSpec) -> Result<Prepared, String> {
    let working_dir = match &spec.working_dir {
        Some(dir) if !dir.trim().is_empty() => PathBuf::from(dir),
        _ => std::env::home_dir().ok_or_else(|| {
            "no working directory is set and the home directory is unknown".to_string()
        })?,
    };
    if !working_dir.is_dir() {
        return Err(if working_dir.exists() {
            format!(
                "the working directory {} is not a directory",
                working_dir.display()
            )
        } else {
            format!(
                "the working directory {} does not exist",
                working_dir.display()
            )
        });
    }
    let (program, args, script) = match &spec.program {
        Program::Exec { program, args } => (program.clone(), args.clone(), None),
        Program::Script { interpreter, body } => {
            let (program, suffix, mut args) = interpreter_command(interpreter);
            let script = write_script(inner, body, suffix)?;
            args.push(script.to_string_lossy().into_owned());
            (program, args, Some(script))
        }
    };
    if program.trim().is_empty() {
        return Err("no program is set".to_string());
    }
    let shown = std::iter::once(program.as_str())
        .chain(args.iter().map(String::as_str))
        .map(shell_quote)
        .collect::<Vec<_>>()
        .join(" ");

    let mut command = Command::new(&program);
    command
        .args(&args)
        .current_dir(&working_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for var in &spec.env {
        command.env(&var.name, &var.value);
    }
    let run = &request.run;
    command
        .env("SUNDIAL_JOB_ID", request.job.id.to_string())
        .env("SUNDIAL_JOB_NAME", &request.job.spec.name)
        .env("SUNDIAL_RUN_ID", run.id.to_string())
        .env(
            "SUNDIAL_SCHEDULED_AT",
            run.scheduled_for
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        )
        .env("SUNDIAL_ATTEMPT", run.attempt.to_string());
    #[cfg(unix)]
    command.process_group(0);
    Ok(Prepared {
        command,
        program,
        shown,
        working_dir,
        _script: script,
    })
}

/// Program, script file suffix and leading arguments for an interpreter.
fn interpreter_command(interpreter: &Interpreter) -> (String, &'static str, Vec<String>) {
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match interpreter {
        Interpreter::Sh => ("sh".into(), ".sh", vec![]),
        Interpreter::Bash => ("bash".into(), ".sh", vec![]),
        Interpreter::Python if cfg!(windows) => ("python".into(), ".py", vec![]),
        Interpreter::Python => ("python3".into(), ".py", vec![]),
        Interpreter::Node => ("node".into(), ".js", vec![]),
        Interpreter::Pwsh => (
            "pwsh".into(),
            ".ps1",
            owned(&["-NoProfile", "-NonInteractive", "-File"]),
        ),
        Interpreter::Cmd => ("cmd".into(), ".cmd", owned(&["/D", "/C"])),
        Interpreter::Custom(program) => (program.clone(), "", vec![]),
    }
}

fn write_script(inner: &Inner, body: &str, suffix: &str) -> Result<tempfile::TempPath, String> {
    use std::io::Write;
    let dir = inner
        .config
        .script_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    let fail = |e: std::io::Error| {
        format!(
            "cannot write the script file in {}: {}",
            dir.display(),
            io_reason(&e)
        )
    };
    let mut file = tempfile::Builder::new()
        .prefix("sundial-script-")
        .suffix(suffix)
        .tempfile_in(&dir)
        .map_err(fail)?;
    file.write_all(body.as_bytes()).map_err(fail)?;
    file.flush().map_err(fail)?;
    Ok(file.into_temp_path())
}

fn spawn_error(program: &str, e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => format!("cannot start {program}: program not found"),
        std::io::ErrorKind::PermissionDenied => {
            format!("cannot start {program}: permission denied (is it an executable file?)")
        }
        _ => format!("cannot start {program}: {}", io_reason(e)),
    }
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}
