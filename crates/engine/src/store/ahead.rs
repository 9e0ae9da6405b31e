//! Firings written ahead (decisions/0020): the scheduler commits a firing's run row and moves
//! its job's cursor shortly before the firing is due, so that at the instant only the spawn is
//! left. Such a row is marked `written_ahead` (migration 0013) until the scheduler hands it on.
//! Withdrawing one deletes the row and puts the cursor back just before the slot, so the
//! firing is planned again exactly as if it had never been written: on time if the slot is
//! still to come, under the job's missed-run policy if it has passed.

use chrono::{DateTime, Duration, Utc};

use super::{Store, StoreResult, check_fence, from_ms, ms, note_run, parse_id};
use crate::domain::{JobId, RunId, RunStatus};

/// A firing written ahead: its run row, its job and its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrittenAhead {
    pub run_id: RunId,
    pub job_id: JobId,
    pub slot: DateTime<Utc>,
}

/// What selects a written-ahead row in SQL (see the module's doc).
const AHEAD: &str = "written_ahead = 1 AND status = 'queued' AND started_at IS NULL";

impl Store {
    /// Withdraws firings written ahead (see the module's doc), all in one transaction and
    /// fenced by the lease like [`Store::record_firings`]. A cursor that moved on since (the
    /// firing ran, another scheduler fired later slots) is left alone.
    pub async fn withdraw_written_ahead(&self, firings: &[WrittenAhead]) -> StoreResult<()> {
        if firings.is_empty() {
            return Ok(());
        }
        self.held(async {
            let fence = self.fence_token();
            let mut conn = self.writer().await;
            let mut tx = Self::write(&mut conn).await?;
            check_fence(&mut tx, fence.as_deref()).await?;
            for f in firings {
                let gone = sqlx::query(&format!("DELETE FROM runs WHERE id = ? AND {AHEAD}"))
                    .bind(f.run_id.to_string())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if gone == 0 {
                    continue;
                }
                sqlx::query(
                    "UPDATE jobs SET schedule_cursor = ?, next_due = ? \
                     WHERE id = ? AND schedule_cursor = ?",
                )
                .bind(ms(f.slot - Duration::milliseconds(1)))
                .bind(ms(f.slot))
                .bind(f.job_id.to_string())
                .bind(ms(f.slot))
                .execute(&mut *tx)
                .await?;
                // The windows that listed the row look again and find it gone.
                note_run(
                    &mut tx,
                    self.origin,
                    f.run_id,
                    f.job_id,
                    RunStatus::Cancelled,
                )
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// Before this process schedules: the firings written ahead by a scheduler that is gone
    /// (killed, crashed, or quit without withdrawing them) are withdrawn, so that each is fired
    /// once, by this process, when it falls due. Those of this process and of a live process on
    /// this host are their writer's to run (it lost the lease after writing them, and it still
    /// fires them). Returns what was withdrawn.
    pub async fn withdraw_orphaned_ahead(&self) -> StoreResult<Vec<WrittenAhead>> {
        // (id, owner pid, owner host, owner start, job, slot), as stored.
        type AheadRow = (
            String,
            Option<i64>,
            Option<String>,
            Option<i64>,
            String,
            i64,
        );
        let rows: Vec<AheadRow> = self
            .held(async {
                sqlx::query_as(&format!(
                    "SELECT id, owner_pid, owner_host, owner_start, job_id, scheduled_for \
                     FROM runs WHERE {AHEAD} ORDER BY id"
                ))
                .fetch_all(&mut *self.reader().await)
                .await
            })
            .await?;
        let mut orphaned = Vec::new();
        for (id, pid, host, start, job, slot) in rows {
            if self.left_by_a_gone_process(pid, host, start) {
                orphaned.push(WrittenAhead {
                    run_id: parse_id(&id)?,
                    job_id: parse_id(&job)?,
                    slot: from_ms(slot),
                });
            }
        }
        self.withdraw_written_ahead(&orphaned).await?;
        Ok(orphaned)
    }
}
