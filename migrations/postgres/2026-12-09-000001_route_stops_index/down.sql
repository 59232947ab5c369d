DROP INDEX plan_stops_route_idx;
