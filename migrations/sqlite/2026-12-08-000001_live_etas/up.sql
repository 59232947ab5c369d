-- Live ETAs: each stop's current arrival estimate, re-timed from the courier's reports and
-- positions; whether that estimate passes the promised window; when the customer was last
-- told of a delay (one notice per stop and hour).
ALTER TABLE plan_stops ADD COLUMN eta_at TIMESTAMP;
ALTER TABLE plan_stops ADD COLUMN delayed BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE plan_stops ADD COLUMN delay_noticed_at TIMESTAMP;
-- When the route's ETAs were last computed, and its estimated return.
ALTER TABLE plan_routes ADD COLUMN etas_at TIMESTAMP;
ALTER TABLE plan_routes ADD COLUMN eta_end_at TIMESTAMP;
