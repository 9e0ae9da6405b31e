//! File-arrives triggers' rows (migration 0010): the folder each such job watches (and why
//! that fails, if it does) and the files it has handled, by size and modification time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::changes::ChangeKind;
use super::{Store, StoreResult, check_fence, from_ms, insert_run, ms, note, note_run, parse_id};
use crate::domain::{JobId, Run};

/// A file as a file-arrives job last saw it: a change of either is a new arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileStamp {
    pub size: u64,
    /// Modification time, nanoseconds since 1970.
    pub mtime_ns: i64,
}

/// One file handled by a job (or, without a run, already there when it started watching).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandledFile {
    pub job_id: JobId,
    pub path: String,
    pub stamp: FileStamp,
}

/// The folder a job watches, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWatchRecord {
    pub folder: String,
    pub glob: String,
    pub problem: Option<String>,
}

impl Store {
    /// The folder and pattern a job's files were last recorded for.
    pub async fn file_watch(&self, job_id: JobId) -> StoreResult<Option<FileWatchRecord>> {
        self.held(async {
            let row =
                sqlx::query("SELECT folder, glob, problem FROM file_watches WHERE job_id = ?")
                    .bind(job_id.to_string())
                    .fetch_optional(&mut *self.reader().await)
                    .await?;
            row.map(|r| {
                Ok(FileWatchRecord {
                    folder: r.try_get("folder")?,
                    glob: r.try_get("glob")?,
                    problem: r.try_get("problem")?,
                })
            })
            .transpose()
        })
        .await
    }

    /// Starts a job's watch afresh (a new job, or a new folder or pattern): the files there
    /// now are recorded as already there, any earlier record of the job's files is dropped.
    pub async fn start_file_watch(
        &self,
        job_id: JobId,
        folder: &str,
        glob: &str,
        baseline: &[(String, FileStamp)],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.held(async {
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            let id = job_id.to_string();
            sqlx::query("DELETE FROM handled_files WHERE job_id = ?")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO file_watches (job_id, folder, glob, since, problem, problem_at) \
                 VALUES (?, ?, ?, ?, NULL, NULL) ON CONFLICT (job_id) DO UPDATE SET \
                 folder = excluded.folder, glob = excluded.glob, since = excluded.since, \
                 problem = NULL, problem_at = NULL",
            )
            .bind(&id)
            .bind(folder)
            .bind(glob)
            .bind(ms(now))
            .execute(&mut *tx)
            .await?;
            for (path, stamp) in baseline {
                insert_handled(&mut tx, &id, path, *stamp, None, now).await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// The files a job has handled (or found there when it started watching).
    pub async fn handled_files(&self, job_id: JobId) -> StoreResult<HashMap<String, FileStamp>> {
        self.held(async {
            let rows =
                sqlx::query("SELECT path, size, mtime_ns FROM handled_files WHERE job_id = ?")
                    .bind(job_id.to_string())
                    .fetch_all(&mut *self.reader().await)
                    .await?;
            rows.into_iter()
                .map(|r| {
                    let size: i64 = r.try_get("size")?;
                    Ok((
                        r.try_get::<String, _>("path")?,
                        FileStamp {
                            size: u64::try_from(size).unwrap_or(0),
                            mtime_ns: r.try_get("mtime_ns")?,
                        },
                    ))
                })
                .collect()
        })
        .await
    }

    /// Forgets files that are gone from a job's folder (one arriving under the same name
    /// later is new, whatever its size and time).
    pub async fn forget_handled_files(&self, job_id: JobId, paths: &[String]) -> StoreResult<()> {
        if paths.is_empty() {
            return Ok(());
        }
        self.held(async {
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            for path in paths {
                sqlx::query("DELETE FROM handled_files WHERE job_id = ? AND path = ?")
                    .bind(job_id.to_string())
                    .bind(path)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Records the runs file arrivals fired (of any status) with the files they handle
    /// (`files[i]` is the file of `runs[i]`), in
    /// one transaction fenced by the lease: a file is handled exactly once, across crashes.
    pub async fn record_arrivals(&self, runs: &[Run], files: &[HandledFile]) -> StoreResult<()> {
        self.held(async {
            let fence = self.fence_token();
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            check_fence(&mut tx, fence.as_deref()).await?;
            for run in runs {
                insert_run(&mut tx, run, &self.owner).await?;
                note_run(&mut tx, self.origin, run.id, run.job_id, run.status).await?;
            }
            let now = Utc::now();
            for (file, run) in files.iter().zip(runs) {
                insert_handled(
                    &mut tx,
                    &file.job_id.to_string(),
                    &file.path,
                    file.stamp,
                    Some(run.id.to_string()),
                    now,
                )
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Says why a job's folder cannot be watched (None: it can again). Other processes'
    /// windows hear of it through the change feed (a job change).
    pub async fn set_file_watch_problem(
        &self,
        job_id: JobId,
        problem: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.held(async {
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            let id = job_id.to_string();
            sqlx::query("UPDATE file_watches SET problem = ?, problem_at = ? WHERE job_id = ?")
                .bind(problem)
                .bind(problem.map(|_| ms(now)))
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            note(&mut tx, self.origin, ChangeKind::Job, &id, None, None).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Every job whose trigger cannot work now, with why and since when.
    pub async fn trigger_problems(&self) -> StoreResult<HashMap<JobId, (String, DateTime<Utc>)>> {
        self.held(async {
            let rows = sqlx::query(
                "SELECT job_id, problem, problem_at FROM file_watches WHERE problem IS NOT NULL",
            )
            .fetch_all(&mut *self.reader().await)
            .await?;
            rows.into_iter()
                .map(|r| {
                    let at: Option<i64> = r.try_get("problem_at")?;
                    Ok((
                        parse_id(&r.try_get::<String, _>("job_id")?)?,
                        (r.try_get("problem")?, from_ms(at.unwrap_or(0))),
                    ))
                })
                .collect()
        })
        .await
    }
}

async fn insert_handled(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    job_id: &str,
    path: &str,
    stamp: FileStamp,
    run_id: Option<String>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO handled_files (job_id, path, size, mtime_ns, run_id, handled_at) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, path) DO UPDATE SET \
         size = excluded.size, mtime_ns = excluded.mtime_ns, run_id = excluded.run_id, \
         handled_at = excluded.handled_at",
    )
    .bind(job_id)
    .bind(path)
    .bind(i64::try_from(stamp.size).unwrap_or(i64::MAX))
    .bind(stamp.mtime_ns)
    .bind(run_id)
    .bind(ms(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
