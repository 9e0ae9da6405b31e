-- The missed-run ledger (issue 14): one entry per job per gap (a sleep, Sundial not running, a
-- clock change, a pause) instead of one skipped run row per missed firing. Each entry has one
-- run row (status 'skipped') that stands for it in history and is pruned with it.
CREATE TABLE missed_gaps (
    run_id      TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    -- Since when nothing fired (the job's cursor) and when Sundial noticed, in ms since 1970.
    gap_start   INTEGER NOT NULL,
    noticed_at  INTEGER NOT NULL,
    first_slot  INTEGER NOT NULL,
    last_slot   INTEGER NOT NULL,
    missed      INTEGER NOT NULL CHECK (missed >= 1),
    -- 0 when `missed` is a lower bound (counting stopped at a limit).
    counted_all INTEGER NOT NULL CHECK (counted_all IN (0, 1)),
    cause       TEXT NOT NULL
                CHECK (cause IN ('asleep', 'not_running', 'clock_changed', 'paused', 'stalled')),
    policy      TEXT NOT NULL CHECK (policy IN ('skip', 'run_once', 'run_all')),
    ran         INTEGER NOT NULL CHECK (ran >= 0)
) STRICT;

CREATE INDEX missed_gaps_by_time ON missed_gaps (noticed_at);
CREATE INDEX missed_gaps_by_job ON missed_gaps (job_id, noticed_at);
