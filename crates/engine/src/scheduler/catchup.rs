//! Which due firings run and which are skipped, after a normal wake, a suspend, a clock jump
//! or a restart. Pure: the loop passes the schedule, the cursor and the wall clock.

use chrono::{DateTime, Duration, Utc};

use crate::domain::{MissedRunMode, MissedRunPolicy, RunReason};
use crate::schedule::Schedule;

/// How many firings of one job are enumerated (and recorded one by one) per wake. Beyond it,
/// one summary row stands for the rest, so a per-second job closed for a week cannot flood the
/// database or stall the loop.
pub const ENUMERATION_LIMIT: usize = 1000;

/// The least lateness that counts as missed, whatever `grace_secs` says (0 included).
pub const MIN_GRACE: Duration = Duration::seconds(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firing {
    pub slot: DateTime<Utc>,
    pub action: FiringAction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FiringAction {
    Run(RunReason),
    Skip(String),
}

/// Plans the firings due in `(cursor, now]`, in slot order.
///
/// A firing at most `grace_secs` (and never less than [`MIN_GRACE`]) late is on time and runs
/// as a scheduled run. Older ones were
/// missed (the app was closed, the machine asleep, the clock jumped) and follow the policy:
/// `skip` records each as skipped; `run_once` runs the latest one as a catch-up run (none if an
/// on-time firing already runs) and records the rest; `run_all` runs the latest
/// `max_catch_up` and records the rest.
pub fn plan_due_firings(
    schedule: &Schedule,
    cursor: DateTime<Utc>,
    now: DateTime<Utc>,
    policy: &MissedRunPolicy,
) -> Vec<Firing> {
    if now <= cursor {
        return Vec::new();
    }
    // A firing only moments late (the loop's own wake-up, a busy machine, a short stall) is
    // on time whatever the policy says: only firings older than this were missed.
    let grace =
        Duration::seconds(policy.grace_secs.min(i64::MAX as u64 / 1000) as i64).max(MIN_GRACE);
    // Slots at or after `grace_start` are on time; slots up to `missed_end` were missed.
    let grace_start = now - grace;
    let missed_end = grace_start - Duration::milliseconds(1);

    let on_time = schedule.fires_between(cursor.max(missed_end), now, ENUMERATION_LIMIT);
    let mut firings: Vec<Firing> = Vec::new();

    if cursor < missed_end {
        let head = schedule.fires_between(cursor, missed_end, ENUMERATION_LIMIT);
        let truncated = head.len() == ENUMERATION_LIMIT
            && head
                .last()
                .and_then(|last| schedule.next_after(*last))
                .is_some_and(|next| next <= missed_end);
        let catch_up_wanted = match policy.mode {
            MissedRunMode::Skip => 0,
            MissedRunMode::RunOnce if on_time.is_empty() => 1,
            MissedRunMode::RunOnce => 0,
            MissedRunMode::RunAll => policy.max_catch_up.max(1) as usize,
        };
        let catch_up = latest_slots(schedule, &head, truncated, missed_end, catch_up_wanted);
        let noticed = now.format("%Y-%m-%d %H:%M:%S UTC");
        let why = |detail: String| {
            format!(
                "missed: Sundial was not running or the computer was asleep at this time \
                 (noticed {noticed}); {detail}"
            )
        };
        let skip_reason = match policy.mode {
            MissedRunMode::Skip => why("the job's missed-run policy is to skip".into()),
            MissedRunMode::RunOnce => match (on_time.first(), catch_up.last()) {
                (Some(on), _) => why(format!("the on-time run at {} covers it", on.to_rfc3339())),
                (None, Some(c)) => why(format!(
                    "coalesced into one catch-up run for {}",
                    c.to_rfc3339()
                )),
                (None, None) => why("nothing to catch up".into()),
            },
            MissedRunMode::RunAll => why(format!(
                "over the catch-up limit of {} runs (the most recent ones ran)",
                policy.max_catch_up
            )),
        };
        for slot in &head {
            if !catch_up.contains(slot) {
                firings.push(Firing {
                    slot: *slot,
                    action: FiringAction::Skip(skip_reason.clone()),
                });
            }
        }
        if truncated {
            // One row stands for every further missed firing that is not caught up.
            let first_unlisted = head
                .last()
                .and_then(|last| schedule.next_after(*last))
                .unwrap_or(missed_end);
            let until = catch_up.first().copied().unwrap_or(missed_end);
            if first_unlisted < until {
                firings.push(Firing {
                    slot: first_unlisted,
                    action: FiringAction::Skip(format!(
                        "{skip_reason}; further missed firings from {} until {} were not recorded one by one",
                        first_unlisted.to_rfc3339(),
                        until.to_rfc3339()
                    )),
                });
            }
        }
        for slot in catch_up {
            firings.push(Firing {
                slot,
                action: FiringAction::Run(RunReason::CatchUp),
            });
        }
    }
    for slot in on_time {
        firings.push(Firing {
            slot,
            action: FiringAction::Run(RunReason::Schedule),
        });
    }
    firings.sort_by_key(|f| f.slot);
    firings.dedup_by_key(|f| f.slot);
    firings
}

/// The latest `wanted` missed slots, oldest first.
fn latest_slots(
    schedule: &Schedule,
    head: &[DateTime<Utc>],
    truncated: bool,
    missed_end: DateTime<Utc>,
    wanted: usize,
) -> Vec<DateTime<Utc>> {
    if wanted == 0 {
        return Vec::new();
    }
    if !truncated {
        return head[head.len().saturating_sub(wanted)..].to_vec();
    }
    let floor = head.last().copied();
    let mut slots = Vec::with_capacity(wanted);
    let mut probe = missed_end;
    while slots.len() < wanted {
        match schedule.latest_at_or_before(probe) {
            Some(slot) if Some(slot) > floor => {
                slots.push(slot);
                probe = slot - Duration::milliseconds(1);
            }
            _ => break,
        }
    }
    slots.reverse();
    if slots.len() < wanted {
        // The backward walk met the enumerated head: fill from its end.
        let more = wanted - slots.len();
        let mut from_head = head[head.len().saturating_sub(more)..].to_vec();
        from_head.extend(slots);
        return from_head;
    }
    slots
}
