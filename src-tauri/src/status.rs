//! Summaries the window and the tray show: each job with its schedule in words, next fire and
//! last run; and the app-wide status (paused, running count, next run).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sundial_engine::domain::{Job, JobId, Run, Trigger};
use sundial_engine::lease::SchedulerRole;
use sundial_engine::schedule::describe_trigger;
use sundial_engine::secrets::SecretStoreStatus;
use sundial_engine::store::RunFilter;
use sundial_engine::{Engine, EngineError};
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS)]
pub struct JobSummary {
    /// Secrets masked.
    pub job: Job,
    /// The trigger in plain words, from the engine.
    pub schedule: String,
    /// None: paused, disabled, manual, after-job, or no more fires.
    pub next_fire: Option<DateTime<Utc>>,
    pub last_run: Option<Run>,
    /// Why the job's trigger cannot work now (a watched folder that disappeared), if so.
    pub trigger_problem: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct NextRun {
    pub job_id: JobId,
    pub job_name: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct AppStatus {
    pub paused: bool,
    /// Runs going now, in this process or another on the same database (the daemon, the CLI).
    pub running: u32,
    pub next_run: Option<NextRun>,
    /// Who fires the jobs: this app, or another process (the window says which).
    pub scheduler: SchedulerRole,
    /// Why writing to the data folder fails now (the disk is full…), if it does.
    pub storage_problem: Option<String>,
    /// Where secret values are kept: the OS keychain, or (none reachable) the database.
    pub secrets: SecretStoreStatus,
}

pub async fn job_summaries(engine: &Engine) -> Result<Vec<JobSummary>, EngineError> {
    let jobs = engine.list_jobs().await?;
    let mut problems = engine.trigger_problems().await?;
    let mut summaries = Vec::with_capacity(jobs.len());
    for job in &jobs {
        let upstream = match &job.spec.trigger {
            Trigger::AfterJob { job_id, .. } => jobs
                .iter()
                .find(|j| j.id == *job_id)
                .map(|j| j.spec.name.as_str()),
            _ => None,
        };
        let last_run = engine
            .list_runs(&RunFilter {
                job_id: Some(job.id),
                limit: 1,
                ..RunFilter::default()
            })
            .await?
            .into_iter()
            .next();
        summaries.push(JobSummary {
            schedule: describe_trigger(&job.spec.trigger, upstream),
            next_fire: engine.next_fire(job.id).await?,
            last_run,
            trigger_problem: problems.remove(&job.id).map(|(why, _)| why),
            job: job.masked(),
        });
    }
    Ok(summaries)
}

pub async fn app_status(engine: &Engine) -> Result<AppStatus, EngineError> {
    let paused = engine.is_paused().await?;
    let running = engine.running_count().await?;
    let mut next_run: Option<NextRun> = None;
    for job in engine.list_jobs().await? {
        if let Some(at) = engine.next_fire(job.id).await?
            && next_run.as_ref().is_none_or(|n| at < n.at)
        {
            next_run = Some(NextRun {
                job_id: job.id,
                job_name: job.spec.name,
                at,
            });
        }
    }
    Ok(AppStatus {
        paused,
        running,
        next_run,
        scheduler: engine.scheduler_role(),
        storage_problem: engine.storage_problem(),
        secrets: engine.secret_store_status(),
    })
}
