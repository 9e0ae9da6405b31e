//! `sundialctl runs list` and `sundialctl runs missed`.

use chrono::{DateTime, SecondsFormat, Utc};
use clap::Subcommand;
use std::str::FromStr;
use sundial_engine::LogStore;
use sundial_engine::domain::RunStatus;
use sundial_engine::store::{MissedFilter, RunFilter};

use crate::cli::Failure;
use crate::context::{Context, engine_failure, find_job};

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Runs, newest first.
    List {
        /// Only this job's runs (id or name).
        #[arg(long)]
        job: Option<String>,
        /// Only runs with this status (queued, running, succeeded, failed, timed_out,
        /// cancelled, skipped, interrupted); repeatable.
        #[arg(long)]
        status: Vec<String>,
        /// At most this many runs (1 to 10000).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// The missed-run ledger, newest first: one entry per job per gap (a sleep, Sundial not
    /// running, a clock change, a pause), with how many firings were missed and what the job's
    /// missed-run policy did.
    Missed {
        /// Only this job's entries (id or name).
        #[arg(long)]
        job: Option<String>,
        /// At most this many entries (1 to 10000).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// What a run wrote to its `$SUNDIAL_OUTPUT` file for the jobs chained after it, and the
    /// variables the run it was chained after passed to it.
    Values {
        /// The run's id.
        run: String,
    },
}

fn fmt_time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "-".into(),
        |t| t.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}

/// "1.25 s / 212 MiB"; "-" when the run was not measured.
fn fmt_resources(cpu_ms: Option<u64>, peak: Option<u64>) -> String {
    let cpu = cpu_ms.map_or_else(|| "-".into(), |ms| format!("{:.2} s", ms as f64 / 1000.0));
    let peak = peak.map_or_else(
        || "-".into(),
        |b| match b {
            b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
            b if b >= 1 << 20 => format!("{:.0} MiB", b as f64 / (1u64 << 20) as f64),
            b => format!("{} KiB", b.div_ceil(1024)),
        },
    );
    if cpu_ms.is_none() && peak == "-" {
        return "-".into();
    }
    format!("{cpu} / {peak}")
}

pub async fn run(ctx: &Context, cmd: RunsCommand) -> Result<String, Failure> {
    let (job, status, limit) = match cmd {
        RunsCommand::List { job, status, limit } => (job, status, limit),
        RunsCommand::Missed { job, limit } => return missed(ctx, job, limit).await,
        RunsCommand::Values { run } => return values(ctx, &run).await,
    };
    if limit == 0 || limit > 10_000 {
        return Err(Failure::BadInput(format!(
            "--limit {limit}: must be from 1 to 10000"
        )));
    }
    let mut statuses = Vec::new();
    for s in &status {
        statuses.push(RunStatus::from_str(s).map_err(|_| {
            Failure::BadInput(format!(
                "--status {s:?}: use queued, running, succeeded, failed, timed_out, cancelled, skipped or interrupted"
            ))
        })?);
    }
    let engine = ctx.engine().await?;
    let result = async {
        let (job_id, names) = jobs_shown(&engine, &job).await?;
        let runs = engine
            .list_runs(&RunFilter {
                job_id,
                statuses,
                limit,
                ..Default::default()
            })
            .await
            .map_err(engine_failure)?;
        Ok(ctx.output(&runs, || {
            if runs.is_empty() {
                return "no runs\n".into();
            }
            let mut out = format!(
                "{:<26}  {:<24}  {:<11}  {:<9}  {:<20}  {:<20}  {:<19}  {}\n",
                "RUN",
                "JOB",
                "STATUS",
                "REASON",
                "SCHEDULED",
                "FINISHED",
                "CPU / PEAK MEMORY",
                "EXIT"
            );
            for r in &runs {
                let name = names
                    .iter()
                    .find(|(id, _)| *id == r.job_id)
                    .map_or_else(|| r.job_id.to_string(), |(_, n)| n.clone());
                out.push_str(&format!(
                    "{:<26}  {:<24}  {:<11}  {:<9}  {:<20}  {:<20}  {:<19}  {}{}{}\n",
                    r.id,
                    name,
                    r.status.as_str(),
                    r.reason.as_str(),
                    fmt_time(Some(r.scheduled_for)),
                    fmt_time(r.finished_at),
                    fmt_resources(r.cpu_ms, r.peak_memory_bytes),
                    r.exit_code
                        .map(|c| c.to_string())
                        .or(r.http_status.map(|s| format!("HTTP {s}")))
                        .unwrap_or_else(|| "-".into()),
                    r.overrides
                        .as_ref()
                        .map(|o| format!("  {}", o.summary()))
                        .unwrap_or_default(),
                    match (r.status, r.wait.waiting_for) {
                        (RunStatus::Queued, Some(w)) => format!(
                            "  waiting for {} until {}",
                            w.words(),
                            fmt_time(r.wait.wait_until)
                        ),
                        _ => String::new(),
                    }
                ));
            }
            out
        }))
    }
    .await;
    engine.shutdown(false).await;
    result
}

/// The job filter and the names of the jobs shown.
async fn jobs_shown(
    engine: &sundial_engine::Engine,
    job: &Option<String>,
) -> Result<
    (
        Option<sundial_engine::domain::JobId>,
        Vec<(sundial_engine::domain::JobId, String)>,
    ),
    Failure,
> {
    Ok(match job {
        Some(which) => {
            let job = find_job(engine, which).await?;
            (Some(job.id), vec![(job.id, job.spec.name)])
        }
        None => (
            None,
            engine
                .list_jobs()
                .await
                .map_err(engine_failure)?
                .into_iter()
                .map(|j| (j.id, j.spec.name))
                .collect(),
        ),
    })
}

async fn missed(ctx: &Context, job: Option<String>, limit: u32) -> Result<String, Failure> {
    if limit == 0 || limit > 10_000 {
        return Err(Failure::BadInput(format!(
            "--limit {limit}: must be from 1 to 10000"
        )));
    }
    let engine = ctx.engine().await?;
    let result = async {
        let (job_id, names) = jobs_shown(&engine, &job).await?;
        let gaps = engine
            .missed_gaps(&MissedFilter {
                job_id,
                limit,
                ..Default::default()
            })
            .await
            .map_err(engine_failure)?;
        Ok(ctx.output(&gaps, || {
            if gaps.is_empty() {
                return "no missed firings\n".into();
            }
            let mut out = format!(
                "{:<20}  {:<24}  {:>7}  {:<20}  {:<20}  {:<13}  {}\n",
                "NOTICED", "JOB", "MISSED", "FIRST", "LAST", "WHY", "DONE"
            );
            for g in &gaps {
                let name = names
                    .iter()
                    .find(|(id, _)| *id == g.job_id)
                    .map_or_else(|| g.job_id.to_string(), |(_, n)| n.clone());
                let count = if g.counted_all {
                    g.missed.to_string()
                } else {
                    format!(">{}", g.missed)
                };
                let done = match g.ran {
                    0 => "skipped".to_string(),
                    1 => "ran once".to_string(),
                    n => format!("ran {n}"),
                };
                out.push_str(&format!(
                    "{:<20}  {:<24}  {:>7}  {:<20}  {:<20}  {:<13}  {}\n",
                    fmt_time(Some(g.noticed_at)),
                    name,
                    count,
                    fmt_time(Some(g.first_slot)),
                    fmt_time(Some(g.last_slot)),
                    g.cause.as_str(),
                    done
                ));
            }
            out
        }))
    }
    .await;
    engine.shutdown(false).await;
    result
}

async fn values(ctx: &Context, run: &str) -> Result<String, Failure> {
    let id =
        LogStore::parse_run_id(run).map_err(|e| Failure::BadInput(format!("run {run:?}: {e}")))?;
    let engine = ctx.engine().await?;
    let result = engine.run_values(id).await.map_err(engine_failure);
    engine.shutdown(false).await;
    let values = result?;
    Ok(ctx.output(&values, || {
        let mut out = String::new();
        for (title, list) in [
            ("passed by the upstream run", &values.passed),
            ("output for the jobs chained after it", &values.output),
        ] {
            if list.is_empty() {
                continue;
            }
            out.push_str(&format!("{title}:\n"));
            for v in list.iter() {
                out.push_str(&format!("  {}={}\n", v.key, v.value));
            }
        }
        if out.is_empty() {
            out.push_str("nothing passed or written (the run is not part of a pipeline)\n");
        }
        out
    }))
}
