-- Conditions (issue 17): a firing may wait for AC power or the network, after a random delay
-- (decisions/0019). Kept on the run row so a restart keeps the delay drawn and the deadline:
-- `start_after` (ms since 1970) the end of the random delay; `waiting_for` what a queued run
-- waits for (once it started or ended, the last thing it waited for); `wait_until` (ms) when
-- the wait ends and the job's on_timeout applies.
ALTER TABLE runs ADD COLUMN start_after INTEGER;
ALTER TABLE runs ADD COLUMN waiting_for TEXT CHECK (waiting_for IN ('ac_power', 'network'));
ALTER TABLE runs ADD COLUMN wait_until INTEGER;

-- The ledger records firings whose conditions were not met in time: two more causes. A CHECK
-- cannot be altered in SQLite, so the table is rebuilt (nothing references it).
CREATE TABLE missed_gaps_new (
    run_id      TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    gap_start   INTEGER NOT NULL,
    noticed_at  INTEGER NOT NULL,
    first_slot  INTEGER NOT NULL,
    last_slot   INTEGER NOT NULL,
    missed      INTEGER NOT NULL CHECK (missed >= 1),
    counted_all INTEGER NOT NULL CHECK (counted_all IN (0, 1)),
    cause       TEXT NOT NULL
                CHECK (cause IN ('asleep', 'not_running', 'clock_changed', 'paused', 'stalled',
                                 'on_battery', 'offline')),
    policy      TEXT NOT NULL CHECK (policy IN ('skip', 'run_once', 'run_all')),
    ran         INTEGER NOT NULL CHECK (ran >= 0)
) STRICT;

INSERT INTO missed_gaps_new (run_id, job_id, gap_start, noticed_at, first_slot, last_slot,
                             missed, counted_all, cause, policy, ran)
SELECT run_id, job_id, gap_start, noticed_at, first_slot, last_slot, missed, counted_all,
       cause, policy, ran
FROM missed_gaps;

DROP TABLE missed_gaps;
ALTER TABLE missed_gaps_new RENAME TO missed_gaps;
CREATE INDEX missed_gaps_by_time ON missed_gaps (noticed_at);
CREATE INDEX missed_gaps_by_job ON missed_gaps (job_id, noticed_at);
