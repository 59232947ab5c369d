-- Images: their size (read from the header) and whether a thumbnail was made.
ALTER TABLE attachments ADD COLUMN width INTEGER;
ALTER TABLE attachments ADD COLUMN height INTEGER;
ALTER TABLE attachments ADD COLUMN thumbnail BOOLEAN NOT NULL DEFAULT FALSE;

-- Tokens already issued stop working once their user's generation moves on (deactivated,
-- role changed, signed out everywhere); replicas pick up changes by `auth_changed_at`.
ALTER TABLE users ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN auth_changed_at TIMESTAMP;
CREATE INDEX users_auth_changed_idx ON users (auth_changed_at);

-- Periodic work that one replica at a time does: whoever takes the lease runs it.
CREATE TABLE sweeps (
    name TEXT PRIMARY KEY NOT NULL,
    leased_until TIMESTAMP NOT NULL,
    holder TEXT NOT NULL
);
-- The sweeps exist from the start, so replicas only ever race on taking a lease.
INSERT INTO sweeps (name, leased_until, holder) VALUES ('retention', '1970-01-01 00:00:00', '');

-- Retention finds old rows by time.
CREATE INDEX courier_positions_received_idx ON courier_positions (received_at);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
