//! The missed-run ledger's rows (migration 0006) and the queued runs one scheduler hands to
//! the next.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::{Row, Sqlite, Transaction};

use super::{Store, StoreError, StoreResult, UnfinishedRun, from_ms, ms, note_run, parse_id};
use crate::domain::{
    JobId, MissedCause, MissedGap, MissedRunMode, Run, RunId, RunStatus, WaitingFor,
};

/// Which ledger entries to list: of one job or all, noticed in `[from, to)`, newest first.
#[derive(Debug, Clone, Default)]
pub struct MissedFilter {
    pub job_id: Option<JobId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// 0 means 100; at most 10,000.
    pub limit: u32,
}

pub(super) async fn insert_gap(
    tx: &mut Transaction<'_, Sqlite>,
    gap: &MissedGap,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO missed_gaps (run_id, job_id, gap_start, noticed_at, first_slot, last_slot, \
         missed, counted_all, cause, policy, ran) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(gap.run_id.to_string())
    .bind(gap.job_id.to_string())
    .bind(ms(gap.gap_start))
    .bind(ms(gap.noticed_at))
    .bind(ms(gap.first_slot))
    .bind(ms(gap.last_slot))
    .bind(i64::try_from(gap.missed).unwrap_or(i64::MAX))
    .bind(i64::from(gap.counted_all))
    .bind(gap.cause.as_str())
    .bind(gap.policy.as_str())
    .bind(i64::from(gap.ran))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Ledger entries matching `filter`, newest first.
    pub async fn missed_gaps(&self, filter: &MissedFilter) -> StoreResult<Vec<MissedGap>> {
        self.held(async {
            let mut sql = String::from(
                "SELECT run_id, job_id, gap_start, noticed_at, first_slot, last_slot, missed, \
                 counted_all, cause, policy, ran FROM missed_gaps WHERE 1 = 1",
            );
            if filter.job_id.is_some() {
                sql.push_str(" AND job_id = ?");
            }
            if filter.from.is_some() {
                sql.push_str(" AND noticed_at >= ?");
            }
            if filter.to.is_some() {
                sql.push_str(" AND noticed_at < ?");
            }
            sql.push_str(" ORDER BY noticed_at DESC, run_id DESC LIMIT ?");
            let mut query = sqlx::query(&sql);
            if let Some(job) = filter.job_id {
                query = query.bind(job.to_string());
            }
            if let Some(from) = filter.from {
                query = query.bind(ms(from));
            }
            if let Some(to) = filter.to {
                query = query.bind(ms(to));
            }
            let limit = if filter.limit == 0 {
                100
            } else {
                filter.limit.min(10_000)
            };
            let rows = query
                .bind(i64::from(limit))
                .fetch_all(&mut *self.reader().await)
                .await?;
            rows.iter()
                .map(|row| {
                    let cause: String = row.try_get("cause")?;
                    let policy: String = row.try_get("policy")?;
                    Ok(MissedGap {
                        run_id: parse_id(&row.try_get::<String, _>("run_id")?)?,
                        job_id: parse_id(&row.try_get::<String, _>("job_id")?)?,
                        gap_start: from_ms(row.try_get("gap_start")?),
                        noticed_at: from_ms(row.try_get("noticed_at")?),
                        first_slot: from_ms(row.try_get("first_slot")?),
                        last_slot: from_ms(row.try_get("last_slot")?),
                        missed: u64::try_from(row.try_get::<i64, _>("missed")?).unwrap_or(0),
                        counted_all: row.try_get::<i64, _>("counted_all")? != 0,
                        cause: MissedCause::from_str(&cause).map_err(StoreError::Corrupt)?,
                        policy: MissedRunMode::from_str(&policy).map_err(StoreError::Corrupt)?,
                        ran: u32::try_from(row.try_get::<i64, _>("ran")?).unwrap_or(0),
                    })
                })
                .collect()
        })
        .await
    }

    /// At a clean quit: runs this scheduler had waiting (retries, catch-ups, queue-one runs,
    /// runs waiting for a free slot) lose their owner, so the next scheduler takes them in
    /// rather than marking them interrupted. Returns how many were still queued.
    pub async fn release_queued_runs(&self, ids: &[RunId]) -> StoreResult<u64> {
        self.held(async {
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            let mut n = 0;
            for id in ids {
                n += sqlx::query(
                    "UPDATE runs SET owner_pid = NULL, owner_host = NULL, owner_start = NULL, \
                     written_ahead = 0 WHERE id = ? AND status = 'queued'",
                )
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            Ok(n)
        })
        .await
    }

    /// Before this process schedules: queued runs the scheduler before it left waiting (it
    /// quit, waiting for runs; or it crashed) become this process's, to be re-armed. Runs
    /// asked for by hand are not taken (they become interrupted with the others): only the
    /// scheduler's own promises — retries, catch-ups, queued scheduled and chained runs.
    pub async fn adopt_queued_runs(&self) -> StoreResult<Vec<Run>> {
        self.held(async {
            let queued: Vec<UnfinishedRun> = sqlx::query_as(
                "SELECT id, owner_pid, owner_host, owner_start FROM runs \
                 WHERE status = 'queued' AND reason != 'manual' ORDER BY id",
            )
            .fetch_all(&mut *self.reader().await)
            .await?;
            let ids: Vec<String> = queued
                .into_iter()
                .filter(|(_, pid, host, start)| {
                    self.left_by_a_gone_process(*pid, host.clone(), *start)
                })
                .map(|(id, ..)| id)
                .collect();
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            let mut adopted = Vec::with_capacity(ids.len());
            for id in &ids {
                let done = sqlx::query(
                    "UPDATE runs SET owner_pid = ?, owner_host = ?, owner_start = ? \
                     WHERE id = ? AND status = 'queued'",
                )
                .bind(i64::from(self.owner.pid))
                .bind(&self.owner.host)
                .bind(self.owner.start)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done == 1 {
                    adopted.push(id.clone());
                }
            }
            tx.commit().await?;
            drop(conn);
            let mut runs = Vec::with_capacity(adopted.len());
            for id in adopted {
                if let Some(run) = self.get_run(parse_id(&id)?).await? {
                    runs.push(run);
                }
            }
            Ok(runs)
        })
        .await
    }

    /// A queued run waits for a condition (decisions/0019): what, and until when. Written
    /// when the wait begins or what it waits for changes; the change feed carries it to the
    /// other processes' windows. False when the run was no longer queued.
    pub async fn set_run_waiting(
        &self,
        id: RunId,
        job_id: JobId,
        waiting_for: WaitingFor,
        wait_until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.held(async {
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            let done = sqlx::query(
                "UPDATE runs SET waiting_for = ?, wait_until = ?, written_ahead = 0 \
                 WHERE id = ? AND status = 'queued'",
            )
            .bind(waiting_for.as_str())
            .bind(ms(wait_until))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 1 {
                note_run(&mut tx, self.origin, id, job_id, RunStatus::Queued).await?;
            }
            tx.commit().await?;
            Ok(done == 1)
        })
        .await
    }

    /// A queued run whose condition was not met within the job's maximum wait: with
    /// `skipped`, the run becomes `skipped` (its error `gap.describe`) and the ledger entry
    /// points at it; else the entry records that it ran anyway. One transaction. False when
    /// the run was no longer queued (cancelled meanwhile): nothing is written.
    pub async fn record_condition_timeout(
        &self,
        gap: &MissedGap,
        skipped: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.held(async {
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            let still_queued: Option<String> =
                sqlx::query_scalar("SELECT id FROM runs WHERE id = ? AND status = 'queued'")
                    .bind(gap.run_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
            if still_queued.is_none() {
                return Ok(false);
            }
            if skipped {
                sqlx::query(
                    "UPDATE runs SET status = 'skipped', finished_at = ?, error = ? WHERE id = ?",
                )
                .bind(ms(at))
                .bind(gap.describe(None))
                .bind(gap.run_id.to_string())
                .execute(&mut *tx)
                .await?;
                note_run(
                    &mut tx,
                    self.origin,
                    gap.run_id,
                    gap.job_id,
                    RunStatus::Skipped,
                )
                .await?;
            }
            insert_gap(&mut tx, gap).await?;
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    /// A queued run will run a newer revision of its job (edited while the run waited).
    pub async fn set_run_revision(&self, id: RunId, revision: i64) -> StoreResult<()> {
        self.held(async {
            sqlx::query("UPDATE runs SET job_revision = ? WHERE id = ? AND status = 'queued'")
                .bind(revision)
                .bind(id.to_string())
                .execute(&mut *self.writer().await)
                .await?;
            Ok(())
        })
        .await
    }
}
