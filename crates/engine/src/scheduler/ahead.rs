//! Firings written ahead (decisions/0020). A timed job's next firing is recorded (its run row
//! committed, its cursor moved) [`WRITE_AHEAD`] before it is due, so that at the instant only
//! the spawn is left; runs due in the same instant are handed to their tasks in one pass. The
//! overlap policy is applied at the instant, against the runs going then.
//!
//! A firing written ahead that can no longer be fired as written — the job was edited,
//! disabled, deleted or rescheduled (a zone change, the clock set back), Sundial was paused or
//! quit, or the machine slept past the firing's grace — is withdrawn: its row is deleted and
//! the cursor put back just before the slot, so it is planned again as if never written (on
//! time, or under the missed-run policy). One left by a killed process is withdrawn by the
//! next scheduler before it schedules ([`Store::withdraw_orphaned_ahead`]).

use std::cmp::Reverse;

use chrono::{DateTime, Duration, Utc};

use super::catchup::{MIN_GRACE, plan_due_firings};
use super::overlap::{OverlapDecision, decide};
use super::{Scheduler, Waiting, compile, queued_run};
use crate::domain::{Job, JobId, Run, RunReason, RunStatus};
use crate::events::EngineEvent;
use crate::executor::RunOutcome;
#[cfg(doc)]
use crate::store::Store;
use crate::store::{CursorUpdate, StoreError, WrittenAhead};

/// How long before its time a firing is recorded. Far more than a commit takes (a few ms, tens
/// on a slow disk), and short enough that an edit or a pause rarely meets a firing written.
pub const WRITE_AHEAD: Duration = Duration::milliseconds(500);

/// A batch of firings written ahead, and how the write went.
pub(super) struct AheadWritten {
    firings: Vec<(Ahead, CursorUpdate, bool)>,
    result: Result<(), StoreError>,
}

/// A firing recorded ahead of its time, waiting for it.
pub(super) struct Ahead {
    pub run: Run,
    pub job: Job,
    /// The job's generation when it was written: any later reschedule makes it stale.
    pub generation: u64,
    /// The job's firing after this one (stored with the cursor).
    pub next_due: Option<DateTime<Utc>>,
}

impl Ahead {
    fn written(&self) -> WrittenAhead {
        WrittenAhead {
            run_id: self.run.id,
            job_id: self.job.id,
            slot: self.run.scheduled_for,
        }
    }
}

/// A firing this late (the machine slept, the process was stopped) goes through the missed-run
/// policy, as it would had it not been written ahead.
fn grace_of(job: &Job) -> Duration {
    let secs = job
        .spec
        .policies
        .missed
        .grace_secs
        .min(i64::MAX as u64 / 1000) as i64;
    Duration::seconds(secs).max(MIN_GRACE)
}

impl Scheduler {
    /// When the loop must next wake for firings written ahead, or to write the next ones.
    pub(super) fn ahead_deadline(&self) -> Option<DateTime<Utc>> {
        let due = self.ahead_heap.peek().map(|Reverse((t, _))| *t);
        if self.held {
            return due;
        }
        let unwritten = self.unwritten.peek().map(|Reverse((t, ..))| *t);
        let next = self.heap.peek().map(|Reverse((t, ..))| *t - WRITE_AHEAD);
        [due, unwritten, next].into_iter().flatten().min()
    }

    /// Records, in one transaction, the firings due within [`WRITE_AHEAD`] of `now` that can
    /// be written ahead: a job's next on-time firing with nothing missed before it, and no
    /// conditions. The others (catch-ups, a job whose writes are failing, one that waits for
    /// power, the network or a random delay) are recorded at their time as before.
    pub(super) async fn write_ahead(&mut self, now: DateTime<Utc>) {
        if self.paused || self.held {
            return;
        }
        let horizon = now + WRITE_AHEAD;
        let mut ready: Vec<(Ahead, CursorUpdate, bool)> = Vec::new();
        while let Some(Reverse((due, id, generation))) = self.heap.peek().copied() {
            if due > horizon {
                break;
            }
            self.heap.pop();
            let Some(state) = self.jobs.get(&id).filter(|s| s.generation == generation) else {
                continue;
            };
            // A job with conditions or a random delay does not start at the instant anyway.
            let c = &state.job.spec.policies.conditions;
            let plain = !c.waits_for_state() && c.random_delay_secs == 0;
            let schedule = (plain && due > now && !self.write_backoff.contains_key(&id))
                .then(|| compile(&state.job, self.zone))
                .flatten();
            let single = schedule.as_ref().is_some_and(|s| {
                let p = plan_due_firings(s, state.cursor, due, &state.job.spec.policies.missed);
                p.missed.is_none()
                    && p.runs.len() == 1
                    && p.runs[0].slot == due
                    && p.runs[0].reason == RunReason::Schedule
            });
            let (Some(schedule), true) = (schedule, single) else {
                self.unwritten.push(Reverse((due, id, generation)));
                continue;
            };
            let run = queued_run(&state.job, RunReason::Schedule, 1, None, due, now);
            let next_due = schedule.next_after(due);
            let cursor = CursorUpdate {
                job_id: id,
                cursor: due,
                next_due,
            };
            let ahead = Ahead {
                run,
                job: state.job.clone(),
                generation,
                next_due,
            };
            ready.push((ahead, cursor, schedule.is_fixed_time()));
        }
        if ready.is_empty() {
            return;
        }
        // The commit runs on a task of its own: a slow disk must not hold the loop past the
        // instant of a firing already written. A firing whose commit is still going at its
        // time fires as soon as the commit returns.
        let store = self.store.clone();
        let done = self.ahead_tx.clone();
        self.ahead_writing += 1;
        self.tracker.spawn(async move {
            let rows: Vec<Run> = ready.iter().map(|(a, ..)| a.run.clone()).collect();
            let cursors: Vec<CursorUpdate> = ready.iter().map(|(_, c, _)| c.clone()).collect();
            let result = store.record_firings_ahead(&rows, &cursors).await;
            let _ = done.send(AheadWritten {
                firings: ready,
                result,
            });
        });
    }

    /// A batch of firings written ahead is committed (or could not be).
    pub(super) async fn ahead_written(&mut self, written: AheadWritten) {
        self.ahead_writing = self.ahead_writing.saturating_sub(1);
        match written.result {
            Ok(()) => {
                for (ahead, cursor, fixed_time) in written.firings {
                    let id = ahead.job.id;
                    if let Some(state) = self.jobs.get_mut(&id) {
                        state.cursor = state.cursor.max(cursor.cursor);
                        state.fixed_time = Some(fixed_time);
                    }
                    self.emit_run(&ahead.run);
                    self.ahead_heap.push(Reverse((ahead.run.scheduled_for, id)));
                    self.ahead.insert(id, ahead);
                }
            }
            Err(e) => {
                // Recorded at their time instead, where a failing job is held back alone.
                let lost = matches!(e, StoreError::LeaseLost);
                if !lost {
                    tracing::debug!(error = %e, "could not write firings ahead; they are recorded when due");
                }
                for (ahead, ..) in written.firings {
                    self.unwritten.push(Reverse((
                        ahead.run.scheduled_for,
                        ahead.job.id,
                        ahead.generation,
                    )));
                }
                if lost {
                    tracing::error!(
                        "the scheduler lease is another process's now; this one stops firing"
                    );
                    self.hold().await;
                }
            }
        }
    }

    /// At a quit: waits for the writes ahead still going, so that what they wrote is withdrawn.
    pub(super) async fn settle_ahead_writes(&mut self) {
        while self.ahead_writing > 0 {
            match self.ahead_rx.recv().await {
                Some(written) => self.ahead_written(written).await,
                None => break,
            }
        }
    }

    /// Fires the firings written ahead that are due: each is handed to its task at once under
    /// the job's overlap policy (start, replace, queue one, skip). A live process fires the
    /// ones it wrote even after losing the lease: the next scheduler saw their cursors moved
    /// and does not fire them again.
    pub(super) async fn fire_ahead(&mut self, now: DateTime<Utc>) {
        if self.paused {
            return;
        }
        let mut late = Vec::new();
        let mut skipped = Vec::new();
        while let Some(Reverse((due, id))) = self.ahead_heap.peek().copied() {
            if due > now {
                break;
            }
            self.ahead_heap.pop();
            let Some(ahead) = self.ahead.remove(&id) else {
                continue;
            };
            if ahead.run.scheduled_for != due {
                // A stale heap entry: the firing's own one is still on the heap.
                self.ahead.insert(id, ahead);
                continue;
            }
            if now - due > grace_of(&ahead.job) {
                late.push(ahead);
                continue;
            }
            if !self.held {
                self.push_due(id, ahead.next_due);
            } else if let Some(state) = self.jobs.get_mut(&id) {
                state.next_due = ahead.next_due;
            }
            let active = self.active.get(&id).map_or(0, Vec::len)
                + self.catch_ups.get(&id).map_or(0, |q| q.len());
            let has_waiting = self.waiting.contains_key(&id);
            let Ahead { run, job, .. } = ahead;
            match decide(job.spec.policies.overlap, active, has_waiting) {
                OverlapDecision::Start => self.dispatch(run, job),
                OverlapDecision::ReplaceThenStart => {
                    self.cancel_job_runs(job.id, Some(run.id));
                    self.dispatch(run, job);
                }
                OverlapDecision::Wait => {
                    self.waiting.insert(job.id, Waiting { run, job });
                }
                OverlapDecision::Skip(why) => skipped.push((run, why)),
            }
        }
        for (run, why) in skipped {
            let outcome = RunOutcome::with_status(RunStatus::Skipped, Some(why.into()));
            match self.store.finish_run(run.id, &outcome, now).await {
                Ok(()) => {
                    let _ = self.events.send(EngineEvent::RunChanged {
                        run_id: run.id,
                        job_id: run.job_id,
                        status: RunStatus::Skipped,
                    });
                }
                Err(e) => {
                    tracing::error!(run = %run.id, error = %e, "could not record a skipped firing")
                }
            }
        }
        if late.is_empty() {
            return;
        }
        if self.held {
            for ahead in late {
                self.finish_unstarted(
                    &ahead.run,
                    "not started: Sundial was stopped past this firing's time, and another \
                     scheduler had taken over",
                )
                .await;
            }
            return;
        }
        self.withdraw(late).await;
    }

    /// Withdraws the firings written ahead that can no longer fire as written (see the
    /// module's doc): all of them while paused, or with `all` (quitting).
    pub(super) async fn withdraw_stale_ahead(&mut self, all: bool) {
        if self.ahead.is_empty() || self.held {
            return;
        }
        let stale: Vec<JobId> = self
            .ahead
            .iter()
            .filter(|(id, a)| {
                all || self.paused
                    || self
                        .jobs
                        .get(id)
                        .is_none_or(|s| s.generation != a.generation || !s.job.spec.enabled)
            })
            .map(|(id, _)| *id)
            .collect();
        if stale.is_empty() {
            return;
        }
        let withdrawn = stale
            .into_iter()
            .filter_map(|id| self.ahead.remove(&id))
            .collect();
        self.withdraw(withdrawn).await;
    }

    /// Deletes the rows of these firings and puts their jobs' cursors back before their slots;
    /// the jobs are planned again from there. When that cannot be written, the firings stay
    /// as written and fire at their time (a run late or with the old definition rather than
    /// one lost).
    async fn withdraw(&mut self, firings: Vec<Ahead>) {
        let written: Vec<WrittenAhead> = firings.iter().map(Ahead::written).collect();
        match self.store.withdraw_written_ahead(&written).await {
            Ok(()) => {
                for w in written {
                    let _ = self.events.send(EngineEvent::RunChanged {
                        run_id: w.run_id,
                        job_id: w.job_id,
                        status: RunStatus::Cancelled,
                    });
                    if let Some(state) = self.jobs.get_mut(&w.job_id) {
                        state.cursor = w.slot - Duration::milliseconds(1);
                    } else {
                        continue;
                    }
                    self.reschedule(w.job_id);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "could not withdraw firings written ahead; they fire as written");
                let now = self.clock.now();
                for ahead in firings {
                    let id = ahead.job.id;
                    let Some(generation) = self.jobs.get(&id).map(|s| s.generation) else {
                        continue;
                    };
                    if ahead.run.scheduled_for <= now {
                        // Late: run now rather than never.
                        self.push_due(id, ahead.next_due);
                        self.dispatch(ahead.run, ahead.job);
                        continue;
                    }
                    // Made current again, so that it is not withdrawn on every turn.
                    self.ahead_heap.push(Reverse((ahead.run.scheduled_for, id)));
                    self.ahead.insert(
                        id,
                        Ahead {
                            generation,
                            ..ahead
                        },
                    );
                }
                if matches!(e, StoreError::LeaseLost) {
                    self.hold().await;
                }
            }
        }
    }
}
