-- A repair by a contract workshop: the claim names the workshop, and its unit travels as a
-- shipment, two jobs of one courier: collected at one end, handed over at the other. A job
-- at a partner's takes the partner's place and hours; `paired_job_id` links the two legs
-- (each names the other; the leg that takes the unit is the pickup by its kind).
ALTER TABLE claims ADD COLUMN partner_id BIGINT NULL REFERENCES partners (id);
ALTER TABLE jobs ADD COLUMN partner_id BIGINT NULL REFERENCES partners (id);
ALTER TABLE jobs ADD COLUMN paired_job_id BIGINT NULL REFERENCES jobs (id);
