//! `sundialctl jobs …`: list, show, add, edit, rm, enable, disable, run.

use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Args, Subcommand};
use serde::Serialize;
use sundial_engine::domain::{
    CommandSpec, Conditions, EnvOverride, FieldError, Interpreter, Job, JobKind, JobSpec, Program,
    Run, RunOverrides, Trigger,
};
use sundial_engine::files::jobfile::{self, FileFormat, ImportError, ImportOptions};
use sundial_engine::schedule::{Schedule, describe_trigger};
use sundial_engine::{Engine, EngineEvent};

use crate::cli::Failure;
use crate::context::{Context, engine_failure, failed, find_job};

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Every job with its trigger and next fire time.
    List,
    /// One job in full (secret values masked).
    Show {
        job: String,
    },
    /// Add jobs from a job file, or one from flags (name, command, cron).
    Add(AddArgs),
    /// Change a job from a job file holding one job, or from flags.
    Edit(EditArgs),
    /// Delete a job and its history.
    Rm {
        job: String,
    },
    Enable {
        job: String,
    },
    Disable {
        job: String,
    },
    /// Run a job now, in this process, and wait for it to end (exit 1 if it did not succeed).
    Run {
        job: String,
        /// Set an environment value for this run only (NAME=value; repeatable). Command and
        /// script jobs; secrets are changed with `jobs edit`, not for one run.
        #[arg(long = "env", value_name = "NAME=VALUE")]
        env: Vec<String>,
        /// Append an argument for this run only (repeatable; after the script for a script
        /// job). Use --arg=-x for one starting with a dash.
        #[arg(long = "arg", value_name = "ARG", allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// A job file (TOML or JSON, see docs/JOB_FILES.md).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["name", "command", "cron"])]
    file: Option<String>,
    #[command(flatten)]
    fields: JobFlags,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// The job: its id or its name.
    job: String,
    /// A job file holding exactly one job: the job's new definition.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["name", "command", "cron"])]
    file: Option<String>,
    #[command(flatten)]
    fields: JobFlags,
}

#[derive(Debug, Args)]
pub struct JobFlags {
    #[arg(long)]
    name: Option<String>,
    /// A shell command line (run with sh -c).
    #[arg(long)]
    command: Option<String>,
    /// A cron expression; without it (or --at-start, --on-wake, --file-arrives) the job is
    /// manual.
    #[arg(long, conflicts_with_all = ["at_start", "on_wake", "file_arrives"])]
    cron: Option<String>,
    /// Run when Sundial's scheduler starts (login, daemon start), this many seconds later.
    #[arg(long, value_name = "DELAY_SECS", num_args = 0..=1, default_missing_value = "0", conflicts_with_all = ["on_wake", "file_arrives"])]
    at_start: Option<u64>,
    /// Run when the computer wakes from sleep, this many seconds later.
    #[arg(long, value_name = "DELAY_SECS", num_args = 0..=1, default_missing_value = "0", conflicts_with = "file_arrives")]
    on_wake: Option<u64>,
    /// Run once per new or changed file in this folder (its path in $SUNDIAL_TRIGGER_PATH).
    #[arg(long, value_name = "DIR")]
    file_arrives: Option<String>,
    /// The file name pattern of --file-arrives (default: *, every file not starting with a dot).
    #[arg(long, value_name = "PATTERN", requires = "file_arrives")]
    glob: Option<String>,
    /// Seconds a file must stay unchanged before it is handled (default 5; 1 to 3600).
    #[arg(long, value_name = "SECS", requires = "file_arrives")]
    settle: Option<u64>,
    /// IANA time zone of the cron expression (default: the system's).
    #[arg(long, value_name = "ZONE", requires = "cron")]
    tz: Option<String>,
    #[arg(long)]
    description: Option<String>,
    /// Create the job disabled.
    #[arg(long)]
    disabled: bool,
    /// HTTP jobs (edit): a PEM file of CA certificates trusted for this job besides the
    /// system's trust store; "" removes it.
    #[arg(long, value_name = "PATH", conflicts_with = "command")]
    ca_bundle: Option<String>,
    #[command(flatten)]
    conditions: ConditionFlags,
}

/// A job's conditions (decisions/0019): each flag changes only what it names.
#[derive(Debug, Args)]
pub struct ConditionFlags {
    /// Start only on AC power: a firing on battery waits (see --max-wait). --only-on-ac=false
    /// turns it off.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    only_on_ac: Option<bool>,
    /// Start only while the network is up (NetworkManager's view, else a link up).
    /// --only-online=false turns it off.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    only_online: Option<bool>,
    /// Seconds a firing waits for its conditions (default 3600; 60 to 604800).
    #[arg(long, value_name = "SECS")]
    max_wait: Option<u64>,
    /// What a firing does when its conditions were not met within --max-wait (default skip).
    #[arg(long, value_name = "run|skip", value_parser = ["run", "skip"])]
    on_timeout: Option<String>,
    /// Start each firing after a random delay of up to this many seconds (0 to 86400).
    #[arg(long, value_name = "SECS")]
    random_delay: Option<u64>,
    /// Remove every condition and the random delay.
    #[arg(long, conflicts_with_all = ["only_on_ac", "only_online", "max_wait", "on_timeout", "random_delay"])]
    no_conditions: bool,
}

impl ConditionFlags {
    fn given(&self) -> bool {
        self.only_on_ac.is_some()
            || self.only_online.is_some()
            || self.max_wait.is_some()
            || self.on_timeout.is_some()
            || self.random_delay.is_some()
            || self.no_conditions
    }

    /// Applies the flags given to `conditions` (validation tells a bad value by its field).
    fn apply(&self, conditions: &mut Conditions) {
        if self.no_conditions {
            *conditions = Conditions::default();
        }
        if let Some(on) = self.only_on_ac {
            conditions.ac_power = on;
        }
        if let Some(on) = self.only_online {
            conditions.network = on;
        }
        if let Some(secs) = self.max_wait {
            conditions.max_wait_secs = secs;
        }
        if let Some(what) = &self.on_timeout {
            conditions.on_timeout = what.parse().unwrap_or_default();
        }
        if let Some(secs) = self.random_delay {
            conditions.random_delay_secs = secs;
        }
    }
}

#[derive(Serialize)]
struct JobView {
    #[serde(flatten)]
    job: Job,
    next_fire: Option<DateTime<Utc>>,
}

fn fmt_time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "-".into(),
        |t| t.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}

/// When a job fires next, computed from its trigger (the passive engine does not schedule).
fn next_fire(job: &Job, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if !job.spec.enabled {
        return None;
    }
    Schedule::from_trigger(&job.spec.trigger, job.created_at)
        .ok()?
        .next_after(now)
}

fn view(job: &Job, now: DateTime<Utc>) -> JobView {
    JobView {
        job: job.masked(),
        next_fire: next_fire(job, now),
    }
}

pub async fn run(ctx: &Context, cmd: JobsCommand) -> Result<String, Failure> {
    let engine = ctx.engine().await?;
    let result = dispatch(ctx, &engine, cmd).await;
    engine.shutdown(false).await;
    result
}

async fn dispatch(ctx: &Context, engine: &Engine, cmd: JobsCommand) -> Result<String, Failure> {
    let now = engine.now();
    match cmd {
        JobsCommand::List => {
            let jobs = engine.list_jobs().await.map_err(engine_failure)?;
            let views: Vec<JobView> = jobs.iter().map(|j| view(j, now)).collect();
            Ok(ctx.output(&views, || {
                if views.is_empty() {
                    return "no jobs\n".into();
                }
                let mut out = format!(
                    "{:<26}  {:<30}  {:<8}  {:<20}  {}\n",
                    "ID", "NAME", "ENABLED", "NEXT", "TRIGGER"
                );
                for v in &views {
                    out.push_str(&format!(
                        "{:<26}  {:<30}  {:<8}  {:<20}  {}\n",
                        v.job.id,
                        v.job.spec.name,
                        if v.job.spec.enabled { "yes" } else { "no" },
                        fmt_time(v.next_fire),
                        describe_trigger(&v.job.spec.trigger, None)
                    ));
                }
                out
            }))
        }
        JobsCommand::Show { job } => {
            let job = find_job(engine, &job).await?;
            let v = view(&job, now);
            Ok(ctx.output(&v, || {
                let file = jobfile::export_jobs(
                    std::slice::from_ref(&job),
                    FileFormat::Toml,
                    Default::default(),
                );
                format!(
                    "id:        {}\nname:      {}\nrevision:  {}\nenabled:   {}\ntrigger:   {}\nconditions: {}\nnext fire: {}\ncreated:   {}\nupdated:   {}\n\n{}",
                    job.id,
                    job.spec.name,
                    job.revision,
                    job.spec.enabled,
                    describe_trigger(&job.spec.trigger, None),
                    job.spec.policies.conditions.describe(),
                    fmt_time(v.next_fire),
                    fmt_time(Some(job.created_at)),
                    fmt_time(Some(job.updated_at)),
                    file
                )
            }))
        }
        JobsCommand::Add(args) => {
            if let Some(path) = args.file {
                let parsed = read_job_file(&path)?;
                let report = jobfile::import_jobs(engine, &parsed, ImportOptions::default())
                    .await
                    .map_err(import_failure)?;
                return Ok(ctx.output(&report, || {
                    report
                        .created
                        .iter()
                        .map(|j| format!("added {} “{}”\n", j.id, j.name))
                        .collect()
                }));
            }
            let f = args.fields;
            let (Some(name), Some(command)) = (f.name, f.command) else {
                return Err(Failure::BadInput(
                    "jobs add needs --file PATH, or --name and --command (and --cron for a schedule)".into(),
                ));
            };
            let mut spec = JobSpec {
                name,
                description: f.description.unwrap_or_default(),
                tags: Vec::new(),
                enabled: !f.disabled,
                kind: shell_kind(command),
                trigger: flag_trigger(
                    f.cron,
                    f.tz,
                    f.at_start,
                    f.on_wake,
                    file_flags(f.file_arrives, f.glob, f.settle),
                )
                .unwrap_or(Trigger::Manual),
                policies: Default::default(),
            };
            f.conditions.apply(&mut spec.policies.conditions);
            let job = engine.create_job(spec).await.map_err(engine_failure)?;
            Ok(ctx.output(&view(&job, now), || {
                format!("added {} “{}”\n", job.id, job.spec.name)
            }))
        }
        JobsCommand::Edit(args) => {
            let job = find_job(engine, &args.job).await?;
            let spec = match args.file {
                Some(path) => {
                    let parsed = read_job_file(&path)?;
                    if parsed.file.jobs.len() != 1 {
                        return Err(Failure::BadInput(format!(
                            "{path:?}: holds {} jobs; jobs edit takes a file with exactly one",
                            parsed.file.jobs.len()
                        )));
                    }
                    let mut spec = parsed.file.jobs[0].spec();
                    sundial_engine::domain::secrets::keep_masked_secrets(
                        &mut spec,
                        Some(&job.spec),
                    )
                    .map_err(|e| Failure::FieldErrors(e.0))?;
                    spec
                }
                None => {
                    let f = args.fields;
                    let mut spec = job.spec.clone();
                    if f.name.is_none()
                        && f.command.is_none()
                        && f.cron.is_none()
                        && f.at_start.is_none()
                        && f.on_wake.is_none()
                        && f.file_arrives.is_none()
                        && f.description.is_none()
                        && f.ca_bundle.is_none()
                        && !f.conditions.given()
                    {
                        return Err(Failure::BadInput(
                            "jobs edit needs --file PATH or at least one of --name, --command, --cron, --at-start, --on-wake, --file-arrives, --description, --ca-bundle, or a condition (--only-on-ac, --only-online, --max-wait, --on-timeout, --random-delay, --no-conditions)".into(),
                        ));
                    }
                    f.conditions.apply(&mut spec.policies.conditions);
                    if let Some(path) = f.ca_bundle {
                        let JobKind::Http(http) = &mut spec.kind else {
                            return Err(Failure::BadInput(format!(
                                "--ca-bundle is for HTTP jobs; “{}” runs a command",
                                spec.name
                            )));
                        };
                        http.ca_bundle = Some(path).filter(|p| !p.trim().is_empty());
                    }
                    if let Some(name) = f.name {
                        spec.name = name;
                    }
                    if let Some(command) = f.command {
                        spec.kind = shell_kind(command);
                    }
                    if let Some(trigger) = flag_trigger(
                        f.cron,
                        f.tz,
                        f.at_start,
                        f.on_wake,
                        file_flags(f.file_arrives, f.glob, f.settle),
                    ) {
                        spec.trigger = trigger;
                    }
                    if let Some(d) = f.description {
                        spec.description = d;
                    }
                    spec
                }
            };
            let job = engine
                .update_job(job.id, spec, job.revision)
                .await
                .map_err(engine_failure)?;
            Ok(ctx.output(&view(&job, now), || {
                format!(
                    "updated {} “{}” (revision {})\n",
                    job.id, job.spec.name, job.revision
                )
            }))
        }
        JobsCommand::Rm { job } => {
            let job = find_job(engine, &job).await?;
            engine.delete_job(job.id).await.map_err(engine_failure)?;
            Ok(ctx.output(
                &serde_json::json!({"deleted": job.id, "name": job.spec.name}),
                || format!("deleted {} “{}”\n", job.id, job.spec.name),
            ))
        }
        JobsCommand::Enable { job } => set_enabled(ctx, engine, &job, true, now).await,
        JobsCommand::Disable { job } => set_enabled(ctx, engine, &job, false, now).await,
        JobsCommand::Run { job, env, args } => {
            let mut overrides = RunOverrides {
                env: Vec::with_capacity(env.len()),
                args,
            };
            for (i, pair) in env.iter().enumerate() {
                let Some((name, value)) = pair.split_once('=') else {
                    return Err(Failure::FieldErrors(vec![FieldError::new(
                        format!("env[{i}]"),
                        format!("{pair:?} is not NAME=value (--env LEVEL=debug)"),
                    )]));
                };
                overrides.env.push(EnvOverride::new(name, value));
            }
            let job = find_job(engine, &job).await?;
            let mut events = engine.subscribe();
            // Handlers go in before the run starts: Ctrl-C or SIGTERM cancels the run (its
            // whole tree ends) and it is recorded cancelled, never left running.
            let mut stop = StopSignals::install()?;
            let run = engine
                .run_now_with(job.id, overrides)
                .await
                .map_err(engine_failure)?;
            let id = run.id;
            let mut stopped_by = None;
            let run = tokio::select! {
                ended = wait_for_run(engine, &mut events, run.clone()) => ended?,
                signal = stop.next() => {
                    stopped_by = Some(signal);
                    eprintln!("sundialctl: {signal}: cancelling run {id}");
                    engine.cancel_run(id).await.map_err(engine_failure)?;
                    wait_for_run(engine, &mut events, run).await?
                }
            };
            let out = ctx.output(&run, || {
                format!(
                    "run {} of “{}”{}: {}{}{}\nlog: sundialctl logs show {}\n",
                    run.id,
                    job.spec.name,
                    run.overrides
                        .as_ref()
                        .map(|o| format!(" {}", o.summary()))
                        .unwrap_or_default(),
                    run.status.as_str(),
                    run.exit_code
                        .map(|c| format!(" (exit code {c})"))
                        .unwrap_or_default(),
                    run.error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default(),
                    run.id
                )
            });
            if let Some(signal) = stopped_by {
                Err(Failure::Failed {
                    out,
                    message: format!("the run ended {} ({signal})", run.status.as_str()),
                    code: signal.exit_code(),
                })
            } else if run.status == sundial_engine::domain::RunStatus::Succeeded {
                Ok(out)
            } else {
                Err(Failure::Failed {
                    out,
                    message: format!("the run ended {}", run.status.as_str()),
                    code: 1,
                })
            }
        }
    }
}

async fn set_enabled(
    ctx: &Context,
    engine: &Engine,
    which: &str,
    enabled: bool,
    now: DateTime<Utc>,
) -> Result<String, Failure> {
    let job = find_job(engine, which).await?;
    let job = engine
        .set_enabled(job.id, enabled)
        .await
        .map_err(engine_failure)?;
    Ok(ctx.output(&view(&job, now), || {
        format!(
            "{} {} “{}”\n",
            if enabled { "enabled" } else { "disabled" },
            job.id,
            job.spec.name
        )
    }))
}

/// SIGINT (Ctrl-C) and SIGTERM while `jobs run` waits.
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

#[derive(Debug, Clone, Copy)]
enum StopSignal {
    Interrupt,
    Terminate,
}

impl std::fmt::Display for StopSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopSignal::Interrupt => "interrupted (SIGINT)",
            StopSignal::Terminate => "terminated (SIGTERM)",
        })
    }
}

impl StopSignal {
    /// The shell's convention: 128 + the signal's number.
    fn exit_code(self) -> u8 {
        match self {
            StopSignal::Interrupt => 130,
            StopSignal::Terminate => 143,
        }
    }
}

impl StopSignals {
    #[cfg(not(unix))]
    fn install() -> Result<Self, Failure> {
        Ok(Self {})
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> StopSignal {
        let _ = tokio::signal::ctrl_c().await;
        StopSignal::Interrupt
    }

    #[cfg(unix)]
    fn install() -> Result<Self, Failure> {
        use tokio::signal::unix::{SignalKind, signal};
        let fail = |e: std::io::Error| failed(format!("cannot handle signals: {e}"));
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).map_err(fail)?,
            terminate: signal(SignalKind::terminate()).map_err(fail)?,
        })
    }

    #[cfg(unix)]
    async fn next(&mut self) -> StopSignal {
        tokio::select! {
            _ = self.interrupt.recv() => StopSignal::Interrupt,
            _ = self.terminate.recv() => StopSignal::Terminate,
        }
    }
}

async fn wait_for_run(
    engine: &Engine,
    events: &mut tokio::sync::broadcast::Receiver<EngineEvent>,
    run: Run,
) -> Result<Run, Failure> {
    let id = run.id;
    loop {
        let current = engine.get_run(id).await.map_err(engine_failure)?;
        if current.status.is_terminal() {
            return Ok(current);
        }
        match events.recv().await {
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(_) => return Err(failed("the engine stopped before the run ended")),
        }
    }
}

fn shell_kind(command: String) -> JobKind {
    JobKind::Command(CommandSpec {
        program: Program::Script {
            interpreter: Interpreter::Sh,
            body: command,
        },
        working_dir: None,
        env: Vec::new(),
    })
}

pub fn read_job_file(path: &str) -> Result<jobfile::ParsedJobFile, Failure> {
    let format = FileFormat::from_path(std::path::Path::new(path))
        .ok_or_else(|| Failure::BadInput(format!("{path:?}: a job file ends in .toml or .json")))?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::BadInput(format!("cannot read {path:?}: {e}")))?;
    jobfile::parse_job_file(&text, format).map_err(|problems| problems_failure(path, &problems))
}

pub fn problems_failure(source: &str, problems: &[jobfile::ImportProblem]) -> Failure {
    Failure::Problems {
        source: source.to_string(),
        problems: problems.to_vec(),
    }
}

pub fn import_failure(e: ImportError) -> Failure {
    match e {
        ImportError::Problems(problems) => problems_failure("file", &problems),
        ImportError::Engine(e) => engine_failure(e),
    }
}

/// The trigger the flags ask for, if any.
fn flag_trigger(
    cron: Option<String>,
    tz: Option<String>,
    at_start: Option<u64>,
    on_wake: Option<u64>,
    file_arrives: Option<Trigger>,
) -> Option<Trigger> {
    match (cron, at_start, on_wake) {
        (Some(expr), ..) => Some(Trigger::Cron { expr, timezone: tz }),
        (None, Some(delay_secs), _) => Some(Trigger::AtStart { delay_secs }),
        (None, None, Some(delay_secs)) => Some(Trigger::OnWake { delay_secs }),
        (None, None, None) => file_arrives,
    }
}

/// The file-arrives trigger of --file-arrives DIR [--glob P] [--settle S]; a relative folder
/// is taken from the current directory.
fn file_flags(
    folder: Option<String>,
    glob: Option<String>,
    settle: Option<u64>,
) -> Option<Trigger> {
    let folder = folder?;
    let absolute = std::path::absolute(&folder)
        .map(|p| p.display().to_string())
        .unwrap_or(folder);
    Some(Trigger::FileArrives {
        folder: absolute,
        glob: glob.unwrap_or_else(|| "*".to_string()),
        settle_secs: settle.unwrap_or(sundial_engine::domain::trigger::FILE_SETTLE_DEFAULT_SECS),
    })
}
