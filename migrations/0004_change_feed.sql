-- The change feed (decisions/0003): the window, `sundialctl` and `sundialctl daemon` share this
-- database, and each must notice at once what the others wrote. Every write that matters to a
-- scheduler or a window appends a row here in the same transaction as the write itself. Each
-- engine remembers the last `seq` it applied and reads only what came after, skipping the rows
-- of its own `origin`. The scheduler that holds the lease keeps the newest rows only; a reader
-- that finds it fell behind the oldest row left reloads everything.
CREATE TABLE changes (
    -- AUTOINCREMENT: a sequence number is never reused, even after pruning.
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The writing store instance (random, one per open database connection set).
    origin  INTEGER NOT NULL,
    kind    TEXT NOT NULL CHECK (kind IN ('job', 'run', 'setting', 'lease')),
    -- The job id, run id or setting key ('' for the lease).
    key     TEXT NOT NULL,
    -- For a run: its job and its status; for a deleted job: detail 'deleted'.
    job_id  TEXT,
    detail  TEXT
) STRICT;

-- Which process recorded each run (pid, host, and the process's start time where the OS tells
-- it, so a reused pid is not taken for the owner), so that a scheduler marks interrupted only
-- the runs of processes that are gone, never those of a `sundialctl jobs run` still going.
-- NULL for runs recorded before this migration.
ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
ALTER TABLE runs ADD COLUMN owner_host TEXT;
ALTER TABLE runs ADD COLUMN owner_start INTEGER;
