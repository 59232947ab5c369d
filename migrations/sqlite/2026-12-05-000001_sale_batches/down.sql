DROP INDEX sales_batch_idx;
ALTER TABLE sales DROP COLUMN batch_id;
