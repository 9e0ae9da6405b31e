//! Import and export as the window and `sundialctl` both do them (decisions/0018).
//!
//! An import is two steps. [`preview`] reads a crontab or a job file and says what would happen
//! to every line (a crontab) or every job (a file): created, renamed, replaced, skipped, or
//! refused with the reason, and every line that is no job with why. Nothing is written.
//! [`apply`] reads the same text again and checks it against the database as it is *then*:
//! another process may have created a job of the same name since the preview. When the plan
//! it finds is not the one the user was shown, it refuses and writes nothing; otherwise it
//! writes every job in one transaction ([`Engine::write_jobs`]), so an import is all or none.
//!
//! The rule for a crontab line that is not a job (a comment, a `VAR=value` line, a line cron
//! itself would reject) is the CLI's: it is listed with its reason and does not stop the other
//! lines. A *job* with a problem (an invalid field, a name taken with `on_conflict = error`)
//! refuses the whole import.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::domain::{Job, JobId, JobKind, JobSpec, Program};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::files::crontab::{CrontabFlavor, CrontabOptions, SkipKind, SkippedLine, parse_crontab};
use crate::files::jobfile::{
    self, Action, ExportOptions, FileFormat, FileJob, ImportError, ImportOptions, ImportProblem,
    ImportReport, JOB_FILE_VERSION, JobFile, OnConflict, ParsedJobFile, Planned,
};
use crate::files::translate::{self, KubernetesOptions, OutputFile, Untranslatable};
use crate::schedule::describe_trigger;

/// What the imported text is.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    /// A Sundial job file, TOML.
    Toml,
    /// A Sundial job file, JSON.
    Json,
    /// A user crontab (`crontab -l`): time fields, then the command.
    Crontab,
    /// `/etc/crontab` or `/etc/cron.d/*`: time fields, the user, then the command.
    SystemCrontab,
}

impl ImportFormat {
    /// From a file name's extension: `.toml`, `.json` (a crontab has none to go by).
    pub fn from_path(path: &Path) -> Option<ImportFormat> {
        match FileFormat::from_path(path)? {
            FileFormat::Toml => Some(ImportFormat::Toml),
            FileFormat::Json => Some(ImportFormat::Json),
        }
    }

    fn crontab_flavor(self) -> Option<CrontabFlavor> {
        match self {
            ImportFormat::Crontab => Some(CrontabFlavor::User),
            ImportFormat::SystemCrontab => Some(CrontabFlavor::System),
            ImportFormat::Toml | ImportFormat::Json => None,
        }
    }
}

/// The text to import and how to read it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSource {
    pub text: String,
    pub format: ImportFormat,
    /// What the crontab is called in its jobs' names and descriptions ("crontab", a file's
    /// name). Empty: "crontab".
    #[serde(default)]
    pub origin: String,
    /// IANA zone for crontab jobs (`None` or empty: the system's), unless the crontab sets
    /// `CRON_TZ`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// What to do with a job whose name is taken.
    #[serde(default)]
    pub on_conflict: OnConflict,
}

/// What an import would do, line by line (a crontab) or job by job (a file).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportPlan {
    pub format: ImportFormat,
    /// Every line of a crontab (blank lines included), or every job of a file, in order.
    pub entries: Vec<PlanEntry>,
    /// What refuses the import as a whole: a file that cannot be read (syntax, version), and
    /// every problem of a refused job, each with its position.
    pub problems: Vec<ImportProblem>,
    /// Jobs the import writes (created, renamed or replaced).
    pub jobs: u32,
    /// True when nothing refuses it: the apply may go ahead.
    pub ready: bool,
}

/// One line of a crontab or one job of a file, and what the import does with it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanEntry {
    /// 1-based: the crontab line, or where the job starts in the file (when known).
    pub line: Option<u32>,
    /// The crontab line as written, or the job's name in the file.
    pub text: String,
    pub outcome: EntryOutcome,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EntryOutcome {
    /// A new job (under another name when `renamed_from` is set: its name was taken).
    Create {
        name: String,
        /// The trigger in words ("At 02:00 (Europe/Paris)").
        schedule: String,
        command: String,
        renamed_from: Option<String>,
    },
    /// The existing job of that name gets this definition (its id and history stay).
    Replace {
        name: String,
        schedule: String,
        command: String,
        job_id: JobId,
        /// The revision it is at now: another edit before the apply makes the plan stale.
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        revision: i64,
    },
    /// Left out: a job of that name exists and conflicts are skipped.
    Skip { name: String, reason: String },
    /// A job with problems: the whole import is refused until they are mended.
    Refused { name: String, problems: Vec<String> },
    /// A crontab line that is no job: blank, a comment, a variable (applied to the jobs below
    /// it), one Sundial has no equivalent for, or one that is not crontab syntax.
    NotAJob { kind: SkipKind, reason: String },
}

/// Why [`apply`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The plan found now is not the one that was previewed.
    #[error(
        "the jobs changed since the preview (another window or sundialctl changed them, or the text changed); nothing was imported: preview again"
    )]
    Stale { now: Box<ImportPlan> },
    #[error("the import has {} problem(s); nothing was imported", .0.len())]
    Problems(Vec<ImportProblem>),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<ImportError> for ApplyError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Problems(p) => ApplyError::Problems(p),
            ImportError::Engine(e) => ApplyError::Engine(e),
        }
    }
}

/// The text read and checked: the plan, and what [`apply`] needs to write it.
struct Checked {
    plan: ImportPlan,
    file: JobFile,
    planned: Vec<Planned>,
    /// The crontab's lines that are no job (for the CLI's report).
    not_jobs: Vec<SkippedLine>,
}

/// Says what importing `source` would do, changing nothing.
pub async fn preview(engine: &Engine, source: &ImportSource) -> Result<ImportPlan, EngineError> {
    Ok(check(engine, source).await?.plan)
}

/// The crontab lines of `source` that are no job, as the CLI reports them. Empty for a file.
pub fn lines_not_imported(source: &ImportSource) -> Vec<SkippedLine> {
    match source.format.crontab_flavor() {
        Some(flavor) => parse_crontab(&source.text, flavor, &crontab_options(source)).skipped,
        None => Vec::new(),
    }
}

/// Imports `source` if what it would do now is `expected` (the previewed plan), all or none.
pub async fn apply(
    engine: &Engine,
    source: &ImportSource,
    expected: &ImportPlan,
) -> Result<ImportReport, ApplyError> {
    let checked = check(engine, source).await?;
    if checked.plan != *expected {
        return Err(ApplyError::Stale {
            now: Box::new(checked.plan),
        });
    }
    write(engine, checked).await
}

/// Previews and applies in one go (the CLI without `--dry-run`): the same checks, and the
/// same one transaction.
pub async fn import(
    engine: &Engine,
    source: &ImportSource,
) -> Result<(ImportReport, ImportPlan, Vec<SkippedLine>), ApplyError> {
    let checked = check(engine, source).await?;
    let plan = checked.plan.clone();
    let not_jobs = checked.not_jobs.clone();
    let report = write(engine, checked).await?;
    Ok((report, plan, not_jobs))
}

async fn write(engine: &Engine, checked: Checked) -> Result<ImportReport, ApplyError> {
    if !checked.plan.ready {
        return Err(ApplyError::Problems(checked.plan.problems));
    }
    Ok(jobfile::apply(engine, &checked.file, checked.planned).await?)
}

fn crontab_options(source: &ImportSource) -> CrontabOptions {
    CrontabOptions {
        source: source.origin.clone(),
        timezone: source.timezone.clone().filter(|z| !z.trim().is_empty()),
    }
}

async fn check(engine: &Engine, source: &ImportSource) -> Result<Checked, EngineError> {
    let options = ImportOptions {
        on_conflict: source.on_conflict,
    };
    match source.format.crontab_flavor() {
        Some(flavor) => {
            let crontab = parse_crontab(&source.text, flavor, &crontab_options(source));
            let lines: Vec<Option<usize>> = crontab.jobs.iter().map(|j| Some(j.line)).collect();
            let file = JobFile {
                version: JOB_FILE_VERSION,
                jobs: crontab
                    .jobs
                    .iter()
                    .map(|j| FileJob::from_spec(None, j.spec.clone()))
                    .collect(),
            };
            let mut parsed = ParsedJobFile::from_file(file);
            parsed.job_lines = lines;
            let (planned, problems) = jobfile::plan(engine, &parsed, options).await?;
            let mut entries: Vec<PlanEntry> = crontab
                .skipped
                .iter()
                .map(|s| PlanEntry {
                    line: Some(s.line as u32),
                    text: s.text.clone(),
                    outcome: EntryOutcome::NotAJob {
                        kind: s.kind,
                        reason: s.reason.clone(),
                    },
                })
                .collect();
            for (p, job) in planned.iter().zip(&crontab.jobs) {
                let number = parsed.job_numbers[p.index];
                entries.push(PlanEntry {
                    line: Some(job.line as u32),
                    text: job.text.clone(),
                    outcome: outcome(p, &problems_of(&problems, number)),
                });
            }
            entries.sort_by_key(|e| e.line);
            Ok(Checked {
                plan: finish(source.format, entries, problems, &planned),
                file: parsed.file,
                planned,
                not_jobs: crontab.skipped,
            })
        }
        None => {
            let format = if source.format == ImportFormat::Toml {
                FileFormat::Toml
            } else {
                FileFormat::Json
            };
            let (parsed, mut problems) =
                match jobfile::parse_job_file_leniently(&source.text, format) {
                    Ok(read) => read,
                    // The file cannot be read at all: no jobs to list.
                    Err(problems) => {
                        return Ok(Checked {
                            plan: finish(source.format, Vec::new(), problems, &[]),
                            file: JobFile {
                                version: JOB_FILE_VERSION,
                                jobs: Vec::new(),
                            },
                            planned: Vec::new(),
                            not_jobs: Vec::new(),
                        });
                    }
                };
            // Jobs of the wrong shape were left out of `parsed`; their problems name them.
            let mut entries: Vec<(usize, PlanEntry)> = Vec::new();
            let mut misshapen: Vec<usize> = problems.iter().filter_map(|p| p.job).collect();
            misshapen.dedup();
            for number in misshapen {
                let first = problems.iter().find(|p| p.job == Some(number));
                entries.push((
                    number,
                    PlanEntry {
                        line: first.and_then(|p| p.line).map(|l| l as u32),
                        text: first.and_then(|p| p.job_name.clone()).unwrap_or_default(),
                        outcome: EntryOutcome::Refused {
                            name: first.and_then(|p| p.job_name.clone()).unwrap_or_default(),
                            problems: problems_of(&problems, number),
                        },
                    },
                ));
            }
            let (planned, more) = jobfile::plan(engine, &parsed, options).await?;
            for p in &planned {
                let number = parsed.job_numbers[p.index];
                entries.push((
                    number,
                    PlanEntry {
                        line: parsed.job_lines[p.index].map(|l| l as u32),
                        text: parsed.file.jobs[p.index].name.clone(),
                        outcome: outcome(p, &problems_of(&more, number)),
                    },
                ));
            }
            entries.sort_by_key(|(number, _)| *number);
            problems.extend(more);
            problems.sort_by_key(|p| p.job);
            Ok(Checked {
                plan: finish(
                    source.format,
                    entries.into_iter().map(|(_, e)| e).collect(),
                    problems,
                    &planned,
                ),
                file: parsed.file,
                planned,
                not_jobs: Vec::new(),
            })
        }
    }
}

fn finish(
    format: ImportFormat,
    entries: Vec<PlanEntry>,
    problems: Vec<ImportProblem>,
    planned: &[Planned],
) -> ImportPlan {
    let jobs = planned
        .iter()
        .filter(|p| !matches!(p.action, Action::Skip))
        .count() as u32;
    ImportPlan {
        format,
        entries,
        ready: problems.is_empty(),
        problems,
        jobs,
    }
}

/// The problems of job `number`, each as "field: message".
fn problems_of(problems: &[ImportProblem], number: usize) -> Vec<String> {
    problems
        .iter()
        .filter(|p| p.job == Some(number))
        .map(|p| {
            if p.field.is_empty() {
                p.message.clone()
            } else {
                format!("{}: {}", p.field, p.message)
            }
        })
        .collect()
}

fn outcome(p: &Planned, problems: &[String]) -> EntryOutcome {
    let name = p.spec.name.clone();
    if !problems.is_empty() {
        return EntryOutcome::Refused {
            name,
            problems: problems.to_vec(),
        };
    }
    let schedule = describe_trigger(&p.spec.trigger, None);
    let command = command_in_words(&p.spec);
    match &p.action {
        Action::Create { renamed_from, .. } => EntryOutcome::Create {
            name,
            schedule,
            command,
            renamed_from: renamed_from.clone(),
        },
        Action::Replace { id, revision } => EntryOutcome::Replace {
            name,
            schedule,
            command,
            job_id: *id,
            revision: *revision,
        },
        Action::Skip => EntryOutcome::Skip {
            reason: format!("a job named “{name}” exists: it is left as it is"),
            name,
        },
    }
}

/// What the job runs, in one line of text: the program and its arguments, the script, or
/// the HTTP request.
fn command_in_words(spec: &JobSpec) -> String {
    match &spec.kind {
        JobKind::Command(c) => match &c.program {
            Program::Exec { program, args } => {
                let mut words = vec![program.clone()];
                words.extend(args.iter().cloned());
                words.join(" ")
            }
            Program::Script { body, .. } => body.trim().to_string(),
        },
        JobKind::Http(h) => format!("{} {}", h.method, h.url),
    }
}

// ----- export ---------------------------------------------------------------------------------

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// A Sundial job file, TOML.
    Toml,
    /// A Sundial job file, JSON.
    Json,
    /// A .service and .timer pair per command job.
    Systemd,
    /// One CronJob manifest per cron command job.
    Kubernetes,
}

/// What an export writes: its files, and what did not translate.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Export {
    /// One file for a job file or the Kubernetes manifests; two per job for systemd.
    pub files: Vec<OutputFile>,
    /// Jobs left out, each with why (systemd and Kubernetes have no equivalent).
    pub untranslatable: Vec<Untranslatable>,
    /// Things that were approximated.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ExportSettings {
    /// Write secret values as they are. Off by default: they are written masked.
    pub include_secrets: bool,
    /// The container image for Kubernetes (`None`: debian:stable-slim).
    pub image: Option<String>,
}

/// The file name a job file export is saved as by default.
pub fn job_file_name(format: FileFormat) -> &'static str {
    match format {
        FileFormat::Toml => "sundial-jobs.toml",
        FileFormat::Json => "sundial-jobs.json",
    }
}

/// `jobs` in `format`.
pub fn export_jobs(jobs: &[Job], format: ExportFormat, settings: &ExportSettings) -> Export {
    let job_file = |format: FileFormat| Export {
        files: vec![OutputFile {
            name: job_file_name(format).to_string(),
            content: jobfile::export_jobs(
                jobs,
                format,
                ExportOptions {
                    include_secrets: settings.include_secrets,
                },
            ),
        }],
        ..Export::default()
    };
    let translated = |t: translate::Translation| Export {
        files: t.files,
        untranslatable: t.untranslatable,
        notes: t.notes,
    };
    match format {
        ExportFormat::Toml => job_file(FileFormat::Toml),
        ExportFormat::Json => job_file(FileFormat::Json),
        ExportFormat::Systemd => translated(translate::to_systemd(jobs, settings.include_secrets)),
        ExportFormat::Kubernetes => {
            let mut options = KubernetesOptions {
                include_secrets: settings.include_secrets,
                ..KubernetesOptions::default()
            };
            if let Some(image) = settings.image.clone().filter(|i| !i.trim().is_empty()) {
                options.image = image;
            }
            translated(translate::to_kubernetes(jobs, &options))
        }
    }
}

/// The jobs with these ids (every job when `ids` is empty), in `format`.
pub async fn export(
    engine: &Engine,
    ids: &[JobId],
    format: ExportFormat,
    settings: &ExportSettings,
) -> Result<Export, EngineError> {
    let jobs = if ids.is_empty() {
        engine.list_jobs().await?
    } else {
        let mut jobs = Vec::with_capacity(ids.len());
        for id in ids {
            jobs.push(engine.get_job(*id).await?);
        }
        jobs
    };
    Ok(export_jobs(&jobs, format, settings))
}
