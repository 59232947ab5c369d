-- Keep in step with migrations/sqlite/2026-11-23-000001_initial/up.sql (same tables, columns and names).
CREATE TABLE customers (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    address TEXT,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX customers_email_key ON customers (email);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    customer_id BIGINT REFERENCES customers (id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    absent BOOLEAN NOT NULL DEFAULT FALSE,
    substitute_id BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE refresh_tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    family TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (token_hash);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family);

CREATE TABLE products (
    id BIGSERIAL PRIMARY KEY,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    series TEXT,
    warranty_months INTEGER NOT NULL,
    size_units INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX products_sku_key ON products (sku);

CREATE TABLE sales (
    id BIGSERIAL PRIMARY KEY,
    serial_no TEXT NOT NULL,
    sku TEXT NOT NULL REFERENCES products (sku),
    customer_id BIGINT REFERENCES customers (id),
    sold_at DATE NOT NULL,
    warranty_until DATE,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sales_serial_no_key ON sales (serial_no);

CREATE TABLE claims (
    id BIGSERIAL PRIMARY KEY,
    number TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers (id),
    filed_by BIGINT NOT NULL REFERENCES users (id),
    serial_no TEXT NOT NULL,
    sku TEXT,
    defect_category TEXT NOT NULL,
    description TEXT NOT NULL,
    requested_remedy TEXT NOT NULL,
    status TEXT NOT NULL,
    assignee_id BIGINT REFERENCES users (id),
    warranty_status TEXT NOT NULL,
    warranty_until DATE,
    decision TEXT,
    decision_reason TEXT,
    refund_amount_cents BIGINT,
    stage_entered_at TIMESTAMP NOT NULL,
    stage_due_at TIMESTAMP,
    address TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    preferred_windows TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX claims_number_key ON claims (number);
CREATE INDEX claims_customer_idx ON claims (customer_id);
CREATE INDEX claims_assignee_status_idx ON claims (assignee_id, status);
CREATE INDEX claims_filed_by_idx ON claims (filed_by);

CREATE TABLE claim_events (
    id BIGSERIAL PRIMARY KEY,
    claim_id BIGINT NOT NULL REFERENCES claims (id),
    at TIMESTAMP NOT NULL,
    actor_id BIGINT REFERENCES users (id),
    kind TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT,
    note TEXT
);
CREATE INDEX claim_events_claim_idx ON claim_events (claim_id, id);

CREATE TABLE depots (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    opens_minute INTEGER NOT NULL,
    closes_minute INTEGER NOT NULL,
    time_zone TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE couriers (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    phone TEXT,
    capacity INTEGER NOT NULL,
    skills TEXT NOT NULL,
    home_depot_id BIGINT NOT NULL REFERENCES depots (id),
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX couriers_user_key ON couriers (user_id);

CREATE TABLE shifts (
    id BIGSERIAL PRIMARY KEY,
    courier_id BIGINT NOT NULL REFERENCES couriers (id),
    date DATE NOT NULL,
    start_at TIMESTAMP NOT NULL,
    end_at TIMESTAMP NOT NULL,
    start_depot_id BIGINT NOT NULL REFERENCES depots (id),
    end_depot_id BIGINT NOT NULL REFERENCES depots (id),
    break_minutes INTEGER,
    break_start_at TIMESTAMP,
    break_end_at TIMESTAMP
);
CREATE UNIQUE INDEX shifts_courier_date_key ON shifts (courier_id, date);

CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    claim_id BIGINT NOT NULL REFERENCES claims (id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    address TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    windows TEXT NOT NULL,
    service_minutes INTEGER NOT NULL,
    delivery_load INTEGER NOT NULL,
    pickup_load INTEGER NOT NULL,
    skills TEXT NOT NULL,
    priority INTEGER NOT NULL,
    cash_cents BIGINT,
    date DATE,
    courier_id BIGINT REFERENCES couriers (id),
    attempts INTEGER NOT NULL DEFAULT 0,
    fail_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_claim_idx ON jobs (claim_id);
CREATE INDEX jobs_date_status_idx ON jobs (date, status);

CREATE TABLE attachments (
    id BIGSERIAL PRIMARY KEY,
    claim_id BIGINT REFERENCES claims (id),
    job_id BIGINT REFERENCES jobs (id),
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_claim_idx ON attachments (claim_id);

CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_pending_idx ON outbox (delivered_at, id);

CREATE TABLE idempotency_keys (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response_body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX idempotency_keys_user_key ON idempotency_keys (user_id, key);
