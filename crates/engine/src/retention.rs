//! Retention: keep N runs and/or N days of runs per job. Rows and log files go together.
//!
//! Order: rows first (one transaction), then their files. A crash in between leaves files
//! without rows, never rows without files; [`sweep_orphan_logs`] at start-up removes those.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{JobId, RunId, ValidationErrors};
use crate::logs::LogStore;
use crate::store::{Store, StoreResult};

pub const KEEP_RUNS_SETTING: &str = "retention.keep_runs";
pub const KEEP_DAYS_SETTING: &str = "retention.keep_days";

/// How much history each job keeps: runs beyond either limit are deleted with their log files.
/// `None` = no limit of that kind.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    pub keep_runs: Option<u32>,
    pub keep_days: Option<u32>,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            keep_runs: Some(1000),
            keep_days: Some(90),
        }
    }
}

impl RetentionPolicy {
    /// Keeps everything (what a process that does not schedule applies: it prunes nothing).
    pub fn none() -> Self {
        Self {
            keep_runs: None,
            keep_days: None,
        }
    }

    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.keep_runs == Some(0) {
            errors.push(
                "keep_runs",
                "must be at least 1, or unset to keep every run",
            );
        }
        if self.keep_days == Some(0) {
            errors.push(
                "keep_days",
                "must be at least 1, or unset to keep runs of any age",
            );
        }
        if self.keep_days.is_some_and(|d| d > 36_500) {
            errors.push("keep_days", "must be at most 36500 (100 years)");
        }
        errors.into_result()
    }

    pub async fn load(store: &Store) -> StoreResult<Self> {
        let default = Self::default();
        let read = |v: Option<String>, fallback: Option<u32>| match v.as_deref() {
            None => fallback,
            Some("none") => None,
            Some(n) => n.parse().ok().or(fallback),
        };
        Ok(Self {
            keep_runs: read(
                store.get_setting(KEEP_RUNS_SETTING).await?,
                default.keep_runs,
            ),
            keep_days: read(
                store.get_setting(KEEP_DAYS_SETTING).await?,
                default.keep_days,
            ),
        })
    }

    pub async fn save(&self, store: &Store) -> StoreResult<()> {
        let text = |v: Option<u32>| v.map_or_else(|| "none".to_string(), |n| n.to_string());
        store
            .set_setting(KEEP_RUNS_SETTING, &text(self.keep_runs))
            .await?;
        store
            .set_setting(KEEP_DAYS_SETTING, &text(self.keep_days))
            .await
    }
}

/// Prunes finished runs beyond the policy, of one job (`Some`) or of every job (`None`).
/// Returns how many went.
pub async fn prune(
    store: &Store,
    logs: Option<&LogStore>,
    job_id: Option<JobId>,
    policy: RetentionPolicy,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let before = policy.keep_days.map(|d| now - Duration::days(i64::from(d)));
    let ids = store
        .runs_to_prune(job_id, policy.keep_runs, before)
        .await?;
    let mut deleted = 0;
    for chunk in ids.chunks(10_000) {
        deleted += store.delete_runs(chunk).await?;
    }
    if let Some(logs) = logs {
        remove_logs(logs, &ids);
    }
    Ok(deleted)
}

fn remove_logs(logs: &LogStore, ids: &[RunId]) {
    for id in ids {
        if let Err(e) = logs.remove(*id) {
            tracing::warn!(run = %id, error = %e, "could not remove a pruned run's log; it will be swept at the next start");
        }
    }
}

/// Removes log files whose run row no longer exists (after a crash mid-prune, or a job
/// deleted with its history). Returns how many runs' files went.
pub async fn sweep_orphan_logs(store: &Store, logs: &LogStore) -> StoreResult<usize> {
    let mut found: Vec<RunId> = Vec::new();
    let Ok(days) = std::fs::read_dir(logs.dir()) else {
        return Ok(0);
    };
    for day in days.flatten() {
        let Ok(files) = std::fs::read_dir(day.path()) else {
            continue;
        };
        for file in files.flatten() {
            let name = file.file_name();
            let Some(stem) = name.to_str().and_then(|n| n.split('.').next()) else {
                continue;
            };
            if let Ok(id) = stem.parse::<RunId>() {
                found.push(id);
            }
        }
    }
    found.sort();
    found.dedup();
    let existing = store.existing_runs(&found).await?;
    let orphans: Vec<RunId> = found
        .into_iter()
        .filter(|id| !existing.contains(id))
        .collect();
    remove_logs(logs, &orphans);
    Ok(orphans.len())
}
