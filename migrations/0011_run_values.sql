-- Pipelines that pass data (issue 17): the `key=value` lines a run wrote to its
-- SUNDIAL_OUTPUT file ('output'), and the variables a chained run was given by its upstream
-- run ('passed': SUNDIAL_UPSTREAM_* and SUNDIAL_OUTPUT_<KEY>), kept with the run so its page
-- shows what it got even after the upstream run is pruned. Values of the job's secrets are
-- masked before they are written here.
CREATE TABLE run_values (
    run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    kind    TEXT NOT NULL CHECK (kind IN ('output', 'passed')),
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    -- The order the values were written or given in.
    seq     INTEGER NOT NULL,
    PRIMARY KEY (run_id, kind, key)
) STRICT, WITHOUT ROWID;
