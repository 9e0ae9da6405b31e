-- Indexes for the pictures of runs (issue 16): the timeline and the all-jobs heat map read runs
-- by scheduled time across jobs; a job's overview (success rates, its heat map) by job and
-- time. Both carry the status so those aggregates are answered from the index alone.
CREATE INDEX runs_by_time ON runs (scheduled_for, status);
CREATE INDEX runs_by_job_time ON runs (job_id, scheduled_for, status);
