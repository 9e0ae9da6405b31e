//! The values runs pass along a chain (migration 0011): what a run wrote to its
//! `SUNDIAL_OUTPUT` file, and what a chained run was given.

use sqlx::{Sqlite, Transaction};

use super::{Store, StoreResult, insert_run, note_run};
use crate::domain::{Run, RunId, RunReason, RunValue, RunValueKind};

pub(super) async fn insert_values(
    tx: &mut Transaction<'_, Sqlite>,
    run: RunId,
    kind: RunValueKind,
    values: &[RunValue],
) -> StoreResult<()> {
    for (seq, value) in values.iter().enumerate() {
        // A key given twice keeps its last value (the runner already merged them).
        sqlx::query(
            "INSERT INTO run_values (run_id, kind, key, value, seq) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (run_id, kind, key) DO UPDATE SET value = excluded.value",
        )
        .bind(run.to_string())
        .bind(kind.as_str())
        .bind(&value.key)
        .bind(&value.value)
        .bind(i64::try_from(seq).unwrap_or(i64::MAX))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Records a new run with the values its upstream passes to it, in one transaction.
    pub async fn insert_run_passing(&self, run: &Run, passed: &[RunValue]) -> StoreResult<()> {
        self.held(async {
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            insert_run(&mut tx, run, &self.owner).await?;
            insert_values(&mut tx, run.id, RunValueKind::Passed, passed).await?;
            note_run(&mut tx, self.origin, run.id, run.job_id, run.status).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// A run's values of one kind, in the order they were written.
    pub async fn run_values(&self, run: RunId, kind: RunValueKind) -> StoreResult<Vec<RunValue>> {
        self.held(async {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT key, value FROM run_values WHERE run_id = ? AND kind = ? ORDER BY seq",
            )
            .bind(run.to_string())
            .bind(kind.as_str())
            .fetch_all(&mut *self.reader().await)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(key, value)| RunValue { key, value })
                .collect())
        })
        .await
    }

    /// What a run is to be given when it starts: a chained run its own passed values, a
    /// retry those of its first attempt; nothing for any other run (no query).
    pub async fn values_to_pass(&self, run: &Run) -> StoreResult<Vec<RunValue>> {
        let from = match (run.reason, run.parent_run_id) {
            (RunReason::Chain, _) => run.id,
            (RunReason::Retry, Some(first)) => first,
            _ => return Ok(Vec::new()),
        };
        self.run_values(from, RunValueKind::Passed).await
    }
}
