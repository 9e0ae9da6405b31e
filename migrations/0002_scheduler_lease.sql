-- The scheduler lease: at most one process (the desktop app or `sundialctl daemon`) fires jobs.
-- One row at most. The holder renews it; once `expires_at` has passed (the holder crashed or
-- hung), another process may take it over.
CREATE TABLE scheduler_lease (
    slot        INTEGER PRIMARY KEY CHECK (slot = 1),
    -- A random token of the holding process instance (a ULID).
    token       TEXT NOT NULL,
    -- What holds it: "daemon", "app", ...
    holder      TEXT NOT NULL,
    pid         INTEGER NOT NULL,
    host        TEXT NOT NULL,
    since       INTEGER NOT NULL,
    renewed_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
