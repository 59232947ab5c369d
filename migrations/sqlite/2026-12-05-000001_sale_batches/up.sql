-- The production batch a unit came from, so the defects report can single out a bad one.
ALTER TABLE sales ADD COLUMN batch_id TEXT;
CREATE INDEX sales_batch_idx ON sales (batch_id);
