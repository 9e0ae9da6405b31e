//! The missed-run ledger: one entry per job per gap (a sleep, Sundial not running, a clock
//! change, a pause) says how many firings were missed, the first and the last, why, and what
//! the job's missed-run policy did about them. History shows each entry as one row.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{JobId, RunId};
use super::policy::MissedRunMode;
use super::run::text_enum;

/// Why firings were missed.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissedCause {
    /// The computer was suspended (the system's time asleep grew by the gap).
    Asleep,
    /// No Sundial process was scheduling (the app and the daemon were closed).
    NotRunning,
    /// The wall clock was set forward (it moved ahead while the computer was awake).
    ClockChanged,
    /// Sundial was paused.
    Paused,
    /// Sundial was running but could not fire: frozen (a stopped process), stalled, or unable
    /// to record runs.
    Stalled,
    /// The job may run only on AC power, and the computer stayed on battery for the job's
    /// whole maximum wait (decisions/0019).
    OnBattery,
    /// The job may run only with the network up, and it stayed down for the maximum wait.
    Offline,
}

text_enum!(MissedCause {
    Asleep => "asleep",
    NotRunning => "not_running",
    ClockChanged => "clock_changed",
    Paused => "paused",
    Stalled => "stalled",
    OnBattery => "on_battery",
    Offline => "offline",
});

impl MissedCause {
    /// "while …", in words.
    pub fn words(self) -> &'static str {
        match self {
            MissedCause::Asleep => "while the computer was asleep",
            MissedCause::NotRunning => "while Sundial was not running",
            MissedCause::ClockChanged => "because the clock was set forward",
            MissedCause::Paused => "while Sundial was paused",
            MissedCause::Stalled => "while Sundial was stopped or could not record runs",
            MissedCause::OnBattery => "while on battery",
            MissedCause::Offline => "while offline",
        }
    }

    /// A cause that is a job's unmet condition rather than Sundial not firing.
    pub fn is_condition(self) -> bool {
        matches!(self, MissedCause::OnBattery | MissedCause::Offline)
    }
}

/// One ledger entry.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissedGap {
    /// The history row that stands for this entry (status `skipped`).
    pub run_id: RunId,
    pub job_id: JobId,
    /// When the gap began, as far as Sundial knows: the wall time just before the sleep or
    /// the clock change; else the job's last firing check before the gap.
    pub gap_start: DateTime<Utc>,
    /// When Sundial noticed the gap (woke, started, resumed).
    pub noticed_at: DateTime<Utc>,
    /// The first and the last missed firing.
    pub first_slot: DateTime<Utc>,
    pub last_slot: DateTime<Utc>,
    /// How many firings were missed (caught-up ones included).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub missed: u64,
    /// False when `missed` is a lower bound (a per-second job closed for months).
    pub counted_all: bool,
    pub cause: MissedCause,
    /// The job's missed-run policy when the gap was noticed. For an unmet condition, what
    /// the job's `on_timeout` did: `skip`, or `run_once` for "ran anyway".
    pub policy: MissedRunMode,
    /// How many catch-up runs the policy started for the gap (1 for a firing whose condition
    /// was not met that ran anyway: then `run_id` is that run itself, not a skipped row).
    pub ran: u32,
}

impl MissedGap {
    /// The entry in words, as history shows it: "Missed 480 firings (00:01 to 08:00 UTC) while
    /// the computer was asleep; ran the latest once".
    pub fn describe(&self, covered_by: Option<DateTime<Utc>>) -> String {
        if self.cause.is_condition() {
            return self.describe_condition();
        }
        let count = if self.counted_all {
            self.missed.to_string()
        } else {
            format!("more than {}", self.missed)
        };
        let span = if self.first_slot == self.last_slot {
            format!("due {}", stamp(self.first_slot))
        } else {
            format!("{} to {}", stamp(self.first_slot), stamp(self.last_slot))
        };
        let plural = if self.missed == 1 && self.counted_all {
            "firing"
        } else {
            "firings"
        };
        let done = match (self.policy, self.ran, covered_by) {
            (_, 0, Some(on_time)) => format!(
                "not caught up: the on-time run at {} covers them",
                stamp(on_time)
            ),
            (_, 0, None) if self.cause == MissedCause::Paused => {
                "skipped: schedules resume from when Sundial was resumed".to_string()
            }
            (MissedRunMode::Skip, _, _) => "skipped, as the job's missed-run policy says".into(),
            (_, 0, None) => "skipped".into(),
            (MissedRunMode::RunOnce, _, _) => "caught up with one run for the latest".into(),
            (MissedRunMode::RunAll, n, _) if u64::from(n) >= self.missed => {
                format!("caught up: ran all {n}, one after another")
            }
            (MissedRunMode::RunAll, n, _) => format!(
                "caught up: ran the latest {n} (the policy's limit), one after another; the rest skipped"
            ),
        };
        format!(
            "Missed {count} {plural} ({span}) {}; {done}",
            self.cause.words()
        )
    }
}

impl MissedGap {
    /// A firing that waited for its condition as long as the job allows: "Waited 1 h for AC
    /// power (due 2024-03-01 08:00:00 UTC) while on battery; skipped, as the job's conditions
    /// say".
    fn describe_condition(&self) -> String {
        let what = match self.cause {
            MissedCause::Offline => "the network",
            _ => "AC power",
        };
        let done = if self.ran > 0 {
            "ran anyway, as the job's conditions say"
        } else {
            "skipped, as the job's conditions say"
        };
        format!(
            "Waited {} for {what} (due {}) {}; {done}",
            span_words(self.noticed_at - self.gap_start),
            stamp(self.first_slot),
            self.cause.words()
        )
    }
}

/// "1 h 30 min", "45 min", "30 s".
pub fn span_words(span: chrono::Duration) -> String {
    let secs = span.num_seconds().max(0);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

impl FromStr for MissedRunMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "skip" => Ok(MissedRunMode::Skip),
            "run_once" => Ok(MissedRunMode::RunOnce),
            "run_all" => Ok(MissedRunMode::RunAll),
            other => Err(format!("{other:?} is not one of: skip, run_once, run_all")),
        }
    }
}

impl MissedRunMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MissedRunMode::Skip => "skip",
            MissedRunMode::RunOnce => "run_once",
            MissedRunMode::RunAll => "run_all",
        }
    }
}

impl fmt::Display for MissedRunMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(missed: u64, ran: u32, policy: MissedRunMode) -> MissedGap {
        MissedGap {
            run_id: RunId::new(),
            job_id: JobId::new(),
            gap_start: "2024-03-01T00:00:30Z".parse().unwrap(),
            noticed_at: "2024-03-01T08:00:30Z".parse().unwrap(),
            first_slot: "2024-03-01T00:01:00Z".parse().unwrap(),
            last_slot: "2024-03-01T08:00:00Z".parse().unwrap(),
            missed,
            counted_all: true,
            cause: MissedCause::Asleep,
            policy,
            ran,
        }
    }

    #[test]
    fn an_entry_says_how_many_when_why_and_what_was_done() {
        let text = gap(480, 1, MissedRunMode::RunOnce).describe(None);
        assert_eq!(
            text,
            "Missed 480 firings (2024-03-01 00:01:00 UTC to 2024-03-01 08:00:00 UTC) while the \
             computer was asleep; caught up with one run for the latest"
        );
        let text = gap(480, 10, MissedRunMode::RunAll).describe(None);
        assert!(
            text.ends_with(
                "ran the latest 10 (the policy's limit), one after another; the rest skipped"
            ),
            "{text}"
        );
        let text = gap(480, 0, MissedRunMode::Skip).describe(None);
        assert!(
            text.ends_with("skipped, as the job's missed-run policy says"),
            "{text}"
        );
    }

    #[test]
    fn an_unmet_condition_says_how_long_it_waited_for_what() {
        let mut entry = gap(1, 0, MissedRunMode::Skip);
        entry.cause = MissedCause::OnBattery;
        entry.gap_start = "2024-03-01T08:00:00Z".parse().unwrap();
        entry.noticed_at = "2024-03-01T09:30:00Z".parse().unwrap();
        entry.first_slot = entry.gap_start;
        assert_eq!(
            entry.describe(None),
            "Waited 1 h 30 min for AC power (due 2024-03-01 08:00:00 UTC) while on battery; \
             skipped, as the job's conditions say"
        );
        entry.cause = MissedCause::Offline;
        entry.ran = 1;
        assert!(
            entry
                .describe(None)
                .ends_with("for the network (due 2024-03-01 08:00:00 UTC) while offline; ran anyway, as the job's conditions say"),
            "{}",
            entry.describe(None)
        );
    }
}
