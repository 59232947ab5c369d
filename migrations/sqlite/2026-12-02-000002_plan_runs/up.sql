-- How many times a worker claimed the plan: a plan is computed once, so more means two
-- workers took it (the replicas test asserts 1).
ALTER TABLE plans ADD COLUMN runs INTEGER NOT NULL DEFAULT 0;
