//! Which due firings run and which were missed, after a normal wake, a suspend, a clock jump
//! or a restart. Pure: the loop passes the schedule, the cursor and the wall clock.

use chrono::{DateTime, Duration, Utc};

use crate::domain::{MissedRunMode, MissedRunPolicy, RunReason};
use crate::schedule::Schedule;

/// Missed firings of one cron job are counted up to this many (intervals are counted by
/// arithmetic, whatever their number): beyond it the ledger says "more than", so a per-second
/// job closed for months cannot stall the loop.
pub const COUNT_LIMIT: u64 = 100_000;

/// On-time firings planned per wake at most (a long grace window on a per-second job).
pub const ON_TIME_LIMIT: usize = 1000;

/// The least lateness that counts as missed, whatever `grace_secs` says (0 included).
pub const MIN_GRACE: Duration = Duration::seconds(5);

/// A firing to run now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firing {
    pub slot: DateTime<Utc>,
    /// `Schedule` for an on-time firing, `CatchUp` for a missed one the policy runs.
    pub reason: RunReason,
}

/// The firings missed in one gap, for the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missed {
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
    pub count: u64,
    /// False when `count` stopped at [`COUNT_LIMIT`].
    pub counted_all: bool,
    /// How many of them run as catch-ups.
    pub ran: u32,
    /// The on-time firing that stands in for them ("run once" with an on-time run due).
    pub covered_by: Option<DateTime<Utc>>,
}

/// What is due in `(cursor, now]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DuePlan {
    /// In slot order: catch-ups first, then on-time firings.
    pub runs: Vec<Firing>,
    pub missed: Option<Missed>,
}

/// Plans the firings due in `(cursor, now]`.
///
/// A firing at most `grace_secs` (and never less than [`MIN_GRACE`]) late is on time and runs
/// as a scheduled run. Older ones were missed (the app was closed, the machine asleep, the
/// clock jumped): they make one ledger entry, and the policy says which of them run: `skip`
/// none; `run_once` the latest one (none if an on-time firing runs anyway); `run_all` the
/// latest `max_catch_up`, one after another.
pub fn plan_due_firings(
    schedule: &Schedule,
    cursor: DateTime<Utc>,
    now: DateTime<Utc>,
    policy: &MissedRunPolicy,
) -> DuePlan {
    if now <= cursor {
        return DuePlan::default();
    }
    // A firing only moments late (the loop's own wake-up, a busy machine, a short stall) is
    // on time whatever the policy says: only firings older than this were missed.
    let grace =
        Duration::seconds(policy.grace_secs.min(i64::MAX as u64 / 1000) as i64).max(MIN_GRACE);
    // Slots at or after `grace_start` are on time; slots up to `missed_end` were missed.
    let grace_start = now - grace;
    let missed_end = grace_start - Duration::milliseconds(1);

    let on_time = schedule.fires_between(cursor.max(missed_end), now, ON_TIME_LIMIT);
    let mut plan = DuePlan::default();
    if cursor < missed_end
        && let Some(first) = schedule.next_after(cursor).filter(|t| *t <= missed_end)
    {
        let last = schedule
            .latest_at_or_before(missed_end)
            .filter(|t| *t > cursor)
            .unwrap_or(first);
        let (count, counted_all) = schedule.count_between(cursor, missed_end, COUNT_LIMIT);
        let wanted = match policy.mode {
            MissedRunMode::Skip => 0,
            MissedRunMode::RunOnce if on_time.is_empty() => 1,
            MissedRunMode::RunOnce => 0,
            MissedRunMode::RunAll => policy.max_catch_up.max(1) as usize,
        };
        let catch_up = latest_slots(schedule, cursor, missed_end, wanted);
        plan.missed = Some(Missed {
            first,
            last,
            count: count.max(1),
            counted_all,
            ran: u32::try_from(catch_up.len()).unwrap_or(u32::MAX),
            covered_by: (policy.mode == MissedRunMode::RunOnce)
                .then(|| on_time.first().copied())
                .flatten(),
        });
        plan.runs.extend(catch_up.into_iter().map(|slot| Firing {
            slot,
            reason: RunReason::CatchUp,
        }));
    }
    plan.runs.extend(on_time.into_iter().map(|slot| Firing {
        slot,
        reason: RunReason::Schedule,
    }));
    plan
}

/// The latest `wanted` slots in `(cursor, missed_end]`, oldest first, found walking back
/// from the end (so a long gap is never enumerated).
fn latest_slots(
    schedule: &Schedule,
    cursor: DateTime<Utc>,
    missed_end: DateTime<Utc>,
    wanted: usize,
) -> Vec<DateTime<Utc>> {
    let mut slots = Vec::with_capacity(wanted.min(1024));
    let mut probe = missed_end;
    while slots.len() < wanted {
        match schedule.latest_at_or_before(probe) {
            Some(slot) if slot > cursor => {
                slots.push(slot);
                probe = slot - Duration::milliseconds(1);
            }
            _ => break,
        }
    }
    slots.reverse();
    slots
}
