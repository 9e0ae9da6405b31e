//! How a job behaves when things go wrong or overlap.

use std::fmt;
use std::str::FromStr;

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
    /// When a firing may start: on AC power, with the network up, after a random delay.
    #[serde(default, skip_serializing_if = "Conditions::is_none")]
    #[cfg_attr(feature = "ts", ts(as = "Option<Conditions>", optional))]
    pub conditions: Conditions,
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

/// What must hold before a firing starts (Task Scheduler's "Conditions"). A firing whose
/// conditions are not met waits, its row `queued` and saying what it waits for, rechecked
/// every few seconds, for at most `max_wait_secs`; then it runs or is skipped as `on_timeout`
/// says, and the missed-run ledger records it. A state the system cannot tell (no battery
/// information, no network manager and no link state) counts as met: a job is never held
/// back on a machine that cannot say. Runs asked for by hand ignore conditions; retries wait
/// for AC power and the network too, but draw no random delay. See decisions/0019.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Conditions {
    /// Start only while the computer runs on AC power (not on battery).
    pub ac_power: bool,
    /// Start only while the network is up (NetworkManager's view where it runs, else a
    /// network interface other than loopback with its link up).
    pub network: bool,
    /// How long a firing waits for its conditions before `on_timeout` applies.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub max_wait_secs: u64,
    pub on_timeout: ConditionTimeout,
    /// Each firing starts after a random delay from 0 to this many seconds (drawn once per
    /// firing and kept with its run, so a restart does not draw again); 0 = none.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub random_delay_secs: u64,
}

/// The default of [`Conditions::max_wait_secs`]: an hour.
pub const DEFAULT_CONDITION_WAIT_SECS: u64 = 3600;

impl Default for Conditions {
    fn default() -> Self {
        Self {
            ac_power: false,
            network: false,
            max_wait_secs: DEFAULT_CONDITION_WAIT_SECS,
            on_timeout: ConditionTimeout::Skip,
            random_delay_secs: 0,
        }
    }
}

impl Conditions {
    /// No condition and no delay (left out of job files).
    pub fn is_none(&self) -> bool {
        *self == Conditions::default()
    }
    /// Whether a firing must wait for a state of the machine.
    pub fn waits_for_state(&self) -> bool {
        self.ac_power || self.network
    }

    /// In words: "only on AC power and with the network up (waits up to 1 h, then skips);
    /// random delay up to 5 min". "none" when there are none.
    pub fn describe(&self) -> String {
        let span = |secs: u64| {
            super::missed::span_words(chrono::Duration::seconds(
                i64::try_from(secs).unwrap_or(i64::MAX),
            ))
        };
        let mut parts = Vec::new();
        let needs: Vec<&str> = [
            (self.ac_power, "on AC power"),
            (self.network, "with the network up"),
        ]
        .into_iter()
        .filter_map(|(on, words)| on.then_some(words))
        .collect();
        if !needs.is_empty() {
            parts.push(format!(
                "only {} (waits up to {}, then {})",
                needs.join(" and "),
                span(self.max_wait_secs),
                match self.on_timeout {
                    ConditionTimeout::Skip => "skips",
                    ConditionTimeout::Run => "runs anyway",
                }
            ));
        }
        if self.random_delay_secs > 0 {
            parts.push(format!(
                "random delay up to {}",
                span(self.random_delay_secs)
            ));
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join("; ")
        }
    }
}

/// What a firing does when its conditions were not met within the maximum wait.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConditionTimeout {
    /// Record the firing as skipped (what Task Scheduler does with a firing whose conditions
    /// are not met).
    #[default]
    Skip,
    /// Run it anyway.
    Run,
}

/// What a queued run waits for.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitingFor {
    AcPower,
    Network,
}

super::run::text_enum!(ConditionTimeout {
    Skip => "skip",
    Run => "run",
});

super::run::text_enum!(WaitingFor {
    AcPower => "ac_power",
    Network => "network",
});

impl WaitingFor {
    /// "Waiting for …", in words.
    pub fn words(self) -> &'static str {
        match self {
            WaitingFor::AcPower => "AC power",
            WaitingFor::Network => "network",
        }
    }
}
