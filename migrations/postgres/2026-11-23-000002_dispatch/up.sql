-- Plans of a day, their routes and stops; courier events and positions.

CREATE TABLE plans (
    id BIGSERIAL PRIMARY KEY,
    date DATE NOT NULL,
    depot_id BIGINT REFERENCES depots (id),
    -- 'all' or 'depot:<id>': at most one published plan per date and scope.
    scope TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id),
    -- The published plan of the scope when this one was created; publishing requires it
    -- still to be the published one, so two plans computed side by side cannot both publish.
    based_on_id BIGINT REFERENCES plans (id),
    reoptimizes_id BIGINT REFERENCES plans (id),
    time_limit_ms INTEGER NOT NULL,
    runner TEXT,
    heartbeat_at TIMESTAMP,
    started_at TIMESTAMP,
    finished_at TIMESTAMP,
    published_at TIMESTAMP,
    progress TEXT NOT NULL DEFAULT '[]',
    stats TEXT,
    problem TEXT,
    origin TIMESTAMP,
    error TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX plans_one_published_key ON plans (date, scope) WHERE status = 'published';
CREATE INDEX plans_status_idx ON plans (status, id);

CREATE TABLE plan_routes (
    id BIGSERIAL PRIMARY KEY,
    plan_id BIGINT NOT NULL REFERENCES plans (id),
    courier_id BIGINT NOT NULL REFERENCES couriers (id),
    -- Index of the courier's vehicle in the plan's stored problem.
    vehicle INTEGER NOT NULL,
    start_at TIMESTAMP NOT NULL,
    end_at TIMESTAMP NOT NULL,
    distance_m DOUBLE PRECISION NOT NULL,
    -- Route-level problems found when a dispatcher edited the route (JSON list).
    violations TEXT NOT NULL DEFAULT '[]',
    -- Bumped on every change a courier should see (ETag of his route).
    revision BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX plan_routes_plan_courier_key ON plan_routes (plan_id, courier_id);
CREATE INDEX plan_routes_courier_idx ON plan_routes (courier_id);

CREATE TABLE plan_stops (
    id BIGSERIAL PRIMARY KEY,
    plan_id BIGINT NOT NULL REFERENCES plans (id),
    -- NULL for a job the plan left unassigned.
    route_id BIGINT REFERENCES plan_routes (id),
    seq INTEGER NOT NULL,
    -- NULL for the courier's break.
    job_id BIGINT REFERENCES jobs (id),
    arrival_at TIMESTAMP,
    start_at TIMESTAMP,
    departure_at TIMESTAMP,
    load INTEGER NOT NULL DEFAULT 0,
    locked BOOLEAN NOT NULL DEFAULT FALSE,
    reason TEXT,
    violations TEXT NOT NULL DEFAULT '[]',
    -- How the visit ended: 'done' or 'failed' (the job itself may be planned again).
    outcome TEXT
);
CREATE INDEX plan_stops_plan_idx ON plan_stops (plan_id, route_id, seq);
CREATE INDEX plan_stops_job_idx ON plan_stops (job_id);

CREATE TABLE job_events (
    id BIGSERIAL PRIMARY KEY,
    job_id BIGINT NOT NULL REFERENCES jobs (id),
    courier_id BIGINT NOT NULL REFERENCES couriers (id),
    kind TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    reason TEXT,
    note TEXT,
    -- Whether the event moved the job (a late event is kept for the record only).
    applied BOOLEAN NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_body TEXT NOT NULL
);
CREATE UNIQUE INDEX job_events_courier_key ON job_events (courier_id, idempotency_key);
CREATE INDEX job_events_job_idx ON job_events (job_id, at);

CREATE TABLE courier_positions (
    id BIGSERIAL PRIMARY KEY,
    courier_id BIGINT NOT NULL REFERENCES couriers (id),
    at TIMESTAMP NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    accuracy_m DOUBLE PRECISION,
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX courier_positions_courier_idx ON courier_positions (courier_id, at);

-- The latest known position, kept on the courier so the live map is one cheap read.
ALTER TABLE couriers ADD COLUMN last_lat DOUBLE PRECISION;
ALTER TABLE couriers ADD COLUMN last_lon DOUBLE PRECISION;
ALTER TABLE couriers ADD COLUMN last_seen_at TIMESTAMP;

-- The published plan that gave the job to its courier.
ALTER TABLE jobs ADD COLUMN plan_id BIGINT;
ALTER TABLE jobs ADD COLUMN done_at TIMESTAMP;
CREATE INDEX jobs_courier_idx ON jobs (courier_id, status);
