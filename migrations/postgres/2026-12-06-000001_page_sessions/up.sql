-- Browsers signed in to the console: the cookie holds a secret, only its hash is kept. A
-- session dies on sign-out, at expires_at, or when the user's token generation moves on
-- (signed out everywhere, password or role changed, deactivated).
CREATE TABLE page_sessions (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL,
    token_generation INTEGER NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX page_sessions_hash_key ON page_sessions (token_hash);
CREATE INDEX page_sessions_user_idx ON page_sessions (user_id);
