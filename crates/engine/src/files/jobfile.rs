//! The job file: `version = 1` and a list of jobs, as TOML or JSON (docs/JOB_FILES.md).
//!
//! Import reads the whole file, checks every job (shape, validation, name conflicts, chains,
//! masked secrets) and applies nothing unless all of it is good.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::domain::validate::validate_spec;
use crate::domain::{Job, JobId, JobKind, JobSpec, Policies, Trigger};
use crate::engine::{Engine, JobWrite};
use crate::error::EngineError;

/// The job file schema version this build reads and writes.
pub const JOB_FILE_VERSION: u32 = 1;

/// A whole job file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobFile {
    pub version: u32,
    #[serde(default)]
    pub jobs: Vec<FileJob>,
}

/// One job in a file: the job spec, plus the id it had where it was exported from, so that
/// after-job triggers can name a job of the same file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileJob {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<JobId>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default = "default_true")]
    pub enabled: bool,
    pub kind: JobKind,
    pub trigger: Trigger,
    #[serde(default)]
    pub policies: Policies,
}

fn default_true() -> bool {
    true
}

impl FileJob {
    pub fn from_spec(id: Option<JobId>, spec: JobSpec) -> Self {
        FileJob {
            id,
            name: spec.name,
            description: spec.description,
            tags: spec.tags,
            enabled: spec.enabled,
            kind: spec.kind,
            trigger: spec.trigger,
            policies: spec.policies,
        }
    }

    pub fn spec(&self) -> JobSpec {
        JobSpec {
            name: self.name.clone(),
            description: self.description.clone(),
            tags: self.tags.clone(),
            enabled: self.enabled,
            kind: self.kind.clone(),
            trigger: self.trigger.clone(),
            policies: self.policies.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Toml,
    Json,
}

impl FileFormat {
    /// From a file name's extension (`.toml`, `.json`).
    pub fn from_path(path: &Path) -> Option<FileFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "toml" => Some(FileFormat::Toml),
            "json" => Some(FileFormat::Json),
            _ => None,
        }
    }

    pub fn parse(name: &str) -> Option<FileFormat> {
        match name.to_ascii_lowercase().as_str() {
            "toml" => Some(FileFormat::Toml),
            "json" => Some(FileFormat::Json),
            _ => None,
        }
    }
}

/// One problem found in a file. `line`/`column` (1-based) where the format gives a position;
/// `job` is the 1-based index of the job in the file's list.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProblem {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub job: Option<usize>,
    pub job_name: Option<String>,
    pub field: String,
    pub message: String,
}

impl fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: ")?,
            (Some(l), None) => write!(f, "line {l}: ")?,
            _ => {}
        }
        if let Some(job) = self.job {
            write!(f, "job {job}")?;
            if let Some(name) = &self.job_name {
                write!(f, " “{name}”")?;
            }
            write!(f, ": ")?;
        }
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// A parsed file with, for each of its jobs, where it starts (TOML: its `[[jobs]]` line) and
/// its 1-based number in the file.
#[derive(Debug, Clone)]
pub struct ParsedJobFile {
    pub file: JobFile,
    pub job_lines: Vec<Option<usize>>,
    pub job_numbers: Vec<usize>,
}

impl ParsedJobFile {
    /// A file made in memory (e.g. from a crontab): no positions.
    pub fn from_file(file: JobFile) -> Self {
        let n = file.jobs.len();
        Self {
            file,
            job_lines: vec![None; n],
            job_numbers: (1..=n).collect(),
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |nl| {
        before[nl + 1..].chars().count()
    }) + 1;
    (line, column)
}

fn file_problem(field: &str, message: String) -> ImportProblem {
    ImportProblem {
        line: None,
        column: None,
        job: None,
        job_name: None,
        field: field.to_string(),
        message,
    }
}

/// Line numbers of the TOML `[[jobs]]` headers, in order.
fn toml_job_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim();
            t.starts_with("[[")
                && t.trim_start_matches("[[").trim_start().starts_with("jobs")
                && t.trim_start_matches("[[")
                    .trim_start()
                    .trim_start_matches("jobs")
                    .trim_start()
                    .starts_with("]]")
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// Line numbers where the objects of the top-level `"jobs"` array start, in order (a small
/// scanner: serde_json gives positions only for syntax errors).
fn json_job_lines(text: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let mut line = 1;
    let mut depth = 0usize;
    let mut jobs_depth: Option<usize> = None;
    let mut last_top_string = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        '\n' => {
                            line += 1;
                            s.push(c);
                        }
                        c => s.push(c),
                    }
                }
                if depth == 1 {
                    last_top_string = s;
                }
            }
            '{' | '[' => {
                if c == '{' && jobs_depth == Some(depth) {
                    lines.push(line);
                }
                if c == '[' && depth == 1 && last_top_string == "jobs" && jobs_depth.is_none() {
                    jobs_depth = Some(depth + 1);
                }
                depth += 1;
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                if jobs_depth.is_some_and(|d| depth < d) && c == ']' {
                    jobs_depth = Some(usize::MAX);
                }
            }
            _ => {}
        }
    }
    lines
}

/// Reads a job file. Every problem in it is reported: syntax (with line and column), the
/// version, and each job's shape (unknown or missing fields, wrong types) with its path.
pub fn parse_job_file(text: &str, format: FileFormat) -> Result<ParsedJobFile, Vec<ImportProblem>> {
    let (parsed, problems) = parse_job_file_leniently(text, format)?;
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(problems)
    }
}

/// Like [`parse_job_file`], but a job of the wrong shape is left out (and its problems
/// returned) instead of failing the whole file, so that the other jobs can still be checked
/// and every problem reported at once. Syntax and version errors still fail.
pub fn parse_job_file_leniently(
    text: &str,
    format: FileFormat,
) -> Result<(ParsedJobFile, Vec<ImportProblem>), Vec<ImportProblem>> {
    // Syntax first, into a generic tree.
    let (version, jobs, job_lines): (Option<i64>, Vec<Value>, Vec<Option<usize>>) = match format {
        FileFormat::Toml => {
            let table: toml::Table = toml::from_str(text).map_err(|e| {
                let (line, column) = e.span().map_or((None, None), |s| {
                    let (l, c) = line_col(text, s.start);
                    (Some(l), Some(c))
                });
                vec![ImportProblem {
                    line,
                    column,
                    job: None,
                    job_name: None,
                    field: String::new(),
                    message: format!("is not valid TOML: {}", e.message()),
                }]
            })?;
            let mut problems = Vec::new();
            for key in table.keys() {
                if key != "version" && key != "jobs" {
                    problems.push(file_problem(
                        key,
                        "is not a field of a job file: only `version` and `jobs` go at the top"
                            .into(),
                    ));
                }
            }
            let version = table.get("version").and_then(toml::Value::as_integer);
            let jobs = match table.get("jobs") {
                None => Vec::new(),
                Some(toml::Value::Array(items)) => items.iter().cloned().map(Value::Toml).collect(),
                Some(_) => {
                    problems.push(file_problem(
                        "jobs",
                        "must be a list of jobs ([[jobs]] tables)".into(),
                    ));
                    Vec::new()
                }
            };
            if !problems.is_empty() {
                return Err(problems);
            }
            let mut lines: Vec<Option<usize>> =
                toml_job_lines(text).into_iter().map(Some).collect();
            lines.resize(jobs.len(), None);
            (version, jobs, lines)
        }
        FileFormat::Json => {
            let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
                vec![ImportProblem {
                    line: Some(e.line()),
                    column: Some(e.column()),
                    job: None,
                    job_name: None,
                    field: String::new(),
                    message: format!("is not valid JSON: {e}"),
                }]
            })?;
            let Some(object) = value.as_object() else {
                return Err(vec![file_problem(
                    "",
                    "a job file is an object with `version` and `jobs`".into(),
                )]);
            };
            let mut problems = Vec::new();
            for key in object.keys() {
                if key != "version" && key != "jobs" {
                    problems.push(file_problem(
                        key,
                        "is not a field of a job file: only `version` and `jobs` go at the top"
                            .into(),
                    ));
                }
            }
            let version = object.get("version").and_then(serde_json::Value::as_i64);
            let jobs = match object.get("jobs") {
                None => Vec::new(),
                Some(serde_json::Value::Array(items)) => {
                    items.iter().cloned().map(Value::Json).collect()
                }
                Some(_) => {
                    problems.push(file_problem("jobs", "must be a list of jobs".into()));
                    Vec::new()
                }
            };
            if !problems.is_empty() {
                return Err(problems);
            }
            let mut lines: Vec<Option<usize>> =
                json_job_lines(text).into_iter().map(Some).collect();
            lines.resize(jobs.len(), None);
            (version, jobs, lines)
        }
    };
    if version != Some(i64::from(JOB_FILE_VERSION)) {
        let message = match version {
            None => format!(
                "is required: put `version = {JOB_FILE_VERSION}` (TOML) or `\"version\": {JOB_FILE_VERSION}` (JSON) at the top"
            ),
            Some(v) => format!(
                "{v} is not a job file version this Sundial reads: it reads version {JOB_FILE_VERSION}"
            ),
        };
        return Err(vec![file_problem("version", message)]);
    }
    let mut problems = Vec::new();
    let mut parsed = Vec::with_capacity(jobs.len());
    let (mut lines, mut numbers) = (Vec::new(), Vec::new());
    for (index, value) in jobs.into_iter().enumerate() {
        let name = value.name();
        match value.into_job() {
            Ok(job) => {
                parsed.push(job);
                lines.push(job_lines[index]);
                numbers.push(index + 1);
            }
            Err((path, message)) => problems.push(ImportProblem {
                line: job_lines[index],
                column: None,
                job: Some(index + 1),
                job_name: name,
                field: path,
                message,
            }),
        }
    }
    Ok((
        ParsedJobFile {
            file: JobFile {
                version: JOB_FILE_VERSION,
                jobs: parsed,
            },
            job_lines: lines,
            job_numbers: numbers,
        },
        problems,
    ))
}

enum Value {
    Toml(toml::Value),
    Json(serde_json::Value),
}

impl Value {
    fn name(&self) -> Option<String> {
        match self {
            Value::Toml(v) => v.get("name").and_then(|n| n.as_str()).map(str::to_string),
            Value::Json(v) => v.get("name").and_then(|n| n.as_str()).map(str::to_string),
        }
    }

    fn into_job(self) -> Result<FileJob, (String, String)> {
        match self {
            Value::Toml(v) => serde_path_to_error::deserialize(v).map_err(path_error),
            Value::Json(v) => serde_path_to_error::deserialize(v).map_err(path_error),
        }
    }
}

fn path_error<E: fmt::Display>(e: serde_path_to_error::Error<E>) -> (String, String) {
    let path = e.path().to_string();
    let path = if path == "." { String::new() } else { path };
    // Some deserializers append where the error is (`in `trigger``): the path says that.
    let message = e.inner().to_string();
    let message = message
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    (path, message)
}

// ----- export ---------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, Default)]
pub struct ExportOptions {
    /// Write secret values as they are. Off by default: they are written as the mask.
    pub include_secrets: bool,
}

/// The job file for `jobs`, in `format`.
pub fn export_jobs(jobs: &[Job], format: FileFormat, options: ExportOptions) -> String {
    let file = JobFile {
        version: JOB_FILE_VERSION,
        jobs: jobs
            .iter()
            .map(|job| {
                let job = if options.include_secrets {
                    job.clone()
                } else {
                    job.masked()
                };
                FileJob::from_spec(Some(job.id), job.spec)
            })
            .collect(),
    };
    render(&file, format)
}

/// A job file as text.
pub fn render(file: &JobFile, format: FileFormat) -> String {
    match format {
        // Serialising these plain types cannot fail (no maps with non-string keys, no NaN
        // beyond what the validator refuses); an error would be a bug, shown in the output.
        FileFormat::Toml => toml::to_string_pretty(file)
            .unwrap_or_else(|e| format!("# could not write TOML: {e}\n")),
        FileFormat::Json => {
            let mut text = serde_json::to_string_pretty(file)
                .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
            text.push('\n');
            text
        }
    }
}

// ----- import ---------------------------------------------------------------------------------

/// What to do with a job whose name is already taken in the database.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnConflict {
    /// Report it as a problem (nothing is imported).
    #[default]
    Error,
    /// Leave the existing job alone and do not import this one.
    Skip,
    /// Import it under a free name: "name (2)", "name (3)"…
    Rename,
    /// Overwrite the existing job's definition (its id and history stay).
    Replace,
}

impl OnConflict {
    pub fn parse(s: &str) -> Option<OnConflict> {
        match s {
            "error" => Some(OnConflict::Error),
            "skip" => Some(OnConflict::Skip),
            "rename" => Some(OnConflict::Rename),
            "replace" => Some(OnConflict::Replace),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    pub on_conflict: OnConflict,
}

/// What an import did.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub created: Vec<ImportedJob>,
    pub replaced: Vec<ImportedJob>,
    /// Created under another name because the file's name was taken.
    pub renamed: Vec<RenamedJob>,
    /// Names left alone because a job of that name exists (`skip`).
    pub skipped: Vec<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedJob {
    pub name: String,
    pub id: JobId,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenamedJob {
    pub from: String,
    pub to: String,
    pub id: JobId,
}

/// Why an import did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file has {} problem(s); nothing was imported", .0.len())]
    Problems(Vec<ImportProblem>),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// What an import does with one job of the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    Create {
        name: String,
        renamed_from: Option<String>,
    },
    Replace {
        id: JobId,
        revision: i64,
    },
    Skip,
}

/// One job of the file, checked: its spec as it would be written and what happens to it.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    /// Its place in the parsed file's list.
    pub index: usize,
    pub spec: JobSpec,
    pub action: Action,
}

/// Checks the whole file, then creates/replaces its jobs (upstream jobs of after-job chains
/// first). Nothing is changed when any problem is found.
pub async fn import_jobs(
    engine: &Engine,
    parsed: &ParsedJobFile,
    options: ImportOptions,
) -> Result<ImportReport, ImportError> {
    let (planned, problems) = plan(engine, parsed, options).await?;
    if !problems.is_empty() {
        return Err(ImportError::Problems(problems));
    }
    apply(engine, &parsed.file, planned).await
}

/// Reads `text` and imports it: every problem of the file (shape and validation, of every
/// job) is reported together, and nothing is changed unless there are none.
pub async fn import_text(
    engine: &Engine,
    text: &str,
    format: FileFormat,
    options: ImportOptions,
    dry_run: bool,
) -> Result<(ImportReport, usize), ImportError> {
    let (parsed, mut problems) =
        parse_job_file_leniently(text, format).map_err(ImportError::Problems)?;
    let (planned, more) = plan(engine, &parsed, options).await?;
    problems.extend(more);
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.job);
        return Err(ImportError::Problems(problems));
    }
    let count = parsed.file.jobs.len();
    if dry_run {
        return Ok((ImportReport::default(), count));
    }
    apply(engine, &parsed.file, planned)
        .await
        .map(|report| (report, count))
}

/// Checks the whole file as [`import_jobs`] would, and changes nothing.
pub async fn check_import(
    engine: &Engine,
    parsed: &ParsedJobFile,
    options: ImportOptions,
) -> Result<(), ImportError> {
    let (_, problems) = plan(engine, parsed, options).await?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ImportError::Problems(problems))
    }
}

/// Checks every job of the file against the database as it is now: what would happen to each
/// (created, renamed, replaced, skipped) and every problem, each with the job's number.
/// The import may go ahead only when there are no problems.
pub(crate) async fn plan(
    engine: &Engine,
    parsed: &ParsedJobFile,
    options: ImportOptions,
) -> Result<(Vec<Planned>, Vec<ImportProblem>), EngineError> {
    let now = engine.now();
    let existing = engine.list_jobs().await?;
    let by_name: HashMap<String, &Job> = existing
        .iter()
        .map(|j| (j.spec.name.to_lowercase(), j))
        .collect();
    let existing_ids: HashSet<JobId> = existing.iter().map(|j| j.id).collect();
    let file_ids: HashSet<JobId> = parsed.file.jobs.iter().filter_map(|j| j.id).collect();
    let mut taken: HashSet<String> = by_name.keys().cloned().collect();
    let mut seen_in_file: HashMap<String, usize> = HashMap::new();
    let mut problems = Vec::new();
    let mut planned = Vec::new();
    for (index, job) in parsed.file.jobs.iter().enumerate() {
        let number = parsed.job_numbers.get(index).copied().unwrap_or(index + 1);
        let mut push = |field: &str, message: String| {
            problems.push(ImportProblem {
                line: parsed.job_lines.get(index).copied().flatten(),
                column: None,
                job: Some(number),
                job_name: Some(job.name.clone()),
                field: field.to_string(),
                message,
            })
        };
        let mut spec = job.spec();
        let key = spec.name.to_lowercase();
        if let Some(first) = seen_in_file.insert(key.clone(), number) {
            push(
                "name",
                format!(
                    "“{}” is also the name of job {first} in this file",
                    spec.name
                ),
            );
        }
        let existing = by_name.get(&key).copied();
        let action = match (existing, options.on_conflict) {
            (None, _) => Action::Create {
                name: spec.name.clone(),
                renamed_from: None,
            },
            (Some(_), OnConflict::Error) => {
                push(
                    "name",
                    format!(
                        "“{}” is already the name of a job: choose skip, rename or replace for conflicts",
                        spec.name
                    ),
                );
                Action::Skip
            }
            (Some(_), OnConflict::Skip) => Action::Skip,
            (Some(_), OnConflict::Rename) => {
                let mut n = 2;
                let new_name = loop {
                    let candidate = format!("{} ({n})", spec.name);
                    let k = candidate.to_lowercase();
                    if !taken.contains(&k)
                        && !parsed.file.jobs.iter().any(|j| j.name.to_lowercase() == k)
                    {
                        break candidate;
                    }
                    n += 1;
                };
                taken.insert(new_name.to_lowercase());
                Action::Create {
                    name: new_name,
                    renamed_from: Some(spec.name.clone()),
                }
            }
            (Some(j), OnConflict::Replace) => Action::Replace {
                id: j.id,
                revision: j.revision,
            },
        };
        if let Action::Skip = action {
            planned.push(Planned {
                index,
                spec,
                action,
            });
            continue;
        }
        let previous = match &action {
            Action::Replace { id, .. } => existing.filter(|j| j.id == *id),
            _ => None,
        };
        if let Action::Create { name, .. } = &action {
            spec.name = name.clone();
        }
        // Masked secrets: keep the stored value of the job being replaced, else refuse.
        if let Err(errors) =
            crate::domain::secrets::keep_masked_secrets(&mut spec, previous.map(|p| &p.spec))
        {
            for e in errors.0 {
                push(&e.field, e.message);
            }
        }
        // After-job chains may name a job of this file (by its `id`) or an existing one.
        if let Trigger::AfterJob { job_id, .. } = &spec.trigger
            && !file_ids.contains(job_id)
            && !existing_ids.contains(job_id)
        {
            push(
                "trigger.job_id",
                format!("there is no job with id {job_id} in this file or in Sundial"),
            );
        }
        if let Err(errors) = validate_spec(&spec, now, previous.map(|p| &p.spec)) {
            for e in errors.0 {
                push(&e.field, e.message);
            }
        }
        planned.push(Planned {
            index,
            spec,
            action,
        });
    }
    // A chain loop inside the file.
    if let Some(index) = chain_loop(&parsed.file) {
        problems.push(ImportProblem {
            line: parsed.job_lines.get(index).copied().flatten(),
            column: None,
            job: parsed.job_numbers.get(index).copied(),
            job_name: Some(parsed.file.jobs[index].name.clone()),
            field: "trigger.job_id".into(),
            message: "after-job triggers in this file make a loop".into(),
        });
    }
    Ok((planned, problems))
}

/// The env vars (command) or headers (http) of a kind, with their field paths.
/// The index of a job in an after-job loop made of the file's own jobs, if any.
fn chain_loop(file: &JobFile) -> Option<usize> {
    let by_id: HashMap<JobId, usize> = file
        .jobs
        .iter()
        .enumerate()
        .filter_map(|(i, j)| j.id.map(|id| (id, i)))
        .collect();
    for start in 0..file.jobs.len() {
        let mut current = start;
        for _ in 0..=file.jobs.len() {
            match &file.jobs[current].trigger {
                Trigger::AfterJob { job_id, .. } => match by_id.get(job_id) {
                    Some(&next) if next == start => return Some(start),
                    Some(&next) => current = next,
                    None => break,
                },
                _ => break,
            }
        }
    }
    None
}

/// Writes a checked plan: every job in one transaction, all or none ([`Engine::write_jobs`]).
/// New jobs get their ids here, so that an after-job trigger naming a job of the file (by
/// the id it had where it was exported) names the job it becomes.
pub(crate) async fn apply(
    engine: &Engine,
    file: &JobFile,
    plan: Vec<Planned>,
) -> Result<ImportReport, ImportError> {
    let mut report = ImportReport::default();
    // File id -> id in this database.
    let mut ids: HashMap<JobId, JobId> = HashMap::new();
    let mut new_ids = Vec::with_capacity(plan.len());
    for p in &plan {
        let id = match &p.action {
            Action::Create { .. } => Some(JobId::new()),
            Action::Replace { id, .. } => Some(*id),
            Action::Skip => engine
                .store()
                .find_job_by_name(&p.spec.name)
                .await
                .map_err(EngineError::from)?
                .map(|existing| existing.job.id),
        };
        if let (Some(file_id), Some(id)) = (file.jobs[p.index].id, id) {
            ids.insert(file_id, id);
        }
        new_ids.push(id);
    }
    let mut writes = Vec::new();
    for (p, id) in plan.iter().zip(&new_ids) {
        let mut spec = p.spec.clone();
        if let Trigger::AfterJob { job_id, .. } = &mut spec.trigger
            && let Some(mapped) = ids.get(job_id)
        {
            *job_id = *mapped;
        }
        match (&p.action, id) {
            (Action::Skip, _) => report.skipped.push(p.spec.name.clone()),
            (Action::Create { .. }, Some(id)) => writes.push(JobWrite::Create { id: *id, spec }),
            (Action::Replace { id, revision }, _) => writes.push(JobWrite::Replace {
                id: *id,
                spec,
                expected_revision: *revision,
            }),
            (Action::Create { .. }, None) => {}
        }
    }
    engine.write_jobs(writes).await?;
    for (p, id) in plan.into_iter().zip(new_ids) {
        let Some(id) = id else { continue };
        match p.action {
            Action::Skip => {}
            Action::Create {
                name,
                renamed_from: Some(from),
            } => report.renamed.push(RenamedJob { from, to: name, id }),
            Action::Create {
                name,
                renamed_from: None,
            } => report.created.push(ImportedJob { name, id }),
            Action::Replace { .. } => report.replaced.push(ImportedJob {
                name: p.spec.name,
                id,
            }),
        }
    }
    Ok(report)
}
