-- The job's next firing as the scheduler computed it from `schedule_cursor` and this revision
-- of the spec (ms since the epoch), so a start reads it instead of compiling every schedule.
-- NULL = not known (the scheduler computes it, and stores it back). Every write of
-- `schedule_cursor` writes it too, and every write of `spec` clears it.
ALTER TABLE jobs ADD COLUMN next_due INTEGER;
