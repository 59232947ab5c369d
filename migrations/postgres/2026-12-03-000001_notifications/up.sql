-- People are told in their language (NULL: the server's DEFAULT_LOCALE).
ALTER TABLE users ADD COLUMN locale TEXT;
ALTER TABLE customers ADD COLUMN locale TEXT;

-- A claim's public tracking link, its escalation, its remedy's details and the rating.
ALTER TABLE claims ADD COLUMN tracking_token TEXT;
UPDATE claims SET tracking_token = replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '');
CREATE UNIQUE INDEX claims_tracking_token_key ON claims (tracking_token);
ALTER TABLE claims ADD COLUMN escalated_at TIMESTAMP;
ALTER TABLE claims ADD COLUMN escalated_stage TEXT;
ALTER TABLE claims ADD COLUMN reason_code TEXT;
ALTER TABLE claims ADD COLUMN logistics TEXT;
ALTER TABLE claims ADD COLUMN override_reason TEXT;
ALTER TABLE claims ADD COLUMN rating INTEGER;
ALTER TABLE claims ADD COLUMN rating_comment TEXT;
ALTER TABLE claims ADD COLUMN rated_at TIMESTAMP;
CREATE INDEX claims_due_idx ON claims (stage_due_at);

-- An event is fanned out to its deliveries once (`delivered_at` says when).
ALTER TABLE outbox ADD COLUMN claim_id BIGINT;

CREATE TABLE webhooks (
    id BIGSERIAL PRIMARY KEY,
    url TEXT NOT NULL,
    -- JSON list of event names, or ["*"].
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);

-- One message to one recipient through one channel; delivered at least once.
CREATE TABLE deliveries (
    id BIGSERIAL PRIMARY KEY,
    outbox_id BIGINT NOT NULL REFERENCES outbox (id),
    event TEXT NOT NULL,
    claim_id BIGINT REFERENCES claims (id),
    -- `email` or `webhook`.
    channel TEXT NOT NULL,
    -- The e-mail address, or the webhook's URL.
    recipient TEXT NOT NULL,
    user_id BIGINT REFERENCES users (id),
    webhook_id BIGINT REFERENCES webhooks (id),
    -- The mail's template and language; the subject and body as rendered.
    template TEXT,
    locale TEXT,
    subject TEXT,
    body TEXT NOT NULL,
    -- `pending` (a failed attempt is retried), `sent` or `dead`.
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    sent_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX deliveries_message_key ON deliveries (outbox_id, channel, recipient);
CREATE INDEX deliveries_due_idx ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_claim_idx ON deliveries (claim_id, id);
CREATE INDEX deliveries_webhook_idx ON deliveries (webhook_id, id);
