-- Firings written ahead of their time (issue 18, decisions/0020): the scheduler records a
-- firing's run row shortly before it is due. `written_ahead` is 1 on such a row until the
-- scheduler hands it on (a clean quit leaves it to the next scheduler) or it waits for a
-- condition; a queued row with it set that a stopped process left is withdrawn and planned
-- again, not adopted.
ALTER TABLE runs ADD COLUMN written_ahead INTEGER NOT NULL DEFAULT 0
    CHECK (written_ahead IN (0, 1));
