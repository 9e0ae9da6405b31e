//! Command runs: a program or a script in its own process group, output captured to the log.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use chrono::SecondsFormat;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::capture::Capture;
#[cfg(target_os = "linux")]
use super::containment;
use super::group::describe_exit;
#[cfg(not(target_os = "linux"))]
use super::group::{Stopped, stop_group};
#[cfg(target_os = "linux")]
use super::spawn;
use super::{Inner, seconds};
use crate::domain::passing;
use crate::domain::{CommandSpec, Interpreter, Program, RunStatus, RunValue};
use crate::executor::{RunOutcome, RunRequest};
use crate::logs::{LogError, LogWriter, io_reason};

/// After a group is stopped, how long to wait for pipes held by processes outside it.
const DRAIN_AFTER_STOP: Duration = Duration::from_millis(500);

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
        launch,
        program,
        shown,
        working_dir,
        _script,
        output,
    } = prepared;
    #[cfg(target_os = "linux")]
    let cgroup = if inner.config.use_cgroups {
        containment::RunCgroup::create(&request.run.id.to_string())
    } else {
        None
    };
    // The kernel counts the memory a forked child shares with its parent before exec in the
    // child's peak: a peak below this one is Sundial's own, not the job's.
    let spawned_from_rss = own_resident_bytes();
    #[cfg(target_os = "linux")]
    let started = start(&launch, cgroup.as_ref());
    #[cfg(not(target_os = "linux"))]
    let started = command(&launch).spawn().map(Started::Spawned);
    let mut child = match started {
        Ok(child) => child,
        Err(e) => {
            let message = spawn_error(&program, &e);
            return failed_before_start(inner, log, message);
        }
    };
    let pgid = child.id();
    #[cfg(target_os = "linux")]
    // A cloned child was created in it; one started by `Command` joined it, or not.
    let cgroup = cgroup.filter(|c| matches!(child, Started::Cloned(_)) || c.holds_child(pgid));
    #[cfg(target_os = "linux")]
    let contained = if cgroup.is_some() {
        ", its own cgroup"
    } else {
        ""
    };
    #[cfg(not(target_os = "linux"))]
    let contained = "";
    log.note(
        clock.now(),
        &format!(
            "[sundial] started {shown} in {} (process group {pgid}{contained}, attempt {})",
            working_dir.display(),
            request.run.attempt
        ),
    );
    if let Some(note) = passed_note(request) {
        log.note(clock.now(), &note);
    }
    if let Some(o) = request.run.overrides.as_ref().filter(|o| !o.env.is_empty()) {
        let names: Vec<&str> = o.env.iter().map(|v| v.name.as_str()).collect();
        log.note(
            clock.now(),
            &format!("[sundial] run with values set for {}", names.join(", ")),
        );
    }
    log.flush();
    let (stdout, stderr) = child.take_pipes();
    let capture = Capture::start(log, clock.clone(), stdout, stderr);

    let timeout = request
        .job
        .spec
        .policies
        .timeout_secs
        .map(Duration::from_secs);
    #[cfg(target_os = "linux")]
    let tree = containment::RunTree::new(&request.run.id.to_string(), pgid, cgroup);
    #[cfg(target_os = "linux")]
    let mut supervised = supervise(inner, child, tree, capture, timeout, cancel).await;
    #[cfg(not(target_os = "linux"))]
    let mut supervised = supervise_group(inner, child, pgid, capture, timeout, cancel).await;
    if let Some((_, peak)) = &mut supervised.resources
        && !supervised.peak_from_cgroup
        && peak.is_some_and(|p| p <= inherited_bound(spawned_from_rss))
    {
        *peak = None;
    }
    let Supervised {
        ending,
        status,
        mut notes,
        log,
        left,
        survivors,
        resources,
        ..
    } = supervised;

    let exit_text = match &status {
        Ok(s) => describe_exit(*s),
        Err(e) => format!("could not wait for the process: {}", io_reason(e)),
    };
    let mut outcome = match ending {
        Ending::Cancelled => {
            RunOutcome::with_status(RunStatus::Cancelled, Some(format!("cancelled; {left}")))
        }
        Ending::TimedOut(limit) => RunOutcome::with_status(
            RunStatus::TimedOut,
            Some(format!("timed out after {}; {left}", seconds(limit))),
        ),
        Ending::Exited if status.as_ref().is_ok_and(ExitStatus::success) => RunOutcome::succeeded(),
        Ending::Exited => RunOutcome::failed(exit_text.clone()),
    };
    outcome.exit_code = status.as_ref().ok().and_then(ExitStatus::code);
    if let Some((cpu, peak)) = resources {
        outcome.cpu_ms = Some(u64::try_from(cpu.as_millis()).unwrap_or(u64::MAX));
        outcome.peak_memory_bytes = peak;
        notes.push(match peak {
            Some(peak) => format!(
                "CPU time {:.2} s, peak memory {:.1} MiB",
                cpu.as_secs_f64(),
                peak as f64 / (1024.0 * 1024.0)
            ),
            None => format!(
                "CPU time {:.2} s, peak memory not measured (smaller than Sundial's own, which the kernel counts in a child's peak; a memory cgroup would measure it)",
                cpu.as_secs_f64()
            ),
        });
    }
    notes.push(exit_text);
    if let Some(path) = &output {
        let (values, said) = read_output(path);
        outcome.outputs = values;
        notes.extend(said);
    }
    drop(output);
    if let Some(survivors) = &survivors {
        // A tree that could not be ended is never reported as a clean end.
        outcome.status = match outcome.status {
            RunStatus::Succeeded => RunStatus::Failed,
            other => other,
        };
        if !outcome
            .error
            .as_deref()
            .is_some_and(|e| e.contains(survivors))
        {
            outcome.error = Some(match outcome.error.take() {
                Some(first) => format!("{first}; {survivors}"),
                None => survivors.clone(),
            });
        }
    }
    finish_log(inner, log, &notes, &mut outcome);
    outcome
}

/// "[sundial] given by upstream run … of job …: …", for a run its upstream passed values to.
fn passed_note(request: &RunRequest) -> Option<String> {
    let find = |key: &str| {
        request
            .passed
            .iter()
            .find(|v| v.key == key)
            .map(|v| v.value.as_str())
    };
    let run = find("SUNDIAL_UPSTREAM_RUN_ID")?;
    let outputs: Vec<&str> = request
        .passed
        .iter()
        .filter_map(|v| v.key.strip_prefix(passing::OUTPUT_PREFIX))
        .collect();
    Some(format!(
        "[sundial] after run {run} of {} ({}): SUNDIAL_UPSTREAM_* set{}",
        find("SUNDIAL_UPSTREAM_JOB_NAME").unwrap_or("?"),
        find("SUNDIAL_UPSTREAM_STATUS").unwrap_or("?"),
        if outputs.is_empty() {
            String::new()
        } else {
            format!(
                ", and {} of its output{}: {}",
                outputs.len(),
                if outputs.len() == 1 { "" } else { "s" },
                outputs
                    .iter()
                    .map(|k| format!("{}{k}", passing::OUTPUT_PREFIX))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    ))
}

/// Reads the `key=value` lines a run wrote to its `SUNDIAL_OUTPUT` file (at most 64 KiB),
/// with a note for the log saying what was kept and what was not.
fn read_output(path: &std::path::Path) -> (Vec<RunValue>, Vec<String>) {
    use std::io::Read;
    let mut bytes = Vec::new();
    let read = std::fs::File::open(path).and_then(|file| {
        file.take(passing::OUTPUT_MAX_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
    });
    if let Err(e) = read {
        return (
            Vec::new(),
            vec![format!(
                "the output file {} could not be read: {}",
                path.display(),
                io_reason(&e)
            )],
        );
    }
    if bytes.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let truncated = bytes.len() > passing::OUTPUT_MAX_BYTES;
    bytes.truncate(passing::OUTPUT_MAX_BYTES);
    let parsed = passing::parse_output(&String::from_utf8_lossy(&bytes), truncated);
    let mut notes = Vec::new();
    if !parsed.values.is_empty() {
        notes.push(format!(
            "output for the jobs chained after this one: {}",
            parsed
                .values
                .iter()
                .map(|v| v.key.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    notes.extend(
        parsed
            .ignored
            .iter()
            .map(|why| format!("{}: {why}", passing::OUTPUT_ENV)),
    );
    (parsed.values, notes)
}

enum Ending {
    Exited,
    TimedOut(Duration),
    Cancelled,
}

/// How the processes of a run ended.
struct Supervised {
    ending: Ending,
    status: std::io::Result<ExitStatus>,
    notes: Vec<String>,
    log: Option<LogWriter>,
    /// For a timeout or a cancel: what was ended ("3 processes ended").
    left: String,
    /// Processes that could not be ended, in words ("1 process could not be ended, …").
    survivors: Option<String>,
    /// CPU time and peak memory of the tree, where known.
    resources: Option<(Duration, Option<u64>)>,
    /// The peak is the cgroup's own counter (not a process's rusage).
    peak_from_cgroup: bool,
}

/// This process's resident memory now (0 where the OS does not say).
fn own_resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(0)
}

/// A rusage peak up to this is indistinguishable from the copy of Sundial's own memory that
/// the child had between fork and exec (its size then, with some slack).
fn inherited_bound(spawned_from: u64) -> u64 {
    spawned_from + spawned_from / 8 + 4 * 1024 * 1024
}

/// The run's first process, started by tokio's `Command` or cloned into its cgroup.
enum Started {
    Spawned(tokio::process::Child),
    #[cfg(target_os = "linux")]
    Cloned(spawn::Cloned),
}

/// One of the process's output pipes.
type Pipe = Box<dyn tokio::io::AsyncRead + Unpin + Send>;

impl Started {
    fn id(&self) -> u32 {
        match self {
            Self::Spawned(child) => child.id().unwrap_or(0),
            #[cfg(target_os = "linux")]
            Self::Cloned(child) => child.id(),
        }
    }

    fn take_pipes(&mut self) -> (Option<Pipe>, Option<Pipe>) {
        fn boxed(pipe: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> Pipe {
            Box::new(pipe)
        }
        match self {
            Self::Spawned(child) => (
                child.stdout.take().map(boxed),
                child.stderr.take().map(boxed),
            ),
            #[cfg(target_os = "linux")]
            Self::Cloned(child) => (
                child.stdout.take().map(boxed),
                child.stderr.take().map(boxed),
            ),
        }
    }

    #[cfg(target_os = "linux")]
    async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        match self {
            Self::Spawned(child) => child.wait().await,
            Self::Cloned(child) => child.wait().await,
        }
    }
}

/// Starts the run's process: in its cgroup from the first instruction where there is one
/// (clone3 into it, or where the kernel refuses that, a write into its `cgroup.procs` between
/// fork and exec), otherwise by `Command` alone.
#[cfg(target_os = "linux")]
fn start(launch: &Launch, cgroup: Option<&containment::RunCgroup>) -> std::io::Result<Started> {
    let Some(cgroup) = cgroup else {
        return command(launch).spawn().map(Started::Spawned);
    };
    if spawn::available() {
        match spawn::clone_into(launch, cgroup.dir()) {
            Ok(child) => return Ok(Started::Cloned(child)),
            Err(spawn::CloneError::Spawn(e)) => return Err(e),
            Err(spawn::CloneError::Unsupported(e)) => {
                tracing::warn!(error = %e, "clone3 into a cgroup is refused here; runs join their cgroup between fork and exec");
            }
        }
    }
    let mut command = command(launch);
    if let Some(path) = cgroup.procs_path() {
        join_cgroup_at_start(&mut command, path);
    }
    command.spawn().map(Started::Spawned)
}

/// The `Command` that starts `launch`, in its own process group.
fn command(launch: &Launch) -> Command {
    let mut command = Command::new(&launch.program);
    command
        .args(&launch.args)
        .current_dir(&launch.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in &launch.env {
        command.env(name, value);
    }
    #[cfg(unix)]
    command.process_group(0);
    command
}

/// Writes "0" (itself) into the run's `cgroup.procs` between fork and exec, so that the run's
/// first instruction already runs in its cgroup. A failed write is found after the spawn.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn join_cgroup_at_start(command: &mut Command, path: std::ffi::CString) {
    // SAFETY: the closure only calls open, write and close (async-signal-safe) on memory
    // allocated before the fork.
    unsafe {
        command.pre_exec(move || {
            let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd >= 0 {
                libc::write(fd, b"0".as_ptr().cast(), 1);
                libc::close(fd);
            }
            Ok(())
        });
    }
}

/// Waits for the run to end (exit, timeout, cancel), then ends every process it left.
#[cfg(target_os = "linux")]
async fn supervise(
    inner: &Inner,
    mut child: Started,
    mut tree: containment::RunTree,
    mut capture: Capture,
    timeout: Option<Duration>,
    cancel: CancellationToken,
) -> Supervised {
    let grace = inner.config.kill_grace;
    let pid = child.id();
    // Waits for the exit without reaping, so the exit's rusage can be read; tokio reaps after.
    let mut exited = tokio::task::spawn_blocking(move || containment::wait_exit_usage(pid));
    let mut leader_usage = None;
    // The first look a second in: a run that is over by then is looked at once, at its end.
    let mut looks = tokio::time::interval_at(tokio::time::Instant::now() + LOOK_EVERY, LOOK_EVERY);
    let timer = sleep_for(timeout);
    tokio::pin!(timer);
    let ending = loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => break Ending::Cancelled,
            usage = &mut exited => {
                leader_usage = usage.ok().flatten();
                break Ending::Exited;
            }
            _ = &mut timer => break Ending::TimedOut(timeout.unwrap_or_default()),
            _ = looks.tick() => {
                // Remembers the run's processes, in case one later clears its environment.
                tree.look();
            }
        }
    };
    let mut notes = Vec::new();
    let mut left = String::new();
    let mut survivors = None;
    if !matches!(ending, Ending::Exited) {
        let report = tree.end(grace).await;
        left = match report.ended.len() {
            0 => "no process was left".to_string(),
            1 => "1 process ended".to_string(),
            n => format!("{n} processes ended"),
        };
        survivors = report.survivors_text();
        notes.push(report.describe(grace));
        if let Ok(done) = tokio::time::timeout(AFTER_END, &mut exited).await {
            leader_usage = done.ok().flatten();
        }
    }
    let status = match tokio::time::timeout(AFTER_END, child.wait()).await {
        Ok(status) => status,
        Err(_) => Err(std::io::Error::other("the process did not end")),
    };
    let drained = capture.drained_within(inner.config.drain_after_exit).await;
    if matches!(ending, Ending::Exited) {
        // Whatever the command left behind ends with it (a background job, a double fork).
        let report = tree.end(grace).await;
        survivors = report.survivors_text();
        if !drained {
            notes.push(format!(
                "a background process kept the output open {} after the command ended; {}",
                seconds(inner.config.drain_after_exit),
                report.describe(grace)
            ));
        } else if !report.is_empty() {
            notes.push(format!(
                "processes were still running after the command ended; {}",
                report.describe(grace)
            ));
        }
    }
    if !drained {
        capture.drained_within(DRAIN_AFTER_STOP).await;
    }
    if let Some(survivors) = &survivors {
        notes.push(format!("the run's processes did not all end: {survivors}"));
    }
    let log = capture.finish().await;
    let usage = tree.resources(leader_usage);
    Supervised {
        ending,
        status,
        notes,
        log,
        left,
        survivors,
        resources: Some((usage.cpu, Some(usage.max_rss))),
        peak_from_cgroup: tree.measures_memory(),
    }
}

/// Between looks at a running run's processes (to remember each one).
#[cfg(target_os = "linux")]
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// How long to wait for the direct child to be reaped once its tree was ended.
#[cfg(target_os = "linux")]
const AFTER_END: Duration = Duration::from_secs(2);

/// Without Linux's /proc and cgroups: the process group only (decisions/0004, 0010).
#[cfg(not(target_os = "linux"))]
async fn supervise_group(
    inner: &Inner,
    child: Started,
    pgid: u32,
    mut capture: Capture,
    timeout: Option<Duration>,
    cancel: CancellationToken,
) -> Supervised {
    let Started::Spawned(mut child) = child;
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
    Supervised {
        ending,
        status,
        notes,
        log,
        left: "process group stopped".to_string(),
        survivors: None,
        resources: None,
        peak_from_cgroup: false,
    }
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

#[cfg(not(target_os = "linux"))]
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

/// What to start: the program, its arguments, the variables set over Sundial's own
/// environment (later ones win) and the directory it starts in.
#[derive(Debug, Clone)]
pub(super) struct Launch {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(OsString, OsString)>,
    pub dir: PathBuf,
}

struct Prepared {
    launch: Launch,
    program: String,
    /// The command line as shown in the log.
    shown: String,
    working_dir: PathBuf,
    /// A script body's file, deleted when the run ends.
    _script: Option<tempfile::TempPath>,
    /// The file named by `SUNDIAL_OUTPUT`, read when the run ends, then deleted.
    output: Option<tempfile::TempPath>,
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
    let (program, mut args, script) = match &spec.program {
        Program::Exec { program, args } => (program.clone(), args.clone(), None),
        Program::Script { interpreter, body } => {
            let (program, suffix, mut args) = interpreter_command(interpreter);
            let script = write_run_file(inner, "sundial-script-", suffix, body)?;
            args.push(script.to_string_lossy().into_owned());
            (program, args, Some(script))
        }
    };
    // "Run now with…": arguments after the program's own (after the script for a script job:
    // $1… in a shell, sys.argv[1:] in Python), values after the job's own.
    let overrides = request.run.overrides.as_ref();
    if let Some(o) = overrides {
        args.extend(o.args.iter().cloned());
    }
    if program.trim().is_empty() {
        return Err("no program is set".to_string());
    }
    let shown = std::iter::once(program.as_str())
        .chain(args.iter().map(String::as_str))
        .map(shell_quote)
        .collect::<Vec<_>>()
        .join(" ");

    let mut env: Vec<(OsString, OsString)> = Vec::new();
    let mut set = |name: &str, value: &str| env.push((name.into(), value.into()));
    for var in &spec.env {
        set(&var.name, &var.value);
    }
    for var in &request.passed {
        set(&var.key, &var.value);
    }
    for var in overrides.map(|o| o.env.as_slice()).unwrap_or_default() {
        // Validated when asked for; a secret is never replaced even by a row written elsewhere.
        if !spec.env.iter().any(|v| v.secret && v.name == var.name) {
            set(&var.name, &var.value);
        }
    }
    let output = write_run_file(inner, "sundial-output-", ".env", "")?;
    let run = &request.run;
    set("SUNDIAL_JOB_ID", &request.job.id.to_string());
    set("SUNDIAL_JOB_NAME", &request.job.spec.name);
    set("SUNDIAL_RUN_ID", &run.id.to_string());
    set(
        "SUNDIAL_SCHEDULED_AT",
        &run.scheduled_for
            .to_rfc3339_opts(SecondsFormat::AutoSi, true),
    );
    set("SUNDIAL_ATTEMPT", &run.attempt.to_string());
    if let Some(path) = &run.trigger_path {
        set("SUNDIAL_TRIGGER_PATH", path);
    }
    env.push((passing::OUTPUT_ENV.into(), output.as_os_str().to_owned()));
    let launch = Launch {
        program: program.clone(),
        args,
        env,
        dir: working_dir.clone(),
    };
    Ok(Prepared {
        launch,
        program,
        shown,
        working_dir,
        _script: script,
        output: Some(output),
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

/// A file of the run's own in the script folder (a script body, the output file), deleted
/// when the returned path is dropped.
fn write_run_file(
    inner: &Inner,
    prefix: &str,
    suffix: &str,
    body: &str,
) -> Result<tempfile::TempPath, String> {
    use std::io::Write;
    let dir = inner
        .config
        .script_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    let fail = |e: std::io::Error| {
        format!(
            "cannot write the run's {} file in {}: {}",
            if prefix.contains("output") {
                "output"
            } else {
                "script"
            },
            dir.display(),
            io_reason(&e)
        )
    };
    let mut file = tempfile::Builder::new()
        .prefix(prefix)
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
        #[cfg(target_os = "linux")]
        _ if e.raw_os_error() == Some(libc::ENOEXEC) => format!(
            "cannot start {program}: not a program this system can run (a script needs a #! line naming its interpreter)"
        ),
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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    /// Starts `cat /proc/self/cgroup` in a cgroup of its own; returns how it was started and
    /// the cgroup it printed, or `None` where this process may not create cgroups.
    async fn cgroup_of_a_started_process(name: &str) -> Option<(bool, String)> {
        let cgroup = containment::RunCgroup::create(&format!("{name}-{}", std::process::id()))?;
        let launch = Launch {
            program: "cat".into(),
            args: vec!["/proc/self/cgroup".into()],
            env: vec![],
            dir: std::env::temp_dir(),
        };
        let mut child = start(&launch, Some(&cgroup)).expect("cat starts");
        let cloned = matches!(child, Started::Cloned(_));
        let (stdout, _) = child.take_pipes();
        let mut printed = String::new();
        stdout.unwrap().read_to_string(&mut printed).await.unwrap();
        assert!(child.wait().await.unwrap().success());
        let name = cgroup.dir().file_name()?.to_string_lossy().into_owned();
        let line = printed.lines().find(|l| l.starts_with("0::")).unwrap_or("");
        assert!(
            line.ends_with(&format!("/{name}")),
            "in its own cgroup: {printed}"
        );
        Some((cloned, line.to_string()))
    }

    #[tokio::test]
    async fn a_run_is_cloned_into_its_cgroup() {
        match cgroup_of_a_started_process("clone-test").await {
            Some((cloned, _)) => assert!(cloned, "clone3 is available on this kernel"),
            None => eprintln!("no writable cgroup v2 hierarchy here: skipped"),
        }
    }

    #[tokio::test]
    async fn where_clone3_is_refused_a_run_joins_its_cgroup_between_fork_and_exec() {
        spawn::refuse();
        match cgroup_of_a_started_process("fallback-test").await {
            Some((cloned, _)) => assert!(!cloned, "started by Command"),
            None => eprintln!("no writable cgroup v2 hierarchy here: skipped"),
        }
    }
}
