-- Run with parameters (issue 16): what one run changed from its job, as JSON
-- ({"env": [{"name", "value"}], "args": [...]}); NULL for a run of the job as it is.
-- Secret variables are never overridden (decisions/0013), so nothing secret is kept here.
ALTER TABLE runs ADD COLUMN overrides TEXT;
