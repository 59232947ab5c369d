ALTER TABLE plans DROP COLUMN objective;
