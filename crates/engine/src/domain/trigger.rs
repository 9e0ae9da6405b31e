//! When a job runs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::JobId;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// A cron expression (5 or 6 fields, `?`, L/W/#, names, `@daily`…) in an IANA zone.
    /// `timezone: None` means the system's zone, resolved when the schedule is evaluated.
    Cron {
        expr: String,
        #[serde(default)]
        timezone: Option<String>,
    },
    /// Every `every` units, counted from `anchor` (the time the job was created when absent).
    Interval {
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        every: u64,
        unit: IntervalUnit,
        #[serde(default)]
        anchor: Option<DateTime<Utc>>,
    },
    /// Once, at an instant.
    Once { at: DateTime<Utc> },
    /// Only when the user (or the CLI) asks.
    Manual,
    /// When another job's run ends with a matching outcome.
    AfterJob { job_id: JobId, on: ChainOn },
}

impl Trigger {
    /// Triggers that fire on the wall clock (and so can be missed while asleep).
    pub fn is_timed(&self) -> bool {
        matches!(
            self,
            Trigger::Cron { .. } | Trigger::Interval { .. } | Trigger::Once { .. }
        )
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntervalUnit {
    Seconds,
    Minutes,
    Hours,
}

impl IntervalUnit {
    pub fn seconds(self) -> u64 {
        match self {
            IntervalUnit::Seconds => 1,
            IntervalUnit::Minutes => 60,
            IntervalUnit::Hours => 3600,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            IntervalUnit::Seconds => "second",
            IntervalUnit::Minutes => "minute",
            IntervalUnit::Hours => "hour",
        }
    }
}

/// Which outcome of the upstream job starts the downstream one.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainOn {
    Success,
    Failure,
    Any,
}
