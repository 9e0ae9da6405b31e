//! The scheduler: one task that owns every timing decision.
//!
//! It sleeps on tokio's timer until the earliest deadline, but never longer than
//! [`MAX_NAP`]: tokio's clock stops while the machine sleeps, so each wake compares the wall
//! clock (from the injected [`Clock`]) with what it expected. Due firings go through the
//! missed-run policy ([`catchup`]) and the overlap policy ([`overlap`]); every firing becomes
//! a run row (queued or skipped) before anything is dispatched. Edits, pauses and deletes
//! arrive as commands and apply at once; runs already going are never touched by them.

mod ahead;
mod arrivals;
pub mod catchup;
mod gate;
pub mod overlap;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use tokio::sync::{Semaphore, broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::clock::{Clock, SleepSignal};
use crate::conditions::ConditionSource;
use crate::domain::passing;
use crate::domain::{
    ChainOn, Conditions, Job, JobId, MissedCause, MissedGap, Run, RunId, RunOverrides, RunReason,
    RunStatus, RunValue, Trigger,
};
use crate::error::EngineError;
use crate::events::{EngineEvent, PAUSED_SETTING};
use crate::executor::{Executor, RunOutcome, RunRequest};
use crate::health::{Health, WriteKind};
use crate::logs::{LOG_DISK_FULL, LogStore};
use crate::retention::{self, RetentionPolicy};
use crate::schedule::Schedule;
use crate::store::{CursorUpdate, NextDue, Store, StoreError};
use catchup::plan_due_firings;
use overlap::{OverlapDecision, decide};

pub use crate::clock::MAX_NAP;

/// A wall-clock move this large (against tokio's monotonic clock) counts as a jump.
const JUMP_TOLERANCE_MS: i64 = 1000;

pub(crate) enum Command {
    /// A job was created or edited (or enabled/disabled). `cursor` is its stored cursor.
    Upsert {
        job: Box<Job>,
        cursor: DateTime<Utc>,
        ack: oneshot::Sender<()>,
    },
    Remove {
        job_id: JobId,
        ack: oneshot::Sender<()>,
    },
    RunNow {
        job: Box<Job>,
        /// Validated against `job`; `None` runs the job as it is.
        overrides: Option<RunOverrides>,
        ack: oneshot::Sender<Result<Run, EngineError>>,
    },
    Cancel {
        run_id: RunId,
        ack: oneshot::Sender<Result<(), EngineError>>,
    },
    /// `persist`: write the shared pause state too (false when another process wrote it and
    /// this loop only follows).
    SetPaused {
        paused: bool,
        persist: bool,
        ack: oneshot::Sender<Result<(), EngineError>>,
    },
    /// This process took the scheduler lease: schedule these jobs (as stored now) from here on.
    Activate {
        jobs: Vec<LoadedJob>,
        paused: bool,
        retention: RetentionPolicy,
        /// Runs a scheduler before this one left waiting (retries, catch-ups, queued runs).
        rearm: Vec<Run>,
        ack: oneshot::Sender<()>,
    },
    /// This process lost (or never had) the lease: stop firing at once; runs going finish.
    Hold {
        ack: oneshot::Sender<()>,
    },
    /// The ids of the jobs the loop holds (to compare with the store after missed changes).
    JobIds {
        ack: oneshot::Sender<Vec<JobId>>,
    },
    NextFire {
        job_id: JobId,
        ack: oneshot::Sender<Option<DateTime<Utc>>>,
    },
    ActiveRuns {
        ack: oneshot::Sender<Vec<RunId>>,
    },
    SetRetention {
        policy: RetentionPolicy,
        ack: oneshot::Sender<()>,
    },
    /// The system's time-zone setting may have changed: look now rather than at the next wake.
    CheckZone,
    /// See [`crate::EngineConfig::catch_up_stagger`]; applies to the next wake's catch-ups.
    SetStagger(std::time::Duration),
    Shutdown {
        cancel_running: bool,
        ack: oneshot::Sender<()>,
    },
}

/// A run task's report back to the loop. `outcome` is None for a run that never started
/// because Sundial quit while it waited for a free slot: it stays queued for the next start.
struct Finished {
    run: Run,
    job: Job,
    outcome: Option<RunOutcome>,
}

struct JobState {
    job: Job,
    /// Cronie's fixed-time class, once the schedule was compiled (a job loaded with its stored
    /// next firing has not been yet).
    fixed_time: Option<bool>,
    cursor: DateTime<Utc>,
    next_due: Option<DateTime<Utc>>,
    generation: u64,
}

/// A queue-one run waiting for the job's current run to end (its row is `queued`).
struct Waiting {
    run: Run,
    job: Job,
}

pub(crate) struct Scheduler {
    store: Store,
    clock: Arc<dyn Clock>,
    executor: Arc<dyn Executor>,
    events: broadcast::Sender<EngineEvent>,
    permits: Arc<Semaphore>,
    tracker: TaskTracker,
    finished_tx: mpsc::UnboundedSender<Finished>,
    finished_rx: mpsc::UnboundedReceiver<Finished>,
    jobs: HashMap<JobId, JobState>,
    heap: BinaryHeap<Reverse<(DateTime<Utc>, JobId, u64)>>,
    /// Firings taken off `heap` to be written ahead that could not be: recorded when due.
    unwritten: BinaryHeap<Reverse<(DateTime<Utc>, JobId, u64)>>,
    /// Firings written ahead of their time, by job, and when each is due.
    ahead: HashMap<JobId, ahead::Ahead>,
    ahead_heap: BinaryHeap<Reverse<(DateTime<Utc>, JobId)>>,
    /// Writes ahead committing on their tasks, and where they report.
    ahead_writing: usize,
    ahead_tx: mpsc::UnboundedSender<ahead::AheadWritten>,
    ahead_rx: mpsc::UnboundedReceiver<ahead::AheadWritten>,
    next_generation: u64,
    paused: bool,
    /// Another process schedules (or none may): nothing fires, no cursor is written; the loop
    /// still runs what is asked of it (run now) and keeps jobs for chains and previews.
    held: bool,
    /// Runs handed to a task (waiting for a slot or running), by job.
    active: HashMap<JobId, Vec<RunId>>,
    cancels: HashMap<RunId, CancellationToken>,
    waiting: HashMap<JobId, Waiting>,
    /// Catch-up runs of a job, recorded `queued`, run one after another in slot order: "run
    /// all" runs every missed firing it keeps, whatever the overlap policy.
    catch_ups: HashMap<JobId, VecDeque<Waiting>>,
    /// Jobs whose catch-ups may not start before this instant: after a wake, the catch-ups
    /// of many jobs start `stagger` apart rather than all in one instant.
    catch_up_not_before: HashMap<JobId, DateTime<Utc>>,
    staggered: BinaryHeap<Reverse<(DateTime<Utc>, JobId)>>,
    stagger: Duration,
    /// Since when this loop schedules (started or took over): firings due before it were
    /// missed because no Sundial was scheduling.
    active_since: DateTime<Utc>,
    /// Wall-clock jumps ahead seen lately (from, to, why), newest last: the cause of a gap.
    jumps: VecDeque<(DateTime<Utc>, DateTime<Utc>, MissedCause)>,
    last_asleep: Option<std::time::Duration>,
    /// The system's sleep and wake notifications, where it gives them.
    sleep_signals: Option<tokio::sync::broadcast::Receiver<SleepSignal>>,
    /// When (tokio's clock) the last wake was taken, and the last one each way not yet
    /// matched by the other report of the same wake (the notice and the drift both tell of
    /// it; it is taken once).
    last_wake: Option<tokio::time::Instant>,
    wake_by_drift: Option<tokio::time::Instant>,
    wake_by_signal: Option<tokio::time::Instant>,
    /// The system's zone, as last seen: cron jobs without a zone of their own follow it.
    zone: Tz,
    /// Runs a scheduler before this one left waiting, re-armed on the loop's first turn.
    rearm: Vec<Run>,
    /// At-start and on-wake firings waiting for their delay.
    events_due: BinaryHeap<Reverse<(DateTime<Utc>, JobId, EventKind)>>,
    retries: BinaryHeap<Reverse<(DateTime<Utc>, RunId)>>,
    pending_retries: HashMap<RunId, (Run, Job)>,
    /// Jobs deleted while a run of theirs was going: purge when the last one ends.
    deleted: HashSet<JobId>,
    last_wall: DateTime<Utc>,
    last_mono: tokio::time::Instant,
    logs: Option<LogStore>,
    retention: RetentionPolicy,
    next_full_prune: DateTime<Utc>,
    store_next_due: bool,
    health: Health,
    /// Jobs whose firings could not be recorded: when to try again and what was logged.
    write_backoff: HashMap<JobId, WriteBackoff>,
    /// Cancelled at shutdown: a run task still trying to record how its run ended gives up.
    stopping: CancellationToken,
    /// File-arrives jobs' folders, files settling and files handled.
    arrivals: arrivals::Arrivals,
    /// The power and network state jobs' conditions ask about.
    conditions: Arc<dyn ConditionSource>,
    /// Each job's conditions, as its run tasks see them (an edit reaches a waiting run).
    live_conditions: HashMap<JobId, tokio::sync::watch::Sender<Conditions>>,
}

/// The first wait after a write failed; it doubles on each failure up to [`WRITE_BACKOFF_MAX`].
const WRITE_BACKOFF_FIRST: Duration = Duration::seconds(1);
const WRITE_BACKOFF_MAX: Duration = Duration::seconds(60);
/// A write failure is logged at most this often per job (or per run).
const FAILURE_LOG_EVERY: Duration = Duration::seconds(60);

/// One job's failed firing writes.
struct WriteBackoff {
    delay: Duration,
    /// Failures since the last one logged, and when that was.
    unlogged: u32,
    logged_at: DateTime<Utc>,
}

/// One job's share of a batch of firings: recorded with the others, or alone when the batch
/// could not be written.
struct PlannedFirings {
    id: JobId,
    rows: Vec<Run>,
    /// The ledger entry of the firings this job missed (its row is among `rows`).
    gap: Option<MissedGap>,
    cursor: CursorUpdate,
    fixed_time: bool,
    /// Runs to dispatch (and whether they replace the job's current runs).
    starts: Vec<(Run, Job, bool)>,
    waits: Vec<Waiting>,
    /// Catch-up runs, oldest first: they go one after another.
    catch_ups: Vec<Waiting>,
}

/// How often every job is pruned (besides after each of its runs).
const FULL_PRUNE_EVERY: Duration = Duration::hours(1);

/// A job as loaded at start-up: its cursor and, when stored, its next firing.
pub(crate) struct LoadedJob {
    pub job: Job,
    pub cursor: DateTime<Utc>,
    pub next_due: Option<DateTime<Utc>>,
}

pub(crate) struct SchedulerParts {
    pub store: Store,
    /// Whether next firings computed here are stored back (not by a passive engine).
    pub store_next_due: bool,
    pub clock: Arc<dyn Clock>,
    pub executor: Arc<dyn Executor>,
    pub events: broadcast::Sender<EngineEvent>,
    pub permits: Arc<Semaphore>,
    pub paused: bool,
    /// See [`Scheduler::held`].
    pub held: bool,
    pub logs: Option<LogStore>,
    pub retention: RetentionPolicy,
    pub health: Health,
    /// See [`Scheduler::stagger`].
    pub catch_up_stagger: std::time::Duration,
    /// Runs left waiting by the scheduler before this one (when this one schedules).
    pub rearm: Vec<Run>,
    pub conditions: Arc<dyn ConditionSource>,
}

/// The events a trigger can fire on besides the clock and other jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum EventKind {
    AtStart,
    OnWake,
}

impl EventKind {
    fn of(trigger: &Trigger) -> Option<EventKind> {
        match trigger {
            Trigger::AtStart { .. } => Some(EventKind::AtStart),
            Trigger::OnWake { .. } => Some(EventKind::OnWake),
            _ => None,
        }
    }
}

/// The system's wake notice and the clock's drift report the same wake within this long (the
/// loop reads the clock when the notice comes; else the drift is seen within [`MAX_NAP`] or the
/// realtime timer's safety nap): a report of one kind this soon after one of the other is
/// matched to it. Two reports of the same kind are always two wakes.
const WAKE_TAKEN_ONCE: std::time::Duration = std::time::Duration::from_secs(90);

/// A sleep notice read this soon after a wake was taken is taken as sent before that wake (the
/// loop reads what waits for it the moment the machine resumes). Tokio's clock does not count
/// time asleep, so this is time awake.
const STALE_SLEEP_NOTICE: std::time::Duration = std::time::Duration::from_secs(5);

/// The next notification, or never when the system gives none (or stopped giving them).
async fn next_sleep_signal(
    signals: &mut Option<tokio::sync::broadcast::Receiver<SleepSignal>>,
) -> Option<SleepSignal> {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let Some(receiver) = signals.as_mut() else {
            return std::future::pending().await;
        };
        match receiver.recv().await {
            Ok(signal) => return Some(signal),
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => *signals = None,
        }
    }
}

/// How many recent wall-clock jumps are kept to explain gaps.
const JUMPS_KEPT: usize = 64;

impl Scheduler {
    /// Loads the jobs. A job whose next firing was stored is not compiled until it fires or
    /// changes (compiling a cron expression is most of the cost of loading 100,000 jobs); the
    /// next firings that had to be computed are stored back on a task of their own.
    pub(crate) fn new(parts: SchedulerParts, jobs: Vec<LoadedJob>) -> Self {
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        let (ahead_tx, ahead_rx) = mpsc::unbounded_channel();
        let now = parts.clock.now();
        let (last_asleep, zone) = (parts.clock.time_asleep(), parts.clock.zone());
        let sleep_signals = parts.clock.sleep_signals();
        let mut scheduler = Scheduler {
            store: parts.store,
            clock: parts.clock,
            executor: parts.executor,
            events: parts.events,
            permits: parts.permits,
            tracker: TaskTracker::new(),
            finished_tx,
            finished_rx,
            jobs: HashMap::new(),
            heap: BinaryHeap::new(),
            unwritten: BinaryHeap::new(),
            ahead: HashMap::new(),
            ahead_heap: BinaryHeap::new(),
            ahead_writing: 0,
            ahead_tx,
            ahead_rx,
            next_generation: 0,
            paused: parts.paused,
            held: parts.held,
            active: HashMap::new(),
            cancels: HashMap::new(),
            waiting: HashMap::new(),
            catch_ups: HashMap::new(),
            catch_up_not_before: HashMap::new(),
            staggered: BinaryHeap::new(),
            stagger: Duration::from_std(parts.catch_up_stagger).unwrap_or(Duration::zero()),
            active_since: now,
            jumps: VecDeque::new(),
            last_asleep,
            sleep_signals,
            last_wake: None,
            wake_by_drift: None,
            wake_by_signal: None,
            zone,
            rearm: parts.rearm,
            events_due: BinaryHeap::new(),
            retries: BinaryHeap::new(),
            pending_retries: HashMap::new(),
            deleted: HashSet::new(),
            last_wall: now,
            last_mono: tokio::time::Instant::now(),
            logs: parts.logs,
            retention: parts.retention,
            next_full_prune: now,
            store_next_due: parts.store_next_due,
            health: parts.health,
            write_backoff: HashMap::new(),
            stopping: CancellationToken::new(),
            arrivals: arrivals::Arrivals::new(now),
            conditions: parts.conditions,
            live_conditions: HashMap::new(),
        };
        let mut computed = Vec::new();
        for loaded in jobs {
            let LoadedJob {
                job,
                cursor,
                next_due,
            } = loaded;
            match next_due {
                Some(due) if job.spec.enabled && job.spec.trigger.is_timed() => {
                    let id = job.id;
                    scheduler.jobs.insert(
                        id,
                        JobState {
                            job,
                            fixed_time: None,
                            cursor,
                            next_due: None,
                            generation: 0,
                        },
                    );
                    scheduler.push_due(id, Some(due));
                }
                _ => computed.extend(scheduler.upsert(job, cursor)),
            }
        }
        scheduler.store_next_dues(computed);
        scheduler
    }

    /// The loop. Returns after a shutdown command, once every run task has ended.
    pub(crate) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut timer = self.clock.timer();
        let rearm = std::mem::take(&mut self.rearm);
        self.rearm_runs(rearm).await;
        if !self.held {
            // This process starts scheduling: "at start" jobs (a takeover from another
            // scheduler is not a start).
            self.arm_event_jobs(EventKind::AtStart, self.clock.now());
            self.watch_all_files().await;
        }
        loop {
            let now = self.observe_clock();
            self.observe_zone();
            self.withdraw_stale_ahead(false).await;
            self.fire_ahead(now).await;
            if let Err(e) = self.fire_due(now).await {
                tracing::error!(error = %e, "could not record due firings; retrying shortly");
            }
            self.write_ahead(now).await;
            self.start_due_retries(now).await;
            self.start_staggered_catch_ups(now);
            self.fire_due_events(now).await;
            self.fire_arrivals(now).await;
            if now >= self.next_full_prune {
                self.next_full_prune = now + FULL_PRUNE_EVERY;
                self.prune_all(now);
            }
            let deadline = self.next_deadline();
            tokio::select! {
                biased;
                command = commands.recv() => match command {
                    Some(Command::Shutdown { cancel_running, ack }) => {
                        self.shutdown(cancel_running).await;
                        let _ = ack.send(());
                        return;
                    }
                    Some(command) => self.handle(command).await,
                    None => {
                        self.shutdown(false).await;
                        return;
                    }
                },
                Some(written) = self.ahead_rx.recv() => self.ahead_written(written).await,
                Some(finished) = self.finished_rx.recv() => self.on_finished(finished).await,
                Some(event) = self.arrivals.events.recv() => self.on_file_event(event).await,
                Some(signal) = next_sleep_signal(&mut self.sleep_signals) => self.on_sleep_signal(signal),
                _ = timer.sleep(now, deadline) => {}
            }
        }
    }

    /// Reads the wall clock and handles a jump against tokio's monotonic clock.
    fn observe_clock(&mut self) -> DateTime<Utc> {
        let wall = self.clock.now();
        let mono = tokio::time::Instant::now();
        let wall_elapsed = wall - self.last_wall;
        let mono_elapsed =
            Duration::from_std(mono - self.last_mono).unwrap_or_else(|_| Duration::zero());
        let drift = wall_elapsed - mono_elapsed;
        if drift < -Duration::milliseconds(JUMP_TOLERANCE_MS) {
            tracing::warn!(
                seconds = -drift.num_seconds(),
                "the wall clock moved back; fixed-time jobs will not repeat firings they already had"
            );
            self.clock_moved_back(wall);
        }
        let asleep = self.clock.time_asleep();
        if drift > Duration::milliseconds(JUMP_TOLERANCE_MS) {
            // A sleep grows the system's time asleep by about the jump; a clock set forward
            // does not. Where the system cannot say, a sleep is the likelier.
            let slept = match (self.last_asleep, asleep) {
                (Some(before), Some(after)) => {
                    let grew = Duration::from_std(after.saturating_sub(before))
                        .unwrap_or_else(|_| Duration::zero());
                    grew * 2 >= drift
                }
                _ => true,
            };
            let cause = if slept {
                MissedCause::Asleep
            } else {
                MissedCause::ClockChanged
            };
            tracing::info!(
                seconds = drift.num_seconds(),
                cause = %cause,
                "the wall clock moved ahead; applying missed-run policies"
            );
            if self.jumps.len() == JUMPS_KEPT {
                self.jumps.pop_front();
            }
            self.jumps.push_back((self.last_wall, wall, cause));
            if cause == MissedCause::Asleep {
                self.woke(wall, false);
            }
        }
        self.last_asleep = asleep;
        self.last_wall = wall;
        self.last_mono = mono;
        wall
    }

    /// The machine woke, as the clock's drift (`by_signal` false) or the system's notice tells:
    /// the on-wake jobs are armed. The two reports of one wake come together (the loop reads
    /// the clock when the notice comes), and the second of them is matched to the first, not
    /// taken again.
    fn woke(&mut self, wall: DateTime<Utc>, by_signal: bool) {
        let mono = tokio::time::Instant::now();
        let recent = |t: Option<tokio::time::Instant>| {
            t.is_some_and(|t| mono.duration_since(t) < WAKE_TAKEN_ONCE)
        };
        let (other, mine) = if by_signal {
            (&mut self.wake_by_drift, &mut self.wake_by_signal)
        } else {
            (&mut self.wake_by_signal, &mut self.wake_by_drift)
        };
        if recent(*other) {
            *other = None;
            return;
        }
        *mine = Some(mono);
        self.last_wake = Some(mono);
        if !self.held {
            self.arm_event_jobs(EventKind::OnWake, wall);
        }
    }

    fn on_sleep_signal(&mut self, signal: SleepSignal) {
        // The clock first: if the machine slept already, the drift shows it now.
        let wall = self.observe_clock();
        match signal {
            SleepSignal::Sleeping => {
                // A sleep begins: what comes next is a new wake, unless this notice was read
                // only after the wake (the system suspended before the loop got to it).
                let stale = self
                    .last_wake
                    .is_some_and(|last| last.elapsed() < STALE_SLEEP_NOTICE);
                if !stale {
                    tracing::info!("the system is going to sleep");
                    self.wake_by_drift = None;
                    self.wake_by_signal = None;
                }
            }
            SleepSignal::Resumed => {
                tracing::info!("the system has resumed");
                self.woke(wall, true);
            }
        }
    }

    /// Why a job's firings up to `last` (its latest missed one) were missed: before this loop
    /// scheduled, nobody did; else the wall-clock jump that spans it; else the loop was stopped
    /// or stalled (a frozen process: tokio's clock ran on, so no jump was seen).
    /// With the cause, when the gap began where the loop knows it: the wall time just before
    /// the jump (the job's cursor may be much older: its last firing).
    fn cause_of(&self, last: DateTime<Utc>) -> (MissedCause, Option<DateTime<Utc>>) {
        if last < self.active_since {
            return (MissedCause::NotRunning, None);
        }
        self.jumps
            .iter()
            .rev()
            .find(|(from, to, _)| *from <= last && last <= *to)
            .map_or((MissedCause::Stalled, None), |(from, _, cause)| {
                (*cause, Some(*from))
            })
    }

    /// Looks at the system's zone; when it changed, every cron job without a zone of its own
    /// gets its next firing from the new zone (jobs with an explicit zone are untouched).
    fn observe_zone(&mut self) {
        let zone = self.clock.zone();
        if zone == self.zone {
            return;
        }
        tracing::info!(
            from = %self.zone.name(),
            to = %zone.name(),
            "the system's time zone changed; jobs without a zone of their own follow it"
        );
        let from = std::mem::replace(&mut self.zone, zone);
        let floating: Vec<JobId> = self
            .jobs
            .iter()
            .filter(|(_, s)| {
                s.job.spec.enabled
                    && matches!(&s.job.spec.trigger, Trigger::Cron { timezone: None, .. })
            })
            .map(|(id, _)| *id)
            .collect();
        let mut dues = Vec::with_capacity(floating.len());
        for id in &floating {
            self.reschedule(*id);
            if let Some(state) = self.jobs.get(id)
                && let Some(next_due) = state.next_due
            {
                dues.push(NextDue {
                    job_id: *id,
                    revision: state.job.revision,
                    cursor: state.cursor,
                    next_due,
                });
            }
        }
        self.store_next_dues(dues);
        let _ = self.events.send(EngineEvent::ZoneChanged {
            from: from.name().to_string(),
            to: zone.name().to_string(),
            jobs: floating,
        });
    }

    /// As cronie does: fixed-time jobs keep their cursor (a firing they had is not repeated);
    /// interval and wildcard jobs go on at their cadence from the new time.
    fn clock_moved_back(&mut self, now: DateTime<Utc>) {
        let ids: Vec<JobId> = self
            .jobs
            .iter()
            .filter(|(_, s)| s.fixed_time != Some(true) && s.cursor > now)
            .map(|(id, _)| *id)
            .collect();
        let mut updates = Vec::new();
        let zone = self.zone;
        for id in ids {
            let Some(state) = self.jobs.get_mut(&id) else {
                continue;
            };
            let schedule = compile(&state.job, zone);
            let fixed_time = state
                .fixed_time
                .unwrap_or_else(|| schedule.as_ref().is_some_and(Schedule::is_fixed_time));
            state.fixed_time = Some(fixed_time);
            if fixed_time {
                continue;
            }
            state.cursor = now;
            let next_due = schedule.and_then(|s| s.next_after(now));
            updates.push(CursorUpdate {
                job_id: id,
                cursor: now,
                next_due,
            });
            self.push_due(id, next_due);
        }
        if !updates.is_empty() {
            let store = self.store.clone();
            // The cursor only guards against repeats; losing this write repeats nothing.
            tokio::spawn(async move {
                if let Err(e) = store.set_schedule_cursors(&updates).await {
                    tracing::error!(error = %e, "could not save schedule cursors");
                }
            });
        }
    }

    /// The earliest firing or retry still to come (none while paused).
    fn next_deadline(&self) -> Option<DateTime<Utc>> {
        if self.paused {
            return None;
        }
        if self.held {
            return self.ahead_deadline();
        }
        let next = self.heap.peek().map(|Reverse((t, _, _))| *t);
        let retry = self.retries.peek().map(|Reverse((t, _))| *t);
        let staggered = self.staggered.peek().map(|Reverse((t, _))| *t);
        let event = self.events_due.peek().map(|Reverse((t, ..))| *t);
        let files = self.arrivals.deadline();
        [next, retry, staggered, event, files, self.ahead_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Takes a job in (new, edited, or loaded without a stored next firing) and computes its
    /// next firing; returns it for storing when there is one.
    fn upsert(&mut self, job: Job, cursor: DateTime<Utc>) -> Option<NextDue> {
        let id = job.id;
        self.jobs.remove(&id);
        if !job.spec.enabled || !job.spec.trigger.is_timed() {
            if job.spec.enabled {
                // Manual and after-job triggers: kept for chains and run-now, never timed.
                self.jobs.insert(
                    id,
                    JobState {
                        job,
                        fixed_time: Some(false),
                        cursor,
                        next_due: None,
                        generation: 0,
                    },
                );
            }
            return None;
        }
        let schedule = match Schedule::from_trigger_in(&job.spec.trigger, job.created_at, self.zone)
        {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(job = %id, error = %e, "stored trigger is invalid; job not scheduled");
                return None;
            }
        };
        // The compiled schedule is not kept: a croner pattern holds a year table of several
        // KiB, and a job needs its schedule only when it fires or changes.
        let fixed_time = Some(schedule.is_fixed_time());
        let next_due = schedule.next_after(cursor);
        let revision = job.revision;
        self.jobs.insert(
            id,
            JobState {
                job,
                fixed_time,
                cursor,
                next_due,
                generation: 0,
            },
        );
        self.push_due(id, next_due);
        next_due.map(|next_due| NextDue {
            job_id: id,
            revision,
            cursor,
            next_due,
        })
    }

    /// Stores computed next firings on a task of their own (they only spare the next start
    /// some work; a lost write costs nothing but that).
    fn store_next_dues(&self, dues: Vec<NextDue>) {
        if !self.store_next_due || dues.is_empty() {
            return;
        }
        let store = self.store.clone();
        self.tracker.spawn(async move {
            if let Err(e) = store.set_next_dues(&dues).await {
                tracing::warn!(error = %e, "could not store next firing times");
            }
        });
    }

    /// Puts a job's next firing on the heap under a new generation.
    fn push_due(&mut self, id: JobId, next_due: Option<DateTime<Utc>>) {
        self.next_generation += 1;
        let generation = self.next_generation;
        if let Some(state) = self.jobs.get_mut(&id) {
            state.generation = generation;
            state.next_due = next_due;
            if let Some(due) = next_due {
                self.heap.push(Reverse((due, id, generation)));
            }
        }
    }

    fn reschedule(&mut self, id: JobId) {
        self.next_generation += 1;
        let generation = self.next_generation;
        let zone = self.zone;
        let Some(state) = self.jobs.get_mut(&id) else {
            return;
        };
        state.generation = generation;
        let schedule = compile(&state.job, zone);
        if let Some(schedule) = &schedule {
            state.fixed_time = Some(schedule.is_fixed_time());
        }
        state.next_due = schedule.and_then(|s| s.next_after(state.cursor));
        if let Some(due) = state.next_due {
            self.heap.push(Reverse((due, id, generation)));
        }
    }

    /// Records and dispatches every firing due at `now`. The firings are written in one
    /// transaction; when that fails they are written job by job, so a job whose rows cannot be
    /// written (deleted elsewhere, a trigger refusing them, a full disk) only holds back
    /// itself: see [`Scheduler::firings_not_recorded`].
    async fn fire_due(&mut self, now: DateTime<Utc>) -> Result<(), EngineError> {
        if self.paused || self.held {
            return Ok(());
        }
        let mut due_jobs = Vec::new();
        for heap in [&mut self.heap, &mut self.unwritten] {
            while let Some(Reverse((due, id, generation))) = heap.peek().copied() {
                if due > now {
                    break;
                }
                heap.pop();
                if self
                    .jobs
                    .get(&id)
                    .is_some_and(|s| s.generation == generation)
                {
                    due_jobs.push(id);
                }
            }
        }
        if due_jobs.is_empty() {
            return Ok(());
        }
        let mut planned = Vec::with_capacity(due_jobs.len());
        for id in &due_jobs {
            match self.plan_firings(*id, now) {
                Some(p) => planned.push(p),
                // No schedule (any more): the job is put back as it is.
                None => self.reschedule(*id),
            }
        }
        if planned.is_empty() {
            return Ok(());
        }
        let rows: Vec<Run> = planned
            .iter()
            .flat_map(|p| p.rows.iter().cloned())
            .collect();
        let gaps: Vec<MissedGap> = planned.iter().filter_map(|p| p.gap.clone()).collect();
        let cursors: Vec<CursorUpdate> = planned.iter().map(|p| p.cursor.clone()).collect();
        // Catch-ups of the jobs due together start `stagger` apart, in the order they fell due.
        let mut staggered = 0i32;
        match self.store.record_firings(&rows, &gaps, &cursors).await {
            Ok(()) => {
                for p in planned {
                    let start_at = self.catch_up_start(&p, now, &mut staggered);
                    self.firings_recorded(p, now, start_at);
                }
                return Ok(());
            }
            Err(StoreError::LeaseLost) => {
                // Another scheduler took over: nothing was recorded, and nothing fires from
                // here on (the lease keeper makes it official as soon as it looks).
                tracing::error!(
                    "the scheduler lease is another process's now; this one stops firing"
                );
                for p in &planned {
                    self.reschedule(p.id);
                }
                self.hold().await;
                return Ok(());
            }
            Err(_) => {}
        }
        for p in planned {
            let result = self
                .store
                .record_firings(&p.rows, p.gap.as_slice(), std::slice::from_ref(&p.cursor))
                .await;
            match result {
                Ok(()) => {
                    let start_at = self.catch_up_start(&p, now, &mut staggered);
                    self.firings_recorded(p, now, start_at);
                }
                Err(e) => self.firings_not_recorded(p.id, e, now).await,
            }
        }
        Ok(())
    }

    /// When a job's first catch-up may start: the `n`-th job with catch-ups in one wake waits
    /// `n` staggers (the global cap applies on top, as to every run).
    fn catch_up_start(&self, p: &PlannedFirings, now: DateTime<Utc>, n: &mut i32) -> DateTime<Utc> {
        if p.catch_ups.is_empty() {
            return now;
        }
        let at = now + self.stagger * *n;
        *n = n.saturating_add(1);
        at
    }

    /// What a due job's firings become (rows, runs to start, a run to queue, a ledger entry for
    /// those it missed), or None when the job has no schedule.
    fn plan_firings(&self, id: JobId, now: DateTime<Utc>) -> Option<PlannedFirings> {
        let state = self.jobs.get(&id)?;
        let job = state.job.clone();
        let schedule = compile(&job, self.zone)?;
        let missed_policy = &job.spec.policies.missed;
        let plan = plan_due_firings(&schedule, state.cursor, now, missed_policy);
        let mut rows = Vec::new();
        let mut starts = Vec::new();
        let mut waits = Vec::new();
        let mut active = self.active.get(&id).map_or(0, Vec::len)
            + self.catch_ups.get(&id).map_or(0, VecDeque::len);
        let mut has_waiting = self.waiting.contains_key(&id);
        let mut catch_ups = Vec::new();
        let gap = plan.missed.map(|missed| {
            let (cause, jumped_from) = self.cause_of(missed.last);
            let gap = MissedGap {
                run_id: RunId::new(),
                job_id: id,
                gap_start: jumped_from.map_or(state.cursor, |from| from.max(state.cursor)),
                noticed_at: now,
                first_slot: missed.first,
                last_slot: missed.last,
                missed: missed.count,
                counted_all: missed.counted_all,
                cause,
                policy: missed_policy.mode,
                ran: missed.ran,
            };
            let mut row = skipped_run(
                &job,
                RunReason::Schedule,
                missed.first,
                now,
                gap.describe(missed.covered_by),
            );
            row.id = gap.run_id;
            rows.push(row);
            gap
        });
        for firing in plan.runs {
            if firing.reason == RunReason::CatchUp {
                // Not subject to the overlap policy: queued behind each other (and behind a
                // run still going), in order.
                let run = queued_run(&job, RunReason::CatchUp, 1, None, firing.slot, now);
                rows.push(run.clone());
                catch_ups.push(Waiting {
                    run,
                    job: job.clone(),
                });
                active += 1;
                continue;
            }
            let reason = firing.reason;
            let run = queued_run(&job, reason, 1, None, firing.slot, now);
            match decide(job.spec.policies.overlap, active, has_waiting) {
                OverlapDecision::Start => {
                    active += 1;
                    starts.push((run.clone(), job.clone(), false));
                    rows.push(run);
                }
                OverlapDecision::ReplaceThenStart => {
                    active += 1;
                    starts.push((run.clone(), job.clone(), true));
                    rows.push(run);
                }
                OverlapDecision::Wait => {
                    has_waiting = true;
                    waits.push(Waiting {
                        run: run.clone(),
                        job: job.clone(),
                    });
                    rows.push(run);
                }
                OverlapDecision::Skip(why) => {
                    rows.push(skipped_run(&job, reason, firing.slot, now, why.into()));
                }
            }
        }
        Some(PlannedFirings {
            id,
            rows,
            gap,
            // The next firing is stored with the cursor, so a start need not compile this.
            cursor: CursorUpdate {
                job_id: id,
                cursor: now,
                next_due: schedule.next_after(now),
            },
            fixed_time: schedule.is_fixed_time(),
            starts,
            waits,
            catch_ups,
        })
    }

    /// A job's firings are stored: move its cursor on, announce the rows, start the runs.
    fn firings_recorded(&mut self, p: PlannedFirings, now: DateTime<Utc>, start_at: DateTime<Utc>) {
        if let Some(state) = self.jobs.get_mut(&p.id) {
            state.cursor = now;
            state.fixed_time = Some(p.fixed_time);
        }
        self.push_due(p.id, p.cursor.next_due);
        if let Some(backoff) = self.write_backoff.remove(&p.id) {
            tracing::info!(
                job = %p.id,
                failures_not_logged = backoff.unlogged,
                "the firings of this job are recorded again"
            );
            self.health.succeeded(&WriteKind::Firings(p.id), now);
        }
        for run in &p.rows {
            self.emit_run(run);
        }
        for waiting in p.waits {
            self.waiting.insert(waiting.job.id, waiting);
        }
        if !p.catch_ups.is_empty() {
            self.catch_ups.entry(p.id).or_default().extend(p.catch_ups);
            if start_at > now {
                self.catch_up_not_before.insert(p.id, start_at);
                self.staggered.push(Reverse((start_at, p.id)));
            } else if !self.active.contains_key(&p.id) {
                self.start_next_catch_up(p.id);
            }
        }
        for (run, job, replace) in p.starts {
            if replace {
                self.cancel_job_runs(job.id, Some(run.id));
            }
            self.dispatch(run, job);
        }
    }

    /// Starts the oldest catch-up run waiting for this job, if any and if its stagger has
    /// passed; true when one started.
    fn start_next_catch_up(&mut self, id: JobId) -> bool {
        if let Some(at) = self.catch_up_not_before.get(&id) {
            if *at > self.clock.now() {
                return false;
            }
            self.catch_up_not_before.remove(&id);
        }
        let Some(queue) = self.catch_ups.get_mut(&id) else {
            return false;
        };
        let next = queue.pop_front();
        if queue.is_empty() {
            self.catch_ups.remove(&id);
        }
        match next {
            Some(Waiting { run, job }) => {
                self.dispatch(run, job);
                true
            }
            None => false,
        }
    }

    /// Starts the catch-ups whose stagger has passed (of jobs with no run going).
    fn start_staggered_catch_ups(&mut self, now: DateTime<Utc>) {
        if self.paused || self.held {
            return;
        }
        while let Some(Reverse((at, id))) = self.staggered.peek().copied() {
            if at > now {
                break;
            }
            self.staggered.pop();
            if self.catch_up_not_before.get(&id) == Some(&at) && !self.active.contains_key(&id) {
                self.start_next_catch_up(id);
            }
        }
    }

    /// Records the catch-up runs still waiting for a job as not started.
    async fn drop_catch_ups(&mut self, id: JobId, why: &str) {
        self.catch_up_not_before.remove(&id);
        for waiting in self.catch_ups.remove(&id).unwrap_or_default() {
            self.finish_unstarted(&waiting.run, why).await;
        }
    }

    /// A job's firings could not be stored. A job that no longer exists (deleted by another
    /// process) leaves the loop and its firings are dropped; any other job tries again after
    /// a backoff of its own (1 s doubling to 60 s; its cursor has not moved, so the firings
    /// are planned again then, under its missed-run policy). Logged once a minute per job.
    async fn firings_not_recorded(&mut self, id: JobId, e: StoreError, now: DateTime<Utc>) {
        let gone = e.is_missing_job() || matches!(self.store.get_job(id).await, Ok(None));
        if gone {
            tracing::warn!(
                job = %id,
                "a job deleted by another process had a firing due; the firing is dropped"
            );
            self.jobs.remove(&id);
            self.write_backoff.remove(&id);
            self.health.succeeded(&WriteKind::Firings(id), now);
            return;
        }
        let backoff = match self.write_backoff.get_mut(&id) {
            Some(b) => {
                b.delay = (b.delay * 2).min(WRITE_BACKOFF_MAX);
                b
            }
            None => self.write_backoff.entry(id).or_insert(WriteBackoff {
                delay: WRITE_BACKOFF_FIRST,
                unlogged: 0,
                logged_at: now - FAILURE_LOG_EVERY,
            }),
        };
        let delay = backoff.delay;
        if now - backoff.logged_at >= FAILURE_LOG_EVERY {
            tracing::error!(
                job = %id,
                error = %e,
                retry_in_secs = delay.num_seconds(),
                failures_not_logged = backoff.unlogged,
                "could not record this job's firings; trying again later (other jobs go on)"
            );
            backoff.logged_at = now;
            backoff.unlogged = 0;
        } else {
            backoff.unlogged += 1;
        }
        self.health.failed(
            WriteKind::Firings(id),
            format!("runs cannot be recorded: {e}"),
            e.is_disk_full(),
            now,
        );
        self.push_due(id, Some(now + delay));
    }

    async fn start_due_retries(&mut self, now: DateTime<Utc>) {
        if self.paused || self.held {
            return;
        }
        while let Some(Reverse((due, run_id))) = self.retries.peek().copied() {
            if due > now {
                break;
            }
            self.retries.pop();
            if let Some((run, job)) = self.pending_retries.remove(&run_id) {
                self.dispatch(run, job);
            }
        }
    }

    /// Hands a queued run (already recorded) to a task: wait for a slot under the global cap,
    /// mark it running, execute, record the outcome, report back.
    fn dispatch(&mut self, run: Run, job: Job) {
        let cancel = CancellationToken::new();
        self.cancels.insert(run.id, cancel.clone());
        self.active.entry(job.id).or_default().push(run.id);
        let store = self.store.clone();
        let clock = self.clock.clone();
        let executor = self.executor.clone();
        let permits = self.permits.clone();
        let events = self.events.clone();
        let finished = self.finished_tx.clone();
        let conditions = job.spec.policies.conditions.clone();
        let live = match self.live_conditions.get(&job.id) {
            Some(sender) => {
                sender.send_replace(conditions);
                sender.subscribe()
            }
            None => {
                let (sender, live) = tokio::sync::watch::channel(conditions);
                self.live_conditions.insert(job.id, sender);
                live
            }
        };
        let ending = RunEnding {
            health: self.health.clone(),
            stopping: self.stopping.clone(),
            conditions: self.conditions.clone(),
            live,
        };
        self.tracker.spawn(async move {
            let outcome = execute_run(
                &store, &*clock, &*executor, &permits, &events, ending, &run, &job, cancel,
            )
            .await;
            let _ = finished.send(Finished { run, job, outcome });
        });
    }

    fn cancel_job_runs(&mut self, job_id: JobId, except: Option<RunId>) {
        for run_id in self.active.get(&job_id).cloned().unwrap_or_default() {
            if Some(run_id) != except
                && let Some(token) = self.cancels.get(&run_id)
            {
                token.cancel();
            }
        }
    }

    async fn on_finished(&mut self, finished: Finished) {
        let Finished { run, job, outcome } = finished;
        self.cancels.remove(&run.id);
        if let Some(list) = self.active.get_mut(&job.id) {
            list.retain(|id| *id != run.id);
            if list.is_empty() {
                self.active.remove(&job.id);
            }
        }
        let Some(outcome) = outcome else {
            // Only at shutdown: the run never started and stays queued.
            return;
        };
        let now = self.clock.now();
        // Retries: a new attempt linked to the first, after the backoff.
        let retry = &job.spec.policies.retry;
        let will_retry = matches!(outcome.status, RunStatus::Failed | RunStatus::TimedOut)
            && run.attempt < retry.max_attempts
            && !self.deleted.contains(&job.id);
        if will_retry {
            let delay = Duration::from_std(retry.delay_before(run.attempt + 1))
                .unwrap_or_else(|_| Duration::zero());
            let first = run
                .parent_run_id
                .filter(|_| run.reason == RunReason::Retry)
                .unwrap_or(run.id);
            let retry_run = Run {
                // A retry of a run with parameters runs with the same parameters, one for an
                // arrived file with the same file.
                overrides: run.overrides.clone(),
                trigger_path: run.trigger_path.clone(),
                ..queued_run(
                    &job,
                    RunReason::Retry,
                    run.attempt + 1,
                    Some(first),
                    now + delay,
                    now,
                )
            };
            match self.store.insert_run(&retry_run).await {
                Ok(()) => {
                    self.emit_run(&retry_run);
                    self.retries
                        .push(Reverse((retry_run.scheduled_for, retry_run.id)));
                    self.pending_retries
                        .insert(retry_run.id, (retry_run, job.clone()));
                }
                Err(e) => tracing::error!(error = %e, "could not record a retry"),
            }
        }
        // Catch-up runs go first, one after another; then a queue-one run waiting.
        if !self.active.contains_key(&job.id)
            && (self.held || !self.start_next_catch_up(job.id))
            && let Some(waiting) = self.waiting.remove(&job.id)
        {
            self.dispatch(waiting.run, waiting.job);
        }
        // A run skipped because its conditions were not met did not run: it starts nothing.
        if !will_retry && outcome.status != RunStatus::Skipped {
            self.start_chains(&run, &outcome, now).await;
        }
        // Pruning this job's history is not the loop's business: a task of its own.
        if self.retention.keep_runs.is_some() || self.retention.keep_days.is_some() {
            let (store, logs, policy) = (self.store.clone(), self.logs.clone(), self.retention);
            let job_id = job.id;
            self.tracker.spawn(async move {
                if let Err(e) =
                    retention::prune(&store, logs.as_ref(), Some(job_id), policy, now).await
                {
                    tracing::error!(error = %e, "could not prune old runs");
                }
            });
        }
        if self.deleted.contains(&job.id) && !self.active.contains_key(&job.id) {
            self.deleted.remove(&job.id);
            if let Err(e) = self.store.purge_deleted_job(job.id).await {
                tracing::error!(error = %e, "could not remove a deleted job");
            }
        }
    }

    /// Starts the jobs whose after-job trigger matches how `upstream` ended.
    async fn start_chains(&mut self, upstream: &Run, outcome: &RunOutcome, now: DateTime<Utc>) {
        let status = outcome.status;
        let downstream: Vec<Job> = self
            .jobs
            .values()
            .filter(|s| match &s.job.spec.trigger {
                Trigger::AfterJob { job_id, on } if *job_id == upstream.job_id => match on {
                    ChainOn::Success => status == RunStatus::Succeeded,
                    ChainOn::Failure => status.is_failure(),
                    ChainOn::Any => true,
                },
                _ => false,
            })
            .map(|s| s.job.clone())
            .collect();
        if downstream.is_empty() {
            return;
        }
        let job_name = self
            .jobs
            .get(&upstream.job_id)
            .map_or_else(String::new, |s| s.job.spec.name.clone());
        let passed = passing::passed_values(&passing::Upstream {
            run: upstream,
            job_name: &job_name,
            status,
            exit_code: outcome.exit_code,
            http_status: outcome.http_status,
            log_path: self
                .logs
                .as_ref()
                .map(|logs| logs.log_path(upstream.id).to_string_lossy().into_owned()),
            outputs: &outcome.outputs,
        });
        for job in downstream {
            let run = queued_run(&job, RunReason::Chain, 1, Some(upstream.id), now, now);
            self.offer_run(run, job, now, Offer::Passing(&passed)).await;
        }
    }

    /// Records and starts a run its job's trigger asked for outside the clock (after a job,
    /// at start, on wake), as the overlap policy says: started, queued behind the run going,
    /// or recorded as skipped (also while paused or not scheduling).
    async fn offer_run(&mut self, run: Run, job: Job, now: DateTime<Utc>, how: Offer<'_>) {
        let decision = if self.held {
            OverlapDecision::Skip(
                "this process does not schedule (another one holds the scheduler lease)",
            )
        } else if self.paused {
            OverlapDecision::Skip("Sundial was paused")
        } else {
            decide(
                job.spec.policies.overlap,
                self.active.get(&job.id).map_or(0, Vec::len),
                self.waiting.contains_key(&job.id),
            )
        };
        let row = match decision {
            OverlapDecision::Skip(why) => {
                skipped_run(&job, run.reason, run.scheduled_for, now, why.to_string())
            }
            _ => run.clone(),
        };
        let written = match how {
            Offer::Fenced => {
                self.store
                    .record_firings(std::slice::from_ref(&row), &[], &[])
                    .await
            }
            // A skipped run starts nothing: it is given nothing.
            Offer::Passing(passed) if row.status != RunStatus::Skipped => {
                self.store.insert_run_passing(&row, passed).await
            }
            Offer::Passing(_) => self.store.insert_run(&row).await,
        };
        if let Err(e) = written {
            tracing::error!(job = %job.id, error = %e, "could not record a run its trigger asked for");
            return;
        }
        self.emit_run(&row);
        match decision {
            OverlapDecision::Start => self.dispatch(run, job),
            OverlapDecision::ReplaceThenStart => {
                self.cancel_job_runs(job.id, None);
                self.dispatch(run, job);
            }
            OverlapDecision::Wait => {
                self.waiting.insert(job.id, Waiting { run, job });
            }
            OverlapDecision::Skip(_) => {}
        }
    }

    /// Arms every enabled job whose trigger is this event (at start, on wake): each fires its
    /// delay after `now`.
    fn arm_event_jobs(&mut self, event: EventKind, now: DateTime<Utc>) {
        let armed: Vec<(DateTime<Utc>, JobId)> = self
            .jobs
            .values()
            .filter(|s| s.job.spec.enabled && EventKind::of(&s.job.spec.trigger) == Some(event))
            .filter_map(|s| {
                let delay = s.job.spec.trigger.event_delay()?;
                let delay = Duration::seconds(i64::try_from(delay).ok()?);
                Some((now + delay, s.job.id))
            })
            .collect();
        if !armed.is_empty() {
            tracing::info!(count = armed.len(), event = ?event, "jobs triggered by this event are armed");
        }
        for (at, id) in armed {
            self.events_due.push(Reverse((at, id, event)));
        }
    }

    /// Fires the at-start and on-wake runs whose delay has passed (of jobs that still have
    /// that trigger and are enabled).
    async fn fire_due_events(&mut self, now: DateTime<Utc>) {
        if self.held {
            return;
        }
        while let Some(Reverse((at, id, event))) = self.events_due.peek().copied() {
            if at > now {
                break;
            }
            self.events_due.pop();
            let Some(job) = self
                .jobs
                .get(&id)
                .filter(|s| s.job.spec.enabled && EventKind::of(&s.job.spec.trigger) == Some(event))
                .map(|s| s.job.clone())
            else {
                continue;
            };
            let run = queued_run(&job, RunReason::Schedule, 1, None, at, now);
            self.offer_run(run, job, now, Offer::Fenced).await;
        }
    }

    /// Watches the folders of every file-arrives job (this process starts scheduling).
    async fn watch_all_files(&mut self) {
        let jobs: Vec<Job> = self
            .jobs
            .values()
            .filter(|s| matches!(s.job.spec.trigger, Trigger::FileArrives { .. }))
            .map(|s| s.job.clone())
            .collect();
        for job in jobs {
            self.watch_files(&job).await;
        }
    }

    /// Starts, changes or stops the watch of a job's folder as its trigger says. A job new to
    /// its folder and pattern records the files already there as not to handle; one watched
    /// before (a restart) handles what arrived or changed since.
    async fn watch_files(&mut self, job: &Job) {
        let spec = if job.spec.enabled && !self.held {
            arrivals::spec_of(&job.spec.trigger)
        } else {
            None
        };
        let Some(spec) = spec else {
            self.arrivals.remove(job.id);
            return;
        };
        if self.arrivals.same(job.id, &spec) {
            return;
        }
        let now = self.clock.now();
        let folder = spec.0.display().to_string();
        let (handled, recorded_problem) = match self.store.file_watch(job.id).await {
            Ok(Some(r)) if r.folder == folder && r.glob == spec.1 => {
                match self.store.handled_files(job.id).await {
                    Ok(h) => (h, r.problem),
                    Err(e) => {
                        tracing::error!(job = %job.id, error = %e, "could not read the files this job handled; its folder is not watched");
                        return;
                    }
                }
            }
            Ok(_) => {
                let baseline = arrivals::scan(&spec.0, &spec.1).unwrap_or_default();
                if let Err(e) = self
                    .store
                    .start_file_watch(job.id, &folder, &spec.1, &baseline, now)
                    .await
                {
                    tracing::error!(job = %job.id, error = %e, "could not record the files in this job's folder; its folder is not watched");
                    return;
                }
                (baseline.into_iter().collect(), None)
            }
            Err(e) => {
                tracing::error!(job = %job.id, error = %e, "could not read this job's folder watch; its folder is not watched");
                return;
            }
        };
        let gone = self.arrivals.insert(job.id, spec, handled, now);
        if let Err(e) = self.store.forget_handled_files(job.id, &gone).await {
            tracing::warn!(job = %job.id, error = %e, "could not forget the files gone from a job's folder");
        }
        let problem = self
            .arrivals
            .watches
            .get(&job.id)
            .and_then(|w| w.problem.clone());
        if problem != recorded_problem {
            self.file_watch_problem(job.id, problem).await;
        }
    }

    /// Records (and announces) why a job's folder cannot be watched, or that it can again.
    async fn file_watch_problem(&mut self, job_id: JobId, problem: Option<String>) {
        match &problem {
            Some(p) => {
                tracing::warn!(job = %job_id, problem = %p, "a file-arrives job cannot watch its folder")
            }
            None => tracing::info!(job = %job_id, "a file-arrives job watches its folder again"),
        }
        let now = self.clock.now();
        if let Err(e) = self
            .store
            .set_file_watch_problem(job_id, problem.as_deref(), now)
            .await
        {
            tracing::error!(job = %job_id, error = %e, "could not record the state of a job's folder");
        }
        let _ = self.events.send(EngineEvent::JobChanged { job_id });
    }

    /// A file-system event (and those queued behind it).
    async fn on_file_event(&mut self, event: notify::Result<notify::Event>) {
        let now = self.clock.now();
        let mut folders = self.arrivals.on_event(event, now);
        while let Ok(event) = self.arrivals.events.try_recv() {
            folders |= self.arrivals.on_event(event, now);
        }
        if folders {
            self.check_file_folders(now).await;
        }
    }

    async fn check_file_folders(&mut self, now: DateTime<Utc>) {
        for (job_id, problem) in self.arrivals.check_folders(now) {
            self.file_watch_problem(job_id, problem).await;
        }
    }

    /// Runs the file-arrives jobs for the files that settled: each file one run, recorded
    /// with the file as handled in one transaction. The overlap policy decides whether a
    /// file's run starts alongside (allow), waits (queue one), replaces, or — where it would
    /// skip — the file waits until the job is idle. Files wait while Sundial is paused.
    async fn fire_arrivals(&mut self, now: DateTime<Utc>) {
        if self.held || self.paused {
            return;
        }
        if now >= self.arrivals.next_check {
            self.check_file_folders(now).await;
        }
        let ready = self.arrivals.settled(now);
        if ready.is_empty() {
            return;
        }
        let mut counts: HashMap<JobId, (usize, bool)> = HashMap::new();
        let (mut rows, mut files, mut plans) = (Vec::new(), Vec::new(), Vec::new());
        let (mut kept, mut later) = (Vec::new(), Vec::new());
        for arrival in ready {
            let Some(job) = self
                .jobs
                .get(&arrival.job_id)
                .filter(|s| s.job.spec.enabled)
                .map(|s| s.job.clone())
            else {
                continue;
            };
            let (active, waiting) = counts.entry(job.id).or_insert_with(|| {
                (
                    self.active.get(&job.id).map_or(0, Vec::len),
                    self.waiting.contains_key(&job.id),
                )
            });
            let decision = decide(job.spec.policies.overlap, *active, *waiting);
            match decision {
                OverlapDecision::Start => *active += 1,
                OverlapDecision::ReplaceThenStart => *active = 1,
                OverlapDecision::Wait => *waiting = true,
                // Each file is its own piece of work: one the policy would skip waits for
                // the job's runs to end (looked at again after the settle time).
                OverlapDecision::Skip(_) => {
                    later.push(arrival);
                    continue;
                }
            }
            let mut run = queued_run(&job, RunReason::Schedule, 1, None, now, now);
            run.trigger_path = Some(arrival.path.clone());
            rows.push(run.clone());
            files.push(crate::store::HandledFile {
                job_id: job.id,
                path: arrival.path.clone(),
                stamp: arrival.stamp,
            });
            plans.push((decision, run, job));
            kept.push(arrival);
        }
        self.arrivals.retry_later(later, now);
        if rows.is_empty() {
            return;
        }
        if let Err(e) = self.store.record_arrivals(&rows, &files).await {
            tracing::error!(error = %e, files = kept.len(), "could not record the runs of arrived files; trying again");
            self.arrivals.retry_later(kept, now);
            return;
        }
        for arrival in &kept {
            self.arrivals.handled(arrival);
        }
        for (row, (decision, run, job)) in rows.iter().zip(plans) {
            self.emit_run(row);
            match decision {
                OverlapDecision::Start => self.dispatch(run, job),
                OverlapDecision::ReplaceThenStart => {
                    self.cancel_job_runs(job.id, None);
                    self.dispatch(run, job);
                }
                OverlapDecision::Wait => {
                    self.waiting.insert(job.id, Waiting { run, job });
                }
                OverlapDecision::Skip(_) => {}
            }
        }
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Upsert { job, cursor, ack } => {
                // The loop's cursor may be ahead of the stored one; never move it back here.
                let cursor = self
                    .jobs
                    .get(&job.id)
                    .map_or(cursor, |s| s.cursor.max(cursor));
                // Runs waiting for the job run it as it is now, or end when it forbids them.
                self.follow_edit(&job).await;
                self.watch_files(&job).await;
                if let Some(live) = self.live_conditions.get(&job.id) {
                    live.send_replace(job.spec.policies.conditions.clone());
                }
                let computed = self.upsert(*job, cursor);
                self.store_next_dues(computed.into_iter().collect());
                let _ = ack.send(());
            }
            Command::Remove { job_id, ack } => {
                self.jobs.remove(&job_id);
                self.live_conditions.remove(&job_id);
                self.arrivals.remove(job_id);
                self.drop_catch_ups(
                    job_id,
                    "the job was deleted before this catch-up run started",
                )
                .await;
                if let Some(waiting) = self.waiting.remove(&job_id) {
                    self.finish_unstarted(
                        &waiting.run,
                        "the job was deleted before this run started",
                    )
                    .await;
                }
                let retries: Vec<RunId> = self
                    .pending_retries
                    .iter()
                    .filter(|(_, (_, job))| job.id == job_id)
                    .map(|(id, _)| *id)
                    .collect();
                for id in retries {
                    if let Some((run, _)) = self.pending_retries.remove(&id) {
                        self.finish_unstarted(
                            &run,
                            "the job was deleted before this retry started",
                        )
                        .await;
                    }
                }
                if self.active.contains_key(&job_id) {
                    self.deleted.insert(job_id);
                } else if let Err(e) = self.store.purge_deleted_job(job_id).await {
                    tracing::error!(error = %e, "could not remove a deleted job");
                }
                let _ = ack.send(());
            }
            Command::RunNow {
                job,
                overrides,
                ack,
            } => {
                let now = self.clock.now();
                let run = Run {
                    overrides,
                    ..queued_run(&job, RunReason::Manual, 1, None, now, now)
                };
                let result = match self.store.insert_run(&run).await {
                    Ok(()) => {
                        self.emit_run(&run);
                        self.dispatch(run.clone(), *job);
                        Ok(run)
                    }
                    Err(e) => Err(e.into()),
                };
                let _ = ack.send(result);
            }
            Command::Cancel { run_id, ack } => {
                let _ = ack.send(self.cancel(run_id).await);
            }
            Command::SetPaused {
                paused,
                persist,
                ack,
            } => {
                let _ = ack.send(self.set_paused(paused, persist).await);
            }
            Command::Activate {
                jobs,
                paused,
                retention,
                rearm,
                ack,
            } => {
                self.activate(jobs, paused, retention);
                self.watch_all_files().await;
                self.rearm_runs(rearm).await;
                let _ = ack.send(());
            }
            Command::CheckZone => self.observe_zone(),
            Command::SetStagger(stagger) => {
                self.stagger = Duration::from_std(stagger).unwrap_or(Duration::zero());
            }
            Command::Hold { ack } => {
                self.hold().await;
                let _ = ack.send(());
            }
            Command::JobIds { ack } => {
                let _ = ack.send(self.jobs.keys().copied().collect());
            }
            Command::NextFire { job_id, ack } => {
                // Held, this is what the job's stored cursor gives (the engine prefers the
                // next firing the scheduling process stored).
                let next = if self.paused {
                    None
                } else {
                    self.jobs.get(&job_id).and_then(|s| s.next_due)
                };
                let _ = ack.send(next);
            }
            Command::ActiveRuns { ack } => {
                let _ = ack.send(self.cancels.keys().copied().collect());
            }
            Command::SetRetention { policy, ack } => {
                self.retention = policy;
                self.prune_all(self.clock.now());
                let _ = ack.send(());
            }
            Command::Shutdown { .. } => unreachable!("handled by the loop"),
        }
    }

    async fn cancel(&mut self, run_id: RunId) -> Result<(), EngineError> {
        if let Some(token) = self.cancels.get(&run_id) {
            token.cancel();
            return Ok(());
        }
        if let Some(job_id) = self
            .waiting
            .iter()
            .find(|(_, w)| w.run.id == run_id)
            .map(|(id, _)| *id)
            && let Some(waiting) = self.waiting.remove(&job_id)
        {
            self.finish_unstarted(&waiting.run, "cancelled before it started")
                .await;
            return Ok(());
        }
        if let Some((run, _)) = self.pending_retries.remove(&run_id) {
            self.finish_unstarted(&run, "cancelled before it started")
                .await;
            return Ok(());
        }
        let queued = self.catch_ups.iter_mut().find_map(|(id, queue)| {
            let at = queue.iter().position(|w| w.run.id == run_id)?;
            Some((*id, queue.remove(at)))
        });
        if let Some((id, Some(waiting))) = queued {
            if self.catch_ups.get(&id).is_some_and(|q| q.is_empty()) {
                self.catch_ups.remove(&id);
            }
            self.finish_unstarted(&waiting.run, "cancelled before it started")
                .await;
            return Ok(());
        }
        match self.store.get_run(run_id).await? {
            Some(run) => Err(EngineError::Conflict(format!(
                "run {run_id} is not going (it is {}); only queued or running runs can be cancelled",
                run.status
            ))),
            None => Err(EngineError::not_found(format!("run {run_id}"))),
        }
    }

    async fn finish_unstarted(&mut self, run: &Run, why: &str) {
        let outcome = RunOutcome::with_status(RunStatus::Cancelled, Some(why.to_string()));
        let now = self.clock.now();
        match self.store.finish_run(run.id, &outcome, now).await {
            Ok(()) => {
                let _ = self.events.send(EngineEvent::RunChanged {
                    run_id: run.id,
                    job_id: run.job_id,
                    status: RunStatus::Cancelled,
                });
            }
            Err(e) => tracing::error!(error = %e, "could not record a cancelled run"),
        }
    }

    async fn set_paused(&mut self, paused: bool, persist: bool) -> Result<(), EngineError> {
        if paused == self.paused {
            return Ok(());
        }
        if persist {
            self.store
                .set_setting(PAUSED_SETTING, if paused { "true" } else { "false" })
                .await?;
        }
        self.paused = paused;
        if !paused && !self.held {
            // Firings that fell inside the pause are dropped: schedules resume from now, and
            // each job that missed firings gets one ledger entry for the pause.
            let now = self.clock.now();
            let mut updates = Vec::with_capacity(self.jobs.len());
            let mut classes = Vec::with_capacity(self.jobs.len());
            let mut rows = Vec::new();
            let mut gaps = Vec::new();
            let zone = self.zone;
            for (id, state) in &self.jobs {
                let schedule = compile(&state.job, zone);
                if let Some(schedule) = &schedule
                    && let Some(first) = schedule.next_after(state.cursor).filter(|t| *t <= now)
                {
                    let (missed, counted_all) =
                        schedule.count_between(state.cursor, now, catchup::COUNT_LIMIT);
                    let gap = MissedGap {
                        run_id: RunId::new(),
                        job_id: *id,
                        gap_start: state.cursor,
                        noticed_at: now,
                        first_slot: first,
                        last_slot: schedule.latest_at_or_before(now).unwrap_or(first),
                        missed: missed.max(1),
                        counted_all,
                        cause: MissedCause::Paused,
                        policy: state.job.spec.policies.missed.mode,
                        ran: 0,
                    };
                    let mut row = skipped_run(
                        &state.job,
                        RunReason::Schedule,
                        first,
                        now,
                        gap.describe(None),
                    );
                    row.id = gap.run_id;
                    rows.push(row);
                    gaps.push(gap);
                }
                updates.push(CursorUpdate {
                    job_id: *id,
                    cursor: now,
                    next_due: schedule.as_ref().and_then(|s| s.next_after(now)),
                });
                classes.push(schedule.map(|s| s.is_fixed_time()));
            }
            self.store.record_firings(&rows, &gaps, &updates).await?;
            for row in &rows {
                self.emit_run(row);
            }
            for (update, class) in updates.iter().zip(classes) {
                if let Some(state) = self.jobs.get_mut(&update.job_id) {
                    state.cursor = now;
                    state.fixed_time = class.or(state.fixed_time);
                }
                self.push_due(update.job_id, update.next_due);
            }
        }
        let _ = self.events.send(EngineEvent::PauseChanged { paused });
        Ok(())
    }

    /// Takes over scheduling: the jobs as stored now (another scheduler moved their cursors),
    /// the shared pause state and the retention policy. What fell due since the last
    /// scheduler stopped goes through each job's missed-run policy on the next turn.
    fn activate(&mut self, jobs: Vec<LoadedJob>, paused: bool, retention: RetentionPolicy) {
        self.held = false;
        self.store_next_due = true;
        self.paused = paused;
        self.active_since = self.clock.now();
        self.retention = retention;
        let stored: HashSet<JobId> = jobs.iter().map(|j| j.job.id).collect();
        self.jobs.retain(|id, _| stored.contains(id));
        let mut computed = Vec::new();
        for LoadedJob { job, cursor, .. } in jobs {
            let cursor = self
                .jobs
                .get(&job.id)
                .map_or(cursor, |s| s.cursor.max(cursor));
            computed.extend(self.upsert(job, cursor));
        }
        self.store_next_dues(computed);
        self.next_full_prune = self.clock.now();
    }

    /// Stops firing at once (another process holds the lease now). Runs going finish and are
    /// recorded; runs waiting to start (queue-one, retries) are recorded as not started, since
    /// the new scheduler cannot hand them back to this process.
    async fn hold(&mut self) {
        if self.held {
            return;
        }
        self.held = true;
        self.store_next_due = false;
        self.events_due.clear();
        self.arrivals.clear();
        self.retention = RetentionPolicy::none();
        let why = "not started: another scheduler took over before it was due";
        let ids: Vec<JobId> = self.catch_ups.keys().copied().collect();
        for id in ids {
            self.drop_catch_ups(id, why).await;
        }
        let waiting: Vec<Waiting> = self.waiting.drain().map(|(_, w)| w).collect();
        for w in waiting {
            self.finish_unstarted(&w.run, why).await;
        }
        let retries: Vec<(Run, Job)> = self.pending_retries.drain().map(|(_, r)| r).collect();
        self.retries.clear();
        for (run, _) in retries {
            self.finish_unstarted(&run, why).await;
        }
    }

    /// Quits. Runs going finish (or are cancelled with `cancel_running`) and are recorded.
    /// Quitting while waiting for runs starts nothing more: the runs the scheduler had waiting
    /// (retries, catch-ups, queue-one runs, runs waiting for a free slot) stay queued and are
    /// handed to the next scheduler, which re-arms them; quitting with `cancel_running`
    /// records them as cancelled.
    async fn shutdown(&mut self, cancel_running: bool) {
        // The next scheduler plans these again (on time, or under the missed-run policy).
        self.settle_ahead_writes().await;
        self.withdraw_stale_ahead(true).await;
        let mut left: Vec<Run> = Vec::new();
        for (_, queue) in self.catch_ups.drain() {
            left.extend(queue.into_iter().map(|w| w.run));
        }
        self.catch_up_not_before.clear();
        self.staggered.clear();
        left.extend(self.waiting.drain().map(|(_, w)| w.run));
        left.extend(self.pending_retries.drain().map(|(_, (run, _))| run));
        self.retries.clear();
        if cancel_running {
            for run in &left {
                self.finish_unstarted(run, "cancelled: Sundial quit and cancelled its runs")
                    .await;
            }
            left.clear();
            for token in self.cancels.values() {
                token.cancel();
            }
        }
        self.tracker.close();
        self.stopping.cancel();
        // Record outcomes as runs end, without starting anything new.
        while !self.tracker.is_empty() || !self.finished_rx.is_empty() {
            tokio::select! {
                Some(Finished { run, job, outcome }) = self.finished_rx.recv() => {
                    self.cancels.remove(&run.id);
                    if let Some(list) = self.active.get_mut(&job.id) {
                        list.retain(|id| *id != run.id);
                    }
                    if outcome.is_none() {
                        left.push(run);
                    }
                }
                _ = self.tracker.wait() => {}
            }
        }
        if left.is_empty() {
            return;
        }
        let ids: Vec<RunId> = left.iter().map(|r| r.id).collect();
        match self.store.release_queued_runs(&ids).await {
            Ok(n) => tracing::info!(
                count = n,
                "runs waiting to start stay queued; the next scheduler starts them"
            ),
            Err(e) => tracing::error!(
                error = %e,
                "could not hand waiting runs to the next scheduler; they will be marked interrupted"
            ),
        }
    }

    /// Takes in the runs a scheduler before this one left waiting: retries wait for their
    /// time, catch-ups run one after another, other queued runs start (under the cap). A run
    /// whose job was disabled or deleted since, or whose retry policy no longer allows it,
    /// is recorded as not started, with the reason.
    async fn rearm_runs(&mut self, mut runs: Vec<Run>) {
        if runs.is_empty() {
            return;
        }
        runs.sort_by_key(|r| (r.scheduled_for, r.id));
        let count = runs.len();
        for mut run in runs {
            let Some(job) = self.jobs.get(&run.job_id).map(|s| s.job.clone()) else {
                self.finish_unstarted(
                    &run,
                    "not started: the job was disabled or deleted before it was due",
                )
                .await;
                continue;
            };
            if run.job_revision != job.revision {
                run.job_revision = job.revision;
                if let Err(e) = self.store.set_run_revision(run.id, job.revision).await {
                    tracing::warn!(run = %run.id, error = %e, "could not record a run's job revision");
                }
            }
            match run.reason {
                RunReason::Retry if run.attempt > job.spec.policies.retry.max_attempts => {
                    let why = format!(
                        "not started: the job's retry policy now allows {} attempts",
                        job.spec.policies.retry.max_attempts
                    );
                    self.finish_unstarted(&run, &why).await;
                }
                RunReason::Retry => {
                    self.retries.push(Reverse((run.scheduled_for, run.id)));
                    self.pending_retries.insert(run.id, (run, job));
                }
                RunReason::CatchUp => {
                    self.catch_ups
                        .entry(job.id)
                        .or_default()
                        .push_back(Waiting { run, job });
                }
                _ => self.dispatch(run, job),
            }
        }
        let ids: Vec<JobId> = self.catch_ups.keys().copied().collect();
        for id in ids {
            if !self.active.contains_key(&id) {
                self.start_next_catch_up(id);
            }
        }
        tracing::info!(
            count,
            "runs left waiting by the last scheduler are re-armed"
        );
    }

    /// A job was edited or disabled: the runs waiting for it (retries, a queue-one run,
    /// catch-ups) use the new definition, or end with a reason when it no longer allows them.
    async fn follow_edit(&mut self, job: &Job) {
        let why_disabled = "not started: the job was disabled before this run started";
        let retries: Vec<RunId> = self
            .pending_retries
            .iter()
            .filter(|(_, (run, _))| run.job_id == job.id)
            .map(|(id, _)| *id)
            .collect();
        let mut revised = Vec::new();
        for id in retries {
            let Some((run, _)) = self.pending_retries.get(&id) else {
                continue;
            };
            let max = job.spec.policies.retry.max_attempts;
            let why = if !job.spec.enabled {
                Some(why_disabled.to_string())
            } else if run.attempt > max {
                Some(format!(
                    "not started: the job's retry policy now allows {max} attempt{}",
                    if max == 1 { "" } else { "s" }
                ))
            } else {
                None
            };
            match why {
                Some(why) => {
                    if let Some((run, _)) = self.pending_retries.remove(&id) {
                        self.finish_unstarted(&run, &why).await;
                    }
                }
                None => {
                    if let Some((run, waiting_job)) = self.pending_retries.get_mut(&id) {
                        *waiting_job = job.clone();
                        run.job_revision = job.revision;
                        revised.push(run.id);
                    }
                }
            }
        }
        if let Some(waiting) = self.waiting.get_mut(&job.id) {
            if job.spec.enabled {
                waiting.job = job.clone();
                waiting.run.job_revision = job.revision;
                revised.push(waiting.run.id);
            } else if let Some(waiting) = self.waiting.remove(&job.id) {
                self.finish_unstarted(&waiting.run, why_disabled).await;
            }
        }
        if !job.spec.enabled {
            self.drop_catch_ups(
                job.id,
                "the job was disabled before this catch-up run started",
            )
            .await;
        } else if let Some(queue) = self.catch_ups.get_mut(&job.id) {
            for waiting in queue.iter_mut() {
                waiting.job = job.clone();
                waiting.run.job_revision = job.revision;
                revised.push(waiting.run.id);
            }
        }
        for id in revised {
            if let Err(e) = self.store.set_run_revision(id, job.revision).await {
                tracing::warn!(run = %id, error = %e, "could not record a run's job revision");
            }
        }
    }

    /// Prunes every job on a task of its own, so the loop never waits for it.
    fn prune_all(&self, now: DateTime<Utc>) {
        let (store, logs, policy) = (self.store.clone(), self.logs.clone(), self.retention);
        if policy.keep_runs.is_none() && policy.keep_days.is_none() {
            return;
        }
        self.tracker.spawn(async move {
            if let Err(e) = retention::prune(&store, logs.as_ref(), None, policy, now).await {
                tracing::error!(error = %e, "could not prune old runs");
            }
        });
    }

    fn emit_run(&self, run: &Run) {
        let _ = self.events.send(EngineEvent::RunChanged {
            run_id: run.id,
            job_id: run.job_id,
            status: run.status,
        });
    }
}

/// A timed job's schedule (None for manual and after-job triggers, or a stored trigger that no
/// longer compiles, which is logged).
fn compile(job: &Job, zone: Tz) -> Option<Schedule> {
    match Schedule::from_trigger_in(&job.spec.trigger, job.created_at, zone) {
        Ok(Schedule::Never) => None,
        Ok(schedule) => Some(schedule),
        Err(e) => {
            tracing::error!(job = %job.id, error = %e, "stored trigger is invalid; job not scheduled");
            None
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn execute_run(
    store: &Store,
    clock: &dyn Clock,
    executor: &dyn Executor,
    permits: &Semaphore,
    events: &broadcast::Sender<EngineEvent>,
    mut ending: RunEnding,
    run: &Run,
    job: &Job,
    cancel: CancellationToken,
) -> Option<RunOutcome> {
    // The random delay and the job's conditions first: a run waiting for them holds no slot.
    let mut run = run.clone();
    let gated = gate::wait_to_start(
        &gate::GateParts {
            store,
            clock,
            source: &*ending.conditions,
            events,
            stopping: &ending.stopping,
            cancel: &cancel,
        },
        &mut ending.live,
        &mut run,
    )
    .await;
    let ending = &ending;
    let run = &run;
    let slot = match gated {
        gate::Gate::Stopping => return None,
        gate::Gate::Ended {
            outcome,
            recorded: true,
        } => {
            let _ = events.send(EngineEvent::RunChanged {
                run_id: run.id,
                job_id: run.job_id,
                status: outcome.status,
            });
            return Some(outcome);
        }
        gate::Gate::Ended { outcome, .. } => Slot::Ended(outcome),
        gate::Gate::Start => tokio::select! {
            biased;
            _ = cancel.cancelled() => Slot::Cancelled,
            // "Quit, waiting for runs" waits for the runs going, and starts none still waiting
            // for a free slot: the scheduler's own stay queued for the next start; one asked
            // for by hand is recorded as not started.
            _ = ending.stopping.cancelled() => Slot::Quitting,
            permit = permits.acquire() => permit.map_or(Slot::Cancelled, Slot::Taken),
        },
    };
    let outcome = match slot {
        Slot::Ended(outcome) => outcome,
        Slot::Quitting if run.reason != RunReason::Manual => return None,
        Slot::Quitting => RunOutcome::with_status(
            RunStatus::Cancelled,
            Some("not started: Sundial quit while this run waited for a free slot".into()),
        ),
        Slot::Cancelled => RunOutcome::with_status(
            RunStatus::Cancelled,
            Some("cancelled while waiting for a free slot".into()),
        ),
        // A chained run (or its retry) gets what its upstream passed, kept with its row; one
        // that cannot be read is not run without it.
        Slot::Taken(_permit) => match store.values_to_pass(run).await {
            Err(e) => RunOutcome::failed(format!(
                "not started: what the upstream run passed could not be read: {e}"
            )),
            Ok(passed) => {
                // The run row already exists (queued). Recording the start is not waited for:
                // with many runs starting at once, each would otherwise start one database write
                // later than the one before it.
                let started_at = clock.now();
                let mut started = run.clone();
                started.status = RunStatus::Running;
                started.started_at = Some(started_at);
                let mark = async {
                    match store.mark_started(run.id, started_at).await {
                        Ok(true) => {
                            let _ = events.send(EngineEvent::RunChanged {
                                run_id: run.id,
                                job_id: run.job_id,
                                status: RunStatus::Running,
                            });
                        }
                        Ok(false) => {}
                        Err(e) => {
                            tracing::error!(run = %run.id, error = %e, "could not record the start of a run")
                        }
                    }
                };
                let execute = executor.execute(
                    RunRequest {
                        run: started,
                        job: job.clone(),
                        passed,
                    },
                    cancel,
                );
                tokio::join!(mark, execute).1
            }
        },
    };
    let finished_at = clock.now();
    if outcome
        .error
        .as_deref()
        .is_some_and(|e| e.contains(LOG_DISK_FULL))
    {
        ending.health.failed(
            WriteKind::RunLogs,
            format!("a run log could not be written: {LOG_DISK_FULL}"),
            true,
            finished_at,
        );
    } else {
        ending.health.succeeded(&WriteKind::RunLogs, finished_at);
    }
    record_run_end(store, clock, ending, run, &outcome, finished_at).await;
    let _ = events.send(EngineEvent::RunChanged {
        run_id: run.id,
        job_id: run.job_id,
        status: outcome.status,
    });
    Some(outcome)
}

/// Where a run task stands after its wait for a slot under the global cap.
enum Slot<'a> {
    Taken(tokio::sync::SemaphorePermit<'a>),
    Cancelled,
    Quitting,
    /// It never asked for one: its conditions ended it (not recorded yet).
    Ended(RunOutcome),
}

/// What a run task needs besides the store: to wait for its conditions, and to record how
/// its run ended.
struct RunEnding {
    health: Health,
    /// Cancelled when the engine shuts down.
    stopping: CancellationToken,
    conditions: Arc<dyn ConditionSource>,
    live: gate::LiveConditions,
}

/// Records how a run ended. A failed write is tried again with a backoff (1 s doubling to
/// 60 s), logged once a minute, until it is written or the engine shuts down: the row must not
/// stay `running` while the disk is full or another process holds the database. A row left
/// unwritten at shutdown is marked interrupted at the next start.
async fn record_run_end(
    store: &Store,
    clock: &dyn Clock,
    ending: &RunEnding,
    run: &Run,
    outcome: &RunOutcome,
    finished_at: DateTime<Utc>,
) {
    let kind = WriteKind::RunEnd(run.id);
    let mut delay = WRITE_BACKOFF_FIRST;
    let mut logged_at: Option<DateTime<Utc>> = None;
    let mut unlogged = 0u32;
    loop {
        let e = match store.finish_run(run.id, outcome, finished_at).await {
            Ok(()) => {
                ending.health.succeeded(&kind, clock.now());
                if logged_at.is_some() {
                    tracing::info!(run = %run.id, "the end of the run is recorded after all");
                }
                return;
            }
            Err(e) => e,
        };
        let now = clock.now();
        let stopping = ending.stopping.is_cancelled();
        if stopping || logged_at.is_none_or(|at| now - at >= FAILURE_LOG_EVERY) {
            tracing::error!(
                run = %run.id,
                error = %e,
                failures_not_logged = unlogged,
                "could not record how a run ended{}",
                if stopping {
                    "; Sundial is quitting, the run will be marked interrupted at the next start"
                } else {
                    "; trying again later"
                }
            );
            logged_at = Some(now);
            unlogged = 0;
        } else {
            unlogged += 1;
        }
        if stopping {
            return;
        }
        ending.health.failed(
            kind.clone(),
            format!("how a run ended cannot be recorded: {e}"),
            e.is_disk_full(),
            now,
        );
        tokio::select! {
            _ = tokio::time::sleep(delay.to_std().unwrap_or_default()) => {}
            _ = ending.stopping.cancelled() => {}
        }
        delay = (delay * 2).min(WRITE_BACKOFF_MAX);
    }
}

/// How [`Scheduler::offer_run`] writes its run.
enum Offer<'a> {
    /// Only while this process holds the lease (the scheduler's own firings: at start, on
    /// wake).
    Fenced,
    /// With the values its upstream run passes to it (a chained run).
    Passing(&'a [RunValue]),
}

fn queued_run(
    job: &Job,
    reason: RunReason,
    attempt: u32,
    parent: Option<RunId>,
    scheduled_for: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Run {
    Run {
        id: RunId::new(),
        job_id: job.id,
        job_revision: job.revision,
        reason,
        attempt,
        parent_run_id: parent,
        scheduled_for,
        created_at: now,
        started_at: None,
        finished_at: None,
        status: RunStatus::Queued,
        exit_code: None,
        http_status: None,
        error: None,
        log_bytes: 0,
        log_lines: 0,
        cpu_ms: None,
        peak_memory_bytes: None,
        overrides: None,
        trigger_path: None,
        // A firing's random delay is drawn here, once, and kept with its row.
        wait: crate::domain::RunWait {
            start_after: gate::draw_start_after(&job.spec.policies.conditions, reason, now),
            ..Default::default()
        },
    }
}

fn skipped_run(
    job: &Job,
    reason: RunReason,
    scheduled_for: DateTime<Utc>,
    now: DateTime<Utc>,
    why: String,
) -> Run {
    Run {
        status: RunStatus::Skipped,
        finished_at: Some(now),
        error: Some(why),
        wait: Default::default(),
        ..queued_run(job, reason, 1, None, scheduled_for, now)
    }
}
