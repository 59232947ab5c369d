-- Every endpoint that honours an Idempotency-Key keeps its answers in one table: the
-- couriers' reports move theirs from job_events to idempotency_keys.
INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, response_body, created_at)
SELECT c.user_id, e.idempotency_key, e.request_hash, 200, e.response_body, e.received_at
FROM job_events e JOIN couriers c ON c.id = e.courier_id
ON CONFLICT (user_id, key) DO NOTHING;
DROP INDEX job_events_courier_key;
ALTER TABLE job_events DROP COLUMN idempotency_key;
ALTER TABLE job_events DROP COLUMN request_hash;
ALTER TABLE job_events DROP COLUMN response_body;
