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
    /// When Sundial's scheduler starts (the app at login with start-at-login on, or the
    /// daemon at boot), `delay_secs` later. Crontab's `@reboot`.
    AtStart {
        #[serde(default)]
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        delay_secs: u64,
    },
    /// When the computer wakes from sleep, `delay_secs` later.
    OnWake {
        #[serde(default)]
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        delay_secs: u64,
    },
    /// Once per new or changed file in `folder` (not its subfolders) whose name matches
    /// `glob`, after the file has stopped changing (same size and modification time) for
    /// `settle_secs`. The run gets the file's path as `SUNDIAL_TRIGGER_PATH`.
    FileArrives {
        folder: String,
        #[serde(default = "default_glob")]
        glob: String,
        #[serde(default = "default_settle")]
        #[cfg_attr(feature = "ts", ts(type = "number"))]
        settle_secs: u64,
    },
}

fn default_glob() -> String {
    "*".to_string()
}

fn default_settle() -> u64 {
    FILE_SETTLE_DEFAULT_SECS
}

/// How long a file must stay unchanged before a file-arrives job handles it, by default.
pub const FILE_SETTLE_DEFAULT_SECS: u64 = 5;
/// The settle time's bounds: a second to an hour.
pub const FILE_SETTLE_MIN_SECS: u64 = 1;
pub const FILE_SETTLE_MAX_SECS: u64 = 3600;

/// The longest delay of an at-start or on-wake trigger: a day.
pub const EVENT_DELAY_MAX_SECS: u64 = 86_400;

impl Trigger {
    /// Triggers that fire on the wall clock (and so can be missed while asleep).
    pub fn is_timed(&self) -> bool {
        matches!(
            self,
            Trigger::Cron { .. } | Trigger::Interval { .. } | Trigger::Once { .. }
        )
    }

    /// The delay of an at-start or on-wake trigger (None for other triggers).
    pub fn event_delay(&self) -> Option<u64> {
        match self {
            Trigger::AtStart { delay_secs } | Trigger::OnWake { delay_secs } => Some(*delay_secs),
            _ => None,
        }
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

/// A file-arrives trigger's name pattern: `*`, `?`, `[abc]`, `[!abc]`, matched against a
/// file's name (not its folder). Case-sensitive, as the file system is on Linux.
pub fn compile_glob(glob: &str) -> Result<glob::Pattern, String> {
    let trimmed = glob.trim();
    if trimmed.is_empty() {
        return Err("is required: a file name pattern such as *.csv (* for every file)".into());
    }
    if trimmed.contains('/') {
        return Err(format!(
            "{glob:?} names a folder: the pattern matches file names in the watched folder only (such as *.csv)"
        ));
    }
    glob::Pattern::new(trimmed).map_err(|e| {
        format!(
            "{glob:?} is not a valid pattern: {} (at character {}); use * for any text, ? for one character, [abc] for one of a set",
            e.msg,
            e.pos + 1
        )
    })
}
