//! A run: one firing of a job, recorded before anything starts.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{JobId, RunId};
use super::policy::WaitingFor;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: RunId,
    pub job_id: JobId,
    /// The job's revision this run used.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub job_revision: i64,
    pub reason: RunReason,
    /// 1 for the first attempt; retries count up.
    pub attempt: u32,
    /// For a retry: the first attempt's run. For a chain run: the upstream run.
    pub parent_run_id: Option<RunId>,
    /// The instant the run was due (the schedule slot, or when it was asked for).
    pub scheduled_for: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub status: RunStatus,
    pub exit_code: Option<i32>,
    pub http_status: Option<u16>,
    /// Why it failed or was skipped, in words a person understands.
    pub error: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub log_bytes: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub log_lines: u64,
    /// CPU time (user + system) of the run's whole process tree, in milliseconds; `None` for
    /// HTTP runs, runs still going and runs recorded before it was measured.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub cpu_ms: Option<u64>,
    /// Peak memory of the run's process tree, in bytes (decisions/0010 says what is measured).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub peak_memory_bytes: Option<u64>,
    /// What this run changed from its job ("Run now with…"): environment values and
    /// appended arguments. `None` for a run of the job as it is.
    #[serde(default)]
    pub overrides: Option<super::overrides::RunOverrides>,
    /// The file a file-arrives trigger fired for (also given to the run as
    /// `SUNDIAL_TRIGGER_PATH`).
    #[serde(default)]
    pub trigger_path: Option<String>,
    /// What the run waits (or waited) for before it starts: its random delay and its job's
    /// conditions (decisions/0019). Empty for most runs.
    #[serde(default)]
    pub wait: RunWait,
}

/// A run's random delay and the condition it waits for, kept on its row so a restart keeps
/// both the delay drawn and the deadline of the wait.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RunWait {
    /// The run starts no earlier than this (the firing's random delay, drawn once).
    pub start_after: Option<DateTime<Utc>>,
    /// While `queued`: the condition it waits for. Once it started or ended: the last one it
    /// waited for (`None`: it never waited for one).
    pub waiting_for: Option<WaitingFor>,
    /// When the wait for a condition ends and the job's `on_timeout` applies; set when the
    /// wait begins and never moved, also across a restart.
    pub wait_until: Option<DateTime<Utc>>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunReason {
    Schedule,
    Manual,
    Retry,
    CatchUp,
    Chain,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Cancelled,
    Skipped,
    Interrupted,
}

impl RunStatus {
    pub fn is_terminal(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
    }
    /// Outcomes that count as failure for retries, chains and notifications.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            RunStatus::Failed | RunStatus::TimedOut | RunStatus::Interrupted
        )
    }
}

macro_rules! text_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($ty::$variant),)+
                    other => Err(format!(
                        "{other:?} is not one of: {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

pub(crate) use text_enum;

text_enum!(RunStatus {
    Queued => "queued",
    Running => "running",
    Succeeded => "succeeded",
    Failed => "failed",
    TimedOut => "timed_out",
    Cancelled => "cancelled",
    Skipped => "skipped",
    Interrupted => "interrupted",
});

text_enum!(RunReason {
    Schedule => "schedule",
    Manual => "manual",
    Retry => "retry",
    CatchUp => "catch_up",
    Chain => "chain",
});
