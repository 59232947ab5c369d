ALTER TABLE job_events ADD COLUMN idempotency_key TEXT NOT NULL DEFAULT '';
ALTER TABLE job_events ADD COLUMN request_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE job_events ADD COLUMN response_body TEXT NOT NULL DEFAULT '';
-- The answers stay in idempotency_keys; each old report gets a key of its own.
UPDATE job_events SET idempotency_key = 'migrated-' || id;
CREATE UNIQUE INDEX job_events_courier_key ON job_events (courier_id, idempotency_key);
