-- What each plan run minimises (cost, fewest_couriers, balanced, earliest_finish,
-- distance). Plans computed before objectives existed minimised distance.
ALTER TABLE plans ADD COLUMN objective TEXT NOT NULL DEFAULT 'distance';
