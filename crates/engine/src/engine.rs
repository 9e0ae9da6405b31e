//! The engine handle: what the desktop shell and the CLI call.
//!
//! Each method validates, writes to the store, then tells the scheduler loop, and returns once
//! the loop has applied the change: an edit is in effect when the call returns.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::{Semaphore, broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::domain::validate::validate_spec;
use crate::domain::{Job, JobId, JobSpec, Run, RunId, Trigger, ValidationErrors};
use crate::error::EngineError;
use crate::executor::Executor;
use crate::logs::LogStore;
use crate::retention::{self, RetentionPolicy};
use crate::schedule::{FireTime, Schedule, preview};
use crate::scheduler::{Command, LoadedJob, Scheduler, SchedulerParts};
use crate::store::{RunFilter, Store, StoreError};

use crate::events::NEXT_DUE_BASIS_SETTING;
pub use crate::events::{EngineEvent, PAUSED_SETTING};

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The SQLite database file.
    pub database: PathBuf,
    /// How many runs may go at once; further runs wait as `queued`.
    pub max_parallel: usize,
    /// For tests under `tokio::time::pause()`: see [`Store::hold_paused_clock`].
    pub hold_paused_clock: bool,
    /// The run logs, so retention and job deletion remove files with their rows.
    pub logs: Option<LogStore>,
    /// False for a passive engine (the CLI's one-shot commands): it edits jobs and runs them
    /// on request, but never fires schedules and leaves runs of another process alone (no
    /// crash recovery at start). Only the holder of the scheduler lease should schedule.
    pub scheduling: bool,
    /// The scheduler lease this engine schedules under (decisions/0003): the engine renews it
    /// while it runs and gives it back in [`Engine::shutdown`], so the next scheduler can start
    /// at once.
    pub lease: Option<crate::lease::Lease>,
}

impl EngineConfig {
    pub fn new(database: impl Into<PathBuf>) -> Self {
        Self {
            database: database.into(),
            max_parallel: std::thread::available_parallelism().map_or(2, usize::from),
            hold_paused_clock: false,
            logs: None,
            scheduling: true,
            lease: None,
        }
    }

    /// A passive engine: see [`EngineConfig::scheduling`].
    pub fn passive(database: impl Into<PathBuf>) -> Self {
        Self {
            scheduling: false,
            ..Self::new(database)
        }
    }
}

#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    logs: Option<LogStore>,
    clock: Arc<dyn Clock>,
    commands: mpsc::UnboundedSender<Command>,
    events: broadcast::Sender<EngineEvent>,
    task: Mutex<Option<JoinHandle<()>>>,
    scheduling: bool,
    /// The lease keeper: told to stop (and give the lease back) at shutdown.
    lease_task: Mutex<Option<(tokio_util::sync::CancellationToken, JoinHandle<()>)>>,
    parallel: Arc<ParallelLimit>,
    health: crate::health::Health,
}

/// A job shown to the user has its secrets masked ([`Job::masked`]); saved back unchanged,
/// a masked value keeps the value stored for that variable, so an edit of another field never
/// overwrites a secret with its mask. A mask with no stored secret behind it is refused.
fn restore_masked_secrets(spec: &mut JobSpec, previous: &JobSpec) -> Result<(), EngineError> {
    use crate::domain::SECRET_MASK;
    use crate::files::jobfile::{secret_vars, stored_secret};
    let mut errors = ValidationErrors::default();
    for (field, var) in secret_vars(&mut spec.kind) {
        if var.secret && var.value == SECRET_MASK {
            match stored_secret(&previous.kind, &field, &var.name) {
                Some(value) => var.value = value.to_string(),
                None => errors.push(
                    format!("{field}.value"),
                    format!(
                        "is the mask of secret {:?}, not its value: type the value",
                        var.name
                    ),
                ),
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(EngineError::Invalid(errors))
    }
}

/// The global cap on runs going at once, changeable while runs go: raising it lets queued
/// runs start at once; lowering it lets the runs going finish and starts new ones only below
/// the new cap.
struct ParallelLimit {
    permits: Arc<Semaphore>,
    cap: std::sync::Mutex<usize>,
}

impl ParallelLimit {
    fn new(cap: usize) -> Self {
        let cap = cap.max(1);
        Self {
            permits: Arc::new(Semaphore::new(cap)),
            cap: std::sync::Mutex::new(cap),
        }
    }

    fn semaphore(&self) -> Arc<Semaphore> {
        self.permits.clone()
    }

    fn get(&self) -> usize {
        *self.cap.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, cap: usize) {
        let cap = cap.max(1);
        let mut current = self.cap.lock().unwrap_or_else(|e| e.into_inner());
        if cap > *current {
            self.permits.add_permits(cap - *current);
        } else if cap < *current {
            // Take the surplus permits as they come free, and drop them for good. The
            // semaphore is fair, so runs queued after this wait for the lower cap.
            let surplus = u32::try_from(*current - cap).unwrap_or(u32::MAX);
            let permits = self.permits.clone();
            tokio::spawn(async move {
                if let Ok(taken) = permits.acquire_many_owned(surplus).await {
                    taken.forget();
                }
            });
        }
        *current = cap;
    }
}

impl Engine {
    /// Opens the database, marks runs left going by a crash as interrupted, and starts the
    /// scheduler loop, which first applies each job's missed-run policy.
    pub async fn start(
        config: EngineConfig,
        clock: Arc<dyn Clock>,
        executor: Arc<dyn Executor>,
    ) -> Result<Engine, EngineError> {
        let store = Store::open_with(&config.database, config.hold_paused_clock).await?;
        let now = clock.now();
        let interrupted = if config.scheduling {
            store.interrupt_unfinished_runs(now).await?
        } else {
            Vec::new()
        };
        if let Some(logs) = &config.logs {
            // Lines written after the last index update before the crash are in the file; the
            // rebuilt index makes them visible, and the run row gets the true size.
            for run in &interrupted {
                match logs.rebuild_index(run.id) {
                    Ok(stats) => {
                        store
                            .set_log_stats(run.id, stats.bytes, stats.lines)
                            .await?
                    }
                    Err(crate::logs::LogError::NotFound(_)) => {}
                    Err(e) => {
                        tracing::warn!(run = %run.id, error = %e, "could not rebuild a run log's index")
                    }
                }
            }
        }
        if !interrupted.is_empty() {
            tracing::warn!(
                count = interrupted.len(),
                "runs left going by a previous stop are now interrupted"
            );
        }
        if config.scheduling {
            store.purge_deleted_jobs().await?;
        }
        // A passive engine's loop is held paused (in memory only): it never fires schedules.
        let paused = !config.scheduling
            || store.get_setting(PAUSED_SETTING).await?.as_deref() == Some("true");
        let retention = RetentionPolicy::load(&store).await?;
        if let (Some(logs), true) = (config.logs.clone(), config.scheduling) {
            let store = store.clone();
            tokio::spawn(async move {
                match retention::sweep_orphan_logs(&store, &logs).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(count = n, "removed log files of runs that no longer exist")
                    }
                    Err(e) => tracing::warn!(error = %e, "could not sweep orphan run logs"),
                }
            });
        }
        // Stored next firings are trusted only if this build computed them: another version
        // (its time-zone rules or cron handling) may have found other instants.
        let basis = concat!("sundial-engine ", env!("CARGO_PKG_VERSION"));
        let trust_next_due =
            store.get_setting(NEXT_DUE_BASIS_SETTING).await?.as_deref() == Some(basis);
        if config.scheduling && !trust_next_due {
            store
                .forget_next_dues(NEXT_DUE_BASIS_SETTING, basis)
                .await?;
        }
        let jobs = store
            .list_jobs()
            .await?
            .into_iter()
            .map(|s| LoadedJob {
                cursor: s.schedule_cursor.unwrap_or(s.job.created_at),
                next_due: s.next_due.filter(|_| trust_next_due),
                job: s.job,
            })
            .collect();
        let parallel = Arc::new(ParallelLimit::new(config.max_parallel));
        let (events, _) = broadcast::channel(4096);
        let health = crate::health::Health::new(events.clone());
        let (commands, command_rx) = mpsc::unbounded_channel();
        let scheduler = Scheduler::new(
            SchedulerParts {
                store: store.clone(),
                store_next_due: config.scheduling,
                clock: clock.clone(),
                executor,
                events: events.clone(),
                permits: parallel.semaphore(),
                paused,
                logs: config.logs.clone(),
                health: health.clone(),
                // Only the scheduling engine prunes; a passive one (the CLI) leaves history be.
                retention: if config.scheduling {
                    retention
                } else {
                    RetentionPolicy {
                        keep_runs: None,
                        keep_days: None,
                    }
                },
            },
            jobs,
        );
        let task = tokio::spawn(scheduler.run(command_rx));
        let lease_task = config.lease.map(|lease| {
            let stop = tokio_util::sync::CancellationToken::new();
            let keeper = tokio::spawn(keep_lease(lease, clock.clone(), stop.clone()));
            (stop, keeper)
        });
        Ok(Engine {
            inner: Arc::new(Inner {
                store,
                logs: config.logs,
                clock,
                commands,
                events,
                task: Mutex::new(Some(task)),
                scheduling: config.scheduling,
                lease_task: Mutex::new(lease_task),
                parallel,
                health,
            }),
        })
    }

    /// Why writing to the data folder fails now (e.g. the disk is full), or None when it
    /// works; [`EngineEvent::StorageChanged`] says when this changes.
    pub fn storage_problem(&self) -> Option<String> {
        self.inner.health.problem()
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// The run logs this engine was given (share this one: clones know which runs are live).
    pub fn logs(&self) -> Option<&LogStore> {
        self.inner.logs.as_ref()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .commands
            .send(make(tx))
            .map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)
    }

    // ----- jobs -------------------------------------------------------------------------

    pub async fn create_job(&self, mut spec: JobSpec) -> Result<Job, EngineError> {
        let now = self.now();
        validate_spec(&spec, now, None)?;
        self.check_upstream(None, &spec).await?;
        if let Trigger::Interval { anchor, .. } = &mut spec.trigger
            && anchor.is_none()
        {
            *anchor = Some(now);
        }
        let job = Job {
            id: JobId::new(),
            revision: 1,
            created_at: now,
            updated_at: now,
            spec,
        };
        self.inner
            .store
            .insert_job(&job)
            .await
            .map_err(name_taken_as_field_error)?;
        let cursor = job.created_at;
        self.apply(job, cursor).await
    }

    /// Saves an edit made on `expected_revision` of the job; a concurrent edit is a conflict.
    pub async fn update_job(
        &self,
        id: JobId,
        mut spec: JobSpec,
        expected_revision: i64,
    ) -> Result<Job, EngineError> {
        let now = self.now();
        let stored = self.load(id).await?;
        let previous = &stored.job.spec;
        restore_masked_secrets(&mut spec, previous)?;
        validate_spec(&spec, now, Some(previous))?;
        self.check_upstream(Some(id), &spec).await?;
        if let (Trigger::Interval { anchor, .. }, Trigger::Interval { anchor: old, .. }) =
            (&mut spec.trigger, &previous.trigger)
            && anchor.is_none()
        {
            *anchor = old.or(Some(now));
        } else if let Trigger::Interval { anchor, .. } = &mut spec.trigger
            && anchor.is_none()
        {
            *anchor = Some(now);
        }
        // A new trigger, or a job coming back from disabled, starts from now: firings before
        // the edit are not "missed".
        let restart = spec.trigger != previous.trigger || (spec.enabled && !previous.enabled);
        let job = Job {
            id,
            revision: stored.job.revision + 1,
            created_at: stored.job.created_at,
            updated_at: now,
            spec,
        };
        self.inner
            .store
            .update_job(&job, expected_revision, restart.then_some(now))
            .await
            .map_err(|e| match e {
                StoreError::Sqlx(sqlx::Error::RowNotFound) => {
                    EngineError::not_found(format!("job {id}"))
                }
                StoreError::RevisionConflict { .. } => EngineError::Conflict(e.to_string()),
                other => name_taken_as_field_error(other),
            })?;
        let cursor = if restart {
            now
        } else {
            stored.schedule_cursor.unwrap_or(job.created_at)
        };
        self.apply(job, cursor).await
    }

    /// Puts a saved job into effect: the loop has applied it when this returns; the UI is told.
    async fn apply(&self, job: Job, cursor: DateTime<Utc>) -> Result<Job, EngineError> {
        let for_loop = Box::new(job.clone());
        self.ask(|ack| Command::Upsert {
            job: for_loop,
            cursor,
            ack,
        })
        .await?;
        let _ = self
            .inner
            .events
            .send(EngineEvent::JobChanged { job_id: job.id });
        Ok(job)
    }

    pub async fn set_enabled(&self, id: JobId, enabled: bool) -> Result<Job, EngineError> {
        let stored = self.load(id).await?;
        if stored.job.spec.enabled == enabled {
            return Ok(stored.job);
        }
        let mut spec = stored.job.spec.clone();
        spec.enabled = enabled;
        self.update_job(id, spec, stored.job.revision).await
    }

    /// Deletes a job and its history. A run of it still going finishes undisturbed; the job
    /// is removed for good when it ends.
    pub async fn delete_job(&self, id: JobId) -> Result<(), EngineError> {
        let now = self.now();
        let runs = self.inner.store.finished_run_ids_of_job(id).await?;
        if !self.inner.store.delete_job(id, now).await? {
            return Err(EngineError::not_found(format!("job {id}")));
        }
        if let Some(logs) = &self.inner.logs {
            for run in runs {
                if let Err(e) = logs.remove(run) {
                    tracing::warn!(run = %run, error = %e, "could not remove a deleted job's run log");
                }
            }
        }
        self.ask(|ack| Command::Remove { job_id: id, ack }).await?;
        let _ = self
            .inner
            .events
            .send(EngineEvent::JobDeleted { job_id: id });
        Ok(())
    }

    pub async fn get_job(&self, id: JobId) -> Result<Job, EngineError> {
        Ok(self.load(id).await?.job)
    }

    pub async fn list_jobs(&self) -> Result<Vec<Job>, EngineError> {
        Ok(self
            .inner
            .store
            .list_jobs()
            .await?
            .into_iter()
            .map(|s| s.job)
            .collect())
    }

    /// When the job fires next (None: paused, disabled, manual, after-job, or no more fires).
    pub async fn next_fire(&self, id: JobId) -> Result<Option<DateTime<Utc>>, EngineError> {
        self.ask(|ack| Command::NextFire { job_id: id, ack }).await
    }

    /// Brings the loop in line with the stored job after another process (the CLI) changed or
    /// deleted it in the shared database.
    pub async fn reload_job(&self, id: JobId) -> Result<(), EngineError> {
        match self.inner.store.get_job(id).await? {
            Some(stored) => {
                let cursor = stored.schedule_cursor.unwrap_or(stored.job.created_at);
                let job = Box::new(stored.job);
                self.ask(|ack| Command::Upsert { job, cursor, ack }).await?;
                let _ = self
                    .inner
                    .events
                    .send(EngineEvent::JobChanged { job_id: id });
            }
            None => {
                self.ask(|ack| Command::Remove { job_id: id, ack }).await?;
                let _ = self
                    .inner
                    .events
                    .send(EngineEvent::JobDeleted { job_id: id });
            }
        }
        Ok(())
    }

    async fn load(&self, id: JobId) -> Result<crate::store::StoredJob, EngineError> {
        self.inner
            .store
            .get_job(id)
            .await?
            .ok_or_else(|| EngineError::not_found(format!("job {id}")))
    }

    /// An after-job trigger must name another existing job and must not close a loop.
    async fn check_upstream(&self, this: Option<JobId>, spec: &JobSpec) -> Result<(), EngineError> {
        let Trigger::AfterJob { job_id, .. } = &spec.trigger else {
            return Ok(());
        };
        let mut errors = ValidationErrors::default();
        if Some(*job_id) == this {
            errors.push("trigger.job_id", "a job cannot run after itself");
            return Err(errors.into());
        }
        let mut seen = vec![*job_id];
        let mut current = *job_id;
        loop {
            let Some(upstream) = self.inner.store.get_job(current).await? else {
                if current == *job_id {
                    errors.push(
                        "trigger.job_id",
                        format!("there is no job with id {job_id}"),
                    );
                    return Err(errors.into());
                }
                return Ok(());
            };
            match upstream.job.spec.trigger {
                Trigger::AfterJob { job_id: next, .. } => {
                    if Some(next) == this || seen.contains(&next) {
                        errors.push(
                            "trigger.job_id",
                            format!(
                                "this would make a loop: “{}” already runs after this job",
                                upstream.job.spec.name
                            ),
                        );
                        return Err(errors.into());
                    }
                    seen.push(next);
                    current = next;
                }
                _ => return Ok(()),
            }
        }
    }

    // ----- runs -------------------------------------------------------------------------

    /// Starts a run now, whatever the schedule and the pause state (subject to the global cap).
    pub async fn run_now(&self, id: JobId) -> Result<Run, EngineError> {
        let job = Box::new(self.get_job(id).await?);
        self.ask(|ack| Command::RunNow { job, ack }).await?
    }

    pub async fn cancel_run(&self, id: RunId) -> Result<(), EngineError> {
        self.ask(|ack| Command::Cancel { run_id: id, ack }).await?
    }

    pub async fn get_run(&self, id: RunId) -> Result<Run, EngineError> {
        self.inner
            .store
            .get_run(id)
            .await?
            .ok_or_else(|| EngineError::not_found(format!("run {id}")))
    }

    pub async fn list_runs(&self, filter: &RunFilter) -> Result<Vec<Run>, EngineError> {
        Ok(self.inner.store.list_runs(filter).await?)
    }

    /// Ids of the runs handed to the executor (running or waiting for a slot).
    pub async fn active_runs(&self) -> Result<Vec<RunId>, EngineError> {
        self.ask(|ack| Command::ActiveRuns { ack }).await
    }

    // ----- retention --------------------------------------------------------------------

    pub async fn retention(&self) -> Result<RetentionPolicy, EngineError> {
        Ok(RetentionPolicy::load(&self.inner.store).await?)
    }

    /// Saves the retention policy and applies it to every job at once.
    pub async fn set_retention(&self, policy: RetentionPolicy) -> Result<(), EngineError> {
        policy.validate()?;
        policy.save(&self.inner.store).await?;
        self.ask(|ack| Command::SetRetention { policy, ack }).await
    }

    // ----- pause and the parallel cap ------------------------------------------------------

    /// How many runs may go at once.
    pub fn max_parallel(&self) -> usize {
        self.inner.parallel.get()
    }

    /// Changes the cap on runs going at once, effective immediately (runs going are never
    /// stopped for it).
    pub fn set_max_parallel(&self, cap: usize) {
        self.inner.parallel.set(cap);
    }

    /// Stops all scheduled firings (runs going are not touched). Persists across restarts.
    pub async fn pause(&self) -> Result<(), EngineError> {
        self.refuse_if_passive()?;
        self.ask(|ack| Command::SetPaused { paused: true, ack })
            .await?
    }

    /// Resumes scheduling from now; firings that fell inside the pause do not run.
    pub async fn resume(&self) -> Result<(), EngineError> {
        self.refuse_if_passive()?;
        self.ask(|ack| Command::SetPaused { paused: false, ack })
            .await?
    }

    /// A passive engine's loop is held paused whatever the setting, so pausing or resuming
    /// through it would record a state it does not apply.
    fn refuse_if_passive(&self) -> Result<(), EngineError> {
        if self.inner.scheduling {
            Ok(())
        } else {
            Err(EngineError::Conflict(
                "this engine does not schedule (it is passive): pause and resume belong to the scheduler that holds the lease".into(),
            ))
        }
    }

    pub async fn is_paused(&self) -> Result<bool, EngineError> {
        Ok(self
            .inner
            .store
            .get_setting(PAUSED_SETTING)
            .await?
            .as_deref()
            == Some("true"))
    }

    // ----- schedules --------------------------------------------------------------------

    /// The next `count` fire times of a trigger, as the scheduler will compute them.
    pub fn preview(&self, trigger: &Trigger, count: usize) -> Result<Vec<FireTime>, EngineError> {
        let now = self.now();
        let schedule = Schedule::from_trigger(trigger, now).map_err(|message| {
            let mut errors = ValidationErrors::default();
            let field = match trigger {
                Trigger::Cron { .. } if message.contains("time zone") => "trigger.timezone",
                Trigger::Cron { .. } => "trigger.expr",
                _ => "trigger",
            };
            errors.push(field, message);
            EngineError::Invalid(errors)
        })?;
        Ok(preview(&schedule, now, count.min(1000)))
    }

    // ----- lifecycle --------------------------------------------------------------------

    /// Stops scheduling. With `cancel_running`, runs going are cancelled; otherwise they are
    /// waited for. Either way each ends with a recorded status. Then the database is closed.
    pub async fn shutdown(&self, cancel_running: bool) {
        let _ = self
            .ask(|ack| Command::Shutdown {
                cancel_running,
                ack,
            })
            .await;
        let task = self
            .inner
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
        let lease = self
            .inner
            .lease_task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some((stop, keeper)) = lease {
            stop.cancel();
            let _ = keeper.await;
        }
        self.inner.store.close().await;
    }
}

/// Renews the scheduler lease until told to stop, then gives it back.
async fn keep_lease(
    mut lease: crate::lease::Lease,
    clock: Arc<dyn Clock>,
    stop: tokio_util::sync::CancellationToken,
) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(crate::lease::RENEW_EVERY) => {
                match lease.renew(clock.now()).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::error!("the scheduler lease was lost to another scheduler");
                        return;
                    }
                    Err(e) => tracing::warn!(error = %e, "could not renew the scheduler lease"),
                }
            }
        }
    }
    if let Err(e) = lease.release().await {
        tracing::warn!(error = %e, "could not give the scheduler lease back");
    }
}

fn name_taken_as_field_error(e: StoreError) -> EngineError {
    match e {
        StoreError::NameTaken(name) => {
            let mut errors = ValidationErrors::default();
            errors.push(
                "name",
                format!("“{name}” is already the name of another job"),
            );
            EngineError::Invalid(errors)
        }
        other => other.into(),
    }
}
