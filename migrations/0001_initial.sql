-- Sundial schema v1. Instants are INTEGER milliseconds since the Unix epoch, UTC.
-- Never edit an applied migration: add a new file.

CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL COLLATE NOCASE,
    revision        INTEGER NOT NULL CHECK (revision >= 1),
    enabled         INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    -- The JobSpec as JSON (validated before it is written).
    spec            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- The latest firing the scheduler has handled (ran, skipped or coalesced); NULL = none yet.
    schedule_cursor INTEGER,
    -- Set when the user deleted the job while one of its runs was still going; the row and its
    -- runs are removed once nothing of it is running.
    deleted_at      INTEGER
) STRICT;

CREATE UNIQUE INDEX jobs_live_name ON jobs (name) WHERE deleted_at IS NULL;

CREATE TABLE runs (
    id              TEXT PRIMARY KEY,
    job_id          TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    job_revision    INTEGER NOT NULL,
    reason          TEXT NOT NULL
                    CHECK (reason IN ('schedule', 'manual', 'retry', 'catch_up', 'chain')),
    attempt         INTEGER NOT NULL CHECK (attempt >= 1),
    parent_run_id   TEXT,
    scheduled_for   INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    started_at      INTEGER,
    finished_at     INTEGER,
    status          TEXT NOT NULL
                    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'timed_out',
                                      'cancelled', 'skipped', 'interrupted')),
    exit_code       INTEGER,
    http_status     INTEGER,
    error           TEXT,
    log_bytes       INTEGER NOT NULL DEFAULT 0,
    log_lines       INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Run ids are ULIDs: ordering by id is ordering by creation time, and keyset pages use it.
CREATE INDEX runs_by_job ON runs (job_id, id);
CREATE INDEX runs_by_job_status ON runs (job_id, status, id);
CREATE INDEX runs_by_status ON runs (status, id);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
