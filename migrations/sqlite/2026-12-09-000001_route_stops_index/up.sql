-- A route's stops are read by route alone (a courier's route, every re-timing of his
-- ETAs); plan_stops_plan_idx leads with plan_id, so each such read scanned the whole
-- table: on a 10,000-stop day the ETA sweep read it once per route every minute.
CREATE INDEX plan_stops_route_idx ON plan_stops (route_id, seq);
