//! `sundialctl import` and `sundialctl export`.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::Serialize;
use sundial_engine::domain::Job;
use sundial_engine::files::crontab::SkippedLine;
use sundial_engine::files::jobfile::{ImportReport, OnConflict};
use sundial_engine::files::transfer::{
    self, ApplyError, EntryOutcome, Export, ExportSettings, ImportSource,
};

use crate::cli::Failure;
use crate::context::{Context, engine_failure, failed, find_job};
use crate::jobs::problems_failure;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ImportFormat {
    Toml,
    Json,
    /// A user crontab (`crontab -l`): time fields, then the command.
    Crontab,
    /// /etc/crontab or /etc/cron.d/*: time fields, user, command.
    SystemCrontab,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Conflict {
    /// Report the conflict; import nothing.
    Error,
    Skip,
    Rename,
    Replace,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to import (`-` for standard input with --format).
    file: String,
    /// Default: from the extension (.toml, .json); crontabs need --format.
    #[arg(long, value_enum)]
    format: Option<ImportFormat>,
    /// What to do when a job's name is already taken.
    #[arg(long, value_enum, default_value = "error")]
    on_conflict: Conflict,
    /// Time zone for crontab jobs (default: the system's, unless the file sets CRON_TZ).
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Check and report, change nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Toml,
    Json,
    /// A .service + .timer pair per command job.
    Systemd,
    /// One CronJob manifest per cron command job.
    Kubernetes,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "toml")]
    format: ExportFormat,
    /// Only these jobs (id or name); repeatable. Default: every job.
    #[arg(long = "job", value_name = "JOB")]
    jobs: Vec<String>,
    /// Write secret values as they are (by default they are written masked).
    #[arg(long)]
    include_secrets: bool,
    /// Write to this file (toml/json/kubernetes) or folder (systemd) instead of stdout.
    #[arg(long, short, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Container image for --format kubernetes.
    #[arg(long, default_value = "debian:stable-slim")]
    image: String,
}

#[derive(Serialize)]
struct ImportResult {
    dry_run: bool,
    #[serde(flatten)]
    report: ImportReport,
    /// Crontab lines that did not become jobs, with the reason.
    not_imported: Vec<SkippedLine>,
}

fn read_input(file: &str) -> Result<String, Failure> {
    if file == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| Failure::BadInput(format!("cannot read standard input: {e}")))?;
        Ok(text)
    } else {
        std::fs::read_to_string(file)
            .map_err(|e| Failure::BadInput(format!("cannot read {file:?}: {e}")))
    }
}

pub async fn import(ctx: &Context, args: ImportArgs) -> Result<String, Failure> {
    let format = match args.format {
        Some(ImportFormat::Toml) => transfer::ImportFormat::Toml,
        Some(ImportFormat::Json) => transfer::ImportFormat::Json,
        Some(ImportFormat::Crontab) => transfer::ImportFormat::Crontab,
        Some(ImportFormat::SystemCrontab) => transfer::ImportFormat::SystemCrontab,
        None => transfer::ImportFormat::from_path(Path::new(&args.file)).ok_or_else(|| {
            Failure::BadInput(format!(
                "{:?}: say what it is with --format toml, json, crontab or system-crontab",
                args.file
            ))
        })?,
    };
    let on_conflict = match args.on_conflict {
        Conflict::Error => OnConflict::Error,
        Conflict::Skip => OnConflict::Skip,
        Conflict::Rename => OnConflict::Rename,
        Conflict::Replace => OnConflict::Replace,
    };
    let text = read_input(&args.file)?;
    let label = if args.file == "-" {
        "standard input".to_string()
    } else {
        args.file.clone()
    };
    // Crontab jobs are named after the file they came from.
    let origin = Path::new(&args.file)
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|_| args.file != "-")
        .unwrap_or("crontab")
        .to_string();
    let source = ImportSource {
        text,
        format,
        origin,
        timezone: args.tz.clone(),
        on_conflict,
    };
    let engine = ctx.engine().await?;
    let result = if args.dry_run {
        match transfer::preview(&engine, &source).await {
            Ok(plan) if plan.ready => Ok((ImportReport::default(), plan)),
            Ok(plan) => Err(ApplyError::Problems(plan.problems)),
            Err(e) => Err(ApplyError::Engine(e)),
        }
    } else {
        transfer::import(&engine, &source)
            .await
            .map(|(report, plan, _)| (report, plan))
    };
    engine.shutdown(false).await;
    let (report, plan) = result.map_err(|e| match e {
        ApplyError::Problems(p) => problems_failure(&label, &p),
        ApplyError::Engine(e) => engine_failure(e),
        stale @ ApplyError::Stale { .. } => failed(stale.to_string()),
    })?;
    // Jobs in the file (or crontab lines that are jobs), whatever happens to each.
    let count = plan
        .entries
        .iter()
        .filter(|e| !matches!(e.outcome, EntryOutcome::NotAJob { .. }))
        .count();
    let result = ImportResult {
        dry_run: args.dry_run,
        report,
        not_imported: transfer::lines_not_imported(&source),
    };
    Ok(ctx.output(&result, || {
        let mut out = String::new();
        if result.dry_run {
            out.push_str(&format!(
                "dry run: the file is good ({count} job(s)); nothing was changed\n"
            ));
        }
        let r = &result.report;
        for j in &r.created {
            out.push_str(&format!("created  {} “{}”\n", j.id, j.name));
        }
        for j in &r.replaced {
            out.push_str(&format!("replaced {} “{}”\n", j.id, j.name));
        }
        for j in &r.renamed {
            out.push_str(&format!(
                "created  {} “{}” (renamed from “{}”)\n",
                j.id, j.to, j.from
            ));
        }
        for name in &r.skipped {
            out.push_str(&format!("skipped  “{name}” (a job of that name exists)\n"));
        }
        let notable: Vec<&SkippedLine> = result
            .not_imported
            .iter()
            .filter(|s| !matches!(s.kind, sundial_engine::files::crontab::SkipKind::Blank))
            .collect();
        if !notable.is_empty() {
            out.push_str("lines not imported:\n");
            for s in notable {
                out.push_str(&format!(
                    "  line {}: {} — {}\n",
                    s.line,
                    s.text.trim(),
                    s.reason
                ));
            }
        }
        out
    }))
}

pub async fn export(ctx: &Context, args: ExportArgs) -> Result<String, Failure> {
    let engine = ctx.engine().await?;
    let jobs: Result<Vec<Job>, Failure> = async {
        if args.jobs.is_empty() {
            engine.list_jobs().await.map_err(engine_failure)
        } else {
            let mut jobs = Vec::new();
            for which in &args.jobs {
                jobs.push(find_job(&engine, which).await?);
            }
            Ok(jobs)
        }
    }
    .await;
    engine.shutdown(false).await;
    let jobs = jobs?;
    let format = match args.format {
        ExportFormat::Toml => transfer::ExportFormat::Toml,
        ExportFormat::Json => transfer::ExportFormat::Json,
        ExportFormat::Systemd => transfer::ExportFormat::Systemd,
        ExportFormat::Kubernetes => transfer::ExportFormat::Kubernetes,
    };
    let export = transfer::export_jobs(
        &jobs,
        format,
        &ExportSettings {
            include_secrets: args.include_secrets,
            image: Some(args.image.clone()),
        },
    );
    match args.format {
        ExportFormat::Toml | ExportFormat::Json => {
            let text = export
                .files
                .into_iter()
                .next()
                .map(|f| f.content)
                .unwrap_or_default();
            match &args.out {
                Some(path) => {
                    write_export(path, text.as_bytes(), args.include_secrets)?;
                    Ok(format!(
                        "wrote {} job(s) to {}\n",
                        jobs.len(),
                        path.display()
                    ))
                }
                None => Ok(text),
            }
        }
        ExportFormat::Systemd | ExportFormat::Kubernetes => write_translation(
            ctx,
            &export,
            args.out.as_deref(),
            args.format,
            args.include_secrets,
        ),
    }
}

fn write_translation(
    ctx: &Context,
    t: &Export,
    out: Option<&Path>,
    format: ExportFormat,
    include_secrets: bool,
) -> Result<String, Failure> {
    let mut written = Vec::new();
    if let Some(out) = out {
        let dir = if format == ExportFormat::Systemd {
            std::fs::create_dir_all(out)
                .map_err(|e| failed(format!("cannot create {}: {e}", out.display())))?;
            Some(out)
        } else {
            None
        };
        for f in &t.files {
            let path = match dir {
                Some(d) => d.join(&f.name),
                None => out.to_path_buf(),
            };
            write_export(&path, f.content.as_bytes(), include_secrets)?;
            written.push(path.display().to_string());
        }
    }
    if ctx.json {
        return Ok(ctx.output(t, String::new));
    }
    let mut text = String::new();
    if out.is_some() {
        for w in &written {
            text.push_str(&format!("wrote {w}\n"));
        }
    } else {
        for f in &t.files {
            text.push_str(&format!("# ===== {} =====\n{}\n", f.name, f.content));
        }
    }
    for note in &t.notes {
        text.push_str(&format!("# note: {note}\n"));
    }
    for u in &t.untranslatable {
        text.push_str(&format!("# not exported: “{}”: {}\n", u.job, u.reason));
    }
    Ok(text)
}

/// An export holding secret values is readable by its owner only (0600 on Unix).
fn write_export(path: &Path, bytes: &[u8], include_secrets: bool) -> Result<(), Failure> {
    let written = if include_secrets {
        sundial_engine::paths::write_private(path, bytes)
    } else {
        std::fs::write(path, bytes)
    };
    written.map_err(|e| failed(format!("cannot write {}: {e}", path.display())))
}
