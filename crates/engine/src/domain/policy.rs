//! How a job behaves when things go wrong or overlap.

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policies {
    /// Seconds a run may take before its process tree is stopped; `None` = no limit.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub timeout_secs: Option<u64>,
    #[serde(default)]
    pub retry: RetryPolicy,
    #[serde(default)]
    pub overlap: OverlapPolicy,
    #[serde(default)]
    pub missed: MissedRunPolicy,
    #[serde(default)]
    pub notify: NotifyPolicy,
}

/// `max_attempts` counts the first attempt: 1 means no retry. The n-th retry waits
/// `initial_delay_secs * multiplier^(n-1)`, never more than `max_delay_secs`.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// A field left out (a job file that says only what differs) takes its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub initial_delay_secs: u64,
    pub multiplier: f64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub max_delay_secs: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 1,
            initial_delay_secs: 10,
            multiplier: 2.0,
            max_delay_secs: 3600,
        }
    }
}

impl RetryPolicy {
    /// Delay before attempt `next_attempt` (2 = the first retry).
    pub fn delay_before(&self, next_attempt: u32) -> std::time::Duration {
        let exponent = next_attempt.saturating_sub(2).min(64) as i32;
        let secs = (self.initial_delay_secs as f64) * self.multiplier.powi(exponent);
        let capped = secs.min(self.max_delay_secs as f64).max(0.0);
        std::time::Duration::from_millis((capped * 1000.0) as u64)
    }
}

/// What to do when a firing comes while the previous run of the same job is still going.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OverlapPolicy {
    /// Start another run alongside.
    Allow,
    /// Record the firing as skipped.
    #[default]
    Skip,
    /// Keep one run waiting; it starts when the current one ends. Further firings are skipped.
    QueueOne,
    /// Cancel the running one and start the new one.
    Replace,
}

/// Firings that were due while the app was closed or the machine asleep.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// A field left out takes its default (run once, 10, 60 s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MissedRunPolicy {
    pub mode: MissedRunMode,
    /// For `run_all`: at most this many catch-up runs (the most recent ones); the rest are skipped.
    pub max_catch_up: u32,
    /// A firing at most this late still runs as a normal scheduled run.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub grace_secs: u64,
}

impl Default for MissedRunPolicy {
    fn default() -> Self {
        Self {
            mode: MissedRunMode::RunOnce,
            max_catch_up: 10,
            grace_secs: 60,
        }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MissedRunMode {
    /// Run none of the missed firings (the ledger records them).
    Skip,
    /// Run once for the most recent missed firing (none if an on-time run is due anyway).
    #[default]
    RunOnce,
    /// Run the missed firings one after another, in order (at most `max_catch_up`, the most
    /// recent ones).
    RunAll,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NotifyPolicy {
    #[default]
    OnFailure,
    Always,
    Never,
}
