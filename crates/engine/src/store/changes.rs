//! The change feed (migration 0004, decisions/0003): every write another process must notice
//! appends a row to `changes` in the same transaction. Readers ask for what came after the
//! last sequence number they applied, without their own writes.

use sqlx::{Row, Sqlite, Transaction};

use super::{Store, StoreError, StoreResult};

/// What a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A job was added, edited (enabled, disabled) or deleted: `key` is its id.
    Job,
    /// A run was recorded, started or finished: `key` is its id.
    Run,
    /// A setting: `key` is its name.
    Setting,
    /// The scheduler lease was taken, taken over or given back.
    Lease,
}

impl ChangeKind {
    fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Job => "job",
            ChangeKind::Run => "run",
            ChangeKind::Setting => "setting",
            ChangeKind::Lease => "lease",
        }
    }

    fn parse(text: &str) -> StoreResult<Self> {
        Ok(match text {
            "job" => ChangeKind::Job,
            "run" => ChangeKind::Run,
            "setting" => ChangeKind::Setting,
            "lease" => ChangeKind::Lease,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "unknown change kind {other:?}"
                )));
            }
        })
    }
}

/// One row of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub kind: ChangeKind,
    pub key: String,
    /// A run's job.
    pub job_id: Option<String>,
    /// A run's status; "deleted" for a deleted job.
    pub detail: Option<String>,
}

/// What [`Store::changes_after`] found.
#[derive(Debug, Clone, Default)]
pub struct ChangeBatch {
    /// Other processes' changes, in order.
    pub changes: Vec<Change>,
    /// The last sequence number looked at (own rows included): ask from here next time.
    pub last: i64,
    /// Rows the reader never saw were pruned: it must reload everything it holds.
    pub behind: bool,
    /// More rows follow (the batch was full).
    pub more: bool,
}

/// Appends a change to the feed inside a write transaction.
pub(super) async fn note(
    tx: &mut Transaction<'_, Sqlite>,
    origin: i64,
    kind: ChangeKind,
    key: &str,
    job_id: Option<&str>,
    detail: Option<&str>,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO changes (origin, kind, key, job_id, detail) VALUES (?, ?, ?, ?, ?)")
        .bind(origin)
        .bind(kind.as_str())
        .bind(key)
        .bind(job_id)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// How many rows the feed keeps (the newest): far more than any reader falls behind by
/// while it runs; one that does reloads everything.
const KEEP_CHANGES: i64 = 50_000;

impl Store {
    /// This store's mark on the feed.
    pub fn origin(&self) -> i64 {
        self.origin
    }

    /// The newest sequence number (0 for an empty feed): a reader starts from here.
    pub async fn latest_change(&self) -> StoreResult<i64> {
        self.held(async {
            let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM changes")
                .fetch_one(&mut *self.reader().await)
                .await?;
            Ok(seq.unwrap_or(0))
        })
        .await
    }

    /// Other processes' changes after `seq`, at most `limit` rows looked at.
    pub async fn changes_after(&self, seq: i64, limit: u32) -> StoreResult<ChangeBatch> {
        self.held(async {
            let mut conn = self.reader().await;
            let oldest: Option<i64> = sqlx::query_scalar("SELECT MIN(seq) FROM changes")
                .fetch_one(&mut *conn)
                .await?;
            let rows = sqlx::query(
                "SELECT seq, origin, kind, key, job_id, detail FROM changes \
                 WHERE seq > ? ORDER BY seq LIMIT ?",
            )
            .bind(seq)
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await?;
            let mut batch = ChangeBatch {
                last: seq,
                behind: oldest.is_some_and(|oldest| oldest > seq + 1),
                more: rows.len() as u64 >= u64::from(limit),
                changes: Vec::new(),
            };
            for row in rows {
                let seq: i64 = row.try_get("seq")?;
                batch.last = seq;
                let origin: i64 = row.try_get("origin")?;
                if origin == self.origin {
                    continue;
                }
                batch.changes.push(Change {
                    seq,
                    kind: ChangeKind::parse(row.try_get("kind")?)?,
                    key: row.try_get("key")?,
                    job_id: row.try_get("job_id")?,
                    detail: row.try_get("detail")?,
                });
            }
            Ok(batch)
        })
        .await
    }

    /// Keeps the newest rows of the feed only (the lease holder calls it now and then).
    pub async fn prune_changes(&self) -> StoreResult<u64> {
        self.held(async {
            let done =
                sqlx::query("DELETE FROM changes WHERE seq <= (SELECT MAX(seq) FROM changes) - ?")
                    .bind(KEEP_CHANGES)
                    .execute(&mut *self.writer().await)
                    .await?;
            Ok(done.rows_affected())
        })
        .await
    }
}
