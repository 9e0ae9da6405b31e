-- File-arrives triggers (issue 17). The file a run was fired for; the folder each such job
-- watches (whether its files were looked at once, and why the watch fails); and every file
-- a job has handled, by size and modification time, so a restart does not handle it again.
ALTER TABLE runs ADD COLUMN trigger_path TEXT;

CREATE TABLE file_watches (
    job_id      TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    -- The folder and pattern the baseline was taken for: another one starts afresh.
    folder      TEXT NOT NULL,
    glob        TEXT NOT NULL,
    -- When the files already there were recorded (ms since 1970).
    since       INTEGER NOT NULL,
    -- Why the folder cannot be watched now (it disappeared, cannot be read); NULL when fine.
    problem     TEXT,
    problem_at  INTEGER
) STRICT;

CREATE TABLE handled_files (
    job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    -- Modification time in nanoseconds since 1970.
    mtime_ns    INTEGER NOT NULL,
    -- The run it fired (NULL: the file was already there when the job started watching).
    run_id      TEXT,
    handled_at  INTEGER NOT NULL,
    PRIMARY KEY (job_id, path)
) STRICT;
