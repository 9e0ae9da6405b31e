-- What each run's whole process tree used (decisions/0010): CPU time (user + system) in
-- milliseconds and peak memory in bytes. NULL for runs recorded before this migration, HTTP
-- runs, and runs whose processes could not be measured.
ALTER TABLE runs ADD COLUMN cpu_ms INTEGER;
ALTER TABLE runs ADD COLUMN peak_memory_bytes INTEGER;
