-- Workshops that repair units under contract and suppliers that hand out replacements:
-- places a courier drives to besides depots and customers, registered by managers. A partner
-- is retired (active = false), never deleted, so the claims that named one keep it.
CREATE TABLE partners (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    opens_minute INTEGER NOT NULL,
    closes_minute INTEGER NOT NULL,
    time_zone TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    -- JSON list of the product categories it takes; empty: every category.
    categories TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX partners_kind_name_key ON partners (kind, name);
