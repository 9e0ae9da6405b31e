//! Before a run starts: its random delay, then its job's conditions (on AC power, network
//! up; decisions/0019). A run task waits here before it asks for a slot under the global cap,
//! so a waiting run holds no slot, counts as the job's run for the overlap policy, and is
//! cancelled, replaced or handed to the next scheduler like any queued run. Everything the
//! wait needs to survive a restart is on the run row: the end of the random delay, what it
//! waits for and until when.

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::conditions::{ConditionSource, NetworkState, PowerState};
use crate::domain::{
    ConditionTimeout, Conditions, MissedCause, MissedGap, MissedRunMode, Run, RunReason, RunStatus,
    WaitingFor,
};
use crate::events::EngineEvent;
use crate::executor::RunOutcome;
use crate::store::Store;

/// How often a waiting run looks at the power and network state (and at the wall clock,
/// which tokio's timer does not follow across a suspend).
pub const CONDITION_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// How the wait ended.
pub(super) enum Gate {
    /// Start now (asking for a slot).
    Start,
    /// Sundial quits: the run stays queued for the next scheduler.
    Stopping,
    /// It ends without starting, with this outcome; already recorded when `recorded`.
    Ended { outcome: RunOutcome, recorded: bool },
}

/// The random delay of a firing: from 0 to `random_delay_secs`, in milliseconds, drawn
/// once (from the ULID generator's randomness: no other source needed). Only firings get
/// one: runs asked for by hand and retries start without.
pub(super) fn draw_start_after(
    conditions: &Conditions,
    reason: RunReason,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if conditions.random_delay_secs == 0 || matches!(reason, RunReason::Manual | RunReason::Retry) {
        return None;
    }
    let span_ms = u128::from(conditions.random_delay_secs) * 1000 + 1;
    let drawn = ulid::Ulid::new().random() % span_ms;
    Some(now + Duration::milliseconds(i64::try_from(drawn).unwrap_or(0)))
}

/// The condition a run still waits for now (AC power first), if any. Unknown counts as met.
pub(super) fn unmet(conditions: &Conditions, source: &dyn ConditionSource) -> Option<WaitingFor> {
    if conditions.ac_power && source.power() == PowerState::OnBattery {
        return Some(WaitingFor::AcPower);
    }
    if conditions.network && source.network() == NetworkState::Down {
        return Some(WaitingFor::Network);
    }
    None
}

/// What a run task needs to wait.
pub(super) struct GateParts<'a> {
    pub store: &'a Store,
    pub clock: &'a dyn Clock,
    pub source: &'a dyn ConditionSource,
    pub events: &'a broadcast::Sender<EngineEvent>,
    pub stopping: &'a CancellationToken,
    pub cancel: &'a CancellationToken,
}

/// The job's conditions as they are now: an edit while a run waits applies to it at once
/// (a condition turned off lets it start; the deadline already set is kept).
pub(super) type LiveConditions = watch::Receiver<Conditions>;

enum Nap {
    Woke,
    Cancelled,
    Stopping,
}

async fn nap(
    parts: &GateParts<'_>,
    live: &mut LiveConditions,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Nap {
    let left = (until - now).to_std().unwrap_or_default();
    tokio::select! {
        biased;
        _ = parts.cancel.cancelled() => Nap::Cancelled,
        _ = parts.stopping.cancelled() => Nap::Stopping,
        // An edit: look again at once (a closed channel only means no edit can come).
        Ok(()) = live.changed() => Nap::Woke,
        _ = tokio::time::sleep(left.min(CONDITION_CHECK_EVERY)) => Nap::Woke,
    }
}

fn cancelled(why: String) -> Gate {
    Gate::Ended {
        outcome: RunOutcome::with_status(RunStatus::Cancelled, Some(why)),
        recorded: false,
    }
}

/// Waits until `run` may start: its random delay passed and its job's conditions met (or
/// the maximum wait over with `on_timeout: run`). Runs asked for by hand never wait. `run`
/// gets what it waits for as the row does.
pub(super) async fn wait_to_start(
    parts: &GateParts<'_>,
    live: &mut LiveConditions,
    run: &mut Run,
) -> Gate {
    if run.reason == RunReason::Manual {
        return Gate::Start;
    }
    if let Some(after) = run.wait.start_after {
        loop {
            let now = parts.clock.now();
            if now >= after {
                break;
            }
            match nap(parts, live, now, after).await {
                Nap::Woke => {}
                Nap::Cancelled => {
                    return cancelled("cancelled during its random delay".into());
                }
                Nap::Stopping => return Gate::Stopping,
            }
        }
    }
    loop {
        let conditions = live.borrow_and_update().clone();
        let now = parts.clock.now();
        let Some(what) = unmet(&conditions, parts.source) else {
            if run.wait.waiting_for.is_some() {
                tracing::info!(run = %run.id, job = %run.job_id, "the run's conditions are met; it starts");
            }
            return Gate::Start;
        };
        let until = *run.wait.wait_until.get_or_insert_with(|| {
            let max = i64::try_from(conditions.max_wait_secs).unwrap_or(i64::MAX);
            now + Duration::seconds(max)
        });
        if run.wait.waiting_for != Some(what) {
            run.wait.waiting_for = Some(what);
            tracing::info!(
                run = %run.id, job = %run.job_id, until = %until,
                "the run waits for {}", what.words()
            );
            match parts
                .store
                .set_run_waiting(run.id, run.job_id, what, until)
                .await
            {
                Ok(true) => {
                    let _ = parts.events.send(EngineEvent::RunChanged {
                        run_id: run.id,
                        job_id: run.job_id,
                        status: RunStatus::Queued,
                    });
                }
                // No longer queued: cancelled by another process; the end is recorded there.
                Ok(false) => {
                    return Gate::Ended {
                        outcome: RunOutcome::with_status(RunStatus::Cancelled, None),
                        recorded: true,
                    };
                }
                Err(e) => {
                    tracing::warn!(run = %run.id, error = %e, "could not record what a run waits for")
                }
            }
        }
        if now >= until {
            return timed_out(parts, run, &conditions, what, until, now).await;
        }
        match nap(parts, live, now, until).await {
            Nap::Woke => {}
            Nap::Cancelled => {
                return cancelled(format!("cancelled while waiting for {}", what.words()));
            }
            Nap::Stopping => return Gate::Stopping,
        }
    }
}

/// The maximum wait is over and `what` is still not there: the ledger records it, and the
/// run is skipped or starts as the job's `on_timeout` says.
async fn timed_out(
    parts: &GateParts<'_>,
    run: &Run,
    conditions: &Conditions,
    what: WaitingFor,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Gate {
    let skip = conditions.on_timeout == ConditionTimeout::Skip;
    let max = i64::try_from(conditions.max_wait_secs).unwrap_or(i64::MAX);
    let gap = MissedGap {
        run_id: run.id,
        job_id: run.job_id,
        gap_start: until - Duration::seconds(max),
        noticed_at: until.min(now),
        first_slot: run.scheduled_for,
        last_slot: run.scheduled_for,
        missed: 1,
        counted_all: true,
        cause: match what {
            WaitingFor::AcPower => MissedCause::OnBattery,
            WaitingFor::Network => MissedCause::Offline,
        },
        policy: if skip {
            MissedRunMode::Skip
        } else {
            MissedRunMode::RunOnce
        },
        ran: u32::from(!skip),
    };
    tracing::info!(
        run = %run.id, job = %run.job_id,
        "the run waited its job's maximum for {}: {}",
        what.words(),
        if skip { "skipped" } else { "it runs anyway" }
    );
    let recorded = match parts.store.record_condition_timeout(&gap, skip, now).await {
        Ok(true) => true,
        Ok(false) => {
            return Gate::Ended {
                outcome: RunOutcome::with_status(RunStatus::Cancelled, None),
                recorded: true,
            };
        }
        Err(e) => {
            tracing::error!(run = %run.id, error = %e, "could not record a run whose conditions were not met");
            false
        }
    };
    if !skip {
        return Gate::Start;
    }
    Gate::Ended {
        outcome: RunOutcome::with_status(RunStatus::Skipped, Some(gap.describe(None))),
        recorded,
    }
}
