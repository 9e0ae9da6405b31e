//! The SQLite store. All of Sundial's SQL lives in this module.
//!
//! - WAL journal, `synchronous=FULL` (a recorded run survives power loss), foreign keys on,
//!   a busy timeout for other processes (the CLI) touching the same file.
//! - Writes go through one connection and start with `BEGIN IMMEDIATE`, so a write transaction
//!   never fails half-way with SQLITE_BUSY; reads use a small pool of their own.
//! - Instants are stored as UTC milliseconds since the epoch.
//! - A database written by a newer Sundial is refused before anything is touched.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteRow, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, Row, Sqlite, Transaction};
use tokio::sync::{Mutex, MutexGuard};

use crate::domain::{
    Job, JobId, JobSpec, MissedGap, Run, RunId, RunReason, RunStatus, RunValueKind, RunWait,
    WaitingFor,
};
use crate::executor::RunOutcome;
use crate::host::ProcessIdentity;
use crate::secrets::{KnownSecrets, Moved, Vault};

mod ahead;
mod arrivals;
mod changes;
mod missed;
mod values;
pub use ahead::WrittenAhead;
pub use arrivals::{FileStamp, FileWatchRecord, HandledFile};
mod views;
use changes::note;
pub use changes::{Change, ChangeBatch, ChangeKind};
pub use missed::MissedFilter;
pub use views::{DayOutcomes, OutcomeCounts, RunMark, RunWindow};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("could not bring the database schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "this database was written by a newer version of Sundial (schema {found}; this version knows up to {supported}); it was left untouched: update Sundial to open it"
    )]
    DatabaseTooNew { found: i64, supported: i64 },
    #[error("a job named {0:?} already exists")]
    NameTaken(String),
    #[error(
        "the job was changed elsewhere (now at revision {actual}, this edit was based on {expected}); reload it and try again"
    )]
    RevisionConflict { expected: i64, actual: i64 },
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    #[error("could not record a run's start or end: {0}")]
    Batch(String),
    #[error("this process no longer holds the scheduler lease: another scheduler took over")]
    LeaseLost,
    #[error("{0}")]
    Secret(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// SQLite's primary result codes the scheduler tells apart.
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_FULL: i64 = 13;
/// SQLITE_CONSTRAINT_FOREIGNKEY (an extended code).
const SQLITE_CONSTRAINT_FOREIGNKEY: i64 = 787;

impl StoreError {
    /// The disk holding the database is full (SQLITE_FULL, or ENOSPC from the file system).
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Sqlx(sqlx::Error::Io(e)) => e.kind() == std::io::ErrorKind::StorageFull,
            StoreError::Migrate(sqlx::migrate::MigrateError::Execute(e)) => {
                StoreError::code_of(e).is_some_and(|c| c & 0xff == SQLITE_FULL)
            }
            StoreError::Batch(text) if text.contains("No space left on device") => true,
            _ => self.sqlite_code().is_some_and(|c| c & 0xff == SQLITE_FULL),
        }
    }

    /// Another process holds the database (SQLITE_BUSY or SQLITE_LOCKED after the busy
    /// timeout): worth trying again later.
    pub fn is_busy(&self) -> bool {
        self.sqlite_code()
            .is_some_and(|c| matches!(c & 0xff, SQLITE_BUSY | SQLITE_LOCKED))
    }

    /// A row refers to a job that is no longer stored (deleted by another process).
    pub fn is_missing_job(&self) -> bool {
        self.sqlite_code() == Some(SQLITE_CONSTRAINT_FOREIGNKEY)
    }

    /// The (extended) SQLite result code behind this error, when there is one. A failed group
    /// commit ([`StoreError::Batch`]) only keeps the text, which carries the code as
    /// "(code: N)".
    fn sqlite_code(&self) -> Option<i64> {
        match self {
            StoreError::Sqlx(e) => StoreError::code_of(e),
            StoreError::Batch(text) => {
                let at = text.find("(code: ")? + "(code: ".len();
                let digits: String = text[at..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                digits.parse().ok()
            }
            _ => None,
        }
    }

    fn code_of(e: &sqlx::Error) -> Option<i64> {
        match e {
            sqlx::Error::Database(db) => db.code()?.parse().ok(),
            _ => None,
        }
    }
}

/// A job as stored, with the scheduler's bookkeeping.
#[derive(Debug, Clone)]
pub struct StoredJob {
    pub job: Job,
    /// The latest firing the scheduler handled.
    pub schedule_cursor: Option<DateTime<Utc>>,
    /// The next firing, as the scheduler computed it from the cursor for this revision (None:
    /// not known, or no firing left).
    pub next_due: Option<DateTime<Utc>>,
}

/// A new revision of a stored job, for [`Store::write_jobs`].
#[derive(Debug, Clone)]
pub struct JobReplacement {
    pub job: Job,
    /// The revision the caller read: another one stored means someone edited the job since.
    pub expected_revision: i64,
    /// Moves the schedule cursor here (a changed trigger starts afresh).
    pub reset_cursor: Option<DateTime<Utc>>,
}

/// Which runs to list. Pages go backwards in time: pass the last id seen as `before`.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub job_id: Option<JobId>,
    pub statuses: Vec<RunStatus>,
    /// Only runs scheduled at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only runs scheduled before this instant.
    pub to: Option<DateTime<Utc>>,
    pub before: Option<RunId>,
    pub limit: u32,
}

/// A firing to record together with the job's schedule cursor, atomically.
#[derive(Debug, Clone)]
pub struct CursorUpdate {
    pub job_id: JobId,
    pub cursor: DateTime<Utc>,
    /// The next firing after `cursor` (None: none left, or not computed).
    pub next_due: Option<DateTime<Utc>>,
}

/// A next firing the scheduler computed for a job whose stored one was not known. Stored only
/// if the job is still at `revision` with the same cursor (so it can never describe an edit
/// or a firing it did not see).
#[derive(Debug, Clone)]
pub struct NextDue {
    pub job_id: JobId,
    pub revision: i64,
    pub cursor: DateTime<Utc>,
    pub next_due: DateTime<Utc>,
}

#[derive(Clone)]
pub struct Store {
    /// The one connection that writes. Owned (not pooled): a pool hands connections back on
    /// a background task, which would also escape [`Store::hold_paused_clock`].
    writer: Arc<Mutex<SqliteConnection>>,
    readers: Arc<Vec<Mutex<SqliteConnection>>>,
    next_reader: Arc<AtomicUsize>,
    /// Run starts and finishes waiting to be committed together (group commit).
    pending: Arc<std::sync::Mutex<Vec<PendingUpdate>>>,
    hold_paused_clock: bool,
    /// This store's mark on the change feed: readers skip their own writes.
    origin: i64,
    /// This process, recorded with each run it writes.
    owner: Arc<ProcessIdentity>,
    /// The token of the scheduler lease this store's scheduler holds, if it schedules under
    /// one: firings are recorded only while the lease is still that token's (a fence, so a
    /// scheduler that lost its lease cannot record one more firing before it notices).
    fence: Arc<std::sync::Mutex<Option<String>>>,
    /// Where secret values rest: every job written goes through [`Vault::seal`], every job
    /// read through [`Vault::open`] (decisions/0011).
    vault: Arc<std::sync::RwLock<Arc<Vault>>>,
}

/// A run start or finish waiting for the next group commit, with whom to tell.
type PendingUpdate = (
    RunUpdate,
    tokio::sync::oneshot::Sender<Result<bool, String>>,
);

#[derive(Debug, Clone)]
enum RunUpdate {
    Started {
        id: RunId,
        at: DateTime<Utc>,
    },
    Finished {
        id: RunId,
        outcome: RunOutcome,
        at: DateTime<Utc>,
    },
}

const READERS: usize = 3;

/// A queued or running run's id and owner (pid, host, start), as stored.
type UnfinishedRun = (String, Option<i64>, Option<String>, Option<i64>);

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn opt_ms(v: Option<i64>) -> Option<DateTime<Utc>> {
    v.map(from_ms)
}

const RUN_COLUMNS: &str = "id, job_id, job_revision, reason, attempt, parent_run_id, \
    scheduled_for, created_at, started_at, finished_at, status, exit_code, http_status, error, \
    log_bytes, log_lines, cpu_ms, peak_memory_bytes, overrides, trigger_path, start_after, \
    waiting_for, wait_until";

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        Self::open_with(path, false).await
    }

    /// [`Store::open`], with [`Store::hold_paused_clock`] set from the start.
    pub async fn open_with(path: &Path, hold_paused_clock: bool) -> StoreResult<Self> {
        hold_clock(hold_paused_clock, Self::connect(path, hold_paused_clock)).await
    }

    async fn connect(path: &Path, hold_paused_clock: bool) -> StoreResult<Self> {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            crate::paths::create_private_dir(parent).map_err(|e| {
                StoreError::Corrupt(format!("cannot create folder {}: {e}", parent.display()))
            })?;
        }
        // Created 0600 before SQLite opens it: its WAL and shared-memory files take the
        // database file's permissions.
        if !path.exists() {
            let _ = crate::paths::private_file_options()
                .write(true)
                .create_new(true)
                .open(path);
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            // Freed pages are zeroed: a secret moved to the keychain (or a deleted job) leaves
            // no copy behind in the file.
            .pragma("secure_delete", "on");
        let mut writer = options.connect().await?;
        restrict_data_files(path);
        refuse_newer_schema(&mut writer).await?;
        MIGRATOR.run(&mut writer).await?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            readers.push(Mutex::new(options.connect().await?));
        }
        Ok(Self {
            writer: Arc::new(Mutex::new(writer)),
            readers: Arc::new(readers),
            next_reader: Arc::new(AtomicUsize::new(0)),
            pending: Arc::default(),
            hold_paused_clock,
            // Positive and random: two stores (two processes, or two engines in one test)
            // never share one.
            origin: (ulid::Ulid::new().random() as i64) & i64::MAX,
            owner: Arc::new(ProcessIdentity::current()),
            fence: Arc::default(),
            vault: Arc::new(std::sync::RwLock::new(Arc::new(Vault::database(
                KnownSecrets::default(),
            )))),
        })
    }

    /// Writes the WAL back into the main file (connections close when the store is dropped).
    pub async fn close(&self) {
        self.held(async {
            let mut conn = self.writer.lock().await;
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut *conn)
                .await
            {
                tracing::warn!(error = %e, "could not checkpoint the database at close");
            }
        })
        .await
    }

    async fn writer(&self) -> MutexGuard<'_, SqliteConnection> {
        self.writer.lock().await
    }

    async fn reader(&self) -> MutexGuard<'_, SqliteConnection> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for k in 0..self.readers.len() {
            if let Ok(conn) = self.readers[(start + k) % self.readers.len()].try_lock() {
                return conn;
            }
        }
        self.readers[start % self.readers.len()].lock().await
    }

    /// For tests that pause tokio's clock (set through [`Store::open_with`]): SQLite works on
    /// its own thread, which tokio cannot see, so a paused clock would jump ahead while a query
    /// is in flight. Each store call then keeps a blocking task alive, which holds tokio's
    /// auto-advance until it ends.
    async fn held<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        hold_clock(self.hold_paused_clock, work).await
    }

    /// A write transaction on the writer connection, taken with `BEGIN IMMEDIATE` so it holds
    /// the write lock from the start (no SQLITE_BUSY half-way through).
    async fn write(conn: &mut SqliteConnection) -> StoreResult<Transaction<'_, Sqlite>> {
        reset_broken_transaction(conn).await;
        Ok(conn.begin_with("BEGIN IMMEDIATE").await?)
    }

    // ----- jobs -------------------------------------------------------------------------

    /// Inserts a new job; its schedule starts from its creation instant.
    pub async fn insert_job(&self, job: &Job) -> StoreResult<()> {
        self.insert_jobs(std::slice::from_ref(job)).await
    }

    /// Inserts new jobs in one transaction, all or none; each schedule starts from its job's
    /// creation instant.
    pub async fn insert_jobs(&self, jobs: &[Job]) -> StoreResult<()> {
        self.write_jobs(jobs, &[]).await
    }

    /// Writes a new revision of a job, but only if the stored one is `expected_revision`.
    /// `reset_cursor` moves the schedule cursor (a changed trigger starts afresh).
    pub async fn update_job(
        &self,
        job: &Job,
        expected_revision: i64,
        reset_cursor: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        self.write_jobs(
            &[],
            &[JobReplacement {
                job: job.clone(),
                expected_revision,
                reset_cursor,
            }],
        )
        .await
    }

    /// Inserts `new` jobs and writes new revisions of `replaced` ones in one transaction: all
    /// of it or none (an import applies as a whole). A replacement whose stored revision is
    /// not the expected one, or a name already taken, fails the whole write.
    pub async fn write_jobs(&self, new: &[Job], replaced: &[JobReplacement]) -> StoreResult<()> {
        let vault = self.vault();
        let mut sealed_new = Vec::with_capacity(new.len());
        for job in new {
            sealed_new.push(seal(&vault, job).await?);
        }
        let mut sealed_replaced = Vec::with_capacity(replaced.len());
        for r in replaced {
            sealed_replaced.push(seal(&vault, &r.job).await?);
        }
        let written = self
            .held(async {
                let mut conn = self.writer().await;
                let mut tx = Self::write(&mut conn).await?;
                for job in &sealed_new {
                    let result = sqlx::query(
                    "INSERT INTO jobs (id, name, revision, enabled, spec, created_at, updated_at, \
                     schedule_cursor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(job.id.to_string())
                .bind(&job.spec.name)
                .bind(job.revision)
                .bind(job.spec.enabled)
                .bind(encode_spec(&job.spec)?)
                .bind(ms(job.created_at))
                .bind(ms(job.updated_at))
                .bind(ms(job.created_at))
                .execute(&mut *tx)
                .await;
                    map_name_conflict(result, &job.spec.name)?;
                    note_job(&mut tx, self.origin, job.id, false).await?;
                }
                let mut dropped = Vec::new();
                for (r, sealed) in replaced.iter().zip(&sealed_replaced) {
                    let job = &r.job;
                    let spec = encode_spec(&sealed.spec)?;
                    let current: Option<(i64, String)> = sqlx::query_as(
                        "SELECT revision, spec FROM jobs WHERE id = ? AND deleted_at IS NULL",
                    )
                    .bind(job.id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
                    let stored_spec = match current {
                        None => return Err(StoreError::Sqlx(sqlx::Error::RowNotFound)),
                        Some((actual, _)) if actual != r.expected_revision => {
                            return Err(StoreError::RevisionConflict {
                                expected: r.expected_revision,
                                actual,
                            });
                        }
                        Some((_, spec)) => spec,
                    };
                    let result = sqlx::query(
                    "UPDATE jobs SET name = ?, revision = ?, enabled = ?, spec = ?, updated_at = ?, \
                     schedule_cursor = CASE WHEN ? THEN ? ELSE schedule_cursor END, \
                     next_due = NULL WHERE id = ?",
                )
                .bind(&job.spec.name)
                .bind(job.revision)
                .bind(job.spec.enabled)
                .bind(spec)
                .bind(ms(job.updated_at))
                .bind(r.reset_cursor.is_some())
                .bind(r.reset_cursor.map(ms))
                .bind(job.id.to_string())
                .execute(&mut *tx)
                .await;
                    map_name_conflict(result, &job.spec.name)?;
                    note_job(&mut tx, self.origin, job.id, false).await?;
                    dropped.extend(stored_references(job, &stored_spec, Some(sealed)));
                }
                tx.commit().await?;
                Ok(dropped)
            })
            .await;
        match written {
            Ok(dropped) => {
                vault.forget(dropped).await;
                Ok(())
            }
            Err(e) => {
                let fresh = new
                    .iter()
                    .zip(&sealed_new)
                    .chain(replaced.iter().map(|r| &r.job).zip(&sealed_replaced))
                    .flat_map(|(job, sealed)| Vault::new_references(job, sealed))
                    .collect();
                vault.forget(fresh).await;
                Err(e)
            }
        }
    }

    pub async fn get_job(&self, id: JobId) -> StoreResult<Option<StoredJob>> {
        let stored = self.held(async {
            let row = sqlx::query(
                "SELECT id, revision, spec, created_at, updated_at, schedule_cursor, next_due FROM jobs \
                 WHERE id = ? AND deleted_at IS NULL",
            )
            .bind(id.to_string())
            .fetch_optional(&mut *self.reader().await)
            .await?;
            row.map(|r| decode_job(&r)).transpose()
        })
        .await?;
        self.opened(stored).await
    }

    pub async fn find_job_by_name(&self, name: &str) -> StoreResult<Option<StoredJob>> {
        let stored = self.held(async {
            let row = sqlx::query(
                "SELECT id, revision, spec, created_at, updated_at, schedule_cursor, next_due FROM jobs \
                 WHERE name = ? AND deleted_at IS NULL",
            )
            .bind(name)
            .fetch_optional(&mut *self.reader().await)
            .await?;
            row.map(|r| decode_job(&r)).transpose()
        })
        .await?;
        self.opened(stored).await
    }

    /// Every live job, by name.
    pub async fn list_jobs(&self) -> StoreResult<Vec<StoredJob>> {
        let jobs = self.held(async {
            let rows = sqlx::query(
                "SELECT id, revision, spec, created_at, updated_at, schedule_cursor, next_due FROM jobs \
                 WHERE deleted_at IS NULL ORDER BY name",
            )
            .fetch_all(&mut *self.reader().await)
            .await?;
            rows.iter().map(decode_job).collect::<StoreResult<Vec<_>>>()
        })
        .await?;
        let vault = self.vault();
        let mut jobs = jobs;
        for stored in &mut jobs {
            vault.open(&mut stored.job).await;
        }
        Ok(jobs)
    }

    /// Deletes a job and its runs; if one of its runs is still going, the job is only marked
    /// deleted (hidden, unscheduled) and removed by [`Store::purge_deleted_job`] later.
    /// Returns false when there was no such job.
    pub async fn delete_job(&self, id: JobId, now: DateTime<Utc>) -> StoreResult<bool> {
        let (deleted, dropped) = self
            .held(async {
                let mut conn = self.writer().await;
                let mut tx = Self::write(&mut conn).await?;
                let stored_spec: Option<String> =
                    sqlx::query_scalar("SELECT spec FROM jobs WHERE id = ? AND deleted_at IS NULL")
                        .bind(id.to_string())
                        .fetch_optional(&mut *tx)
                        .await?;
                let active: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM runs WHERE job_id = ? AND status IN ('queued', 'running')",
            )
            .bind(id.to_string())
            .fetch_one(&mut *tx)
            .await?;
                let affected = if active > 0 {
                    sqlx::query(
                        "UPDATE jobs SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
                    )
                    .bind(ms(now))
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                } else {
                    sqlx::query("DELETE FROM jobs WHERE id = ? AND deleted_at IS NULL")
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                };
                if affected > 0 {
                    note_job(&mut tx, self.origin, id, true).await?;
                }
                tx.commit().await?;
                let dropped = match (&stored_spec, affected > 0) {
                    (Some(spec), true) => spec_references(spec),
                    _ => Vec::new(),
                };
                Ok::<_, StoreError>((affected > 0, dropped))
            })
            .await?;
        // A run still going has the job, secrets and all, in memory already.
        self.vault().forget(dropped).await;
        Ok(deleted)
    }

    /// Where this store keeps secret values.
    pub fn vault(&self) -> Arc<Vault> {
        self.vault.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Keeps secret values where `vault` says from now on (see [`Store::relocate_secrets`]
    /// for the ones stored already).
    pub fn set_vault(&self, vault: Arc<Vault>) {
        *self.vault.write().unwrap_or_else(|e| e.into_inner()) = vault;
    }

    /// Moves every stored secret to where the vault keeps them: into the keychain (the rows
    /// then hold references), or back into the database (the keychain entries are removed
    /// once the rows hold the values). A row edited meanwhile is left to its edit, which
    /// seals it anyway. Nothing is lost: a value leaves one place only once it is in the other.
    pub async fn relocate_secrets(&self) -> StoreResult<Moved> {
        let vault = self.vault();
        let rows: Vec<(String, String)> = self
            .held(async {
                Ok::<_, StoreError>(
                    sqlx::query_as("SELECT id, spec FROM jobs WHERE deleted_at IS NULL")
                        .fetch_all(&mut *self.reader().await)
                        .await?,
                )
            })
            .await?;
        let mut moved = Moved::default();
        for (id, spec_text) in rows {
            let spec: JobSpec = serde_json::from_str(&spec_text)
                .map_err(|e| StoreError::Corrupt(format!("job {id}: {e}")))?;
            let stored = Job {
                id: parse_id(&id)?,
                revision: 0,
                created_at: DateTime::<Utc>::MIN_UTC,
                updated_at: DateTime::<Utc>::MIN_UTC,
                spec,
            };
            let mut opened = stored.clone();
            vault.open(&mut opened).await;
            let Some(rewritten) = vault
                .relocation(&stored, &opened, &mut moved)
                .await
                .map_err(|e| StoreError::Secret(e.to_string()))?
            else {
                continue;
            };
            let new_text = encode_spec(&rewritten.spec)?;
            let changed = self
                .held(async {
                    let mut conn = self.writer().await;
                    let mut tx = Self::write(&mut conn).await?;
                    let done = sqlx::query("UPDATE jobs SET spec = ? WHERE id = ? AND spec = ?")
                        .bind(&new_text)
                        .bind(&id)
                        .bind(&spec_text)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    tx.commit().await?;
                    Ok::<_, StoreError>(done > 0)
                })
                .await?;
            if changed {
                let dropped = crate::secrets::Vault::dropped_references(&stored, Some(&rewritten));
                vault.forget(dropped).await;
            } else {
                // Edited meanwhile: that edit sealed it; the entries written here go again.
                vault
                    .forget(Vault::new_references(&opened, &rewritten))
                    .await;
            }
        }
        vault.note_unreadable(moved.unreadable);
        Ok(moved)
    }

    async fn opened(&self, stored: Option<StoredJob>) -> StoreResult<Option<StoredJob>> {
        let Some(mut stored) = stored else {
            return Ok(None);
        };
        self.vault().open(&mut stored.job).await;
        Ok(Some(stored))
    }

    /// Removes a job marked deleted once none of its runs is queued or running.
    pub async fn purge_deleted_job(&self, id: JobId) -> StoreResult<()> {
        self.held(async {
            sqlx::query(
                "DELETE FROM jobs WHERE id = ? AND deleted_at IS NOT NULL AND NOT EXISTS \
                 (SELECT 1 FROM runs WHERE job_id = jobs.id AND status IN ('queued', 'running'))",
            )
            .bind(id.to_string())
            .execute(&mut *self.writer().await)
            .await?;
            Ok(())
        })
        .await
    }

    /// Removes every job marked deleted that has nothing running (at start-up).
    pub async fn purge_deleted_jobs(&self) -> StoreResult<u64> {
        self.held(async {
            let done = sqlx::query(
                "DELETE FROM jobs WHERE deleted_at IS NOT NULL AND NOT EXISTS \
                 (SELECT 1 FROM runs WHERE job_id = jobs.id AND status IN ('queued', 'running'))",
            )
            .execute(&mut *self.writer().await)
            .await?;
            Ok(done.rows_affected())
        })
        .await
    }

    pub async fn set_schedule_cursors(&self, cursors: &[CursorUpdate]) -> StoreResult<()> {
        self.held(async {
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            for c in cursors {
                set_cursor(&mut tx, c).await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Stores next firings computed for jobs whose stored one was not known, each only if the
    /// job is unchanged since (same revision, same cursor). Commits every `chunk` rows, so
    /// storing a hundred thousand never holds the writer for long.
    pub async fn set_next_dues(&self, dues: &[NextDue]) -> StoreResult<()> {
        const CHUNK: usize = 2_000;
        for chunk in dues.chunks(CHUNK) {
            self.held(async {
                let mut conn = self.writer().await;
                let mut tx = Self::write(&mut conn).await?;
                for d in chunk {
                    sqlx::query(
                        "UPDATE jobs SET next_due = ? WHERE id = ? AND revision = ? \
                         AND COALESCE(schedule_cursor, created_at) = ?",
                    )
                    .bind(ms(d.next_due))
                    .bind(d.job_id.to_string())
                    .bind(d.revision)
                    .bind(ms(d.cursor))
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                StoreResult::Ok(())
            })
            .await?;
        }
        Ok(())
    }

    /// Clears every stored next firing and records who will compute them from now on, in one
    /// transaction (so no stale one is ever taken as this build's).
    pub async fn forget_next_dues(&self, basis_key: &str, basis: &str) -> StoreResult<()> {
        self.held(async {
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            sqlx::query("UPDATE jobs SET next_due = NULL WHERE next_due IS NOT NULL")
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES (?, ?) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(basis_key)
            .bind(basis)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    // ----- runs -------------------------------------------------------------------------

    /// Records runs (of any status), the ledger entries of missed firings (each with its run
    /// row among `runs`) and moves schedule cursors in one transaction, so a crash can neither
    /// lose a firing nor record it twice.
    pub async fn record_firings(
        &self,
        runs: &[Run],
        gaps: &[MissedGap],
        cursors: &[CursorUpdate],
    ) -> StoreResult<()> {
        self.record_firings_as(runs, gaps, cursors, false).await
    }

    /// As [`Store::record_firings`], for firings written ahead of their time (decisions/0020):
    /// each run row is marked as such, in the same transaction.
    pub async fn record_firings_ahead(
        &self,
        runs: &[Run],
        cursors: &[CursorUpdate],
    ) -> StoreResult<()> {
        self.record_firings_as(runs, &[], cursors, true).await
    }

    async fn record_firings_as(
        &self,
        runs: &[Run],
        gaps: &[MissedGap],
        cursors: &[CursorUpdate],
        ahead: bool,
    ) -> StoreResult<()> {
        self.held(async {
            let fence = self.fence_token();
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            check_fence(&mut tx, fence.as_deref()).await?;
            for run in runs {
                insert_run_as(&mut tx, run, &self.owner, ahead).await?;
                note_run(&mut tx, self.origin, run.id, run.job_id, run.status).await?;
            }
            for gap in gaps {
                missed::insert_gap(&mut tx, gap).await?;
            }
            for c in cursors {
                set_cursor(&mut tx, c).await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Records one run (run now, a retry, a chained run): not fenced by the lease, since
    /// such a run is this process's own and it runs it whoever schedules.
    pub async fn insert_run(&self, run: &Run) -> StoreResult<()> {
        self.held(async {
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            insert_run(&mut tx, run, &self.owner).await?;
            note_run(&mut tx, self.origin, run.id, run.job_id, run.status).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Fences [`Store::record_firings`] with this lease token (None: no fence).
    pub fn set_fence(&self, token: Option<String>) {
        *self.fence.lock().unwrap_or_else(|e| e.into_inner()) = token;
    }

    /// Whether a queued row with this owner (pid, host, start, as stored) was left by a
    /// process that is gone: not this one, and not one alive on this host. A row without an
    /// owner was handed on at a clean quit.
    fn left_by_a_gone_process(
        &self,
        pid: Option<i64>,
        host: Option<String>,
        start: Option<i64>,
    ) -> bool {
        match (pid, host) {
            (Some(pid), Some(host)) => {
                let owner = ProcessIdentity {
                    pid: u32::try_from(pid).unwrap_or(0),
                    host,
                    start,
                };
                owner != *self.owner && (!owner.is_local() || !owner.is_alive())
            }
            _ => true,
        }
    }

    /// The lease token the scheduler's writes are fenced with, if any.
    fn fence_token(&self) -> Option<String> {
        self.fence.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many runs are going now, in any process.
    pub async fn count_running(&self) -> StoreResult<u32> {
        self.held(async {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE status = 'running'")
                .fetch_one(&mut *self.reader().await)
                .await?;
            Ok(u32::try_from(n).unwrap_or(u32::MAX))
        })
        .await
    }

    /// Moves a queued run to running. Returns false if it was no longer queued.
    pub async fn mark_started(&self, id: RunId, at: DateTime<Utc>) -> StoreResult<bool> {
        self.held(self.group_commit(RunUpdate::Started { id, at }))
            .await
    }

    /// Records how a queued or running run ended.
    pub async fn finish_run(
        &self,
        id: RunId,
        outcome: &RunOutcome,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let update = RunUpdate::Finished {
            id,
            outcome: outcome.clone(),
            at,
        };
        self.held(self.group_commit(update)).await.map(drop)
    }

    /// Group commit: the update joins the pending list; whoever gets the writer next commits
    /// every pending update in one transaction (one fsync for many runs) and answers each.
    async fn group_commit(&self, update: RunUpdate) -> StoreResult<bool> {
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((update, tx));
        loop {
            tokio::select! {
                biased;
                answer = &mut rx => {
                    return answer
                        .unwrap_or_else(|_| Err("the writer stopped".into()))
                        .map_err(StoreError::Batch);
                }
                mut conn = self.writer.lock() => {
                    let batch = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
                    if batch.is_empty() {
                        // Another caller committed ours; its answer is already sent.
                        continue;
                    }
                    let (updates, waiters): (Vec<RunUpdate>, Vec<_>) = batch.into_iter().unzip();
                    match commit_updates(&mut conn, self.origin, &updates).await {
                        Ok(results) => {
                            for (waiter, result) in waiters.into_iter().zip(results) {
                                let _ = waiter.send(Ok(result));
                            }
                        }
                        Err(e) => {
                            let text = e.to_string();
                            for waiter in waiters {
                                let _ = waiter.send(Err(text.clone()));
                            }
                        }
                    }
                }
            }
        }
    }

    /// Records a run log's size (after its index was rebuilt).
    pub async fn set_log_stats(&self, id: RunId, bytes: u64, lines: u64) -> StoreResult<()> {
        self.held(async {
            sqlx::query("UPDATE runs SET log_bytes = ?, log_lines = ? WHERE id = ?")
                .bind(bytes as i64)
                .bind(lines as i64)
                .bind(id.to_string())
                .execute(&mut *self.writer().await)
                .await?;
            Ok(())
        })
        .await
    }

    /// At start-up of a scheduler: every run left queued or running by a process that is
    /// gone (crash, power loss, kill) becomes interrupted; so do runs of other hosts and runs
    /// recorded before owners were. Runs of a process still going (a `sundialctl jobs run`)
    /// are left alone. Returns the runs as they now are.
    pub async fn interrupt_unfinished_runs(&self, now: DateTime<Utc>) -> StoreResult<Vec<Run>> {
        self.interrupt_runs_where(now, |owner| {
            owner.is_none_or(|o| !o.is_local() || !o.is_alive())
        })
        .await
    }

    /// While scheduling: runs whose owner on this machine is gone (a `sundialctl jobs run`
    /// killed, a scheduler that crashed before this one took over) become interrupted.
    pub async fn interrupt_orphaned_runs(&self, now: DateTime<Utc>) -> StoreResult<Vec<Run>> {
        self.interrupt_runs_where(now, |owner| {
            owner.is_some_and(|o| o.is_local() && !o.is_alive())
        })
        .await
    }

    async fn interrupt_runs_where(
        &self,
        now: DateTime<Utc>,
        gone: impl Fn(Option<&ProcessIdentity>) -> bool,
    ) -> StoreResult<Vec<Run>> {
        self.held(async {
            let unfinished: Vec<UnfinishedRun> = sqlx::query_as(
                "SELECT id, owner_pid, owner_host, owner_start FROM runs \
                 WHERE status IN ('queued', 'running') ORDER BY id",
            )
            .fetch_all(&mut *self.reader().await)
            .await?;
            let ids: Vec<String> = unfinished
                .into_iter()
                .filter(|(_, pid, host, start)| {
                    let owner = match (pid, host) {
                        (Some(pid), Some(host)) => Some(ProcessIdentity {
                            pid: u32::try_from(*pid).unwrap_or(0),
                            host: host.clone(),
                            start: *start,
                        }),
                        _ => None,
                    };
                    owner.as_ref() != Some(&*self.owner) && gone(owner.as_ref())
                })
                .map(|(id, ..)| id)
                .collect();
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            let mut interrupted = Vec::with_capacity(ids.len());
            for id in &ids {
                let job: Option<String> = sqlx::query_scalar(
                    "UPDATE runs SET finished_at = ?, \
                     error = CASE status WHEN 'running' THEN \
                       'Sundial stopped (crash, power loss or kill) while this run was going' \
                     ELSE 'Sundial stopped before this queued run could start' END, \
                     status = 'interrupted' WHERE id = ? AND status IN ('queued', 'running') \
                     RETURNING job_id",
                )
                .bind(ms(now))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(job) = job {
                    let status = Some(RunStatus::Interrupted.as_str());
                    note(
                        &mut tx,
                        self.origin,
                        ChangeKind::Run,
                        id,
                        Some(&job),
                        status,
                    )
                    .await?;
                    interrupted.push(id.clone());
                }
            }
            tx.commit().await?;
            drop(conn);
            let mut runs = Vec::with_capacity(interrupted.len());
            for id in interrupted {
                if let Some(run) = self.get_run(parse_id(&id)?).await? {
                    runs.push(run);
                }
            }
            Ok(runs)
        })
        .await
    }

    pub async fn get_run(&self, id: RunId) -> StoreResult<Option<Run>> {
        self.held(async {
            let row = sqlx::query(&format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?"))
                .bind(id.to_string())
                .fetch_optional(&mut *self.reader().await)
                .await?;
            row.map(|r| decode_run(&r)).transpose()
        })
        .await
    }

    /// Runs matching `filter`, newest first.
    pub async fn list_runs(&self, filter: &RunFilter) -> StoreResult<Vec<Run>> {
        self.held(async {
            // The page comes back as one JSON value built by SQLite: each row fetched through
            // sqlx separately costs about 5 µs (its values copied and handed over from the
            // connection's thread), more than the query itself (benchmark B6).
            let mut sql = format!(
                "SELECT json_group_array(json_array({RUN_COLUMNS}) ORDER BY id DESC) FROM \
                 (SELECT {RUN_COLUMNS} FROM runs WHERE 1 = 1"
            );
            if filter.job_id.is_some() {
                sql.push_str(" AND job_id = ?");
            }
            if !filter.statuses.is_empty() {
                let marks = vec!["?"; filter.statuses.len()].join(", ");
                sql.push_str(&format!(" AND status IN ({marks})"));
            }
            if filter.from.is_some() {
                sql.push_str(" AND scheduled_for >= ?");
            }
            if filter.to.is_some() {
                sql.push_str(" AND scheduled_for < ?");
            }
            if filter.before.is_some() {
                sql.push_str(" AND id < ?");
            }
            sql.push_str(" ORDER BY id DESC LIMIT ?)");
            let mut query = sqlx::query_scalar::<_, String>(&sql);
            if let Some(job) = filter.job_id {
                query = query.bind(job.to_string());
            }
            for status in &filter.statuses {
                query = query.bind(status.as_str());
            }
            if let Some(from) = filter.from {
                query = query.bind(ms(from));
            }
            if let Some(to) = filter.to {
                query = query.bind(ms(to));
            }
            if let Some(before) = filter.before {
                query = query.bind(before.to_string());
            }
            let limit = if filter.limit == 0 {
                100
            } else {
                filter.limit.min(10_000)
            };
            let page = query
                .bind(i64::from(limit))
                .fetch_one(&mut *self.reader().await)
                .await?;
            let rows: Vec<RunColumns> = serde_json::from_str(&page)
                .map_err(|e| StoreError::Corrupt(format!("a page of runs cannot be read: {e}")))?;
            rows.into_iter().map(RunColumns::into_run).collect()
        })
        .await
    }

    /// Finished runs that retention removes, of one job or of all: beyond each job's newest
    /// `keep_runs`, or finished before `finished_before`. Queued and running runs are never
    /// chosen. One query per limit, whatever the number of jobs.
    pub async fn runs_to_prune(
        &self,
        job_id: Option<JobId>,
        keep_runs: Option<u32>,
        finished_before: Option<DateTime<Utc>>,
    ) -> StoreResult<Vec<RunId>> {
        self.held(async {
            let job_filter = if job_id.is_some() {
                " AND job_id = ?"
            } else {
                ""
            };
            let job = job_id.map(|j| j.to_string());
            let mut ids: Vec<String> = Vec::new();
            if let Some(keep) = keep_runs {
                let sql = format!(
                    "SELECT id FROM (SELECT id, ROW_NUMBER() OVER \
                     (PARTITION BY job_id ORDER BY id DESC) AS newer FROM runs \
                     WHERE status NOT IN ('queued', 'running'){job_filter}) WHERE newer > ?"
                );
                let mut query = sqlx::query_scalar::<_, String>(&sql);
                if let Some(job) = &job {
                    query = query.bind(job);
                }
                ids.extend(
                    query
                        .bind(i64::from(keep))
                        .fetch_all(&mut *self.reader().await)
                        .await?,
                );
            }
            if let Some(before) = finished_before {
                let sql = format!(
                    "SELECT id FROM runs WHERE status NOT IN ('queued', 'running') \
                     AND finished_at < ?{job_filter}"
                );
                let mut query = sqlx::query_scalar::<_, String>(&sql).bind(ms(before));
                if let Some(job) = &job {
                    query = query.bind(job);
                }
                ids.extend(query.fetch_all(&mut *self.reader().await).await?);
            }
            ids.sort();
            ids.dedup();
            ids.iter().map(|id| parse_id(id)).collect()
        })
        .await
    }

    /// Ids of a job's runs that are not going (their logs are complete files).
    pub async fn finished_run_ids_of_job(&self, job_id: JobId) -> StoreResult<Vec<RunId>> {
        self.held(async {
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT id FROM runs WHERE job_id = ? AND status NOT IN ('queued', 'running')",
            )
            .bind(job_id.to_string())
            .fetch_all(&mut *self.reader().await)
            .await?;
            ids.iter().map(|id| parse_id(id)).collect()
        })
        .await
    }

    /// Deletes run rows (retention), in one transaction.
    pub async fn delete_runs(&self, ids: &[RunId]) -> StoreResult<u64> {
        self.held(async {
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            let mut deleted = 0;
            for id in ids {
                deleted += sqlx::query("DELETE FROM runs WHERE id = ?")
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
            Ok(deleted)
        })
        .await
    }

    /// Which of `ids` have a run row.
    pub async fn existing_runs(
        &self,
        ids: &[RunId],
    ) -> StoreResult<std::collections::HashSet<RunId>> {
        self.held(async {
            let mut found = std::collections::HashSet::new();
            let mut conn = self.reader().await;
            for id in ids {
                let hit: Option<i64> = sqlx::query_scalar("SELECT 1 FROM runs WHERE id = ?")
                    .bind(id.to_string())
                    .fetch_optional(&mut *conn)
                    .await?;
                if hit.is_some() {
                    found.insert(*id);
                }
            }
            Ok(found)
        })
        .await
    }

    // ----- settings ---------------------------------------------------------------------

    pub async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        self.held(async {
            Ok(
                sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
                    .bind(key)
                    .fetch_optional(&mut *self.reader().await)
                    .await?,
            )
        })
        .await
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        self.held(async {
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES (?, ?) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
            note(&mut tx, self.origin, ChangeKind::Setting, key, None, None).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// The schema version this build writes.
    pub fn supported_schema_version() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }
}

async fn commit_updates(
    conn: &mut SqliteConnection,
    origin: i64,
    updates: &[RunUpdate],
) -> StoreResult<Vec<bool>> {
    let mut tx = Store::write(conn).await?;
    let mut results = Vec::with_capacity(updates.len());
    for update in updates {
        // RETURNING names the job for the change feed, and says whether the row moved.
        let (id, status, job) = match update {
            RunUpdate::Started { id, at } => {
                let job: Option<String> = sqlx::query_scalar(
                    "UPDATE runs SET status = 'running', started_at = ? \
                     WHERE id = ? AND status = 'queued' RETURNING job_id",
                )
                .bind(ms(*at))
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
                (id, RunStatus::Running, job)
            }
            RunUpdate::Finished { id, outcome, at } => {
                let job: Option<String> = sqlx::query_scalar(
                    "UPDATE runs SET status = ?, finished_at = ?, exit_code = ?, http_status = ?, \
                     error = ?, log_bytes = ?, log_lines = ?, cpu_ms = ?, peak_memory_bytes = ? \
                     WHERE id = ? AND status IN ('queued', 'running') RETURNING job_id",
                )
                .bind(outcome.status.as_str())
                .bind(ms(*at))
                .bind(outcome.exit_code)
                .bind(outcome.http_status.map(i64::from))
                .bind(&outcome.error)
                .bind(outcome.log_bytes as i64)
                .bind(outcome.log_lines as i64)
                .bind(outcome.cpu_ms.map(saturating_i64))
                .bind(outcome.peak_memory_bytes.map(saturating_i64))
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
                if job.is_some() && !outcome.outputs.is_empty() {
                    values::insert_values(&mut tx, *id, RunValueKind::Output, &outcome.outputs)
                        .await?;
                }
                (id, outcome.status, job)
            }
        };
        if let Some(job) = &job {
            note(
                &mut tx,
                origin,
                ChangeKind::Run,
                &id.to_string(),
                Some(job),
                Some(status.as_str()),
            )
            .await?;
        }
        results.push(job.is_some());
    }
    tx.commit().await?;
    Ok(results)
}

/// After SQLITE_FULL (or an I/O error) SQLite may roll a transaction back by itself; the
/// rollback sqlx then sends fails ("no transaction is active") and sqlx goes on counting the
/// transaction as open, so every later `BEGIN` on the connection would fail for ever ("non-zero
/// transaction depth"). This puts SQLite and sqlx back in step: open a transaction if SQLite has
/// none (an error here means it still had one), then roll it back through sqlx. The caller
/// holds the writer, so nothing else can open a transaction on it meanwhile.
async fn reset_broken_transaction(conn: &mut SqliteConnection) {
    use sqlx::TransactionManager;
    if !conn.is_in_transaction() {
        return;
    }
    // The rollback of a dropped transaction is queued to the connection's worker: once a ping
    // comes back, it has been done, and the count is what it will stay.
    if conn.ping().await.is_err() || !conn.is_in_transaction() {
        return;
    }
    let _ = sqlx::query("BEGIN").execute(&mut *conn).await;
    if let Err(e) = <Sqlite as sqlx::Database>::TransactionManager::rollback(conn).await {
        tracing::error!(error = %e, "could not reset the database connection after a failed write");
    }
}

async fn hold_clock<T>(hold: bool, work: impl std::future::Future<Output = T>) -> T {
    if !hold {
        return work.await;
    }
    let (done, wait) = std::sync::mpsc::channel::<()>();
    // Not awaited: waiting for the holder to end would itself be an idle moment in which the
    // clock could jump. The caller goes on running while the holder winds down.
    drop(tokio::task::spawn_blocking(move || {
        let _ = wait.recv();
    }));
    let out = work.await;
    drop(done);
    out
}

/// Refuses a database whose applied migrations go past what this build knows, before the
/// migrator (or anything else) writes to it.
async fn refuse_newer_schema(conn: &mut SqliteConnection) -> StoreResult<()> {
    let has_table: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if has_table.is_none() {
        return Ok(());
    }
    let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut *conn)
        .await?;
    let supported = Store::supported_schema_version();
    match found {
        Some(found) if found > supported => Err(StoreError::DatabaseTooNew { found, supported }),
        _ => Ok(()),
    }
}

/// Inside a write: refuses it ([`StoreError::LeaseLost`]) when the lease is no longer held
/// with `fence` (no fence: any process may write).
async fn check_fence(tx: &mut Transaction<'_, Sqlite>, fence: Option<&str>) -> StoreResult<()> {
    let Some(token) = fence else {
        return Ok(());
    };
    let holder: Option<String> =
        sqlx::query_scalar("SELECT token FROM scheduler_lease WHERE slot = 1")
            .fetch_optional(&mut **tx)
            .await?;
    if holder.as_deref() == Some(token) {
        Ok(())
    } else {
        Err(StoreError::LeaseLost)
    }
}

async fn set_cursor(tx: &mut Transaction<'_, Sqlite>, c: &CursorUpdate) -> StoreResult<()> {
    sqlx::query("UPDATE jobs SET schedule_cursor = ?, next_due = ? WHERE id = ?")
        .bind(ms(c.cursor))
        .bind(c.next_due.map(ms))
        .bind(c.job_id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn insert_run(
    tx: &mut Transaction<'_, Sqlite>,
    run: &Run,
    owner: &ProcessIdentity,
) -> StoreResult<()> {
    insert_run_as(tx, run, owner, false).await
}

/// Inserts a run row owned by `owner`; `written_ahead` marks a firing recorded before its time
/// (decisions/0020).
async fn insert_run_as(
    tx: &mut Transaction<'_, Sqlite>,
    run: &Run,
    owner: &ProcessIdentity,
    written_ahead: bool,
) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO runs ({RUN_COLUMNS}, owner_pid, owner_host, owner_start, written_ahead) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(run.id.to_string())
    .bind(run.job_id.to_string())
    .bind(run.job_revision)
    .bind(run.reason.as_str())
    .bind(i64::from(run.attempt))
    .bind(run.parent_run_id.map(|id| id.to_string()))
    .bind(ms(run.scheduled_for))
    .bind(ms(run.created_at))
    .bind(run.started_at.map(ms))
    .bind(run.finished_at.map(ms))
    .bind(run.status.as_str())
    .bind(run.exit_code)
    .bind(run.http_status.map(i64::from))
    .bind(&run.error)
    .bind(run.log_bytes as i64)
    .bind(run.log_lines as i64)
    .bind(run.cpu_ms.map(saturating_i64))
    .bind(run.peak_memory_bytes.map(saturating_i64))
    .bind(
        run.overrides
            .as_ref()
            .filter(|o| !o.is_empty())
            .map(|o| serde_json::to_string(o).expect("overrides serialize")),
    )
    .bind(&run.trigger_path)
    .bind(run.wait.start_after.map(ms))
    .bind(run.wait.waiting_for.map(WaitingFor::as_str))
    .bind(run.wait.wait_until.map(ms))
    .bind(i64::from(owner.pid))
    .bind(&owner.host)
    .bind(owner.start)
    .bind(i64::from(written_ahead))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn note_job(
    tx: &mut Transaction<'_, Sqlite>,
    origin: i64,
    job: JobId,
    deleted: bool,
) -> StoreResult<()> {
    let key = job.to_string();
    let detail = deleted.then_some("deleted");
    note(tx, origin, ChangeKind::Job, &key, None, detail).await
}

async fn note_run(
    tx: &mut Transaction<'_, Sqlite>,
    origin: i64,
    run: RunId,
    job: JobId,
    status: RunStatus,
) -> StoreResult<()> {
    let job = job.to_string();
    let key = run.to_string();
    note(
        tx,
        origin,
        ChangeKind::Run,
        &key,
        Some(&job),
        Some(status.as_str()),
    )
    .await
}

fn map_name_conflict(
    result: Result<sqlx::sqlite::SqliteQueryResult, sqlx::Error>,
    name: &str,
) -> StoreResult<()> {
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            Err(StoreError::NameTaken(name.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The database and its WAL are the user's alone (0600 on Unix): they hold job definitions
/// and, without a keychain, secret values. The folder is made 0700 where Sundial creates it.
pub(crate) fn restrict_data_files(database: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut files = vec![database.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut name = database.as_os_str().to_owned();
            name.push(suffix);
            files.push(name.into());
        }
        for file in files {
            if let Ok(meta) = std::fs::metadata(&file)
                && meta.permissions().mode() & 0o077 != 0
                && let Err(e) =
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
            {
                tracing::warn!(file = %file.display(), error = %e, "could not make a database file private");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = database;
}

async fn seal(vault: &Vault, job: &Job) -> StoreResult<Job> {
    vault
        .seal(job)
        .await
        .map_err(|e| StoreError::Secret(e.to_string()))
}

/// The keychain references in a stored spec that `sealed` (the job as it is written now)
/// no longer has.
fn stored_references(job: &Job, stored_spec: &str, sealed: Option<&Job>) -> Vec<String> {
    let Ok(spec) = serde_json::from_str::<JobSpec>(stored_spec) else {
        return Vec::new();
    };
    let stored = Job {
        spec,
        ..job.clone()
    };
    Vault::dropped_references(&stored, sealed)
}

fn spec_references(stored_spec: &str) -> Vec<String> {
    let Ok(spec) = serde_json::from_str::<JobSpec>(stored_spec) else {
        return Vec::new();
    };
    let (_, list) = crate::domain::secrets::vars(&spec.kind);
    list.iter()
        .filter(|v| v.secret && crate::secrets::is_reference(&v.value))
        .map(|v| v.value.clone())
        .collect()
}

fn encode_spec(spec: &JobSpec) -> StoreResult<String> {
    serde_json::to_string(spec).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn parse_id<T: FromStr>(s: &str) -> StoreResult<T>
where
    T::Err: std::fmt::Display,
{
    s.parse()
        .map_err(|e: T::Err| StoreError::Corrupt(e.to_string()))
}

fn decode_job(row: &SqliteRow) -> StoreResult<StoredJob> {
    let id: String = row.try_get("id")?;
    let spec: String = row.try_get("spec")?;
    let spec: JobSpec =
        serde_json::from_str(&spec).map_err(|e| StoreError::Corrupt(format!("job {id}: {e}")))?;
    Ok(StoredJob {
        job: Job {
            id: parse_id(&id)?,
            revision: row.try_get("revision")?,
            created_at: from_ms(row.try_get("created_at")?),
            updated_at: from_ms(row.try_get("updated_at")?),
            spec,
        },
        schedule_cursor: opt_ms(row.try_get("schedule_cursor")?),
        next_due: opt_ms(row.try_get("next_due")?),
    })
}

/// A run row's columns as stored, in [`RUN_COLUMNS`]' order: read from a row, or from one
/// element of a page of rows SQLite built as one JSON value (see [`Store::list_runs`]).
#[derive(serde::Deserialize)]
struct RunColumns(
    String,         // id
    String,         // job_id
    i64,            // job_revision
    String,         // reason
    i64,            // attempt
    Option<String>, // parent_run_id
    i64,            // scheduled_for
    i64,            // created_at
    Option<i64>,    // started_at
    Option<i64>,    // finished_at
    String,         // status
    Option<i32>,    // exit_code
    Option<i64>,    // http_status
    Option<String>, // error
    i64,            // log_bytes
    i64,            // log_lines
    Option<i64>,    // cpu_ms
    Option<i64>,    // peak_memory_bytes
    Option<String>, // overrides
    Option<String>, // trigger_path
    Option<i64>,    // start_after
    Option<String>, // waiting_for
    Option<i64>,    // wait_until
);

fn decode_run(row: &SqliteRow) -> StoreResult<Run> {
    RunColumns(
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
        row.try_get(4)?,
        row.try_get(5)?,
        row.try_get(6)?,
        row.try_get(7)?,
        row.try_get(8)?,
        row.try_get(9)?,
        row.try_get(10)?,
        row.try_get(11)?,
        row.try_get(12)?,
        row.try_get(13)?,
        row.try_get(14)?,
        row.try_get(15)?,
        row.try_get(16)?,
        row.try_get(17)?,
        row.try_get(18)?,
        row.try_get(19)?,
        row.try_get(20)?,
        row.try_get(21)?,
        row.try_get(22)?,
    )
    .into_run()
}

impl RunColumns {
    fn into_run(self) -> StoreResult<Run> {
        let RunColumns(
            id,
            job_id,
            job_revision,
            reason,
            attempt,
            parent,
            scheduled_for,
            created_at,
            started_at,
            finished_at,
            status,
            exit_code,
            http_status,
            error,
            log_bytes,
            log_lines,
            cpu_ms,
            peak_memory_bytes,
            overrides,
            trigger_path,
            start_after,
            waiting_for,
            wait_until,
        ) = self;
        Ok(Run {
            id: parse_id(&id)?,
            job_id: parse_id(&job_id)?,
            job_revision,
            reason: RunReason::from_str(&reason).map_err(StoreError::Corrupt)?,
            attempt: u32::try_from(attempt).unwrap_or(1),
            parent_run_id: parent.map(|p| parse_id(&p)).transpose()?,
            scheduled_for: from_ms(scheduled_for),
            created_at: from_ms(created_at),
            started_at: opt_ms(started_at),
            finished_at: opt_ms(finished_at),
            status: RunStatus::from_str(&status).map_err(StoreError::Corrupt)?,
            exit_code,
            http_status: http_status.and_then(|s| u16::try_from(s).ok()),
            error,
            log_bytes: u64::try_from(log_bytes).unwrap_or(0),
            log_lines: u64::try_from(log_lines).unwrap_or(0),
            cpu_ms: cpu_ms.and_then(|v| u64::try_from(v).ok()),
            peak_memory_bytes: peak_memory_bytes.and_then(|v| u64::try_from(v).ok()),
            overrides: overrides
                .map(|text| {
                    serde_json::from_str(&text).map_err(|e| {
                        StoreError::Corrupt(format!("a run's overrides cannot be read: {e}"))
                    })
                })
                .transpose()?,
            trigger_path,
            wait: RunWait {
                start_after: opt_ms(start_after),
                waiting_for: waiting_for
                    .map(|w| WaitingFor::from_str(&w).map_err(StoreError::Corrupt))
                    .transpose()?,
                wait_until: opt_ms(wait_until),
            },
        })
    }
}

fn saturating_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

// ----- lease ------------------------------------------------------------------------------
//
// The scheduler lease (see `crate::lease`) and what a lease holder needs to follow edits made
// by other processes in the same database.

/// Who holds the scheduler lease.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LeaseRecord {
    pub token: String,
    pub holder: String,
    pub pid: u32,
    pub host: String,
    pub since: DateTime<Utc>,
    pub renewed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Takes the lease for `want` unless a different, unexpired holder has it. Returns the
    /// lease as it is afterwards: ours when its token is `want.token`.
    pub async fn acquire_lease(
        &self,
        want: &LeaseRecord,
        now: DateTime<Utc>,
    ) -> StoreResult<LeaseRecord> {
        self.held(async {
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            let current = sqlx::query(
                "SELECT token, holder, pid, host, since, renewed_at, expires_at \
                 FROM scheduler_lease WHERE slot = 1",
            )
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| decode_lease(&r))
            .transpose()?;
            if let Some(current) = current
                && current.token != want.token
                && current.expires_at > now
            {
                tx.commit().await?;
                return Ok(current);
            }
            sqlx::query(
                "INSERT INTO scheduler_lease \
                 (slot, token, holder, pid, host, since, renewed_at, expires_at) \
                 VALUES (1, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (slot) DO UPDATE SET token = excluded.token, \
                 holder = excluded.holder, pid = excluded.pid, host = excluded.host, \
                 since = excluded.since, renewed_at = excluded.renewed_at, \
                 expires_at = excluded.expires_at",
            )
            .bind(&want.token)
            .bind(&want.holder)
            .bind(i64::from(want.pid))
            .bind(&want.host)
            .bind(ms(want.since))
            .bind(ms(want.renewed_at))
            .bind(ms(want.expires_at))
            .execute(&mut *tx)
            .await?;
            note(&mut tx, self.origin, ChangeKind::Lease, "", None, None).await?;
            tx.commit().await?;
            Ok(want.clone())
        })
        .await
    }

    /// Extends our lease to `expires_at`. False when it is no longer ours (it expired and was
    /// taken over): the caller must stop scheduling.
    pub async fn renew_lease(
        &self,
        token: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.held(async {
            let done = sqlx::query(
                "UPDATE scheduler_lease SET renewed_at = ?, expires_at = ? \
                 WHERE slot = 1 AND token = ?",
            )
            .bind(ms(now))
            .bind(ms(expires_at))
            .bind(token)
            .execute(&mut *self.writer().await)
            .await?;
            Ok(done.rows_affected() == 1)
        })
        .await
    }

    /// Takes the lease from the holder with token `from` (whose process is known to be gone),
    /// unless it changed hands meanwhile. True when the lease is now `want`'s.
    pub async fn take_over_lease(&self, want: &LeaseRecord, from: &str) -> StoreResult<bool> {
        self.held(async {
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            let done = sqlx::query(
                "UPDATE scheduler_lease SET token = ?, holder = ?, pid = ?, host = ?, since = ?, \
                 renewed_at = ?, expires_at = ? WHERE slot = 1 AND token = ?",
            )
            .bind(&want.token)
            .bind(&want.holder)
            .bind(i64::from(want.pid))
            .bind(&want.host)
            .bind(ms(want.since))
            .bind(ms(want.renewed_at))
            .bind(ms(want.expires_at))
            .bind(from)
            .execute(&mut *tx)
            .await?;
            let taken = done.rows_affected() == 1;
            if taken {
                note(&mut tx, self.origin, ChangeKind::Lease, "", None, None).await?;
            }
            tx.commit().await?;
            Ok(taken)
        })
        .await
    }

    /// Gives the lease up (only if it is still ours).
    pub async fn release_lease(&self, token: &str) -> StoreResult<()> {
        self.held(async {
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            let done = sqlx::query("DELETE FROM scheduler_lease WHERE slot = 1 AND token = ?")
                .bind(token)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() > 0 {
                // Passive engines watch for this: the next scheduler takes over at once.
                note(&mut tx, self.origin, ChangeKind::Lease, "", None, None).await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// The lease as stored (possibly expired).
    pub async fn current_lease(&self) -> StoreResult<Option<LeaseRecord>> {
        self.held(async {
            sqlx::query(
                "SELECT token, holder, pid, host, since, renewed_at, expires_at \
                 FROM scheduler_lease WHERE slot = 1",
            )
            .fetch_optional(&mut *self.reader().await)
            .await?
            .map(|r| decode_lease(&r))
            .transpose()
        })
        .await
    }

    /// (id, revision) of every live job: a lease holder compares it with what it has loaded
    /// to pick up edits made by other processes.
    pub async fn job_revisions(&self) -> StoreResult<Vec<(JobId, i64)>> {
        self.held(async {
            let rows: Vec<(String, i64)> =
                sqlx::query_as("SELECT id, revision FROM jobs WHERE deleted_at IS NULL")
                    .fetch_all(&mut *self.reader().await)
                    .await?;
            rows.into_iter()
                .map(|(id, rev)| Ok((parse_id(&id)?, rev)))
                .collect()
        })
        .await
    }
}

fn decode_lease(row: &SqliteRow) -> StoreResult<LeaseRecord> {
    let pid: i64 = row.try_get("pid")?;
    Ok(LeaseRecord {
        token: row.try_get("token")?,
        holder: row.try_get("holder")?,
        pid: u32::try_from(pid).unwrap_or(0),
        host: row.try_get("host")?,
        since: from_ms(row.try_get("since")?),
        renewed_at: from_ms(row.try_get("renewed_at")?),
        expires_at: from_ms(row.try_get("expires_at")?),
    })
}
