//! Read-only aggregates for the window's pictures (job overview, jobs list strips, timeline,
//! heat map). Each is one query that the indexes of migration 0008 (or `runs_by_job`) answer,
//! bounded by a time window or a count, so a page never loads every run.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{Store, StoreError, StoreResult, from_ms, ms, opt_ms, parse_id};
use crate::domain::{JobId, RunId, RunStatus};
use std::str::FromStr;

/// One run as the pictures draw it: when, how it ended, no error text or resources.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunMark {
    pub id: RunId,
    pub job_id: JobId,
    pub status: RunStatus,
    pub scheduled_for: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub exit_code: Option<i32>,
    pub http_status: Option<u16>,
}

/// How the runs of a period ended. `failed` counts every failure (failed, timed out,
/// interrupted); cancelled and skipped runs are in neither count.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutcomeCounts {
    pub succeeded: u32,
    pub failed: u32,
}

/// One calendar day (local time of this machine) of runs: how many ran (skipped firings are
/// not runs), and how many of those succeeded and failed.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayOutcomes {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub runs: u32,
    pub succeeded: u32,
    pub failed: u32,
}

/// Runs in a time window, newest first, and whether more were left out.
#[derive(Debug, Clone, PartialEq)]
pub struct RunWindow {
    pub runs: Vec<RunMark>,
    pub truncated: bool,
}

const MARK_COLUMNS: &str =
    "id, job_id, status, scheduled_for, started_at, finished_at, exit_code, http_status";
const FAILURES: &str = "('failed', 'timed_out', 'interrupted')";

/// The longest a run can have been going before a window's start and still be drawn in it
/// when the window is read by scheduled time (runs still going are read apart).
const LOOKBACK_MS: i64 = 24 * 3600 * 1000;

fn decode_mark(row: &SqliteRow) -> StoreResult<RunMark> {
    let status: String = row.try_get("status")?;
    let http_status: Option<i64> = row.try_get("http_status")?;
    Ok(RunMark {
        id: parse_id(&row.try_get::<String, _>("id")?)?,
        job_id: parse_id(&row.try_get::<String, _>("job_id")?)?,
        status: RunStatus::from_str(&status).map_err(StoreError::Corrupt)?,
        scheduled_for: from_ms(row.try_get("scheduled_for")?),
        started_at: opt_ms(row.try_get("started_at")?),
        finished_at: opt_ms(row.try_get("finished_at")?),
        exit_code: row.try_get("exit_code")?,
        http_status: http_status.and_then(|s| u16::try_from(s).ok()),
    })
}

fn count(row: &SqliteRow, column: &str) -> StoreResult<u32> {
    let v: Option<i64> = row.try_get(column)?;
    Ok(u32::try_from(v.unwrap_or(0)).unwrap_or(u32::MAX))
}

fn recent_sql() -> String {
    format!(
        "SELECT r.{cols} FROM jobs j JOIN runs r ON r.id IN \
         (SELECT id FROM runs WHERE job_id = j.id ORDER BY id DESC LIMIT ?) \
         WHERE j.deleted_at IS NULL ORDER BY r.job_id, r.id",
        cols = MARK_COLUMNS.replace(", ", ", r."),
    )
}

fn outcome_sql(by_job: bool) -> String {
    let job = if by_job { " AND job_id = ?" } else { "" };
    format!(
        "SELECT SUM(status = 'succeeded') AS succeeded, SUM(status IN {FAILURES}) AS failed \
         FROM runs WHERE scheduled_for >= ?{job}"
    )
}

fn window_sql() -> String {
    format!(
        "SELECT {MARK_COLUMNS} FROM runs WHERE scheduled_for >= ? AND scheduled_for < ? \
         AND (scheduled_for >= ? OR finished_at IS NULL OR finished_at >= ?) \
         ORDER BY scheduled_for DESC LIMIT ?"
    )
}

fn going_sql() -> String {
    format!(
        "SELECT {MARK_COLUMNS} FROM runs WHERE status IN ('queued', 'running') \
         AND scheduled_for < ?"
    )
}

fn daily_sql(by_job: bool) -> String {
    let job = if by_job { " AND job_id = ?" } else { "" };
    format!(
        "SELECT date(scheduled_for / 1000, 'unixepoch', 'localtime') AS day, \
         SUM(status != 'skipped') AS runs, SUM(status = 'succeeded') AS succeeded, \
         SUM(status IN {FAILURES}) AS failed \
         FROM runs WHERE scheduled_for >= ? AND scheduled_for < ?{job} GROUP BY day ORDER BY day"
    )
}

impl Store {
    /// The newest `per_job` runs of every live job, oldest first within each job, in one query
    /// (an index seek per job on `runs_by_job`, not a scan of every run).
    pub async fn recent_runs_per_job(&self, per_job: u32) -> StoreResult<Vec<RunMark>> {
        self.held(async {
            let rows = sqlx::query(&recent_sql())
                .bind(i64::from(per_job))
                .fetch_all(&mut *self.reader().await)
                .await?;
            rows.iter().map(decode_mark).collect()
        })
        .await
    }

    /// How the runs of one job (or of all, with `None`) scheduled at or after `since` ended.
    pub async fn outcome_counts(
        &self,
        job_id: Option<JobId>,
        since: DateTime<Utc>,
    ) -> StoreResult<OutcomeCounts> {
        self.held(async {
            let sql = outcome_sql(job_id.is_some());
            let mut query = sqlx::query(&sql).bind(ms(since));
            if let Some(job) = job_id {
                query = query.bind(job.to_string());
            }
            let row = query.fetch_one(&mut *self.reader().await).await?;
            Ok(OutcomeCounts {
                succeeded: count(&row, "succeeded")?,
                failed: count(&row, "failed")?,
            })
        })
        .await
    }

    /// Runs of every job that overlap `[from, to)`: scheduled in it (or up to a day before it
    /// and finished inside), plus every run still going that was scheduled before `to`. At
    /// most `limit`, the newest kept.
    pub async fn runs_in_window(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<RunWindow> {
        self.held(async {
            let (from, to) = (ms(from), ms(to));
            let mut conn = self.reader().await;
            let rows = sqlx::query(&window_sql())
                .bind(from - LOOKBACK_MS)
                .bind(to)
                .bind(from)
                .bind(from)
                .bind(i64::from(limit) + 1)
                .fetch_all(&mut *conn)
                .await?;
            let mut runs = rows
                .iter()
                .map(decode_mark)
                .collect::<StoreResult<Vec<_>>>()?;
            let truncated = runs.len() > limit as usize;
            runs.truncate(limit as usize);
            let going = sqlx::query(&going_sql())
                .bind(from - LOOKBACK_MS)
                .fetch_all(&mut *conn)
                .await?;
            for row in &going {
                runs.push(decode_mark(row)?);
            }
            runs.sort_by_key(|m| std::cmp::Reverse(m.scheduled_for));
            Ok(RunWindow { runs, truncated })
        })
        .await
    }

    /// Runs per local calendar day of one job (or of all) scheduled in `[from, to)`, days
    /// without runs left out, oldest first. Days are this machine's local time zone (the one
    /// the window shows), through SQLite's `localtime`.
    pub async fn daily_outcomes(
        &self,
        job_id: Option<JobId>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<DayOutcomes>> {
        self.held(async {
            let sql = daily_sql(job_id.is_some());
            let mut query = sqlx::query(&sql).bind(ms(from)).bind(ms(to));
            if let Some(job) = job_id {
                query = query.bind(job.to_string());
            }
            let rows = query.fetch_all(&mut *self.reader().await).await?;
            let mut days = Vec::with_capacity(rows.len());
            for row in &rows {
                let day = DayOutcomes {
                    day: row.try_get("day")?,
                    runs: count(row, "runs")?,
                    succeeded: count(row, "succeeded")?,
                    failed: count(row, "failed")?,
                };
                if day.runs > 0 {
                    days.push(day);
                }
            }
            Ok(days)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What SQLite plans for `sql` (parameters bound to 0), one detail per line.
    async fn plan(store: &Store, sql: &str, params: usize) -> String {
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let mut query = sqlx::query(&explain);
        for _ in 0..params {
            query = query.bind(0_i64);
        }
        let rows = query.fetch_all(&mut *store.reader().await).await.unwrap();
        rows.iter()
            .map(|r| r.try_get::<String, _>("detail").unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Every aggregate reads runs through an index (a `SEARCH`), never a scan of the table:
    /// with 100,000 runs a page must show within 300 ms.
    #[tokio::test]
    async fn every_aggregate_searches_an_index_instead_of_scanning_runs() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("sundial.db")).await.unwrap();
        let cases = [
            (recent_sql(), 1, "runs_by_job"),
            (outcome_sql(true), 2, "runs_by_job_time"),
            (outcome_sql(false), 1, "runs_by_time"),
            (window_sql(), 5, "runs_by_time"),
            (going_sql(), 1, "runs_by_status"),
            (daily_sql(true), 3, "runs_by_job_time"),
            (daily_sql(false), 2, "runs_by_time"),
        ];
        for (sql, params, index) in cases {
            let plan = plan(&store, &sql, params).await;
            assert!(
                plan.contains(&format!("USING COVERING INDEX {index}"))
                    || plan.contains(&format!("USING INDEX {index}")),
                "{sql}\nshould use {index}; the plan is:\n{plan}"
            );
            for line in plan.lines() {
                assert!(
                    !line.starts_with("SCAN r") || line.contains("INDEX"),
                    "{sql}\nscans runs:\n{plan}"
                );
            }
        }
    }
}
