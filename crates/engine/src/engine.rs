//! The engine handle: what the desktop shell and the CLI call.
//!
//! Each method validates, writes to the store, then tells the scheduler loop, and returns once
//! the loop has applied the change: an edit is in effect when the call returns.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, Semaphore, broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::conditions::ConditionSource;
use crate::domain::validate::validate_spec;
use crate::domain::{
    Job, JobId, JobSpec, MissedGap, Run, RunId, RunOverrides, RunValueKind, RunValues, Trigger,
    ValidationErrors,
};
use crate::error::EngineError;
use crate::executor::Executor;
use crate::lease::{LEASE_TTL, Lease, RENEW_EVERY, SchedulerHolder, SchedulerRole};
use crate::logs::LogStore;
use crate::retention::{self, RetentionPolicy};
use crate::schedule::{FireTime, Schedule, preview};
use crate::scheduler::{Command, LoadedJob, Scheduler, SchedulerParts};
use crate::secrets::{KnownSecrets, SecretLocation, SecretStorage, SecretStoreStatus, Vault};
use crate::store::{
    DayOutcomes, JobReplacement, MissedFilter, OutcomeCounts, RunFilter, RunMark, RunWindow, Store,
    StoreError,
};

use crate::events::NEXT_DUE_BASIS_SETTING;
pub use crate::events::{EngineEvent, PAUSED_SETTING};

/// Whether and how an engine fires schedules (decisions/0003: one scheduler per database).
#[derive(Debug, Clone)]
pub enum Scheduling {
    /// Schedules, without a lease (a database no other process opens: tests, benchmarks).
    Always,
    /// Schedules under this lease, taken by the caller (`sundialctl daemon`). The engine renews
    /// it and gives it back at shutdown; if it is lost, the engine stops firing at once and
    /// its role becomes passive (the daemon then exits).
    Lease(Lease),
    /// Takes the lease whenever it is free and schedules while it holds it; passive until
    /// then, following the holder's work through the change feed (the desktop app).
    Compete {
        /// What this process is, for the other processes' "who schedules": "Sundial app".
        holder: String,
    },
    /// Never schedules and never touches other processes' runs (the CLI's one-shot commands):
    /// it edits jobs and runs them on request.
    Never,
}

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
    pub scheduling: Scheduling,
    /// After a wake, the catch-up runs of several jobs start this far apart (in the order
    /// their firings fell due) rather than all in one instant; 0 starts them together. The
    /// global cap applies on top.
    pub catch_up_stagger: std::time::Duration,
    /// Where secret values rest (decisions/0011). The database by default, so tests never
    /// touch the user's keychain; the app and the CLI choose [`SecretStorage::os`].
    pub secrets: SecretStorage,
    /// Every secret value seen, for the application log's writer ([`crate::secrets::RedactingWriter`]).
    pub known_secrets: KnownSecrets,
    /// The machine's power and network state, for jobs with conditions (decisions/0019):
    /// the system's by default, a [`crate::FakeConditions`] in tests.
    pub conditions: Arc<dyn ConditionSource>,
}

/// One job of a batch written by [`Engine::write_jobs`].
#[derive(Debug, Clone)]
pub enum JobWrite {
    /// A new job, with the id it will have (so that another job of the batch can run after it).
    Create { id: JobId, spec: JobSpec },
    /// A new definition of an existing job, based on the revision the caller read.
    Replace {
        id: JobId,
        spec: JobSpec,
        expected_revision: i64,
    },
}

/// The default of [`EngineConfig::catch_up_stagger`].
pub const DEFAULT_CATCH_UP_STAGGER: std::time::Duration = std::time::Duration::from_secs(1);

impl EngineConfig {
    pub fn new(database: impl Into<PathBuf>) -> Self {
        Self {
            database: database.into(),
            max_parallel: std::thread::available_parallelism().map_or(2, usize::from),
            hold_paused_clock: false,
            logs: None,
            scheduling: Scheduling::Always,
            catch_up_stagger: DEFAULT_CATCH_UP_STAGGER,
            secrets: SecretStorage::Database,
            known_secrets: KnownSecrets::default(),
            conditions: crate::conditions::system(),
        }
    }

    /// A passive engine: see [`Scheduling::Never`].
    pub fn passive(database: impl Into<PathBuf>) -> Self {
        Self {
            scheduling: Scheduling::Never,
            ..Self::new(database)
        }
    }

    /// An engine that schedules while it holds the lease: see [`Scheduling::Compete`].
    pub fn competing(database: impl Into<PathBuf>, holder: impl Into<String>) -> Self {
        Self {
            scheduling: Scheduling::Compete {
                holder: holder.into(),
            },
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
    /// Who schedules, as this process sees it; the lease keeper and the follower change it.
    role: watch::Sender<SchedulerRole>,
    /// Wakes the lease keeper at once (the feed saw the lease change hands).
    lease_poke: Arc<Notify>,
    /// The lease keeper and the change-feed follower: told to stop at shutdown.
    background: Mutex<Vec<(CancellationToken, JoinHandle<()>)>>,
    parallel: Arc<ParallelLimit>,
    health: crate::health::Health,
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
    /// Opens the database and starts the scheduler loop. An engine that schedules (see
    /// [`Scheduling`]) first marks runs left going by a crashed process as interrupted; its
    /// loop then applies each job's missed-run policy. Every engine but a one-shot one follows
    /// the other processes' writes through the change feed.
    pub async fn start(
        config: EngineConfig,
        clock: Arc<dyn Clock>,
        executor: Arc<dyn Executor>,
    ) -> Result<Engine, EngineError> {
        let store = Store::open_with(&config.database, config.hold_paused_clock).await?;
        let chose_keychain = matches!(config.secrets, SecretStorage::Keychain(_));
        let vault = Vault::choose(
            config.secrets.clone(),
            config.known_secrets.clone(),
            &config.database.display().to_string(),
        )
        .await;
        store.set_vault(Arc::new(vault));
        match store.relocate_secrets().await {
            Ok(moved) if moved.to_keychain + moved.to_database > 0 => tracing::info!(
                to_keychain = moved.to_keychain,
                to_database = moved.to_database,
                "moved secrets to where this process keeps them"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not move the stored secrets"),
        }
        let status = store.vault().status();
        if status.location == SecretLocation::Database && chose_keychain || status.unreadable > 0 {
            tracing::warn!("{}", status.message);
        } else {
            tracing::info!("{}", status.message);
        }
        // Read before anything this engine writes: the follower applies what comes after.
        let feed_start = store.latest_change().await?;
        let always = matches!(config.scheduling, Scheduling::Always);
        let (lease, compete) = match config.scheduling {
            Scheduling::Always | Scheduling::Never => (None, None),
            Scheduling::Lease(lease) => (Some(lease), None),
            Scheduling::Compete { holder } => {
                match Lease::acquire(&store, &holder, clock.now(), LEASE_TTL).await? {
                    Ok(lease) => (Some(lease), Some(holder)),
                    Err(held) => {
                        tracing::warn!(
                            holder = %held.0.holder, pid = held.0.pid, host = %held.0.host,
                            "another scheduler holds the lease; this process shows and edits jobs, and takes over when it stops"
                        );
                        (None, Some(holder))
                    }
                }
            }
        };
        let schedules = lease.is_some() || always;
        let role = if schedules {
            SchedulerRole::Active {
                since: lease.as_ref().map_or(clock.now(), |l| l.record().since),
            }
        } else if compete.is_some() {
            SchedulerRole::Passive {
                holder: store
                    .current_lease()
                    .await?
                    .map(|r| SchedulerHolder::from(&r)),
            }
        } else {
            SchedulerRole::Never
        };
        store.set_fence(lease.as_ref().map(|l| l.record().token.clone()));
        let prepared = if schedules {
            prepare_to_schedule(&store, config.logs.as_ref(), clock.now()).await?
        } else {
            Prepared {
                trust_next_due: false,
                paused: store.get_setting(PAUSED_SETTING).await?.as_deref() == Some("true"),
                retention: RetentionPolicy::load(&store).await?,
                rearm: Vec::new(),
            }
        };
        if let (Some(logs), true) = (config.logs.clone(), schedules) {
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
        let jobs = load_jobs(&store, prepared.trust_next_due).await?;
        let parallel = Arc::new(ParallelLimit::new(config.max_parallel));
        let (events, _) = broadcast::channel(4096);
        let health = crate::health::Health::new(events.clone());
        let (commands, command_rx) = mpsc::unbounded_channel();
        let scheduler = Scheduler::new(
            SchedulerParts {
                store: store.clone(),
                store_next_due: schedules,
                clock: clock.clone(),
                executor,
                events: events.clone(),
                permits: parallel.semaphore(),
                paused: prepared.paused,
                held: !schedules,
                logs: config.logs.clone(),
                health: health.clone(),
                // Only the scheduling engine prunes; a passive one leaves history be.
                retention: if schedules {
                    prepared.retention
                } else {
                    RetentionPolicy::none()
                },
                catch_up_stagger: config.catch_up_stagger,
                rearm: prepared.rearm,
                conditions: config.conditions.clone(),
            },
            jobs,
        );
        release_freed_memory();
        let task = tokio::spawn(scheduler.run(command_rx));
        let never = matches!(role, SchedulerRole::Never);
        let engine = Engine {
            inner: Arc::new(Inner {
                store,
                logs: config.logs,
                clock,
                commands,
                events,
                task: Mutex::new(Some(task)),
                role: watch::Sender::new(role),
                lease_poke: Arc::new(Notify::new()),
                background: Mutex::new(Vec::new()),
                parallel,
                health,
            }),
        };
        let mut background = Vec::new();
        if lease.is_some() || compete.is_some() {
            let stop = CancellationToken::new();
            let keeper = tokio::spawn(keep_lease(engine.clone(), lease, compete, stop.clone()));
            background.push((stop, keeper));
        }
        if !never {
            let stop = CancellationToken::new();
            let follower =
                crate::follow::spawn(engine.clone(), &config.database, feed_start, stop.clone());
            background.push((stop, follower));
        }
        *engine
            .inner
            .background
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = background;
        Ok(engine)
    }

    /// Where this process keeps secret values, in words for Settings.
    pub fn secret_store_status(&self) -> SecretStoreStatus {
        self.inner.store.vault().status()
    }

    /// Who schedules this database's jobs, as this process sees it.
    pub fn scheduler_role(&self) -> SchedulerRole {
        self.inner.role.borrow().clone()
    }

    /// Whether this process fires schedules now.
    pub fn is_scheduling(&self) -> bool {
        matches!(*self.inner.role.borrow(), SchedulerRole::Active { .. })
    }

    fn set_role(&self, role: SchedulerRole) {
        let changed = self.inner.role.send_if_modified(|current| {
            if *current == role {
                false
            } else {
                *current = role;
                true
            }
        });
        if changed {
            let _ = self.inner.events.send(EngineEvent::SchedulerChanged);
        }
    }

    /// This process took the lease: bring the loop to what is stored now and schedule.
    async fn take_over(&self, lease: &Lease) -> Result<(), EngineError> {
        let store = &self.inner.store;
        store.set_fence(Some(lease.record().token.clone()));
        let prepared = prepare_to_schedule(store, self.inner.logs.as_ref(), self.now()).await?;
        let jobs = load_jobs(store, prepared.trust_next_due).await?;
        self.ask(|ack| Command::Activate {
            jobs,
            paused: prepared.paused,
            retention: prepared.retention,
            rearm: prepared.rearm,
            ack,
        })
        .await?;
        tracing::info!("this process took the scheduler lease and schedules from now on");
        self.set_role(SchedulerRole::Active {
            since: lease.record().since,
        });
        let _ = self.inner.events.send(EngineEvent::PauseChanged {
            paused: prepared.paused,
        });
        Ok(())
    }

    /// This process lost the lease: stop firing at once.
    async fn step_down(&self) {
        self.inner.store.set_fence(None);
        let _ = self.ask(|ack| Command::Hold { ack }).await;
        let holder = self
            .inner
            .store
            .current_lease()
            .await
            .ok()
            .flatten()
            .map(|r| SchedulerHolder::from(&r));
        self.set_role(SchedulerRole::Passive { holder });
    }

    /// Wakes the lease keeper (the lease changed hands in the database).
    pub(crate) fn poke_lease(&self) {
        self.inner.lease_poke.notify_one();
    }

    /// Tells this engine's listeners (the follower relays other processes' changes).
    pub(crate) fn emit(&self, event: EngineEvent) {
        let _ = self.inner.events.send(event);
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

    /// How far apart the catch-ups of several jobs start after a wake (see
    /// [`EngineConfig::catch_up_stagger`]); applies from the next wake.
    pub fn set_catch_up_stagger(&self, stagger: std::time::Duration) {
        let _ = self.inner.commands.send(Command::SetStagger(stagger));
    }

    /// The system's time-zone setting may have changed: the scheduler looks now.
    pub(crate) fn zone_may_have_changed(&self) {
        let _ = self.inner.commands.send(Command::CheckZone);
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

    pub async fn create_job(&self, spec: JobSpec) -> Result<Job, EngineError> {
        let now = self.now();
        let job = self.prepare_new(JobId::new(), spec, now)?;
        self.check_upstream(None, &job.spec, &HashMap::new())
            .await?;
        self.inner
            .store
            .insert_job(&job)
            .await
            .map_err(name_taken_as_field_error)?;
        let cursor = job.created_at;
        self.apply(job, cursor).await
    }

    /// Creates several jobs at once, all or none: each is checked as [`Engine::create_job`]
    /// checks one (a problem's field is `jobs[i].field`), then all are written in one
    /// transaction. Nothing is created when any of them is refused or the write fails.
    pub async fn create_jobs(&self, specs: Vec<JobSpec>) -> Result<Vec<Job>, EngineError> {
        self.write_jobs(
            specs
                .into_iter()
                .map(|spec| JobWrite::Create {
                    id: JobId::new(),
                    spec,
                })
                .collect(),
        )
        .await
    }

    /// Creates and replaces jobs in one transaction, all or none (an import). A new job's id
    /// is chosen by the caller so that another job of the batch can run after it; after-job
    /// triggers may name jobs of the batch or stored ones. Every job is checked first, as
    /// [`Engine::create_job`] and [`Engine::update_job`] check one; a problem's field is
    /// `jobs[i].field`, `i` its place in `writes`.
    pub async fn write_jobs(&self, writes: Vec<JobWrite>) -> Result<Vec<Job>, EngineError> {
        let now = self.now();
        let mut errors = ValidationErrors::default();
        let mut new = Vec::new();
        let mut replaced = Vec::new();
        // (index in `writes`, the job, its schedule cursor once written)
        let mut prepared: Vec<(usize, Job, Option<DateTime<Utc>>)> = Vec::new();
        for (index, write) in writes.into_iter().enumerate() {
            let outcome = match write {
                JobWrite::Create { id, spec } => {
                    self.prepare_new(id, spec, now).map(|job| (job, None, None))
                }
                JobWrite::Replace {
                    id,
                    spec,
                    expected_revision,
                } => match self.load(id).await {
                    Ok(stored) => self
                        .prepare_update(&stored, spec, now)
                        .map(|(job, restart)| {
                            let cursor = if restart {
                                now
                            } else {
                                stored.schedule_cursor.unwrap_or(job.created_at)
                            };
                            (job, Some((expected_revision, restart)), Some(cursor))
                        }),
                    Err(e) => Err(e),
                },
            };
            match outcome {
                Ok((job, replacement, cursor)) => {
                    match replacement {
                        None => new.push(job.clone()),
                        Some((expected_revision, restart)) => replaced.push(JobReplacement {
                            job: job.clone(),
                            expected_revision,
                            reset_cursor: restart.then_some(now),
                        }),
                    }
                    prepared.push((index, job, cursor));
                }
                Err(EngineError::Invalid(found)) => {
                    for e in found.0 {
                        errors.push(format!("jobs[{index}].{}", e.field), e.message);
                    }
                }
                Err(other) => return Err(other),
            }
        }
        let batch: HashMap<JobId, &JobSpec> = prepared
            .iter()
            .map(|(_, job, _)| (job.id, &job.spec))
            .collect();
        for (index, job, _) in &prepared {
            if let Err(EngineError::Invalid(found)) =
                self.check_upstream(Some(job.id), &job.spec, &batch).await
            {
                for e in found.0 {
                    errors.push(format!("jobs[{index}].{}", e.field), e.message);
                }
            }
        }
        errors.into_result()?;
        self.inner
            .store
            .write_jobs(&new, &replaced)
            .await
            .map_err(|e| match e {
                StoreError::Sqlx(sqlx::Error::RowNotFound) => {
                    EngineError::not_found("a job being replaced")
                }
                StoreError::RevisionConflict { .. } => EngineError::Conflict(
                    "a job being replaced was changed elsewhere (another window or sundialctl) since it was read; nothing was written: check again".into(),
                ),
                other => name_taken_as_field_error(other),
            })?;
        let mut jobs = Vec::with_capacity(prepared.len());
        for (_, job, cursor) in prepared {
            let cursor = cursor.unwrap_or(job.created_at);
            jobs.push(self.apply(job, cursor).await?);
        }
        Ok(jobs)
    }

    /// A new job from `spec`, checked as creating it checks (masked secrets refused, every
    /// field validated), its interval anchored at `now`.
    fn prepare_new(
        &self,
        id: JobId,
        mut spec: JobSpec,
        now: DateTime<Utc>,
    ) -> Result<Job, EngineError> {
        crate::domain::secrets::keep_masked_secrets(&mut spec, None)?;
        validate_spec(&spec, now, None)?;
        if let Trigger::Interval { anchor, .. } = &mut spec.trigger
            && anchor.is_none()
        {
            *anchor = Some(now);
        }
        Ok(Job {
            id,
            revision: 1,
            created_at: now,
            updated_at: now,
            spec,
        })
    }

    /// The next revision of `stored` with `spec`, checked as an edit is (a masked secret keeps
    /// its stored value); true when its schedule starts afresh.
    fn prepare_update(
        &self,
        stored: &crate::store::StoredJob,
        mut spec: JobSpec,
        now: DateTime<Utc>,
    ) -> Result<(Job, bool), EngineError> {
        let previous = &stored.job.spec;
        crate::domain::secrets::keep_masked_secrets(&mut spec, Some(previous))?;
        validate_spec(&spec, now, Some(previous))?;
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
            id: stored.job.id,
            revision: stored.job.revision + 1,
            created_at: stored.job.created_at,
            updated_at: now,
            spec,
        };
        Ok((job, restart))
    }

    /// Saves an edit made on `expected_revision` of the job; a concurrent edit is a conflict.
    pub async fn update_job(
        &self,
        id: JobId,
        spec: JobSpec,
        expected_revision: i64,
    ) -> Result<Job, EngineError> {
        let now = self.now();
        let stored = self.load(id).await?;
        let (job, restart) = self.prepare_update(&stored, spec, now)?;
        self.check_upstream(Some(id), &job.spec, &HashMap::new())
            .await?;
        self.inner
            .store
            .update_job(&job, expected_revision, restart.then_some(now))
            .await
            .map_err(|e| match e {
                StoreError::Sqlx(sqlx::Error::RowNotFound) => {
                    EngineError::not_found(format!("job {id}"))
                }
                StoreError::RevisionConflict { expected, actual } => EngineError::Conflict(format!(
                    "job “{}” was changed elsewhere (another window or sundialctl) since this edit began: it is now at revision {actual}, this edit was based on {expected}; reload it and make the edit again",
                    stored.job.spec.name
                )),
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
    /// While another process schedules, this is the next firing that process stored.
    pub async fn next_fire(&self, id: JobId) -> Result<Option<DateTime<Utc>>, EngineError> {
        if self.is_scheduling() {
            return self.ask(|ack| Command::NextFire { job_id: id, ack }).await;
        }
        if self.is_paused().await? {
            return Ok(None);
        }
        let Some(stored) = self.inner.store.get_job(id).await? else {
            return Ok(None);
        };
        if !(stored.job.spec.enabled && stored.job.spec.trigger.is_timed()) {
            return Ok(None);
        }
        match stored.next_due {
            Some(next) => Ok(Some(next)),
            // Not stored yet (just edited): what the stored cursor gives.
            None => self.ask(|ack| Command::NextFire { job_id: id, ack }).await,
        }
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
    /// `batch` holds jobs being written with this one (an import), looked at before the store.
    async fn check_upstream(
        &self,
        this: Option<JobId>,
        spec: &JobSpec,
        batch: &HashMap<JobId, &JobSpec>,
    ) -> Result<(), EngineError> {
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
            let upstream = match batch.get(&current) {
                Some(spec) => Some((*spec).clone()),
                None => self.inner.store.get_job(current).await?.map(|s| s.job.spec),
            };
            let Some(upstream) = upstream else {
                if current == *job_id {
                    errors.push(
                        "trigger.job_id",
                        format!("there is no job with id {job_id}"),
                    );
                    return Err(errors.into());
                }
                return Ok(());
            };
            match upstream.trigger {
                Trigger::AfterJob { job_id: next, .. } => {
                    if Some(next) == this || seen.contains(&next) {
                        errors.push(
                            "trigger.job_id",
                            format!(
                                "this would make a loop: “{}” already runs after this job",
                                upstream.name
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
        self.run_now_with(id, RunOverrides::default()).await
    }

    /// "Run now with…": starts one run with environment values set and arguments appended
    /// (command and script jobs). Checked first: every problem comes back as a field error
    /// (`env[i].name`, `env[i].value`, `args[i]`, `env`, `args`) and nothing runs. The run row
    /// records the overrides, so history shows them and a retry of the run keeps them.
    pub async fn run_now_with(
        &self,
        id: JobId,
        overrides: RunOverrides,
    ) -> Result<Run, EngineError> {
        let job = Box::new(self.get_job(id).await?);
        overrides.validate(&job)?;
        let overrides = (!overrides.is_empty()).then_some(overrides);
        self.ask(|ack| Command::RunNow {
            job,
            overrides,
            ack,
        })
        .await?
    }

    /// A run's log from `from_line` on, then its new lines as they are written, until the run
    /// ends, whichever process runs it: this one's are followed as its writer goes, another
    /// process's (the daemon's, a `sundialctl jobs run`) by looking at the file until the change
    /// feed reports the run finished.
    pub async fn follow_run_log(
        &self,
        run: RunId,
        from_line: u64,
    ) -> Result<crate::logs::LogFollow, EngineError> {
        let logs = self
            .inner
            .logs
            .as_ref()
            .ok_or_else(|| EngineError::not_found("run logs (this engine keeps none)"))?;
        // Subscribed before the status is read, so an end reported in between is not missed.
        let mut events = self.subscribe();
        let status = self.get_run(run).await?.status;
        if logs.is_live(run) || status.is_terminal() {
            return Ok(logs.follow(run, from_line)?);
        }
        let store = self.inner.store.clone();
        let finished = async move {
            let ended =
                |status: Option<crate::domain::RunStatus>| status.is_none_or(|s| s.is_terminal());
            loop {
                let event = tokio::time::timeout(EXTERNAL_RUN_CHECK, events.recv()).await;
                let done = match event {
                    Ok(Ok(EngineEvent::RunChanged { run_id, status, .. })) if run_id == run => {
                        status.is_terminal()
                    }
                    Ok(Ok(_)) => false,
                    Ok(Err(broadcast::error::RecvError::Closed)) => true,
                    // Missed events, or the safety net: the row says.
                    Ok(Err(broadcast::error::RecvError::Lagged(_))) | Err(_) => {
                        ended(store.get_run(run).await.ok().flatten().map(|r| r.status))
                    }
                };
                if done {
                    return;
                }
            }
        };
        Ok(logs.follow_external(run, from_line, EXTERNAL_LOG_POLL, finished)?)
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

    /// What a run wrote to its `SUNDIAL_OUTPUT` file and what its upstream run passed to it
    /// (domain/passing.rs).
    pub async fn run_values(&self, id: RunId) -> Result<RunValues, EngineError> {
        let run = self.get_run(id).await?;
        let store = &self.inner.store;
        Ok(RunValues {
            output: store.run_values(id, RunValueKind::Output).await?,
            passed: store.values_to_pass(&run).await?,
        })
    }

    /// The missed-run ledger: one entry per job per gap, newest first.
    pub async fn missed_gaps(&self, filter: &MissedFilter) -> Result<Vec<MissedGap>, EngineError> {
        Ok(self.inner.store.missed_gaps(filter).await?)
    }

    /// Jobs whose trigger cannot work now (a file-arrives job's folder is gone or unreadable),
    /// with why in words and since when. Recorded by the scheduling process, read by any.
    pub async fn trigger_problems(
        &self,
    ) -> Result<std::collections::HashMap<JobId, (String, DateTime<Utc>)>, EngineError> {
        Ok(self.inner.store.trigger_problems().await?)
    }

    /// How many runs are going now, in this process or any other on the database.
    pub async fn running_count(&self) -> Result<u32, EngineError> {
        Ok(self.inner.store.count_running().await?)
    }

    /// Ids of the runs handed to this process's executor (running or waiting for a slot).
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
    /// From a process that does not schedule, this writes the shared state, which the
    /// scheduler applies at once through the change feed.
    pub async fn pause(&self) -> Result<(), EngineError> {
        self.set_paused(true).await
    }

    /// Resumes scheduling from now; firings that fell inside the pause do not run.
    pub async fn resume(&self) -> Result<(), EngineError> {
        self.set_paused(false).await
    }

    async fn set_paused(&self, paused: bool) -> Result<(), EngineError> {
        let persist = self.is_scheduling();
        if !persist {
            self.inner
                .store
                .set_setting(PAUSED_SETTING, if paused { "true" } else { "false" })
                .await?;
        }
        self.ask(|ack| Command::SetPaused {
            paused,
            persist,
            ack,
        })
        .await?
    }

    /// Another process changed the shared pause state: follow it.
    pub(crate) async fn follow_pause(&self) -> Result<(), EngineError> {
        let paused = self.is_paused().await?;
        self.ask(|ack| Command::SetPaused {
            paused,
            persist: false,
            ack,
        })
        .await?
    }

    /// Another process changed the retention policy: the scheduler applies it.
    pub(crate) async fn follow_retention(&self) -> Result<(), EngineError> {
        if !self.is_scheduling() {
            return Ok(());
        }
        let policy = RetentionPolicy::load(&self.inner.store).await?;
        self.ask(|ack| Command::SetRetention { policy, ack }).await
    }

    /// After missing changes (the feed was pruned past this reader): every job reloaded.
    pub(crate) async fn reload_all(&self) -> Result<(), EngineError> {
        let stored: Vec<JobId> = self
            .inner
            .store
            .job_revisions()
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let held = self.ask(|ack| Command::JobIds { ack }).await?;
        for id in held.iter().filter(|id| !stored.contains(id)).chain(&stored) {
            self.reload_job(*id).await?;
        }
        self.follow_pause().await?;
        self.follow_retention().await
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
        let schedule = Schedule::from_trigger_in(trigger, now, self.inner.clock.zone()).map_err(
            |message| {
                let mut errors = ValidationErrors::default();
                let field = match trigger {
                    Trigger::Cron { .. } if message.contains("time zone") => "trigger.timezone",
                    Trigger::Cron { .. } => "trigger.expr",
                    _ => "trigger",
                };
                errors.push(field, message);
                EngineError::Invalid(errors)
            },
        )?;
        Ok(preview(&schedule, now, count.min(1000)))
    }

    /// A stored job's next `count` firings after now, as its schedule gives them (anchored
    /// where the scheduler anchors it), with daylight-saving notes. Empty for a manual or
    /// after-job trigger; disabled jobs and a pause are the caller's to say.
    pub async fn next_firings(
        &self,
        id: JobId,
        count: usize,
    ) -> Result<Vec<FireTime>, EngineError> {
        let job = self.get_job(id).await?;
        let Ok(schedule) =
            Schedule::from_trigger_in(&job.spec.trigger, job.created_at, self.inner.clock.zone())
        else {
            return Ok(Vec::new());
        };
        Ok(preview(&schedule, self.now(), count.min(1000)))
    }

    /// The firings of every enabled job from now until `until`, at most `per_job` each, in
    /// time order; none while paused (nothing would fire).
    pub async fn upcoming_firings(
        &self,
        until: DateTime<Utc>,
        per_job: usize,
    ) -> Result<Vec<(JobId, DateTime<Utc>)>, EngineError> {
        if self.is_paused().await? {
            return Ok(Vec::new());
        }
        let now = self.now();
        let mut out = Vec::new();
        for job in self.list_jobs().await? {
            if !job.spec.enabled {
                continue;
            }
            if let Ok(schedule) = Schedule::from_trigger_in(
                &job.spec.trigger,
                job.created_at,
                self.inner.clock.zone(),
            ) {
                for at in schedule.fires_between(now, until, per_job) {
                    out.push((job.id, at));
                }
            }
        }
        out.sort_by_key(|(_, at)| *at);
        Ok(out)
    }

    // ----- pictures (aggregates computed in SQLite: store/views.rs) ---------------------

    /// The newest `per_job` runs of every job, oldest first within each job.
    pub async fn recent_runs_per_job(&self, per_job: u32) -> Result<Vec<RunMark>, EngineError> {
        Ok(self.inner.store.recent_runs_per_job(per_job).await?)
    }

    /// How the runs of one job (or all) scheduled since `since` ended.
    pub async fn outcome_counts(
        &self,
        job_id: Option<JobId>,
        since: DateTime<Utc>,
    ) -> Result<OutcomeCounts, EngineError> {
        Ok(self.inner.store.outcome_counts(job_id, since).await?)
    }

    /// Runs of every job overlapping `[from, to)`, at most `limit`.
    pub async fn runs_in_window(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<RunWindow, EngineError> {
        Ok(self.inner.store.runs_in_window(from, to, limit).await?)
    }

    /// Runs per local day of one job (or all) in `[from, to)`.
    pub async fn daily_outcomes(
        &self,
        job_id: Option<JobId>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DayOutcomes>, EngineError> {
        Ok(self.inner.store.daily_outcomes(job_id, from, to).await?)
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
        // The lease is given back only now, once every run of this process is recorded.
        let background = std::mem::take(
            &mut *self
                .inner
                .background
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for (stop, task) in background {
            stop.cancel();
            let _ = task.await;
        }
        self.inner.store.close().await;
    }
}

/// How often a log another process writes is looked at for new lines while followed.
const EXTERNAL_LOG_POLL: std::time::Duration = std::time::Duration::from_millis(200);
/// How often the row of a run another process runs is read while its log is followed, in case
/// the change feed's report of its end was missed.
const EXTERNAL_RUN_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// What a scheduler needs from the store before it starts firing.
struct Prepared {
    trust_next_due: bool,
    paused: bool,
    retention: RetentionPolicy,
    /// Runs the last scheduler left waiting, for this one to re-arm.
    rearm: Vec<Run>,
}

/// Before this process schedules (at start, or when it takes the lease over): the runs the
/// last scheduler left waiting (retries, catch-ups, queued runs) become this one's to re-arm;
/// runs left going by processes that are gone become interrupted (their logs' indexes rebuilt), jobs deleted
/// while they ran are purged, and stored next firings are trusted only if this build computed
/// them (another version's time-zone rules or cron handling may have found other instants).
async fn prepare_to_schedule(
    store: &Store,
    logs: Option<&LogStore>,
    now: DateTime<Utc>,
) -> Result<Prepared, EngineError> {
    // Firings written ahead by a scheduler that is gone: planned again from just before
    // their slots (decisions/0020), before its queued runs are taken in.
    let withdrawn = store.withdraw_orphaned_ahead().await?;
    if !withdrawn.is_empty() {
        tracing::info!(
            count = withdrawn.len(),
            "firings a stopped scheduler wrote ahead are planned again"
        );
    }
    let rearm = store.adopt_queued_runs().await?;
    let interrupted = store.interrupt_unfinished_runs(now).await?;
    crate::runner::end_left_processes(&interrupted, logs, now).await;
    if let Some(logs) = logs {
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
            "runs left going by a process that stopped are now interrupted"
        );
    }
    store.purge_deleted_jobs().await?;
    let basis = concat!("sundial-engine ", env!("CARGO_PKG_VERSION"));
    let trust_next_due = store.get_setting(NEXT_DUE_BASIS_SETTING).await?.as_deref() == Some(basis);
    if !trust_next_due {
        store
            .forget_next_dues(NEXT_DUE_BASIS_SETTING, basis)
            .await?;
    }
    Ok(Prepared {
        trust_next_due,
        paused: store.get_setting(PAUSED_SETTING).await?.as_deref() == Some("true"),
        retention: RetentionPolicy::load(store).await?,
        rearm,
    })
}

async fn load_jobs(store: &Store, trust_next_due: bool) -> Result<Vec<LoadedJob>, EngineError> {
    Ok(store
        .list_jobs()
        .await?
        .into_iter()
        .map(|s| LoadedJob {
            cursor: s.schedule_cursor.unwrap_or(s.job.created_at),
            next_due: s.next_due.filter(|_| trust_next_due),
            job: s.job,
        })
        .collect())
}

/// Gives the heap pages freed after loading every job (the rows as read, their decoded copies)
/// back to the system: glibc keeps them otherwise, and a tray process would hold them all day.
#[allow(unsafe_code)]
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim(3) only returns unused heap memory; it is safe at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Every this many lease renewals (a minute), the holder sweeps for runs whose process is gone
/// and prunes the change feed.
const HOUSEKEEPING_EVERY: u32 = 12;

/// Keeps the scheduler lease: renews it while this process holds it, steps down at once when
/// it is lost, and, for a competing engine, takes it whenever it is free (within a renewal
/// period of the holder's exit, at once when the holder gave it back). Gives it back when
/// told to stop.
async fn keep_lease(
    engine: Engine,
    mut lease: Option<Lease>,
    compete: Option<String>,
    stop: CancellationToken,
) {
    let poke = engine.inner.lease_poke.clone();
    let mut turns: u32 = 0;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(RENEW_EVERY) => {}
            _ = poke.notified() => {}
        }
        turns = turns.wrapping_add(1);
        let now = engine.now();
        match lease.as_mut() {
            Some(held) => match held.renew(now).await {
                Ok(true) => {
                    if turns.is_multiple_of(HOUSEKEEPING_EVERY) {
                        housekeeping(&engine, now).await;
                    }
                }
                Ok(false) => {
                    tracing::error!(
                        "the scheduler lease was lost to another scheduler; this process stops firing jobs"
                    );
                    lease = None;
                    engine.step_down().await;
                }
                Err(e) => tracing::warn!(error = %e, "could not renew the scheduler lease"),
            },
            None => {
                let Some(holder) = &compete else {
                    continue;
                };
                match Lease::acquire(engine.store(), holder, now, LEASE_TTL).await {
                    Ok(Ok(taken)) => match engine.take_over(&taken).await {
                        Ok(()) => lease = Some(taken),
                        Err(e) => {
                            tracing::error!(error = %e, "could not take over scheduling; giving the lease back");
                            engine.inner.store.set_fence(None);
                            let _ = taken.release().await;
                        }
                    },
                    Ok(Err(held)) => engine.set_role(SchedulerRole::Passive {
                        holder: Some(SchedulerHolder::from(&held.0)),
                    }),
                    Err(e) => tracing::warn!(error = %e, "could not look at the scheduler lease"),
                }
            }
        }
    }
    if let Some(held) = lease
        && let Err(e) = held.release().await
    {
        tracing::warn!(error = %e, "could not give the scheduler lease back");
    }
}

/// The lease holder's chores: runs whose process died (a killed `sundialctl jobs run`) become
/// interrupted, and the change feed keeps its newest rows only.
async fn housekeeping(engine: &Engine, now: DateTime<Utc>) {
    let store = engine.store();
    match store.interrupt_orphaned_runs(now).await {
        Ok(runs) => {
            crate::runner::end_left_processes(&runs, engine.logs(), now).await;
            for run in runs {
                tracing::warn!(run = %run.id, "a run's process is gone; the run is now interrupted");
                engine.emit(EngineEvent::RunChanged {
                    run_id: run.id,
                    job_id: run.job_id,
                    status: run.status,
                });
            }
        }
        Err(e) => tracing::warn!(error = %e, "could not look for runs whose process is gone"),
    }
    if let Err(e) = store.prune_changes().await {
        tracing::warn!(error = %e, "could not prune the change feed");
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
