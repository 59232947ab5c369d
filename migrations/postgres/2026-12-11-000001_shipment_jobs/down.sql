ALTER TABLE jobs DROP COLUMN paired_job_id;
ALTER TABLE jobs DROP COLUMN partner_id;
ALTER TABLE claims DROP COLUMN partner_id;
