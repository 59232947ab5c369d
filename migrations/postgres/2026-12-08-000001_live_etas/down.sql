ALTER TABLE plan_routes DROP COLUMN eta_end_at;
ALTER TABLE plan_routes DROP COLUMN etas_at;
ALTER TABLE plan_stops DROP COLUMN delay_noticed_at;
ALTER TABLE plan_stops DROP COLUMN delayed;
ALTER TABLE plan_stops DROP COLUMN eta_at;
